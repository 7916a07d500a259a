/*
 * wire_trace - the timeline: every run of a wire, on every scheduler
 * thread, written as a Chrome trace-event JSON file.
 *
 * Recording. A scheduler thread records while its t->trace points at its
 * record (struct wire_trace, in its thread-local storage): the scheduler
 * then goes back to its loop at every switch (wire__budget_spent(), with
 * the budget of 1 switch that wire__hooks asks for) and calls
 * wire__trace_switch() there, once as the wire that ran comes back and
 * once before the next one runs. Only the thread itself sets its t->trace:
 * as it sets up its scheduler while a timeline is on, or as it starts the
 * timeline. Off, t->trace is NULL and nothing here runs.
 *
 * A timeline is numbered: wire__trace_gen is odd while one records. A thread
 * that sees a number it has not seen leaves the old timeline (or stops
 * recording) and joins the new one, allocating its ring (struct
 * trace_ring) and adding it to the timeline's list. A ring holds the last
 * runs of its thread: the wire, its name, start and end, and why it
 * stopped (a yield, what it blocked on, its end). The thread keeps the run
 * under way in its own record and appends it to the ring when the run
 * ends, under the ring's mutex; the writer of the file takes the same
 * mutex for each chunk of runs it copies, so a flush from any thread
 * reads exactly what was recorded while other threads go on recording.
 *
 * Lifetimes. The list, the file and the number are under trace_lock. A
 * ring is freed by whoever is last of its owner and the timeline: stop
 * marks the rings stopped (freeing their runs) and frees those whose
 * thread exited (a thread-specific key's destructor says so); an owner
 * that finds its ring stopped frees it. No thread reads another's record.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"
#include "wire_debug.h"
#include "wire_internal.h"
#include "wire_debug_internal.h"

/* Events kept per thread when wire_trace_start() is given 0. */
#define TRACE_DEFAULT_EVENTS 1000000

/* One run of a wire: its slice and the instant event that ends it. */
struct trace_run {
	const void *wire;
	int64_t start, end; /* CLOCK_MONOTONIC ns */
	const char *why;    /* "yield", "end", or the wait (wire_t.blocked.what) */
	const void *obj;    /* the object waited on, or NULL */
	int fd;		    /* the fd waited on, or -1 */
	char name[WIRE_NAME_MAX];
};

/* The runs of one thread in one timeline, oldest overwritten first. */
struct trace_ring {
	struct trace_ring *next; /* in tl.rings, under trace_lock */
	pthread_mutex_t lock;	 /* the fields below */
	struct trace_run *runs;	 /* cap runs; NULL once stopped */
	size_t cap;
	size_t slot;	/* where the next run goes */
	uint64_t head;	/* runs recorded so far */
	int tid;	/* the owner's OS thread id */
	int stopped;	/* the timeline ended: the owner frees the ring */
	int owner_gone; /* the owner exited: stop frees the ring */
};

/* A thread's own record (t->trace): no other thread reads it. */
struct wire_trace {
	unsigned gen;		 /* the timeline last seen */
	struct trace_ring *ring; /* the ring of timeline gen, or NULL */
	const wire_t *open;	 /* the wire whose run is under way, or NULL */
	int64_t open_start;
	uint64_t looked; /* the scheduler's polls, timers and dumps at its last loop */
};

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
unsigned wire__trace_gen; /* odd while a timeline records; changed under trace_lock */
static struct {
	int fd;			    /* the file, open while recording */
	size_t cap;		    /* runs per ring */
	int64_t t0;		    /* the start, the zero of the file's times */
	struct trace_ring *rings;   /* every ring of the timeline */
	struct trace_ring *orphans; /* rings a fork() child inherited */
	unsigned unrecorded;	    /* threads whose ring could not be allocated */
} tl = {.fd = -1};

static __thread struct wire_trace trace_self;
static pthread_key_t ring_key;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

static int trace_on(void)
{
	return __atomic_load_n(&wire__trace_gen, __ATOMIC_ACQUIRE) & 1;
}

/* ------------------------------------------------------------------ */
/* Recording (the owner thread).                                       */

static void ring_free(struct trace_ring *r)
{
	pthread_mutex_destroy(&r->lock);
	free(r->runs);
	free(r);
}

/* The owner leaves its ring: the timeline ended, or the thread exits. */
static void ring_leave(struct trace_ring *r)
{
	int last;

	pthread_mutex_lock(&r->lock);
	last = r->stopped;
	r->owner_gone = 1;
	pthread_mutex_unlock(&r->lock);
	if (last)
		ring_free(r);
}

/* Thread exit (the key's destructor): the ring stays for the file. */
static void ring_owner_exit(void *arg)
{
	ring_leave(arg);
}

static void detach(struct wire_trace *me)
{
	struct trace_ring *r = me->ring;

	me->open = NULL;
	if (!r)
		return;
	me->ring = NULL;
	pthread_setspecific(ring_key, NULL);
	ring_leave(r);
}

/* Join timeline @gen (if it still records): a ring of its own. */
static void attach(struct wire_trace *me, unsigned gen)
{
	struct trace_ring *r;

	pthread_mutex_lock(&trace_lock);
	if (__atomic_load_n(&wire__trace_gen, __ATOMIC_RELAXED) != gen) {
		pthread_mutex_unlock(&trace_lock);
		return;
	}
	r = sys_calloc(1, sizeof(*r));
	if (r && !(r->runs = sys_calloc(tl.cap, sizeof(*r->runs)))) {
		free(r);
		r = NULL;
	}
	if (!r) {
		tl.unrecorded++;
		pthread_mutex_unlock(&trace_lock);
		return;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->cap = tl.cap;
	r->tid = wire__reg.tid;
	r->next = tl.rings;
	tl.rings = r;
	pthread_mutex_unlock(&trace_lock);
	me->ring = r;
	pthread_setspecific(ring_key, r);
}

/*
 * The timeline changed (started or stopped) since this thread last
 * looked: leave the old one, join the new one. Returns 1 if the thread
 * records, 0 if it stopped recording.
 */
static int __attribute__((noinline)) resync(wire_thread_t *t, struct wire_trace *me, unsigned gen)
{
	detach(me);
	me->gen = gen;
	if (gen & 1)
		attach(me, gen);
	if (!me->ring) {
		t->trace = NULL;
		return 0;
	}
	return 1;
}

/* The run under way ended at @end: append it to the ring. */
static void record(struct wire_trace *me, int64_t end, const char *why)
{
	const wire_t *w = me->open;
	struct trace_ring *r = me->ring;
	struct trace_run *run;

	pthread_mutex_lock(&r->lock);
	if (__builtin_expect(!r->stopped, 1)) {
		run = &r->runs[r->slot];
		if (++r->slot == r->cap)
			r->slot = 0;
		r->head++;
		run->wire = w;
		run->start = me->open_start;
		run->end = end;
		run->obj = NULL;
		run->fd = -1;
		if (why) {
			run->why = why;
		} else if (w->state == WIRE_READY) {
			run->why = "yield";
		} else if (w->state == WIRE_SUSPENDED) {
			run->why = w->blocked.what ? w->blocked.what : "suspended";
			run->obj = w->blocked.obj;
			run->fd = w->blocked.fd;
		} else {
			run->why = w->state == WIRE_DONE ? "end" : "switch";
		}
		memcpy(run->name, w->name, sizeof(run->name));
	}
	pthread_mutex_unlock(&r->lock);
	me->open = NULL;
}

/* What the scheduler did that takes time: polls, timers, dumps. */
static inline uint64_t looked(const wire_thread_t *t)
{
	return t->stats.polls + t->stats.timers_fired + t->dump_seen;
}

void wire__trace_switch(wire_thread_t *t, wire_t *to)
{
	struct wire_trace *me = t->trace;
	unsigned gen = __atomic_load_n(&wire__trace_gen, __ATOMIC_ACQUIRE);
	int64_t now;

	if (__builtin_expect(me->gen != gen, 0) && !resync(t, me, gen))
		return;
	if (__builtin_expect(!me->ring, 0)) {
		t->trace = NULL;
		return;
	}
	if (!to) {
		/* The wire that ran is back: the loop has just read the clock. */
		me->looked = looked(t);
		if (me->open)
			record(me, t->now, NULL);
		return;
	}
	/* @to runs next: the clock read at the top of the loop still holds
	 * unless the scheduler polled or fired timers since. */
	now = looked(t) == me->looked ? t->now : wire_now_ns();
	if (me->open)
		record(me, now, NULL);
	/*
	 * A run is recorded only if its end will be seen: with the budget
	 * at 1 switch, which may take up to a budget after the start
	 * (wire__hooks is read as the budget is renewed).
	 */
	if (t->budget_reset == 1) {
		me->open = to;
		me->open_start = now;
	}
}

void wire__trace_join(wire_thread_t *t)
{
	/* A thread that joined this timeline and had to leave it stays out. */
	if (trace_self.gen != __atomic_load_n(&wire__trace_gen, __ATOMIC_ACQUIRE))
		t->trace = &trace_self;
}

void wire__trace_end(wire_thread_t *t, wire_t *w)
{
	struct wire_trace *me = t->trace;

	if (me && me->open == w && me->ring)
		record(me, wire_now_ns(), "end");
}

static void setup(void);
static void start_from_env(void);

void wire__trace_thread_init(wire_thread_t *t)
{
	static pthread_once_t env_once = PTHREAD_ONCE_INIT;

	pthread_once(&setup_once, setup);
	/* Here rather than with the other variables of wire_debug.c: before
	 * this thread looks whether a timeline is on, and before any other
	 * thread does. */
	pthread_once(&env_once, start_from_env);
	/* A scheduler set up again on this thread: the run under way is gone. */
	trace_self.open = NULL;
	if (trace_on())
		t->trace = &trace_self;
}

/* ------------------------------------------------------------------ */
/* The file.                                                           */

/* The writer's buffers: used under trace_lock only. */
#define CHUNK_RUNS 256
static struct trace_run chunk[CHUNK_RUNS];
static struct {
	char buf[65536];
	size_t len;
	int fd;
	int err; /* errno of the first failed write, or 0 */
	int pid;
	unsigned long events;
} out;

static void out_flush(void)
{
	const char *p = out.buf;

	while (out.len && !out.err) {
		ssize_t n = sys_write(out.fd, p, out.len);
		if (n < 0) {
			if (errno != EINTR)
				out.err = errno;
			continue;
		}
		p += n;
		out.len -= (size_t)n;
	}
	out.len = 0;
}

static void put_mem(const char *s, size_t len)
{
	if (out.len + len > sizeof(out.buf))
		out_flush();
	memcpy(out.buf + out.len, s, len);
	out.len += len;
}

static void put(const char *s)
{
	put_mem(s, strlen(s));
}

static void put_u64(uint64_t v)
{
	char b[24];
	int i = sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_mem(b + i, sizeof(b) - (size_t)i);
}

static void put_int(long long v)
{
	if (v < 0) {
		put("-");
		v = -v;
	}
	put_u64((uint64_t)v);
}

/* Nanoseconds as microseconds with three decimals. */
static void put_us(int64_t ns)
{
	char frac[4];

	if (ns < 0)
		ns = 0;
	put_u64((uint64_t)(ns / 1000));
	frac[0] = '.';
	frac[1] = (char)('0' + ns / 100 % 10);
	frac[2] = (char)('0' + ns / 10 % 10);
	frac[3] = (char)('0' + ns % 10);
	put_mem(frac, 4);
}

static void put_hex(const void *p)
{
	char b[2 + 16];
	uintptr_t v = (uintptr_t)p;
	int i = sizeof(b);

	do {
		b[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	b[--i] = 'x';
	b[--i] = '0';
	put_mem(b + i, sizeof(b) - (size_t)i);
}

/* A JSON string of the bytes @s: a byte above 0x7f stands for its Latin-1 letter. */
static void put_str(const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put("\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			put_mem(e, 2);
		} else if (c < 0x20 || c > 0x7e) {
			put_mem(e, 6);
		} else {
			put_mem((const char *)&c, 1);
		}
	}
	put("\"");
}

/* The common head of an event: {"name":...,"ph":...,"pid":...,"tid":... */
static void put_event(const char *name, const char *ph, int tid)
{
	put(out.events++ ? ",\n{\"name\":" : "\n{\"name\":");
	put_str(name);
	put(",\"ph\":\"");
	put(ph);
	put("\",\"pid\":");
	put_int(out.pid);
	put(",\"tid\":");
	put_int(tid);
}

static void put_run(const struct trace_run *run, int tid)
{
	char name[WIRE_NAME_MAX + 24];

	if (run->name[0]) {
		memcpy(name, run->name, WIRE_NAME_MAX);
		name[WIRE_NAME_MAX - 1] = '\0';
	} else {
		snprintf(name, sizeof(name), "wire %p", run->wire);
	}
	put_event(name, "X", tid);
	put(",\"cat\":\"wire\",\"ts\":");
	put_us(run->start - tl.t0);
	put(",\"dur\":");
	put_us(run->end - run->start);
	put(",\"args\":{\"wire\":\"");
	put_hex(run->wire);
	put("\"}}");

	put_event(run->why, "i", tid);
	put(",\"cat\":\"wire\",\"s\":\"t\",\"ts\":");
	put_us(run->end - tl.t0);
	put(",\"args\":{\"wire\":\"");
	put_hex(run->wire);
	put("\",\"wire_name\":");
	put_str(name);
	if (run->obj) {
		put(",\"object\":\"");
		put_hex(run->obj);
		put("\"");
	}
	if (run->fd >= 0) {
		put(",\"fd\":");
		put_int(run->fd);
	}
	put("}}");
}

/*
 * Write the runs of @r, oldest first, a chunk at a time under its lock:
 * its owner goes on recording meanwhile, and may overwrite runs not yet
 * copied (they count as dropped). Returns the events dropped.
 */
static uint64_t put_ring(struct trace_ring *r)
{
	uint64_t i, end, written = 0;

	pthread_mutex_lock(&r->lock);
	end = r->head;
	i = end > r->cap ? end - r->cap : 0;
	pthread_mutex_unlock(&r->lock);
	while (i < end) {
		size_t n = 0, slot;
		uint64_t oldest;

		pthread_mutex_lock(&r->lock);
		oldest = r->head > r->cap ? r->head - r->cap : 0;
		if (i < oldest)
			i = oldest;
		/* Run i is at slot - (head - i), modulo cap. */
		slot = (size_t)((r->slot + r->cap - (r->head - i) % r->cap) % r->cap);
		while (i + n < end && n < CHUNK_RUNS) {
			chunk[n++] = r->runs[slot];
			if (++slot == r->cap)
				slot = 0;
		}
		pthread_mutex_unlock(&r->lock);
		for (size_t k = 0; k < n; k++)
			put_run(&chunk[k], r->tid);
		i += n;
		written += n;
	}
	return 2 * (end - written);
}

/* Write the whole file again; under trace_lock. 0, or -1 with errno. */
static int write_file(void)
{
	char name[64];
	uint64_t dropped = 0;

	out.fd = tl.fd;
	out.len = 0;
	out.err = 0;
	out.events = 0;
	out.pid = getpid();
	/* From the start: a regular file is cut, a pipe or terminal just written on. */
	if (lseek(tl.fd, 0, SEEK_SET) == 0)
		(void)!ftruncate(tl.fd, 0);
	put("{\"traceEvents\":[");
	put_event("process_name", "M", out.pid);
	put(",\"args\":{\"name\":");
	snprintf(name, sizeof(name), "%s (libwire)", program_invocation_short_name);
	put_str(name);
	put("}}");
	for (struct trace_ring *r = tl.rings; r; r = r->next) {
		uint64_t d = put_ring(r);
		dropped += d;
		snprintf(name, sizeof(name), "libwire thread %d", r->tid);
		put_event("thread_name", "M", r->tid);
		put(",\"args\":{\"name\":");
		put_str(name);
		put(",\"dropped_events\":");
		put_u64(d);
		put("}}");
	}
	put("\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"generator\":\"libwire timeline\","
	    "\"max_events_per_thread\":");
	put_u64(2 * tl.cap);
	put(",\"dropped_events\":");
	put_u64(dropped);
	put(",\"threads_unrecorded\":");
	put_u64(tl.unrecorded);
	put("}}\n");
	out_flush();
	if (out.err) {
		errno = out.err;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Starting, writing and stopping.                                     */

static void at_exit(void)
{
	pthread_mutex_lock(&trace_lock);
	if (wire__trace_gen & 1)
		(void)write_file();
	pthread_mutex_unlock(&trace_lock);
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&trace_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&trace_lock);
}

/*
 * The child of a fork() neither records nor writes its parent's
 * timeline. The rings of the parent's other threads stay as they are
 * (their locks may be held by threads the child does not have).
 */
static void release_exit_signals(void);

/* The calling thread's ring @r goes with the timeline (under trace_lock). */
static void own_ring_free(struct trace_ring *r)
{
	trace_self.ring = NULL;
	trace_self.open = NULL;
	pthread_setspecific(ring_key, NULL);
	ring_free(r);
}

static void fork_child(void)
{
	struct trace_ring *r;

	release_exit_signals();

	if (wire__trace_gen & 1) {
		__atomic_store_n(&wire__trace_gen, wire__trace_gen + 1, __ATOMIC_RELEASE);
		__atomic_sub_fetch(&wire__hooks, 1, __ATOMIC_RELAXED);
		close(tl.fd);
		tl.fd = -1;
		if (wire__self && wire__self->trace == &trace_self)
			wire__self->trace = NULL;
		while ((r = tl.rings)) {
			tl.rings = r->next;
			if (r == trace_self.ring) {
				own_ring_free(r);
			} else {
				r->next = tl.orphans;
				tl.orphans = r;
			}
		}
	}
	pthread_mutex_unlock(&trace_lock);
}

static void setup(void)
{
	if (pthread_key_create(&ring_key, ring_owner_exit) != 0)
		wire__misuse("wire_thread_init", "no thread-specific key left for the timeline");
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	atexit(at_exit);
}

int wire_trace_start(const char *path, size_t max_events)
{
	size_t cap;
	int fd;

	if (!path || !*path) {
		errno = EINVAL;
		return -1;
	}
	if (!max_events)
		max_events = TRACE_DEFAULT_EVENTS;
	/* Two events a run: its slice and why it ended. */
	cap = max_events / 2 ? max_events / 2 : 1;
	pthread_once(&setup_once, setup);
	pthread_mutex_lock(&trace_lock);
	if (wire__trace_gen & 1) {
		pthread_mutex_unlock(&trace_lock);
		errno = EBUSY;
		return -1;
	}
	if (cap > SIZE_MAX / sizeof(struct trace_run) / 2) {
		pthread_mutex_unlock(&trace_lock);
		errno = ENOMEM;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int err = errno;
		pthread_mutex_unlock(&trace_lock);
		errno = err;
		return -1;
	}
	tl.fd = fd;
	tl.cap = cap;
	tl.t0 = wire_now_ns();
	tl.unrecorded = 0;
	__atomic_add_fetch(&wire__hooks, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&wire__trace_gen, wire__trace_gen + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&trace_lock);
	/* The calling thread records from its next switch on. */
	if (wire__self)
		wire__self->trace = &trace_self;
	return 0;
}

int wire_trace_flush(void)
{
	int rc;

	pthread_mutex_lock(&trace_lock);
	if (!(wire__trace_gen & 1)) {
		pthread_mutex_unlock(&trace_lock);
		errno = ENOENT;
		return -1;
	}
	rc = write_file();
	pthread_mutex_unlock(&trace_lock);
	return rc;
}

int wire_trace_stop(void)
{
	struct trace_ring *r;
	int rc, err;

	pthread_mutex_lock(&trace_lock);
	if (!(wire__trace_gen & 1)) {
		pthread_mutex_unlock(&trace_lock);
		errno = ENOENT;
		return -1;
	}
	/* First: the threads stop recording (each at its next switch). */
	__atomic_store_n(&wire__trace_gen, wire__trace_gen + 1, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&wire__hooks, 1, __ATOMIC_RELAXED);
	rc = write_file();
	err = errno;
	if (sys_close(tl.fd) != 0 && rc == 0) {
		rc = -1;
		err = errno;
	}
	tl.fd = -1;
	if (wire__self && wire__self->trace == &trace_self)
		wire__self->trace = NULL;
	while ((r = tl.rings)) {
		int gone;

		tl.rings = r->next;
		if (r == trace_self.ring) {
			/* The caller's own: it records no more. */
			own_ring_free(r);
			continue;
		}
		pthread_mutex_lock(&r->lock);
		gone = r->owner_gone;
		r->stopped = 1;
		free(r->runs);
		r->runs = NULL;
		pthread_mutex_unlock(&r->lock);
		if (gone)
			ring_free(r);
	}
	pthread_mutex_unlock(&trace_lock);
	errno = err;
	return rc;
}

/* ------------------------------------------------------------------ */
/* WIRE_TRACE.                                                         */

/*
 * A server is often ended by SIGINT or SIGTERM, which skip atexit. With
 * WIRE_TRACE, those of the two the program leaves at their default
 * action write the file first: the handler passes the signal to a thread
 * of its own through a pipe (a handler may not take locks), which writes
 * the file, restores the default action and sends the signal again.
 */
static const int exit_signals[] = {SIGINT, SIGTERM};
static int exit_pipe[2] = {-1, -1};
static int exit_caught[2]; /* our handler is installed for exit_signals[i] */

static void exit_signal_handler(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (sys_write(exit_pipe[1], &c, 1) < 0) {
		/* Full: the thread has one already. */
	}
	errno = saved;
}

static void *exit_signal_thread(void *arg)
{
	unsigned char c;
	ssize_t n;

	(void)arg;
	while ((n = read(exit_pipe[0], &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return NULL;
	at_exit();
	signal(c, SIG_DFL);
	kill(getpid(), c);
	return NULL;
}

static void catch_exit_signals(void)
{
	struct sigaction sa, old;

	if (pipe2(exit_pipe, O_CLOEXEC) != 0)
		return;
	fcntl(exit_pipe[1], F_SETFL, O_NONBLOCK);
	/* The thread takes no signal: the program's threads get them. */
	if (wire__start_thread(exit_signal_thread, "wire-trace") != 0) {
		close(exit_pipe[0]);
		close(exit_pipe[1]);
		exit_pipe[0] = exit_pipe[1] = -1;
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = exit_signal_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(exit_signals) / sizeof(exit_signals[0]); i++)
		if (sigaction(exit_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
		    !(old.sa_flags & SA_SIGINFO))
			exit_caught[i] = sigaction(exit_signals[i], &sa, NULL) == 0;
}

/* In a fork() child, which has no such thread: the default actions again. */
static void release_exit_signals(void)
{
	struct sigaction old;

	for (size_t i = 0; i < sizeof(exit_signals) / sizeof(exit_signals[0]); i++) {
		if (exit_caught[i] && sigaction(exit_signals[i], NULL, &old) == 0 &&
		    old.sa_handler == exit_signal_handler)
			signal(exit_signals[i], SIG_DFL);
		exit_caught[i] = 0;
	}
	if (exit_pipe[0] >= 0) {
		close(exit_pipe[0]);
		close(exit_pipe[1]);
		exit_pipe[0] = exit_pipe[1] = -1;
	}
}

/* WIRE_TRACE=path: a timeline from the first wire_thread_init() on. */
static void start_from_env(void)
{
	const char *path = getenv("WIRE_TRACE");

	if (!path || !*path)
		return;
	if (wire_trace_start(path, 0) != 0) {
		fprintf(stderr, "libwire: WIRE_TRACE=%s: %s\n", path, strerror(errno));
		return;
	}
	catch_exit_signals();
}
