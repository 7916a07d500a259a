/*
 * Tests of the scheduler across OS threads: each thread has its own
 * scheduler, and a wire cannot be resumed from another thread's scheduler.
 * Run under ThreadSanitizer by `make tsan`.
 */
// TEST_LABELS: threads
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"
#include "test.h"

#define STACK	(64 * 1024)
#define THREADS 2
#define WIRES	3
#define ROUNDS	200

struct worker {
	wire_thread_t sched;
	wire_t wires[WIRES];
	char stacks[WIRES][STACK];
	int ids[WIRES];
	int order[WIRES * (ROUNDS + 1)]; /* wire ids in the order they ran */
	int len;
	wire_thread_t *seen_sched; /* wire_thread_get() inside a wire */
	int bad_current;	   /* a wire saw another wire as current */
};

static struct worker workers[THREADS];

static void yielder(void *arg)
{
	int id = *(int *)arg;
	struct worker *wk = &workers[id / WIRES];

	for (int r = 0; r <= ROUNDS; r++) {
		wk->order[wk->len++] = id;
		if (wire_get_current() != &wk->wires[id % WIRES])
			wk->bad_current++;
		wk->seen_sched = wire_thread_get();
		if (r < ROUNDS)
			wire_yield();
	}
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	int base = (int)(wk - workers) * WIRES;

	wire_thread_init(&wk->sched);
	for (int i = 0; i < WIRES; i++) {
		wk->ids[i] = base + i;
		if (!wire_init(&wk->wires[i], "yielder", yielder, &wk->ids[i], wk->stacks[i],
			       STACK))
			return NULL;
	}
	wire_thread_run();
	return wk;
}

TEST(schedulers_are_per_thread)
{
	pthread_t th[THREADS];
	void *ret;

	CHECK_PTR_EQ(wire_thread_get(), NULL); /* the main thread has none */
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, worker_main, &workers[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		CHECK_EQ(pthread_join(th[i], &ret), 0);
		CHECK_PTR_EQ(ret, &workers[i]);
	}
	CHECK_PTR_EQ(wire_thread_get(), NULL);
	for (int i = 0; i < THREADS; i++) {
		struct worker *wk = &workers[i];

		/* Each thread ran only its own wires, strictly round-robin. */
		CHECK_EQ(wk->len, WIRES * (ROUNDS + 1));
		for (int k = 0; k < wk->len; k++)
			CHECK_EQ(wk->order[k], i * WIRES + k % WIRES);
		CHECK_PTR_EQ(wk->seen_sched, &wk->sched);
		CHECK_EQ(wk->bad_current, 0);
		for (int k = 0; k < WIRES; k++)
			CHECK_EQ(wk->wires[k].state, WIRE_DONE);
	}
}

static wire_thread_t owner_sched;
static wire_t parked;
static char parked_stack[STACK];

static void park(void *arg)
{
	(void)arg;
	wire_suspend();
}

static void *resume_from_here(void *arg)
{
	static wire_thread_t other;

	(void)arg;
	wire_thread_init(&other);
	wire_resume(&parked); /* must abort: parked belongs to owner_sched */
	return NULL;
}

static void resume_across_threads(void *arg)
{
	pthread_t th;

	(void)arg;
	wire_thread_init(&owner_sched);
	wire_thread_set_deadlock_report(0);
	wire_init(&parked, "parked", park, NULL, parked_stack, STACK);
	wire_thread_run();
	if (wire_thread_suspended() != 1)
		_exit(3);
	if (pthread_create(&th, NULL, resume_from_here, NULL) != 0)
		_exit(4);
	pthread_join(th, NULL);
	_exit(0); /* not reached when the misuse is caught */
}

TEST(resume_from_another_thread_aborts)
{
	char err[1024];
	int status = test_run_child(resume_across_threads, NULL, err, sizeof(err));

	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(err, "libwire: wire_resume:") != NULL);
	CHECK(strstr(err, "another OS thread") != NULL);
}
