/*
 * W6 file: 4 KiB wio_pread() of a cached file at random aligned offsets,
 * from one wire and from 64 wires at once, against plain pread() measured
 * in the same run: first as the library runs by default (reads tried
 * inline with RWF_NOWAIT, shared with a polling worker while other wires
 * are ready, the backend only for what is not cached), then the same
 * without sharing (WIRE_IO_SHARE=0), each wio backend this machine has on
 * its own (WIRE_IO_INLINE=0: every read handed off), and the thread pool
 * with inline reads.
 *
 * The file (64 MiB, in $TMPDIR or /tmp, unlinked at once) is read whole
 * before measuring so every read hits the page cache. Figures: ns per call
 * for one wire (the latency a call adds), aggregate calls per second for
 * 64 wires, each the median of several runs; the ratios to pread are
 * medians of the ratios within each run, since the load of a shared
 * machine drifts between runs. Each wire reads into a buffer on its own
 * stack, as a real program would. BENCH_W6_BACKEND=inline, noshare,
 * uring, inline+threads or threads measures that configuration only.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"
#include "wire.h"
#include "wire_fd.h"
#include "wire_io.h"

#define FILE_SIZE (64L << 20)
#define BLOCK	  4096
#define NOFFS	  (1 << 16) /* random offsets, used round robin */
#define WIRES	  64
#define STACK	  (32 * 1024)

static int fd;
static off_t offs[NOFFS];
static wire_thread_t thread;

static void die(const char *what)
{
	fprintf(stderr, "bench_w6: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void make_file(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	static char block[1 << 20];
	uint64_t x = 88172645463325252ull;

	snprintf(path, sizeof(path), "%s/bench_w6_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp");
	unlink(path);
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (char)(i * 131 + 7);
	for (long off = 0; off < FILE_SIZE; off += (long)sizeof(block))
		if (pwrite(fd, block, sizeof(block), off) != (ssize_t)sizeof(block))
			die("pwrite");
	for (long off = 0; off < FILE_SIZE; off += (long)sizeof(block))
		if (pread(fd, block, sizeof(block), off) != (ssize_t)sizeof(block))
			die("pread");
	for (int i = 0; i < NOFFS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		offs[i] = (off_t)(x % (FILE_SIZE / BLOCK)) * BLOCK;
	}
}

/* Plain pread() on this thread: ns per call. */
static double plain_ns(long n)
{
	char buf[BLOCK] __attribute__((aligned(64)));
	int64_t t0 = bench_now_ns();

	for (long i = 0; i < n; i++)
		if (pread(fd, buf, BLOCK, offs[i & (NOFFS - 1)]) != BLOCK)
			die("pread");
	return (double)(bench_now_ns() - t0) / (double)n;
}

struct job {
	long first;
	long n;
};

static void reader(void *arg)
{
	struct job *j = arg;
	char buf[BLOCK] __attribute__((aligned(64)));

	for (long i = j->first; i < j->first + j->n; i++)
		if (wio_pread(fd, buf, BLOCK, offs[i & (NOFFS - 1)]) != BLOCK)
			die("wio_pread");
}

/* @nwires wires sharing @n wio_pread() calls: ns per call, wall clock. */
static double wires_ns(int nwires, long n)
{
	static char stacks[WIRES][STACK] __attribute__((aligned(64)));
	static wire_t w[WIRES];
	static struct job jobs[WIRES];
	int64_t t0;

	for (int i = 0; i < nwires; i++) {
		jobs[i].first = (long)i * (n / nwires);
		jobs[i].n = n / nwires;
		wire_init(&w[i], "reader", reader, &jobs[i], stacks[i], STACK);
	}
	t0 = bench_now_ns();
	wire_thread_run();
	return (double)(bench_now_ns() - t0) / (double)(n / nwires * nwires);
}

struct result {
	char name[32];
	double one_ns, many_ns; /* medians */
	double one_x, many_x;	/* medians of the ratios to pread of the same run */
};

/*
 * Median figures for @backend, with reads tried inline or not; 0 if the
 * backend is not available here.
 */
static int measure(const char *backend, int inl, int share, int runs, double plain[],
		   struct result *res)
{
	/* The pool pays two thread hand-offs per call: fewer of them. */
	long n1 = strcmp(backend, "threads") == 0 && !inl ? 20000 : 100000;
	long n64 = 100000;
	double one[32], many[32], one_x[32], many_x[32];

	setenv("WIRE_IO_INLINE", inl ? "1" : "0", 1);
	setenv("WIRE_IO_SHARE", share ? "1" : "0", 1);
	if (wire_io_init_backend(4, backend) != 0)
		return 0;
	snprintf(res->name, sizeof(res->name), "%s%s%s", inl ? "inline+" : "", wire_io_backend(),
		 inl && !share ? " unshared" : "");
	wires_ns(1, 2000); /* warm up: ring, workers, poller registration */
	for (int r = 0; r < runs; r++) {
		plain[r] = plain_ns(100000);
		one[r] = wires_ns(1, n1);
		many[r] = wires_ns(WIRES, n64);
		/* The load of a shared machine drifts: compare within a run. */
		one_x[r] = one[r] / plain[r];
		many_x[r] = plain[r] / many[r];
	}
	wire_io_shutdown();
	res->one_ns = bench_median(one, runs);
	res->many_ns = bench_median(many, runs);
	res->one_x = bench_median(one_x, runs);
	res->many_x = bench_median(many_x, runs);
	return 1;
}

int main(void)
{
	static const struct {
		const char *name, *backend;
		int inl, share;
	} configs[] = {{"inline", "auto", 1, 1},
		       {"noshare", "auto", 1, 0},
		       {"uring", "uring", 0, 0},
		       {"inline+threads", "threads", 1, 1},
		       {"threads", "threads", 0, 0}};
	enum { NCONFIGS = sizeof(configs) / sizeof(configs[0]) };
	const char *only = getenv("BENCH_W6_BACKEND"); /* measure just this one */
	int runs = bench_runs(7);
	double plain[32], plain_all[32 * NCONFIGS];
	struct result res[NCONFIGS];
	int nres = 0, nplain = 0;
	char details[2048];
	size_t len = 0;
	double pns;

	if (runs > 32)
		runs = 32;
	make_file();
	wire_thread_init(&thread);
	if (wire_fd_init() != 0)
		die("wire_fd_init");
	for (int i = 0; i < NCONFIGS; i++) {
		int seen = 0;

		if (only && *only && strcmp(only, configs[i].name) != 0)
			continue;
		if (!measure(configs[i].backend, configs[i].inl, configs[i].share, runs, plain,
			     &res[nres]))
			continue;
		for (int k = 0; k < nres; k++)
			seen |= strcmp(res[nres].name, res[k].name) == 0;
		if (seen)
			continue; /* "inline" ran on the threads already (no ring here) */
		nres++;
		for (int r = 0; r < runs; r++)
			plain_all[nplain++] = plain[r];
	}
	unsetenv("WIRE_IO_INLINE");
	unsetenv("WIRE_IO_SHARE");
	if (!nres) {
		fprintf(stderr, "bench_w6: no wio backend could start\n");
		return 1;
	}
	pns = bench_median(plain_all, nplain);
	for (int i = 0; i < nres; i++)
		len +=
		    (size_t)snprintf(details + len, sizeof(details) - len,
				     "%s: 1 wire %.0f ns/op = %.2fx pread, %d wires %.2f Mops/s = "
				     "%.2fx pread; ",
				     res[i].name, res[i].one_ns, res[i].one_x, WIRES,
				     1e3 / res[i].many_ns, res[i].many_x);
	printf("W6 file: %.2f Mops/s from %d wires on %s (%splain pread %.0f ns/op = %.2f "
	       "Mops/s; 4 KiB at random offsets of a cached 64 MiB file, median of %d runs)\n",
	       1e3 / res[0].many_ns, WIRES, res[0].name, details, pns, 1e3 / pns, runs);
	bench_row("w6", "W6 4 KiB wio_pread, cached",
		  "1 wire %.2fx the time of pread, %d wires %.2fx its throughput (%s)|plain pread "
		  "%.0f ns",
		  res[0].one_x, WIRES, res[0].many_x, res[0].name, pns);
	close(fd);
	return 0;
}
