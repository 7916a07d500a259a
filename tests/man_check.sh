#!/bin/sh
# Every function declared in include/*.h has a man page in man/man3 (a
# page of its own, or a ".so" line naming its family's page), every page
# a ".so" line names exists, and every page renders without a warning.
# Usage: man_check.sh SOURCE_DIR   (exits 77 when neither groff nor mandoc is installed)
set -eu
src=$1
man=$src/man
missing=0
fns=$(sed -n 's/^[A-Za-z_][A-Za-z0-9_ *]*[ *]\(wi[ro][eo_]*[a-z0-9_]*\)(.*/\1/p' "$src"/include/*.h |
	grep -E '^(wire|wio)_' | grep -v '^wire__' | sort -u)
n=0
for f in $fns; do
	n=$((n + 1))
	if [ ! -f "$man/man3/$f.3" ]; then
		echo "man: no page for $f (man/man3/$f.3)"
		missing=$((missing + 1))
	fi
done
pages=0
for p in "$man"/man3/*.3 "$man"/man7/*.7; do
	[ -f "$p" ] || continue
	first=$(head -n 1 "$p")
	case $first in
	.so\ *)
		target=$src/man/${first#.so }
		[ -f "$target" ] || { echo "man: $p names $target, which does not exist"; missing=$((missing + 1)); }
		continue
		;;
	esac
	pages=$((pages + 1))
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -ww -man -z "$p" 2>&1) || true
	elif command -v mandoc >/dev/null 2>&1; then
		out=$(mandoc -T lint -W warning "$p" 2>&1) || true
	else
		echo "SKIP: neither groff nor mandoc is installed to render the pages"
		exit 77
	fi
	if [ -n "$out" ]; then
		echo "man: $p does not render cleanly:"
		echo "$out"
		missing=$((missing + 1))
	fi
done
echo "man: $n functions, $pages pages"
[ "$missing" -eq 0 ]
