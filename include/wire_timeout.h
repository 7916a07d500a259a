/*
 * wire_timeout.h - a timeout that can be chained in a wait list.
 *
 * A wire_timeout_t is a wire_wait_t triggered by a scheduler timer
 * (wire_timer_t): arming it costs no syscall and no file descriptor.
 * Chain wire_timeout_wait_get() in a wire_wait_list_t beside other
 * sources (a channel receive, an fd), or use wire_timeout_wait() to wait
 * for one wait or the timeout. Caller memory; the timeout belongs to the
 * scheduler of the thread that armed it.
 */
#ifndef WIRE_TIMEOUT_H
#define WIRE_TIMEOUT_H

#include "wire.h"
#include "wire_wait.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_timeout {
	wire_timer_t timer;
	wire_wait_t wait;
} wire_timeout_t;

/*
 * Prepare @t, disarmed. Requires nothing else; never blocks. Returns 0, or
 * -1 with errno EINVAL when @t is NULL.
 */
int wire_timeout_init(wire_timeout_t *t);

/*
 * Arm @t to trigger its wait @msec milliseconds from now, clearing an
 * earlier trigger; re-arming an armed timeout moves it. @msec 0 disarms
 * it (and clears the trigger). Returns 0, or -1 with errno EINVAL for a
 * negative @msec or no scheduler on this thread (then nothing changed).
 * While armed, the timer keeps wire_thread_run() going: stop it when done.
 */
int wire_timeout_reset(wire_timeout_t *t, int msec);

/*
 * Disarm @t; its wait keeps the trigger it has. Returns 1 if the timer
 * was armed, 0 if it had fired or was idle. Call it on the thread that
 * armed @t (aborts otherwise, as wire_timer_stop()).
 */
int wire_timeout_stop(wire_timeout_t *t);

/*
 * The wait that @t triggers when it expires, to chain in a wait list. Its
 * trigger lasts until wire_timeout_reset(), even when it is chained again
 * after a wait returned it (wire_wait.h): the deadline has passed.
 */
wire_wait_t *wire_timeout_wait_get(wire_timeout_t *t);

/*
 * Block the calling wire until @w or the timeout @t triggers (whichever
 * comes first, either may have already). Returns 1 for @w (also when both
 * are triggered), 2 for the timeout. Both waits are unchained on return
 * and must not be chained elsewhere; the timeout stays armed if it did
 * not expire (wire_timeout_stop() it when done). Aborts outside a wire.
 * Cancelled, as wire_list_wait(): the timeout is stopped.
 */
int wire_timeout_wait(wire_wait_t *w, wire_timeout_t *t);

#ifdef __cplusplus
}
#endif
#endif
