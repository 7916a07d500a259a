#!/bin/sh
# Check of the gdb commands `info wires` and `wire bt` (tools/gdb/libwire-gdb.py)
# on tests/debug/debug_target, live and on a core file (see gdb_wires.py).
# Usage: gdb_wires.sh PROGRAM   (exit 77, a skip: no gdb, no python3, no
# Python in gdb, or ptrace not permitted)
here=$(dirname "$0")
command -v gdb >/dev/null 2>&1 || { echo "SKIP: gdb not installed"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
exec python3 "$here/gdb_wires.py" "$1" "$here/../../tools/gdb/libwire-gdb.py"
