/*
 * wire_io_uring - the io_uring backend of wire_io (built with liburing).
 *
 * Each scheduler thread owns a ring. A wio call that the ring carries
 * takes an SQE and parks its wire; nothing is submitted yet. The first SQE
 * of a batch arms the ring's flush timer with a deadline in the past: the
 * scheduler runs it at its next round, that is once every ready wire has
 * run (or after 64 switches), and the flush submits the whole batch with
 * one io_uring_enter. A full SQ is submitted at once. Calls the kernel
 * completes during the submission (a read of cached pages) are reaped in
 * the same flush, so a call can cost one system call and no poll; the
 * others complete later and the ring writes the thread's eventfd, which
 * the poller watches (wire_io.c on_ready()).
 *
 * pending: a queued SQE is covered by the armed flush timer (an armed
 * timer keeps the scheduler running), so only submitted and not yet
 * reaped calls count as the poller's pending work. That keeps a batch that
 * completed in the flush from making the scheduler poll for nothing.
 *
 * Exactness: where the ring's answer can differ from the libc call's
 * (io_uring reports EINVAL where read(2) on a directory says EISDIR, and
 * EOPNOTSUPP for some files), the call is redone by the pool; those
 * errors mean nothing was done. Arguments whose meaning differs on the
 * ring (a negative offset, a count of 0 or beyond what one SQE holds,
 * fstat of a negative fd) go to the pool from the start.
 */
#ifdef WIRE_HAVE_URING

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "wire_io_internal.h"
#include "list.h"

#ifdef WIRE_VALGRIND
#include <valgrind/memcheck.h>
#endif

#define RING_ENTRIES 256
#define NO_OP	     0xff

/* The ring opcode of each call, NO_OP where the ring has none. */
static const unsigned char ring_op[WIO_NUM_OPS] = {
    [WIO_OPENAT] = IORING_OP_OPENAT,
    [WIO_CLOSE] = IORING_OP_CLOSE,
    [WIO_READ] = IORING_OP_READ,
    [WIO_WRITE] = IORING_OP_WRITE,
    [WIO_PREAD] = IORING_OP_READ,
    [WIO_PWRITE] = IORING_OP_WRITE,
    [WIO_READV] = IORING_OP_READV,
    [WIO_WRITEV] = IORING_OP_WRITEV,
    [WIO_PREADV] = IORING_OP_READV,
    [WIO_PWRITEV] = IORING_OP_WRITEV,
    [WIO_FSTAT] = IORING_OP_STATX,
    [WIO_STAT] = IORING_OP_STATX,
    [WIO_LSTAT] = IORING_OP_STATX,
    [WIO_FTRUNCATE] = NO_OP,
    [WIO_FALLOCATE] = IORING_OP_FALLOCATE,
    [WIO_FSYNC] = IORING_OP_FSYNC,
    [WIO_FDATASYNC] = IORING_OP_FSYNC,
    [WIO_UNLINK] = IORING_OP_UNLINKAT,
    [WIO_RENAME] = IORING_OP_RENAMEAT,
    [WIO_MKDIR] = IORING_OP_MKDIRAT,
    [WIO_GETADDRINFO] = NO_OP,
};

/* liburing calls return -errno. */
static inline int sys_uring_init(struct io_uring *ring, struct io_uring_params *p)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_IO_URING_SETUP))
		return -errno;
	return io_uring_queue_init_params(RING_ENTRIES, ring, p);
}

static inline int sys_uring_submit(struct io_uring *ring)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_IO_URING_SUBMIT))
		return -errno;
	return io_uring_submit(ring);
}

static void flush_fire(wire_timer_t *t)
{
	struct wio_uring *u = wire_container_of(t, struct wio_uring, flush);
	wire__uring_flush(wire_container_of(u, struct wio_ctx, u));
}

int wire__uring_open(struct wio_ctx *c)
{
	struct wio_uring *u = &c->u;
	struct io_uring_params p;
	/* A probe with room for 256 opcodes, on the stack. */
	uint64_t
	    probe_mem[(sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op) + 7) /
		      8];
	struct io_uring_probe *probe = (struct io_uring_probe *)(void *)probe_mem;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER;
	ret = sys_uring_init(&u->ring, &p);
	if (ret == -EINVAL) { /* a kernel before 6.0 */
		memset(&p, 0, sizeof(p));
		ret = sys_uring_init(&u->ring, &p);
	}
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	/* Without NODROP a burst of completions could be lost. */
	if (!(p.features & IORING_FEAT_NODROP)) {
		ret = -ENOSYS;
		goto fail;
	}
	memset(probe_mem, 0, sizeof(probe_mem));
	ret = io_uring_register_probe(&u->ring, probe, 256);
	if (ret < 0)
		goto fail;
	u->ops = 0;
	for (int op = 0; op < WIO_NUM_OPS; op++) {
		unsigned k = ring_op[op];
		if (k != NO_OP && k <= probe->last_op &&
		    (probe->ops[k].flags & IO_URING_OP_SUPPORTED))
			u->ops |= 1u << op;
	}
	u->cur_pos = !!(p.features & IORING_FEAT_RW_CUR_POS);
	ret = io_uring_register_eventfd(&u->ring, c->efd);
	if (ret < 0)
		goto fail;
	wire_timer_init(&u->flush, flush_fire);
	u->unsubmitted = 0;
	u->inflight = 0;
	u->on = 1;
	return 0;
fail:
	io_uring_queue_exit(&u->ring);
	errno = -ret;
	return -1;
}

void wire__uring_close(struct wio_ctx *c)
{
	struct wio_uring *u = &c->u;

	if (!u->on)
		return;
	wire_timer_stop(&u->flush);
	io_uring_queue_exit(&u->ring);
	u->on = 0;
}

/* 1 if @r may go through @u's ring with libc's meaning. */
static int accepts(const struct wio_uring *u, const struct wio_req *r)
{
	if (!(u->ops & (1u << r->op)))
		return 0;
	switch (r->op) {
	case WIO_READV:
	case WIO_WRITEV:
		return u->cur_pos && r->iovcnt > 0 && r->iovcnt <= IOV_MAX;
	case WIO_PREADV:
	case WIO_PWRITEV:
		return r->off >= 0 && r->iovcnt > 0 && r->iovcnt <= IOV_MAX;
	case WIO_FSTAT:
		return r->fd >= 0;
	case WIO_OPENAT:
		/*
		 * The ring first tries an open without blocking by adding
		 * O_NONBLOCK, which changes what open means for a FIFO or a
		 * device (a FIFO reader would not wait for a writer). Opens
		 * that create or truncate are always done by its workers
		 * without that trial; those and explicit O_NONBLOCK opens go
		 * to the ring, the others to the pool.
		 */
		return r->path != NULL &&
		       (r->flags & (O_NONBLOCK | O_CREAT | O_TRUNC | __O_TMPFILE));
	case WIO_STAT:
	case WIO_LSTAT:
	case WIO_UNLINK:
	case WIO_MKDIR:
		return r->path != NULL;
	case WIO_RENAME:
		return r->path != NULL && r->path2 != NULL;
	default:
		return 1;
	}
}

/* The calls other than plain reads and writes. */
static void prep(struct io_uring_sqe *sqe, struct wio_req *r)
{
	switch (r->op) {
	case WIO_OPENAT:
		io_uring_prep_openat(sqe, r->fd, r->path, r->flags, (mode_t)r->mode);
		break;
	case WIO_CLOSE:
		io_uring_prep_close(sqe, r->fd);
		break;
	case WIO_READV:
		io_uring_prep_readv(sqe, r->fd, r->iov, (unsigned)r->iovcnt, (__u64)-1);
		break;
	case WIO_WRITEV:
		io_uring_prep_writev(sqe, r->fd, r->iov, (unsigned)r->iovcnt, (__u64)-1);
		break;
	case WIO_PREADV:
		io_uring_prep_readv(sqe, r->fd, r->iov, (unsigned)r->iovcnt, (__u64)r->off);
		break;
	case WIO_PWRITEV:
		io_uring_prep_writev(sqe, r->fd, r->iov, (unsigned)r->iovcnt, (__u64)r->off);
		break;
	case WIO_FSTAT:
		io_uring_prep_statx(sqe, r->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, r->stx);
		break;
	case WIO_STAT:
		io_uring_prep_statx(sqe, AT_FDCWD, r->path, 0, STATX_BASIC_STATS, r->stx);
		break;
	case WIO_LSTAT:
		io_uring_prep_statx(sqe, AT_FDCWD, r->path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
				    r->stx);
		break;
	case WIO_FALLOCATE:
		io_uring_prep_fallocate(sqe, r->fd, r->flags, r->off, r->off2);
		break;
	case WIO_FSYNC:
		io_uring_prep_fsync(sqe, r->fd, 0);
		break;
	case WIO_FDATASYNC:
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
		break;
	case WIO_UNLINK:
		io_uring_prep_unlinkat(sqe, AT_FDCWD, r->path, 0);
		break;
	case WIO_RENAME:
		io_uring_prep_renameat(sqe, AT_FDCWD, r->path, AT_FDCWD, r->path2, 0);
		break;
	case WIO_MKDIR:
		io_uring_prep_mkdirat(sqe, AT_FDCWD, r->path, (mode_t)r->mode);
		break;
	}
	io_uring_sqe_set_data(sqe, r);
}

/* A free SQE; a full SQ is submitted first. NULL if none can be had. */
static struct io_uring_sqe *get_sqe(struct wio_ctx *c)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->u.ring);

	if (__builtin_expect(!sqe, 0)) {
		wire__uring_flush(c);
		sqe = io_uring_get_sqe(&c->u.ring);
	}
	return sqe;
}

/* Count @r as prepared; the first of a batch arms the flush. */
static inline void queued(struct wio_uring *u)
{
	u->unsubmitted++;
	if (!u->flush.armed)
		wire_timer_start_at(&u->flush, 0);
}

int wire__uring_issue(struct wio_ctx *c, struct wio_req *r)
{
	struct wio_uring *u = &c->u;
	struct io_uring_sqe *sqe;
	__u64 off;

	switch (r->op) {
	/*
	 * Plain reads and writes, the common case, fill the SQE here: one
	 * test of the arguments and only the fields a read uses.
	 */
	case WIO_PREAD:
	case WIO_PWRITE:
		if (r->off < 0)
			return 0;
		off = (__u64)r->off;
		break;
	case WIO_READ:
	case WIO_WRITE:
		if (!u->cur_pos)
			return 0;
		off = (__u64)-1; /* the file position */
		break;
	default:
		if (!accepts(u, r) || !(sqe = get_sqe(c)))
			return 0;
		prep(sqe, r);
		queued(u);
		return 1;
	}
	/* A count of 0: read(2) still asks the file (EISDIR for a directory),
	 * the ring answers 0. */
	if (r->len - 1 >= INT_MAX || !(u->ops & (1u << r->op)) || !(sqe = get_sqe(c)))
		return 0;
	sqe->opcode = (__u8)ring_op[r->op];
	sqe->flags = 0;
	sqe->ioprio = 0;
	sqe->fd = r->fd;
	sqe->off = off;
	sqe->addr = (__u64)(uintptr_t)r->buf;
	sqe->len = (__u32)r->len;
	sqe->rw_flags = 0;
	sqe->user_data = (__u64)(uintptr_t)r;
	sqe->buf_index = 0;
	sqe->personality = 0;
	sqe->file_index = 0;
	sqe->addr3 = 0;
	sqe->__pad2[0] = 0;
	queued(u);
	return 1;
}

void wire__uring_flush(struct wio_ctx *c)
{
	struct wio_uring *u = &c->u;

	if (u->unsubmitted) {
		int n = sys_uring_submit(&u->ring);
		if (n > 0) {
			u->unsubmitted -= (unsigned)n;
			u->inflight += (unsigned)n;
			wire__fd_pending_add(n);
		}
		if (u->unsubmitted) {
			/*
			 * The kernel took only part (or failed: EAGAIN,
			 * EBUSY, EINTR): try again soon; completions being
			 * reaped meanwhile make room.
			 */
			int64_t when = n < 0 ? wire_now_ns() + 1000000 : 0;
			wire_timer_start_at(&u->flush, when);
		}
	}
	wire__uring_reap(c);
}

#ifdef WIRE_VALGRIND
/* The kernel wrote @r's buffers behind valgrind's back. */
static void mark_defined(struct wio_req *r, long n)
{
	switch (r->op) {
	case WIO_READ:
	case WIO_PREAD:
		VALGRIND_MAKE_MEM_DEFINED(r->buf, n);
		break;
	case WIO_READV:
	case WIO_PREADV:
		for (int i = 0; i < r->iovcnt && n > 0; i++) {
			size_t k = r->iov[i].iov_len < (size_t)n ? r->iov[i].iov_len : (size_t)n;
			VALGRIND_MAKE_MEM_DEFINED(r->iov[i].iov_base, k);
			n -= (long)k;
		}
		break;
	case WIO_FSTAT:
	case WIO_STAT:
	case WIO_LSTAT:
		VALGRIND_MAKE_MEM_DEFINED(r->stx, sizeof(*r->stx));
		break;
	}
}
#endif

void wire__uring_reap(struct wio_ctx *c)
{
	struct wio_uring *u = &c->u;
	struct io_uring_cq *cq = &u->ring.cq;
	unsigned head = *cq->khead, mask = cq->ring_mask;
	/* Acquire: the CQEs up to @tail are written. */
	unsigned tail = io_uring_smp_load_acquire(cq->ktail);
	unsigned n = tail - head;

	if (!n)
		return;
	/*
	 * Every wire is resumed in this one pass; the wires then run one
	 * after the other without the scheduler in between. The head is
	 * released before any wire runs, so an SQ-full flush from a wire
	 * sees free CQ room.
	 */
	do {
		const struct io_uring_cqe *cqe = &cq->cqes[head & mask];
		struct wio_req *r = (struct wio_req *)(uintptr_t)cqe->user_data;
		int res = cqe->res;

		if (__builtin_expect(res == -EINVAL || res == -EOPNOTSUPP, 0)) {
			wire__io_resubmit(c, r);
			continue;
		}
		r->ret = res < 0 ? -1 : res;
		r->err = res < 0 ? -res : 0;
#ifdef WIRE_VALGRIND
		if (res >= 0)
			mark_defined(r, res);
#endif
		wire__io_complete(c, r);
	} while (++head != tail);
	io_uring_smp_store_release(cq->khead, tail);
	u->inflight -= n;
	wire__fd_pending_add(-(int)n);
}

void wire__uring_stat_finish(struct wio_req *r)
{
	const struct statx *x = r->stx;
	struct stat *st = r->st;

	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x->stx_dev_major, x->stx_dev_minor);
	st->st_ino = x->stx_ino;
	st->st_mode = x->stx_mode;
	st->st_nlink = x->stx_nlink;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	st->st_size = (off_t)x->stx_size;
	st->st_blksize = (blksize_t)x->stx_blksize;
	st->st_blocks = (blkcnt_t)x->stx_blocks;
	st->st_atim.tv_sec = x->stx_atime.tv_sec;
	st->st_atim.tv_nsec = x->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = x->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = x->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = x->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = x->stx_ctime.tv_nsec;
}

#else
/* Built without liburing: the thread pool does everything. */
typedef int wire_io_uring_unused;
#endif
