/*
 * W4 many: 100,000 wires on 2 KiB stacks of caller memory block at once
 * (each suspends itself), then one waker resumes them all and they run to
 * completion. Prints the total time, the spawn/wake split and the peak
 * RSS of the process. Every run uses freshly mapped memory, so the cost of
 * first touching the stack pages (page faults) is counted each time, as it
 * would be for a program that starts this many wires once.
 *
 * The same-run baseline is the cost of touching the same amount of fresh
 * memory (one write per stack) without any wire: the floor set by the
 * kernel's page faults.
 *
 * Because the stacks are caller memory, a program that starts this many
 * wires can put them in an arena on transparent huge pages
 * (madvise(MADV_HUGEPAGE)): one fault per 2 MiB instead of per 4 KiB. The
 * same workload on such an arena is measured too, in a child process so
 * that its peak RSS is its own.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "wire.h"

#define NWIRES 100000
#define WSTACK 2048
#define STACK  (64 * 1024)

static wire_t *wires;
static int64_t t_spawned;
static unsigned finished;

static void blocked(void *arg)
{
	(void)arg;
	wire_suspend();
	finished++;
}

static void waker(void *arg)
{
	(void)arg;
	/* Queued after every blocked wire: when it runs, all are suspended. */
	t_spawned = bench_now_ns();
	if (wire_thread_suspended() != NWIRES) {
		fprintf(stderr, "W4: %u wires blocked, expected %d\n", wire_thread_suspended(),
			NWIRES);
		exit(1);
	}
	for (unsigned i = 0; i < NWIRES; i++)
		wire_resume(&wires[i]);
}

static int huge; /* stack arena on transparent huge pages */

static void *map_fresh(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	if (huge)
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}

static void run(double *spawn_ms, double *wake_ms)
{
	static char waker_stack[STACK];
	static wire_thread_t t;
	static wire_t w;
	size_t stacks_len = (size_t)NWIRES * WSTACK, wires_len = NWIRES * sizeof(wire_t);
	char *stacks = map_fresh(stacks_len);
	int64_t t0, t2;

	wires = map_fresh(wires_len);
	finished = 0;
	wire_thread_init(&t);
	t0 = bench_now_ns();
	for (unsigned i = 0; i < NWIRES; i++)
		wire_init(&wires[i], "blocked", blocked, NULL, stacks + (size_t)i * WSTACK, WSTACK);
	wire_init(&w, "waker", waker, NULL, waker_stack, STACK);
	wire_thread_run();
	t2 = bench_now_ns();
	if (finished != NWIRES || wire_thread_suspended() != 0) {
		fprintf(stderr, "W4: %u of %d wires finished\n", finished, NWIRES);
		exit(1);
	}
	*spawn_ms = (double)(t_spawned - t0) / 1e6;
	*wake_ms = (double)(t2 - t_spawned) / 1e6;
	munmap(stacks, stacks_len);
	munmap(wires, wires_len);
}

/* Floor: fresh memory of the same size, one write per stack. */
static double touch_ms(void)
{
	size_t len = (size_t)NWIRES * WSTACK;
	char *m = map_fresh(len);
	int64_t t0 = bench_now_ns();

	for (size_t i = 0; i < NWIRES; i++)
		((volatile char *)m)[i * WSTACK + WSTACK - 64] = 1;
	t0 = bench_now_ns() - t0;
	munmap(m, len);
	return (double)t0 / 1e6;
}

int main(void)
{
	int runs = bench_runs(5);
	double spawn[32], wake[32], total[32], floor[32];
	double *hp = mmap(NULL, 2 * sizeof(double), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	if (runs > 32)
		runs = 32;
	if (hp == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	hp[0] = hp[1] = -1;
	pid = fork();
	if (pid == 0) {
		double t[32];
		huge = 1;
		for (int i = 0; i < runs; i++) {
			run(&spawn[i], &wake[i]);
			t[i] = spawn[i] + wake[i];
		}
		hp[0] = bench_median(t, runs);
		hp[1] = bench_peak_rss_kib() / 1024.0;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	for (int i = 0; i < runs; i++) {
		run(&spawn[i], &wake[i]);
		total[i] = spawn[i] + wake[i];
		floor[i] = touch_ms();
	}
	printf("W4 many: %.1f ms for %d wires (spawn+block %.1f ms, wake+finish %.1f ms; "
	       "peak RSS %.1f MB; 2 KiB stacks; touching the same fresh memory alone %.1f ms; "
	       "stack arena on transparent huge pages: %.1f ms, peak RSS %.1f MB; %d runs)\n",
	       bench_median(total, runs), NWIRES, bench_median(spawn, runs),
	       bench_median(wake, runs), bench_peak_rss_kib() / 1024.0, bench_median(floor, runs),
	       hp[0], hp[1], runs);
	bench_row(
	    "w4", "W4 100,000 wires blocked, then woken",
	    "%.0f ms, %.0f MB; %.0f ms on a huge-page stack arena|touching the same fresh memory "
	    "alone %.0f ms",
	    bench_median(total, runs), bench_peak_rss_kib() / 1024.0, hp[0],
	    bench_median(floor, runs));
	return 0;
}
