/*
 * wire_debug - listings of the wires of a scheduler, its counters, and
 * dumps on a signal.
 *
 * Every wire is in its scheduler's list from wire_init() until it ends,
 * and records what it waits on as it blocks (wire_t.blocked): a listing
 * is a walk of that list, and costs the switch path nothing.
 *
 * A dump signal cannot list wires in its handler (the wires of a thread
 * change under it). The handler writes one byte to a pipe; a thread of
 * the library reads it, raises wire__dump_gen and nudges every scheduler
 * thread blocked waiting for events with the same signal, which ends its
 * blocking poll early. Each scheduler then writes its listing at its next
 * look at events (a safe point: no wire is half switched).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"
#include "wire_debug.h"
#include "list.h"
#include "wire_internal.h"
#include "wire_debug_internal.h"

__thread struct wire_reg wire__reg __attribute__((tls_model("initial-exec")));
wire_list_t wire__debug_threads = {&wire__debug_threads, &wire__debug_threads};
pthread_mutex_t wire__reg_lock = PTHREAD_MUTEX_INITIALIZER;
unsigned wire__dump_gen;
int wire__hooks;

/* ------------------------------------------------------------------ */
/* The registry of scheduler threads.                                  */

static pthread_key_t reg_key;
static int dump_signo;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void altstack_drop(void);

/* Thread exit: the node is in the thread's storage, about to go. */
static void reg_unlist(void *arg)
{
	struct wire_reg *r = arg;

	altstack_drop();
	pthread_mutex_lock(&wire__reg_lock);
	list_del(&r->link);
	r->listed = 0;
	pthread_mutex_unlock(&wire__reg_lock);
}

static int dump_thread_up; /* under wire__reg_lock */
static int dump_pipe[2] = {-1, -1};
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;	    /* wire_dump_on_signal() */
static pthread_mutex_t dump_write_lock = PTHREAD_MUTEX_INITIALIZER; /* one listing at a time */

/* fork(): the registry's lock must not be inherited held. */
static void reg_fork_prepare(void)
{
	pthread_mutex_lock(&wire__reg_lock);
}

static void reg_fork_parent(void)
{
	pthread_mutex_unlock(&wire__reg_lock);
}

/* Only the forking thread lives on in the child, with an id of its own. */
static void reg_fork_child(void)
{
	struct wire_reg *r = &wire__reg;

	list_init(&wire__debug_threads);
	r->nudged = 0; /* a child has no signal pending */
	if (r->listed) {
		list_add_tail(&wire__debug_threads, &r->link);
		r->tid = (int)syscall(SYS_gettid);
	}
	/* The dump thread is gone: the next set-up or call starts one, on a
	 * pipe of the child's own (the parent's thread reads the old one). */
	dump_thread_up = 0;
	/* Another thread may have held these (writing its listing to a full
	 * stderr, moving the signal): the child, alone, has none held. */
	pthread_mutex_init(&dump_write_lock, NULL);
	pthread_mutex_init(&dump_lock, NULL);
	if (dump_pipe[0] >= 0) {
		close(dump_pipe[0]);
		close(dump_pipe[1]);
		if (pipe2(dump_pipe, O_CLOEXEC | O_NONBLOCK) == 0)
			fcntl(dump_pipe[0], F_SETFL, 0);
		else
			dump_pipe[0] = dump_pipe[1] = -1;
	}
	pthread_mutex_unlock(&wire__reg_lock);
}

static void reg_setup(void)
{
	if (pthread_key_create(&reg_key, reg_unlist) != 0)
		wire__misuse("wire_thread_init", "no thread-specific key left for the registry");
	pthread_atfork(reg_fork_prepare, reg_fork_parent, reg_fork_child);
}

static int dump_thread_start(void);

static void env_setup(void)
{
	const char *sig = getenv("WIRE_DUMP_SIGNAL");

	if (sig && *sig) {
		int signo = wire__signal_number(sig);
		if (signo <= 0 || wire_dump_on_signal(signo) != 0)
			fprintf(stderr,
				"libwire: WIRE_DUMP_SIGNAL=%s: not a signal that can be caught\n",
				sig);
	}
	wire__stall_env();
}

void wire__debug_thread_init(wire_thread_t *t)
{
	static pthread_once_t env_once = PTHREAD_ONCE_INIT;
	struct wire_reg *r = &wire__reg;

	pthread_once(&reg_once, reg_setup);
	t->dump_seen = __atomic_load_n(&wire__dump_gen, __ATOMIC_RELAXED);
	pthread_mutex_lock(&wire__reg_lock);
	r->t = t;
	r->tid = (int)syscall(SYS_gettid);
	/* A new scheduler owes no dump made before it (dump_all() would wait). */
	__atomic_store_n(&r->dump_ack, t->dump_seen, __ATOMIC_RELAXED);
	if (!r->listed) {
		list_add_tail(&wire__debug_threads, &r->link);
		r->listed = 1;
	}
	pthread_mutex_unlock(&wire__reg_lock);
	pthread_setspecific(reg_key, r);
	wire__trace_thread_init(t);
	pthread_once(&env_once, env_setup);
	wire__stall_thread_setup();
	/* In the child of a fork(), dumps go on with a thread of its own. */
	if (__atomic_load_n(&dump_signo, __ATOMIC_RELAXED))
		dump_thread_start();
}

/* ------------------------------------------------------------------ */
/* Alternate signal stacks.                                            */

/* The stack wire__altstack_keep() gave the calling thread, or NULL. */
static __thread void *own_altstack;

int wire__altstack_set(void **mine, stack_t *old_ss)
{
	stack_t ss;
	void *p;
	int err;

	*mine = NULL;
	if (sys_sigaltstack(NULL, old_ss) != 0)
		return -1;
	if (!(old_ss->ss_flags & SS_DISABLE) && old_ss->ss_size >= WIRE__ALTSTACK_MIN)
		return 0;
	p = sys_mmap(WIRE__ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK);
	if (p == MAP_FAILED)
		return -1;
	ss.ss_sp = p;
	ss.ss_size = WIRE__ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sys_sigaltstack(&ss, NULL) != 0)
		goto undo_map;
	*mine = p;
	return 0;
undo_map:
	err = errno;
	munmap(p, WIRE__ALTSTACK_SIZE); /* undo only */
	errno = err;
	return -1;
}

void wire__altstack_keep(void *mine)
{
	if (!mine)
		return;
	if (own_altstack)
		munmap(own_altstack, WIRE__ALTSTACK_SIZE);
	own_altstack = mine;
}

/* Thread exit: the stack the library gave the thread goes with it. */
static void altstack_drop(void)
{
	stack_t off = {.ss_flags = SS_DISABLE}, now;

	if (!own_altstack)
		return;
	if (sigaltstack(NULL, &now) == 0 && now.ss_sp == own_altstack)
		sigaltstack(&off, NULL);
	munmap(own_altstack, WIRE__ALTSTACK_SIZE);
	own_altstack = NULL;
}

int wire__altstack_ensure(void)
{
	stack_t old_ss;
	void *mine;

	if (wire__altstack_set(&mine, &old_ss) != 0)
		return -1;
	wire__altstack_keep(mine);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Listings.                                                           */

static const char *const state_names[] = {"done", "ready", "running", "suspended"};

/* Write all of @buf to @fd; 0 or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Seconds with millisecond precision, for "for 1.204 s". */
static double secs(int64_t ns)
{
	return ns < 0 ? 0.0 : (double)ns / 1e9;
}

/* One line of the listing of @w into @buf (see wire_thread_dump()). */
static int format_wire(char *buf, size_t size, const wire_t *w, int64_t now)
{
	char name[WIRE_NAME_MAX];
	int n;

	/* Names come from the program: keep each wire on one line. */
	for (size_t i = 0; i < sizeof(name); i++) {
		char c = w->name[i];
		name[i] = (c && ((unsigned char)c < 0x20 || c == '"' || c == 0x7f)) ? '?' : c;
		if (!c)
			break;
	}
	name[WIRE_NAME_MAX - 1] = '\0';
	n = snprintf(buf, size, "  %p \"%s\" %s", (const void *)w, name,
		     w->state >= 0 && w->state <= WIRE_SUSPENDED ? state_names[w->state] : "?");
	if (w->state == WIRE_SUSPENDED) {
		const char *what = w->blocked.what ? w->blocked.what : "?";
		n += snprintf(buf + n, size - (size_t)n, ": %s", what);
		if (w->blocked.obj)
			n += snprintf(buf + n, size - (size_t)n, " %p", w->blocked.obj);
		if (w->blocked.fd >= 0)
			n += snprintf(buf + n, size - (size_t)n, " (fd %d)", w->blocked.fd);
		if (w->blocked.deadline && w->blocked.deadline != INT64_MAX)
			n += snprintf(buf + n, size - (size_t)n, ", %.3f s left",
				      secs(w->blocked.deadline - now));
		n += snprintf(buf + n, size - (size_t)n, ", for %.3f s",
			      secs(now - w->blocked.since));
	}
	n += snprintf(buf + n, size - (size_t)n, "\n");
	return n;
}

int wire__dump_list(wire_thread_t *t, int fd, int state)
{
	unsigned count[WIRE_SUSPENDED + 1] = {0};
	int64_t now = wire_now_ns();
	char line[256];
	wire_list_t *n;
	int len;

	for (n = t->wires.next; n != &t->wires; n = n->next) {
		const wire_t *w = wire_container_of(n, wire_t, link);
		if (w->state >= 0 && w->state <= WIRE_SUSPENDED)
			count[w->state]++;
	}
	len =
	    snprintf(line, sizeof(line),
		     "libwire: thread %d: %u wires: %u running, %u ready, %u suspended\n",
		     wire__reg.tid, count[WIRE_RUNNING] + count[WIRE_READY] + count[WIRE_SUSPENDED],
		     count[WIRE_RUNNING], count[WIRE_READY], count[WIRE_SUSPENDED]);
	if (write_all(fd, line, (size_t)len) != 0)
		return -1;
	for (n = t->wires.next; n != &t->wires; n = n->next) {
		const wire_t *w = wire_container_of(n, wire_t, link);
		if (state && w->state != state)
			continue;
		len = format_wire(line, sizeof(line), w, now);
		if (write_all(fd, line, (size_t)len) != 0)
			return -1;
	}
	return 0;
}

int wire_thread_dump(int fd)
{
	if (!wire__self || fd < 0) {
		errno = EINVAL;
		return -1;
	}
	return wire__dump_list(wire__self, fd, 0);
}

int wire_thread_stats(wire_thread_stats_t *stats)
{
	wire_thread_t *t = wire__self;

	if (!t || !stats) {
		errno = EINVAL;
		return -1;
	}
	*stats = t->stats;
	/* The switches of the budget under way are counted when it ends. */
	stats->switches += t->budget_reset - t->poll_budget;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Dumps on a signal.                                                  */

/* The value the dump thread's nudges carry, to tell them from requests. */
#define DUMP_NUDGE 0x77697265

static struct sigaction dump_prev; /* the handler dump_signo had before */
static pthread_once_t dump_once = PTHREAD_ONCE_INIT;
static int dump_setup_err;

static void dump_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	char c = 1;

	(void)sig;
	(void)uc;
	/* A nudge from the dump thread: its only work was to end a poll. */
	if (si->si_code == SI_QUEUE && si->si_pid == getpid() &&
	    si->si_value.sival_int == DUMP_NUDGE) {
		__atomic_store_n(&wire__reg.nudged, 0, __ATOMIC_RELAXED);
		errno = saved;
		return;
	}
	if (write(dump_pipe[1], &c, 1) < 0) {
		/* Full: a dump is pending anyway. */
	}
	errno = saved;
}

/* Make the blocking poll of @r's thread end, with a signal its handler ignores. */
static void nudge(struct wire_reg *r)
{
	int signo = __atomic_load_n(&dump_signo, __ATOMIC_RELAXED);
	int tid = r->tid;
	siginfo_t si;

	__atomic_store_n(&r->nudged, 1, __ATOMIC_RELAXED);
	memset(&si, 0, sizeof(si));
	si.si_signo = signo;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = DUMP_NUDGE;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, signo, &si);
}

/* Ask every scheduler thread in wire_thread_run() to dump, until each has. */
static void dump_all(unsigned gen)
{
	for (int round = 0; round < 200; round++) {
		int waiting = 0;
		wire_list_t *n;

		pthread_mutex_lock(&wire__reg_lock);
		for (n = wire__debug_threads.next; n != &wire__debug_threads; n = n->next) {
			struct wire_reg *r = wire_container_of(n, struct wire_reg, link);
			if (__atomic_load_n(&r->in_run, __ATOMIC_RELAXED) &&
			    __atomic_load_n(&r->dump_ack, __ATOMIC_RELAXED) != gen) {
				waiting++;
				/* A busy thread dumps at its next look anyway: a
				 * signal would only break its wire's system calls
				 * (EINTR), and could still be on its way when the
				 * dump signal moves and the old one's default
				 * action (often the end of the process) is back. */
				if (!__atomic_load_n(&r->busy, __ATOMIC_RELAXED))
					nudge(r);
			}
		}
		pthread_mutex_unlock(&wire__reg_lock);
		if (!waiting)
			return;
		/* A nudge that came just before a poll began is lost: again soon. */
		nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
	}
}

/* Is a nudge sent to a scheduler thread not yet handled there? */
static int nudges_in_flight(void)
{
	wire_list_t *n;
	int any = 0;

	pthread_mutex_lock(&wire__reg_lock);
	for (n = wire__debug_threads.next; n != &wire__debug_threads && !any; n = n->next)
		any = __atomic_load_n(&wire_container_of(n, struct wire_reg, link)->nudged,
				      __ATOMIC_RELAXED);
	pthread_mutex_unlock(&wire__reg_lock);
	return any;
}

static void *dump_thread(void *arg)
{
	(void)arg;
	for (;;) {
		char buf[64];
		ssize_t n = read(dump_pipe[0], buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return NULL;
		}
		dump_all(__atomic_add_fetch(&wire__dump_gen, 1, __ATOMIC_RELAXED));
	}
}

int wire__start_thread(void *(*fn)(void *), const char *name)
{
	pthread_t th;
	pthread_attr_t attr;
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &attr, fn, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!err)
		pthread_setname_np(th, name);
	return err;
}

/* Start the thread that serves dump requests unless it runs; 0 or an errno. */
static int dump_thread_start(void)
{
	int err = 0;

	pthread_mutex_lock(&wire__reg_lock);
	if (!dump_thread_up) {
		/* Blocking every signal, it leaves the dump signal to a scheduler thread. */
		err = wire__start_thread(dump_thread, "wire-dump");
		dump_thread_up = !err;
	}
	pthread_mutex_unlock(&wire__reg_lock);
	return err;
}

static void dump_start(void)
{
	if (pipe2(dump_pipe, O_CLOEXEC) != 0) {
		dump_setup_err = errno;
		return;
	}
	fcntl(dump_pipe[1], F_SETFL, O_NONBLOCK);
}

int wire_dump_on_signal(int signum)
{
	struct sigaction sa, prev;
	int old;

	if (signum <= 0 || signum >= NSIG || signum == SIGKILL || signum == SIGSTOP) {
		errno = EINVAL;
		return -1;
	}
	pthread_once(&dump_once, dump_start);
	if (dump_setup_err) {
		errno = dump_setup_err;
		return -1;
	}
	old = dump_thread_start();
	if (old) {
		errno = old;
		return -1;
	}
	pthread_mutex_lock(&dump_lock);
	old = __atomic_load_n(&dump_signo, __ATOMIC_RELAXED);
	if (signum != old) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = dump_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(signum, &sa, &prev) != 0) {
			pthread_mutex_unlock(&dump_lock);
			return -1;
		}
		/* Nudges go out with the new signal before the old one gets its
		 * handler back (dump_all() sends them under wire__reg_lock)... */
		pthread_mutex_lock(&wire__reg_lock);
		__atomic_store_n(&dump_signo, signum, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&wire__reg_lock);
		/* ...and those on their way with the old one arrive first (a
		 * thread that blocks the signal is given 100 ms). */
		for (int i = 0; old && i < 100 && nudges_in_flight(); i++)
			nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
		/* Moved to another signal: the old one gets its handler back. */
		if (old)
			sigaction(old, &dump_prev, NULL);
		dump_prev = prev;
	}
	pthread_mutex_unlock(&dump_lock);
	return 0;
}

void wire__dump_serve(wire_thread_t *t)
{
	unsigned gen = __atomic_load_n(&wire__dump_gen, __ATOMIC_RELAXED);

	t->dump_seen = gen;
	/* Threads dump at once: each listing stays in one piece. */
	pthread_mutex_lock(&dump_write_lock);
	(void)wire__dump_list(t, 2, 0);
	pthread_mutex_unlock(&dump_write_lock);
	__atomic_store_n(&wire__reg.dump_ack, gen, __ATOMIC_RELAXED);
}

int wire__signal_number(const char *name)
{
	static const struct {
		const char *name;
		int signo;
	} names[] = {
	    {"HUP", SIGHUP},	   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"USR1", SIGUSR1},
	    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM},
	    {"CHLD", SIGCHLD},	   {"CONT", SIGCONT}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
	    {"TTOU", SIGTTOU},	   {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
	    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
	    {"PWR", SIGPWR},	   {"SYS", SIGSYS}};
	char *end;
	long v;

	if (!strncmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return names[i].signo;
	if (!strncmp(name, "RTMIN+", 6) || !strncmp(name, "RTMAX-", 6)) {
		v = strtol(name + 6, &end, 10);
		if (*end || v < 0)
			return -1;
		v = name[2] == 'M' && name[3] == 'I' ? SIGRTMIN + v : SIGRTMAX - v;
		return v >= SIGRTMIN && v <= SIGRTMAX ? (int)v : -1;
	}
	v = strtol(name, &end, 10);
	return *name && !*end && v > 0 && v < NSIG ? (int)v : -1;
}
