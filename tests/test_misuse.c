/*
 * Misuse that cannot be reported aborts with a message naming the call,
 * checked in child processes. Every blocking call of every layer, made
 * where no wire runs, in the two places that happen in real programs: the
 * main thread after wire_thread_init() (before or after wire_thread_run)
 * and a timer callback (which runs on the scheduler's stack, outside any
 * wire). Each call is set up so that it would have to block. Also: calls
 * that need a scheduler on a thread without one, wire_thread_run() from a
 * wire, and a stack overflow in a pooled wire. (Per-layer tests cover
 * some of these too: resuming a wire of another thread in
 * test_wire_threads.c, releasing an unheld lock in test_lock.c, an
 * overflow on a wire_stack_alloc() stack in test_stack.c.)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "wire_channel.h"
#include "wire_fd.h"
#include "wire_lock.h"
#include "wire_pool.h"
#include "wire_semaphore.h"
#include "wire_stack.h"
#include "wire_timeout.h"
#include "wire_wait.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
static wire_channel_t ch;
static wire_lock_t lock;
static wire_sem_t sem;
static wire_wait_t wait1, wait2;
static wire_wait_list_t wlist;
static wire_pool_t pool;
static wire_pool_entry_t entries[1];
static wire_fd_state_t fdst;
static wire_timeout_t tmo;
static int pfd[2];

static void noop(void *arg)
{
	(void)arg;
}

/* Each call, with its preconditions set so that it has to block. */
static void do_yield(void)
{
	wire_yield();
}

static void do_suspend(void)
{
	wire_suspend();
}

static void do_sleep(void)
{
	wire_sleep_ns(1000000);
}

static void do_wait_single(void)
{
	wire_wait_init(&wait1);
	wire_wait_single(&wait1);
}

static void do_list_wait(void)
{
	wire_wait_init(&wait1);
	wire_wait_list_init(&wlist);
	wire_wait_chain(&wlist, &wait1);
	wire_list_wait(&wlist);
}

static void do_wait_two(void)
{
	wire_wait_init(&wait1);
	wire_wait_init(&wait2);
	wire_wait_two(&wait1, &wait2);
}

static void do_send(void)
{
	wire_channel_init(&ch);
	wire_channel_send(&ch, &ch);
}

static void do_recv(void)
{
	void *m;
	wire_channel_init(&ch);
	wire_channel_recv_block(&ch, &m);
}

static void do_lock_take(void)
{
	wire_lock_init(&lock);
	CHECK_EQ(wire_lock_try_take(&lock), 1);
	wire_lock_take(&lock);
}

static void do_lock_wait_clear(void)
{
	wire_lock_init(&lock);
	CHECK_EQ(wire_lock_try_take(&lock), 1);
	wire_lock_wait_clear(&lock);
}

static void do_sem_take(void)
{
	wire_sem_init(&sem, 0);
	wire_sem_take(&sem);
}

static void do_pool_alloc_block(void)
{
	CHECK_EQ(wire_pool_init(&pool, entries, 1, STACK), 0);
	CHECK(wire_pool_alloc(&pool, "taken", noop, NULL) != NULL);
	wire_pool_alloc_block(&pool, "x", noop, NULL);
}

static void fd_setup(void)
{
	CHECK_EQ(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	wire_fd_mode_init(&fdst, pfd[0]);
	CHECK_EQ(wire_fd_mode_read(&fdst), 0);
}

static void do_fd_wait(void)
{
	fd_setup();
	wire_fd_wait(&fdst);
}

static void do_fd_wait_read(void)
{
	fd_setup();
	wire_fd_wait_read(&fdst);
}

static void do_fd_wait_write(void)
{
	/* A full pipe is not writable. */
	char buf[4096] = {0};
	fd_setup();
	while (write(pfd[1], buf, sizeof(buf)) > 0)
		;
	wire_fd_mode_init(&fdst, pfd[1]);
	CHECK_EQ(wire_fd_mode_write(&fdst), 0);
	wire_fd_wait_write(&fdst);
}

static void do_fd_wait_msec(void)
{
	wire_fd_wait_msec(1);
}

static void do_timeout_wait(void)
{
	wire_wait_init(&wait1);
	wire_timeout_init(&tmo);
	CHECK_EQ(wire_timeout_reset(&tmo, 1000), 0);
	wire_timeout_wait(&wait1, &tmo);
}

static const struct blocking_call {
	const char *name;
	void (*call)(void);
} calls[] = {
    {"wire_yield", do_yield},
    {"wire_suspend", do_suspend},
    {"wire_sleep_ns", do_sleep},
    {"wire_wait_single", do_wait_single},
    {"wire_list_wait", do_list_wait},
    {"wire_wait_two", do_wait_two},
    {"wire_channel_send", do_send},
    {"wire_channel_recv_block", do_recv},
    {"wire_lock_take", do_lock_take},
    {"wire_lock_wait_clear", do_lock_wait_clear},
    {"wire_sem_take", do_sem_take},
    {"wire_pool_alloc_block", do_pool_alloc_block},
    {"wire_fd_wait", do_fd_wait},
    {"wire_fd_wait_read", do_fd_wait_read},
    {"wire_fd_wait_write", do_fd_wait_write},
    {"wire_fd_wait_msec", do_fd_wait_msec},
    {"wire_timeout_wait", do_timeout_wait},
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

static void setup(void)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
}

static void call_in_main(void *arg)
{
	setup();
	calls[(uintptr_t)arg].call();
	_exit(0); /* returned instead of aborting */
}

/* After a run, too: the scheduler is idle, no wire is current. */
static void call_after_run(void *arg)
{
	static char stack[STACK];
	static wire_t w;

	setup();
	CHECK(wire_init(&w, "done", noop, NULL, stack, STACK) != NULL);
	wire_thread_run();
	calls[(uintptr_t)arg].call();
	_exit(0);
}

static const struct blocking_call *timer_call;

static void fire(wire_timer_t *t)
{
	(void)t;
	timer_call->call();
	_exit(0);
}

static void call_in_timer(void *arg)
{
	static wire_timer_t t;

	setup();
	timer_call = &calls[(uintptr_t)arg];
	wire_timer_init(&t, fire);
	wire_timer_start_at(&t, wire_now_ns());
	wire_thread_run();
	_exit(0);
}

static void expect_abort(void (*fn)(void *), void *arg, const char *call, const char *what)
{
	char err[1024];
	int status = test_run_child(fn, arg, err, sizeof(err));

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		test_fail(__FILE__, __LINE__, "%s: status %#x instead of SIGABRT; stderr: %s", call,
			  status, err);
	char want[128];

	snprintf(want, sizeof(want), "libwire: %s: ", call);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
		test_fail(__FILE__, __LINE__, "expected \"%s...%s\", got: %s", want, what, err);
}

TEST(every_blocking_call_outside_a_wire_aborts)
{
	for (uintptr_t i = 0; i < NCALLS; i++) {
		expect_abort(call_in_main, (void *)i, calls[i].name, "called outside a wire");
		expect_abort(call_after_run, (void *)i, calls[i].name, "called outside a wire");
	}
}

TEST(every_blocking_call_in_a_timer_callback_aborts)
{
	for (uintptr_t i = 0; i < NCALLS; i++)
		expect_abort(call_in_timer, (void *)i, calls[i].name, "called outside a wire");
}

/* ------------------------------------------------------------------ */

static void run_in_wire(void *arg)
{
	(void)arg;
	wire_thread_run();
}

static void nested_run(void *arg)
{
	static char stack[STACK];
	static wire_t w;

	(void)arg;
	wire_thread_init(&thread);
	CHECK(wire_init(&w, "nested", run_in_wire, NULL, stack, STACK) != NULL);
	wire_thread_run();
	_exit(0);
}

static void run_without_scheduler(void *arg)
{
	(void)arg;
	wire_thread_run();
	_exit(0);
}

static void timer_without_scheduler(void *arg)
{
	static wire_timer_t t;

	(void)arg;
	wire_timer_init(&t, NULL);
	wire_timer_start_at(&t, 0);
	_exit(0);
}

static void poller_without_scheduler(void *arg)
{
	static wire_poller_t p;

	(void)arg;
	wire_thread_set_poller(&p);
	_exit(0);
}

TEST(scheduler_misuse_aborts)
{
	expect_abort(nested_run, NULL, "wire_thread_run", "called from inside a wire");
	expect_abort(run_without_scheduler, NULL, "wire_thread_run", "no scheduler on this thread");
	expect_abort(timer_without_scheduler, NULL, "wire_timer_start_at",
		     "no scheduler on this thread");
	expect_abort(poller_without_scheduler, NULL, "wire_thread_set_poller",
		     "no scheduler on this thread");
}

/* ------------------------------------------------------------------ */

static unsigned dive(unsigned depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	pad[255] = (char)depth;
	if (depth == 0xffffffffu)
		return pad[0];
	return dive(depth + 1) + pad[255];
}

static void diver(void *arg)
{
	(void)arg;
	dive(0);
}

static void pooled_overflow(void *arg)
{
	struct rlimit rl = {0, 0};

	(void)arg;
	setrlimit(RLIMIT_CORE, &rl);
	CHECK_EQ(wire_stack_fault_detector_install(), 0);
	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, entries, 1, 16 * 1024), 0);
	CHECK(wire_pool_alloc(&pool, "pooled-diver", diver, NULL) != NULL);
	wire_thread_run();
	_exit(0);
}

TEST(stack_overflow_in_a_pooled_wire_is_named)
{
	char err[1024];
	int status = test_run_child(pooled_overflow, NULL, err, sizeof(err));

	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
	if (!strstr(err, "stack overflow") || !strstr(err, "wire 'pooled-diver'"))
		test_fail(__FILE__, __LINE__, "unexpected report: %s", err);
}
