/*
 * W2 spawn: a pooled wire is allocated, runs to completion and goes back
 * to its pool; ns per wire. A driver wire allocates one wire and yields to
 * it; the wire's entry returns, its entry goes back to the pool and the
 * driver continues. The baseline in the same run does the same with
 * wire_init() on one fixed wire_t and stack of caller memory, without the
 * pool: the difference is what the pool costs.
 */
#include "bench.h"
#include "wire.h"
#include "wire_pool.h"

#define STACK (64 * 1024)
#define POOL  16

static wire_pool_t pool;
static wire_pool_entry_t entries[POOL];
static unsigned long ran;
static long N = 5000000; /* BENCH_N overrides (e.g. for callgrind) */

static void body(void *arg)
{
	(void)arg;
	ran++;
}

static void pooled_driver(void *arg)
{
	(void)arg;
	for (long i = 0; i < N; i++) {
		if (!wire_pool_alloc(&pool, "spawned", body, NULL)) {
			perror("wire_pool_alloc");
			exit(1);
		}
		wire_yield();
	}
}

static char fixed_stack[STACK] __attribute__((aligned(64)));
static wire_t fixed_wire;

static void plain_driver(void *arg)
{
	(void)arg;
	for (long i = 0; i < N; i++) {
		wire_init(&fixed_wire, "spawned", body, NULL, fixed_stack, STACK);
		wire_yield();
	}
}

static double run(void (*driver)(void *))
{
	static char stack[STACK];
	static wire_thread_t t;
	static wire_t d;
	int64_t t0;

	wire_thread_init(&t);
	ran = 0;
	wire_init(&d, "driver", driver, NULL, stack, STACK);
	t0 = bench_now_ns();
	wire_thread_run();
	if (ran != (unsigned long)N) {
		fprintf(stderr, "W2: %lu of %ld wires ran\n", ran, N);
		exit(1);
	}
	return (double)(bench_now_ns() - t0) / N;
}

int main(void)
{
	int runs = bench_runs(7);
	double pooled[32], plain[32], mp, mb;

	if (runs > 32)
		runs = 32;
	if (getenv("BENCH_N") && atol(getenv("BENCH_N")) > 0)
		N = atol(getenv("BENCH_N"));
	if (wire_pool_init(&pool, entries, POOL, STACK) != 0) {
		perror("wire_pool_init");
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		pooled[i] = run(pooled_driver);
		plain[i] = run(plain_driver);
	}
	if (wire_pool_destroy(&pool) != 0) {
		perror("wire_pool_destroy");
		return 1;
	}
	mp = bench_median(pooled, runs);
	mb = bench_median(plain, runs);
	printf("W2 spawn: %.2f ns/wire (wire_init on a fixed stack without the pool %.2f ns; %d "
	       "runs of %ld wires)\n",
	       mp, mb, runs, N);
	bench_row("w2", "W2 spawn (pooled wire, run, recycle)",
		  "%.1f ns|wire_init without the pool %.1f ns", mp, mb);
	return 0;
}
