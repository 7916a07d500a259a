/* Tests of the scheduler layer (wire.h). */
// TEST_LABELS: threads
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "wire.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
static void yield_twice(void *arg)
{
	char c = *(char *)arg;
	test_mark(c);
	wire_yield();
	test_mark(c);
	wire_yield();
	test_mark(c);
}

TEST(fifo_three_yielders)
{
	static char stacks[3][STACK];
	static wire_t w[3];
	static char names[3] = {'A', 'B', 'C'};

	wire_thread_init(&thread);
	for (int i = 0; i < 3; i++)
		CHECK_PTR_EQ(wire_init(&w[i], "y", yield_twice, &names[i], stacks[i], STACK),
			     &w[i]);
	CHECK_STR_EQ(test_trace, ""); /* wire_init never switches */
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "ABCABCABC");
	CHECK_EQ(wire_thread_suspended(), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(w[i].state, WIRE_DONE);
}

static wire_t sleeper_wire, waker_wire;

static void sleeper(void *arg)
{
	(void)arg;
	test_mark('s');
	wire_suspend();
	test_mark('S');
}

static void waker(void *arg)
{
	(void)arg;
	test_mark('w');
	CHECK_EQ(sleeper_wire.state, WIRE_SUSPENDED);
	wire_resume(&sleeper_wire);
	CHECK_EQ(sleeper_wire.state, WIRE_READY);
	test_mark('W');
	wire_yield();
	test_mark('x');
}

TEST(suspend_resume_handoff)
{
	static char s1[STACK], s2[STACK];

	wire_thread_init(&thread);
	wire_init(&sleeper_wire, "sleeper", sleeper, NULL, s1, STACK);
	wire_init(&waker_wire, "waker", waker, NULL, s2, STACK);
	wire_thread_run();
	/* The resumed sleeper runs when the waker yields, then the waker ends. */
	CHECK_STR_EQ(test_trace, "swWSx");
}

static wire_t rw[3];

static void resume_ready_self_and_others(void *arg)
{
	(void)arg;
	/* rw[1] and rw[2] are ready: resuming them must not move them. */
	wire_resume(&rw[2]);
	wire_resume(&rw[1]);
	wire_resume(&rw[0]); /* running: no-op */
	CHECK_EQ(rw[0].state, WIRE_RUNNING);
	test_mark('0');
	wire_yield();
	test_mark('0');
}

static void plain_marker(void *arg)
{
	test_mark(*(char *)arg);
	wire_yield();
	test_mark(*(char *)arg);
}

TEST(resume_ready_or_running_is_noop)
{
	static char stacks[3][STACK];
	static char n1 = '1', n2 = '2';

	wire_thread_init(&thread);
	wire_init(&rw[0], "r0", resume_ready_self_and_others, NULL, stacks[0], STACK);
	wire_init(&rw[1], "r1", plain_marker, &n1, stacks[1], STACK);
	wire_init(&rw[2], "r2", plain_marker, &n2, stacks[2], STACK);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "012012");
}

static wire_t dbl_target;
static int dbl_runs;

static void dbl_sleeper(void *arg)
{
	(void)arg;
	dbl_runs++;
	wire_suspend();
	dbl_runs++;
	test_mark('t');
}

static void dbl_waker(void *arg)
{
	(void)arg;
	wire_resume(&dbl_target);
	wire_resume(&dbl_target); /* second resume: already ready, no-op */
	test_mark('w');
	wire_yield();
	test_mark('w');
	wire_yield();
	test_mark('w');
}

TEST(double_resume_runs_once)
{
	static char s1[STACK], s2[STACK];
	static wire_t waker_w;

	wire_thread_init(&thread);
	wire_init(&dbl_target, "target", dbl_sleeper, NULL, s1, STACK);
	wire_init(&waker_w, "waker", dbl_waker, NULL, s2, STACK);
	wire_thread_run();
	CHECK_EQ(dbl_runs, 2);
	CHECK_STR_EQ(test_trace, "wtww");
	CHECK_EQ(dbl_target.state, WIRE_DONE);
	wire_resume(&dbl_target); /* done: changes nothing */
	CHECK_EQ(dbl_target.state, WIRE_DONE);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "wtww");
}

static void suspend_forever(void *arg)
{
	(void)arg;
	wire_suspend();
}

static void deadlock_child(void *arg)
{
	static char s1[STACK], s2[STACK];
	static wire_t a, b;

	wire_thread_init(&thread);
	if (arg)
		wire_thread_set_deadlock_report(1);
	wire_init(&a, "alpha", suspend_forever, NULL, s1, STACK);
	wire_init(&b, "beta", suspend_forever, NULL, s2, STACK);
	wire_thread_run();
	if (wire_thread_suspended() != 2)
		_exit(3);
	_exit(0);
}

TEST(deadlock_counted_and_reported)
{
	char err[4096];
	int status;

	unsetenv("WIRE_DEADLOCK_REPORT");
	status = test_run_child(deadlock_child, NULL, err, sizeof(err));
	CHECK(WIFEXITED(status));
	CHECK_EQ(test_exit_code(status), 0);
	CHECK_STR_EQ(err, ""); /* opt-in: silent by default */

	status = test_run_child(deadlock_child, (void *)1, err, sizeof(err));
	CHECK_EQ(test_exit_code(status), 0);
	CHECK(strstr(err, "deadlock") != NULL);
	CHECK(strstr(err, "2 suspended") != NULL);
	CHECK(strstr(err, "\"alpha\" suspended: wire_suspend, for ") != NULL);
	CHECK(strstr(err, "\"beta\" suspended: wire_suspend, for ") != NULL);

	setenv("WIRE_DEADLOCK_REPORT", "1", 1);
	status = test_run_child(deadlock_child, NULL, err, sizeof(err));
	CHECK_EQ(test_exit_code(status), 0);
	CHECK(strstr(err, "\"alpha\" suspended") != NULL);
}

static void late_report_child(void *arg)
{
	static char s1[STACK], s2[STACK], s3[STACK];
	static wire_t a, b, c;

	(void)arg;
	wire_thread_init(&thread);
	wire_init(&a, "early", suspend_forever, NULL, s1, STACK);
	wire_init(&b, "resumed", suspend_forever, NULL, s2, STACK);
	wire_thread_run();
	/* Suspended while the report was off: named all the same. */
	wire_thread_set_deadlock_report(1);
	wire_resume(&b); /* b then ends: no longer listed */
	wire_init(&c, "late", suspend_forever, NULL, s3, STACK);
	wire_thread_run();
	if (wire_thread_suspended() != 2)
		_exit(3);
	wire_resume(&c);
	wire_thread_report_suspended();
	_exit(0);
}

TEST(deadlock_report_names_every_suspended_wire)
{
	char err[4096];
	const char *second;
	int status;

	unsetenv("WIRE_DEADLOCK_REPORT");
	status = test_run_child(late_report_child, NULL, err, sizeof(err));
	CHECK(WIFEXITED(status));
	CHECK_EQ(test_exit_code(status), 0);
	/* At the second run's return: 'early' (suspended before the report
	 * was on) and 'late', in the order started; not the one that ended. */
	CHECK(strstr(err, "2 suspended wire(s)") != NULL);
	CHECK(strstr(err, "\"early\" suspended: wire_suspend") != NULL);
	CHECK(strstr(err, "\"late\" suspended: wire_suspend") != NULL);
	CHECK(strstr(err, "\"early\"") < strstr(err, "\"late\""));
	CHECK(strstr(err, "resumed") == NULL);
	/* After 'late' was resumed: 'early' alone; 'late' is ready, not listed. */
	second = strstr(err, "1 suspended wire(s)");
	CHECK(second != NULL);
	CHECK(strstr(second, "\"early\" suspended") != NULL);
	CHECK(strstr(second, "\"late\"") == NULL);
}

TEST(deadlocked_wires_resumable_by_second_run)
{
	static char s1[STACK];
	static wire_t a;

	wire_thread_init(&thread);
	wire_init(&a, "later", sleeper, NULL, s1, STACK);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "s");
	CHECK_EQ(wire_thread_suspended(), 1);
	wire_resume(&a);
	CHECK_EQ(wire_thread_suspended(), 0);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "sS");
	CHECK_EQ(a.state, WIRE_DONE);
}

static char child_stack[STACK];
static wire_t child_wire;

static void child_entry(void *arg)
{
	(void)arg;
	CHECK_STR_EQ(wire_get_name(), "child");
	CHECK_PTR_EQ(wire_get_current(), &child_wire);
	test_mark('c');
}

static void parent_entry(void *arg)
{
	(void)arg;
	CHECK_STR_EQ(wire_get_name(), "parent");
	CHECK_PTR_EQ(wire_init(&child_wire, "child", child_entry, NULL, child_stack, STACK),
		     &child_wire);
	test_mark('p'); /* the child has not run: wire_init only queues */
	wire_yield();
	test_mark('P');
}

TEST(init_from_inside_a_wire)
{
	static char s1[STACK];
	static wire_t p;

	wire_thread_init(&thread);
	CHECK(wire_get_current() == NULL);
	CHECK(wire_get_name() == NULL);
	wire_init(&p, "parent", parent_entry, NULL, s1, STACK);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "pcP");
}

static int reuse_count;
static wire_t reuse_wire;
static char reuse_stack[STACK];

static void reuse_entry(void *arg)
{
	(void)arg;
	reuse_count++;
	wire_yield();
}

static void reuser(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		wire_init(&reuse_wire, "reused", reuse_entry, NULL, reuse_stack, STACK);
		while (reuse_wire.state != WIRE_DONE)
			wire_yield();
	}
}

TEST(reuse_finished_wire_and_stack)
{
	static char s1[STACK];
	static wire_t r;

	wire_thread_init(&thread);
	wire_init(&r, "reuser", reuser, NULL, s1, STACK);
	wire_thread_run();
	CHECK_EQ(reuse_count, 100);
}

TEST(run_twice)
{
	static char stacks[3][STACK];
	static wire_t w[3];
	static char names[3] = {'A', 'B', 'C'};

	wire_thread_init(&thread);
	wire_thread_run(); /* nothing to do: returns at once */
	wire_init(&w[0], "a", yield_twice, &names[0], stacks[0], STACK);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "AAA");
	wire_init(&w[1], "b", yield_twice, &names[1], stacks[1], STACK);
	wire_init(&w[2], "c", yield_twice, &names[2], stacks[2], STACK);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "AAABCBCBC");
}

#define MANY	   10000
#define MANY_STACK 2048

static unsigned many_sum, many_order_ok = 1, many_next;
static unsigned many_n; /* MANY, fewer under ThreadSanitizer (8128 fibers at most) */

static void many_entry(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	if (i != many_next)
		many_order_ok = 0;
	many_next++;
	wire_suspend();
	many_sum += i;
}

static void many_waker(void *arg)
{
	wire_t *ws = arg;
	for (unsigned i = 0; i < many_n; i++)
		wire_resume(&ws[i]);
}

TEST(ten_thousand_wires_on_caller_memory)
{
	/* 2 KiB stacks: well above the minimum, small enough for 100k. */
	static char stacks[MANY][MANY_STACK] __attribute__((aligned(16)));
	static wire_t ws[MANY], waker_w;
	static char waker_stack[STACK];
	unsigned long expect = 0;

	many_n = test_under_tsan() ? 5000 : MANY;
	wire_thread_init(&thread);
	for (unsigned i = 0; i < many_n; i++) {
		CHECK(wire_init(&ws[i], "many", many_entry, (void *)(uintptr_t)i, stacks[i],
				MANY_STACK) != NULL);
		expect += i;
	}
	wire_init(&waker_w, "waker", many_waker, ws, waker_stack, STACK);
	wire_thread_run();
	CHECK(many_order_ok);
	CHECK_EQ(many_next, many_n);
	CHECK_EQ(many_sum, expect);
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void noop(void *arg)
{
	(void)arg;
}

TEST(init_bad_input)
{
	static char s[STACK];
	static wire_t w;

	errno = 0;
	CHECK(wire_init(&w, "x", noop, NULL, s, STACK) == NULL); /* no scheduler yet */
	CHECK_EQ(errno, EINVAL);
	wire_thread_init(&thread);
	errno = 0;
	CHECK(wire_init(NULL, "x", noop, NULL, s, STACK) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(wire_init(&w, "x", NULL, NULL, s, STACK) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(wire_init(&w, "x", noop, NULL, NULL, STACK) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(wire_init(&w, "x", noop, NULL, s, WIRE_STACK_MIN - 1) == NULL);
	CHECK_EQ(errno, EINVAL);
	/* Nothing was queued: the scheduler has no work. */
	wire_thread_run();
	CHECK_EQ(wire_thread_suspended(), 0);
	/* The smallest stack is accepted. It sits at the top of a larger
	 * buffer: sanitizer runtimes need more than a plain build does. */
	CHECK(wire_init(&w, "x", noop, NULL, s + STACK - WIRE_STACK_MIN, WIRE_STACK_MIN) == &w);
	wire_thread_run();
	CHECK_EQ(w.state, WIRE_DONE);
}

static void call_yield_outside(void *arg)
{
	(void)arg;
	wire_thread_init(&thread);
	wire_yield();
}

static void call_suspend_outside(void *arg)
{
	(void)arg;
	wire_suspend();
}

static void call_sleep_outside(void *arg)
{
	(void)arg;
	wire_thread_init(&thread);
	wire_sleep_ns(1000);
}

TEST(blocking_outside_a_wire_aborts)
{
	char err[1024];
	int status;

	status = test_run_child(call_yield_outside, NULL, err, sizeof(err));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(err, "wire_yield") && strstr(err, "outside a wire"));
	status = test_run_child(call_suspend_outside, NULL, err, sizeof(err));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(err, "wire_suspend") && strstr(err, "outside a wire"));
	status = test_run_child(call_sleep_outside, NULL, err, sizeof(err));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(err, "wire_sleep_ns") && strstr(err, "outside a wire"));
}

static int64_t slept_ms[3];

static void sleep_entry(void *arg)
{
	int i = (int)(uintptr_t)arg;
	int64_t t0 = test_now_ms();
	wire_sleep_ns((int64_t)(i + 1) * 20 * 1000000);
	slept_ms[i] = test_now_ms() - t0;
	test_mark((char)('a' + i));
}

TEST(sleep_wakes_in_deadline_order)
{
	static char stacks[3][STACK];
	static wire_t w[3];
	int scale = test_time_scale();

	wire_thread_init(&thread);
	/* Queued longest first; they must wake shortest first. */
	for (int i = 2; i >= 0; i--)
		wire_init(&w[i], "sleep", sleep_entry, (void *)(uintptr_t)i, stacks[i], STACK);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "abc");
	for (int i = 0; i < 3; i++)
		CHECK_RANGE(slept_ms[i], (i + 1) * 20, (i + 1) * 20 + 50 * scale);
}

static int timer_fired[64];
static int fire_seq;

static wire_timer_t timers[64];

static void record_fire(wire_timer_t *t)
{
	timer_fired[t - timers] = ++fire_seq;
}

static void timer_driver(void *arg)
{
	int64_t now = wire_now_ns();
	(void)arg;
	/* Deadlines in a scrambled order; some re-armed, some stopped. */
	for (int i = 0; i < 64; i++) {
		wire_timer_init(&timers[i], record_fire);
		wire_timer_start_at(&timers[i], now + (int64_t)((i * 37) % 64) * 100000);
	}
	for (int i = 0; i < 64; i += 8)
		CHECK_EQ(wire_timer_stop(&timers[i]), 1);
	CHECK_EQ(wire_timer_stop(&timers[0]), 0);
	wire_timer_start_at(&timers[8], now + 7000000); /* move to the end */
	wire_sleep_ns(10 * 1000000);
}

TEST(timers_fire_in_deadline_order)
{
	static char s[STACK];
	static wire_t w;
	int last = 0;

	wire_thread_init(&thread);
	wire_init(&w, "timers", timer_driver, NULL, s, STACK);
	wire_thread_run();
	/* Stopped timers never fired; the rest fired in deadline order. */
	for (int k = 0; k < 64; k++) {
		for (int i = 0; i < 64; i++) {
			if ((i * 37) % 64 != k || i == 8)
				continue;
			if (i % 8 == 0) {
				CHECK_EQ(timer_fired[i], 0);
				continue;
			}
			CHECK(timer_fired[i] > last);
			last = timer_fired[i];
		}
	}
	CHECK_EQ(timer_fired[8], fire_seq); /* moved last, fired last */
	CHECK(!timers[8].armed);
}

#define RT 2000
static wire_timer_t rtimers[RT];
static int rt_fired[RT], rt_expect[RT];
static int64_t rt_last_deadline;
static int rt_order_ok = 1;

static void rt_fire(wire_timer_t *t)
{
	if (t->deadline < rt_last_deadline)
		rt_order_ok = 0;
	rt_last_deadline = t->deadline;
	rt_fired[t - rtimers]++;
}

static void random_timer_driver(void *arg)
{
	uint64_t seed = 12345;
	int64_t now = wire_now_ns();
	(void)arg;
	/* Increasing, decreasing and equal deadlines, stops and re-arms: the
	 * sorted list and the heap must together fire in deadline order. */
	for (int i = 0; i < RT; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		wire_timer_init(&rtimers[i], rt_fire);
		int64_t off = (i % 3 == 0) ? (int64_t)i * 5000 : (int64_t)((seed >> 33) % 20000000);
		wire_timer_start_at(&rtimers[i], now + off);
		rt_expect[i] = 1;
	}
	for (int i = 0; i < RT; i += 4) {
		CHECK_EQ(wire_timer_stop(&rtimers[i]), 1);
		rt_expect[i] = 0;
	}
	for (int i = 1; i < RT; i += 4) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		wire_timer_start_at(&rtimers[i], now + (int64_t)((seed >> 33) % 20000000));
	}
	wire_sleep_ns(40 * 1000000);
}

TEST(timers_random_arm_stop_rearm)
{
	static char s[STACK];
	static wire_t w;

	wire_thread_init(&thread);
	wire_init(&w, "timers", random_timer_driver, NULL, s, STACK);
	wire_thread_run();
	CHECK(rt_order_ok);
	for (int i = 0; i < RT; i++)
		CHECK_EQ(rt_fired[i], rt_expect[i]);
	CHECK_EQ(thread.num_timers, 0);
}

/* A sleep too long for the clock (now + ns beyond INT64_MAX) is "forever",
 * not a deadline that wrapped into the past. */
static int long_sleeper_woke;

static void long_sleeper(void *arg)
{
	wire_sleep_ns(*(int64_t *)arg);
	long_sleeper_woke = 1;
}

static void long_sleep_checker(void *arg)
{
	(void)arg;
	wire_sleep_ns(20 * 1000000);
	_exit(long_sleeper_woke ? 1 : 0);
}

static void long_sleep_child(void *arg)
{
	static char s1[STACK], s2[STACK];
	static wire_t a, b;

	wire_thread_init(&thread);
	wire_init(&a, "long", long_sleeper, arg, s1, STACK);
	wire_init(&b, "checker", long_sleep_checker, NULL, s2, STACK);
	wire_thread_run();
	_exit(2);
}

TEST(sleep_beyond_clock_range_never_fires)
{
	int64_t lens[] = {INT64_MAX, INT64_MAX - 1000, INT64_MAX / 2 + INT64_MAX / 4};
	char err[4096];

	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int status = test_run_child(long_sleep_child, &lens[i], err, sizeof(err));
		CHECK(WIFEXITED(status));
		CHECK_EQ(test_exit_code(status), 0);
		CHECK_STR_EQ(err, "");
	}
}

/* A callback that re-arms its timer for "now" fires once per round. */
static wire_timer_t again_timer;
static int again_fires, again_progress_ok = 1;
static long yields_done, progress_at_last_fire = -1;

static void again_fire(wire_timer_t *t)
{
	if (yields_done == progress_at_last_fire)
		again_progress_ok = 0; /* fired twice in one round */
	progress_at_last_fire = yields_done;
	if (++again_fires < 50)
		wire_timer_start_at(t, 0);
}

static void busy_yielder(void *arg)
{
	(void)arg;
	wire_timer_init(&again_timer, again_fire);
	wire_timer_start_at(&again_timer, 0);
	while (again_fires < 50) {
		yields_done++;
		wire_yield();
	}
}

TEST(timer_rearmed_for_now_fires_next_round)
{
	static char s[STACK];
	static wire_t w;

	wire_thread_init(&thread);
	wire_init(&w, "yielder", busy_yielder, NULL, s, STACK);
	wire_thread_run();
	CHECK_EQ(again_fires, 50);
	CHECK(again_progress_ok);
	CHECK_EQ(thread.num_timers, 0);
}

static wire_timer_t foreign_timer;

static void noop_fire(wire_timer_t *t)
{
	(void)t;
}

static void *stop_from_other_thread(void *arg)
{
	static wire_thread_t other;
	(void)arg;
	wire_thread_init(&other);
	wire_timer_stop(&foreign_timer);
	return NULL;
}

static void foreign_stop_child(void *arg)
{
	pthread_t th;
	(void)arg;
	wire_thread_init(&thread);
	wire_timer_init(&foreign_timer, noop_fire);
	wire_timer_start_at(&foreign_timer, wire_now_ns() + 1000000000);
	pthread_create(&th, NULL, stop_from_other_thread, NULL);
	pthread_join(th, NULL);
}

TEST(timer_stop_from_another_thread_aborts)
{
	EXPECT_ABORT(
	    foreign_stop_child,
	    "libwire: wire_timer_stop: the timer is armed on the scheduler of another OS thread");
}

/* Moving a timer armed on another thread's scheduler is refused as loudly. */
static void *start_from_other_thread(void *arg)
{
	static wire_thread_t other;

	(void)arg;
	wire_thread_init(&other);
	wire_timer_start_at(&foreign_timer, wire_now_ns() + 2000000000);
	return NULL;
}

static void foreign_start_child(void *arg)
{
	pthread_t th;
	(void)arg;
	wire_thread_init(&thread);
	wire_timer_init(&foreign_timer, noop_fire);
	wire_timer_start_at(&foreign_timer, wire_now_ns() + 1000000000);
	pthread_create(&th, NULL, start_from_other_thread, NULL);
	pthread_join(th, NULL);
}

TEST(timer_start_from_another_thread_aborts)
{
	EXPECT_ABORT(foreign_start_child, "libwire: wire_timer_start_at: the timer is armed on the "
					  "scheduler of another OS thread");
}

/*
 * Names are copied: wires named from one reused buffer keep their own
 * names, in the deadlock report too; a long name is cut.
 */
static void name_checker(void *arg)
{
	char want[16];

	snprintf(want, sizeof(want), "worker-%d", (int)(long)arg);
	CHECK_STR_EQ(wire_get_name(), want);
}

static void named_from_buffer_child(void *arg)
{
	static char s[3][STACK];
	static wire_t w[3];
	char buf[64];

	(void)arg;
	wire_thread_init(&thread);
	wire_thread_set_deadlock_report(1);
	for (int i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "stuck-%d", i);
		wire_init(&w[i], buf, suspend_forever, NULL, s[i], STACK);
	}
	memset(buf, 'x', sizeof(buf));
	wire_thread_run();
	_exit(0);
}

TEST(names_are_copied)
{
	static char s[4][STACK];
	static wire_t w[4];
	char buf[64], err[4096];
	int status;

	wire_thread_init(&thread);
	for (int i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "worker-%d", i);
		CHECK_PTR_EQ(wire_init(&w[i], buf, name_checker, (void *)(long)i, s[i], STACK),
			     &w[i]);
	}
	snprintf(buf, sizeof(buf), "gone");
	/* Cut to WIRE_NAME_MAX - 1 bytes. */
	memset(buf, 'n', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	CHECK_PTR_EQ(wire_init(&w[3], buf, noop, NULL, s[3], STACK), &w[3]);
	CHECK_EQ(strlen(w[3].name), WIRE_NAME_MAX - 1);
	CHECK(memcmp(w[3].name, buf, WIRE_NAME_MAX - 1) == 0);
	wire_thread_run();
	/* No name: reported as unnamed, wire_get_name() is NULL. */
	CHECK_PTR_EQ(wire_init(&w[0], NULL, noop, NULL, s[0], STACK), &w[0]);
	CHECK_STR_EQ(w[0].name, "");
	wire_thread_run();

	status = test_run_child(named_from_buffer_child, NULL, err, sizeof(err));
	CHECK(WIFEXITED(status));
	CHECK_EQ(test_exit_code(status), 0);
	CHECK(strstr(err, "\"stuck-0\" suspended") != NULL);
	CHECK(strstr(err, "\"stuck-1\" suspended") != NULL);
	CHECK(strstr(err, "\"stuck-2\" suspended") != NULL);
}
