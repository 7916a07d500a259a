/*
 * wire_io at its limits: bursts beyond a ring, ten thousand calls at
 * once, shutdown racing calls of other threads, fork().
 *
 * io_stress_*: a seeded run of scheduler threads making checked wio calls
 * while the main thread stops and starts wire_io again and again; every
 * call must return its right result (handed off, or plain while stopped),
 * none may be lost. WIRE_IO_STRESS_SEED=N replays a seed it printed;
 * WIRE_IO_STRESS_SECONDS=S runs fresh seeds for S seconds (make stress).
 */
// TEST_LABELS: threads
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys.h"
#include "wire_io_internal.h"
#include "io_test.h"

/* ------------------------------------------------------------------ */
/* More calls in flight than a ring holds.                             */

static int (*bpipes)[2];
static int burst_n, burst_done;

static void burst_reader(void *arg)
{
	int i = (int)(long)arg;
	char c = 0;

	CHECK_EQ(wio_read(bpipes[i][0], &c, 1), 1);
	CHECK_EQ(c, 'a' + i % 26);
	burst_done++;
}

/* After the readers' calls went to the kernel, every pipe gets its byte. */
static void burst_writer(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(50);
	for (int i = 0; i < burst_n; i++)
		CHECK_EQ(write(bpipes[i][1], &(char){(char)('a' + i % 26)}, 1), 1);
}

/* Raise the soft limit of open files to at least @need, or skip. */
static void need_fds(rlim_t need)
{
	struct rlimit rl;

	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need)
		test_skip("the hard limit of open files is too low for this test");
	rl.rlim_cur = need;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static void burst_test(const char *backend)
{
	char *stacks;
	wire_t *w;

	burst_n = 1200;
	need_fds((rlim_t)(2 * burst_n + 64));
	start(backend);
	bpipes = calloc((size_t)burst_n, sizeof(*bpipes));
	stacks = malloc((size_t)(burst_n + 1) * 16384);
	w = calloc((size_t)burst_n + 1, sizeof(*w));
	CHECK(bpipes && stacks && w);
	for (int i = 0; i < burst_n; i++)
		CHECK_EQ(pipe2(bpipes[i], O_CLOEXEC), 0);
	for (int i = 0; i < burst_n; i++)
		CHECK(wire_init(&w[i], "reader", burst_reader, (void *)(long)i, stacks + i * 16384,
				16384));
	CHECK(
	    wire_init(&w[burst_n], "writer", burst_writer, NULL, stacks + burst_n * 16384, 16384));
	wire_thread_run();
	CHECK_EQ(burst_done, burst_n);
	for (int i = 0; i <= burst_n; i++)
		CHECK_EQ(w[i].state, WIRE_DONE);
	for (int i = 0; i < burst_n; i++) {
		close(bpipes[i][0]);
		close(bpipes[i][1]);
	}
	free(bpipes);
	free(stacks);
	free(w);
	finish();
}

/* 1,200 reads of pipes in flight at once, on a ring of 512 completions. */
TEST(burst_beyond_the_ring_uring)
{
	burst_test("uring");
}

TEST(burst_beyond_the_ring_threads)
{
	burst_test("threads");
}

/* ------------------------------------------------------------------ */
/* Ten thousand calls at once on one thread.                           */

#define MANY_BLOCK 512

static int many_fd, many_done;

static void many_reader(void *arg)
{
	long i = (long)arg;
	unsigned char buf[MANY_BLOCK];

	CHECK_EQ(wio_pread(many_fd, buf, sizeof(buf), (off_t)i * MANY_BLOCK), MANY_BLOCK);
	for (int k = 0; k < MANY_BLOCK; k++)
		if (buf[k] != (unsigned char)(i + k))
			test_fail(__FILE__, __LINE__, "wire %ld: byte %d is %d", i, k, buf[k]);
	many_done++;
}

static void many_test(const char *backend)
{
	int n = test_under_valgrind() || test_under_tsan() ? 2000 : 10000;
	unsigned char block[MANY_BLOCK];
	char path[300], *stacks;
	wire_t *w;

	setenv("WIRE_IO_INLINE", "0", 1); /* every read handed off */
	start(backend);
	unsetenv("WIRE_IO_INLINE");
	path_in_dir(path, sizeof(path), "many");
	many_fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(many_fd >= 0);
	for (long i = 0; i < n; i++) {
		for (int k = 0; k < MANY_BLOCK; k++)
			block[k] = (unsigned char)(i + k);
		CHECK_EQ(pwrite(many_fd, block, sizeof(block), (off_t)i * MANY_BLOCK), MANY_BLOCK);
	}
	stacks = malloc((size_t)n * 8192);
	w = calloc((size_t)n, sizeof(*w));
	CHECK(stacks && w);
	for (long i = 0; i < n; i++)
		CHECK(wire_init(&w[i], "many", many_reader, (void *)i, stacks + i * 8192, 8192));
	wire_thread_run();
	CHECK_EQ(many_done, n);
	CHECK(wire__io_handoffs() >= (unsigned long)n);
	close(many_fd);
	free(stacks);
	free(w);
	finish();
}

TEST(ten_thousand_calls_at_once_threads)
{
	many_test("threads");
}

TEST(ten_thousand_calls_at_once_uring)
{
	many_test("uring");
}

/* ------------------------------------------------------------------ */
/* Shutdown and start racing calls of other threads.                   */

#define STRESS_THREADS 3
#define STRESS_WIRES   6
#define STRESS_FILE    (64 * 1024)

static uint64_t stress_seed;
static const char *stress_backend;
static int stress_ops;
static int shared_fd; /* read-only pattern file */
static _Atomic int threads_left;
static _Atomic unsigned long calls_made;

static unsigned char pattern(off_t off)
{
	return (unsigned char)(off * 7 + 3);
}

static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

struct stress_wire {
	int thread, wire;
	char path[300];
};

/* Random checked calls of one wire, on files of its own and the shared one. */
static void stress_wire_main(void *arg)
{
	struct stress_wire *sw = arg;
	uint64_t x = stress_seed * 1000003u + (uint64_t)sw->thread * 101u + (uint64_t)sw->wire + 1;
	unsigned char buf[512], mine[512];
	struct stat st;
	int fd, p[2];

	fd = wio_open(sw->path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	memset(mine, sw->wire, sizeof(mine));
	CHECK_EQ(wio_pwrite(fd, mine, sizeof(mine), 0), sizeof(mine));
	for (int i = 0; i < stress_ops; i++) {
		off_t off = (off_t)(next(&x) % (STRESS_FILE - sizeof(buf)));

		switch (next(&x) % 7) {
		case 0:
			CHECK_EQ(wio_pread(shared_fd, buf, sizeof(buf), off), sizeof(buf));
			for (size_t k = 0; k < sizeof(buf); k++)
				CHECK_EQ(buf[k], pattern(off + (off_t)k));
			break;
		case 1:
			mine[0] = (unsigned char)i;
			CHECK_EQ(wio_pwrite(fd, mine, sizeof(mine), 0), sizeof(mine));
			CHECK_EQ(wio_pread(fd, buf, sizeof(buf), 0), sizeof(buf));
			CHECK(memcmp(buf, mine, sizeof(mine)) == 0);
			break;
		case 2:
			CHECK_EQ(wio_fstat(fd, &st), 0);
			CHECK_EQ(st.st_size, sizeof(mine));
			break;
		case 3:
			CHECK_EQ(wio_fsync(fd), 0);
			break;
		case 4:
			CHECK_EQ(write(p[1], "q", 1), 1);
			CHECK_EQ(wio_read(p[0], buf, 1), 1);
			CHECK_EQ(buf[0], 'q');
			break;
		case 5:
			CHECK_EQ(wio_stat(sw->path, &st), 0);
			CHECK_EQ(st.st_size, sizeof(mine));
			break;
		default:
			wire_yield();
			break;
		}
		atomic_fetch_add(&calls_made, 1);
	}
	CHECK_EQ(wio_close(fd), 0);
	close(p[0]);
	close(p[1]);
	unlink(sw->path);
}

static void *stress_thread(void *arg)
{
	int t = (int)(long)arg;
	static char stacks[STRESS_THREADS][STRESS_WIRES][STACK];
	static wire_t w[STRESS_THREADS][STRESS_WIRES];
	static struct stress_wire sw[STRESS_THREADS][STRESS_WIRES];
	wire_thread_t th;

	wire_thread_init(&th);
	CHECK_EQ(wire_fd_init(), 0);
	for (int i = 0; i < STRESS_WIRES; i++) {
		sw[t][i].thread = t;
		sw[t][i].wire = i;
		snprintf(sw[t][i].path, sizeof(sw[t][i].path), "%s/t%d-w%d", dir, t, i);
		CHECK(wire_init(&w[t][i], "stress", stress_wire_main, &sw[t][i], stacks[t][i],
				STACK));
	}
	wire_thread_run();
	for (int i = 0; i < STRESS_WIRES; i++)
		CHECK_EQ(w[t][i].state, WIRE_DONE);
	CHECK_EQ(wire_thread_suspended(), 0);
	atomic_fetch_sub(&threads_left, 1);
	return NULL;
}

/* One seeded run: returns the number of shutdown and start cycles made. */
static unsigned stress_run(uint64_t seed, const char *backend, int ops)
{
	pthread_t t[STRESS_THREADS];
	unsigned char block[4096];
	char path[300];
	uint64_t x = seed | 1;
	unsigned cycles = 0;

	stress_seed = seed;
	stress_backend = backend;
	stress_ops = ops;
	start(backend);
	path_in_dir(path, sizeof(path), "shared");
	shared_fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(shared_fd >= 0);
	for (off_t off = 0; off < STRESS_FILE; off += (off_t)sizeof(block)) {
		for (size_t k = 0; k < sizeof(block); k++)
			block[k] = pattern(off + (off_t)k);
		CHECK_EQ(pwrite(shared_fd, block, sizeof(block), off), sizeof(block));
	}
	atomic_store(&threads_left, STRESS_THREADS);
	for (long i = 0; i < STRESS_THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, stress_thread, (void *)i), 0);
	/* Stop and start again, at random moments, until the threads are done. */
	while (atomic_load(&threads_left)) {
		usleep((useconds_t)(next(&x) % 3000));
		wire_io_shutdown();
		usleep((useconds_t)(next(&x) % 1000));
		CHECK_EQ(wire_io_init_backend(2, backend), 0);
		cycles++;
	}
	for (int i = 0; i < STRESS_THREADS; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	close(shared_fd);
	finish();
	return cycles;
}

static void stress_test(const char *backend)
{
	const char *seed_env = getenv("WIRE_IO_STRESS_SEED");
	const char *secs = getenv("WIRE_IO_STRESS_SECONDS");
	int ops = test_under_valgrind() ? 40 : 300;

	if (seed_env && *seed_env) {
		printf("seed %s: %u cycles\n", seed_env,
		       stress_run(strtoull(seed_env, NULL, 10), backend, ops));
		return;
	}
	if (secs && *secs) {
		int64_t end = test_now_ms() + atoll(secs) * 1000;
		uint64_t s = (uint64_t)test_now_ms();
		unsigned runs = 0, cycles = 0;

		alarm((unsigned)atoi(secs) + 60u * (unsigned)test_time_scale());
		for (; test_now_ms() < end; s++, runs++) {
			printf("wio stress: seed %llu (replay: WIRE_IO_STRESS_SEED=%llu)\n",
			       (unsigned long long)s, (unsigned long long)s);
			cycles += stress_run(s, backend, 2000);
		}
		printf("wio stress %s: %u seeds, %u shutdown cycles, %lu calls\n", backend, runs,
		       cycles, atomic_load(&calls_made));
		return;
	}
	for (uint64_t s = 1; s <= 3; s++) {
		unsigned cycles = stress_run(s, backend, ops);
		CHECK(cycles >= 1);
	}
	CHECK(atomic_load(&calls_made) >= 3ul * STRESS_THREADS * STRESS_WIRES * (unsigned)ops);
}

TEST(io_stress_shutdown_cycling_threads)
{
	stress_test("threads");
}

TEST(io_stress_shutdown_cycling_uring)
{
	stress_test("uring");
}

/* A call of another thread queued as the pool stops is never lost. */
static _Atomic int fsyncs_done, fsync_go;
static int fsync_fd;

static void fsync_wire(void *arg)
{
	(void)arg;
	while (!atomic_load(&fsync_go))
		wire_yield();
	CHECK_EQ(wio_fsync(fsync_fd), 0);
	atomic_fetch_add(&fsyncs_done, 1);
}

static void *fsync_thread(void *arg)
{
	static char stacks[8][STACK];
	static wire_t w[8];
	wire_thread_t th;

	(void)arg;
	wire_thread_init(&th);
	CHECK_EQ(wire_fd_init(), 0);
	for (int i = 0; i < 8; i++)
		CHECK(wire_init(&w[i], "fsync", fsync_wire, NULL, stacks[i], STACK));
	wire_thread_run();
	CHECK_EQ(wire_thread_suspended(), 0);
	return NULL;
}

static void cross_thread_test(const char *backend)
{
	char path[300];
	pthread_t t;

	start(backend);
	path_in_dir(path, sizeof(path), "sync");
	fsync_fd = open(path, O_CREAT | O_RDWR, 0600);
	CHECK(fsync_fd >= 0);
	CHECK_EQ(pthread_create(&t, NULL, fsync_thread, NULL), 0);
	atomic_store(&fsync_go, 1);
	wire_io_shutdown(); /* races the other thread's calls */
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(atomic_load(&fsyncs_done), 8);
	close(fsync_fd);
	CHECK_EQ(wire_io_init_backend(2, backend), 0);
	finish();
}

TEST(shutdown_races_calls_of_another_thread_threads)
{
	cross_thread_test("threads");
}

TEST(shutdown_races_calls_of_another_thread_uring)
{
	cross_thread_test("uring");
}

/* ------------------------------------------------------------------ */
/* fork().                                                             */

static int fork_fd;
static const char *fork_backend;

static void fork_reader(void *arg)
{
	char buf[8];

	(void)arg;
	CHECK_EQ(wio_pread(fork_fd, buf, 5, 0), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
}

/* Child: wires and fds set up again, wire_io not: a call from a wire aborts. */
static void child_without_init(void *arg)
{
	(void)arg;
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	setenv("WIRE_IO_INLINE", "0", 1);
	run_wire(fork_reader, NULL);
	_exit(0);
}

/* Child: wire_io_init() again, then calls work; the parent's ring is not touched. */
static void child_with_init(void *arg)
{
	(void)arg;
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(wire_io_init_backend(2, fork_backend), 0);
	CHECK_STR_EQ(wire_io_backend(), fork_backend);
	for (int i = 0; i < 20; i++)
		run_wire(fork_reader, NULL);
	wire_io_shutdown();
	_exit(0);
}

static void fork_test(const char *backend)
{
	char path[300], err[1024];
	unsigned long h0;
	int status;

	setenv("WIRE_IO_INLINE", "0", 1); /* every read goes to the backend */
	start(backend);
	fork_backend = backend;
	path_in_dir(path, sizeof(path), "fork");
	fork_fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fork_fd >= 0);
	CHECK_EQ(write(fork_fd, "hello", 5), 5);
	run_wire(fork_reader, NULL);
	/*
	 * Fork only once every worker waits for calls. A worker still
	 * starting may hold a lock of the sanitizer's allocator (ASan
	 * allocates as a thread starts), which the child would inherit held
	 * and hang on its first allocation of that size.
	 */
	while (wire__io_pool_idle() < 4)
		usleep(1000);

	EXPECT_ABORT(child_without_init,
		     "libwire: wio_pread: wire_io was running when this process forked");
	if (test_under_tsan() || test_under_emulator()) {
		printf("NOTE: the child that starts wire_io again is left out under %s, which "
		       "cannot start threads after a multi-threaded fork\n",
		       test_under_tsan() ? "ThreadSanitizer" : "qemu-user");
	} else {
		status = test_run_child(child_with_init, NULL, err, sizeof(err));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			test_fail(__FILE__, __LINE__, "child with wire_io_init: status %#x, \"%s\"",
				  status, err);
	}
	/* The parent goes on with its own ring and workers. */
	h0 = wire__io_handoffs();
	for (int i = 0; i < 20; i++)
		run_wire(fork_reader, NULL);
	CHECK_EQ(wire__io_handoffs() - h0, 20);
	unsetenv("WIRE_IO_INLINE");
	close(fork_fd);
	finish();
}

TEST(fork_child_must_init_again_threads)
{
	fork_test("threads");
}

TEST(fork_child_must_init_again_uring)
{
	fork_test("uring");
}

/* ------------------------------------------------------------------ */
/* A shutdown outside any wire (a timer callback) while calls are out.  */

static int drain_pipe[2], drain_got;
static int64_t drain_ms;
static _Atomic int drain_started;

/* Arms the timer that shuts wire_io down once this read is in flight. */
static void drain_reader(void *arg)
{
	char c = 0;

	wire_timer_start_at(arg, wire_now_ns());
	CHECK_EQ(wio_read(drain_pipe[0], &c, 1), 1);
	drain_got = c;
}

/* Blocks the scheduler thread until the read is back: its poll fails once. */
static void drain_timer(wire_timer_t *t)
{
	int64_t t0 = test_now_ms();

	(void)t;
	wire__fault_set(WIRE_SYS_POLL, 1, EINTR);
	atomic_store(&drain_started, 1);
	wire_io_shutdown();
	drain_ms = test_now_ms() - t0;
	CHECK_EQ(wire__fault_armed, 0); /* the poll failed, and was made again */
	CHECK_STR_EQ(wire_io_backend(), "none");
}

/* Writes once the shutdown has begun (the read is still in flight then). */
static void *drain_writer(void *arg)
{
	(void)arg;
	while (!atomic_load(&drain_started))
		usleep(1000);
	usleep(30000);
	CHECK_EQ(write(drain_pipe[1], "d", 1), 1);
	return NULL;
}

static void drain_test(const char *backend)
{
	static char stack[STACK];
	static wire_t w;
	wire_timer_t t;
	pthread_t writer;

	start(backend);
	CHECK_EQ(pipe2(drain_pipe, O_CLOEXEC), 0);
	wire_timer_init(&t, drain_timer);
	CHECK(wire_init(&w, "reader", drain_reader, &t, stack, STACK));
	CHECK_EQ(pthread_create(&writer, NULL, drain_writer, NULL), 0);
	wire_thread_run();
	CHECK_EQ(pthread_join(writer, NULL), 0);
	CHECK_EQ(drain_got, 'd');
	CHECK(drain_ms >= 20);
	CHECK_EQ(w.state, WIRE_DONE);
	close(drain_pipe[0]);
	close(drain_pipe[1]);
	remove_dir();
}

TEST(shutdown_from_a_timer_waits_for_calls_threads)
{
	drain_test("threads");
}

TEST(shutdown_from_a_timer_waits_for_calls_uring)
{
	drain_test("uring");
}

/* ------------------------------------------------------------------ */
/* wire_io_init() while calls of an earlier start are still in flight.  */

static int ebusy_pipe[2], ebusy_ret, ebusy_errno;

static void ebusy_reader(void *arg)
{
	char c;

	(void)arg;
	CHECK_EQ(wio_read(ebusy_pipe[0], &c, 1), 1); /* on this thread's ring */
}

static void *shutdown_elsewhere(void *arg)
{
	(void)arg;
	wire_io_shutdown(); /* this thread has no calls to wait for */
	return NULL;
}

static void ebusy_starter(void *arg)
{
	pthread_t t;

	(void)arg;
	CHECK_EQ(pthread_create(&t, NULL, shutdown_elsewhere, NULL), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_STR_EQ(wire_io_backend(), "none");
	setenv("WIRE_IO_BACKEND", "uring", 1);
	errno = 0;
	ebusy_ret = wire_io_init(2);
	ebusy_errno = errno;
	unsetenv("WIRE_IO_BACKEND");
	CHECK_EQ(write(ebusy_pipe[1], "e", 1), 1);
	wire_fd_wait_msec(10); /* the read completes on the old ring */
	CHECK_EQ(wire_io_init_backend(2, "uring"), 0);
}

TEST(init_with_calls_of_a_stopped_start_in_flight_uring)
{
	static char s1[STACK], s2[STACK];
	static wire_t w1, w2;

	start("uring");
	CHECK_EQ(pipe2(ebusy_pipe, O_CLOEXEC), 0);
	CHECK(wire_init(&w1, "reader", ebusy_reader, NULL, s1, STACK));
	CHECK(wire_init(&w2, "starter", ebusy_starter, NULL, s2, STACK));
	wire_thread_run();
	CHECK_EQ(ebusy_ret, -1);
	CHECK_EQ(ebusy_errno, EBUSY);
	close(ebusy_pipe[0]);
	close(ebusy_pipe[1]);
	finish();
}
