/* Tests of rendezvous channels (wire_channel.h). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "wire_channel.h"
#include "test.h"

#define STACK (64 * 1024)
#define NW    6

static wire_thread_t thread;
static char stacks[NW][STACK];
static wire_t wires[NW];
static wire_channel_t ch;
static void spawn(int i, const char *name, void (*fn)(void *), void *arg)
{
	CHECK_PTR_EQ(wire_init(&wires[i], name, fn, arg, stacks[i], STACK), &wires[i]);
}

static void *val(uintptr_t v)
{
	return (void *)v;
}

static int list_empty_senders(void)
{
	return ch.senders.next == &ch.senders;
}

static int channel_empty(const wire_channel_t *c)
{
	return c->senders.next == &c->senders && c->senders.prev == &c->senders &&
	       c->receivers.next == &c->receivers && c->receivers.prev == &c->receivers;
}

/* ------------------------------------------------------------------ */

#define MSGS 1000

static unsigned got_count;

static void thousand_sender(void *arg)
{
	(void)arg;
	for (uintptr_t i = 1; i <= MSGS; i++) {
		wire_channel_send(&ch, val(i * 7));
		if (i % 5 == 0)
			wire_yield(); /* vary who arrives first */
	}
}

static void thousand_receiver(void *arg)
{
	(void)arg;
	for (uintptr_t i = 1; i <= MSGS; i++) {
		void *m = NULL;
		CHECK_EQ(wire_channel_recv_block(&ch, &m), 0);
		CHECK_PTR_EQ(m, val(i * 7));
		got_count++;
		if (i % 3 == 0)
			wire_yield();
	}
}

TEST(thousand_messages_in_order)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	spawn(0, "sender", thousand_sender, NULL);
	spawn(1, "receiver", thousand_receiver, NULL);
	wire_thread_run();
	CHECK_EQ(got_count, MSGS);
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK(channel_empty(&ch));
}

/* ------------------------------------------------------------------ */

static int sent;

static void blocked_sender(void *arg)
{
	wire_channel_send(&ch, arg);
	sent++;
}

static void taker(void *arg)
{
	void *m = NULL;

	(void)arg;
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
		CHECK_EQ(sent, 0);
		wire_yield();
	}
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
	CHECK_PTR_EQ(m, val(42));
	/* Taken: the sender is ready but runs only when we yield. */
	CHECK_EQ(wires[0].state, WIRE_READY);
	CHECK_EQ(sent, 0);
	wire_yield();
	CHECK_EQ(sent, 1);

	/* Again through recv_block. */
	wire_init(&wires[0], "sender2", blocked_sender, val(43), stacks[0], STACK);
	wire_yield();
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(sent, 1);
	CHECK_EQ(wire_channel_recv_block(&ch, &m), 0); /* does not block */
	CHECK_PTR_EQ(m, val(43));
	CHECK_EQ(sent, 1);
	wire_yield();
	CHECK_EQ(sent, 2);
}

TEST(sender_blocks_until_taken)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	spawn(0, "sender", blocked_sender, val(42));
	spawn(1, "taker", taker, NULL);
	wire_thread_run();
	CHECK_EQ(sent, 2);
	CHECK(channel_empty(&ch));
}

TEST(recv_nonblock_empty_and_outside_a_wire)
{
	wire_channel_t before;
	void *m = val(99);

	wire_thread_init(&thread);
	wire_channel_init(&ch);
	before = ch;
	errno = 0;
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_PTR_EQ(m, val(99)); /* untouched */
	CHECK(memcmp(&before, &ch, sizeof(ch)) == 0);

	/* A sender left blocked when the scheduler returns is served from
	 * outside any wire, then finishes on the next run. */
	spawn(0, "sender", blocked_sender, val(5));
	wire_thread_run();
	CHECK_EQ(wire_thread_suspended(), 1);
	CHECK_EQ(sent, 0);
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
	CHECK_PTR_EQ(m, val(5));
	CHECK_EQ(wire_thread_suspended(), 0);
	errno = 0;
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), -1);
	CHECK_EQ(errno, EAGAIN);
	wire_thread_run();
	CHECK_EQ(sent, 1);
	CHECK(channel_empty(&ch));
}

/* ------------------------------------------------------------------ */

static void fifo_sender(void *arg)
{
	wire_channel_send(&ch, arg);
	test_mark((char)('0' + (uintptr_t)arg));
}

static void fifo_collector(void *arg)
{
	(void)arg;
	wire_yield(); /* every sender is queued by now */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(wires[i].state, WIRE_SUSPENDED);
	for (uintptr_t i = 1; i <= 4; i++) {
		void *m;
		CHECK_EQ(wire_channel_recv_block(&ch, &m), 0);
		CHECK_PTR_EQ(m, val(i));
	}
	test_mark('r');
}

TEST(fifo_among_senders)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	for (uintptr_t i = 0; i < 4; i++)
		spawn((int)i, "sender", fifo_sender, val(i + 1));
	spawn(4, "collector", fifo_collector, NULL);
	wire_thread_run();
	/* Senders resume in the order they were served. */
	CHECK_STR_EQ(test_trace, "r1234");
	CHECK(channel_empty(&ch));
}

static uintptr_t received[4];

static void fifo_receiver(void *arg)
{
	void *m;
	uintptr_t i = (uintptr_t)arg;

	CHECK_EQ(wire_channel_recv_block(&ch, &m), 0);
	received[i] = (uintptr_t)m;
	test_mark((char)('a' + i));
}

static void fifo_distributor(void *arg)
{
	(void)arg;
	for (int i = 0; i < 4; i++)
		CHECK_EQ(wires[i].state, WIRE_SUSPENDED);
	/* Each send hands over to the oldest receiver, which runs before
	 * the send returns. */
	for (uintptr_t i = 1; i <= 4; i++)
		wire_channel_send(&ch, val(i * 10));
	test_mark('s');
}

TEST(fifo_among_receivers)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	for (uintptr_t i = 0; i < 4; i++)
		spawn((int)i, "receiver", fifo_receiver, val(i));
	spawn(4, "distributor", fifo_distributor, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "abcds");
	for (int i = 0; i < 4; i++)
		CHECK_EQ(received[i], (i + 1) * 10);
	CHECK(channel_empty(&ch));
}

/* ------------------------------------------------------------------ */

struct timeout {
	wire_timer_t timer;
	wire_wait_t wait;
};

static void timeout_fire(wire_timer_t *t)
{
	wire_wait_resume(&((struct timeout *)t)->wait);
}

static void timeout_start(struct timeout *to, int64_t ms)
{
	wire_wait_init(&to->wait);
	wire_timer_init(&to->timer, timeout_fire);
	wire_timer_start_at(&to->timer, wire_now_ns() + ms * 1000000);
}

static void *waited_msg;

static void select_receiver(void *arg)
{
	wire_channel_receiver_t rec;
	wire_wait_t wc;
	wire_wait_list_t wl;
	struct timeout to;
	void *m;

	(void)arg;
	wire_wait_init(&wc);
	timeout_start(&to, 10000); /* far away: the sender wins */
	wire_channel_recv_wait(&ch, &rec, &wc);
	wire_wait_list_init(&wl);
	wire_wait_chain(&wl, &to.wait);
	wire_wait_chain(&wl, &wc);
	test_mark('w');
	CHECK_PTR_EQ(wire_list_wait(&wl), &wc);
	test_mark('W');
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED); /* the sender waits for the take */
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
	waited_msg = m;
	CHECK_EQ(wire_timer_stop(&to.timer), 1);
	wire_wait_unchain(&wc);
	wire_wait_unchain(&to.wait);
	wire_channel_recv_unwait(&ch, &rec); /* after the take: harmless */
	CHECK(channel_empty(&ch));

	/* A sender already waiting triggers the wait at once. */
	wire_yield(); /* the sender sends again and blocks */
	wire_wait_reset(&wc);
	wire_channel_recv_wait(&ch, &rec, &wc);
	CHECK(wc.triggered);
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
	CHECK_PTR_EQ(m, val(8));
	test_mark('2');
}

static void select_sender(void *arg)
{
	(void)arg;
	test_mark('s');
	wire_channel_send(&ch, val(7));
	test_mark('S');
	wire_channel_send(&ch, val(8));
	test_mark('T');
}

TEST(recv_wait_fired_by_sender)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	spawn(0, "receiver", select_receiver, NULL);
	spawn(1, "sender", select_sender, NULL);
	wire_thread_run();
	CHECK_PTR_EQ(waited_msg, val(7));
	CHECK_STR_EQ(test_trace, "wsWS2T");
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK(channel_empty(&ch));
}

static void *late_msg;

static void abandoning_receiver(void *arg)
{
	wire_channel_receiver_t rec;
	wire_wait_t wc;
	struct timeout to;

	(void)arg;
	wire_wait_init(&wc);
	timeout_start(&to, 2);
	wire_channel_recv_wait(&ch, &rec, &wc);
	CHECK(!channel_empty(&ch));
	CHECK_EQ(wire_wait_two(&wc, &to.wait), 2); /* the timeout wins */
	CHECK(!wc.triggered);
	wire_channel_recv_unwait(&ch, &rec);
	CHECK(channel_empty(&ch));
	memset(&rec, 0xa5, sizeof(rec));     /* any later use of it would crash */
	wire_channel_recv_unwait(&ch, &rec); /* neither queued nor notified: no-op */
	CHECK(channel_empty(&ch));
	test_mark('a');
}

static void late_receiver(void *arg)
{
	(void)arg;
	test_mark('l');
	CHECK_EQ(wire_channel_recv_block(&ch, &late_msg), 0);
	test_mark('L');
}

static void late_sender(void *arg)
{
	(void)arg;
	wire_init(&wires[1], "late receiver", late_receiver, NULL, stacks[1], STACK);
	wire_yield();
	test_mark('s');
	wire_channel_send(&ch, val(11));
	test_mark('S');
}

static void abandon_starter(void *arg)
{
	(void)arg;
	while (wires[0].state != WIRE_DONE)
		wire_sleep_ns(1000000);
	wire_init(&wires[2], "late sender", late_sender, NULL, stacks[2], STACK);
}

TEST(recv_wait_abandoned_leaves_no_trace)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	spawn(0, "abandoning", abandoning_receiver, NULL);
	spawn(3, "starter", abandon_starter, NULL);
	wire_thread_run();
	/* The late receiver runs before the send returns. */
	CHECK_STR_EQ(test_trace, "alsLS");
	CHECK_PTR_EQ(late_msg, val(11));
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK(channel_empty(&ch));
}

/*
 * The notified receiver gives up after a sender queued behind its
 * notification: the sender must go to the receiver blocked behind it.
 */
static wire_channel_receiver_t pass_rec;
static wire_wait_t pass_wait;
static void *pass_msg;

static void pass_blocked(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_channel_recv_block(&ch, &pass_msg), 0);
	test_mark('B');
}

static void pass_sender(void *arg)
{
	(void)arg;
	wire_channel_send(&ch, val(21));
	test_mark('S');
}

static void pass_armer(void *arg)
{
	(void)arg;
	wire_wait_init(&pass_wait);
	wire_channel_recv_wait(&ch, &pass_rec, &pass_wait);
	wire_init(&wires[1], "blocked", pass_blocked, NULL, stacks[1], STACK);
	wire_init(&wires[2], "sender", pass_sender, NULL, stacks[2], STACK);
	wire_yield(); /* the blocked receiver queues; the sender notifies us */
	CHECK(pass_wait.triggered);
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	CHECK_EQ(wires[2].state, WIRE_SUSPENDED);
	test_mark('u');
	wire_channel_recv_unwait(&ch, &pass_rec);
	CHECK_EQ(wires[1].state, WIRE_READY);
	CHECK_EQ(wires[2].state, WIRE_READY);
	CHECK(channel_empty(&ch));
}

TEST(recv_unwait_after_notify_passes_sender_on)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	spawn(0, "armer", pass_armer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "uBS");
	CHECK_PTR_EQ(pass_msg, val(21));
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* ------------------------------------------------------------------ */

static int stray_done[2];

static void stray_sender(void *arg)
{
	(void)arg;
	wire_channel_send(&ch, val(1));
	stray_done[0] = 1;
}

static void stray_receiver(void *arg)
{
	wire_channel_t *c2 = arg;
	void *m;

	CHECK_EQ(wire_channel_recv_block(c2, &m), 0);
	CHECK_PTR_EQ(m, val(2));
	stray_done[1] = 1;
}

static void stray_resumer(void *arg)
{
	wire_channel_t *c2 = arg;
	void *m;

	for (int i = 0; i < 3; i++) {
		wire_resume(&wires[0]);
		wire_resume(&wires[1]);
		wire_yield();
		CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
		CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
		CHECK(!stray_done[0] && !stray_done[1]);
	}
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
	CHECK_PTR_EQ(m, val(1));
	wire_channel_send(c2, val(2));
	wire_yield();
	CHECK(stray_done[0] && stray_done[1]);
}

TEST(stray_resumes_absorbed)
{
	static wire_channel_t c2;

	wire_thread_init(&thread);
	wire_channel_init(&ch);
	wire_channel_init(&c2);
	spawn(0, "sender", stray_sender, NULL);
	spawn(1, "receiver", stray_receiver, &c2);
	spawn(2, "resumer", stray_resumer, &c2);
	wire_thread_run();
	CHECK(stray_done[0] && stray_done[1]);
	CHECK(channel_empty(&ch) && channel_empty(&c2));
}

/* ------------------------------------------------------------------ */

static void misuse_send(void *arg)
{
	(void)arg;
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	wire_channel_send(&ch, val(1));
}

static void misuse_recv(void *arg)
{
	void *m;

	(void)arg;
	wire_channel_init(&ch); /* no scheduler at all */
	wire_channel_recv_block(&ch, &m);
}

TEST(blocking_outside_a_wire_aborts)
{
	EXPECT_ABORT(misuse_send, "libwire: wire_channel_send: called outside a wire");
	EXPECT_ABORT(misuse_recv, "libwire: wire_channel_recv_block: called outside a wire");
}

/* ------------------------------------------------------------------ */

/*
 * Receivers in line: an armed recv_wait record, then a blocked receiver.
 * Sender A notifies the record and queues; sender B comes next. B must not
 * overtake A: the blocked receiver gets A, and B waits for the record's
 * owner (senders are served in the order they called).
 */
static wire_channel_receiver_t ov_rec;
static wire_wait_t ov_wait;
static void *ov_blocked_msg;

static void ov_blocked(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_channel_recv_block(&ch, &ov_blocked_msg), 0);
	test_mark('R');
}

static void ov_sender(void *arg)
{
	wire_channel_send(&ch, arg);
	test_mark((char)(uintptr_t)arg);
}

static void ov_owner(void *arg)
{
	void *m = NULL;

	(void)arg;
	wire_wait_single(&ov_wait);
	CHECK_EQ(wires[1].state, WIRE_READY);	  /* A was taken, */
	CHECK_EQ(wires[2].state, WIRE_SUSPENDED); /* B still waits */
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
	CHECK_PTR_EQ(m, val('b'));
	test_mark('W');
}

TEST(later_sender_never_overtakes_a_notified_one)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	wire_wait_init(&ov_wait);
	wire_channel_recv_wait(&ch, &ov_rec, &ov_wait);
	spawn(0, "blocked", ov_blocked, NULL);
	spawn(1, "A", ov_sender, val('a'));
	spawn(2, "B", ov_sender, val('b'));
	spawn(3, "owner", ov_owner, NULL);
	wire_thread_run();
	CHECK_PTR_EQ(ov_blocked_msg, val('a'));
	CHECK_STR_EQ(test_trace, "WRab");
	CHECK(channel_empty(&ch));
	CHECK_EQ(wire_thread_suspended(), 0);
}

/*
 * The seed's hand-over: "the sender will block until the data is received
 * and processed by the receiver". A sender passes a pointer into its own
 * stack frame; the frame dies (and is overwritten) as soon as the send
 * returns. Every receive path must read the value before that: the send
 * returns only once the receiver has run until its next yield or block.
 */
enum { VIA_BLOCKED_RECEIVER, VIA_RECV_BLOCK, VIA_RECV_NONBLOCK, VIA_RECV_WAIT };

static int handover_path, handover_seen;

/* Sends &x, then lets the frame die and scribbles over where it was. */
static void __attribute__((noinline)) send_from_frame(int v)
{
	volatile int x = v;

	wire_channel_send(&ch, (void *)&x);
	x = -1;
}

static void __attribute__((noinline)) scribble(void)
{
	volatile char junk[512];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)0xa5;
}

static void handover_sender(void *arg)
{
	(void)arg;
	if (handover_path == VIA_BLOCKED_RECEIVER)
		CHECK_EQ(wires[1].state, WIRE_SUSPENDED); /* the receiver is parked */
	send_from_frame(4242);
	scribble();
	test_mark('S');
}

static void handover_receiver(void *arg)
{
	wire_channel_receiver_t rec;
	wire_wait_t w;
	void *m = NULL;

	(void)arg;
	switch (handover_path) {
	case VIA_BLOCKED_RECEIVER:
	case VIA_RECV_BLOCK:
		CHECK_EQ(wire_channel_recv_block(&ch, &m), 0);
		break;
	case VIA_RECV_NONBLOCK:
		while (wire_channel_recv_nonblock(&ch, &m) != 0)
			wire_yield();
		break;
	case VIA_RECV_WAIT:
		wire_wait_init(&w);
		wire_channel_recv_wait(&ch, &rec, &w);
		wire_wait_single(&w);
		CHECK_EQ(wire_channel_recv_nonblock(&ch, &m), 0);
		break;
	}
	/* Processing: the sender's frame must still hold the value. */
	handover_seen = *(volatile int *)m;
	test_mark('R');
	wire_yield();
	test_mark('r');
}

static void run_handover(int path)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	test_trace_reset();
	handover_path = path;
	handover_seen = 0;
	if (path == VIA_BLOCKED_RECEIVER || path == VIA_RECV_WAIT) {
		spawn(1, "receiver", handover_receiver, NULL); /* parks first */
		spawn(0, "sender", handover_sender, NULL);
	} else {
		spawn(0, "sender", handover_sender, NULL); /* queues first */
		spawn(1, "receiver", handover_receiver, NULL);
	}
	wire_thread_run();
	CHECK_EQ(handover_seen, 4242);
	/* The send returned after the receiver's processing, at its yield. */
	CHECK_STR_EQ(test_trace, "RSr");
	CHECK(channel_empty(&ch));
	CHECK_EQ(wire_thread_suspended(), 0);
}

TEST(send_waits_for_a_blocked_receiver_to_run)
{
	run_handover(VIA_BLOCKED_RECEIVER);
}

TEST(send_waits_for_recv_block_to_run)
{
	run_handover(VIA_RECV_BLOCK);
}

TEST(send_waits_for_recv_nonblock_to_run)
{
	run_handover(VIA_RECV_NONBLOCK);
}

TEST(send_waits_for_recv_wait_to_run)
{
	run_handover(VIA_RECV_WAIT);
}

/*
 * A receive chained in a wait list while a sender is already waiting
 * returns at once, whether recv_wait comes before or after the chain
 * (chaining keeps a trigger that no wait has returned yet).
 */
static void *chained_got[2];

static void chained_sender(void *arg)
{
	(void)arg;
	wire_channel_send(&ch, val(5));
	wire_channel_send(&ch, val(6));
}

static void chained_receiver(void *arg)
{
	wire_channel_receiver_t rec;
	wire_wait_list_t wl;
	wire_wait_t w, other;

	(void)arg;
	wire_wait_init(&other);
	for (int order = 0; order < 2; order++) {
		CHECK(!list_empty_senders());
		wire_wait_init(&w);
		wire_wait_list_init(&wl);
		if (order == 0)
			wire_channel_recv_wait(&ch, &rec, &w); /* triggers at once */
		wire_wait_chain(&wl, &other);
		wire_wait_chain(&wl, &w);
		if (order == 1)
			wire_channel_recv_wait(&ch, &rec, &w);
		CHECK_PTR_EQ(wire_list_wait(&wl), &w);
		wire_wait_unchain(&w);
		wire_wait_unchain(&other);
		CHECK_EQ(wire_channel_recv_nonblock(&ch, &chained_got[order]), 0);
		wire_yield(); /* the sender queues its second message */
	}
}

TEST(recv_wait_chained_with_a_sender_waiting)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	spawn(0, "sender", chained_sender, NULL);
	spawn(1, "receiver", chained_receiver, NULL);
	wire_thread_run();
	CHECK_PTR_EQ(chained_got[0], val(5));
	CHECK_PTR_EQ(chained_got[1], val(6));
	CHECK(channel_empty(&ch));
	CHECK_EQ(wire_thread_suspended(), 0);
}

/*
 * recv_wait's spurious wakeup: the record is notified, but a blocked
 * receiver takes the sender before the record's owner runs; its
 * recv_nonblock then fails with EAGAIN, and arming again is the answer.
 */
static int spur_errno, spur_ret;
static void *spur_blocked_msg, *spur_owner_msg;
static wire_channel_receiver_t spur_rec;
static wire_wait_t spur_wait;

static void spur_owner(void *arg)
{
	(void)arg;
	wire_wait_init(&spur_wait);
	wire_channel_recv_wait(&ch, &spur_rec, &spur_wait);
	wire_wait_single(&spur_wait); /* the sender notifies */
	errno = 0;
	spur_ret = wire_channel_recv_nonblock(&ch, &spur_owner_msg);
	spur_errno = errno;
	wire_channel_recv_unwait(&ch, &spur_rec);
	/* Armed again: the second message is this record's. */
	wire_wait_reset(&spur_wait);
	wire_channel_recv_wait(&ch, &spur_rec, &spur_wait);
	wire_wait_single(&spur_wait);
	CHECK_EQ(wire_channel_recv_nonblock(&ch, &spur_owner_msg), 0);
}

/* Blocks after the owner armed its record, before the owner runs again. */
static void spur_receiver(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_channel_recv_block(&ch, &spur_blocked_msg), 0);
}

static void spur_sender(void *arg)
{
	(void)arg;
	wire_channel_send(&ch, val(1)); /* notifies the record; the receiver takes it */
	wire_channel_send(&ch, val(2));
}

TEST(recv_wait_notified_then_taken_is_eagain)
{
	wire_thread_init(&thread);
	wire_channel_init(&ch);
	spawn(0, "owner", spur_owner, NULL);
	spawn(1, "sender", spur_sender, NULL);
	spawn(2, "receiver", spur_receiver, NULL);
	wire_thread_run();
	CHECK_EQ(spur_ret, -1);
	CHECK_EQ(spur_errno, EAGAIN);
	CHECK_PTR_EQ(spur_blocked_msg, val(1));
	CHECK_PTR_EQ(spur_owner_msg, val(2));
	CHECK(channel_empty(&ch));
	CHECK_EQ(wire_thread_suspended(), 0);
}
