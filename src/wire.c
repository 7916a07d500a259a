/*
 * wire - the per-OS-thread scheduler: run queue, suspend/resume, timers.
 *
 * A wire that stops running hands the CPU straight to the next ready wire:
 * one context switch per yield, with no detour through the scheduler. The
 * scheduler's own context (wire_thread_run) is entered only when the run
 * queue is empty, or every WIRE_POLL_INTERVAL switches while timers or a poller
 * have work, so that fds and timers are never starved by busy wires.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire.h"
#include "coro.h"
#include "list.h"
#include "wire_internal.h"
#include "wire_debug_internal.h"

__thread wire_thread_t *wire__self __attribute__((tls_model("initial-exec")));

void wire__misuse(const char *call, const char *what)
{
	fprintf(stderr, "libwire: %s: %s\n", call, what);
	abort();
}

/* The running wire; aborts naming @call when there is none. */
static inline wire_t *current_or_die(wire_thread_t *t, const char *call)
{
	if (__builtin_expect(t == NULL || t->current == NULL, 0))
		wire__misuse(call, "called outside a wire (only a running wire can block)");
	return t->current;
}

/* ------------------------------------------------------------------ */
/* Timers.                                                             */
/*
 * Most programs arm timers with one duration (a sleep, an idle timeout of
 * every connection), so deadlines mostly arrive in increasing order. A
 * timer whose deadline is not earlier than the last one in the list is
 * appended to a sorted doubly linked list: arming, stopping and firing it
 * is O(1) and touches only its neighbours. Any other timer goes to an
 * intrusive pairing heap. The earliest timer is the head of one of the
 * two. In the list, sibling links forward and prev backward.
 */

enum { TIMER_IDLE, TIMER_IN_HEAP, TIMER_IN_LIST };

static wire_timer_t *heap_meld(wire_timer_t *a, wire_timer_t *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (b->deadline < a->deadline) {
		wire_timer_t *tmp = a;
		a = b;
		b = tmp;
	}
	b->prev = a;
	b->sibling = a->child;
	if (a->child)
		a->child->prev = b;
	a->child = b;
	a->sibling = NULL;
	a->prev = NULL;
	return a;
}

/* Two-pass pairing of a sibling list into one heap. */
static wire_timer_t *heap_merge_pairs(wire_timer_t *first)
{
	wire_timer_t *pairs = NULL, *root = NULL;

	while (first) {
		wire_timer_t *a = first, *b = a->sibling, *m;
		if (!b) {
			a->sibling = pairs;
			pairs = a;
			break;
		}
		first = b->sibling;
		m = heap_meld(a, b);
		m->sibling = pairs;
		pairs = m;
	}
	while (pairs) {
		wire_timer_t *next = pairs->sibling;
		pairs->sibling = NULL;
		pairs->prev = NULL;
		root = heap_meld(root, pairs);
		pairs = next;
	}
	return root;
}

static void heap_remove(wire_thread_t *t, wire_timer_t *tm)
{
	wire_timer_t *sub = heap_merge_pairs(tm->child);

	if (tm == t->timers) {
		t->timers = sub;
	} else {
		if (tm->prev->child == tm)
			tm->prev->child = tm->sibling;
		else
			tm->prev->sibling = tm->sibling;
		if (tm->sibling)
			tm->sibling->prev = tm->prev;
		t->timers = heap_meld(t->timers, sub);
	}
	tm->armed = TIMER_IDLE;
	t->num_timers--;
}

static void timer_remove(wire_thread_t *t, wire_timer_t *tm)
{
	if (tm->armed == TIMER_IN_HEAP) {
		heap_remove(t, tm);
		return;
	}
	if (tm->prev)
		tm->prev->sibling = tm->sibling;
	else
		t->tlist_head = tm->sibling;
	if (tm->sibling)
		tm->sibling->prev = tm->prev;
	else
		t->tlist_tail = tm->prev;
	tm->armed = TIMER_IDLE;
	t->num_timers--;
}

/* The armed timer with the earliest deadline, or NULL. */
static inline wire_timer_t *timer_first(const wire_thread_t *t)
{
	wire_timer_t *h = t->timers, *l = t->tlist_head;

	if (!h)
		return l;
	if (!l)
		return h;
	return l->deadline <= h->deadline ? l : h;
}

void wire_timer_init(wire_timer_t *tm, void (*fire)(wire_timer_t *))
{
	memset(tm, 0, sizeof(*tm));
	tm->fire = fire;
}

void wire_timer_start_at(wire_timer_t *tm, int64_t deadline_ns)
{
	wire_thread_t *t = wire__self;

	if (!t)
		wire__misuse("wire_timer_start_at",
			     "no scheduler on this thread (call wire_thread_init)");
	if (tm->armed) {
		if (tm->thread != t)
			wire__misuse("wire_timer_start_at",
				     "the timer is armed on the scheduler of another OS thread");
		timer_remove(t, tm);
	}
	if (t->firing && deadline_ns <= t->now)
		deadline_ns = t->now + 1;
	tm->thread = t;
	tm->deadline = deadline_ns;
	tm->child = tm->sibling = NULL;
	if (!t->tlist_tail || deadline_ns >= t->tlist_tail->deadline) {
		tm->prev = t->tlist_tail;
		if (t->tlist_tail)
			t->tlist_tail->sibling = tm;
		else
			t->tlist_head = tm;
		t->tlist_tail = tm;
		tm->armed = TIMER_IN_LIST;
	} else {
		tm->prev = NULL;
		tm->armed = TIMER_IN_HEAP;
		t->timers = heap_meld(t->timers, tm);
	}
	t->num_timers++;
}

int wire_timer_stop(wire_timer_t *tm)
{
	if (!tm->armed)
		return 0;
	if (tm->thread != wire__self)
		wire__misuse("wire_timer_stop",
			     "the timer is armed on the scheduler of another OS thread");
	timer_remove(tm->thread, tm);
	return 1;
}

int64_t wire_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Fire the timers due at t->now. */
static void fire_timers(wire_thread_t *t)
{
	t->firing = 1;
	for (;;) {
		wire_timer_t *tm = timer_first(t);
		if (!tm || tm->deadline > t->now)
			break;
		timer_remove(t, tm);
		t->stats.timers_fired++;
		tm->fire(tm);
	}
	t->firing = 0;
}

/* ------------------------------------------------------------------ */
/* Scheduling.                                                         */

void wire__exit(wire_t *cur)
{
	wire_thread_t *t = cur->thread;

	wire__finish(cur);
	coro_exit(&cur->coro, &t->grave, wire__next_context(t));
}

static void __attribute__((noreturn)) wire_main(void *arg)
{
	wire_t *w = arg;

	coro_started();
	/* A wire cancelled before it ever ran does not run at all. */
	if (__builtin_expect(w->cancel == WIRE__CANCEL_NONE, 1))
		w->entry(w->arg);
	wire__exit(w);
}

/*
 * Copy @name into the wire: programs name wires from one reused buffer
 * (snprintf(buf, ...); wire_init(..., buf, ...)), which a pointer would
 * turn into one name for all of them.
 */
static inline void copy_name(wire_t *w, const char *name)
{
	char *d = w->name, *end = w->name + WIRE_NAME_MAX - 1;

	if (name)
		while (d < end && (*d = *name++) != '\0')
			d++;
	*d = '\0';
}

wire_t *wire_init(wire_t *w, const char *name, void (*entry)(void *), void *arg, void *stack,
		  unsigned stack_size)
{
	wire_thread_t *t = wire__self;

	if (!w || !entry || !stack || stack_size < WIRE_STACK_MIN || !t) {
		errno = EINVAL;
		return NULL;
	}
	copy_name(w, name);
	w->entry = entry;
	w->arg = arg;
	w->thread = t;
	list_add_tail(&t->wires, &w->link);
	t->stats.wires_started++;
	w->handoff.wire = NULL;
	w->handoff.fire = NULL;
	w->cancel = WIRE__CANCEL_NONE;
	w->defers = 0;
	list_init(&w->joiners);
	w->on_end = NULL;
	w->group = NULL;
	coro_make(&w->coro, stack, stack_size, wire_main, w);
	w->state = WIRE_READY;
	wire__runq_push(t, w);
	return w;
}

void wire_yield(void)
{
	wire__yield(current_or_die(wire__self, "wire_yield"));
}

void wire_suspend(void)
{
	wire_t *cur = current_or_die(wire__self, "wire_suspend");

	wire__blocked_on(cur, "wire_suspend", NULL);
	(void)wire__park(cur, NULL);
}

void wire_resume(wire_t *w)
{
	/* A hand-off wait is ended by the hand-off only (wire__handoff_park). */
	if (w && w->handoff.wire)
		return;
	wire__resume(w);
}

struct sleeper {
	wire_park_t park; /* first: the park is the record */
	wire_timer_t timer;
	wire_t *wire;
};

static void sleeper_fire(wire_timer_t *tm)
{
	wire_resume(wire_container_of(tm, struct sleeper, timer)->wire);
}

static int sleeper_withdraw(wire_park_t *p)
{
	wire_timer_stop(&((struct sleeper *)(void *)p)->timer);
	return 1;
}

int wire_sleep_ns(int64_t ns)
{
	wire_thread_t *t = wire__self;
	struct sleeper s;
	int64_t now;

	s.wire = current_or_die(t, "wire_sleep_ns");
	if (ns <= 0) {
		wire_yield();
		return 0;
	}
	wire__cancel_point(s.wire);
	wire_timer_init(&s.timer, sleeper_fire);
	s.park.withdraw = sleeper_withdraw;
	now = wire_now_ns();
	/* Past the clock's range: forever, not a deadline wrapped into the past. */
	wire_timer_start_at(&s.timer, ns > INT64_MAX - now ? INT64_MAX : now + ns);
	wire__blocked_on(s.wire, "sleep", NULL);
	s.wire->blocked.deadline = s.timer.deadline;
	while (s.timer.armed)
		wire__park(s.wire, &s.park);
	return 0;
}

/* Block the thread until @deadline when nothing but timers can wake a wire. */
static void sleep_until(int64_t deadline)
{
	struct timespec ts = {.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000};

	/* A signal (a dump request) ends the sleep early: the loop looks again. */
	wire__set_busy(0);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	wire__set_busy(1);
}

/*
 * Count the switches the budget covered so far and start a new one: of
 * WIRE_POLL_INTERVAL switches, or of 1 while a timeline or the stall
 * detector wants to see every switch.
 */
static inline void budget_renew(wire_thread_t *t)
{
	unsigned used = t->budget_reset - t->poll_budget;

	t->stats.switches += used;
	t->since_look += used;
	t->budget_reset = t->poll_budget = wire__hooks_on() ? 1 : WIRE_POLL_INTERVAL;
	wire__progress();
}

/* Look at the poller without blocking (@timeout 0) or block in it. */
static void poll_events(wire_thread_t *t, wire_poller_t *p, int64_t timeout)
{
	t->stats.polls++;
	if (timeout) {
		t->stats.polls_blocking++;
		wire__set_busy(0);
	}
	p->poll(p, timeout);
	if (timeout)
		wire__set_busy(1);
}

void wire_thread_run(void)
{
	wire_thread_t *t = wire__self;
	int polled;

	if (!t)
		wire__misuse("wire_thread_run",
			     "no scheduler on this thread (call wire_thread_init)");
	if (t->current || t->in_run)
		wire__misuse("wire_thread_run", "called from inside a wire");
	t->in_run = 1;
	__atomic_store_n(&wire__reg.in_run, 1, __ATOMIC_RELAXED);
	wire__set_busy(1);
	polled = 0;
	for (;;) {
		wire_poller_t *p = t->poller;
		wire_timer_t *first;
		int polling;
		wire_t *w;

		coro_reap(&t->grave);
		/* The clock of wire_t.blocked.since and of the timers. */
		t->now = wire_now_ns();
		if (__builtin_expect(wire__trace_wanted(t), 0))
			wire__trace_join(t);
		if (__builtin_expect(wire__hooks_on() && !wire__reg.stall_stack, 0))
			wire__stall_thread_setup();
		if (__builtin_expect(t->trace != NULL, 0))
			wire__trace_switch(t, NULL);
		if (__builtin_expect(wire__dump_due(t), 0))
			wire__dump_serve(t);
		if (t->num_timers)
			fire_timers(t);
		/* After the timers: a timer callback may hand work to the poller. */
		polling = p && p->pending;
		if (t->run_head) {
			/* Entered with wires ready every WIRE_POLL_INTERVAL switches
			 * (with a timeline, at every switch): look for events
			 * without blocking. Not right after a blocking poll, which
			 * has just looked. */
			budget_renew(t);
			if (t->since_look >= WIRE_POLL_INTERVAL) {
				if (polling && !polled)
					poll_events(t, p, 0);
				t->since_look = 0;
			}
			polled = 0;
			w = t->run_head;
			wire__runq_unlink_head(t, w);
			w->state = WIRE_RUNNING;
			t->current = w;
			t->stats.switches++;
			if (__builtin_expect(t->trace != NULL, 0))
				wire__trace_switch(t, w);
			coro_switch(&t->sched, &w->coro);
			continue;
		}
		first = timer_first(t);
		if (polling) {
			int64_t timeout = -1;
			if (first) {
				timeout = first->deadline - t->now;
				if (timeout < 0)
					timeout = 0;
			}
			poll_events(t, p, timeout);
			polled = 1;
		} else if (first) {
			sleep_until(first->deadline);
		} else {
			break;
		}
	}
	t->in_run = 0;
	__atomic_store_n(&wire__reg.in_run, 0, __ATOMIC_RELAXED);
	wire__set_busy(0);
	if (t->num_suspended && t->report_deadlock) {
		fprintf(
		    stderr,
		    "libwire: wire_thread_run: deadlock: nothing can wake the suspended wires\n");
		wire_thread_report_suspended();
	}
}

void wire_thread_init(wire_thread_t *t)
{
	const char *env = getenv("WIRE_DEADLOCK_REPORT");

	memset(t, 0, sizeof(*t));
	t->run_tailp = &t->run_head;
	list_init(&t->wires);
	t->budget_reset = t->poll_budget = WIRE_POLL_INTERVAL;
	coro_init_self(&t->sched);
	coro_init_self(&t->grave);
	t->grave.tsan_fiber = NULL;
	t->report_deadlock = env && *env && strcmp(env, "0") != 0;
	t->now = wire_now_ns();
	wire__self = t;
	wire__debug_thread_init(t);
}

unsigned wire_thread_suspended(void)
{
	return wire__self ? wire__self->num_suspended : 0;
}

void wire_thread_report_suspended(void)
{
	wire_thread_t *t = wire__self;

	if (!t)
		return;
	fprintf(stderr, "libwire: %u suspended wire(s):\n", t->num_suspended);
	fflush(stderr);
	wire__dump_list(t, 2, WIRE_SUSPENDED);
}

void wire_thread_set_deadlock_report(int enable)
{
	if (wire__self)
		wire__self->report_deadlock = enable != 0;
}

void wire_thread_set_poller(wire_poller_t *p)
{
	if (!wire__self)
		wire__misuse("wire_thread_set_poller",
			     "no scheduler on this thread (call wire_thread_init)");
	wire__self->poller = p;
}

wire_thread_t *wire_thread_get(void)
{
	return wire__self;
}

wire_t *wire_get_current(void)
{
	return wire__self ? wire__self->current : NULL;
}

const char *wire_get_name(void)
{
	wire_t *w = wire_get_current();
	return w && w->name[0] ? w->name : NULL;
}
