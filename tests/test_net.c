/* Tests of the socket layer (wire_net.h). */
// TEST_LABELS: threads
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sys.h"
#include "wire.h"
#include "wire_fd.h"
#include "wire_net.h"
#include "wire_timeout.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
static char stacks[4][STACK];
static wire_t wires[4];
static int nwires;

static void setup(void)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	nwires = 0;
}

static void spawn(const char *name, void (*fn)(void *), void *arg)
{
	CHECK(nwires < 4);
	CHECK(wire_init(&wires[nwires], name, fn, arg, stacks[nwires], STACK) != NULL);
	nwires++;
}

static void run(void)
{
	wire_thread_run();
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* A TCP listener on 127.0.0.1 with an ephemeral port; returns the fd. */
static int listen_local(int backlog, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(listen(fd, backlog), 0);
	CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int sp[2];
static wire_net_t na, nb;

/* ---- reads, writes, end of stream over a socketpair ---- */

static char got[64];
static ssize_t r_full, r_short, r_eof;

static void reader(void *arg)
{
	(void)arg;
	r_full = wire_net_read_full(&na, got, 10);
	r_short = wire_net_read_full(&na, got + 10, 20); /* only 5 come, then EOF */
	r_eof = wire_net_read_any(&na, got, sizeof(got));
}

static void writer(void *arg)
{
	(void)arg;
	/* In pieces, so the reader has to wait between them. */
	CHECK_EQ(wire_net_write(&nb, "0123", 4), 4);
	wire_yield();
	CHECK_EQ(wire_net_write(&nb, "456789", 6), 6);
	wire_fd_wait_msec(5);
	CHECK_EQ(wire_net_write(&nb, "abcde", 5), 5);
	CHECK_EQ(wire_net_close(&nb), 0);
}

TEST(read_full_short_count_at_eof)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	CHECK_EQ(wire_net_init(&nb, sp[1]), 0);
	CHECK(fcntl(sp[0], F_GETFL) & O_NONBLOCK);
	spawn("reader", reader, NULL);
	spawn("writer", writer, NULL);
	run();
	CHECK_EQ(r_full, 10);
	CHECK_EQ(r_short, 5);
	CHECK(memcmp(got, "0123456789abcde", 15) == 0);
	CHECK_EQ(r_eof, 0);
	CHECK_EQ(wire_net_close(&na), 0);
}

static ssize_t r_min;

static void min_reader(void *arg)
{
	(void)arg;
	r_min = wire_net_read_min(&na, got, 6, sizeof(got));
}

static void min_writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(wire_net_write(&nb, "xy", 2), 2);
		wire_fd_wait_msec(2);
	}
}

TEST(read_min_waits_for_min)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	CHECK_EQ(wire_net_init(&nb, sp[1]), 0);
	spawn("reader", min_reader, NULL);
	spawn("writer", min_writer, NULL);
	run();
	/* 2 bytes per write: the reader returns once it has 6 of them. */
	CHECK_EQ(r_min, 6);
	CHECK(memcmp(got, "xyxyxy", 6) == 0);
	CHECK_EQ(read(sp[0], got, sizeof(got)), 2);
	wire_net_close(&na);
	wire_net_close(&nb);
}

/*
 * After a short read the next read waits for readiness first: data that
 * arrives before that wait (while the reader is busy) and data that
 * arrives while it waits must both be read.
 */
static int drained_rounds;

static void drained_reader(void *arg)
{
	(void)arg;
	wire_net_set_timeout_ns(&na, TEST_MS(2000 * test_time_scale()));
	int next = 0;
	for (int i = 0; next < 100; i++) {
		char c[128];
		ssize_t n = wire_net_read_any(&na, c, sizeof(c));
		CHECK_RANGE(n, 1, 100 - next);
		for (ssize_t k = 0; k < n; k++)
			CHECK_EQ(c[k], (char)next++);
		if (i % 2)
			wire_yield(); /* the writer's next byte arrives before we wait */
		drained_rounds++;
	}
}

static void drained_writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		char c = (char)i;
		CHECK_EQ(wire_net_write(&nb, &c, 1), 1);
		if (i % 3 == 0)
			wire_fd_wait_msec(1);
		else
			wire_yield();
	}
}

TEST(short_read_then_more_data)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	CHECK_EQ(wire_net_init(&nb, sp[1]), 0);
	spawn("reader", drained_reader, NULL);
	spawn("writer", drained_writer, NULL);
	run();
	CHECK_RANGE(drained_rounds, 30, 100); /* most bytes came one by one */
	wire_net_close(&na);
	wire_net_close(&nb);
}

/* ---- timeouts ---- */

static ssize_t r_timed;
static int e_timed;
static int64_t t_timed;

static void silent_reader(void *arg)
{
	(void)arg;
	char c;
	int64_t t0 = test_now_ms();
	wire_net_set_timeout_ns(&na, TEST_MS(100));
	r_timed = wire_net_read_any(&na, &c, 1);
	e_timed = errno;
	t_timed = test_now_ms() - t0;
}

TEST(read_timeout_silent_peer)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	spawn("reader", silent_reader, NULL);
	run();
	CHECK_EQ(r_timed, -1);
	CHECK_EQ(e_timed, ETIMEDOUT);
	CHECK_RANGE(t_timed, 99, 100 + 150 * test_time_scale());
	/* The timed-out read left the socket usable. */
	CHECK_EQ(write(sp[1], "k", 1), 1);
	setup();
	spawn("reader", silent_reader, NULL);
	run();
	CHECK_EQ(r_timed, 1);
	close(sp[1]);
	wire_net_close(&na);
}

static size_t w_sent;

static void stuck_writer(void *arg)
{
	(void)arg;
	static char big[4 << 20];
	int64_t t0 = test_now_ms();
	wire_net_set_timeout_ns(&na, TEST_MS(100));
	r_timed = wire_net_write(&na, big, sizeof(big));
	e_timed = errno;
	t_timed = test_now_ms() - t0;
	w_sent = sizeof(big);
}

TEST(write_timeout_peer_stops_reading)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	spawn("writer", stuck_writer, NULL);
	run();
	CHECK_EQ(r_timed, -1);
	CHECK_EQ(e_timed, ETIMEDOUT);
	CHECK_RANGE(t_timed, 99, 100 + 150 * test_time_scale());
	close(sp[1]);
	wire_net_close(&na);
}

static int lfd, lport, a_fd, a_err;
static wire_net_t nl;

static void timed_acceptor(void *arg)
{
	(void)arg;
	int64_t t0 = test_now_ms();
	wire_net_set_timeout_ns(&nl, TEST_MS(80));
	a_fd = wire_net_accept(&nl, NULL, NULL);
	a_err = errno;
	t_timed = test_now_ms() - t0;
}

TEST(accept_timeout)
{
	setup();
	lfd = listen_local(4, &lport);
	CHECK_EQ(wire_net_init(&nl, lfd), 0);
	spawn("acceptor", timed_acceptor, NULL);
	run();
	CHECK_EQ(a_fd, -1);
	CHECK_EQ(a_err, ETIMEDOUT);
	CHECK_RANGE(t_timed, 79, 80 + 150 * test_time_scale());
	wire_net_close(&nl);
}

/* ---- connect and accept ---- */

static char port_str[16];
static int c_res, c_err;

static void acceptor(void *arg)
{
	(void)arg;
	char buf[8];
	wire_net_set_timeout_ns(&nl, TEST_MS(2000 * test_time_scale()));
	a_fd = wire_net_accept(&nl, NULL, NULL);
	CHECK(a_fd >= 0);
	CHECK(fcntl(a_fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(a_fd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(wire_net_init(&na, a_fd), 0);
	CHECK_EQ(wire_net_read_full(&na, buf, 4), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_EQ(wire_net_write(&na, "pong", 4), 4);
	CHECK_EQ(wire_net_read_any(&na, buf, sizeof(buf)), 0);
	wire_net_close(&na);
}

static void connector(void *arg)
{
	(void)arg;
	char buf[8];
	c_res = wire_net_connect_tcp(&nb, "127.0.0.1", port_str, TEST_MS(2000 * test_time_scale()));
	c_err = errno;
	CHECK_EQ(c_res, 0);
	CHECK_EQ(nb.timeout_ns, TEST_MS(2000 * test_time_scale()));
	CHECK_EQ(wire_net_write(&nb, "ping", 4), 4);
	CHECK_EQ(wire_net_read_full(&nb, buf, 4), 4);
	CHECK(memcmp(buf, "pong", 4) == 0);
	wire_net_close(&nb);
}

TEST(connect_tcp_and_accept)
{
	setup();
	lfd = listen_local(4, &lport);
	snprintf(port_str, sizeof(port_str), "%d", lport);
	CHECK_EQ(wire_net_init(&nl, lfd), 0);
	spawn("acceptor", acceptor, NULL);
	spawn("connector", connector, NULL);
	run();
	wire_net_close(&nl);
}

static void refused_connector(void *arg)
{
	(void)arg;
	c_res = wire_net_connect_tcp(&nb, "127.0.0.1", port_str, TEST_MS(1000 * test_time_scale()));
	c_err = errno;
}

TEST(connect_refused)
{
	setup();
	lfd = listen_local(1, &lport);
	close(lfd); /* nobody listens there now */
	snprintf(port_str, sizeof(port_str), "%d", lport);
	spawn("connector", refused_connector, NULL);
	run();
	CHECK_EQ(c_res, -1);
	CHECK_EQ(c_err, ECONNREFUSED);
}

TEST(connect_tcp_bad_service)
{
	setup();
	snprintf(port_str, sizeof(port_str), "no-such-svc");
	spawn("connector", refused_connector, NULL);
	run();
	CHECK_EQ(c_res, -1);
	CHECK_EQ(c_err, ENOENT);
}

/*
 * A listener whose accept queue is full drops new handshakes: connects
 * then hang until our timeout. The timed-out connect fails with
 * ETIMEDOUT and never reports success.
 */
static int timeouts_seen;

static void backlog_connector(void *arg)
{
	(void)arg;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)lport),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static wire_net_t c[8];
	int n;

	for (n = 0; n < 8; n++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(fd >= 0);
		CHECK_EQ(wire_net_init(&c[n], fd), 0);
		wire_net_set_timeout_ns(&c[n], TEST_MS(150));
		int64_t t0 = test_now_ms();
		int r = wire_net_connect(&c[n], (struct sockaddr *)&a, sizeof(a));
		if (r < 0) {
			CHECK_EQ(errno, ETIMEDOUT);
			t_timed = test_now_ms() - t0;
			timeouts_seen++;
			n++;
			break;
		}
	}
	for (int i = 0; i < n; i++)
		wire_net_close(&c[i]);
}

TEST(connect_timeout_backlog_full)
{
	setup();
	lfd = listen_local(0, &lport);
	spawn("connector", backlog_connector, NULL);
	run();
	CHECK_EQ(timeouts_seen, 1);
	CHECK_RANGE(t_timed, 149, 150 + 200 * test_time_scale());
	close(lfd);
}

/* ---- a peer that resets the connection ---- */

static ssize_t rr, rw;
static int er, ew;

static void reset_victim(void *arg)
{
	(void)arg;
	char buf[8];
	wire_net_set_timeout_ns(&na, TEST_MS(2000 * test_time_scale()));
	rr = wire_net_read_any(&na, buf, sizeof(buf));
	er = errno;
	rw = wire_net_write(&na, "x", 1);
	ew = errno;
}

static void resetter(void *arg)
{
	(void)arg;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	wire_fd_wait_msec(10); /* the victim is parked in its read by now */
	CHECK_EQ(setsockopt(nb.fds.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	wire_net_close(&nb); /* sends RST */
}

static void reset_acceptor(void *arg)
{
	(void)arg;
	a_fd = wire_net_accept(&nl, NULL, NULL);
	CHECK(a_fd >= 0);
	CHECK_EQ(wire_net_init(&na, a_fd), 0);
	spawn("victim", reset_victim, NULL);
}

static void reset_connector(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_net_connect_tcp(&nb, "127.0.0.1", port_str, TEST_MS(2000)), 0);
	spawn("resetter", resetter, NULL);
}

TEST(peer_reset)
{
	setup();
	lfd = listen_local(4, &lport);
	snprintf(port_str, sizeof(port_str), "%d", lport);
	CHECK_EQ(wire_net_init(&nl, lfd), 0);
	spawn("acceptor", reset_acceptor, NULL);
	spawn("connector", reset_connector, NULL);
	run();
	CHECK_EQ(rr, -1);
	CHECK_EQ(er, ECONNRESET);
	CHECK_EQ(rw, -1);
	CHECK(ew == EPIPE || ew == ECONNRESET);
	wire_net_close(&na);
	wire_net_close(&nl);
}

/* ---- close while waiting, faults ---- */

static void closer(void *arg)
{
	(void)arg;
	wire_yield();
	CHECK_EQ(wire_net_close(&na), 0);
}

static void blocked_reader(void *arg)
{
	(void)arg;
	char c;
	r_timed = wire_net_read_any(&na, &c, 1);
	e_timed = errno;
}

TEST(close_wakes_reader)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	spawn("reader", blocked_reader, NULL);
	spawn("closer", closer, NULL);
	run();
	CHECK_EQ(r_timed, -1);
	CHECK_EQ(e_timed, EBADF);
	close(sp[1]);
}

static void faulty_io(void *arg)
{
	(void)arg;
	char c;
	wire__fault_set(WIRE_SYS_READ, 1, EIO);
	CHECK_EQ(wire_net_read_any(&na, &c, 1), -1);
	CHECK_EQ(errno, EIO);
	wire__fault_set(WIRE_SYS_WRITE, 1, ENOBUFS);
	CHECK_EQ(wire_net_write(&na, "a", 1), -1);
	CHECK_EQ(errno, ENOBUFS);
	/* Without faults the same calls work. */
	CHECK_EQ(wire_net_write(&na, "a", 1), 1);
	CHECK_EQ(read(sp[1], &c, 1), 1);
	wire__fault_set(WIRE_SYS_CONNECT, 1, ENETUNREACH);
	CHECK_EQ(wire_net_connect_tcp(&nb, "127.0.0.1", "1", TEST_MS(1000)), -1);
	CHECK_EQ(errno, ENETUNREACH);
}

TEST(syscall_faults)
{
	wire_net_t n;

	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	wire__fault_set(WIRE_SYS_FCNTL, 1, EBADF);
	memset(&n, 0x5a, sizeof(n));
	CHECK_EQ(wire_net_init(&n, sp[0]), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(n.timeout_ns, 0x5a5a5a5a5a5a5a5aLL); /* untouched */
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	spawn("io", faulty_io, NULL);
	run();
	wire_net_close(&na);
	close(sp[1]);
}

/*
 * Data and the end of stream arriving in one readiness edge: the short
 * read that takes the data must not be followed by a wait that never ends.
 */
static ssize_t eof_first, eof_second;

static void data_then_eof_reader(void *arg)
{
	(void)arg;
	char buf[64];
	wire_net_set_timeout_ns(&na, TEST_MS(1000 * test_time_scale()));
	/* Parks first: its wait takes the one edge that data and FIN make. */
	eof_first = wire_net_read_any(&na, buf, sizeof(buf));
	eof_second = wire_net_read_any(&na, buf, sizeof(buf));
}

static void data_then_eof_peer(void *arg)
{
	(void)arg;
	CHECK_EQ(write(sp[1], "abc", 3), 3);
	close(sp[1]);
}

TEST(data_and_eof_in_one_edge)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	spawn("reader", data_then_eof_reader, NULL);
	spawn("peer", data_then_eof_peer, NULL);
	run();
	CHECK_EQ(eof_first, 3);
	CHECK_EQ(eof_second, 0);
	wire_net_close(&na);
}

/* ---- several wires waiting on one socket with a timeout ---- */

/*
 * Two acceptors share one listener, each with a timeout. Two connections
 * come while both wait: each acceptor gets one at once, none times out.
 */
static int two_fds[2], two_errs[2];
static int64_t two_ms[2];

static void two_acceptor(void *arg)
{
	int i = (int)(long)arg;
	int64_t t0 = test_now_ms();

	two_fds[i] = wire_net_accept(&nl, NULL, NULL);
	two_errs[i] = errno;
	two_ms[i] = test_now_ms() - t0;
}

static void two_connector(void *arg)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)lport),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	(void)arg;
	wire_fd_wait_msec(20); /* both acceptors are parked by now */
	for (int n = 0; n < 2; n++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CHECK(fd >= 0);
		CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		sp[n] = fd;
		wire_fd_wait_msec(20);
	}
}

TEST(two_timed_acceptors_on_one_listener)
{
	setup();
	lfd = listen_local(4, &lport);
	CHECK_EQ(wire_net_init(&nl, lfd), 0);
	wire_net_set_timeout_ns(&nl, TEST_MS(1000 * test_time_scale()));
	spawn("acceptor0", two_acceptor, (void *)0L);
	spawn("acceptor1", two_acceptor, (void *)1L);
	spawn("connector", two_connector, NULL);
	run();
	for (int i = 0; i < 2; i++) {
		CHECK(two_fds[i] >= 0);
		CHECK_RANGE(two_ms[i], 15, 500 * test_time_scale());
		close(two_fds[i]);
		close(sp[i]);
	}
	wire_net_close(&nl);
}

/*
 * Timeout 0 means "do not wait": a read after a short read must still
 * return the data that arrived since, not ETIMEDOUT.
 */
static ssize_t zero_r[3];
static int zero_e[3];

static void zero_timeout_reader(void *arg)
{
	char buf[16];
	(void)arg;
	wire_net_set_timeout_ns(&na, TEST_MS(0));
	CHECK_EQ(write(sp[1], "ab", 2), 2);
	zero_r[0] = wire_net_read_any(&na, buf, sizeof(buf)); /* short: 2 of 16 */
	CHECK_EQ(write(sp[1], "cd", 2), 2);
	zero_r[1] = wire_net_read_any(&na, buf, sizeof(buf));
	zero_e[1] = errno;
	CHECK(zero_r[1] != 2 || memcmp(buf, "cd", 2) == 0);
	zero_r[2] = wire_net_read_any(&na, buf, sizeof(buf)); /* nothing there now */
	zero_e[2] = errno;
}

TEST(zero_timeout_read_after_short_read)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	spawn("reader", zero_timeout_reader, NULL);
	run();
	CHECK_EQ(zero_r[0], 2);
	CHECK_EQ(zero_r[1], 2);
	CHECK_EQ(zero_r[2], -1);
	CHECK_EQ(zero_e[2], ETIMEDOUT);
	close(sp[1]);
	wire_net_close(&na);
}

/*
 * A failed wire_net_connect_tcp() leaves no fd in @net: closing it
 * afterwards (a common cleanup path) must not close an unrelated fd that
 * reused the number of the socket it tried.
 */
static void failing_connector(void *arg)
{
	(void)arg;
	wire__fault_set(WIRE_SYS_CONNECT, 1, ENETUNREACH);
	c_res = wire_net_connect_tcp(&nb, "127.0.0.1", port_str, TEST_MS(1000 * test_time_scale()));
	c_err = errno;
	wire__fault_clear();
}

TEST(connect_tcp_failure_leaves_no_fd)
{
	int other;

	setup();
	snprintf(port_str, sizeof(port_str), "%d", 9);
	spawn("connector", failing_connector, NULL);
	run();
	CHECK_EQ(c_res, -1);
	CHECK_EQ(c_err, ENETUNREACH);
	other = open("/dev/null", O_RDONLY | O_CLOEXEC); /* may reuse the number */
	CHECK(other >= 0);
	CHECK_EQ(nb.fds.fd, -1);
	CHECK_EQ(wire_net_close(&nb), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(fcntl(other, F_GETFD), FD_CLOEXEC); /* still open */
	close(other);
}

/* ---- reads that stop short with data still queued ---- */

/*
 * After a short read, a wait list reports the socket readable (its wait
 * takes the readiness); the next read must still return the 5 bytes
 * queued, not wait for more.
 */
static ssize_t after_list_r;
static int after_list_won;
static int64_t after_list_ms;

static void read_after_list(void *arg)
{
	wire_wait_list_t wl;
	wire_timeout_t to;
	wire_wait_t *fdw;
	char buf[16];
	int64_t t0;

	(void)arg;
	wire_net_set_timeout_ns(&na, TEST_MS(1000 * test_time_scale()));
	CHECK_EQ(write(sp[1], "ab", 2), 2);
	CHECK_EQ(wire_net_read_any(&na, buf, sizeof(buf)), 2); /* short */
	CHECK_EQ(write(sp[1], "hello", 5), 5);
	wire_wait_list_init(&wl);
	wire_timeout_init(&to);
	CHECK_EQ(wire_timeout_reset(&to, 1000 * test_time_scale()), 0);
	fdw = wire_fd_wait_list_chain(&wl, &na.fds);
	CHECK(fdw != NULL);
	wire_wait_chain(&wl, wire_timeout_wait_get(&to));
	after_list_won = wire_list_wait(&wl) == fdw;
	wire_wait_unchain(fdw);
	wire_wait_unchain(wire_timeout_wait_get(&to));
	wire_timeout_stop(&to);
	t0 = test_now_ms();
	after_list_r = wire_net_read_any(&na, buf, sizeof(buf));
	after_list_ms = test_now_ms() - t0;
	CHECK(after_list_r != 5 || memcmp(buf, "hello", 5) == 0);
}

TEST(read_after_wait_list_reported_readable)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	CHECK_EQ(wire_fd_mode_read(&na.fds), 0);
	spawn("reader", read_after_list, NULL);
	run();
	CHECK_EQ(after_list_won, 1);
	CHECK_EQ(after_list_r, 5);
	CHECK_RANGE(after_list_ms, 0, 100 * test_time_scale());
	close(sp[1]);
	wire_net_close(&na);
}

/*
 * TCP urgent data: a read stops at the urgent mark, short, with the data
 * after the mark queued. The next read returns that data.
 */
static int urg_peer;

/* Two reads of @na; the first parks before anything is sent: the fd is watched. */
static ssize_t two_r[2];
static char two_buf[2][16];

static void two_reads(void *arg)
{
	(void)arg;
	wire_net_set_timeout_ns(&na, TEST_MS(1000 * test_time_scale()));
	for (int i = 0; i < 2; i++)
		two_r[i] = wire_net_read_any(&na, two_buf[i], sizeof(two_buf[i]));
}

/* The first read returned @first, short, and the second the rest, @second. */
static void check_two_reads(const char *first, const char *second)
{
	CHECK_EQ(two_r[0], (ssize_t)strlen(first));
	CHECK(memcmp(two_buf[0], first, strlen(first)) == 0);
	CHECK_EQ(two_r[1], (ssize_t)strlen(second));
	CHECK(memcmp(two_buf[1], second, strlen(second)) == 0);
}

/* Everything is queued before the reader runs again. */
static void urgent_sender(void *arg)
{
	(void)arg;
	CHECK_EQ(send(urg_peer, "abc", 3, 0), 3);
	CHECK_EQ(send(urg_peer, "!", 1, MSG_OOB), 1);
	CHECK_EQ(send(urg_peer, "def", 3, 0), 3);
}

TEST(short_read_at_tcp_urgent_mark)
{
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;

	setup();
	lfd = listen_local(4, &lport);
	a.sin_port = htons((uint16_t)lport);
	urg_peer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(urg_peer >= 0);
	CHECK_EQ(connect(urg_peer, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(setsockopt(urg_peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	a_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(a_fd >= 0);
	CHECK_EQ(wire_net_init(&na, a_fd), 0);
	spawn("reader", two_reads, NULL);
	spawn("sender", urgent_sender, NULL);
	run();
	check_two_reads("abc", "def");
	close(urg_peer);
	close(lfd);
	wire_net_close(&na);
}

/*
 * A Unix-socket read stops after a message that carries SCM_RIGHTS, with
 * the next message queued. The next read returns it.
 */
static void send_with_fd(int sock, const char *data, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)data, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.space,
			   .msg_controllen = sizeof(ctl.space)};
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	CHECK_EQ(sendmsg(sock, &m, 0), (ssize_t)len);
}

/* Both messages are queued before the reader runs again. */
static void scm_sender(void *arg)
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)arg;
	CHECK(devnull >= 0);
	send_with_fd(sp[1], "abc", 3, devnull);
	CHECK_EQ(write(sp[1], "def", 3), 3);
	close(devnull);
}

TEST(short_read_at_scm_rights_message)
{
	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	spawn("reader", two_reads, NULL);
	spawn("sender", scm_sender, NULL);
	run();
	check_two_reads("abc", "def");
	close(sp[1]);
	wire_net_close(&na);
}

/* ---- a Unix socket whose backlog is full ---- */

static struct sockaddr_un un_addr;
static socklen_t un_len;
static int un_listener, un_fill[8], un_nfill;
static int un_res, un_err;
static int64_t un_ms;

/* Listen on an abstract Unix address with a backlog of 0, then fill it. */
static void unix_backlog_full(void)
{
	un_listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(un_listener >= 0);
	memset(&un_addr, 0, sizeof(un_addr));
	un_addr.sun_family = AF_UNIX;
	snprintf(un_addr.sun_path + 1, sizeof(un_addr.sun_path) - 1, "libwire-test-%d",
		 (int)getpid());
	un_len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un_addr.sun_path + 1));
	CHECK_EQ(bind(un_listener, (struct sockaddr *)&un_addr, un_len), 0);
	CHECK_EQ(listen(un_listener, 0), 0);
	for (un_nfill = 0; un_nfill < 8; un_nfill++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		CHECK(fd >= 0);
		if (connect(fd, (struct sockaddr *)&un_addr, un_len) != 0) {
			CHECK_EQ(errno, EAGAIN);
			close(fd);
			break;
		}
		un_fill[un_nfill] = fd;
	}
	CHECK(un_nfill > 0 && un_nfill < 8);
}

static void unix_connector(void *arg)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int64_t t0;

	CHECK(fd >= 0);
	CHECK_EQ(wire_net_init(&nb, fd), 0);
	wire_net_set_timeout_ns(&nb, TEST_MS((int)(long)arg));
	t0 = test_now_ms();
	un_res = wire_net_connect(&nb, (struct sockaddr *)&un_addr, un_len);
	un_err = errno;
	un_ms = test_now_ms() - t0;
}

/* Makes room in the backlog after 30 ms. */
static void unix_late_acceptor(void *arg)
{
	int fd;

	(void)arg;
	wire_fd_wait_msec(30);
	fd = accept4(un_listener, NULL, NULL, SOCK_CLOEXEC);
	CHECK(fd >= 0);
	close(fd);
}

TEST(unix_connect_waits_for_room_in_the_backlog)
{
	setup();
	unix_backlog_full();
	spawn("connector", unix_connector, (void *)(long)(2000 * test_time_scale()));
	spawn("acceptor", unix_late_acceptor, NULL);
	run();
	CHECK_EQ(un_res, 0);
	CHECK_RANGE(un_ms, 25, 30 + 500 * test_time_scale());
	wire_net_close(&nb);
	for (int i = 0; i < un_nfill; i++)
		close(un_fill[i]);
	close(un_listener);
}

TEST(unix_connect_backlog_full_times_out)
{
	setup();
	unix_backlog_full();
	spawn("connector", unix_connector, (void *)100L);
	run();
	CHECK_EQ(un_res, -1);
	CHECK_EQ(un_err, ETIMEDOUT);
	CHECK_RANGE(un_ms, 99, 100 + 200 * test_time_scale());
	wire_net_close(&nb);
	for (int i = 0; i < un_nfill; i++)
		close(un_fill[i]);
	close(un_listener);
}

/* ---- a timeout counts over all the waits of a call ---- */

/*
 * The peer sends a byte every 30 ms, each well within the timeout of 100
 * ms, but ten take 300: read_full and read_min fail with ETIMEDOUT at the
 * call's deadline, not at the end of the data.
 */
static int trickle_stop;

static void trickle_peer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20 && !trickle_stop; i++) {
		wire_fd_wait_msec(30);
		if (!trickle_stop)
			CHECK_EQ(write(sp[1], "t", 1), 1);
	}
}

static void trickle_reader(void *arg)
{
	char buf[10];
	int64_t t0 = test_now_ms();

	wire_net_set_timeout_ns(&na, TEST_MS(100));
	if (arg)
		r_timed = wire_net_read_min(&na, buf, 10, sizeof(buf));
	else
		r_timed = wire_net_read_full(&na, buf, sizeof(buf));
	e_timed = errno;
	t_timed = test_now_ms() - t0;
	trickle_stop = 1;
}

static void run_trickle(void *min)
{
	setup();
	trickle_stop = 0;
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	spawn("reader", trickle_reader, min);
	spawn("peer", trickle_peer, NULL);
	run();
	CHECK_EQ(r_timed, -1);
	CHECK_EQ(e_timed, ETIMEDOUT);
	CHECK_RANGE(t_timed, 99, 100 + 150 * test_time_scale());
	close(sp[1]);
	wire_net_close(&na);
}

TEST(read_full_timeout_over_several_waits)
{
	run_trickle(NULL);
}

TEST(read_min_timeout_over_several_waits)
{
	run_trickle((void *)1);
}

/* The peer drains 16 KiB every 20 ms: a 16 MiB write still times out at its deadline. */
static _Atomic int drainer_stop;

static void *slow_drainer(void *arg)
{
	static char junk[16384];

	(void)arg;
	while (!atomic_load(&drainer_stop)) {
		usleep(20000);
		if (read(sp[1], junk, sizeof(junk)) < 0 && errno != EAGAIN)
			break;
	}
	return NULL;
}

static void slow_writer(void *arg)
{
	static char big[16 << 20];
	int64_t t0 = test_now_ms();

	(void)arg;
	wire_net_set_timeout_ns(&na, TEST_MS(100));
	r_timed = wire_net_write(&na, big, sizeof(big));
	e_timed = errno;
	t_timed = test_now_ms() - t0;
}

TEST(write_timeout_over_several_waits)
{
	pthread_t t;

	setup();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	CHECK_EQ(fcntl(sp[1], F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(wire_net_init(&na, sp[0]), 0);
	CHECK_EQ(pthread_create(&t, NULL, slow_drainer, NULL), 0);
	spawn("writer", slow_writer, NULL);
	run();
	atomic_store(&drainer_stop, 1);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(r_timed, -1);
	CHECK_EQ(e_timed, ETIMEDOUT);
	CHECK_RANGE(t_timed, 99, 100 + 150 * test_time_scale());
	close(sp[1]);
	wire_net_close(&na);
}

/* ---- wire_net_connect_tcp: its overall limit, and its documented errors ---- */

static int fill_fds[16], nfill;

/* Fill the accept queue of the listener on lport: later handshakes hang. */
static void fill_accept_queue(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)lport),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	for (nfill = 0; nfill < 4; nfill++) {
		fill_fds[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		CHECK(fill_fds[nfill] >= 0);
		CHECK(connect(fill_fds[nfill], (struct sockaddr *)&a, sizeof(a)) == 0 ||
		      errno == EINPROGRESS);
	}
	usleep(20000); /* the handshakes the queue takes are done */
}

static void tcp_connector(void *arg)
{
	int64_t t0 = test_now_ms();

	c_res = wire_net_connect_tcp(&nb, "127.0.0.1", port_str, TEST_MS((int)(long)arg));
	c_err = errno;
	t_timed = test_now_ms() - t0;
}

TEST(connect_tcp_overall_limit)
{
	setup();
	lfd = listen_local(0, &lport);
	snprintf(port_str, sizeof(port_str), "%d", lport);
	fill_accept_queue();
	spawn("connector", tcp_connector, (void *)150L);
	run();
	CHECK_EQ(c_res, -1);
	CHECK_EQ(c_err, ETIMEDOUT);
	CHECK_RANGE(t_timed, 149, 150 + 200 * test_time_scale());
	CHECK_EQ(nb.fds.fd, -1); /* nothing left in @net */
	for (int i = 0; i < nfill; i++)
		close(fill_fds[i]);
	close(lfd);
}

static void tcp_connector_fault(void *arg)
{
	int err = (int)(long)arg;

	wire__fault_set(err == EMFILE ? WIRE_SYS_SOCKET : WIRE_SYS_GETADDRINFO, 1, err);
	c_res = wire_net_connect_tcp(&nb, "127.0.0.1", "80", TEST_MS(1000));
	c_err = errno;
	wire__fault_clear();
}

TEST(connect_tcp_documented_errors)
{
	static const int errs[] = {EAGAIN, ENOMEM, ENOENT, EINVAL, EIO, EMFILE};

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		setup();
		spawn("connector", tcp_connector_fault, (void *)(long)errs[i]);
		run();
		CHECK_EQ(c_res, -1);
		CHECK_EQ(c_err, errs[i]);
		CHECK_EQ(nb.fds.fd, -1);
	}
}

/* ---- accept and connect: the documented errors ---- */

static int acc_errs[2], conn_errs[2];

static void accept_faults(void *arg)
{
	(void)arg;
	wire__fault_set(WIRE_SYS_ACCEPT, 1, EMFILE);
	CHECK_EQ(wire_net_accept(&nl, NULL, NULL), -1);
	acc_errs[0] = errno;
	wire__fault_set(WIRE_SYS_ACCEPT, 1, ECONNABORTED);
	CHECK_EQ(wire_net_accept(&nl, NULL, NULL), -1);
	acc_errs[1] = errno;
	wire__fault_clear();
}

TEST(accept_documented_errors)
{
	setup();
	lfd = listen_local(4, &lport);
	CHECK_EQ(wire_net_init(&nl, lfd), 0);
	spawn("acceptor", accept_faults, NULL);
	run();
	CHECK_EQ(acc_errs[0], EMFILE);
	CHECK_EQ(acc_errs[1], ECONNABORTED);
	wire_net_close(&nl);
}

static void connect_errors(void *arg)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)lport),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	wire_net_t c;

	(void)arg;
	/* Nobody listens on the port any more. */
	CHECK_EQ(wire_net_init(&c, socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), 0);
	wire_net_set_timeout_ns(&c, TEST_MS(1000 * test_time_scale()));
	CHECK_EQ(wire_net_connect(&c, (struct sockaddr *)&a, sizeof(a)), -1);
	conn_errs[0] = errno;
	wire_net_close(&c);
	CHECK_EQ(wire_net_init(&c, socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), 0);
	wire__fault_set(WIRE_SYS_CONNECT, 1, ENETUNREACH);
	CHECK_EQ(wire_net_connect(&c, (struct sockaddr *)&a, sizeof(a)), -1);
	conn_errs[1] = errno;
	wire__fault_clear();
	wire_net_close(&c);
}

TEST(connect_documented_errors)
{
	setup();
	lfd = listen_local(4, &lport);
	close(lfd); /* the port is free now: a connect is refused */
	spawn("connector", connect_errors, NULL);
	run();
	CHECK_EQ(conn_errs[0], ECONNREFUSED);
	CHECK_EQ(conn_errs[1], ENETUNREACH);
}
