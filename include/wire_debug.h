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
 * time left before its timeout, and how long it has waited. That last is
 * measured from the scheduler's clock as the wire blocked, which the
 * scheduler reads whenever it looks at timers and events: a wire that
 * blocked after a long run of switches without a look shows a little
 * more than it waited. Characters of a name that would break the line
 * are written as '?'.
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
 * handler is replaced; the handler runs on the thread's alternate signal
 * stack if it has one, else on the wire's stack. @threshold_ns 0 stops
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
 * JSON file (Perfetto, chrome://tracing) with a slice for each run of a
 * wire (its name, thread, start and length) and an instant event saying
 * why it stopped (a yield, what it blocked on, its end). At most
 * @max_events events are kept per scheduler thread (0: a default of
 * 1,000,000); older ones are dropped, so memory stays bounded. The file
 * is written by wire_trace_flush(), wire_trace_stop() and at exit.
 * Setting the environment variable WIRE_TRACE to a path starts a
 * timeline at the first wire_thread_init(). Returns 0, or -1 with errno
 * EINVAL (@path NULL or empty), EBUSY (a timeline is being recorded), or
 * that of opening @path or of allocating the buffers.
 */
int wire_trace_start(const char *path, size_t max_events);

/*
 * Write the timeline recorded so far to its file (replacing what an
 * earlier flush wrote), and go on recording. Returns 0, or -1 with errno
 * ENOENT (no timeline is being recorded) or that of the write.
 */
int wire_trace_flush(void);

/*
 * Write the timeline and stop recording. Returns 0, or -1 with errno
 * ENOENT (no timeline is being recorded) or that of the write.
 */
int wire_trace_stop(void);

#ifdef __cplusplus
}
#endif
#endif
