/*
 * wire_net.h - non-blocking stream sockets for wires, with timeouts.
 *
 * A wire_net_t wraps one non-blocking socket (TCP or Unix stream) and its
 * wire_fd readiness state. Each call tries the syscall first and parks the
 * calling wire only when the kernel says it would block, so a busy
 * connection costs one syscall per read or write. Reads and writes run on
 * the scheduler thread, directly on the socket: never through wio_ worker
 * threads. Requires wire_fd_init() on the calling thread before a call
 * has to wait.
 *
 * Timeouts: every blocking call is bounded by the net's timeout (in
 * nanoseconds; -1: no limit, 0: fail at once instead of waiting), counted
 * from the start of that call over all the waits it makes. A call that
 * runs out of time fails with ETIMEDOUT.
 *
 * Cancellation: a wire cancelled in one of these calls ends at its wait
 * (the fd wait and its deadline timer are withdrawn); the socket stays
 * open and registered: close it in a DEFER (wire_defer.h).
 *
 * Errors: -1 with errno. ETIMEDOUT for a timeout; otherwise the kernel's
 * errno (ECONNRESET, EPIPE, ECONNREFUSED, ...), or EBADF when the state
 * was closed by wire_net_close() or wire_fd_close() while a wire waited.
 * SIGPIPE is never raised: writes use MSG_NOSIGNAL.
 *
 * End of stream is not an error: wire_net_read_any() returns 0, and
 * wire_net_read_full() / wire_net_read_min() return the (short, possibly
 * zero) count received before it. Callers tell a short read from success
 * by comparing the count with what they asked for.
 *
 * Memory: the wire_net_t is caller memory, one per socket and thread; the
 * library allocates nothing.
 */
#ifndef WIRE_NET_H
#define WIRE_NET_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "wire_fd.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_net {
	wire_fd_state_t fds; /* readiness state; fds.fd is the socket */
	int64_t timeout_ns;  /* limit of each blocking call, -1: none */
	unsigned flags;	     /* private */
} wire_net_t;

/*
 * Take @fd (a stream socket) into @net: set O_NONBLOCK if it is not set
 * yet (one fcntl, two if it must be set) and prepare its readiness state
 * (registered with epoll on the first wait). The timeout starts at -1.
 * Returns 0, or -1 with errno from fcntl (EBADF), @net then untouched.
 */
int wire_net_init(wire_net_t *net, int fd);

/* Set the limit of each later blocking call on @net, in ns (negative: none). */
static inline void wire_net_set_timeout_ns(wire_net_t *net, int64_t ns)
{
	net->timeout_ns = ns < 0 ? -1 : ns;
}

/*
 * Close the socket: wake wires waiting on it (their call fails with
 * EBADF), remove it from epoll, close(2) it. Returns close's result (0, or
 * -1 with errno; the fd is released either way). Never blocks. The memory
 * of @net may be reused at once.
 */
int wire_net_close(wire_net_t *net);

/*
 * Accept a connection on the listening socket of @listener, waiting for
 * one within the timeout. @addr and @addrlen as in accept(2) (may be
 * NULL). Returns the new socket, already non-blocking and close-on-exec
 * (hand it to wire_net_init()), or -1 with errno: ETIMEDOUT, or accept's
 * errno (EMFILE, ECONNABORTED, ...).
 */
int wire_net_accept(wire_net_t *listener, struct sockaddr *addr, socklen_t *addrlen);

/*
 * Connect the socket of @net to @addr, waiting within the timeout for the
 * handshake. A Unix socket whose listener's backlog is full is retried
 * within the timeout (pauses of 1 ms doubling up to 64 ms), as a blocking
 * connect would wait for room. Returns 0 once connected, or -1 with errno: ETIMEDOUT (the
 * attempt is abandoned: the socket is left in an unspecified state and
 * must be closed; a timed-out connect never reports success), or the
 * kernel's errno (ECONNREFUSED, ENETUNREACH, ...).
 */
int wire_net_connect(wire_net_t *net, const struct sockaddr *addr, socklen_t addrlen);

/*
 * Resolve @host and @service with wio_getaddrinfo() (TCP, any family) and
 * connect to each address in turn until one succeeds, all within one
 * overall limit of @timeout_ns nanoseconds (negative: none); the name lookup itself runs
 * on a wio_ worker and is not cut short by the limit, but its time counts.
 * On success, @net holds the connected socket (non-blocking, close-on-exec)
 * with its timeout set to @timeout_ns, and 0 is returned. On failure
 * @net holds nothing (every socket tried was closed) and -1 is returned
 * with errno: ETIMEDOUT, the errno of the last address tried, or for a
 * failed lookup ENOENT (unknown name or service), EAGAIN (temporary
 * resolver failure), ENOMEM, EINVAL (the resolver refused the request:
 * EAI_FAMILY, EAI_SOCKTYPE, EAI_BADFLAGS), or getaddrinfo's errno for
 * EAI_SYSTEM (EIO when it left errno 0).
 */
int wire_net_connect_tcp(wire_net_t *net, const char *host, const char *service,
			 int64_t timeout_ns);

/*
 * Read what is available, up to @len (> 0) bytes, waiting within the
 * timeout until at least one byte (or the end of stream) arrives. Returns
 * the count (> 0), 0 at end of stream (and at once, reading nothing, for
 * @len 0), or -1 with errno.
 */
ssize_t wire_net_read_any(wire_net_t *net, void *buf, size_t len);

/*
 * Read at least @min and at most @max bytes, waiting within the timeout.
 * Returns the count (>= @min), or the short count (< @min, maybe 0) if the
 * stream ends first, or -1 with errno; bytes received before an error or
 * a timeout are in @buf but their count is lost: treat the connection as
 * broken.
 */
ssize_t wire_net_read_min(wire_net_t *net, void *buf, size_t min, size_t max);

/* wire_net_read_min(@net, @buf, @len, @len): exactly @len bytes unless the stream ends. */
ssize_t wire_net_read_full(wire_net_t *net, void *buf, size_t len);

/*
 * Write all @len bytes, waiting within the timeout while the socket's
 * buffer is full. Returns @len, or -1 with errno (ETIMEDOUT when the peer
 * stops reading, EPIPE or ECONNRESET when it is gone); part of the data
 * may have been sent then.
 */
ssize_t wire_net_write(wire_net_t *net, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
