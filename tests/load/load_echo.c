/*
 * Load test: the echo server of examples/wire_echo.c holds 10,000
 * concurrent TCP connections on 127.0.0.1, and every byte sent on each of
 * them comes back intact.
 *
 * The server runs in a forked child process (the example's own code,
 * compiled in with WIRE_ECHO_NO_MAIN as bench/bench_w5.c does) on a
 * listening socket the test made, so no port is guessed. The client is
 * libwire too: one wire per connection on one scheduler. Connects are
 * made at most 512 at a time (the listen backlog is finite); every wire
 * then waits at a barrier until all 10,000 are connected, the test checks
 * that the server process holds them all open at once, and then each
 * connection exchanges a few messages of random sizes (up to 16 KiB, so
 * some need several reads and writes), checked byte by byte, and closes.
 *
 * The soft RLIMIT_NOFILE is raised to what 10,000 connections need (both
 * processes inherit it); the test is skipped, saying so, when the hard
 * limit is too low. Registered as CTest `load.echo_10k` (label "load") in
 * native builds without a test wrapper: under valgrind or qemu it would
 * take minutes.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define WIRE_ECHO_NO_MAIN
#include "../../examples/wire_echo.c"

#include "wire_semaphore.h"
#include "test.h"

#define CONNS	   10000
#define CONNECTING 512
#define EXCHANGES  3
#define MAX_MSG	   (16 * 1024)
#define STACK	   (32 * 1024)
#define FD_SLACK   64

static wire_thread_t client;
static wire_t *wires;
static char *stacks;
static uint8_t pattern[MAX_MSG + 256];
static wire_sem_t connect_slots, gate;
static unsigned connected, finished;
static uint64_t bytes_checked;
static struct sockaddr_in server_addr;
static pid_t server_pid;
static int server_fds_at_barrier;

static int count_fds_of(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	CHECK(d != NULL);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void write_all(wire_fd_state_t *st, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t w = write(st->fd, buf, len);
		if (w > 0) {
			buf += w;
			len -= (size_t)w;
		} else {
			CHECK(w < 0 && errno == EAGAIN);
			CHECK_EQ(wire_fd_wait_write(st), 0);
		}
	}
}

static void read_check(wire_fd_state_t *st, const uint8_t *want, size_t len)
{
	uint8_t buf[4096];

	while (len) {
		ssize_t r = read(st->fd, buf, len < sizeof(buf) ? len : sizeof(buf));
		if (r > 0) {
			if (memcmp(buf, want, (size_t)r) != 0)
				test_fail(__FILE__, __LINE__, "connection %s: echoed bytes differ",
					  wire_get_name());
			want += r;
			len -= (size_t)r;
			bytes_checked += (uint64_t)r;
		} else if (r == 0) {
			test_fail(__FILE__, __LINE__, "connection %s: closed with %zu bytes due",
				  wire_get_name(), len);
		} else {
			CHECK_EQ(errno, EAGAIN);
			CHECK_EQ(wire_fd_wait_read(st), 0);
		}
	}
}

static void connection(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (i + 1);
	wire_fd_state_t st;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	wire_sem_take(&connect_slots);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	wire_fd_mode_init(&st, fd);
	CHECK_EQ(wire_fd_mode_write(&st), 0);
	if (connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) != 0) {
		CHECK_EQ(errno, EINPROGRESS);
		CHECK_EQ(wire_fd_wait_write(&st), 0);
		CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
		if (err)
			test_fail(__FILE__, __LINE__, "connection %u: connect: %s", i,
				  strerror(err));
	}
	wire_sem_release(&connect_slots);

	/* Barrier: nobody sends before all connections are open. */
	if (++connected == CONNS) {
		/* Connected means queued in the server's backlog: wait until the
		 * server has accepted them all. */
		int64_t end = test_now_ms() + 10000 * test_time_scale();
		while ((server_fds_at_barrier = count_fds_of(server_pid)) < CONNS &&
		       test_now_ms() < end)
			wire_sleep_ns(10 * 1000000);
		for (unsigned k = 1; k < CONNS; k++)
			wire_sem_release(&gate);
	} else {
		wire_sem_take(&gate);
	}

	CHECK_EQ(wire_fd_mode_read(&st), 0);
	for (unsigned k = 0; k < EXCHANGES; k++) {
		size_t n, off;
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		n = 1 + (size_t)((rng >> 33) % MAX_MSG);
		off = (size_t)((rng >> 20) % 256);
		write_all(&st, pattern + off, n);
		read_check(&st, pattern + off, n);
	}
	CHECK_EQ(wire_fd_close(&st), 0);
	finished++;
}

/* The example's own listening socket, on a free port of 127.0.0.1. */
static int listen_socket(void)
{
	socklen_t len = sizeof(server_addr);
	int fd = echo_listen(0);

	CHECK(fd >= 0);
	CHECK_EQ(getsockname(fd, (struct sockaddr *)&server_addr, &len), 0);
	CHECK_EQ(ntohl(server_addr.sin_addr.s_addr), INADDR_LOOPBACK);
	return fd;
}

TEST(echo_10k)
{
	struct rlimit rl;
	rlim_t need = CONNS + FD_SLACK;
	int lfd, status;
	int64_t t0;
	char name[CONNS][12];

	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		char why[160];
		snprintf(why, sizeof(why),
			 "RLIMIT_NOFILE hard limit %llu is below the %llu fds 10,000 connections "
			 "need",
			 (unsigned long long)rl.rlim_max, (unsigned long long)need);
		test_skip(why);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur < need) {
		rl.rlim_cur = need;
		CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t j = 0; j < sizeof(pattern); j++)
		pattern[j] = (uint8_t)(j * 131 + (j >> 8) * 7 + 1);

	lfd = listen_socket();
	fflush(NULL);
	server_pid = fork();
	CHECK(server_pid >= 0);
	if (server_pid == 0) {
		echo_serve(lfd, CONNS + 16, 0); /* returns only on failure */
		perror("load_echo: server");
		_exit(1);
	}
	close(lfd);

	stacks = mmap(NULL, (size_t)CONNS * STACK, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(stacks != MAP_FAILED);
	wires = calloc(CONNS, sizeof(*wires));
	CHECK(wires != NULL);
	wire_thread_init(&client);
	wire_thread_set_deadlock_report(1);
	CHECK_EQ(wire_fd_init(), 0);
	wire_sem_init(&connect_slots, CONNECTING);
	wire_sem_init(&gate, 0);
	for (unsigned i = 0; i < CONNS; i++) {
		snprintf(name[i], sizeof(name[i]), "c%u", i);
		CHECK(wire_init(&wires[i], name[i], connection, (void *)(uintptr_t)i,
				stacks + (size_t)i * STACK, STACK) != NULL);
	}
	t0 = test_now_ms();
	wire_thread_run();
	printf("load_echo: %u connections held at once (server had %d fds open), %llu bytes "
	       "echoed and checked in %lld ms\n",
	       CONNS, server_fds_at_barrier, (unsigned long long)bytes_checked,
	       (long long)(test_now_ms() - t0));
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK_EQ(connected, CONNS);
	CHECK_EQ(finished, CONNS);
	/* The server held every connection at once: one fd each, beside its own. */
	CHECK(server_fds_at_barrier >= CONNS);
	/* It is still serving. */
	CHECK_EQ(waitpid(server_pid, &status, WNOHANG), 0);
	kill(server_pid, SIGKILL);
	CHECK_EQ(waitpid(server_pid, &status, 0), server_pid);
	munmap(stacks, (size_t)CONNS * STACK);
	free(wires);
}
