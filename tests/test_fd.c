/* Tests of the fd layer (wire_fd.h): readiness on epoll, sleeps, close, fork. */
// TEST_LABELS: threads
// TEST_CPU: sleep_duration_window busy_poll_spins_then_blocks busy_poll_never_delays_a_timer
// busy_poll_window_adapts
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"
#include "wire_fd.h"
#include "wire_timeout.h"
#include "wire_io.h"
#include "sys.h"
#include "wire_fd_internal.h"
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

/* Wires and stacks of spawn(), kept reachable until the process ends. */
static void *volatile spawned[4096]; /* volatile: the stores must stay */
static int nspawned;

/* Start a wire on a fresh 64 KiB stack. */
static wire_t *spawn(const char *name, void (*fn)(void *), void *arg)
{
	wire_t *w = malloc(sizeof(*w));
	void *stack = malloc(STACK);
	CHECK(w && stack && nspawned + 2 <= 4096);
	spawned[nspawned++] = w;
	spawned[nspawned++] = stack;
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

static void zero_sleeper(void *arg)
{
	test_mark('a');
	CHECK_EQ(wire_fd_wait_msec(*(int *)arg), 0);
	test_mark('A');
}

static void other(void *arg)
{
	(void)arg;
	test_mark('b');
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
	CHECK_STR_EQ(test_trace, "ababAA");
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
#if !defined(SMALL_STACK) && defined(WIRE_CORO_UCONTEXT)
/* The portable switch keeps a jmp_buf per switched-out wire and starts a
 * fresh wire with makecontext on the stack being left. */
#define SMALL_STACK (8 * 1024)
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
	/* ThreadSanitizer caps threads and fibers at 8128. */
	int n = test_under_tsan() ? 5000 : test_under_valgrind() ? 10000 : 100000;
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
	test_mark('r');
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
	test_mark('R');
}

static void pipe_writer(void *arg)
{
	(void)arg;
	test_mark('w');
	wire_fd_wait_msec(30);
	test_mark('W');
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
	CHECK_STR_EQ(test_trace, "rwWR");
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

static int anchor_fds[2];

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
		/* Parked on a timer: the scheduler blocks in epoll, sees the event
		 * and has nobody to give it to. */
		wire_fd_wait_msec(20);
	}
	t0 = test_now_ms();
	CHECK_EQ(wire_fd_wait(&rstate), 0);
	woke_after_ms = test_now_ms() - t0;
	CHECK_EQ(read(pfd[0], buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'x');
	watchdog_done = 1;
	CHECK_EQ(write(anchor_fds[1], "a", 1), 1);
}

/* Parked on another fd, so that the poller runs while the reader is busy. */
static void anchor(void *arg)
{
	char c;
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&wstate), 0);
	while (read(anchor_fds[0], &c, 1) < 0)
		CHECK_EQ(wire_fd_wait(&wstate), 0);
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
	nonblocking_pipe(anchor_fds);
	wire_fd_mode_init(&wstate, anchor_fds[0]);
	spawn("anchor", anchor, NULL);
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
	test_mark('f');
	t0 = test_now_ms();
	CHECK_EQ(wire_fd_wait(&wstate), 0);
	woke_after_ms = test_now_ms() - t0;
	test_mark('F');
	CHECK_EQ(write(spair[0], "z", 1), 1);
}

static void slow_drainer(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(30);
	test_mark('d');
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
	CHECK_STR_EQ(test_trace, "fdF");
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

/* A reader and a writer parked on the same fd at once, each woken by its own event. */
static void rw_reader(void *arg)
{
	char buf[4];
	(void)arg;
	CHECK_EQ(read(spair[0], buf, 1), -1);
	test_mark('r');
	CHECK_EQ(wire_fd_wait_read(&rstate), 0);
	test_mark('R');
	CHECK_EQ(read(spair[0], buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'q');
}

static void rw_writer(void *arg)
{
	(void)arg;
	fill(spair[0]);
	test_mark('w');
	CHECK_EQ(wire_fd_wait_write(&rstate), 0);
	test_mark('W');
}

static void rw_peer(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(20);
	test_mark('d');
	drain(spair[1], filled); /* wakes the writer only */
	wire_fd_wait_msec(20);
	test_mark('s');
	CHECK_EQ(write(spair[1], "q", 1), 1); /* wakes the reader */
}

TEST(reader_and_writer_on_one_fd)
{
	setup();
	nonblocking_socketpair(spair);
	wire_fd_mode_init(&rstate, spair[0]);
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	spawn("reader", rw_reader, NULL);
	spawn("writer", rw_writer, NULL);
	spawn("peer", rw_peer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "rwdWsR");
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void hup_reader(void *arg)
{
	char c;
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	CHECK_EQ(read(pfd[0], &c, 1), -1);
	test_mark('r');
	CHECK_EQ(wire_fd_wait(&rstate), 0);
	test_mark('R');
	CHECK_EQ(read(pfd[0], &c, 1), 0); /* end of file */
	/* The hang-up lasts: the next wait returns too. */
	CHECK_EQ(wire_fd_wait(&rstate), 0);
	CHECK_EQ(wire_fd_close(&rstate), 0);
}

static void hup_closer(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(20);
	test_mark('c');
	CHECK_EQ(close(pfd[1]), 0);
}

/* Two readers and a writer parked on one socket; the peer closes: all wake. */
static int hup_woken[3];

static void hup_waiter(void *arg)
{
	int i = (int)(long)arg;

	if (i == 2)
		CHECK_EQ(wire_fd_wait_write(&rstate), 0);
	else
		CHECK_EQ(wire_fd_wait_read(&rstate), 0);
	hup_woken[i] = 1;
}

static void hup_peer(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(20);
	CHECK(!hup_woken[0] && !hup_woken[1] && !hup_woken[2]);
	CHECK_EQ(close(spair[1]), 0);
}

TEST(hangup_wakes_every_waiter_in_both_directions)
{
	setup();
	nonblocking_socketpair(spair);
	wire_fd_mode_init(&rstate, spair[0]);
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	fill(spair[0]); /* the writer has to wait */
	spawn("reader0", hup_waiter, (void *)0L);
	spawn("reader1", hup_waiter, (void *)1L);
	spawn("writer", hup_waiter, (void *)2L);
	spawn("peer", hup_peer, NULL);
	wire_thread_run();
	CHECK(hup_woken[0] && hup_woken[1] && hup_woken[2]);
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK_EQ(wire_fd_close(&rstate), 0);
}

TEST(hangup_wakes_waiter)
{
	setup();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&rstate, pfd[0]);
	spawn("reader", hup_reader, NULL);
	spawn("closer", hup_closer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "rcR");
	CHECK_EQ(wire_thread_suspended(), 0);
}

/*
 * The peer sends data and shuts down its side in one go. The reader takes
 * the data with a short read and waits again before reading: the end of
 * stream makes the fd readable, so that wait returns, and the next read
 * sees EOF.
 */
static int fin_sv[2];
static wire_fd_state_t fin_state;

static void fin_reader(void *arg)
{
	char buf[64];
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&fin_state), 0);
	CHECK_EQ(wire_fd_wait(&fin_state), 0);
	CHECK_EQ(read(fin_sv[0], buf, sizeof(buf)), 5); /* short read */
	test_mark('r');
	CHECK_EQ(wire_fd_wait(&fin_state), 0); /* must not hang */
	CHECK_EQ(read(fin_sv[0], buf, sizeof(buf)), 0);
	test_mark('R');
	CHECK_EQ(wire_fd_close(&fin_state), 0);
}

static void fin_sender(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(10); /* the reader is parked: one poll sees both */
	CHECK_EQ(write(fin_sv[1], "hello", 5), 5);
	CHECK_EQ(shutdown(fin_sv[1], SHUT_WR), 0);
	test_mark('s');
}

TEST(data_and_end_of_stream_in_one_edge)
{
	setup();
	nonblocking_socketpair(fin_sv);
	wire_fd_mode_init(&fin_state, fin_sv[0]);
	spawn("reader", fin_reader, NULL);
	spawn("sender", fin_sender, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "srR");
	CHECK_EQ(wire_thread_suspended(), 0);
	close(fin_sv[1]);
}

/* wire_fd_init() while a wire waits on an fd would lose the waiter: EBUSY. */
static int busy_fds[2], busy_ret, busy_errno;
static wire_fd_state_t busy_state;
static wire_timer_t busy_timer;

static void ebusy_fire(wire_timer_t *t)
{
	(void)t;
	errno = 0;
	busy_ret = wire_fd_init(); /* outside any wire, reader parked */
	busy_errno = errno;
	CHECK_EQ(write(busy_fds[1], "x", 1), 1);
}

static void ebusy_reader(void *arg)
{
	char c;
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&busy_state), 0);
	wire_timer_init(&busy_timer, ebusy_fire);
	wire_timer_start_at(&busy_timer, wire_now_ns() + 5000000);
	CHECK_EQ(wire_fd_wait(&busy_state), 0);
	CHECK_EQ(read(busy_fds[0], &c, 1), 1);
	test_mark('r');
	CHECK_EQ(wire_fd_close(&busy_state), 0);
}

TEST(init_again_while_waiting_is_ebusy)
{
	setup();
	nonblocking_pipe(busy_fds);
	wire_fd_mode_init(&busy_state, busy_fds[0]);
	spawn("reader", ebusy_reader, NULL);
	wire_thread_run();
	CHECK_EQ(busy_ret, -1);
	CHECK_EQ(busy_errno, EBUSY);
	CHECK_STR_EQ(test_trace, "r"); /* the waiter was not lost */
	CHECK_EQ(wire_fd_init(), 0);   /* idle now: a fresh instance is fine */
	close(busy_fds[1]);
}

static void err_writer(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_fd_mode_write(&wstate), 0);
	fill(pfd[1]);
	test_mark('w');
	CHECK_EQ(wire_fd_wait(&wstate), 0);
	test_mark('W');
	CHECK_EQ(write(pfd[1], "x", 1), -1); /* the error is reported by the I/O */
	CHECK_EQ(errno, EPIPE);
	CHECK_EQ(wire_fd_close(&wstate), 0);
}

static void err_closer(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(20);
	test_mark('c');
	CHECK_EQ(close(pfd[0]), 0); /* EPOLLERR on the write end */
}

TEST(error_wakes_waiter)
{
	signal(SIGPIPE, SIG_IGN);
	setup();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&wstate, pfd[1]);
	spawn("writer", err_writer, NULL);
	spawn("closer", err_closer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "wcW");
}

/* wire_fd_close() wakes every waiter, and the fd number's next user sees no stale events. */
static int close_results[2], close_errnos[2];

static void close_waiter(void *arg)
{
	int d = (int)(long)arg;
	test_mark(d ? 'w' : 'r');
	close_results[d] = d ? wire_fd_wait_write(&rstate) : wire_fd_wait_read(&rstate);
	close_errnos[d] = errno;
	test_mark(d ? 'W' : 'R');
}

static wire_fd_state_t reuse_state;

static void reuse_reader(void *arg)
{
	char c;
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&reuse_state), 0);
	while (read(reuse_state.fd, &c, 1) < 0) {
		CHECK_EQ(errno, EAGAIN);
		CHECK_EQ(wire_fd_wait(&reuse_state), 0);
	}
	CHECK_EQ(c, 'n');
	test_mark('n');
}

static void closer(void *arg)
{
	int old_fd = spair[0], np[2], keep;
	(void)arg;
	wire_fd_wait_msec(10);
	test_mark('c');
	keep = dup(old_fd); /* the file outlives the number */
	CHECK(keep >= 0);
	CHECK_EQ(wire_fd_close(&rstate), 0);
	CHECK_EQ(rstate.fd, -1);
	/* Nothing refers to the state any more: scribble over it. */
	memset(&rstate, 0xa5, sizeof(rstate));
	/* The file is still open through the dup: had it stayed in epoll, this
	 * write would report an event naming the scribbled state. */
	CHECK_EQ(write(spair[1], "s", 1), 1);
	/* The next pipe takes the freed number and works normally. */
	nonblocking_pipe(np);
	CHECK_EQ(np[0], old_fd);
	wire_fd_mode_init(&reuse_state, np[0]);
	spawn("reuse", reuse_reader, NULL);
	wire_fd_wait_msec(10);
	CHECK_EQ(write(np[1], "n", 1), 1);
	wire_fd_wait_msec(10);
	close(keep);
}

TEST(close_wakes_waiters)
{
	signal(SIGPIPE, SIG_IGN);
	setup();
	nonblocking_socketpair(spair);
	wire_fd_mode_init(&rstate, spair[0]);
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	fill(spair[0]);
	spawn("reader", close_waiter, (void *)0L);
	spawn("writer", close_waiter, (void *)1L);
	spawn("closer", closer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "rwcRWn");
	CHECK_EQ(close_results[0], -1);
	CHECK_EQ(close_errnos[0], EBADF);
	CHECK_EQ(close_results[1], -1);
	CHECK_EQ(close_errnos[1], EBADF);
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void none_waiter(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_fd_wait(&rstate), -1);
	CHECK_EQ(errno, EINVAL);
	test_mark('R');
}

static void none_setter(void *arg)
{
	(void)arg;
	test_mark('n');
	CHECK_EQ(wire_fd_mode_none(&rstate), 0);
	CHECK_EQ(rstate.mode, WIRE_FD_MODE_NONE);
	/* Out of epoll: the caller may close it and nothing is reported later. */
	CHECK_EQ(close(pfd[0]), 0);
	CHECK_EQ(close(pfd[1]), 0);
}

TEST(mode_none_wakes_waiters_and_unregisters)
{
	setup();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&rstate, pfd[0]);
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	spawn("waiter", none_waiter, NULL);
	spawn("setter", none_setter, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "nR");
	CHECK_EQ(thread.poller->pending, 0);
}

/* wire_thread_run() waits while an fd waiter remains and returns after. */
static int ext_fd;

static void *late_writer(void *arg)
{
	(void)arg;
	usleep(50 * 1000);
	CHECK_EQ(write(ext_fd, "e", 1), 1);
	return NULL;
}

static int reader_done;

static void ext_reader(void *arg)
{
	char c;
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	while (read(pfd[0], &c, 1) < 0)
		CHECK_EQ(wire_fd_wait(&rstate), 0);
	CHECK_EQ(c, 'e');
	reader_done = 1;
}

TEST(run_returns_once_nothing_remains)
{
	pthread_t th;
	int64_t t0;

	setup();
	nonblocking_pipe(pfd);
	ext_fd = pfd[1];
	wire_fd_mode_init(&rstate, pfd[0]);
	spawn("reader", ext_reader, NULL);
	t0 = test_now_ms();
	CHECK_EQ(pthread_create(&th, NULL, late_writer, NULL), 0);
	wire_thread_run();
	/* It blocked in epoll for the other thread's write, then returned:
	 * the fd stays registered but nobody waits on it. */
	CHECK_EQ(reader_done, 1);
	CHECK_RANGE(test_now_ms() - t0, 45, 45 + 500 * test_time_scale());
	CHECK_EQ(wire_thread_suspended(), 0);
	pthread_join(th, NULL);
}

/* An fd and a timeout in one wait list, both outcomes; the loser is
 * unchained, and a dropped fd wait stops counting as pending. */
static int chained_result;
static int64_t timeout_ms;
static wire_t *waiter_wire;

static int wires_state_of_waiter(void)
{
	return waiter_wire->state;
}

static void fd_or_timeout(void *arg)
{
	int write_it = (int)(long)arg;
	wire_timeout_t t;
	wire_wait_list_t wl;
	wire_wait_t *fw, *first;
	char c;

	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	CHECK_EQ(read(pfd[0], &c, 1), -1);
	wire_timeout_init(&t);
	CHECK_EQ(wire_timeout_reset(&t, (int)timeout_ms), 0);
	wire_wait_list_init(&wl);
	fw = wire_fd_wait_list_chain(&wl, &rstate);
	CHECK(fw != NULL);
	wire_wait_chain(&wl, wire_timeout_wait_get(&t));
	CHECK_EQ(thread.poller->pending, 1);
	first = wire_list_wait(&wl);
	wire_wait_unchain(fw);
	wire_wait_unchain(wire_timeout_wait_get(&t));
	chained_result = first == fw ? 1 : 2;
	if (write_it) {
		CHECK_EQ(read(pfd[0], &c, 1), 1);
		CHECK_EQ(wire_timeout_stop(&t), 1);
	}
}

/* Writes once the waiter is parked in its list: no race with the timeout. */
static void write_when_parked(void *arg)
{
	(void)arg;
	CHECK_EQ(wires_state_of_waiter(), WIRE_SUSPENDED);
	CHECK_EQ(write(pfd[1], "l", 1), 1);
}

static void run_fd_or_timeout(int write_it)
{
	setup();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&rstate, pfd[0]);
	waiter_wire = spawn("waiter", fd_or_timeout, (void *)(long)write_it);
	if (write_it)
		spawn("writer", write_when_parked, NULL);
}

TEST(fd_and_timeout_in_one_list_fd_wins)
{
	int64_t t0;

	timeout_ms = 10000 * test_time_scale(); /* far away */
	run_fd_or_timeout(1);
	t0 = test_now_ms();
	wire_thread_run();
	CHECK_EQ(chained_result, 1);
	CHECK_RANGE(test_now_ms() - t0, 0, timeout_ms / 2);
	CHECK_EQ(thread.poller->pending, 0);
}

TEST(fd_and_timeout_in_one_list_timeout_wins)
{
	int64_t t0;

	timeout_ms = 40;
	run_fd_or_timeout(0);
	t0 = test_now_ms();
	/* Returns once the timeout fired: the unchained fd wait no longer counts. */
	wire_thread_run();
	CHECK_EQ(chained_result, 2);
	CHECK_RANGE(test_now_ms() - t0, 40, 40 + 200 * test_time_scale());
	CHECK_EQ(thread.poller->pending, 0);
	CHECK_EQ(wire_thread_suspended(), 0);
}

/*
 * A wire chains an fd wait, blocks elsewhere first (on a second fd), then
 * waits on its list. While it was parked elsewhere the scheduler went idle
 * with no timer: the chained wait must still count, so that the list wait
 * is woken by the first fd and wire_thread_run() does not return early.
 */
static int qfd[2];
static wire_fd_state_t qstate;
static int chained_then_elsewhere_done;

static void chain_then_wait_elsewhere(void *arg)
{
	wire_wait_list_t wl;
	wire_wait_t *fw;
	char c;

	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	CHECK_EQ(wire_fd_mode_read(&qstate), 0);
	CHECK_EQ(read(pfd[0], &c, 1), -1);
	wire_wait_list_init(&wl);
	fw = wire_fd_wait_list_chain(&wl, &rstate);
	CHECK(fw != NULL);
	/* Elsewhere: the other fd, written by the writer wire below. */
	while (read(qfd[0], &c, 1) < 0)
		CHECK_EQ(wire_fd_wait(&qstate), 0);
	CHECK_EQ(c, 'q');
	CHECK_PTR_EQ(wire_list_wait(&wl), fw);
	wire_wait_unchain(fw);
	CHECK_EQ(read(pfd[0], &c, 1), 1);
	CHECK_EQ(c, 'e');
	chained_then_elsewhere_done = 1;
}

static void *write_q_then_e(void *arg)
{
	(void)arg;
	usleep(20 * 1000);
	CHECK_EQ(write(qfd[1], "q", 1), 1);
	usleep(50 * 1000);
	CHECK_EQ(write(pfd[1], "e", 1), 1);
	return NULL;
}

TEST(chained_wait_counts_while_its_wire_waits_elsewhere)
{
	pthread_t th;

	setup();
	nonblocking_pipe(pfd);
	nonblocking_pipe(qfd);
	wire_fd_mode_init(&rstate, pfd[0]);
	wire_fd_mode_init(&qstate, qfd[0]);
	spawn("chainer", chain_then_wait_elsewhere, NULL);
	CHECK_EQ(pthread_create(&th, NULL, write_q_then_e, NULL), 0);
	wire_thread_run();
	pthread_join(th, NULL);
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK_EQ(chained_then_elsewhere_done, 1);
	CHECK_EQ(thread.poller->pending, 0);
}

/* Busy wires do not starve an fd: the poller is looked at every 64 switches. */
static int busy_stop;

static void busy(void *arg)
{
	(void)arg;
	while (!busy_stop)
		wire_yield();
}

static void busy_reader(void *arg)
{
	int64_t t0 = test_now_ms();
	(void)arg;
	ext_reader(NULL);
	woke_after_ms = test_now_ms() - t0;
	busy_stop = 1;
}

TEST(busy_wires_do_not_starve_fds)
{
	pthread_t th;

	setup();
	nonblocking_pipe(pfd);
	ext_fd = pfd[1];
	wire_fd_mode_init(&rstate, pfd[0]);
	spawn("reader", busy_reader, NULL);
	spawn("busy1", busy, NULL);
	spawn("busy2", busy, NULL);
	CHECK_EQ(pthread_create(&th, NULL, late_writer, NULL), 0);
	wire_thread_run();
	pthread_join(th, NULL);
	CHECK_EQ(reader_done, 1);
	CHECK_RANGE(woke_after_ms, 45, 50 + 200 * test_time_scale());
}

/* ------------------------------------------------------------------ */
/* Bad input and failures.                                             */

static void bad_input_wire(void *arg)
{
	wire_fd_state_t st;
	wire_wait_list_t wl;
	int fds[2], file;
	(void)arg;

	wire_wait_list_init(&wl);
	wire_fd_mode_init(&st, -1);
	errno = 0;
	CHECK_EQ(wire_fd_mode_read(&st), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(wire_fd_mode_write(&st), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(wire_fd_mode_none(&st), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(wire_fd_wait(&st), -1);
	CHECK_EQ(errno, EBADF);
	CHECK(wire_fd_wait_list_chain(&wl, &st) == NULL);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(wire_fd_close(&st), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(st.mode, WIRE_FD_MODE_NONE);

	/* A closed fd: the failed change leaves the state as it was. */
	nonblocking_pipe(fds);
	close(fds[0]);
	wire_fd_mode_init(&st, fds[0]);
	CHECK_EQ(wire_fd_mode_read(&st), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(st.mode, WIRE_FD_MODE_NONE);
	CHECK_EQ(st.gen, 0);
	CHECK_EQ(wire_fd_wait_read(&st), -1);
	CHECK_EQ(errno, EINVAL); /* not watched */

	/* A regular file cannot be watched. */
	file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK(file >= 0);
	wire_fd_mode_init(&st, file);
	CHECK_EQ(wire_fd_mode_read(&st), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(wire_fd_wait(&st), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(wire_fd_wait_list_chain(&wl, &st) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(wl.head.next == &wl.head); /* nothing was chained */
	close(file);

	/* An injected epoll_ctl failure changes nothing; the next try works. */
	wire_fd_mode_init(&st, fds[1]);
	wire__fault_set(WIRE_SYS_EPOLL_CTL, 1, ENOMEM);
	CHECK_EQ(wire_fd_mode_write(&st), -1);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(st.mode, WIRE_FD_MODE_NONE);
	CHECK_EQ(wire_fd_mode_write(&st), 0);
	CHECK_EQ(wire_fd_wait(&st), 0); /* an empty pipe is writable */
	wire__fault_set(WIRE_SYS_EPOLL_CTL, 1, ENOMEM);
	CHECK_EQ(wire_fd_mode_none(&st), -1);
	CHECK_EQ(st.mode, WIRE_FD_MODE_WRITE);
	CHECK_EQ(wire_fd_close(&st), 0);
	test_mark('b');
}

TEST(bad_input_leaves_scheduler_intact)
{
	setup();
	spawn("bad", bad_input_wire, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "b");
	CHECK_EQ(thread.poller->pending, 0);
	/* The scheduler still works: a normal wait afterwards. */
	test_trace_reset();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&rstate, pfd[0]);
	spawn("reader", pipe_reader, NULL);
	spawn("writer", pipe_writer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "rwWR");
}

TEST(init_failures)
{
	wire_thread_t *none = wire_thread_get();

	CHECK(none == NULL);
	CHECK_EQ(wire_fd_init(), -1); /* no scheduler */
	CHECK_EQ(errno, EINVAL);
	wire_thread_init(&thread);
	wire__fault_set(WIRE_SYS_EPOLL_CREATE, 1, EMFILE);
	CHECK_EQ(wire_fd_init(), -1);
	CHECK_EQ(errno, EMFILE);
	CHECK(thread.poller == NULL);
	CHECK_EQ(wire_fd_init(), 0);
	CHECK(thread.poller != NULL);
}

/* wire_fd_init() from a wire is refused (EINVAL) and changes nothing. */
static int init_in_wire_ret, init_in_wire_errno;

static void init_in_wire(void *arg)
{
	(void)arg;
	errno = 0;
	init_in_wire_ret = wire_fd_init();
	init_in_wire_errno = errno;
}

TEST(init_from_a_wire_is_einval)
{
	wire_poller_t *p;

	setup();
	p = thread.poller;
	spawn("initializer", init_in_wire, NULL);
	wire_thread_run();
	CHECK_EQ(init_in_wire_ret, -1);
	CHECK_EQ(init_in_wire_errno, EINVAL);
	CHECK_PTR_EQ(thread.poller, p);
}

/* The mode changes need a poller on the thread: EINVAL without one. */
TEST(mode_change_without_a_poller_is_einval)
{
	wire_fd_state_t st;
	int fds[2];

	wire_thread_init(&thread);
	nonblocking_pipe(fds);
	wire_fd_mode_init(&st, fds[0]);
	errno = 0;
	CHECK_EQ(wire_fd_mode_read(&st), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_fd_mode_write(&st), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(st.mode, WIRE_FD_MODE_NONE);
	/* mode none of a state never registered: nothing to undo. */
	CHECK_EQ(wire_fd_mode_none(&st), 0);
	close(fds[0]);
	close(fds[1]);
}

/* epoll refuses a new fd (the user's watch limit: ENOSPC): the state is as it was. */
TEST(mode_change_refused_by_epoll)
{
	wire_fd_state_t st;
	int fds[2];

	setup();
	nonblocking_pipe(fds);
	wire_fd_mode_init(&st, fds[0]);
	wire__fault_set(WIRE_SYS_EPOLL_CTL, 1, ENOSPC);
	errno = 0;
	CHECK_EQ(wire_fd_mode_read(&st), -1);
	CHECK_EQ(errno, ENOSPC);
	CHECK_EQ(st.mode, WIRE_FD_MODE_NONE);
	CHECK_EQ(st.gen, 0);
	wire__fault_set(WIRE_SYS_EPOLL_CTL, 1, ENOMEM);
	CHECK_EQ(wire_fd_mode_write(&st), -1);
	CHECK_EQ(errno, ENOMEM);
	wire__fault_clear();
	CHECK_EQ(wire_fd_mode_read(&st), 0);
	CHECK_EQ(wire_fd_close(&st), 0);
	close(fds[1]);
}

/* wire_fd_init() while a wio call of the thread is in flight: EBUSY. */
static int wio_busy_pipe[2], wio_busy_ret, wio_busy_errno;

/* Arms the timer that tries wire_fd_init() once this call is in flight. */
static void wio_busy_reader(void *arg)
{
	char c;

	wire_timer_start_at(arg, wire_now_ns());
	CHECK_EQ(wio_read(wio_busy_pipe[0], &c, 1), 1);
}

static void wio_busy_init(void *arg)
{
	(void)arg;
	/* The reader is parked in its call: only a timer callback can try. */
	errno = 0;
	wio_busy_ret = wire_fd_init();
	wio_busy_errno = errno;
	CHECK_EQ(write(wio_busy_pipe[1], "b", 1), 1);
}

static void wio_busy_fire(wire_timer_t *t)
{
	(void)t;
	wio_busy_init(NULL);
}

TEST(init_with_wio_calls_in_flight_is_ebusy)
{
	wire_timer_t t;

	setup();
	CHECK_EQ(wire_io_init_backend(1, "threads"), 0);
	CHECK_EQ(pipe2(wio_busy_pipe, O_CLOEXEC), 0);
	wire_timer_init(&t, wio_busy_fire);
	spawn("reader", wio_busy_reader, &t);
	wire_thread_run();
	CHECK_EQ(wio_busy_ret, -1);
	CHECK_EQ(wio_busy_errno, EBUSY);
	wire_io_shutdown();
	CHECK_EQ(wire_fd_init(), 0); /* idle now */
	close(wio_busy_pipe[0]);
	close(wio_busy_pipe[1]);
}

static void wait_outside(void *arg)
{
	wire_fd_state_t st;
	(void)arg;
	setup();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&st, pfd[0]);
	CHECK_EQ(wire_fd_mode_read(&st), 0);
	wire_fd_wait(&st);
}

TEST(wait_outside_a_wire_aborts)
{
	char err[512];
	int status = test_run_child(wait_outside, NULL, err, sizeof(err));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(err, "libwire: wire_fd_wait: called outside a wire") != NULL);
}

/* ------------------------------------------------------------------ */
/* fork().                                                             */

/*
 * If a child kept using the parent's epoll instance, its epoll_wait would
 * take the parent's edge-triggered events: the parent's wait would hang.
 * The child re-initializes and blocks in its own epoll while the parent's
 * fd becomes ready; the parent must still be woken.
 */
static int sync_pipe[2];

static void child_waits(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&wstate), 0); /* re-registered in the child's epoll */
	CHECK_EQ(write(sync_pipe[1], "r", 1), 1);
	wire_fd_wait(&wstate); /* never ready: the child's own fd */
}

static void parent_waits(void *arg)
{
	int64_t t0 = test_now_ms();
	char c;
	(void)arg;
	/* Wait first: the readiness must come from the parent's own epoll. */
	CHECK_EQ(wire_fd_wait(&rstate), 0);
	woke_after_ms = test_now_ms() - t0;
	CHECK_EQ(read(pfd[0], &c, 1), 1);
	CHECK_EQ(c, 'p');
	reader_done = 1;
	watchdog_done = 1;
}

TEST(fork_child_gets_its_own_epoll)
{
	int child_fds[2];
	pid_t pid;
	char c;

	setup();
	nonblocking_pipe(pfd);
	nonblocking_pipe(child_fds);
	CHECK_EQ(pipe(sync_pipe), 0);
	wire_fd_mode_init(&rstate, pfd[0]);
	CHECK_EQ(wire_fd_mode_read(&rstate), 0);
	wire_fd_mode_init(&wstate, child_fds[0]);
	CHECK_EQ(wire_fd_mode_read(&wstate), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(5 * (unsigned)test_time_scale());
		wire_thread_init(&thread);
		CHECK_EQ(wire_fd_init(), 0);
		spawn("child", child_waits, NULL);
		wire_thread_run(); /* blocks in epoll until killed */
		_exit(0);
	}
	CHECK_EQ(read(sync_pipe[0], &c, 1), 1);
	usleep(20 * 1000); /* the child is in epoll_wait now */
	CHECK_EQ(write(pfd[1], "p", 1), 1);
	usleep(20 * 1000); /* a shared epoll would hand the event to the child */
	spawn("parent", parent_waits, NULL);
	spawn("watchdog", watchdog, &pfd[1]);
	wire_thread_run();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK_EQ(reader_done, 1);
	CHECK_RANGE(woke_after_ms, 0, 100 * test_time_scale());
}

static void forker(void *arg)
{
	(void)arg;
	if (fork() == 0) {
		for (;;) /* the scheduler polls the inherited epoll: refused */
			wire_yield();
	}
	wait(NULL);
	CHECK_EQ(write(pfd[1], "e", 1), 1);
}

static void forked_without_init(void *arg)
{
	(void)arg;
	setup();
	nonblocking_pipe(pfd);
	wire_fd_mode_init(&rstate, pfd[0]);
	spawn("reader", ext_reader, NULL);
	spawn("forker", forker, NULL);
	wire_thread_run();
	CHECK_EQ(reader_done, 1);
}

TEST(fork_child_without_init_aborts_when_polling)
{
	char err[512];

	if (test_under_tsan())
		test_skip("ThreadSanitizer loses track of a fork() made on a wire's stack");
	test_run_child(forked_without_init, NULL, err, sizeof(err));
	if (!strstr(err, "libwire: wire_fd: the epoll instance was inherited across fork()"))
		test_fail(__FILE__, __LINE__, "the child said: %s", err);
}

/* ------------------------------------------------------------------ */
/* Busy polling.                                                       */

static int64_t thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int busy_fds[2];
static int64_t busy_cpu_ms, busy_wait_ms;
static char busy_got;

static void *bp_late_writer(void *arg)
{
	(void)arg;
	usleep(150 * 1000);
	CHECK_EQ(write(busy_fds[1], "x", 1), 1);
	return NULL;
}

/* Wait until the pipe is readable; record the wait's wall and CPU time. */
static void bp_reader(void *arg)
{
	wire_fd_state_t st;
	int64_t t0 = test_now_ms(), c0 = thread_cpu_ms();

	(void)arg;
	wire_fd_mode_init(&st, busy_fds[0]);
	CHECK_EQ(wire_fd_mode_read(&st), 0);
	CHECK_EQ(wire_fd_wait(&st), 0);
	busy_wait_ms = test_now_ms() - t0;
	busy_cpu_ms = thread_cpu_ms() - c0;
	CHECK_EQ(read(busy_fds[0], &busy_got, 1), 1);
	CHECK_EQ(wire_fd_mode_none(&st), 0);
}

/* One wait of about 150 ms with the given busy-poll window. */
static void busy_run(int64_t window_ns)
{
	pthread_t tid;

	setup();
	CHECK_EQ(wire_fd_set_busy_poll(window_ns), 0);
	nonblocking_pipe(busy_fds);
	busy_got = 0;
	spawn("reader", bp_reader, NULL);
	CHECK_EQ(pthread_create(&tid, NULL, bp_late_writer, NULL), 0);
	wire_thread_run();
	CHECK_EQ(pthread_join(tid, NULL), 0);
	CHECK_EQ(busy_got, 'x');
	CHECK_RANGE(busy_wait_ms, 140, 150 + 500 * test_time_scale());
	close(busy_fds[0]);
	close(busy_fds[1]);
}

TEST(busy_poll_spins_then_blocks)
{
	/* Off: the thread sleeps through the wait. */
	busy_run(0);
	CHECK_RANGE(busy_cpu_ms, 0, 10 * test_time_scale());
	/* A 60 ms window: polls (on a shared machine it gets at least part of
	 * a core), then blocks for the rest of the wait. */
	busy_run(60 * 1000000);
	CHECK_RANGE(busy_cpu_ms, 10, 60 + 20 * test_time_scale());
	/* A window longer than the wait: the data is seen while polling. */
	busy_run(1000 * 1000000);
	CHECK_RANGE(busy_cpu_ms, 20, 150 + 500 * test_time_scale());
}

static int64_t busy_slept_ms;

static void busy_sleeper(void *arg)
{
	int64_t t0 = test_now_ms();

	(void)arg;
	wire_sleep_ns(100 * 1000000);
	busy_slept_ms = test_now_ms() - t0;
	CHECK_EQ(write(busy_fds[1], "x", 1), 1); /* release the reader */
}

TEST(busy_poll_never_delays_a_timer)
{
	setup();
	/* The longest window; a reader keeps the poller pending meanwhile.
	 * The time polled counts against the timer: polling for all of it and
	 * then blocking for it again would double the sleep. */
	CHECK_EQ(wire_fd_set_busy_poll(1000 * 1000000), 0);
	nonblocking_pipe(busy_fds);
	spawn("reader", bp_reader, NULL);
	spawn("sleeper", busy_sleeper, NULL);
	wire_thread_run();
	CHECK_EQ(busy_got, 'x');
	CHECK_RANGE(busy_slept_ms, 100, 100 + 60 * test_time_scale());
}

/* Bytes written to busy_fds[1] with a gap between them. */
static int adapt_writes, adapt_gap_ms;

static void *adapt_writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < adapt_writes; i++) {
		usleep((useconds_t)adapt_gap_ms * 1000);
		CHECK_EQ(write(busy_fds[1], "x", 1), 1);
	}
	return NULL;
}

static int64_t adapt_cpu_ms;

/* Read adapt_writes bytes one wait at a time; record the CPU it took. */
static void adapt_reader(void *arg)
{
	int64_t c0 = thread_cpu_ms();
	wire_fd_state_t st;
	char c;

	(void)arg;
	wire_fd_mode_init(&st, busy_fds[0]);
	CHECK_EQ(wire_fd_mode_read(&st), 0);
	for (int i = 0; i < adapt_writes; i++) {
		CHECK_EQ(wire_fd_wait(&st), 0);
		CHECK_EQ(read(busy_fds[0], &c, 1), 1);
	}
	adapt_cpu_ms = thread_cpu_ms() - c0;
	CHECK_EQ(wire_fd_mode_none(&st), 0);
}

static void adapt_run(int writes, int gap_ms)
{
	pthread_t tid;

	adapt_writes = writes;
	adapt_gap_ms = gap_ms;
	spawn("reader", adapt_reader, NULL);
	CHECK_EQ(pthread_create(&tid, NULL, adapt_writer, NULL), 0);
	wire_thread_run();
	CHECK_EQ(pthread_join(tid, NULL), 0);
}

TEST(busy_poll_window_adapts)
{
	const int64_t window = 50 * 1000000;

	setup();
	nonblocking_pipe(busy_fds);
	CHECK_EQ(wire_fd_set_busy_poll(window), 0);
	CHECK_EQ(wire__fd_poll_window(), window);
	/* Sparse traffic (a byte every 150 ms): each window polled in vain
	 * halves the next, down to none: 50 + 25 + 12.5 + 6.25 ms of polling
	 * instead of 6 x 50. Delays on a loaded machine only lengthen gaps. */
	adapt_run(6, 150);
	CHECK_EQ(wire__fd_poll_window(), 0);
	CHECK_RANGE(adapt_cpu_ms, 0, 200);
	CHECK_EQ(wire_fd_busy_poll(), window); /* the window set stays */
	/* Dense traffic (a byte every ms): a short block brings polling back. */
	adapt_run(50, 1);
	CHECK(wire__fd_poll_window() > 0);
	CHECK(wire__fd_poll_window() <= window);
	/* Setting a window starts from it again. */
	CHECK_EQ(wire_fd_set_busy_poll(window / 2), 0);
	CHECK_EQ(wire__fd_poll_window(), window / 2);
	close(busy_fds[0]);
	close(busy_fds[1]);
}

/* Exit status: 0 when wire_fd_init() took the value and the window is
 * what it says in us (the empty string: off), 1 on EINVAL, 2 otherwise. */
static void busy_env_child(void *arg)
{
	const char *v = arg;

	setenv("WIRE_FD_BUSY_POLL_US", v, 1);
	wire_thread_init(&thread);
	if (wire_fd_init() != 0)
		_exit(errno == EINVAL ? 1 : 2);
	_exit(wire_fd_busy_poll() == atoll(v) * 1000 ? 0 : 2);
}

TEST(busy_poll_bad_input)
{
	char err[256];
	wire_thread_t t2;

	/* No poller on this thread yet. */
	wire_thread_init(&t2);
	errno = 0;
	CHECK_EQ(wire_fd_set_busy_poll(1000), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_fd_busy_poll(), -1);
	CHECK_EQ(errno, EINVAL);
	setup();
	CHECK_EQ(wire_fd_busy_poll(), 0);
	errno = 0;
	CHECK_EQ(wire_fd_set_busy_poll(-1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_fd_set_busy_poll(1000000001), -1);
	CHECK_EQ(wire_fd_busy_poll(), 0); /* a refused value changes nothing */
	CHECK_EQ(wire_fd_set_busy_poll(1000000000), 0);
	CHECK_EQ(wire_fd_busy_poll(), 1000000000);
	CHECK_EQ(wire_fd_set_busy_poll(0), 0);
	CHECK_EQ(wire_fd_busy_poll(), 0);
	/* The environment variable, read by wire_fd_init(). */
	CHECK_EQ(test_exit_code(test_run_child(busy_env_child, (char *)"50", err, sizeof(err))), 0);
	CHECK_EQ(test_exit_code(test_run_child(busy_env_child, (char *)"", err, sizeof(err))), 0);
	CHECK_EQ(
	    test_exit_code(test_run_child(busy_env_child, (char *)"1000000", err, sizeof(err))), 0);
	CHECK_EQ(
	    test_exit_code(test_run_child(busy_env_child, (char *)"1000001", err, sizeof(err))), 1);
	CHECK_EQ(test_exit_code(test_run_child(busy_env_child, (char *)"-5", err, sizeof(err))), 1);
	CHECK_EQ(test_exit_code(test_run_child(busy_env_child, (char *)"50us", err, sizeof(err))),
		 1);
}
