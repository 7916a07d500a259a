/*
 * wire.h - user-space cooperative threads ("wires") and their scheduler.
 *
 * One scheduler (wire_thread_t) runs per OS thread. Wires are run strictly in
 * FIFO order; a wire runs until it yields, suspends or returns. Every object
 * here is caller memory: the library never allocates a wire or a queue
 * node on its own, and stacks only when asked (wire_stack_alloc(), a
 * pool).
 */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Intrusive doubly linked list node; an empty list points at itself. */
typedef struct wire_list {
	struct wire_list *next;
	struct wire_list *prev;
} wire_list_t;

/*
 * Saved execution context of a wire or of the scheduler. Its layout is the
 * same in every build: the sanitizer and valgrind fields exist even when the
 * build does not use them, so objects compiled with other options agree.
 */
typedef struct wire_coro {
	void *sp;	   /* saved stack pointer, valid while switched out */
	void *stack;	   /* lowest address of the stack */
	size_t stack_size; /* bytes usable from stack upward */
	void *asan_fake_stack;
	void *tsan_fiber;
	long (*redirect)(void); /* sanitizer builds: called on resumption */
	unsigned valgrind_id;
} wire_coro_t;

/* Wire states. */
enum wire_state {
	WIRE_DONE = 0,	/* never started, or its entry returned: reusable */
	WIRE_READY,	/* queued to run */
	WIRE_RUNNING,	/* the current wire of its scheduler */
	WIRE_SUSPENDED, /* waiting for wire_resume() */
};

struct wire_thread;
struct wire;
struct wire_wait;
struct wire_park;
struct wire_group;

/*
 * The record of a wire blocked until another wire hands it something: a
 * message (channel send or receive), a lock or a semaphore unit. Each wire
 * embeds one, so such a call keeps nothing on its stack while it waits and
 * can switch away as its very last step. wire_channel_recv_wait() uses
 * one in caller memory (it is the channel's wire_channel_receiver_t).
 * Treat the fields as private.
 */
typedef struct wire_handoff {
	wire_list_t link;	/* in the queue of the object waited on */
	struct wire *wire;	/* the blocked wire, or NULL (none, or a wait record) */
	struct wire_wait *wait; /* wait to trigger (recv_wait), or NULL */
	union {
		void *msg;  /* a blocked sender's message */
		void **dst; /* where a blocked receiver's message goes */
	};
	int state; /* of a channel receiver: idle, queued, notified or done */
	void *obj; /* the channel a recv_wait record is armed on */
	/* Called instead of waking @wire when the hand-off completes (a case
	 * of wire_select()); NULL for a wire's own record. */
	void (*fire)(struct wire_handoff *h);
} wire_handoff_t;

/* Bytes of a wire's name, with its terminating NUL: longer names are cut. */
#define WIRE_NAME_MAX 32

/*
 * A wire. Caller memory; set up by wire_init(). Treat the fields as
 * private except where a header says otherwise.
 */
typedef struct wire {
	wire_coro_t coro;
	struct wire *run_next; /* next in the run queue while ready */
	wire_list_t link;      /* in its scheduler's list of wires until it ends */
	int state;	       /* enum wire_state */
	int cancel;	       /* 0; asked (ends at its next block); ending */
	void (*entry)(void *);
	void *arg;
	struct wire_thread *thread;
	/* What it waits on while suspended (wire_thread_dump()); set as it blocks. */
	struct {
		const char *what; /* "channel receive", "sleep", "wio_pread"... */
		const void *obj;  /* the object waited on, or NULL */
		int64_t deadline; /* when a timeout ends the wait; 0: none */
		int64_t since;	  /* the scheduler's clock as it blocked */
		int fd;		  /* the file descriptor waited on, or -1 */
	} blocked;
	wire_handoff_t handoff;		/* while blocked in a hand-off (channel, lock, semaphore) */
	struct wire_park *park;		/* what it waits on, suspended outside a hand-off */
	unsigned defers;		/* DEFER blocks in scope (wire_defer.h) */
	wire_list_t joiners;		/* hand-off records of the wires in wire_join() */
	void (*on_end)(struct wire *w); /* called as it ends (a pool takes its entry back) */
	struct wire_group *group;	/* or NULL */
	wire_list_t group_link;		/* in group->members */
	char name[WIRE_NAME_MAX];	/* a copy of the name given; "" when none */
	unsigned char unwind[32]
	    __attribute__((aligned(16))); /* unwinder's record while cancelled */
} wire_t;

/*
 * A timer of the scheduler. Timers cost no syscall and no file descriptor:
 * they sit in the scheduler (a sorted list and a pairing heap) and bound how long the thread
 * may block when no wire is ready. @fire runs on the scheduler's own stack,
 * outside any wire, so it must not block; it typically resumes a wire.
 */
typedef struct wire_timer {
	struct wire_timer *child;
	struct wire_timer *sibling;
	struct wire_timer *prev; /* parent if first child, else left sibling */
	int64_t deadline;	 /* CLOCK_MONOTONIC, nanoseconds */
	void (*fire)(struct wire_timer *);
	struct wire_thread *thread; /* scheduler it was armed on */
	int armed;		    /* nonzero while armed */
} wire_timer_t;

/*
 * The event source of a scheduler (the wire_fd layer installs one). When
 * no wire is ready the scheduler calls @poll with the longest time it may
 * block (-1: no limit, 0: do not block); @poll resumes the wires whose
 * events arrived. @pending counts what can still wake a wire through this
 * poller (registered fd waiters, calls in flight); while it is non-zero,
 * wire_thread_run() keeps waiting.
 */
typedef struct wire_poller {
	void (*poll)(struct wire_poller *p, int64_t timeout_ns);
	unsigned pending;
} wire_poller_t;

/*
 * Counters of one scheduler, from its wire_thread_init() on (see
 * wire_thread_stats() in wire_debug.h).
 */
typedef struct wire_thread_stats {
	uint64_t switches;	 /* times a wire was picked to run */
	uint64_t wires_started;	 /* wire_init() calls, pooled wires included */
	uint64_t wires_ended;	 /* entry returned, or cancelled */
	uint64_t polls;		 /* looks at the fd poller */
	uint64_t polls_blocking; /* of them, those that could block the thread */
	uint64_t timers_fired;
	uint64_t wio_inline;	 /* wio reads served at once from the page cache */
	uint64_t wio_uring;	 /* wio calls carried by io_uring */
	uint64_t wio_threads;	 /* wio calls carried by the worker threads */
	uint64_t busy_poll_hits; /* fd waits a busy poll satisfied */
} wire_thread_stats_t;

/* Per-OS-thread scheduler state. Treat the fields as private. */
typedef struct wire_thread {
	wire_t *current;       /* running wire; NULL in the scheduler itself */
	wire_t *run_head;      /* FIFO run queue: singly linked, */
	wire_t **run_tailp;    /* appended at *run_tailp */
	unsigned poll_budget;  /* switches left before the next look (wire__budget_spent) */
	unsigned budget_reset; /* what poll_budget was last set to */
	unsigned since_look;   /* switches counted since events were last checked */
	unsigned num_suspended;
	int64_t now;		  /* clock cached by the scheduler loop */
	struct wire_trace *trace; /* the timeline being recorded, or NULL */
	unsigned num_timers;
	unsigned dump_seen; /* dump requests (wire_dump_on_signal()) served */
	wire_poller_t *poller;
	wire_coro_t sched;	  /* context of wire_thread_run() */
	wire_coro_t grave;	  /* scratch context for a wire that is ending */
	wire_timer_t *timers;	  /* pairing heap root */
	wire_timer_t *tlist_head; /* timers armed in deadline order (see wire.c) */
	wire_timer_t *tlist_tail;
	wire_list_t wires; /* every wire not ended, in the order started */
	wire_thread_stats_t stats;
	int report_deadlock;
	int in_run;
	int firing; /* expired timers are being fired */
} wire_thread_t;

/*
 * The smallest stack wire_init() accepts, in bytes. What a wire's stack
 * must hold on top is its own frames and those of what it calls: the
 * library's blocking calls take a few hundred bytes with the assembly
 * switches (x86-64, aarch64); the portable ucontext switch of other
 * architectures needs several KiB more, and so do builds with sanitizers.
 * The first call of a libc function from a lazily bound program runs the
 * dynamic linker on the calling wire's stack, which saves the whole
 * extended register state there (over 3 KiB with AVX-512): programs
 * linked as pkg-config or the CMake package say are bound eagerly
 * (-Wl,-z,now) and never pay it; add that flag when linking otherwise.
 */
#define WIRE_STACK_MIN 1024

/*
 * Make @wire_thread the scheduler of the calling OS thread. The caller owns
 * the memory, which must stay valid while the thread uses wires. Deadlock
 * reporting starts enabled if the environment variable WIRE_DEADLOCK_REPORT
 * is set to a non-empty value other than "0".
 */
void wire_thread_init(wire_thread_t *wire_thread);

/*
 * Run wires until none is ready and nothing can wake one: no timer armed
 * and no poller with pending work. Returns then; may be called again later.
 * Wires still suspended at return are deadlocked: wire_thread_suspended()
 * counts them and, if enabled, their names are printed to stderr. Must be
 * called outside any wire, after wire_thread_init(); aborts otherwise.
 */
void wire_thread_run(void);

/* Number of wires of the calling thread's scheduler now suspended (0 without one). */
unsigned wire_thread_suspended(void);

/*
 * Print the number of suspended wires to stderr, and for each its name,
 * what it waits on and for how long, as wire_thread_dump() does. Does
 * nothing without a scheduler on this thread.
 */
void wire_thread_report_suspended(void);

/*
 * Enable (1) or disable (0) the report (wire_thread_report_suspended()) at
 * a return of wire_thread_run() that leaves wires suspended. Does nothing
 * without a scheduler on this thread.
 */
void wire_thread_set_deadlock_report(int enable);

/*
 * Create a wire that will run @entry_point(@arg) on @stack (@stack_size
 * bytes of caller memory, at least WIRE_STACK_MIN). The wire is queued at
 * the tail of the run queue; wire_init() never switches. May be called
 * before wire_thread_run() or from a running wire. @name (NULL: none) is
 * copied into the wire, cut to WIRE_NAME_MAX - 1 bytes, so the caller may
 * reuse its buffer at once. Once @entry_point returns, @wire and @stack
 * may be reused.
 * Returns @wire, or NULL with errno EINVAL (NULL wire, entry or stack,
 * stack too small, or no scheduler on this thread), in which case nothing
 * changed. Re-initializing a wire that has not finished is undefined.
 */
wire_t *wire_init(wire_t *wire, const char *name, void (*entry_point)(void *), void *arg,
		  void *stack, unsigned stack_size);

/*
 * Let every other ready wire run once, then continue. Aborts outside a
 * wire. A cancelled wire ends here (wire_cancel()).
 */
void wire_yield(void);

/*
 * Stop the calling wire until another wire (or a timer or the poller)
 * calls wire_resume() on it. Aborts outside a wire. Cancelled, the wire
 * ends here (wire_cancel()).
 */
void wire_suspend(void);

/*
 * Queue a suspended wire to run. A wire that is ready or running stays
 * where it is; a done wire is not touched, and neither is a wire blocked
 * in a channel, lock or semaphore call or in wire_wait_single() (only the
 * hand-off or the trigger ends that wait).
 * Aborts if @wire belongs to the scheduler of another OS thread.
 */
void wire_resume(wire_t *wire);

/*
 * Cancel @wire: make it end without running the rest of its code. A wire
 * that is blocked (suspended in any blocking call of any layer, or in
 * wire_suspend()) ends at that point; a wire that is ready to run (it
 * yielded, or its wait has just completed: a message, a lock, a wio
 * call's result was handed to it) ends at its next block or yield, after
 * the call that completed has returned; a wire that was never run ends
 * without running; the calling wire itself ends at once (wire_cancel()
 * does not return then).
 *
 * What the wire waits on is withdrawn at once, before any other wire
 * runs: its place in a channel, lock, semaphore, wait or join queue, in a
 * wait list and the sources chained in it (channel receiver records,
 * fd waits and timeouts are taken back), its fd wait, sleep or timer, its
 * wire_pool_alloc_block() place; the other wires go on as if it had never
 * queued. A wio call in flight cannot be withdrawn: it completes (io_uring
 * is asked to cancel it) before the wire ends, so its buffers on the
 * wire's stack stay valid to the end.
 *
 * Then the wire's DEFER blocks (wire_defer.h) run, innermost first, on its
 * own stack, and it ends as if its entry function had returned: wires in
 * wire_join() wake, it leaves its group, a pooled wire returns to its
 * pool. The DEFER blocks may block; the wire cannot be cancelled again.
 * Anything else the wire holds stays as it is: a lock it holds stays held
 * and an fd state it registered stays registered unless a DEFER block
 * releases them. Cancelling a wire that has ended, or one already
 * cancelled, changes nothing.
 *
 * Returns 0, or -1 with errno EINVAL when @wire is NULL. Aborts if @wire
 * belongs to the scheduler of another OS thread. May be called from any
 * wire of the thread, from a timer callback or outside any wire.
 */
int wire_cancel(wire_t *wire);

/*
 * Block the calling wire until @wire has ended (returned from its entry
 * function or been cancelled); returns at once if it has. Any number of
 * wires may wait for one. @wire refers to the wire_t: once a wire has
 * ended its memory may be reused for another one (a pool does so), and a
 * join then waits for that one. Returns 0, or -1 with errno EINVAL
 * (@wire NULL or of another thread's scheduler) or EDEADLK (@wire is the
 * caller). Aborts outside a wire. Cancelled, the joiner leaves the wait
 * and ends; @wire is not affected.
 */
int wire_join(wire_t *wire);

/*
 * A group of wires of one scheduler, to cancel and wait for together
 * (structured concurrency): a server's shutdown is wire_group_cancel()
 * and wire_group_join(). A wire leaves its group when it ends. Caller
 * memory; treat the fields as private.
 */
typedef struct wire_group {
	wire_list_t members; /* wires not yet ended, in the order added */
	wire_list_t joiners; /* hand-off records of the wires in wire_group_join() */
	unsigned count;
} wire_group_t;

/* Make @group an empty group. */
void wire_group_init(wire_group_t *group);

/*
 * Add @wire, which has been started (wire_init(), wire_pool_alloc()) and
 * has not ended, to @group; it stays a member until it ends. Adding it
 * right after starting it leaves no gap: starting a wire never switches.
 * Returns 0, or -1 with errno EINVAL (NULL argument, a wire that has
 * ended, is in a group already or belongs to another thread's scheduler).
 */
int wire_group_add(wire_group_t *group, wire_t *wire);

/* The number of members of @group that have not ended. */
unsigned wire_group_count(const wire_group_t *group);

/*
 * wire_cancel() every member of @group, in the order they were added.
 * When the caller is a member it is cancelled last, and the call does not
 * return. Members that have DEFER blocks to run or a wio call to finish
 * end when they next run: wire_group_join() waits for them. Returns 0, or
 * -1 with errno EINVAL when @group is NULL.
 */
int wire_group_cancel(wire_group_t *group);

/*
 * Block until every member of @group has ended; returns at once when it
 * has none. Returns 0, or -1 with errno EINVAL (@group NULL) or EDEADLK
 * (the caller is a member). Aborts outside a wire. Cancelled, the caller
 * leaves the wait and ends; the group is not affected.
 */
int wire_group_join(wire_group_t *group);

/* The running wire, or NULL outside any wire. */
wire_t *wire_get_current(void);

/*
 * The name of the running wire (its copy in the wire_t), or NULL outside
 * any wire or for a wire started without a name.
 */
const char *wire_get_name(void);

/* Current CLOCK_MONOTONIC time in nanoseconds. */
int64_t wire_now_ns(void);

/*
 * Prepare @t, disarmed, to call @fire when it expires: once per arming
 * (wire_timer_start_at()).
 */
void wire_timer_init(wire_timer_t *t, void (*fire)(wire_timer_t *t));

/*
 * Arm @t to fire at @deadline_ns (CLOCK_MONOTONIC). Re-arming an armed
 * timer moves it. A deadline already past fires at the scheduler's next
 * look at its timers; armed from a timer callback, it fires in the next
 * round, not in the one under way (so a callback that re-arms itself for
 * "now" cannot spin). Requires a scheduler on the calling thread, the one
 * the timer was armed on if it is armed; aborts otherwise.
 */
void wire_timer_start_at(wire_timer_t *t, int64_t deadline_ns);

/*
 * Disarm @t. Returns 1 if it was armed, 0 if it had fired or was idle.
 * Aborts if @t is armed on the scheduler of another OS thread.
 */
int wire_timer_stop(wire_timer_t *t);

/*
 * Suspend the calling wire for @ns nanoseconds (at least; the scheduler
 * checks timers whenever it polls). @ns <= 0 yields once. Returns 0.
 * Aborts outside a wire. Cancelled, the wire ends and its timer is
 * stopped.
 */
int wire_sleep_ns(int64_t ns);

/*
 * Install @p as the scheduler's poller (NULL removes it). Aborts without
 * a scheduler on this thread.
 */
void wire_thread_set_poller(wire_poller_t *p);

/* The calling thread's scheduler, or NULL before wire_thread_init(). */
wire_thread_t *wire_thread_get(void);

#ifdef __cplusplus
}
#endif
#endif
