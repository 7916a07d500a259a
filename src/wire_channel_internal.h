/*
 * Channel internals shared with wire_select (internal).
 */
#ifndef WIRE_SRC_WIRE_CHANNEL_INTERNAL_H
#define WIRE_SRC_WIRE_CHANNEL_INTERNAL_H

#include "wire_channel.h"
#include "sys.h"

/* States of a receiver record (wire_handoff_t.state). */
enum {
	WIRE__RECV_IDLE,
	WIRE__RECV_QUEUED,
	WIRE__RECV_NOTIFIED,
	WIRE__RECV_DONE,   /* a message was handed over */
	WIRE__RECV_CLOSED, /* woken by the close of a drained channel */
};

/*
 * Receive without blocking: 1 with a message in *@msg, 0 when there is
 * none, -1 when the channel is closed and drained.
 */
WIRE_INTERNAL int wire__channel_recv_now(wire_channel_t *c, void **msg);

/* A receive would not block (a message, or the close). */
WIRE_INTERNAL int wire__channel_recv_ready(const wire_channel_t *c);

/*
 * Send without blocking and without yielding: 1 if @msg was handed to a
 * blocked receiver or buffered, 0 if the send would block. Not on a
 * closed channel.
 */
WIRE_INTERNAL int wire__channel_send_now(wire_channel_t *c, void *msg);

/* Wake every queued receiver of the closed, drained channel @c. */
WIRE_INTERNAL void wire__channel_wake_closed(wire_channel_t *c);

#endif
