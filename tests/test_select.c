/* Tests of wire_select() (wire_select.h). */
// TEST_LABELS: threads
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire_select.h"
#include "test.h"

#define STACK (64 * 1024)
#define NW    6

static wire_thread_t thread;
static char stacks[NW][STACK];
static wire_t wires[NW];
static wire_channel_t a, b;
static void *a_slots[8], *b_slots[8];

#define V(x) ((void *)(uintptr_t)(x))
#define U(p) ((unsigned)(uintptr_t)(p))

static void spawn(int i, const char *name, void (*fn)(void *), void *arg)
{
	CHECK_PTR_EQ(wire_init(&wires[i], name, fn, arg, stacks[i], STACK), &wires[i]);
}

static void setup(void)
{
	wire_thread_init(&thread);
	test_trace_reset();
	wire_channel_init(&a);
	wire_channel_init(&b);
}

/* ------------------------------------------------------------------ */

TEST(fairness_between_two_ready_cases)
{
	unsigned count[2] = {0, 0}, n = 100000;

	wire_thread_init(&thread);
	CHECK_EQ(wire_channel_init_buffered(&a, a_slots, 1), 0);
	CHECK_EQ(wire_channel_init_buffered(&b, b_slots, 1), 0);
	CHECK_EQ(wire_channel_try_send(&a, V(1)), 0);
	CHECK_EQ(wire_channel_try_send(&b, V(2)), 0);
	for (unsigned i = 0; i < n; i++) {
		wire_select_case_t c[2] = {{.op = WIRE_SELECT_RECV, .chan = &a},
					   {.op = WIRE_SELECT_RECV, .chan = &b}};
		int k = wire_select(c, 2, 0);

		CHECK(k == 0 || k == 1);
		CHECK_EQ(U(c[k].msg), (unsigned)k + 1);
		count[k]++;
		CHECK_EQ(wire_channel_try_send(k ? &b : &a, V(k + 1)), 0); /* ready again */
	}
	/* 50% +- 3% each. */
	CHECK_RANGE(count[0], n * 47 / 100, n * 53 / 100);
	CHECK_RANGE(count[1], n * 47 / 100, n * 53 / 100);
}

static void sel_recv_two(void *arg)
{
	wire_select_case_t c[2] = {{.op = WIRE_SELECT_RECV, .chan = &a},
				   {.op = WIRE_SELECT_RECV, .chan = &b}};
	int k;

	(void)arg;
	test_mark('s');
	k = wire_select(c, 2, -1);
	CHECK_EQ(k, 1);
	CHECK_EQ(U(c[1].msg), 42);
	CHECK_EQ(c[1].err, 0);
	/* The record on a was withdrawn: a send there now blocks for a real receiver. */
	CHECK(a.receivers.next == &a.receivers);
	test_mark('r');
}

static void send_b(void *arg)
{
	(void)arg;
	test_mark('b');
	wire_channel_send(&b, V(42));
	test_mark('B'); /* after the selecting wire ran */
}

TEST(blocked_select_performs_exactly_the_first_case)
{
	setup();
	spawn(0, "select", sel_recv_two, NULL);
	spawn(1, "sender", send_b, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "sbrB");
}

static void sel_send(void *arg)
{
	wire_select_case_t c[2] = {{.op = WIRE_SELECT_SEND, .chan = &a, .msg = V(1)},
				   {.op = WIRE_SELECT_SEND, .chan = &b, .msg = V(2)}};

	(void)arg;
	CHECK_EQ(wire_select(c, 2, -1), 0);
	test_mark('S');
	/* b's sender record is gone: b has no sender. */
	CHECK(b.senders.next == &b.senders);
}

static void recv_a(void *arg)
{
	void *m;

	(void)arg;
	CHECK_EQ(wire_channel_recv_block(&a, &m), 0);
	CHECK_EQ(U(m), 1);
	test_mark('R');
}

TEST(blocked_send_cases)
{
	setup();
	spawn(0, "select", sel_send, NULL);
	spawn(1, "receiver", recv_a, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "RS");
}

TEST(timeout_and_poll)
{
	wire_select_case_t c[1] = {{.op = WIRE_SELECT_RECV, .chan = &a}};

	setup();
	errno = 0;
	CHECK_EQ(wire_select(c, 1, 0), -1);
	CHECK_EQ(errno, ETIMEDOUT);
}

static void sel_timeout(void *arg)
{
	wire_select_case_t c[1] = {{.op = WIRE_SELECT_RECV, .chan = &a}};
	int64_t t0 = test_now_ms();

	(void)arg;
	errno = 0;
	CHECK_EQ(wire_select(c, 1, TEST_MS(30)), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	CHECK_RANGE(test_now_ms() - t0, 29, 30 + 200 * test_time_scale());
	CHECK(a.receivers.next == &a.receivers);
	test_mark('t');
}

TEST(timeout_while_blocked_withdraws)
{
	setup();
	spawn(0, "select", sel_timeout, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "t");
	CHECK_EQ(thread.num_timers, 0);
}

TEST(bad_arguments)
{
	wire_select_case_t c[2] = {{.op = WIRE_SELECT_RECV, .chan = &a},
				   {.op = WIRE_SELECT_SEND, .chan = &a}};
	wire_select_case_t bad[1] = {{.op = 99}};
	wire_select_case_t nochan[1] = {{.op = WIRE_SELECT_RECV}};
	wire_select_case_t nofd[1] = {{.op = WIRE_SELECT_READ}};

	setup();
	errno = 0;
	CHECK_EQ(wire_select(c, 2, 0), -1); /* a channel in a send and a receive */
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_select(bad, 1, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_select(nochan, 1, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_select(nofd, 1, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_select(NULL, 1, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_select(c, 0, 0), -1);
	CHECK_EQ(errno, EINVAL);
}

static void sel_closed(void *arg)
{
	wire_select_case_t c[2] = {{.op = WIRE_SELECT_RECV, .chan = &a},
				   {.op = WIRE_SELECT_RECV, .chan = &b}};

	(void)arg;
	CHECK_EQ(wire_select(c, 2, -1), 0);
	CHECK_EQ(c[0].err, EPIPE);
	test_mark('e');
}

static void close_a(void *arg)
{
	(void)arg;
	wire_channel_close(&a);
	test_mark('c');
}

TEST(closed_channel_receive_case)
{
	setup();
	spawn(0, "select", sel_closed, NULL);
	spawn(1, "closer", close_a, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "ce");
}

static void closed_send_case(void *arg)
{
	wire_select_case_t c[1] = {{.op = WIRE_SELECT_SEND, .chan = &a, .msg = V(1)}};

	(void)arg;
	wire_thread_init(&thread);
	wire_channel_init(&a);
	wire_channel_close(&a);
	wire_select(c, 1, 0);
}

TEST(send_case_on_closed_channel_aborts)
{
	EXPECT_ABORT(closed_send_case, "wire_select: a SEND case on a closed channel");
}

/* fd cases. */
static int sp[2];
static wire_fd_state_t fds;

static void sel_fd_or_chan(void *arg)
{
	wire_select_case_t c[2] = {{.op = WIRE_SELECT_RECV, .chan = &a},
				   {.op = WIRE_SELECT_READ, .fd = &fds}};
	char buf[4];

	(void)arg;
	CHECK_EQ(wire_select(c, 2, -1), 1);
	CHECK_EQ(c[1].err, 0);
	CHECK_EQ(read(sp[0], buf, sizeof(buf)), 1);
	CHECK(a.receivers.next == &a.receivers); /* withdrawn */
	test_mark('f');
	/* Writable at once: recorded readiness is unknown, the poll says so. */
	c[1].op = WIRE_SELECT_WRITE;
	CHECK_EQ(wire_select(c, 2, 0), 1);
	test_mark('w');
}

static void write_later(void *arg)
{
	(void)arg;
	wire_sleep_ns(TEST_MS(5));
	CHECK_EQ(write(sp[1], "x", 1), 1);
}

TEST(fd_case_wakes)
{
	setup();
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	wire_fd_mode_init(&fds, sp[0]);
	CHECK_EQ(wire_fd_mode_read(&fds), 0);
	spawn(0, "select", sel_fd_or_chan, NULL);
	spawn(1, "writer", write_later, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "fw");
	CHECK_EQ(thread.poller->pending, 0);
	wire_fd_mode_none(&fds);
	close(sp[0]);
	close(sp[1]);
}

static void sel_fd_closed(void *arg)
{
	wire_select_case_t c[1] = {{.op = WIRE_SELECT_READ, .fd = &fds}};

	(void)arg;
	CHECK_EQ(wire_select(c, 1, -1), 0);
	CHECK_EQ(c[0].err, EBADF);
	test_mark('e');
}

static void fd_closer(void *arg)
{
	(void)arg;
	wire_fd_close(&fds);
	test_mark('c');
}

TEST(fd_case_closed_reports_ebadf)
{
	setup();
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	wire_fd_mode_init(&fds, sp[0]);
	CHECK_EQ(wire_fd_mode_read(&fds), 0);
	spawn(0, "select", sel_fd_closed, NULL);
	spawn(1, "closer", fd_closer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "ce");
	close(sp[1]);
}

/* A channel case performed after the selecting wire was woken, before it ran, wins. */
static void sel_both(void *arg)
{
	wire_select_case_t c[2] = {{.op = WIRE_SELECT_RECV, .chan = &a},
				   {.op = WIRE_SELECT_READ, .fd = &fds}};

	(void)arg;
	CHECK_EQ(wire_select(c, 2, -1), 0);
	CHECK_EQ(U(c[0].msg), 5);
	test_mark('s');
}

static void write_and_send(void *arg)
{
	(void)arg;
	CHECK_EQ(write(sp[1], "x", 1), 1);
	/* The selecting wire is made ready (as the fd's wake would), and a
	 * message comes before it runs. */
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	wire_resume(&wires[0]);
	CHECK_EQ(wires[0].state, WIRE_READY);
	/* Its receive record is still queued: the message goes into it. */
	CHECK_EQ(wire_channel_try_send(&a, V(5)), 0);
	CHECK_EQ(wire_channel_len(&a), 0);
	test_mark('w');
}

TEST(fd_wake_then_channel)
{
	setup();
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	wire_fd_mode_init(&fds, sp[0]);
	CHECK_EQ(wire_fd_mode_read(&fds), 0);
	CHECK_EQ(wire_channel_init_buffered(&a, a_slots, 1), 0);
	spawn(0, "select", sel_both, NULL);
	spawn(1, "writer", write_and_send, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "ws");
	CHECK_EQ(thread.poller->pending, 0);
	wire_fd_mode_none(&fds);
	close(sp[0]);
	close(sp[1]);
}
