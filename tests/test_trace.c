/*
 * Tests of the timeline (wire_trace_start() in wire_debug.h). Each file
 * written is checked by tests/trace_check.py: strict JSON, every run a
 * slice followed by the instant that ends it, in order, threads named.
 * It prints every thread's runs as "NAME>WHY, ..." and the tests compare
 * that exactly. Tests that need python3 skip without it.
 */
// TEST_LABELS: threads
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"
#include "wire_channel.h"
#include "wire_debug.h"
#include "wire_pool.h"
#include "sys.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
static char path[128];

/* A file name of this test process; removed when the test passes. */
static const char *trace_path(const char *tag)
{
	snprintf(path, sizeof(path), "/tmp/libwire-test-trace-%d-%s.json", (int)getpid(), tag);
	return path;
}

/* The checker's output for the file at @file (static storage). */
static const char *check_file(const char *file)
{
	static char out[1 << 20];
	char cmd[512], src[256];
	const char *slash = strrchr(__FILE__, '/');
	size_t len = 0;
	FILE *p;
	int status;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		test_skip("python3 is not installed");
	snprintf(src, sizeof(src), "%.*s", slash ? (int)(slash - __FILE__) : 1,
		 slash ? __FILE__ : ".");
	snprintf(cmd, sizeof(cmd), "python3 %s/trace_check.py %s", src, file);
	fflush(stdout);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	while (len + 1 < sizeof(out)) {
		size_t n = fread(out + len, 1, sizeof(out) - 1 - len, p);
		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	status = pclose(p);
	if (status != 0)
		test_fail(__FILE__, __LINE__, "trace_check.py failed on %s (status %#x)", file,
			  status);
	return out;
}

/* The rest of the line of @out that starts with @prefix, or NULL (static storage). */
static const char *line_of(const char *out, const char *prefix)
{
	static char line[1 << 18];
	size_t plen = strlen(prefix);

	for (const char *l = out; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len >= plen && !strncmp(l, prefix, plen)) {
			CHECK(len - plen < sizeof(line));
			memcpy(line, l + plen, len - plen);
			line[len - plen] = '\0';
			return line;
		}
		l += len + (nl != NULL);
	}
	return NULL;
}

/* The runs the file shows for thread @tid. */
static const char *runs_of(const char *out, int tid)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "runs %d: ", tid);
	return line_of(out, prefix);
}

static long long number_of(const char *out, const char *prefix)
{
	const char *v = line_of(out, prefix);

	CHECK(v != NULL);
	return atoll(v);
}

static int gettid_(void)
{
	return (int)syscall(SYS_gettid);
}

/* ------------------------------------------------------------------ */
/* Runs and why they stopped.                                          */

static wire_channel_t to_pong, to_ping;

static void ping(void *arg)
{
	(void)arg;
	for (long i = 0; i < 3; i++) {
		void *m;
		wire_channel_send(&to_pong, (void *)i);
		CHECK_EQ(wire_channel_recv_block(&to_ping, &m), 0);
		CHECK_EQ((long)m, i);
	}
}

static void pong(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		void *m;
		CHECK_EQ(wire_channel_recv_block(&to_pong, &m), 0);
		wire_channel_send(&to_ping, m);
	}
}

static void sleeper(void *arg)
{
	(void)arg;
	/* Long enough for ping and pong to be done first, even under valgrind. */
	wire_sleep_ns(TEST_MS(50) * test_time_scale());
}

/* ping, pong and sleeper on the calling thread's scheduler. */
static void run_ping_pong(void)
{
	static char s[3][STACK];
	static wire_t w[3];

	wire_thread_init(&thread);
	wire_channel_init(&to_pong);
	wire_channel_init(&to_ping);
	wire_init(&w[0], "pong", pong, NULL, s[0], STACK);
	wire_init(&w[1], "ping", ping, NULL, s[1], STACK);
	wire_init(&w[2], "sleeper", sleeper, NULL, s[2], STACK);
	wire_thread_run();
	CHECK_EQ(wire_thread_suspended(), 0);
}

/*
 * What the timeline of run_ping_pong() must show, with the addresses of
 * to_pong and to_ping for the two %p. pong starts and blocks receiving;
 * ping hands it the first message and yields (a send to a waiting
 * receiver yields after the hand-off); the sleeper blocks in its sleep;
 * pong blocks sending its reply, since ping is not receiving yet; ping
 * takes the reply, which readies pong, and blocks sending the next
 * message; and so on until both loops are done. The sleeper wakes last.
 */
static void ping_pong_expected(char *buf, size_t size)
{
	const void *tp = &to_pong, *ti = &to_ping;

	snprintf(buf, size,
		 "pong>channel receive obj=%p, ping>yield, sleeper>sleep, "
		 "pong>channel send obj=%p, ping>channel send obj=%p, "
		 "pong>channel send obj=%p, ping>channel send obj=%p, "
		 "pong>channel send obj=%p, ping>end, pong>end, sleeper>end",
		 tp, ti, tp, ti, tp, ti);
}

TEST(ping_pong_sleeper)
{
	char expected[1024];
	const char *out;

	CHECK_EQ(wire_trace_start(trace_path("pingpong"), 0), 0);
	run_ping_pong();
	CHECK_EQ(wire_trace_stop(), 0);
	out = check_file(path);
	ping_pong_expected(expected, sizeof(expected));
	CHECK_STR_EQ(runs_of(out, gettid_()), expected);
	CHECK_EQ(number_of(out, "events "), 22);
	CHECK_EQ(number_of(out, "dropped "), 0);
	/* One thread, named by a metadata event (checked by trace_check.py). */
	CHECK_EQ(number_of(out, "thread "), gettid_());
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* Bounded memory.                                                     */

#define OLD_YIELDS 10000
#define NEW_YIELDS 30

static void yield_n(void *arg)
{
	for (long n = (long)arg; n > 0; n--)
		wire_yield();
}

static void old_then_new(void *arg)
{
	static char s[STACK];
	static wire_t w;

	(void)arg;
	yield_n((void *)(long)OLD_YIELDS);
	wire_init(&w, "new", yield_n, (void *)(long)NEW_YIELDS, s, STACK);
}

/* @n runs of @name ending in a yield, then @name>end, each followed by ", " if @more. */
static void append_runs(char *buf, size_t size, const char *name, int n, int more)
{
	size_t len = strlen(buf);

	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s>yield, ", name);
	snprintf(buf + len, size - len, "%s>end%s", name, more ? ", " : "");
}

TEST(bounded_keeps_the_newest)
{
	static char s[STACK];
	static wire_t w;
	char expected[4096] = "";
	const char *out;
	/* old runs OLD_YIELDS + 1 times, new NEW_YIELDS + 1; 50 runs are kept. */
	long runs = OLD_YIELDS + 1 + NEW_YIELDS + 1;

	CHECK_EQ(wire_trace_start(trace_path("bounded"), 100), 0);
	wire_thread_init(&thread);
	wire_init(&w, "old", old_then_new, NULL, s, STACK);
	wire_thread_run();
	CHECK_EQ(wire_trace_stop(), 0);
	out = check_file(path);
	CHECK_EQ(number_of(out, "events "), 100);
	CHECK_EQ(number_of(out, "dropped "), 2 * (runs - 50));
	append_runs(expected, sizeof(expected), "old", 50 - (NEW_YIELDS + 1) - 1, 1);
	append_runs(expected, sizeof(expected), "new", NEW_YIELDS, 0);
	CHECK_STR_EQ(runs_of(out, gettid_()), expected);
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* Writing while recording, and the errors.                            */

static void run_yielders(const char *a, const char *b, long yields)
{
	static char s[2][STACK];
	static wire_t w[2];

	wire_init(&w[0], a, yield_n, (void *)yields, s[0], STACK);
	wire_init(&w[1], b, yield_n, (void *)yields, s[1], STACK);
	wire_thread_run();
}

static long file_size(const char *file)
{
	struct stat st;

	CHECK_EQ(stat(file, &st), 0);
	return (long)st.st_size;
}

TEST(flush_rewrites_the_file)
{
	char expected[8192] = "";
	const char *out;
	long size1;

	CHECK_EQ(wire_trace_start(trace_path("flush"), 0), 0);
	wire_thread_init(&thread);
	run_yielders("a", "b", 20);
	CHECK_EQ(wire_trace_flush(), 0);
	out = check_file(path);
	CHECK_EQ(number_of(out, "events "), 2 * 2 * 21);
	size1 = file_size(path);
	run_yielders("c", "d", 5);
	CHECK_EQ(wire_trace_flush(), 0);
	/* Rewritten whole: one JSON document with more in it. */
	out = check_file(path);
	CHECK_EQ(number_of(out, "events "), 2 * 2 * (21 + 6));
	CHECK(file_size(path) > size1);
	for (int i = 0; i < 20; i++)
		strcat(expected, "a>yield, b>yield, ");
	strcat(expected, "a>end, b>end, ");
	for (int i = 0; i < 5; i++)
		strcat(expected, "c>yield, d>yield, ");
	strcat(expected, "c>end, d>end");
	CHECK_STR_EQ(runs_of(out, gettid_()), expected);

	CHECK_EQ(wire_trace_stop(), 0);
	/* Stopped: nothing to write, nothing recorded. */
	errno = 0;
	CHECK_EQ(wire_trace_flush(), -1);
	CHECK_EQ(errno, ENOENT);
	errno = 0;
	CHECK_EQ(wire_trace_stop(), -1);
	CHECK_EQ(errno, ENOENT);
	run_yielders("e", "f", 5);
	CHECK_STR_EQ(runs_of(check_file(path), gettid_()), expected);
	unlink(path);
}

TEST(start_errors)
{
	errno = 0;
	CHECK_EQ(wire_trace_start(NULL, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_trace_start("", 0), -1);
	CHECK_EQ(errno, EINVAL);
	/* The errno of the open. */
	errno = 0;
	CHECK_EQ(wire_trace_start("/nonexistent-libwire-dir/t.json", 0), -1);
	CHECK_EQ(errno, ENOENT);
	errno = 0;
	CHECK_EQ(wire_trace_start(trace_path("errors"), SIZE_MAX), -1);
	CHECK_EQ(errno, ENOMEM);
	/* None of those started a timeline. */
	errno = 0;
	CHECK_EQ(wire_trace_flush(), -1);
	CHECK_EQ(errno, ENOENT);

	CHECK_EQ(wire_trace_start(trace_path("errors"), 10), 0);
	errno = 0;
	CHECK_EQ(wire_trace_start(trace_path("other"), 10), -1);
	CHECK_EQ(errno, EBUSY);
	CHECK_EQ(access(path, F_OK), -1); /* not even created */
	trace_path("errors");
	CHECK_EQ(wire_trace_stop(), 0);
	/* Started again after a stop. */
	CHECK_EQ(wire_trace_start(path, 10), 0);
	CHECK_EQ(wire_trace_stop(), 0);
	unlink(path);
}

TEST(write_errors)
{
	CHECK_EQ(wire_trace_start(trace_path("enospc"), 0), 0);
	wire_thread_init(&thread);
	run_yielders("a", "b", 3);
	wire__fault_set(WIRE_SYS_WRITE, 1, ENOSPC);
	errno = 0;
	CHECK_EQ(wire_trace_flush(), -1);
	CHECK_EQ(errno, ENOSPC);
	/* Still recording; the next flush writes it all. */
	CHECK_EQ(wire_trace_flush(), 0);
	CHECK_EQ(number_of(check_file(path), "events "), 2 * 2 * 4);
	wire__fault_set(WIRE_SYS_WRITE, 1, ENOSPC);
	errno = 0;
	CHECK_EQ(wire_trace_stop(), -1);
	CHECK_EQ(errno, ENOSPC);
	/* ...and stopped all the same. */
	errno = 0;
	CHECK_EQ(wire_trace_flush(), -1);
	CHECK_EQ(errno, ENOENT);
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* Names, and the end of a pooled wire.                                */

static void noop(void *arg)
{
	(void)arg;
}

TEST(names_escaped_or_made_up)
{
	static char s[2][STACK];
	static wire_t w[2];
	char expected[256];

	CHECK_EQ(wire_trace_start(trace_path("names"), 0), 0);
	wire_thread_init(&thread);
	wire_init(&w[0], "q\"b\\\t\xe9", noop, NULL, s[0], STACK);
	wire_init(&w[1], NULL, noop, NULL, s[1], STACK);
	wire_thread_run();
	CHECK_EQ(wire_trace_stop(), 0);
	/* trace_check.py shows what is not printable ASCII as \uXXXX. */
	snprintf(expected, sizeof(expected), "q\"b\\\\u0009\\u00e9>end, wire %p>end",
		 (void *)&w[1]);
	CHECK_STR_EQ(runs_of(check_file(path), gettid_()), expected);
	unlink(path);
}

static wire_pool_t pool;

static void job(void *arg)
{
	(void)arg;
	wire_yield();
}

static void spawner(void *arg)
{
	(void)arg;
	CHECK(wire_pool_alloc_block(&pool, "job", job, NULL) != NULL);
	CHECK(wire_pool_alloc_block(&pool, "job", job, NULL) != NULL);
}

TEST(pooled_wire_ends)
{
	static wire_pool_entry_t entries[1];
	static char s[STACK];
	static wire_t w;
	char expected[512];

	CHECK_EQ(wire_trace_start(trace_path("pool"), 0), 0);
	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, entries, 1, STACK), 0);
	wire_init(&w, "spawner", spawner, NULL, s, STACK);
	wire_thread_run();
	CHECK_EQ(wire_trace_stop(), 0);
	/* The second job runs on the first one's entry, which its end handed
	 * to the blocked spawner: the end is recorded as it happens. */
	snprintf(expected, sizeof(expected),
		 "spawner>pool obj=%p, job>yield, job>end, spawner>end, job>yield, job>end",
		 (void *)&pool);
	CHECK_STR_EQ(runs_of(check_file(path), gettid_()), expected);
	CHECK_EQ(wire_pool_destroy(&pool), 0);
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* Threads.                                                            */

#define THREADS	      2
#define THREAD_YIELDS 300

struct worker {
	wire_thread_t sched;
	wire_t wires[2];
	char stacks[2][STACK];
	char names[2][16];
	int tid;
	int index;
	int forever;	     /* yield until stop_workers is set */
	unsigned long turns; /* switches made, for the main thread to see */
};

static struct worker workers[THREADS];
static int stop_workers;

static void worker_wire(void *arg)
{
	struct worker *wk = arg;

	for (int i = 0; i < THREAD_YIELDS ||
			(wk->forever && !__atomic_load_n(&stop_workers, __ATOMIC_RELAXED));
	     i++) {
		__atomic_add_fetch(&wk->turns, 1, __ATOMIC_RELAXED);
		wire_yield();
	}
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;

	wk->tid = gettid_();
	wire_thread_init(&wk->sched);
	for (int i = 0; i < 2; i++) {
		snprintf(wk->names[i], sizeof(wk->names[i]), "t%d-%c", wk->index, 'a' + i);
		wire_init(&wk->wires[i], wk->names[i], worker_wire, wk, wk->stacks[i], STACK);
	}
	wire_thread_run();
	return NULL;
}

static void start_workers(pthread_t *th, int forever)
{
	for (int i = 0; i < THREADS; i++) {
		workers[i].index = i;
		workers[i].forever = forever;
		CHECK_EQ(pthread_create(&th[i], NULL, worker_main, &workers[i]), 0);
	}
}

TEST(two_threads_record_at_once)
{
	pthread_t th[THREADS];
	char expected[16384];
	const char *out;
	int flushes = 0;

	CHECK_EQ(wire_trace_start(trace_path("threads"), 0), 0);
	start_workers(th, 0);
	/* Write the file while the threads record. */
	for (int done = 0; !done; flushes++) {
		CHECK_EQ(wire_trace_flush(), 0);
		done = 1;
		for (int i = 0; i < THREADS; i++)
			done &= __atomic_load_n(&workers[i].turns, __ATOMIC_RELAXED) ==
				2 * THREAD_YIELDS;
	}
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	CHECK(flushes > 0);
	/* The threads have exited: their runs stay for the file. */
	CHECK_EQ(wire_trace_stop(), 0);
	out = check_file(path);
	CHECK_EQ(number_of(out, "events "), THREADS * 2 * 2 * (THREAD_YIELDS + 1));
	CHECK_EQ(number_of(out, "dropped "), 0);
	for (int i = 0; i < THREADS; i++) {
		char a[16], b[16];
		snprintf(a, sizeof(a), "t%d-a", i);
		snprintf(b, sizeof(b), "t%d-b", i);
		expected[0] = '\0';
		for (int k = 0; k < THREAD_YIELDS; k++)
			snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
				 "%s>yield, %s>yield, ", a, b);
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
			 "%s>end, %s>end", a, b);
		/* Each thread's slices carry its own tid. */
		CHECK_STR_EQ(runs_of(out, workers[i].tid), expected);
	}
	unlink(path);
}

TEST(stop_while_threads_record)
{
	pthread_t th[THREADS];
	const char *out;

	CHECK_EQ(wire_trace_start(trace_path("stop"), 200), 0);
	start_workers(th, 1);
	for (int i = 0; i < THREADS; i++)
		while (__atomic_load_n(&workers[i].turns, __ATOMIC_RELAXED) < 1000)
			sched_yield();
	CHECK_EQ(wire_trace_stop(), 0);
	/* They go on, no longer recording, then end. */
	for (int i = 0; i < THREADS; i++) {
		unsigned long t = __atomic_load_n(&workers[i].turns, __ATOMIC_RELAXED);
		while (__atomic_load_n(&workers[i].turns, __ATOMIC_RELAXED) < t + 1000)
			sched_yield();
	}
	__atomic_store_n(&stop_workers, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	out = check_file(path);
	for (int i = 0; i < THREADS; i++) {
		const char *runs = runs_of(out, workers[i].tid);
		CHECK(runs != NULL);
		CHECK(strncmp(runs, "t", 1) == 0);
		CHECK(strstr(runs, ">end") == NULL);
	}
	unlink(path);
}

/* A thread that set up its scheduler before the start joins at its next scheduler round. */
static int early_ready;

static void *early_main(void *arg)
{
	struct worker *wk = arg;

	wire_thread_init(&wk->sched);
	__atomic_store_n(&early_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop_workers, __ATOMIC_ACQUIRE))
		sched_yield();
	wire_init(&wk->wires[0], "before", yield_n, (void *)2L, wk->stacks[0], STACK);
	wk->tid = gettid_();
	wire_thread_run();
	wire_thread_init(&wk->sched);
	wire_init(&wk->wires[0], "after", yield_n, (void *)2L, wk->stacks[0], STACK);
	wire_thread_run();
	return NULL;
}

TEST(thread_set_up_before_the_start)
{
	pthread_t th;

	CHECK_EQ(pthread_create(&th, NULL, early_main, &workers[0]), 0);
	/* The thread's scheduler exists before the start. */
	while (!__atomic_load_n(&early_ready, __ATOMIC_ACQUIRE))
		sched_yield();
	CHECK_EQ(wire_trace_start(trace_path("early"), 0), 0);
	__atomic_store_n(&stop_workers, 1, __ATOMIC_RELEASE);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(wire_trace_stop(), 0);
	CHECK_STR_EQ(runs_of(check_file(path), workers[0].tid),
		     "before>yield, before>yield, before>end, after>yield, after>yield, after>end");
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* WIRE_TRACE.                                                         */

static void traced_child(void *arg)
{
	setenv("WIRE_TRACE", arg, 1);
	run_ping_pong();
	/* The file is written at exit (not at _exit, which test_run_child does). */
	exit(0);
}

TEST(environment_starts_a_timeline)
{
	char err[2048], expected[1024];
	const char *out;
	int status, tid;

	trace_path("env");
	unlink(path);
	status = test_run_child(traced_child, path, err, sizeof(err));
	CHECK_EQ(test_exit_code(status), 0);
	CHECK_STR_EQ(err, "");
	out = check_file(path);
	/* The child's one thread, and the runs of run_ping_pong(). */
	tid = (int)number_of(out, "thread ");
	CHECK(tid > 0);
	ping_pong_expected(expected, sizeof(expected));
	CHECK_STR_EQ(runs_of(out, tid), expected);
	unlink(path);
}

static void traced_child_terminated(void *arg)
{
	setenv("WIRE_TRACE", arg, 1);
	run_ping_pong();
	/* Ends the process, as its default action would, once the file is written. */
	raise(SIGTERM);
	for (;;)
		pause();
}

TEST(environment_sigterm_writes_the_file)
{
	char err[2048], expected[1024];
	const char *out;
	int status;

	trace_path("sigterm");
	unlink(path);
	status = test_run_child(traced_child_terminated, path, err, sizeof(err));
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGTERM);
	out = check_file(path);
	ping_pong_expected(expected, sizeof(expected));
	CHECK_STR_EQ(runs_of(out, (int)number_of(out, "thread ")), expected);
	unlink(path);
}

TEST(environment_path_unwritable)
{
	static char bad[] = "/nonexistent-libwire-dir/t.json";
	char err[2048];
	int status;

	status = test_run_child(traced_child, bad, err, sizeof(err));
	CHECK_EQ(test_exit_code(status), 0);
	CHECK(strstr(err, "libwire: WIRE_TRACE=/nonexistent-libwire-dir/t.json: ") != NULL);
}
