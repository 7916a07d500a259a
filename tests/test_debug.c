/*
 * Listings of wires, counters and dumps on a signal (wire_debug.h).
 */
// TEST_LABELS: threads
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "wire.h"
#include "wire_channel.h"
#include "wire_debug.h"
#include "wire_fd.h"
#include "wire_io.h"

/* The program with a wire blocked in each way, run in a child. */
#define main debug_target_main
int debug_target_main(void);
#include "debug/debug_target.c"
#undef main

static wire_thread_t dbg_thread;
static char out[64 * 1024];

static void run_target(void *arg)
{
	(void)arg;
	dup2(2, 1);
	exit(debug_target_main());
}

/* One parsed line of a listing, or of the target's expectations. */
struct entry {
	char addr[32];
	char name[WIRE_NAME_MAX];
	char state[16];
	char what[64];
	char obj[32];
	int fd;
	int has_left;
	double left;
	int has_for;
	double for_s;
};

/* "expect ADDRESS NAME STATE WHAT... OBJECT FD DEADLINE" */
static int parse_expect(const char *line, struct entry *e)
{
	char buf[256], *tok[16];
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *p = strtok(buf, " \n"); p && n < 16; p = strtok(NULL, " \n"))
		tok[n++] = p;
	if (n < 8 || strcmp(tok[0], "expect"))
		return -1;
	memset(e, 0, sizeof(*e));
	snprintf(e->addr, sizeof(e->addr), "%s", tok[1]);
	snprintf(e->name, sizeof(e->name), "%s", tok[2]);
	snprintf(e->state, sizeof(e->state), "%s", tok[3]);
	for (int i = 4; i < n - 3; i++) {
		if (i > 4)
			strcat(e->what, " ");
		strcat(e->what, tok[i]);
	}
	snprintf(e->obj, sizeof(e->obj), "%s", strcmp(tok[n - 3], "(nil)") ? tok[n - 3] : "-");
	e->fd = atoi(tok[n - 2]);
	e->has_left = atoi(tok[n - 1]);
	return 0;
}

/* `  ADDRESS "NAME" STATE[: WHAT[ OBJECT][ (fd FD)][, T s left], for D s]` */
static int parse_listing_line(const char *line, struct entry *e)
{
	const char *q1, *q2, *p;
	char rest[256], *tok[16], *comma;
	int n = 0;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	snprintf(e->obj, sizeof(e->obj), "-");
	snprintf(e->what, sizeof(e->what), "-");
	if (strncmp(line, "  0x", 4) != 0)
		return -1;
	q1 = strchr(line, '"');
	q2 = q1 ? strchr(q1 + 1, '"') : NULL;
	if (!q2)
		return -1;
	snprintf(e->addr, sizeof(e->addr), "%.*s", (int)(q1 - line - 3), line + 2);
	snprintf(e->name, sizeof(e->name), "%.*s", (int)(q2 - q1 - 1), q1 + 1);
	p = q2 + 2;
	n = (int)strcspn(p, ":\n");
	snprintf(e->state, sizeof(e->state), "%.*s", n, p);
	if (p[n] != ':')
		return 0;
	snprintf(rest, sizeof(rest), "%s", p + n + 2);
	rest[strcspn(rest, "\n")] = '\0';
	/* ", for D s" ends it; ", T s left" may come before. */
	comma = strstr(rest, ", for ");
	if (comma) {
		e->has_for = 1;
		e->for_s = atof(comma + 6);
		*comma = '\0';
	}
	comma = strstr(rest, ", ");
	if (comma && strstr(comma, " s left")) {
		e->has_left = 1;
		e->left = atof(comma + 2);
		*comma = '\0';
	}
	e->what[0] = '\0';
	n = 0;
	for (char *t = strtok(rest, " "); t && n < 16; t = strtok(NULL, " "))
		tok[n++] = t;
	for (int i = 0; i < n; i++) {
		if (!strncmp(tok[i], "0x", 2)) {
			snprintf(e->obj, sizeof(e->obj), "%s", tok[i]);
		} else if (!strcmp(tok[i], "(fd") && i + 1 < n) {
			e->fd = atoi(tok[++i]);
		} else {
			if (e->what[0])
				strcat(e->what, " ");
			strcat(e->what, tok[i]);
		}
	}
	return 0;
}

TEST(listing_names_every_wire_and_what_it_waits_on)
{
	struct entry want[NWIRES], got[NWIRES];
	int nwant = 0, ngot = 0, status;
	unsigned total, running, ready, suspended, r2 = 0, q2 = 0, s2 = 0;
	char *line, *save, *listing;

	status = test_run_child(run_target, NULL, out, sizeof(out));
	CHECK_EQ(test_exit_code(status), 0);
	listing = strstr(out, "\nlisting\n");
	CHECK(listing != NULL);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "expect ", 7)) {
			CHECK(nwant < NWIRES);
			CHECK_EQ(parse_expect(line, &want[nwant]), 0);
			nwant++;
		} else if (!strncmp(line, "libwire: thread ", 16)) {
			CHECK_EQ(sscanf(line,
					"libwire: thread %*d: %u wires: %u running, %u ready, %u "
					"suspended",
					&total, &running, &ready, &suspended),
				 4);
		} else if (!strncmp(line, "  0x", 4)) {
			CHECK(ngot < NWIRES);
			CHECK_EQ(parse_listing_line(line, &got[ngot]), 0);
			ngot++;
		}
	}
	CHECK_EQ(nwant, 17);
	CHECK_EQ(ngot, nwant);
	CHECK_EQ(total, (unsigned)nwant);
	for (int i = 0; i < ngot; i++) {
		struct entry *w = &want[i], *g = &got[i];

		/* In the order started, each field as the program knows it. */
		CHECK_STR_EQ(g->addr, w->addr);
		CHECK_STR_EQ(g->name, w->name);
		CHECK_STR_EQ(g->state, w->state);
		CHECK_STR_EQ(g->what, w->what);
		if (!strcmp(w->obj, "*"))
			CHECK(strncmp(g->obj, "0x", 2) == 0);
		else
			CHECK_STR_EQ(g->obj, w->obj);
		CHECK_EQ(g->fd, w->fd);
		CHECK_EQ(g->has_left, w->has_left);
		if (g->has_left) /* an hour's timeout, 0.2 s into it */
			CHECK(g->left > 3500.0 && g->left <= 3600.0);
		CHECK_EQ(g->has_for, !strcmp(w->state, "suspended"));
		if (g->has_for) /* each has waited the dumper's 200 ms sleep */
			CHECK(g->for_s >= 0.19 && g->for_s < 30.0 * test_time_scale());
		r2 += !strcmp(g->state, "running");
		q2 += !strcmp(g->state, "ready");
		s2 += !strcmp(g->state, "suspended");
	}
	CHECK_EQ(running, 1);
	CHECK_EQ(ready, 1);
	CHECK_EQ(suspended, 15);
	CHECK_EQ(r2, running);
	CHECK_EQ(q2, ready);
	CHECK_EQ(s2, suspended);
}

static void *no_scheduler_dump(void *arg)
{
	int *res = arg;

	errno = 0;
	res[0] = wire_thread_dump(1);
	res[1] = errno;
	errno = 0;
	res[2] = wire_thread_stats(&(wire_thread_stats_t){0});
	res[3] = errno;
	return NULL;
}

static void dump_to_bad_fds(void *arg)
{
	int fds[2];

	(void)arg;
	errno = 0;
	CHECK_EQ(wire_thread_dump(-1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(pipe(fds) == 0);
	close(fds[0]);
	close(fds[1]);
	errno = 0;
	CHECK_EQ(wire_thread_dump(fds[1]), -1);
	CHECK_EQ(errno, EBADF);
	errno = 0;
	CHECK_EQ(wire_thread_stats(NULL), -1);
	CHECK_EQ(errno, EINVAL);
}

static wire_t dump_wire;
static char dump_stack[64 * 1024];

TEST(dump_and_stats_errors)
{
	pthread_t th;
	int res[4];

	/* A thread without a scheduler. */
	CHECK_EQ(pthread_create(&th, NULL, no_scheduler_dump, res), 0);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(res[0], -1);
	CHECK_EQ(res[1], EINVAL);
	CHECK_EQ(res[2], -1);
	CHECK_EQ(res[3], EINVAL);
	wire_thread_init(&dbg_thread);
	wire_init(&dump_wire, "bad-fds", dump_to_bad_fds, NULL, dump_stack, sizeof(dump_stack));
	wire_thread_run();
	/* Outside any wire the listing works too: nothing is running. */
	res[0] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK_EQ(wire_thread_dump(res[0]), 0);
	close(res[0]);
}

/* ------------------------------------------------------------------ */
/* Counters.                                                           */

#define YIELDS 1000

static void yielder_n(void *arg)
{
	(void)arg;
	for (int i = 0; i < YIELDS; i++)
		wire_yield();
}

static void sleep_thrice(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++)
		wire_sleep_ns(TEST_MS(1));
}

TEST(stats_count_switches_wires_and_timers)
{
	static char s[3][64 * 1024];
	static wire_t w[3];
	wire_thread_stats_t st;

	wire_thread_init(&dbg_thread);
	CHECK_EQ(wire_thread_stats(&st), 0);
	CHECK_EQ(st.switches, 0);
	CHECK_EQ(st.wires_started, 0);
	wire_init(&w[0], "a", yielder_n, NULL, s[0], sizeof(s[0]));
	wire_init(&w[1], "b", yielder_n, NULL, s[1], sizeof(s[1]));
	wire_thread_run();
	CHECK_EQ(wire_thread_stats(&st), 0);
	/* The scheduler starts a; every yield switches to the other wire;
	 * a's end switches to b; b's end returns to the scheduler. */
	CHECK_EQ(st.switches, 1 + 2 * YIELDS + 1);
	CHECK_EQ(st.wires_started, 2);
	CHECK_EQ(st.wires_ended, 2);
	CHECK_EQ(st.timers_fired, 0);
	CHECK_EQ(st.polls, 0);

	wire_init(&w[2], "sleeper", sleep_thrice, NULL, s[2], sizeof(s[2]));
	wire_thread_run();
	CHECK_EQ(wire_thread_stats(&st), 0);
	CHECK_EQ(st.wires_started, 3);
	CHECK_EQ(st.wires_ended, 3);
	CHECK_EQ(st.timers_fired, 3);
	/* Started, then resumed by each of the 3 timers. */
	CHECK_EQ(st.switches, 1 + 2 * YIELDS + 1 + 4);
}

static int poll_pipe[2];
static wire_fd_state_t poll_state;

static void wait_pipe(void *arg)
{
	char c;

	(void)arg;
	wire_fd_mode_init(&poll_state, poll_pipe[0]);
	wire_fd_mode_read(&poll_state);
	CHECK_EQ(wire_fd_wait_read(&poll_state), 0);
	CHECK_EQ(read(poll_pipe[0], &c, 1), 1);
	wire_fd_mode_none(&poll_state);
}

static void *write_later(void *arg)
{
	(void)arg;
	usleep(20000);
	CHECK_EQ(write(poll_pipe[1], "x", 1), 1);
	return NULL;
}

TEST(stats_count_polls)
{
	static char s[64 * 1024];
	static wire_t w;
	wire_thread_stats_t st;
	pthread_t th;

	wire_thread_init(&dbg_thread);
	CHECK_EQ(wire_fd_init(), 0);
	CHECK(pipe2(poll_pipe, O_NONBLOCK | O_CLOEXEC) == 0);
	wire_init(&w, "poller", wait_pipe, NULL, s, sizeof(s));
	CHECK_EQ(pthread_create(&th, NULL, write_later, NULL), 0);
	wire_thread_run();
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(wire_thread_stats(&st), 0);
	/* The wire waited in a blocking poll until the byte came. */
	CHECK(st.polls >= 1);
	CHECK(st.polls_blocking >= 1);
	CHECK(st.polls_blocking <= st.polls);
	CHECK_EQ(st.busy_poll_hits, 0);
}

static int wio_file = -1;

static void wio_calls(void *arg)
{
	char buf[16];

	(void)arg;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(wio_fstat(wio_file, &(struct stat){0}), 0);
	/* A pread from the page cache: done at once when inline reads are on. */
	CHECK_EQ(wio_pread(wio_file, buf, 4, 0), 4);
}

/* The wio counters of a run of wio_calls() on the backend @arg, in a fresh process. */
static void wio_counts_child(void *arg)
{
	static char s[64 * 1024];
	static wire_t w;
	const char *backend = arg;
	wire_thread_stats_t st;

	wire_thread_init(&dbg_thread);
	if (wire_io_init_backend(1, backend) != 0)
		exit(77);
	wire_init(&w, "wio", wio_calls, NULL, s, sizeof(s));
	wire_thread_run();
	wire_io_shutdown();
	CHECK_EQ(wire_thread_stats(&st), 0);
	fprintf(stderr, "%llu %llu %llu\n", (unsigned long long)st.wio_inline,
		(unsigned long long)st.wio_uring, (unsigned long long)st.wio_threads);
	exit(0);
}

static int wio_counts(const char *backend, wire_thread_stats_t *st)
{
	char err[4096];
	unsigned long long i, u, t;
	int code =
	    test_exit_code(test_run_child(wio_counts_child, (void *)backend, err, sizeof(err)));

	if (code == 77)
		return -1;
	CHECK_EQ(code, 0);
	CHECK_EQ(sscanf(err, "%llu %llu %llu", &i, &u, &t), 3);
	st->wio_inline = i;
	st->wio_uring = u;
	st->wio_threads = t;
	return 0;
}

TEST(stats_count_wio_calls_by_backend)
{
	char path[] = "/tmp/wire_debug_XXXXXX";
	wire_thread_stats_t st;

	wio_file = mkstemp(path);
	CHECK(wio_file >= 0);
	unlink(path);
	CHECK_EQ(write(wio_file, "data", 4), 4);
	setenv("WIRE_IO_INLINE", "0", 1);
	CHECK_EQ(wio_counts("threads", &st), 0);
	CHECK_EQ(st.wio_threads, 4);
	CHECK_EQ(st.wio_uring, 0);
	CHECK_EQ(st.wio_inline, 0);
	if (wio_counts("uring", &st) == 0) {
		CHECK_EQ(st.wio_uring, 4);
		CHECK_EQ(st.wio_threads, 0);
	}
	setenv("WIRE_IO_INLINE", "1", 1);
	CHECK_EQ(wio_counts("threads", &st), 0);
	/* preadv2(RWF_NOWAIT) is missing under some emulators: then the read goes to the backend.
	 */
	CHECK_EQ(st.wio_threads + st.wio_inline, 4);
	CHECK(st.wio_threads >= 3);
	if (!test_under_emulator())
		CHECK_EQ(st.wio_inline, 1);
	close(wio_file);
}

/* ------------------------------------------------------------------ */
/* Dumps on a signal.                                                  */

static volatile long spins_after;
static volatile int signalled;
static wire_channel_t never;

static void spinning_yielder(void *arg)
{
	int64_t end = wire_now_ns() + TEST_MS(400) * test_time_scale();

	(void)arg;
	while (wire_now_ns() < end) {
		if (signalled)
			spins_after++;
		wire_yield();
	}
	exit(spins_after > 0 ? 0 : 5);
}

static void blocked_recv(void *arg)
{
	void *m;

	(void)arg;
	wire_channel_recv_block(&never, &m);
}

static void raiser(void *arg)
{
	int sig = (int)(long)arg;

	wire_sleep_ns(TEST_MS(20));
	signalled = 1;
	if (sig > 0) /* to the process, as kill(1) and a terminal send it */
		CHECK_EQ(kill(getpid(), sig), 0);
	else /* to this thread */
		CHECK_EQ(raise(-sig), 0);
}

static void other_sleeper(void *arg)
{
	(void)arg;
	wire_sleep_ns(TEST_MS(60000));
}

/* A second scheduler, idle in a long sleep: the request must wake it. */
static void *other_thread(void *arg)
{
	static wire_thread_t t2;
	static wire_t w2;
	static char s2[64 * 1024];

	(void)arg;
	wire_thread_init(&t2);
	wire_init(&w2, "other-thread-sleeper", other_sleeper, NULL, s2, sizeof(s2));
	wire_thread_run();
	return NULL;
}

static void dump_child(void *arg)
{
	static char s[3][64 * 1024];
	static wire_t w[3];
	int sig = (int)(long)arg;
	pthread_t th;

	if (sig)
		CHECK_EQ(wire_dump_on_signal(sig), 0);
	else
		sig = -SIGQUIT; /* WIRE_DUMP_SIGNAL=QUIT, read at the first init; raise() */
	wire_thread_init(&dbg_thread);
	CHECK_EQ(pthread_create(&th, NULL, other_thread, NULL), 0);
	wire_channel_init(&never);
	wire_init(&w[0], "busy-yielder", spinning_yielder, NULL, s[0], sizeof(s[0]));
	wire_init(&w[1], "blocked-recv", blocked_recv, NULL, s[1], sizeof(s[1]));
	wire_init(&w[2], "raiser", raiser, (void *)(long)sig, s[2], sizeof(s[2]));
	wire_thread_run();
	exit(4);
}

/* The dump of the child's two scheduler threads, in @err. */
static void check_dump(const char *err)
{
	const char *first = strstr(err, "libwire: thread ");

	CHECK(first != NULL);
	CHECK(strstr(first + 1, "libwire: thread ") != NULL);
	/* Each listing in one piece: its header, then its wires' lines. */
	for (const char *l = err; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, "libwire: thread ", 16)) {
			unsigned n;
			CHECK_EQ(sscanf(l, "libwire: thread %*d: %u wires", &n), 1);
			for (unsigned i = 0; i < n; i++) {
				l = strchr(l, '\n') + 1;
				CHECK(strncmp(l, "  0x", 4) == 0);
			}
		}
	}
	CHECK(strstr(err, "\"busy-yielder\" ready") != NULL);
	CHECK(strstr(err, "\"blocked-recv\" suspended: channel receive 0x") != NULL);
	CHECK(strstr(err, "\"other-thread-sleeper\" suspended: sleep, ") != NULL);
}

TEST(dump_signal_lists_every_thread_and_the_program_goes_on)
{
	char err[16384];
	int status;

	unsetenv("WIRE_DUMP_SIGNAL");
	status = test_run_child(dump_child, (void *)(long)SIGUSR1, err, sizeof(err));
	/* Exit 0: the yielder went on yielding after the dump. */
	CHECK_EQ(test_exit_code(status), 0);
	check_dump(err);
}

TEST(dump_signal_from_the_environment)
{
	char err[16384];
	int status;

	setenv("WIRE_DUMP_SIGNAL", "QUIT", 1);
	status = test_run_child(dump_child, NULL, err, sizeof(err));
	unsetenv("WIRE_DUMP_SIGNAL");
	CHECK_EQ(test_exit_code(status), 0);
	check_dump(err);
}

static void bad_env_child(void *arg)
{
	(void)arg;
	setenv("WIRE_DUMP_SIGNAL", "NOSUCH", 1);
	wire_thread_init(&dbg_thread);
	exit(0);
}

TEST(dump_signal_errors)
{
	char err[1024];

	errno = 0;
	CHECK_EQ(wire_dump_on_signal(0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_dump_on_signal(SIGKILL), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_dump_on_signal(SIGSTOP), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_dump_on_signal(NSIG), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(test_exit_code(test_run_child(bad_env_child, NULL, err, sizeof(err))), 0);
	CHECK(strstr(err, "WIRE_DUMP_SIGNAL=NOSUCH") != NULL);
}

static void move_child(void *arg)
{
	struct sigaction now;

	(void)arg;
	CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
	CHECK_EQ(wire_dump_on_signal(SIGUSR1), 0);
	CHECK_EQ(sigaction(SIGUSR1, NULL, &now), 0);
	CHECK(now.sa_flags & SA_SIGINFO);
	/* Moved: SIGUSR1 is ignored again, as before. */
	CHECK_EQ(wire_dump_on_signal(SIGUSR2), 0);
	CHECK_EQ(sigaction(SIGUSR1, NULL, &now), 0);
	CHECK(!(now.sa_flags & SA_SIGINFO));
	CHECK(now.sa_handler == SIG_IGN);
	CHECK_EQ(sigaction(SIGUSR2, NULL, &now), 0);
	CHECK(now.sa_flags & SA_SIGINFO);
	exit(0);
}

TEST(dump_signal_moved_gives_the_old_handler_back)
{
	char err[1024];

	CHECK_EQ(test_exit_code(test_run_child(move_child, NULL, err, sizeof(err))), 0);
}

/* ------------------------------------------------------------------ */
/* fork().                                                             */

static void spin_in_child(void *arg)
{
	int64_t end = wire_now_ns() + TEST_MS(250) * test_time_scale();

	(void)arg;
	while (wire_now_ns() < end)
		;
	CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	/* The request reaches the scheduler through the dump thread. */
	wire_sleep_ns(TEST_MS(300) * test_time_scale());
}

static void forked_grandchild(void)
{
	static char s[64 * 1024];
	static wire_t w;

	/* The parent's dump thread and watchdog did not come along. */
	wire_thread_init(&dbg_thread);
	CHECK_EQ(wire_stall_detect(TEST_MS(50) * test_time_scale()), 0);
	wire_init(&w, "child-spinner", spin_in_child, NULL, s, sizeof(s));
	wire_thread_run();
	_exit(0);
}

static void fork_child_main(void *arg)
{
	int status;
	pid_t pid;

	(void)arg;
	wire_thread_init(&dbg_thread);
	CHECK_EQ(wire_dump_on_signal(SIGUSR1), 0);
	CHECK_EQ(wire_stall_detect(TEST_MS(50) * test_time_scale()), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		forked_grandchild();
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	exit(0);
}

TEST(dump_and_stall_detector_go_on_in_a_forked_child)
{
	char err[16384], want[64];
	const char *p;

	if (test_under_tsan() || test_under_emulator())
		test_skip(test_under_tsan()
			      ? "ThreadSanitizer starts no thread in the child of a "
				"multi-threaded fork"
			      : "qemu-user aborts in the child of a multi-threaded fork");
	CHECK_EQ(test_exit_code(test_run_child(fork_child_main, NULL, err, sizeof(err))), 0);
	CHECK(strstr(err, "libwire: stall: thread ") != NULL);
	CHECK(strstr(err, "\"child-spinner\" has run ") != NULL);
	/* The listing names the child's own thread id, once. */
	p = strstr(err, "libwire: thread ");
	CHECK(p != NULL);
	CHECK(strstr(p + 1, "libwire: thread ") == NULL);
	CHECK(strstr(p, "\"child-spinner\"") != NULL);
	snprintf(want, sizeof(want), "libwire: thread %d:", getpid());
	CHECK(strstr(err, want) == NULL); /* not the test's pid */
}

static void stuck_on_channel(void *arg)
{
	void *m;

	(void)arg;
	wire_channel_recv_block(&never, &m);
}

static void deadlock_what_child(void *arg)
{
	static char s[64 * 1024];
	static wire_t w;

	(void)arg;
	wire_thread_init(&dbg_thread);
	wire_thread_set_deadlock_report(1);
	wire_channel_init(&never);
	wire_init(&w, "stuck", stuck_on_channel, NULL, s, sizeof(s));
	wire_thread_run();
	exit(0);
}

TEST(deadlock_report_says_what_each_wire_waits_on)
{
	char err[4096], want[128];

	CHECK_EQ(test_exit_code(test_run_child(deadlock_what_child, NULL, err, sizeof(err))), 0);
	CHECK(strstr(err, "deadlock") != NULL);
	snprintf(want, sizeof(want), "\"stuck\" suspended: channel receive %p, for ",
		 (void *)&never);
	CHECK(strstr(err, want) != NULL);
}
