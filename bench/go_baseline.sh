#!/bin/sh
# Same-session Go figures for the standard workloads, for comparison with
# libwire's. Runs only when the Go toolchain and the Go baseline program
# (GO_BASELINE, default ../shared/baselines/go beside the repository) exist;
# prints nothing otherwise.
here=$(cd "$(dirname "$0")" && pwd)
src=${GO_BASELINE:-$here/../../shared/baselines/go}
command -v go >/dev/null 2>&1 || exit 0
[ -f "$src/main.go" ] || exit 0
tmp=$(mktemp -d) || exit 0
trap 'rm -rf "$tmp"' EXIT
(cd "$src" && GOFLAGS=-mod=mod go build -o "$tmp/gob" .) >/dev/null 2>&1 || { echo "Go baseline: build failed"; exit 0; }
# One P pinned to one core, as the baselines' README runs them: the same
# single-threaded setting as a libwire scheduler.
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 1"
export GOMAXPROCS=1
$pin "$tmp/gob" w1 | sed 's/^/Go baseline: /'
$pin "$tmp/gob" w2 | sed 's/^/Go baseline: /'
$pin "$tmp/gob" w3 | sed 's/^/Go baseline: /'
if [ -x /usr/bin/time ]; then
	$pin /usr/bin/time -f "maxrss_kb %M" "$tmp/gob" w4 100000 2>&1 | tr '\n' ' ' | sed 's/^/Go baseline: /; s/ $/\n/'
else
	$pin "$tmp/gob" w4 100000 | sed 's/^/Go baseline: /'
fi
$pin "$tmp/gob" w7 100000 | sed 's/^/Go baseline: /'
# Channel figures of bench_x_chan.c, from this project's own Go program.
if (cd "$here/go" && GOFLAGS=-mod=mod go build -o "$tmp/gochan" .) >/dev/null 2>&1; then
	$pin "$tmp/gochan" buffered | sed 's/^/Go baseline: /'
	$pin "$tmp/gochan" select | sed 's/^/Go baseline: /'
else
	echo "Go baseline: bench/go build failed"
fi
exit 0
