/* Tests of one-shot wakeups and wait lists (wire_wait.h). */
#include <signal.h>
#include <sys/wait.h>

#include "wire_wait.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
static char stacks[4][STACK];
static wire_t wires[4];

static void spawn(int i, const char *name, void (*fn)(void *), void *arg)
{
	CHECK_PTR_EQ(wire_init(&wires[i], name, fn, arg, stacks[i], STACK), &wires[i]);
}

/* ------------------------------------------------------------------ */

static wire_wait_t single;

static void single_waiter(void *arg)
{
	(void)arg;
	test_mark('w');
	wire_wait_single(&single);
	test_mark('W');
	CHECK(single.triggered);
}

static void single_waker(void *arg)
{
	(void)arg;
	test_mark('k');
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wire_wait_resume(&single), 1); /* woke the waiter */
	CHECK_EQ(wires[0].state, WIRE_READY);
	CHECK_EQ(wire_wait_resume(&single), 0); /* already triggered */
	test_mark('K');
	wire_yield();
	test_mark('x');
}

TEST(single_wait_and_resume)
{
	wire_thread_init(&thread);
	wire_wait_init(&single);
	spawn(0, "waiter", single_waiter, NULL);
	spawn(1, "waker", single_waker, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "wkKWx");
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void early_waiter(void *arg)
{
	(void)arg;
	test_mark('a');
	wire_wait_single(&single); /* triggered before: must not block */
	test_mark('b');
}

static void other_marker(void *arg)
{
	(void)arg;
	test_mark('o');
}

TEST(resume_before_wait_is_remembered)
{
	wire_thread_init(&thread);
	wire_wait_init(&single);
	/* Outside any wire: a trigger with nobody waiting yet. */
	CHECK_EQ(wire_wait_resume(&single), 1);
	CHECK_EQ(wire_wait_resume(&single), 0);
	spawn(0, "waiter", early_waiter, NULL);
	spawn(1, "other", other_marker, NULL);
	wire_thread_run();
	/* The waiter did not give up the CPU: 'b' comes before 'o'. */
	CHECK_STR_EQ(test_trace, "abo");
}

TEST(resume_return_values)
{
	wire_wait_t w;

	wire_wait_init(&w);
	CHECK_EQ(wire_wait_resume(&w), 1);
	CHECK_EQ(wire_wait_resume(&w), 0);
	wire_wait_reset(&w);
	CHECK_EQ(w.triggered, 0);
	CHECK_EQ(wire_wait_resume(&w), 1);
	wire_wait_reset(&w);
	wire_wait_stop(&w);
	CHECK_EQ(wire_wait_resume(&w), 0);
	CHECK_EQ(w.triggered, 0);
	wire_wait_reset(&w); /* re-arms a stopped wait */
	CHECK_EQ(wire_wait_resume(&w), 1);
}

/* ------------------------------------------------------------------ */

static wire_wait_t wa, wb, wc;
static wire_wait_list_t wl;

static void list_waiter(void *arg)
{
	(void)arg;
	/* Already triggered: c then b. Chain order wins: b. */
	CHECK_PTR_EQ(wire_list_wait(&wl), &wb);
	test_mark('1');
	wire_wait_reset(&wb);
	CHECK_PTR_EQ(wire_list_wait(&wl), &wc); /* c is still triggered */
	test_mark('2');
	wire_wait_reset(&wc);
	/* Nothing triggered now: blocks until the other wire triggers a. */
	CHECK_PTR_EQ(wire_list_wait(&wl), &wa);
	test_mark('3');
}

static void list_trigger(void *arg)
{
	(void)arg;
	test_mark('t');
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wire_wait_resume(&wa), 1);
	test_mark('T');
}

TEST(list_wait_returns_first_in_chain_order)
{
	wire_thread_init(&thread);
	wire_wait_list_init(&wl);
	wire_wait_init(&wa);
	wire_wait_init(&wb);
	wire_wait_init(&wc);
	wire_wait_chain(&wl, &wa);
	wire_wait_chain(&wl, &wb);
	wire_wait_chain(&wl, &wc);
	CHECK_EQ(wire_wait_resume(&wc), 1);
	CHECK_EQ(wire_wait_resume(&wb), 1);
	spawn(0, "waiter", list_waiter, NULL);
	spawn(1, "trigger", list_trigger, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "12tT3");
	CHECK_EQ(wire_thread_suspended(), 0);
}

static int rearm_returns;

static void rearm_waiter(void *arg)
{
	(void)arg;
	wire_wait_single(&single);
	rearm_returns++;
	wire_wait_reset(&single);
	wire_wait_single(&single); /* must block again until the second trigger */
	rearm_returns++;
}

static void rearm_trigger(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_wait_resume(&single), 1);
	wire_yield(); /* the waiter runs, resets and blocks again */
	CHECK_EQ(rearm_returns, 1);
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	wire_yield();
	CHECK_EQ(rearm_returns, 1); /* still blocked: no stale trigger */
	CHECK_EQ(wire_wait_resume(&single), 1);
	wire_yield();
	CHECK_EQ(rearm_returns, 2);
}

TEST(reset_rearms)
{
	wire_thread_init(&thread);
	wire_wait_init(&single);
	spawn(0, "waiter", rearm_waiter, NULL);
	spawn(1, "trigger", rearm_trigger, NULL);
	wire_thread_run();
	CHECK_EQ(rearm_returns, 2);
	CHECK_EQ(wire_thread_suspended(), 0);
}

static int stop_returned;

static void stop_waiter(void *arg)
{
	(void)arg;
	CHECK_PTR_EQ(wire_list_wait(&wl), &wb);
	stop_returned = 1;
}

static void stop_trigger(void *arg)
{
	(void)arg;
	wire_wait_stop(&wa);
	CHECK_EQ(wire_wait_resume(&wa), 0); /* ignored: does not wake the list */
	CHECK_EQ(wa.triggered, 0);
	wire_yield();
	CHECK_EQ(stop_returned, 0);
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wire_wait_resume(&wb), 1);
	wire_yield();
	CHECK_EQ(stop_returned, 1);
}

TEST(stop_ignores_resumes)
{
	wire_thread_init(&thread);
	wire_wait_list_init(&wl);
	wire_wait_init(&wa);
	wire_wait_init(&wb);
	wire_wait_chain(&wl, &wa);
	wire_wait_chain(&wl, &wb);
	spawn(0, "waiter", stop_waiter, NULL);
	spawn(1, "trigger", stop_trigger, NULL);
	wire_thread_run();
	CHECK_EQ(stop_returned, 1);
}

static int unchain_returned;

static void unchain_waiter(void *arg)
{
	(void)arg;
	CHECK_PTR_EQ(wire_list_wait(&wl), &wc);
	unchain_returned = 1;
}

static void unchain_trigger(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_wait_resume(&wa), 1); /* unchained: wakes nobody */
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	wire_yield();
	CHECK_EQ(unchain_returned, 0);
	CHECK_EQ(wire_wait_resume(&wc), 1);
	wire_yield();
	CHECK_EQ(unchain_returned, 1);
}

TEST(unchain_removes_a_source)
{
	wire_thread_init(&thread);
	wire_wait_list_init(&wl);
	wire_wait_init(&wa);
	wire_wait_init(&wb);
	wire_wait_init(&wc);
	wire_wait_chain(&wl, &wa);
	wire_wait_chain(&wl, &wb);
	wire_wait_chain(&wl, &wc);
	wire_wait_unchain(&wa);
	CHECK(wa.list == NULL);
	wire_wait_unchain(&wa); /* not chained: no-op */
	wire_wait_unchain(&wb);
	CHECK(wl.head.next == &wc.link && wl.head.prev == &wc.link);
	spawn(0, "waiter", unchain_waiter, NULL);
	spawn(1, "trigger", unchain_trigger, NULL);
	wire_thread_run();
	CHECK_EQ(unchain_returned, 1);
	/* Chained again, a triggered wait is seen at once. */
	wire_wait_chain(&wl, &wa);
	CHECK(wa.list == &wl);
}

static int late_chain_done;

static void late_chain_waiter(void *arg)
{
	(void)arg;
	CHECK_PTR_EQ(wire_list_wait(&wl), &wb);
	late_chain_done = 1;
}

static void late_chain_adder(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wire_wait_resume(&wb), 1); /* not chained yet: wakes nobody */
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	wire_wait_chain(&wl, &wb); /* chained triggered: the waiter must see it */
	wire_yield();
	CHECK_EQ(late_chain_done, 1);
}

TEST(chain_triggered_wait_wakes_list_waiter)
{
	wire_thread_init(&thread);
	wire_wait_list_init(&wl);
	wire_wait_init(&wa);
	wire_wait_init(&wb);
	wire_wait_chain(&wl, &wa);
	spawn(0, "waiter", late_chain_waiter, NULL);
	spawn(1, "adder", late_chain_adder, NULL);
	wire_thread_run();
	CHECK_EQ(late_chain_done, 1);
	CHECK_EQ(wire_thread_suspended(), 0);
}

static int two_results[4];

static void two_waiter(void *arg)
{
	(void)arg;
	two_results[0] = wire_wait_two(&wa, &wb); /* blocks: b fires */
	/* b's trigger was returned: chaining clears it, so this blocks too. */
	two_results[1] = wire_wait_two(&wa, &wb); /* a fires */
	/* Both triggered before the call: chain order wins, a. */
	wire_wait_reset(&wa);
	wire_wait_reset(&wb);
	CHECK_EQ(wire_wait_resume(&wb), 1);
	CHECK_EQ(wire_wait_resume(&wa), 1);
	two_results[2] = wire_wait_two(&wa, &wb);
	/* b's trigger was never returned: it is kept, a's is cleared. */
	two_results[3] = wire_wait_two(&wa, &wb);
	CHECK(wa.list == NULL && wb.list == NULL);
}

static void two_trigger(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wire_wait_resume(&wb), 1);
	wire_yield();
	CHECK_EQ(two_results[0], 2);
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wire_wait_resume(&wa), 1);
}

TEST(wait_two)
{
	wire_thread_init(&thread);
	wire_wait_init(&wa);
	wire_wait_init(&wb);
	spawn(0, "waiter", two_waiter, NULL);
	spawn(1, "trigger", two_trigger, NULL);
	wire_thread_run();
	CHECK_EQ(two_results[0], 2);
	CHECK_EQ(two_results[1], 1);
	CHECK_EQ(two_results[2], 1);
	CHECK_EQ(two_results[3], 2);
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* ------------------------------------------------------------------ */

static int stray_single_done, stray_list_done;

static void stray_single_waiter(void *arg)
{
	(void)arg;
	wire_wait_single(&single);
	stray_single_done = 1;
}

static void stray_list_waiter(void *arg)
{
	(void)arg;
	CHECK_PTR_EQ(wire_list_wait(&wl), &wa);
	stray_list_done = 1;
}

static void stray_resumer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		wire_resume(&wires[0]);
		wire_resume(&wires[1]);
		wire_yield();
		wire_yield();
		CHECK_EQ(stray_single_done, 0);
		CHECK_EQ(stray_list_done, 0);
		CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
		CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	}
	CHECK_EQ(wire_wait_resume(&single), 1);
	CHECK_EQ(wire_wait_resume(&wa), 1);
	wire_yield();
	CHECK_EQ(stray_single_done, 1);
	CHECK_EQ(stray_list_done, 1);
}

TEST(stray_resume_absorbed)
{
	wire_thread_init(&thread);
	wire_wait_init(&single);
	wire_wait_list_init(&wl);
	wire_wait_init(&wa);
	wire_wait_chain(&wl, &wa);
	spawn(0, "single", stray_single_waiter, NULL);
	spawn(1, "list", stray_list_waiter, NULL);
	spawn(2, "resumer", stray_resumer, NULL);
	wire_thread_run();
	CHECK_EQ(stray_single_done, 1);
	CHECK_EQ(stray_list_done, 1);
}

/* ------------------------------------------------------------------ */

struct timed_wait {
	wire_timer_t timer;
	wire_wait_t *wait;
	int fired;
};

static void timer_fire(wire_timer_t *t)
{
	struct timed_wait *tw = (struct timed_wait *)t;
	CHECK(wire_get_current() == NULL); /* outside any wire */
	tw->fired++;
	CHECK_EQ(wire_wait_resume(tw->wait), 1);
}

static int64_t timer_elapsed_ns;

static void timer_waiter(void *arg)
{
	struct timed_wait tw;
	wire_wait_t timeout, never;
	int64_t t0 = wire_now_ns();

	(void)arg;
	wire_wait_init(&timeout);
	wire_wait_init(&never);
	tw.wait = &timeout;
	tw.fired = 0;
	wire_timer_init(&tw.timer, timer_fire);
	wire_timer_start_at(&tw.timer, t0 + 20 * 1000000);
	/* "never" first in chain order: the timeout is the only trigger. */
	CHECK_EQ(wire_wait_two(&never, &timeout), 2);
	timer_elapsed_ns = wire_now_ns() - t0;
	CHECK_EQ(tw.fired, 1);

	/* The same with wire_wait_single. */
	wire_wait_reset(&timeout);
	wire_timer_start_at(&tw.timer, wire_now_ns() + 5 * 1000000);
	wire_wait_single(&timeout);
	CHECK_EQ(tw.fired, 2);
}

TEST(timer_callback_wakes_waiter)
{
	wire_thread_init(&thread);
	spawn(0, "timed", timer_waiter, NULL);
	wire_thread_run();
	CHECK_EQ(wires[0].state, WIRE_DONE);
	CHECK_RANGE(timer_elapsed_ns, 20 * 1000000, 200LL * 1000000 * test_time_scale());
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* ------------------------------------------------------------------ */

static void misuse_single(void *arg)
{
	wire_wait_t w;
	(void)arg;
	wire_thread_init(&thread);
	wire_wait_init(&w);
	wire_wait_single(&w);
}

static void misuse_list(void *arg)
{
	wire_wait_list_t l;
	(void)arg;
	wire_thread_init(&thread);
	wire_wait_list_init(&l);
	wire_list_wait(&l);
}

static void misuse_two(void *arg)
{
	wire_wait_t a, b;
	(void)arg;
	wire_wait_init(&a);
	wire_wait_init(&b);
	wire_wait_two(&a, &b);
}

TEST(misuse_outside_a_wire_aborts)
{
	EXPECT_ABORT(misuse_single, "libwire: wire_wait_single: called outside a wire");
	EXPECT_ABORT(misuse_list, "libwire: wire_list_wait: called outside a wire");
	/* No scheduler at all on the thread. */
	EXPECT_ABORT(misuse_two, "libwire: wire_wait_two: called outside a wire");
}

/* ------------------------------------------------------------------ */
/* Chaining arms a wait: a chain, wait, unchain loop blocks every time.  */

static int chain_returns, chain_triggers, chain_stop;

static void chain_loop(void *arg)
{
	(void)arg;
	while (!chain_stop) {
		wire_wait_list_init(&wl);
		wire_wait_chain(&wl, &wa);
		wire_wait_chain(&wl, &wb); /* the stop signal */
		if (wire_list_wait(&wl) == &wa) {
			chain_returns++;
			/* One return per trigger: the trigger came before this return. */
			CHECK_EQ(chain_returns, chain_triggers);
		}
		wire_wait_unchain(&wa);
		wire_wait_unchain(&wb);
	}
}

static void chain_trigger(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++) {
		for (int y = 0; y < 3; y++)
			wire_yield(); /* a spinning loop would return meanwhile */
		chain_triggers++;
		CHECK_EQ(wire_wait_resume(&wa), 1);
		wire_yield();
	}
	chain_stop = 1;
	CHECK_EQ(wire_wait_resume(&wb), 1);
}

TEST(chain_rearms_a_returned_trigger)
{
	wire_thread_init(&thread);
	wire_wait_init(&wa);
	wire_wait_init(&wb);
	spawn(0, "loop", chain_loop, NULL);
	spawn(1, "trigger", chain_trigger, NULL);
	wire_thread_run();
	CHECK_EQ(chain_returns, 5);
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* A trigger that came before the chain, and that no wait returned, is kept. */
static void kept_waiter(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_wait_resume(&wa), 1); /* ready before it is chained */
	wire_wait_list_init(&wl);
	wire_wait_chain(&wl, &wb);
	wire_wait_chain(&wl, &wa);
	CHECK_PTR_EQ(wire_list_wait(&wl), &wa); /* at once */
	wire_wait_unchain(&wa);
	wire_wait_unchain(&wb);
	test_mark('k');
}

TEST(chain_keeps_a_trigger_not_yet_returned)
{
	wire_thread_init(&thread);
	wire_wait_init(&wa);
	wire_wait_init(&wb);
	spawn(0, "waiter", kept_waiter, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "k");
}

/* ------------------------------------------------------------------ */
/* Two wires in wire_wait_single() on one wait: a trigger wakes both.   */

static void two_single(void *arg)
{
	char c = (char)(long)arg;

	test_mark(c);
	wire_wait_single(&single);
	test_mark((char)(c - 'a' + 'A'));
}

static void two_single_trigger(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	test_mark('t');
	CHECK_EQ(wire_wait_resume(&single), 1);
	CHECK_EQ(wires[0].state, WIRE_READY);
	CHECK_EQ(wires[1].state, WIRE_READY);
}

TEST(two_waiters_on_one_wait_both_wake)
{
	wire_thread_init(&thread);
	wire_wait_init(&single);
	spawn(0, "first", two_single, (void *)'a');
	spawn(1, "second", two_single, (void *)'b');
	spawn(2, "trigger", two_single_trigger, NULL);
	wire_thread_run();
	/* Woken in the order they began to wait. */
	CHECK_STR_EQ(test_trace, "abtAB");
	CHECK_EQ(wire_thread_suspended(), 0);
}
