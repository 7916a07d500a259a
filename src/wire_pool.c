/*
 * wire_pool - a fixed set of reusable wires and guarded stacks.
 *
 * Free entries form a singly linked LIFO stack: the entry that finished
 * last is the next one handed out, so its stack is still in the cache.
 * Callers of wire_pool_alloc_block() that find no free entry park on a
 * FIFO list with a record on their own stack; a finished entry is handed
 * to the oldest of them directly (it never reaches the free stack, so a
 * wire_pool_alloc() made in the meantime cannot take it).
 *
 * When may a finished entry be reused? The wire layer calls the wire's
 * on_end hook, which gives the entry back, as the wire ends: after the
 * caller's function returned (or the wire was cancelled), still on the
 * entry's stack, and then switches away from that stack for the last
 * time (a wire cancelled while suspended with nothing to unwind is ended
 * by another wire and never runs on it again). Between the give-back and
 * that final switch no other wire runs:
 * scheduling is cooperative and neither the give-back (list operations and
 * a wire__resume(), which only queues) nor the wire layer's exit path
 * switches or calls user code. So whoever takes the entry next - a waiter
 * we resumed, a later wire_pool_alloc(), wire_pool_destroy() unmapping the
 * stack - can only run after the old wire has left the stack and the
 * wire_t for good. That is also why the hand-off to a waiter only records
 * the entry in the waiter's record and does not call wire_init() itself:
 * wire_init() lays out a fresh context at the top of the stack, which the
 * dying wire is still running on at that moment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire_pool.h"
#include "sys.h"
#include "wire_stack.h"
#include "list.h"
#include "wire_internal.h"

/* A caller parked in wire_pool_alloc_block(); lives on that wire's stack. */
struct pool_waiter {
	wire_list_t link;	  /* in pool->waiters; first member (see give_back) */
	wire_park_t park;	  /* taken back by wire_cancel() */
	wire_t *wire;		  /* the parked wire */
	wire_pool_entry_t *entry; /* set when an entry is handed over */
};
_Static_assert(offsetof(struct pool_waiter, link) == 0, "give_back casts the node");

static int waiter_withdraw(wire_park_t *p)
{
	list_del(&wire_container_of(p, struct pool_waiter, park)->link);
	return 1;
}

/* Abort: @call was given a pool that wire_pool_init() did not set up. */
static void __attribute__((noreturn, cold)) not_initialized(const char *call)
{
	wire__misuse(call, "the pool is not initialized (wire_pool_init() failed or was "
			   "not called) or was destroyed");
}

/* Mark @pool as not initialized, so that its use aborts; errno @err. */
static int init_failed(wire_pool_t *pool, int err)
{
	if (pool) {
		memset(pool, 0, sizeof(*pool));
		list_init(&pool->waiters);
	}
	errno = err;
	return -1;
}

int wire_pool_init(wire_pool_t *pool, wire_pool_entry_t *entries, unsigned size,
		   unsigned stack_size)
{
	unsigned ps = (unsigned)sysconf(_SC_PAGESIZE);
	wire_pool_entry_t *owned = NULL;
	unsigned rounded;

	if (!pool || size == 0 || stack_size < WIRE_STACK_MIN)
		return init_failed(pool, EINVAL);
	if (!entries) {
		/* The seed: the pool provides the memory when the caller does not. */
		owned = entries = sys_calloc(size, sizeof(*entries));
		if (!entries)
			return init_failed(pool, ENOMEM);
	}
	/* Use the whole of the pages wire_stack_alloc() maps. */
	rounded = (stack_size + ps - 1) & ~(ps - 1);
	if (rounded < stack_size)
		rounded = stack_size;
	pool->entries = entries;
	pool->owned = owned;
	pool->size = size;
	pool->in_use = 0;
	pool->stack_size = rounded;
	list_init(&pool->waiters);
	pool->free = NULL;
	/* Entry 0 ends on top: a fresh pool hands out entries in array order. */
	for (unsigned i = size; i-- > 0;) {
		wire_pool_entry_t *e = &entries[i];
		memset(&e->wire, 0, sizeof(e->wire));
		e->wire.state = WIRE_DONE;
		e->stack = NULL;
		e->pool = pool;
		e->next_free = pool->free;
		pool->free = e;
	}
	return 0;
}

/* Return @e: to the oldest blocked caller if there is one, else on top of the free stack. */
static void give_back(wire_pool_t *pool, wire_pool_entry_t *e)
{
	if (__builtin_expect(!list_empty(&pool->waiters), 0)) {
		/* link is the first member: the node is the record. */
		struct pool_waiter *w = (struct pool_waiter *)(void *)list_pop(&pool->waiters);
		w->entry = e; /* stays in use: it passes straight to the waiter */
		wire__resume(w->wire);
		return;
	}
	e->next_free = pool->free;
	pool->free = e;
	pool->in_use--;
}

/*
 * The wire of @w's entry has ended (returned or cancelled): see the
 * comment at the top, nothing runs between this and the wire's last
 * switch away from the stack, if it still runs on it at all.
 */
static void entry_ended(wire_t *w)
{
	wire_pool_entry_t *e = wire_container_of(w, wire_pool_entry_t, wire);

	give_back(e->pool, e);
}

/* Undo the taking of @e after a failure; errno is kept. */
static wire_t *__attribute__((noinline, cold)) untake(wire_pool_t *pool, wire_pool_entry_t *e)
{
	int err = errno;

	give_back(pool, e);
	errno = err;
	return NULL;
}

/* First use of @e: map its stack, unless the call is bound to fail. */
static int __attribute__((noinline, cold)) first_stack(wire_pool_t *pool, wire_pool_entry_t *e)
{
	if (!wire_thread_get()) {
		errno = EINVAL;
		return -1;
	}
	e->stack = wire_stack_alloc(pool->stack_size);
	return e->stack ? 0 : -1;
}

/* Start a wire on @e, which the caller has taken (counted in use). */
static inline wire_t *start(wire_pool_t *pool, wire_pool_entry_t *e, const char *name,
			    void (*fn)(void *), void *arg)
{
	wire_t *w;

	if (__builtin_expect(e->stack == NULL, 0) && first_stack(pool, e) != 0)
		return untake(pool, e);
	/* Fails only without a scheduler on this thread (EINVAL), and then
	 * changes nothing: stack and entry function were checked. */
	w = wire_init(&e->wire, name, fn, arg, e->stack, pool->stack_size);
	if (__builtin_expect(w == NULL, 0))
		return untake(pool, e);
	w->on_end = entry_ended;
	return w;
}

static wire_t *__attribute__((noinline, cold)) fail_with(int err)
{
	errno = err;
	return NULL;
}

wire_t *wire_pool_alloc(wire_pool_t *pool, const char *name, void (*entry_point)(void *), void *arg)
{
	wire_pool_entry_t *e;

	if (__builtin_expect(!pool || !entry_point, 0))
		return fail_with(EINVAL);
	if (__builtin_expect(!pool->entries, 0))
		not_initialized("wire_pool_alloc");
	e = pool->free;
	if (__builtin_expect(!e, 0))
		return fail_with(EAGAIN);
	pool->free = e->next_free;
	pool->in_use++;
	return start(pool, e, name, entry_point, arg);
}

wire_t *wire_pool_alloc_block(wire_pool_t *pool, const char *name, void (*entry_point)(void *),
			      void *arg)
{
	struct pool_waiter w;
	wire_pool_entry_t *e;

	w.wire = wire__blocking_current("wire_pool_alloc_block");
	wire__cancel_point(w.wire);
	if (!pool || !entry_point) {
		errno = EINVAL;
		return NULL;
	}
	if (!pool->entries)
		not_initialized("wire_pool_alloc_block");
	e = pool->free;
	if (e) {
		pool->free = e->next_free;
		pool->in_use++;
	} else {
		w.entry = NULL;
		w.park.withdraw = waiter_withdraw;
		list_add_tail(&pool->waiters, &w.link);
		/* Other resumes of this wire are absorbed: only a hand-off ends the wait. */
		wire__blocked_on(w.wire, "pool", pool);
		while (!w.entry)
			wire__park(w.wire, &w.park);
		e = w.entry;
	}
	return start(pool, e, name, entry_point, arg);
}

unsigned wire_pool_in_use(const wire_pool_t *pool)
{
	return pool ? pool->in_use : 0;
}

int wire_pool_destroy(wire_pool_t *pool)
{
	if (!pool) {
		errno = EINVAL;
		return -1;
	}
	if (!pool->entries)
		not_initialized("wire_pool_destroy");
	if (pool->in_use) {
		errno = EBUSY;
		return -1;
	}
	for (unsigned i = 0; i < pool->size; i++) {
		wire_pool_entry_t *e = &pool->entries[i];
		if (e->stack) {
			if (wire_stack_free(e->stack, pool->stack_size) != 0)
				return -1;
			e->stack = NULL;
		}
	}
	free(pool->owned);
	pool->owned = NULL;
	pool->entries = NULL;
	pool->free = NULL;
	pool->size = 0;
	return 0;
}
