/*
 * wire_io_inline - reads tried on the scheduler thread before they are
 * handed off.
 *
 * A read at an explicit offset (pread, preadv) from a wire is first tried
 * with preadv2(RWF_NOWAIT), which never waits for I/O: data in the page
 * cache comes back at once for one system call and no switch. When the
 * kernel would have to wait (EAGAIN), or cannot try without waiting for
 * this file (EOPNOTSUPP), nothing was read and the call is handed off.
 * The result and errno stay exactly libc's; wio_read_call() says how.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wire_io_internal.h"

/* Most bytes one read(2) transfers (the kernel's MAX_RW_COUNT). */
static size_t max_rw_count(void)
{
	static size_t max;

	if (!max) {
		long page = sysconf(_SC_PAGESIZE);
		max = (size_t)INT_MAX & ~((size_t)(page > 0 ? page : 4096) - 1);
	}
	return max;
}

/*
 * 1 if read @r, having read @n bytes inline of a larger request, must read
 * on: a regular file not at its end, or a block device. There the short
 * count only means the rest was not cached, where read(2) would have
 * waited for it. A pipe, socket or terminal returns what it had, as
 * read(2) does; so does a regular file at its end.
 */
static int must_read_on(const struct wio_req *r, size_t n)
{
	struct stat st;

	/* Fails only if another thread closed the fd meanwhile: then the
	 * rest would fail too, and a partial read returns what it read. */
	if (sys_fstat(r->fd, &st) != 0)
		return 0;
	if (S_ISBLK(st.st_mode))
		return 1;
	if (!S_ISREG(st.st_mode))
		return 0;
	return r->off + (off_t)n < st.st_size;
}

/*
 * Read the rest of @r, whose first @done bytes were read inline, through
 * the backend, up to @want bytes in all (@total: the request's size).
 * Returns the bytes read in all; a failing piece ends the read, as a
 * partial read(2) would end.
 */
static size_t read_rest(struct wio_ctx *c, const struct wio_req *r, size_t done, size_t total,
			size_t want)
{
	int vec = r->op == WIO_PREADV;
	size_t skip = done; /* into entry k */
	int k = 0;

	while (done < want) {
		struct wio_req p = {.fd = r->fd};
		size_t piece;
		long got;

		if (vec) {
			while (skip >= r->iov[k].iov_len) {
				skip -= r->iov[k].iov_len;
				k++;
			}
		}
		if (!vec) {
			p.op = WIO_PREAD;
			p.buf = (char *)r->buf + done;
			p.len = piece = want - done;
		} else if (skip == 0 && total == want) {
			/* The remaining entries as they are. */
			p.op = WIO_PREADV;
			p.iov = r->iov + k;
			p.iovcnt = r->iovcnt - k;
			piece = want - done;
		} else {
			/* The rest of entry k. */
			p.op = WIO_PREAD;
			p.buf = (char *)r->iov[k].iov_base + skip;
			piece = r->iov[k].iov_len - skip;
			if (piece > want - done)
				piece = want - done;
			p.len = piece;
		}
		p.off = r->off + (off_t)done;
		got = wio_issue(c, &p);
		if (got <= 0)
			break;
		done += (size_t)got;
		skip += (size_t)got;
		if ((size_t)got < piece)
			break;
	}
	return done;
}

/*
 * - read and readv use the file position: a try cut short by the page
 *   cache would have to be finished by a second read of the position,
 *   and another reader of the same open file could move it in between
 *   (read(2) of a regular file is atomic). They are handed off.
 * - Not tried: a count of 0 (read(2) still checks the file: EISDIR for a
 *   directory), a negative offset (preadv2 reads -1 as "the file
 *   position" where pread(2) says EINVAL), and files opened with O_DIRECT
 *   when the request could be a valid direct read (length and offset
 *   multiples of 512): the kernel performs a direct read even with
 *   RWF_NOWAIT, waiting for the device.
 * - With the uring backend, a read that can join a batch (calls prepared
 *   already, or other wires ready to run, whose calls will queue) goes to
 *   the ring: one io_uring_enter carries the batch.
 * - Handed off as it is when the try read nothing: EAGAIN (not cached, or
 *   nothing in the pipe or socket), EOPNOTSUPP (no RWF_NOWAIT for this
 *   file or kernel), EINVAL (preadv2 may judge arguments or flags
 *   differently), EINTR, EPERM and ENOSYS (a seccomp filter or an
 *   emulator without preadv2; ENOSYS also stops further tries until the
 *   next wire_io_init()). The backend then gives libc's exact answer.
 * - Any other error (EBADF, ESPIPE, EFAULT, EIO, ...) is what the read
 *   itself returned and is returned as it is.
 * - A short count from a regular file not at its end, or a block device,
 *   means part of the range was not cached: the rest goes to the backend
 *   and the call returns both parts (or the first part alone if the rest
 *   fails, as a partial read returns). See must_read_on().
 */
long wio_read_call(struct wio_ctx *c, struct wio_req *r)
{
	struct iovec one;
	const struct iovec *iov = &one;
	int cnt = 1, saved, fl;
	size_t total, align;
	ssize_t n;

	if (!atomic_load_explicit(&wire__io_inline, memory_order_relaxed) || r->op == WIO_READ ||
	    r->op == WIO_READV || r->off < 0)
		return wio_issue(c, r);
	if (wio_uring_unsubmitted(c) || (c->u.on && wire__self->run_head))
		return wio_issue(c, r);
	if (r->op == WIO_PREAD) {
		if (r->len == 0)
			return wio_issue(c, r);
		one.iov_base = r->buf;
		one.iov_len = r->len;
		align = r->len;
	} else {
		iov = r->iov;
		cnt = r->iovcnt;
		/* The array is not read before the kernel has accepted it
		 * (preadv(2) says EFAULT for a bad one): any vector may be a
		 * direct read, unless its count is refused anyway. */
		align = cnt > 0 && cnt <= IOV_MAX ? 0 : 1;
	}
	saved = errno;
	if (((align | (size_t)r->off) & 511) == 0) {
		fl = sys_fcntl(r->fd, F_GETFL, 0);
		if (fl == -1 || (fl & O_DIRECT)) {
			errno = saved;
			return wio_issue(c, r);
		}
	}
	n = sys_preadv2(r->fd, iov, cnt, r->off, RWF_NOWAIT);
	/* Counted as done at once unless it goes to the backend below. */
	wire__self->stats.wio_inline++;
	if (n < 0) {
		switch (errno) {
		case ENOSYS:
			atomic_store_explicit(&wire__io_inline, 0, memory_order_relaxed);
			/* fallthrough */
		case EAGAIN:
		case EOPNOTSUPP:
		case EINVAL:
		case EINTR:
		case EPERM:
			errno = saved;
			wire__self->stats.wio_inline--;
			return wio_issue(c, r);
		}
		return -1;
	}
	if (n == 0)
		return 0;
	if (iov == &one) {
		total = r->len;
	} else {
		total = 0; /* saturating: only compared with MAX_RW_COUNT */
		for (int i = 0; i < cnt; i++)
			total =
			    iov[i].iov_len > SIZE_MAX - total ? SIZE_MAX : total + iov[i].iov_len;
	}
	if ((size_t)n >= total || (size_t)n >= max_rw_count() || !must_read_on(r, (size_t)n)) {
		errno = saved;
		return n;
	}
	n = (ssize_t)read_rest(c, r, (size_t)n, total,
			       total < max_rw_count() ? total : max_rw_count());
	errno = saved;
	return n;
}
