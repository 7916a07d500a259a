/*
 * Tests of buffered channels, close and try_send (wire_channel.h), and a
 * seeded fuzz of senders, receivers (every way of receiving), closes and
 * cancels: nothing lost, nothing duplicated, FIFO kept.
 * Replay a fuzz failure with WIRE_CHANNEL_FUZZ_SEED=N (and _ROUNDS=1);
 * WIRE_CHANNEL_FUZZ_SECONDS=S runs fresh seeds for S seconds.
 */
#include <errno.h>
#include <stdint.h>

#include "wire_channel.h"
#include "wire_defer.h"
#include "wire_select.h"
#include "wire_timeout.h"
#include "test.h"

#define STACK (64 * 1024)
#define NW    8

static wire_thread_t thread;
static char stacks[NW][STACK];
static wire_t wires[NW];
static wire_channel_t ch;
static void *slots[64];

static void spawn(int i, const char *name, void (*fn)(void *), void *arg)
{
	CHECK_PTR_EQ(wire_init(&wires[i], name, fn, arg, stacks[i], STACK), &wires[i]);
}

#define V(x) ((void *)(uintptr_t)(x))
#define U(p) ((unsigned)(uintptr_t)(p))

static void setup(unsigned size)
{
	wire_thread_init(&thread);
	test_trace_reset();
	if (size)
		CHECK_EQ(wire_channel_init_buffered(&ch, slots, size), 0);
	else
		wire_channel_init(&ch);
}

/* ------------------------------------------------------------------ */
/* Buffered: a send blocks only when full; order is kept.              */

static void fill_sender(void *arg)
{
	(void)arg;
	for (unsigned i = 1; i <= 5; i++) {
		wire_channel_send(&ch, V(i));
		test_mark('0' + (char)i);
	}
}

static void slow_receiver(void *arg)
{
	void *m;

	(void)arg;
	test_mark('r');
	for (unsigned i = 1; i <= 5; i++) {
		CHECK_EQ(wire_channel_recv_block(&ch, &m), 0);
		CHECK_EQ(U(m), i);
		test_mark('a' + (char)i - 1);
	}
}

TEST(buffered_send_blocks_only_when_full)
{
	setup(3);
	spawn(0, "sender", fill_sender, NULL);
	spawn(1, "receiver", slow_receiver, NULL);
	wire_thread_run();
	/* Three sends go into the ring without yielding; the fourth blocks.
	 * The receiver takes 1 (4 moves into the ring, its sender wakes),
	 * then 2, 3, 4 and blocks; the sender sends 5 straight to it. */
	CHECK_STR_EQ(test_trace, "123rabcd45e");
	CHECK_EQ(wire_channel_len(&ch), 0);
}

TEST(buffered_init_errors)
{
	errno = 0;
	CHECK_EQ(wire_channel_init_buffered(&ch, slots, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_channel_init_buffered(&ch, NULL, 4), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_channel_init_buffered(NULL, slots, 4), -1);
	CHECK_EQ(errno, EINVAL);
}

TEST(buffered_ring_wraps_in_order)
{
	void *m;

	setup(4);
	for (unsigned round = 0; round < 10; round++) {
		for (unsigned i = 0; i < 3; i++)
			CHECK_EQ(wire_channel_try_send(&ch, V(round * 10 + i)), 0);
		CHECK_EQ(wire_channel_len(&ch), 3);
		for (unsigned i = 0; i < 3; i++) {
			CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
			CHECK_EQ(U(m), round * 10 + i);
		}
	}
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(wire_channel_try_send(&ch, V(i)), 0);
	errno = 0;
	CHECK_EQ(wire_channel_try_send(&ch, V(9)), -1); /* full */
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(wire_channel_len(&ch), 4);
	errno = 0;
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), -1);
	CHECK_EQ(errno, EAGAIN);
}

/* ------------------------------------------------------------------ */
/* Close.                                                              */

static void drain_until_epipe(void *arg)
{
	void *m;

	(void)arg;
	while (wire_channel_recv_block(&ch, &m) == 0)
		test_mark('0' + (char)U(m));
	CHECK_EQ(errno, EPIPE);
	test_mark('E');
}

static void send_then_close(void *arg)
{
	(void)arg;
	wire_channel_send(&ch, V(1));
	wire_channel_send(&ch, V(2));
	CHECK_EQ(wire_channel_close(&ch), 0);
	errno = 0;
	CHECK_EQ(wire_channel_close(&ch), -1);
	CHECK_EQ(errno, EPIPE);
	test_mark('c');
}

TEST(close_drains_buffer_then_epipe)
{
	setup(4);
	spawn(0, "sender", send_then_close, NULL);
	spawn(1, "receiver", drain_until_epipe, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "c12E");
}

TEST(close_rendezvous_drains_blocked_senders)
{
	setup(0);
	spawn(0, "sender", send_then_close, NULL);
	spawn(1, "receiver", drain_until_epipe, NULL);
	wire_thread_run();
	/* Each send waits for the receiver to run: the close comes last. */
	CHECK_STR_EQ(test_trace, "12cE");
}

static void blocked_receiver(void *arg)
{
	void *m;

	test_mark(*(char *)arg);
	errno = 0;
	CHECK_EQ(wire_channel_recv_block(&ch, &m), -1);
	CHECK_EQ(errno, EPIPE);
	test_mark('E');
}

static void closer(void *arg)
{
	(void)arg;
	test_mark('c');
	CHECK_EQ(wire_channel_close(&ch), 0);
}

TEST(close_wakes_blocked_receivers_with_epipe)
{
	static char a = 'a', b = 'b';

	for (unsigned size = 0; size <= 2; size += 2) {
		setup(size);
		spawn(0, "r1", blocked_receiver, &a);
		spawn(1, "r2", blocked_receiver, &b);
		spawn(2, "closer", closer, NULL);
		wire_thread_run();
		CHECK_STR_EQ(test_trace, "abcEE");
		CHECK_EQ(wire_thread_suspended(), 0);
	}
}

static void closed_sender(void *arg)
{
	(void)arg;
	wire_channel_init_buffered(&ch, slots, 2);
	wire_channel_close(&ch);
	wire_channel_send(&ch, V(1));
}

static void closed_rendezvous_sender(void *arg)
{
	static wire_thread_t t;

	(void)arg;
	wire_thread_init(&t);
	wire_channel_init(&ch);
	wire_channel_close(&ch);
	wire_channel_send(&ch, V(1));
}

TEST(send_on_closed_channel_aborts)
{
	EXPECT_ABORT(closed_sender, "wire_channel_send: the channel is closed");
	EXPECT_ABORT(closed_rendezvous_sender, "wire_channel_send: the channel is closed");
}

TEST(try_send_and_nonblock_on_closed)
{
	void *m;

	setup(2);
	CHECK_EQ(wire_channel_try_send(&ch, V(7)), 0);
	CHECK_EQ(wire_channel_close(&ch), 0);
	errno = 0;
	CHECK_EQ(wire_channel_try_send(&ch, V(8)), -1);
	CHECK_EQ(errno, EPIPE);
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0); /* drained first */
	CHECK_EQ(U(m), 7);
	errno = 0;
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), -1);
	CHECK_EQ(errno, EPIPE);
}

static void try_sender(void *arg)
{
	(void)arg;
	errno = 0;
	CHECK_EQ(wire_channel_try_send(&ch, V(1)), -1); /* nobody receives */
	CHECK_EQ(errno, EAGAIN);
	wire_yield(); /* the receiver blocks */
	CHECK_EQ(wire_channel_try_send(&ch, V(2)), 0);
	test_mark('s'); /* after the receiver ran */
}

static void one_receiver(void *arg)
{
	void *m;

	(void)arg;
	CHECK_EQ(wire_channel_recv_block(&ch, &m), 0);
	test_mark('0' + (char)U(m));
}

TEST(try_send_rendezvous_needs_a_blocked_receiver)
{
	setup(0);
	spawn(0, "sender", try_sender, NULL);
	spawn(1, "receiver", one_receiver, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "2s");
}

/* recv_wait on a closed channel fires; the receive then says EPIPE. */
static void wait_receiver(void *arg)
{
	wire_channel_receiver_t rec;
	wire_wait_t w;
	wire_timeout_t t;
	void *m;

	(void)arg;
	wire_wait_init(&w);
	wire_timeout_init(&t);
	wire_timeout_reset(&t, 10000);
	wire_channel_recv_wait(&ch, &rec, &w);
	CHECK_EQ(wire_timeout_wait(&w, &t), 1);
	wire_timeout_stop(&t);
	errno = 0;
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), -1);
	CHECK_EQ(errno, EPIPE);
	test_mark('w');
}

TEST(close_notifies_armed_receivers)
{
	setup(2);
	spawn(0, "waiter", wait_receiver, NULL);
	spawn(1, "closer", closer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "cw");
}

/* ------------------------------------------------------------------ */
/* Seeded fuzz: a reference model beside the channel.                  */

#define FZ_MSGS	   4096
#define FZ_WIRES   7
#define FZ_SENDERS 3

static uint64_t fz_rng;

static unsigned fz_rand(unsigned n)
{
	fz_rng ^= fz_rng << 13;
	fz_rng ^= fz_rng >> 7;
	fz_rng ^= fz_rng << 17;
	return (unsigned)(fz_rng % n);
}

/* Per message: who sent it, its rank in that sender's sequence, events. */
static struct fz_msg {
	int sender;
	unsigned seq;
	unsigned long start, end; /* ticks of the send call and its return */
	unsigned long recv;	  /* tick of the receive that returned it, 0 none */
	int receiver;		  /* the wire whose receive returned it */
	int returned;		  /* the send returned */
} fz_msg[FZ_MSGS + 1];
static unsigned fz_next = 1; /* next message id */
static unsigned long fz_tick = 1;
static unsigned fz_recv_order[FZ_MSGS + 1], fz_nrecv;
static int fz_closed, fz_wire_cancelled[FZ_WIRES];
static unsigned fz_size;
static wire_channel_t fz_other; /* a second channel for select cases */
static void *fz_other_slots[2];

static void fz_received(void *m, int wire)
{
	unsigned id = U(m);

	CHECK(id >= 1 && id < fz_next);
	CHECK_EQ(fz_msg[id].recv, 0); /* never twice */
	fz_msg[id].recv = fz_tick++;
	fz_msg[id].receiver = wire;
	fz_recv_order[fz_nrecv++] = id;
}

static void fz_sender(void *arg)
{
	int me = (int)(uintptr_t)arg;
	unsigned seq = 0;

	for (;;) {
		unsigned id;

		if (fz_closed || fz_next > FZ_MSGS)
			return;
		id = fz_next++;
		fz_msg[id].sender = me;
		fz_msg[id].seq = seq++;
		fz_msg[id].start = fz_tick++;
		switch (fz_rand(4)) {
		case 0:
			while (wire_channel_try_send(&ch, V(id)) != 0) {
				CHECK_EQ(errno, EAGAIN);
				wire_yield();
				if (fz_closed) { /* a send may not start after the close */
					fz_msg[id].start = 0;
					return;
				}
				fz_msg[id].start = fz_tick++; /* the attempt that enters */
			}
			break;
		case 1: {
			wire_select_case_t c[1] = {
			    {.op = WIRE_SELECT_SEND, .chan = &ch, .msg = V(id)}};
			CHECK_EQ(wire_select(c, 1, -1), 0);
			break;
		}
		default:
			wire_channel_send(&ch, V(id));
			break;
		}
		fz_msg[id].end = fz_tick++;
		fz_msg[id].returned = 1;
		if (fz_rand(3) == 0)
			wire_yield();
	}
}

static void fz_receiver(void *arg)
{
	int me = (int)(uintptr_t)arg;
	void *m;

	for (;;) {
		int r;

		switch (fz_rand(5)) {
		case 0:
			r = wire_channel_recv_nonblock(&ch, &m);
			if (r != 0 && errno == EAGAIN) {
				wire_yield();
				continue;
			}
			break;
		case 1: {
			wire_channel_receiver_t rec;
			wire_wait_t w;
			wire_timeout_t t;

			wire_wait_init(&w);
			wire_timeout_init(&t);
			wire_timeout_reset(&t, 1 + fz_rand(2));
			wire_channel_recv_wait(&ch, &rec, &w);
			if (wire_timeout_wait(&w, &t) == 2) {
				wire_channel_recv_unwait(&ch, &rec);
				continue;
			}
			wire_timeout_stop(&t);
			r = wire_channel_recv_nonblock(&ch, &m);
			if (r != 0 && errno == EAGAIN) {
				wire_channel_recv_unwait(&ch, &rec);
				continue;
			}
			break;
		}
		case 2: {
			wire_select_case_t c[2] = {{.op = WIRE_SELECT_RECV, .chan = &ch},
						   {.op = WIRE_SELECT_RECV, .chan = &fz_other}};
			int k = wire_select(c, 2, TEST_MS(2));

			if (k < 0) {
				CHECK_EQ(errno, ETIMEDOUT);
				continue;
			}
			CHECK_EQ(k, 0); /* nobody sends on the other */
			r = c[0].err ? -1 : 0;
			if (r)
				errno = c[0].err;
			m = c[0].msg;
			break;
		}
		default:
			r = wire_channel_recv_block(&ch, &m);
			break;
		}
		if (r != 0) {
			CHECK_EQ(errno, EPIPE);
			CHECK(fz_closed);
			return;
		}
		fz_received(m, me);
		if (fz_rand(3) == 0)
			wire_yield();
	}
}

/*
 * What the channel holds - the ring, then the messages of blocked senders
 * - entered it in the order their sends started.
 */
static void fz_check_order(void)
{
	unsigned long last = 0;
	wire_list_t *n;

	for (unsigned i = 0; i < ch.len; i++) {
		unsigned id = U(ch.slots[(ch.head + i) % ch.size]);
		CHECK(fz_msg[id].start > last);
		last = fz_msg[id].start;
	}
	for (n = ch.senders.next; n != &ch.senders; n = n->next) {
		unsigned id = U(((wire_handoff_t *)(void *)n)->msg); /* link is first */
		CHECK(fz_msg[id].start > last);
		last = fz_msg[id].start;
	}
	/* A buffered channel queues blocked receivers only while it is
	 * empty, and blocked senders only while it is full. */
	if (ch.slots) {
		for (n = ch.receivers.next; n != &ch.receivers; n = n->next)
			if (((wire_handoff_t *)(void *)n)->wire)
				CHECK_EQ(ch.len, 0);
		if (ch.senders.next != &ch.senders)
			CHECK_EQ(ch.len, ch.size);
	}
}

/* Closes the channel, and cancels wires, at random moments. */
static void fz_chaos(void *arg)
{
	(void)arg;
	while (!fz_closed) {
		unsigned r = fz_rand(100);

		wire_yield();
		fz_check_order();
		if (r < 2) {
			unsigned v = fz_rand(FZ_WIRES);
			if (wires[v].state != WIRE_DONE && !fz_wire_cancelled[v]) {
				fz_wire_cancelled[v] = 1;
				wire_cancel(&wires[v]);
			}
		} else if (r < 3 || fz_next > FZ_MSGS) {
			fz_closed = 1;
			CHECK_EQ(wire_channel_close(&ch), 0);
		}
	}
}

static void fz_round(uint64_t seed)
{
	void *m;

	fz_rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	memset(fz_msg, 0, sizeof(fz_msg));
	memset(fz_wire_cancelled, 0, sizeof(fz_wire_cancelled));
	fz_next = 1;
	fz_tick = 1;
	fz_nrecv = 0;
	fz_closed = 0;
	fz_size = fz_rand(5); /* 0: rendezvous */
	setup(fz_size);
	CHECK_EQ(wire_channel_init_buffered(&fz_other, fz_other_slots, 2), 0);
	for (int i = 0; i < FZ_WIRES; i++)
		spawn(i, i < FZ_SENDERS ? "sender" : "receiver",
		      i < FZ_SENDERS ? fz_sender : fz_receiver, V(i));
	spawn(FZ_WIRES, "chaos", fz_chaos, NULL);
	wire_thread_run();
	/* Receivers may all have been cancelled: drain what is left. */
	while (wire_channel_recv_nonblock(&ch, &m) == 0) {
		fz_received(m, -1);
		wire_thread_run();
	}
	CHECK_EQ(errno, EPIPE);
	CHECK_EQ(wire_thread_suspended(), 0);
	for (int i = 0; i <= FZ_WIRES; i++)
		CHECK_EQ(wires[i].state, WIRE_DONE);

	for (unsigned id = 1; id < fz_next; id++) {
		struct fz_msg *x = &fz_msg[id];

		if (!x->start)
			continue; /* never sent (closed first) */
		/* A send that returned was received; one that was not received
		 * never returned: its sender was cancelled while blocked. */
		if (x->returned)
			CHECK(x->recv != 0);
		if (!x->recv)
			CHECK(fz_wire_cancelled[x->sender]);
	}
	/* FIFO as a receiver sees it: a sender's messages arrive in order.
	 * (Across receivers the order they record is not the order they took
	 * messages: a blocked receiver handed one records it when it runs.
	 * fz_check_order() checks the channel's own order.) */
	for (unsigned i = 0; i < fz_nrecv; i++)
		for (unsigned j = i + 1; j < fz_nrecv; j++) {
			struct fz_msg *x = &fz_msg[fz_recv_order[i]],
				      *y = &fz_msg[fz_recv_order[j]];

			if (x->sender == y->sender && x->receiver == y->receiver && x->seq > y->seq)
				test_fail(
				    __FILE__, __LINE__,
				    "seed %llu (ring of %u): receiver %d got %u after %u from "
				    "sender %d",
				    (unsigned long long)seed, fz_size, x->receiver,
				    fz_recv_order[j], fz_recv_order[i], x->sender);
		}
}

TEST(fuzz_senders_receivers_closes_cancels)
{
	const char *s = getenv("WIRE_CHANNEL_FUZZ_SEED");
	const char *r = getenv("WIRE_CHANNEL_FUZZ_ROUNDS");
	const char *secs = getenv("WIRE_CHANNEL_FUZZ_SECONDS");
	uint64_t seed = s ? strtoull(s, NULL, 0) : 1;
	unsigned rounds = r ? (unsigned)atoi(r) : 40;
	int64_t until = secs ? test_now_ms() + atoll(secs) * 1000 : 0;

	if (test_under_valgrind() || test_under_emulator())
		rounds = rounds > 8 ? 8 : rounds;
	for (unsigned i = 0; i < rounds || test_now_ms() < until; i++) {
		uint64_t round_seed = until ? (uint64_t)wire_now_ns() : seed + i;

		fprintf(stderr,
			"fuzz round: WIRE_CHANNEL_FUZZ_SEED=%llu WIRE_CHANNEL_FUZZ_ROUNDS=1\n",
			(unsigned long long)round_seed);
		fz_round(round_seed);
	}
}
