/* Tests of wire pools (wire_pool.h). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/wait.h>

#include "wire_pool.h"
#include "sys.h"
#include "test.h"

#define STACK (64 * 1024)

static wire_thread_t thread;
/* 1 if @addr lies in a mapping of this process. */
static int mapped(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	int found = 0;

	CHECK(f != NULL);
	while (fscanf(f, "%lx-%lx%*[^\n]", &lo, &hi) == 2)
		if ((uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
			found = 1;
			break;
		}
	fclose(f);
	return found;
}

static void marker(void *arg)
{
	test_mark(*(const char *)arg);
}

TEST(exhaustion_then_refill)
{
	static wire_pool_entry_t entries[3];
	static wire_pool_t pool;
	static const char names[] = "abcd";
	wire_t *w[3];

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, entries, 3, STACK), 0);
	CHECK_EQ(wire_pool_in_use(&pool), 0);
	for (int i = 0; i < 3; i++) {
		w[i] = wire_pool_alloc(&pool, "worker", marker, (void *)&names[i]);
		CHECK(w[i] != NULL);
		CHECK_EQ(wire_pool_in_use(&pool), i + 1);
	}
	CHECK(w[0] != w[1] && w[1] != w[2] && w[0] != w[2]);
	errno = 0;
	CHECK(wire_pool_alloc(&pool, "worker", marker, (void *)&names[3]) == NULL);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(wire_pool_in_use(&pool), 3);
	CHECK_STR_EQ(test_trace, ""); /* queued, not run */
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "abc");
	/* Each finished wire gave its entry back by itself. */
	CHECK_EQ(wire_pool_in_use(&pool), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(w[i]->state, WIRE_DONE);
	CHECK(wire_pool_alloc(&pool, "again", marker, (void *)&names[3]) != NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "abcd");
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

static void noop(void *arg)
{
	(void)arg;
}

TEST(lifo_reuse_same_stack)
{
	static wire_pool_entry_t entries[4];
	static wire_pool_t pool;
	wire_t *a, *b, *c, *w;
	void *sa, *sb, *sc;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, entries, 4, STACK), 0);
	a = wire_pool_alloc(&pool, "a", noop, NULL);
	b = wire_pool_alloc(&pool, "b", noop, NULL);
	c = wire_pool_alloc(&pool, "c", noop, NULL);
	CHECK(a && b && c);
	sa = a->coro.stack;
	sb = b->coro.stack;
	sc = c->coro.stack;
	CHECK(sa != sb && sb != sc && sa != sc);
	wire_thread_run(); /* they finish a, b, c: c went back last */

	w = wire_pool_alloc(&pool, "x", noop, NULL);
	CHECK_PTR_EQ(w, c);
	CHECK_PTR_EQ(w->coro.stack, sc);
	w = wire_pool_alloc(&pool, "y", noop, NULL);
	CHECK_PTR_EQ(w, b);
	CHECK_PTR_EQ(w->coro.stack, sb);
	w = wire_pool_alloc(&pool, "z", noop, NULL);
	CHECK_PTR_EQ(w, a);
	CHECK_PTR_EQ(w->coro.stack, sa);
	wire_thread_run();

	/* One wire at a time: always the same entry, the same hot stack. */
	for (int i = 0; i < 50; i++) {
		w = wire_pool_alloc(&pool, "one", noop, NULL);
		CHECK_PTR_EQ(w, a);
		CHECK_PTR_EQ(w->coro.stack, sa);
		wire_thread_run();
	}
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

TEST(stacks_are_lazy_and_kept)
{
	static wire_pool_entry_t entries[8];
	static wire_pool_t pool;
	wire_t *w;
	void *s0;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, entries, 8, STACK), 0);
	for (int i = 0; i < 8; i++)
		CHECK(entries[i].stack == NULL);

	w = wire_pool_alloc(&pool, "first", noop, NULL);
	CHECK(w != NULL);
	CHECK(entries[0].stack != NULL);
	CHECK_PTR_EQ(w->coro.stack, entries[0].stack);
	/* A guarded stack of at least the size asked for, in whole pages. */
	CHECK(w->coro.stack_size >= STACK);
	CHECK_EQ(w->coro.stack_size % (size_t)sysconf(_SC_PAGESIZE), 0);
	for (int i = 1; i < 8; i++)
		CHECK(entries[i].stack == NULL);
	s0 = entries[0].stack;
	CHECK(mapped(s0));
	wire_thread_run();
	/* Kept after the wire ended, reused without mapping anything. */
	CHECK(entries[0].stack != NULL);
	for (int i = 0; i < 20; i++) {
		CHECK(wire_pool_alloc(&pool, "again", noop, NULL) != NULL);
		wire_thread_run();
	}
	CHECK_PTR_EQ(entries[0].stack, s0);
	for (int i = 1; i < 8; i++)
		CHECK(entries[i].stack == NULL);
	CHECK_EQ(wire_pool_destroy(&pool), 0);
	CHECK(!mapped(s0));
}

/* Blocking allocation: a spawner starts more workers than the pool holds. */
static wire_pool_t bpool;
static unsigned running, max_running, done_count;

static void worker(void *arg)
{
	unsigned n = (unsigned)(uintptr_t)arg;

	running++;
	if (running > max_running)
		max_running = running;
	CHECK(wire_pool_in_use(&bpool) <= 3);
	for (unsigned i = 0; i < 1 + n % 4; i++)
		wire_yield();
	running--;
	done_count++;
}

static void spawner(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < 40; i++) {
		wire_t *w = wire_pool_alloc_block(&bpool, "worker", worker, (void *)(uintptr_t)i);
		CHECK(w != NULL);
		CHECK(wire_pool_in_use(&bpool) <= 3);
	}
}

TEST(blocking_alloc_never_exceeds_size)
{
	static wire_pool_entry_t entries[3];
	static char s[STACK];
	static wire_t sp;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&bpool, entries, 3, STACK), 0);
	wire_init(&sp, "spawner", spawner, NULL, s, STACK);
	wire_thread_run();
	CHECK_EQ(done_count, 40);
	CHECK_EQ(max_running, 3);
	CHECK_EQ(wire_pool_in_use(&bpool), 0);
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK_EQ(wire_pool_destroy(&bpool), 0);
}

/*
 * FIFO service and direct hand-off: a pool of one entry is held by a
 * worker; three wires block for it in order 1 2 3. When the worker ends,
 * the entry goes to blocker 1 even though a newcomer asks for it first.
 */
static wire_pool_t fpool;
static wire_t *holder;

static void held(void *arg)
{
	(void)arg;
	test_mark('h');
	wire_suspend(); /* until the controller lets go */
	test_mark('H');
}

static void served(void *arg)
{
	test_mark(*(const char *)arg);
	wire_yield();
}

static void blocker(void *arg)
{
	const char *id = arg;
	wire_t *w;

	test_mark('b');
	w = wire_pool_alloc_block(&fpool, "served", served, (void *)id);
	CHECK(w != NULL);
	test_mark('B');
}

static void controller(void *arg)
{
	(void)arg;
	wire_yield(); /* let the three blockers park */
	CHECK_EQ(wire_thread_suspended(), 4);
	/* A stray resume of a blocked wire must not make it return early. */
	wire_resume((wire_t *)arg);
	wire_yield();
	CHECK_EQ(wire_thread_suspended(), 4);
	wire_resume(holder);
	wire_yield(); /* the holder ends and hands its entry to blocker 1 */
	test_mark('c');
	errno = 0;
	CHECK(wire_pool_alloc(&fpool, "newcomer", served, (void *)"N") == NULL);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(wire_pool_in_use(&fpool), 1);
}

TEST(blocked_callers_served_fifo)
{
	static wire_pool_entry_t entries[1];
	static char stacks[4][STACK];
	static wire_t b[3], ctl;
	static const char *ids[3] = {"1", "2", "3"};

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&fpool, entries, 1, STACK), 0);
	holder = wire_pool_alloc(&fpool, "holder", held, NULL);
	CHECK(holder != NULL);
	for (int i = 0; i < 3; i++)
		wire_init(&b[i], "blocker", blocker, (void *)ids[i], stacks[i], STACK);
	wire_init(&ctl, "controller", controller, &b[1], stacks[3], STACK);
	wire_thread_run();
	/*
	 * h: holder parks; b b b: three blockers park; H: holder ends;
	 * c: the newcomer is refused; then blocker 1 gets the entry (B) and
	 * its wire runs (1), and so on in blocking order.
	 */
	CHECK_STR_EQ(test_trace, "hbbbHcB1B2B3");
	CHECK_EQ(wire_pool_in_use(&fpool), 0);
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK_EQ(wire_pool_destroy(&fpool), 0);
}

static void alloc_block_outside(void *arg)
{
	static wire_pool_entry_t entries[1];
	static wire_pool_t pool;

	(void)arg;
	wire_thread_init(&thread);
	wire_pool_init(&pool, entries, 1, STACK);
	wire_pool_alloc_block(&pool, "x", noop, NULL);
	_exit(0);
}

TEST(alloc_block_outside_wire_aborts)
{
	char err[512];
	int status = test_run_child(alloc_block_outside, NULL, err, sizeof(err));

	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGABRT);
	CHECK(strstr(err, "libwire: wire_pool_alloc_block: called outside a wire") != NULL);
}

static wire_pool_t dpool;

static void destroy_while_running(void *arg)
{
	(void)arg;
	errno = 0;
	CHECK_EQ(wire_pool_destroy(&dpool), -1);
	CHECK_EQ(errno, EBUSY);
	test_mark('d');
}

TEST(destroy_busy_then_released)
{
	static wire_pool_entry_t entries[4];
	void *s1;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&dpool, entries, 4, STACK), 0);
	CHECK(wire_pool_alloc(&dpool, "a", destroy_while_running, NULL) != NULL);
	CHECK(wire_pool_alloc(&dpool, "b", noop, NULL) != NULL);
	errno = 0;
	CHECK_EQ(wire_pool_destroy(&dpool), -1);
	CHECK_EQ(errno, EBUSY);
	CHECK(entries[0].stack != NULL && entries[1].stack != NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "d");
	CHECK_EQ(wire_pool_in_use(&dpool), 0);

	/* A failing unmap leaves a valid pool; the call can be repeated. */
	wire__fault_set(WIRE_SYS_MUNMAP, 2, EINVAL);
	errno = 0;
	CHECK_EQ(wire_pool_destroy(&dpool), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(entries[0].stack == NULL);
	CHECK(entries[1].stack != NULL);
	s1 = entries[1].stack;
	CHECK(mapped(s1));
	CHECK(wire_pool_alloc(&dpool, "c", noop, NULL) != NULL); /* maps a new stack */
	wire_thread_run();
	CHECK_EQ(wire_pool_destroy(&dpool), 0);
	for (int i = 0; i < 4; i++)
		CHECK(entries[i].stack == NULL);
	CHECK(!mapped(s1));
}

TEST(stack_failure_returns_entry)
{
	static wire_pool_entry_t entries[2];
	static wire_pool_t pool;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, entries, 2, STACK), 0);
	wire__fault_set(WIRE_SYS_MMAP, 1, ENOMEM);
	errno = 0;
	CHECK(wire_pool_alloc(&pool, "x", noop, NULL) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(wire_pool_in_use(&pool), 0);
	wire__fault_set(WIRE_SYS_MPROTECT, 1, ENOMEM);
	errno = 0;
	CHECK(wire_pool_alloc(&pool, "x", noop, NULL) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(wire_pool_in_use(&pool), 0);
	/* Both entries are still there. */
	CHECK(wire_pool_alloc(&pool, "x", noop, NULL) != NULL);
	CHECK(wire_pool_alloc(&pool, "y", noop, NULL) != NULL);
	CHECK_EQ(wire_pool_in_use(&pool), 2);
	wire_thread_run();
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

TEST(bad_input)
{
	static wire_pool_entry_t entries[2];
	static wire_pool_t pool;

	errno = 0;
	CHECK_EQ(wire_pool_init(NULL, entries, 2, STACK), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_pool_init(&pool, entries, 0, STACK), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(wire_pool_init(&pool, entries, 2, WIRE_STACK_MIN - 1), -1);
	CHECK_EQ(errno, EINVAL);

	CHECK_EQ(wire_pool_init(&pool, entries, 2, STACK), 0);
	/* No scheduler on this thread yet: refused, no entry taken. */
	errno = 0;
	CHECK(wire_pool_alloc(&pool, "x", noop, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_pool_in_use(&pool), 0);
	wire_thread_init(&thread);
	errno = 0;
	CHECK(wire_pool_alloc(NULL, "x", noop, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(wire_pool_alloc(&pool, "x", NULL, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_pool_in_use(&pool), 0);
	CHECK(entries[0].stack == NULL && entries[1].stack == NULL);
	errno = 0;
	CHECK_EQ(wire_pool_destroy(NULL), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(wire_pool_in_use(NULL), 0);
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

static void bad_block_input(void *arg)
{
	(void)arg;
	errno = 0;
	CHECK(wire_pool_alloc_block(NULL, "x", noop, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(wire_pool_alloc_block(&fpool, "x", NULL, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	test_mark('k');
}

TEST(alloc_block_bad_input)
{
	static wire_pool_entry_t entries[1];
	static char s[STACK];
	static wire_t w;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&fpool, entries, 1, STACK), 0);
	wire_init(&w, "bad", bad_block_input, NULL, s, STACK);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "k");
	CHECK_EQ(wire_pool_in_use(&fpool), 0);
	CHECK_EQ(wire_pool_destroy(&fpool), 0);
}

/* A pooled wire's name and argument arrive intact; its stack is guarded. */
static void check_self(void *arg)
{
	CHECK_STR_EQ(wire_get_name(), "self");
	CHECK_PTR_EQ(arg, &thread);
	test_mark('s');
}

TEST(pooled_wire_sees_name_and_arg)
{
	static wire_pool_entry_t entries[1];
	static wire_pool_t pool;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, entries, 1, STACK), 0);
	CHECK(wire_pool_alloc(&pool, "self", check_self, &thread) != NULL);
	wire_thread_run();
	CHECK_STR_EQ(test_trace, "s");
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

/*
 * The seed: "A memory pool is provided for when that is needed but even
 * that memory can be provided by the user as a static array". Without
 * caller entries the pool allocates them, and wire_pool_destroy() frees
 * them (valgrind and LeakSanitizer see a leak otherwise).
 */
static int own_ran;

static void own_worker(void *arg)
{
	(void)arg;
	own_ran++;
	wire_yield();
}

TEST(pool_without_caller_entries)
{
	static wire_pool_t pool;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, NULL, 3, STACK), 0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3; i++)
			CHECK(wire_pool_alloc(&pool, "own", own_worker, NULL) != NULL);
		errno = 0;
		CHECK(wire_pool_alloc(&pool, "own", own_worker, NULL) == NULL);
		CHECK_EQ(errno, EAGAIN);
		wire_thread_run();
		CHECK_EQ(wire_pool_in_use(&pool), 0);
	}
	CHECK_EQ(own_ran, 6);
	CHECK_EQ(wire_pool_destroy(&pool), 0);
	/* Again, after the destroy. */
	CHECK_EQ(wire_pool_init(&pool, NULL, 1, STACK), 0);
	CHECK(wire_pool_alloc(&pool, "own", own_worker, NULL) != NULL);
	wire_thread_run();
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

TEST(pool_without_entries_out_of_memory)
{
	static wire_pool_t pool;

	wire_thread_init(&thread);
	wire__fault_set(WIRE_SYS_CALLOC, 1, ENOMEM);
	errno = 0;
	CHECK_EQ(wire_pool_init(&pool, NULL, 4, STACK), -1);
	CHECK_EQ(errno, ENOMEM);
	wire__fault_clear();
	CHECK_EQ(wire_pool_init(&pool, NULL, 4, STACK), 0);
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

/* A program that ignores a failed wire_pool_init() learns of it at the first use. */
static wire_pool_t failed_pool;

static void alloc_from_failed_pool(void *arg)
{
	(void)arg;
	wire_thread_init(&thread);
	if (wire_pool_init(&failed_pool, NULL, 0, STACK) == 0)
		_exit(3);
	wire_pool_alloc(&failed_pool, "w", noop, NULL);
	_exit(0);
}

static void destroy_failed_pool(void *arg)
{
	(void)arg;
	wire_pool_init(&failed_pool, NULL, 2, 1);
	wire_pool_destroy(&failed_pool);
	_exit(0);
}

static void alloc_block_after_destroy_main(void *arg)
{
	(void)arg;
	wire_pool_alloc_block(&failed_pool, "w", noop, NULL);
}

static void alloc_block_after_destroy(void *arg)
{
	static wire_pool_entry_t entries[1];
	static wire_t w;
	static char stack[STACK];

	(void)arg;
	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&failed_pool, entries, 1, STACK), 0);
	CHECK_EQ(wire_pool_destroy(&failed_pool), 0);
	wire_init(&w, "user", alloc_block_after_destroy_main, NULL, stack, STACK);
	wire_thread_run();
	_exit(0);
}

TEST(use_of_a_failed_or_destroyed_pool_aborts)
{
	EXPECT_ABORT(alloc_from_failed_pool,
		     "libwire: wire_pool_alloc: the pool is not initialized");
	EXPECT_ABORT(destroy_failed_pool,
		     "libwire: wire_pool_destroy: the pool is not initialized");
	EXPECT_ABORT(alloc_block_after_destroy,
		     "libwire: wire_pool_alloc_block: the pool is not initialized");
}

/* Pool wires named from one reused buffer keep their own names. */
static int pool_names_ok;

static void pool_name_checker(void *arg)
{
	char want[16];

	snprintf(want, sizeof(want), "conn-%d", (int)(long)arg);
	CHECK_STR_EQ(wire_get_name(), want);
	pool_names_ok++;
}

TEST(pool_wires_named_from_one_buffer)
{
	static wire_pool_t pool;
	char buf[16];

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&pool, NULL, 3, STACK), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "conn-%d", i);
		CHECK(wire_pool_alloc(&pool, buf, pool_name_checker, (void *)(long)i) != NULL);
	}
	strcpy(buf, "reused");
	wire_thread_run();
	CHECK_EQ(pool_names_ok, 3);
	CHECK_EQ(wire_pool_destroy(&pool), 0);
}

/*
 * wire_pool_alloc_block() whose entry's first stack cannot be mapped: NULL
 * with that errno, and the entry is given back (to a blocked caller if
 * there were one, else to the free stack): the next call gets it.
 */
static wire_t *stackfail_got[2];
static int stackfail_err;

static void stackfail_caller(void *arg)
{
	(void)arg;
	wire__fault_set(WIRE_SYS_MMAP, 1, ENOMEM);
	errno = 0;
	stackfail_got[0] = wire_pool_alloc_block(&fpool, "first", served, (void *)"F");
	stackfail_err = errno;
	wire__fault_clear();
	CHECK_EQ(wire_pool_in_use(&fpool), 0);
	stackfail_got[1] = wire_pool_alloc_block(&fpool, "second", served, (void *)"S");
}

TEST(alloc_block_stack_failure_gives_the_entry_back)
{
	static wire_pool_entry_t entries[1];
	static char stack[STACK];
	static wire_t w;

	wire_thread_init(&thread);
	CHECK_EQ(wire_pool_init(&fpool, entries, 1, STACK), 0);
	wire_init(&w, "caller", stackfail_caller, NULL, stack, STACK);
	wire_thread_run();
	CHECK(stackfail_got[0] == NULL);
	CHECK_EQ(stackfail_err, ENOMEM);
	CHECK(stackfail_got[1] != NULL);
	CHECK_STR_EQ(test_trace, "S");
	CHECK_EQ(wire_pool_in_use(&fpool), 0);
	CHECK_EQ(wire_pool_destroy(&fpool), 0);
}
