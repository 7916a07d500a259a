/*
 * wire_wait - one-shot wakeups and wait lists. See wire_wait.h.
 *
 * A trigger only resumes the wires actually parked on the wait (or on its
 * list), so a wire blocked elsewhere is never woken by a stale source.
 * Wires parked in wire_wait_single() queue their own hand-off record
 * (wire_internal.h): only the trigger wakes them, and they return straight
 * to their caller.
 */

/* Values of wire_wait_t.triggered. */
enum { NOT_TRIGGERED, TRIGGERED, RETURNED };
#include <stdio.h>
#include <stdlib.h>

#include "wire_wait.h"
#include "list.h"
#include "wire_internal.h"

void wire_wait_init(wire_wait_t *w)
{
	list_init(&w->link);
	w->list = NULL;
	list_init(&w->waiters);
	w->triggered = NOT_TRIGGERED;
	w->armed = 1;
	w->lasting = 0;
	w->withdraw = NULL;
	w->source = NULL;
	w->timer = NULL;
	w->fd = -1;
}

int wire_wait_resume(wire_wait_t *w)
{
	wire_list_t *n;

	if (!w->armed || w->triggered)
		return 0;
	w->triggered = TRIGGERED;
	/* Woken single waiters return the trigger without looking again. */
	while ((n = list_pop(&w->waiters))) {
		w->triggered = RETURNED;
		wire__handoff_release(wire__handoff_of(n));
	}
	if (w->list && w->list->waiter)
		wire__resume(w->list->waiter);
	return 1;
}

void wire_wait_reset(wire_wait_t *w)
{
	w->triggered = NOT_TRIGGERED;
	w->armed = 1;
}

void wire_wait_stop(wire_wait_t *w)
{
	w->armed = 0;
}

void wire_wait_single(wire_wait_t *w)
{
	wire_t *self = wire__blocking_current("wire_wait_single");

	if (w->triggered) {
		w->triggered = RETURNED;
		return;
	}
	/* Only the trigger wakes the wire, which then returns to its caller. */
	wire__handoff_park(self, &w->waiters, "wait", w);
}

void wire_wait_list_init(wire_wait_list_t *wl)
{
	list_init(&wl->head);
	wl->waiter = NULL;
}

void wire_wait_chain(wire_wait_list_t *wl, wire_wait_t *w)
{
	if (w->list)
		list_del(&w->link);
	if (w->triggered == RETURNED && !w->lasting)
		w->triggered = NOT_TRIGGERED;
	w->list = wl;
	list_add_tail(&wl->head, &w->link);
	/* A wire already parked on @wl must see a wait that comes in triggered. */
	if (w->triggered && wl->waiter)
		wire__resume(wl->waiter);
}

void wire_wait_unchain(wire_wait_t *w)
{
	if (!w->list)
		return;
	list_del(&w->link);
	w->list = NULL;
}

/* A wire parked in wire_list_wait(), on its stack. */
struct list_park {
	wire_park_t park;
	wire_wait_list_t *wl;
};

/*
 * The parked wire was cancelled: unchain every wait of the list and let
 * each one's source let go of it (a timeout stops, an fd wait stops
 * counting, a channel receiver record leaves its channel), since the
 * list, the waits and the sources' records are likely on the wire's
 * stack, which is about to be reused.
 */
static int list_withdraw(wire_park_t *p)
{
	wire_wait_list_t *wl = wire_container_of(p, struct list_park, park)->wl;
	wire_list_t *n;

	wl->waiter = NULL;
	while ((n = list_pop(&wl->head))) {
		wire_wait_t *w = wire_container_of(n, wire_wait_t, link);

		w->list = NULL;
		if (w->withdraw)
			w->withdraw(w);
	}
	return 1;
}

wire_wait_t *wire_list_wait(wire_wait_list_t *wl)
{
	wire_t *self = wire__blocking_current("wire_list_wait");
	struct list_park lp = {.park.withdraw = list_withdraw, .wl = wl};

	wire__blocked_on(self, "wait list", wl);
	for (;;) {
		int64_t deadline = 0;
		int fd = -1;

		for (wire_list_t *n = wl->head.next; n != &wl->head; n = n->next) {
			wire_wait_t *w = wire_container_of(n, wire_wait_t, link);
			if (w->triggered) {
				w->triggered = RETURNED;
				return w;
			}
			/* For the listings: the nearest timeout, the first fd. */
			if (w->timer && w->timer->armed &&
			    (!deadline || w->timer->deadline < deadline))
				deadline = w->timer->deadline;
			if (fd < 0)
				fd = w->fd;
		}
		self->blocked.deadline = deadline;
		self->blocked.fd = fd;
		wl->waiter = self;
		wire__park(self, &lp.park);
		wl->waiter = NULL;
	}
}

int wire_wait_two(wire_wait_t *a, wire_wait_t *b)
{
	wire_wait_list_t wl;
	wire_wait_t *first;

	wire__blocking_current("wire_wait_two");
	wire_wait_list_init(&wl);
	wire_wait_chain(&wl, a);
	wire_wait_chain(&wl, b);
	first = wire_list_wait(&wl);
	wire_wait_unchain(a);
	wire_wait_unchain(b);
	return first == a ? 1 : 2;
}
