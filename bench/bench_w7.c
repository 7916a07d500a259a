/*
 * W7 timers: 100,000 wires on 2 KiB stacks each sleep 10 ms
 * (wire_fd_wait_msec); the cost per timer is the time beyond the 10 ms,
 * spawning included (as the Go baseline measures it), divided by the
 * number of wires. The stacks are touched beforehand so page faults stay
 * out of the figure. The same-run baseline is the scheduler's timer heap
 * alone: 100,000 wire_timer_t armed for 10 ms and fired, with no wire.
 * With WIRE_GO_PEER set to the Go baseline program (see the shared
 * baselines), its figure for the same workload is measured in the same
 * run too.
 */
#include <unistd.h>

#include "bench.h"
#include "wire.h"
#include "wire_fd.h"

#define N	 100000
#define STACK	 2048
#define SLEEP_MS 10

static wire_thread_t thread;
static wire_t *wires;
static char *stacks;
static int done;

static void sleeper(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(SLEEP_MS);
	done++;
}

static double wires_ns_per_timer(void)
{
	int64_t t0, el;

	wire_thread_init(&thread);
	done = 0;
	t0 = bench_now_ns();
	for (int i = 0; i < N; i++)
		wire_init(&wires[i], "sleeper", sleeper, NULL, stacks + (size_t)i * STACK, STACK);
	wire_thread_run();
	el = bench_now_ns() - t0;
	if (done != N) {
		fprintf(stderr, "W7: %d of %d sleepers finished\n", done, N);
		exit(1);
	}
	return (double)(el - SLEEP_MS * 1000000LL) / N;
}

static wire_timer_t *timers;
static int fired;

static void on_fire(wire_timer_t *t)
{
	(void)t;
	fired++;
}

static double heap_ns_per_timer(void)
{
	int64_t t0, el;

	wire_thread_init(&thread);
	fired = 0;
	t0 = bench_now_ns();
	for (int i = 0; i < N; i++) {
		wire_timer_init(&timers[i], on_fire);
		wire_timer_start_at(&timers[i], wire_now_ns() + SLEEP_MS * 1000000LL);
	}
	wire_thread_run();
	el = bench_now_ns() - t0;
	if (fired != N) {
		fprintf(stderr, "W7: %d of %d timers fired\n", fired, N);
		exit(1);
	}
	return (double)(el - SLEEP_MS * 1000000LL) / N;
}

/* The Go baseline's ns per timer, or a negative value. */
static double go_ns_per_timer(void)
{
	const char *peer = getenv("WIRE_GO_PEER");
	char cmd[1024], line[256];
	double v = -1;
	FILE *f;

	if (!peer || !*peer)
		return -1;
	snprintf(cmd, sizeof(cmd), "GOMAXPROCS=1 '%s' w7 %d", peer, N);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "ns_per_timer_over_10ms ");
		if (p)
			v = atof(p + strlen("ns_per_timer_over_10ms "));
	}
	pclose(f);
	return v;
}

int main(void)
{
	int runs = bench_runs(5);
	double w[16], h[16], g[16], mw, mh;
	int ng = 0;
	char go[96] = "";

	if (runs > 16)
		runs = 16;
	wires = calloc(N, sizeof(*wires));
	stacks = malloc((size_t)N * STACK);
	timers = calloc(N, sizeof(*timers));
	if (!wires || !stacks || !timers) {
		perror("W7");
		return 1;
	}
	memset(stacks, 0x5a,
	       (size_t)N *
		   STACK); /* fault every page in now (not 0: malloc+memset 0 may become calloc) */
	for (int i = 0; i < runs; i++) {
		w[i] = wires_ns_per_timer();
		h[i] = heap_ns_per_timer();
		if ((g[ng] = go_ns_per_timer()) >= 0)
			ng++;
	}
	mw = bench_median(w, runs);
	mh = bench_median(h, runs);
	if (ng)
		snprintf(go, sizeof(go), "; Go time.Sleep %.0f ns/timer, ratio %.2fx",
			 bench_median(g, ng), mw / bench_median(g, ng));
	printf(
	    "W7 timers: %.0f ns/timer beyond the %d ms (timer heap alone %.0f ns/timer%s; %d wires "
	    "on %d-byte stacks, %d runs)\n",
	    mw, SLEEP_MS, mh, go, N, STACK, runs);
	bench_row("w7", "W7 100,000 sleepers, cost per timer", "%.0f ns|timer heap alone %.0f ns",
		  mw, mh);
	return 0;
}
