/*
 * Tests that combine the fd layer or a timeout with a channel receive in
 * one wait list (wire_channel_recv_wait).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "wire.h"
#include "wire_channel.h"
#include "wire_fd.h"
#include "wire_timeout.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
static char stacks[4][STACK];
static wire_t wires[4];
static int nwires;
static void spawn(void (*fn)(void *), void *arg)
{
	CHECK(wire_init(&wires[nwires], "w", fn, arg, stacks[nwires], STACK));
	nwires++;
}

static wire_channel_t ch;
static int pfd[2];
static wire_fd_state_t st;
static int msg_a, msg_b;

/*
 * Wait for the first of a readable pipe and a message. Returns 'c' with
 * the message taken, or 'f' with the fd readable; the loser is withdrawn.
 */
static char fd_or_channel(void **msg)
{
	wire_channel_receiver_t rec;
	wire_wait_t wc, *fw, *first;
	wire_wait_list_t wl;

	wire_wait_init(&wc);
	wire_wait_list_init(&wl);
	fw = wire_fd_wait_list_chain(&wl, &st);
	CHECK(fw != NULL);
	wire_channel_recv_wait(&ch, &rec, &wc);
	wire_wait_chain(&wl, &wc);
	first = wire_list_wait(&wl);
	wire_wait_unchain(fw);
	wire_wait_unchain(&wc);
	if (first == &wc && wire_channel_recv_nonblock(&ch, msg) == 0)
		return 'c';
	wire_channel_recv_unwait(&ch, &rec);
	CHECK_PTR_EQ(first, fw);
	return 'f';
}

static void selector(void *arg)
{
	void *m = NULL;
	char c;
	(void)arg;

	CHECK_EQ(wire_fd_mode_read(&st), 0);
	/* 1: the channel wins (a sender at 10 ms; the pipe stays empty). */
	CHECK_EQ(fd_or_channel(&m), 'c');
	CHECK_PTR_EQ(m, &msg_a);
	test_mark('1');
	/* 2: the fd wins (a write at 10 ms); the sender comes later. */
	CHECK_EQ(fd_or_channel(&m), 'f');
	CHECK_EQ(read(pfd[0], &c, 1), 1);
	CHECK_EQ(c, 'p');
	test_mark('2');
	/* The withdrawn receive left no test_trace: a plain receive gets the next send. */
	CHECK_EQ(wire_channel_recv_block(&ch, &m), 0);
	CHECK_PTR_EQ(m, &msg_b);
	test_mark('3');
}

static void feeder(void *arg)
{
	(void)arg;
	wire_fd_wait_msec(10);
	test_mark('s');
	wire_channel_send(&ch, &msg_a);
	wire_fd_wait_msec(10);
	test_mark('w');
	CHECK_EQ(write(pfd[1], "p", 1), 1);
	wire_fd_wait_msec(10);
	test_mark('S');
	wire_channel_send(&ch, &msg_b);
}

TEST(fd_and_channel_in_one_wait_list)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	wire_channel_init(&ch);
	CHECK_EQ(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	wire_fd_mode_init(&st, pfd[0]);
	spawn(selector, NULL);
	spawn(feeder, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "s1w2S3");
	CHECK_EQ(thread.poller->pending, 0);
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* A channel receive with a timeout: 1 with the message in *@msg, 2 when the timeout won. */
static int recv_timeout(void **msg, int msec)
{
	wire_channel_receiver_t rec;
	wire_timeout_t t;
	wire_wait_t wc;

	wire_wait_init(&wc);
	wire_timeout_init(&t);
	CHECK_EQ(wire_timeout_reset(&t, msec), 0);
	for (;;) {
		wire_channel_recv_wait(&ch, &rec, &wc);
		if (wire_timeout_wait(&wc, &t) == 2) {
			wire_channel_recv_unwait(&ch, &rec);
			return 2;
		}
		if (wire_channel_recv_nonblock(&ch, msg) == 0) {
			wire_timeout_stop(&t);
			return 1;
		}
		wire_wait_reset(&wc); /* spurious: arm again */
	}
}

static int64_t took_ms[2];
static int results[2];
static wire_wait_t first_timed_out;

static void timed_receiver(void *arg)
{
	void *m = NULL;
	int64_t t0 = test_now_ms();
	(void)arg;

	/* Nobody sends before this timeout: it wins. */
	results[0] = recv_timeout(&m, 20);
	took_ms[0] = test_now_ms() - t0;
	test_mark('t');
	wire_wait_resume(&first_timed_out);
	/* The sender comes now, long before this timeout: the message wins. */
	t0 = test_now_ms();
	results[1] = recv_timeout(&m, 10000 * test_time_scale());
	took_ms[1] = test_now_ms() - t0;
	CHECK_PTR_EQ(m, &msg_a);
	test_mark('r');
}

/* Sends once the first receive has timed out: the order does not depend on the load. */
static void late_sender(void *arg)
{
	(void)arg;
	wire_wait_single(&first_timed_out);
	test_mark('s');
	wire_channel_send(&ch, &msg_a);
	test_mark('S');
}

TEST(channel_receive_with_timeout_both_outcomes)
{
	int64_t t0;

	wire_thread_init(&thread);
	wire_channel_init(&ch);
	wire_wait_init(&first_timed_out);
	spawn(timed_receiver, NULL);
	spawn(late_sender, NULL);
	t0 = test_now_ms();
	wire_thread_run();
	CHECK_EQ(results[0], 2);
	CHECK_RANGE(took_ms[0], 20, 20 + 40 * test_time_scale());
	CHECK_EQ(results[1], 1);
	CHECK_RANGE(took_ms[1], 0, 1000 * test_time_scale());
	CHECK_STR_EQ(test_trace, "tsrS");
	/* The long timeout was stopped: the run ended with the exchange. */
	CHECK_RANGE(test_now_ms() - t0, 20, 2000 * test_time_scale());
	CHECK_EQ(wire_thread_suspended(), 0);
}
