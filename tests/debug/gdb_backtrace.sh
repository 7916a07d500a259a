#!/bin/sh
# Debugger check: gdb must unwind from inside a wire, through the frames of
# its entry function, to the first frame of the wire's stack, without
# "corrupt stack" or "previous frame identical" errors.
# Usage: gdb_backtrace.sh PROGRAM LAST_FRAME   (exit 77: no gdb here)
prog=$1
last=$2
command -v gdb >/dev/null 2>&1 || { echo "SKIP: gdb not installed"; exit 77; }
# LeakSanitizer cannot run under ptrace; the rest of ASan can.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
out=$(gdb -nx -batch -ex 'set debuginfod enabled off' -ex 'set pagination off' \
	-ex 'break gdb_break_here' -ex run -ex bt -ex continue "$prog" 2>&1)
echo "$out"
fail() { echo "FAIL: $1"; exit 1; }
case $out in
*"ptrace"*"Operation not permitted"*) echo "SKIP: ptrace not permitted"; exit 77 ;;
esac
bt=$(echo "$out" | grep -E '^#[0-9]+ ')
[ -n "$bt" ] || fail "no backtrace"
echo "$bt" | grep -q 'gdb_break_here' || fail "breakpoint frame missing"
[ "$(echo "$bt" | grep -c ' nested ')" -eq 4 ] || fail "expected 4 frames of nested()"
echo "$bt" | grep -q 'gdb_wire_entry' || fail "wire entry function missing"
echo "$bt" | grep -q 'wire_main' || fail "wire_main missing"
echo "$bt" | tail -n 1 | grep -q "$last" || fail "backtrace does not end at $last"
echo "$bt" | grep -q ' main ' && fail "backtrace leaks into the scheduler's stack"
echo "$out" | grep -qiE 'corrupt stack|previous frame (identical|inner)|Backtrace stopped' &&
	fail "unwinder error"
echo "$out" | grep -q 'reached 0' || fail "program did not finish normally"
echo "gdb unwound $(echo "$bt" | wc -l) frames ending at $last"
