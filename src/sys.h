/*
 * sys - the one seam every syscall of the library goes through (internal).
 *
 * Each layer calls the kernel through a wrapper that first asks
 * WIRE_SYS_FAULT(). Tests arm a fault with wire__fault_set() to make the
 * Nth call of one syscall fail with a chosen errno, so that every failure
 * path can be reached. Disarmed, the check is one load of a global and a
 * predicted branch: nothing next to the cost of a syscall.
 */
#ifndef WIRE_SRC_SYS_H
#define WIRE_SRC_SYS_H

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
	WIRE_SYS_COUNT
};

/* Nonzero while any fault is armed. */
extern WIRE_INTERNAL unsigned wire__fault_armed;

/* Returns 1 and sets errno if this call of @call is to fail. */
WIRE_INTERNAL int wire__fault_hit(enum wire_sys call);

/*
 * Make the @nth next call (1 = the very next) of @call fail with @err.
 * @nth 0 disarms @call.
 */
WIRE_INTERNAL void wire__fault_set(enum wire_sys call, unsigned nth, int err);

/* Disarm every fault. */
WIRE_INTERNAL void wire__fault_clear(void);

#define WIRE_SYS_FAULT(call) (__builtin_expect(wire__fault_armed != 0, 0) && wire__fault_hit(call))

#endif
