/*
 * wire_fd - fd readiness on epoll inside the scheduler. See wire_fd.h.
 *
 * Every fd is registered level-triggered, with the interest of the
 * directions its wires wait in. Level triggering makes a wait exact
 * whatever the caller did before it: while the fd is ready, every poll
 * reports it, so a wire that parks on a ready fd is woken by the next
 * poll. An event of a direction goes to every wire parked in it and to an
 * armed chained wait.
 *
 * The one cost of level triggering is an fd that stays ready while no
 * wire waits on it: every poll reports it again. A poll that does not
 * block lets it be (it is a slot in the event array, and the next wait
 * will be woken by the next poll). A poll that would block would return
 * at once, again and again: there the readiness is recorded in the state
 * and the direction dropped from the fd's interest (one epoll_ctl; a DEL
 * when nothing is left, since hang-up and error cannot be masked). The
 * next wait in that direction returns on the record at once; the one
 * after puts the interest back. Since the record is made only where the
 * poller can no longer see the fd, a wait never returns on a record that
 * a later poll could have contradicted: a spurious return needs the data
 * to have been taken between the record and the wait, and clears the
 * record.
 *
 * pending (what keeps wire_thread_run() going) counts the parked wires and
 * the chained waits armed in a list. A chained wait can be dropped without
 * this layer knowing (the list returned another source and unchained it):
 * before blocking without a timeout, the poller forgets the chained waits
 * that are unchained. A chained wait whose list has no parked wire yet
 * still counts while anything else can wake a wire through the poller (a
 * parked wire, a watch's work, a list with a parked wire): its wire may be
 * blocked elsewhere and wait on the list once woken. Only when nothing at
 * all can wake a wire through the poller (no wire is ready and no timer is
 * armed either) are those waits forgotten too, so wire_thread_run() can
 * return.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "wire_fd.h"
#include "wire_fd_internal.h"
#include "list.h"
#include "sys.h"
#include "wire_internal.h"
#include "coro.h"

/* Events fetched per epoll_wait. */
#define MAX_EVENTS 128

/* Bits of wire_fd_state_t.ready: readiness seen that no wait took. */
#define READY_READ  1u
#define READY_WRITE 2u

static inline unsigned ready_bit(int d)
{
	return d ? READY_WRITE : READY_READ;
}

/* The epoll interest of direction @d. */
static inline uint32_t interest_of(int d)
{
	return d ? EPOLLOUT : EPOLLIN;
}

struct fd_poller {
	wire_poller_t base;
	int epfd;
	unsigned gen;	     /* 0: no usable epoll on this thread */
	unsigned parked;     /* wires parked in wire_fd_wait*() */
	unsigned nchained;   /* chained waits counted as pending */
	wire_list_t chained; /* their wire_fd_dir_t.counted nodes */
	int forked;	     /* inherited across fork(): must not be polled */
	int no_pwait2;	     /* epoll_pwait2 is missing: use epoll_wait */
	unsigned extra;	     /* pending work of watches (wire__fd_pending_add) */
};

/* initial-exec: a plain access, also from libwire.so (no __tls_get_addr call). */
static __thread struct fd_poller P __attribute__((tls_model("initial-exec")));
static unsigned gen_counter;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

int wire__fd_poll_wait(struct epoll_event *ev, int max, int64_t timeout_ns)
{
	int ms;

	if (timeout_ns > 0 && !P.no_pwait2) {
		struct timespec ts = {.tv_sec = timeout_ns / 1000000000,
				      .tv_nsec = timeout_ns % 1000000000};
		int n = sys_epoll_wait(P.epfd, ev, max, 0, &ts);
		if (n >= 0 || errno != ENOSYS)
			return n;
		P.no_pwait2 = 1;
	}
	if (timeout_ns < 0)
		ms = -1;
	else if (timeout_ns >= (int64_t)INT_MAX * 1000000)
		ms = INT_MAX;
	else
		ms = (int)((timeout_ns + 999999) / 1000000);
	return sys_epoll_wait(P.epfd, ev, max, ms, NULL);
}

/* ------------------------------------------------------------------ */
/* Bookkeeping.                                                        */

static inline void sync_pending(void)
{
	P.base.pending = P.parked + P.nchained + P.extra;
}

/* Known to this thread's current epoll instance (in it when events != 0). */
static inline int live(const wire_fd_state_t *st)
{
	return st->gen != 0 && st->gen == P.gen;
}

static inline void uncount(wire_fd_dir_t *d)
{
	if (list_empty(&d->counted))
		return;
	list_del(&d->counted);
	P.nchained--;
}

/*
 * Hand readiness of direction @d to its waiters: wake every parked wire
 * and trigger the armed chained wait. Returns 1 if someone took it.
 */
static int wake_dir(wire_fd_dir_t *d)
{
	wire_list_t *n;
	int taken = 0;

	while ((n = list_pop(&d->parked))) {
		wire_fd_parked_t *rec = wire_container_of(n, wire_fd_parked_t, link);
		rec->err = 0;
		P.parked--;
		wire__resume(rec->wire);
		taken = 1;
	}
	if (!list_empty(&d->counted)) {
		uncount(d);
		wire_wait_resume(&d->wait);
		taken = 1;
	}
	return taken;
}

/* Wake every waiter of @st with @err: the state stops being watched. */
static void release(wire_fd_state_t *st, int err)
{
	for (int d = 0; d < 2; d++) {
		wire_fd_dir_t *dir = &st->dir[d];
		wire_list_t *n;

		while ((n = list_pop(&dir->parked))) {
			wire_fd_parked_t *rec = wire_container_of(n, wire_fd_parked_t, link);
			rec->err = err;
			P.parked--;
			wire__resume(rec->wire);
		}
		if (!list_empty(&dir->counted)) {
			uncount(dir);
			wire_wait_resume(&dir->wait);
		}
	}
	sync_pending();
}

/* Set the interest of @st (live) to @events; none removes the fd. */
static int set_interest(wire_fd_state_t *st, unsigned events)
{
	struct epoll_event ev;
	int op;

	if (events == st->events)
		return 0;
	op = !events ? EPOLL_CTL_DEL : st->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	ev.events = events;
	ev.data.ptr = st;
	if (sys_epoll_ctl(P.epfd, op, st->fd, &ev) != 0)
		return -1;
	st->events = events;
	return 0;
}

/*
 * Stop the interest of @st in the directions @useless that a blocking
 * poll reported with nobody to take them: left in, they would end every
 * blocking poll at once. Their readiness is recorded already. An error or
 * a hang-up is reported whatever the interest: taken by nobody, it needs
 * the fd out of epoll altogether.
 */
static void drop_interest(wire_fd_state_t *st, uint32_t useless, uint32_t ev)
{
	unsigned keep = st->events & ~useless;

	if ((ev & (EPOLLERR | EPOLLHUP)) && useless == (EPOLLIN | EPOLLOUT))
		keep = 0;
	if (set_interest(st, keep) != 0 && keep)
		set_interest(st, 0);
}

/* Events @ev of @st from a poll that was allowed to block (@blocking) or not. */
static void dispatch(wire_fd_state_t *st, uint32_t ev, int blocking)
{
	uint32_t useless = 0;

	if (st->mode == WIRE__FD_MODE_WATCH) {
		struct wire__fd_watch *w = wire_container_of(st, struct wire__fd_watch, state);
		if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
			w->cb(w);
		return;
	}
	/* Hang-up and error make both directions ready, as poll(2) says. */
	for (int d = 0; d < 2; d++) {
		if (!(ev & (interest_of(d) | EPOLLERR | EPOLLHUP)))
			continue;
		if (!wake_dir(&st->dir[d]) && blocking) {
			st->ready |= ready_bit(d);
			useless |= interest_of(d);
		}
	}
	if (useless)
		drop_interest(st, useless, ev);
}

/* Forget chained waits that can no longer wake anyone (see the top). */
static void prune(void)
{
	wire_list_t *n = P.chained.next;
	int live = P.parked || P.extra;

	while (n != &P.chained) {
		wire_list_t *next = n->next;
		wire_fd_dir_t *d = wire_container_of(n, wire_fd_dir_t, counted);
		if (!d->wait.list)
			uncount(d);
		else if (d->wait.list->waiter)
			live = 1;
		n = next;
	}
	while (!live && !list_empty(&P.chained))
		uncount(wire_container_of(P.chained.next, wire_fd_dir_t, counted));
	sync_pending();
}

static void fd_poll(wire_poller_t *p, int64_t timeout_ns)
{
	struct epoll_event ev[MAX_EVENTS];
	int blocking = timeout_ns != 0, n;

	(void)p;
	if (__builtin_expect(P.forked, 0))
		wire__misuse("wire_fd", "the epoll instance was inherited across fork(): call "
					"wire_thread_init() and wire_fd_init() in the child");
	if (timeout_ns < 0) {
		if (P.nchained)
			prune();
		if (P.base.pending == 0)
			return;
	}
	if (timeout_ns != 0 && wire__fd_busy_on())
		n = wire__fd_busy_wait(ev, MAX_EVENTS, timeout_ns);
	else
		n = wire__fd_poll_wait(ev, MAX_EVENTS, timeout_ns);
	if (n < 0) {
		if (errno == EBADF || errno == EINVAL)
			wire__misuse("wire_fd",
				     "epoll_wait failed: the poller's epoll fd was closed "
				     "behind the library's back");
		return; /* EINTR or an injected fault: the scheduler calls again */
	}
	for (int i = 0; i < n; i++)
		dispatch(ev[i].data.ptr, ev[i].events, blocking);
	sync_pending();
}

static void atfork_child(void)
{
	/* Only the forking thread exists in the child; its poller is shared. */
	if (P.gen) {
		P.forked = 1;
		P.gen = 0;
	}
}

/* A thread with a poller ends: close its epoll instance (the copy
 * inherited across fork() too; closing it does not touch the parent's). */
static void poller_thread_exit(void *arg)
{
	(void)arg;
	if (P.base.poll && P.epfd >= 0) {
		sys_close(P.epfd);
		P.epfd = -1;
		P.gen = 0;
	}
}

static pthread_key_t poller_key;

static void atfork_register(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	if (pthread_key_create(&poller_key, poller_thread_exit) != 0)
		wire__misuse("wire_fd", "pthread_key_create failed: no key for thread exit");
}

/* ------------------------------------------------------------------ */
/* API.                                                                */

/* Give the calling thread (which has a scheduler) a fresh epoll instance. */
static int poller_setup(void)
{
	int ep;

	if (wire__fd_busy_env() < 0) {
		errno = EINVAL;
		return -1;
	}
	ep = sys_epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -1;
	pthread_once(&atfork_once, atfork_register);
	if (P.base.poll) /* an earlier instance of this thread (or the parent's) */
		sys_close(P.epfd);
	memset(&P, 0, sizeof(P));
	P.base.poll = fd_poll;
	P.epfd = ep;
	wire__fd_busy_start();
	P.gen = __atomic_add_fetch(&gen_counter, 1, __ATOMIC_RELAXED);
	if (P.gen == 0) /* wrapped: 0 means "none" */
		P.gen = __atomic_add_fetch(&gen_counter, 1, __ATOMIC_RELAXED);
	list_init(&P.chained);
#ifdef WIRE_VALGRIND
	/* valgrind does not know epoll_pwait2 and warns at the first call. */
	P.no_pwait2 = wire_coro_on_valgrind;
#endif
	wire_thread_set_poller(&P.base);
	pthread_setspecific(poller_key, &P);
	return 0;
}

int wire_fd_init(void)
{
	wire_thread_t *t = wire_thread_get();

	if (!t || t->current) {
		errno = EINVAL;
		return -1;
	}
	/* A fresh instance would forget the waiters and calls in flight. After
	 * fork() they belong to the parent: the child starts afresh. */
	if (P.base.poll && !P.forked && (P.parked || P.nchained || P.extra)) {
		errno = EBUSY;
		return -1;
	}
	return poller_setup();
}

int wire__fd_have_poller(void)
{
	return P.gen && !P.forked && wire_thread_get() && wire_thread_get()->poller == &P.base;
}

void wire_fd_mode_init(wire_fd_state_t *st, int fd)
{
	st->fd = fd;
	st->mode = WIRE_FD_MODE_NONE;
	st->ready = 0;
	st->events = 0;
	st->gen = 0;
	for (int i = 0; i < 2; i++) {
		list_init(&st->dir[i].parked);
		wire_wait_init(&st->dir[i].wait);
		list_init(&st->dir[i].counted);
	}
}

/*
 * Add @st's fd to this thread's epoll with the interest @events (not 0).
 * Returns 0 or -1/errno, @st untouched then.
 */
static int fd_register(wire_fd_state_t *st, unsigned events)
{
	struct epoll_event ev;

	if (st->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (!P.gen) {
		errno = EINVAL;
		return -1;
	}
	ev.events = events;
	ev.data.ptr = st;
	if (sys_epoll_ctl(P.epfd, EPOLL_CTL_ADD, st->fd, &ev) != 0)
		return -1;
	/* What an older instance (a forked parent's) knew is gone. */
	st->gen = P.gen;
	st->events = events;
	st->ready = 0;
	for (int i = 0; i < 2; i++) {
		list_init(&st->dir[i].parked);
		list_init(&st->dir[i].counted);
	}
	return 0;
}

static int __attribute__((noinline)) want_slow(wire_fd_state_t *st, int d)
{
	if (!live(st))
		return fd_register(st, interest_of(d));
	return set_interest(st, st->events | interest_of(d));
}

/* Make sure the poller reports direction @d of @st. Returns 0 or -1/errno. */
static inline int want(wire_fd_state_t *st, int d)
{
	if (__builtin_expect(live(st) && (st->events & interest_of(d)), 1))
		return 0;
	return want_slow(st, d);
}

static int set_mode(wire_fd_state_t *st, int mode)
{
	if (st->fd < 0) {
		errno = EBADF;
		return -1;
	}
	/* Registered once; a later change of mode is a store, and the
	 * interest follows at the next wait that needs it. */
	if (!live(st) && fd_register(st, interest_of(mode == WIRE_FD_MODE_WRITE)) != 0)
		return -1;
	st->mode = mode;
	return 0;
}

int wire_fd_mode_read(wire_fd_state_t *st)
{
	return set_mode(st, WIRE_FD_MODE_READ);
}

int wire_fd_mode_write(wire_fd_state_t *st)
{
	return set_mode(st, WIRE_FD_MODE_WRITE);
}

/* Forget what the state knew: it is out of epoll. */
static void forget(wire_fd_state_t *st)
{
	st->mode = WIRE_FD_MODE_NONE;
	st->gen = 0;
	st->events = 0;
	st->ready = 0;
}

int wire_fd_mode_none(wire_fd_state_t *st)
{
	if (st->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (live(st)) {
		if (set_interest(st, 0) != 0)
			return -1;
		release(st, EINVAL);
	}
	forget(st);
	return 0;
}

/* A parked wait, with a deadline: the timer takes the record back. */
struct timed_parked {
	wire_fd_parked_t rec;
	wire_park_t park; /* taken back by wire_cancel() */
	int timed;	  /* @timer is armed (a deadline) */
	wire_timer_t timer;
};

static int parked_withdraw(wire_park_t *p)
{
	struct timed_parked *tp = wire_container_of(p, struct timed_parked, park);

	if (tp->rec.err < 0) {
		list_del(&tp->rec.link);
		P.parked--;
		sync_pending();
	}
	if (tp->timed)
		wire_timer_stop(&tp->timer);
	return 1;
}

/* The wire waiting on a list with this direction chained was cancelled. */
static void dir_withdraw(wire_wait_t *w)
{
	uncount(wire_container_of(w, wire_fd_dir_t, wait));
	sync_pending();
}

static void wait_timed_out(wire_timer_t *tm)
{
	struct timed_parked *tp = wire_container_of(tm, struct timed_parked, timer);

	if (tp->rec.err >= 0) /* woken already, not yet run */
		return;
	list_del(&tp->rec.link);
	P.parked--;
	sync_pending();
	tp->rec.err = ETIMEDOUT;
	wire__resume(tp->rec.wire);
}

/* A wait on @st can be made; else 0 with errno EBADF (closed) or EINVAL (mode none). */
static inline int waitable(const wire_fd_state_t *st)
{
	if (st->fd < 0) {
		errno = EBADF;
		return 0;
	}
	if (st->mode == WIRE_FD_MODE_NONE) {
		errno = EINVAL;
		return 0;
	}
	return 1;
}

/* @deadline: CLOCK_MONOTONIC ns after which the wait fails with ETIMEDOUT; 0: none. */
static inline __attribute__((always_inline)) int wait_dir(wire_fd_state_t *st, int d,
							  const char *call, int64_t deadline)
{
	wire_t *self = wire__blocking_current(call);
	struct timed_parked tp;

	if (!waitable(st))
		return -1;
	if (live(st) && (st->ready & ready_bit(d))) {
		st->ready &= ~ready_bit(d);
		return 0;
	}
	if (want(st, d) != 0)
		return -1;
	if (deadline && deadline <= wire_now_ns()) {
		errno = ETIMEDOUT;
		return -1;
	}
	tp.rec.wire = self;
	tp.rec.err = -1;
	tp.park.withdraw = parked_withdraw;
	tp.timed = deadline != 0;
	list_add_tail(&st->dir[d].parked, &tp.rec.link);
	P.parked++;
	sync_pending();
	if (deadline) {
		wire_timer_init(&tp.timer, wait_timed_out);
		wire_timer_start_at(&tp.timer, deadline);
	}
	wire__blocked_on(self, d ? "fd write" : "fd read", st);
	self->blocked.fd = st->fd;
	self->blocked.deadline = deadline;
	do
		wire__park(self, &tp.park);
	while (tp.rec.err < 0);
	/* The waker unlinked the record. */
	if (deadline)
		wire_timer_stop(&tp.timer);
	if (tp.rec.err) {
		errno = tp.rec.err;
		return -1;
	}
	return 0;
}

int wire__fd_is_ready(const wire_fd_state_t *st, int d)
{
	return st->fd >= 0 && st->mode != WIRE_FD_MODE_NONE && live(st) &&
	       (st->ready & ready_bit(d));
}

int wire__fd_take_ready(wire_fd_state_t *st, int d)
{
	if (!live(st) || !(st->ready & ready_bit(d)))
		return 0;
	st->ready &= ~ready_bit(d);
	return 1;
}

int wire__fd_park(wire_fd_state_t *st, int d, wire_fd_parked_t *rec, wire_t *w)
{
	if (!waitable(st) || want(st, d) != 0)
		return -1;
	rec->wire = w;
	rec->err = -1;
	list_add_tail(&st->dir[d].parked, &rec->link);
	P.parked++;
	sync_pending();
	return 0;
}

void wire__fd_unpark(wire_fd_parked_t *rec)
{
	if (rec->err >= 0)
		return;
	list_del(&rec->link);
	P.parked--;
	sync_pending();
}

int wire_fd_wait(wire_fd_state_t *st)
{
	return wait_dir(st, st->mode == WIRE_FD_MODE_WRITE, "wire_fd_wait", 0);
}

int wire_fd_wait_read(wire_fd_state_t *st)
{
	return wait_dir(st, 0, "wire_fd_wait_read", 0);
}

int wire_fd_wait_write(wire_fd_state_t *st)
{
	return wait_dir(st, 1, "wire_fd_wait_write", 0);
}

int wire__fd_wait_until(wire_fd_state_t *st, int write, int64_t deadline_ns)
{
	return wait_dir(st, write != 0, "wire__fd_wait_until", deadline_ns);
}

wire_wait_t *wire_fd_wait_list_chain(wire_wait_list_t *wl, wire_fd_state_t *st)
{
	int d = st->mode == WIRE_FD_MODE_WRITE;
	wire_fd_dir_t *dir = &st->dir[d];
	int ready;

	if (st->fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (st->mode == WIRE_FD_MODE_NONE) {
		errno = EINVAL;
		return NULL;
	}
	ready = live(st) && (st->ready & ready_bit(d));
	if (!ready && want(st, d) != 0)
		return NULL;
	uncount(dir);
	wire_wait_reset(&dir->wait);
	dir->wait.withdraw = dir_withdraw;
	dir->wait.fd = st->fd;
	wire_wait_chain(wl, &dir->wait);
	if (ready) {
		st->ready &= ~ready_bit(d);
		wire_wait_resume(&dir->wait);
	} else {
		list_add_tail(&P.chained, &dir->counted);
		P.nchained++;
	}
	sync_pending();
	return &dir->wait;
}

int wire_fd_wait_msec(int msecs)
{
	wire__blocking_current("wire_fd_wait_msec");
	return wire_sleep_ns(msecs <= 0 ? 0 : (int64_t)msecs * 1000000);
}

int wire_fd_close(wire_fd_state_t *st)
{
	int fd = st->fd;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (live(st)) {
		/*
		 * Remove it even if the file stays open through a dup: no
		 * event may name this state again. A failure means the fd
		 * was already closed, and the kernel dropped it itself.
		 */
		if (st->events)
			sys_epoll_ctl(P.epfd, EPOLL_CTL_DEL, fd, NULL);
		release(st, EBADF);
	}
	st->fd = -1;
	forget(st);
	return sys_close(fd);
}

/* ------------------------------------------------------------------ */
/* Hooks for the layers above (wire_fd_internal.h).                    */

int wire__fd_watch(struct wire__fd_watch *w, int fd, void (*cb)(struct wire__fd_watch *w))
{
	wire_fd_state_t *st = &w->state;
	struct epoll_event ev;

	if (live(st))
		return 0;
	if (!P.gen) {
		if (!wire_thread_get()) {
			errno = EINVAL;
			return -1;
		}
		if (poller_setup() != 0)
			return -1;
	}
	wire_fd_mode_init(st, fd);
	w->cb = cb;
	/* Input only: the output edges of an eventfd would be wakeups for nothing. */
	ev.events = EPOLLIN | EPOLLET;
	ev.data.ptr = st;
	if (sys_epoll_ctl(P.epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -1;
	st->gen = P.gen;
	st->events = EPOLLIN;
	st->mode = WIRE__FD_MODE_WATCH;
	return 0;
}

void wire__fd_unwatch(struct wire__fd_watch *w)
{
	wire_fd_state_t *st = &w->state;

	if (live(st))
		sys_epoll_ctl(P.epfd, EPOLL_CTL_DEL, st->fd, NULL);
	forget(st);
}

void wire__fd_pending_add(int delta)
{
	P.extra += (unsigned)delta;
	sync_pending();
}
