/* wire_timeout - a wire_wait_t triggered by a scheduler timer. See wire_timeout.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire_timeout.h"
#include "list.h"
#include "wire_internal.h"

static void timeout_fire(wire_timer_t *tm)
{
	wire_wait_resume(&wire_container_of(tm, wire_timeout_t, timer)->wait);
}

/* The wire waiting on a list with the timeout chained was cancelled. */
static void timeout_withdraw(wire_wait_t *w)
{
	wire_timer_stop(&wire_container_of(w, wire_timeout_t, wait)->timer);
}

int wire_timeout_init(wire_timeout_t *t)
{
	if (!t) {
		errno = EINVAL;
		return -1;
	}
	wire_timer_init(&t->timer, timeout_fire);
	wire_wait_init(&t->wait);
	t->wait.lasting = 1; /* a deadline that has passed stays passed */
	t->wait.withdraw = timeout_withdraw;
	t->wait.timer = &t->timer;
	return 0;
}

int wire_timeout_reset(wire_timeout_t *t, int msec)
{
	if (msec < 0 || !wire_thread_get()) {
		errno = EINVAL;
		return -1;
	}
	wire_wait_reset(&t->wait);
	if (msec == 0)
		wire_timer_stop(&t->timer);
	else
		wire_timer_start_at(&t->timer, wire_now_ns() + (int64_t)msec * 1000000);
	return 0;
}

int wire_timeout_stop(wire_timeout_t *t)
{
	return wire_timer_stop(&t->timer);
}

wire_wait_t *wire_timeout_wait_get(wire_timeout_t *t)
{
	return &t->wait;
}

int wire_timeout_wait(wire_wait_t *w, wire_timeout_t *t)
{
	if (__builtin_expect(!wire__current(), 0)) {
		/* Named here: the abort in wire_wait_two would name that call. */
		fprintf(stderr, "libwire: wire_timeout_wait: called outside a wire (only a running "
				"wire can block)\n");
		abort();
	}
	return wire_wait_two(w, &t->wait);
}
