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

/* Waiters queue the hand-off record of their wire (wire_internal.h). */

void wire_sem_init(wire_sem_t *s, unsigned count)
{
	s->count = count;
	list_init(&s->waiters);
}

void wire_sem_take(wire_sem_t *s)
{
	if (__builtin_expect(s->count != 0, 1)) {
		s->count--;
		return;
	}
	wire__handoff_park(wire__blocking_current("wire_sem_take"), &s->waiters, "semaphore", s);
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
		list_del(n);
		wire__handoff_release(wire__handoff_of(n));
		return;
	}
	if (s->count == UINT_MAX)
		wire__misuse("wire_sem_release", "the count would overflow");
	s->count++;
}
