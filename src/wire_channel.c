/*
 * wire_channel - rendezvous channels. See wire_channel.h.
 *
 * The channel holds two FIFO queues of hand-off records: senders and
 * receivers. A blocked wire queues the record embedded in its wire_t
 * (recv_wait queues caller memory), not one on its stack: the blocking
 * call then has nothing left to do once it has switched away, so the
 * switch is its last step and the wire resumes straight in its caller,
 * without a return the CPU would mispredict (that return was about half
 * the cost of a ping-pong). Only the other side of the hand-off wakes
 * such a wire (wire__handoff_park in wire_internal.h). At most one of them holds a record that can
 * be served at once: a sender that finds a receiver queued hands its message over (a blocked
 * receiver) or notifies it (an armed recv_wait record), and a receiver that finds a sender queued
 * takes its message. A notified record leaves the queue; the sender behind it stays queued until
 * somebody takes its message. Meanwhile a blocked receiver may queue too: a sender that arrives
 * then hands that receiver the oldest queued sender and queues itself, so senders are taken in the
 * order they came. If the notified receiver gives up (recv_unwait), the sender is offered to the
 * next receiver, so no wakeup is lost; a late receiver may find the message gone (EAGAIN), which is
 * a spurious wakeup.
 *
 * The records' layout is wire_handoff_t (wire.h); wire_channel_receiver_t
 * is the same type.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire_channel.h"
#include "list.h"
#include "wire_internal.h"

enum { RECV_IDLE, RECV_QUEUED, RECV_NOTIFIED, RECV_DONE };

static inline void unlink_node(wire_list_t *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

void wire_channel_init(wire_channel_t *c)
{
	list_init(&c->senders);
	list_init(&c->receivers);
}

/* Take the message of the queued sender @n. */
static inline void *take_sender(wire_list_t *n)
{
	wire_handoff_t *s = wire__handoff_of(n);
	void *msg = s->msg;

	unlink_node(n);
	wire__handoff_release(s);
	return msg;
}

/* Hand @msg to the blocked receiver @r, which has left the queue. */
static inline void give(wire_handoff_t *r, void *msg)
{
	*r->dst = msg;
	r->state = RECV_DONE;
	wire__handoff_release(r);
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
	wire__handoff_release(s);
}

/* Notify the armed record @r, which has left the receiver queue. */
static inline void notify(wire_channel_receiver_t *r)
{
	r->state = RECV_NOTIFIED;
	list_init(&r->link);
	wire_wait_resume(r->wait);
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
	wire__handoff_park(cur, &c->senders);
}

void wire_channel_send(wire_channel_t *c, void *msg)
{
	wire_list_t *n = c->receivers.next;

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
			 */
			unlink_node(n);
			give(r, msg);
			if (cur)
				wire__yield(cur);
			return;
		}
	}
	send_blocking(c, msg);
}

/* No sender waits: queue the caller as a receiver and sleep until one hands a message over. */
static int recv_blocking(wire_channel_t *c, void **msg)
{
	wire_t *cur = wire__blocking_current("wire_channel_recv_block");
	wire_handoff_t *r = &cur->handoff;

	r->wait = NULL;
	r->dst = msg;
	r->state = RECV_QUEUED;
	return wire__handoff_park(cur, &c->receivers);
}

int wire_channel_recv_block(wire_channel_t *c, void **msg)
{
	wire_list_t *n = c->senders.next;

	if (__builtin_expect(n != &c->senders, 1)) {
		*msg = take_sender(n);
		return 0;
	}
	return recv_blocking(c, msg);
}

int wire_channel_recv_nonblock(wire_channel_t *c, void **msg)
{
	wire_list_t *n = c->senders.next;

	if (n == &c->senders) {
		errno = EAGAIN;
		return -1;
	}
	*msg = take_sender(n);
	return 0;
}

/* The wire waiting on a list with @w chained was cancelled. */
static void receiver_withdraw(wire_wait_t *w)
{
	wire_channel_receiver_t *r = w->source;

	wire_channel_recv_unwait(r->obj, r);
}

void wire_channel_recv_wait(wire_channel_t *c, wire_channel_receiver_t *r, wire_wait_t *wait)
{
	r->wire = NULL;
	r->wait = wait;
	r->obj = c;
	wait->withdraw = receiver_withdraw;
	wait->source = r;
	if (!list_empty(&c->senders)) {
		notify(r);
		return;
	}
	r->state = RECV_QUEUED;
	list_add_tail(&c->receivers, &r->link);
}

/*
 * A notified receiver gave up: if a sender is still queued, serve the next
 * receiver in its place.
 */
static void pass_on(wire_channel_t *c)
{
	wire_handoff_t *r;

	if (list_empty(&c->senders) || list_empty(&c->receivers))
		return;
	r = wire__handoff_of(c->receivers.next);
	unlink_node(&r->link);
	if (r->wire) {
		give_oldest(c, r);
	} else {
		notify(r);
	}
}

void wire_channel_recv_unwait(wire_channel_t *c, wire_channel_receiver_t *r)
{
	if (r->state == RECV_QUEUED) {
		list_del(&r->link);
		r->state = RECV_IDLE;
	} else if (r->state == RECV_NOTIFIED) {
		r->state = RECV_IDLE;
		pass_on(c);
	}
}
