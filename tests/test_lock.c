/* Tests of the fair lock (wire_lock.h). */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "wire_lock.h"
#include "test.h"

#define STACK (64 * 1024)
#define NW    6

static wire_thread_t thread;
static char stacks[NW][STACK];
static wire_t wires[NW];
static wire_lock_t lock;
static void spawn(int i, const char *name, void (*fn)(void *), void *arg)
{
	CHECK_PTR_EQ(wire_init(&wires[i], name, fn, arg, stacks[i], STACK), &wires[i]);
}

/* ------------------------------------------------------------------ */

#define CONTENDERS 5
#define ROUNDS	   4

static int holder = -1;
static int order[CONTENDERS * ROUNDS];
static int norder;

static void contender(void *arg)
{
	int me = (int)(uintptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		wire_lock_take(&lock);
		CHECK_EQ(holder, -1); /* exclusion */
		holder = me;
		order[norder++] = me;
		for (int y = 0; y < 3; y++) {
			wire_yield(); /* hold it across yields */
			CHECK_EQ(holder, me);
		}
		holder = -1;
		wire_lock_release(&lock);
		wire_yield();
	}
}

TEST(exclusion_and_fifo_with_five_contenders)
{
	wire_thread_init(&thread);
	wire_lock_init(&lock);
	for (int i = 0; i < CONTENDERS; i++)
		spawn(i, "contender", contender, (void *)(uintptr_t)i);
	wire_thread_run();
	CHECK_EQ(norder, CONTENDERS * ROUNDS);
	/* Each contender queues behind the ones already waiting. */
	for (int i = 0; i < norder; i++)
		CHECK_EQ(order[i], i % CONTENDERS);
	CHECK_EQ(lock.locked, 0);
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void late_taker(void *arg)
{
	(void)arg;
	wire_lock_take(&lock);
	test_mark('C');
	wire_lock_release(&lock);
}

static void first_waiter(void *arg)
{
	(void)arg;
	wire_lock_take(&lock);
	test_mark('B');
	wire_yield();
	wire_lock_release(&lock);
}

static void handing_holder(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_lock_try_take(&lock), 1);
	wire_init(&wires[1], "waiter", first_waiter, NULL, stacks[1], STACK);
	wire_yield(); /* B queues */
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	test_mark('A');
	wire_lock_release(&lock);
	/* Handed to B, which has not run yet: the lock is still held. */
	CHECK_EQ(wires[1].state, WIRE_READY);
	CHECK_EQ(lock.locked, 1);
	CHECK_EQ(wire_lock_try_take(&lock), 0);
	wire_init(&wires[2], "newcomer", late_taker, NULL, stacks[2], STACK);
	wire_yield(); /* B runs with the lock; C queues behind it */
	CHECK_EQ(wires[2].state, WIRE_SUSPENDED);
	wire_lock_take(&lock); /* behind C */
	test_mark('a');
	wire_lock_release(&lock);
}

TEST(newcomer_never_overtakes_a_waiter)
{
	wire_thread_init(&thread);
	wire_lock_init(&lock);
	spawn(0, "holder", handing_holder, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "ABCa");
	CHECK_EQ(lock.locked, 0);
	CHECK_EQ(wire_thread_suspended(), 0);
}

TEST(try_take)
{
	wire_lock_init(&lock);
	/* Non-blocking calls work outside any wire. */
	CHECK_EQ(wire_lock_try_take(&lock), 1);
	CHECK_EQ(wire_lock_try_take(&lock), 0);
	wire_lock_release(&lock);
	CHECK_EQ(wire_lock_try_take(&lock), 1);
	wire_lock_release(&lock);
	wire_lock_take(&lock); /* free: does not block */
	CHECK_EQ(wire_lock_try_take(&lock), 0);
	wire_lock_release(&lock);
	CHECK_EQ(lock.locked, 0);
}

/* ------------------------------------------------------------------ */

static int users_done;

static void user(void *arg)
{
	(void)arg;
	wire_lock_take(&lock);
	wire_yield();
	wire_yield();
	users_done++;
	wire_lock_release(&lock);
}

static void clearer(void *arg)
{
	(void)arg;
	wire_lock_wait_clear(&lock);
	/* Nobody holds or waits for it now. */
	CHECK_EQ(users_done, 3);
	CHECK_EQ(lock.locked, 0);
	CHECK(lock.waiters.next == &lock.waiters);
	test_mark('c');
	/* Free already: returns without giving up the CPU. */
	wire_lock_wait_clear(&lock);
	test_mark('C');
	wire_lock_take(&lock);
	wire_init(&wires[5], "retaker", late_taker, NULL, stacks[5], STACK);
	wire_lock_release(&lock);
}

static void second_clearer(void *arg)
{
	(void)arg;
	wire_lock_wait_clear(&lock);
	CHECK_EQ(lock.locked, 0);
	CHECK_EQ(users_done, 3);
	test_mark('d');
}

TEST(wait_clear)
{
	wire_thread_init(&thread);
	wire_lock_init(&lock);
	spawn(0, "user", user, NULL);
	spawn(1, "clearer", clearer, NULL); /* waits while user 0 holds it */
	spawn(2, "user", user, NULL);
	spawn(3, "user", user, NULL);
	spawn(4, "clearer2", second_clearer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "cCdC");
	CHECK_EQ(lock.locked, 0);
	CHECK(lock.clear_waiters.next == &lock.clear_waiters);
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* A clear-waiter woken when the lock became free, but which runs only after
 * another wire took it again, keeps waiting. */
static void retake_holder(void *arg)
{
	(void)arg;
	wire_lock_take(&lock);
	wire_yield(); /* the clearer queues */
	wire_lock_release(&lock);
	CHECK_EQ(wires[1].state, WIRE_READY);
	wire_lock_take(&lock); /* again, before the clearer runs */
	test_mark('h');
	wire_yield();
	wire_yield();
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	test_mark('r');
	wire_lock_release(&lock);
}

static void recheck_clearer(void *arg)
{
	(void)arg;
	wire_lock_wait_clear(&lock);
	CHECK_EQ(lock.locked, 0);
	test_mark('c');
}

TEST(wait_clear_rechecks_after_wakeup)
{
	wire_thread_init(&thread);
	wire_lock_init(&lock);
	spawn(0, "holder", retake_holder, NULL);
	spawn(1, "clearer", recheck_clearer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "hrc");
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* ------------------------------------------------------------------ */

static void release_unheld(void *arg)
{
	(void)arg;
	wire_lock_init(&lock);
	wire_lock_release(&lock);
}

static void release_twice(void *arg)
{
	(void)arg;
	wire_lock_init(&lock);
	wire_lock_take(&lock);
	wire_lock_release(&lock);
	wire_lock_release(&lock);
}

static void take_held_outside(void *arg)
{
	(void)arg;
	wire_thread_init(&thread);
	wire_lock_init(&lock);
	wire_lock_take(&lock);
	wire_lock_take(&lock);
}

static void clear_held_outside(void *arg)
{
	(void)arg;
	wire_lock_init(&lock);
	wire_lock_take(&lock);
	wire_lock_wait_clear(&lock);
}

/* ------------------------------------------------------------------ */

static void stray_waiter(void *arg)
{
	(void)arg;
	wire_lock_take(&lock);
	test_mark('w');
	wire_lock_release(&lock);
}

static void stray_holder(void *arg)
{
	(void)arg;
	wire_lock_take(&lock);
	wire_yield(); /* the waiter queues */
	for (int i = 0; i < 3; i++) {
		wire_resume(&wires[1]); /* must neither wake nor grant it */
		wire_yield();
		CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
		CHECK_STR_EQ(test_trace, "");
	}
	test_mark('r');
	wire_lock_release(&lock);
}

TEST(stray_resume_of_a_waiter_is_ignored)
{
	wire_thread_init(&thread);
	wire_lock_init(&lock);
	test_trace_reset();
	spawn(0, "holder", stray_holder, NULL);
	spawn(1, "waiter", stray_waiter, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "rw");
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK(!lock.locked);
}

TEST(misuse_aborts_with_a_message)
{
	EXPECT_ABORT(release_unheld, "libwire: wire_lock_release: the lock is not held");
	EXPECT_ABORT(release_twice, "libwire: wire_lock_release: the lock is not held");
	EXPECT_ABORT(take_held_outside, "libwire: wire_lock_take: called outside a wire");
	EXPECT_ABORT(clear_held_outside, "libwire: wire_lock_wait_clear: called outside a wire");
}
