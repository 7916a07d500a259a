/*
 * Program for the debugger check (gdb_backtrace.sh): a wire that has been
 * switched out and back in stops in gdb_break_here(), where a backtrace must
 * unwind through the wire's frames to the start of its stack.
 */
#include <stdio.h>

#include "wire.h"

#define STACK (64 * 1024)

static wire_thread_t sched;
static wire_t wires[2];
static char stacks[2][STACK] __attribute__((aligned(16)));
static volatile int reached;

void gdb_break_here(int depth);
void gdb_wire_entry(void *arg);

void __attribute__((noinline)) gdb_break_here(int depth)
{
	reached = depth;
	__asm__ volatile("" ::: "memory");
}

/* Optimized builds must keep nested() whole: gcc would otherwise rename it
 * (nested.constprop.0) and the backtrace check looks for its name. */
#if defined(__GNUC__) && !defined(__clang__)
#define KEEP_WHOLE __attribute__((noinline, noipa))
#else
#define KEEP_WHOLE __attribute__((noinline))
#endif

static void KEEP_WHOLE nested(int depth)
{
	if (depth > 0)
		nested(depth - 1);
	else
		gdb_break_here(depth);
	__asm__ volatile("" ::: "memory");
}

void gdb_wire_entry(void *arg)
{
	wire_yield(); /* switch out and back in before the breakpoint */
	if (arg)
		nested(3);
	__asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
}

int main(void)
{
	wire_thread_init(&sched);
	wire_init(&wires[0], "target", gdb_wire_entry, wires, stacks[0], STACK);
	wire_init(&wires[1], "other", gdb_wire_entry, NULL, stacks[1], STACK);
	wire_thread_run();
	printf("reached %d\n", reached);
	return reached == 0 ? 0 : 1;
}
