/*
 * wire_pool.h - a fixed set of reusable wires with guarded stacks.
 *
 * A pool hands out wires from an array of entries. The caller may provide
 * the array (a static array works, and the pool then allocates nothing
 * but the stacks), or pass NULL and let the pool allocate it. Each entry's
 * stack comes from wire_stack_alloc() the first time the entry is used and
 * is kept until wire_pool_destroy(), so a spawn costs no syscall once the
 * pool is warm. When a pooled wire's entry function returns, its entry goes
 * back to the pool by itself. Free entries are reused last-in first-out:
 * the next wire runs on the stack that was used last, still in the cache.
 * Callers blocked in wire_pool_alloc_block() are served first-in first-out,
 * each freed entry handed directly to the oldest of them.
 *
 * A pool belongs to one scheduler thread: use it only from the OS thread
 * that runs its wires.
 */
#ifndef WIRE_POOL_H
#define WIRE_POOL_H

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

struct wire_pool;

/* One wire of a pool. Caller memory; treat the fields as private. */
typedef struct wire_pool_entry {
	wire_t wire; /* the wire handed out */
	void *stack; /* from wire_stack_alloc(), or NULL until first use */
	struct wire_pool *pool;
	struct wire_pool_entry *next_free; /* link in the pool's free stack */
} wire_pool_entry_t;

/* A pool. Caller memory; treat the fields as private. */
typedef struct wire_pool {
	wire_pool_entry_t *entries; /* the entries; NULL: not initialized, or destroyed */
	wire_pool_entry_t *owned;   /* the entries if the pool allocated them, else NULL */
	wire_pool_entry_t *free;    /* top of the LIFO stack of free entries */
	wire_list_t waiters;	    /* wires blocked in wire_pool_alloc_block(), FIFO */
	unsigned size;		    /* number of entries */
	unsigned in_use;	    /* entries running a wire or handed to a waiter */
	unsigned stack_size;	    /* bytes of each stack (page multiple) */
} wire_pool_t;

/*
 * Make @pool hand out @size wires, each with a guarded stack of
 * @stack_size bytes rounded up to whole pages (no stack is mapped yet).
 * The entries are @entries, caller memory that must stay valid until
 * wire_pool_destroy(); or, when @entries is NULL, an array the pool
 * allocates now and wire_pool_destroy() frees. Never blocks. Returns 0, or
 * -1 with errno: EINVAL (@pool NULL, @size 0 or @stack_size below
 * WIRE_STACK_MIN), ENOMEM (no memory for the entries). A pool whose
 * initialization failed is marked so: any later use of it other than
 * wire_pool_init() aborts with a message naming the call.
 */
int wire_pool_init(wire_pool_t *pool, wire_pool_entry_t *entries, unsigned size,
		   unsigned stack_size);

/*
 * Take a free entry and start a wire on it that will run
 * @entry_point(@arg), as wire_init() does (queued, not switched to; @name
 * copied). When @entry_point returns the entry goes back to the
 * pool. The entry's stack is mapped on its first use. Never blocks.
 * Returns the wire, or NULL with errno:
 *   EAGAIN  every entry is in use (or promised to a blocked caller);
 *   ENOMEM  (or another errno of wire_stack_alloc()) the entry's stack could
 *           not be mapped; the entry stays free;
 *   EINVAL  @pool or @entry_point is NULL, or the thread has no scheduler.
 * Aborts if @pool is not initialized (wire_pool_init() failed) or was
 * destroyed.
 */
wire_t *wire_pool_alloc(wire_pool_t *pool, const char *name, void (*entry_point)(void *),
			void *arg);

/*
 * As wire_pool_alloc(), but when every entry is in use, suspend the calling
 * wire until one is freed. Blocked callers are served in the order they
 * blocked; a freed entry is handed to the oldest directly, so a caller that
 * arrives later cannot take it first. Returns the wire, or NULL with errno
 * EINVAL or the stack errors of wire_pool_alloc() (the entry then goes to
 * the next blocked caller). Aborts when called outside a wire, even if an
 * entry is free (it could block). Cancelled while blocked, the caller
 * leaves the queue and ends; no entry is taken for it.
 *
 * A pooled wire that is cancelled gives its entry back as one whose
 * entry function returned.
 */
wire_t *wire_pool_alloc_block(wire_pool_t *pool, const char *name, void (*entry_point)(void *),
			      void *arg);

/* Number of entries now in use (running wires and entries promised to blocked callers). */
unsigned wire_pool_in_use(const wire_pool_t *pool);

/*
 * Unmap the stacks of every entry, and free the entries if the pool
 * allocated them. Only when no entry is in use: returns -1 with errno
 * EBUSY otherwise, and changes nothing. Returns 0 on success; @pool and a
 * caller's entries array are then free for the caller to reuse (call
 * wire_pool_init() before using the pool again). If unmapping a stack
 * fails, returns -1 with that errno; the pool stays valid (entries whose
 * stacks were already released map new ones on their next use) and the
 * call may be repeated. Never blocks.
 */
int wire_pool_destroy(wire_pool_t *pool);

#ifdef __cplusplus
}
#endif
#endif
