/*
 * wire_channel.h - channels of `void *` between the wires of a thread.
 *
 * A channel made by wire_channel_init() has no buffer, and "the sender
 * will block until the data is received and processed by the receiver":
 * wire_channel_send() returns only after a receiver has taken the
 * message and has run until its next yield or block, whichever way it
 * received (a receiver blocked before the send, wire_channel_recv_block(),
 * wire_channel_recv_nonblock(), wire_channel_recv_wait() or
 * wire_select()). So a message may point into the sender's stack. A send
 * is both a hand-over and a synchronization point.
 *
 * A channel made by wire_channel_init_buffered() holds up to N messages
 * in a ring of caller memory: a send blocks only while the ring is full
 * and returns as soon as its message is buffered or handed to a blocked
 * receiver, so the message must stay valid until it is received.
 *
 * Either kind: messages are received in the order they were sent; blocked
 * senders are served in FIFO order, and so are blocked receivers. A
 * channel is closed with wire_channel_close(): receivers first drain
 * what it holds (buffered messages and those of senders blocked before
 * the close), then every receive fails with EPIPE; a send that starts
 * after the close is a bug in the program and aborts.
 *
 * Everything is caller memory: the channel, its ring, the receiver
 * records of wire_channel_recv_wait(); the record of a blocked send or
 * receive is part of the blocked wire. Nothing allocates. A channel is
 * used by the wires of one OS thread.
 */
#ifndef WIRE_CHANNEL_H
#define WIRE_CHANNEL_H

#include "wire.h"
#include "wire_wait.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_channel {
	wire_list_t senders;   /* blocked senders, oldest first */
	wire_list_t receivers; /* blocked receivers and armed receiver records, oldest first */
	void **slots;	       /* the ring of a buffered channel; NULL: none */
	unsigned size;	       /* slots in the ring */
	unsigned head;	       /* the oldest buffered message */
	unsigned len;	       /* messages buffered */
	int closed;
	int other; /* buffered or closed: not the rendezvous fast path */
} wire_channel_t;

/*
 * A receiver record for wire_channel_recv_wait(), in caller memory. It is
 * the hand-off record each wire embeds for its blocking channel calls
 * (wire_handoff_t in wire.h). Treat the fields as private.
 */
typedef wire_handoff_t wire_channel_receiver_t;

/* Make @c an empty rendezvous channel (no buffer). The caller owns @c. */
void wire_channel_init(wire_channel_t *c);

/*
 * Make @c an empty channel that buffers up to @n messages in @slots (an
 * array of @n pointers, caller memory valid as long as the channel).
 * Returns 0, or -1 with errno EINVAL (@c or @slots NULL, @n 0).
 */
int wire_channel_init_buffered(wire_channel_t *c, void **slots, unsigned n);

/*
 * Send @msg on @c.
 *
 * Rendezvous: returns once a receiver has taken it and run until its
 * next yield or block: the caller blocks until then. If a receiver is
 * blocked in a receive, the message goes straight into its record and the
 * caller goes behind it in the run queue. Otherwise the caller blocks (an
 * armed wire_channel_recv_wait() record is notified first) until a
 * receiver takes the message; senders are served in FIFO order.
 *
 * Buffered: hands @msg to the oldest blocked receiver, or buffers it (an
 * armed wire_channel_recv_wait() record first in line is notified), and
 * returns without yielding; with the ring full the caller blocks until a
 * receive makes room for its message, in FIFO order.
 *
 * wire_resume() of the blocked wire from elsewhere does not wake it. If
 * the wire is cancelled while blocked, its message is withdrawn (never
 * received). Outside a wire (a timer callback, code before
 * wire_thread_run()) a send that needs no wait completes and returns
 * at once, since nothing can wait there: the message must then outlive
 * the call. Aborts if @c is closed, or if it has to block outside a wire.
 */
void wire_channel_send(wire_channel_t *c, void *msg);

/*
 * Send @msg on @c if that needs no wait: to a receiver blocked in a
 * receive (on a rendezvous channel the caller then goes behind it in the
 * run queue, as with wire_channel_send()), or into the ring of a buffered
 * channel with room. Returns 0, or -1 with errno EAGAIN (it would block;
 * nothing changed) or EPIPE (@c is closed). May be called outside a wire.
 */
int wire_channel_try_send(wire_channel_t *c, void *msg);

/*
 * Receive a message from @c into *@msg, blocking the caller until one
 * comes if the channel holds none. The oldest message is taken; blocked
 * receivers are served in FIFO order. Returns 0, or -1 with errno EPIPE
 * when @c is closed and holds nothing more (a receiver blocked at the
 * close wakes with it). Aborts if it has to block outside a wire.
 * Cancelled while blocked, the receiver leaves the queue and ends: no
 * message is taken for it.
 */
int wire_channel_recv_block(wire_channel_t *c, void **msg);

/*
 * Take the oldest message of @c into *@msg and return 0: a buffered one,
 * or that of the oldest blocked sender, whose send returns when the
 * caller next yields or blocks (or, outside a wire, when the scheduler
 * next runs wires). Returns -1 with errno EAGAIN when @c holds no message
 * (nothing changed), or EPIPE when it is closed and holds nothing more.
 * Never blocks; may be called outside a wire.
 */
int wire_channel_recv_nonblock(wire_channel_t *c, void **msg);

/*
 * Arm @receiver (caller memory, valid until it fires or is withdrawn) so
 * that the arrival of a message on @c, or its close, triggers @wait: the
 * way to combine a receive with other sources (a timeout, an fd) in a
 * wire_wait_list_t (wire_select() does it in one call). If @c holds a
 * message or is closed, @wait is triggered at once. Armed receivers are
 * notified in FIFO order with the blocked receivers; each record fires at
 * most once and the channel forgets it when it fires.
 *
 * Once @wait has fired, take the message with wire_channel_recv_nonblock().
 * That call may fail with EAGAIN if a blocked receiver took the message
 * in the meantime (a spurious wakeup: arm again), or with EPIPE when @c
 * is closed and drained. If the message is no longer
 * wanted, call wire_channel_recv_unwait() so the sender is offered to the
 * next receiver. Never blocks; does not change @wait otherwise (arm it with
 * wire_wait_init() or wire_wait_reset() first). @receiver must not be
 * armed already.
 */
void wire_channel_recv_wait(wire_channel_t *c, wire_channel_receiver_t *receiver,
			    wire_wait_t *wait);

/*
 * Withdraw @receiver from @c: needed when another source won. If the
 * record is still armed it is removed; if it had fired without its message
 * being taken, a waiting sender is offered to the next receiver. Either
 * way the channel holds no reference to @receiver afterwards and the
 * record may be reused or discarded. Calling it again, or after the
 * message was taken, does no harm (at most a spurious wakeup of another
 * receiver). Never blocks.
 */
void wire_channel_recv_unwait(wire_channel_t *c, wire_channel_receiver_t *receiver);

/*
 * Close @c: no send may start any more. Receivers take what it still
 * holds, then fail with EPIPE; receivers blocked now wake with EPIPE and
 * armed receiver records are notified. Never blocks. Returns 0, or -1
 * with errno EPIPE when @c was closed already.
 */
int wire_channel_close(wire_channel_t *c);

/* The number of messages buffered in @c (0 for a rendezvous channel). */
unsigned wire_channel_len(const wire_channel_t *c);

#ifdef __cplusplus
}
#endif
#endif
