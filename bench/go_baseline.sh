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
"$tmp/gob" w1 | sed 's/^/Go baseline: /'
"$tmp/gob" w2 | sed 's/^/Go baseline: /'
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f "maxrss_kb %M" "$tmp/gob" w4 2>&1 | tr '\n' ' ' | sed 's/^/Go baseline: /; s/ $/\n/'
else
	"$tmp/gob" w4 | sed 's/^/Go baseline: /'
fi
exit 0
