/*
 * Tests of the stall detector (wire_stall_detect() in wire_debug.h). Each
 * runs its program in a child (test_run_child): the watchdog thread and
 * the signal handler stay there, and its stderr, where reports go, is
 * captured. Thresholds and spins grow with the time scale, so a slow run
 * (valgrind, sanitizers) neither misses a stall nor sees a false one.
 */
// TEST_LABELS: threads
// TEST_CPU: spin_once yield_quiet sleep_quiet spin_twice timer_spin restart env_ms small_stack
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wire.h"
#include "wire_debug.h"
#include "wire_stack.h"
#include "wire_debug_internal.h"
#include "test.h"

#define STACK (64 * 1024)

/*
 * The reports must name the function that spins. libdw names static
 * functions (and gives file:line); dladdr sees exported symbols only, so
 * without libdw the function is exported (CMake links this program with
 * -rdynamic then).
 */
#ifdef WIRE_TEST_SYMBOLIZER_DW
#define SPIN_LINKAGE static
#else
#define SPIN_LINKAGE
void spin_on_clock(int64_t ms);
#endif

static volatile unsigned spin_sink;

/* Run for @ms without switching: the stall. Mostly in this function, not the clock's. */
SPIN_LINKAGE __attribute__((noinline)) void spin_on_clock(int64_t ms)
{
	int64_t end = test_now_ms() + ms;

	while (test_now_ms() < end)
		for (unsigned i = 0; i < 10000; i++)
			spin_sink += i;
}

/* The threshold of the tests, and the length of a stall: four of them. */
static int64_t threshold_ms(void)
{
	return 50 * (int64_t)test_time_scale();
}

static int64_t spin_ms(void)
{
	return 4 * threshold_ms();
}

/* Time for the watchdog to write a report after the stall (libdw reads the DWARF). */
static void let_reports_out(void)
{
	usleep((useconds_t)(2 * threshold_ms() * 1000));
}

static wire_thread_t thread;
static wire_t wires[2];
static char stacks[2][STACK];

/* The child says who it is: reports name the thread by its id. */
static void say_tid(void)
{
	fprintf(stderr, "tid %d\n", (int)syscall(SYS_gettid));
}

/* Start the detector on a new scheduler with the threshold of the tests. */
static void start(void)
{
	say_tid();
	wire_thread_init(&thread);
	CHECK_EQ(wire_stall_detect(TEST_MS(threshold_ms())), 0);
}

static void run_one(const char *name, void (*fn)(void *))
{
	CHECK_PTR_EQ(wire_init(&wires[0], name, fn, NULL, stacks[0], STACK), &wires[0]);
	wire_thread_run();
	let_reports_out();
}

/* ---- reading what the child wrote ---- */

#define FAIL_WITH(err, ...)                                                                        \
	do {                                                                                       \
		fprintf(stderr, "the child's stderr:\n%s\n", err);                                 \
		test_fail(__FILE__, __LINE__, __VA_ARGS__);                                        \
	} while (0)

static const char report_mark[] = "libwire: stall: thread ";

static int count_reports(const char *err)
{
	int n = 0;

	for (const char *p = err; (p = strstr(p, report_mark)); p++)
		n++;
	return n;
}

static int child_tid(const char *err)
{
	int tid = 0;

	if (sscanf(err, "tid %d", &tid) != 1)
		FAIL_WITH(err, "no tid line");
	return tid;
}

/*
 * Check the @index-th report of @err: thread @tid, wire @name (NULL: the
 * scheduler), at least the threshold, and a backtrace with the spinning
 * function in it (and with libdw, this file's name and a line).
 */
static void check_report(const char *err, int index, int tid, const char *name)
{
	const char *rep = err, *end, *next, *frames;
	char head[256], block[8192];
	long ms;

	for (int i = 0; i <= index; i++) {
		rep = strstr(i ? rep + 1 : rep, report_mark);
		if (!rep)
			FAIL_WITH(err, "no report #%d", index);
	}
	if (name)
		snprintf(head, sizeof(head), "%s%d: wire \"%s\" has run ", report_mark, tid, name);
	else
		snprintf(head, sizeof(head), "%s%d: (scheduler) has run ", report_mark, tid);
	if (strncmp(rep, head, strlen(head)) != 0)
		FAIL_WITH(err, "report #%d does not start with \"%s\"", index, head);
	ms = strtol(rep + strlen(head), (char **)&end, 10);
	if (ms < threshold_ms())
		FAIL_WITH(err, "report #%d: %ld ms, under the threshold of %lld ms", index, ms,
			  (long long)threshold_ms());
	if (strncmp(end, " ms without switching", 21) != 0)
		FAIL_WITH(err, "report #%d: no \" ms without switching\"", index);
	frames = strchr(end, '\n');
	CHECK(frames != NULL);
	next = strstr(frames, report_mark);
	snprintf(block, sizeof(block), "%.*s", (int)(next ? next - frames : (long)strlen(frames)),
		 frames);
	if (strncmp(block, "\n  #0 0x", 8) != 0)
		FAIL_WITH(err, "report #%d: no backtrace", index);
	if (!strstr(block, " spin_on_clock+0x"))
		FAIL_WITH(err, "report #%d: spin_on_clock is not in the backtrace", index);
#ifdef WIRE_TEST_SYMBOLIZER_DW
	if (!strstr(block, "test_stall.c:"))
		FAIL_WITH(err, "report #%d: no file:line from libdw", index);
#endif
}

static void run_child(void (*fn)(void *), char *err, size_t cap)
{
	int status = test_run_child(fn, NULL, err, cap);

	if (test_exit_code(status) != 0)
		FAIL_WITH(err, "the child failed");
}

/* ---- 1. a wire that spins is reported once, by name, with its backtrace ---- */

static void spinner(void *arg)
{
	(void)arg;
	spin_on_clock(spin_ms());
}

static void spinner_child(void *arg)
{
	(void)arg;
	start();
	run_one("spinner", spinner);
}

TEST(spin_once)
{
	static char err[65536];

	run_child(spinner_child, err, sizeof(err));
	if (count_reports(err) != 1)
		FAIL_WITH(err, "%d reports, not 1", count_reports(err));
	check_report(err, 0, child_tid(err), "spinner");
}

/* ---- 1b. the handler does not run on the wire's own stack ---- */

/*
 * A wire on one guarded page stalls: the kernel's signal frame and the
 * unwinder need more than that, and on the wire's stack they would hit
 * the guard page. The detector gives each scheduler thread an alternate
 * signal stack of its own.
 */
static void small_stack_child(void *arg)
{
	unsigned size = 4096;
	void *stack;
	stack_t now;

	(void)arg;
	start();
	/* The detector's own stack, not one a sanitizer runtime set up. */
	CHECK_EQ(sigaltstack(NULL, &now), 0);
	CHECK(!(now.ss_flags & SS_DISABLE));
	stack = wire_stack_alloc(size);
	CHECK(stack != NULL);
	CHECK_PTR_EQ(wire_init(&wires[0], "small", spinner, NULL, stack, size), &wires[0]);
	wire_thread_run();
	let_reports_out();
}

TEST(small_stack)
{
	static char err[65536];

	if (test_under_valgrind())
		test_skip("valgrind runs signal handlers on stacks of its own");
	run_child(small_stack_child, err, sizeof(err));
	if (count_reports(err) != 1)
		FAIL_WITH(err, "%d reports, not 1", count_reports(err));
	check_report(err, 0, child_tid(err), "small");
}

/* ---- 2. a wire that yields every millisecond is no stall ---- */

static void yielder(void *arg)
{
	int64_t end = test_now_ms() + 6 * threshold_ms();

	(void)arg;
	while (test_now_ms() < end) {
		spin_on_clock(1);
		wire_yield();
	}
}

static void yielder_child(void *arg)
{
	(void)arg;
	start();
	run_one("yielder", yielder);
}

TEST(yield_quiet)
{
	static char err[65536];

	run_child(yielder_child, err, sizeof(err));
	if (count_reports(err) != 0)
		FAIL_WITH(err, "a wire that yields every millisecond was reported");
}

/* ---- 3. a thread blocked in a long sleep is idle, not stalled ---- */

static void sleeper(void *arg)
{
	(void)arg;
	wire_sleep_ns(TEST_MS(6 * threshold_ms()));
	/* Then a stall, to show the detector was watching all along. */
	spin_on_clock(spin_ms());
}

static void sleeper_child(void *arg)
{
	(void)arg;
	start();
	run_one("sleeper", sleeper);
}

TEST(sleep_quiet)
{
	static char err[65536];

	run_child(sleeper_child, err, sizeof(err));
	if (count_reports(err) != 1)
		FAIL_WITH(err, "%d reports, not the 1 of the spin after the sleep",
			  count_reports(err));
	check_report(err, 0, child_tid(err), "sleeper");
}

/* ---- 4. a stall after progress resumed is a new stall ---- */

static void twice(void *arg)
{
	(void)arg;
	spin_on_clock(spin_ms());
	wire_yield();
	spin_on_clock(spin_ms());
}

static void twice_child(void *arg)
{
	(void)arg;
	start();
	run_one("twice", twice);
}

TEST(spin_twice)
{
	static char err[65536];
	int tid;

	run_child(twice_child, err, sizeof(err));
	if (count_reports(err) != 2)
		FAIL_WITH(err, "%d reports, not 2", count_reports(err));
	tid = child_tid(err);
	check_report(err, 0, tid, "twice");
	check_report(err, 1, tid, "twice");
}

/* ---- a timer callback that runs long is reported as the scheduler ---- */

static void slow_fire(wire_timer_t *t)
{
	(void)t;
	spin_on_clock(spin_ms());
}

static void timer_child(void *arg)
{
	wire_timer_t timer;

	(void)arg;
	start();
	wire_timer_init(&timer, slow_fire);
	wire_timer_start_at(&timer, wire_now_ns());
	wire_thread_run();
	let_reports_out();
}

TEST(timer_spin)
{
	static char err[65536];

	run_child(timer_child, err, sizeof(err));
	if (count_reports(err) != 1)
		FAIL_WITH(err, "%d reports, not 1", count_reports(err));
	check_report(err, 0, child_tid(err), NULL);
}

/* ---- 5. errors; 0 stops the detector, which can start again ---- */

static void stop_restart_child(void *arg)
{
	(void)arg;
	start();
	CHECK(wire__hooks_on());
	CHECK_EQ(wire_stall_detect(0), 0);
	CHECK(!wire__hooks_on());
	CHECK_EQ(wire_stall_detect(0), 0); /* stopping twice is harmless */
	CHECK(!wire__hooks_on());
	run_one("unwatched", spinner);
	/* Again: the stall before it stopped is forgotten, a new one reported. */
	CHECK_EQ(wire_stall_detect(TEST_MS(threshold_ms())), 0);
	CHECK_EQ(wire_stall_detect(TEST_MS(threshold_ms())), 0); /* same threshold: no change */
	CHECK(wire__hooks_on());
	run_one("watched", spinner);
	CHECK_EQ(wire_stall_detect(0), 0);
	CHECK(!wire__hooks_on());
}

TEST(restart)
{
	static char err[65536];

	errno = 0;
	CHECK_EQ(wire_stall_detect(-1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_stall_detect(INT64_MIN), -1);
	CHECK_EQ(errno, EINVAL);
	run_child(stop_restart_child, err, sizeof(err));
	if (count_reports(err) != 1)
		FAIL_WITH(err, "%d reports, not 1 (the spin while stopped was reported?)",
			  count_reports(err));
	check_report(err, 0, child_tid(err), "watched");
}

/* ---- 6. WIRE_STALL_MS starts it at the first wire_thread_init() ---- */

static void env_child(void *arg)
{
	char ms[32];

	(void)arg;
	snprintf(ms, sizeof(ms), "%lld", (long long)threshold_ms());
	setenv("WIRE_STALL_MS", ms, 1);
	say_tid();
	wire_thread_init(&thread);
	CHECK(wire__hooks_on());
	run_one("from env", spinner);
}

static void bad_env_child(void *arg)
{
	(void)arg;
	setenv("WIRE_STALL_MS", "50ms", 1);
	say_tid();
	wire_thread_init(&thread);
	CHECK(!wire__hooks_on());
	wire_init(&wires[0], "unwatched", spinner, NULL, stacks[0], STACK);
	wire_thread_run();
}

TEST(env_ms)
{
	static char err[65536];

	run_child(env_child, err, sizeof(err));
	if (count_reports(err) != 1)
		FAIL_WITH(err, "%d reports, not 1", count_reports(err));
	check_report(err, 0, child_tid(err), "from env");

	run_child(bad_env_child, err, sizeof(err));
	if (!strstr(err, "libwire: WIRE_STALL_MS=50ms: not a number of milliseconds"))
		FAIL_WITH(err, "no message about the bad WIRE_STALL_MS");
	if (count_reports(err) != 0)
		FAIL_WITH(err, "a report with a bad WIRE_STALL_MS");
}
