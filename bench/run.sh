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
# Go's figures in the same session, when a Go toolchain is installed.
if command -v go >/dev/null 2>&1; then
	sh "$(dirname "$0")/go_baseline.sh"
fi
# Example servers against nginx and redis-server with real clients.
sh "$(dirname "$0")/servers.sh" "$b" || echo "servers: FAILED (exit $?)"
exit 0
