/*
 * wire_channel - rendezvous channels. See wire_channel.h.
 *
 * The channel holds two FIFO queues of records that live on the stacks of
 * blocked wires (or in caller memory for recv_wait): senders and
 * receivers. At most one of them holds a record that can be served at
 * once: a sender that finds a receiver queued hands its message over (a
 * blocked receiver) or notifies it (an armed recv_wait record), and a
 * receiver that finds a sender queued takes its message. A notified record
 * leaves the queue; the sender behind it stays queued until somebody takes
 * its message. Meanwhile a blocked receiver may queue too: a sender that
 * arrives then hands that receiver the oldest queued sender and queues
 * itself, so senders are taken in the order they came. If the notified
 * receiver gives up (recv_unwait), the sender is offered to the next
 * receiver, so no wakeup is lost; a late receiver may find the message
 * gone (EAGAIN), which is a spurious wakeup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire_channel.h"
#include "list.h"
#include "wire_internal.h"

enum { RECV_IDLE, RECV_QUEUED, RECV_NOTIFIED, RECV_DONE };

/* A blocked sender; lives on its stack. */
struct sender {
	wire_list_t link;
	wire_t *wire;
	void *msg;
	int taken;
};

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
	struct sender *s = wire_container_of(n, struct sender, link);

	unlink_node(n);
	s->taken = 1;
	wire__resume(s->wire);
	return s->msg;
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
 * a receiver takes the message.
 */
static void __attribute__((noinline)) send_blocking(wire_channel_t *c, void *msg)
{
	wire_list_t *n = c->receivers.next;
	struct sender s;

	s.wire = wire__blocking_current("wire_channel_send");
	if (n != &c->receivers) {
		wire_channel_receiver_t *r = wire_container_of(n, wire_channel_receiver_t, link);
		unlink_node(n);
		if (r->wire) {
			/*
			 * A blocked receiver while senders are queued: they wait
			 * for a notified record whose owner has not run yet. The
			 * receiver takes the oldest of them; the caller queues
			 * behind the others, so it never overtakes them.
			 */
			struct sender *old =
			    wire_container_of(c->senders.next, struct sender, link);
			unlink_node(&old->link);
			r->msg = old->msg;
			r->state = RECV_DONE;
			wire__resume(r->wire);
			old->taken = 1;
			wire__resume(old->wire);
		} else {
			notify(r);
		}
	}
	s.msg = msg;
	s.taken = 0;
	list_add_tail(&c->senders, &s.link);
	do
		wire__suspend(s.wire);
	while (!s.taken);
}

void wire_channel_send(wire_channel_t *c, void *msg)
{
	wire_list_t *n = c->receivers.next;

	if (n != &c->receivers) {
		wire_channel_receiver_t *r = wire_container_of(n, wire_channel_receiver_t, link);
		/* (With senders queued, they go first: see send_blocking.) */
		if (__builtin_expect(r->wire != NULL && list_empty(&c->senders), 1)) {
			/* Direct hand-off to a blocked receiver: no need to block. */
			unlink_node(n);
			r->msg = msg;
			r->state = RECV_DONE;
			wire__resume(r->wire);
			return;
		}
	}
	send_blocking(c, msg);
}

/* No sender waits: queue the caller as a receiver and sleep until one hands a message over. */
static int __attribute__((noinline)) recv_blocking(wire_channel_t *c, void **msg)
{
	wire_channel_receiver_t r;

	r.wire = wire__blocking_current("wire_channel_recv_block");
	r.wait = NULL;
	r.state = RECV_QUEUED;
	list_add_tail(&c->receivers, &r.link);
	do
		wire__suspend(r.wire);
	while (r.state != RECV_DONE);
	*msg = r.msg;
	return 0;
}

int wire_channel_recv_block(wire_channel_t *c, void **msg)
{
	wire_list_t *n = c->senders.next;

	if (__builtin_expect(n != &c->senders, 1)) {
		struct sender *s = wire_container_of(n, struct sender, link);
		unlink_node(n);
		*msg = s->msg;
		s->taken = 1;
		wire__resume(s->wire);
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

void wire_channel_recv_wait(wire_channel_t *c, wire_channel_receiver_t *r, wire_wait_t *wait)
{
	r->wire = NULL;
	r->wait = wait;
	r->msg = NULL;
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
	wire_channel_receiver_t *r;
	wire_list_t *n;

	if (list_empty(&c->senders) || list_empty(&c->receivers))
		return;
	n = c->receivers.next;
	unlink_node(n);
	r = wire_container_of(n, wire_channel_receiver_t, link);
	if (r->wire) {
		/* The receiver runs first, as after a direct hand-off. */
		struct sender *s = wire_container_of(c->senders.next, struct sender, link);
		unlink_node(&s->link);
		r->msg = s->msg;
		r->state = RECV_DONE;
		wire__resume(r->wire);
		s->taken = 1;
		wire__resume(s->wire);
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
