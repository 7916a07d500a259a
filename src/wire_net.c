/* wire_net - non-blocking stream sockets with timeouts. See wire_net.h. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "wire_fd.h"
#include "wire_fd_internal.h"
#include "wire_io.h"
#include "wire_net.h"
#include "sys.h"

enum { DIR_READ, DIR_WRITE };

/* net->flags: the last read was short, so the next one waits first. */
#define NET_WAIT_FIRST 1u

int wire_net_init(wire_net_t *net, int fd)
{
	int fl = sys_fcntl(fd, F_GETFL, 0);

	if (fl < 0)
		return -1;
	if (!(fl & O_NONBLOCK) && sys_fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	wire_fd_mode_init(&net->fds, fd);
	net->timeout_ns = -1;
	net->flags = 0;
	return 0;
}

int wire_net_close(wire_net_t *net)
{
	net->flags = 0;
	return wire_fd_close(&net->fds);
}

/*
 * Park until the socket is ready in direction @dir, or @deadline passes
 * (CLOCK_MONOTONIC ns; 0: none). Returns 0 (ready or spurious: retry the
 * I/O) or -1 with errno. The wait parks a record of its own (no shared
 * chained wait), so several wires may wait on one socket with timeouts.
 */
static int wait_until(wire_net_t *net, int dir, int64_t deadline)
{
	wire_fd_state_t *s = &net->fds;

	if (s->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (s->mode == WIRE_FD_MODE_NONE && wire_fd_mode_read(s) < 0)
		return -1;
	if (!deadline)
		return dir == DIR_READ ? wire_fd_wait_read(s) : wire_fd_wait_write(s);
	return wire__fd_wait_until(s, dir == DIR_WRITE, deadline);
}

/* The deadline of a call on @net that starts now: 0 for none. */
static int64_t call_deadline(const wire_net_t *net)
{
	return net->timeout_ns < 0 ? 0 : wire_now_ns() + net->timeout_ns;
}

/* wait_until() within the call's limit; *@deadline is 0 until its first wait sets it. */
static int net_wait(wire_net_t *net, int dir, int64_t *deadline)
{
	if (*deadline == 0)
		*deadline = call_deadline(net);
	return wait_until(net, dir, *deadline);
}

ssize_t wire_net_read_min(wire_net_t *net, void *buf, size_t min, size_t max)
{
	int64_t deadline = 0;
	size_t got = 0;

	if (max == 0)
		return 0;
	if (min > max)
		min = max;
	if (min == 0)
		min = 1;
	/*
	 * After a read that returned less than it asked for, the socket is
	 * most likely empty: the next read (of this call or the next) waits
	 * first instead of making a read that would say EAGAIN, one syscall
	 * less per request in a request/response loop. Nothing depends on the
	 * socket being empty: a wait returns whenever data is queued (a read
	 * can stop short with more queued: at a TCP urgent mark, at a Unix
	 * message carrying SCM_RIGHTS), at the scheduler's next poll. Not with
	 * a timeout of 0, where the wait would fail before that poll; and a
	 * wait first that runs out of time still reads what is there.
	 */
	for (;;) {
		ssize_t n;

		if (net->flags & NET_WAIT_FIRST) {
			net->flags &= ~NET_WAIT_FIRST;
			/* Out of time, it still reads what is there. */
			if (net->timeout_ns != 0 && net_wait(net, DIR_READ, &deadline) < 0 &&
			    errno != ETIMEDOUT)
				return -1;
		}
		n = sys_read(net->fds.fd, (char *)buf + got, max - got);
		if (n > 0) {
			if ((size_t)n < max - got)
				net->flags |= NET_WAIT_FIRST;
			got += (size_t)n;
			if (got >= min)
				return (ssize_t)got;
			continue;
		}
		if (n == 0)
			return (ssize_t)got;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (net_wait(net, DIR_READ, &deadline) < 0)
			return -1;
	}
}

ssize_t wire_net_read_any(wire_net_t *net, void *buf, size_t len)
{
	return wire_net_read_min(net, buf, 1, len);
}

ssize_t wire_net_read_full(wire_net_t *net, void *buf, size_t len)
{
	return wire_net_read_min(net, buf, len, len);
}

ssize_t wire_net_write(wire_net_t *net, const void *buf, size_t len)
{
	int64_t deadline = 0;
	size_t done = 0;

	while (done < len) {
		ssize_t n = sys_send(net->fds.fd, (const char *)buf + done, len - done);
		if (n >= 0) {
			done += (size_t)n;
			if (done == len)
				break;
			/* Short write: the send buffer is full, wait before retrying. */
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -1;
		}
		if (net_wait(net, DIR_WRITE, &deadline) < 0)
			return -1;
	}
	return (ssize_t)len;
}

int wire_net_accept(wire_net_t *listener, struct sockaddr *addr, socklen_t *addrlen)
{
	int64_t deadline = 0;

	for (;;) {
		int fd = sys_accept4(listener->fds.fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (net_wait(listener, DIR_READ, &deadline) < 0)
			return -1;
	}
}

/* Pauses between connects to a Unix socket whose backlog is full. */
#define UNIX_RETRY_FIRST_NS 1000000LL  /* 1 ms, */
#define UNIX_RETRY_MAX_NS   64000000LL /* doubling up to 64 ms */

/*
 * The first connect() of connect_until(). A Unix stream socket whose
 * listener's backlog is full refuses a non-blocking connect with EAGAIN,
 * where a blocking one would wait for room, and no event tells when room
 * frees up: retry with growing pauses until @deadline (0: none).
 */
static int connect_first(wire_net_t *net, const struct sockaddr *addr, socklen_t addrlen,
			 int64_t deadline)
{
	int64_t pause = UNIX_RETRY_FIRST_NS;

	for (;;) {
		int64_t now;

		if (sys_connect(net->fds.fd, addr, addrlen) == 0)
			return 0;
		if (errno != EAGAIN || addr->sa_family != AF_UNIX)
			return -1;
		now = wire_now_ns();
		if (deadline && now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (deadline && pause > deadline - now)
			pause = deadline - now;
		wire_sleep_ns(pause);
		if (net->fds.fd < 0) { /* closed meanwhile */
			errno = EBADF;
			return -1;
		}
		pause = pause * 2 > UNIX_RETRY_MAX_NS ? UNIX_RETRY_MAX_NS : pause * 2;
	}
}

/* Connect with an absolute deadline (0: none). */
static int connect_until(wire_net_t *net, const struct sockaddr *addr, socklen_t addrlen,
			 int64_t deadline)
{
	if (connect_first(net, addr, addrlen, deadline) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	while (wait_until(net, DIR_WRITE, deadline) == 0) {
		/*
		 * Probe the outcome with connect() itself: 0 (or EISCONN) once
		 * established, EALREADY while the handshake goes on (a spurious
		 * wakeup), the pending error if it failed.
		 */
		if (sys_connect(net->fds.fd, addr, addrlen) == 0 || errno == EISCONN)
			return 0;
		if (errno != EALREADY && errno != EINPROGRESS && errno != EINTR)
			return -1;
	}
	return -1;
}

int wire_net_connect(wire_net_t *net, const struct sockaddr *addr, socklen_t addrlen)
{
	return connect_until(net, addr, addrlen, call_deadline(net));
}

static int eai_errno(int eai)
{
	switch (eai) {
	case EAI_SYSTEM:
		return errno ? errno : EIO;
	case EAI_AGAIN:
		return EAGAIN;
	case EAI_MEMORY:
		return ENOMEM;
	case EAI_FAMILY:
	case EAI_SOCKTYPE:
	case EAI_BADFLAGS:
		return EINVAL;
	default:
		return ENOENT;
	}
}

int wire_net_connect_tcp(wire_net_t *net, const char *host, const char *service, int64_t timeout_ns)
{
	struct addrinfo hints, *res = NULL;
	int64_t deadline;
	int r, err = ENOENT;

	/* Whatever fails, @net holds nothing: closing it is harmless. */
	wire_fd_mode_init(&net->fds, -1);
	net->flags = 0;
	wire_net_set_timeout_ns(net, timeout_ns);
	deadline = call_deadline(net);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	errno = 0;
	r = wio_getaddrinfo(host, service, &hints, &res);
	if (r != 0) {
		errno = eai_errno(r);
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (deadline && wire_now_ns() >= deadline) {
			err = ETIMEDOUT;
			break;
		}
		int fd = sys_socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		wire_fd_mode_init(&net->fds, fd);
		net->flags = 0;
		if (connect_until(net, ai->ai_addr, ai->ai_addrlen, deadline) == 0) {
			freeaddrinfo(res);
			return 0;
		}
		err = errno;
		if (net->fds.mode != WIRE_FD_MODE_NONE) {
			wire_fd_close(&net->fds);
		} else {
			sys_close(fd);
			net->fds.fd = -1; /* the number may be reused at once */
		}
	}
	freeaddrinfo(res);
	errno = err;
	return -1;
}
