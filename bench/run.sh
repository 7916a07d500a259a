#!/bin/sh
# Run every benchmark of a build directory: one line per standard workload
# (W1-W7 of the design), then the extra figures, Go's figures in the same
# session and the example servers; then the table of README.md's
# Performance section, from the rows the programs print ("ROW|...").
# Usage: run.sh BUILD_DIR. A workload whose program is not built prints
# "not built yet".
b=${1:-build/release}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
machine="$(uname -m), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r | cut -d- -f1)"
echo "libwire benchmarks ($machine; medians of several runs)"
{
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
	if ! command -v go >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
		command -v apt-get >/dev/null 2>&1; then
		echo "Go baseline: installing golang-go" >&2
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q golang-go \
			>/tmp/wire-go-apt.log 2>&1 ||
			{ timeout 300 apt-get update -q >>/tmp/wire-go-apt.log 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q golang-go \
				>>/tmp/wire-go-apt.log 2>&1; }
	fi
	if command -v go >/dev/null 2>&1; then
		sh "$here/go_baseline.sh"
	else
		echo "Go baseline: skipped (no go toolchain, and cannot install golang-go)"
	fi
	# Example servers against nginx and redis-server with real clients.
	sh "$here/servers.sh" "$b" || echo "servers: FAILED (exit $?)"
} | tee "$out" | grep -v '^ROW|'

# The table: libwire's figure, the same-run baseline, and Go's figure for
# the same workload (GOMAXPROCS=1), with libwire's ratio to it.
echo
echo "Measured on $machine."
echo
awk -F'|' '
	/^Go baseline: go\(P=/ {
		sub(/^Go baseline: go\(P=[0-9]+\) /, "")
		split($0, f, " ")
		key = f[1]
		for (i = 2; i < length(f); i += 2)
			v[key, f[i]] = f[i + 1]
		next
	}
	/^ROW\|/ { rows[++n] = $0 }
	END {
		print "| workload | libwire | same-run baseline | Go, GOMAXPROCS=1 |"
		print "|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			split(rows[i], r, "|")
			go = ""
			mine = r[4] + 0
			if (r[2] == "w1" && (r[2], "ns_per_switch") in v)
				go = ratio(v["w1", "ns_per_switch"], "ns", mine)
			else if (r[2] == "w2" && ("w2seq", "ns_per_spawn") in v)
				go = ratio(v["w2seq", "ns_per_spawn"], "ns", mine)
			else if (r[2] == "w3" && ("w3", "ns_per_roundtrip") in v)
				go = ratio(v["w3", "ns_per_roundtrip"], "ns", mine)
			else if (r[2] == "w4" && ("w4", "total_ms") in v)
				go = sprintf("%.0f ms, %.0f MB", v["w4", "total_ms"], v["w4", "maxrss_kb"] / 1024)
			else if (r[2] == "w7" && ("w7", "ns_per_timer_over_10ms") in v)
				go = ratio(v["w7", "ns_per_timer_over_10ms"], "ns", mine)
			else if (r[2] == "buffered" && ("buffered_chan64", "ns_per_message") in v)
				go = ratio(v["buffered_chan64", "ns_per_message"], "ns/message", mine)
			else if (r[2] == "select" && ("select2", "ns_per_round_trip") in v)
				go = ratio(v["select2", "ns_per_round_trip"], "ns", mine)
			printf "| %s | %s | %s | %s |\n", r[3], r[4], r[5], go
		}
	}
	function ratio(g, unit, mine) {
		return sprintf("%.0f %s (libwire takes %.2fx its time)", g, unit, mine / g)
	}' "$out"
exit 0
