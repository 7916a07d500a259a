/*
 * wire_semaphore.h - a counting semaphore between the wires of one
 * scheduler.
 *
 * wire_sem_take() consumes a unit, blocking while there is none;
 * wire_sem_release() returns one. A release with wires waiting hands its
 * unit straight to the oldest waiter: waiters are served in FIFO order and
 * a newcomer never overtakes one. A blocked wire queues the hand-off
 * record inside its wire_t; all other memory is the caller's.
 */
#ifndef WIRE_SEMAPHORE_H
#define WIRE_SEMAPHORE_H

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_sem {
	unsigned count;	     /* units available */
	wire_list_t waiters; /* wires blocked in wire_sem_take(), oldest first */
} wire_sem_t;

/* Make @s a semaphore holding @count units, with no waiters. */
void wire_sem_init(wire_sem_t *s, unsigned count);

/*
 * Take one unit of @s: at once if one is available, otherwise block behind
 * the earlier waiters until a release hands one over. wire_resume() of the
 * blocked wire from elsewhere does not wake it. Aborts if it has to block
 * outside a wire. Cancelled while waiting, the wire leaves the queue (the
 * next unit goes to the next waiter) and ends.
 */
void wire_sem_take(wire_sem_t *s);

/* Take one unit if one is available: returns 1 if taken, 0 if not. Never blocks. */
int wire_sem_try_take(wire_sem_t *s);

/*
 * Return one unit to @s: to the oldest waiter, which is made ready, or to
 * the count. Never blocks; may be called outside a wire. Aborts if the
 * count would overflow.
 */
void wire_sem_release(wire_sem_t *s);

#ifdef __cplusplus
}
#endif
#endif
