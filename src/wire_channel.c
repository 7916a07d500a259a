/*
 * wire_channel - rendezvous and buffered channels. See wire_channel.h.
 *
 * A channel holds two FIFO queues of hand-off records, senders and
 * receivers, and a buffered channel a ring of messages besides. A blocked
 * wire queues the record embedded in its wire_t (recv_wait queues caller
 * memory, wire_select() one record per case), not one on its stack: the
 * blocking call then has nothing left to do once it has switched away, so
 * the switch is its last step and the wire resumes straight in its
 * caller, without a return the CPU would mispredict (that return was
 * about half the cost of a ping-pong). Only the other side of the
 * hand-off wakes such a wire (wire__handoff_park in wire_internal.h); a
 * close wakes a blocked receiver by redirecting its resumption to return
 * -1 with EPIPE (coro_redirect), so the receive keeps its tail switch.
 *
 * Rendezvous. At most one of the queues holds a record that can be served
 * at once: a sender that finds a receiver queued hands its message over
 * (a blocked receiver) or notifies it (an armed recv_wait record), and a
 * receiver that finds a sender queued takes its message. A notified
 * record leaves the queue; the sender behind it stays queued until
 * somebody takes its message. Meanwhile a blocked receiver may queue too:
 * a sender that arrives then hands that receiver the oldest queued sender
 * and queues itself, so senders are taken in the order they came. If the
 * notified receiver gives up (recv_unwait), the sender is offered to the
 * next receiver, so no wakeup is lost; a late receiver may find the
 * message gone (EAGAIN), which is a spurious wakeup.
 *
 * Buffered. Senders queue only while the ring is full, and blocked
 * receivers only while it is empty. A send hands its message straight to
 * a blocked receiver in line (see send_buffered_now), else buffers it and
 * notifies the first armed record in line. A receive takes the oldest
 * buffered message and moves the oldest blocked sender's message into
 * the freed slot, waking that sender, so messages leave in the order they
 * were sent.
 *
 * Close. Receivers drain what the channel holds (buffered messages, and
 * the messages of senders blocked before the close), then fail with
 * EPIPE; blocked receivers wake at once with EPIPE, armed records are
 * notified. A send that starts after the close is a bug and aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire_channel.h"
#include "wire_channel_internal.h"
#include "list.h"
#include "wire_internal.h"

static inline void unlink_node(wire_list_t *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

void wire_channel_init(wire_channel_t *c)
{
	list_init(&c->senders);
	list_init(&c->receivers);
	c->slots = NULL;
	c->size = 0;
	c->head = 0;
	c->len = 0;
	c->closed = 0;
	c->other = 0;
}

int wire_channel_init_buffered(wire_channel_t *c, void **slots, unsigned n)
{
	if (!c || !slots || n == 0) {
		errno = EINVAL;
		return -1;
	}
	wire_channel_init(c);
	c->slots = slots;
	c->size = n;
	c->other = 1;
	return 0;
}

/* End the wait of the record @h: wake its wire, or fire its select case. */
static inline void release(wire_handoff_t *h)
{
	if (__builtin_expect(h->fire != NULL, 0))
		h->fire(h);
	else
		wire__handoff_release(h);
}

/* ---- the ring of a buffered channel ---- */

static inline void ring_push(wire_channel_t *c, void *msg)
{
	unsigned i = c->head + c->len;

	if (i >= c->size)
		i -= c->size;
	c->slots[i] = msg;
	c->len++;
}

static inline void *ring_pop(wire_channel_t *c)
{
	void *msg = c->slots[c->head];

	if (++c->head == c->size)
		c->head = 0;
	c->len--;
	return msg;
}

/* Take the oldest buffered message; a blocked sender's message takes its slot. */
static void *take_buffered(wire_channel_t *c)
{
	void *msg = ring_pop(c);
	wire_list_t *n = c->senders.next;

	if (n != &c->senders) {
		wire_handoff_t *s = wire__handoff_of(n);
		unlink_node(n);
		ring_push(c, s->msg);
		release(s);
	}
	return msg;
}

/* ---- hand-offs ---- */

/* Take the message of the queued sender @n. */
static inline void *take_sender(wire_list_t *n)
{
	wire_handoff_t *s = wire__handoff_of(n);
	void *msg = s->msg;

	unlink_node(n);
	release(s);
	return msg;
}

/* Hand @msg to the blocked receiver @r, which has left the queue. */
static inline void give(wire_handoff_t *r, void *msg)
{
	*r->dst = msg;
	r->state = WIRE__RECV_DONE;
	release(r);
}

/*
 * Hand the oldest queued sender's message to the blocked receiver @r,
 * which has left the queue. The receiver runs first, as after a direct
 * hand-off.
 */
static inline void give_oldest(wire_channel_t *c, wire_handoff_t *r)
{
	wire_handoff_t *s = wire__handoff_of(c->senders.next);

	unlink_node(&s->link);
	give(r, s->msg);
	release(s);
}

/* Notify the armed record @r, which has left the receiver queue. */
static inline void notify(wire_channel_receiver_t *r)
{
	r->state = WIRE__RECV_NOTIFIED;
	list_init(&r->link);
	wire_wait_resume(r->wait);
}

/* Serve the first receiver in line from what the channel holds, if any. */
static void pass_on(wire_channel_t *c)
{
	wire_handoff_t *r;

	if (list_empty(&c->receivers))
		return;
	if (c->slots ? c->len == 0 : list_empty(&c->senders)) {
		if (!c->closed)
			return;
		/* Closed and drained: the rest learn it. */
		wire__channel_wake_closed(c);
		return;
	}
	r = wire__handoff_of(c->receivers.next);
	unlink_node(&r->link);
	if (!r->wire)
		notify(r);
	else if (c->slots)
		give(r, take_buffered(c));
	else
		give_oldest(c, r);
}

/* ---- send ---- */

static void __attribute__((noreturn, cold)) send_closed(const char *call)
{
	wire__misuse(call, "the channel is closed (a send after wire_channel_close)");
}

/*
 * No blocked receiver to hand @msg to: notify an armed recv_wait record if
 * one is first in line, then queue the caller as a sender and sleep until
 * a receiver takes the message. The record is the wire's own and the
 * switch is the last step (wire_internal.h), so the wire resumes directly
 * in the caller of wire_channel_send() when its message is taken.
 */
static void send_blocking(wire_channel_t *c, void *msg)
{
	wire_t *cur = wire__blocking_current("wire_channel_send");
	wire_list_t *n = c->receivers.next;

	if (n != &c->receivers) {
		wire_handoff_t *r = wire__handoff_of(n);
		unlink_node(n);
		if (r->wire) {
			/*
			 * A blocked receiver while senders are queued: they wait
			 * for a notified record whose owner has not run yet. The
			 * receiver takes the oldest of them; the caller queues
			 * behind the others, so it never overtakes them.
			 */
			give_oldest(c, r);
		} else {
			notify(r);
		}
	}
	cur->handoff.msg = msg;
	wire__handoff_park(cur, &c->senders, "channel send", c);
}

/*
 * Buffered send without blocking: returns 1 if @msg was handed over or
 * buffered, 0 if the ring is full. Blocked receivers are queued only
 * while the ring is empty, and must not stay queued once it holds a
 * message (a later message would reach them first): a blocked receiver
 * anywhere in line takes @msg, and the armed records ahead of it are
 * notified (they will find nothing: a spurious wakeup). Otherwise @msg
 * is buffered and the first armed record in line is notified.
 */
static inline int send_buffered_now(wire_channel_t *c, void *msg)
{
	wire_list_t *n = c->receivers.next;

	if (__builtin_expect(n != &c->receivers, 0)) {
		while (n != &c->receivers && !wire__handoff_of(n)->wire)
			n = n->next;
		if (n != &c->receivers) {
			while (c->receivers.next != n) {
				wire_list_t *a = c->receivers.next;
				unlink_node(a);
				notify(wire__handoff_of(a));
			}
			unlink_node(n);
			give(wire__handoff_of(n), msg);
			return 1;
		}
	}
	if (c->len == c->size)
		return 0;
	ring_push(c, msg);
	if ((n = c->receivers.next) != &c->receivers) {
		unlink_node(n);
		notify(wire__handoff_of(n));
	}
	return 1;
}

/* The direct hand-off of a send to a select's receive case (out of line). */
static void __attribute__((noinline)) give_select(wire_handoff_t *r, void *msg, wire_t *cur)
{
	give(r, msg);
	if (cur)
		wire__yield_after(cur);
}

/* A send on a buffered or closed channel. */
static void __attribute__((noinline)) send_other(wire_channel_t *c, void *msg)
{
	wire_t *cur;

	if (c->closed)
		send_closed("wire_channel_send");
	if (send_buffered_now(c, msg))
		return;
	cur = wire__blocking_current("wire_channel_send");
	cur->handoff.msg = msg;
	wire__handoff_park(cur, &c->senders, "channel send", c);
}

void wire_channel_send(wire_channel_t *c, void *msg)
{
	wire_list_t *n = c->receivers.next;

	if (__builtin_expect(c->other, 0)) {
		send_other(c, msg);
		return;
	}
	if (n != &c->receivers) {
		wire_handoff_t *r = wire__handoff_of(n);
		/* (With senders queued, they go first: see send_blocking.) */
		if (__builtin_expect(r->wire != NULL && list_empty(&c->senders), 1)) {
			wire_t *cur = wire__current();
			/*
			 * Direct hand-off to a blocked receiver. The message may
			 * point into the caller's stack: the caller goes behind
			 * the receiver in the run queue, so it returns only after
			 * the receiver has run until its next yield or block.
			 * Outside a wire nobody can wait: the hand-off is all.
			 * A cancelled caller ends before it hands anything over.
			 */
			if (cur)
				wire__cancel_point(cur);
			unlink_node(n);
			if (__builtin_expect(r->fire != NULL, 0)) {
				give_select(r, msg, cur);
				return;
			}
			*r->dst = msg;
			r->state = WIRE__RECV_DONE;
			wire__handoff_release(r);
			if (cur)
				wire__yield_after(cur);
			return;
		}
	}
	send_blocking(c, msg);
}

int wire__channel_send_now(wire_channel_t *c, void *msg)
{
	wire_list_t *n = c->receivers.next;
	wire_handoff_t *r;

	if (c->slots)
		return send_buffered_now(c, msg);
	if (n == &c->receivers || !list_empty(&c->senders))
		return 0;
	r = wire__handoff_of(n);
	if (!r->wire)
		return 0; /* an armed record: the message would have to wait */
	unlink_node(n);
	give(r, msg);
	return 1;
}

int wire_channel_try_send(wire_channel_t *c, void *msg)
{
	wire_t *cur;

	if (c->closed) {
		errno = EPIPE;
		return -1;
	}
	cur = wire__current();
	if (cur && !c->slots)
		wire__cancel_point(cur); /* before a hand-off it would wait for */
	if (!wire__channel_send_now(c, msg)) {
		errno = EAGAIN;
		return -1;
	}
	/* A rendezvous hand-off: the caller returns after the receiver ran. */
	if (!c->slots && cur)
		wire__yield_after(cur);
	return 0;
}

/* ---- receive ---- */

/* Where a receiver woken by a close resumes: its receive fails with EPIPE. */
static long recv_closed(void)
{
	errno = EPIPE;
	return -1;
}

/* No message: queue the caller as a receiver until one is handed over or the channel closes. */
static int recv_blocking(wire_channel_t *c, void **msg)
{
	wire_t *cur = wire__blocking_current("wire_channel_recv_block");
	wire_handoff_t *r = &cur->handoff;

	r->wait = NULL;
	r->dst = msg;
	r->state = WIRE__RECV_QUEUED;
	return wire__handoff_park(cur, &c->receivers, "channel receive", c);
}

int wire__channel_recv_now(wire_channel_t *c, void **msg)
{
	wire_list_t *n;

	if (c->slots) {
		if (c->len) {
			*msg = take_buffered(c);
			return 1;
		}
	} else if ((n = c->senders.next) != &c->senders) {
		*msg = take_sender(n);
		return 1;
	}
	return c->closed ? -1 : 0;
}

/* A receive that is not a rendezvous with a sender or a wait: buffered or closed. */
static int __attribute__((noinline)) recv_other(wire_channel_t *c, void **msg)
{
	switch (wire__channel_recv_now(c, msg)) {
	case 1:
		return 0;
	case -1:
		errno = EPIPE;
		return -1;
	}
	return recv_blocking(c, msg);
}

/* Take the message of the queued sender @n, a select's case (out of line). */
static int __attribute__((noinline)) take_select_sender(wire_list_t *n, void **msg)
{
	*msg = take_sender(n);
	return 0;
}

int wire_channel_recv_block(wire_channel_t *c, void **msg)
{
	wire_list_t *n = c->senders.next;

	if (__builtin_expect(!c->other, 1)) {
		if (n != &c->senders) {
			wire_handoff_t *s = wire__handoff_of(n);
			/* The ping-pong path: nothing is live across a call. */
			if (__builtin_expect(s->fire != NULL, 0))
				return take_select_sender(n, msg);
			*msg = s->msg;
			unlink_node(n);
			wire__handoff_release(s);
			return 0;
		}
		return recv_blocking(c, msg);
	}
	return recv_other(c, msg);
}

int wire_channel_recv_nonblock(wire_channel_t *c, void **msg)
{
	switch (wire__channel_recv_now(c, msg)) {
	case 1:
		return 0;
	case -1:
		errno = EPIPE;
		return -1;
	}
	errno = EAGAIN;
	return -1;
}

/* The wire waiting on a list with @w chained was cancelled. */
static void receiver_withdraw(wire_wait_t *w)
{
	wire_channel_receiver_t *r = w->source;

	wire_channel_recv_unwait(r->obj, r);
}

int wire__channel_recv_ready(const wire_channel_t *c)
{
	return c->closed || (c->slots ? c->len != 0 : !list_empty(&c->senders));
}

void wire_channel_recv_wait(wire_channel_t *c, wire_channel_receiver_t *r, wire_wait_t *wait)
{
	r->wire = NULL;
	r->fire = NULL;
	r->wait = wait;
	r->obj = c;
	wait->withdraw = receiver_withdraw;
	wait->source = r;
	if (wire__channel_recv_ready(c)) {
		notify(r);
		return;
	}
	r->state = WIRE__RECV_QUEUED;
	list_add_tail(&c->receivers, &r->link);
}

void wire_channel_recv_unwait(wire_channel_t *c, wire_channel_receiver_t *r)
{
	if (r->state == WIRE__RECV_QUEUED) {
		list_del(&r->link);
		r->state = WIRE__RECV_IDLE;
	} else if (r->state == WIRE__RECV_NOTIFIED) {
		r->state = WIRE__RECV_IDLE;
		pass_on(c);
	}
}

/* ---- close ---- */

void wire__channel_wake_closed(wire_channel_t *c)
{
	wire_list_t *n;

	while ((n = list_pop(&c->receivers))) {
		wire_handoff_t *r = wire__handoff_of(n);

		if (!r->wire) {
			notify(r);
		} else if (r->fire) {
			r->state = WIRE__RECV_CLOSED;
			r->fire(r);
		} else {
			/* A blocked receive: it returns -1 with EPIPE. */
			r->state = WIRE__RECV_CLOSED;
			coro_redirect(&r->wire->coro, recv_closed);
			wire__handoff_release(r);
		}
	}
}

int wire_channel_close(wire_channel_t *c)
{
	if (c->closed) {
		errno = EPIPE;
		return -1;
	}
	c->closed = 1;
	c->other = 1;
	/*
	 * Receivers are queued only while there is nothing for them, except
	 * behind a notified record (a rendezvous sender kept for it): serve
	 * those in turn, then tell the rest.
	 */
	while (!list_empty(&c->receivers))
		pass_on(c);
	return 0;
}

unsigned wire_channel_len(const wire_channel_t *c)
{
	return c->len;
}
