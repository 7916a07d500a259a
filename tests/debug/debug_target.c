/*
 * A program with a wire blocked in each way a wire can block, for the
 * checks of the listings: test_debug (wire_thread_dump(), field by field)
 * and tests/debug/gdb_wires.sh (the gdb commands, live and on a core).
 *
 * It prints what each listing must say, one "expect" line per wire:
 *   expect ADDRESS NAME STATE WHAT OBJECT FD DEADLINE
 * (OBJECT 0x0 and FD -1 when none, DEADLINE 1 when the wait has a
 * timeout; every suspended wire has waited at least 0.2 s), then
 * "listing", then its wire_thread_dump() listing, then
 * calls debug_target_stop() (a breakpoint for gdb) with every wire in
 * place, and exits 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"
#include "wire_channel.h"
#include "wire_debug.h"
#include "wire_fd.h"
#include "wire_io.h"
#include "wire_lock.h"
#include "wire_pool.h"
#include "wire_select.h"
#include "wire_semaphore.h"
#include "wire_timeout.h"
#include "wire_wait.h"

#define STACK  (64 * 1024)
#define NWIRES 20

static wire_thread_t thread;
static wire_t wires[NWIRES];
static char stacks[NWIRES][STACK] __attribute__((aligned(16)));
static int nwires;

static wire_channel_t chan_r, chan_s, chan_sel;
static wire_lock_t lock;
static wire_sem_t sem;
static wire_wait_t wait1, wait_in_list;
static wire_wait_list_t wlist;
static wire_fd_state_t fd_state;
static int pipe_fd[2], wio_pipe[2], list_pipe[2];
static wire_fd_state_t list_fd_state;
static wire_timeout_t list_timeout;
static wire_pool_t pool;
static wire_pool_entry_t pool_entries[1];
static wire_group_t group;
static wire_select_case_t sel_cases[1];

struct expect {
	const char *what;
	const void *obj;
	int fd;
	int deadline;
};
static struct expect expects[NWIRES];
static wire_t *listed[NWIRES];
/* The object of a wio call is its request, on the caller's stack. */
static const char any_object;

static void recv_forever(void *arg)
{
	void *msg;
	(void)arg;
	wire_channel_recv_block(&chan_r, &msg);
}

static void send_forever(void *arg)
{
	(void)arg;
	wire_channel_send(&chan_s, &chan_s);
}

static void hold_lock_and_sleep(void *arg)
{
	(void)arg;
	wire_lock_take(&lock);
	wire_sleep_ns(3600 * 1000000000LL);
}

static void take_lock(void *arg)
{
	(void)arg;
	wire_lock_take(&lock);
}

static void take_sem(void *arg)
{
	(void)arg;
	wire_sem_take(&sem);
}

static void wait_single(void *arg)
{
	(void)arg;
	wire_wait_single(&wait1);
}

/* A wait, an fd and an hour's timeout on one list. */
static void wait_list(void *arg)
{
	(void)arg;
	wire_fd_wait_list_chain(&wlist, &list_fd_state);
	wire_timeout_reset(&list_timeout, 3600 * 1000);
	wire_wait_chain(&wlist, wire_timeout_wait_get(&list_timeout));
	wire_list_wait(&wlist);
}

static void read_fd(void *arg)
{
	(void)arg;
	wire_fd_wait_read(&fd_state);
}

static void wio_blocked(void *arg)
{
	char c;
	(void)arg;
	(void)!wio_read(wio_pipe[0], &c, 1);
}

static void join_sleeper(void *arg)
{
	wire_join(arg);
}

static void do_select(void *arg)
{
	(void)arg;
	sel_cases[0] = (wire_select_case_t){.op = WIRE_SELECT_RECV, .chan = &chan_sel};
	wire_select(sel_cases, 1, 3600 * 1000000000LL);
}

static void pool_member(void *arg)
{
	(void)arg;
	wire_suspend();
}

static void pool_blocked(void *arg)
{
	(void)arg;
	wire_pool_alloc_block(&pool, "never", pool_member, NULL);
}

static void join_group(void *arg)
{
	(void)arg;
	wire_group_join(&group);
}

static void plain_suspend(void *arg)
{
	(void)arg;
	wire_suspend();
}

static void yield_forever(void *arg)
{
	(void)arg;
	for (;;)
		wire_yield();
}

/* Where gdb stops: every wire is in place. */
void debug_target_stop(void);
void __attribute__((noinline)) debug_target_stop(void)
{
	__asm__ volatile("" ::: "memory");
}

static void print_expects(void)
{
	for (int i = 0; i < nwires; i++) {
		wire_t *w = listed[i];
		const char *state = w->state == WIRE_RUNNING ? "running"
				    : w->state == WIRE_READY ? "ready"
							     : "suspended";
		printf("expect %p %s %s %s ", (void *)w, w->name, state,
		       expects[i].what ? expects[i].what : "-");
		if (expects[i].obj == &any_object)
			printf("*");
		else
			printf("%p", expects[i].obj);
		printf(" %d %d\n", expects[i].fd, expects[i].deadline);
	}
}

static void dumper(void *arg)
{
	(void)arg;
	/* Every other wire runs up to its block, and waits there 200 ms. */
	wire_sleep_ns(200 * 1000000LL);
	print_expects();
	printf("listing\n");
	fflush(stdout);
	if (wire_thread_dump(1) != 0) {
		perror("wire_thread_dump");
		exit(2);
	}
	debug_target_stop();
	fflush(stdout);
	_exit(0);
}

static wire_t *start(const char *name, void (*fn)(void *), void *arg, const char *what,
		     const void *obj, int fd, int deadline)
{
	int i = nwires++;

	expects[i] = (struct expect){what, obj, fd, deadline};
	listed[i] = wire_init(&wires[i], name, fn, arg, stacks[i], STACK);
	return listed[i];
}

int main(void)
{
	wire_t *sleeper;

	wire_thread_init(&thread);
	if (wire_fd_init() != 0 || wire_io_init_backend(1, "threads") != 0) {
		perror("init");
		return 2;
	}
	if (pipe(pipe_fd) != 0 || pipe(wio_pipe) != 0 || pipe(list_pipe) != 0)
		return 2;
	wire_channel_init(&chan_r);
	wire_channel_init(&chan_s);
	wire_channel_init(&chan_sel);
	wire_lock_init(&lock);
	wire_sem_init(&sem, 0);
	wire_wait_init(&wait1);
	wire_wait_init(&wait_in_list);
	wire_wait_list_init(&wlist);
	wire_wait_chain(&wlist, &wait_in_list);
	wire_fd_mode_init(&list_fd_state, list_pipe[0]);
	wire_fd_mode_read(&list_fd_state);
	wire_timeout_init(&list_timeout);
	wire_fd_mode_init(&fd_state, pipe_fd[0]);
	wire_fd_mode_read(&fd_state);
	if (wire_pool_init(&pool, pool_entries, 1, STACK) != 0)
		return 2;
	wire_group_init(&group);

	start("dumper", dumper, NULL, NULL, NULL, -1, 0);
	start("chan-recv", recv_forever, NULL, "channel receive", &chan_r, -1, 0);
	start("chan-send", send_forever, NULL, "channel send", &chan_s, -1, 0);
	sleeper = start("sleeper", hold_lock_and_sleep, NULL, "sleep", NULL, -1, 1);
	start("locker", take_lock, NULL, "lock", &lock, -1, 0);
	start("sem-taker", take_sem, NULL, "semaphore", &sem, -1, 0);
	start("waiter", wait_single, NULL, "wait", &wait1, -1, 0);
	start("list-waiter", wait_list, NULL, "wait list", &wlist, list_pipe[0], 1);
	start("fd-reader", read_fd, NULL, "fd read", &fd_state, pipe_fd[0], 0);
	start("wio-reader", wio_blocked, NULL, "wio_read", &any_object, wio_pipe[0], 0);
	start("joiner", join_sleeper, sleeper, "join", sleeper, -1, 0);
	start("selector", do_select, NULL, "select", sel_cases, -1, 1);
	wire_group_add(&group,
		       start("suspender", plain_suspend, NULL, "wire_suspend", NULL, -1, 0));
	start("group-joiner", join_group, NULL, "group join", &group, -1, 0);
	start("yielder", yield_forever, NULL, NULL, NULL, -1, 0);
	/* The pool's one entry is taken: the next wire blocks for one. */
	expects[nwires] = (struct expect){"wire_suspend", NULL, -1, 0};
	listed[nwires++] = wire_pool_alloc(&pool, "pool-member", pool_member, NULL);
	start("pool-waiter", pool_blocked, NULL, "pool", &pool, -1, 0);
	wire_thread_run();
	return 3;
}
