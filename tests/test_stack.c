/* Tests of guarded stacks and the stack-fault reporter (wire_stack.h). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "wire_stack.h"
#include "sys.h"
#include "test.h"

static wire_thread_t thread;

static size_t page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* The permission string ("rw-p", "---p") of the mapping holding @addr, in @perm[5]. */
static int perms_of(const void *addr, char *perm)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char p[8];
	int found = 0;

	CHECK(f != NULL);
	while (fscanf(f, "%lx-%lx %4s%*[^\n]", &lo, &hi, p) == 3) {
		if ((uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
			memcpy(perm, p, 5);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int c, n = 0;

	CHECK(f != NULL);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* No core files from the children that are meant to crash. */
static void no_core(void)
{
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
}

/*
 * Lines the library printed. An emulator (qemu-user in the aarch64 run)
 * adds its own line about the signal; only ours are counted.
 */
static int report_lines(const char *err)
{
	int n = 0;

	for (const char *p = err; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, "libwire: ", 9) == 0;
	return n;
}

TEST(alloc_free)
{
	size_t ps = page();
	char perm[5];
	char *s = wire_stack_alloc(64 * 1024);

	CHECK(s != NULL);
	CHECK_EQ((uintptr_t)s % ps, 0);
	/* The whole usable area is writable; the page below is the guard. */
	memset(s, 0xa5, 64 * 1024);
	CHECK(perms_of(s, perm));
	CHECK(memcmp(perm, "rw", 2) == 0);
	CHECK(perms_of(s + 64 * 1024 - 1, perm));
	CHECK(memcmp(perm, "rw", 2) == 0);
	CHECK(perms_of(s - 1, perm));
	CHECK(memcmp(perm, "---", 3) == 0);
	CHECK(perms_of(s - ps, perm));
	CHECK(memcmp(perm, "---", 3) == 0);
	CHECK_EQ(wire_stack_free(s, 64 * 1024), 0);
	CHECK(!perms_of(s, perm));
	CHECK(!perms_of(s - ps, perm));

	/* Sizes are rounded up to whole pages: one byte gives a full page. */
	s = wire_stack_alloc(1);
	CHECK(s != NULL);
	memset(s, 1, ps);
	CHECK(perms_of(s + ps - 1, perm));
	CHECK(memcmp(perm, "rw", 2) == 0);
	CHECK_EQ(wire_stack_free(s, 1), 0);
	CHECK(!perms_of(s, perm));
}

static int macro_ran;

static void macro_entry(void *arg)
{
	volatile char buf[1024];
	buf[0] = 1;
	macro_ran = buf[0] + (arg == NULL);
}

TEST(macro_feeds_wire_init)
{
	static wire_t w;

	wire_thread_init(&thread);
	CHECK_PTR_EQ(wire_init(&w, "m", macro_entry, NULL, WIRE_STACK_ALLOC(32 * 1024)), &w);
	CHECK(w.coro.stack != NULL);
	CHECK_EQ(w.coro.stack_size, 32 * 1024);
	wire_thread_run();
	CHECK_EQ(macro_ran, 2);
	CHECK_EQ(wire_stack_free(w.coro.stack, 32 * 1024), 0);
}

static void write_below(void *arg)
{
	/* The default action, whatever a sanitizer runtime installed: this
	 * test is about the page, not about handlers. */
	signal(SIGSEGV, SIG_DFL);
	no_core();
	((volatile char *)arg)[-1] = 1;
	_exit(0); /* not reached */
}

TEST(guard_page_kills_writer)
{
	char err[4096];
	char *s = wire_stack_alloc(16 * 1024);
	int status;

	CHECK(s != NULL);
	status = test_run_child(write_below, s, err, sizeof(err));
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
	CHECK_EQ(wire_stack_free(s, 16 * 1024), 0);
}

/* Recurse until the stack runs out; the frame keeps a buffer live. */
static unsigned __attribute__((noinline)) dive(unsigned depth)
{
	volatile char pad[200];

	pad[0] = (char)depth;
	pad[199] = (char)depth;
	if (depth == 0xffffffffu)
		return pad[0];
	return dive(depth + 1) + pad[199];
}

static void diver(void *arg)
{
	(void)arg;
	dive(0);
}

static void overflow_child(void *arg)
{
	static wire_t w;

	no_core();
	CHECK_EQ(wire_stack_fault_detector_install(), 0);
	wire_thread_init(&thread);
	CHECK(wire_init(&w, "deep-diver", diver, NULL, arg, 16 * 1024) != NULL);
	wire_thread_run();
	_exit(0); /* not reached */
}

static void hex(char *buf, size_t cap, uintptr_t v)
{
	snprintf(buf, cap, "0x%lx", (unsigned long)v);
}

TEST(overflow_caught_and_named)
{
	char err[1024], lo[32], hi[32];
	char *s = wire_stack_alloc(16 * 1024);
	int status;

	CHECK(s != NULL);
	status = test_run_child(overflow_child, s, err, sizeof(err));
	fprintf(stderr, "child said: %s", err);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
	CHECK(strstr(err, "stack overflow") != NULL);
	CHECK(strstr(err, "wire 'deep-diver'") != NULL);
	hex(lo, sizeof(lo), (uintptr_t)s);
	hex(hi, sizeof(hi), (uintptr_t)s + 16 * 1024);
	CHECK(strstr(err, lo) != NULL);
	CHECK(strstr(err, hi) != NULL);
	CHECK(strstr(err, "SIGSEGV at 0x") != NULL);
	CHECK_EQ(report_lines(err), 1);
	CHECK_EQ(wire_stack_free(s, 16 * 1024), 0);
}

/* Faults that are not a guard-page hit: named by wire, or "outside any wire". */
static void *bad_page;

static void clumsy(void *arg)
{
	(void)arg;
	((volatile char *)bad_page)[8] = 1;
}

static void fault_in_wire_child(void *arg)
{
	static wire_t w;

	no_core();
	CHECK_EQ(wire_stack_fault_detector_install(), 0);
	wire_thread_init(&thread);
	CHECK(wire_init(&w, "clumsy", clumsy, NULL, arg, 64 * 1024) != NULL);
	wire_thread_run();
	_exit(0);
}

static void fault_outside_child(void *arg)
{
	(void)arg;
	no_core();
	CHECK_EQ(wire_stack_fault_detector_install(), 0);
	((volatile char *)bad_page)[8] = 1;
	_exit(0);
}

TEST(faults_elsewhere_named)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	char err[1024], addr[32];
	int status;

	bad_page = mmap(NULL, page(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(bad_page != MAP_FAILED);
	hex(addr, sizeof(addr), (uintptr_t)bad_page + 8);

	status = test_run_child(fault_in_wire_child, stack, err, sizeof(err));
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
	CHECK(strstr(err, "SIGSEGV at ") != NULL);
	CHECK(strstr(err, addr) != NULL);
	CHECK(strstr(err, "in wire 'clumsy'") != NULL);
	CHECK(strstr(err, "stack overflow") == NULL);
	CHECK_EQ(report_lines(err), 1);

	status = test_run_child(fault_outside_child, NULL, err, sizeof(err));
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
	CHECK(strstr(err, addr) != NULL);
	CHECK(strstr(err, "outside any wire") != NULL);
	CHECK_EQ(report_lines(err), 1);
	munmap(bad_page, page());
}

static void kill_self_child(void *arg)
{
	(void)arg;
	no_core();
	CHECK_EQ(wire_stack_fault_detector_install(), 0);
	kill(getpid(), SIGSEGV);
	/* The signal is sent again by the handler and kills us on return. */
	_exit(0);
}

TEST(sent_signal_still_kills)
{
	char err[512];
	int status = test_run_child(kill_self_child, NULL, err, sizeof(err));

	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
	CHECK(strstr(err, "outside any wire") != NULL);
}

TEST(install_twice_keeps_one_altstack)
{
	stack_t a, b;

	CHECK_EQ(wire_stack_fault_detector_install(), 0);
	CHECK_EQ(sigaltstack(NULL, &a), 0);
	CHECK(!(a.ss_flags & SS_DISABLE));
	CHECK(a.ss_size >= 16 * 1024);
	CHECK_EQ(wire_stack_fault_detector_install(), 0);
	CHECK_EQ(sigaltstack(NULL, &b), 0);
	CHECK_PTR_EQ(a.ss_sp, b.ss_sp);
}

TEST(bad_input)
{
	char *s;

	errno = 0;
	CHECK(wire_stack_alloc(0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_stack_free(NULL, 4096), -1);
	CHECK_EQ(errno, EINVAL);
	s = wire_stack_alloc(8192);
	CHECK(s != NULL);
	errno = 0;
	CHECK_EQ(wire_stack_free(s + 1, 8192), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_stack_free(s, 0), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_stack_free(s, 8192), 0);
}

TEST(alloc_failure_injected)
{
	int before = count_maps();
	char *s;

	wire__fault_set(WIRE_SYS_MMAP, 1, ENOMEM);
	errno = 0;
	CHECK(wire_stack_alloc(16 * 1024) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(count_maps(), before);

	/* mprotect failing (as at the map-count limit) leaves nothing mapped. */
	wire__fault_set(WIRE_SYS_MPROTECT, 1, ENOMEM);
	errno = 0;
	CHECK(wire_stack_alloc(16 * 1024) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(count_maps(), before);

	s = wire_stack_alloc(16 * 1024);
	CHECK(s != NULL);
	wire__fault_set(WIRE_SYS_MUNMAP, 1, EINVAL);
	errno = 0;
	CHECK_EQ(wire_stack_free(s, 16 * 1024), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_stack_free(s, 16 * 1024), 0);
	CHECK_EQ(count_maps(), before);
}

static int segv_is_default(void)
{
	struct sigaction sa;
	CHECK_EQ(sigaction(SIGSEGV, NULL, &sa), 0);
	return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL;
}

static void (*segv_handler_now(void))(int)
{
	struct sigaction sa;
	CHECK_EQ(sigaction(SIGSEGV, NULL, &sa), 0);
	return sa.sa_handler;
}

TEST(install_failure_injected)
{
	struct sigaction dfl;
	stack_t off = {.ss_flags = SS_DISABLE}, now;
	void (*before)(int);

	/* Start from no handler and no alternate stack (sanitizer runtimes
	 * install both), so every step of the install is taken. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	CHECK_EQ(sigaction(SIGSEGV, &dfl, NULL), 0);
	CHECK_EQ(sigaction(SIGBUS, &dfl, NULL), 0);
	CHECK_EQ(sigaltstack(&off, NULL), 0);
	before = segv_handler_now();

	wire__fault_set(WIRE_SYS_SIGALTSTACK, 1, EPERM);
	errno = 0;
	CHECK_EQ(wire_stack_fault_detector_install(), -1);
	CHECK_EQ(errno, EPERM);
	CHECK(segv_is_default());

	wire__fault_set(WIRE_SYS_MMAP, 1, ENOMEM);
	errno = 0;
	CHECK_EQ(wire_stack_fault_detector_install(), -1);
	CHECK_EQ(errno, ENOMEM);
	CHECK(segv_is_default());
	CHECK_EQ(sigaltstack(NULL, &now), 0);
	CHECK(now.ss_flags & SS_DISABLE);

	/* Second sigaltstack call (the one that sets the stack) fails. */
	wire__fault_set(WIRE_SYS_SIGALTSTACK, 2, ENOMEM);
	errno = 0;
	CHECK_EQ(wire_stack_fault_detector_install(), -1);
	CHECK_EQ(errno, ENOMEM);
	CHECK(segv_is_default());

	/* sigaction of SIGBUS fails after SIGSEGV was set: both undone. */
	wire__fault_set(WIRE_SYS_SIGACTION, 2, EINVAL);
	errno = 0;
	CHECK_EQ(wire_stack_fault_detector_install(), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(segv_is_default());
	CHECK(segv_handler_now() == before);
	CHECK_EQ(sigaltstack(NULL, &now), 0);
	CHECK(now.ss_flags & SS_DISABLE);

	CHECK_EQ(wire_stack_fault_detector_install(), 0);
	CHECK(!segv_is_default());
	CHECK_EQ(sigaltstack(NULL, &now), 0);
	CHECK(!(now.ss_flags & SS_DISABLE));
}

static long read_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

TEST(map_count_limit_is_enomem)
{
	long limit = read_max_map_count();
	static void *stacks[200000];
	long n = 0;

	if (test_under_valgrind())
		test_skip("valgrind's own address-space manager runs out of segments first");
	if (limit <= 0 || limit > 150000)
		test_skip("vm.max_map_count unknown or too large to reach quickly");
	for (;;) {
		void *s = wire_stack_alloc(4096);
		if (!s)
			break;
		CHECK(n < (long)(sizeof(stacks) / sizeof(stacks[0])));
		stacks[n++] = s;
	}
	CHECK_EQ(errno, ENOMEM);
	/* Two mappings per guarded stack, the rest of the process besides. */
	CHECK_RANGE(n, limit / 2 - 2000, limit / 2);
	/* Freeing one makes room for one. */
	CHECK_EQ(wire_stack_free(stacks[--n], 4096), 0);
	stacks[n] = wire_stack_alloc(4096);
	CHECK(stacks[n] != NULL);
	n++;
	while (n)
		CHECK_EQ(wire_stack_free(stacks[--n], 4096), 0);
}
