/*
 * wire_wait round trip: two wires wake each other through two waits
 * (resume the other's wait, wait on one's own, re-arm it); ns per round
 * trip, two switches. References in the same run: the bare context switch
 * and the W1 wire yield.
 */
#include "bench_switch.h"
#include "wire_wait.h"

#define N	 2000000 /* round trips per run */
#define SWITCHES 10000000

static wire_wait_t wa, wb;

static void side_a(void *arg)
{
	long n = (long)arg;

	while (n--) {
		wire_wait_resume(&wb);
		wire_wait_single(&wa);
		wire_wait_reset(&wa);
	}
}

static void side_b(void *arg)
{
	long n = (long)arg;

	while (n--) {
		wire_wait_single(&wb);
		wire_wait_reset(&wb);
		wire_wait_resume(&wa);
	}
}

static double round_trip_ns(void)
{
	wire_wait_init(&wa);
	wire_wait_init(&wb);
	return (double)bench_run_two(side_a, side_b, (void *)(long)N) / N;
}

int main(void)
{
	int runs = bench_runs(7);
	double bare[32], y[32], rt[32];

	if (runs > 32)
		runs = 32;
	for (int i = 0; i < runs; i++) {
		bare[i] = bench_bare_switch_ns(SWITCHES);
		y[i] = bench_yield_ns(SWITCHES);
		rt[i] = round_trip_ns();
	}
	printf("X wait: %.2f ns/round trip of wait_resume + wait_single (bare context switch %.2f "
	       "ns; wire yield %.2f ns/switch; %d runs of %d round trips)\n",
	       bench_median(rt, runs), bench_median(bare, runs), bench_median(y, runs), runs, N);
	bench_row("-", "wire_wait_resume + wire_wait_single round trip",
		  "%.1f ns|wire yield %.1f ns", bench_median(rt, runs), bench_median(y, runs));
	return 0;
}
