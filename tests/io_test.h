/*
 * Helpers of the wire_io tests (test_io*.c): a scheduler with wire_io on
 * one backend, a scratch directory, counts of fds and threads.
 */
#ifndef WIRE_TEST_IO_TEST_H
#define WIRE_TEST_IO_TEST_H

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "wire.h"
#include "wire_fd.h"
#include "wire_io.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
static char dir[256];

/* Count the entries of /proc/self/fd (open fds). */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

/* Threads of this process, from /proc/self/status. */
static inline int count_threads(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int n = -1;

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static inline void *nothing(void *arg)
{
	return arg;
}

/*
 * The thread count to compare with: after a first thread was created and
 * joined, so that helper threads of the tools (ThreadSanitizer's) exist.
 */
static inline int base_threads(void)
{
	pthread_t t;

	CHECK_EQ(pthread_create(&t, NULL, nothing, NULL), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	return count_threads();
}

/*
 * Check the thread count comes back to @n. The kernel's io_uring workers
 * leave on their own shortly after the ring is closed: allow them a moment.
 */
static inline void check_threads_back_to(int n)
{
	int64_t end = test_now_ms() + 2000 * test_time_scale();

	/* Only "no more than before": a thread joined just before the first
	 * count may still have been listed then, and an emulator (qemu-user)
	 * runs helper threads of its own that come and go. */
	while (count_threads() > n && test_now_ms() < end)
		usleep(1000);
	CHECK(count_threads() <= n);
}

static inline void path_in_dir(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

static inline void make_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/wire_io_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
}

static inline void remove_dir(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ(system(cmd), 0);
}

/*
 * Start a scheduler with an fd poller and wire_io on @backend. A uring
 * test skips, saying why, where the kernel or the build has no io_uring.
 */
static inline void start(const char *backend)
{
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	if (wire_io_init_backend(4, backend) != 0) {
		static char why[160];
		if (strcmp(backend, "uring") != 0)
			test_fail(__FILE__, __LINE__, "wire_io_init_backend(%s): %s", backend,
				  strerror(errno));
		snprintf(why, sizeof(why), "io_uring backend unavailable: %s%s", strerror(errno),
			 errno == ENOSYS ? " (built without liburing, or kernel too old)" : "");
		test_skip(why);
	}
	CHECK_STR_EQ(wire_io_backend(), backend);
	make_dir();
}

static inline void finish(void)
{
	/* An idle wire_io keeps nothing pending and parks no wire. */
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK_EQ(wire_thread_get()->poller->pending, 0);
	wire_io_shutdown();
	CHECK_STR_EQ(wire_io_backend(), "none");
	remove_dir();
}

/* Run @fn in one wire to completion. */
static inline void run_wire(void (*fn)(void *), void *arg)
{
	static char stack[STACK];
	static wire_t w;

	CHECK(wire_init(&w, "body", fn, arg, stack, STACK) != NULL);
	wire_thread_run();
	CHECK_EQ(w.state, WIRE_DONE);
}

#endif
