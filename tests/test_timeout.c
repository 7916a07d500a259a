/* Tests of wire_timeout.h: timeouts on the scheduler's timers. */
#include <errno.h>

#include "wire.h"
#include "wire_fd.h"
#include "wire_timeout.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
static char stacks[4][STACK];
static wire_t wires[4];
static int nwires;

static void spawn(void (*fn)(void *), void *arg)
{
	CHECK(wire_init(&wires[nwires], "w", fn, arg, stacks[nwires], STACK));
	nwires++;
}

static wire_wait_t other;
static wire_timeout_t tout;
static int result;
static int64_t elapsed_ms;
static int stopped = -1;

static void waiter(void *arg)
{
	int msec = (int)(long)arg;
	int64_t t0 = test_now_ms();

	CHECK_EQ(wire_timeout_reset(&tout, msec), 0);
	result = wire_timeout_wait(&other, &tout);
	elapsed_ms = test_now_ms() - t0;
	/* Both waits are unchained on return. */
	CHECK(other.list == NULL);
	CHECK(wire_timeout_wait_get(&tout)->list == NULL);
	if (result == 1)
		stopped = wire_timeout_stop(&tout);
}

static void trigger_later(void *arg)
{
	wire_sleep_ns((int64_t)(long)arg * 1000000);
	CHECK_EQ(wire_wait_resume(&other), 1);
}

static void setup(void)
{
	wire_thread_init(&thread);
	wire_wait_init(&other);
	wire_timeout_init(&tout);
}

TEST(timeout_expires)
{
	setup();
	spawn(waiter, (void *)30L);
	wire_thread_run();
	CHECK_EQ(result, 2);
	CHECK_RANGE(elapsed_ms, 30, 30 + 40 * test_time_scale());
	CHECK_EQ(wire_timeout_stop(&tout), 0); /* it had fired */
	CHECK(wire_timeout_wait_get(&tout)->triggered);
}

TEST(wait_wins_before_timeout)
{
	int64_t t0;

	setup();
	spawn(waiter, (void *)1000L);
	spawn(trigger_later, (void *)10L);
	t0 = test_now_ms();
	wire_thread_run();
	CHECK_EQ(result, 1);
	CHECK_EQ(stopped, 1); /* still armed when the wait won */
	CHECK_RANGE(elapsed_ms, 10, 10 + 40 * test_time_scale());
	/* Stopped: wire_thread_run() did not wait for the second. */
	CHECK_RANGE(test_now_ms() - t0, 10, 10 + 100 * test_time_scale());
	CHECK(!wire_timeout_wait_get(&tout)->triggered);
}

TEST(both_triggered_returns_one)
{
	setup();
	CHECK_EQ(wire_wait_resume(&other), 1);
	spawn(waiter, (void *)1L);
	wire_thread_run();
	CHECK_EQ(result, 1);
	CHECK_RANGE(elapsed_ms, 0, 10 * test_time_scale());
}

static void rearm_waiter(void *arg)
{
	int64_t t0 = test_now_ms();
	(void)arg;
	CHECK_EQ(wire_timeout_reset(&tout, 20), 0);
	CHECK_EQ(wire_timeout_reset(&tout, 60), 0); /* moves it */
	result = wire_timeout_wait(&other, &tout);
	elapsed_ms = test_now_ms() - t0;
	/* After it fired, a reset re-arms it and clears the trigger. */
	CHECK_EQ(wire_timeout_reset(&tout, 20), 0);
	CHECK(!wire_timeout_wait_get(&tout)->triggered);
	t0 = test_now_ms();
	CHECK_EQ(wire_timeout_wait(&other, &tout), 2);
	CHECK_RANGE(test_now_ms() - t0, 20, 20 + 40 * test_time_scale());
}

TEST(reset_moves_and_rearms)
{
	setup();
	spawn(rearm_waiter, NULL);
	wire_thread_run();
	CHECK_EQ(result, 2);
	CHECK_RANGE(elapsed_ms, 60, 60 + 40 * test_time_scale());
}

static void disarmed_waiter(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_timeout_reset(&tout, 20), 0);
	CHECK_EQ(wire_timeout_reset(&tout, 0), 0); /* disarms */
	result = wire_timeout_wait(&other, &tout);
}

TEST(reset_zero_disarms)
{
	int64_t t0;

	setup();
	spawn(disarmed_waiter, NULL);
	spawn(trigger_later, (void *)60L);
	t0 = test_now_ms();
	wire_thread_run();
	/* The timeout never fired: the other wait won at 60 ms. */
	CHECK_EQ(result, 1);
	CHECK_RANGE(test_now_ms() - t0, 60, 60 + 40 * test_time_scale());
	CHECK_EQ(wire_timeout_stop(&tout), 0);
	CHECK(!wire_timeout_wait_get(&tout)->triggered);
}

TEST(stop_keeps_it_from_firing)
{
	setup();
	CHECK_EQ(wire_timeout_reset(&tout, 10), 0);
	CHECK_EQ(wire_timeout_stop(&tout), 1);
	CHECK_EQ(wire_timeout_stop(&tout), 0);
	CHECK_EQ(thread.num_timers, 0);
	wire_thread_run(); /* nothing armed: returns at once */
	CHECK(!wire_timeout_wait_get(&tout)->triggered);
}

TEST(bad_input)
{
	wire_timeout_init(&tout);
	CHECK_EQ(wire_timeout_reset(&tout, 10), -1); /* no scheduler */
	CHECK_EQ(errno, EINVAL);
	setup();
	errno = 0;
	CHECK_EQ(wire_timeout_reset(&tout, -1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(thread.num_timers, 0);
}

/* Many timeouts in one scheduler fire in deadline order. */
static char order[8];
static int order_len;

static void ordered(void *arg)
{
	int rank = (int)(long)arg;
	wire_wait_t w;
	wire_timeout_t t;

	wire_wait_init(&w);
	wire_timeout_init(&t);
	CHECK_EQ(wire_timeout_reset(&t, rank * 10 * test_time_scale()), 0);
	CHECK_EQ(wire_timeout_wait(&w, &t), 2);
	order[order_len++] = (char)('0' + rank);
}

TEST(timeouts_fire_in_deadline_order)
{
	setup();
	spawn(ordered, (void *)4L);
	spawn(ordered, (void *)1L);
	spawn(ordered, (void *)3L);
	spawn(ordered, (void *)2L);
	wire_thread_run();
	CHECK_STR_EQ(order, "1234");
}

/* The original library's callers check the result. */
TEST(init_returns_zero)
{
	wire_timeout_t t;

	if (wire_timeout_init(&t) < 0)
		CHECK(0);
	CHECK_EQ(wire_timeout_init(&t), 0);
	errno = 0;
	CHECK_EQ(wire_timeout_init(NULL), -1);
	CHECK_EQ(errno, EINVAL);
}

/*
 * A deadline that has passed stays passed: chained again after a wait
 * returned it, an expired timeout still returns at once, until it is reset.
 */
static int lasting_results[3];

static void lasting_waiter(void *arg)
{
	wire_timeout_t t;
	wire_wait_t w;
	wire_wait_list_t wl;

	(void)arg;
	CHECK_EQ(wire_timeout_init(&t), 0);
	wire_wait_init(&w);
	CHECK_EQ(wire_timeout_reset(&t, 5), 0);
	wire_fd_wait_msec(20); /* it expires before it is chained */
	for (int i = 0; i < 2; i++) {
		wire_wait_list_init(&wl);
		wire_wait_chain(&wl, &w);
		wire_wait_chain(&wl, wire_timeout_wait_get(&t));
		lasting_results[i] = wire_list_wait(&wl) == wire_timeout_wait_get(&t);
		wire_wait_unchain(&w);
		wire_wait_unchain(wire_timeout_wait_get(&t));
	}
	/* Reset: it blocks until the new deadline. */
	CHECK_EQ(wire_timeout_reset(&t, 5), 0);
	lasting_results[2] = wire_timeout_wait(&w, &t);
}

TEST(expired_timeout_stays_triggered_when_chained_again)
{
	wire_thread_init(&thread);
	spawn(lasting_waiter, NULL);
	wire_thread_run();
	CHECK_EQ(lasting_results[0], 1);
	CHECK_EQ(lasting_results[1], 1);
	CHECK_EQ(lasting_results[2], 2);
}
