/*
 * wire_wait - one-shot wakeups and wait lists. See wire_wait.h.
 *
 * A trigger only resumes the wire actually parked on the wait (or on its
 * list), so a wire blocked elsewhere is never woken by a stale source.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wire_wait.h"
#include "list.h"
#include "wire_internal.h"

void wire_wait_init(wire_wait_t *w)
{
	list_init(&w->link);
	w->list = NULL;
	w->waiter = NULL;
	w->triggered = 0;
	w->armed = 1;
}

int wire_wait_resume(wire_wait_t *w)
{
	if (!w->armed || w->triggered)
		return 0;
	w->triggered = 1;
	if (w->waiter) {
		wire_t *waiter = w->waiter;
		w->waiter = NULL;
		wire__handoff_wake(waiter);
	} else if (w->list && w->list->waiter)
		wire__resume(w->list->waiter);
	return 1;
}

void wire_wait_reset(wire_wait_t *w)
{
	w->triggered = 0;
	w->armed = 1;
}

void wire_wait_stop(wire_wait_t *w)
{
	w->armed = 0;
}

void wire_wait_single(wire_wait_t *w)
{
	wire_t *self = wire__blocking_current("wire_wait_single");

	if (w->triggered)
		return;
	/* Only the trigger wakes the wire, which then returns to its caller. */
	w->waiter = self;
	wire__handoff_hold(self);
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

wire_wait_t *wire_list_wait(wire_wait_list_t *wl)
{
	wire_t *self = wire__blocking_current("wire_list_wait");

	for (;;) {
		for (wire_list_t *n = wl->head.next; n != &wl->head; n = n->next) {
			wire_wait_t *w = wire_container_of(n, wire_wait_t, link);
			if (w->triggered)
				return w;
		}
		wl->waiter = self;
		wire__suspend(self);
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
