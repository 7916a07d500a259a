/*
 * wire_select.h - wait for the first of several channel operations and
 * fd readiness, and perform exactly one.
 *
 *     wire_select_case_t cases[3] = {
 *             {.op = WIRE_SELECT_RECV, .chan = &requests},
 *             {.op = WIRE_SELECT_SEND, .chan = &results, .msg = next},
 *             {.op = WIRE_SELECT_READ, .fd = &control},
 *     };
 *     switch (wire_select(cases, 3, 1000000000)) {
 *     case 0: handle(cases[0].msg); break;  (or cases[0].err == EPIPE: closed)
 *     case 1: next = NULL; break;             (sent)
 *     case 2: read_control(); break;          (readable)
 *     default: timed out (errno ETIMEDOUT)
 *     }
 *
 * The case records are caller memory, typically an array on the caller's
 * stack; wire_select() keeps its own records in them while it waits and
 * allocates nothing. Set the public fields, leave the rest zero.
 */
#ifndef WIRE_SELECT_H
#define WIRE_SELECT_H

#include <stdint.h>

#include "wire.h"
#include "wire_channel.h"
#include "wire_fd.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wire_select_op {
	WIRE_SELECT_RECV = 1, /* receive from @chan into @msg */
	WIRE_SELECT_SEND,     /* send @msg on @chan */
	WIRE_SELECT_READ,     /* @fd readable (as wire_fd_wait_read()) */
	WIRE_SELECT_WRITE,    /* @fd writable (as wire_fd_wait_write()) */
};

typedef struct wire_select_case {
	int op;		       /* enum wire_select_op */
	wire_channel_t *chan;  /* RECV, SEND */
	void *msg;	       /* SEND: the message; RECV: the message received */
	wire_fd_state_t *fd;   /* READ, WRITE: a state in mode read or write */
	int err;	       /* set for the case performed, see wire_select() */
	wire_handoff_t rec;    /* private: the channel record while waiting */
	wire_fd_parked_t park; /* private: the fd record while waiting */
} wire_select_case_t;

/*
 * Perform exactly one of the @n cases of @cases, the first that can be:
 * receive from a channel that holds a message (or is closed), send on a
 * channel that takes the message without waiting (a blocked receiver, or
 * room in its ring), or report an fd ready in the case's direction.
 * Among cases ready at the call, the one performed is chosen uniformly at
 * random, so none starves; otherwise the call blocks until one becomes
 * ready, performs it and returns.
 *
 * Returns the index of the case performed. For it, err is 0, or:
 * RECV: EPIPE when the channel was closed and drained (msg unchanged);
 * READ/WRITE: EBADF when the fd state was closed (wire_fd_close()) or
 * EINVAL when it was set to mode none while the call waited. A send
 * performed on a rendezvous channel returns after the receiver has run
 * until its next yield or block, as wire_channel_send() does.
 *
 * @timeout_ns bounds the wait: negative waits for ever, 0 only looks
 * (an fd is then asked with poll(2)). Returns -1 with errno ETIMEDOUT
 * when it expires with no case performed, EINVAL for a bad argument
 * (@cases NULL, @n 0, an unknown op, a missing chan or fd, a channel in
 * both a SEND and a RECV case), or, when the call has to wait, EBADF or
 * EINVAL for an fd case whose state is closed or in mode none, or an
 * error of adding an fd to epoll (wire_fd_mode_read()): then no case was
 * performed.
 *
 * If the calling wire is cancelled while blocked here, every record is
 * withdrawn and no case is performed. A SEND case on a closed channel
 * aborts, as a send would. Aborts if it has to block outside a wire.
 */
int wire_select(wire_select_case_t *cases, unsigned n, int64_t timeout_ns);

#ifdef __cplusplus
}
#endif
#endif
