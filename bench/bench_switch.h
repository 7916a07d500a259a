/*
 * Same-run references for the benchmarks of the synchronization layers:
 * the bare context switch of the coro layer and a W1-style wire yield.
 * Include once per program.
 */
#ifndef WIRE_BENCH_SWITCH_H
#define WIRE_BENCH_SWITCH_H

#include <stdint.h>

#include "bench.h"
#include "coro.h"
#include "wire.h"
#include "wire_channel.h"

#define BENCH_STACK (64 * 1024)

static wire_coro_t bench_main_ctx, bench_other_ctx;

static inline void bench_bare_entry(void *arg)
{
	(void)arg;
	for (;;)
		wire_coro_jump(&bench_other_ctx.sp, bench_main_ctx.sp);
}

/* ns per switch between two contexts that jump to each other directly. */
static inline double bench_bare_switch_ns(long n)
{
	static char stack[BENCH_STACK] __attribute__((aligned(16)));
	long left = n / 2;
	int64_t t0;

	bench_other_ctx.sp = wire_coro_prepare(stack, BENCH_STACK, bench_bare_entry, NULL);
	t0 = bench_now_ns();
	while (left--)
		wire_coro_jump(&bench_main_ctx.sp, bench_other_ctx.sp);
	return (double)(bench_now_ns() - t0) / (double)n;
}

static inline void bench_yielder(void *arg)
{
	long n = (long)arg;
	while (n--)
		wire_yield();
}

/*
 * Run @a(@arg) and @b(@arg) as two wires on a fresh scheduler until both
 * end; returns the nanoseconds it took. Aborts if a wire is left
 * suspended (a benchmark that deadlocks must not print a figure).
 */
static inline int64_t bench_run_two(void (*a)(void *), void (*b)(void *), void *arg)
{
	static char s1[BENCH_STACK], s2[BENCH_STACK];
	static wire_thread_t t;
	static wire_t wa, wb;
	int64_t t0;

	wire_thread_init(&t);
	wire_init(&wa, "a", a, arg, s1, BENCH_STACK);
	wire_init(&wb, "b", b, arg, s2, BENCH_STACK);
	t0 = bench_now_ns();
	wire_thread_run();
	if (wire_thread_suspended())
		abort();
	return bench_now_ns() - t0;
}

static wire_channel_t bench_ping __attribute__((unused)), bench_pong __attribute__((unused));

static inline void bench_pinger(void *arg)
{
	long n = (long)arg;
	void *m = (void *)(uintptr_t)1;

	while (n--) {
		wire_channel_send(&bench_ping, m);
		wire_channel_recv_block(&bench_pong, &m);
	}
	if (m != (void *)(uintptr_t)1)
		abort();
}

static inline void bench_ponger(void *arg)
{
	long n = (long)arg;
	void *m;

	while (n--) {
		wire_channel_recv_block(&bench_ping, &m);
		wire_channel_send(&bench_pong, m);
	}
}

/* ns per round trip of two wires ping-ponging a pointer over two rendezvous channels (W3). */
static inline double bench_round_trip_ns(long n)
{
	wire_channel_init(&bench_ping);
	wire_channel_init(&bench_pong);
	return (double)bench_run_two(bench_pinger, bench_ponger, (void *)n) / (double)n;
}

/* ns per switch of two wires yielding to each other (W1). */
static inline double bench_yield_ns(long n)
{
	return (double)bench_run_two(bench_yielder, bench_yielder, (void *)(n / 2)) / (double)n;
}

#endif
