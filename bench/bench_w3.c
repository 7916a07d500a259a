/*
 * W3 channel: two wires ping-pong a pointer over two channels (two sends
 * and two receives per round trip); ns per round trip. References measured
 * in the same run: the bare context switch and the W1 wire yield.
 */
#include "bench_switch.h"

#define N	 2000000 /* round trips per run */
#define SWITCHES 10000000

int main(void)
{
	int runs = bench_runs(7);
	double bare[32], yield[32], rt[32], mb, my, mr;

	if (runs > 32)
		runs = 32;
	for (int i = 0; i < runs; i++) {
		bare[i] = bench_bare_switch_ns(SWITCHES);
		yield[i] = bench_yield_ns(SWITCHES);
		rt[i] = bench_round_trip_ns(N);
	}
	mb = bench_median(bare, runs);
	my = bench_median(yield, runs);
	mr = bench_median(rt, runs);
	printf("W3 channel: %.2f ns/round trip (bare context switch %.2f ns, ratio %.2fx; wire "
	       "yield %.2f ns/switch; %d runs of %d round trips)\n",
	       mr, mb, mr / mb, my, runs, N);
	bench_row("w3", "W3 channel round trip", "%.1f ns|bare context switch %.1f ns (%.1fx)", mr,
		  mb, mr / mb);
	return 0;
}
