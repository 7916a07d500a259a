/*
 * wire_stall - the stall detector: a watchdog thread notices a scheduler
 * thread that runs one wire (or one timer callback) for too long without
 * a switch, and reports it on stderr with a symbolized backtrace.
 *
 * A scheduler thread shows that it moves on in its registry node
 * (wire_debug_internal.h): `progress` goes up at every look of its
 * scheduler and, while the detector holds wire__hooks up, at every
 * switch; `busy` says it runs wires rather than waits for events. The
 * watchdog looks at every node four times per threshold (every 1 to
 * 100 ms): a busy thread whose progress stood still for the threshold is
 * stalled, and is reported once, until its progress moves again.
 *
 * Only the stalled thread can take its own backtrace. The watchdog sends
 * it SIGRTMAX - 2 with tgkill; the handler copies the running wire's name
 * and a backtrace() into the node and publishes stall_ack. The watchdog
 * waits for that (at most ACK_WAIT_MS), then names the addresses on its
 * own thread (wire_symbolize.h: libdw or dladdr, whichever CMake built)
 * and writes the report. Nothing of this touches the switch path: with
 * the detector off, wire__hooks is what it was, and the budget of
 * WIRE_POLL_INTERVAL switches is untouched.
 */
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "wire.h"
#include "wire_debug.h"
#include "list.h"
#include "wire_internal.h"
#include "wire_debug_internal.h"
#include "wire_symbolize.h"

#define MS 1000000LL

/* How long the watchdog waits for a stalled thread's backtrace. */
#define ACK_WAIT_MS 1000

static pthread_mutex_t stall_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stall_cond;
static int64_t stall_threshold; /* ns; 0: off (under stall_lock) */
static int stall_on;		/* stall_threshold != 0, read by any thread (atomic) */
static int stall_thread_up;	/* the watchdog runs (under stall_lock) */
static unsigned stall_starts;	/* starts from 0 so far (under stall_lock) */

/*
 * The signal that asks a stalled thread for its backtrace. Not SIGRTMAX
 * or SIGRTMAX - 1: qemu-user (arm64 containers on x86-64 hosts) cannot
 * deliver those two.
 */
static int stall_signo(void)
{
	return SIGRTMAX - 2;
}

/* ------------------------------------------------------------------ */
/* On the stalled thread.                                              */

/* Where the signal interrupted the thread, to find it in the backtrace. */
#if defined(__x86_64__)
static void *interrupted_pc(const ucontext_t *uc)
{
	return (void *)uc->uc_mcontext.gregs[REG_RIP];
}
#elif defined(__aarch64__)
static void *interrupted_pc(const ucontext_t *uc)
{
	return (void *)uc->uc_mcontext.pc;
}
#else
static void *interrupted_pc(const ucontext_t *uc)
{
	(void)uc;
	return NULL;
}
#endif

static void stall_handler(int sig, siginfo_t *si, void *uc)
{
	struct wire_reg *r = &wire__reg;
	unsigned seq = __atomic_load_n(&r->stall_seq, __ATOMIC_ACQUIRE);
	int saved = errno;
	wire_thread_t *t;
	wire_t *w;

	(void)sig;
	/* Only the watchdog's requests, each answered once. */
	if (si->si_code != SI_TKILL || si->si_pid != getpid() ||
	    seq == __atomic_load_n(&r->stall_ack, __ATOMIC_RELAXED))
		return;
	t = wire__self;
	w = t ? t->current : NULL;
	r->stall_in_wire = w != NULL;
	if (w)
		memcpy(r->stall_name, w->name, sizeof(r->stall_name));
	else
		memcpy(r->stall_name, "(scheduler)", sizeof("(scheduler)"));
	r->stall_name[sizeof(r->stall_name) - 1] = '\0';
	r->stall_pc = uc ? interrupted_pc(uc) : NULL;
	r->stall_ret = __builtin_return_address(0);
	/* libgcc_s is loaded already: the watchdog primed backtrace(). */
	r->stall_npcs = backtrace(r->stall_pcs, (int)(sizeof(r->stall_pcs) / sizeof(void *)));
	__atomic_store_n(&r->stall_ack, seq, __ATOMIC_RELEASE);
	errno = saved;
}

/* ------------------------------------------------------------------ */
/* On the watchdog thread.                                             */

/* A stall found, and what its thread answered. */
struct stall {
	struct wire_reg *r; /* the node, to be found again under the lock */
	int tid;
	unsigned seq;
	int64_t since; /* when its progress last moved */
	int answered;
	int gone; /* its thread exited before it answered */
	void *pcs[48];
	int npcs;
	void *pc;
	void *ret;
	char name[WIRE_NAME_MAX];
	int in_wire;
};

/* Forget what was seen before the detector was (re)started. */
static void watch_reset(void)
{
	wire_list_t *n;

	pthread_mutex_lock(&wire__reg_lock);
	for (n = wire__debug_threads.next; n != &wire__debug_threads; n = n->next) {
		struct wire_reg *r = wire_container_of(n, struct wire_reg, link);
		r->stall_since = 0;
	}
	pthread_mutex_unlock(&wire__reg_lock);
}

/*
 * Look at every thread; on the first new stall (progress still for
 * @threshold while busy), mark it reported, ask the thread for its
 * backtrace, fill @s and return 1. 0: no new stall.
 */
static int find_stall(int64_t threshold, struct stall *s)
{
	int64_t now = wire_now_ns();
	wire_list_t *n;
	int found = 0;

	pthread_mutex_lock(&wire__reg_lock);
	for (n = wire__debug_threads.next; n != &wire__debug_threads; n = n->next) {
		struct wire_reg *r = wire_container_of(n, struct wire_reg, link);
		uint64_t progress = __atomic_load_n(&r->progress, __ATOMIC_RELAXED);
		int busy = __atomic_load_n(&r->busy, __ATOMIC_RELAXED);

		if (!r->stall_since || progress != r->stall_seen || !busy) {
			r->stall_seen = progress;
			r->stall_since = now;
			r->stall_reported = 0;
			continue;
		}
		if (r->stall_reported || now - r->stall_since < threshold)
			continue;
		r->stall_reported = 1;
		memset(s, 0, sizeof(*s));
		s->r = r;
		s->tid = r->tid;
		s->since = r->stall_since;
		s->seq = r->stall_seq + 1;
		__atomic_store_n(&r->stall_seq, s->seq, __ATOMIC_RELEASE);
		syscall(SYS_tgkill, getpid(), r->tid, stall_signo());
		found = 1;
		break;
	}
	pthread_mutex_unlock(&wire__reg_lock);
	return found;
}

/* Is @s's thread still listed? Under wire__reg_lock. */
static int still_listed(const struct stall *s)
{
	wire_list_t *n;

	for (n = wire__debug_threads.next; n != &wire__debug_threads; n = n->next)
		if (n == &s->r->link)
			return s->r->tid == s->tid;
	return 0;
}

/* Wait for the answer of @s's thread (at most ACK_WAIT_MS) and copy it. */
static void collect(struct stall *s)
{
	int64_t end = wire_now_ns() + ACK_WAIT_MS * MS;

	for (;;) {
		struct wire_reg *r = s->r;

		pthread_mutex_lock(&wire__reg_lock);
		if (!still_listed(s)) {
			s->gone = 1;
		} else if (__atomic_load_n(&r->stall_ack, __ATOMIC_ACQUIRE) == s->seq) {
			s->answered = 1;
			s->npcs = r->stall_npcs;
			if (s->npcs < 0 || s->npcs > (int)(sizeof(s->pcs) / sizeof(void *)))
				s->npcs = 0;
			memcpy(s->pcs, r->stall_pcs, (size_t)s->npcs * sizeof(void *));
			s->pc = r->stall_pc;
			s->ret = r->stall_ret;
			memcpy(s->name, r->stall_name, sizeof(s->name));
			s->in_wire = r->stall_in_wire;
		}
		pthread_mutex_unlock(&wire__reg_lock);
		if (s->gone || s->answered || wire_now_ns() >= end)
			return;
		nanosleep(&(struct timespec){.tv_nsec = MS}, NULL);
	}
}

/* Append to the report being built. */
struct text {
	char buf[16384];
	size_t len;
};

static void __attribute__((format(printf, 2, 3))) put(struct text *t, const char *fmt, ...)
{
	size_t room = sizeof(t->buf) - t->len;
	va_list ap;
	int n;

	if (room <= 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* The backtrace of @s, one frame a line, from the interrupted function. */
static void put_frames(struct text *t, const struct stall *s)
{
	struct wire_sym *sym = wire__sym_open();
	int first = -1, from = 1;
	char what[512];

	/*
	 * The handler's frames come first, then the frame that called it (the
	 * kernel's signal frame), then the interrupted function: start there
	 * when the signal's context says where, or else at the caller (under
	 * ThreadSanitizer, which runs handlers from its own frames later).
	 */
	for (int i = 0; i < s->npcs && first < 0; i++) {
		if (s->pc && s->pcs[i] == s->pc)
			first = i;
		else if (s->ret && s->pcs[i] == s->ret)
			from = i;
	}
	if (first < 0)
		first = from;
	for (int i = first; i < s->npcs; i++) {
		/* The interrupted instruction is no return address. */
		int ret = !(i == first && s->pcs[i] == s->pc);

		wire__sym_describe(sym, s->pcs[i], ret, what, sizeof(what));
		put(t, "  #%d %p%s%s\n", i - first, s->pcs[i], what[0] ? " " : "", what);
	}
	wire__sym_close(sym);
}

/* @name for one line of the report: a name comes from the program. */
static void clean_name(char *out, const char *name)
{
	for (size_t i = 0; i < WIRE_NAME_MAX; i++) {
		char c = name[i];

		out[i] = (c && ((unsigned char)c < 0x20 || c == '"' || c == 0x7f)) ? '?' : c;
		if (!c)
			break;
	}
	out[WIRE_NAME_MAX - 1] = '\0';
}

/* Write the report of stall @s to stderr, in one write when it fits. */
static void report(struct stall *s)
{
	static struct text text; /* the watchdog's, one report at a time */
	struct text *t = &text;
	char name[WIRE_NAME_MAX];
	long long ms;

	collect(s);
	ms = (long long)((wire_now_ns() - s->since) / MS);
	t->len = 0;
	put(t, "libwire: stall: thread %d: ", s->tid);
	if (!s->answered) {
		put(t, "its wire or timer callback has run %lld ms without switching", ms);
		put(t, " (no backtrace: %s)\n",
		    s->gone ? "the thread exited first" : "no answer to SIGRTMAX-2 within 1 s");
	} else {
		clean_name(name, s->name);
		if (s->in_wire)
			put(t, "wire \"%s\"", name);
		else
			put(t, "%s", name);
		put(t, " has run %lld ms without switching%s\n", ms,
		    s->in_wire ? "" : " (a timer callback, no wire)");
		put_frames(t, s);
	}
	for (size_t done = 0; done < t->len;) {
		ssize_t n = write(2, t->buf + done, t->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
}

/* The watchdog's period for @threshold: a quarter of it, 1 to 100 ms. */
static int64_t period_of(int64_t threshold)
{
	int64_t p = threshold / 4;

	return p < MS ? MS : p > 100 * MS ? 100 * MS : p;
}

static void *watchdog(void *arg)
{
	unsigned seen = 0;
	void *prime[4];

	(void)arg;
	/* backtrace() loads libgcc_s at its first call: here, never in the handler. */
	(void)backtrace(prime, 4);
	pthread_mutex_lock(&stall_lock);
	for (;;) {
		int64_t threshold = stall_threshold;
		unsigned starts = stall_starts;
		struct timespec ts;
		struct stall s;

		if (!threshold) {
			pthread_cond_wait(&stall_cond, &stall_lock);
			continue;
		}
		pthread_mutex_unlock(&stall_lock);
		/* Started again since the last look: what it saw is stale. */
		if (starts != seen)
			watch_reset();
		seen = starts;
		while (find_stall(threshold, &s))
			report(&s);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += period_of(threshold);
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_mutex_lock(&stall_lock);
		/* A new threshold ends the wait early. */
		if (stall_threshold == threshold)
			pthread_cond_timedwait(&stall_cond, &stall_lock, &ts);
	}
	return NULL;
}

/* fork(): the child has no watchdog; it starts its own if it asks for one. */
static void stall_fork_prepare(void)
{
	pthread_mutex_lock(&stall_lock);
}

static void stall_fork_parent(void)
{
	pthread_mutex_unlock(&stall_lock);
}

static void stall_fork_child(void)
{
	if (stall_threshold)
		__atomic_sub_fetch(&wire__hooks, 1, __ATOMIC_RELAXED);
	stall_threshold = 0;
	__atomic_store_n(&stall_on, 0, __ATOMIC_RELAXED);
	stall_thread_up = 0; /* watchdog_start() sets up stall_cond again */
	pthread_mutex_unlock(&stall_lock);
}

/* Start the watchdog thread, with every signal blocked. Under stall_lock. */
static int watchdog_start(void)
{
	static int atfork_done;
	pthread_condattr_t ca;
	int err;

	if (!atfork_done &&
	    pthread_atfork(stall_fork_prepare, stall_fork_parent, stall_fork_child) == 0)
		atfork_done = 1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&stall_cond, &ca);
	pthread_condattr_destroy(&ca);
	err = wire__start_thread(watchdog, "wire-stall");
	if (err) {
		pthread_cond_destroy(&stall_cond);
		return err;
	}
	stall_thread_up = 1;
	return 0;
}

int wire_stall_detect(int64_t threshold_ns)
{
	struct sigaction sa;
	int err = 0;

	if (threshold_ns < 0) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&stall_lock);
	if (threshold_ns && !stall_thread_up)
		err = watchdog_start();
	if (!err && threshold_ns && !stall_threshold) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = stall_handler;
		/* On the thread's alternate stack (wire__stall_thread_setup()):
		 * a wire's may be too small. */
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		sigaction(stall_signo(), &sa, NULL);
		/* Every switch now counts as progress (wire__budget_spent). */
		__atomic_add_fetch(&wire__hooks, 1, __ATOMIC_RELAXED);
		stall_starts++;
	} else if (!err && !threshold_ns && stall_threshold) {
		__atomic_sub_fetch(&wire__hooks, 1, __ATOMIC_RELAXED);
	}
	if (!err) {
		stall_threshold = threshold_ns;
		__atomic_store_n(&stall_on, threshold_ns != 0, __ATOMIC_RELAXED);
		if (stall_thread_up)
			pthread_cond_signal(&stall_cond);
	}
	pthread_mutex_unlock(&stall_lock);
	if (err) {
		errno = err;
		return -1;
	}
	if (wire__self)
		wire__stall_thread_setup();
	return 0;
}

void wire__stall_thread_setup(void)
{
	if (wire__reg.stall_stack || !__atomic_load_n(&stall_on, __ATOMIC_RELAXED))
		return;
	/* Without one (no memory left), the handler runs on the wire's stack. */
	(void)wire__altstack_ensure();
	wire__reg.stall_stack = 1;
}

void wire__stall_env(void)
{
	const char *env = getenv("WIRE_STALL_MS");
	long long ms = 0;
	const char *p;

	if (!env || !*env)
		return;
	for (p = env; *p >= '0' && *p <= '9' && ms <= INT64_MAX / MS; p++)
		ms = ms * 10 + (*p - '0');
	if (*p || ms > INT64_MAX / MS) {
		fprintf(stderr, "libwire: WIRE_STALL_MS=%s: %s\n", env,
			"not a number of milliseconds; the stall detector stays off");
		return;
	}
	if (ms && wire_stall_detect(ms * MS) != 0)
		fprintf(stderr, "libwire: WIRE_STALL_MS=%s: the stall detector did not start: %s\n",
			env, strerror(errno));
}
