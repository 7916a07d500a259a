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

/* A blocked wire; lives on its stack. */
struct lock_waiter {
	wire_list_t link;
	wire_t *wire;
	int granted;
};

/* Queue the caller on @q and sleep until a releaser grants it. */
static void block_on(wire_list_t *q, const char *call)
{
	struct lock_waiter me;

	me.wire = wire__blocking_current(call);
	me.granted = 0;
	list_add_tail(q, &me.link);
	do
		wire__suspend(me.wire);
	while (!me.granted);
}

/* Grant and wake the waiter at node @n, taking it off its queue. */
static inline void grant(wire_list_t *n)
{
	struct lock_waiter *w = wire_container_of(n, struct lock_waiter, link);

	list_del(n);
	w->granted = 1;
	wire__resume(w->wire);
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
	block_on(&l->waiters, "wire_lock_take");
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
		block_on(&l->clear_waiters, "wire_lock_wait_clear");
}
