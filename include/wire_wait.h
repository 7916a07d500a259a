/*
 * wire_wait.h - one-shot wakeups, and waiting for the first of many.
 *
 * A wire_wait_t is armed by wire_wait_init() or wire_wait_reset() and
 * triggered at most once per arming by wire_wait_resume(). A trigger that
 * comes before anyone waits is remembered, so no wakeup is ever lost.
 * Several waits chained in a wire_wait_list_t let one wire wait for the
 * first of several sources (a channel, an fd, a timeout). Everything is
 * caller memory; waiting allocates nothing.
 *
 * Chaining arms a wait again: a trigger that a wait call has already
 * returned (wire_list_wait() or wire_wait_single()) is cleared when the
 * wait is chained, so a loop of chain, wire_list_wait() and unchain blocks
 * each time until a new trigger. A trigger that no wait call has returned
 * yet (a source that was ready before the chain) is kept. A timeout's
 * wait (wire_timeout.h) keeps its trigger until wire_timeout_reset(): a
 * deadline that has passed stays passed.
 */
#ifndef WIRE_WAIT_H
#define WIRE_WAIT_H

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_wait_list {
	wire_list_t head; /* chained waits, in chain order */
	wire_t *waiter;	  /* the wire parked in wire_list_wait(), or NULL */
} wire_wait_list_t;

typedef struct wire_wait {
	wire_list_t link;	/* node in list->head while chained */
	wire_wait_list_t *list; /* the list it is chained to, or NULL */
	wire_list_t waiters;	/* wires parked in wire_wait_single(), oldest first */
	int triggered;		/* 0; 1 triggered; 2 triggered and returned by a wait call */
	int armed;
	int lasting; /* chaining keeps a returned trigger (a timeout's wait) */
	/* Set by the source that triggers the wait (a timeout, an fd, a channel
	 * receiver record): takes the source's hold on the wait back when the
	 * wire waiting on its list is cancelled. NULL for a plain wait. */
	void (*withdraw)(struct wire_wait *w);
	void *source;
	/* For the listings (wire_thread_dump()) of a wire waiting on its
	 * list: the timer that triggers it (a timeout's), or NULL, and the
	 * fd whose readiness triggers it, or -1. */
	const struct wire_timer *timer;
	int fd;
} wire_wait_t;

/* Arm @w, untriggered and unchained. */
void wire_wait_init(wire_wait_t *w);

/*
 * Trigger @w and wake the wire waiting on it (directly or through its
 * list). Returns 1 if this call triggered it, 0 if @w was stopped or
 * already triggered since its last arming. Never blocks; may be called
 * from any wire, from a timer or poller callback, or outside any wire, of
 * the OS thread whose wires use @w (a wait is not shared between threads).
 */
int wire_wait_resume(wire_wait_t *w);

/* Re-arm @w: clear its trigger so it can fire again. */
void wire_wait_reset(wire_wait_t *w);

/* Disarm @w: later wire_wait_resume() calls are ignored until a reset. */
void wire_wait_stop(wire_wait_t *w);

/*
 * Block the calling wire until @w is triggered; returns at once if it
 * already is. Several wires may wait on one wait: a trigger wakes them
 * all, in the order they began to wait. wire_resume() of a waiting wire
 * from elsewhere does not wake it. The trigger stays set until
 * wire_wait_reset() (or a chain, see the top). Aborts outside a wire.
 * Cancelled, the wire leaves the wait (the others stay) and ends.
 */
void wire_wait_single(wire_wait_t *w);

/* Make @wl an empty list. */
void wire_wait_list_init(wire_wait_list_t *wl);

/*
 * Append @w to @wl (moving it from the list it was on: a wait is on at
 * most one list at a time) and arm it for the list: a trigger that a wait
 * call already returned is cleared, unless @w is a timeout's (see the
 * top). If @w is still triggered, a wire parked in wire_list_wait() on
 * @wl is woken.
 */
void wire_wait_chain(wire_wait_list_t *wl, wire_wait_t *w);

/* Remove @w from its list, if any. */
void wire_wait_unchain(wire_wait_t *w);

/*
 * Block the calling wire until a wait chained on @wl is triggered, and
 * return the first triggered one in chain order (at once if one already
 * is). Triggers stay set until reset. Aborts outside a wire.
 *
 * Cancelled while blocked here, the wire ends, and each wait chained on
 * @wl is unchained and let go by its source: a timeout's timer stops, an
 * fd state stops counting the wait, a channel receiver record leaves its
 * channel (wire_channel_recv_unwait()), since all of them are likely on
 * the ending wire's stack. The fd state itself stays in its mode.
 */
wire_wait_t *wire_list_wait(wire_wait_list_t *wl);

/*
 * Wait for the first of @a and @b; returns 1 for @a, 2 for @b (1 if both
 * are triggered). Both are unchained on return; they must not be chained
 * to another list. Aborts outside a wire. Cancelled, as wire_list_wait().
 */
int wire_wait_two(wire_wait_t *a, wire_wait_t *b);

#ifdef __cplusplus
}
#endif
#endif
