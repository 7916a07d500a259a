/*
 * fd ping-pong: two wires exchange one byte over a socketpair through the
 * fd layer (each write wakes the peer through epoll); ns per round trip.
 * Baseline in the same run: two threads doing blocking read/write
 * ping-pong over a socketpair, both pinned to the same CPU as the wires
 * run on one.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "wire.h"
#include "wire_fd.h"

#define ROUNDS 100000
#define STACK  (64 * 1024)

static int sp[2];

static void pinger(void *arg)
{
	int side = (int)(long)arg;
	wire_fd_state_t st;
	char c = 'x', buf[16];

	wire_fd_mode_init(&st, sp[side]);
	wire_fd_mode_read(&st);
	for (int i = 0; i < ROUNDS; i++) {
		if (side == 0 && write(st.fd, &c, 1) != 1)
			abort();
		/* A short read drained the socket: the next wait cannot miss data. */
		while (read(st.fd, buf, sizeof(buf)) < 0) {
			if (errno != EAGAIN)
				abort();
			wire_fd_wait(&st);
		}
		if (side == 1 && write(st.fd, &c, 1) != 1)
			abort();
	}
	wire_fd_close(&st);
}

static double wires_rtt_ns(void)
{
	static char s0[STACK], s1[STACK];
	static wire_thread_t t;
	static wire_t a, b;
	int64_t t0;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp);
	wire_thread_init(&t);
	wire_fd_init();
	wire_init(&a, "ping", pinger, (void *)0L, s0, STACK);
	wire_init(&b, "pong", pinger, (void *)1L, s1, STACK);
	t0 = bench_now_ns();
	wire_thread_run();
	return (double)(bench_now_ns() - t0) / ROUNDS;
}

static void pin_here(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set)) {
			CPU_ZERO(&set);
			CPU_SET(i, &set);
			sched_setaffinity(0, sizeof(set), &set);
			return;
		}
}

static void *pong_thread(void *arg)
{
	char c;
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		if (read(sp[1], &c, 1) != 1 || write(sp[1], &c, 1) != 1)
			abort();
	}
	return NULL;
}

static double threads_rtt_ns(void)
{
	pthread_t th;
	int64_t t0;
	char c = 'x';

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
	pthread_create(&th, NULL, pong_thread, NULL);
	t0 = bench_now_ns();
	for (int i = 0; i < ROUNDS; i++) {
		if (write(sp[0], &c, 1) != 1 || read(sp[0], &c, 1) != 1)
			abort();
	}
	pthread_join(th, NULL);
	close(sp[0]);
	close(sp[1]);
	return (double)(bench_now_ns() - t0) / ROUNDS;
}

int main(void)
{
	int runs = bench_runs(5);
	double w[16], t[16], mw, mt;

	if (runs > 16)
		runs = 16;
	pin_here(); /* threads created later inherit the CPU */
	for (int i = 0; i < runs; i++) {
		w[i] = wires_rtt_ns();
		t[i] = threads_rtt_ns();
	}
	mw = bench_median(w, runs);
	mt = bench_median(t, runs);
	printf("X fd ping-pong: %.0f ns/round trip (two threads blocking on a socketpair, one CPU: "
	       "%.0f ns, ratio %.2fx; %d runs of %d round trips)\n",
	       mw, mt, mw / mt, runs, ROUNDS);
	bench_row("-", "fd ping-pong over a socketpair",
		  "%.0f ns|two threads blocking in read, one CPU: %.0f ns (%.2fx)", mw, mt,
		  mw / mt);
	return 0;
}
