/*
 * W1 switch: two wires yield to each other; ns per switch. The floor it is
 * compared with is the bare context switch of the coro layer, measured in
 * the same run between two contexts that jump to each other directly
 * (bench_switch.h).
 */
#include "bench_switch.h"

#define N 10000000

int main(void)
{
	int runs = bench_runs(7);
	double bare[32], sw[32], mb, ms;

	if (runs > 32)
		runs = 32;
	for (int i = 0; i < runs; i++) {
		bare[i] = bench_bare_switch_ns(N);
		sw[i] = bench_yield_ns(N);
	}
	mb = bench_median(bare, runs);
	ms = bench_median(sw, runs);
	printf("W1 switch: %.2f ns/switch (bare context switch %.2f ns, ratio %.2fx; %d runs of %d "
	       "switches)\n",
	       ms, mb, ms / mb, runs, N);
	bench_row("w1", "W1 switch (two wires yielding)",
		  "%.1f ns|bare context switch %.1f ns (%.2fx)", ms, mb, ms / mb);
	return 0;
}
