/*
 * wire_fd_internal - hooks of the fd layer for the layers built on it
 * (internal; wire_io uses them for its completion eventfd).
 *
 * A watch is an fd in the thread's epoll whose readiness runs a callback
 * on the scheduler stack instead of waking a parked wire. A watch is not
 * pending work by itself: an idle watch neither keeps wire_thread_run()
 * going nor parks a wire. The owner says how much work can still arrive
 * through it with wire__fd_pending_add().
 */
#ifndef WIRE_SRC_FD_INTERNAL_H
#define WIRE_SRC_FD_INTERNAL_H

#include <stdint.h>

#include "wire_fd.h"
#include "sys.h"

/* The mode of a state that is a watch (beyond enum wire_fd_mode). */
#define WIRE__FD_MODE_WATCH 3

struct wire__fd_watch {
	wire_fd_state_t state; /* first: the poller's events name it */
	void (*cb)(struct wire__fd_watch *w);
};

/*
 * Watch @fd: from now on the poller calls @cb(@w) (scheduler stack, outside
 * any wire; it must not block) when @fd becomes readable, hangs up or fails,
 * edge-triggered: unlike the waits of wire_fd.h, the callback is called
 * once per new event, so it must take everything the fd has to say. Creates
 * the calling thread's poller if it has none (also from a wire). Returns 0 (at once if @w is
 * already registered with this thread's current poller), or -1 with errno (EINVAL: no scheduler;
 * the errors of epoll_create1 and epoll_ctl).
 */
WIRE_INTERNAL int wire__fd_watch(struct wire__fd_watch *w, int fd,
				 void (*cb)(struct wire__fd_watch *w));

/* Stop watching (before closing the fd). */
WIRE_INTERNAL void wire__fd_unwatch(struct wire__fd_watch *w);

/*
 * wire_fd_wait_read() (@write 0) or wire_fd_wait_write() (@write 1) that
 * gives up at @deadline_ns (CLOCK_MONOTONIC; 0: never) with ETIMEDOUT.
 * Readiness already seen is taken even if the deadline has passed. Each
 * waiter parks its own record, so any number of wires may wait on one
 * state and direction with their own deadlines.
 */
WIRE_INTERNAL int wire__fd_wait_until(wire_fd_state_t *st, int write, int64_t deadline_ns);

/*
 * Add @delta to the work pending in the calling thread's poller (what can
 * still wake a wire through a watch). Requires a registered watch.
 */
WIRE_INTERNAL void wire__fd_pending_add(int delta);

/*
 * For wire_select: take readiness of direction @d (0 read, 1 write) that
 * @st recorded and no wait took (returns 1), else 0; park @rec for @w in
 * that direction (0, or -1 with errno: EBADF, EINVAL for mode none, the
 * errors of adding the fd to epoll), woken as a wait of it is; withdraw
 * @rec if still parked.
 */
WIRE_INTERNAL int wire__fd_is_ready(const wire_fd_state_t *st, int d);
WIRE_INTERNAL int wire__fd_take_ready(wire_fd_state_t *st, int d);
WIRE_INTERNAL int wire__fd_park(wire_fd_state_t *st, int d, wire_fd_parked_t *rec, wire_t *w);
WIRE_INTERNAL void wire__fd_unpark(wire_fd_parked_t *rec);

/* The busy-poll window the calling thread's poller uses now, in ns: it
 * adapts between 0 and the window set (tests watch it). */
WIRE_INTERNAL int64_t wire__fd_poll_window(void);

/* ---- between the poller (wire_fd.c) and busy polling (wire_fd_busy.c) ---- */

struct epoll_event;

/*
 * One epoll_wait of the calling thread's poller: epoll_pwait2 (ns timeout)
 * where the kernel has it, else epoll_wait (ms, rounded up); -1 blocks.
 */
WIRE_INTERNAL int wire__fd_poll_wait(struct epoll_event *ev, int max, int64_t timeout_ns);
/* 1 if the calling thread has a usable poller of its own. */
WIRE_INTERNAL int wire__fd_have_poller(void);
/* Read WIRE_FD_BUSY_POLL_US for the next start: 0, or -1 if malformed. */
WIRE_INTERNAL int wire__fd_busy_env(void);
/* A fresh poller starts busy polling as the environment said. */
WIRE_INTERNAL void wire__fd_busy_start(void);
/* 1 while busy polling is on. */
WIRE_INTERNAL int wire__fd_busy_on(void);
/* A poll that may block up to @timeout_ns (-1: no limit), busy polling first. */
WIRE_INTERNAL int wire__fd_busy_wait(struct epoll_event *ev, int max, int64_t timeout_ns);

#endif
