/*
 * wire_io_pool - the worker threads of wire_io, and what they perform.
 *
 * One queue under one mutex and one condition variable. A worker takes
 * the oldest record, drops the lock, performs the call and pushes the
 * record back on its thread's channel (wire_io_chan.c). Workers take no
 * signals: they belong to the library, not to the program.
 *
 * Stopping and starting are exact under any interleaving with calls from
 * other threads, because everything is decided under the lock: a record is
 * accepted only while the pool is open; stopping closes the pool, then
 * the workers perform every record still queued before they leave, and
 * are joined. A record refused (the pool closed between a thread's check
 * of the generation and its submit) is performed by its caller, as a call
 * made after the shutdown. So no record is ever queued where no worker
 * will take it, and starting again finds the queue empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire_io.h"
#include "wire_io_internal.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct wio_req *head;
	struct wio_req **tailp;
	int open;      /* records are accepted */
	int stop;      /* workers leave once the queue is empty */
	unsigned idle; /* workers waiting on cond */
	int nthreads;
	pthread_t tids[WIRE_IO_MAX_THREADS];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .tailp = &pool.head};

/* ------------------------------------------------------------------ */
/* Performing a call.                                                  */

void wio_perform(struct wio_req *r)
{
	long ret = -1;

	errno = 0;
	switch (r->op) {
	case WIO_OPENAT:
		ret = openat(r->fd, r->path, r->flags, (mode_t)r->mode);
		break;
	case WIO_CLOSE:
		ret = close(r->fd);
		break;
	case WIO_READ:
		ret = read(r->fd, r->buf, r->len);
		break;
	case WIO_WRITE:
		ret = write(r->fd, r->buf, r->len);
		break;
	case WIO_PREAD:
		ret = pread(r->fd, r->buf, r->len, r->off);
		break;
	case WIO_PWRITE:
		ret = pwrite(r->fd, r->buf, r->len, r->off);
		break;
	case WIO_READV:
		ret = readv(r->fd, r->iov, r->iovcnt);
		break;
	case WIO_WRITEV:
		ret = writev(r->fd, r->iov, r->iovcnt);
		break;
	case WIO_PREADV:
		ret = preadv(r->fd, r->iov, r->iovcnt, r->off);
		break;
	case WIO_PWRITEV:
		ret = pwritev(r->fd, r->iov, r->iovcnt, r->off);
		break;
	case WIO_FSTAT:
		ret = fstat(r->fd, r->out);
		break;
	case WIO_STAT:
		ret = stat(r->path, r->out);
		break;
	case WIO_LSTAT:
		ret = lstat(r->path, r->out);
		break;
	case WIO_FSTATAT:
		ret = fstatat(r->fd, r->path, r->out, r->flags);
		break;
	case WIO_STATX:
		ret = statx(r->fd, r->path, r->flags, r->mode, r->out);
		break;
	case WIO_FTRUNCATE:
		ret = ftruncate(r->fd, r->off);
		break;
	case WIO_TRUNCATE:
		ret = truncate(r->path, r->off);
		break;
	case WIO_FALLOCATE:
		ret = fallocate(r->fd, r->flags, r->off, r->off2);
		break;
	case WIO_FSYNC:
		ret = fsync(r->fd);
		break;
	case WIO_FDATASYNC:
		ret = fdatasync(r->fd);
		break;
	case WIO_SYNC_FILE_RANGE:
		ret = sync_file_range(r->fd, r->off, r->off2, (unsigned)r->flags);
		break;
	case WIO_UNLINK:
		ret = unlink(r->path);
		break;
	case WIO_UNLINKAT:
		ret = unlinkat(r->fd, r->path, r->flags);
		break;
	case WIO_RENAME:
		ret = rename(r->path, r->path2);
		break;
	case WIO_RENAMEAT:
		ret = renameat(r->fd, r->path, r->fd2, r->path2);
		break;
	case WIO_MKDIR:
		ret = mkdir(r->path, (mode_t)r->mode);
		break;
	case WIO_MKDIRAT:
		ret = mkdirat(r->fd, r->path, (mode_t)r->mode);
		break;
	case WIO_RMDIR:
		ret = rmdir(r->path);
		break;
	case WIO_READLINK:
		ret = readlink(r->path, r->buf, r->len);
		break;
	case WIO_ACCESS:
		ret = access(r->path, r->flags);
		break;
	case WIO_FCHMOD:
		ret = fchmod(r->fd, (mode_t)r->mode);
		break;
	case WIO_FCHOWN:
		ret = fchown(r->fd, (uid_t)r->uid, (gid_t)r->gid);
		break;
	case WIO_FSTATFS:
		ret = fstatfs(r->fd, r->out);
		break;
	case WIO_SENDFILE:
		ret = sendfile(r->fd, r->fd2, r->offp, r->len);
		break;
	case WIO_COPY_FILE_RANGE:
		ret = copy_file_range(r->fd, r->offp, r->fd2, r->offp2, r->len, (unsigned)r->flags);
		break;
	case WIO_OPENDIR:
		r->ptr = opendir(r->path);
		ret = r->ptr ? 0 : -1;
		break;
	case WIO_READDIR:
		/* NULL with errno unchanged (0 here) is the end of the directory. */
		r->ptr = readdir(r->dir);
		ret = r->ptr || !errno ? 0 : -1;
		break;
	case WIO_CLOSEDIR:
		ret = closedir(r->dir);
		break;
	case WIO_GETADDRINFO:
		ret = sys_getaddrinfo(r->path, r->path2, r->hints, r->res);
		break;
	case WIO_GETNAMEINFO:
		ret = getnameinfo(r->sa, r->salen, r->buf, (socklen_t)r->len, r->buf2,
				  (socklen_t)r->len2, r->flags);
		break;
	case WIO_WAITPID:
		ret = waitpid((pid_t)r->fd, r->out, r->flags);
		break;
	}
	r->err = errno;
	r->ret = ret;
}

/* ------------------------------------------------------------------ */
/* Workers.                                                            */

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct wio_req *r = pool.head;

		if (r) {
			pool.head = r->next;
			if (!pool.head)
				pool.tailp = &pool.head;
			pthread_mutex_unlock(&pool.lock);
			wio_perform(r);
			wio_ctx_push(r); /* r may be gone */
			pthread_mutex_lock(&pool.lock);
			continue;
		}
		if (pool.stop)
			break;
		pool.idle++;
		pthread_cond_wait(&pool.cond, &pool.lock);
		pool.idle--;
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

void wio_pool_stop(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.open = 0;
	pool.stop = 1;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	/* Only wire_io_start/stop (serialized) touch the thread list. */
	for (int i = 0; i < pool.nthreads; i++)
		pthread_join(pool.tids[i], NULL);
	pool.nthreads = 0;
}

int wio_pool_start(int n)
{
	sigset_t all, old;
	int err = 0;

	pthread_mutex_lock(&pool.lock);
	pool.stop = 0;
	pool.open = 1;
	pthread_mutex_unlock(&pool.lock);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < n; i++) {
		err = sys_pthread_create(&pool.tids[i], worker, NULL);
		if (err)
			break;
		pool.nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		wio_pool_stop();
		errno = err;
		return -1;
	}
	return 0;
}

int wio_pool_submit(struct wio_ctx *c, struct wio_req *r)
{
	(void)c;
	r->next = NULL;
	pthread_mutex_lock(&pool.lock);
	if (!pool.open) {
		pthread_mutex_unlock(&pool.lock);
		return -1;
	}
	wire__fd_pending_add(1);
	*pool.tailp = r;
	pool.tailp = &r->next;
	if (pool.idle)
		pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	return 0;
}

int wio_pool_withdraw(struct wio_req *r)
{
	struct wio_req **pp;
	int found = 0;

	pthread_mutex_lock(&pool.lock);
	for (pp = &pool.head; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			if (pool.tailp == &r->next)
				pool.tailp = pp;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&pool.lock);
	if (found)
		wire__fd_pending_add(-1);
	return found;
}

unsigned wire__io_pool_idle(void)
{
	unsigned n;

	pthread_mutex_lock(&pool.lock);
	n = pool.idle;
	pthread_mutex_unlock(&pool.lock);
	return n;
}

unsigned wire__io_pool_queued(void)
{
	unsigned n = 0;

	pthread_mutex_lock(&pool.lock);
	for (struct wio_req *r = pool.head; r; r = r->next)
		n++;
	pthread_mutex_unlock(&pool.lock);
	return n;
}

void wio_pool_forget(void)
{
	/* The forking thread alone exists in the child: no worker holds the
	 * lock or waits on the condition, whatever the parent's did. */
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.cond, NULL);
	pool.head = NULL;
	pool.tailp = &pool.head;
	pool.open = 0;
	pool.stop = 0;
	pool.idle = 0;
	pool.nthreads = 0;
}
