/*
 * wire_io_internal - what the wio front end (wire_io.c) and the io_uring
 * backend (wire_io_uring.c) share (internal).
 */
#ifndef WIRE_SRC_IO_INTERNAL_H
#define WIRE_SRC_IO_INTERNAL_H

#include <netdb.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "wire.h"
#include "wire_fd_internal.h"
#include "wire_internal.h"
#include "sys.h"

#ifdef WIRE_HAVE_URING
#include <liburing.h>
#endif

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
	WIO_FTRUNCATE,
	WIO_FALLOCATE,
	WIO_FSYNC,
	WIO_FDATASYNC,
	WIO_UNLINK,
	WIO_RENAME,
	WIO_MKDIR,
	WIO_GETADDRINFO,
	WIO_NUM_OPS
};

struct wio_ctx;
struct wio_share_ring;

/*
 * One call in flight: lives on the stack of the wire that made it, which
 * stays parked until @done is set. A worker or the ring owns it from the
 * hand-off until the completion is taken on the scheduler thread.
 */
struct wio_req {
	struct wio_req *next; /* pool queue, then completion list */
	wire_t *wire;
	struct wio_ctx *ctx;
	int op;		/* enum wio_op */
	int done;	/* set on the scheduler thread */
	int share;	/* a read shared with a worker while other wires run */
	int reclaimed;	/* @share taken back from the queue: try it inline */
	unsigned round; /* @share: the reap round it was queued in */
	unsigned pos;	/* @share: its position in the thread's share ring */
	int cpu;	/* of the scheduler thread when queued */
	long ret;
	int err; /* errno of a failed call */
	/* Arguments (which ones depends on @op). */
	int fd;
	int flags;
	unsigned mode;
	const char *path;
	const char *path2;
	void *buf;
	size_t len;
	off_t off;
	off_t off2;
	const struct iovec *iov;
	int iovcnt;
	struct stat *st;
	const struct addrinfo *hints;
	struct addrinfo **res;
#ifdef WIRE_HAVE_URING
	int ring;	   /* went through the ring */
	struct statx *stx; /* the stat calls on the ring: caller's scratch */
#endif
};

#ifdef WIRE_HAVE_URING
/* The ring of one scheduler thread. */
struct wio_uring {
	struct io_uring ring;
	int on;		      /* set up and usable */
	int cur_pos;	      /* offset -1 means the file position */
	uint32_t ops;	      /* bit per enum wio_op the ring carries */
	unsigned unsubmitted; /* prepared, waiting for the flush */
	unsigned inflight;    /* submitted, not reaped (counted in pending) */
	wire_timer_t flush;   /* runs the flush at the next scheduler round */
};
#endif

/* Buffers whose side (worker or scheduler thread) a thread remembers: 2^N. */
#define WIO_SIDE_BITS 8

/* Per scheduler thread: where its completions come back. */
struct wio_ctx {
	struct wire__fd_watch watch;	     /* efd in the thread's poller */
	int efd;			     /* -1: not set up */
	unsigned gen;			     /* wire_io generation it belongs to */
	_Atomic(struct wio_req *) done_list; /* completed by workers, LIFO */
	/* Workers write efd for a completion only while this is set; while
	 * clear, the reap timer is armed and takes the list itself. */
	_Atomic int want_efd;
	/* Workers between their push and their last touch of this record: it
	 * is not closed (nor its thread's memory freed) before this is 0. */
	_Atomic unsigned pushing;
	wire_timer_t reap;	      /* takes shared reads' completions */
	struct wio_share_ring *sring; /* shared reads queued; NULL: none held */
	unsigned shared;	      /* shared reads in flight */
	unsigned round;		      /* reap rounds, ever */
	int64_t boot_ns;	      /* last wake of a worker for a shared read */
	unsigned boot_skip;	      /* chances to wake one, counted */
	/* Who last read into a buffer: a worker (1) or this thread (0). */
	const void *side_buf[1 << WIO_SIDE_BITS];
	unsigned char side_worker[1 << WIO_SIDE_BITS];
	unsigned busy;		/* calls issued, not completed */
	unsigned long handoffs; /* calls issued, ever (tests count them) */
	unsigned long shares;	/* shared reads issued, ever (tests) */
	unsigned long reclaims; /* shared reads taken back, ever (tests) */
	wire_t *drainer;	/* wire_io_shutdown() waiting for busy == 0 */
#ifdef WIRE_HAVE_URING
	struct wio_uring u;
#endif
};

/* Mark @r complete and wake its wire (scheduler thread). */
static inline void wire__io_complete(struct wio_ctx *c, struct wio_req *r)
{
	r->done = 1;
	c->shared -= (unsigned)r->share;
	wire__resume(r->wire);
	if (!--c->busy && c->drainer) {
		wire_t *w = c->drainer;
		c->drainer = NULL;
		wire__resume(w);
	}
}

/*
 * Calls the calling thread has handed to a backend since its channel was
 * set up (the inline reads are not counted). For tests.
 */
WIRE_INTERNAL unsigned long wire__io_handoffs(void);

/*
 * Reads the calling thread shared with a worker while other wires ran, and
 * how many of those it took back to try inline itself. For tests.
 */
WIRE_INTERNAL unsigned long wire__io_shares(void);
WIRE_INTERNAL unsigned long wire__io_reclaims(void);
/*
 * Set the least time between two wakes of a sleeping worker for a shared
 * read (0: wake one whenever none is awake). For tests.
 */
WIRE_INTERNAL void wire__io_share_gap(int64_t ns);

/*
 * Send @r (a ring request whose error may differ from libc's) to the pool
 * instead, for the exact answer (scheduler thread).
 */
WIRE_INTERNAL void wire__io_resubmit(struct wio_ctx *c, struct wio_req *r);

#ifdef WIRE_HAVE_URING
/*
 * Set up @c's ring, its eventfd notification (@c->efd, for completions that
 * do not arrive at once) and the list of calls it carries. Returns 0 or
 * -1 with errno; @c->u.on stays 0 then.
 */
WIRE_INTERNAL int wire__uring_open(struct wio_ctx *c);
WIRE_INTERNAL void wire__uring_close(struct wio_ctx *c);
/*
 * Queue @r on @c's ring if the ring carries it with libc's meaning; it is
 * submitted at the next scheduler round. Returns 1 if queued, 0 if @r
 * must go to the pool.
 */
WIRE_INTERNAL int wire__uring_issue(struct wio_ctx *c, struct wio_req *r);
/* Submit what is queued, then take the completions that arrived. */
WIRE_INTERNAL void wire__uring_flush(struct wio_ctx *c);
/* Take the completions that arrived. */
WIRE_INTERNAL void wire__uring_reap(struct wio_ctx *c);
/* After a stat call completed on the ring: convert statx to stat. */
WIRE_INTERNAL void wire__uring_stat_finish(struct wio_req *r);
#endif

#endif
