#!/bin/sh
# Run every benchmark of a build directory: one line per standard workload
# (W1-W7 of the design), then the extra figures. Usage: run.sh BUILD_DIR
# A workload whose program is not built prints "not built yet".
b=${1:-build/release}
echo "libwire benchmarks ($(uname -m), $(nproc) cores; medians of several runs; the machine may be loaded)"
for w in "w1:switch" "w2:spawn" "w3:channel" "w4:many" "w5:echo" "w6:file" "w7:timers"; do
	id=${w%%:*}; name=${w#*:}
	n=$(echo "$id" | tr w W)
	if [ -x "$b/bench_$id" ]; then
		"$b/bench_$id" || echo "$n $name: FAILED (exit $?)"
	else
		echo "$n $name: not built yet"
	fi
done
for p in "$b"/bench_x_*; do
	[ -x "$p" ] && "$p"
done
# Go's figures in the same session. Installs Debian's golang-go when it
# is missing and this runs as root; says why it skips otherwise.
if ! command -v go >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "Go baseline: installing golang-go" >&2
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q golang-go \
		>/tmp/wire-go-apt.log 2>&1 ||
		{ timeout 300 apt-get update -q >>/tmp/wire-go-apt.log 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q golang-go \
			>>/tmp/wire-go-apt.log 2>&1; }
fi
if command -v go >/dev/null 2>&1; then
	sh "$(dirname "$0")/go_baseline.sh"
else
	echo "Go baseline: skipped (no go toolchain, and cannot install golang-go)"
fi
# Example servers against nginx and redis-server with real clients.
sh "$(dirname "$0")/servers.sh" "$b" || echo "servers: FAILED (exit $?)"
exit 0
