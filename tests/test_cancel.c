/*
 * Tests of cancellation, joining and groups (wire.h, wire_defer.h): a
 * cancelled wire ends at its blocking point, runs its DEFER blocks
 * innermost first, and leaves nothing queued anywhere, whatever it was
 * blocked in.
 *
 * Each cancelled wire runs on a stack of its own from malloc(), freed as
 * soon as the wire has ended: a record of the wire left behind anywhere
 * is then a use after free under ASan and valgrind, and the operations
 * that follow each cancel would touch it.
 */
// TEST_LABELS: threads
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"
#include "wire_channel.h"
#include "wire_defer.h"
#include "wire_fd.h"
#include "wire_io.h"
#include "wire_lock.h"
#include "wire_net.h"
#include "wire_pool.h"
#include "wire_semaphore.h"
#include "wire_timeout.h"
#include "wire_wait.h"
#include "test.h"

#define MAXW 16

static wire_thread_t thread;
static wire_t wires[MAXW];
static void *stacks[MAXW];

static void setup(void)
{
	wire_thread_init(&thread);
	test_trace_reset();
}

static wire_t *spawn(int i, const char *name, void (*fn)(void *), void *arg)
{
	unsigned size = test_stack_size();

	stacks[i] = malloc(size);
	CHECK(stacks[i] != NULL);
	CHECK_PTR_EQ(wire_init(&wires[i], name, fn, arg, stacks[i], size), &wires[i]);
	return &wires[i];
}

/* Free the stack of wire @i, which must have ended. */
static void reap(int i)
{
	CHECK_EQ(wires[i].state, WIRE_DONE);
	memset(stacks[i], 0xa5, test_stack_size());
	free(stacks[i]);
	stacks[i] = NULL;
}

/* A character as the argument of a wire or a DEFER_CALL. */
#define CH(c)	    ((void *)(long)(c))
#define ARG_CH(arg) ((char)(long)(arg))

static void mark_arg(void *arg)
{
	test_mark(ARG_CH(arg));
}

/* ------------------------------------------------------------------ */
/* Where a cancelled wire ends.                                        */

static void suspender(void *arg)
{
	(void)arg;
	test_mark('s');
	wire_suspend();
	test_mark('X'); /* never */
}

static void cancel_first(void *arg)
{
	(void)arg;
	test_mark('c');
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wire_cancel(&wires[0]), 0);
	if (wires[0].defers == 0) {
		/* Nothing to unwind: it ended in the call. */
		CHECK_EQ(wires[0].state, WIRE_DONE);
		reap(0);
	} else {
		/* It runs its DEFERs when it next runs. */
		CHECK_EQ(wires[0].state, WIRE_READY);
	}
	test_mark('C');
}

TEST(cancel_suspended_wire_ends_there)
{
	setup();
	spawn(0, "victim", suspender, NULL);
	spawn(1, "canceller", cancel_first, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "scC");
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void defer_leaf(void *arg)
{
	(void)arg;
	DEFER_CALL(mark_arg, CH('c'));
	DEFER_CALL(mark_arg, CH('b'));
	test_mark('s');
	wire_suspend();
	test_mark('X');
}

static void defer_root(void *arg)
{
	DEFER_CALL(mark_arg, CH('a'));
	{
		DEFER_CALL(mark_arg, CH('i')); /* left before the block: runs at once */
	}
	defer_leaf(arg);
	test_mark('Y');
}

TEST(defers_run_innermost_first_on_cancel)
{
	setup();
	spawn(0, "victim", defer_root, NULL);
	spawn(1, "canceller", cancel_first, NULL);
	wire_thread_run();
	/* The victim's DEFERs run on its own stack after the canceller. */
	CHECK_STR_EQ(test_trace, "iscCbca");
	CHECK_EQ(wire_thread_suspended(), 0);
	reap(0); /* the unwound stack is plain memory again */
}

static void defer_normal(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		DEFER_CALL(mark_arg, CH('d'));
		test_mark('0' + i);
		wire_yield();
	}
	test_mark('e');
}

TEST(defers_run_at_scope_exit_without_cancel)
{
	setup();
	spawn(0, "plain", defer_normal, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "0d1d2de");
	CHECK_EQ(wires[0].defers, 0);
	reap(0);
}

#ifndef __clang__
static int defer_seen_fd = -2;

static void defer_block_user(void *arg)
{
	int fd = -1;

	(void)arg;
	DEFER(defer_seen_fd = fd; test_mark('D'));
	fd = 7; /* DEFER sees the variable as it is when it runs */
	test_mark('s');
	wire_suspend();
	test_mark('X');
}
#endif

TEST(defer_block_sees_variables_when_it_runs)
{
#ifdef __clang__
	test_skip("DEFER(code) needs GCC's nested functions (Clang builds use DEFER_CALL)");
#else
	setup();
	spawn(0, "victim", defer_block_user, NULL);
	spawn(1, "canceller", cancel_first, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "scCD");
	CHECK_EQ(defer_seen_fd, 7);
#endif
}

static void yielder(void *arg)
{
	(void)arg;
	DEFER_CALL(mark_arg, CH('d'));
	test_mark('1');
	wire_yield();
	test_mark('2'); /* ready when cancelled: runs on to its next block */
	wire_sleep_ns(TEST_MS(1000));
	test_mark('X');
}

static void cancel_ready(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[0].state, WIRE_READY);
	CHECK_EQ(wire_cancel(&wires[0]), 0);
	test_mark('c');
}

TEST(ready_wire_ends_at_its_next_block)
{
	int64_t t0 = test_now_ms();

	setup();
	spawn(0, "victim", yielder, NULL);
	spawn(1, "canceller", cancel_ready, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "1c2d");
	/* The sleep never started: no timer kept the thread. */
	CHECK_RANGE(test_now_ms() - t0, 0, 500 * test_time_scale());
	reap(0);
}

static void never_runs(void *arg)
{
	(void)arg;
	test_mark('X');
}

TEST(wire_cancelled_before_it_ran_never_runs)
{
	setup();
	spawn(0, "unborn", never_runs, NULL);
	CHECK_EQ(wire_cancel(&wires[0]), 0);
	CHECK_EQ(wire_cancel(&wires[0]), 0); /* twice: nothing more */
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "");
	reap(0);
}

static void self_canceller(void *arg)
{
	(void)arg;
	DEFER_CALL(mark_arg, CH('d'));
	test_mark('a');
	wire_cancel(wire_get_current());
	test_mark('X');
}

TEST(cancelling_itself_ends_at_once)
{
	setup();
	spawn(0, "self", self_canceller, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "ad");
	reap(0);
}

static void quick(void *arg)
{
	(void)arg;
	test_mark('q');
}

TEST(cancel_done_null_and_twice)
{
	setup();
	spawn(0, "quick", quick, NULL);
	wire_thread_run();
	CHECK_EQ(wire_cancel(&wires[0]), 0); /* done: nothing */
	CHECK_EQ(wires[0].state, WIRE_DONE);
	errno = 0;
	CHECK_EQ(wire_cancel(NULL), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_STR_EQ(test_trace, "q");
	reap(0);
}

/* A DEFER that blocks: the wire cannot be cancelled again meanwhile. */
static void blocking_defer(void *arg)
{
	(void)arg;
	wire_sleep_ns(TEST_MS(10));
	test_mark('d');
}

static void victim_blocking_defer(void *arg)
{
	DEFER_CALL(blocking_defer, arg);
	test_mark('s');
	wire_suspend();
	test_mark('X');
}

static void cancel_twice_then_join(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	CHECK_EQ(wires[0].state, WIRE_READY); /* to run its DEFER */
	wire_yield();			      /* it runs and sleeps in its DEFER */
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wire_cancel(&wires[0]), 0); /* changes nothing */
	CHECK_EQ(wire_join(&wires[0]), 0);
	test_mark('j');
}

TEST(defer_may_block_and_is_not_cancelled_again)
{
	setup();
	spawn(0, "victim", victim_blocking_defer, NULL);
	spawn(1, "canceller", cancel_twice_then_join, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "sdj");
	reap(0);
}

/* ------------------------------------------------------------------ */
/* Joining.                                                            */

static void short_sleeper(void *arg)
{
	(void)arg;
	wire_sleep_ns(TEST_MS(5));
	test_mark('e');
}

static void joiner(void *arg)
{
	CHECK_EQ(wire_join(&wires[0]), 0);
	CHECK_EQ(wires[0].state, WIRE_DONE);
	test_mark(ARG_CH(arg));
}

static void self_joiner(void *arg)
{
	(void)arg;
	errno = 0;
	CHECK_EQ(wire_join(wire_get_current()), -1);
	CHECK_EQ(errno, EDEADLK);
	errno = 0;
	CHECK_EQ(wire_join(NULL), -1);
	CHECK_EQ(errno, EINVAL);
	test_mark('z');
}

TEST(join_wakes_every_joiner_in_order)
{
	setup();
	spawn(0, "sleeper", short_sleeper, NULL);
	spawn(1, "j1", joiner, CH('1'));
	spawn(2, "j2", joiner, CH('2'));
	spawn(3, "j3", joiner, CH('3'));
	spawn(4, "self", self_joiner, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "ze123");
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void late_joiner(void *arg)
{
	(void)arg;
	wire_sleep_ns(TEST_MS(20));
	CHECK_EQ(wires[0].state, WIRE_DONE);
	CHECK_EQ(wire_join(&wires[0]), 0); /* ended: returns at once */
	test_mark('L');
}

TEST(join_after_the_end_returns_at_once)
{
	setup();
	spawn(0, "sleeper", short_sleeper, NULL);
	spawn(1, "late", late_joiner, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "eL");
}

static void join_then_mark(void *arg)
{
	(void)arg;
	test_mark('w');
	wire_join(&wires[2]);
	test_mark('X');
}

static void cancel_joiner(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	reap(0);
	test_mark('c');
}

TEST(join_cancelled_joiner_leaves_the_queue)
{
	setup();
	spawn(0, "joiner", join_then_mark, NULL);
	spawn(1, "canceller", cancel_joiner, NULL);
	spawn(2, "target", short_sleeper, NULL);
	wire_thread_run();
	/* The target's end wakes nobody: the joiner's record was withdrawn. */
	CHECK_STR_EQ(test_trace, "wce");
	CHECK(wires[2].joiners.next == &wires[2].joiners);
}

static void join_cancelled(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_join(&wires[0]), 0);
	test_mark('J');
}

static void cancel_then_mark(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	test_mark('c');
}

TEST(join_wakes_on_cancel)
{
	setup();
	spawn(0, "victim", suspender, NULL);
	spawn(1, "joiner", join_cancelled, NULL);
	spawn(2, "canceller", cancel_then_mark, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "scJ");
	reap(0);
}

/* ------------------------------------------------------------------ */
/* Withdrawal from each kind of blocking point.                        */

static wire_channel_t chan;

static void sender(void *arg)
{
	wire_channel_send(&chan, arg);
	test_mark(ARG_CH(arg));
}

static void receiver_all(void *arg)
{
	void *m;

	(void)arg;
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(wire_channel_recv_block(&chan, &m), 0);
		test_mark(ARG_CH(m));
		test_mark(ARG_CH(m));
	}
}

static void cancel_middle_sender(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	wire_cancel(&wires[1]);
	reap(1);
	spawn(3, "receiver", receiver_all, NULL);
}

TEST(cancel_blocked_sender_withdraws_its_message)
{
	setup();
	wire_channel_init(&chan);
	spawn(0, "s-a", sender, CH('a'));
	spawn(1, "s-b", sender, CH('b'));
	spawn(2, "s-c", sender, CH('c'));
	spawn(4, "canceller", cancel_middle_sender, NULL);
	wire_thread_run();
	/* The receiver gets a then c (and the senders return after it); b
	 * was never sent. */
	CHECK_STR_EQ(test_trace, "aaccac");
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void receiver_one(void *arg)
{
	void *m;

	CHECK_EQ(wire_channel_recv_block(&chan, &m), 0);
	test_mark(ARG_CH(arg));
	test_mark(ARG_CH(m));
}

/* A sender cancelled while ready ends at its send, before the hand-off:
 * its message may point into its stack. */
static void ready_sender(void *arg)
{
	char local = 'S';

	(void)arg;
	wire_yield(); /* cancelled while ready */
	wire_channel_send(&chan, &local);
	test_mark('X');
}

static void cancel_ready_sender(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[1].state, WIRE_READY);
	wire_cancel(&wires[1]);
	wire_yield(); /* it runs, sends nothing and ends */
	CHECK_EQ(wires[1].state, WIRE_DONE);
	reap(1);
	wire_channel_send(&chan, CH('m'));
	test_mark('s');
}

TEST(cancelled_sender_hands_nothing_over)
{
	setup();
	wire_channel_init(&chan);
	spawn(0, "receiver", receiver_one, CH('r'));
	spawn(1, "sender", ready_sender, NULL);
	spawn(2, "canceller", cancel_ready_sender, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "rms");
}

static void cancel_first_receiver_then_send(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	reap(0);
	wire_channel_send(&chan, CH('m'));
	test_mark('s');
}

TEST(cancel_blocked_receiver_leaves_the_queue)
{
	setup();
	wire_channel_init(&chan);
	spawn(0, "r1", receiver_one, CH('1'));
	spawn(1, "r2", receiver_one, CH('2'));
	spawn(2, "canceller", cancel_first_receiver_then_send, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "2ms");
}

static wire_lock_t lock;

static void lock_user(void *arg)
{
	wire_lock_take(&lock);
	test_mark(ARG_CH(arg));
	wire_yield();
	wire_lock_release(&lock);
}

static void cancel_lock_waiter(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	wire_cancel(&wires[1]);
	reap(1);
}

TEST(cancel_lock_waiter_passes_its_turn)
{
	setup();
	wire_lock_init(&lock);
	spawn(0, "a", lock_user, CH('a'));
	spawn(1, "b", lock_user, CH('b'));
	spawn(2, "c", lock_user, CH('c'));
	spawn(3, "canceller", cancel_lock_waiter, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "ac");
	CHECK_EQ(lock.locked, 0);
}

static void release_lock(void *arg)
{
	wire_lock_release(arg);
	test_mark('r');
}

static void nothing(void *arg)
{
	(void)arg;
}

static void lock_holder(void *arg)
{
	wire_lock_take(&lock);
	DEFER_CALL(arg ? release_lock : nothing, &lock);
	test_mark('h');
	wire_suspend();
}

static void lock_after_cancel(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	wire_yield(); /* its DEFER, if any, runs */
	test_mark(wire_lock_try_take(&lock) ? 'T' : 'F');
}

TEST(held_lock_stays_held_unless_a_defer_releases_it)
{
	setup();
	wire_lock_init(&lock);
	spawn(0, "holder", lock_holder, NULL);
	spawn(1, "other", lock_after_cancel, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "hF");
	reap(0);
	reap(1);

	setup();
	wire_lock_init(&lock);
	spawn(0, "holder", lock_holder, (void *)1);
	spawn(1, "other", lock_after_cancel, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "hrT");
	reap(0);
}

static wire_sem_t sem;

static void sem_user(void *arg)
{
	wire_sem_take(&sem);
	test_mark(ARG_CH(arg));
}

static void cancel_sem_waiter(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	reap(0);
	wire_sem_release(&sem);
	wire_sem_release(&sem);
	test_mark('r');
}

TEST(cancel_semaphore_waiter_passes_its_unit)
{
	setup();
	wire_sem_init(&sem, 0);
	spawn(0, "a", sem_user, CH('a'));
	spawn(1, "b", sem_user, CH('b'));
	spawn(2, "canceller", cancel_sem_waiter, NULL);
	wire_thread_run();
	/* b gets the first unit; the second stays in the count. */
	CHECK_STR_EQ(test_trace, "rb");
	CHECK_EQ(sem.count, 1);
}

static wire_wait_t shared_wait;

static void single_waiter(void *arg)
{
	wire_wait_single(&shared_wait);
	test_mark(ARG_CH(arg));
}

static void cancel_single_waiter(void *arg)
{
	(void)arg;
	wire_cancel(&wires[1]);
	reap(1);
	wire_wait_resume(&shared_wait);
	test_mark('t');
}

TEST(cancel_single_waiter_others_still_wake)
{
	setup();
	wire_wait_init(&shared_wait);
	spawn(0, "a", single_waiter, CH('a'));
	spawn(1, "b", single_waiter, CH('b'));
	spawn(2, "c", single_waiter, CH('c'));
	spawn(3, "canceller", cancel_single_waiter, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "tac");
}

static void long_sleeper(void *arg)
{
	(void)arg;
	test_mark('s');
	wire_sleep_ns(TEST_MS(10000));
	test_mark('X');
}

TEST(cancel_sleeper_stops_its_timer)
{
	int64_t t0;

	setup();
	spawn(0, "sleeper", long_sleeper, NULL);
	spawn(1, "canceller", cancel_first, NULL);
	t0 = test_now_ms();
	wire_thread_run(); /* returns at once: no timer left */
	CHECK_RANGE(test_now_ms() - t0, 0, 1000 * test_time_scale());
	CHECK_EQ(thread.num_timers, 0);
	CHECK_STR_EQ(test_trace, "scC");
}

/* A wait list with a channel receiver record, a timeout and an fd. */
static void fd_release(void *fds)
{
	wire_fd_mode_none(fds);
}

static int list_pair[2];

static void list_waiter(void *arg)
{
	wire_wait_list_t wl;
	wire_wait_t recv_wait;
	wire_channel_receiver_t rec;
	wire_timeout_t to;
	wire_fd_state_t fds;

	(void)arg;
	wire_wait_list_init(&wl);
	wire_wait_init(&recv_wait);
	wire_channel_recv_wait(&chan, &rec, &recv_wait);
	wire_wait_chain(&wl, &recv_wait);
	wire_timeout_init(&to);
	wire_timeout_reset(&to, 10000);
	wire_wait_chain(&wl, wire_timeout_wait_get(&to));
	wire_fd_mode_init(&fds, list_pair[0]);
	CHECK_EQ(wire_fd_mode_read(&fds), 0);
	DEFER_CALL(fd_release, &fds); /* the program's registration */
	CHECK(wire_fd_wait_list_chain(&wl, &fds) != NULL);
	test_mark('w');
	wire_list_wait(&wl);
	test_mark('X');
}

static void cancel_list_waiter(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	wire_yield(); /* its DEFER runs */
	reap(0);
	/* No receiver record left: a sender now waits for a real receiver. */
	CHECK(chan.receivers.next == &chan.receivers);
	test_mark('c');
}

TEST(cancel_in_wait_list_withdraws_every_source)
{
	int64_t t0;

	setup();
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, list_pair), 0);
	wire_channel_init(&chan);
	spawn(0, "lister", list_waiter, NULL);
	spawn(1, "canceller", cancel_list_waiter, NULL);
	t0 = test_now_ms();
	wire_thread_run(); /* nothing left: no timer, no pending fd wait */
	CHECK_RANGE(test_now_ms() - t0, 0, 1000 * test_time_scale());
	CHECK_STR_EQ(test_trace, "wc");
	CHECK_EQ(thread.num_timers, 0);
	CHECK_EQ(thread.poller->pending, 0);
	close(list_pair[0]);
	close(list_pair[1]);
}

/* fd waits: a cancelled waiter leaves; the other waiter still gets the data. */
static wire_fd_state_t shared_fds;

static void fd_waiter(void *arg)
{
	CHECK_EQ(wire_fd_wait_read(&shared_fds), 0);
	test_mark(ARG_CH(arg));
}

static void cancel_fd_waiter_then_write(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	reap(0);
	CHECK_EQ(write(list_pair[1], "x", 1), 1);
	test_mark('c');
}

TEST(cancel_fd_waiter_others_still_wake)
{
	setup();
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, list_pair), 0);
	wire_fd_mode_init(&shared_fds, list_pair[0]);
	CHECK_EQ(wire_fd_mode_read(&shared_fds), 0);
	spawn(0, "a", fd_waiter, CH('a'));
	spawn(1, "b", fd_waiter, CH('b'));
	spawn(2, "canceller", cancel_fd_waiter_then_write, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "cb");
	CHECK_EQ(thread.poller->pending, 0);
	wire_fd_mode_none(&shared_fds);
	close(list_pair[0]);
	close(list_pair[1]);
}

static void timed_fd_waiter(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_fd_wait_read(&shared_fds), 0);
	test_mark('X');
}

static void net_reader(void *arg)
{
	wire_net_t *net = arg;
	char buf[8];

	test_mark('r');
	wire_net_read_any(net, buf, sizeof(buf));
	test_mark('X');
}

TEST(cancel_net_read_with_timeout)
{
	static wire_net_t net;
	int64_t t0;

	setup();
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, list_pair), 0);
	CHECK_EQ(wire_net_init(&net, list_pair[0]), 0);
	wire_net_set_timeout_ns(&net, TEST_MS(10000));
	spawn(0, "reader", net_reader, &net);
	spawn(1, "canceller", cancel_first, NULL);
	t0 = test_now_ms();
	wire_thread_run(); /* the read's deadline timer went with it */
	CHECK_RANGE(test_now_ms() - t0, 0, 1000 * test_time_scale());
	CHECK_STR_EQ(test_trace, "rcC");
	CHECK_EQ(thread.num_timers, 0);
	CHECK_EQ(thread.poller->pending, 0);
	wire_net_close(&net);
	close(list_pair[1]);
	(void)timed_fd_waiter;
}

/* ------------------------------------------------------------------ */
/* Pools.                                                              */

static wire_pool_t pool;

static void pool_sleeper(void *arg)
{
	(void)arg;
	test_mark('p');
	wire_suspend();
	test_mark('X');
}

static void pool_blocker(void *arg)
{
	wire_t *w = wire_pool_alloc_block(&pool, "second", quick, NULL);

	CHECK(w != NULL);
	test_mark(ARG_CH(arg));
}

static wire_t *pooled;

static void cancel_pooled(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_pool_in_use(&pool), 1);
	/* The first blocked allocator is cancelled: its place goes. */
	wire_cancel(&wires[1]);
	reap(1);
	/* The pooled wire is cancelled: its entry goes to the next allocator. */
	wire_cancel(pooled);
	CHECK_EQ(pooled->state, WIRE_DONE);
	test_mark('c');
}

TEST(cancel_returns_pool_entry_and_withdraws_allocators)
{
	setup();
	CHECK_EQ(wire_pool_init(&pool, NULL, 1, 64 * 1024), 0);
	pooled = wire_pool_alloc(&pool, "first", pool_sleeper, NULL);
	CHECK(pooled != NULL);
	spawn(1, "alloc-1", pool_blocker, CH('1'));
	spawn(2, "alloc-2", pool_blocker, CH('2'));
	spawn(3, "canceller", cancel_pooled, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "pc2q");
	CHECK_EQ(wire_pool_in_use(&pool), 0);
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

/* ------------------------------------------------------------------ */
/* Groups.                                                             */

#define GROUP_N 10000

static wire_group_t group;
static wire_pool_t gpool;
static unsigned group_defers;
static wire_channel_t gchan;
static wire_lock_t glock;

static void count_defer(void *arg)
{
	(void)arg;
	group_defers++;
}

/* Members block in different ways, each with a DEFER. */
static void member(void *arg)
{
	long i = (long)arg;
	void *m;

	DEFER_CALL(count_defer, NULL);
	switch (i % 4) {
	case 0:
		wire_sleep_ns(TEST_MS(60000));
		break;
	case 1:
		wire_channel_recv_block(&gchan, &m);
		break;
	case 2:
		wire_lock_take(&glock);
		break;
	default:
		wire_suspend();
		break;
	}
	test_mark('X');
}

static unsigned group_n;

static void shutdown_group(void *arg)
{
	(void)arg;
	CHECK_EQ(wire_group_count(&group), group_n);
	CHECK_EQ(wire_group_cancel(&group), 0);
	CHECK_EQ(wire_group_join(&group), 0);
	CHECK_EQ(wire_group_count(&group), 0);
	CHECK_EQ(group_defers, group_n);
	test_mark('j');
}

TEST(group_of_ten_thousand_cancelled_and_joined)
{
	setup();
	/* ThreadSanitizer caps fibers at 8128. */
	group_n = test_under_tsan() ? 2000 : GROUP_N;
	wire_group_init(&group);
	wire_channel_init(&gchan);
	wire_lock_init(&glock);
	wire_lock_take(&glock); /* held outside any wire: members queue */
	CHECK_EQ(wire_pool_init(&gpool, NULL, group_n, 16 * 1024), 0);
	for (unsigned i = 0; i < group_n; i++) {
		wire_t *w = wire_pool_alloc(&gpool, "member", member, (void *)(long)i);
		CHECK(w != NULL);
		CHECK_EQ(wire_group_add(&group, w), 0);
	}
	errno = 0;
	CHECK_EQ(wire_group_add(&group, &gpool.entries[0].wire), -1); /* in a group */
	CHECK_EQ(errno, EINVAL);
	spawn(0, "shutdown", shutdown_group, NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "j");
	CHECK_EQ(wire_pool_in_use(&gpool), 0);
	CHECK_EQ(wire_pool_destroy(&gpool), 0);
	CHECK_EQ(wire_thread_suspended(), 0);
}

static void group_member_cancels_all(void *arg)
{
	DEFER_CALL(mark_arg, arg);
	if (ARG_CH(arg) == 'm') {
		wire_group_cancel(&group); /* a member: it goes last, at once */
		test_mark('X');
	}
	wire_suspend();
	test_mark('Y');
}

static void group_outsider(void *arg)
{
	(void)arg;
	errno = 0;
	CHECK_EQ(wire_group_join(&group), 0);
	test_mark('o');
}

TEST(group_cancel_from_a_member)
{
	setup();
	wire_group_init(&group);
	CHECK_EQ(wire_group_add(&group, spawn(0, "a", group_member_cancels_all, CH('a'))), 0);
	CHECK_EQ(wire_group_add(&group, spawn(1, "b", group_member_cancels_all, CH('b'))), 0);
	CHECK_EQ(wire_group_add(&group, spawn(2, "m", group_member_cancels_all, CH('m'))), 0);
	spawn(3, "outsider", group_outsider, NULL);
	wire_thread_run();
	/* m cancels a and b (their DEFERs run when they next run), then
	 * itself; the outsider wakes when the last member ends. */
	CHECK_STR_EQ(test_trace, "mabo");
	for (int i = 0; i < 3; i++)
		reap(i);
}

static void member_joins_own_group(void *arg)
{
	(void)arg;
	errno = 0;
	CHECK_EQ(wire_group_join(&group), -1);
	CHECK_EQ(errno, EDEADLK);
	test_mark('e');
}

TEST(group_errors)
{
	setup();
	wire_group_init(&group);
	errno = 0;
	CHECK_EQ(wire_group_add(NULL, NULL), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_group_add(&group, spawn(0, "m", member_joins_own_group, NULL)), 0);
	errno = 0;
	CHECK_EQ(wire_group_add(&group, &wires[0]), -1); /* already a member */
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_group_cancel(NULL), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_group_count(NULL), 0);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "e");
	CHECK_EQ(wire_group_count(&group), 0);
	errno = 0;
	CHECK_EQ(wire_group_add(&group, &wires[0]), -1); /* ended */
	CHECK_EQ(errno, EINVAL);
}
