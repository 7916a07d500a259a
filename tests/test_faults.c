// TEST_LABELS: threads
/*
 * Syscall failures injected through the seam (src/sys.h), across layers:
 * each failing call returns its documented error, leaves no fd or mapping
 * behind (fds counted in /proc/self/fd; the valgrind run checks memory),
 * and afterwards the scheduler, channels, locks, pools and the poller all
 * still work. The failure paths a single layer owns are tested with that
 * layer (test_stack.c: mmap, mprotect, munmap, sigaltstack, sigaction;
 * test_pool.c: a pooled wire's stack; test_fd.c: first registration and
 * epoll_create1; test_io.c: wire_io_init's eventfd, pthread_create and
 * io_uring_setup, with fd and thread counts); this file covers the rest
 * and what must hold after them.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/wait.h>

#include "wire_channel.h"
#include "wire_fd.h"
#include "wire_io.h"
#include "wire_lock.h"
#include "wire_pool.h"
#include "sys.h"
#include "test.h"

#define STACK (64 * 1024)
#define NW    8

static wire_thread_t thread;
static char stacks[NW][STACK];
static wire_t wires[NW];
static int nspawned;

static void spawn(const char *name, void (*fn)(void *), void *arg)
{
	CHECK(nspawned < NW);
	CHECK_PTR_EQ(wire_init(&wires[nspawned], name, fn, arg, stacks[nspawned], STACK),
		     &wires[nspawned]);
	nspawned++;
}

static void run(void)
{
	wire_thread_run();
	CHECK_EQ(wire_thread_suspended(), 0);
	nspawned = 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory stream's own fd */
}

static void nonblocking_pipe(int fds[2])
{
	CHECK_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

/* ------------------------------------------------------------------ */
/* "Still usable": a workload over pools, channels, locks and sleeps,   */
/* and, when the thread has a poller, fd waits.                         */

#define WORKERS 12

static wire_pool_t upool;
static wire_pool_entry_t uentries[4];
static wire_channel_t uch;
static wire_lock_t ulock;
static int uholders, ugot[WORKERS], ulocked;

static void u_worker(void *arg)
{
	wire_lock_take(&ulock);
	CHECK_EQ(uholders++, 0);
	wire_sleep_ns(200000);
	uholders--;
	ulocked++;
	wire_lock_release(&ulock);
	wire_channel_send(&uch, arg);
}

static void u_spawner(void *arg)
{
	(void)arg;
	/* 12 wires from 4 entries: alloc_block has to wait for frees. */
	for (uintptr_t i = 0; i < WORKERS; i++)
		CHECK(wire_pool_alloc_block(&upool, "uworker", u_worker, (void *)i) != NULL);
}

static void u_collector(void *arg)
{
	(void)arg;
	for (int i = 0; i < WORKERS; i++) {
		void *m;
		CHECK_EQ(wire_channel_recv_block(&uch, &m), 0);
		CHECK((uintptr_t)m < WORKERS);
		ugot[(uintptr_t)m]++;
	}
}

static int upfd[2];
static wire_fd_state_t ust;
static char ubuf[8];

static void u_fd_reader(void *arg)
{
	ssize_t r;

	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&ust), 0);
	while ((r = read(upfd[0], ubuf, sizeof(ubuf))) < 0 && errno == EAGAIN)
		CHECK_EQ(wire_fd_wait(&ust), 0);
	CHECK_EQ(r, 3);
	CHECK_EQ(wire_fd_close(&ust), 0);
}

static void u_fd_writer(void *arg)
{
	(void)arg;
	wire_sleep_ns(1000000);
	CHECK_EQ(write(upfd[1], "abc", 3), 3);
	close(upfd[1]);
}

static void check_usable(void)
{
	int has_poller = wire_thread_get()->poller != NULL;
	int fds = count_fds();

	CHECK_EQ(wire_pool_init(&upool, uentries, 4, STACK), 0);
	wire_channel_init(&uch);
	wire_lock_init(&ulock);
	memset(ugot, 0, sizeof(ugot));
	ulocked = 0;
	spawn("spawner", u_spawner, NULL);
	spawn("collector", u_collector, NULL);
	if (has_poller) {
		nonblocking_pipe(upfd);
		wire_fd_mode_init(&ust, upfd[0]);
		memset(ubuf, 0, sizeof(ubuf));
		spawn("reader", u_fd_reader, NULL);
		spawn("writer", u_fd_writer, NULL);
	}
	run();
	for (int i = 0; i < WORKERS; i++)
		CHECK_EQ(ugot[i], 1);
	CHECK_EQ(ulocked, WORKERS);
	CHECK_EQ(wire_pool_in_use(&upool), 0);
	CHECK_EQ(wire_pool_destroy(&upool), 0);
	if (has_poller)
		CHECK_STR_EQ(ubuf, "abc");
	CHECK_EQ(count_fds(), fds);
	CHECK_EQ(wire__fault_armed, 0);
}

/* ------------------------------------------------------------------ */

TEST(epoll_create_failure)
{
	int fds = count_fds();

	wire_thread_init(&thread);
	wire__fault_set(WIRE_SYS_EPOLL_CREATE, 1, EMFILE);
	errno = 0;
	CHECK_EQ(wire_fd_init(), -1);
	CHECK_EQ(errno, EMFILE);
	CHECK(thread.poller == NULL);
	CHECK_EQ(count_fds(), fds);
	check_usable(); /* everything but fds works without a poller */
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(count_fds(), fds + 1); /* the epoll instance */
	check_usable();

	/* A failing re-initialization keeps the working instance. */
	wire__fault_set(WIRE_SYS_EPOLL_CREATE, 1, ENFILE);
	errno = 0;
	CHECK_EQ(wire_fd_init(), -1);
	CHECK_EQ(errno, ENFILE);
	CHECK_EQ(count_fds(), fds + 1);
	check_usable();
}

/* ------------------------------------------------------------------ */

static int wpfd[2];
static wire_fd_state_t wst;
static int64_t wait_ms;

static void wait_reader(void *arg)
{
	int64_t t0 = test_now_ms();
	char c;

	(void)arg;
	CHECK_EQ(wire_fd_mode_read(&wst), 0);
	while (read(wpfd[0], &c, 1) != 1) {
		CHECK_EQ(errno, EAGAIN);
		CHECK_EQ(wire_fd_wait(&wst), 0);
	}
	CHECK_EQ(c, 'x');
	wait_ms = test_now_ms() - t0;
}

static void wait_writer(void *arg)
{
	(void)arg;
	wire_sleep_ns(20 * 1000000);
	CHECK_EQ(write(wpfd[1], "x", 1), 1);
}

TEST(epoll_wait_failure_is_retried)
{
	static const int errs[] = {EINTR, ENOMEM, EFAULT};
	int fds;

	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	fds = count_fds();
	for (unsigned i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		nonblocking_pipe(wpfd);
		wire_fd_mode_init(&wst, wpfd[0]);
		spawn("reader", wait_reader, NULL);
		spawn("writer", wait_writer, NULL);
		/* The first or the second look at epoll fails. */
		wire__fault_set(WIRE_SYS_EPOLL_WAIT, 1 + i % 2, errs[i]);
		wait_ms = -1;
		run();
		CHECK_EQ(wire__fault_armed, 0); /* the failure did happen */
		CHECK_RANGE(wait_ms, 19, 1000 * test_time_scale());
		CHECK_EQ(wire_fd_close(&wst), 0);
		close(wpfd[1]);
		CHECK_EQ(count_fds(), fds);
	}
	check_usable();
}

static void epoll_fd_closed_child(void *arg)
{
	(void)arg;
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	nonblocking_pipe(wpfd);
	wire_fd_mode_init(&wst, wpfd[0]);
	spawn("reader", wait_reader, NULL);
	spawn("writer", wait_writer, NULL);
	wire__fault_set(WIRE_SYS_EPOLL_WAIT, 1, EBADF);
	wire_thread_run();
}

TEST(epoll_wait_ebadf_aborts_with_a_message)
{
	char err[1024];
	int status = test_run_child(epoll_fd_closed_child, NULL, err, sizeof(err));

	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGABRT);
	if (!strstr(err, "libwire: wire_fd: epoll_wait failed"))
		test_fail(__FILE__, __LINE__, "unexpected message: %s", err);
}

/* ------------------------------------------------------------------ */

/*
 * A state registered with an earlier epoll instance is registered again on
 * its next wait or chain. When that epoll_ctl fails, the wait fails with
 * its errno, nothing is left parked or chained, and the next try works.
 */
static void rereg_wire(void *arg)
{
	wire_wait_list_t wl;
	char c;

	(void)arg;
	wire_wait_list_init(&wl);
	wire__fault_set(WIRE_SYS_EPOLL_CTL, 1, ENOSPC);
	errno = 0;
	CHECK_EQ(wire_fd_wait_read(&wst), -1);
	CHECK_EQ(errno, ENOSPC);
	CHECK_EQ(thread.poller->pending, 0);
	wire__fault_set(WIRE_SYS_EPOLL_CTL, 1, ENOMEM);
	errno = 0;
	CHECK(wire_fd_wait_list_chain(&wl, &wst) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK(wl.head.next == &wl.head);
	CHECK_EQ(thread.poller->pending, 0);
	/* Now it registers, and data written later wakes the chained wait. */
	CHECK(wire_fd_wait_list_chain(&wl, &wst) != NULL);
	CHECK(wire_list_wait(&wl) == &wst.dir[0].wait);
	wire_wait_unchain(&wst.dir[0].wait);
	CHECK_EQ(read(wpfd[0], &c, 1), 1);
	CHECK_EQ(c, 'x');
	wait_ms = 0;
}

TEST(epoll_ctl_failure_on_reregistration)
{
	int fds;

	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	nonblocking_pipe(wpfd);
	wire_fd_mode_init(&wst, wpfd[0]);
	CHECK_EQ(wire_fd_mode_read(&wst), 0);
	fds = count_fds();
	CHECK_EQ(wire_fd_init(), 0); /* a fresh instance: wst must register again */
	CHECK_EQ(count_fds(), fds);  /* the old instance was closed */
	wait_ms = -1;
	spawn("rereg", rereg_wire, NULL);
	spawn("writer", wait_writer, NULL);
	run();
	CHECK_EQ(wait_ms, 0);
	CHECK_EQ(wire_fd_close(&wst), 0);
	close(wpfd[1]);
	check_usable();
}

/* ------------------------------------------------------------------ */

static int closed_err;

static void parked_reader(void *arg)
{
	(void)arg;
	errno = 0;
	closed_err = wire_fd_wait(&wst) == -1 ? errno : 0;
}

static void closer(void *arg)
{
	int r;

	wire_yield(); /* the reader parks first */
	CHECK_EQ(thread.poller->pending, 1);
	wire__fault_set((enum wire_sys)(uintptr_t)arg, 1, EIO);
	errno = 0;
	r = wire_fd_close(&wst);
	if ((uintptr_t)arg == WIRE_SYS_CLOSE) {
		/* close(2) reports EIO after releasing the descriptor. */
		CHECK_EQ(r, -1);
		CHECK_EQ(errno, EIO);
	} else {
		/* A failed EPOLL_CTL_DEL does not keep the fd open. */
		CHECK_EQ(r, 0);
	}
	CHECK_EQ(wst.fd, -1);
	CHECK_EQ(thread.poller->pending, 0);
}

TEST(close_failures_release_the_fd)
{
	static const enum wire_sys calls[] = {WIRE_SYS_EPOLL_CTL, WIRE_SYS_CLOSE};
	int fds;

	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	fds = count_fds();
	for (unsigned i = 0; i < 2; i++) {
		nonblocking_pipe(wpfd);
		wire_fd_mode_init(&wst, wpfd[0]);
		CHECK_EQ(wire_fd_mode_read(&wst), 0);
		closed_err = -1;
		spawn("reader", parked_reader, NULL);
		spawn("closer", closer, (void *)(uintptr_t)calls[i]);
		run();
		CHECK_EQ(closed_err, EBADF); /* the parked wait was ended */
		CHECK_EQ(wire__fault_armed, 0);
		close(wpfd[1]);
		CHECK_EQ(count_fds(), fds);
		/* The fd number is reused by the next pipe: no stale event. */
		check_usable();
	}
}

/* ------------------------------------------------------------------ */
/* wire_io: a failed start leaves the scheduler usable and wio working  */
/* once started; a thread whose completion channel cannot be set up    */
/* still gets correct results (the plain call).                         */

static char io_path[64];
static int io_fd;
static ssize_t io_got;
static char io_buf[16];

static void make_file(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(io_path, sizeof(io_path), "%s/wire_faults_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	io_fd = mkstemp(io_path);
	CHECK(io_fd >= 0);
	CHECK_EQ(unlink(io_path), 0);
	CHECK_EQ(pwrite(io_fd, "wire-io-data", 12, 0), 12);
}

static void io_reader(void *arg)
{
	(void)arg;
	memset(io_buf, 0, sizeof(io_buf));
	io_got = wio_pread(io_fd, io_buf, 12, 0);
}

static void check_wio_reads(void)
{
	io_got = -1;
	spawn("wio", io_reader, NULL);
	run();
	CHECK_EQ(io_got, 12);
	CHECK_STR_EQ(io_buf, "wire-io-data");
}

static void check_start_fails(const char *backend, enum wire_sys call, unsigned nth, int err)
{
	int fds = count_fds();

	wire__fault_set(call, nth, err);
	errno = 0;
	CHECK_EQ(wire_io_init_backend(2, backend), -1);
	CHECK_EQ(errno, err);
	wire__fault_clear();
	CHECK_EQ(count_fds(), fds);
	CHECK_STR_EQ(wire_io_backend(), "none");
	check_usable();
	check_wio_reads(); /* not started: the plain call */
	CHECK_EQ(wire_io_init_backend(2, backend), 0);
	check_wio_reads();
	check_usable();
	wire_io_shutdown();
	CHECK_EQ(count_fds(), fds);
}

TEST(wio_start_failures)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	make_file();
	check_start_fails("threads", WIRE_SYS_EVENTFD, 1, EMFILE);
	check_start_fails("threads", WIRE_SYS_PTHREAD_CREATE, 2, EAGAIN);
	close(io_fd);
}

TEST(wio_start_failures_uring)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	make_file();
	if (wire_io_init_backend(1, "uring") != 0)
		test_skip("io_uring backend unavailable");
	wire_io_shutdown();
	check_start_fails("uring", WIRE_SYS_IO_URING_SETUP, 1, ENOMEM);
	check_start_fails("uring", WIRE_SYS_EVENTFD, 1, ENFILE);
	close(io_fd);
}

static int thread_fds_before, thread_fds_after;

static void *second_scheduler(void *arg)
{
	static wire_thread_t t2;

	(void)arg;
	wire_thread_init(&t2);
	CHECK_EQ(wire_fd_init(), 0);
	thread_fds_before = count_fds();
	/* This thread's completion channel is set up by its first call. */
	wire__fault_set(WIRE_SYS_EVENTFD, 1, EMFILE);
	io_got = -1;
	spawn("wio2", io_reader, NULL);
	run();
	CHECK_EQ(wire__fault_armed, 0); /* the eventfd did fail */
	CHECK_EQ(io_got, 12);
	CHECK_STR_EQ(io_buf, "wire-io-data");
	thread_fds_after = count_fds();
	check_usable();
	return NULL;
}

TEST(wio_thread_channel_failure_falls_back_to_the_plain_call)
{
	pthread_t t;

	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	make_file();
	CHECK_EQ(wire_io_init_backend(2, "threads"), 0);
	check_wio_reads();
	CHECK_EQ(pthread_create(&t, NULL, second_scheduler, NULL), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(thread_fds_after, thread_fds_before);
	check_wio_reads(); /* the first thread is unaffected */
	wire_io_shutdown();
	close(io_fd);
}
