/*
 * wire_select - the first of several channel operations and fd waits.
 * See wire_select.h.
 *
 * First a look: the cases that can be performed at once are counted and
 * one of them, picked uniformly at random, is performed. Otherwise every
 * case queues a record where a wire blocked in that operation would: a
 * receiver record in the channel's receiver queue, a sender record (with
 * the message) in its sender queue, a parked record in the fd state. The
 * channel records carry a fire hook: the channel performs the hand-off
 * into them exactly as for a blocked wire (the message lands in the
 * case, or the case's message is taken), and calls the hook instead of
 * waking a wire. The hook withdraws every other record at once, before
 * any other wire runs, so no second case can be performed, and wakes the
 * selecting wire.
 *
 * fd readiness only wakes the selecting wire: being level-triggered it
 * is not used up by a wake, so nothing is lost if a channel case is
 * performed before that wire runs (the channel case is then the one
 * reported). A timeout wakes it the same way.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire_select.h"
#include "wire_channel_internal.h"
#include "wire_fd_internal.h"
#include "list.h"
#include "wire_internal.h"

struct sel {
	wire_park_t park; /* taken back by wire_cancel() */
	wire_t *owner;
	wire_select_case_t *cases;
	unsigned n;
	int fired; /* index of the channel case performed, or -1 */
	int woken; /* an fd, the timeout or a close woke the owner */
	int timed; /* @timer armed */
	wire_timer_t timer;
};

/* States of a send case's record (rec.state). */
enum { SEND_IDLE, SEND_QUEUED, SEND_DONE };

static __thread uint64_t rng;

/* A uniform pick among @k choices (xorshift64*). */
static unsigned pick(unsigned k)
{
	uint64_t x = rng;

	if (k == 1)
		return 0;
	if (!x)
		x = (uint64_t)wire_now_ns() ^ (uint64_t)(uintptr_t)&rng ^ 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng = x;
	return (unsigned)(((x * 0x2545f4914f6cdd1dULL) >> 32) * k >> 32);
}

static int is_fd(int op)
{
	return op == WIRE_SELECT_READ || op == WIRE_SELECT_WRITE;
}

static int check(const wire_select_case_t *cases, unsigned n)
{
	if (!cases || n == 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const wire_select_case_t *c = &cases[i];

		if (c->op == WIRE_SELECT_RECV || c->op == WIRE_SELECT_SEND) {
			if (!c->chan)
				return -1;
			/* A send could be taken by the same select's receive. */
			for (unsigned j = 0; j < i; j++)
				if (cases[j].chan == c->chan && !is_fd(cases[j].op) &&
				    cases[j].op != c->op)
					return -1;
		} else if (is_fd(c->op)) {
			if (!c->fd)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Can case @c be performed without waiting? Aborts on a send to a closed channel. */
static int ready(wire_select_case_t *c)
{
	switch (c->op) {
	case WIRE_SELECT_RECV:
		return wire__channel_recv_ready(c->chan);
	case WIRE_SELECT_SEND: {
		wire_channel_t *ch = c->chan;
		wire_list_t *n = ch->receivers.next;

		if (ch->closed)
			wire__misuse(
			    "wire_select",
			    "a SEND case on a closed channel (a send after wire_channel_close)");
		if (ch->slots && ch->len < ch->size)
			return 1;
		/* A blocked receiver first in line (not behind queued senders). */
		return n != &ch->receivers && wire__handoff_of(n)->wire &&
		       (ch->slots || list_empty(&ch->senders));
	}
	default:
		return wire__fd_is_ready(c->fd, c->op == WIRE_SELECT_WRITE);
	}
}

/* Perform the ready case @c. */
static void perform(wire_select_case_t *c)
{
	wire_t *cur;

	c->err = 0;
	switch (c->op) {
	case WIRE_SELECT_RECV:
		if (wire__channel_recv_now(c->chan, &c->msg) < 0)
			c->err = EPIPE;
		break;
	case WIRE_SELECT_SEND:
		wire__channel_send_now(c->chan, c->msg);
		/* As a send: a rendezvous returns after its receiver has run. */
		if (!c->chan->slots && (cur = wire__current()))
			wire__yield_after(cur);
		break;
	default:
		wire__fd_take_ready(c->fd, c->op == WIRE_SELECT_WRITE);
		break;
	}
}

/* With timeout 0: which fd cases does poll(2) find ready? Returns the pick or -1. */
static int poll_fds(wire_select_case_t *cases, unsigned n)
{
	unsigned idx[64], k = 0, m = 0;
	struct pollfd pfd[64];

	for (unsigned i = 0; i < n && m < 64; i++) {
		if (!is_fd(cases[i].op) || cases[i].fd->fd < 0)
			continue;
		pfd[m].fd = cases[i].fd->fd;
		pfd[m].events = cases[i].op == WIRE_SELECT_READ ? POLLIN : POLLOUT;
		idx[m++] = i;
	}
	if (m == 0 || poll(pfd, m, 0) <= 0)
		return -1;
	for (unsigned i = 0; i < m; i++)
		if (pfd[i].revents)
			idx[k++] = idx[i];
	if (k == 0)
		return -1;
	k = idx[pick(k)];
	cases[k].err = 0;
	return (int)k;
}

/* Take back every record still queued, stop the timer. */
static void withdraw_all(struct sel *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		wire_select_case_t *c = &s->cases[i];

		switch (c->op) {
		case WIRE_SELECT_RECV:
			if (c->rec.state == WIRE__RECV_QUEUED) {
				list_del(&c->rec.link);
				c->rec.state = WIRE__RECV_IDLE;
			}
			break;
		case WIRE_SELECT_SEND:
			if (c->rec.state == SEND_QUEUED) {
				list_del(&c->rec.link);
				c->rec.state = SEND_IDLE;
			}
			break;
		default:
			wire__fd_unpark(&c->park);
			break;
		}
	}
	if (s->timed)
		wire_timer_stop(&s->timer);
}

/* A channel performed the case of record @h (it left its queue). */
static void case_fire(wire_handoff_t *h)
{
	wire_select_case_t *c = wire_container_of(h, wire_select_case_t, rec);
	struct sel *s = h->obj;

	if (c->op == WIRE_SELECT_RECV)
		c->err = h->state == WIRE__RECV_CLOSED ? EPIPE : 0;
	else
		c->err = 0;
	h->state = c->op == WIRE_SELECT_RECV ? WIRE__RECV_DONE : SEND_DONE;
	s->fired = (int)(c - s->cases);
	withdraw_all(s);
	wire__resume(s->owner);
}

static void sel_timed_out(wire_timer_t *t)
{
	struct sel *s = wire_container_of(t, struct sel, timer);

	s->woken = 1;
	wire__resume(s->owner);
}

static int sel_withdraw(wire_park_t *p)
{
	withdraw_all(wire_container_of(p, struct sel, park));
	return 1;
}

/* Queue the records of every case; -1 with errno if an fd cannot be watched. */
static int enqueue(struct sel *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		wire_select_case_t *c = &s->cases[i];
		wire_handoff_t *r = &c->rec;

		r->wire = s->owner;
		r->fire = case_fire;
		r->obj = s;
		r->wait = NULL;
		switch (c->op) {
		case WIRE_SELECT_RECV:
			r->dst = &c->msg;
			r->state = WIRE__RECV_QUEUED;
			list_add_tail(&c->chan->receivers, &r->link);
			break;
		case WIRE_SELECT_SEND: {
			wire_list_t *n = c->chan->receivers.next;

			/* An armed recv_wait record first in line learns of the
			 * message, as for a blocked send (not ready: no blocked
			 * receiver heads the queue). */
			if (n != &c->chan->receivers && !wire__handoff_of(n)->wire) {
				wire_channel_receiver_t *rr = wire__handoff_of(n);
				list_del(n);
				rr->state = WIRE__RECV_NOTIFIED;
				wire_wait_resume(rr->wait);
			}
			r->msg = c->msg;
			r->state = SEND_QUEUED;
			list_add_tail(&c->chan->senders, &r->link);
			break;
		}
		default:
			c->park.err = 0; /* not parked, for withdraw_all */
			if (wire__fd_park(c->fd, c->op == WIRE_SELECT_WRITE, &c->park, s->owner)) {
				int err = errno;
				s->n = i; /* withdraw what was queued so far */
				withdraw_all(s);
				errno = err;
				return -1;
			}
			break;
		}
	}
	return 0;
}

int wire_select(wire_select_case_t *cases, unsigned n, int64_t timeout_ns)
{
	unsigned k = 0;
	struct sel s;
	int j;

	if (check(cases, n) != 0) {
		errno = EINVAL;
		return -1;
	}
	/* A cancelled wire ends here, before any case is performed. */
	if ((s.owner = wire__current()))
		wire__cancel_point(s.owner);
	for (unsigned i = 0; i < n; i++) {
		cases[i].rec.state = 0;
		if (ready(&cases[i]))
			k++;
	}
	if (k) {
		unsigned want = pick(k);

		for (unsigned i = 0; i < n; i++)
			if (ready(&cases[i]) && want-- == 0) {
				perform(&cases[i]);
				return (int)i;
			}
	}
	if (timeout_ns == 0) {
		if ((j = poll_fds(cases, n)) >= 0)
			return j;
		errno = ETIMEDOUT;
		return -1;
	}
	s.owner = wire__blocking_current("wire_select");
	s.park.withdraw = sel_withdraw;
	s.cases = cases;
	s.n = n;
	s.fired = -1;
	s.woken = 0;
	s.timed = 0;
	if (enqueue(&s) != 0)
		return -1;
	if (timeout_ns > 0) {
		int64_t now = wire_now_ns();

		wire_timer_init(&s.timer, sel_timed_out);
		wire_timer_start_at(&s.timer,
				    timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns);
		s.timed = 1;
	}
	/* fd readiness and errors wake the owner with the record's err set. */
	wire__blocked_on(s.owner, "select", cases);
	s.owner->blocked.deadline = s.timed ? s.timer.deadline : 0;
	while (s.fired < 0 && !s.woken) {
		int any = 0;

		for (unsigned i = 0; i < n && !any; i++)
			any = is_fd(cases[i].op) && cases[i].park.err >= 0;
		if (any)
			break;
		wire__park(s.owner, &s.park);
	}
	if (s.fired >= 0)
		return s.fired;
	withdraw_all(&s);
	/* The fd cases woken, ready or failed: one of them at random. */
	k = 0;
	for (unsigned i = 0; i < n; i++)
		if (is_fd(cases[i].op) && cases[i].park.err >= 0)
			k++;
	if (k == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	k = pick(k);
	for (unsigned i = 0; i < n; i++)
		if (is_fd(cases[i].op) && cases[i].park.err >= 0 && k-- == 0) {
			cases[i].err = cases[i].park.err;
			return (int)i;
		}
	return -1; /* not reached */
}
