/*
 * What the debugging aids share with the scheduler (internal): the
 * registry of scheduler threads, the dump request, the hooks of the
 * timeline and the stall detector.
 *
 * Each OS thread that called wire_thread_init() has one registry node in
 * its thread-local storage, listed in wire__debug_threads from then until
 * the thread exits. The node, not the wire_thread_t (caller memory that
 * may go away), is what other threads read: the dump thread and the stall
 * watchdog touch nothing else of a scheduler thread.
 */
#ifndef WIRE_SRC_WIRE_DEBUG_INTERNAL_H
#define WIRE_SRC_WIRE_DEBUG_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "wire.h"
#include "sys.h"

struct wire_reg {
	wire_list_t link;  /* in wire__debug_threads, under wire__reg_lock */
	wire_thread_t *t;  /* the scheduler last set up on the thread */
	int tid;	   /* the OS thread's id */
	int listed;	   /* in wire__debug_threads */
	uint64_t progress; /* bumped at every look of the scheduler and, with the
			      hooks on, every switch (read by the watchdog) */
	int busy;	   /* in wire_thread_run() and not blocked in a poll */
	int in_run;	   /* in wire_thread_run() */
	unsigned dump_ack; /* last dump request served (read by the dump thread) */
	int nudged;	   /* a nudge was sent that its handler has not yet seen */
	/* The stall detector (wire_stall.c). Its signal handler, on this
	 * thread, writes what it found and then publishes stall_ack: */
	unsigned stall_seq;  /* backtraces asked of this thread by the watchdog */
	unsigned stall_ack;  /* ...the last one answered by its signal handler */
	void *stall_pcs[48]; /* backtrace() in the handler */
	int stall_npcs;
	void *stall_pc;	 /* where the signal interrupted the thread (NULL: unknown) */
	void *stall_ret; /* where the handler returns to (the signal's frame) */
	char stall_name[WIRE_NAME_MAX]; /* the running wire's name */
	int stall_in_wire;		/* a wire was running when the signal came */
	int stall_stack;		/* the thread has its stack for the handler */
	/* ...and the watchdog's own, under wire__reg_lock: */
	uint64_t stall_seen; /* progress at its last look */
	int64_t stall_since; /* when it last saw progress move (0: never looked) */
	int stall_reported;  /* the stall under way has been reported */
};

extern WIRE_INTERNAL __thread struct wire_reg wire__reg __attribute__((tls_model("initial-exec")));

/* Exported (not hidden): the gdb extension walks it (tools/gdb). */
extern wire_list_t wire__debug_threads;
extern WIRE_INTERNAL pthread_mutex_t wire__reg_lock;

/* Dump requests made so far (wire_dump_on_signal()). */
extern WIRE_INTERNAL unsigned wire__dump_gen;

/* Nonzero while a timeline or the stall detector wants every switch. */
extern WIRE_INTERNAL int wire__hooks;

static inline int wire__hooks_on(void)
{
	return __atomic_load_n(&wire__hooks, __ATOMIC_RELAXED);
}

static inline int wire__dump_due(const wire_thread_t *t)
{
	return __atomic_load_n(&wire__dump_gen, __ATOMIC_RELAXED) != t->dump_seen;
}

/* The thread moved on: a switch, or a look of the scheduler. */
static inline void wire__progress(void)
{
	__atomic_store_n(&wire__reg.progress, wire__reg.progress + 1, __ATOMIC_RELAXED);
}

/* The thread runs wires (1) or is blocked waiting for events (0). */
static inline void wire__set_busy(int busy)
{
	__atomic_store_n(&wire__reg.busy, busy, __ATOMIC_RELAXED);
	wire__progress();
}

/* The number of signal @name ("QUIT", "SIGQUIT", "RTMIN+2", "3"), or -1. */
WIRE_INTERNAL int wire__signal_number(const char *name);

/*
 * Start a detached thread of the library named @name running @fn(NULL),
 * with every signal blocked: signals meant for the program's threads
 * never land on it. Returns 0 or an errno.
 */
WIRE_INTERNAL int wire__start_thread(void *(*fn)(void *), const char *name);

/*
 * The alternate signal stack the library gives a scheduler thread for its
 * signal handlers (the stack fault reporter, the stall detector): a wire's
 * own stack may be too small for the kernel's signal frame.
 */
#define WIRE__ALTSTACK_SIZE (64 * 1024)
#define WIRE__ALTSTACK_MIN  (16 * 1024)

/*
 * Give the calling thread an alternate signal stack unless it has one of
 * at least WIRE__ALTSTACK_MIN bytes. Returns 0 with *@mine the stack
 * mapped here (NULL: the thread's stays) and @old_ss the thread's setting
 * before, or -1 with errno and nothing changed.
 */
WIRE_INTERNAL int wire__altstack_set(void **mine, stack_t *old_ss);

/* Keep @mine (from wire__altstack_set(), or NULL) as the thread's stack. */
WIRE_INTERNAL void wire__altstack_keep(void *mine);

/* wire__altstack_set() and keep: 0, or -1 with errno. */
WIRE_INTERNAL int wire__altstack_ensure(void);

/* Register the calling thread's new scheduler @t; start what the environment asks for. */
WIRE_INTERNAL void wire__debug_thread_init(wire_thread_t *t);

/* Write the listing of @t's wires (all, or those in @state if nonzero) to @fd; @t is
 * the calling thread's scheduler. */
WIRE_INTERNAL int wire__dump_list(wire_thread_t *t, int fd, int state);

/* Serve a dump request at a safe point of @t's scheduler. */
WIRE_INTERNAL void wire__dump_serve(wire_thread_t *t);

/* Timeline (wire_trace.c): @t switches to @to (NULL: the scheduler). */
WIRE_INTERNAL void wire__trace_switch(wire_thread_t *t, wire_t *to);

/* Timeline: odd while one records (wire_trace.c). */
extern WIRE_INTERNAL unsigned wire__trace_gen;

/* A timeline records and @t does not yet: it joins at its scheduler's next round. */
static inline int wire__trace_wanted(const wire_thread_t *t)
{
	return !t->trace && (__atomic_load_n(&wire__trace_gen, __ATOMIC_RELAXED) & 1);
}

/* Timeline: @t, set up before the timeline started, joins it. */
WIRE_INTERNAL void wire__trace_join(wire_thread_t *t);

/* Timeline: a thread's new scheduler @t starts recording if a timeline is on. */
WIRE_INTERNAL void wire__trace_thread_init(wire_thread_t *t);

/*
 * Timeline: the running wire @w of @t ends (wire__finish(), before its
 * on_end may start it again). Called only while wire__hooks is nonzero.
 */
WIRE_INTERNAL void wire__trace_end(wire_thread_t *t, wire_t *w);

/*
 * Stall detector: give the calling scheduler thread an alternate signal
 * stack for the handler while the detector runs (at its set-up and at
 * its scheduler's rounds while a tool is on).
 */
WIRE_INTERNAL void wire__stall_thread_setup(void);

/* Stall detector (wire_stall.c): start it if WIRE_STALL_MS says so. */
WIRE_INTERNAL void wire__stall_env(void);

#endif
