/*
 * wire_stress - seeded stress of the scheduler and every layer above it.
 *
 * A run is a sequence of rounds. Each round starts a few thousand wires on
 * one scheduler and runs wire_thread_run() until it returns:
 *   - workers do random operations: yields; suspends (parked, woken by
 *     another worker or by a timer); resumes of parked wires and stray
 *     resumes of any wire (every blocking call must absorb those); channel
 *     sends; receives raced against a timer in a wait list; non-blocking
 *     receives; fair locks and wire_lock_wait_clear(); semaphores; sleeps;
 *     children spawned through wire_pool_alloc_block();
 *   - dedicated receivers drain every channel (blocking receives, receives
 *     raced against timers or wire_timeout_t, polling) until the coordinator stops them
 *     once every worker has finished;
 *   - ping/pong pairs echo random-sized messages over socketpairs through
 *     the fd layer, half of their waits raced against timeouts; every
 *     other pair goes through wire_net instead (reads, writes, timeouts);
 *   - workers also make checked wio calls (the backend alternates by
 *     round: threads, then io_uring where it is available), move the
 *     timers of parked wires, and wait for the first of two timers with
 *     wire_wait_two();
 *   - victims wait on pipes that never get data, alone or in a wait list,
 *     after switching modes; closers close their fd (wire_fd_close: the
 *     wait fails with EBADF) or stop watching it (wire_fd_mode_none:
 *     EINVAL) while they wait.
 * Invariants checked on the fly and at the end of the round:
 *   - every message is delivered exactly once and in order per sender and
 *     channel (sequence numbers), and blocked senders are served in the
 *     order they called (tickets, see struct fifo);
 *   - a lock has at most one holder and is granted in ticket order;
 *   - a semaphore never grants more units than it has, grants in ticket
 *     order, and units are conserved;
 *   - every wire runs its entry exactly once and finishes; no wire is left
 *     suspended when wire_thread_run() returns; no timer, channel record,
 *     lock or semaphore waiter, pool entry or fd is left behind;
 *   - sleeps and timeouts never end early; echoed bytes are the bytes sent;
 *     every wio result is the file's content;
 *   - each rare path (receives timed out, spurious wakeups, notified then
 *     withdrawn, stray resumes, fd waits timed out, closes and mode_none
 *     under a waiter, timer moves, both outcomes of wire_wait_two, wio
 *     calls, wire_net messages) was taken at least once in a run of two
 *     rounds or more.
 * Each round's random decisions come from its seed (each wire has its own
 * generator), so a failing round replays with the seed it prints, up to
 * what wall-clock timers change.
 *
 * Environment: WIRE_STRESS_SECONDS (default 60) bounds the run;
 * WIRE_STRESS_SEED sets the first round's seed (round n uses seed + n);
 * WIRE_STRESS_ROUNDS caps the number of rounds; WIRE_STRESS_WIRES (default
 * 2000) and WIRE_STRESS_PAIRS (default 32) size a round.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "wire.h"
#include "wire_channel.h"
#include "wire_fd.h"
#include "wire_io.h"
#include "wire_lock.h"
#include "wire_net.h"
#include "wire_pool.h"
#include "wire_semaphore.h"
#include "wire_stack.h"
#include "wire_timeout.h"
#include "wire_wait.h"

_Static_assert(sizeof(uintptr_t) >= 8, "messages pack a sender and a sequence in a pointer");

#define STACK			     (64 * 1024)
#define NCHAN			     8
#define NRECV			     3 /* dedicated receivers per channel */
#define NLOCK			     4
#define NSEM			     4
#define SEM_UNITS		     3
#define POOL_SIZE		     16
#define MAX_MSG			     8192
#define FIFO_WINDOW		     (1u << 20)
#define STOP_MSG		     ((void *)(uintptr_t)1)
#define MAX_WORKERS		     100000
#define MAX_PAIRS		     4096
#define NVICTIM			     4	 /* victim/closer pairs per round */
#define IO_BLOCK		     256 /* bytes of a wio read or write */
#define IO_FILE			     (64 * 1024)
#define container(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ------------------------------------------------------------------ */
/* Failure reporting.                                                  */

static const char *prog;
static uint64_t round_seed;
static unsigned round_no;
static char replay_line[256]; /* preformatted: signal handlers only write it */
static volatile sig_atomic_t failing;

static void set_replay_line(void)
{
	snprintf(replay_line, sizeof(replay_line),
		 "wire_stress: round %u, seed %" PRIu64 "; replay with: WIRE_STRESS_SEED=%" PRIu64
		 " WIRE_STRESS_ROUNDS=1 %s\n",
		 round_no, round_seed, round_seed, prog);
}

static void write_str(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t r = write(2, s, n);
		if (r <= 0)
			return;
		s += r;
		n -= (size_t)r;
	}
}

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;
	const char *name = wire_get_name();

	failing = 1;
	fflush(stdout);
	fprintf(stderr, "wire_stress: FAILED in %s%s: ", name ? "wire " : "",
		name ? name : "the scheduler");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	write_str(replay_line);
	abort();
}

#define ASSERT(c)                                                                                  \
	do {                                                                                       \
		if (__builtin_expect(!(c), 0))                                                     \
			fail("%s:%d: %s", __FILE__, __LINE__, #c);                                 \
	} while (0)

static void on_fatal(int sig)
{
	if (!failing) {
		failing = 1;
		write_str(sig == SIGALRM ? "wire_stress: FAILED: the round did not finish in time "
					   "(lost wakeup or livelock)\n"
					 : "wire_stress: FAILED: fatal signal\n");
		write_str(replay_line);
	}
	if (sig == SIGALRM) {
		signal(SIGABRT, SIG_DFL);
		abort();
	}
	signal(sig, SIG_DFL); /* the signal is raised again on return */
	if (sig == SIGABRT)
		raise(sig);
}

/* Print the replay line on abort, crash or hang; keep handlers that sanitizers installed. */
static void install_handlers(void)
{
	static char altstack[64 * 1024];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGALRM};

	sigaltstack(&ss, NULL);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old, sa;
		if (sigs[i] != SIGALRM && sigaction(sigs[i], NULL, &old) == 0 &&
		    ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL))
			continue; /* a sanitizer's handler: it reports, then aborts */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fatal;
		sa.sa_flags = SA_ONSTACK | SA_NODEFER;
		sigaction(sigs[i], &sa, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* Randomness: splitmix64, one generator per wire.                     */

static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd(uint64_t *s, unsigned n)
{
	return (unsigned)(next_rand(s) % n);
}

/* ------------------------------------------------------------------ */
/* FIFO checker.                                                       */

/*
 * Tickets are issued in call order just before a call that may block
 * (send, lock take, semaphore take) and observed when it returns. Between
 * the two the caller is either queued in the primitive's waiter list or
 * already served (granted, message taken) but not yet running again.
 * FIFO service means the served ones are always the oldest tickets still
 * outstanding: when a ticket is observed, the number of outstanding
 * tickets older than it must be below the number served, which is the
 * number outstanding minus the number still queued.
 */
struct fifo {
	uint64_t next, low;
	unsigned outstanding;
	uint8_t *observed; /* by ticket modulo FIFO_WINDOW */
};

static void fifo_reset(struct fifo *f)
{
	if (!f->observed) {
		f->observed = calloc(FIFO_WINDOW, 1);
		if (!f->observed) {
			perror("calloc");
			exit(1);
		}
	}
	f->next = f->low = 0;
	f->outstanding = 0;
}

static uint64_t fifo_issue(struct fifo *f)
{
	uint64_t t = f->next++;

	if (f->next - f->low > FIFO_WINDOW)
		fail("a caller has waited behind more than %u later ones", FIFO_WINDOW);
	f->observed[t % FIFO_WINDOW] = 0;
	f->outstanding++;
	return t;
}

static void fifo_observe(struct fifo *f, uint64_t t, unsigned queued, const char *what)
{
	unsigned older = 0;

	for (uint64_t u = f->low; u < t; u++)
		older += !f->observed[u % FIFO_WINDOW];
	if (queued > f->outstanding || older >= f->outstanding - queued)
		fail("%s served out of order: ticket %" PRIu64 " served while %u older ones are "
		     "outstanding, %u outstanding in all, %u still queued",
		     what, t, older, f->outstanding, queued);
	f->observed[t % FIFO_WINDOW] = 1;
	f->outstanding--;
	while (f->low < f->next && f->observed[f->low % FIFO_WINDOW])
		f->low++;
}

static int list_empty(const wire_list_t *l)
{
	return l->next == l;
}

static unsigned list_len(const wire_list_t *l)
{
	unsigned n = 0;
	for (const wire_list_t *p = l->next; p != l; p = p->next)
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Shared state of a round.                                            */

enum kind { WORKER, RECEIVER, PING, PONG, VICTIM, CLOSER, COORD };

struct actor {
	wire_t wire;
	void *stack;
	char name[24];
	uint64_t rng;
	unsigned idx; /* index within its kind */
	int kind;
	int started, finished;
	/* parking (suspend until woken by another wire or a timer) */
	int parked; /* 1 + index in parked[], 0 when not parked */
	int woken;
	wire_timer_t park_timer;
	uint32_t sent[NCHAN];
};

/* A receive of recv_timeout() in progress: its record is armed on the channel. */
struct armed {
	struct armed *next, *prev;
	wire_wait_t *wait;
};

struct chan {
	wire_channel_t ch;
	struct fifo fifo;
	struct armed armed; /* list head of the receives in progress */
};

struct lock {
	wire_lock_t lock;
	struct fifo fifo;
	int holders;
};

struct sem {
	wire_sem_t sem;
	struct fifo fifo;
	unsigned holders;
};

struct pair {
	int fd[2];
	wire_fd_state_t st[2];
	wire_net_t net[2]; /* odd pairs go through wire_net */
	int done;
};

/* A victim waits on @fd[0], which never gets data; its closer ends the wait. */
struct victim {
	int fd[2];
	wire_fd_state_t st;
	int outcome; /* errno the victim's wait ended with */
	int how;     /* 0: closed with wire_fd_close, 1: wire_fd_mode_none */
	int waiting; /* the victim is about to wait: the closer may act */
	int done;
};

static struct {
	double seconds;
	uint64_t seed;
	unsigned rounds;
	unsigned workers;
	unsigned pairs;
} cfg;

static wire_thread_t sched;
static struct actor *actors; /* workers, receivers, pingers, pongers, coordinator */
static unsigned nactors;
static struct actor **parked;
static unsigned nparked;
/* [worker][channel]: messages delivered in sequence, and a window of those delivered ahead */
static struct rx {
	uint32_t base;
	uint64_t ahead;
} * rx;
static struct chan chans[NCHAN];
static struct lock locks[NLOCK];
static struct sem sems[NSEM];
static struct pair *pairs;
static struct victim victims[NVICTIM];
static int io_fd, io_scratch_fd; /* a read-only pattern file, and one for the workers' writes */
static wire_pool_t pool;
static wire_pool_entry_t pool_entries[POOL_SIZE];
static uint8_t *child_seen;
static unsigned max_children;
static unsigned workers_left;
static wire_wait_t all_done;
static unsigned stops_taken;

static struct stats {
	uint64_t ops, yields, parks, wakes, strays, sends, delivered, recv_timeouts, recv_won,
	    spurious, notified_unwaits, nonblock_hits, lock_grants, lock_clears, sem_grants, sleeps,
	    spawns, children_done, fd_bytes, fd_timeouts, fd_exchanges, wio_calls, net_msgs,
	    closes_seen, mode_nones_seen, timer_moves, wait_two_first, wait_two_second;
} st, total;

/* ------------------------------------------------------------------ */
/* Helpers used by several kinds of wire.                              */

static void check_channel(unsigned c);

static void *encode(unsigned sender, uint32_t seq)
{
	return (void *)(((uintptr_t)(sender + 1) << 32) | seq);
}

/*
 * Account for a received message. Returns 1 for the coordinator's stop.
 * A sender's messages on a channel are taken in order (it blocks until
 * each is taken), but receivers may process them in another order: one
 * handed to a blocked receiver is processed when that receiver runs. So
 * each (worker, channel) keeps the count delivered in sequence and a
 * window of the ones delivered ahead of it.
 */
static int deliver(unsigned c, void *m)
{
	uintptr_t v = (uintptr_t)m;
	unsigned sender, off;
	uint32_t seq;
	struct rx *x;

	if (m == STOP_MSG)
		return 1;
	sender = (unsigned)(v >> 32) - 1;
	seq = (uint32_t)v;
	if (sender >= cfg.workers || seq == 0 || seq > actors[sender].sent[c])
		fail("channel %u delivered a message %#" PRIxPTR " nobody sent", c, v);
	x = &rx[sender * NCHAN + c];
	if (seq <= x->base)
		fail("channel %u: message %u of worker %u delivered twice", c, seq, sender);
	off = seq - x->base - 1;
	if (off >= 64)
		fail("channel %u: message %u of worker %u delivered while %u is missing", c, seq,
		     sender, x->base + 1);
	if (x->ahead & (1ull << off))
		fail("channel %u: message %u of worker %u delivered twice", c, seq, sender);
	x->ahead |= 1ull << off;
	while (x->ahead & 1) {
		x->ahead >>= 1;
		x->base++;
	}
	st.delivered++;
	return 0;
}

static void send_msg(unsigned c, void *m)
{
	struct chan *ch = &chans[c];
	uint64_t t = fifo_issue(&ch->fifo);

	wire_channel_send(&ch->ch, m);
	fifo_observe(&ch->fifo, t, list_len(&ch->ch.senders), "channel sender");
	check_channel(c);
	st.sends++;
}

struct tmo {
	wire_timer_t timer;
	wire_wait_t wait;
};

static void tmo_fire(wire_timer_t *t)
{
	wire_wait_resume(&container(t, struct tmo, timer)->wait);
}

/*
 * Receive from channel @c with a timeout of @ns: a wait list with the
 * channel's receive wait and a timer's wait. Returns 1 with *@m, or 0 when
 * the timeout won.
 */
/*
 * The timeout is a raw scheduler timer that triggers a wait, or, for
 * waits of a millisecond or more, half of the time a wire_timeout_t.
 */
static int recv_timeout(unsigned c, void **m, int64_t ns, uint64_t *rng)
{
	wire_channel_t *ch = &chans[c].ch;
	wire_channel_receiver_t rec;
	wire_wait_list_t wl;
	wire_wait_t cw, *tw;
	struct tmo to;
	wire_timeout_t wt;
	struct armed me = {.wait = &cw};
	int64_t t0 = wire_now_ns();
	int got = 0, timeout_first = (int)rnd(rng, 2);
	int use_wt = ns >= 1000000 && rnd(rng, 2);
	int ms = (int)(ns / 1000000);

	wire_wait_list_init(&wl);
	wire_wait_init(&cw);
	if (use_wt) {
		ns = (int64_t)ms * 1000000;
		wire_timeout_init(&wt);
		tw = wire_timeout_wait_get(&wt);
	} else {
		wire_wait_init(&to.wait);
		wire_timer_init(&to.timer, tmo_fire);
		tw = &to.wait;
	}
	/* With the timeout chained first, it wins when both have fired: the
	 * record is then withdrawn after being notified (recv_unwait must
	 * pass the sender on). */
	if (timeout_first)
		wire_wait_chain(&wl, tw);
	wire_wait_chain(&wl, &cw);
	if (!timeout_first)
		wire_wait_chain(&wl, tw);
	wire_channel_recv_wait(ch, &rec, &cw);
	me.next = chans[c].armed.next;
	me.prev = &chans[c].armed;
	me.next->prev = me.prev->next = &me;
	if (use_wt)
		ASSERT(wire_timeout_reset(&wt, ms) == 0);
	else
		wire_timer_start_at(&to.timer, t0 + ns);
	for (;;) {
		wire_wait_t *w = wire_list_wait(&wl);
		if (w == &cw) {
			if (wire_channel_recv_nonblock(ch, m) == 0) {
				got = 1;
				break;
			}
			ASSERT(errno == EAGAIN);
			st.spurious++;
			wire_wait_reset(&cw);
			wire_channel_recv_wait(ch, &rec, &cw);
			continue;
		}
		ASSERT(w == tw);
		if (wire_now_ns() - t0 < ns)
			fail("a timeout of %" PRId64 " ns fired after %" PRId64 " ns", ns,
			     wire_now_ns() - t0);
		if (cw.triggered)
			st.notified_unwaits++;
		wire_channel_recv_unwait(ch, &rec);
		break;
	}
	me.prev->next = me.next;
	me.next->prev = me.prev;
	if (use_wt)
		wire_timeout_stop(&wt);
	else
		wire_timer_stop(&to.timer);
	wire_wait_unchain(&cw);
	wire_wait_unchain(tw);
	if (got)
		st.recv_won++;
	else
		st.recv_timeouts++;
	return got;
}

/*
 * No lost wakeup on a channel: a sender and a receiver may both wait only
 * while a notified recv_wait record has yet to be dealt with by its owner
 * (who will take a message, or withdraw and pass the sender on).
 */
static void check_channel(unsigned c)
{
	struct chan *ch = &chans[c];
	unsigned notified = 0;

	if (list_empty(&ch->ch.senders) || list_empty(&ch->ch.receivers))
		return;
	for (struct armed *a = ch->armed.next; a != &ch->armed; a = a->next)
		notified += a->wait->triggered != 0;
	if (!notified)
		fail("channel %u: %u sender(s) and %u receiver(s) wait with nothing to bring them "
		     "together (lost wakeup)",
		     c, list_len(&ch->ch.senders), list_len(&ch->ch.receivers));
}

static void do_sleep(int64_t ns)
{
	int64_t t0 = wire_now_ns(), slept;

	ASSERT(wire_sleep_ns(ns) == 0);
	slept = wire_now_ns() - t0;
	if (slept < ns)
		fail("wire_sleep_ns(%" PRId64 ") returned after %" PRId64 " ns", ns, slept);
	st.sleeps++;
}

/* A short random pause while holding something: nothing, a yield or a sleep. */
static void hold_pause(uint64_t *rng)
{
	switch (rnd(rng, 3)) {
	case 1:
		wire_yield();
		break;
	case 2:
		do_sleep(rnd(rng, 50000));
		break;
	}
}

static void lock_op(uint64_t *rng)
{
	struct lock *l = &locks[rnd(rng, NLOCK)];
	uint64_t t;

	if (rnd(rng, 4) == 0) {
		if (!wire_lock_try_take(&l->lock)) {
			ASSERT(l->lock.locked);
			return;
		}
		t = fifo_issue(&l->fifo);
	} else {
		t = fifo_issue(&l->fifo);
		wire_lock_take(&l->lock);
	}
	fifo_observe(&l->fifo, t, list_len(&l->lock.waiters), "lock");
	ASSERT(l->lock.locked);
	if (l->holders++ != 0)
		fail("lock %td granted while held", l - locks);
	hold_pause(rng);
	ASSERT(l->holders == 1);
	l->holders--;
	wire_lock_release(&l->lock);
	st.lock_grants++;
}

static void lock_clear_op(uint64_t *rng)
{
	struct lock *l = &locks[rnd(rng, NLOCK)];

	wire_lock_wait_clear(&l->lock);
	ASSERT(!l->lock.locked && list_empty(&l->lock.waiters) && l->holders == 0);
	st.lock_clears++;
}

static void sem_check(struct sem *s)
{
	unsigned queued = list_len(&s->sem.waiters);
	/* units: held by running wires + handed to wires not yet running + free */
	if (s->holders + (s->fifo.outstanding - queued) + s->sem.count != SEM_UNITS)
		fail("semaphore %td: %u held + %u granted + %u free != %u units", s - sems,
		     s->holders, s->fifo.outstanding - queued, s->sem.count, SEM_UNITS);
}

static void sem_op(uint64_t *rng)
{
	struct sem *s = &sems[rnd(rng, NSEM)];
	uint64_t t;

	if (rnd(rng, 4) == 0) {
		if (!wire_sem_try_take(&s->sem)) {
			ASSERT(s->sem.count == 0);
			return;
		}
		t = fifo_issue(&s->fifo);
	} else {
		t = fifo_issue(&s->fifo);
		wire_sem_take(&s->sem);
	}
	fifo_observe(&s->fifo, t, list_len(&s->sem.waiters), "semaphore");
	if (++s->holders > SEM_UNITS)
		fail("semaphore %td over-granted: %u holders of %u units", s - sems, s->holders,
		     SEM_UNITS);
	sem_check(s);
	hold_pause(rng);
	s->holders--;
	wire_sem_release(&s->sem);
	sem_check(s);
	st.sem_grants++;
}

/* ------------------------------------------------------------------ */
/* Parking: suspend until another wire or a timer wakes us.            */

static void unpark_and_wake(struct actor *a)
{
	unsigned i = (unsigned)a->parked - 1;

	parked[i] = parked[--nparked];
	parked[i]->parked = (int)i + 1;
	a->parked = 0;
	a->woken = 1;
	wire_resume(&a->wire);
}

static void park_timer_fire(wire_timer_t *t)
{
	struct actor *a = container(t, struct actor, park_timer);

	if (a->parked)
		unpark_and_wake(a);
}

static void park(struct actor *a)
{
	a->woken = 0;
	parked[nparked++] = a;
	a->parked = (int)nparked;
	wire_timer_init(&a->park_timer, park_timer_fire);
	wire_timer_start_at(&a->park_timer, wire_now_ns() + rnd(&a->rng, 500000));
	while (!a->woken)
		wire_suspend();
	ASSERT(!a->parked);
	wire_timer_stop(&a->park_timer);
	st.parks++;
}

/* ------------------------------------------------------------------ */
/* Pool children.                                                      */

static void child_main(void *arg)
{
	unsigned serial = (unsigned)(uintptr_t)arg;
	uint64_t rng = round_seed ^ (0xc0ffee00000000ull + serial);
	unsigned n = 1 + rnd(&rng, 4);

	ASSERT(serial < max_children);
	if (child_seen[serial] != 1)
		fail("pool child %u entered in state %u", serial, child_seen[serial]);
	child_seen[serial] = 2;
	for (unsigned i = 0; i < n; i++) {
		switch (rnd(&rng, 4)) {
		case 0:
			wire_yield();
			break;
		case 1:
			do_sleep(rnd(&rng, 100000));
			break;
		case 2:
			lock_op(&rng);
			break;
		case 3:
			sem_op(&rng);
			break;
		}
	}
	child_seen[serial] = 3;
	st.children_done++;
}

static void spawn_op(void)
{
	unsigned serial = (unsigned)st.spawns;

	if (serial >= max_children)
		return;
	child_seen[serial] = 1;
	st.spawns++;
	if (!wire_pool_alloc_block(&pool, "child", child_main, (void *)(uintptr_t)serial))
		fail("wire_pool_alloc_block failed: %s", strerror(errno));
	ASSERT(wire_pool_in_use(&pool) <= POOL_SIZE);
}

/* ------------------------------------------------------------------ */
/* wio calls, timer moves, wire_wait_two.                              */

static uint8_t io_pattern(off_t off)
{
	return (uint8_t)(off * 13 + 5);
}

/* A checked wio call: a read of the pattern file, its size, or a write
 * and read back of this worker's own block of the scratch file. */
static void wio_op(struct actor *a)
{
	uint8_t buf[IO_BLOCK], mine[IO_BLOCK];
	off_t off;
	struct stat sb;

	switch (rnd(&a->rng, 3)) {
	case 0:
		off = (off_t)rnd(&a->rng, IO_FILE - IO_BLOCK);
		if (wio_pread(io_fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf))
			fail("wio_pread: %s", strerror(errno));
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != io_pattern(off + (off_t)i))
				fail("wio_pread at %jd: byte %zu is %u", (intmax_t)off, i, buf[i]);
		break;
	case 1:
		if (wio_fstat(io_fd, &sb) != 0)
			fail("wio_fstat: %s", strerror(errno));
		ASSERT(sb.st_size == IO_FILE);
		break;
	default:
		off = (off_t)a->idx * IO_BLOCK;
		memset(mine, (int)rnd(&a->rng, 256), sizeof(mine));
		ASSERT(wio_pwrite(io_scratch_fd, mine, sizeof(mine), off) == (ssize_t)sizeof(mine));
		ASSERT(wio_pread(io_scratch_fd, buf, sizeof(buf), off) == (ssize_t)sizeof(buf));
		ASSERT(memcmp(buf, mine, sizeof(buf)) == 0);
		break;
	}
	st.wio_calls++;
}

/* Move the park timer of a parked wire, earlier or later: it still ends. */
static void move_timer_op(uint64_t *rng)
{
	struct actor *a;

	if (!nparked)
		return;
	a = parked[rnd(rng, nparked)];
	if (!a->park_timer.armed)
		return;
	wire_timer_start_at(&a->park_timer, wire_now_ns() + rnd(rng, 400000));
	st.timer_moves++;
}

/* Wait for the first of two timers with wire_wait_two(). */
static void wait_two_op(uint64_t *rng)
{
	struct tmo t[2];
	int64_t t0 = wire_now_ns(), d[2];
	int first;

	for (int i = 0; i < 2; i++) {
		d[i] = rnd(rng, 200000);
		wire_wait_init(&t[i].wait);
		wire_timer_init(&t[i].timer, tmo_fire);
		wire_timer_start_at(&t[i].timer, t0 + d[i]);
	}
	first = wire_wait_two(&t[0].wait, &t[1].wait);
	ASSERT(first == 1 || first == 2);
	ASSERT(t[first - 1].wait.triggered);
	ASSERT(wire_now_ns() - t0 >= d[first - 1]);
	ASSERT(t[0].wait.list == NULL && t[1].wait.list == NULL);
	for (int i = 0; i < 2; i++)
		wire_timer_stop(&t[i].timer);
	if (first == 1)
		st.wait_two_first++;
	else
		st.wait_two_second++;
}

/* ------------------------------------------------------------------ */
/* Workers.                                                            */

static struct actor *random_actor(uint64_t *rng)
{
	return &actors[rnd(rng, nactors)];
}

static void enter(struct actor *a)
{
	if (a->started || a->finished)
		fail("entry run twice (started %d, finished %d)", a->started, a->finished);
	a->started = 1;
}

static void worker_main(void *arg)
{
	struct actor *a = arg;
	unsigned nops = 10 + rnd(&a->rng, 50);
	void *m;

	enter(a);
	for (unsigned op = 0; op < nops; op++) {
		unsigned r = rnd(&a->rng, 116);
		st.ops++;
		check_channel(rnd(&a->rng, NCHAN));
		if (r < 14) {
			wire_yield();
			st.yields++;
		} else if (r < 22) {
			park(a);
		} else if (r < 28) {
			if (nparked) {
				unpark_and_wake(parked[rnd(&a->rng, nparked)]);
				st.wakes++;
			}
		} else if (r < 34) {
			if (rnd(&a->rng, 2))
				wire_resume(&random_actor(&a->rng)->wire);
			else
				wire_resume(&pool_entries[rnd(&a->rng, POOL_SIZE)].wire);
			st.strays++;
		} else if (r < 54) {
			unsigned c = rnd(&a->rng, NCHAN);
			send_msg(c, encode(a->idx, ++a->sent[c]));
		} else if (r < 62) {
			unsigned c = rnd(&a->rng, NCHAN);
			if (recv_timeout(c, &m, rnd(&a->rng, 200000), &a->rng))
				ASSERT(deliver(c, m) == 0);
		} else if (r < 66) {
			unsigned c = rnd(&a->rng, NCHAN);
			if (wire_channel_recv_nonblock(&chans[c].ch, &m) == 0) {
				ASSERT(deliver(c, m) == 0);
				st.nonblock_hits++;
			} else {
				ASSERT(errno == EAGAIN);
			}
		} else if (r < 76) {
			lock_op(&a->rng);
		} else if (r < 78) {
			lock_clear_op(&a->rng);
		} else if (r < 88) {
			sem_op(&a->rng);
		} else if (r < 96) {
			do_sleep(rnd(&a->rng, 300000));
		} else if (r < 100) {
			spawn_op();
		} else if (r < 108) {
			wio_op(a);
		} else if (r < 112) {
			move_timer_op(&a->rng);
		} else {
			wait_two_op(&a->rng);
		}
	}
	a->finished = 1;
	if (--workers_left == 0)
		wire_wait_resume(&all_done);
}

/* A dedicated receiver of one channel; stops at the coordinator's stop message. */
static void receiver_main(void *arg)
{
	struct actor *a = arg;
	unsigned c = a->idx % NCHAN;
	void *m;

	enter(a);
	for (;;) {
		int got = 0;
		switch (rnd(&a->rng, 4)) {
		case 0:
		case 1:
			ASSERT(wire_channel_recv_block(&chans[c].ch, &m) == 0);
			got = 1;
			break;
		case 2:
			got = recv_timeout(c, &m, 1000 + rnd(&a->rng, 1000000), &a->rng);
			break;
		case 3:
			if (wire_channel_recv_nonblock(&chans[c].ch, &m) == 0)
				got = 1;
			else
				wire_yield();
			break;
		}
		check_channel(c);
		if (got && deliver(c, m)) {
			stops_taken++;
			break;
		}
		if (rnd(&a->rng, 16) == 0)
			do_sleep(rnd(&a->rng, 100000));
	}
	a->finished = 1;
}

/* Once every worker is done, stop every dedicated receiver. */
static void coordinator_main(void *arg)
{
	struct actor *a = arg;

	enter(a);
	wire_wait_single(&all_done);
	ASSERT(workers_left == 0);
	for (unsigned c = 0; c < NCHAN; c++)
		for (unsigned r = 0; r < NRECV; r++)
			send_msg(c, STOP_MSG);
	a->finished = 1;
}

/* ------------------------------------------------------------------ */
/* fd ping-pong over socketpairs.                                      */

static void write_all(wire_fd_state_t *s, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t r = write(s->fd, buf, len);
		if (r > 0) {
			buf += r;
			len -= (size_t)r;
		} else if (r < 0 && errno == EAGAIN) {
			if (wire_fd_wait_write(s) != 0)
				fail("wire_fd_wait_write: %s", strerror(errno));
		} else {
			fail("write: %s", r < 0 ? strerror(errno) : "returned 0");
		}
	}
}

/* Wait for readability, half of the time in a wait list raced against a timeout. */
static void wait_readable(wire_fd_state_t *s, uint64_t *rng)
{
	wire_wait_list_t wl;
	wire_wait_t *fw, *w;
	struct tmo to;
	int64_t ns, t0;

	if (rnd(rng, 2)) {
		if (wire_fd_wait_read(s) != 0)
			fail("wire_fd_wait_read: %s", strerror(errno));
		return;
	}
	ns = rnd(rng, 300000);
	t0 = wire_now_ns();
	wire_wait_list_init(&wl);
	wire_wait_init(&to.wait);
	wire_timer_init(&to.timer, tmo_fire);
	fw = wire_fd_wait_list_chain(&wl, s);
	wire_wait_chain(&wl, &to.wait);
	wire_timer_start_at(&to.timer, t0 + ns);
	w = wire_list_wait(&wl);
	if (w == &to.wait) {
		ASSERT(wire_now_ns() - t0 >= ns);
		st.fd_timeouts++;
	} else {
		ASSERT(w == fw);
	}
	wire_timer_stop(&to.timer);
	wire_wait_unchain(fw);
	wire_wait_unchain(&to.wait);
}

/* Read exactly @len bytes; @len 0 means: expect end of stream. */
static void read_exact(wire_fd_state_t *s, uint8_t *buf, size_t len, uint64_t *rng)
{
	size_t got = 0;

	for (;;) {
		ssize_t r = read(s->fd, buf + got, len ? len - got : 1);
		if (r > 0) {
			if (!len)
				fail("%zd bytes after the end of the exchange", r);
			got += (size_t)r;
			if (got == len)
				return;
		} else if (r == 0) {
			if (len)
				fail("end of stream after %zu of %zu bytes", got, len);
			return;
		} else if (errno == EAGAIN) {
			wait_readable(s, rng);
		} else {
			fail("read: %s", strerror(errno));
		}
	}
}

static uint8_t pattern(unsigned pair, unsigned k, size_t i)
{
	return (uint8_t)((round_seed >> (k % 7)) + pair * 31u + k * 131u + i * 7u + (i >> 8));
}

/* The wire_net side of an odd pair: the same exchange, with timeouts that never fire. */
static void net_ping(struct actor *a, struct pair *p)
{
	wire_net_t *n = &p->net[0];
	uint8_t out[MAX_MSG], in[MAX_MSG];
	unsigned k, count = 2 + rnd(&a->rng, 20);

	ASSERT(wire_net_init(n, p->fd[0]) == 0);
	wire_net_set_timeout_ns(n, 30 * 1000000000LL);
	for (k = 0; k < count; k++) {
		size_t len = 1 + rnd(&a->rng, MAX_MSG);
		for (size_t i = 0; i < len; i++)
			out[i] = pattern(a->idx, k, i);
		if (wire_net_write(n, out, len) != (ssize_t)len)
			fail("wire_net_write: %s", strerror(errno));
		if (wire_net_read_full(n, in, len) != (ssize_t)len)
			fail("wire_net_read_full: %s", strerror(errno));
		if (memcmp(in, out, len) != 0)
			fail("pair %u, exchange %u: echo differs", a->idx, k);
		st.fd_bytes += len;
		st.net_msgs++;
	}
	ASSERT(shutdown(p->fd[0], SHUT_WR) == 0);
	ASSERT(wire_net_read_any(n, in, sizeof(in)) == 0);
	ASSERT(wire_net_close(n) == 0);
}

static void net_pong(struct actor *a, struct pair *p)
{
	wire_net_t *n = &p->net[1];
	uint8_t buf[4096];
	ssize_t r;

	ASSERT(wire_net_init(n, p->fd[1]) == 0);
	wire_net_set_timeout_ns(n, 30 * 1000000000LL);
	while ((r = wire_net_read_any(n, buf, 1 + rnd(&a->rng, sizeof(buf)))) > 0)
		if (wire_net_write(n, buf, (size_t)r) != r)
			fail("wire_net_write: %s", strerror(errno));
	if (r < 0)
		fail("wire_net_read_any: %s", strerror(errno));
	ASSERT(wire_net_close(n) == 0);
}

static void ping_main(void *arg)
{
	struct actor *a = arg;
	struct pair *p = &pairs[a->idx];
	wire_fd_state_t *s = &p->st[0];
	uint8_t out[MAX_MSG], in[MAX_MSG];
	unsigned n = 2 + rnd(&a->rng, 20);

	enter(a);
	if (a->idx & 1) {
		net_ping(a, p);
		goto done;
	}
	ASSERT(wire_fd_mode_read(s) == 0);
	for (unsigned k = 0; k < n; k++) {
		size_t len = 1 + rnd(&a->rng, MAX_MSG);
		for (size_t i = 0; i < len; i++)
			out[i] = pattern(a->idx, k, i);
		write_all(s, out, len);
		read_exact(s, in, len, &a->rng);
		for (size_t i = 0; i < len; i++)
			if (in[i] != out[i])
				fail("pair %u, exchange %u: byte %zu echoed as %u, sent %u", a->idx,
				     k, i, in[i], out[i]);
		st.fd_bytes += len;
		st.fd_exchanges++;
		if (rnd(&a->rng, 3) == 0)
			wire_yield();
	}
	ASSERT(shutdown(s->fd, SHUT_WR) == 0);
	read_exact(s, in, 0, &a->rng);
	ASSERT(wire_fd_close(s) == 0);
done:
	p->fd[0] = -1;
	p->done++;
	a->finished = 1;
}

static void pong_main(void *arg)
{
	struct actor *a = arg;
	struct pair *p = &pairs[a->idx];
	wire_fd_state_t *s = &p->st[1];
	uint8_t buf[4096];

	enter(a);
	if (a->idx & 1) {
		net_pong(a, p);
		goto done;
	}
	ASSERT(wire_fd_mode_read(s) == 0);
	for (;;) {
		ssize_t r = read(s->fd, buf, 1 + rnd(&a->rng, sizeof(buf)));
		if (r > 0) {
			write_all(s, buf, (size_t)r);
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN) {
			wait_readable(s, &a->rng);
		} else {
			fail("read: %s", strerror(errno));
		}
	}
	ASSERT(wire_fd_close(s) == 0);
done:
	p->fd[1] = -1;
	p->done++;
	a->finished = 1;
}

/* ------------------------------------------------------------------ */
/* Waits ended by a close or a mode_none.                              */

/* Waits on a pipe that never gets data, after switching modes; a closer ends it. */
static void victim_main(void *arg)
{
	struct actor *a = arg;
	struct victim *v = &victims[a->idx];
	int r;

	enter(a);
	/* Switch modes first: write, none (out of epoll), read (in again). */
	ASSERT(wire_fd_mode_write(&v->st) == 0);
	if (rnd(&a->rng, 2))
		ASSERT(wire_fd_wait(&v->st) == 0); /* an empty pipe's write end... */
	ASSERT(wire_fd_mode_none(&v->st) == 0);
	ASSERT(wire_fd_mode_read(&v->st) == 0);
	v->waiting = 1;
	if (rnd(&a->rng, 2)) {
		r = wire_fd_wait(&v->st);
		ASSERT(r == -1);
		v->outcome = errno;
	} else {
		wire_wait_list_t wl;
		wire_timeout_t to;
		wire_wait_t *fw;

		wire_wait_list_init(&wl);
		fw = wire_fd_wait_list_chain(&wl, &v->st);
		if (!fw) {
			v->outcome = errno; /* closed or stopped before the chain */
		} else {
			ASSERT(wire_timeout_init(&to) == 0);
			ASSERT(wire_timeout_reset(&to, 30000) == 0);
			wire_wait_chain(&wl, wire_timeout_wait_get(&to));
			if (wire_list_wait(&wl) != fw)
				fail("a victim's list wait timed out: its closer never came");
			wire_wait_unchain(fw);
			wire_wait_unchain(wire_timeout_wait_get(&to));
			wire_timeout_stop(&to);
			v->outcome = v->st.fd < 0 ? EBADF : EINVAL;
		}
	}
	if (v->how == 0 && v->outcome != EBADF)
		fail("victim %u: wait ended with %s after wire_fd_close", a->idx,
		     strerror(v->outcome));
	if (v->how == 1 && v->outcome != EINVAL)
		fail("victim %u: wait ended with %s after wire_fd_mode_none", a->idx,
		     strerror(v->outcome));
	if (v->how == 0)
		st.closes_seen++;
	else
		st.mode_nones_seen++;
	v->done++;
	a->finished = 1;
}

static void closer_main(void *arg)
{
	struct actor *a = arg;
	struct victim *v = &victims[a->idx];

	enter(a);
	while (!v->waiting)
		wire_yield();
	if (rnd(&a->rng, 2))
		do_sleep(rnd(&a->rng, 300000));
	if (v->how == 0) {
		ASSERT(wire_fd_close(&v->st) == 0);
	} else {
		ASSERT(wire_fd_mode_none(&v->st) == 0);
		ASSERT(close(v->fd[0]) == 0);
	}
	ASSERT(close(v->fd[1]) == 0);
	v->done++;
	a->finished = 1;
}

/* ------------------------------------------------------------------ */
/* Rounds.                                                             */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void setup_round(void)
{
	uint64_t rng = round_seed;
	unsigned nrecv = NCHAN * NRECV, i;
	unsigned *order;

	memset(&st, 0, sizeof(st));
	for (unsigned c = 0; c < NCHAN; c++) {
		wire_channel_init(&chans[c].ch);
		chans[c].armed.next = chans[c].armed.prev = &chans[c].armed;
		fifo_reset(&chans[c].fifo);
	}
	for (unsigned l = 0; l < NLOCK; l++) {
		wire_lock_init(&locks[l].lock);
		fifo_reset(&locks[l].fifo);
		locks[l].holders = 0;
	}
	for (unsigned s = 0; s < NSEM; s++) {
		wire_sem_init(&sems[s].sem, SEM_UNITS);
		fifo_reset(&sems[s].fifo);
		sems[s].holders = 0;
	}
	memset(rx, 0, sizeof(*rx) * cfg.workers * NCHAN);
	memset(child_seen, 0, max_children);
	nparked = 0;
	workers_left = cfg.workers;
	stops_taken = 0;
	wire_wait_init(&all_done);
	for (unsigned p = 0; p < cfg.pairs; p++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pairs[p].fd))
			fail("socketpair: %s", strerror(errno));
		wire_fd_mode_init(&pairs[p].st[0], pairs[p].fd[0]);
		wire_fd_mode_init(&pairs[p].st[1], pairs[p].fd[1]);
		pairs[p].done = 0;
	}
	for (unsigned v = 0; v < NVICTIM; v++) {
		/* A socket that is writable and never gets data. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			       victims[v].fd))
			fail("socketpair: %s", strerror(errno));
		wire_fd_mode_init(&victims[v].st, victims[v].fd[0]);
		victims[v].how = (int)rnd(&rng, 2);
		victims[v].outcome = 0;
		victims[v].waiting = 0;
		victims[v].done = 0;
	}

	/* Kinds laid out in actors[]: workers, receivers, pings, pongs, coordinator. */
	for (i = 0; i < nactors; i++) {
		struct actor *a = &actors[i];
		void *stack = a->stack;
		memset(a, 0, sizeof(*a));
		a->stack = stack;
		a->rng = round_seed ^ (0x5eed0000ull + i * 0x100000001b3ull);
		if (i < cfg.workers) {
			a->kind = WORKER;
			a->idx = i;
		} else if (i < cfg.workers + nrecv) {
			a->kind = RECEIVER;
			a->idx = i - cfg.workers;
		} else if (i < cfg.workers + nrecv + cfg.pairs) {
			a->kind = PING;
			a->idx = i - cfg.workers - nrecv;
		} else if (i < cfg.workers + nrecv + 2 * cfg.pairs) {
			a->kind = PONG;
			a->idx = i - cfg.workers - nrecv - cfg.pairs;
		} else if (i < cfg.workers + nrecv + 2 * cfg.pairs + NVICTIM) {
			a->kind = VICTIM;
			a->idx = i - cfg.workers - nrecv - 2 * cfg.pairs;
		} else if (i < cfg.workers + nrecv + 2 * cfg.pairs + 2 * NVICTIM) {
			a->kind = CLOSER;
			a->idx = i - cfg.workers - nrecv - 2 * cfg.pairs - NVICTIM;
		} else {
			a->kind = COORD;
		}
		snprintf(a->name, sizeof(a->name), "%s-%u",
			 (const char *[]){"worker", "receiver", "ping", "pong", "victim", "closer",
					  "coordinator"}[a->kind],
			 a->idx);
	}
	/* Start them in a random order. */
	order = malloc(sizeof(*order) * nactors);
	ASSERT(order != NULL);
	for (i = 0; i < nactors; i++)
		order[i] = i;
	for (i = nactors - 1; i > 0; i--) {
		unsigned j = rnd(&rng, i + 1), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < nactors; i++) {
		static void (*const entry[])(void *) = {worker_main,	 receiver_main, ping_main,
							pong_main,	 victim_main,	closer_main,
							coordinator_main};
		struct actor *a = &actors[order[i]];
		if (!wire_init(&a->wire, a->name, entry[a->kind], a, a->stack, STACK))
			fail("wire_init: %s", strerror(errno));
	}
	free(order);
}

static void check_round(void)
{
	unsigned suspended = wire_thread_suspended();

	if (suspended) {
		wire_thread_report_suspended();
		fail("wire_thread_run returned with %u wire(s) suspended", suspended);
	}
	for (unsigned i = 0; i < nactors; i++)
		if (actors[i].started != 1 || actors[i].finished != 1 ||
		    actors[i].wire.state != WIRE_DONE)
			fail("%s: started %d, finished %d, state %d after the run", actors[i].name,
			     actors[i].started, actors[i].finished, actors[i].wire.state);
	ASSERT(nparked == 0);
	ASSERT(workers_left == 0);
	ASSERT(stops_taken == NCHAN * NRECV);
	for (unsigned w = 0; w < cfg.workers; w++)
		for (unsigned c = 0; c < NCHAN; c++)
			if (rx[w * NCHAN + c].base != actors[w].sent[c] || rx[w * NCHAN + c].ahead)
				fail("worker %u sent %u messages on channel %u, %u delivered in "
				     "sequence",
				     w, actors[w].sent[c], c, rx[w * NCHAN + c].base);
	for (unsigned c = 0; c < NCHAN; c++) {
		ASSERT(list_empty(&chans[c].ch.senders));
		ASSERT(list_empty(&chans[c].ch.receivers));
		ASSERT(chans[c].fifo.outstanding == 0);
		ASSERT(chans[c].armed.next == &chans[c].armed);
	}
	for (unsigned l = 0; l < NLOCK; l++) {
		ASSERT(!locks[l].lock.locked);
		ASSERT(list_empty(&locks[l].lock.waiters));
		ASSERT(list_empty(&locks[l].lock.clear_waiters));
		ASSERT(locks[l].holders == 0 && locks[l].fifo.outstanding == 0);
	}
	for (unsigned s = 0; s < NSEM; s++) {
		ASSERT(sems[s].sem.count == SEM_UNITS);
		ASSERT(list_empty(&sems[s].sem.waiters));
		ASSERT(sems[s].holders == 0 && sems[s].fifo.outstanding == 0);
	}
	ASSERT(wire_pool_in_use(&pool) == 0);
	ASSERT(st.children_done == st.spawns);
	for (unsigned c = 0; c < st.spawns; c++)
		if (child_seen[c] != 3)
			fail("pool child %u ended in state %u", c, child_seen[c]);
	for (unsigned p = 0; p < cfg.pairs; p++)
		ASSERT(pairs[p].done == 2 && pairs[p].fd[0] == -1 && pairs[p].fd[1] == -1);
	for (unsigned v = 0; v < NVICTIM; v++)
		ASSERT(victims[v].done == 2);
	ASSERT(wire_thread_get()->num_timers == 0);
	ASSERT(wire_thread_get()->num_suspended == 0);
}

static void add_stats(void)
{
	uint64_t *a = (uint64_t *)(void *)&total, *b = (uint64_t *)(void *)&st;
	for (size_t i = 0; i < sizeof(st) / sizeof(uint64_t); i++)
		a[i] += b[i];
}

/* A run of two rounds or more took every rare path at least once. */
static void check_rare_paths(void)
{
	const struct {
		const char *what;
		uint64_t n;
	} paths[] = {
	    {"receives timed out", total.recv_timeouts},
	    {"spurious receive wakeups", total.spurious},
	    {"notified then withdrawn", total.notified_unwaits},
	    {"stray resumes", total.strays},
	    {"fd waits timed out", total.fd_timeouts},
	    {"waits ended by a close", total.closes_seen},
	    {"waits ended by mode_none", total.mode_nones_seen},
	    {"timer moves", total.timer_moves},
	    {"wire_wait_two won by the first", total.wait_two_first},
	    {"wire_wait_two won by the second", total.wait_two_second},
	    {"wio calls", total.wio_calls},
	    {"wire_net messages", total.net_msgs},
	    {"pool children", total.children_done},
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!paths[i].n)
			fail("the run never took a rare path: %s", paths[i].what);
}

/* The pattern file of the wio reads and the scratch file of the writes, unlinked at once. */
static int make_io_files(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	uint8_t block[IO_FILE];

	for (int i = 0; i < 2; i++) {
		int fd;
		snprintf(path, sizeof(path), "%s/wire_stress_XXXXXX", tmp && *tmp ? tmp : "/tmp");
		fd = mkstemp(path);
		if (fd < 0)
			return -1;
		unlink(path);
		if (i == 0) {
			for (off_t off = 0; off < IO_FILE; off++)
				block[off] = io_pattern(off);
			if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block))
				return -1;
			io_fd = fd;
		} else {
			io_scratch_fd = fd;
		}
	}
	return 0;
}

static double env_num(const char *name, double def)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return def;
	v = strtod(s, &end);
	if (*end || v < 0) {
		fprintf(stderr, "wire_stress: bad %s=%s\n", name, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *seed_env = getenv("WIRE_STRESS_SEED");
	int scale = (int)env_num("WIRE_TEST_TIME_SCALE", 1);
	int64_t start, deadline;
	int fds_before;
	unsigned rounds = 0;

	(void)argc;
	prog = argv[0];
	cfg.seconds = env_num("WIRE_STRESS_SECONDS", 60);
	cfg.rounds = (unsigned)env_num("WIRE_STRESS_ROUNDS", 0);
	cfg.workers = (unsigned)env_num("WIRE_STRESS_WIRES", 2000);
	cfg.pairs = (unsigned)env_num("WIRE_STRESS_PAIRS", 32);
	if (cfg.workers < 1 || cfg.workers > MAX_WORKERS || cfg.pairs > MAX_PAIRS) {
		fprintf(stderr,
			"wire_stress: WIRE_STRESS_WIRES must be 1..%u, "
			"WIRE_STRESS_PAIRS 0..%u\n",
			MAX_WORKERS, MAX_PAIRS);
		return 2;
	}
	if (seed_env && *seed_env)
		cfg.seed = strtoull(seed_env, NULL, 0);
	else
		cfg.seed = (uint64_t)wire_now_ns() ^ ((uint64_t)getpid() << 32);
	if (scale < 1)
		scale = 1;

	nactors = cfg.workers + NCHAN * NRECV + 2 * cfg.pairs + 2 * NVICTIM + 1;
	actors = calloc(nactors, sizeof(*actors));
	parked = calloc(nactors, sizeof(*parked));
	rx = calloc((size_t)cfg.workers * NCHAN, sizeof(*rx));
	pairs = calloc(cfg.pairs ? cfg.pairs : 1, sizeof(*pairs));
	max_children = cfg.workers * 60;
	child_seen = calloc(max_children, 1);
	if (!actors || !parked || !rx || !pairs || !child_seen) {
		perror("calloc");
		return 1;
	}
	for (unsigned i = 0; i < nactors; i++) {
		actors[i].stack = wire_stack_alloc(STACK);
		if (!actors[i].stack) {
			perror("wire_stack_alloc");
			return 1;
		}
	}
	wire_thread_init(&sched);
	wire_thread_set_deadlock_report(1);
	if (wire_fd_init() != 0) {
		perror("wire_fd_init");
		return 1;
	}
	if (wire_pool_init(&pool, pool_entries, POOL_SIZE, STACK) != 0) {
		perror("wire_pool_init");
		return 1;
	}
	if (make_io_files() != 0) {
		perror("wire_stress: the files of the wio calls");
		return 1;
	}
	round_seed = cfg.seed;
	set_replay_line();
	install_handlers();

	printf("wire_stress: seed %" PRIu64 ", %.0f s, %u workers, %u receivers, %u fd pairs per "
	       "round\n",
	       cfg.seed, cfg.seconds, cfg.workers, NCHAN * NRECV, cfg.pairs);
	fflush(stdout);
	fds_before = count_fds();
	start = wire_now_ns();
	deadline = start + (int64_t)(cfg.seconds * 1e9);
	do {
		round_no = rounds;
		round_seed = cfg.seed + rounds;
		set_replay_line();
		setup_round();
		/* The wio backend alternates: threads, io_uring (where it is available). */
		if (wire_io_init_backend(2, rounds % 2 ? "uring" : "threads") != 0 &&
		    wire_io_init_backend(2, "threads") != 0)
			fail("wire_io_init_backend: %s", strerror(errno));
		alarm((unsigned)(60 * scale)); /* a round takes well under a second */
		wire_thread_run();
		alarm(0);
		wire_io_shutdown();
		check_round();
		if (count_fds() != fds_before)
			fail("%d fds open after the round, %d before", count_fds(), fds_before);
		add_stats();
		rounds++;
	} while (wire_now_ns() < deadline && (!cfg.rounds || rounds < cfg.rounds));

	if (wire_pool_destroy(&pool) != 0)
		fail("wire_pool_destroy: %s", strerror(errno));
	for (unsigned i = 0; i < nactors; i++)
		wire_stack_free(actors[i].stack, STACK);
	printf("wire_stress: %u rounds in %.1f s: %" PRIu64 " worker ops, %" PRIu64 " messages "
	       "(%" PRIu64 " receives timed out, %" PRIu64 " spurious, %" PRIu64
	       " notified then withdrawn), %" PRIu64 " lock grants, %" PRIu64
	       " semaphore grants, %" PRIu64 " sleeps, %" PRIu64 " parks, %" PRIu64
	       " stray resumes, %" PRIu64 " pool children, %" PRIu64 " fd exchanges (%" PRIu64
	       " bytes, %" PRIu64 " waits timed out)\n",
	       rounds, (double)(wire_now_ns() - start) / 1e9, total.ops, total.delivered,
	       total.recv_timeouts, total.spurious, total.notified_unwaits, total.lock_grants,
	       total.sem_grants, total.sleeps, total.parks, total.strays, total.children_done,
	       total.fd_exchanges, total.fd_bytes, total.fd_timeouts);
	printf("wire_stress: %" PRIu64 " wio calls, %" PRIu64 " wire_net messages, %" PRIu64
	       " waits ended by a close and %" PRIu64 " by mode_none, %" PRIu64
	       " timer moves, wire_wait_two %" PRIu64 " first and %" PRIu64 " second\n",
	       total.wio_calls, total.net_msgs, total.closes_seen, total.mode_nones_seen,
	       total.timer_moves, total.wait_two_first, total.wait_two_second);
	if (rounds >= 2)
		check_rare_paths();
	printf("wire_stress: all invariants held\n");
	close(io_fd);
	close(io_scratch_fd);
	free(actors);
	free(parked);
	free(rx);
	free(pairs);
	free(child_seen);
	for (unsigned c = 0; c < NCHAN; c++)
		free(chans[c].fifo.observed);
	for (unsigned l = 0; l < NLOCK; l++)
		free(locks[l].fifo.observed);
	for (unsigned s = 0; s < NSEM; s++)
		free(sems[s].fifo.observed);
	return 0;
}
