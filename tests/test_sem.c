/* Tests of the counting semaphore (wire_semaphore.h). */
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "wire_semaphore.h"
#include "test.h"

#define STACK (64 * 1024)
#define NW    6

static wire_thread_t thread;
static char stacks[NW][STACK];
static wire_t wires[NW];
static wire_sem_t sem;
static void spawn(int i, const char *name, void (*fn)(void *), void *arg)
{
	CHECK_PTR_EQ(wire_init(&wires[i], name, fn, arg, stacks[i], STACK), &wires[i]);
}

static int inside, max_inside;

static void worker(void *arg)
{
	char c = (char)(uintptr_t)arg;

	wire_sem_take(&sem);
	inside++;
	if (inside > max_inside)
		max_inside = inside;
	test_mark(c);
	wire_yield();
	wire_yield();
	inside--;
	wire_sem_release(&sem);
}

TEST(counting)
{
	wire_thread_init(&thread);
	wire_sem_init(&sem, 2);
	for (int i = 0; i < 5; i++)
		spawn(i, "worker", worker, (void *)(uintptr_t)('a' + i));
	wire_thread_run();
	CHECK_EQ(max_inside, 2); /* never more than the two units */
	CHECK_STR_EQ(test_trace, "abcde");
	CHECK_EQ(sem.count, 2);
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void fifo_waiter(void *arg)
{
	wire_sem_take(&sem);
	test_mark((char)(uintptr_t)arg);
}

static void fifo_releaser(void *arg)
{
	(void)arg;
	for (int i = 0; i < 4; i++)
		CHECK_EQ(wires[i].state, WIRE_SUSPENDED);
	wire_sem_release(&sem);
	/* Handed to the oldest waiter: nothing left for a newcomer. */
	CHECK_EQ(sem.count, 0);
	CHECK_EQ(wire_sem_try_take(&sem), 0);
	CHECK_EQ(wires[0].state, WIRE_READY);
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	wire_yield();
	test_mark('r');
	wire_sem_release(&sem);
	wire_sem_release(&sem);
	wire_sem_release(&sem);
	wire_sem_release(&sem); /* no waiter left: counted */
	CHECK_EQ(sem.count, 1);
}

TEST(fifo_hand_off)
{
	wire_thread_init(&thread);
	wire_sem_init(&sem, 0);
	for (int i = 0; i < 4; i++)
		spawn(i, "waiter", fifo_waiter, (void *)(uintptr_t)('1' + i));
	spawn(4, "releaser", fifo_releaser, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "1r234");
	CHECK_EQ(sem.count, 1);
	CHECK_EQ(wire_thread_suspended(), 0);
}

TEST(try_take)
{
	wire_sem_init(&sem, 2);
	CHECK_EQ(wire_sem_try_take(&sem), 1);
	CHECK_EQ(wire_sem_try_take(&sem), 1);
	CHECK_EQ(wire_sem_try_take(&sem), 0);
	CHECK_EQ(sem.count, 0);
	wire_sem_release(&sem);
	CHECK_EQ(wire_sem_try_take(&sem), 1);
	wire_sem_release(&sem);
	wire_sem_take(&sem); /* available: does not block, even outside a wire */
	CHECK_EQ(sem.count, 0);
}

static void take_outside(void *arg)
{
	(void)arg;
	wire_sem_init(&sem, 0);
	wire_sem_take(&sem);
}

static void overflow(void *arg)
{
	(void)arg;
	wire_sem_init(&sem, UINT_MAX);
	wire_sem_release(&sem);
}

TEST(misuse_aborts_with_a_message)
{
	EXPECT_ABORT(take_outside, "libwire: wire_sem_take: called outside a wire");
	EXPECT_ABORT(overflow, "libwire: wire_sem_release: the count would overflow");
}

/* ------------------------------------------------------------------ */

static void stray_sem_waiter(void *arg)
{
	(void)arg;
	wire_sem_take(&sem);
	test_mark('w');
}

static void stray_sem_resumer(void *arg)
{
	(void)arg;
	wire_yield(); /* the waiter queues */
	for (int i = 0; i < 3; i++) {
		wire_resume(&wires[0]); /* must neither wake it nor give it a unit */
		wire_yield();
		CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	}
	test_mark('r');
	wire_sem_release(&sem);
}

TEST(stray_resume_of_a_waiter_is_ignored)
{
	wire_thread_init(&thread);
	wire_sem_init(&sem, 0);
	test_trace_reset();
	spawn(0, "waiter", stray_sem_waiter, NULL);
	spawn(1, "resumer", stray_sem_resumer, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "rw");
	CHECK_EQ(sem.count, 0);
	CHECK_EQ(wire_thread_suspended(), 0);
}
