/*
 * wire_io_internal - the parts of wire_io and how they meet (internal).
 *
 *   wire_io.c         the wio_* calls, dispatch, start, stop and fork
 *   wire_io_inline.c  reads tried on the scheduler thread (RWF_NOWAIT)
 *   wire_io_chan.c    a scheduler thread's completion channel
 *   wire_io_pool.c    the worker threads and what they perform
 *   wire_io_uring.c   the io_uring backend (built with liburing only)
 *
 * A call made from a wire is a record (struct wio_req) on the wire's
 * stack. The wire parks until the record is marked done on its own
 * scheduler thread (wio_complete()). The record goes to the thread's ring
 * when the uring backend carries the call, else to the worker pool; a
 * worker hands it back through the thread's channel.
 */
#ifndef WIRE_SRC_IO_INTERNAL_H
#define WIRE_SRC_IO_INTERNAL_H

#include <dirent.h>
#include <netdb.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "wire.h"
#include "wire_fd_internal.h"
#include "wire_internal.h"
#include "sys.h"

/* The calls, one per wio_* function. */
enum wio_op {
	WIO_OPENAT,
	WIO_CLOSE,
	WIO_READ,
	WIO_WRITE,
	WIO_PREAD,
	WIO_PWRITE,
	WIO_READV,
	WIO_WRITEV,
	WIO_PREADV,
	WIO_PWRITEV,
	WIO_FSTAT,
	WIO_STAT,
	WIO_LSTAT,
	WIO_FSTATAT,
	WIO_STATX,
	WIO_FTRUNCATE,
	WIO_TRUNCATE,
	WIO_FALLOCATE,
	WIO_FSYNC,
	WIO_FDATASYNC,
	WIO_SYNC_FILE_RANGE,
	WIO_UNLINK,
	WIO_UNLINKAT,
	WIO_RENAME,
	WIO_RENAMEAT,
	WIO_MKDIR,
	WIO_MKDIRAT,
	WIO_RMDIR,
	WIO_READLINK,
	WIO_ACCESS,
	WIO_FCHMOD,
	WIO_FCHOWN,
	WIO_FSTATFS,
	WIO_SENDFILE,
	WIO_COPY_FILE_RANGE,
	WIO_OPENDIR,
	WIO_READDIR,
	WIO_CLOSEDIR,
	WIO_GETADDRINFO,
	WIO_GETNAMEINFO,
	WIO_WAITPID,
	WIO_NUM_OPS
};

struct wio_ctx;

/*
 * One call: on the stack of the wire that made it, which stays parked
 * until @done is set. A worker or the ring owns it from the hand-off until
 * the completion is taken on the scheduler thread. Which arguments are
 * used depends on @op (see wio_perform()).
 */
struct wio_req {
	struct wio_req *next; /* pool queue, completion list, ring backlog */
	wire_park_t park;     /* taken back by wire_cancel() while queued */
	wire_t *wire;
	struct wio_ctx *ctx;
	int op;	       /* enum wio_op */
	int done;      /* set on the scheduler thread */
	int ring;      /* went through the ring */
	int abandoned; /* its wire was cancelled while the call was under way */
	long ret;
	void *ptr; /* the result of the calls that return a pointer */
	int err;   /* errno of a failed call */
	/* Arguments. */
	int fd, fd2;
	int flags;
	unsigned mode;
	unsigned uid, gid;
	const char *path, *path2;
	void *buf, *buf2;
	size_t len, len2;
	off_t off, off2;
	off_t *offp, *offp2;
	const struct iovec *iov;
	int iovcnt;
	void *out;	   /* struct stat, statx, statfs, or the status of waitpid */
	struct statx *stx; /* the stat calls on the ring: the caller's scratch */
	const struct addrinfo *hints;
	struct addrinfo **res;
	const struct sockaddr *sa;
	socklen_t salen;
	DIR *dir;
};

/* The ring of one scheduler thread (wire_io_uring.c). */
struct wio_uring {
#ifdef WIRE_HAVE_URING
	struct io_uring ring;
	uint64_t ops;	      /* bit per enum wio_op the ring carries */
	int cur_pos;	      /* offset -1 means the file position */
	unsigned room;	      /* calls it may hold at once: its completion queue */
	unsigned unsubmitted; /* prepared, waiting for the flush */
	unsigned inflight;    /* submitted, not reaped (counted in pending) */
	struct wio_req *backlog, **backlog_tail; /* waiting for room */
	wire_timer_t flush;			 /* runs the flush at the next scheduler round */
#endif
	int on; /* set up and usable */
};

/* Per scheduler thread: where its completions come back (wire_io_chan.c). */
struct wio_ctx {
	struct wire__fd_watch watch;	     /* efd in the thread's poller */
	int efd;			     /* -1: not set up */
	unsigned gen;			     /* wire_io generation it belongs to */
	_Atomic(struct wio_req *) done_list; /* completed by workers, LIFO */
	/* Workers between their push and their last touch of this record: it
	 * is not closed (nor its thread's memory freed) before this is 0. */
	_Atomic unsigned pushing;
	unsigned busy;		/* calls handed off, not completed */
	unsigned long handoffs; /* calls handed off, ever (tests count them) */
	wire_t *drainer;	/* wire_io_shutdown() waiting for busy == 0 */
	int inherited;		/* opened before the fork() this process came from */
	struct wio_uring u;
};

/* ---- wire_io.c ---- */

/* Try reads inline first (WIRE_IO_INLINE, read by wire_io_init()). */
extern WIRE_INTERNAL _Atomic int wire__io_inline;

/* Hand @r off (the ring or the pool) and park the calling wire until it is done. */
WIRE_INTERNAL long wio_issue(struct wio_ctx *c, struct wio_req *r);
/* Perform @r on the calling thread and return its result as the libc call does. */
WIRE_INTERNAL long wio_plain(struct wio_req *r);

/* Mark @r complete and wake its wire (scheduler thread). */
static inline void wio_complete(struct wio_ctx *c, struct wio_req *r)
{
	r->done = 1;
	wire__resume(r->wire);
	if (!--c->busy && c->drainer) {
		wire_t *w = c->drainer;
		c->drainer = NULL;
		wire__resume(w);
	}
}

/* ---- wire_io_inline.c ---- */

/* A read (read, pread, readv, preadv) from a wire of a thread with channel @c. */
WIRE_INTERNAL long wio_read_call(struct wio_ctx *c, struct wio_req *r);

/* ---- wire_io_chan.c ---- */

/* The calling thread's channel (thread-local). */
WIRE_INTERNAL struct wio_ctx *wio_ctx_self(void);
/*
 * Set up @c for generation @gen, with a ring when @with_ring. Returns 0,
 * or -1 with errno and nothing held.
 */
WIRE_INTERNAL int wio_ctx_open(struct wio_ctx *c, unsigned gen, int with_ring);
/* Release @c, which has nothing in flight (its owning thread). */
WIRE_INTERNAL void wio_ctx_close(struct wio_ctx *c);
/* Release the fds of a channel inherited across fork(), touching nothing shared. */
WIRE_INTERNAL void wio_ctx_forget(struct wio_ctx *c);
/* Wait until every call of @c is back (from a wire: park it; else block). */
WIRE_INTERNAL void wio_ctx_drain(struct wio_ctx *c);
/* Watch @c's eventfd in the calling thread's poller. Returns 0 or -1/errno. */
WIRE_INTERNAL int wio_ctx_watch(struct wio_ctx *c);
/* Push completed @r on its thread's channel (a worker). @r may be gone after. */
WIRE_INTERNAL void wio_ctx_push(struct wio_req *r);

/* ---- wire_io_pool.c ---- */

/*
 * Perform @r with the libc call it mirrors, on the calling thread: sets
 * @r->ret (and @r->ptr), and @r->err.
 */
WIRE_INTERNAL void wio_perform(struct wio_req *r);
/* Start @n workers. Returns 0, or -1 with errno and no worker left. */
WIRE_INTERNAL int wio_pool_start(int n);
/* Refuse new calls, let the workers finish every queued one, join them. */
WIRE_INTERNAL void wio_pool_stop(void);
/*
 * Queue @r for a worker (scheduler thread). Returns 0, or -1 when the pool
 * no longer takes calls (stopping or stopped): the caller performs it.
 */
WIRE_INTERNAL int wio_pool_submit(struct wio_ctx *c, struct wio_req *r);
/* After fork(), in the child: the parent's workers do not exist here. */
WIRE_INTERNAL void wio_pool_forget(void);
/* Take @r out of the queue if no worker has taken it yet. Returns 1 if so. */
WIRE_INTERNAL int wio_pool_withdraw(struct wio_req *r);

/* ---- wire_io_uring.c ---- */

#ifdef WIRE_HAVE_URING
/*
 * Set up @c's ring, its eventfd notification (@c->efd) and the calls it
 * carries. Returns 0 or -1 with errno; @c->u.on stays 0 then.
 */
WIRE_INTERNAL int wio_uring_open(struct wio_ctx *c);
WIRE_INTERNAL void wio_uring_close(struct wio_ctx *c);
/* Unmap and close an inherited ring without using it. */
WIRE_INTERNAL void wio_uring_forget(struct wio_ctx *c);
/*
 * Queue @r on @c's ring if the ring carries it with libc's meaning (or
 * behind it, while the ring is full). Returns 1 if taken, 0 if @r must
 * go to the pool.
 */
WIRE_INTERNAL int wio_uring_issue(struct wio_ctx *c, struct wio_req *r);
/* Submit what is prepared, then take the completions that arrived. */
WIRE_INTERNAL void wio_uring_flush(struct wio_ctx *c);
/* Take the completions that arrived. */
WIRE_INTERNAL void wio_uring_reap(struct wio_ctx *c);
/* Prepared calls not yet submitted. */
static inline int wio_uring_unsubmitted(const struct wio_ctx *c)
{
	return c->u.on && c->u.unsubmitted;
}
/* After a call completed on the ring: its result in libc's form. */
WIRE_INTERNAL void wio_uring_finish(struct wio_req *r);
/*
 * The wire of @r, on the ring, is cancelled: take @r back if it still
 * waits for room (returns 1), else ask the kernel to cancel it (returns 0:
 * its completion, maybe ECANCELED, comes as usual).
 */
WIRE_INTERNAL int wio_uring_withdraw(struct wio_ctx *c, struct wio_req *r);
/* The ring of @c may carry calls to be flushed later (its timer). */
static inline int wio_uring_armed(const struct wio_ctx *c)
{
	return c->u.on && c->u.flush.armed;
}
#else
static inline int wio_uring_open(struct wio_ctx *c)
{
	(void)c;
	errno = ENOSYS;
	return -1;
}
static inline void wio_uring_close(struct wio_ctx *c)
{
	(void)c;
}
static inline void wio_uring_forget(struct wio_ctx *c)
{
	(void)c;
}
static inline int wio_uring_issue(struct wio_ctx *c, struct wio_req *r)
{
	(void)c;
	(void)r;
	return 0;
}
static inline void wio_uring_flush(struct wio_ctx *c)
{
	(void)c;
}
static inline void wio_uring_reap(struct wio_ctx *c)
{
	(void)c;
}
static inline int wio_uring_unsubmitted(const struct wio_ctx *c)
{
	(void)c;
	return 0;
}
static inline void wio_uring_finish(struct wio_req *r)
{
	(void)r;
}
static inline int wio_uring_withdraw(struct wio_ctx *c, struct wio_req *r)
{
	(void)c;
	(void)r;
	return 0;
}
static inline int wio_uring_armed(const struct wio_ctx *c)
{
	(void)c;
	return 0;
}
#endif

/* Workers waiting for a call. For tests. */
WIRE_INTERNAL unsigned wire__io_pool_idle(void);
/* Calls queued for the workers, not yet taken by one. For tests. */
WIRE_INTERNAL unsigned wire__io_pool_queued(void);
/* Calls the calling thread has handed off since its channel was set up. For tests. */
WIRE_INTERNAL unsigned long wire__io_handoffs(void);

#endif
