/*
 * Contended wire_lock: wires take the lock, yield while holding it and
 * release it, so every take after the first queues and every release hands
 * the lock to the oldest waiter; ns per hand-off. Also the uncontended
 * take/release pair. Reference in the same run: the W1 wire yield.
 */
#include "bench_switch.h"
#include "wire_lock.h"

#define N	 2000000 /* hand-offs per run */
#define SWITCHES 10000000

static wire_lock_t lock;
static long handoffs;

static void contender(void *arg)
{
	long n = (long)arg;

	while (n--) {
		wire_lock_take(&lock);
		wire_yield();
		wire_lock_release(&lock);
		handoffs++;
	}
}

static double handoff_ns(int wires)
{
	static char stacks[4][BENCH_STACK];
	static wire_thread_t t;
	static wire_t w[4];
	int64_t t0;

	wire_thread_init(&t);
	wire_lock_init(&lock);
	handoffs = 0;
	for (int i = 0; i < wires; i++)
		wire_init(&w[i], "contender", contender, (void *)(long)(N / wires), stacks[i],
			  BENCH_STACK);
	t0 = bench_now_ns();
	wire_thread_run();
	if (wire_thread_suspended() || handoffs != N / wires * wires)
		abort();
	return (double)(bench_now_ns() - t0) / (double)handoffs;
}

static double uncontended_ns(void)
{
	int64_t t0;

	wire_lock_init(&lock);
	t0 = bench_now_ns();
	for (long i = 0; i < SWITCHES; i++) {
		wire_lock_take(&lock);
		__asm__ volatile("" ::: "memory");
		wire_lock_release(&lock);
	}
	return (double)(bench_now_ns() - t0) / SWITCHES;
}

int main(void)
{
	int runs = bench_runs(7);
	double y[32], h2[32], h4[32], u[32];

	if (runs > 32)
		runs = 32;
	for (int i = 0; i < runs; i++) {
		y[i] = bench_yield_ns(SWITCHES);
		h2[i] = handoff_ns(2);
		h4[i] = handoff_ns(4);
		u[i] = uncontended_ns();
	}
	printf("X lock: %.2f ns/hand-off with 2 wires, %.2f with 4 (uncontended take+release %.2f "
	       "ns; wire yield %.2f ns/switch; %d runs of %d hand-offs)\n",
	       bench_median(h2, runs), bench_median(h4, runs), bench_median(u, runs),
	       bench_median(y, runs), runs, N);
	bench_row("-", "contended lock hand-off (2 wires)", "%.1f ns|wire yield %.1f ns",
		  bench_median(h2, runs), bench_median(y, runs));
	return 0;
}
