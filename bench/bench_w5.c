/*
 * W5 echo: TCP echo on 127.0.0.1, 64-byte messages, 50 connections driven
 * by a closed-loop client (each connection sends a message, waits for its
 * echo, sends the next). Requests per second of the libwire echo server
 * (examples/wire_echo.c, compiled in and run on threads of its own) in
 * its two styles, read first (wait only after a short read or EAGAIN)
 * and wait first (wait, one read, one write), against a plain
 * hand-written single-threaded level-triggered epoll echo server measured
 * in the same run. The servers run on CPU 0, the client on CPU 1 (when
 * there are two). Each server's syscalls are counted per echoed message.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>

#include "bench.h"

/* Syscall and epoll_wait counters of one server; read by the client thread. */
struct counters {
	unsigned long syscalls, polls;
};

/* The counters of the server running on this thread. */
static __thread struct counters *my_ctr;

#define BUMP(v, n)                                                                                 \
	__atomic_store_n(&(v), __atomic_load_n(&(v), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
static void count_polls(void);
#define WIRE_ECHO_NO_MAIN
#define WIRE_ECHO_COUNT(n)     BUMP(my_ctr->syscalls, (n))
#define WIRE_ECHO_AFTER_INIT() count_polls()
#include "../examples/wire_echo.c"

#define CONNS	  50
#define MSG	  64
#define RUN_NS	  1000000000LL /* per measurement */
#define WARMUP_NS 200000000LL

static void pin(int cpu)
{
	cpu_set_t set;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu % (int)ncpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ------------------------------------------------------------------ */
/* The libwire servers, with their epoll_wait calls counted.           */

/*
 * Every call of the fd layer's poll function makes one epoll_wait (the
 * only syscall of the library on this path once connections are set up:
 * registration and removal are one epoll_ctl each per connection).
 */
static __thread void (*real_poll)(wire_poller_t *, int64_t);

static void counting_poll(wire_poller_t *p, int64_t timeout_ns)
{
	BUMP(my_ctr->syscalls, 1);
	BUMP(my_ctr->polls, 1);
	real_poll(p, timeout_ns);
}

static void count_polls(void)
{
	wire_poller_t *p = wire_thread_get()->poller;
	real_poll = p->poll;
	p->poll = counting_poll;
}

struct wire_server {
	int listen_fd;
	int wait_first;
	struct counters ctr;
};

static struct wire_server read_first = {.wait_first = 0}, wait_first = {.wait_first = 1};

static void *wire_server_thread(void *arg)
{
	struct wire_server *s = arg;

	my_ctr = &s->ctr;
	pin(0);
	echo_serve(s->listen_fd, 1024, s->wait_first);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The plain epoll server: level-triggered, one read and one write per event. */

static int plain_listen_fd;

/* Syscalls and epoll_wait calls of the plain server, counted the same way. */
static struct counters plain_ctr;

static void *plain_server_thread(void *arg)
{
	struct epoll_event ev, evs[256];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	char buf[ECHO_BUF];

	(void)arg;
	pin(0);
	ev.events = EPOLLIN;
	ev.data.fd = plain_listen_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, plain_listen_fd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		BUMP(plain_ctr.syscalls, 1);
		BUMP(plain_ctr.polls, 1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == plain_listen_fd) {
				int c, one = 1;
				while ((c = accept4(fd, NULL, NULL,
						    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));
			BUMP(plain_ctr.syscalls, 1);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				close(fd);
				continue;
			}
			for (ssize_t off = 0; off < r;) {
				ssize_t w = write(fd, buf + off, (size_t)(r - off));
				BUMP(plain_ctr.syscalls, 1);
				if (w > 0)
					off += w;
				else if (w < 0 && errno != EAGAIN)
					break;
			}
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Closed-loop client.                                                 */

static int port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	return ntohs(sa.sin_port);
}

struct conn {
	int fd;
	int got;
};

/*
 * Drive the server on @port for @ns after a warm-up. Returns echoed
 * messages per second; its syscalls and epoll_wait calls per message, from
 * its counters @ctr, into *@syscalls and *@polls.
 */
static double drive(int port, int64_t ns, struct counters *ctr, double *syscalls, double *polls)
{
	struct conn conns[CONNS];
	struct epoll_event ev, evs[CONNS];
	struct sockaddr_in sa;
	char msg[MSG], buf[MSG];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long done = 0, counted = 0;
	unsigned long sys0 = 0, polls0 = 0;
	int64_t start, measure_at, end;

	memset(msg, 'm', sizeof(msg));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < CONNS; i++) {
		int one = 1;
		conns[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(conns[i].fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			perror("W5 client: connect");
			exit(1);
		}
		setsockopt(conns[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conns[i].got = 0;
		ev.events = EPOLLIN;
		ev.data.ptr = &conns[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
		if (write(conns[i].fd, msg, MSG) != MSG) {
			perror("W5 client: write");
			exit(1);
		}
	}
	start = bench_now_ns();
	measure_at = start + WARMUP_NS;
	end = measure_at + ns;
	for (;;) {
		int64_t now = bench_now_ns();
		int n;
		if (now >= end)
			break;
		if (!counted && now >= measure_at) {
			counted = 1;
			done = 0;
			sys0 = __atomic_load_n(&ctr->syscalls, __ATOMIC_RELAXED);
			polls0 = __atomic_load_n(&ctr->polls, __ATOMIC_RELAXED);
		}
		n = epoll_wait(ep, evs, CONNS, 100);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, buf, (size_t)(MSG - c->got));
			if (r <= 0) {
				fprintf(stderr, "W5 client: connection lost\n");
				exit(1);
			}
			c->got += (int)r;
			if (c->got < MSG)
				continue;
			c->got = 0;
			done++;
			if (write(c->fd, msg, MSG) != MSG) {
				perror("W5 client: write");
				exit(1);
			}
		}
	}
	*syscalls = (double)(__atomic_load_n(&ctr->syscalls, __ATOMIC_RELAXED) - sys0) /
		    (double)(done ? done : 1);
	*polls = (double)(__atomic_load_n(&ctr->polls, __ATOMIC_RELAXED) - polls0) /
		 (double)(done ? done : 1);
	for (int i = 0; i < CONNS; i++)
		close(conns[i].fd);
	close(ep);
	return (double)done * 1e9 / (double)ns;
}

struct drive_arg {
	int port;
	struct counters *ctr;
	double rps, syscalls, polls;
};

static void *drive_thread(void *arg)
{
	struct drive_arg *d = arg;
	pin(1);
	d->rps = drive(d->port, RUN_NS, d->ctr, &d->syscalls, &d->polls);
	return NULL;
}

/* One measurement of the server on @listen_fd with counters @ctr. */
static double drive_pinned(int listen_fd, struct counters *ctr, double *syscalls, double *polls)
{
	struct drive_arg d = {.port = port_of(listen_fd), .ctr = ctr};
	pthread_t th;
	pthread_create(&th, NULL, drive_thread, &d);
	pthread_join(th, NULL);
	usleep(50 * 1000); /* let the server reap the connections */
	*syscalls = d.syscalls;
	*polls = d.polls;
	return d.rps;
}

/* The figures of one server over the runs. */
struct series {
	const char *name;
	int listen_fd;
	struct counters *ctr;
	double rps[16], sys[16], pol[16], ratio[16];
};

int main(void)
{
	int runs = bench_runs(8);
	struct series s[3] = {
	    {.name = "plain", .ctr = &plain_ctr},
	    {.name = "read first", .ctr = &read_first.ctr},
	    {.name = "wait first", .ctr = &wait_first.ctr},
	};
	pthread_t th;

	if (runs > 16)
		runs = 16;
	signal(SIGPIPE, SIG_IGN);
	plain_listen_fd = echo_listen(0);
	read_first.listen_fd = echo_listen(0);
	wait_first.listen_fd = echo_listen(0);
	if (plain_listen_fd < 0 || read_first.listen_fd < 0 || wait_first.listen_fd < 0) {
		perror("W5 echo: listen on 127.0.0.1");
		return 1;
	}
	s[0].listen_fd = plain_listen_fd;
	s[1].listen_fd = read_first.listen_fd;
	s[2].listen_fd = wait_first.listen_fd;
	pthread_create(&th, NULL, plain_server_thread, NULL);
	pthread_create(&th, NULL, wire_server_thread, &read_first);
	pthread_create(&th, NULL, wire_server_thread, &wait_first);
	usleep(50 * 1000);
	for (int i = 0; i < runs; i++) {
		/* Rotate the order, so that drift favours none of the three. */
		for (int k = 0; k < 3; k++) {
			struct series *x = &s[(i + k) % 3];
			x->rps[i] = drive_pinned(x->listen_fd, x->ctr, &x->sys[i], &x->pol[i]);
		}
		/* Runs close in time share the machine's load: compare them per round. */
		for (int k = 1; k < 3; k++)
			s[k].ratio[i] = s[k].rps[i] / s[0].rps[i];
	}
	for (int k = 1; k < 3; k++)
		printf("W5 echo, %s: %.0f req/s, %.2fx the plain level-triggered epoll server "
		       "(median of per-round ratios); syscalls per message %.2f, of which "
		       "epoll_wait %.2f\n",
		       s[k].name, bench_median(s[k].rps, runs), bench_median(s[k].ratio, runs),
		       bench_median(s[k].sys, runs), bench_median(s[k].pol, runs));
	printf("W5 echo, plain epoll server: %.0f req/s; syscalls per message %.2f, of which "
	       "epoll_wait %.2f (%d connections, %d-byte messages, %d rounds of %.1f s each)\n",
	       bench_median(s[0].rps, runs), bench_median(s[0].sys, runs),
	       bench_median(s[0].pol, runs), CONNS, MSG, runs, RUN_NS / 1e9);
	bench_row("w5", "W5 TCP echo, 50 connections",
		  "read first %.2fx, wait first %.2fx the plain server; %.2f syscalls/message|"
		  "plain level-triggered epoll server %.0f req/s, %.2f syscalls/message",
		  bench_median(s[1].ratio, runs), bench_median(s[2].ratio, runs),
		  bench_median(s[1].sys, runs), bench_median(s[0].rps, runs),
		  bench_median(s[0].sys, runs));
	return 0;
}
