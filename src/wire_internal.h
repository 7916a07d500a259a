/*
 * Scheduler internals shared with the layers built on it (internal).
 *
 * The layers above the scheduler ask "which wire is running?", park the
 * running wire and wake a parked one on every blocking operation. These
 * are inline here, so a channel hand-off or a lock hand-off costs no call
 * into the scheduler beyond the context switch itself.
 */
#ifndef WIRE_SRC_WIRE_INTERNAL_H
#define WIRE_SRC_WIRE_INTERNAL_H

#include "wire.h"
#include "coro.h"
#include "list.h"
#include "sys.h"
#include "wire_debug_internal.h"

/* Switches between two looks at timers and the poller while wires are busy. */
#define WIRE_POLL_INTERVAL 64

extern WIRE_INTERNAL __thread wire_thread_t *wire__self __attribute__((tls_model("initial-exec")));

/*
 * Report misuse that cannot be returned as an error: print
 * "libwire: CALL: WHAT" on stderr and abort.
 */
WIRE_INTERNAL void wire__misuse(const char *call, const char *what) __attribute__((noreturn, cold));

/*
 * Cancellation (wire_cancel.c). wire_t.cancel is 0, CANCEL_ASKED (the
 * wire was cancelled while ready: it ends at its next block or yield) or
 * CANCEL_ENDING (it is running its DEFER blocks or has ended; blocking
 * calls then work as usual, so a DEFER block may block).
 */
enum { WIRE__CANCEL_NONE, WIRE__CANCEL_ASKED, WIRE__CANCEL_ENDING };

/*
 * What a wire suspended outside a hand-off waits on: a record on its
 * stack (a sleep's timer, a parked fd wait, a wait list, a pool waiter,
 * a wio call) that starts with this. @withdraw takes the record out of
 * everything that could reach it and returns 1, or returns 0 when the
 * wait cannot be withdrawn and must complete first (a wio call in
 * flight): the wire then ends when it resumes (wire__cancel_point).
 */
typedef struct wire_park {
	int (*withdraw)(struct wire_park *p);
} wire_park_t;

/* End the running wire @cur, cancelled: run its DEFER blocks, end it. */
WIRE_INTERNAL void wire__cancel_self(wire_t *cur) __attribute__((noreturn, cold));

/*
 * @cur, cancelled while ready, is about to block: withdraw the wait it
 * has set up and end, or, if that wait must complete first, suspend as
 * wire__suspend() does.
 */
WIRE_INTERNAL int wire__suspend_cancelled(wire_t *cur) __attribute__((cold));

/* End the wire's life: group, joiners, on_end; called once per run. */
WIRE_INTERNAL void wire__finish(wire_t *w);

/* End the running wire @cur now (its entry returned, or it is cancelled). */
WIRE_INTERNAL void wire__exit(wire_t *cur) __attribute__((noreturn));

/* The running wire, or NULL outside any wire (same as wire_get_current). */
static inline wire_t *wire__current(void)
{
	wire_thread_t *t = wire__self;
	return t ? t->current : NULL;
}

/* The running wire, for @call that is about to block; aborts outside a wire. */
static inline wire_t *wire__blocking_current(const char *call)
{
	wire_t *w = wire__current();

	if (__builtin_expect(w == NULL, 0))
		wire__misuse(call, "called outside a wire (only a running wire can block)");
	return w;
}

/*
 * The run queue is singly linked through run_next with a pointer to the
 * last next-field: an append and a pop are two stores each, which is most
 * of what a switch costs beyond the register save.
 */
static inline void wire__runq_push(wire_thread_t *t, wire_t *w)
{
	w->run_next = NULL;
	*t->run_tailp = w;
	t->run_tailp = &w->run_next;
}

static inline void wire__runq_unlink_head(wire_thread_t *t, wire_t *w)
{
	t->run_head = w->run_next;
	if (!t->run_head)
		t->run_tailp = &t->run_head;
}

/*
 * The poll budget ran out (see wire__next_context()): count the switches
 * it covered, show the stall detector the thread moves, and say whether
 * the scheduler should run before the next wire (1): to look at timers
 * and events every WIRE_POLL_INTERVAL switches, to serve a dump request,
 * or to record the switch in the timeline. While the timeline or the
 * stall detector is on, the budget is 1 switch. No call here: a call on
 * this path, however rare, makes every blocking call that inlines it
 * save and restore registers (a fifth of a yield).
 */
static inline int wire__budget_spent(wire_thread_t *t)
{
	unsigned used = t->budget_reset;

	t->stats.switches += used;
	wire__progress();
	t->since_look += used;
	t->budget_reset = t->poll_budget = wire__hooks_on() ? 1 : WIRE_POLL_INTERVAL;
	if (t->trace || (t->since_look >= WIRE_POLL_INTERVAL &&
			 (t->num_timers || (t->poller && t->poller->pending) || wire__dump_due(t) ||
			  wire__trace_wanted(t)))) {
		/* The scheduler's switch to the next wire counts instead. */
		t->stats.switches--;
		return 1;
	}
	if (t->since_look >= WIRE_POLL_INTERVAL)
		t->since_look = 0; /* nothing to look at */
	return 0;
}

/*
 * Pick the context to run now that the current wire has queued, parked or
 * ended itself: the head of the run queue, or the scheduler when the queue
 * is empty or events are due for a look. The switch path pays for the
 * debugging aids with nothing but the budget it already counts down.
 */
static inline wire_coro_t *wire__next_context(wire_thread_t *t)
{
	wire_t *w = t->run_head;

	if (__builtin_expect(w == NULL, 0))
		goto sched;
	if (__builtin_expect(--t->poll_budget == 0, 0) && wire__budget_spent(t))
		goto sched;
	wire__runq_unlink_head(t, w);
	w->state = WIRE_RUNNING;
	t->current = w;
	return &w->coro;
sched:
	t->current = NULL;
	return &t->sched;
}

/*
 * wire_suspend() of the running wire @cur, whose wire_t.blocked says what
 * it waits on (wire__blocked_on()). Returns 0 once resumed: a blocking
 * call that ends with `return wire__suspend(cur)` and keeps nothing on its
 * stack meanwhile compiles to a jump into the switch, and its wire later
 * resumes directly in its caller (see coro_x86_64.S).
 */
static inline int wire__suspend(wire_t *cur)
{
	wire_thread_t *t = cur->thread;

	/* Out of line and last, so the common path keeps nothing across a call. */
	if (__builtin_expect(cur->cancel == WIRE__CANCEL_ASKED, 0))
		return wire__suspend_cancelled(cur);
	cur->state = WIRE_SUSPENDED;
	t->num_suspended++;
	return coro_switch(&cur->coro, wire__next_context(t));
}

/*
 * Record what the running wire @cur is about to wait on, for the listings
 * (wire_thread_dump(), gdb): @what names the wait, @obj is the object or
 * NULL, and the wait starts now. A wait on an fd or with a deadline sets
 * blocked.fd and blocked.deadline after this. A wait that parks again
 * after a wake that did not end it (a wire_resume()) records itself once,
 * before its first park: it has waited since then.
 */
static inline void wire__blocked_on(wire_t *cur, const char *what, const void *obj)
{
	cur->blocked.what = what;
	cur->blocked.obj = obj;
	cur->blocked.deadline = 0;
	cur->blocked.fd = -1;
	cur->blocked.since = cur->thread->now;
}

/*
 * Suspend @cur waiting on the record @p (NULL: nothing to withdraw), so
 * that a wire_cancel() of it can take the record back.
 */
static inline int wire__park(wire_t *cur, wire_park_t *p)
{
	cur->park = p;
	return wire__suspend(cur);
}

/* A blocking call's cancellation point: ends @cur if it was cancelled. */
static inline void wire__cancel_point(wire_t *cur)
{
	if (__builtin_expect(cur->cancel == WIRE__CANCEL_ASKED, 0))
		wire__cancel_self(cur);
}

/*
 * Run every other ready wire once, without a cancellation point: after a
 * hand-off the caller's operation has completed and must return (a
 * rendezvous send whose message may point into the caller's stack).
 */
static inline void wire__yield_after(wire_t *cur)
{
	wire_thread_t *t = cur->thread;
	wire_coro_t *to;

	cur->state = WIRE_READY;
	wire__runq_push(t, cur);
	to = wire__next_context(t);
	if (to != &cur->coro)
		coro_switch(&cur->coro, to);
}

/* wire_yield() of the running wire @cur: run every other ready wire once. */
static inline void wire__yield(wire_t *cur)
{
	wire__cancel_point(cur);
	wire__yield_after(cur);
}

/* Queue the suspended wire @w. */
static inline void wire__wake(wire_t *w)
{
	wire_thread_t *t = w->thread;

	if (__builtin_expect(t != wire__self, 0))
		wire__misuse("wire_resume",
			     "the wire belongs to the scheduler of another OS thread");
	t->num_suspended--;
	w->state = WIRE_READY;
	wire__runq_push(t, w);
}

/*
 * wire_resume(@w) without the check for a hand-off wait: queue @w if it is
 * suspended, otherwise do nothing.
 */
static inline void wire__resume(wire_t *w)
{
	if (w && w->state == WIRE_SUSPENDED)
		wire__wake(w);
}

/*
 * Hand-off waits. A wire blocked until another wire hands it something
 * (a message, a lock, a semaphore unit, a trigger) parks with
 * handoff.wire set, and only the hand-off wakes it (wire_resume() leaves
 * it alone meanwhile). It needs no second look when it runs again, so a
 * call that ends with `return wire__handoff_hold(cur)` switches away as
 * its last step and resumes straight in its own caller.
 */
static inline int wire__handoff_hold(wire_t *cur)
{
	cur->handoff.wire = cur;
	return wire__suspend(cur);
}

/* End the hand-off wait of @w (suspended until this call). */
static inline void wire__handoff_wake(wire_t *w)
{
	w->handoff.wire = NULL;
	wire__wake(w);
}

/*
 * Hold @cur with its embedded record queued on the FIFO @q of @obj, a
 * wait named @what (wire__blocked_on()).
 */
static inline int wire__handoff_park(wire_t *cur, wire_list_t *q, const char *what, const void *obj)
{
	wire__blocked_on(cur, what, obj);
	list_add_tail(q, &cur->handoff.link);
	return wire__handoff_hold(cur);
}

static inline wire_handoff_t *wire__handoff_of(wire_list_t *n)
{
	return wire_container_of(n, wire_handoff_t, link);
}

/* End the wait of the record @h, which has left its queue. */
static inline void wire__handoff_release(wire_handoff_t *h)
{
	wire__handoff_wake(h->wire);
}

#endif
