/*
 * wire_io - blocking system calls that block only the calling wire. See
 * wire_io.h.
 *
 * A call made from a wire becomes a record on the wire's stack (struct
 * wio_req) and the wire parks until the record is marked done on its own
 * scheduler thread. The record goes either to the worker pool or, with the
 * uring backend and a call the ring carries, to the thread's ring
 * (wire_io_uring.c).
 *
 * Pool: one queue under a mutex (shared reads: a lock-free ring per
 * scheduler thread, see "Shared reads"); a worker takes a record, drops
 * the lock, performs the call, and pushes the record on its thread's
 * completion list (a lock-free LIFO). Only the push that finds the list empty writes the
 * thread's eventfd, so a batch of completions costs one wakeup. The
 * eventfd is a watch of the thread's poller (wire_fd layer): the poller
 * runs on_ready() on the scheduler stack, which takes the whole list and
 * wakes the wires. The eventfd is read before the list is taken, so a
 * completion pushed after the take always writes the eventfd again.
 *
 * Inline reads: before a read (read, pread, readv, preadv) is handed off,
 * it is tried on the scheduler thread with preadv2(RWF_NOWAIT), which
 * never waits for I/O: data in the page cache, or in a pipe or socket,
 * comes back at once for one system call and no switch. When the kernel
 * would have to wait (EAGAIN), or cannot try without waiting for this file
 * (EOPNOTSUPP), nothing was read and the call is handed off as before.
 * See read_call() for how the result is kept exactly libc's.
 *
 * pending: each call handed to a worker or submitted to the ring adds one
 * to the poller's pending work until its completion is taken, so
 * wire_thread_run() keeps waiting for it; an idle wire_io adds nothing and
 * parks no wire. Calls prepared on the ring but not yet submitted are held
 * by the ring's flush timer instead (see wire_io_uring.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire_io.h"
#include "wire_io_internal.h"
#include "wire_internal.h"
#include "list.h"

#define DEFAULT_THREADS 4
/* Least time between two wakes of a sleeping worker for a shared read. */
#define BOOT_GAP_NS 1000000

enum backend { BACKEND_NONE, BACKEND_THREADS, BACKEND_URING };

static const char *const backend_names[] = {"none", "threads", "uring"};

/* The worker pool, process-wide. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct wio_req *head;
	struct wio_req **tailp;
	int stop;      /* workers leave once the queue is empty */
	unsigned idle; /* workers waiting on cond */
	/* Written under lock, read without it as hints. */
	_Atomic unsigned queued; /* records in the queue */
	/*
	 * Read on every shared-read decision: a line of its own, away from
	 * the queue's, which changes with every record.
	 */
	_Alignas(64) _Atomic unsigned hot; /* workers polling, or performing a shared read */
	_Atomic unsigned spinning;	   /* workers polling @queued for a while */
	int max_spin; /* workers that may poll the queue at once: the other CPUs */
	int nthreads;
	pthread_t tids[WIRE_IO_MAX_THREADS];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/*
 * Shared reads go through a ring per scheduler thread instead of the
 * pool's queue: the thread (the only producer) stores the record in the
 * slot at @tail and publishes @tail; a worker or the thread itself takes
 * a record by swapping its slot to NULL (compare-and-swap), so a shared
 * read costs the scheduler thread two stores and no lock. @head is a
 * hint of where queued records start, written by the takers. A thread
 * holds a ring while it has shared reads in flight; the rings are static,
 * so a worker scanning a ring a thread let go reads only NULL slots.
 */
#define SHARE_RING  128 /* slots per ring, a power of 2 */
#define SHARE_RINGS 16	/* scheduler threads sharing reads at once, at most */

struct wio_share_ring {
	_Alignas(64) _Atomic unsigned tail; /* written by the owner only */
	_Alignas(64) _Atomic unsigned head; /* hint, written by takers */
	_Alignas(64) _Atomic(struct wio_req *) slot[SHARE_RING];
	int owned; /* under pool.lock */
};

static struct wio_share_ring rings[SHARE_RINGS];
static _Atomic unsigned rings_hi; /* rings ever held are below; under pool.lock */

/* Serializes wire_io_init() and wire_io_shutdown(). */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned gen_counter;	  /* under state_lock */
static int stopping;		  /* under state_lock: a shutdown is draining */
static _Atomic unsigned live_gen; /* generation in service, 0: stopped */
static _Atomic int backend = BACKEND_NONE;
/* Try reads inline first (WIRE_IO_INLINE, read by wire_io_init()). */
static _Atomic int inline_reads;
/* Share reads with spinning workers (WIRE_IO_SHARE, read by wire_io_init()). */
static _Atomic int share_reads;
/* Least time between two wakes of a sleeping worker for a shared read. */
static _Atomic int64_t boot_gap = BOOT_GAP_NS;

static __thread struct wio_ctx tctx;
/* Releases an open tctx when its thread exits (ctx_thread_exit). */
static pthread_key_t ctx_key;
static pthread_once_t ctx_key_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* Syscall seam.                                                       */

static inline int sys_eventfd(unsigned initval, int flags)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_EVENTFD))
		return -1;
	return eventfd(initval, flags);
}

static inline ssize_t sys_read(int fd, void *buf, size_t n)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_READ))
		return -1;
	return read(fd, buf, n);
}

static inline ssize_t sys_write(int fd, const void *buf, size_t n)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_WRITE))
		return -1;
	return write(fd, buf, n);
}

static inline int sys_close(int fd)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_CLOSE))
		return -1;
	return close(fd);
}

static inline int sys_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_POLL))
		return -1;
	return poll(fds, n, timeout);
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

static inline int sys_fcntl_getfl(int fd)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_FCNTL))
		return -1;
	return fcntl(fd, F_GETFL);
}

/* Returns 0 or an error number, as pthread_create() does. */
static inline int sys_pthread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (WIRE_SYS_FAULT(WIRE_SYS_PTHREAD_CREATE))
		return errno;
	return pthread_create(t, NULL, fn, arg);
}

/* ------------------------------------------------------------------ */
/* Performing a call (workers, and the plain path).                    */

static void perform(struct wio_req *r)
{
	long ret = -1;

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
		ret = fstat(r->fd, r->st);
		break;
	case WIO_STAT:
		ret = stat(r->path, r->st);
		break;
	case WIO_LSTAT:
		ret = lstat(r->path, r->st);
		break;
	case WIO_FTRUNCATE:
		ret = ftruncate(r->fd, r->off);
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
	case WIO_UNLINK:
		ret = unlink(r->path);
		break;
	case WIO_RENAME:
		ret = rename(r->path, r->path2);
		break;
	case WIO_MKDIR:
		ret = mkdir(r->path, (mode_t)r->mode);
		break;
	case WIO_GETADDRINFO:
		ret = getaddrinfo(r->path, r->path2, r->hints, r->res);
		break;
	}
	r->err = errno;
	r->ret = ret;
}

/* ------------------------------------------------------------------ */
/* Worker pool.                                                        */

/* How long an idle worker polls the queue before it sleeps. */
#define WORKER_SPIN_NS 50000
/* How long the scheduler, with nothing else to run, polls for shared reads. */
#define SCHED_SPIN_NS 20000
/*
 * Shared reads queued per hot worker, at most, besides the one it
 * performs: for a buffer a worker filled last (DEEP), one not seen lately
 * (DEPTH); a buffer this thread filled last is shared only into an empty
 * queue.
 */
#define SHARE_DEPTH 2
#define SHARE_DEEP  16
/* Shared reads a worker performs before it pushes their completions. */
#define SHARE_BATCH 8

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * Push the completed records @first .. @last (linked through ->next, all of
 * one thread) on their thread's completion list with one compare-and-swap.
 */
static void push_completions(struct wio_req *first, struct wio_req *last)
{
	struct wio_ctx *c = first->ctx; /* the records may be gone once pushed */
	struct wio_req *old = atomic_load_explicit(&c->done_list, memory_order_relaxed);
	static const uint64_t one = 1;

	/*
	 * Once pushed, the records can be taken, their calls finished and @c
	 * closed by its thread, or the thread gone, while this worker has yet
	 * to look at want_efd and write the eventfd. The count, raised before
	 * the push (so whoever takes the push sees it), makes ctx_close() wait.
	 */
	atomic_fetch_add_explicit(&c->pushing, 1, memory_order_relaxed);
	do
		last->next = old;
	while (!atomic_compare_exchange_weak_explicit(&c->done_list, &old, first,
						      memory_order_seq_cst, memory_order_relaxed));
	/*
	 * The eventfd was written for the batch already if the list was not
	 * empty. The scheduler clears want_efd only while its reap timer is
	 * armed, and sets it (then takes the list) before it may block: with
	 * both sides sequentially consistent, either it takes this record or
	 * this load sees the flag set.
	 */
	if (!old && atomic_load_explicit(&c->want_efd, memory_order_seq_cst))
		while (sys_write(c->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	atomic_fetch_sub_explicit(&c->pushing, 1, memory_order_release);
}

static void push_completion(struct wio_req *r)
{
	push_completions(r, r);
}

/*
 * Take a shared read from a ring, oldest first, or NULL. The tail is read
 * sequentially consistent: a worker that stops being hot reads it after
 * it leaves pool.hot, and a thread that queues a read reads pool.hot
 * after it publishes the tail (see ring_submit()).
 */
static struct wio_req *ring_take(void)
{
	unsigned n = atomic_load_explicit(&rings_hi, memory_order_acquire);

	for (unsigned i = 0; i < n; i++) {
		struct wio_share_ring *g = &rings[i];
		unsigned t = atomic_load_explicit(&g->tail, memory_order_seq_cst);
		unsigned h = atomic_load_explicit(&g->head, memory_order_relaxed);

		if ((int)(t - h) <= 0)
			continue; /* empty, or @head from a newer look */
		if (t - h > SHARE_RING)
			h = t - SHARE_RING;
		for (; h != t; h++) {
			_Atomic(struct wio_req *) *s = &g->slot[h & (SHARE_RING - 1)];
			struct wio_req *r = atomic_load_explicit(s, memory_order_relaxed);

			if (r && atomic_compare_exchange_strong_explicit(
				     s, &r, NULL, memory_order_acquire, memory_order_relaxed)) {
				atomic_store_explicit(&g->head, h + 1, memory_order_relaxed);
				return r;
			}
		}
		atomic_store_explicit(&g->head, t, memory_order_relaxed);
	}
	return NULL;
}

/*
 * Poll the queue and the share rings for up to WORKER_SPIN_NS (without
 * the lock). Returns a shared read it took, or NULL (look at the queue).
 * Gives up at once when this worker runs on @cpu, the CPU of the
 * scheduler thread it served last: sharing a CPU with it, the spin would
 * only take that thread's time.
 */
static struct wio_req *spin_for_work(int cpu)
{
	int64_t end = wire_now_ns() + WORKER_SPIN_NS;

	for (;;) {
		if (sched_getcpu() == cpu)
			return NULL;
		for (int i = 0; i < 32; i++) {
			struct wio_req *r;

			if (atomic_load_explicit(&pool.queued, memory_order_relaxed))
				return NULL;
			r = ring_take();
			if (r)
				return r;
			cpu_relax();
		}
		if (wire_now_ns() >= end)
			return NULL;
	}
}

/*
 * Perform @r, a shared read taken from a ring (no lock held), and up to
 * SHARE_BATCH - 1 more that follow it, and push their completions in one
 * go: the completion list's cache line moves between the CPUs once per
 * batch, not once per read.
 */
static void perform_shared(struct wio_req *r, int *hot, int *cpu)
{
	struct wio_req *chain = NULL, *last = r;

	if (!*hot) {
		*hot = 1;
		atomic_fetch_add_explicit(&pool.hot, 1, memory_order_relaxed);
	}
	for (int i = 1;; i++) {
		*cpu = r->cpu;
		perform(r);
		if (chain && chain->ctx != r->ctx) {
			push_completions(chain, last); /* gone */
			chain = NULL;
			last = r;
		}
		r->next = chain;
		chain = r;
		if (i == SHARE_BATCH || !(r = ring_take()))
			break;
	}
	push_completions(chain, last); /* gone */
}

/*
 * A worker takes records in order. After a call it polls the queue for a
 * while before sleeping (at most pool.max_spin workers at once), so that
 * records queued meanwhile need no wakeup. pool.hot counts the workers
 * that will look at the queue soon without a wakeup: those polling it and
 * those performing a shared read.
 */
static void *worker(void *arg)
{
	int may_spin = 0; /* has just performed a call */
	int hot = 0;	  /* counted in pool.hot */
	int cpu = -1;	  /* of the scheduler thread that made it */

	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct wio_req *r = pool.head;

		if (!r && (r = ring_take())) {
			pthread_mutex_unlock(&pool.lock);
			do
				perform_shared(r, &hot, &cpu);
			while ((r = ring_take()));
			may_spin = 1;
			pthread_mutex_lock(&pool.lock);
			continue;
		}
		if (r) {
			pool.head = r->next;
			if (!pool.head)
				pool.tailp = &pool.head;
			atomic_store_explicit(
			    &pool.queued,
			    atomic_load_explicit(&pool.queued, memory_order_relaxed) - 1,
			    memory_order_relaxed);
			/* Hot through a shared read; not through other calls,
			 * which may block for long. */
			if (r->share != hot) {
				hot = r->share;
				atomic_fetch_add_explicit(&pool.hot, hot ? 1u : -1u,
							  memory_order_relaxed);
			}
			pthread_mutex_unlock(&pool.lock);
			cpu = r->cpu;
			perform(r);
			push_completion(r); /* r may be gone */
			may_spin = 1;
			pthread_mutex_lock(&pool.lock);
			continue;
		}
		if (pool.stop)
			break;
		if (may_spin && (int)atomic_load_explicit(&pool.spinning, memory_order_relaxed) <
				    pool.max_spin) {
			atomic_fetch_add_explicit(&pool.spinning, 1, memory_order_relaxed);
			if (!hot) {
				hot = 1;
				atomic_fetch_add_explicit(&pool.hot, 1, memory_order_relaxed);
			}
			pthread_mutex_unlock(&pool.lock);
			r = spin_for_work(cpu);
			atomic_fetch_sub_explicit(&pool.spinning, 1, memory_order_relaxed);
			if (r) {
				do
					perform_shared(r, &hot, &cpu);
				while ((r = ring_take()));
				may_spin = 1;
			} else {
				may_spin = 0;
			}
			pthread_mutex_lock(&pool.lock);
			continue;
		}
		may_spin = 0;
		if (hot) {
			/* Leave pool.hot, then look at the rings (ring_take()):
			 * a thread queuing meanwhile sees hot at 0 and wakes a
			 * worker under the lock, which this one holds until it
			 * waits. */
			hot = 0;
			atomic_fetch_sub_explicit(&pool.hot, 1, memory_order_seq_cst);
			continue;
		}
		pool.idle++;
		pthread_cond_wait(&pool.cond, &pool.lock);
		pool.idle--;
	}
	if (hot)
		atomic_fetch_sub_explicit(&pool.hot, 1, memory_order_relaxed);
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* Stop the workers once the queue is empty and join them. */
static void pool_stop(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.stop = 1;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < pool.nthreads; i++)
		pthread_join(pool.tids[i], NULL);
	pool.nthreads = 0;
}

/* CPUs this process may run on. */
static int cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	return 1;
}

static int pool_start(int n)
{
	sigset_t all, old;
	int err = 0;

	pool.head = NULL;
	pool.tailp = &pool.head;
	pool.stop = 0;
	pool.nthreads = 0;
	pool.max_spin = cpus() - 1;
	if (pool.max_spin > n)
		pool.max_spin = n;
	atomic_store(&pool.queued, 0);
	pool.idle = 0;
	atomic_store(&pool.hot, 0);
	atomic_store(&pool.spinning, 0);
	/* Workers take no signals: they belong to the program's threads. */
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
		pool_stop();
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * Hand @r to a worker (scheduler thread). A sleeping worker is woken when
 * the spinning ones cannot take every queued record; a shared read
 * (@r->share) wakes one only when no worker is awake at all, as an awake
 * one looks at the queue before it sleeps.
 */
static void pool_submit(struct wio_ctx *c, struct wio_req *r)
{
	unsigned q;

	(void)c;
	wire__fd_pending_add(1);
	r->next = NULL;
	r->cpu = sched_getcpu();
	pthread_mutex_lock(&pool.lock);
	*pool.tailp = r;
	pool.tailp = &r->next;
	q = atomic_load_explicit(&pool.queued, memory_order_relaxed) + 1;
	atomic_store_explicit(&pool.queued, q, memory_order_relaxed);
	if (pool.idle &&
	    (r->share ? !atomic_load_explicit(&pool.hot, memory_order_relaxed)
		      : q > atomic_load_explicit(&pool.spinning, memory_order_relaxed)))
		pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
}

/* Hold a share ring for @c (scheduler thread). Returns 0 if none is free. */
static int ring_get(struct wio_ctx *c)
{
	pthread_mutex_lock(&pool.lock);
	for (unsigned i = 0; i < SHARE_RINGS; i++) {
		if (rings[i].owned)
			continue;
		rings[i].owned = 1;
		c->sring = &rings[i];
		if (i >= atomic_load_explicit(&rings_hi, memory_order_relaxed))
			atomic_store_explicit(&rings_hi, i + 1, memory_order_release);
		break;
	}
	pthread_mutex_unlock(&pool.lock);
	return c->sring != NULL;
}

/* Let go of @c's share ring, which holds no record. */
static void ring_put(struct wio_ctx *c)
{
	if (!c->sring)
		return;
	pthread_mutex_lock(&pool.lock);
	c->sring->owned = 0;
	c->sring = NULL;
	pthread_mutex_unlock(&pool.lock);
}

/* 1 if @g's next slot still holds a record no one took (owner thread). */
static inline int ring_full(struct wio_share_ring *g)
{
	unsigned t = atomic_load_explicit(&g->tail, memory_order_relaxed);

	return atomic_load_explicit(&g->slot[t & (SHARE_RING - 1)], memory_order_relaxed) != NULL;
}

/*
 * Queue shared read @r on @c's ring (scheduler thread; share_now() saw
 * its slot free). No lock: a hot worker finds it. When no worker is hot,
 * one is woken: the store of the tail and the load of pool.hot are
 * sequentially consistent, as are a worker's leaving pool.hot and its
 * next look at the rings (under pool.lock until it waits).
 */
static void ring_submit(struct wio_ctx *c, struct wio_req *r)
{
	struct wio_share_ring *g = c->sring;
	unsigned t = atomic_load_explicit(&g->tail, memory_order_relaxed);

	wire__fd_pending_add(1);
	r->next = NULL;
	r->cpu = sched_getcpu();
	r->pos = t;
	atomic_store_explicit(&g->slot[t & (SHARE_RING - 1)], r, memory_order_release);
	atomic_store_explicit(&g->tail, t + 1, memory_order_seq_cst);
	if (atomic_load_explicit(&pool.hot, memory_order_seq_cst))
		return;
	pthread_mutex_lock(&pool.lock);
	if (pool.idle)
		pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
}

/* Take the completions the workers pushed, in completion order. */
static void pool_reap(struct wio_ctx *c)
{
	struct wio_req *r = atomic_exchange_explicit(&c->done_list, NULL, memory_order_acquire);
	struct wio_req *fifo = NULL;
	int n = 0;

	while (r) {
		struct wio_req *next = r->next;
		r->next = fifo;
		fifo = r;
		r = next;
		n++;
	}
	if (!n)
		return;
	wire__fd_pending_add(-n);
	while (fifo) {
		struct wio_req *next = fifo->next;
		wire__io_complete(c, fifo);
		fifo = next;
	}
}

/* ------------------------------------------------------------------ */
/* Per-thread completion channel.                                      */

/* The poller saw the eventfd: take every completion there is. */
static void on_ready(struct wire__fd_watch *w)
{
	struct wio_ctx *c = wire_container_of(w, struct wio_ctx, watch);
	uint64_t v;

	/* Read first: a push after the take below writes the eventfd again. */
	sys_read(c->efd, &v, sizeof(v));
	pool_reap(c);
	if (!c->shared && !c->reap.armed)
		ring_put(c); /* the reap timer lapsed with reads in flight */
#ifdef WIRE_HAVE_URING
	if (c->u.on)
		wire__uring_reap(c);
#endif
}

/* ------------------------------------------------------------------ */
/* Shared reads.                                                       */

/*
 * Completions from now on come through the eventfd (the scheduler may
 * block): set want_efd, then take what was pushed before.
 */
static void efd_on(struct wio_ctx *c)
{
	atomic_store_explicit(&c->want_efd, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&c->done_list, memory_order_seq_cst))
		pool_reap(c);
}

/*
 * Take back @c's shared reads that no worker has taken: all of them
 * (@all), or those queued two rounds ago or more. Their wires try them
 * inline.
 */
static void reclaim(struct wio_ctx *c, int all)
{
	struct wio_share_ring *g = c->sring;
	struct wio_req *r, *got = NULL;
	unsigned t, h;
	int n = 0;

	if (!g)
		return;
	t = atomic_load_explicit(&g->tail, memory_order_relaxed);
	h = atomic_load_explicit(&g->head, memory_order_relaxed);
	if (t - h > SHARE_RING)
		h = t - SHARE_RING;
	/* Oldest first: those queued two rounds ago come before the rest. */
	for (; h != t; h++) {
		_Atomic(struct wio_req *) *s = &g->slot[h & (SHARE_RING - 1)];

		r = atomic_load_explicit(s, memory_order_relaxed);
		if (!r)
			continue;
		if (!all && c->round - r->round < 2)
			break;
		if (!atomic_compare_exchange_strong_explicit(s, &r, NULL, memory_order_acquire,
							     memory_order_relaxed))
			continue; /* a worker took it */
		r->next = got;
		got = r;
		n++;
	}
	if (!n)
		return;
	wire__fd_pending_add(-n);
	for (r = got; r; r = r->next) {
		r->reclaimed = 1;
		c->shared--;
		c->reclaims++;
		wire__resume(r->wire);
	}
	c->busy -= (unsigned)n;
	if (!c->busy && c->drainer) {
		wire_t *w = c->drainer;
		c->drainer = NULL;
		wire__resume(w);
	}
}

/*
 * The reap timer: armed while shared reads are in flight and other wires
 * run, it fires at each scheduler round (after every ready wire ran, or
 * 64 switches) and takes the completions without a system call. With no
 * wire left to run, the scheduler takes back the shared reads no worker
 * took, waits briefly for those a worker is performing, then lets the
 * eventfd carry the rest.
 */
static void reap_fire(wire_timer_t *t)
{
	struct wio_ctx *c = wire_container_of(t, struct wio_ctx, reap);
	wire_thread_t *th = wire__self;

	c->round++;
	if (atomic_load_explicit(&c->done_list, memory_order_relaxed))
		pool_reap(c);
	if (c->shared) {
		reclaim(c, !th->run_head);
		if (!th->run_head && c->shared) {
			int64_t end = wire_now_ns() + SCHED_SPIN_NS;
			while (!atomic_load_explicit(&c->done_list, memory_order_relaxed)) {
				for (int i = 0; i < 32; i++)
					cpu_relax();
				if (wire_now_ns() >= end)
					break;
			}
			pool_reap(c);
		}
	}
	if (c->shared && th->run_head) {
		wire_timer_start_at(&c->reap, 0);
		return;
	}
	efd_on(c);
	if (!c->shared)
		ring_put(c);
}

/* The slot of @buf in the thread's buffer sides. */
static inline unsigned side_slot(const void *buf)
{
	return (unsigned)(((uint64_t)(uintptr_t)buf * 0x9e3779b97f4a7c15ull) >>
			  (64 - WIO_SIDE_BITS));
}

/* Remember which CPU side last wrote @buf: a worker (1) or this thread (0). */
static inline void side_set(struct wio_ctx *c, const void *buf, int worker)
{
	unsigned k = side_slot(buf);

	c->side_buf[k] = buf;
	c->side_worker[k] = (unsigned char)worker;
}

/*
 * 1 if read @r, which could be tried inline, should rather go to a
 * worker: other wires are ready to run meanwhile, and a worker will look
 * at the queue soon without a wakeup (pool.hot), or none is awake and one
 * may be woken. The buffer stays where it was last written, as far as the
 * load allows: moving 4 KiB of written cache lines between CPUs costs
 * about as much as the read itself. A buffer a worker filled last goes
 * to a worker again while the queue is short; one this thread filled
 * moves only when the workers would otherwise run dry.
 */
static inline int share_now(struct wio_ctx *c, const void *buf)
{
	unsigned q, hot, k, depth;
	int64_t now, gap;

	if (!atomic_load_explicit(&share_reads, memory_order_relaxed))
		return 0;
	if (!wire__self->run_head)
		goto local;
	if (!c->sring) {
		if (!ring_get(c))
			goto local;
	} else if (ring_full(c->sring)) {
		goto local;
	}
	/*
	 * This thread's shared reads in flight stand for the queue: nearly
	 * all are queued or being performed (completions are taken at each
	 * read), and the count is this thread's own, where the pool's count
	 * is a cache line the workers write with every record.
	 */
	q = c->shared;
	hot = atomic_load_explicit(&pool.hot, memory_order_relaxed);
	if (hot > (unsigned)pool.max_spin)
		hot = (unsigned)pool.max_spin;
	k = side_slot(buf);
	if (c->side_buf[k] != buf)
		depth = SHARE_DEPTH;
	else
		depth = c->side_worker[k] ? SHARE_DEEP : 0;
	if (q < (depth + 1) * hot)
		goto share;
	if (q || hot || pool.max_spin <= 0)
		goto local;
	/*
	 * Every worker sleeps: this read wakes one, which then stays awake
	 * while reads keep coming. At most one such wake per BOOT_GAP_NS: a
	 * worker that finds itself on this thread's CPU (the other CPUs busy
	 * with other work) goes back to sleep at once.
	 */
	gap = atomic_load_explicit(&boot_gap, memory_order_relaxed);
	if (gap && (c->boot_skip++ & 63))
		goto local; /* the clock, only at every 64th chance */
	now = wire_now_ns();
	if (now - c->boot_ns < gap)
		goto local;
	c->boot_ns = now;
share:
	side_set(c, buf, 1);
	return 1;
local:
	side_set(c, buf, 0);
	return 0;
}

/*
 * Hand read @r to a worker and park until a worker performed it, or the
 * scheduler took it back (@r->reclaimed: the caller tries it inline).
 */
static long share(struct wio_ctx *c, struct wio_req *r)
{
	r->wire = wire__current();
	r->ctx = c;
	r->done = 0;
	r->share = 1;
	r->reclaimed = 0;
	r->round = c->round;
	c->busy++;
	c->shared++;
	c->shares++;
	if (!c->reap.armed) {
		/* The timer takes the completions while it is armed. */
		atomic_store_explicit(&c->want_efd, 0, memory_order_relaxed);
		wire_timer_start_at(&c->reap, 0);
	}
	ring_submit(c, r);
	while (!r->done && !r->reclaimed)
		wire__suspend(r->wire);
	r->share = 0;
	if (r->ret == -1)
		errno = r->err;
	return r->ret;
}

/* Wait until no worker is still busy with a push to @c (see push_completions). */
static void ctx_quiesce(struct wio_ctx *c)
{
	for (unsigned spins = 0; atomic_load_explicit(&c->pushing, memory_order_acquire); spins++)
		if (spins < 64)
			cpu_relax();
		else
			sched_yield(); /* the worker was preempted in its window */
}

/* Release what @c holds outside its thread: the share ring, the io_uring
 * instance and the eventfd. */
static void ctx_release(struct wio_ctx *c)
{
	ctx_quiesce(c);
	ring_put(c);
#ifdef WIRE_HAVE_URING
	wire__uring_close(c);
#endif
	sys_close(c->efd);
	c->efd = -1;
	c->gen = 0;
	pthread_setspecific(ctx_key, NULL);
}

/*
 * A thread that used wio_ calls ends: release its channel. Its scheduler
 * and poller may be gone, so the watch is left alone (the eventfd leaves
 * the epoll set as it closes); after wire_thread_run() returned no timer
 * of the channel is armed, and stopping an idle timer touches nothing.
 * A thread that left from inside its scheduler (a timer still armed, or
 * wires blocked in calls that workers will still complete) leaves the
 * channel as it is: nothing can be released safely then.
 */
static void ctx_thread_exit(void *arg)
{
	struct wio_ctx *c = arg;

	if (!c->gen || c->busy || c->reap.armed)
		return;
#ifdef WIRE_HAVE_URING
	if (c->u.on && c->u.flush.armed)
		return;
#endif
	ctx_release(c);
}

static void ctx_key_create(void)
{
	if (pthread_key_create(&ctx_key, ctx_thread_exit) != 0)
		wire__misuse("wire_io", "pthread_key_create failed: no key for thread exit");
}

static int ctx_open(struct wio_ctx *c, unsigned gen, int with_ring)
{
	memset(c, 0, sizeof(*c));
	c->efd = sys_eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0)
		return -1;
	wire_fd_mode_init(&c->watch.state, -1);
	atomic_init(&c->done_list, NULL);
	atomic_init(&c->want_efd, 1);
	wire_timer_init(&c->reap, reap_fire);
#ifdef WIRE_HAVE_URING
	if (with_ring && wire__uring_open(c) != 0) {
		int err = errno;
		sys_close(c->efd);
		errno = err;
		return -1;
	}
#else
	(void)with_ring;
#endif
	c->gen = gen;
	pthread_once(&ctx_key_once, ctx_key_create);
	pthread_setspecific(ctx_key, c);
	return 0;
}

/* Release @c, which has nothing in flight (its owning thread). */
static void ctx_close(struct wio_ctx *c)
{
	wire_timer_stop(&c->reap);
	if (c->watch.state.fd >= 0)
		wire__fd_unwatch(&c->watch);
	ctx_release(c);
}

/* Wait until every call of @c is back. */
static void ctx_drain(struct wio_ctx *c)
{
	wire_t *self = wire__current();

	if (self) {
		while (c->busy) {
			c->drainer = self;
			wire__suspend(self);
		}
		return;
	}
	/* Outside a wire (a timer callback): block this thread. */
	efd_on(c);
	while (c->busy) {
		struct pollfd pfd = {.fd = c->efd, .events = POLLIN};
#ifdef WIRE_HAVE_URING
		if (c->u.on && c->u.unsubmitted) {
			wire__uring_flush(c);
			continue;
		}
#endif
		if (sys_poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		on_ready(&c->watch);
	}
}

/*
 * The calling thread's channel when a call may be handed off, or NULL for
 * the plain call (outside a wire, wire_io stopped, or no channel).
 */
static struct wio_ctx *enter(void)
{
	struct wio_ctx *c = &tctx;
	unsigned gen;

	if (!wire__current())
		return NULL;
	gen = atomic_load_explicit(&live_gen, memory_order_acquire);
	if (__builtin_expect(c->gen != gen, 0)) {
		if (c->gen) {
			/* Left over from a stopped generation. */
			if (c->busy)
				return NULL;
			ctx_close(c);
		}
		if (!gen || ctx_open(c, gen, atomic_load(&backend) == BACKEND_URING) != 0)
			return NULL;
	}
	if (wire__fd_watch(&c->watch, c->efd, on_ready) != 0)
		return NULL;
	return c;
}

/* Hand @r off and park the calling wire until it is done. */
static long issue(struct wio_ctx *c, struct wio_req *r)
{
	r->wire = wire__current();
	r->ctx = c;
	r->done = 0;
	c->busy++;
	c->handoffs++;
#ifdef WIRE_HAVE_URING
	r->ring = c->u.on && wire__uring_issue(c, r);
	if (!r->ring)
#endif
		pool_submit(c, r);
	while (!r->done)
		wire__suspend(r->wire);
#ifdef WIRE_HAVE_URING
	if (r->ring && r->ret == 0 &&
	    (r->op == WIO_FSTAT || r->op == WIO_STAT || r->op == WIO_LSTAT))
		wire__uring_stat_finish(r);
#endif
	if (r->ret == -1 && r->op != WIO_GETADDRINFO)
		errno = r->err;
	return r->ret;
}

unsigned long wire__io_handoffs(void)
{
	return tctx.handoffs;
}

unsigned long wire__io_shares(void)
{
	return tctx.shares;
}

unsigned long wire__io_reclaims(void)
{
	return tctx.reclaims;
}

void wire__io_share_gap(int64_t ns)
{
	atomic_store(&boot_gap, ns);
}

void wire__io_resubmit(struct wio_ctx *c, struct wio_req *r)
{
#ifdef WIRE_HAVE_URING
	r->ring = 0;
#endif
	pool_submit(c, r);
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

int wire_io_init_backend(int num_threads, const char *name)
{
	struct wio_ctx *c = &tctx;
	int want, err, inline_on, share_on;
	unsigned gen;

	if ((inline_on = env_flag("WIRE_IO_INLINE")) < 0 ||
	    (share_on = env_flag("WIRE_IO_SHARE")) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (num_threads > WIRE_IO_MAX_THREADS) {
		errno = EINVAL;
		return -1;
	}
	if (num_threads <= 0)
		num_threads = DEFAULT_THREADS;
	if (!name)
		name = getenv("WIRE_IO_BACKEND");
	if (!name || !*name || strcmp(name, "auto") == 0)
		want = -1;
	else if (strcmp(name, "threads") == 0)
		want = BACKEND_THREADS;
	else if (strcmp(name, "uring") == 0)
		want = BACKEND_URING;
	else {
		errno = EINVAL;
		return -1;
	}
#ifndef WIRE_HAVE_URING
	if (want == BACKEND_URING) {
		errno = ENOSYS;
		return -1;
	}
#endif
	pthread_mutex_lock(&state_lock);
	if (atomic_load(&live_gen) || stopping) {
		pthread_mutex_unlock(&state_lock);
		errno = EALREADY;
		return -1;
	}
	if (c->gen) {
		if (c->busy) { /* completions of a stopped generation not yet taken */
			pthread_mutex_unlock(&state_lock);
			errno = EBUSY;
			return -1;
		}
		ctx_close(c);
	}
	if (++gen_counter == 0)
		++gen_counter;
	gen = gen_counter;
	if (ctx_open(c, gen, want != BACKEND_THREADS) != 0) {
		err = errno;
		if (want != -1 || ctx_open(c, gen, 0) != 0)
			goto fail;
		want = BACKEND_THREADS;
	} else if (want == -1) {
#ifdef WIRE_HAVE_URING
		want = BACKEND_URING;
#else
		want = BACKEND_THREADS;
#endif
	}
	if (pool_start(num_threads) != 0) {
		err = errno;
		ctx_close(c);
		goto fail;
	}
	atomic_store(&backend, want);
	atomic_store(&inline_reads, inline_on);
	atomic_store(&share_reads, inline_on && share_on && pool.max_spin > 0);
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
	struct wio_ctx *c = &tctx;
	unsigned gen;

	pthread_mutex_lock(&state_lock);
	gen = atomic_load(&live_gen);
	if (!gen || stopping) {
		pthread_mutex_unlock(&state_lock);
		return;
	}
	stopping = 1;
	atomic_store(&live_gen, 0);
	pthread_mutex_unlock(&state_lock);

	if (c->gen == gen)
		ctx_drain(c);
	pool_stop();
	if (c->gen == gen)
		ctx_close(c);

	pthread_mutex_lock(&state_lock);
	atomic_store(&backend, BACKEND_NONE);
	stopping = 0;
	pthread_mutex_unlock(&state_lock);
}

/* ------------------------------------------------------------------ */
/* The calls.                                                          */

/* Run @r: handed off from a wire, else the plain call on this thread. */
static long plain(struct wio_req *r)
{
	perform(r);
	if (r->ret == -1 && r->op != WIO_GETADDRINFO)
		errno = r->err;
	return r->ret;
}

static long run(struct wio_req *r)
{
	struct wio_ctx *c = enter();

	if (!c)
		return plain(r);
	return issue(c, r);
}

/* ------------------------------------------------------------------ */
/* Reads: inline first.                                                */

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
	off_t pos;

	/* Fails only if another thread closed the fd meanwhile: then the
	 * rest would fail too, and a partial read returns what it read. */
	if (sys_fstat(r->fd, &st) != 0)
		return 0;
	if (S_ISBLK(st.st_mode))
		return 1;
	if (!S_ISREG(st.st_mode))
		return 0;
	pos = r->off + (off_t)n;
	return pos < st.st_size;
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
	int vec = r->op == WIO_READV || r->op == WIO_PREADV;
	int pos = r->op == WIO_PREAD || r->op == WIO_PREADV;
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
			p.op = pos ? WIO_PREAD : WIO_READ;
			p.buf = (char *)r->buf + done;
			p.len = piece = want - done;
		} else if (skip == 0 && total == want) {
			/* The remaining entries as they are. */
			p.op = pos ? WIO_PREADV : WIO_READV;
			p.iov = r->iov + k;
			p.iovcnt = r->iovcnt - k;
			piece = want - done;
		} else {
			/* The rest of entry k. */
			p.op = pos ? WIO_PREAD : WIO_READ;
			p.buf = (char *)r->iov[k].iov_base + skip;
			piece = r->iov[k].iov_len - skip;
			if (piece > want - done)
				piece = want - done;
			p.len = piece;
		}
		p.off = pos ? r->off + (off_t)done : 0;
		got = issue(c, &p);
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
 * A read (read, pread, readv, preadv) from a wire: pread and preadv are
 * first tried inline with preadv2(RWF_NOWAIT), handed off only when that
 * cannot answer.
 *
 * - Not tried: a count of 0 (read(2) still checks the file: EISDIR for a
 *   directory, where readv(2) returns 0), a negative offset (preadv2
 *   reads -1 as "the file position" where pread(2) says EINVAL), and
 *   files opened with O_DIRECT when the request could be a valid direct
 *   read (length and offset multiples of 512): the kernel performs a
 *   direct read even with RWF_NOWAIT, waiting for the device.
 * - Handed off as it is when the try read nothing: EAGAIN (data not
 *   cached, or none in the pipe or socket), EOPNOTSUPP (no RWF_NOWAIT for
 *   this file, or this kernel), EINVAL (preadv2 may judge arguments or
 *   flags differently), EINTR, EPERM and ENOSYS (a seccomp filter or an
 *   emulator without preadv2; ENOSYS also stops further tries until the
 *   next wire_io_init()). The backend then gives libc's exact answer.
 * - Any other error (EBADF, ESPIPE, EFAULT, ECONNRESET, EIO, ...) is what
 *   the read itself returned and is returned as it is: for a socket the
 *   error is taken by the read, and asking again would not see it.
 * - A short count from a regular file not at its end, or a block device,
 *   means part of the range was not cached: the rest goes to the backend
 *   and the call returns both parts (or the first part alone if the rest
 *   fails, as a partial read returns). See must_read_on().
 */
static long read_call(struct wio_req *r)
{
	struct wio_ctx *c = enter();
	const void *key;
	struct iovec one;
	const struct iovec *iov = &one;
	int cnt = 1, saved, fl;
	off_t off = -1;
	size_t total, align;
	ssize_t n;

	if (!c)
		return plain(r);
	if (!atomic_load_explicit(&inline_reads, memory_order_relaxed))
		return issue(c, r);
	/*
	 * read and readv use the file position. A try cut short by the page
	 * cache would have to be finished by a second read of the position,
	 * and another reader of the same open file (another wire, while this
	 * one waits for the rest) could move it in between: read(2) of a
	 * regular file is atomic. Only pread and preadv, whose offset is
	 * explicit, are tried inline.
	 */
	if (r->op == WIO_READ || r->op == WIO_READV)
		return issue(c, r);
	/*
	 * With other wires ready to run and a worker awake, a worker performs
	 * the read on another CPU while this thread runs them. Taken back
	 * (nothing else to run, or no worker took it), it is tried here.
	 */
	if (c->shared && atomic_load_explicit(&c->done_list, memory_order_relaxed))
		pool_reap(c); /* wires to run meanwhile */
	/* The buffer, or for a vector the array (not read here: EFAULT is the
	 * kernel's to say), which a wire keeps on its stack as it does its
	 * buffers. */
	key = r->op == WIO_PREAD ? r->buf : (const void *)r->iov;
	if (share_now(c, key)) {
		long ret = share(c, r);
		if (!r->reclaimed)
			return ret;
		side_set(c, key, 0);
	}
#ifdef WIRE_HAVE_URING
	/*
	 * A read that can join a ring batch goes there: with SQEs queued
	 * already or another wire ready to run (whose calls will queue), one
	 * io_uring_enter carries the batch for less CPU per read than inline
	 * calls. Not while a worker is sharing reads: the batch would keep
	 * this thread from feeding it until the next round. A read with no
	 * batch to join is tried inline.
	 */
	if (c->u.on && (c->u.unsubmitted || wire__self->run_head) &&
	    !atomic_load_explicit(&pool.hot, memory_order_relaxed))
		return issue(c, r);
#endif
	if (r->op == WIO_PREAD || r->op == WIO_PREADV) {
		off = r->off;
		if (off < 0)
			return issue(c, r);
	}
	if (r->op == WIO_PREAD || r->op == WIO_READ) {
		if (r->len == 0)
			return issue(c, r);
		one.iov_base = r->buf;
		one.iov_len = r->len;
		align = r->len;
	} else {
		iov = r->iov;
		cnt = r->iovcnt;
		/* The array is not read before the kernel has accepted it
		 * (readv(2) says EFAULT for a bad one): any vector may be a
		 * direct read, unless its count is refused anyway. */
		align = cnt > 0 && cnt <= IOV_MAX ? 0 : 1;
	}
	saved = errno;
	if (((align | (size_t)(off > 0 ? off : 0)) & 511) == 0) {
		fl = sys_fcntl_getfl(r->fd);
		if (fl == -1 || (fl & O_DIRECT)) {
			errno = saved;
			return issue(c, r);
		}
	}
	n = sys_preadv2(r->fd, iov, cnt, off, RWF_NOWAIT);
	if (n < 0) {
		switch (errno) {
		case ENOSYS:
			atomic_store_explicit(&inline_reads, 0, memory_order_relaxed);
			/* fallthrough */
		case EAGAIN:
		case EOPNOTSUPP:
		case EINVAL:
		case EINTR:
		case EPERM:
			errno = saved;
			return issue(c, r);
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
	return (int)run(&r);
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
	return (int)run(&r);
}

int wio_close(int fd)
{
	struct wio_req r = {.op = WIO_CLOSE, .fd = fd};
	return (int)run(&r);
}

ssize_t wio_read(int fd, void *buf, size_t count)
{
	struct wio_req r = {.op = WIO_READ, .fd = fd, .buf = buf, .len = count};
	return read_call(&r);
}

ssize_t wio_write(int fd, const void *buf, size_t count)
{
	struct wio_req r = {.op = WIO_WRITE, .fd = fd, .buf = (void *)buf, .len = count};
	return run(&r);
}

ssize_t wio_pread(int fd, void *buf, size_t count, off_t offset)
{
	struct wio_req r = {.op = WIO_PREAD, .fd = fd, .buf = buf, .len = count, .off = offset};
	return read_call(&r);
}

ssize_t wio_pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	struct wio_req r = {
	    .op = WIO_PWRITE, .fd = fd, .buf = (void *)buf, .len = count, .off = offset};
	return run(&r);
}

ssize_t wio_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct wio_req r = {.op = WIO_READV, .fd = fd, .iov = iov, .iovcnt = iovcnt};
	return read_call(&r);
}

ssize_t wio_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct wio_req r = {.op = WIO_WRITEV, .fd = fd, .iov = iov, .iovcnt = iovcnt};
	return run(&r);
}

ssize_t wio_preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	struct wio_req r = {
	    .op = WIO_PREADV, .fd = fd, .iov = iov, .iovcnt = iovcnt, .off = offset};
	return read_call(&r);
}

ssize_t wio_pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	struct wio_req r = {
	    .op = WIO_PWRITEV, .fd = fd, .iov = iov, .iovcnt = iovcnt, .off = offset};
	return run(&r);
}

#ifdef WIRE_HAVE_URING
#define STX_SCRATCH(r)                                                                             \
	struct statx stx_;                                                                         \
	(r).stx = &stx_
#else
#define STX_SCRATCH(r) (void)0
#endif

int wio_fstat(int fd, struct stat *buf)
{
	struct wio_req r = {.op = WIO_FSTAT, .fd = fd, .st = buf};
	STX_SCRATCH(r);
	return (int)run(&r);
}

int wio_stat(const char *pathname, struct stat *buf)
{
	struct wio_req r = {.op = WIO_STAT, .path = pathname, .st = buf};
	STX_SCRATCH(r);
	return (int)run(&r);
}

int wio_lstat(const char *pathname, struct stat *buf)
{
	struct wio_req r = {.op = WIO_LSTAT, .path = pathname, .st = buf};
	STX_SCRATCH(r);
	return (int)run(&r);
}

int wio_ftruncate(int fd, off_t length)
{
	struct wio_req r = {.op = WIO_FTRUNCATE, .fd = fd, .off = length};
	return (int)run(&r);
}

int wio_fallocate(int fd, int mode, off_t offset, off_t len)
{
	struct wio_req r = {
	    .op = WIO_FALLOCATE, .fd = fd, .flags = mode, .off = offset, .off2 = len};
	return (int)run(&r);
}

int wio_fsync(int fd)
{
	struct wio_req r = {.op = WIO_FSYNC, .fd = fd};
	return (int)run(&r);
}

int wio_fdatasync(int fd)
{
	struct wio_req r = {.op = WIO_FDATASYNC, .fd = fd};
	return (int)run(&r);
}

int wio_unlink(const char *pathname)
{
	struct wio_req r = {.op = WIO_UNLINK, .path = pathname};
	return (int)run(&r);
}

int wio_rename(const char *oldpath, const char *newpath)
{
	struct wio_req r = {.op = WIO_RENAME, .path = oldpath, .path2 = newpath};
	return (int)run(&r);
}

int wio_mkdir(const char *pathname, mode_t mode)
{
	struct wio_req r = {.op = WIO_MKDIR, .path = pathname, .mode = mode};
	return (int)run(&r);
}

int wio_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		    struct addrinfo **res)
{
	struct wio_req r = {
	    .op = WIO_GETADDRINFO, .path = node, .path2 = service, .hints = hints, .res = res};
	long ret = run(&r);

	if (ret == EAI_SYSTEM)
		errno = r.err;
	return (int)ret;
}
