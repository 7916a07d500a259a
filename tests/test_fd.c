/* Tests of the fd layer (wire_fd.h): readiness on epoll, sleeps, close, fork. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"
#include "wire_fd.h"
#include "wire_timeout.h"
#include "sys.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;

static void setup(void)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
}

static void nonblocking_pipe(int fds[2])
{
	CHECK_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void nonblocking_socketpair(int fds[2])
{
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
}

/* Start a wire on a fresh 64 KiB stack (leaked on purpose: the process ends). */
static wire_t *spawn(const char *name, void (*fn)(void *), void *arg)
{
	wire_t *w = malloc(sizeof(*w));
	void *stack = malloc(STACK);
	CHECK(w && stack);
	CHECK_PTR_EQ(wire_init(w, name, fn, arg, stack, STACK), w);
	return w;
}

/* ------------------------------------------------------------------ */
/* Sleeps.                                                             */

static int64_t slept_ms;

static void sleep50(void *arg)
{
	int64_t t0 = test_now_ms();
	(void)arg;
	CHECK_EQ(wire_fd_wait_msec(50), 0);
	slept_ms = test_now_ms() - t0;
}

TEST(sleep_duration_window)
{
	setup();
	spawn("sleeper", sleep50, NULL);
	wire_thread_run();
	CHECK_RANGE(slept_ms, 50, 50 + 40 * test_time_scale());
	CHECK_EQ(wire_thread_suspended(), 0);
}

static char trace[64];
static int trace_len;

static void mark(char c)
{
	trace[trace_len++] = c;
	trace[trace_len] = '\0';
}

static void zero_sleeper(void *arg)
{
	mark('a');
	CHECK_EQ(wire_fd_wait_msec(*(int *)arg), 0);
	mark('A');
}

static void other(void *arg)
{
	(void)arg;
	mark('b');
}

TEST(sleep_nonpositive_yields_once)
{
	static int zero = 0, neg = -5;

	setup();
	spawn("zero", zero_sleeper, &zero);
	spawn("other", other, NULL);
	spawn("neg", zero_sleeper, &neg);
	spawn("other", other, NULL);
	wire_thread_run();
	/* Each sleeper lets the wires queued behind it run once, then goes on. */
	CHECK_STR_EQ(trace, "ababAA");
}

static int sleepers_done;

static void sleep100(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(100);
	sleepers_done++;
}

TEST(thousand_parallel_sleepers)
{
	int64_t t0;

	setup();
	for (int i = 0; i < 1000; i++)
		spawn("sleeper", sleep100, NULL);
	t0 = test_now_ms();
	wire_thread_run();
	CHECK_EQ(sleepers_done, 1000);
	/* About one sleep, not a thousand. */
	CHECK_RANGE(test_now_ms() - t0, 100, 100 + 150 * test_time_scale());
}

#if defined(__SANITIZE_ADDRESS__)
#define SMALL_STACK (8 * 1024) /* instrumented frames are larger */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SMALL_STACK (8 * 1024)
#endif
#endif
#ifndef SMALL_STACK
#define SMALL_STACK (2 * 1024)
#endif

static void sleep_short(void *arg)
{
	wire_fd_wait_msec((int)(long)arg);
	sleepers_done++;
}

TEST(hundred_thousand_sleepers)
{
	/* Valgrind runs each wire some 50x slower: 10,000 there, 100,000 elsewhere. */
	int n = test_under_valgrind() ? 10000 : 100000;
	wire_t *wires = calloc((size_t)n, sizeof(*wires));
	char *stacks = malloc((size_t)n * SMALL_STACK);
	int64_t t0;

	CHECK(wires && stacks);
	setup();
	for (int i = 0; i < n; i++)
		CHECK(wire_init(&wires[i], "s", sleep_short, (void *)(long)(10 + i % 7),
				stacks + (size_t)i * SMALL_STACK, SMALL_STACK));
	t0 = test_now_ms();
	wire_thread_run();
	CHECK_EQ(sleepers_done, n);
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK(test_now_ms() - t0 >= 16);
	CHECK(test_now_ms() - t0 <= 2000 * test_time_scale());
	free(wires);
	free(stacks);
}

/* ------------------------------------------------------------------ */
/* Readiness.                                                          */

static int pfd[2];
static wire_fd_state_t rstate, wstate;
static int64_t woke_after_ms;
static char got[16];

static void pipe_reader(void *arg)
{
	int64_t t0 = test_now_ms();
	char c;
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	CHECK_EQ(read(pfd[0], &c, 1), -1);
	CHECK_EQ(errno, EAGAIN);
	mark('r');
	for (;;) {
		ssize_t r = read(pfd[0], got, sizeof(got));
		if (r > 0) {
			CHECK_EQ(r, 3);
			break;
		}
		CHECK_EQ(errno, EAGAIN);
		CHECK_EQ(wire_fd_wait(&rstate), 0);
	}
	woke_after_ms = test_now_ms() - t0;
	mark('R');
}

static void pipe_writer(void *arg)
{
	(void)arg;
	mark('w');
	wire_fd_wait_msec(30);
	mark('W');
	CHECK_EQ(write(pfd[1], "abc", 3), 3);
}

TEST(pipe_read_readiness)
{
	setup();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&rstate, pfd[0]);
	spawn("reader", pipe_reader, NULL);
	spawn("writer", pipe_writer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(trace, "rwWR");
	CHECK_STR_EQ(got, "abc");
	CHECK_RANGE(woke_after_ms, 30, 30 + 60 * test_time_scale());
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* The original library's worst bug: readiness that arrives while the owner
 * is not parked must still wake its next wait. */
static int watchdog_done;

static void watchdog(void *arg)
{
	int fd = *(int *)arg;
	int64_t until = test_now_ms() + 3000 * test_time_scale();
	while (!watchdog_done && test_now_ms() < until)
		wire_fd_wait_msec(5);
	if (!watchdog_done) /* unblock the reader so the failure is reported */
		CHECK_EQ(write(fd, "!", 1), 1);
}

static void unread_reader(void *arg)
{
	int mode = (int)(long)arg;
	char buf[8];
	int64_t t0;

	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	CHECK_EQ(read(pfd[0], buf, 1), -1); /* drained: a wait would now park */
	CHECK_EQ(write(pfd[1], "x", 1), 1);
	if (mode == 0) {
		/* Busy: yield long enough for several non-blocking polls. */
		for (int i = 0; i < 1000; i++)
			wire_yield();
	} else {
		/* Parked on a timer: the scheduler blocks in epoll and sees the event. */
		wire_fd_wait_msec(20);
	}
	t0 = test_now_ms();
	CHECK_EQ(wire_fd_wait(&rstate), 0);
	woke_after_ms = test_now_ms() - t0;
	CHECK_EQ(read(pfd[0], buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'x');
	watchdog_done = 1;
}

static void yielder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++)
		wire_yield();
}

static void run_unread(int mode)
{
	setup();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&rstate, pfd[0]);
	spawn("reader", unread_reader, (void *)(long)mode);
	spawn("yielder", yielder, NULL);
	spawn("watchdog", watchdog, &pfd[1]);
	wire_thread_run();
	CHECK_RANGE(woke_after_ms, 0, 10 * test_time_scale());
	CHECK_EQ(wire_thread_suspended(), 0);
}

TEST(unread_data_while_yielding_wakes_next_wait)
{
	run_unread(0);
}

TEST(unread_data_while_sleeping_wakes_next_wait)
{
	run_unread(1);
}

static int spair[2];
static size_t filled;

static void fill(int fd)
{
	static char junk[4096];
	filled = 0;
	for (;;) {
		ssize_t w = write(fd, junk, sizeof(junk));
		if (w < 0) {
			CHECK_EQ(errno, EAGAIN);
			break;
		}
		filled += (size_t)w;
	}
	CHECK(filled > 0);
}

static void drain(int fd, size_t n)
{
	static char junk[4096];
	while (n) {
		ssize_t r = read(fd, junk, n < sizeof(junk) ? n : sizeof(junk));
		CHECK(r > 0);
		n -= (size_t)r;
	}
}

static void full_writer(void *arg)
{
	int64_t t0;
	(void)arg;
	CHECK_EQ(wire_fd_mode_write(&wstate), 0);
	fill(spair[0]);
	mark('f');
	t0 = test_now_ms();
	CHECK_EQ(wire_fd_wait(&wstate), 0);
	woke_after_ms = test_now_ms() - t0;
	mark('F');
	CHECK_EQ(write(spair[0], "z", 1), 1);
}

static void slow_drainer(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(30);
	mark('d');
	drain(spair[1], filled);
}

TEST(write_readiness_on_full_socket)
{
	setup();
	nonblocking_socketpair(spair);
	wire_fd_mode_init(&wstate, spair[0]);
	spawn("writer", full_writer, NULL);
	spawn("drainer", slow_drainer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(trace, "fdF");
	CHECK_RANGE(woke_after_ms, 30, 30 + 60 * test_time_scale());
}

#define ROUNDS 20000
static wire_fd_state_t ping_state[2];
static unsigned pong_count[2];

static unsigned recv_u(wire_fd_state_t *st)
{
	unsigned v;
	ssize_t r;
	while ((r = read(st->fd, &v, sizeof(v))) < 0) {
		CHECK_EQ(errno, EAGAIN);
		CHECK_EQ(wire_fd_wait(st), 0);
	}
	CHECK_EQ(r, (ssize_t)sizeof(v));
	return v;
}

static void send_u(wire_fd_state_t *st, unsigned v)
{
	CHECK_EQ(write(st->fd, &v, sizeof(v)), (ssize_t)sizeof(v));
}

/* Side 0 sends 0, 2, 4, ...; side 1 answers each with its successor. */
static void pinger(void *arg)
{
	int side = (int)(long)arg;
	wire_fd_state_t *st = &ping_state[side];
	unsigned v = 0;

	CHECK_EQ(wire_fd_mode_read(st), 0);
	for (int i = 0; i < ROUNDS; i++) {
		if (side == 0) {
			send_u(st, 2u * (unsigned)i);
			v = recv_u(st);
			CHECK_EQ(v, 2u * (unsigned)i + 1);
		} else {
			v = recv_u(st);
			CHECK_EQ(v, 2u * (unsigned)i);
			send_u(st, v + 1);
		}
		pong_count[side]++;
	}
}

TEST(socketpair_pingpong_20000)
{
	setup();
	nonblocking_socketpair(spair);
	wire_fd_mode_init(&ping_state[0], spair[0]);
	wire_fd_mode_init(&ping_state[1], spair[1]);
	spawn("ping", pinger, (void *)0L);
	spawn("pong", pinger, (void *)1L);
	/* Registration is done by the first mode change; the loop itself must
	 * make no epoll_ctl: arm a fault on the third call and check it stays
	 * armed. */
	wire__fault_set(WIRE_SYS_EPOLL_CTL, 3, EIO);
	wire_thread_run();
	CHECK_EQ(wire__fault_armed, 1);
	wire__fault_clear();
	CHECK_EQ(pong_count[0], ROUNDS);
	CHECK_EQ(pong_count[1], ROUNDS);
	CHECK_EQ(wire_thread_suspended(), 0);
}
