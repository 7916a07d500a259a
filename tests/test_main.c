/* Test runner: `test_x NAME` runs one test; `test_x` runs all, each forked. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#include "test.h"

#define MAX_TESTS 512

static struct {
	const char *name;
	test_fn fn;
} tests[MAX_TESTS];
static int num_tests;

void test_register(const char *name, test_fn fn)
{
	if (num_tests == MAX_TESTS) {
		fprintf(stderr, "test harness: too many tests\n");
		abort();
	}
	tests[num_tests].name = name;
	tests[num_tests].fn = fn;
	num_tests++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

char test_trace[1024];
static size_t trace_len;

void test_mark(char c)
{
	if (trace_len + 1 >= sizeof(test_trace))
		test_fail(__FILE__, __LINE__, "test_trace overflows");
	test_trace[trace_len++] = c;
	test_trace[trace_len] = '\0';
}

void test_trace_reset(void)
{
	trace_len = 0;
	test_trace[0] = '\0';
}

void test_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	fflush(stdout);
	_exit(TEST_SKIP_CODE);
}

int test_time_scale(void)
{
	const char *s = getenv("WIRE_TEST_TIME_SCALE");
	int v = s ? atoi(s) : 1;
	return v > 0 ? v : 1;
}

int test_under_valgrind(void)
{
	const char *s = getenv("WIRE_TEST_VALGRIND");
	return s && *s == '1';
}

int test_under_emulator(void)
{
	const char *s = getenv("WIRE_TEST_EMULATED");
	return s && *s == '1';
}

unsigned test_stack_size(void)
{
	return 64 * 1024;
}

int64_t test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int test_run_child(void (*fn)(void *), void *arg, char *err, size_t cap)
{
	int fds[2], status = 0;
	size_t len = 0;
	pid_t pid;

	if (pipe(fds) != 0)
		test_fail(__FILE__, __LINE__, "pipe failed");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		ssize_t r = read(fds[0], err + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == cap - 1)
			break;
	}
	err[len] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

int test_exit_code_at(const char *file, int line, int status)
{
	if (WIFSIGNALED(status))
		test_fail(file, line, "the child was killed by signal %d (%s)", WTERMSIG(status),
			  strsignal(WTERMSIG(status)));
	if (!WIFEXITED(status))
		test_fail(file, line, "the child did not exit (status %#x)", status);
	return WEXITSTATUS(status);
}

void test_expect_abort(const char *file, int line, void (*fn)(void *), const char *msg)
{
	char err[2048];
	int status = test_run_child(fn, NULL, err, sizeof(err));

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		test_fail(file, line, "expected an abort with \"%s\", got status %#x and \"%s\"",
			  msg, status, err);
	if (!strstr(err, msg))
		test_fail(file, line, "expected \"%s\" in \"%s\"", msg, err);
}

/*
 * Every test has a time limit of its own, well under CTest's: a hang
 * fails fast and says which test it was. WIRE_TEST_TIMEOUT (seconds)
 * overrides the default of 30 s times the time scale.
 */
static const char *running;
static unsigned limit_s;

static void timed_out(int sig)
{
	char msg[256];
	int n;

	(void)sig;
	n = snprintf(msg, sizeof(msg),
		     "test %s: timed out after %u s (a hang; WIRE_TEST_TIMEOUT)\n", running,
		     limit_s);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	signal(SIGABRT, SIG_DFL);
	abort();
}

static int run_one(int i)
{
	const char *env = getenv("WIRE_TEST_TIMEOUT");

	limit_s = env && atoi(env) > 0 ? (unsigned)atoi(env) : 30u * (unsigned)test_time_scale();
	running = tests[i].name;
	signal(SIGALRM, timed_out);
	alarm(limit_s);
	tests[i].fn();
	alarm(0);
	return 0;
}

int main(int argc, char **argv)
{
	int failed = 0, passed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < num_tests; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc > 1) {
		for (int i = 0; i < num_tests; i++)
			if (strcmp(tests[i].name, argv[1]) == 0)
				return run_one(i);
		fprintf(stderr, "no test named %s\n", argv[1]);
		return 2;
	}
	for (int i = 0; i < num_tests; i++) {
		int status;
		pid_t pid = fork();
		if (pid == 0)
			_exit(run_one(i));
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			passed++;
			printf("ok   %s\n", tests[i].name);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_SKIP_CODE) {
			skipped++;
			printf("skip %s\n", tests[i].name);
		} else {
			failed++;
			printf("FAIL %s\n", tests[i].name);
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed != 0;
}
