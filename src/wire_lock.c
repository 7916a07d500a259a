/*
 * wire_lock - fair FIFO lock with direct hand-off. See wire_lock.h.
 *
 * Invariant: a lock with waiters is locked. A release with waiters never
 * makes the lock free: ownership passes to the oldest waiter in place, so
 * no wire that runs in between can take it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wire_lock.h"
#include "list.h"
#include "wire_internal.h"

/*
 * Waiters queue the hand-off record of their wire (wire_internal.h): a
 * wire woken from l->waiters holds the lock, so wire_lock_take() ends with
 * the switch and the wire resumes in its caller.
 */

/* Grant and wake the waiter at node @n, taking it off its queue. */
static inline void grant(wire_list_t *n)
{
	list_del(n);
	wire__handoff_release(wire__handoff_of(n));
}

void wire_lock_init(wire_lock_t *l)
{
	l->locked = 0;
	list_init(&l->waiters);
	list_init(&l->clear_waiters);
}

void wire_lock_take(wire_lock_t *l)
{
	if (__builtin_expect(!l->locked, 1)) {
		l->locked = 1;
		return;
	}
	wire__handoff_park(wire__blocking_current("wire_lock_take"), &l->waiters, "lock", l);
}

int wire_lock_try_take(wire_lock_t *l)
{
	if (l->locked)
		return 0;
	l->locked = 1;
	return 1;
}

void wire_lock_release(wire_lock_t *l)
{
	if (__builtin_expect(!l->locked, 0))
		wire__misuse("wire_lock_release", "the lock is not held");
	if (l->waiters.next != &l->waiters) {
		grant(l->waiters.next); /* stays locked: the waiter holds it now */
		return;
	}
	l->locked = 0;
	while (l->clear_waiters.next != &l->clear_waiters)
		grant(l->clear_waiters.next);
}

void wire_lock_wait_clear(wire_lock_t *l)
{
	/* Woken when the lock became free; another wire may have taken it
	 * before this one ran, so look again. */
	while (l->locked)
		wire__handoff_park(wire__blocking_current("wire_lock_wait_clear"),
				   &l->clear_waiters, "lock clear", l);
}
