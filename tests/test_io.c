/* Tests of wire_io (wire_io.h): every behaviour against both backends. */
// TEST_LABELS: threads
// TEST_CPU: inline_and_handed_off_reads_mixed_threads inline_and_handed_off_reads_mixed_uring
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wire.h"
#include "wire_fd.h"
#include "wire_io.h"
#include "sys.h"
#include "test.h"
#include "io_test.h"

/* ------------------------------------------------------------------ */
/* Round trip of a file through every call.                            */

static void fill_pattern(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(seed * 31 + i * 7 + (i >> 8));
}

static void check_same_stat(const struct stat *a, const struct stat *b)
{
	CHECK_EQ(a->st_dev, b->st_dev);
	CHECK_EQ(a->st_ino, b->st_ino);
	CHECK_EQ(a->st_mode, b->st_mode);
	CHECK_EQ(a->st_nlink, b->st_nlink);
	CHECK_EQ(a->st_uid, b->st_uid);
	CHECK_EQ(a->st_gid, b->st_gid);
	CHECK_EQ(a->st_rdev, b->st_rdev);
	CHECK_EQ(a->st_size, b->st_size);
	CHECK_EQ(a->st_blksize, b->st_blksize);
	CHECK_EQ(a->st_blocks, b->st_blocks);
	CHECK_EQ(a->st_mtim.tv_sec, b->st_mtim.tv_sec);
	CHECK_EQ(a->st_mtim.tv_nsec, b->st_mtim.tv_nsec);
	CHECK_EQ(a->st_ctim.tv_sec, b->st_ctim.tv_sec);
	CHECK_EQ(a->st_ctim.tv_nsec, b->st_ctim.tv_nsec);
}

static void roundtrip_body(void *arg)
{
	static char wbuf[10000], rbuf[10000];
	char path[300], path2[400], sub[300];
	struct stat st, ref;
	struct iovec iov[3];
	int fd, dfd, r;

	(void)arg;
	path_in_dir(path, sizeof(path), "file");
	fd = wio_open(path, O_CREAT | O_EXCL | O_RDWR, 0640);
	CHECK(fd >= 0);
	CHECK_EQ(wio_fstat(fd, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(st.st_size, 0);

	fill_pattern(wbuf, sizeof(wbuf), 1);
	CHECK_EQ(wio_pwrite(fd, wbuf, sizeof(wbuf), 0), sizeof(wbuf));
	memset(rbuf, 0, sizeof(rbuf));
	CHECK_EQ(wio_pread(fd, rbuf, 5000, 100), 5000);
	CHECK(memcmp(rbuf, wbuf + 100, 5000) == 0);
	CHECK_EQ(wio_pread(fd, rbuf, sizeof(rbuf), 9990), 10); /* short read at the end */
	CHECK_EQ(wio_pread(fd, rbuf, sizeof(rbuf), 20000), 0);
	CHECK_EQ(wio_fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, sizeof(wbuf));
	CHECK_EQ(fstat(fd, &ref), 0);
	check_same_stat(&st, &ref);

	/* read/write at the file position. */
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(wio_read(fd, rbuf, 300), 300);
	CHECK(memcmp(rbuf, wbuf, 300) == 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 300);
	CHECK_EQ(wio_write(fd, "abc", 3), 3);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 303);
	CHECK_EQ(pread(fd, rbuf, 3, 300), 3);
	CHECK(memcmp(rbuf, "abc", 3) == 0);

	/* Vectors. */
	iov[0] = (struct iovec){.iov_base = (char *)"12", .iov_len = 2};
	iov[1] = (struct iovec){.iov_base = (char *)"345", .iov_len = 3};
	iov[2] = (struct iovec){.iov_base = (char *)"6789", .iov_len = 4};
	CHECK_EQ(wio_pwritev(fd, iov, 3, 1000), 9);
	CHECK_EQ(lseek(fd, 2000, SEEK_SET), 2000);
	CHECK_EQ(wio_writev(fd, iov, 2), 5);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 2005);
	{
		char a[4], b[5];
		struct iovec rv[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
		CHECK_EQ(wio_preadv(fd, rv, 2, 1000), 9);
		CHECK(memcmp(a, "1234", 4) == 0 && memcmp(b, "56789", 5) == 0);
		CHECK_EQ(lseek(fd, 2000, SEEK_SET), 2000);
		CHECK_EQ(wio_readv(fd, rv, 2), 9);
		CHECK(memcmp(a, "1234", 4) == 0 && b[0] == '5');
		CHECK_EQ(lseek(fd, 0, SEEK_CUR), 2009);
	}

	CHECK_EQ(wio_ftruncate(fd, 4096), 0);
	CHECK_EQ(wio_fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 4096);
	r = wio_fallocate(fd, 0, 0, 65536);
	if (r == 0) {
		CHECK_EQ(wio_fstat(fd, &st), 0);
		CHECK_EQ(st.st_size, 65536);
	} else {
		CHECK_EQ(r, -1);
		CHECK_EQ(errno, EOPNOTSUPP);
	}
	CHECK_EQ(wio_fsync(fd), 0);
	CHECK_EQ(wio_fdatasync(fd), 0);
	CHECK_EQ(wio_close(fd), 0);
	CHECK_EQ(fcntl(fd, F_GETFD), -1); /* really closed */

	/* Paths: stat, lstat, rename, mkdir, openat, unlink. */
	CHECK_EQ(wio_stat(path, &st), 0);
	CHECK_EQ(stat(path, &ref), 0);
	check_same_stat(&st, &ref);
	path_in_dir(path2, sizeof(path2), "link");
	CHECK_EQ(symlink(path, path2), 0);
	CHECK_EQ(wio_lstat(path2, &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(lstat(path2, &ref), 0);
	check_same_stat(&st, &ref);
	CHECK_EQ(wio_stat(path2, &st), 0); /* follows the link */
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(wio_unlink(path2), 0);

	path_in_dir(sub, sizeof(sub), "sub");
	CHECK_EQ(wio_mkdir(sub, 0750), 0);
	CHECK_EQ(stat(sub, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0750);
	snprintf(path2, sizeof(path2), "%s/moved", sub);
	CHECK_EQ(wio_rename(path, path2), 0);
	CHECK_EQ(access(path, F_OK), -1);
	dfd = wio_open(sub, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	fd = wio_openat(dfd, "moved", O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(wio_pread(fd, rbuf, 100, 0), 100);
	CHECK(memcmp(rbuf, wbuf, 100) == 0);
	CHECK_EQ(wio_close(fd), 0);
	fd = wio_openat(dfd, "new", O_CREAT | O_WRONLY | O_TRUNC, 0604);
	CHECK(fd >= 0);
	CHECK_EQ(wio_fstat(fd, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0604);
	CHECK_EQ(wio_close(fd), 0);
	CHECK_EQ(wio_close(dfd), 0);
	CHECK_EQ(wio_unlink(path2), 0);
}

static void roundtrip(const char *backend)
{
	start(backend);
	umask(0);
	run_wire(roundtrip_body, NULL);
	finish();
}

TEST(roundtrip_threads)
{
	roundtrip("threads");
}

TEST(roundtrip_uring)
{
	roundtrip("uring");
}

/* ------------------------------------------------------------------ */
/* Errors: -1 and exactly the errno of the libc call.                  */

static long lib_ret;
static int lib_err;

/* Evaluate the libc call, then the wio call; both must fail alike with @e. */
#define SAME_ERROR(e, libc_call, wio_call)                                                         \
	do {                                                                                       \
		long w_;                                                                           \
		errno = 0;                                                                         \
		lib_ret = (long)(libc_call);                                                       \
		lib_err = errno;                                                                   \
		CHECK_EQ(lib_ret, -1);                                                             \
		CHECK_EQ(lib_err, e);                                                              \
		errno = 0;                                                                         \
		w_ = (long)(wio_call);                                                             \
		CHECK_EQ(w_, -1);                                                                  \
		CHECK_EQ(errno, e);                                                                \
	} while (0)

static void errors_body(void *arg)
{
	char path[300], missing[300], notdir[300], buf[64];
	struct stat st;
	struct iovec iov = {buf, sizeof(buf)};
	int fd, dfd, rfd;

	(void)arg;
	memset(buf, 'b', sizeof(buf));
	path_in_dir(path, sizeof(path), "exists");
	path_in_dir(missing, sizeof(missing), "missing");
	path_in_dir(notdir, sizeof(notdir), "exists/x");
	fd = open(path, O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	rfd = open(path, O_RDONLY);
	CHECK(rfd >= 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);

	SAME_ERROR(ENOENT, open(missing, O_RDONLY), wio_open(missing, O_RDONLY));
	SAME_ERROR(ENOENT, open(missing, O_RDONLY | O_NONBLOCK),
		   wio_open(missing, O_RDONLY | O_NONBLOCK));
	SAME_ERROR(EEXIST, open(path, O_CREAT | O_EXCL | O_RDWR, 0600),
		   wio_open(path, O_CREAT | O_EXCL | O_RDWR, 0600));
	SAME_ERROR(EISDIR, open(dir, O_WRONLY), wio_open(dir, O_WRONLY));
	SAME_ERROR(ENOTDIR, open(notdir, O_RDONLY), wio_open(notdir, O_RDONLY));
	SAME_ERROR(ENOENT, openat(dfd, "missing", O_RDONLY), wio_openat(dfd, "missing", O_RDONLY));
	SAME_ERROR(EBADF, openat(-5, "x", O_RDONLY), wio_openat(-5, "x", O_RDONLY));

	SAME_ERROR(EBADF, close(-1), wio_close(-1));
	SAME_ERROR(EBADF, pread(-1, buf, 1, 0), wio_pread(-1, buf, 1, 0));
	SAME_ERROR(EBADF, pwrite(rfd, buf, 1, 0), wio_pwrite(rfd, buf, 1, 0));
	SAME_ERROR(EBADF, write(rfd, buf, 1), wio_write(rfd, buf, 1));
	SAME_ERROR(EBADF, read(-1, buf, 1), wio_read(-1, buf, 1));
	SAME_ERROR(EINVAL, pread(fd, buf, 1, -1), wio_pread(fd, buf, 1, -1));
	SAME_ERROR(EINVAL, pwrite(fd, buf, 1, -4096), wio_pwrite(fd, buf, 1, -4096));
	/* read(2) of a directory says EISDIR (the ring itself says EINVAL). */
	SAME_ERROR(EISDIR, read(dfd, buf, sizeof(buf)), wio_read(dfd, buf, sizeof(buf)));
	SAME_ERROR(EISDIR, pread(dfd, buf, sizeof(buf), 0), wio_pread(dfd, buf, sizeof(buf), 0));
	SAME_ERROR(EISDIR, readv(dfd, &iov, 1), wio_readv(dfd, &iov, 1));
	{
		volatile int neg = -1; /* hidden from the compiler's argument checks */
		SAME_ERROR(EINVAL, readv(fd, &iov, neg), wio_readv(fd, &iov, neg));
	}
	SAME_ERROR(EINVAL, preadv(fd, &iov, 1, -1), wio_preadv(fd, &iov, 1, -1));

	/* Reads as the inline try sees them (see wire_io.c read_call). */
	CHECK_EQ(pwrite(fd, buf, sizeof(buf), 0), sizeof(buf));
	{
		int p[2], wfd = open(path, O_WRONLY);
		CHECK(wfd >= 0);
		CHECK_EQ(pipe(p), 0);
		SAME_ERROR(ESPIPE, pread(p[0], buf, 1, 0), wio_pread(p[0], buf, 1, 0));
		SAME_ERROR(ESPIPE, preadv(p[0], &iov, 1, 0), wio_preadv(p[0], &iov, 1, 0));
		SAME_ERROR(EBADF, pread(wfd, buf, 1, 0), wio_pread(wfd, buf, 1, 0));
		SAME_ERROR(EBADF, readv(wfd, &iov, 1), wio_readv(wfd, &iov, 1));
		SAME_ERROR(EBADF, read(p[1], buf, 1), wio_read(p[1], buf, 1));
		SAME_ERROR(EINVAL, pread(fd, buf, 1, -2), wio_pread(fd, buf, 1, -2));
		/* A count of 0 still checks the file; a vector of 0 does not. */
		SAME_ERROR(EISDIR, pread(dfd, buf, 0, 0), wio_pread(dfd, buf, 0, 0));
		SAME_ERROR(EISDIR, read(dfd, buf, 0), wio_read(dfd, buf, 0));
		{
			struct iovec none = {buf, 0};
			CHECK_EQ(readv(dfd, &none, 1), 0);
			CHECK_EQ(wio_readv(dfd, &none, 1), 0);
		}
		/* Bad addresses (valgrind would report the call itself). */
		if (!test_under_valgrind()) {
			volatile uintptr_t bad = 16;
			SAME_ERROR(EFAULT, pread(fd, (void *)bad, 8, 0),
				   wio_pread(fd, (void *)bad, 8, 0));
			SAME_ERROR(EFAULT, readv(fd, (struct iovec *)bad, 1),
				   wio_readv(fd, (struct iovec *)bad, 1));
			SAME_ERROR(EFAULT, preadv(fd, (struct iovec *)bad, 1, 0),
				   wio_preadv(fd, (struct iovec *)bad, 1, 0));
		}
		close(p[0]);
		close(p[1]);
		close(wfd);
	}
	SAME_ERROR(EBADF, pwritev(-1, &iov, 1, 0), wio_pwritev(-1, &iov, 1, 0));
	SAME_ERROR(EBADF, writev(rfd, &iov, 1), wio_writev(rfd, &iov, 1));

	SAME_ERROR(EBADF, fstat(-1, &st), wio_fstat(-1, &st));
	SAME_ERROR(EBADF, fstat(AT_FDCWD, &st), wio_fstat(AT_FDCWD, &st));
	SAME_ERROR(ENOENT, stat(missing, &st), wio_stat(missing, &st));
	SAME_ERROR(ENOENT, stat("", &st), wio_stat("", &st));
	SAME_ERROR(ENOTDIR, lstat(notdir, &st), wio_lstat(notdir, &st));
	SAME_ERROR(EINVAL, ftruncate(rfd, 0), wio_ftruncate(rfd, 0));
	SAME_ERROR(EINVAL, ftruncate(fd, -1), wio_ftruncate(fd, -1));
	SAME_ERROR(EBADF, fallocate(rfd, 0, 0, 10), wio_fallocate(rfd, 0, 0, 10));
	SAME_ERROR(EINVAL, fallocate(fd, 0, 0, 0), wio_fallocate(fd, 0, 0, 0));
	SAME_ERROR(EBADF, fsync(-1), wio_fsync(-1));
	SAME_ERROR(EBADF, fdatasync(-1), wio_fdatasync(-1));
	SAME_ERROR(ENOENT, unlink(missing), wio_unlink(missing));
	SAME_ERROR(EISDIR, unlink(dir), wio_unlink(dir));
	SAME_ERROR(ENOENT, rename(missing, path), wio_rename(missing, path));
	SAME_ERROR(ENOTDIR, rename(path, notdir), wio_rename(path, notdir));
	SAME_ERROR(EEXIST, mkdir(dir, 0700), wio_mkdir(dir, 0700));
	SAME_ERROR(ENOTDIR, mkdir(notdir, 0700), wio_mkdir(notdir, 0700));

	/* getaddrinfo reports its own codes. */
	{
		struct addrinfo hints = {.ai_family = 12345}, *res = NULL;
		CHECK_EQ(wio_getaddrinfo("localhost", NULL, &hints, &res), EAI_FAMILY);
		CHECK(res == NULL);
	}

	/* A failing call changes nothing: the fd still works. */
	CHECK_EQ(wio_pwrite(fd, "x", 1, 0), 1);
	close(fd);
	close(rfd);
	close(dfd);
}

static void errors(const char *backend)
{
	start(backend);
	run_wire(errors_body, NULL);
	finish();
}

TEST(errno_like_libc_threads)
{
	errors("threads");
}

TEST(errno_like_libc_uring)
{
	errors("uring");
}

/* ------------------------------------------------------------------ */
/* A call that blocks for long parks only its wire.                    */

static char fifo[300];
static int ticks, ticks_at_open, fifo_data_ok;

static void fifo_reader(void *arg)
{
	char buf[8];
	int fd;

	(void)arg;
	fd = wio_open(fifo, O_RDONLY); /* waits for a writer */
	ticks_at_open = ticks;
	CHECK(fd >= 0);
	CHECK_EQ(wio_read(fd, buf, sizeof(buf)), 2); /* waits for data */
	fifo_data_ok = memcmp(buf, "hi", 2) == 0;
	CHECK_EQ(wio_read(fd, buf, sizeof(buf)), 0); /* the writer closed */
	CHECK_EQ(wio_close(fd), 0);
}

static void fifo_ticker(void *arg)
{
	int fd;

	(void)arg;
	for (int i = 0; i < 10; i++) {
		wire_sleep_ns(2000000);
		ticks++;
	}
	CHECK_EQ(ticks_at_open, -1); /* the reader is still parked */
	/* The reader is inside open(), so a non-blocking writer can open. */
	while ((fd = open(fifo, O_WRONLY | O_NONBLOCK)) < 0) {
		CHECK_EQ(errno, ENXIO);
		wire_sleep_ns(1000000);
	}
	wire_sleep_ns(5000000);
	ticks++;
	CHECK_EQ(write(fd, "hi", 2), 2);
	wire_sleep_ns(2000000);
	close(fd);
}

static void fifo_test(const char *backend)
{
	static char s1[STACK], s2[STACK];
	static wire_t r, t;

	start(backend);
	path_in_dir(fifo, sizeof(fifo), "fifo");
	CHECK_EQ(mkfifo(fifo, 0600), 0);
	ticks_at_open = -1;
	wire_init(&r, "reader", fifo_reader, NULL, s1, STACK);
	wire_init(&t, "ticker", fifo_ticker, NULL, s2, STACK);
	wire_thread_run();
	CHECK_EQ(r.state, WIRE_DONE);
	CHECK_EQ(t.state, WIRE_DONE);
	/* The open returned only after the writer came, the ticker ran meanwhile. */
	CHECK_RANGE(ticks_at_open, 10, 11);
	CHECK_EQ(ticks, 11);
	CHECK(fifo_data_ok);
	finish();
}

TEST(fifo_open_parks_only_its_wire_threads)
{
	fifo_test("threads");
}

TEST(fifo_open_parks_only_its_wire_uring)
{
	fifo_test("uring");
}

/* ------------------------------------------------------------------ */
/* 200 wires issuing calls at once.                                    */

#define MANY 200

static int many_ok[MANY], many_active, many_peak;

static void many_body(void *arg)
{
	int id = (int)(long)arg;
	char path[300], wbuf[512], rbuf[512];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/f%d", dir, id);
	fill_pattern(wbuf, sizeof(wbuf), (unsigned)id);
	many_active++;
	if (many_active > many_peak)
		many_peak = many_active;
	fd = wio_open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(wio_pwrite(fd, wbuf, (size_t)(id + 1), id), id + 1);
	CHECK_EQ(wio_fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 2 * id + 1);
	memset(rbuf, 0, sizeof(rbuf));
	CHECK_EQ(wio_pread(fd, rbuf, sizeof(rbuf), id), id + 1);
	CHECK(memcmp(rbuf, wbuf, (size_t)id + 1) == 0);
	CHECK_EQ(wio_close(fd), 0);
	CHECK_EQ(wio_unlink(path), 0);
	many_active--;
	many_ok[id] = 1;
}

static void many_test(const char *backend)
{
	static char stacks[MANY][STACK];
	static wire_t w[MANY];

	start(backend);
	for (long i = 0; i < MANY; i++)
		CHECK(wire_init(&w[i], "many", many_body, (void *)i, stacks[i], STACK) != NULL);
	wire_thread_run();
	for (int i = 0; i < MANY; i++) {
		CHECK_EQ(w[i].state, WIRE_DONE);
		CHECK_EQ(many_ok[i], 1);
	}
	/* Every wire got its first call in before any finished: they overlapped. */
	CHECK_EQ(many_peak, MANY);
	finish();
}

TEST(many_wires_concurrently_threads)
{
	many_test("threads");
}

TEST(many_wires_concurrently_uring)
{
	many_test("uring");
}

/* ------------------------------------------------------------------ */
/* Full batches of reads and writes, round after round.               */

#define BATCH_WIRES  64
#define BATCH_ROUNDS 24
#define BATCH_BLOCK  4096
#define BATCH_BLOCKS 256 /* the shared file: 1 MiB */

static int batch_fd;
static int batch_ok[BATCH_WIRES];
static long batch_calls;

/* The byte at @off of the shared file once wire @id has written its blocks. */
static char batch_byte(long off)
{
	return (char)(off * 13 + (off >> 12) * 7 + 1);
}

static void batch_body(void *arg)
{
	int id = (int)(long)arg;
	char buf[BATCH_BLOCK], want[BATCH_BLOCK];
	char *iov_a = buf, *iov_b = buf + 1000;
	struct iovec iov[2] = {{iov_a, 1000}, {iov_b, BATCH_BLOCK - 1000}};

	for (int r = 0; r < BATCH_ROUNDS; r++) {
		/* Every wire reads a different block each round. */
		long blk = (long)((id * 37 + r * 11) % BATCH_BLOCKS);
		long off = blk * BATCH_BLOCK;

		for (int i = 0; i < BATCH_BLOCK; i++)
			want[i] = batch_byte(off + i);
		memset(buf, 0, sizeof(buf));
		if (r % 3 == 2) {
			CHECK_EQ(wio_preadv(batch_fd, iov, 2, off), BATCH_BLOCK);
		} else {
			CHECK_EQ(wio_pread(batch_fd, buf, BATCH_BLOCK, off), BATCH_BLOCK);
		}
		CHECK(memcmp(buf, want, BATCH_BLOCK) == 0);
		/*
		 * Rewrite the block just read with the same bytes: writes
		 * ride in the same batches as other wires' reads, and any
		 * write that went astray shows in a later read.
		 */
		CHECK_EQ(wio_pwrite(batch_fd, want, BATCH_BLOCK, off), BATCH_BLOCK);
		batch_calls += 2;
	}
	batch_ok[id] = 1;
}

static void batch_test(const char *backend)
{
	static char stacks[BATCH_WIRES][STACK];
	static wire_t w[BATCH_WIRES];
	static char block[BATCH_BLOCK];
	char path[300];

	start(backend);
	path_in_dir(path, sizeof(path), "batch");
	batch_fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(batch_fd >= 0);
	for (long b = 0; b < BATCH_BLOCKS; b++) {
		for (int i = 0; i < BATCH_BLOCK; i++)
			block[i] = batch_byte(b * BATCH_BLOCK + i);
		CHECK_EQ(pwrite(batch_fd, block, BATCH_BLOCK, b * BATCH_BLOCK), BATCH_BLOCK);
	}
	for (long i = 0; i < BATCH_WIRES; i++)
		CHECK(wire_init(&w[i], "batch", batch_body, (void *)i, stacks[i], STACK) != NULL);
	wire_thread_run();
	for (int i = 0; i < BATCH_WIRES; i++) {
		CHECK_EQ(w[i].state, WIRE_DONE);
		CHECK_EQ(batch_ok[i], 1);
	}
	CHECK_EQ(batch_calls, 2L * BATCH_WIRES * BATCH_ROUNDS);
	/* The file as a whole is still the pattern: no write landed astray. */
	for (long b = 0; b < BATCH_BLOCKS; b++) {
		CHECK_EQ(pread(batch_fd, block, BATCH_BLOCK, b * BATCH_BLOCK), BATCH_BLOCK);
		for (int i = 0; i < BATCH_BLOCK; i++)
			if (block[i] != batch_byte(b * BATCH_BLOCK + i))
				CHECK_EQ(b * BATCH_BLOCK + i, -1); /* names the offset */
	}
	CHECK_EQ(close(batch_fd), 0);
	CHECK_EQ(unlink(path), 0);
	finish();
}

TEST(full_batches_every_byte_threads)
{
	batch_test("threads");
}

TEST(full_batches_every_byte_uring)
{
	batch_test("uring");
}

/* ------------------------------------------------------------------ */
/* Shutdown while calls are in flight.                                 */

#define READERS 6

static int pipes[READERS][2];
static int reader_got[READERS];
static int64_t reads_done_ms, shutdown_done_ms;

static void pipe_reader(void *arg)
{
	int i = (int)(long)arg;
	char c = 0;

	CHECK_EQ(wio_read(pipes[i][0], &c, 1), 1);
	reader_got[i] = c;
	reads_done_ms = test_now_ms();
}

static void stopper(void *arg)
{
	(void)arg;
	wire_yield(); /* the readers are parked in their calls now */
	wire_io_shutdown();
	shutdown_done_ms = test_now_ms();
	for (int i = 0; i < READERS; i++)
		CHECK_EQ(reader_got[i], 'a' + i);
	CHECK_STR_EQ(wire_io_backend(), "none");
	/* After shutdown a call is the plain call. */
	CHECK_EQ(wio_write(pipes[0][1], "z", 1), 1);
}

static void *late_writer(void *arg)
{
	(void)arg;
	usleep(50000);
	for (int i = 0; i < READERS; i++)
		CHECK_EQ(write(pipes[i][1], &(char){(char)('a' + i)}, 1), 1);
	return NULL;
}

static void shutdown_test(const char *backend)
{
	static char stacks[READERS + 1][STACK];
	static wire_t w[READERS + 1];
	int fds0, threads0;
	pthread_t writer;
	char c;

	fds0 = count_fds();
	threads0 = base_threads();
	start(backend);
	CHECK(count_threads() > threads0);
	for (int i = 0; i < READERS; i++)
		CHECK_EQ(pipe(pipes[i]), 0);
	for (long i = 0; i < READERS; i++)
		wire_init(&w[i], "reader", pipe_reader, (void *)i, stacks[i], STACK);
	wire_init(&w[READERS], "stopper", stopper, NULL, stacks[READERS], STACK);
	CHECK_EQ(pthread_create(&writer, NULL, late_writer, NULL), 0);
	wire_thread_run();
	CHECK_EQ(pthread_join(writer, NULL), 0);
	for (int i = 0; i <= READERS; i++)
		CHECK_EQ(w[i].state, WIRE_DONE);
	CHECK(shutdown_done_ms >= reads_done_ms);
	CHECK_EQ(read(pipes[0][0], &c, 1), 1);
	CHECK_EQ(c, 'z');
	CHECK_EQ(wire_thread_suspended(), 0);
	CHECK_EQ(wire_thread_get()->poller->pending, 0);
	for (int i = 0; i < READERS; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	remove_dir();
	/* Workers joined, eventfd and ring closed (the epoll fd stays). */
	check_threads_back_to(threads0);
	CHECK_EQ(count_fds(), fds0 + 1);
	/* And it starts again. */
	CHECK_EQ(wire_io_init_backend(2, backend), 0);
	CHECK_STR_EQ(wire_io_backend(), backend);
	wire_io_shutdown();
	check_threads_back_to(threads0);
}

TEST(shutdown_with_calls_in_flight_threads)
{
	shutdown_test("threads");
}

TEST(shutdown_with_calls_in_flight_uring)
{
	shutdown_test("uring");
}

/* ------------------------------------------------------------------ */
/* getaddrinfo.                                                        */

static void gai_body(void *arg)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	int loopback = 0;

	(void)arg;
	CHECK_EQ(wio_getaddrinfo("localhost", "80", &hints, &res), 0);
	CHECK(res != NULL);
	for (ai = res; ai; ai = ai->ai_next) {
		CHECK_EQ(ai->ai_socktype, SOCK_STREAM);
		if (ai->ai_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ai->ai_addr;
			CHECK_EQ(ntohs(sin->sin_port), 80);
			loopback |= ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK;
		} else if (ai->ai_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ai->ai_addr;
			CHECK_EQ(ntohs(sin6->sin6_port), 80);
			loopback |= IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		}
	}
	CHECK(loopback);
	freeaddrinfo(res);
}

static void gai_test(const char *backend)
{
	start(backend);
	run_wire(gai_body, NULL);
	finish();
}

TEST(getaddrinfo_localhost_threads)
{
	gai_test("threads");
}

TEST(getaddrinfo_localhost_uring)
{
	gai_test("uring");
}

/* ------------------------------------------------------------------ */
/* Outside a wire, and before wire_io_init(): the plain call.          */

static void plain_calls(void)
{
	char path[300], buf[4];
	struct stat st;
	int fd;

	path_in_dir(path, sizeof(path), "plain");
	fd = wio_open(path, O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(wio_pwrite(fd, "data", 4, 0), 4);
	CHECK_EQ(wio_pread(fd, buf, 4, 0), 4);
	CHECK(memcmp(buf, "data", 4) == 0);
	CHECK_EQ(wio_fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 4);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(wio_close(fd), 0);
	errno = 0;
	CHECK_EQ(wio_close(fd), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(wio_unlink(path), 0);
}

static void plain_in_wire(void *arg)
{
	(void)arg;
	plain_calls();
}

static void outside_test(const char *backend)
{
	umask(0077);
	/* Before wire_io_init, in and out of a wire. */
	wire_thread_init(&thread);
	CHECK_EQ(wire_fd_init(), 0);
	make_dir();
	plain_calls();
	run_wire(plain_in_wire, NULL);
	remove_dir();
	/* After it, outside any wire: nothing is handed off. */
	start(backend);
	plain_calls();
	CHECK_EQ(wire_thread_get()->poller->pending, 0);
	finish();
}

TEST(outside_a_wire_plain_call_threads)
{
	outside_test("threads");
}

TEST(outside_a_wire_plain_call_uring)
{
	outside_test("uring");
}

/* ------------------------------------------------------------------ */
/* Start-up: choice of backend, and failures that leave nothing behind. */

TEST(backend_from_environment)
{
	wire_thread_init(&thread);
	CHECK_STR_EQ(wire_io_backend(), "none");
	setenv("WIRE_IO_BACKEND", "threads", 1);
	CHECK_EQ(wire_io_init(2), 0);
	CHECK_STR_EQ(wire_io_backend(), "threads");
	errno = 0;
	CHECK_EQ(wire_io_init(2), -1);
	CHECK_EQ(errno, EALREADY);
	wire_io_shutdown();
	setenv("WIRE_IO_BACKEND", "bogus", 1);
	errno = 0;
	CHECK_EQ(wire_io_init(2), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_STR_EQ(wire_io_backend(), "none");
	unsetenv("WIRE_IO_BACKEND");
	errno = 0;
	CHECK_EQ(wire_io_init(WIRE_IO_MAX_THREADS + 1), -1);
	CHECK_EQ(errno, EINVAL);
	/* auto: the ring where there is one, else the threads. */
	CHECK_EQ(wire_io_init(0), 0);
	CHECK(strcmp(wire_io_backend(), "uring") == 0 || strcmp(wire_io_backend(), "threads") == 0);
	wire_io_shutdown();
	CHECK_STR_EQ(wire_io_backend(), "none");
}

static void check_init_fails(const char *backend, enum wire_sys call, unsigned nth, int err)
{
	int threads0 = base_threads(), fds0 = count_fds();

	wire__fault_set(call, nth, err);
	errno = 0;
	CHECK_EQ(wire_io_init_backend(3, backend), -1);
	CHECK_EQ(errno, err);
	wire__fault_clear();
	CHECK_STR_EQ(wire_io_backend(), "none");
	CHECK_EQ(count_fds(), fds0);
	check_threads_back_to(threads0);
	/* Nothing was left half started: it starts now. */
	CHECK_EQ(wire_io_init_backend(3, backend), 0);
	wire_io_shutdown();
	CHECK_EQ(count_fds(), fds0);
	check_threads_back_to(threads0);
}

TEST(init_fails_cleanly_threads)
{
	wire_thread_init(&thread);
	check_init_fails("threads", WIRE_SYS_EVENTFD, 1, EMFILE);
	check_init_fails("threads", WIRE_SYS_PTHREAD_CREATE, 1, EAGAIN);
	check_init_fails("threads", WIRE_SYS_PTHREAD_CREATE, 3, EAGAIN);
}

TEST(init_fails_cleanly_uring)
{
	wire_thread_init(&thread);
	if (wire_io_init_backend(1, "uring") != 0)
		test_skip("io_uring backend unavailable");
	wire_io_shutdown();
	check_init_fails("uring", WIRE_SYS_EVENTFD, 1, ENFILE);
	check_init_fails("uring", WIRE_SYS_PTHREAD_CREATE, 2, EAGAIN);
	check_init_fails("uring", WIRE_SYS_IO_URING_SETUP, 1, EPERM);
	/* auto falls back to the threads when the kernel refuses the ring. */
	wire__fault_set(WIRE_SYS_IO_URING_SETUP, 1, EPERM);
	CHECK_EQ(wire_io_init_backend(2, "auto"), 0);
	wire__fault_clear();
	CHECK_STR_EQ(wire_io_backend(), "threads");
	wire_io_shutdown();
}

/* A failed submission is retried: the calls still complete. */
static void submit_retry_body(void *arg)
{
	char path[300], buf[8];
	int fd;

	(void)arg;
	path_in_dir(path, sizeof(path), "retry");
	fd = open(path, O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(pwrite(fd, "retry", 5, 0), 5);
	wire__fault_set(WIRE_SYS_IO_URING_SUBMIT, 1, EAGAIN);
	CHECK_EQ(wio_pread(fd, buf, 5, 0), 5);
	CHECK(memcmp(buf, "retry", 5) == 0);
	close(fd);
}

TEST(submit_failure_retried_uring)
{
	start("uring");
	run_wire(submit_retry_body, NULL);
	finish();
}

/* ------------------------------------------------------------------ */
/* Reads tried inline (preadv2 with RWF_NOWAIT) before a hand-off.     */

/* Calls the calling thread handed to a backend (src/wire_io_chan.c). */
WIRE_INTERNAL unsigned long wire__io_handoffs(void);

/*
 * preadv2() as the library sees it in this program: the real system call,
 * counted. With hook_short set, a RWF_NOWAIT read returns at most that
 * many bytes, as when only the start of the range is cached; hook_dup_fd
 * >= 0 is then dup2()ed over the fd, making the rest of the read fail.
 */
static int hook_tries;
static size_t hook_short;
static int hook_dup_fd = -1;

ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	struct iovec cut[8];
	long ret;

	hook_tries++;
	if (hook_short && (flags & RWF_NOWAIT) && iovcnt > 0 && iovcnt <= 8) {
		size_t left = hook_short;
		int n = 0;

		while (n < iovcnt && left) {
			cut[n] = iov[n];
			if (cut[n].iov_len > left)
				cut[n].iov_len = left;
			left -= cut[n].iov_len;
			n++;
		}
		iov = cut;
		iovcnt = n;
	}
	ret = syscall(SYS_preadv2, fd, iov, iovcnt, (long)offset,
		      (long)((unsigned long long)offset >> 32), flags);
	if (ret > 0 && hook_short && hook_dup_fd >= 0)
		CHECK_EQ(dup2(hook_dup_fd, fd), fd);
	return ret;
}

#define DATA_SIZE 10000

static char data[DATA_SIZE];
static int data_fd;

/* A file of DATA_SIZE pattern bytes, written through the page cache. */
static void make_data_file(void)
{
	char path[300];

	path_in_dir(path, sizeof(path), "data");
	fill_pattern(data, sizeof(data), 7);
	data_fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(data_fd >= 0);
	CHECK_EQ(pwrite(data_fd, data, sizeof(data), 0), DATA_SIZE);
}

/*
 * Skip a test of the inline tries where preadv2(RWF_NOWAIT) does not
 * answer (qemu-user, for one, refuses it): the reads are all handed off
 * there, which the other tests cover.
 */
static void need_nowait(void)
{
	char b;
	struct iovec v = {&b, 1};

	if (syscall(SYS_preadv2, data_fd, &v, 1, 0L, 0L, RWF_NOWAIT) < 0 &&
	    (errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL))
		test_skip("preadv2(RWF_NOWAIT) is not available here");
}

/* Expect the calls since the marks: @tries inline tries, @handoffs hand-offs. */
static int mark_tries;
static unsigned long mark_handoffs;

static void mark(void)
{
	mark_tries = hook_tries;
	mark_handoffs = wire__io_handoffs();
}

#define CHECK_CALLS(tries, handoffs)                                                               \
	do {                                                                                       \
		CHECK_EQ(hook_tries - mark_tries, tries);                                          \
		CHECK_EQ(wire__io_handoffs() - mark_handoffs, handoffs);                           \
		mark();                                                                            \
	} while (0)

/* Each read variant once, all served from the page cache. */
static void read_each_variant(void)
{
	char buf[DATA_SIZE], a[1000], b[3096];
	struct iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};

	memset(buf, 0, sizeof(buf));
	CHECK_EQ(wio_pread(data_fd, buf, 4096, 100), 4096);
	CHECK(memcmp(buf, data + 100, 4096) == 0);
	CHECK_EQ(lseek(data_fd, 5000, SEEK_SET), 5000);
	CHECK_EQ(wio_read(data_fd, buf, 3000), 3000);
	CHECK(memcmp(buf, data + 5000, 3000) == 0);
	CHECK_EQ(lseek(data_fd, 0, SEEK_CUR), 8000);
	CHECK_EQ(wio_preadv(data_fd, iov, 2, 2000), 4096);
	CHECK(memcmp(a, data + 2000, 1000) == 0 && memcmp(b, data + 3000, 3096) == 0);
	CHECK_EQ(lseek(data_fd, 10, SEEK_SET), 10);
	CHECK_EQ(wio_readv(data_fd, iov, 2), 4096);
	CHECK(memcmp(a, data + 10, 1000) == 0 && memcmp(b, data + 1010, 3096) == 0);
	CHECK_EQ(lseek(data_fd, 0, SEEK_CUR), 4106);
	/* Reading the end: a short count at EOF is the answer, then 0. */
	CHECK_EQ(wio_pread(data_fd, buf, 4096, DATA_SIZE - 96), 96);
	CHECK(memcmp(buf, data + DATA_SIZE - 96, 96) == 0);
	CHECK_EQ(lseek(data_fd, DATA_SIZE - 50, SEEK_SET), DATA_SIZE - 50);
	CHECK_EQ(wio_read(data_fd, buf, 4096), 50);
	CHECK_EQ(wio_read(data_fd, buf, 4096), 0);
}

static int other_ran;

static void other_wire(void *arg)
{
	(void)arg;
	other_ran = 1;
}

static void inline_body(void *arg)
{
	const char *backend = arg;
	static char s[STACK];
	static wire_t w;
	char buf[64];

	mark();
	read_each_variant();
	/* The three preads and preadvs inline, no hand-off, no switch; the
	 * four reads and readvs (file position) handed off. */
	CHECK_CALLS(3, 4);
	CHECK_EQ(other_ran, 0);

	/* A read with another wire ready: the ring batches it. */
	wire_init(&w, "other", other_wire, NULL, s, STACK);
	CHECK_EQ(wio_pread(data_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(memcmp(buf, data, sizeof(buf)) == 0);
	if (strcmp(backend, "uring") == 0)
		CHECK_CALLS(0, 1);
	else
		CHECK_CALLS(1, 0);
	wire_yield();
	CHECK_EQ(other_ran, 1);

	/* Reads of nothing and negative offsets go to the backend as they are. */
	CHECK_EQ(wio_pread(data_fd, buf, 0, 0), 0);
	CHECK_EQ(wio_read(data_fd, buf, 0), 0);
	errno = 0;
	CHECK_EQ(wio_pread(data_fd, buf, 1, -1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_CALLS(0, 3);
}

static void inline_off_body(void *arg)
{
	(void)arg;
	mark();
	read_each_variant();
	CHECK_CALLS(0, 7);
}

static void inline_test(const char *backend)
{
	/* A read with another wire ready is batched (uring) or tried. */
	start(backend);
	make_data_file();
	need_nowait();
	other_ran = 0;
	run_wire(inline_body, (void *)backend);
	wire_io_shutdown();

	/* WIRE_IO_INLINE=0: every read handed off. */
	setenv("WIRE_IO_INLINE", "0", 1);
	CHECK_EQ(wire_io_init_backend(2, backend), 0);
	run_wire(inline_off_body, NULL);
	wire_io_shutdown();
	setenv("WIRE_IO_INLINE", "yes", 1);
	errno = 0;
	CHECK_EQ(wire_io_init_backend(2, backend), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_STR_EQ(wire_io_backend(), "none");
	unsetenv("WIRE_IO_INLINE");
	CHECK_EQ(wire_io_init_backend(2, backend), 0);
	close(data_fd);
	finish();
}

TEST(cached_reads_inline_threads)
{
	inline_test("threads");
}

TEST(cached_reads_inline_uring)
{
	inline_test("uring");
}

/* What the try cannot answer goes to the backend; its own errors do not. */
static void fallback_body(void *arg)
{
	static const int handed[] = {EAGAIN, EOPNOTSUPP, EINVAL, EINTR, EPERM};
	char buf[4096];
	int p[2];

	(void)arg;
	mark();
	for (unsigned i = 0; i < sizeof(handed) / sizeof(handed[0]); i++) {
		wire__fault_set(WIRE_SYS_PREADV2, 1, handed[i]);
		memset(buf, 0, sizeof(buf));
		CHECK_EQ(wio_pread(data_fd, buf, sizeof(buf), 1000), sizeof(buf));
		CHECK(memcmp(buf, data + 1000, sizeof(buf)) == 0);
		CHECK_EQ(wire__fault_armed, 0);
		CHECK_CALLS(0, 1); /* the fault stood in for the try */
	}
	/* The fd's flags unknown (O_DIRECT?): not tried. */
	wire__fault_set(WIRE_SYS_FCNTL, 1, EBADF);
	CHECK_EQ(wio_pread(data_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(memcmp(buf, data, sizeof(buf)) == 0);
	CHECK_CALLS(0, 1);
	/* Any other error is the read's own answer. */
	wire__fault_set(WIRE_SYS_PREADV2, 1, EIO);
	errno = 0;
	CHECK_EQ(wio_pread(data_fd, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, EIO);
	CHECK_CALLS(0, 0);

	/* A pipe read (file position): handed off, data once only. */
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], "xyz", 3), 3);
	CHECK_EQ(wio_read(p[0], buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "xyz", 3) == 0);
	CHECK_CALLS(0, 1);
	close(p[0]);
	close(p[1]);

	/* ENOSYS (no preadv2 here): no more tries until the next init. */
	wire__fault_set(WIRE_SYS_PREADV2, 1, ENOSYS);
	CHECK_EQ(wio_pread(data_fd, buf, 100, 0), 100);
	CHECK_EQ(wio_pread(data_fd, buf, 100, 200), 100);
	CHECK(memcmp(buf, data + 200, 100) == 0);
	CHECK_CALLS(0, 2);
}

static void tries_again_body(void *arg)
{
	char buf[100];

	(void)arg;
	mark();
	CHECK_EQ(wio_pread(data_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK_CALLS(1, 0);
}

static void fallback_test(const char *backend)
{
	start(backend);
	make_data_file();
	need_nowait();
	run_wire(fallback_body, NULL);
	wire_io_shutdown();
	CHECK_EQ(wire_io_init_backend(2, backend), 0);
	run_wire(tries_again_body, NULL);
	close(data_fd);
	finish();
}

TEST(inline_failures_fall_back_threads)
{
	fallback_test("threads");
}

TEST(inline_failures_fall_back_uring)
{
	fallback_test("uring");
}

/* A short inline read of a file not at its end reads on in the backend. */
static void short_body(void *arg)
{
	char buf[DATA_SIZE], a[1500], b[2000], c[596];
	struct iovec iov[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	int dfd;

	(void)arg;
	mark();
	hook_short = 1000;
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(wio_pread(data_fd, buf, 4096, 10), 4096);
	CHECK(memcmp(buf, data + 10, 4096) == 0);
	CHECK_CALLS(1, 1);
	/* At the file position: never tried, one hand-off, position moved. */
	CHECK_EQ(lseek(data_fd, 300, SEEK_SET), 300);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(wio_read(data_fd, buf, 4096), 4096);
	CHECK(memcmp(buf, data + 300, 4096) == 0);
	CHECK_EQ(lseek(data_fd, 0, SEEK_CUR), 4396);
	CHECK_CALLS(0, 1);
	/* Vectors: the rest of the cut entry, then the remaining entries. */
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(c, 0, sizeof(c));
	CHECK_EQ(wio_preadv(data_fd, iov, 3, 5000), 4096);
	CHECK(memcmp(a, data + 5000, 1500) == 0 && memcmp(b, data + 6500, 2000) == 0 &&
	      memcmp(c, data + 8500, 596) == 0);
	CHECK_CALLS(1, 2);
	/* Cut at an entry's end: one hand-off for the remaining entries. */
	hook_short = 1500;
	memset(b, 0, sizeof(b));
	CHECK_EQ(wio_preadv(data_fd, iov, 3, 4000), 4096);
	CHECK(memcmp(a, data + 4000, 1500) == 0 && memcmp(b, data + 5500, 2000) == 0 &&
	      memcmp(c, data + 7500, 596) == 0);
	CHECK_CALLS(1, 1);
	/* The rest reaches the end: both parts, as pread would return. */
	hook_short = 500;
	CHECK_EQ(wio_pread(data_fd, buf, 4096, DATA_SIZE - 1000), 1000);
	CHECK(memcmp(buf, data + DATA_SIZE - 1000, 1000) == 0);
	CHECK_CALLS(1, 1);
	/* Short because the file ends there: no hand-off. */
	hook_short = 2000;
	CHECK_EQ(wio_pread(data_fd, buf, 4096, DATA_SIZE - 2000), 2000);
	CHECK(memcmp(buf, data + DATA_SIZE - 2000, 2000) == 0);
	CHECK_CALLS(1, 0);
	/* The type unknown (the fd closed meanwhile): what was read. */
	wire__fault_set(WIRE_SYS_FSTAT, 1, EBADF);
	CHECK_EQ(wio_pread(data_fd, buf, 4096, 0), 2000);
	CHECK(memcmp(buf, data, 2000) == 0);
	CHECK_CALLS(1, 0);
	/*
	 * The rest fails (the fd is the same file, now write-only): the part
	 * read is the result, errno untouched.
	 */
	hook_short = 1000;
	dfd = dup(data_fd);
	CHECK(dfd >= 0);
	{
		char path[300];
		path_in_dir(path, sizeof(path), "data");
		hook_dup_fd = open(path, O_WRONLY);
		CHECK(hook_dup_fd >= 0);
	}
	errno = 1234;
	CHECK_EQ(wio_pread(data_fd, buf, 4096, 0), 1000);
	CHECK_EQ(errno, 1234);
	CHECK(memcmp(buf, data, 1000) == 0);
	CHECK_CALLS(1, 1);
	close(hook_dup_fd);
	hook_dup_fd = -1;
	CHECK_EQ(dup2(dfd, data_fd), data_fd);
	close(dfd);
	hook_short = 0;
}

static void short_test(const char *backend)
{
	start(backend);
	make_data_file();
	need_nowait();
	run_wire(short_body, NULL);
	hook_short = 0;
	close(data_fd);
	finish();
}

TEST(short_inline_read_completed_threads)
{
	short_test("threads");
}

TEST(short_inline_read_completed_uring)
{
	short_test("uring");
}

/*
 * A pipe or a FIFO: data there is read once only, without waiting for
 * more; an empty one parks only the reading wire until a writer writes.
 */
static int fifo_fd, fifo_named, fifo_ticks, fifo_ticks_at_read;
static char fifo_got[16];

static void fifo_inline_ticker(void *arg)
{
	int wfd = (int)(long)arg;

	for (int i = 0; i < 5; i++) {
		wire_sleep_ns(2000000);
		fifo_ticks++;
	}
	CHECK_EQ(write(wfd, "de", 2), 2);
}

static void fifo_inline_reader(void *arg)
{
	static char stack[STACK];
	static wire_t t;

	mark();
	/* "abc" is there: 3 bytes, no waiting for 16 (read: handed off). */
	CHECK_EQ(wio_read(fifo_fd, fifo_got, sizeof(fifo_got)), 3);
	CHECK(memcmp(fifo_got, "abc", 3) == 0);
	CHECK_EQ(hook_tries - mark_tries, 0);
	CHECK_EQ(wire__io_handoffs() - mark_handoffs, 1);
	mark();
	/* Empty: handed off; the ticker runs meanwhile. */
	wire_init(&t, "ticker", fifo_inline_ticker, arg, stack, STACK);
	CHECK_EQ(wio_read(fifo_fd, fifo_got, sizeof(fifo_got)), 2);
	fifo_ticks_at_read = fifo_ticks;
	CHECK(memcmp(fifo_got, "de", 2) == 0);
	CHECK_EQ(hook_tries - mark_tries, 0);
	CHECK_EQ(wire__io_handoffs() - mark_handoffs, 1);
	CHECK_EQ(t.state, WIRE_DONE);
}

static void fifo_inline_test(const char *backend, int named)
{
	static char s1[STACK];
	static wire_t r;
	char path[300], rest[4];
	int wfd;

	start(backend);
	fifo_named = named;
	if (named) {
		path_in_dir(path, sizeof(path), "fifo");
		CHECK_EQ(mkfifo(path, 0600), 0);
		fifo_fd = open(path, O_RDONLY | O_NONBLOCK);
		CHECK(fifo_fd >= 0);
		wfd = open(path, O_WRONLY);
		CHECK(wfd >= 0);
		/* A blocking reader, as most programs open a FIFO. */
		CHECK_EQ(fcntl(fifo_fd, F_SETFL, 0), 0);
	} else {
		int p[2];
		CHECK_EQ(pipe(p), 0);
		fifo_fd = p[0];
		wfd = p[1];
	}
	CHECK_EQ(write(wfd, "abc", 3), 3);
	fifo_ticks = 0;
	fifo_ticks_at_read = -1;
	wire_init(&r, "reader", fifo_inline_reader, (void *)(long)wfd, s1, STACK);
	wire_thread_run();
	CHECK_EQ(r.state, WIRE_DONE);
	CHECK_EQ(fifo_ticks_at_read, 5);
	/* Nothing was read twice, nothing lost: the FIFO is empty. */
	CHECK_EQ(fcntl(fifo_fd, F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	CHECK_EQ(read(fifo_fd, rest, sizeof(rest)), -1);
	CHECK_EQ(errno, EAGAIN);
	close(wfd);
	close(fifo_fd);
	finish();
}

TEST(pipe_read_once_or_parked_threads)
{
	fifo_inline_test("threads", 0);
}

TEST(pipe_read_once_or_parked_uring)
{
	fifo_inline_test("uring", 0);
}

TEST(fifo_read_once_or_parked_threads)
{
	fifo_inline_test("threads", 1);
}

TEST(fifo_read_once_or_parked_uring)
{
	fifo_inline_test("uring", 1);
}

/*
 * Many wires reading cached and uncached ranges at once, tried inline or
 * handed off: every byte right. Then, with nothing to do, the workers
 * sleep: the process takes next to no CPU time.
 */
#define MIX_SIZE  (1 << 20)
#define MIX_WIRES 16
#define MIX_READS 48

static char *mix_data;
static int mix_fd;
static long mix_bytes;

static void mix_reader(void *arg)
{
	unsigned x = (unsigned)(long)arg * 2654435761u + 1;
	char buf[5000], b2[700];

	for (int i = 0; i < MIX_READS; i++) {
		off_t off;
		size_t len;
		long got;

		x = x * 1103515245 + 12345;
		off = (off_t)(x >> 8) % MIX_SIZE;
		len = 1 + (x >> 3) % sizeof(buf);
		if (i % 3 == 2) {
			struct iovec iov[2] = {{buf, len}, {b2, sizeof(b2)}};
			size_t want = len + sizeof(b2);
			if ((off_t)want > MIX_SIZE - off)
				want = (size_t)(MIX_SIZE - off);
			got = wio_preadv(mix_fd, iov, 2, off);
			CHECK_EQ(got, (long)want);
			CHECK(memcmp(buf, mix_data + off, want < len ? want : len) == 0);
			if (want > len)
				CHECK(memcmp(b2, mix_data + off + (off_t)len, want - len) == 0);
		} else {
			size_t want = (off_t)len > MIX_SIZE - off ? (size_t)(MIX_SIZE - off) : len;
			got = wio_pread(mix_fd, buf, len, off);
			CHECK_EQ(got, (long)want);
			CHECK(memcmp(buf, mix_data + off, want) == 0);
		}
		mix_bytes += got;
		if (i % 8 == 0)
			wire_yield();
	}
}

static double cpu_seconds(void)
{
	struct rusage ru;

	CHECK_EQ(getrusage(RUSAGE_SELF, &ru), 0);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void mix_test(const char *backend)
{
	static char stacks[MIX_WIRES][STACK];
	static wire_t w[MIX_WIRES];
	char path[300];
	double cpu0;

	start(backend);
	mix_data = malloc(MIX_SIZE);
	CHECK(mix_data != NULL);
	fill_pattern(mix_data, MIX_SIZE, 11);
	path_in_dir(path, sizeof(path), "mix");
	mix_fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(mix_fd >= 0);
	CHECK_EQ(pwrite(mix_fd, mix_data, MIX_SIZE, 0), MIX_SIZE);
	/* The second half out of the page cache (where the kernel drops it). */
	CHECK_EQ(fdatasync(mix_fd), 0);
	CHECK_EQ(posix_fadvise(mix_fd, MIX_SIZE / 2, MIX_SIZE / 2, POSIX_FADV_DONTNEED), 0);
	mix_bytes = 0;
	for (int i = 0; i < MIX_WIRES; i++)
		wire_init(&w[i], "mix", mix_reader, (void *)(long)i, stacks[i], STACK);
	wire_thread_run();
	for (int i = 0; i < MIX_WIRES; i++)
		CHECK_EQ(w[i].state, WIRE_DONE);
	CHECK(mix_bytes > 0);
	/* Idle: the workers sleep. */
	usleep(20000);
	cpu0 = cpu_seconds();
	usleep(200000);
	CHECK(cpu_seconds() - cpu0 < 0.05);
	close(mix_fd);
	free(mix_data);
	finish();
}

TEST(inline_and_handed_off_reads_mixed_threads)
{
	mix_test("threads");
}

TEST(inline_and_handed_off_reads_mixed_uring)
{
	mix_test("uring");
}

/* ------------------------------------------------------------------ */
/* A scheduler thread that used wio_ calls ends.                       */

static char exit_stack[STACK];

static void exit_user(void *arg)
{
	char path[300];
	int fd;

	path_in_dir(path, sizeof(path), arg);
	fd = wio_open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(wio_write(fd, "x", 1), 1);
	CHECK_EQ(wio_close(fd), 0);
	CHECK(wire__io_handoffs() >= 1);
}

static void *exit_thread(void *arg)
{
	wire_thread_t t; /* gone before the thread's exit handlers run */
	wire_t w;

	wire_thread_init(&t);
	CHECK_EQ(wire_fd_init(), 0);
	wire_init(&w, "user", exit_user, arg, exit_stack, sizeof(exit_stack));
	wire_thread_run();
	CHECK_EQ(w.state, WIRE_DONE);
	return NULL;
}

/* The thread's epoll fd, eventfd and io_uring instance close as it ends. */
static void thread_exit_test(const char *backend)
{
	int fds0;

	start(backend);
	fds0 = count_fds();
	for (int i = 0; i < 3; i++) {
		pthread_t t;
		CHECK_EQ(pthread_create(&t, NULL, exit_thread, (void *)"f"), 0);
		CHECK_EQ(pthread_join(t, NULL), 0);
		CHECK_EQ(count_fds(), fds0);
	}
	finish();
}

TEST(scheduler_thread_exit_closes_its_fds_threads)
{
	thread_exit_test("threads");
}

TEST(scheduler_thread_exit_closes_its_fds_uring)
{
	thread_exit_test("uring");
}

/* ------------------------------------------------------------------ */
/* Every call waits off the scheduler thread: only its wire waits.     */

static volatile unsigned long spectator_ticks;
static volatile int spectator_stop;

/* Runs whenever it can: it advances only while the calling wire is parked. */
static void spectator(void *arg)
{
	(void)arg;
	while (!spectator_stop) {
		spectator_ticks++;
		wire_yield();
	}
}

/* @call is handed off and other wires run while it is in flight. */
#define WAITS_OFF_THREAD(call)                                                                     \
	do {                                                                                       \
		unsigned long h0_ = wire__io_handoffs(), t0_ = spectator_ticks;                    \
		call;                                                                              \
		CHECK_EQ(wire__io_handoffs() - h0_, 1);                                            \
		CHECK(spectator_ticks > t0_);                                                      \
	} while (0)

static void off_thread_body(void *arg)
{
	static char buf[64];
	char path[300], path2[300], sub[300];
	struct iovec iov = {buf, 8};
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	struct stat st;
	int fd, dfd, r;
	ssize_t n;

	(void)arg;
	path_in_dir(path, sizeof(path), "f");
	path_in_dir(path2, sizeof(path2), "g");
	path_in_dir(sub, sizeof(sub), "sub");
	WAITS_OFF_THREAD(fd = wio_open(path, O_CREAT | O_RDWR, 0600));
	CHECK(fd >= 0);
	WAITS_OFF_THREAD(n = wio_write(fd, "12345678", 8));
	CHECK_EQ(n, 8);
	WAITS_OFF_THREAD(n = wio_pwrite(fd, "abcdefgh", 8, 8));
	CHECK_EQ(n, 8);
	WAITS_OFF_THREAD(n = wio_pwritev(fd, &iov, 1, 16));
	CHECK_EQ(n, 8);
	WAITS_OFF_THREAD(n = wio_writev(fd, &iov, 1));
	CHECK_EQ(n, 8);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	WAITS_OFF_THREAD(n = wio_read(fd, buf, 8));
	CHECK_EQ(n, 8);
	WAITS_OFF_THREAD(n = wio_readv(fd, &iov, 1));
	CHECK_EQ(n, 8);
	WAITS_OFF_THREAD(n = wio_pread(fd, buf, 8, 0));
	CHECK_EQ(n, 8);
	WAITS_OFF_THREAD(n = wio_preadv(fd, &iov, 1, 8));
	CHECK_EQ(n, 8);
	WAITS_OFF_THREAD(r = wio_fstat(fd, &st));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_ftruncate(fd, 100));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_fallocate(fd, 0, 0, 200));
	CHECK(r == 0 || errno == EOPNOTSUPP);
	WAITS_OFF_THREAD(r = wio_fsync(fd));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_fdatasync(fd));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_close(fd));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_stat(path, &st));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_lstat(path, &st));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_rename(path, path2));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_mkdir(sub, 0700));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(dfd = wio_open(sub, O_RDONLY | O_DIRECTORY));
	CHECK(dfd >= 0);
	WAITS_OFF_THREAD(fd = wio_openat(dfd, "x", O_CREAT | O_WRONLY, 0600));
	CHECK(fd >= 0);
	close(fd);
	close(dfd);
	WAITS_OFF_THREAD(r = wio_unlink(path2));
	CHECK_EQ(r, 0);
	WAITS_OFF_THREAD(r = wio_getaddrinfo("localhost", "80", &hints, &res));
	CHECK_EQ(r, 0);
	freeaddrinfo(res);
	spectator_stop = 1;
}

static void off_thread_test(const char *backend)
{
	static char s1[STACK], s2[STACK];
	static wire_t w1, w2;

	setenv("WIRE_IO_INLINE", "0", 1); /* the reads too */
	start(backend);
	unsetenv("WIRE_IO_INLINE");
	umask(0);
	CHECK(wire_init(&w1, "caller", off_thread_body, NULL, s1, STACK));
	CHECK(wire_init(&w2, "spectator", spectator, NULL, s2, STACK));
	wire_thread_run();
	CHECK_EQ(w1.state, WIRE_DONE);
	CHECK_EQ(w2.state, WIRE_DONE);
	finish();
}

TEST(every_call_waits_off_the_thread_threads)
{
	off_thread_test("threads");
}

TEST(every_call_waits_off_the_thread_uring)
{
	off_thread_test("uring");
}

/* Built without liburing, the uring backend is refused with ENOSYS. */
TEST(uring_without_liburing_is_enosys)
{
#ifdef WIRE_HAVE_URING
	test_skip("this build has liburing: the ENOSYS case is tested in builds without it");
#else
	wire_thread_init(&thread);
	errno = 0;
	CHECK_EQ(wire_io_init_backend(2, "uring"), -1);
	CHECK_EQ(errno, ENOSYS);
	CHECK_STR_EQ(wire_io_backend(), "none");
	CHECK_EQ(wire_io_init_backend(2, "auto"), 0);
	CHECK_STR_EQ(wire_io_backend(), "threads");
	wire_io_shutdown();
#endif
}
