/*
 * Listings and dumps on a signal at their edges (wire_debug.h): fork()
 * while another thread writes its listing, schedulers set up while a
 * dump is under way, moving the dump signal while a thread owes a dump,
 * and the time a wire has waited when something resumes it before its
 * wait is over.
 */
// TEST_LABELS: threads
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "wire.h"
#include "wire_channel.h"
#include "wire_debug.h"
#include "wire_fd.h"
#include "wire_pool.h"
#include "wire_select.h"
#include "wire_timeout.h"
#include "wire_wait.h"

/* Run @fn in a child, which must exit 0; its stderr in @err, shown if not. */
static void check_child(void (*fn)(void *), char *err, size_t size)
{
	int code = test_exit_code(test_run_child(fn, NULL, err, size));

	if (code != 0)
		fprintf(stderr, "%s", err);
	CHECK_EQ(code, 0);
}

/* ------------------------------------------------------------------ */
/* fork() while another thread writes its listing.                     */

#define LISTED 100

static int a_ready; /* atomic */

static void suspend_forever(void *arg)
{
	(void)arg;
	wire_suspend();
}

static void sleep_long(void *arg)
{
	(void)arg;
	__atomic_store_n(&a_ready, 1, __ATOMIC_RELEASE);
	wire_sleep_ns(TEST_MS(60000));
}

/* A scheduler with a listing longer than the pipe stderr is: its dump blocks in write(). */
static void *long_listing_thread(void *arg)
{
	static wire_thread_t t;
	static wire_t w[LISTED + 1];
	unsigned size = test_stack_size();
	char *stacks = malloc((size_t)(LISTED + 1) * size);

	(void)arg;
	CHECK(stacks != NULL);
	wire_thread_init(&t);
	wire_init(&w[LISTED], "sleeper", sleep_long, NULL, stacks + (size_t)LISTED * size, size);
	for (int i = 0; i < LISTED; i++)
		wire_init(&w[i], "a wire whose listing line is rather long", suspend_forever, NULL,
			  stacks + (size_t)i * size, size);
	wire_thread_run();
	return NULL;
}

static void raise_and_sleep(void *arg)
{
	(void)arg;
	CHECK_EQ(raise(SIGUSR1), 0);
	wire_sleep_ns(TEST_MS(100));
}

static void fork_during_listing_child(void *arg)
{
	int e[2], status = 0, devnull;
	pthread_t th;
	pid_t pid;

	(void)arg;
	/* stderr: a pipe of one page that nobody reads for now. */
	CHECK_EQ(pipe(e), 0);
	(void)fcntl(e[1], F_SETPIPE_SZ, 4096);
	CHECK(dup2(e[1], 2) == 2);
	CHECK_EQ(wire_dump_on_signal(SIGUSR1), 0);
	CHECK_EQ(pthread_create(&th, NULL, long_listing_thread, NULL), 0);
	while (!__atomic_load_n(&a_ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	/* The thread is in the middle of its listing once the pipe is full. */
	for (int i = 0;; i++) {
		int queued = 0;
		CHECK(i < 1000 * test_time_scale());
		CHECK_EQ(ioctl(e[0], FIONREAD, &queued), 0);
		/* Each line is one write, whole or not at all (under PIPE_BUF). */
		if (queued > 4096 - 256)
			break;
		usleep(10000);
	}
	usleep(20000);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		static wire_thread_t t;
		static wire_t w;
		static char s[64 * 1024];

		devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		wire_thread_init(&t);
		CHECK_EQ(wire_dump_on_signal(SIGUSR1), 0);
		/* Its dump must not wait for the parent's writer, which it does not have. */
		wire_init(&w, "child", raise_and_sleep, NULL, s, sizeof(s));
		wire_thread_run();
		_exit(0);
	}
	fcntl(e[0], F_SETFL, O_NONBLOCK);
	for (int i = 0;; i++) {
		char buf[4096];

		while (read(e[0], buf, sizeof(buf)) > 0)
			;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (i >= 500 * test_time_scale()) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stdout, "the child hung in its dump\n");
			_exit(3);
		}
		usleep(10000);
	}
	_exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 4);
}

TEST(fork_while_another_thread_writes_its_listing)
{
	char err[1024];

	if (test_under_tsan() || test_under_emulator())
		test_skip(test_under_tsan()
			      ? "ThreadSanitizer starts no thread in the child of a "
				"multi-threaded fork"
			      : "qemu-user aborts in the child of a multi-threaded fork");
	check_child(fork_during_listing_child, err, sizeof(err));
}

/* ------------------------------------------------------------------ */
/* Schedulers set up while a dump is under way.                        */

static int spun; /* atomic */

/* Runs without a switch: the dump waits for it. */
static int64_t spin_ns = TEST_MS(300);

static void spin_then_end(void *arg)
{
	int64_t end = wire_now_ns() + spin_ns * test_time_scale();

	(void)arg;
	while (wire_now_ns() < end)
		;
	__atomic_store_n(&spun, 1, __ATOMIC_RELEASE);
}

static void *spinning_thread(void *arg)
{
	static wire_thread_t t;
	static wire_t w;
	static char s[64 * 1024];

	(void)arg;
	wire_thread_init(&t);
	wire_init(&w, "spinner", spin_then_end, NULL, s, sizeof(s));
	wire_thread_run();
	return NULL;
}

static unsigned long long late_polls;
static int late_pipe[2];
static wire_fd_state_t late_fd;

/* An fd wait keeps the poller busy: the thread idles in a blocking poll. */
static void wait_for_nothing(void *arg)
{
	(void)arg;
	wire_fd_wait_read(&late_fd);
}

static void idle_until_past_the_dump(void *arg)
{
	wire_thread_stats_t st;

	(void)arg;
	wire_sleep_ns(TEST_MS(700) * test_time_scale());
	CHECK_EQ(wire_thread_stats(&st), 0);
	late_polls = st.polls_blocking;
	wire_fd_close(&late_fd);
}

/* Set up after the request: it has no dump to serve, and must not be woken for one. */
static void *late_thread(void *arg)
{
	static wire_thread_t t;
	static wire_t w[2];
	static char s[2][64 * 1024];

	(void)arg;
	wire_thread_init(&t);
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(pipe(late_pipe), 0);
	wire_fd_mode_init(&late_fd, late_pipe[0]);
	CHECK_EQ(wire_fd_mode_read(&late_fd), 0);
	wire_init(&w[0], "late", idle_until_past_the_dump, NULL, s[0], sizeof(s[0]));
	wire_init(&w[1], "fd-waiter", wait_for_nothing, NULL, s[1], sizeof(s[1]));
	wire_thread_run();
	return NULL;
}

static void late_setup_child(void *arg)
{
	pthread_t a, b;

	(void)arg;
	CHECK_EQ(wire_dump_on_signal(SIGUSR1), 0);
	CHECK_EQ(pthread_create(&a, NULL, spinning_thread, NULL), 0);
	usleep(TEST_MS(30) / 1000);
	CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	usleep(TEST_MS(50) / 1000);
	CHECK(!__atomic_load_n(&spun, __ATOMIC_ACQUIRE));
	CHECK_EQ(pthread_create(&b, NULL, late_thread, NULL), 0);
	CHECK_EQ(pthread_join(a, NULL), 0);
	CHECK_EQ(pthread_join(b, NULL), 0);
	/* Its blocking polls: the sleep's, not one per nudge (every 5 ms). */
	fprintf(stdout, "late thread: %llu blocking polls\n", late_polls);
	fflush(stdout);
	_exit(late_polls <= 5 ? 0 : 5);
}

TEST(a_scheduler_set_up_during_a_dump_is_not_woken_for_it)
{
	char err[16384];

	check_child(late_setup_child, err, sizeof(err));
	/* The spinner's thread dumped once it switched. */
	CHECK(strstr(err, "libwire: thread ") != NULL);
}

/* ------------------------------------------------------------------ */
/* Moving the dump signal while a thread owes a dump.                  */

static void move_while_owed_child(void *arg)
{
	pthread_t a;
	int sig = SIGUSR1;

	(void)arg;
	spin_ns = TEST_MS(900);
	CHECK_EQ(wire_dump_on_signal(sig), 0);
	CHECK_EQ(pthread_create(&a, NULL, spinning_thread, NULL), 0);
	usleep(TEST_MS(30) / 1000);
	CHECK_EQ(kill(getpid(), sig), 0);
	/* Back and forth while the spinner owes its dump: the signal left
	 * gets its default action back (the end of the process), and no
	 * nudge sent with it may arrive after that. */
	for (int i = 0; i < 800 && !__atomic_load_n(&spun, __ATOMIC_ACQUIRE); i++) {
		usleep(1000);
		sig = sig == SIGUSR1 ? SIGUSR2 : SIGUSR1;
		CHECK_EQ(wire_dump_on_signal(sig), 0);
	}
	CHECK_EQ(pthread_join(a, NULL), 0);
	_exit(0);
}

TEST(moving_the_dump_signal_while_a_busy_thread_owes_a_dump)
{
	char err[16384];

	check_child(move_while_owed_child, err, sizeof(err));
	/* The spinner's thread dumped once it was back in its scheduler. */
	CHECK(strstr(err, "libwire: thread ") != NULL);
}

static void sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		wire_sleep_ns(TEST_MS(60000));
}

/* A scheduler idle in a sleep: each request nudges it. */
static void *idle_thread(void *arg)
{
	static wire_thread_t t;
	static wire_t w;
	static char s[64 * 1024];

	(void)arg;
	wire_thread_init(&t);
	wire_init(&w, "idle", sleep_forever, NULL, s, sizeof(s));
	wire_thread_run();
	return NULL;
}

static void move_after_request_child(void *arg)
{
	int sig = SIGUSR1, devnull = open("/dev/null", O_WRONLY);
	pthread_t a;

	(void)arg;
	/* A listing a request: more than the parent reads. */
	CHECK(dup2(devnull, 2) == 2);
	CHECK_EQ(wire_dump_on_signal(sig), 0);
	CHECK_EQ(pthread_create(&a, NULL, idle_thread, NULL), 0);
	usleep(TEST_MS(20) / 1000);
	/* A request, then at once a move: the nudge it sends the idle
	 * thread with the old signal must arrive before the old signal's
	 * default action (the end of the process) is back. */
	for (int i = 0; i < 2000; i++) {
		CHECK_EQ(raise(sig), 0);
		usleep(100);
		sig = sig == SIGUSR1 ? SIGUSR2 : SIGUSR1;
		CHECK_EQ(wire_dump_on_signal(sig), 0);
	}
	_exit(0);
}

TEST(moving_the_dump_signal_right_after_a_request)
{
	char err[1024];

	check_child(move_after_request_child, err, sizeof(err));
}

/* ------------------------------------------------------------------ */
/* The time waited, across resumes that do not end the wait.           */

#define WAITERS 6

static wire_t *waiters[WAITERS];
static wire_channel_t sel_chan;
static wire_pool_t pool;
static wire_pool_entry_t pool_entries[1];
static int fd_pipe[2];
static wire_fd_state_t fd_state;

static void wait_sleep(void *arg)
{
	(void)arg;
	wire_sleep_ns(TEST_MS(60000));
}

static void wait_fd(void *arg)
{
	(void)arg;
	wire_fd_wait_read(&fd_state);
}

static void wait_select(void *arg)
{
	wire_select_case_t c = {.op = WIRE_SELECT_RECV, .chan = &sel_chan};

	(void)arg;
	wire_select(&c, 1, TEST_MS(60000));
}

static void wait_timeout(void *arg)
{
	wire_timeout_t to;
	wire_wait_t w;

	(void)arg;
	wire_timeout_init(&to);
	wire_wait_init(&w);
	wire_timeout_reset(&to, 60000);
	wire_timeout_wait(&w, &to);
}

static void pool_member(void *arg)
{
	(void)arg;
	wire_suspend();
}

static void wait_pool(void *arg)
{
	(void)arg;
	wire_pool_alloc_block(&pool, "never", pool_member, NULL);
}

/* Resumes every waiter every 10 ms, then lists them: each has waited since its wait began. */
static void poker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 30; i++) {
		wire_sleep_ns(TEST_MS(10));
		for (int k = 0; k < WAITERS; k++)
			if (waiters[k])
				wire_resume(waiters[k]);
	}
	/* Every waiter back in its wait. */
	wire_sleep_ns(TEST_MS(10));
	CHECK_EQ(wire_thread_dump(2), 0);
	exit(0);
}

static void since_child(void *arg)
{
	static wire_thread_t t;
	static wire_t w[WAITERS + 1];
	static char s[WAITERS + 1][64 * 1024];
	static void (*const fns[WAITERS])(void *) = {wait_sleep,   wait_fd,   wait_select,
						     wait_timeout, wait_pool, NULL};

	(void)arg;
	wire_thread_init(&t);
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(pipe(fd_pipe), 0);
	wire_fd_mode_init(&fd_state, fd_pipe[0]);
	CHECK_EQ(wire_fd_mode_read(&fd_state), 0);
	wire_channel_init(&sel_chan);
	CHECK_EQ(wire_pool_init(&pool, pool_entries, 1, 64 * 1024), 0);
	CHECK(wire_pool_alloc(&pool, "member", pool_member, NULL) != NULL);
	for (int k = 0; fns[k]; k++)
		waiters[k] = wire_init(&w[k], "waiter", fns[k], NULL, s[k], sizeof(s[k]));
	wire_init(&w[WAITERS], "poker", poker, NULL, s[WAITERS], sizeof(s[WAITERS]));
	wire_thread_run();
	exit(3);
}

TEST(a_wire_resumed_before_its_wait_is_over_has_waited_since_it_began)
{
	char err[8192];
	const char *l;
	int seen = 0;

	check_child(since_child, err, sizeof(err));
	for (l = err; (l = strstr(l, "\"waiter\" suspended: ")); l++) {
		const char *fo = strstr(l, ", for ");

		CHECK(fo != NULL);
		/* 31 sleeps of 10 ms since every wait began, resumed 30 times. */
		if (atof(fo + 6) < 0.25) {
			fprintf(stderr, "%s", err);
			CHECK(atof(fo + 6) >= 0.25);
		}
		seen++;
	}
	CHECK_EQ(seen, 5);
}
