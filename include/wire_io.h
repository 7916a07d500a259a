/*
 * wire_io.h - blocking system calls that block only the calling wire.
 *
 * Each wio_* function takes the arguments of the libc function it is named
 * after and gives the same result and errno, but when called from a wire
 * it parks only that wire while the call runs elsewhere; the other wires
 * of the thread keep running. Outside a wire, before wire_io_init(), after
 * wire_io_shutdown() has begun, or in the rare case the thread's completion
 * channel cannot be set up, a wio_* call simply performs the plain call.
 *
 * Two backends do the work:
 * - "threads": a pool of worker threads. The request is a record on the
 *   calling wire's stack; a worker takes it from a queue, performs the call
 *   (holding no lock) and hands it back through an eventfd watched by the
 *   scheduler's poller, one wakeup for a batch of completions.
 * - "uring": an io_uring owned by each scheduler thread, for the calls the
 *   kernel implements (the read/write family, fsync, fdatasync,
 *   sync_file_range, fallocate, open, close, the stat family, unlink,
 *   rename, mkdir, rmdir). Submissions are batched per scheduler round and
 *   submitted in one system call; calls the kernel completes at once are
 *   reaped in the same step, the others through the poller. A ring holds
 *   as many calls as its completion queue: more wait their turn in order,
 *   so any number of calls may be in flight. The other calls, and any the
 *   running kernel lacks, go to the thread pool.
 *
 * Reads at an explicit offset (pread, preadv) are first tried on the
 * calling thread with preadv2(RWF_NOWAIT), which never waits for I/O: data
 * in the page cache is returned at once for one system call, and the
 * calling wire keeps running (as after a wire_fd read that finds data).
 * read and readv are always handed off: a try cut short would need a
 * second read of the file position, which is not atomic as read(2) is.
 * With io_uring, a read that can join a batch of other wires' calls goes
 * to the ring directly. O_DIRECT files are always handed off. The result
 * and errno stay those of the libc call: a read cut short because part of
 * a file was not cached is completed by the backend. The environment
 * variable WIRE_IO_INLINE=0 (read by wire_io_init()) turns the tries off,
 * so that every read is handed off.
 *
 * The backend is chosen at run time: the environment variable
 * WIRE_IO_BACKEND=threads|uring|auto (auto when unset) or
 * wire_io_init_backend(). "auto" uses io_uring when the library was built
 * with liburing and the kernel accepts io_uring_setup, else the threads.
 *
 * Requires the wire_fd layer's poller on the scheduler thread (set up on
 * first use). A call in flight counts as pending work of the poller, so
 * wire_thread_run() does not return while one is outstanding; an idle
 * wire_io keeps nothing running and parks no wire.
 *
 * Cancellation: every wio call from a wire is a cancellation point. A wire
 * cancelled before its call is handed off ends without making it; one
 * whose call still waits in a queue (for a worker, or for room on the
 * ring) has it taken back and ends at once. A call already under way
 * cannot be taken back: the wire stays parked until it completes (on
 * io_uring the kernel is asked to cancel it, so a read that would wait
 * for ever does not), then ends without returning; an fd, a DIR or an
 * addrinfo list that the call produced meanwhile is released for it.
 * wire_io_shutdown() called from a cancelled wire completes first.
 *
 * fork(): the child has none of the parent's workers, and must not touch
 * the parent's rings. In a child of a process whose wire_io was running, a
 * wio call from a wire aborts with a message until the child calls
 * wire_io_init() (which releases what was inherited and starts afresh) or
 * wire_io_shutdown(); outside a wire it is the plain call.
 *
 * Memory: the library allocates nothing per call. Buffers, paths and
 * result structures passed to a wio_* call must stay valid until it
 * returns, as with the libc call.
 */
#ifndef WIRE_IO_H
#define WIRE_IO_H

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* <sys/stat.h> defines struct statx only under _GNU_SOURCE; declaring the
 * tag here lets this header compile without it (wio_statx's callers
 * define _GNU_SOURCE to fill one in). */
struct statx;
struct addrinfo; /* <netdb.h> hides it from strict ISO C modes */

/* Largest worker pool wire_io_init() accepts. */
#define WIRE_IO_MAX_THREADS 256

/*
 * Start the wio backend chosen by WIRE_IO_BACKEND (see above) with
 * @num_threads worker threads (<= 0: 4). Process-wide; the calling thread
 * gets its completion channel (an eventfd, and a ring for "uring") at once,
 * other scheduler threads on their first wio_* call from a wire. Does not
 * block. Returns 0, or -1 with errno: EINVAL (num_threads above
 * WIRE_IO_MAX_THREADS, an unknown WIRE_IO_BACKEND, or WIRE_IO_INLINE
 * other than unset, empty, "0" or "1"), EALREADY (already started, or a
 * wire_io_shutdown() of another thread is still under way), EBUSY (calls
 * of the calling thread from before a shutdown are still in flight), or
 * the error of eventfd(), pthread_create() or, when "uring" is demanded,
 * io_uring_setup(). A failed call leaves nothing behind.
 */
int wire_io_init(int num_threads);

/*
 * As wire_io_init(), with the backend named by @backend ("threads",
 * "uring" or "auto"; NULL reads WIRE_IO_BACKEND; any other name fails
 * with EINVAL). With "uring" the @num_threads workers still run, for the
 * calls the ring does not carry. "uring" fails with
 * ENOSYS when the library was built without liburing, or with the error of
 * io_uring_setup() when the kernel refuses it.
 */
int wire_io_init_backend(int num_threads, const char *backend);

/*
 * The backend in use: "threads", "uring", or "none" before wire_io_init()
 * and after wire_io_shutdown(). The string is static.
 */
const char *wire_io_backend(void);

/*
 * Stop wire_io. Calls that begin from now on, on any thread, perform the
 * plain call. Calls in flight are never lost: from a wire, it parks that
 * wire until the calling thread's calls are back (outside a wire it
 * blocks the thread); the worker threads perform every call queued before
 * they stop, and are joined, so the wires of other threads waiting in
 * those calls wake with their results at their thread's next poll; calls
 * of other threads on their own io_uring complete there. A call that was
 * about to be queued as the pool stopped is performed by its own thread.
 * Then it releases the calling thread's eventfd and ring. Other scheduler
 * threads release theirs on their next wio_* call, or when they exit. A
 * no-op when not started. wire_io_init() may be called again afterwards,
 * from any thread.
 *
 * A scheduler thread that exits after its wire_thread_run() returned
 * releases its channel (eventfd, io_uring instance) by itself; one that
 * exits with wires still blocked in wio_* calls leaves it, since the
 * workers will still complete those calls.
 */
void wire_io_shutdown(void);

/*
 * The calls. Each mirrors the libc function of the same name without the
 * "wio_" prefix: same arguments, return value and errno. From a wire they
 * block only that wire; the reads do not park it at all when the data is
 * there already (see above).
 */

/* open(2); @mode (read when @flags has O_CREAT or O_TMPFILE) as in open. */
int wio_open(const char *pathname, int flags, ...);
/* openat(2). */
int wio_openat(int dirfd, const char *pathname, int flags, ...);
/* close(2). */
int wio_close(int fd);
/* read(2), write(2): at the file position (or a pipe, socket ...). */
ssize_t wio_read(int fd, void *buf, size_t count);
ssize_t wio_write(int fd, const void *buf, size_t count);
/* pread(2), pwrite(2). */
ssize_t wio_pread(int fd, void *buf, size_t count, off_t offset);
ssize_t wio_pwrite(int fd, const void *buf, size_t count, off_t offset);
/* readv(2), writev(2), preadv(2), pwritev(2). */
ssize_t wio_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t wio_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t wio_preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset);
ssize_t wio_pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset);
/* fstat(2), stat(2), lstat(2), fstatat(2), statx(2). */
int wio_fstat(int fd, struct stat *buf);
int wio_stat(const char *pathname, struct stat *buf);
int wio_lstat(const char *pathname, struct stat *buf);
int wio_fstatat(int dirfd, const char *pathname, struct stat *buf, int flags);
int wio_statx(int dirfd, const char *pathname, int flags, unsigned int mask, struct statx *buf);
/* ftruncate(2), truncate(2), fallocate(2). */
int wio_ftruncate(int fd, off_t length);
int wio_truncate(const char *pathname, off_t length);
int wio_fallocate(int fd, int mode, off_t offset, off_t len);
/* fsync(2), fdatasync(2), sync_file_range(2). */
int wio_fsync(int fd);
int wio_fdatasync(int fd);
int wio_sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags);
/* unlink(2), unlinkat(2), rename(2), renameat(2). */
int wio_unlink(const char *pathname);
int wio_unlinkat(int dirfd, const char *pathname, int flags);
int wio_rename(const char *oldpath, const char *newpath);
int wio_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
/* mkdir(2), mkdirat(2), rmdir(2). */
int wio_mkdir(const char *pathname, mode_t mode);
int wio_mkdirat(int dirfd, const char *pathname, mode_t mode);
int wio_rmdir(const char *pathname);
/* readlink(2), access(2), fchmod(2), fchown(2), fstatfs(2). */
ssize_t wio_readlink(const char *pathname, char *buf, size_t bufsiz);
int wio_access(const char *pathname, int mode);
int wio_fchmod(int fd, mode_t mode);
int wio_fchown(int fd, uid_t owner, gid_t group);
int wio_fstatfs(int fd, struct statfs *buf);
/* sendfile(2), copy_file_range(2). */
ssize_t wio_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
ssize_t wio_copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
			    unsigned int flags);
/*
 * opendir(3), readdir(3), closedir(3). wio_readdir() returns NULL at the
 * end of the directory with errno untouched, and NULL with errno set on an
 * error, as readdir does; the entry it returns lives in @dirp until the
 * next wio_readdir() or wio_closedir() of @dirp. One wire at a time per
 * @dirp, as with readdir.
 */
DIR *wio_opendir(const char *name);
struct dirent *wio_readdir(DIR *dirp);
int wio_closedir(DIR *dirp);
/*
 * getaddrinfo(3), getnameinfo(3): return 0 or an EAI_* code (errno set for
 * EAI_SYSTEM); free getaddrinfo's result with freeaddrinfo() as usual.
 */
int wio_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		    struct addrinfo **res);
int wio_getnameinfo(const struct sockaddr *addr, socklen_t addrlen, char *host, socklen_t hostlen,
		    char *serv, socklen_t servlen, int flags);
/* waitpid(2): a worker waits, the wire parks. */
pid_t wio_waitpid(pid_t pid, int *wstatus, int options);

#ifdef __cplusplus
}
#endif
#endif
