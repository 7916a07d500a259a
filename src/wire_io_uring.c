/*
 * wire_io_uring - the io_uring backend of wire_io (built with liburing).
 *
 * Each scheduler thread owns a ring. A wio call that the ring carries
 * takes an SQE and parks its wire; nothing is submitted yet. The first SQE
 * of a batch arms the ring's flush timer with a deadline in the past: the
 * scheduler runs it at its next round, that is once every ready wire has
 * run (or after 64 switches), and the flush submits the whole batch with
 * one io_uring_enter. Calls the kernel completes during the submission (a
 * read of cached pages) are reaped in the same flush, so a call can cost
 * one system call and no poll; the others complete later and the ring
 * writes the thread's eventfd, which the poller watches.
 *
 * Room: the ring holds at most as many calls as its completion queue has
 * entries, so that no completion ever has to wait in the kernel's
 * overflow list. Calls beyond that wait in a backlog, in order, and are
 * prepared as completions make room. Any number of calls in flight
 * completes; the reap still asks liburing to flush an overflow, in case.
 *
 * pending: a prepared SQE is covered by the armed flush timer (an armed
 * timer keeps the scheduler running), so only submitted and not yet
 * reaped calls count as the poller's pending work, and backlogged calls
 * wait for those.
 *
 * Exactness: where the ring's answer can differ from the libc call's
 * (io_uring reports EINVAL where read(2) on a directory says EISDIR, and
 * EOPNOTSUPP for some files), the call is redone by the pool; those
 * errors mean nothing was done. Arguments whose meaning differs on the
 * ring (a negative offset, a count of 0 or beyond what one SQE holds,
 * fstat of a negative fd) go to the pool from the start.
 */
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
#define REAP_BATCH   64
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
    [WIO_FSTATAT] = IORING_OP_STATX,
    [WIO_STATX] = IORING_OP_STATX,
    [WIO_FTRUNCATE] = NO_OP,
    [WIO_TRUNCATE] = NO_OP,
    [WIO_FALLOCATE] = IORING_OP_FALLOCATE,
    [WIO_FSYNC] = IORING_OP_FSYNC,
    [WIO_FDATASYNC] = IORING_OP_FSYNC,
    [WIO_SYNC_FILE_RANGE] = IORING_OP_SYNC_FILE_RANGE,
    [WIO_UNLINK] = IORING_OP_UNLINKAT,
    [WIO_UNLINKAT] = IORING_OP_UNLINKAT,
    [WIO_RENAME] = IORING_OP_RENAMEAT,
    [WIO_RENAMEAT] = IORING_OP_RENAMEAT,
    [WIO_MKDIR] = IORING_OP_MKDIRAT,
    [WIO_MKDIRAT] = IORING_OP_MKDIRAT,
    [WIO_RMDIR] = IORING_OP_UNLINKAT,
    [WIO_READLINK] = NO_OP,
    [WIO_ACCESS] = NO_OP,
    [WIO_FCHMOD] = NO_OP,
    [WIO_FCHOWN] = NO_OP,
    [WIO_FSTATFS] = NO_OP,
    [WIO_SENDFILE] = NO_OP,
    [WIO_COPY_FILE_RANGE] = NO_OP,
    [WIO_OPENDIR] = NO_OP,
    [WIO_READDIR] = NO_OP,
    [WIO_CLOSEDIR] = NO_OP,
    [WIO_GETADDRINFO] = NO_OP,
    [WIO_GETNAMEINFO] = NO_OP,
    [WIO_WAITPID] = NO_OP,
};

static void flush_fire(wire_timer_t *t)
{
	struct wio_uring *u = wire_container_of(t, struct wio_uring, flush);
	wio_uring_flush(wire_container_of(u, struct wio_ctx, u));
}

/* The calls the running kernel's ring carries. */
static int probe_ops(struct wio_uring *u)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&u->ring);

	if (!probe)
		return -ENOMEM;
	u->ops = 0;
	for (int op = 0; op < WIO_NUM_OPS; op++)
		if (ring_op[op] != NO_OP && io_uring_opcode_supported(probe, ring_op[op]))
			u->ops |= 1ull << op;
	io_uring_free_probe(probe);
	return 0;
}

int wio_uring_open(struct wio_ctx *c)
{
	struct wio_uring *u = &c->u;
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER;
	ret = sys_uring_init(RING_ENTRIES, &u->ring, &p);
	if (ret == -EINVAL) { /* a kernel before 6.0 */
		memset(&p, 0, sizeof(p));
		ret = sys_uring_init(RING_ENTRIES, &u->ring, &p);
	}
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	/* Without NODROP a completion could be lost, whatever the room. */
	ret = (p.features & IORING_FEAT_NODROP) ? probe_ops(u) : -ENOSYS;
	if (ret == 0)
		ret = io_uring_register_eventfd(&u->ring, c->efd);
	if (ret < 0) {
		io_uring_queue_exit(&u->ring);
		errno = -ret;
		return -1;
	}
	u->cur_pos = !!(p.features & IORING_FEAT_RW_CUR_POS);
	u->room = p.cq_entries;
	u->unsubmitted = 0;
	u->inflight = 0;
	u->backlog = NULL;
	u->backlog_tail = &u->backlog;
	wire_timer_init(&u->flush, flush_fire);
	u->on = 1;
	return 0;
}

void wio_uring_close(struct wio_ctx *c)
{
	struct wio_uring *u = &c->u;

	if (!u->on)
		return;
	wire_timer_stop(&u->flush);
	io_uring_queue_exit(&u->ring);
	u->on = 0;
}

void wio_uring_forget(struct wio_ctx *c)
{
	if (!c->u.on)
		return;
	/* Unmaps this process's view of the rings and closes its fd: the
	 * parent's ring is not touched (nothing is submitted or reaped). */
	io_uring_queue_exit(&c->u.ring);
	c->u.on = 0;
}

/* 1 if @r may go through @u's ring with libc's meaning. */
static int accepts(const struct wio_uring *u, const struct wio_req *r)
{
	if (!(u->ops & (1ull << r->op)))
		return 0;
	switch (r->op) {
	case WIO_READ:
	case WIO_WRITE:
		/* A count of 0: read(2) still asks the file (EISDIR for a
		 * directory), the ring answers 0. */
		return u->cur_pos && r->len - 1 < INT_MAX;
	case WIO_PREAD:
	case WIO_PWRITE:
		return r->off >= 0 && r->len - 1 < INT_MAX;
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
	case WIO_FSTATAT:
	case WIO_STATX:
	case WIO_UNLINK:
	case WIO_UNLINKAT:
	case WIO_MKDIR:
	case WIO_MKDIRAT:
	case WIO_RMDIR:
		return r->path != NULL;
	case WIO_RENAME:
	case WIO_RENAMEAT:
		return r->path != NULL && r->path2 != NULL;
	case WIO_SYNC_FILE_RANGE:
		return r->off >= 0 && r->off2 >= 0 && r->off2 <= UINT_MAX;
	default:
		return 1;
	}
}

static void prep(struct io_uring_sqe *sqe, struct wio_req *r)
{
	switch (r->op) {
	case WIO_OPENAT:
		io_uring_prep_openat(sqe, r->fd, r->path, r->flags, (mode_t)r->mode);
		break;
	case WIO_CLOSE:
		io_uring_prep_close(sqe, r->fd);
		break;
	case WIO_READ:
		io_uring_prep_read(sqe, r->fd, r->buf, (unsigned)r->len, (__u64)-1);
		break;
	case WIO_WRITE:
		io_uring_prep_write(sqe, r->fd, r->buf, (unsigned)r->len, (__u64)-1);
		break;
	case WIO_PREAD:
		io_uring_prep_read(sqe, r->fd, r->buf, (unsigned)r->len, (__u64)r->off);
		break;
	case WIO_PWRITE:
		io_uring_prep_write(sqe, r->fd, r->buf, (unsigned)r->len, (__u64)r->off);
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
	case WIO_FSTATAT:
		io_uring_prep_statx(sqe, r->fd, r->path, r->flags, STATX_BASIC_STATS, r->stx);
		break;
	case WIO_STATX:
		io_uring_prep_statx(sqe, r->fd, r->path, r->flags, r->mode, r->out);
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
	case WIO_SYNC_FILE_RANGE:
		io_uring_prep_sync_file_range(sqe, r->fd, (unsigned)r->off2, (__u64)r->off,
					      r->flags);
		break;
	case WIO_UNLINK:
		io_uring_prep_unlinkat(sqe, AT_FDCWD, r->path, 0);
		break;
	case WIO_UNLINKAT:
		io_uring_prep_unlinkat(sqe, r->fd, r->path, r->flags);
		break;
	case WIO_RMDIR:
		io_uring_prep_unlinkat(sqe, AT_FDCWD, r->path, AT_REMOVEDIR);
		break;
	case WIO_RENAME:
		io_uring_prep_renameat(sqe, AT_FDCWD, r->path, AT_FDCWD, r->path2, 0);
		break;
	case WIO_RENAMEAT:
		io_uring_prep_renameat(sqe, r->fd, r->path, r->fd2, r->path2, 0);
		break;
	case WIO_MKDIR:
		io_uring_prep_mkdirat(sqe, AT_FDCWD, r->path, (mode_t)r->mode);
		break;
	case WIO_MKDIRAT:
		io_uring_prep_mkdirat(sqe, r->fd, r->path, (mode_t)r->mode);
		break;
	}
	io_uring_sqe_set_data(sqe, r);
}

/* Give @r to the pool instead of the ring; its caller performs it if the pool is closed. */
static void to_pool(struct wio_ctx *c, struct wio_req *r)
{
	r->ring = 0;
	if (wio_pool_submit(c, r) != 0) {
		wio_plain(r);
		wio_complete(c, r);
	}
}

/*
 * Prepare @r on the ring, which has room for it. The first SQE of a
 * batch arms the flush; a full SQ is submitted first.
 */
static void prepare(struct wio_ctx *c, struct wio_req *r)
{
	struct wio_uring *u = &c->u;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (__builtin_expect(!sqe, 0)) {
		/* Room is counted against the CQ (twice the SQ): a full SQ
		 * only needs submitting. */
		int n = sys_uring_submit(&u->ring);
		if (n > 0) {
			u->unsubmitted -= (unsigned)n;
			u->inflight += (unsigned)n;
			wire__fd_pending_add(n);
		}
		sqe = io_uring_get_sqe(&u->ring);
	}
	if (__builtin_expect(!sqe, 0)) {
		to_pool(c, r); /* the kernel refused the submission */
		return;
	}
	prep(sqe, r);
	u->unsubmitted++;
	if (!u->flush.armed)
		wire_timer_start_at(&u->flush, 0);
}

int wio_uring_withdraw(struct wio_ctx *c, struct wio_req *r)
{
	struct wio_uring *u = &c->u;
	struct io_uring_sqe *sqe;

	for (struct wio_req **pp = &u->backlog; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			if (u->backlog_tail == &r->next)
				u->backlog_tail = pp;
			return 1;
		}
	}
	/* In the kernel's hands: ask it to stop (a read of a pipe that
	 * nobody writes would wait for ever). Without room the call runs
	 * its course. The cancel's own completion carries no request. */
	if (u->unsubmitted + u->inflight >= u->room || !(sqe = io_uring_get_sqe(&u->ring)))
		return 0;
	io_uring_prep_cancel(sqe, r, 0);
	io_uring_sqe_set_data(sqe, NULL);
	u->unsubmitted++;
	if (!u->flush.armed)
		wire_timer_start_at(&u->flush, 0);
	return 0;
}

int wio_uring_issue(struct wio_ctx *c, struct wio_req *r)
{
	struct wio_uring *u = &c->u;

	if (!accepts(u, r))
		return 0;
	r->ring = 1;
	if (u->unsubmitted + u->inflight >= u->room || u->backlog) {
		/* Full: wait for room, behind the calls already waiting. */
		r->next = NULL;
		*u->backlog_tail = r;
		u->backlog_tail = &r->next;
		return 1;
	}
	prepare(c, r);
	return 1;
}

/* Prepare backlogged calls while there is room. */
static void admit(struct wio_ctx *c)
{
	struct wio_uring *u = &c->u;

	while (u->backlog && u->unsubmitted + u->inflight < u->room) {
		struct wio_req *r = u->backlog;
		u->backlog = r->next;
		if (!u->backlog)
			u->backlog_tail = &u->backlog;
		prepare(c, r);
	}
}

void wio_uring_flush(struct wio_ctx *c)
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
	wio_uring_reap(c);
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
	case WIO_FSTATAT:
		VALGRIND_MAKE_MEM_DEFINED(r->stx, sizeof(*r->stx));
		break;
	case WIO_STATX:
		VALGRIND_MAKE_MEM_DEFINED(r->out, sizeof(struct statx));
		break;
	}
}
#else
static inline void mark_defined(struct wio_req *r, long n)
{
	(void)r;
	(void)n;
}
#endif

/* Complete @r from its CQE's result @res. */
static void complete_one(struct wio_ctx *c, struct wio_req *r, int res)
{
	if (__builtin_expect(res == -EINVAL || res == -EOPNOTSUPP, 0)) {
		to_pool(c, r); /* nothing was done: the pool gives libc's answer */
		return;
	}
	r->ret = res < 0 ? -1 : res;
	r->err = res < 0 ? -res : 0;
	if (res >= 0)
		mark_defined(r, res);
	wio_complete(c, r);
}

void wio_uring_reap(struct wio_ctx *c)
{
	struct wio_uring *u = &c->u;
	struct io_uring_cqe *cqes[REAP_BATCH];
	unsigned n, total = 0;

	if (!u->on)
		return;
	/*
	 * Every wire is resumed in this pass; they run one after the other
	 * without the scheduler in between. Each batch is released before
	 * the next is taken, and liburing flushes a kernel overflow list
	 * when it finds the queue empty.
	 */
	while ((n = io_uring_peek_batch_cqe(&u->ring, cqes, REAP_BATCH)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct wio_req *r = io_uring_cqe_get_data(cqes[i]);
			int res = cqes[i]->res;
			if (r) /* else a cancel's own completion */
				complete_one(c, r, res);
		}
		io_uring_cq_advance(&u->ring, n);
		total += n;
	}
	if (!total)
		return;
	u->inflight -= total;
	wire__fd_pending_add(-(int)total);
	admit(c);
}

/* statx to stat. */
static void stat_from_statx(struct stat *st, const struct statx *x)
{
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

void wio_uring_finish(struct wio_req *r)
{
	if (!r->ring || r->ret != 0)
		return;
	switch (r->op) {
	case WIO_FSTAT:
	case WIO_STAT:
	case WIO_LSTAT:
	case WIO_FSTATAT:
		stat_from_statx(r->out, r->stx);
		break;
	}
}
