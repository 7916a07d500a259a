/*
 * Channel throughput and select: one producer sends N pointers through a
 * 64-slot buffered channel to one consumer (ns per message), and a
 * two-channel select round trip: a wire sends a request on a rendezvous
 * channel and waits in wire_select() for the reply on either of two
 * channels, which its peer answers in turn (ns per round trip). Baseline
 * in the same run: the plain rendezvous round trip of W3.
 */
#include <stdint.h>

#include "bench_switch.h"
#include "wire_channel.h"
#include "wire_select.h"

#define N     4000000 /* messages per throughput run */
#define ROUND 1000000 /* round trips per select run */
#define SLOTS 64

static wire_channel_t buf, req, rep[2];
static void *slots[SLOTS];

static void producer(void *arg)
{
	long n = (long)arg;

	for (long i = 1; i <= n; i++)
		wire_channel_send(&buf, (void *)(uintptr_t)i);
}

static void consumer(void *arg)
{
	long n = (long)arg;
	uintptr_t sum = 0;
	void *m;

	for (long i = 0; i < n; i++) {
		wire_channel_recv_block(&buf, &m);
		sum += (uintptr_t)m;
	}
	if (sum != (uintptr_t)n * (uintptr_t)(n + 1) / 2)
		abort();
}

static double buffered_ns(void)
{
	wire_channel_init_buffered(&buf, slots, SLOTS);
	return (double)bench_run_two(producer, consumer, (void *)(long)N) / N;
}

static void selector(void *arg)
{
	long n = (long)arg;

	while (n--) {
		wire_select_case_t c[2] = {{.op = WIRE_SELECT_RECV, .chan = &rep[0]},
					   {.op = WIRE_SELECT_RECV, .chan = &rep[1]}};

		wire_channel_send(&req, (void *)(uintptr_t)(n & 1));
		if (wire_select(c, 2, -1) != (int)(n & 1))
			abort();
	}
}

static void answerer(void *arg)
{
	long n = (long)arg;
	void *m;

	while (n--) {
		wire_channel_recv_block(&req, &m);
		wire_channel_send(&rep[(uintptr_t)m], m);
	}
}

static double select_ns(void)
{
	wire_channel_init(&req);
	wire_channel_init(&rep[0]);
	wire_channel_init(&rep[1]);
	return (double)bench_run_two(selector, answerer, (void *)(long)ROUND) / ROUND;
}

int main(void)
{
	int runs = bench_runs(7);
	double b[32], s[32], r[32], mb, ms, mr;

	if (runs > 32)
		runs = 32;
	for (int i = 0; i < runs; i++) {
		b[i] = buffered_ns();
		s[i] = select_ns();
		r[i] = bench_round_trip_ns(ROUND);
	}
	mb = bench_median(b, runs);
	ms = bench_median(s, runs);
	mr = bench_median(r, runs);
	printf("X chan: buffered channel (%d slots, 1 producer, 1 consumer) %.2f ns/message "
	       "(%.1f M messages/s); two-channel select round trip %.2f ns (plain rendezvous "
	       "round trip %.2f ns, ratio %.2fx; %d runs)\n",
	       SLOTS, mb, 1000.0 / mb, ms, mr, ms / mr, runs);
	bench_row("buffered", "buffered channel, 64 slots, 1 producer, 1 consumer",
		  "%.1f ns/message|", mb);
	bench_row("select", "two-channel select round trip",
		  "%.1f ns|plain rendezvous round trip %.1f ns (%.2fx)", ms, mr, ms / mr);
	return 0;
}
