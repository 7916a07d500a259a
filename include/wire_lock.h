/*
 * wire_lock.h - a fair lock between the wires of one scheduler.
 *
 * Taking a free lock costs a load and a store. A wire that finds the lock
 * held queues (the hand-off record inside its wire_t) and sleeps; a release
 * hands the lock directly to the oldest waiter, so waiters are served in
 * FIFO order and a newcomer never overtakes one: the lock stays held
 * across the hand-off, even before the new holder runs. The lock is not
 * tied to a wire: any wire may release it. All memory is the caller's.
 */
#ifndef WIRE_LOCK_H
#define WIRE_LOCK_H

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_lock {
	int locked;		   /* held (by a running or a granted waiter) */
	wire_list_t waiters;	   /* wires blocked in wire_lock_take(), oldest first */
	wire_list_t clear_waiters; /* wires blocked in wire_lock_wait_clear() */
} wire_lock_t;

/* Make @l a free lock with no waiters. The caller owns @l. */
void wire_lock_init(wire_lock_t *l);

/*
 * Take @l. If it is free it is taken at once, without blocking. Otherwise
 * the caller queues behind the earlier waiters and blocks until a release
 * hands the lock to it. wire_resume() of the blocked wire from elsewhere
 * does not wake it. Aborts if it has to block outside a wire. Cancelled
 * while waiting, the wire leaves the queue (the lock goes to the next
 * waiter) and ends; a lock it already holds stays held (release it in a
 * DEFER).
 */
void wire_lock_take(wire_lock_t *l);

/*
 * Take @l if it is free: returns 1 if the caller now holds it, 0 if it is
 * held (or being handed to a waiter). Never blocks.
 */
int wire_lock_try_take(wire_lock_t *l);

/*
 * Release @l: the oldest waiter becomes the holder and is made ready;
 * with no waiter the lock becomes free and the wires in
 * wire_lock_wait_clear() are woken. Never blocks; may be called from any
 * wire of the lock's thread, from a timer callback or outside any wire.
 * Releasing a lock that is not held aborts with a message.
 */
void wire_lock_release(wire_lock_t *l);

/*
 * Block until @l has neither a holder nor waiters; returns at once if that
 * is already so. On return the lock is free and nobody waits for it, so
 * the caller may, for instance, dispose of it before it yields. While other
 * wires keep taking the lock, this can wait for as long as they do. Aborts
 * if it has to block outside a wire. Cancelled, the wire leaves the wait
 * and ends.
 */
void wire_lock_wait_clear(wire_lock_t *l);

#ifdef __cplusplus
}
#endif
#endif
