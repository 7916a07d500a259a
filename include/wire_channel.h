/*
 * wire_channel.h - rendezvous channels of `void *` between wires.
 *
 * A channel has no buffer, and "the sender will block until the data is
 * received and processed by the receiver": wire_channel_send()
 * returns only after a receiver has taken the message and has run until
 * its next yield or block, whichever way it received (a receiver blocked
 * before the send, wire_channel_recv_block(), wire_channel_recv_nonblock()
 * or wire_channel_recv_wait()). So a message may point into the sender's
 * stack. A send is both a hand-over and a synchronization point. Blocked
 * senders are served in FIFO order, and so are blocked receivers.
 * Everything is caller memory: the channel itself, the receiver records
 * of wire_channel_recv_wait(); the record of a blocked send or receive is
 * part of the blocked wire. Nothing allocates.
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
} wire_channel_t;

/*
 * A receiver record for wire_channel_recv_wait(), in caller memory. It is
 * the hand-off record each wire embeds for its blocking channel calls
 * (wire_handoff_t in wire.h). Treat the fields as private.
 */
typedef wire_handoff_t wire_channel_receiver_t;

/* Make @c an empty channel. The caller owns @c. */
void wire_channel_init(wire_channel_t *c);

/*
 * Send @msg on @c. Returns once a receiver has taken it and run until its
 * next yield or block: the caller blocks until then. If a receiver is
 * blocked in wire_channel_recv_block(), the message goes straight into its
 * record and the caller goes behind it in the run queue. Otherwise the
 * caller blocks (an armed wire_channel_recv_wait() record is notified
 * first) until a receiver takes the message; senders are served in FIFO
 * order. wire_resume() of the blocked wire from elsewhere does not wake
 * it. Outside a wire (a timer callback, code before wire_thread_run()) a
 * send to a blocked receiver hands the message over and returns at once,
 * since nothing can wait there: the message must then outlive the call.
 * Aborts if it has to block outside a wire.
 */
void wire_channel_send(wire_channel_t *c, void *msg);

/*
 * Receive a message from @c into *@msg, blocking the caller until a sender
 * comes if none is waiting. The oldest waiting sender is served and made
 * ready to run. Blocked receivers are served in FIFO order. Returns 0.
 * Aborts if it has to block outside a wire.
 */
int wire_channel_recv_block(wire_channel_t *c, void **msg);

/*
 * Take the message of the oldest waiting sender of @c into *@msg and
 * return 0; that sender's send returns when the caller next yields or
 * blocks (or, outside a wire, when the scheduler next runs wires).
 * With no sender waiting, returns -1 with errno EAGAIN and changes
 * nothing. Never blocks; may be called outside a wire (from a timer
 * callback, or before wire_thread_run()).
 */
int wire_channel_recv_nonblock(wire_channel_t *c, void **msg);

/*
 * Arm @receiver (caller memory, valid until it fires or is withdrawn) so
 * that the arrival of a sender on @c triggers @wait: the way to combine a
 * receive with other sources (a timeout, an fd) in a wire_wait_list_t.
 * If a sender is already waiting, @wait is triggered at once. Armed
 * receivers are notified in FIFO order with the blocked receivers; each
 * record fires at most once and the channel forgets it when it fires.
 *
 * Once @wait has fired, take the message with wire_channel_recv_nonblock().
 * That call may fail with EAGAIN if a blocked receiver took the sender in
 * the meantime (a spurious wakeup: arm again). If the message is no longer
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

#ifdef __cplusplus
}
#endif
#endif
