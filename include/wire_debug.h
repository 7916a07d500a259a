/*
 * wire_debug.h - seeing inside a running program: listings of wires,
 * counters, dumps on a signal, a stall detector and a timeline.
 *
 * Every wire is known to its scheduler from wire_init() until it ends,
 * with its state and, while suspended, what it waits on and since when.
 * The listings below (and the gdb commands of tools/gdb/libwire-gdb.py)
 * read that; nothing here costs the switch path anything while it is off.
 */
#ifndef WIRE_DEBUG_H
#define WIRE_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Write the listing of the calling thread's scheduler to @fd: a header
 *
 *   libwire: thread TID: N wires: R running, Q ready, S suspended
 *
 * then one line per wire not ended, in the order they were started,
 * indented by two spaces:
 *
 *   ADDRESS "NAME" STATE[: WHAT[ OBJECT][ (fd FD)][, T s left], for D s]
 *
 * STATE is running, ready or suspended; a suspended wire says what it
 * waits on (WHAT: channel send, channel receive, lock, lock clear,
 * semaphore, wait, wait list, join, group join, select, pool, sleep,
 * fd read, fd write, wire_suspend, wire_io_shutdown, or the wio call, as
 * wio_pread), the object's address (the channel, lock...), the fd, the
 * time left before its timeout (for a wait list: the first fd wait and
 * the nearest timeout chained on it), and how long it has waited. That
 * last is
 * counted from the scheduler's clock as the wire blocked, which the
 * scheduler reads at each round of its loop: whenever no wire is ready,
 * and every 64 switches while timers are armed or fds waited on. A thread
 * whose wires only switch among themselves, with no timer or fd wait,
 * may go long without a round: a wait that began then is counted from
 * the last round, and shows longer than it is. Characters of a name that
 * would break the line are written as '?'.
 * Returns 0, or -1 with errno: EINVAL (no scheduler on this thread, or
 * @fd negative), or that of the failed write() (EBADF...).
 */
int wire_thread_dump(int fd);

/*
 * Copy the counters of the calling thread's scheduler into @stats (see
 * wire_thread_stats_t in wire.h). Returns 0, or -1 with errno EINVAL
 * (@stats NULL or no scheduler on this thread).
 */
int wire_thread_stats(wire_thread_stats_t *stats);

/*
 * Make signal @signum dump every scheduler thread of the process: each
 * writes its wire_thread_dump() listing to stderr at its next look at
 * events (a thread blocked waiting for events is woken for it, a thread
 * outside wire_thread_run() writes when it next runs it), and the
 * program goes on. Listings of several threads do not interleave. A
 * thread of the library serves the requests; the signal's previous
 * handler is replaced, and given back when a later call moves dumps to
 * another signal. Setting the environment
 * variable WIRE_DUMP_SIGNAL to a signal name (QUIT, SIGUSR1, RTMIN+2) or
 * number does the same at the first wire_thread_init().
 * Returns 0, or -1 with errno EINVAL (@signum not a signal that can be
 * caught), or that of a failed pipe or thread creation.
 */
int wire_dump_on_signal(int signum);

/*
 * Start the stall detector, or change its threshold: a watchdog thread
 * notices a scheduler thread that has run one wire (or one timer
 * callback) without switching for @threshold_ns and writes to stderr,
 * once per stall, the thread, the wire's name, how long it has run so
 * far and its backtrace, symbolized (with libdw when the library was
 * built with it: static functions and file:line too). To take the
 * backtrace it sends the stalled thread SIGRTMAX - 2, whose previous
 * handler is replaced. The handler runs on an alternate signal stack, not
 * on the wire's: each scheduler thread without one of at least 16 KiB is
 * given one of 64 KiB (mapped as the thread sets up its scheduler, or at
 * its scheduler's next round, while the detector runs; freed when the
 * thread exits). @threshold_ns 0 stops
 * the detector. Setting the environment variable WIRE_STALL_MS to a
 * number of milliseconds starts it at the first wire_thread_init() (any
 * other value is reported on stderr and ignored). While it runs, every
 * switch also counts as progress for the watchdog, which a busy switch
 * loop notices; off, it costs nothing.
 * Returns 0, or -1 with errno EINVAL (@threshold_ns negative), or that
 * of a failed thread creation.
 */
int wire_stall_detect(int64_t threshold_ns);

/*
 * Start recording a timeline to the file @path: a Chrome trace-event
 * JSON file, {"traceEvents": [...], "displayTimeUnit": "ns"}, that
 * Perfetto (ui.perfetto.dev) and chrome://tracing open. Each run of a
 * wire, from the switch into it to the switch away, is a complete event
 * ("ph": "X") named after the wire (or "wire 0xADDRESS" when it has no
 * name), with the process id, the OS thread id, its start and length in
 * microseconds from the start of the timeline (to the nanosecond) and
 * the wire's address in its args. An instant event ("ph": "i") at the
 * end of each run says why it stopped: "yield" (it was ready again), the
 * wait it blocked on as wire_thread_dump() names it ("channel receive",
 * "sleep", "fd read"...) with the object and fd in its args, or "end".
 * Metadata events name each thread "libwire thread TID". The gaps
 * between runs are the scheduler's own time: timers, polls, waiting for
 * events.
 *
 * Every scheduler thread is recorded: the calling thread from its next
 * switch, the others from their scheduler's next round (at the latest
 * 64 switches on, or when a thread blocked waiting for events wakes). While a timeline records,
 * every switch goes through the scheduler's loop and is written to memory with a read of the clock
 * (some 40 ns a switch instead of 5); off, recording costs nothing.
 *
 * Memory is bounded: each thread keeps its last @max_events events (0: a
 * default of 1,000,000) in a buffer of its own, 40 bytes an event,
 * allocated as the thread starts recording (a run is two events: an odd
 * @max_events is rounded down, and a thread keeps at least one run). The
 * oldest are dropped, and the file says how many: in each thread's
 * metadata event (args "dropped_events") and in total ("otherData").
 * A thread whose buffer cannot be allocated is left out (counted in
 * otherData's "threads_unrecorded"). The buffers of threads that exit
 * stay with the timeline until it stops.
 *
 * The file is written whole by wire_trace_flush(), wire_trace_stop()
 * and at the exit of the process (atexit), by the calling thread, while
 * the other threads go on recording; a run under way is not in it. The
 * child of a fork() neither records nor writes its parent's timeline.
 * Setting the environment variable WIRE_TRACE to a path starts a
 * timeline with the default @max_events at the first wire_thread_init()
 * of the process, before that thread or any other looks whether one is
 * on; if it cannot start, the reason is written to stderr. A timeline
 * started so is also written when SIGINT or SIGTERM ends the process
 * (a server's usual end, which skips atexit): of the two, those whose
 * action is the default at that point are caught, by a thread of the
 * library, which writes the file and then ends the process by the same
 * signal. A handler the program installs later replaces this.
 * Returns 0, or -1 with errno EINVAL (@path NULL or empty), EBUSY (a
 * timeline is being recorded), ENOMEM (@max_events too large to address),
 * or that of opening @path for writing (ENOENT for a directory that does
 * not exist...).
 */
int wire_trace_start(const char *path, size_t max_events);

/*
 * Write the timeline recorded so far to its file from its beginning
 * (replacing what an earlier write put there), and go on recording.
 * Returns 0, or -1 with errno ENOENT (no timeline is being recorded) or
 * that of the write (ENOSPC...).
 */
int wire_trace_flush(void);

/*
 * Write the timeline, close its file, stop recording (each thread at its
 * next switch) and free the buffers. The timeline stops even when the
 * write fails. Returns 0, or -1 with errno ENOENT (no timeline is being
 * recorded) or that of the write (ENOSPC...).
 */
int wire_trace_stop(void);

#ifdef __cplusplus
}
#endif
#endif
