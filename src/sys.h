/*
 * sys - the one seam every syscall of the library goes through (internal).
 *
 * Each call of the kernel is a wrapper here that first asks
 * WIRE_SYS_FAULT(). Tests arm a fault with wire__fault_set() to make the
 * Nth call of one syscall fail with a chosen errno, so that every failure
 * path can be reached. Disarmed, the check is one load of a global and a
 * predicted branch: nothing next to the cost of a syscall. Every wrapper
 * is defined once, here; the layers include this header. A fault may be
 * armed while other threads (wire_io's workers) make calls: it fires once,
 * in whichever thread makes the Nth call.
 */
#ifndef WIRE_SRC_SYS_H
#define WIRE_SRC_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef WIRE_HAVE_URING
#include <liburing.h>
#endif

#define WIRE_INTERNAL __attribute__((visibility("hidden")))

enum wire_sys {
	WIRE_SYS_MMAP,
	WIRE_SYS_MPROTECT,
	WIRE_SYS_MUNMAP,
	WIRE_SYS_SIGALTSTACK,
	WIRE_SYS_SIGACTION,
	WIRE_SYS_EPOLL_CREATE,
	WIRE_SYS_EPOLL_CTL,
	WIRE_SYS_EPOLL_WAIT,
	WIRE_SYS_EVENTFD,
	WIRE_SYS_READ,
	WIRE_SYS_WRITE,
	WIRE_SYS_CLOSE,
	WIRE_SYS_PTHREAD_CREATE,
	WIRE_SYS_IO_URING_SETUP,
	WIRE_SYS_IO_URING_SUBMIT,
	WIRE_SYS_SOCKET,
	WIRE_SYS_CONNECT,
	WIRE_SYS_ACCEPT,
	WIRE_SYS_POLL,
	WIRE_SYS_FCNTL,
	WIRE_SYS_PREADV2,
	WIRE_SYS_FSTAT,
	WIRE_SYS_CALLOC, /* the library's few allocations (wire_pool_init without entries) */
	WIRE_SYS_GETADDRINFO,
	WIRE_SYS_COUNT
};

/* Nonzero while any fault is armed (any thread may make calls meanwhile). */
extern WIRE_INTERNAL _Atomic unsigned wire__fault_armed;

/* Returns 1 and sets errno if this call of @call is to fail. */
WIRE_INTERNAL int wire__fault_hit(enum wire_sys call);

/*
 * Make the @nth next call (1 = the very next) of @call fail with @err.
 * @nth 0 disarms @call.
 */
WIRE_INTERNAL void wire__fault_set(enum wire_sys call, unsigned nth, int err);

/* Disarm every fault. */
WIRE_INTERNAL void wire__fault_clear(void);

#define WIRE_SYS_FAULT(call)                                                                       \
	(__builtin_expect(atomic_load_explicit(&wire__fault_armed, memory_order_relaxed) != 0,     \
			  0) &&                                                                    \
	 wire__fault_hit(call))

/* ------------------------------------------------------------------ */
/* The wrappers.                                                       */

static inline void *sys_mmap(size_t len, int prot, int flags)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_MMAP))
		return MAP_FAILED;
	return mmap(NULL, len, prot, flags, -1, 0);
}

static inline int sys_mprotect(void *addr, size_t len, int prot)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_MPROTECT))
		return -1;
	return mprotect(addr, len, prot);
}

static inline int sys_munmap(void *addr, size_t len)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_MUNMAP))
		return -1;
	return munmap(addr, len);
}

static inline int sys_sigaltstack(const stack_t *ss, stack_t *old)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_SIGALTSTACK))
		return -1;
	return sigaltstack(ss, old);
}

static inline int sys_sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_SIGACTION))
		return -1;
	return sigaction(sig, sa, old);
}

static inline int sys_epoll_create1(int flags)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_EPOLL_CREATE))
		return -1;
	return epoll_create1(flags);
}

static inline int sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_EPOLL_CTL))
		return -1;
	return epoll_ctl(epfd, op, fd, ev);
}

/* epoll_wait with a timeout in ms, or epoll_pwait2 with @ts when it is not NULL. */
static inline int sys_epoll_wait(int epfd, struct epoll_event *ev, int max, int ms,
				 const struct timespec *ts)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_EPOLL_WAIT))
		return -1;
	if (ts)
		return epoll_pwait2(epfd, ev, max, ts, NULL);
	return epoll_wait(epfd, ev, max, ms);
}

static inline int sys_eventfd(unsigned initval, int flags)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_EVENTFD))
		return -1;
	return eventfd(initval, flags);
}

static inline ssize_t sys_read(int fd, void *buf, size_t len)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_READ))
		return -1;
	return read(fd, buf, len);
}

/* Async-signal-safe (the stack overflow reporter writes with it). */
static inline ssize_t sys_write(int fd, const void *buf, size_t len)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_WRITE))
		return -1;
	return write(fd, buf, len);
}

/* A socket write that never raises SIGPIPE. */
static inline ssize_t sys_send(int fd, const void *buf, size_t len)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_WRITE))
		return -1;
	return send(fd, buf, len, MSG_NOSIGNAL);
}

/*
 * close(2) releases the descriptor even when it reports an error (EINTR,
 * EIO): an injected failure is reported after the real close, likewise,
 * so that a test of the error path leaks no fd.
 */
static inline int sys_close(int fd)
{
	int r = close(fd);

	if (WIRE_SYS_FAULT(WIRE_SYS_CLOSE))
		return -1;
	return r;
}

static inline int sys_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_POLL))
		return -1;
	return poll(fds, n, timeout);
}

static inline int sys_fcntl(int fd, int cmd, int arg)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_FCNTL))
		return -1;
	return fcntl(fd, cmd, arg);
}

static inline int sys_socket(int domain, int type, int proto)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_SOCKET))
		return -1;
	return socket(domain, type, proto);
}

static inline int sys_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_CONNECT))
		return -1;
	return connect(fd, addr, len);
}

static inline int sys_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_ACCEPT))
		return -1;
	return accept4(fd, addr, len, flags);
}

static inline ssize_t sys_preadv2(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_PREADV2))
		return -1;
	return preadv2(fd, iov, iovcnt, off, flags);
}

static inline int sys_fstat(int fd, struct stat *st)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_FSTAT))
		return -1;
	return fstat(fd, st);
}

/* Returns 0 or an error number, as pthread_create() does. */
static inline int sys_pthread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_PTHREAD_CREATE))
		return errno;
	return pthread_create(t, NULL, fn, arg);
}

static inline void *sys_calloc(size_t n, size_t size)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_CALLOC))
		return NULL;
	return calloc(n, size);
}

/*
 * The resolver. An injected errno stands for the EAI code a resolver gives
 * for it: EAGAIN for EAI_AGAIN, ENOMEM for EAI_MEMORY, ENOENT for
 * EAI_NONAME, EINVAL for EAI_FAMILY, EIO for EAI_SYSTEM leaving errno 0,
 * any other for EAI_SYSTEM with that errno.
 */
static inline int sys_getaddrinfo(const char *node, const char *service,
				  const struct addrinfo *hints, struct addrinfo **res)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_GETADDRINFO)) {
		switch (errno) {
		case EAGAIN:
			return EAI_AGAIN;
		case ENOMEM:
			return EAI_MEMORY;
		case ENOENT:
			return EAI_NONAME;
		case EINVAL:
			return EAI_FAMILY;
		case EIO:
			errno = 0;
			return EAI_SYSTEM;
		default:
			return EAI_SYSTEM;
		}
	}
	return getaddrinfo(node, service, hints, res);
}

#ifdef WIRE_HAVE_URING
/* liburing's calls return -errno. */
static inline int sys_uring_init(unsigned entries, struct io_uring *ring, struct io_uring_params *p)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_IO_URING_SETUP))
		return -errno;
	return io_uring_queue_init_params(entries, ring, p);
}

static inline int sys_uring_submit(struct io_uring *ring)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_IO_URING_SUBMIT))
		return -errno;
	return io_uring_submit(ring);
}
#endif

#endif
