/*
 * W1 switch: two wires yield to each other; ns per switch. The floor it is
 * compared with is the bare context switch of the coro layer, measured in
 * the same run between two contexts that jump to each other directly.
 */
#include "bench.h"
#include "coro.h"
#include "wire.h"

#define N     10000000
#define STACK (64 * 1024)

static wire_coro_t main_ctx, other_ctx;
static long bare_left;

static void bare_entry(void *arg)
{
	(void)arg;
	for (;;)
		wire_coro_jump(&other_ctx.sp, main_ctx.sp);
}

static double bare_switch_ns(void)
{
	static char stack[STACK] __attribute__((aligned(16)));
	int64_t t0;

	other_ctx.sp = wire_coro_prepare(stack, STACK, bare_entry, NULL);
	bare_left = N / 2;
	t0 = bench_now_ns();
	while (bare_left--)
		wire_coro_jump(&main_ctx.sp, other_ctx.sp);
	return (double)(bench_now_ns() - t0) / N;
}

static void yielder(void *arg)
{
	long n = (long)arg;
	while (n--)
		wire_yield();
}

static double wire_switch_ns(void)
{
	static char s1[STACK], s2[STACK];
	static wire_thread_t t;
	static wire_t a, b;
	int64_t t0;

	wire_thread_init(&t);
	wire_init(&a, "a", yielder, (void *)(long)(N / 2), s1, STACK);
	wire_init(&b, "b", yielder, (void *)(long)(N / 2), s2, STACK);
	t0 = bench_now_ns();
	wire_thread_run();
	return (double)(bench_now_ns() - t0) / N;
}

int main(void)
{
	int runs = bench_runs(7);
	double bare[32], sw[32], mb, ms;

	if (runs > 32)
		runs = 32;
	for (int i = 0; i < runs; i++) {
		bare[i] = bare_switch_ns();
		sw[i] = wire_switch_ns();
	}
	mb = bench_median(bare, runs);
	ms = bench_median(sw, runs);
	printf("W1 switch: %.2f ns/switch (bare context switch %.2f ns, ratio %.2fx; %d runs of %d "
	       "switches)\n",
	       ms, mb, ms / mb, runs, N);
	return 0;
}
