/*
 * wire_cancel - ending a wire from outside, waiting for wires to end,
 * groups of wires. See wire.h and wire_defer.h.
 *
 * A cancelled wire must leave nothing behind that could reach its stack
 * once the stack is reused. Whatever it waits on is withdrawn by
 * wire_cancel() itself, before any other wire runs: a hand-off record is
 * unlinked from its queue (a lock or a message can no longer be handed to
 * it), and a record on its stack is taken back by the park's withdraw
 * function (a sleep's timer, a parked fd wait, the sources chained in a
 * wait list, a pool waiter). So the other wires go on exactly as if the
 * cancelled one had never queued.
 *
 * Then the wire ends. With no DEFER block in scope it ends on the spot:
 * its stack is never run again, so nothing needs unwinding. With DEFER
 * blocks, they must run on the wire's own stack, innermost first, and no
 * code after the blocking point may run: the suspended context is
 * redirected (coro_redirect) so that, when it runs next, it calls
 * cancel_entry() as if from its resume point, and cancel_entry() starts a
 * forced unwind (the mechanism of pthread_cancel and C++ exceptions):
 * the unwinder walks the wire's frames up from the resume point and runs
 * the cleanups of the frames compiled with -fexceptions, which is what a
 * DEFER block is. The stop function counts down wire_t.defers and ends
 * the wire as soon as the last DEFER has run, so frames without unwind
 * tables above the outermost DEFER are never visited.
 *
 * A wire that is ready or running when cancelled (it yielded, or its wait
 * has already completed: it was handed a message, a lock, its wio call's
 * result) ends at its next block or yield instead, so that what was handed
 * to it is returned by the call it was made for and never lost in between.
 */
#include <errno.h>
#include <string.h>
#include <unwind.h>

#include "wire.h"
#include "list.h"
#include "wire_internal.h"
#include "wire_debug_internal.h"

_Static_assert(sizeof(struct _Unwind_Exception) <= sizeof(((wire_t *)0)->unwind),
	       "wire_t.unwind holds the unwinder's exception record");

/* "LIBWIRE" + "\0": the exception class of a cancellation. */
#define CANCEL_CLASS 0x4c49425749524500ULL

/* ------------------------------------------------------------------ */
/* The end of a wire.                                                  */

void wire__finish(wire_t *w)
{
	wire_group_t *g = w->group;
	wire_list_t *n;

	w->state = WIRE_DONE;
	list_del(&w->link);
	w->thread->stats.wires_ended++;
	if (g) {
		w->group = NULL;
		list_del(&w->group_link);
		if (--g->count == 0)
			while ((n = list_pop(&g->joiners)))
				wire__handoff_release(wire__handoff_of(n));
	}
	while ((n = list_pop(&w->joiners)))
		wire__handoff_release(wire__handoff_of(n));
	/* The timeline ends the wire's run now: on_end may make it a new
	 * wire that looks ready (a pool), which would read as a yield. */
	if (__builtin_expect(wire__hooks_on(), 0) && w->thread->trace)
		wire__trace_end(w->thread, w);
	/* Last: it may hand the wire_t and its stack to someone else. */
	if (w->on_end)
		w->on_end(w);
}

/* ------------------------------------------------------------------ */
/* Unwinding.                                                          */

static _Unwind_Reason_Code cancel_stop(int version, _Unwind_Action actions,
				       _Unwind_Exception_Class cls, struct _Unwind_Exception *exc,
				       struct _Unwind_Context *ctx, void *arg)
{
	wire_t *w = arg;
	char here;

	(void)version;
	(void)cls;
	(void)exc;
	(void)ctx;
	/* Called before each frame's cleanups run: once the last DEFER has
	 * run, the frames above have nothing to do. Those above this frame's
	 * own (with a margin for it) are left for good. */
	if (w->defers == 0 || (actions & _UA_END_OF_STACK)) {
		coro_abandon_above(&w->coro, (uintptr_t)&here + 1024);
		wire__exit(w);
	}
	return _URC_NO_REASON;
}

void wire__cancel_self(wire_t *cur)
{
	struct _Unwind_Exception *e = (struct _Unwind_Exception *)(void *)cur->unwind;

	cur->cancel = WIRE__CANCEL_ENDING;
	if (cur->defers) {
		memset(e, 0, sizeof(*e));
		e->exception_class = CANCEL_CLASS;
		_Unwind_ForcedUnwind(e, cancel_stop, cur);
		/* Returns only if the unwinder failed to start. */
	}
	wire__exit(cur);
}

/* Where a cancelled wire resumes (coro_redirect): called from its resume point. */
static long __attribute__((noreturn)) cancel_entry(void)
{
	wire__cancel_self(wire__self->current);
}

/* ------------------------------------------------------------------ */
/* Cancellation.                                                       */

/* Take back what the blocked wire @w waits on; 0 if it must complete first. */
static int withdraw(wire_t *w)
{
	if (w->handoff.wire) {
		list_del(&w->handoff.link);
		w->handoff.wire = NULL;
		return 1;
	}
	return w->park ? w->park->withdraw(w->park) : 1;
}

int wire__suspend_cancelled(wire_t *cur)
{
	wire_thread_t *t = cur->thread;

	if (withdraw(cur))
		wire__cancel_self(cur);
	/* A wio call under way: wait for it as usual (wire__suspend). */
	cur->state = WIRE_SUSPENDED;
	t->num_suspended++;
	return coro_switch(&cur->coro, wire__next_context(t));
}

/* Cancel the suspended wire @w of the scheduler @t (not running). */
static void cancel_suspended(wire_thread_t *t, wire_t *w)
{
	if (!withdraw(w))
		return; /* ends when the wait completes (wire__cancel_point) */
	w->cancel = WIRE__CANCEL_ENDING;
	if (w->defers) {
		/* Its DEFER blocks run on its own stack when it next runs. */
		coro_redirect(&w->coro, cancel_entry);
		wire__wake(w);
		return;
	}
	/* Nothing to run on its stack: it ends here. */
	t->num_suspended--;
	wire__finish(w);
	coro_discard(&w->coro);
}

int wire_cancel(wire_t *w)
{
	wire_thread_t *t = wire__self;

	if (!w) {
		errno = EINVAL;
		return -1;
	}
	if (w->state == WIRE_DONE || w->cancel != WIRE__CANCEL_NONE)
		return 0;
	if (w->thread != t)
		wire__misuse("wire_cancel",
			     "the wire belongs to the scheduler of another OS thread");
	w->cancel = WIRE__CANCEL_ASKED;
	if (w == t->current)
		wire__cancel_self(w);
	if (w->state == WIRE_SUSPENDED)
		cancel_suspended(t, w);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Joining.                                                            */

int wire_join(wire_t *w)
{
	wire_t *cur = wire__blocking_current("wire_join");

	if (w && w->state == WIRE_DONE) /* ended, or never started */
		return 0;
	if (!w || w->thread != cur->thread) {
		errno = EINVAL;
		return -1;
	}
	if (w == cur) {
		errno = EDEADLK;
		return -1;
	}
	wire__cancel_point(cur);
	return wire__handoff_park(cur, &w->joiners, "join", w);
}

/* ------------------------------------------------------------------ */
/* Groups.                                                             */

void wire_group_init(wire_group_t *g)
{
	list_init(&g->members);
	list_init(&g->joiners);
	g->count = 0;
}

int wire_group_add(wire_group_t *g, wire_t *w)
{
	if (!g || !w || w->state == WIRE_DONE || w->group || w->thread != wire__self) {
		errno = EINVAL;
		return -1;
	}
	w->group = g;
	list_add_tail(&g->members, &w->group_link);
	g->count++;
	return 0;
}

unsigned wire_group_count(const wire_group_t *g)
{
	return g ? g->count : 0;
}

int wire_group_cancel(wire_group_t *g)
{
	wire_t *cur = wire__current(), *self_member = NULL;
	wire_list_t *n, *next;

	if (!g) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * A member ends and leaves the list during wire_cancel() when it has
	 * nothing to unwind; one that unwinds or must finish a wio call stays
	 * listed until it ends. The next node is read before each cancel, and
	 * a member that is cancelled already is skipped by wire_cancel().
	 * The caller, if a member, goes last: cancelling it ends it at once.
	 */
	for (n = g->members.next; n != &g->members; n = next) {
		wire_t *w = wire_container_of(n, wire_t, group_link);

		next = n->next;
		if (w == cur)
			self_member = w;
		else
			wire_cancel(w);
	}
	if (self_member)
		wire_cancel(self_member);
	return 0;
}

int wire_group_join(wire_group_t *g)
{
	wire_t *cur = wire__blocking_current("wire_group_join");

	if (!g) {
		errno = EINVAL;
		return -1;
	}
	if (cur->group == g) {
		errno = EDEADLK;
		return -1;
	}
	wire__cancel_point(cur);
	if (g->count == 0)
		return 0;
	return wire__handoff_park(cur, &g->joiners, "group join", g);
}
