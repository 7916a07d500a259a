/*
 * Minimal test harness. Each test file is one executable; CTest runs each
 * TEST() in its own process (`test_x NAME`) with a timeout. A failed
 * check prints file:line and the values, then aborts: it never unwinds,
 * because it may fail on a wire's stack.
 */
#ifndef WIRE_TEST_H
#define WIRE_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exit code of a skipped test (CTest SKIP_RETURN_CODE). */
#define TEST_SKIP_CODE 77

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);

#define TEST(name)                                                                                 \
	static void test_##name(void);                                                             \
	__attribute__((constructor)) static void test_register_##name(void)                        \
	{                                                                                          \
		test_register(#name, test_##name);                                                 \
	}                                                                                          \
	static void test_##name(void)

void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			test_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s) failed: %lld != %lld", #a, \
				  #b, a_, b_);                                                     \
	} while (0)

#define CHECK_PTR_EQ(a, b)                                                                         \
	do {                                                                                       \
		const void *a_ = (const void *)(a), *b_ = (const void *)(b);                       \
		if (a_ != b_)                                                                      \
			test_fail(__FILE__, __LINE__, "CHECK_PTR_EQ(%s, %s) failed: %p != %p", #a, \
				  #b, a_, b_);                                                     \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                                             \
			test_fail(__FILE__, __LINE__,                                              \
				  "CHECK_STR_EQ(%s, %s) failed: \"%s\" != \"%s\"", #a, #b,         \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)");                         \
	} while (0)

/* Check that @lo <= @v <= @hi. */
#define CHECK_RANGE(v, lo, hi)                                                                     \
	do {                                                                                       \
		long long v_ = (long long)(v), lo_ = (long long)(lo), hi_ = (long long)(hi);       \
		if (v_ < lo_ || v_ > hi_)                                                          \
			test_fail(__FILE__, __LINE__,                                              \
				  "CHECK_RANGE(%s) failed: %lld not in [%lld, %lld]", #v, v_, lo_, \
				  hi_);                                                            \
	} while (0)

/*
 * The order of events in a test: test_mark() appends a character to
 * test_trace (a NUL-terminated string); test_trace_reset() empties it.
 */
extern char test_trace[1024];
void test_mark(char c);
void test_trace_reset(void);

/* Skip the running test with a reason. */
void test_skip(const char *why) __attribute__((noreturn));

/*
 * Factor for timing windows: 1 in a plain build, larger under sanitizers
 * and valgrind (environment WIRE_TEST_TIME_SCALE). Multiply every upper
 * bound of a timing check by it.
 */
int test_time_scale(void);

/* 1 when running under valgrind. */
int test_under_valgrind(void);

/* 1 when running under an emulator (qemu-user: WIRE_TEST_EMULATED=1). */
int test_under_emulator(void);

/* 1 in a ThreadSanitizer build (it caps threads and fibers at 8128, and
 * starts no thread in a child of a multi-threaded fork). */
static inline int test_under_tsan(void)
{
#if defined(__SANITIZE_THREAD__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	return 1;
#else
	return 0;
#endif
#else
	return 0;
#endif
}

/* Stack size tests should give wires that call into libc or the checks. */
unsigned test_stack_size(void);

/* @ms milliseconds in nanoseconds. */
#define TEST_MS(ms) ((int64_t)(ms)*1000000)

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t test_now_ms(void);

/*
 * Run @fn(@arg) in a child process with stderr captured. Returns the wait
 * status; the child's stderr (NUL-terminated, truncated to @cap) goes to
 * @err.
 */
int test_run_child(void (*fn)(void *), void *arg, char *err, size_t cap);

/*
 * The exit code of a child's wait @status; fails the test (naming the
 * signal) when the child did not exit normally: a crash is no success.
 */
int test_exit_code_at(const char *file, int line, int status);
#define test_exit_code(status) test_exit_code_at(__FILE__, __LINE__, (status))

/*
 * Run @fn(NULL) in a child and check that it aborts (SIGABRT) with @msg in
 * what it printed on stderr.
 */
void test_expect_abort(const char *file, int line, void (*fn)(void *), const char *msg);
#define EXPECT_ABORT(fn, msg) test_expect_abort(__FILE__, __LINE__, fn, msg)

#endif
