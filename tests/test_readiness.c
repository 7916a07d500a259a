/*
 * Exact readiness (wire_fd.h): a wait returns if and only if its fd is
 * ready at the call or becomes ready later, whatever was done before.
 *
 * model_*: a randomized test with a reference. Socket pairs carry bytes;
 * waiter wires wait on them alone, in a wait list beside a wait that the
 * driver may trigger first, or beside a short timeout; the driver writes,
 * reads part of what is queued, switches modes, fills and drains send
 * buffers, hangs up, closes and reopens, sleeps and yields. After every
 * step the driver lets the scheduler poll until nothing moves, then
 * checks each waiter still parked against poll(2): an fd that is ready
 * with a waiter still parked on it is a lost wakeup. Each return is
 * checked too: a return when poll(2) says the fd is not ready is
 * spurious; those are counted, and two in a row on one fd with no write
 * between them fail. Seeded and replayable: WIRE_READINESS_SEED=N runs
 * seed N; WIRE_READINESS_SECONDS=S runs fresh seeds for S seconds (make
 * stress).
 *
 * The other tests are the programs that stalled under the edge-triggered
 * fd layer: wait-first accept and echo loops under bursts, waits after a
 * wait list that another source won.
 */
// TEST_LABELS: threads
// TEST_CPU: ready_fd_nobody_waits_on_does_not_spin
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"
#include "wire_fd.h"
#include "wire_timeout.h"
#include "wire_wait.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;

static void setup(void)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
}

/* Every poll of the scheduler is counted: the model waits for them. */
static void (*real_poll)(wire_poller_t *, int64_t);
static unsigned long polls;

static void counting_poll(wire_poller_t *p, int64_t timeout_ns)
{
	polls++;
	real_poll(p, timeout_ns);
}

static void count_polls(void)
{
	wire_poller_t *p = wire_thread_get()->poller;
	real_poll = p->poll;
	p->poll = counting_poll;
}

/* Wires and stacks of spawn(), reachable until the process ends. */
static void *volatile spawned[512]; /* volatile: the stores must stay */
static int nspawned;

static wire_t *spawn(const char *name, void (*fn)(void *), void *arg)
{
	wire_t *w = malloc(sizeof(*w));
	void *stack = malloc(STACK);

	CHECK(w && stack && nspawned + 2 <= 512);
	spawned[nspawned++] = w;
	spawned[nspawned++] = stack;
	CHECK_PTR_EQ(wire_init(w, name, fn, arg, stack, STACK), w);
	return w;
}

/* poll(2)'s word on direction @dir (0 read, 1 write) of @fd. */
static int fd_ready(int fd, int dir)
{
	struct pollfd p = {.fd = fd, .events = dir ? POLLOUT : POLLIN};

	if (poll(&p, 1, 0) < 0)
		return 0;
	return (p.revents & ((dir ? POLLOUT : POLLIN) | POLLHUP | POLLERR)) != 0;
}

/* ------------------------------------------------------------------ */
/* The model.                                                          */

#define PAIRS	4
#define WAITERS 6

/* xorshift64*: the whole run follows from the seed. */
static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 2685821657736338717ULL) >> 33) % n;
}

struct pair {
	int fd[2];		/* [0] the wires' side (a state), [1] the peer */
	wire_fd_state_t st;	/* for fd[0] */
	unsigned incarnation;	/* bumped by every close and reopen */
	unsigned writes;	/* bumped by every write to fd[1] and every drain of fd[1] */
	int hung_up;		/* fd[1] is closed */
	unsigned long ret_step; /* the step (+1) of the last fd return, */
	unsigned ret_count;	/* and the fd returns of that step */
};

enum job { J_ALONE, J_ALONE_WRITE, J_LIST_OTHER, J_LIST_TIMER, J_QUIT };
enum outcome { O_NONE, O_FD, O_OTHER, O_TIMER, O_ERROR };

struct waiter {
	int id;
	wire_wait_t go; /* the driver hands a job over */
	enum job job;
	int pair, dir;
	unsigned incarnation;
	int pre;	   /* before waiting: 0 nothing, 1 yield, 2 sleep 1 ms */
	int after;	   /* after an fd return: 0 read all, 1 read a part, 2 nothing */
	int waiting;	   /* has a job: from give_job() to its return */
	int parked;	   /* in the wait call itself */
	wire_wait_t other; /* the source of J_LIST_OTHER that the driver triggers */
	enum outcome outcome;
	/* The last spurious return: pair, direction, incarnation and writes then. */
	int spur_pair, spur_dir;
	unsigned spur_inc, spur_writes;
};

static struct pair pairs[PAIRS];
static struct waiter waiters[WAITERS];
static unsigned long changes; /* waiter state changes: settle() waits for quiet */
static unsigned long step;    /* of the driver, for the failure message */
static uint64_t seed;
static unsigned long model_steps;
static unsigned long n_spurious_shared;
static unsigned long n_returns, n_spurious, n_lost_checks, n_other_wins, n_timer_wins,
    n_closed_returns;

static void model_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void model_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "readiness model: seed %llu, step %lu: ", (unsigned long long)seed, step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (replay: WIRE_READINESS_SEED=%llu WIRE_READINESS_STEPS=%lu)\n",
		(unsigned long long)seed, model_steps);
	abort();
}

static void set_nonblock(int fd)
{
	CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
}

static void pair_open(struct pair *p)
{
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->fd), 0);
	set_nonblock(p->fd[0]);
	set_nonblock(p->fd[1]);
	wire_fd_mode_init(&p->st, p->fd[0]);
	CHECK_EQ(wire_fd_mode_read(&p->st), 0);
	p->incarnation++;
	p->hung_up = 0;
}

/* Read up to @max bytes (all if 0) from the wires' side. */
static void read_some(struct pair *p, size_t max)
{
	char buf[4096];
	size_t left = max ? max : SIZE_MAX;

	while (left) {
		ssize_t r = read(p->fd[0], buf, left < sizeof(buf) ? left : sizeof(buf));
		if (r <= 0)
			break;
		left -= (size_t)r;
	}
}

static void note_change(void)
{
	changes++;
}

/* A waiter's wire: one job at a time, handed over by the driver. */
static void waiter_main(void *arg)
{
	struct waiter *wt = arg;

	for (;;) {
		struct pair *p;
		wire_timeout_t to;
		wire_wait_list_t wl;
		wire_wait_t *fdw, *got;
		int r = 0, closed;

		wire_wait_single(&wt->go);
		wire_wait_reset(&wt->go);
		if (wt->job == J_QUIT)
			return;
		if (wt->pre == 1)
			wire_yield();
		else if (wt->pre == 2)
			wire_fd_wait_msec(1);
		p = &pairs[wt->pair];
		if (p->incarnation != wt->incarnation || p->st.fd < 0) {
			wt->outcome = O_ERROR; /* closed before the wait began */
			wt->waiting = 0;
			note_change();
			continue;
		}
		wt->outcome = O_NONE;
		wt->parked = 1;
		note_change();
		switch (wt->job) {
		case J_ALONE:
			r = p->st.mode == WIRE_FD_MODE_READ ? wire_fd_wait(&p->st)
							    : wire_fd_wait_read(&p->st);
			wt->outcome = r == 0 ? O_FD : O_ERROR;
			break;
		case J_ALONE_WRITE:
			r = wire_fd_wait_write(&p->st);
			wt->outcome = r == 0 ? O_FD : O_ERROR;
			break;
		case J_LIST_OTHER:
		case J_LIST_TIMER:
			wire_wait_list_init(&wl);
			fdw = wire_fd_wait_list_chain(&wl, &p->st);
			if (!fdw)
				model_fail("wire_fd_wait_list_chain failed: %s", strerror(errno));
			if (wt->job == J_LIST_OTHER) {
				wire_wait_reset(&wt->other);
				wire_wait_chain(&wl, &wt->other);
			} else {
				wire_timeout_init(&to);
				CHECK_EQ(wire_timeout_reset(&to, 1 + (int)rnd(3)), 0);
				wire_wait_chain(&wl, wire_timeout_wait_get(&to));
			}
			got = wire_list_wait(&wl);
			wire_wait_unchain(fdw);
			if (wt->job == J_LIST_OTHER) {
				wire_wait_unchain(&wt->other);
				wt->outcome = got == fdw ? O_FD : O_OTHER;
			} else {
				wire_wait_unchain(wire_timeout_wait_get(&to));
				wire_timeout_stop(&to);
				wt->outcome = got == fdw ? O_FD : O_TIMER;
			}
			break;
		default:
			break;
		}
		wt->waiting = wt->parked = 0;
		note_change();
		closed = p->incarnation != wt->incarnation || p->st.fd < 0;
		if (closed) {
			n_closed_returns++;
			continue;
		}
		if (wt->outcome == O_ERROR)
			model_fail("waiter %d: wait on pair %d failed: %s", wt->id, wt->pair,
				   strerror(errno));
		if (wt->outcome == O_OTHER) {
			n_other_wins++;
			continue;
		}
		if (wt->outcome == O_TIMER) {
			n_timer_wins++;
			continue;
		}
		n_returns++;
		if (p->ret_step == step + 1)
			p->ret_count++;
		else
			p->ret_step = step + 1, p->ret_count = 1;
		if (!fd_ready(p->fd[0], wt->dir)) {
			n_spurious++;
			if (p->ret_count > 1)
				n_spurious_shared++;
			if (wt->spur_pair == wt->pair && wt->spur_dir == wt->dir &&
			    wt->spur_inc == p->incarnation && wt->spur_writes == p->writes)
				model_fail("waiter %d: a second spurious return on pair %d, "
					   "direction %d, with no write since the first",
					   wt->id, wt->pair, wt->dir);
			wt->spur_pair = wt->pair;
			wt->spur_dir = wt->dir;
			wt->spur_inc = p->incarnation;
			wt->spur_writes = p->writes;
		} else if (wt->spur_pair == wt->pair && wt->spur_dir == wt->dir) {
			wt->spur_pair = -1;
		}
		if (wt->dir == 0 && wt->after == 0)
			read_some(p, 0);
		else if (wt->dir == 0 && wt->after == 1)
			read_some(p, 1 + rnd(2000));
	}
}

/* Let the scheduler poll until no waiter moves: every wakeup is due by then. */
static void settle(void)
{
	for (int round = 0; round < 1000; round++) {
		unsigned long c0 = changes, p0 = polls;

		/* Yields reach a non-blocking poll within 64 switches; a short
		 * sleep, now and then, makes it a blocking one. */
		if (rnd(8) == 0)
			wire_fd_wait_msec(1);
		/* (With nothing pending the scheduler does not poll at all.) */
		for (int y = 0; polls < p0 + 2 && y < 1000; y++)
			wire_yield();
		wire_yield(); /* the wires the last poll woke run before this one */
		if (changes == c0)
			return;
	}
	model_fail("the waiters never settle");
}

static void check_parked(void)
{
	for (int i = 0; i < WAITERS; i++) {
		struct waiter *wt = &waiters[i];
		struct pair *p = &pairs[wt->pair];

		if (!wt->parked)
			continue;
		n_lost_checks++;
		if (wt->job == J_LIST_OTHER && wt->other.triggered)
			model_fail("waiter %d: its other source triggered and it is still parked",
				   wt->id);
		if (p->incarnation == wt->incarnation && p->st.fd >= 0 &&
		    fd_ready(p->fd[0], wt->dir))
			model_fail("waiter %d: lost wakeup: pair %d is %s and the wire is still "
				   "parked (job %d, pre %d)",
				   wt->id, wt->pair, wt->dir ? "writable" : "readable", wt->job,
				   wt->pre);
	}
}

static void give_job(struct waiter *wt)
{
	struct pair *p;

	wt->pair = (int)rnd(PAIRS);
	p = &pairs[wt->pair];
	if (p->st.fd < 0)
		return;
	switch (rnd(10)) {
	case 0:
	case 1:
	case 2:
		wt->job = J_ALONE;
		break;
	case 3:
		wt->job = J_ALONE_WRITE;
		break;
	case 4:
	case 5:
	case 6:
		wt->job = J_LIST_OTHER;
		break;
	default:
		wt->job = J_LIST_TIMER;
		break;
	}
	/* Chained waits use the state's mode: only in read mode. */
	if ((wt->job == J_LIST_OTHER || wt->job == J_LIST_TIMER) && p->st.mode != WIRE_FD_MODE_READ)
		wt->job = J_ALONE;
	/* One chained wait per state and direction: one list waiter per pair. */
	if (wt->job == J_LIST_OTHER || wt->job == J_LIST_TIMER) {
		for (int i = 0; i < WAITERS; i++)
			if (waiters[i].waiting && waiters[i].pair == wt->pair &&
			    (waiters[i].job == J_LIST_OTHER || waiters[i].job == J_LIST_TIMER))
				wt->job = J_ALONE;
	}
	wt->dir = wt->job == J_ALONE_WRITE;
	wt->incarnation = p->incarnation;
	wt->pre = (int)rnd(4);
	if (wt->pre == 3)
		wt->pre = 0;
	wt->after = (int)rnd(3);
	wt->waiting = 1;
	wire_wait_resume(&wt->go);
}

/* Any waiter, idle or not, parked on pair @i. */
static int pair_busy(int i)
{
	for (int w = 0; w < WAITERS; w++)
		if (waiters[w].waiting && waiters[w].pair == i)
			return 1;
	return 0;
}

static void driver_step(void)
{
	int i = (int)rnd(PAIRS);
	struct pair *p = &pairs[i];
	char buf[8192];
	int avail = 0;

	memset(buf, 'm', sizeof(buf));
	switch (rnd(16)) {
	case 0:
	case 1:
	case 2:
	case 3: /* the peer writes */
		if (!p->hung_up && ioctl(p->fd[0], FIONREAD, &avail) == 0 && avail < 65536 &&
		    write(p->fd[1], buf, 1 + rnd(4096)) > 0)
			p->writes++;
		break;
	case 4:
	case 5: /* someone reads part of what is queued, or all of it */
		read_some(p, rnd(2) ? 1 + rnd(3000) : 0);
		break;
	case 6:
	case 7:
	case 8:
	case 9: /* an idle waiter takes a job */
		for (int w = (int)rnd(WAITERS), n = 0; n < WAITERS; n++, w = (w + 1) % WAITERS)
			if (!waiters[w].waiting) {
				give_job(&waiters[w]);
				break;
			}
		break;
	case 10: /* another source wins a list */
		for (int w = 0; w < WAITERS; w++)
			if (waiters[w].waiting && waiters[w].job == J_LIST_OTHER && rnd(2))
				wire_wait_resume(&waiters[w].other);
		break;
	case 11: /* mode switch, while no chained wait relies on the mode */
		if (!pair_busy(i) && p->st.fd >= 0) {
			CHECK_EQ(wire_fd_mode_write(&p->st), 0);
			if (rnd(2))
				CHECK_EQ(wire_fd_mode_read(&p->st), 0);
		} else if (p->st.fd >= 0 && p->st.mode == WIRE_FD_MODE_WRITE) {
			CHECK_EQ(wire_fd_mode_read(&p->st), 0);
		}
		break;
	case 12: /* fill the wires' side's send buffer, or drain it at the peer */
		if (p->st.fd >= 0 && rnd(2)) {
			while (write(p->fd[0], buf, sizeof(buf)) > 0)
				;
		} else if (!p->hung_up) {
			while (read(p->fd[1], buf, sizeof(buf)) > 0)
				;
			p->writes++;
		}
		break;
	case 13: /* the driver sleeps: the scheduler blocks in epoll */
		wire_fd_wait_msec((int)rnd(2));
		break;
	case 14: /* the peer hangs up; later the pair is closed and reopened */
		if (!p->hung_up && rnd(4) == 0) {
			close(p->fd[1]);
			p->hung_up = 1;
			p->writes++;
		}
		break;
	case 15: /* close the wires' side under its waiters, then reopen */
		if (rnd(3) == 0) {
			CHECK_EQ(wire_fd_close(&p->st), 0);
			if (!p->hung_up)
				close(p->fd[1]);
			settle(); /* woken list waiters unchain before the reuse */
			pair_open(p);
		}
		break;
	}
}

static void driver(void *arg)
{
	(void)arg;
	for (step = 0; step < model_steps; step++) {
		driver_step();
		settle();
		check_parked();
	}
	/* Stop: release every waiter, then close the pairs. */
	for (int w = 0; w < WAITERS; w++)
		if (waiters[w].waiting && waiters[w].job == J_LIST_OTHER)
			wire_wait_resume(&waiters[w].other);
	for (int i = 0; i < PAIRS; i++) {
		wire_fd_close(&pairs[i].st);
		if (!pairs[i].hung_up)
			close(pairs[i].fd[1]);
	}
	settle();
	/* A waiter may still be asleep before its wait (nothing pending: no polls). */
	for (int w = 0, n = 0; w < WAITERS; w++)
		while (waiters[w].waiting && n++ < 1000)
			wire_fd_wait_msec(1);
	for (int w = 0; w < WAITERS; w++) {
		CHECK(!waiters[w].waiting);
		waiters[w].job = J_QUIT;
		wire_wait_resume(&waiters[w].go);
	}
}

/* One seeded run of @steps steps in a fresh scheduler. */
static void model_run(uint64_t s, unsigned long steps)
{
	seed = s;
	rng = s * 0x9E3779B97F4A7C15ULL + 1;
	model_steps = steps;
	memset(pairs, 0, sizeof(pairs));
	memset(waiters, 0, sizeof(waiters));
	signal(SIGPIPE, SIG_IGN); /* writes to a pair whose peer hung up */
	setup();
	count_polls();
	for (int i = 0; i < PAIRS; i++)
		pair_open(&pairs[i]);
	for (int w = 0; w < WAITERS; w++) {
		waiters[w].id = w;
		waiters[w].spur_pair = -1;
		wire_wait_init(&waiters[w].go);
		wire_wait_init(&waiters[w].other);
		spawn("waiter", waiter_main, &waiters[w]);
	}
	spawn("driver", driver, NULL);
	wire_thread_run();
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void model_report(const char *what)
{
	printf("%s: %lu fd returns, %lu spurious (%lu after another waiter's return); %lu parked "
	       "waits checked; other source won %lu, "
	       "timer won %lu; %lu returns after a close\n",
	       what, n_returns, n_spurious, n_spurious_shared, n_lost_checks, n_other_wins,
	       n_timer_wins, n_closed_returns);
}

static unsigned long model_steps_default(void)
{
	const char *env = getenv("WIRE_READINESS_STEPS");

	if (env && *env)
		return strtoul(env, NULL, 10);
	return test_under_valgrind() ? 300 : 3000;
}

TEST(model_fixed_seeds)
{
	const char *env = getenv("WIRE_READINESS_SEED");
	const char *secs = getenv("WIRE_READINESS_SECONDS");

	if (env && *env) {
		model_run(strtoull(env, NULL, 10), model_steps_default());
		model_report("replayed seed");
		return;
	}
	if (secs && *secs) {
		/* make stress: fresh seeds for that long, each in its own child. */
		int64_t end = test_now_ms() + atoll(secs) * 1000;
		uint64_t s = (uint64_t)test_now_ms();
		unsigned runs = 0;

		alarm((unsigned)atoi(secs) + 60u * (unsigned)test_time_scale());
		while (test_now_ms() < end) {
			pid_t pid;
			int status;
			fflush(stdout);
			pid = fork();
			if (pid == 0) {
				model_run(s, 20000);
				model_report("seed");
				_exit(0);
			}
			CHECK(pid > 0);
			CHECK_EQ(waitpid(pid, &status, 0), pid);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				test_fail(__FILE__, __LINE__,
					  "readiness model failed with seed %llu",
					  (unsigned long long)s);
			s++;
			runs++;
		}
		printf("readiness model: %u seeds of 20000 steps passed\n", runs);
		return;
	}
	for (uint64_t s = 1; s <= 4; s++) {
		model_run(s, model_steps_default());
		/* Spurious returns are allowed, but rare: besides the wires
		 * woken together on one fd, one of which takes the data before
		 * the others run, under 1 in 20. */
		if (n_returns > 100 && (n_spurious - n_spurious_shared) * 20 > n_returns)
			test_fail(__FILE__, __LINE__, "seed %llu: %lu of %lu returns spurious",
				  (unsigned long long)s, n_spurious - n_spurious_shared, n_returns);
	}
	model_report("4 seeds");
	/* The rare paths were reached (about 1 in 250 steps each, at least). */
	{
		unsigned long steps = 4 * model_steps_default();
		CHECK(n_returns >= steps / 20);
		CHECK(n_other_wins >= steps / 1000);
		CHECK(n_timer_wins >= steps / 1000);
		CHECK(n_closed_returns >= 1);
	}
}

/* ------------------------------------------------------------------ */
/* Wait-first loops under bursts.                                      */

/* A TCP listener on 127.0.0.1, non-blocking; its port into *@port. */
static int listen_local(int backlog, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(listen(fd, backlog), 0);
	CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A blocking client socket connected to 127.0.0.1:@port. */
static int connect_local(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

#define BURST 20

static int ls_fd, ls_port;
static wire_fd_state_t ls_state;
static int served, stop_serving;

/* One connection, wait-first: wait, one read of 1 KiB at most, echo it. */
static void echo_conn(void *arg)
{
	wire_fd_state_t st;
	char buf[1024];

	wire_fd_mode_init(&st, (int)(long)arg);
	CHECK_EQ(wire_fd_mode_read(&st), 0);
	for (;;) {
		ssize_t r;
		CHECK_EQ(wire_fd_wait(&st), 0);
		r = read(st.fd, buf, sizeof(buf));
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0)
			break;
		/* The client reads while it writes: the echo fits the send
		 * buffer. A client that gave up shows in its counts. */
		if (write(st.fd, buf, (size_t)r) != r)
			break;
	}
	CHECK_EQ(wire_fd_close(&st), 0);
	served++;
}

/* Wait-first accept loop: one accept per wakeup. */
static void acceptor(void *arg)
{
	(void)arg;
	wire_fd_mode_init(&ls_state, ls_fd);
	CHECK_EQ(wire_fd_mode_read(&ls_state), 0);
	while (!stop_serving) {
		int fd;
		if (wire_fd_wait(&ls_state) != 0)
			break; /* closed: the test is over */
		fd = accept4(ls_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			CHECK_EQ(errno, EAGAIN);
			continue;
		}
		spawn("echo", echo_conn, (void *)(long)fd);
	}
}

struct burst {
	int conns;
	size_t len; /* bytes each client sends in one write */
	size_t echoed[BURST];
};

/*
 * Clients on their own thread: connect all at once, send, then read every
 * echo back, all within one deadline (a lost wakeup shows as short counts).
 */
static void *burst_clients(void *arg)
{
	struct burst *b = arg;
	struct pollfd pfd[BURST];
	int64_t deadline = test_now_ms() + 10000 * test_time_scale();
	char *out = malloc(b->len), *in = malloc(b->len);
	int open_fds = b->conns;

	CHECK(out && in);
	for (size_t i = 0; i < b->len; i++)
		out[i] = (char)('a' + i % 26);
	for (int i = 0; i < b->conns; i++)
		pfd[i].fd = connect_local(ls_port);
	for (int i = 0; i < b->conns; i++) {
		CHECK_EQ(write(pfd[i].fd, out, b->len), (ssize_t)b->len);
		pfd[i].events = POLLIN;
	}
	while (open_fds && test_now_ms() < deadline) {
		CHECK(poll(pfd, (nfds_t)b->conns, 100) >= 0);
		for (int i = 0; i < b->conns; i++) {
			ssize_t r;
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pfd[i].fd, in, b->len - b->echoed[i]);
			if (r > 0)
				CHECK(memcmp(in, out + b->echoed[i], (size_t)r) == 0);
			if (r > 0)
				b->echoed[i] += (size_t)r;
			if (r <= 0 || b->echoed[i] == b->len) {
				close(pfd[i].fd);
				pfd[i].fd = -1; /* poll() skips it */
				open_fds--;
			}
		}
	}
	for (int i = 0; i < b->conns; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	free(out);
	free(in);
	return NULL;
}

static struct burst burst;
static pthread_t burst_tid;

/* Joins the client thread without blocking the scheduler, then stops. */
static void burst_joiner(void *arg)
{
	(void)arg;
	while (pthread_tryjoin_np(burst_tid, NULL) == EBUSY)
		wire_fd_wait_msec(2);
	/* Let the connection wires see their end of stream; a wire that
	 * never does is reported by the check of `served`. */
	for (int i = 0; i < 1000 * test_time_scale() && served < burst.conns; i++)
		wire_fd_wait_msec(2);
	stop_serving = 1;
	wire_fd_close(&ls_state);
}

static void run_burst(int conns, size_t len)
{
	signal(SIGPIPE, SIG_IGN);
	setup();
	served = stop_serving = 0;
	memset(&burst, 0, sizeof(burst));
	burst.conns = conns;
	burst.len = len;
	ls_fd = listen_local(64, &ls_port);
	spawn("acceptor", acceptor, NULL);
	spawn("joiner", burst_joiner, NULL);
	CHECK_EQ(pthread_create(&burst_tid, NULL, burst_clients, &burst), 0);
	wire_thread_run();
	for (int i = 0; i < conns; i++)
		CHECK_EQ(burst.echoed[i], len);
	CHECK_EQ(served, conns);
	CHECK_EQ(wire_thread_suspended(), 0);
	close(ls_fd);
}

/* 20 clients connect at once; the acceptor takes one per wakeup. */
TEST(wait_first_accept_burst_of_20)
{
	run_burst(BURST, 100);
}

/* 3,000 bytes to a reader of 1 KiB per wakeup: every byte comes back. */
TEST(wait_first_echo_3000_bytes)
{
	run_burst(1, 3000);
}

/* 64 KiB in one write to a reader of 1 KiB per wakeup, on 20 connections. */
TEST(wait_first_echo_64k_burst_of_20)
{
	run_burst(BURST, 64 * 1024);
}

/* ------------------------------------------------------------------ */
/* Waits after a wait list that another source won.                    */

static int lp[2];
static wire_fd_state_t lst;
static int list_result, late_err;
static int rescue_off; /* the waiting part of the test is over */
static int64_t late_ms;

/* Unblock a wait that never returns, so that the test fails instead of hanging. */
static void rescuer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200 * test_time_scale() && !rescue_off; i++)
		wire_fd_wait_msec(10);
	if (!rescue_off)
		wire_fd_close(&lst); /* the wait returns EBADF: the checks fail */
}

static void timeout_then_wait(void *arg)
{
	wire_wait_list_t wl;
	wire_timeout_t to;
	wire_wait_t *fdw, *got;
	int64_t t0;
	char c;

	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&lst), 0);
	wire_wait_list_init(&wl);
	wire_timeout_init(&to);
	CHECK_EQ(wire_timeout_reset(&to, 10), 0);
	fdw = wire_fd_wait_list_chain(&wl, &lst);
	CHECK(fdw != NULL);
	wire_wait_chain(&wl, wire_timeout_wait_get(&to));
	got = wire_list_wait(&wl);
	list_result = got == fdw ? 1 : 2;
	wire_wait_unchain(fdw);
	wire_wait_unchain(wire_timeout_wait_get(&to));
	/* Readiness arrives while no wire waits; the chained wait is gone. */
	CHECK_EQ(write(lp[1], "x", 1), 1);
	if (arg)
		wire_fd_wait_msec(5); /* and the scheduler sleeps meanwhile */
	t0 = test_now_ms();
	if (wire_fd_wait(&lst) != 0)
		late_err = errno;
	late_ms = test_now_ms() - t0;
	rescue_off = 1;
	if (!late_err) {
		CHECK_EQ(read(lp[0], &c, 1), 1);
		CHECK_EQ(wire_fd_close(&lst), 0);
	}
}

static void run_timeout_then_wait(int sleep_between)
{
	setup();
	CHECK_EQ(pipe2(lp, O_NONBLOCK | O_CLOEXEC), 0);
	wire_fd_mode_init(&lst, lp[0]);
	late_err = 0;
	spawn("waiter", timeout_then_wait, sleep_between ? &lp : NULL);
	spawn("rescuer", rescuer, NULL);
	wire_thread_run();
	CHECK_EQ(list_result, 2);
	CHECK_EQ(late_err, 0);
	CHECK_RANGE(late_ms, 0, 50 * test_time_scale());
	close(lp[1]);
}

TEST(wait_after_list_timeout_won)
{
	run_timeout_then_wait(0);
}

TEST(wait_after_list_timeout_won_and_sleep)
{
	run_timeout_then_wait(1);
}

/* A wire that reads part of what is queued and waits again returns at once. */
static int part_rounds;

static void part_reader(void *arg)
{
	char c;

	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&lst), 0);
	CHECK_EQ(write(lp[1], "abcde", 5), 5);
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(wire_fd_wait(&lst), 0);
		CHECK_EQ(read(lp[0], &c, 1), 1);
		CHECK_EQ(c, "abcde"[i]);
		part_rounds++;
	}
	rescue_off = 1;
	CHECK_EQ(wire_fd_close(&lst), 0);
}

TEST(partial_reads_then_wait)
{
	setup();
	CHECK_EQ(pipe2(lp, O_NONBLOCK | O_CLOEXEC), 0);
	wire_fd_mode_init(&lst, lp[0]);
	spawn("reader", part_reader, NULL);
	spawn("rescuer", rescuer, NULL);
	wire_thread_run();
	CHECK_EQ(part_rounds, 5);
	close(lp[1]);
}

/* Writable in write mode, after a mode switch with the fd already registered for reading. */
static int mode_rounds;

static void mode_switcher(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&lst), 0);
	CHECK_EQ(wire_fd_mode_write(&lst), 0);
	CHECK_EQ(wire_fd_wait(&lst), 0); /* a socket with room is writable */
	mode_rounds++;
	CHECK_EQ(wire_fd_mode_read(&lst), 0);
	CHECK_EQ(write(lp[1], "r", 1), 1);
	CHECK_EQ(wire_fd_wait(&lst), 0);
	mode_rounds++;
	CHECK_EQ(wire_fd_mode_write(&lst), 0);
	CHECK_EQ(wire_fd_wait(&lst), 0);
	mode_rounds++;
	rescue_off = 1;
	CHECK_EQ(wire_fd_close(&lst), 0);
}

TEST(mode_switches_wait_in_the_new_mode)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, lp), 0);
	wire_fd_mode_init(&lst, lp[0]);
	spawn("switcher", mode_switcher, NULL);
	spawn("rescuer", rescuer, NULL);
	wire_thread_run();
	CHECK_EQ(mode_rounds, 3);
	close(lp[1]);
}

/*
 * An fd that stays readable while its wire waits elsewhere does not keep
 * the scheduler spinning: it leaves epoll's interest after one blocking
 * poll, and the next wait returns at once on what was recorded.
 */
static unsigned long idle_polls;
static int64_t idle_cpu_ms;
static int anchor_fds[2];
static wire_fd_state_t anchor_st;

static int64_t thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parked on another fd: the poller has work, so the scheduler blocks in it. */
static void anchor(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&anchor_st), 0);
	CHECK_EQ(wire_fd_wait(&anchor_st), 0);
	CHECK_EQ(wire_fd_close(&anchor_st), 0);
}

static void ready_but_busy(void *arg)
{
	unsigned long p0;
	char c;

	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&lst), 0);
	CHECK_EQ(write(lp[1], "x", 1), 1);
	p0 = polls;
	wire_fd_wait_msec(50); /* the fd is ready all along, nobody waits on it */
	idle_polls = polls - p0;
	CHECK_EQ(wire_fd_wait(&lst), 0);
	CHECK_EQ(read(lp[0], &c, 1), 1);
	CHECK_EQ(wire_fd_close(&lst), 0);
	CHECK_EQ(write(anchor_fds[1], "a", 1), 1);
}

TEST(ready_fd_nobody_waits_on_does_not_spin)
{
	int64_t c0;

	setup();
	count_polls();
	CHECK_EQ(pipe2(lp, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_EQ(pipe2(anchor_fds, O_NONBLOCK | O_CLOEXEC), 0);
	wire_fd_mode_init(&lst, lp[0]);
	wire_fd_mode_init(&anchor_st, anchor_fds[0]);
	spawn("anchor", anchor, NULL);
	spawn("reader", ready_but_busy, NULL);
	c0 = thread_cpu_ms();
	wire_thread_run();
	idle_cpu_ms = thread_cpu_ms() - c0;
	/* One poll sees the fd and drops it; the next blocks until the timer. */
	CHECK_RANGE(idle_polls, 1, 4);
	CHECK_RANGE(idle_cpu_ms, 0, 20 * test_time_scale());
	CHECK_EQ(wire_thread_suspended(), 0);
	close(lp[1]);
	close(anchor_fds[1]);
}
