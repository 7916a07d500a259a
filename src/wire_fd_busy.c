/*
 * wire_fd_busy - busy polling before the poller blocks. See
 * wire_fd_set_busy_poll() in wire_fd.h.
 *
 * When no wire is ready, the poller polls without blocking for up to a
 * window, and blocks only if nothing arrived meanwhile; the time polled
 * counts against the next timer. The window in use adapts below the one
 * set: only a poll that found nothing teaches anything. If the block after
 * it ended within the window set, traffic is dense and a longer poll would
 * have caught it: the window doubles back. If the block outlasted it, the
 * polling was spent for nothing: the window halves, down to none below an
 * eighth of the window set, so that sparse traffic costs little CPU.
 * Blocks ended by a timer say nothing about traffic.
 */
#include <errno.h>
#include <stdlib.h>

#include "wire_fd_internal.h"
#include "wire_internal.h"

#define BUSY_POLL_MAX_NS 1000000000
/* The smallest window in use: below it polling stops until a short block. */
#define POLL_MIN_SHARE 8 /* of the window set */

static __thread struct {
	int64_t set; /* the window set: the most polling per block */
	int64_t now; /* the window in use, 0 .. set (adapts) */
	int64_t env; /* WIRE_FD_BUSY_POLL_US, read by the last wire_fd_init() */
} B __attribute__((tls_model("initial-exec")));

int wire__fd_busy_env(void)
{
	const char *v = getenv("WIRE_FD_BUSY_POLL_US");
	char *end;
	long long us;

	B.env = 0;
	if (!v || !*v)
		return 0;
	errno = 0;
	us = strtoll(v, &end, 10);
	if (errno || *end || us < 0 || us > BUSY_POLL_MAX_NS / 1000)
		return -1;
	B.env = us * 1000;
	return 0;
}

void wire__fd_busy_start(void)
{
	B.set = B.now = B.env;
}

int wire__fd_busy_on(void)
{
	return B.set != 0;
}

/*
 * Poll without blocking for up to the window in use from @start, but not
 * past @timeout_ns (-1: none) from it. Returns what the last poll
 * returned: events, 0 when the window passed without any, or -1.
 */
static int busy_poll(struct epoll_event *ev, int max, int64_t start, int64_t timeout_ns)
{
	int64_t window = B.now, end;
	int n;

	if (timeout_ns >= 0 && timeout_ns < window)
		window = timeout_ns;
	end = start + window;
	/* Back to back: spacing the polls with pause loops did not help (the
	 * polls are what finds the work early). */
	do
		n = wire__fd_poll_wait(ev, max, 0);
	while (n == 0 && wire_now_ns() < end);
	return n;
}

/* Adapt the window after a vain poll and a block of @blocked_ns that an event ended. */
static void adapt(int64_t blocked_ns)
{
	int64_t floor = B.set / POLL_MIN_SHARE;

	if (blocked_ns <= B.set) {
		B.now = B.now < floor ? floor : B.now * 2;
		if (B.now > B.set)
			B.now = B.set;
	} else {
		B.now /= 2;
		if (B.now < floor)
			B.now = 0;
	}
}

int wire__fd_busy_wait(struct epoll_event *ev, int max, int64_t timeout_ns)
{
	int64_t t0 = wire_now_ns(), t1 = t0;
	int n = 0;

	if (B.now) {
		n = busy_poll(ev, max, t0, timeout_ns);
		t1 = wire_now_ns();
		if (n > 0)
			wire__self->stats.busy_poll_hits++;
	}
	if (n != 0)
		return n;
	/* The time polled counts against the next timer. */
	if (timeout_ns > 0)
		timeout_ns = t1 - t0 < timeout_ns ? timeout_ns - (t1 - t0) : 0;
	n = wire__fd_poll_wait(ev, max, timeout_ns);
	if (n > 0) /* a timeout says nothing about traffic */
		adapt(wire_now_ns() - t1);
	return n;
}

int wire_fd_set_busy_poll(int64_t ns)
{
	if (ns < 0 || ns > BUSY_POLL_MAX_NS || !wire__fd_have_poller()) {
		errno = EINVAL;
		return -1;
	}
	B.set = B.now = ns;
	return 0;
}

int64_t wire_fd_busy_poll(void)
{
	if (!wire__fd_have_poller()) {
		errno = EINVAL;
		return -1;
	}
	return B.set;
}

int64_t wire__fd_poll_window(void)
{
	return B.now;
}
