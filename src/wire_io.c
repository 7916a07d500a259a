/*
 * wire_io - blocking system calls that block only the calling wire. See
 * wire_io.h; how the parts meet is in wire_io_internal.h.
 *
 * Start, stop and fork. wire_io_init() and wire_io_shutdown() are
 * serialized by one lock and give wire_io a generation: a scheduler
 * thread's channel belongs to the generation it was opened in, and is
 * opened again (or a call performed plainly) when the generation changed.
 * A shutdown first ends the generation, so calls that begin after it are
 * plain; then it waits for the calling thread's calls, and stops the pool
 * (wire_io_pool.c says why no call can be queued where no worker will
 * take it). Calls of other threads on their own rings complete there.
 *
 * After fork() the child has none of the parent's workers, and its copy
 * of a ring maps the parent's: a call from a wire would wait forever, or
 * take the parent's completions. So until the child calls
 * wire_io_init() (or wire_io_shutdown()), a call from a wire aborts with
 * a message; those two release the inherited channel without touching
 * what it shares with the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "wire_io.h"
#include "wire_io_internal.h"

#define DEFAULT_THREADS 4

enum backend { BACKEND_NONE, BACKEND_THREADS, BACKEND_URING };

static const char *const backend_names[] = {"none", "threads", "uring"};

/* Serializes wire_io_init(), wire_io_shutdown() and fork(). */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned gen_counter;	  /* under state_lock */
static int stopping;		  /* under state_lock: a shutdown is draining */
static _Atomic unsigned live_gen; /* generation in service, 0: stopped */
static _Atomic int backend = BACKEND_NONE;
static _Atomic int forked; /* wire_io ran when this process forked */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
_Atomic int wire__io_inline;

/* ------------------------------------------------------------------ */
/* fork().                                                             */

static void atfork_prepare(void)
{
	pthread_mutex_lock(&state_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&state_lock);
}

static void atfork_child(void)
{
	pthread_mutex_unlock(&state_lock);
	if (!atomic_load(&live_gen) && !wio_ctx_self()->gen)
		return;
	atomic_store(&forked, 1);
	atomic_store(&live_gen, 0);
	atomic_store(&backend, BACKEND_NONE);
	wio_ctx_self()->inherited = 1;
	wio_pool_forget();
}

static void atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* In a child that inherited wire_io (under state_lock): let go of it. */
static void forget_parent(void)
{
	struct wio_ctx *c = wio_ctx_self();

	if (!atomic_load(&forked))
		return;
	if (c->inherited)
		wio_ctx_forget(c);
	atomic_store(&forked, 0);
}

/* What a wire in each call waits on (wire_t.blocked), and whether r->fd names an fd. */
static const struct {
	const char *name;
	int has_fd;
} op_info[WIO_NUM_OPS] = {
    [WIO_OPENAT] = {"wio_openat", 0},
    [WIO_CLOSE] = {"wio_close", 1},
    [WIO_READ] = {"wio_read", 1},
    [WIO_WRITE] = {"wio_write", 1},
    [WIO_PREAD] = {"wio_pread", 1},
    [WIO_PWRITE] = {"wio_pwrite", 1},
    [WIO_READV] = {"wio_readv", 1},
    [WIO_WRITEV] = {"wio_writev", 1},
    [WIO_PREADV] = {"wio_preadv", 1},
    [WIO_PWRITEV] = {"wio_pwritev", 1},
    [WIO_FSTAT] = {"wio_fstat", 1},
    [WIO_STAT] = {"wio_stat", 0},
    [WIO_LSTAT] = {"wio_lstat", 0},
    [WIO_FSTATAT] = {"wio_fstatat", 0},
    [WIO_STATX] = {"wio_statx", 0},
    [WIO_FTRUNCATE] = {"wio_ftruncate", 1},
    [WIO_TRUNCATE] = {"wio_truncate", 0},
    [WIO_FALLOCATE] = {"wio_fallocate", 1},
    [WIO_FSYNC] = {"wio_fsync", 1},
    [WIO_FDATASYNC] = {"wio_fdatasync", 1},
    [WIO_SYNC_FILE_RANGE] = {"wio_sync_file_range", 1},
    [WIO_UNLINK] = {"wio_unlink", 0},
    [WIO_UNLINKAT] = {"wio_unlinkat", 0},
    [WIO_RENAME] = {"wio_rename", 0},
    [WIO_RENAMEAT] = {"wio_renameat", 0},
    [WIO_MKDIR] = {"wio_mkdir", 0},
    [WIO_MKDIRAT] = {"wio_mkdirat", 0},
    [WIO_RMDIR] = {"wio_rmdir", 0},
    [WIO_READLINK] = {"wio_readlink", 0},
    [WIO_ACCESS] = {"wio_access", 0},
    [WIO_FCHMOD] = {"wio_fchmod", 1},
    [WIO_FCHOWN] = {"wio_fchown", 1},
    [WIO_FSTATFS] = {"wio_fstatfs", 1},
    [WIO_SENDFILE] = {"wio_sendfile", 1},
    [WIO_COPY_FILE_RANGE] = {"wio_copy_file_range", 1},
    [WIO_OPENDIR] = {"wio_opendir", 0},
    [WIO_READDIR] = {"wio_readdir", 0},
    [WIO_CLOSEDIR] = {"wio_closedir", 0},
    [WIO_GETADDRINFO] = {"wio_getaddrinfo", 0},
    [WIO_GETNAMEINFO] = {"wio_getnameinfo", 0},
    [WIO_WAITPID] = {"wio_waitpid", 0},
};

/* ------------------------------------------------------------------ */
/* Handing calls off.                                                  */

/*
 * The calling thread's channel when @call may be handed off, or NULL for
 * the plain call (outside a wire, wire_io stopped, or no channel).
 */
static struct wio_ctx *enter(const char *call)
{
	struct wio_ctx *c = wio_ctx_self();
	wire_t *cur = wire__current();
	unsigned gen;

	if (!cur)
		return NULL;
	/* Every wio call from a wire is a blocking point, also when it ends up
	 * performed in place. */
	wire__cancel_point(cur);
	if (__builtin_expect(atomic_load_explicit(&forked, memory_order_relaxed), 0))
		wire__misuse(call, "wire_io was running when this process forked: the child "
				   "must call wire_io_init() before wio calls from wires");
	gen = atomic_load_explicit(&live_gen, memory_order_acquire);
	if (__builtin_expect(c->gen != gen, 0)) {
		if (c->gen) {
			/* Left over from a stopped generation. */
			if (c->busy)
				return NULL;
			wio_ctx_close(c);
		}
		if (!gen || wio_ctx_open(c, gen, atomic_load(&backend) == BACKEND_URING) != 0)
			return NULL;
	}
	if (wio_ctx_watch(c) != 0)
		return NULL;
	return c;
}

/* The result of performed @r, with errno set as the libc call sets it. */
static long result(const struct wio_req *r)
{
	if (r->ret == -1 && r->op != WIO_GETADDRINFO && r->op != WIO_GETNAMEINFO)
		errno = r->err;
	return r->ret;
}

long wio_plain(struct wio_req *r)
{
	int saved = errno;

	wio_perform(r);
	errno = saved;
	return result(r);
}

/*
 * The wire of @r is cancelled: a call still queued (for a worker, or for
 * room on the ring) is taken back; one under way must complete first.
 */
static int req_withdraw(wire_park_t *p)
{
	struct wio_req *r = wire_container_of(p, struct wio_req, park);
	struct wio_ctx *c = r->ctx;
	int gone = r->ring ? wio_uring_withdraw(c, r) : wio_pool_withdraw(r);

	/* Under way: the wire ends when the call completes (wio_issue). */
	r->abandoned = !gone;
	if (gone && !--c->busy && c->drainer) {
		wire_t *w = c->drainer;
		c->drainer = NULL;
		wire__resume(w);
	}
	return gone;
}

/* A call completed for a cancelled wire: release what it made for the caller. */
static void release_result(const struct wio_req *r)
{
	if (r->ret < 0)
		return;
	switch (r->op) {
	case WIO_OPENAT:
		sys_close((int)r->ret);
		break;
	case WIO_OPENDIR:
		if (r->ptr)
			closedir(r->ptr);
		break;
	case WIO_GETADDRINFO:
		if (r->ret == 0 && *r->res)
			freeaddrinfo(*r->res);
		break;
	}
}

long wio_issue(struct wio_ctx *c, struct wio_req *r)
{
	r->wire = wire__current();
	r->park.withdraw = req_withdraw;
	r->ctx = c;
	r->done = 0;
	r->ring = 0;
	r->abandoned = 0;
	c->busy++;
	c->handoffs++;
	if (c->u.on && wio_uring_issue(c, r)) {
		wire__self->stats.wio_uring++;
	} else if (wio_pool_submit(c, r) == 0) {
		wire__self->stats.wio_threads++;
	} else {
		/* The pool closed meanwhile: a call made after the shutdown. */
		wio_plain(r);
		wio_complete(c, r);
	}
	if (!r->done) {
		wire__blocked_on(r->wire, op_info[r->op].name, r);
		if (op_info[r->op].has_fd)
			r->wire->blocked.fd = r->fd;
		do
			wire__park(r->wire, &r->park);
		while (!r->done);
	}
	wio_uring_finish(r);
	/* Cancelled while the call was under way: it ends here. (A wire
	 * cancelled after its call completed returns the result and ends at
	 * its next block.) */
	if (__builtin_expect(r->abandoned, 0)) {
		release_result(r);
		wire__cancel_self(r->wire);
	}
	return result(r);
}

static long run(struct wio_req *r, const char *call)
{
	struct wio_ctx *c = enter(call);

	return c ? wio_issue(c, r) : wio_plain(r);
}

static long read_call(struct wio_req *r, const char *call)
{
	struct wio_ctx *c = enter(call);

	return c ? wio_read_call(c, r) : wio_plain(r);
}

/* ------------------------------------------------------------------ */
/* Start and stop.                                                     */

/* An on/off environment variable: 1 when unset, empty or "1", 0 for "0", else -1. */
static int env_flag(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v || strcmp(v, "1") == 0)
		return 1;
	return strcmp(v, "0") == 0 ? 0 : -1;
}

/* The backend named @name (NULL: WIRE_IO_BACKEND): -1 for auto, or -1 - 1 if unknown. */
static int backend_wanted(const char *name)
{
	if (!name)
		name = getenv("WIRE_IO_BACKEND");
	if (!name || !*name || strcmp(name, "auto") == 0)
		return -1;
	if (strcmp(name, "threads") == 0)
		return BACKEND_THREADS;
	if (strcmp(name, "uring") == 0)
		return BACKEND_URING;
	return -2;
}

/* Open the calling thread's channel for @gen with backend @want (-1: auto). */
static int open_channel(struct wio_ctx *c, unsigned gen, int *want)
{
	if (wio_ctx_open(c, gen, *want != BACKEND_THREADS) == 0) {
		if (*want == -1)
			*want = BACKEND_URING;
		return 0;
	}
	if (*want != -1 || wio_ctx_open(c, gen, 0) != 0)
		return -1;
	*want = BACKEND_THREADS;
	return 0;
}

int wire_io_init_backend(int num_threads, const char *name)
{
	struct wio_ctx *c = wio_ctx_self();
	int want = backend_wanted(name), inline_on = env_flag("WIRE_IO_INLINE"), err;
	unsigned gen;

	if (inline_on < 0 || want == -2 || num_threads > WIRE_IO_MAX_THREADS) {
		errno = EINVAL;
		return -1;
	}
#ifndef WIRE_HAVE_URING
	if (want == BACKEND_URING) {
		errno = ENOSYS;
		return -1;
	}
#endif
	if (num_threads <= 0)
		num_threads = DEFAULT_THREADS;
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&state_lock);
	forget_parent();
	err = EALREADY;
	if (atomic_load(&live_gen) || stopping)
		goto fail;
	if (c->gen) {
		err = EBUSY; /* completions of a stopped generation not yet taken */
		if (c->busy)
			goto fail;
		wio_ctx_close(c);
	}
	if (++gen_counter == 0)
		++gen_counter;
	gen = gen_counter;
	if (open_channel(c, gen, &want) != 0) {
		err = errno;
		goto fail;
	}
	if (wio_pool_start(num_threads) != 0) {
		err = errno;
		wio_ctx_close(c);
		goto fail;
	}
	atomic_store(&backend, want);
	atomic_store(&wire__io_inline, inline_on);
	atomic_store_explicit(&live_gen, gen, memory_order_release);
	pthread_mutex_unlock(&state_lock);
	return 0;
fail:
	pthread_mutex_unlock(&state_lock);
	errno = err;
	return -1;
}

int wire_io_init(int num_threads)
{
	return wire_io_init_backend(num_threads, NULL);
}

const char *wire_io_backend(void)
{
	return backend_names[atomic_load(&backend)];
}

void wire_io_shutdown(void)
{
	struct wio_ctx *c = wio_ctx_self();
	unsigned gen;

	pthread_mutex_lock(&state_lock);
	forget_parent();
	gen = atomic_load(&live_gen);
	if (!gen || stopping) {
		pthread_mutex_unlock(&state_lock);
		return;
	}
	stopping = 1;
	atomic_store(&live_gen, 0); /* calls from now on are plain */
	pthread_mutex_unlock(&state_lock);

	if (c->gen == gen)
		wio_ctx_drain(c);
	wio_pool_stop();
	if (c->gen == gen)
		wio_ctx_close(c);

	pthread_mutex_lock(&state_lock);
	atomic_store(&backend, BACKEND_NONE);
	stopping = 0;
	pthread_mutex_unlock(&state_lock);
}

/* ------------------------------------------------------------------ */
/* The calls.                                                          */

static inline int needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

int wio_openat(int dirfd, const char *pathname, int flags, ...)
{
	struct wio_req r = {.op = WIO_OPENAT, .fd = dirfd, .path = pathname, .flags = flags};

	if (needs_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		r.mode = va_arg(ap, unsigned);
		va_end(ap);
	}
	return (int)run(&r, "wio_openat");
}

int wio_open(const char *pathname, int flags, ...)
{
	struct wio_req r = {.op = WIO_OPENAT, .fd = AT_FDCWD, .path = pathname, .flags = flags};

	if (needs_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		r.mode = va_arg(ap, unsigned);
		va_end(ap);
	}
	return (int)run(&r, "wio_open");
}

int wio_close(int fd)
{
	struct wio_req r = {.op = WIO_CLOSE, .fd = fd};
	return (int)run(&r, "wio_close");
}

ssize_t wio_read(int fd, void *buf, size_t count)
{
	struct wio_req r = {.op = WIO_READ, .fd = fd, .buf = buf, .len = count};
	return read_call(&r, "wio_read");
}

ssize_t wio_write(int fd, const void *buf, size_t count)
{
	struct wio_req r = {.op = WIO_WRITE, .fd = fd, .buf = (void *)buf, .len = count};
	return run(&r, "wio_write");
}

ssize_t wio_pread(int fd, void *buf, size_t count, off_t offset)
{
	struct wio_req r = {.op = WIO_PREAD, .fd = fd, .buf = buf, .len = count, .off = offset};
	return read_call(&r, "wio_pread");
}

ssize_t wio_pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	struct wio_req r = {
	    .op = WIO_PWRITE, .fd = fd, .buf = (void *)buf, .len = count, .off = offset};
	return run(&r, "wio_pwrite");
}

ssize_t wio_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct wio_req r = {.op = WIO_READV, .fd = fd, .iov = iov, .iovcnt = iovcnt};
	return read_call(&r, "wio_readv");
}

ssize_t wio_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct wio_req r = {.op = WIO_WRITEV, .fd = fd, .iov = iov, .iovcnt = iovcnt};
	return run(&r, "wio_writev");
}

ssize_t wio_preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	struct wio_req r = {
	    .op = WIO_PREADV, .fd = fd, .iov = iov, .iovcnt = iovcnt, .off = offset};
	return read_call(&r, "wio_preadv");
}

ssize_t wio_pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	struct wio_req r = {
	    .op = WIO_PWRITEV, .fd = fd, .iov = iov, .iovcnt = iovcnt, .off = offset};
	return run(&r, "wio_pwritev");
}

/* The stat calls: the ring answers in a statx on the caller's stack. */
static int stat_call(struct wio_req *r, const char *call)
{
	struct statx stx;

	r->stx = &stx;
	return (int)run(r, call);
}

int wio_fstat(int fd, struct stat *buf)
{
	struct wio_req r = {.op = WIO_FSTAT, .fd = fd, .out = buf};
	return stat_call(&r, "wio_fstat");
}

int wio_stat(const char *pathname, struct stat *buf)
{
	struct wio_req r = {.op = WIO_STAT, .path = pathname, .out = buf};
	return stat_call(&r, "wio_stat");
}

int wio_lstat(const char *pathname, struct stat *buf)
{
	struct wio_req r = {.op = WIO_LSTAT, .path = pathname, .out = buf};
	return stat_call(&r, "wio_lstat");
}

int wio_fstatat(int dirfd, const char *pathname, struct stat *buf, int flags)
{
	struct wio_req r = {
	    .op = WIO_FSTATAT, .fd = dirfd, .path = pathname, .out = buf, .flags = flags};
	return stat_call(&r, "wio_fstatat");
}

int wio_statx(int dirfd, const char *pathname, int flags, unsigned int mask, struct statx *buf)
{
	struct wio_req r = {.op = WIO_STATX,
			    .fd = dirfd,
			    .path = pathname,
			    .flags = flags,
			    .mode = mask,
			    .out = buf};
	return (int)run(&r, "wio_statx");
}

int wio_ftruncate(int fd, off_t length)
{
	struct wio_req r = {.op = WIO_FTRUNCATE, .fd = fd, .off = length};
	return (int)run(&r, "wio_ftruncate");
}

int wio_truncate(const char *pathname, off_t length)
{
	struct wio_req r = {.op = WIO_TRUNCATE, .path = pathname, .off = length};
	return (int)run(&r, "wio_truncate");
}

int wio_fallocate(int fd, int mode, off_t offset, off_t len)
{
	struct wio_req r = {
	    .op = WIO_FALLOCATE, .fd = fd, .flags = mode, .off = offset, .off2 = len};
	return (int)run(&r, "wio_fallocate");
}

int wio_fsync(int fd)
{
	struct wio_req r = {.op = WIO_FSYNC, .fd = fd};
	return (int)run(&r, "wio_fsync");
}

int wio_fdatasync(int fd)
{
	struct wio_req r = {.op = WIO_FDATASYNC, .fd = fd};
	return (int)run(&r, "wio_fdatasync");
}

int wio_sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags)
{
	struct wio_req r = {.op = WIO_SYNC_FILE_RANGE,
			    .fd = fd,
			    .off = offset,
			    .off2 = nbytes,
			    .flags = (int)flags};
	return (int)run(&r, "wio_sync_file_range");
}

int wio_unlink(const char *pathname)
{
	struct wio_req r = {.op = WIO_UNLINK, .path = pathname};
	return (int)run(&r, "wio_unlink");
}

int wio_unlinkat(int dirfd, const char *pathname, int flags)
{
	struct wio_req r = {.op = WIO_UNLINKAT, .fd = dirfd, .path = pathname, .flags = flags};
	return (int)run(&r, "wio_unlinkat");
}

int wio_rename(const char *oldpath, const char *newpath)
{
	struct wio_req r = {.op = WIO_RENAME, .path = oldpath, .path2 = newpath};
	return (int)run(&r, "wio_rename");
}

int wio_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	struct wio_req r = {
	    .op = WIO_RENAMEAT, .fd = olddirfd, .path = oldpath, .fd2 = newdirfd, .path2 = newpath};
	return (int)run(&r, "wio_renameat");
}

int wio_mkdir(const char *pathname, mode_t mode)
{
	struct wio_req r = {.op = WIO_MKDIR, .path = pathname, .mode = mode};
	return (int)run(&r, "wio_mkdir");
}

int wio_mkdirat(int dirfd, const char *pathname, mode_t mode)
{
	struct wio_req r = {.op = WIO_MKDIRAT, .fd = dirfd, .path = pathname, .mode = mode};
	return (int)run(&r, "wio_mkdirat");
}

int wio_rmdir(const char *pathname)
{
	struct wio_req r = {.op = WIO_RMDIR, .path = pathname};
	return (int)run(&r, "wio_rmdir");
}

ssize_t wio_readlink(const char *pathname, char *buf, size_t bufsiz)
{
	struct wio_req r = {.op = WIO_READLINK, .path = pathname, .buf = buf, .len = bufsiz};
	return run(&r, "wio_readlink");
}

int wio_access(const char *pathname, int mode)
{
	struct wio_req r = {.op = WIO_ACCESS, .path = pathname, .flags = mode};
	return (int)run(&r, "wio_access");
}

int wio_fchmod(int fd, mode_t mode)
{
	struct wio_req r = {.op = WIO_FCHMOD, .fd = fd, .mode = mode};
	return (int)run(&r, "wio_fchmod");
}

int wio_fchown(int fd, uid_t owner, gid_t group)
{
	struct wio_req r = {.op = WIO_FCHOWN, .fd = fd, .uid = owner, .gid = group};
	return (int)run(&r, "wio_fchown");
}

int wio_fstatfs(int fd, struct statfs *buf)
{
	struct wio_req r = {.op = WIO_FSTATFS, .fd = fd, .out = buf};
	return (int)run(&r, "wio_fstatfs");
}

ssize_t wio_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	struct wio_req r = {
	    .op = WIO_SENDFILE, .fd = out_fd, .fd2 = in_fd, .offp = offset, .len = count};
	return run(&r, "wio_sendfile");
}

ssize_t wio_copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
			    unsigned int flags)
{
	struct wio_req r = {.op = WIO_COPY_FILE_RANGE,
			    .fd = fd_in,
			    .offp = off_in,
			    .fd2 = fd_out,
			    .offp2 = off_out,
			    .len = len,
			    .flags = (int)flags};
	return run(&r, "wio_copy_file_range");
}

DIR *wio_opendir(const char *name)
{
	struct wio_req r = {.op = WIO_OPENDIR, .path = name};

	return run(&r, "wio_opendir") == 0 ? r.ptr : NULL;
}

struct dirent *wio_readdir(DIR *dirp)
{
	struct wio_req r = {.op = WIO_READDIR, .dir = dirp};

	/* At the end of the directory: NULL, errno untouched, as readdir(3). */
	return run(&r, "wio_readdir") == 0 ? r.ptr : NULL;
}

int wio_closedir(DIR *dirp)
{
	struct wio_req r = {.op = WIO_CLOSEDIR, .dir = dirp};
	return (int)run(&r, "wio_closedir");
}

/* The resolver calls: an EAI_* code, with errno set for EAI_SYSTEM. */
static int resolver_call(struct wio_req *r, const char *call)
{
	long ret = run(r, call);

	if (ret == EAI_SYSTEM)
		errno = r->err;
	return (int)ret;
}

int wio_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		    struct addrinfo **res)
{
	struct wio_req r = {
	    .op = WIO_GETADDRINFO, .path = node, .path2 = service, .hints = hints, .res = res};
	return resolver_call(&r, "wio_getaddrinfo");
}

int wio_getnameinfo(const struct sockaddr *addr, socklen_t addrlen, char *host, socklen_t hostlen,
		    char *serv, socklen_t servlen, int flags)
{
	struct wio_req r = {.op = WIO_GETNAMEINFO,
			    .sa = addr,
			    .salen = addrlen,
			    .buf = host,
			    .len = hostlen,
			    .buf2 = serv,
			    .len2 = servlen,
			    .flags = flags};
	return resolver_call(&r, "wio_getnameinfo");
}

pid_t wio_waitpid(pid_t pid, int *wstatus, int options)
{
	struct wio_req r = {.op = WIO_WAITPID, .fd = (int)pid, .out = wstatus, .flags = options};
	return (pid_t)run(&r, "wio_waitpid");
}
