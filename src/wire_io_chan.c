/*
 * wire_io_chan - a scheduler thread's completion channel.
 *
 * Workers push completed records on the channel's list, a lock-free LIFO
 * (one compare-and-swap); the push that finds the list empty writes the
 * channel's eventfd, so a batch of completions costs one wakeup. The
 * eventfd is a watch of the thread's poller (wire_fd layer): the poller
 * runs on_ready() on the scheduler stack, which reads the eventfd, takes
 * the whole list and wakes the wires. The eventfd is read before the list
 * is taken, so a completion pushed after the take writes it again. The
 * io_uring backend signals through the same eventfd.
 *
 * pending: each call handed to a worker adds one to the poller's pending
 * work until its completion is taken, so wire_thread_run() keeps waiting
 * for it; an idle channel adds nothing and parks no wire.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "wire_io.h"
#include "wire_io_internal.h"
#include "list.h"

/* initial-exec: a plain access, also from libwire.so. */
static __thread struct wio_ctx tctx __attribute__((tls_model("initial-exec")));
/* Releases an open tctx when its thread exits (ctx_thread_exit). */
static pthread_key_t ctx_key;
static pthread_once_t ctx_key_once = PTHREAD_ONCE_INIT;

struct wio_ctx *wio_ctx_self(void)
{
	return &tctx;
}

unsigned long wire__io_handoffs(void)
{
	return tctx.handoffs;
}

void wio_ctx_push(struct wio_req *r)
{
	struct wio_ctx *c = r->ctx; /* @r may be gone once pushed */
	struct wio_req *old = atomic_load_explicit(&c->done_list, memory_order_relaxed);
	static const uint64_t one = 1;

	/*
	 * Once pushed, the record can be taken, its call finished and @c
	 * closed by its thread, or the thread gone, while this worker has yet
	 * to write the eventfd. The count, raised before the push (so
	 * whoever takes the push sees it), makes wio_ctx_close() wait.
	 */
	atomic_fetch_add_explicit(&c->pushing, 1, memory_order_relaxed);
	do
		r->next = old;
	while (!atomic_compare_exchange_weak_explicit(&c->done_list, &old, r, memory_order_acq_rel,
						      memory_order_relaxed));
	/* The eventfd was written for the batch already if the list was not empty. */
	if (!old)
		while (sys_write(c->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	atomic_fetch_sub_explicit(&c->pushing, 1, memory_order_release);
}

/* Take the completions the workers pushed, in completion order. */
static void reap_pool(struct wio_ctx *c)
{
	struct wio_req *r = atomic_exchange_explicit(&c->done_list, NULL, memory_order_acquire);
	struct wio_req *fifo = NULL;
	int n = 0;

	while (r) {
		struct wio_req *next = r->next;
		r->next = fifo;
		fifo = r;
		r = next;
		n++;
	}
	if (!n)
		return;
	wire__fd_pending_add(-n);
	while (fifo) {
		struct wio_req *next = fifo->next;
		wio_complete(c, fifo);
		fifo = next;
	}
}

/* The poller saw the eventfd: take every completion there is. */
static void on_ready(struct wire__fd_watch *w)
{
	struct wio_ctx *c = wire_container_of(w, struct wio_ctx, watch);
	uint64_t v;

	/* Read first: a push after the take below writes the eventfd again. */
	sys_read(c->efd, &v, sizeof(v));
	reap_pool(c);
	wio_uring_reap(c);
}

int wio_ctx_watch(struct wio_ctx *c)
{
	return wire__fd_watch(&c->watch, c->efd, on_ready);
}

/* Wait until no worker is still busy with a push to @c (see wio_ctx_push). */
static void ctx_quiesce(struct wio_ctx *c)
{
	for (unsigned spins = 0; atomic_load_explicit(&c->pushing, memory_order_acquire); spins++)
		if (spins >= 64)
			sched_yield(); /* the worker was preempted in its window */
}

/* Release what @c holds outside its thread: the io_uring instance and the eventfd. */
static void ctx_release(struct wio_ctx *c)
{
	ctx_quiesce(c);
	wio_uring_close(c);
	sys_close(c->efd);
	c->efd = -1;
	c->gen = 0;
	pthread_setspecific(ctx_key, NULL);
}

/*
 * A thread that used wio_ calls ends: release its channel. Its scheduler
 * and poller may be gone, so the watch is left alone (the eventfd leaves
 * the epoll set as it closes); after wire_thread_run() returned no timer
 * of the channel is armed. A thread that left from inside its scheduler
 * (a timer still armed, or wires blocked in calls that workers or the
 * kernel will still complete) leaves the channel as it is: nothing can be
 * released safely then.
 */
static void ctx_thread_exit(void *arg)
{
	struct wio_ctx *c = arg;

	if (!c->gen || c->busy || wio_uring_armed(c) || c->inherited)
		return;
	ctx_release(c);
}

static void ctx_key_create(void)
{
	if (pthread_key_create(&ctx_key, ctx_thread_exit) != 0)
		wire__misuse("wire_io", "pthread_key_create failed: no key for thread exit");
}

int wio_ctx_open(struct wio_ctx *c, unsigned gen, int with_ring)
{
	memset(c, 0, sizeof(*c));
	c->efd = sys_eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0)
		return -1;
	wire_fd_mode_init(&c->watch.state, -1);
	atomic_init(&c->done_list, NULL);
	if (with_ring && wio_uring_open(c) != 0) {
		int err = errno;
		sys_close(c->efd);
		c->efd = -1;
		errno = err;
		return -1;
	}
	c->gen = gen;
	pthread_once(&ctx_key_once, ctx_key_create);
	pthread_setspecific(ctx_key, c);
	return 0;
}

void wio_ctx_close(struct wio_ctx *c)
{
	if (c->watch.state.fd >= 0)
		wire__fd_unwatch(&c->watch);
	ctx_release(c);
}

void wio_ctx_forget(struct wio_ctx *c)
{
	/* The parent's ring is mapped shared: unmap it, never submit or reap. */
	wio_uring_forget(c);
	sys_close(c->efd);
	memset(c, 0, sizeof(*c));
	c->efd = -1;
}

static int drain_withdraw(wire_park_t *p)
{
	(void)p;
	return 0;
}

void wio_ctx_drain(struct wio_ctx *c)
{
	wire_t *self = wire__current();

	if (self) {
		/* Not withdrawn by a cancel: the shutdown completes first. */
		static wire_park_t not_now = {.withdraw = drain_withdraw};

		wire__blocked_on(self, "wire_io_shutdown", c);
		while (c->busy) {
			c->drainer = self;
			wire__park(self, &not_now);
		}
		return;
	}
	/* Outside a wire (a timer callback, or between runs): block this thread. */
	while (c->busy) {
		struct pollfd pfd = {.fd = c->efd, .events = POLLIN};

		if (wio_uring_unsubmitted(c)) {
			wio_uring_flush(c);
			continue;
		}
		/* A failed poll (EINTR, or memory short for a moment) is
		 * simply made again: the calls are still coming. */
		if (sys_poll(&pfd, 1, -1) < 0)
			sched_yield();
		on_ready(&c->watch);
	}
}
