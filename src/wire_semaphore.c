/*
 * wire_semaphore - counting semaphore with FIFO hand-off. See
 * wire_semaphore.h.
 *
 * Invariant: a semaphore with waiters has a count of zero; a release with
 * waiters gives its unit to the oldest one instead of to the count.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire_semaphore.h"
#include "list.h"
#include "wire_internal.h"

/* A blocked wire; lives on its stack. */
struct sem_waiter {
	wire_list_t link;
	wire_t *wire;
	int granted;
};

void wire_sem_init(wire_sem_t *s, unsigned count)
{
	s->count = count;
	list_init(&s->waiters);
}

void wire_sem_take(wire_sem_t *s)
{
	struct sem_waiter me;

	if (__builtin_expect(s->count != 0, 1)) {
		s->count--;
		return;
	}
	me.wire = wire__blocking_current("wire_sem_take");
	me.granted = 0;
	list_add_tail(&s->waiters, &me.link);
	do
		wire__suspend(me.wire);
	while (!me.granted);
}

int wire_sem_try_take(wire_sem_t *s)
{
	if (s->count == 0)
		return 0;
	s->count--;
	return 1;
}

void wire_sem_release(wire_sem_t *s)
{
	wire_list_t *n = s->waiters.next;

	if (n != &s->waiters) {
		struct sem_waiter *w = wire_container_of(n, struct sem_waiter, link);
		list_del(n);
		w->granted = 1;
		wire__resume(w->wire);
		return;
	}
	if (s->count == UINT_MAX)
		wire__misuse("wire_sem_release", "the count would overflow");
	s->count++;
}
