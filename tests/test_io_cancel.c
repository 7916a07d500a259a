/*
 * Cancelling a wire in a wio call, on both backends: a call still queued
 * is taken back at once; a call under way completes first (io_uring is
 * asked to cancel it), and what it opened meanwhile is closed.
 */
// TEST_LABELS: threads
#include <fcntl.h>
#include <sys/stat.h>

#include "wire_defer.h"
#include "io_test.h"
#include "sys.h" /* WIRE_INTERNAL */

WIRE_INTERNAL unsigned long wire__io_handoffs(void);
WIRE_INTERNAL unsigned wire__io_pool_queued(void);

/* Wait until the workers have taken all but @n of the queued calls. */
static void wait_queued(unsigned n)
{
	while (wire__io_pool_queued() > n)
		wire_sleep_ns(TEST_MS(1));
}

static wire_t wires[4];
static char stacks[4][STACK];
static int pipes[2][2];

static void mark_arg(void *arg)
{
	test_mark((char)(long)arg);
}

/* Start with a single worker, so that a second call waits in the queue. */
static void start_one_worker(const char *backend)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	if (wire_io_init_backend(1, backend) != 0) {
		CHECK_EQ(strcmp(backend, "uring"), 0);
		test_skip("io_uring backend unavailable");
	}
	test_trace_reset();
}

static void reader(void *arg)
{
	char c;
	long i = (long)arg;

	DEFER_CALL(mark_arg, (void *)(long)('a' + i));
	wio_read(pipes[i][0], &c, 1);
	test_mark('X');
}

static void cancel_both(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	CHECK_EQ(wires[1].state, WIRE_SUSPENDED);
	wait_queued(1); /* the worker has a's read */
	/* Reader b waits in the queue behind a: taken back, ends now. */
	wire_cancel(&wires[1]);
	wire_yield();
	CHECK_EQ(wires[1].state, WIRE_DONE);
	/* Reader a's read is under way in the worker: it must complete. */
	wire_cancel(&wires[0]);
	wire_yield();
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	test_mark('w');
	CHECK_EQ(write(pipes[0][1], "x", 1), 1);
	CHECK_EQ(wire_join(&wires[0]), 0);
	test_mark('j');
}

TEST(queued_call_withdrawn_running_call_completes_threads)
{
	char c;

	start_one_worker("threads");
	CHECK_EQ(pipe(pipes[0]), 0);
	CHECK_EQ(pipe(pipes[1]), 0);
	CHECK(wire_init(&wires[0], "a", reader, (void *)0L, stacks[0], STACK));
	CHECK(wire_init(&wires[1], "b", reader, (void *)1L, stacks[1], STACK));
	CHECK(wire_init(&wires[2], "canceller", cancel_both, NULL, stacks[2], STACK));
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "bwaj");
	CHECK_EQ(wire_thread_get()->poller->pending, 0);
	/* The byte was read by the cancelled call. */
	CHECK_EQ(fcntl(pipes[0][0], F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(read(pipes[0][0], &c, 1), -1);
	wire_io_shutdown();
	for (int i = 0; i < 2; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
}

static void cancel_ring_reader(void *arg)
{
	(void)arg;
	CHECK_EQ(wires[0].state, WIRE_SUSPENDED);
	wire_cancel(&wires[0]);
	/* The kernel is asked to cancel the read: it ends with no data. */
	CHECK_EQ(wire_join(&wires[0]), 0);
	test_mark('j');
}

TEST(running_call_cancelled_by_the_kernel_uring)
{
	int64_t t0;

	start_one_worker("uring");
	CHECK_EQ(pipe(pipes[0]), 0);
	CHECK(wire_init(&wires[0], "a", reader, (void *)0L, stacks[0], STACK));
	CHECK(wire_init(&wires[1], "canceller", cancel_ring_reader, NULL, stacks[1], STACK));
	t0 = test_now_ms();
	wire_thread_run();
	CHECK_RANGE(test_now_ms() - t0, 0, 2000 * test_time_scale());
	CHECK_STR_EQ(test_trace, "aj");
	CHECK_EQ(wire_thread_get()->poller->pending, 0);
	wire_io_shutdown();
	close(pipes[0][0]);
	close(pipes[0][1]);
}

/* An open that completes for a cancelled wire: the fd is closed for it. */
static char fifo[300];

static void opener(void *arg)
{
	(void)arg;
	DEFER_CALL(mark_arg, (void *)(long)'d');
	wio_open(fifo, O_RDONLY); /* blocks in the worker until a writer opens */
	test_mark('X');
}

static void cancel_opener(void *arg)
{
	int wfd;

	(void)arg;
	if (strcmp(wire_io_backend(), "threads") == 0) {
		wait_queued(0);
		wire_cancel(&wires[0]);
		wire_yield();
		CHECK_EQ(wires[0].state, WIRE_SUSPENDED); /* the open is under way */
	} else {
		/* The kernel may cancel the open or let it complete: either
		 * way no fd is left open. */
		wire_cancel(&wires[0]);
	}
	/* A writer lets an open under way complete (ENXIO: no reader yet,
	 * or none any more because the kernel cancelled it). */
	while (wires[0].state != WIRE_DONE) {
		wfd = open(fifo, O_WRONLY | O_NONBLOCK);
		if (wfd >= 0) {
			CHECK_EQ(wire_join(&wires[0]), 0);
			close(wfd);
			break;
		}
		CHECK_EQ(errno, ENXIO);
		wire_sleep_ns(TEST_MS(1));
	}
	test_mark('j');
}

static void open_completes_for_cancelled(const char *backend)
{
	int fds;

	fds = count_fds();
	start_one_worker(backend);
	make_dir();
	path_in_dir(fifo, sizeof(fifo), "fifo");
	CHECK_EQ(mkfifo(fifo, 0600), 0);
	CHECK(wire_init(&wires[0], "opener", opener, NULL, stacks[0], STACK));
	CHECK(wire_init(&wires[1], "canceller", cancel_opener, NULL, stacks[1], STACK));
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "dj");
	wire_io_shutdown();
	CHECK_EQ(count_fds(), fds + 1); /* the poller's epoll instance */
	remove_dir();
}

TEST(open_completed_after_cancel_is_closed_threads)
{
	open_completes_for_cancelled("threads");
}

TEST(open_completed_after_cancel_is_closed_uring)
{
	open_completes_for_cancelled("uring");
}

static void read_after_cancel(void *arg)
{
	char c;

	(void)arg;
	wire_cancel(wire_get_current()); /* ends at once: the read never starts */
	wio_read(pipes[0][0], &c, 1);
	test_mark('X');
}

static void ready_then_wio(void *arg)
{
	char c;

	(void)arg;
	DEFER_CALL(mark_arg, (void *)(long)'d');
	test_mark('1');
	wire_yield();
	test_mark('2');
	wio_read(pipes[0][0], &c, 1); /* a cancellation point: never starts */
	test_mark('X');
}

static void cancel_ready_wire(void *arg)
{
	(void)arg;
	wire_cancel(&wires[0]);
	test_mark('c');
}

TEST(wio_call_is_a_cancellation_point)
{
	unsigned long before;

	start_one_worker("threads");
	CHECK_EQ(pipe(pipes[0]), 0);
	CHECK(wire_init(&wires[0], "ready", ready_then_wio, NULL, stacks[0], STACK));
	CHECK(wire_init(&wires[1], "canceller", cancel_ready_wire, NULL, stacks[1], STACK));
	CHECK(wire_init(&wires[2], "self", read_after_cancel, NULL, stacks[2], STACK));
	before = wire__io_handoffs();
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "1c2d");
	CHECK_EQ(wire__io_handoffs(), before); /* no call was handed off */
	wire_io_shutdown();
	close(pipes[0][0]);
	close(pipes[0][1]);
}

/* A call that completed before the cancel returns its result; the wire
 * ends at its next block. */
static int opened_fd = -2;

static void close_opened(void *arg)
{
	(void)arg;
	if (opened_fd >= 0)
		close(opened_fd);
	test_mark('d');
}

static void open_then_block(void *arg)
{
	(void)arg;
	DEFER_CALL(close_opened, NULL);
	opened_fd = wio_open("/dev/null", O_RDONLY);
	test_mark(opened_fd >= 0 ? 'o' : 'X');
	wire_yield(); /* ends here */
	test_mark('Y');
}

static void cancel_when_ready(void *arg)
{
	(void)arg;
	/* The poller's next look makes the opener ready, behind this wire. */
	while (wires[0].state != WIRE_READY)
		wire_yield();
	wire_cancel(&wires[0]);
	test_mark('c');
}

static void completed_then_cancelled(const char *backend)
{
	start_one_worker(backend);
	CHECK(wire_init(&wires[0], "opener", open_then_block, NULL, stacks[0], STACK));
	CHECK(wire_init(&wires[1], "canceller", cancel_when_ready, NULL, stacks[1], STACK));
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "cod");
	wire_io_shutdown();
}

TEST(result_of_a_call_completed_before_the_cancel_is_returned_threads)
{
	completed_then_cancelled("threads");
}

TEST(result_of_a_call_completed_before_the_cancel_is_returned_uring)
{
	completed_then_cancelled("uring");
}
