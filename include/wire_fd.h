/*
 * wire_fd.h - fd readiness on epoll, inside the scheduler.
 *
 * wire_fd_init() gives the calling thread's scheduler an epoll poller. A
 * wire then waits for an fd through a wire_fd_state_t (caller memory, one
 * per fd and thread, shared by every wire of the thread that uses the fd).
 *
 * The contract: a wait in read mode returns once the fd is readable in
 * the sense of poll(2) (POLLIN, POLLHUP or POLLERR) at the moment of the
 * call or later, and a wait in write mode once it is writable (POLLOUT,
 * POLLHUP or POLLERR), whatever the program did before: read all of the
 * data, part of it or none, lost a wait list to another source, slept,
 * yielded or switched modes. Wait when you need the fd ready; there is no
 * other rule. A wait may return without the fd being ready (then the I/O
 * fails with EAGAIN: wait again), but rarely, and never twice in a row
 * without the fd's readiness having changed. Hang-up and error wake every
 * wire waiting on the fd, in either direction.
 *
 * Costs: the fd is added to epoll once, by the first wire_fd_mode_read()
 * or wire_fd_mode_write(), level-triggered. A loop that waits in one
 * direction makes no epoll_ctl; waiting in the other direction adds it to
 * the fd's interest (one epoll_ctl). An fd that stays ready while no wire
 * waits on it costs one epoll_ctl when the thread would otherwise sleep
 * (its readiness is then kept in the state, and the next wait returns at
 * once) and one more when a wire waits on it again. The scheduler blocks in epoll_wait only when no
 * wire is ready (bounded by the nearest timer), and looks without blocking every 64 switches while
 * wires are busy, so fds are not starved and busy wires pay no syscall
 * per switch.
 *
 * A reader and a writer may wait on the same fd at once: they share the
 * state, the reader waits with wire_fd_wait_read() (or wire_fd_wait() in
 * read mode) and the writer with wire_fd_wait_write(). Several wires
 * waiting in the same direction are all woken.
 *
 * Closing: release an fd with wire_fd_close(), or call wire_fd_mode_none()
 * before closing it yourself. Both remove the fd from epoll before the
 * number can be reused, so a later fd with the same number never sees
 * stale events; wire_fd_close() also wakes the fd's waiters, whose waits
 * then fail with EBADF. A state that is chained in a wait list must be
 * unchained before its memory is reused.
 *
 * fork(): a child inherits the parent's epoll instance, which it must not
 * use (events would be taken from the parent). A child that wants wires
 * and fds calls wire_thread_init() and wire_fd_init() again: that creates
 * a fresh epoll, and states are added to it again on their next use. A
 * child that polls the inherited instance without doing so aborts with a
 * message.
 *
 * Timers do not use fds: see wire_fd_wait_msec() and wire_timeout.h.
 */
#ifndef WIRE_FD_H
#define WIRE_FD_H

#include "wire.h"
#include "wire_wait.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Modes of a state: what wire_fd_wait() and wire_fd_wait_list_chain() wait for. */
enum wire_fd_mode {
	WIRE_FD_MODE_NONE = 0, /* not watched (not in epoll) */
	WIRE_FD_MODE_READ,
	WIRE_FD_MODE_WRITE,
};

/* One direction of a state. Private. */
typedef struct wire_fd_dir {
	wire_list_t parked;  /* records of wires parked in a wait of this direction */
	wire_wait_t wait;    /* the wait wire_fd_wait_list_chain() chains */
	wire_list_t counted; /* node in the poller's list while @wait counts as pending */
} wire_fd_dir_t;

/* A wire parked in a wait of a state, on its stack. Private. */
typedef struct wire_fd_parked {
	wire_list_t link; /* in dir[].parked */
	wire_t *wire;
	int err; /* -1 while parked; then 0 (ready) or the errno of the wait */
} wire_fd_parked_t;

/*
 * Readiness state of one fd for the wires of one thread. Caller memory;
 * initialize with wire_fd_mode_init(). Read @fd freely (wire_fd_close()
 * sets it to -1); treat the other fields as private.
 */
typedef struct wire_fd_state {
	int fd;
	int mode;	      /* enum wire_fd_mode */
	unsigned ready;	      /* readiness recorded out of epoll's sight (private bits) */
	unsigned events;      /* interest in epoll; 0: not in it */
	unsigned gen;	      /* poller generation the state is known to, 0: none */
	wire_fd_dir_t dir[2]; /* [0] read, [1] write */
} wire_fd_state_t;

/*
 * Set up the calling thread's poller: create its epoll instance and
 * install it in the scheduler (wire_thread_set_poller()). Call after
 * wire_thread_init(), outside any wire. Calling it again (in particular in
 * a child after fork()) replaces the epoll instance by a fresh one; fds are
 * then registered again on their next mode change or wait. The poller's
 * memory is per-thread and owned by the library. Returns 0, or -1 with
 * errno (EINVAL: no scheduler on this thread or called from a wire;
 * EBUSY: wires of this thread still wait on fds or wio calls are in
 * flight, which a fresh instance would lose; the errors of
 * epoll_create1), in which case nothing changed. Busy polling starts as
 * the environment variable WIRE_FD_BUSY_POLL_US says (microseconds, see
 * wire_fd_set_busy_poll(); unset or empty: off); a value that is not a
 * number from 0 to 1000000 fails with EINVAL.
 */
int wire_fd_init(void);

/*
 * Busy polling for the calling thread's poller: when no wire is ready and
 * the scheduler would block in epoll_wait, it first polls without
 * blocking for up to @ns nanoseconds (never past the next timer: the time
 * polled counts against it), and blocks only if nothing arrived
 * meanwhile. 0 turns it off (the default).
 *
 * The window in use adapts below @ns: when polling found nothing and the
 * block that followed outlasted @ns, polling was spent in vain and the
 * next window is halved, down to none (below @ns / 8); when such a block
 * ended within @ns, traffic is dense and the window doubles back, up to
 * @ns. Sparse traffic therefore costs little CPU, and a call of this
 * function starts again from @ns.
 *
 * This trades CPU for the cost of waking a sleeping thread, which the
 * waker pays: a peer on another core that sends to a sleeping server
 * spends part of its own time waking the server's thread (an
 * inter-processor interrupt). For a server pinned to a core of its own
 * whose clients are on other cores of the same machine, a window of
 * 20-100 us lets the server use its idle time instead (the example
 * servers use 50 us). The polling thread shows 100% CPU while it has
 * pending fds and traffic keeps arriving within the window.
 *
 * Returns 0, or -1 with EINVAL (@ns below 0 or over one second, or no
 * poller on this thread: call wire_fd_init() first).
 */
int wire_fd_set_busy_poll(int64_t ns);

/*
 * The busy-poll window set for the calling thread's poller in nanoseconds
 * (0: off), by wire_fd_set_busy_poll() or WIRE_FD_BUSY_POLL_US; the window
 * in use may be shorter while traffic is sparse. Returns -1 with EINVAL
 * when this thread has no poller.
 */
int64_t wire_fd_busy_poll(void);

/*
 * Prepare @state for @fd in mode none: nothing is registered and no
 * syscall is made. @state must not be in use.
 */
void wire_fd_mode_init(wire_fd_state_t *state, int fd);

/*
 * Make wire_fd_wait() wait until the fd is readable. The first change out
 * of mode none registers the fd with epoll (one epoll_ctl); later changes
 * make no syscall. Returns 0, or -1 with errno: EBADF (fd -1 or closed),
 * EPERM (an fd epoll cannot watch, such as a regular file), EINVAL (no
 * wire_fd_init() on this thread), ENOMEM/ENOSPC; the state is then as it
 * was.
 */
int wire_fd_mode_read(wire_fd_state_t *state);

/* As wire_fd_mode_read(), for writability. */
int wire_fd_mode_write(wire_fd_state_t *state);

/*
 * Stop watching: remove the fd from epoll (one epoll_ctl if it was
 * registered) and forget its readiness. Wires parked on the state wake
 * and their wait fails with EINVAL; a chained wait of the state is
 * triggered. Afterwards the caller may close the fd and reuse the memory.
 * Returns 0, or -1 with errno from epoll_ctl (EBADF: the fd was already
 * closed), the state then being as it was.
 */
int wire_fd_mode_none(wire_fd_state_t *state);

/*
 * Block the calling wire until the fd is ready in the state's mode (read
 * or write), hung up or in error, by the contract at the top of this
 * file: at once if it is ready now or readiness arrived while no wire of
 * that direction waited. A wait in a mode other than the first one set
 * may make one epoll_ctl to add that direction to the fd's interest.
 * Returns 0 (ready, or rarely a spurious wakeup: retry the I/O, wait
 * again on EAGAIN), or -1 with errno: EBADF
 * (closed state, fd -1, or the fd was closed by wire_fd_close() while
 * waiting), EINVAL (mode none, or wire_fd_mode_none() while waiting).
 * Aborts outside a wire. Cancelled, the wire's wait is withdrawn (other
 * waiters of the fd are not affected) and it ends.
 */
int wire_fd_wait(wire_fd_state_t *state);

/*
 * Like wire_fd_wait() in read (write) mode whatever the state's mode is;
 * the state must be watched (mode read or write). For a reader and a
 * writer waiting on one fd at once.
 */
int wire_fd_wait_read(wire_fd_state_t *state);
int wire_fd_wait_write(wire_fd_state_t *state);

/*
 * Arm the state's wait for its mode's direction and chain it to @wl, so
 * that wire_list_wait(@wl) returns it once the fd is ready (hung up, in
 * error), by the same rule as wire_fd_wait(): an fd that is ready when
 * the wait is chained triggers it at once (readiness already recorded) or
 * at the scheduler's next poll, without any new event. Chain again
 * before every wait; unchain it (wire_wait_unchain() of the
 * returned wait) before the list goes away. The state has one such wait
 * per direction, on one list at a time: chaining it again (from any wire)
 * moves it off the list it was on, so only one wire at a time may wait
 * for a state and direction this way (several wires waiting on one state
 * use wire_fd_wait() and friends). Never blocks. Returns the
 * chained wait, or NULL with errno EBADF (closed state), EINVAL (mode
 * none) or the error of registering the fd with epoll, having chained
 * nothing.
 */
wire_wait_t *wire_fd_wait_list_chain(wire_wait_list_t *wl, wire_fd_state_t *state);

/*
 * Sleep for @msecs milliseconds on the scheduler's timers (no syscall and
 * no fd of its own); @msecs <= 0 yields once. Returns 0. Aborts outside a
 * wire. Cancelled, as wire_sleep_ns().
 */
int wire_fd_wait_msec(int msecs);

/*
 * Close the fd of @state: remove it from epoll, wake every wire waiting on
 * it (their wait returns -1 with EBADF; @state->fd is -1 from now on, so
 * I/O through it fails with EBADF), trigger its chained wait, then
 * close(2) the fd. Returns close's result (0, or -1 with errno; the fd is
 * released either way, as close(2) does), or -1 with EBADF if the state
 * had no fd. Never blocks. Woken waiters do not touch @state again, so
 * its memory may be reused as soon as this returns, unless its wait is
 * still chained in a wait list.
 */
int wire_fd_close(wire_fd_state_t *state);

#ifdef __cplusplus
}
#endif
#endif
