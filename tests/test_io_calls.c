/*
 * The wio_* calls beyond the seed's list (wire_io.h): each one's result
 * and errno against the libc call's, on both backends, and each handed
 * off from the wire that made it (only that wire waited).
 */
// TEST_LABELS: threads
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys.h"
#include "wire_io_internal.h"
#include "io_test.h"

/* From a wire (@from_wire), expect @call to hand off: the count grows by one. */
static int from_wire;

#define HANDED_OFF(call)                                                                           \
	do {                                                                                       \
		unsigned long h0_ = wire__io_handoffs();                                           \
		call;                                                                              \
		CHECK_EQ(wire__io_handoffs() - h0_, from_wire);                                    \
	} while (0)

/* @expr fails with -1 (or NULL) and errno @e. */
#define FAILS(expr, e)                                                                             \
	do {                                                                                       \
		errno = 0;                                                                         \
		CHECK((long)(intptr_t)(expr) == -1);                                               \
		CHECK_EQ(errno, e);                                                                \
	} while (0)

static void stat_calls(void)
{
	char file[300], link[300];
	struct stat st, ref;
	struct statx sx, rx;
	int fd, dfd, r;

	path_in_dir(file, sizeof(file), "f");
	path_in_dir(link, sizeof(link), "l");
	fd = open(file, O_CREAT | O_RDWR, 0640);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	CHECK_EQ(symlink("f", link), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);

	/* fstatat: relative to a directory fd, following links or not. */
	HANDED_OFF(r = wio_fstatat(dfd, "f", &st, 0));
	CHECK_EQ(r, 0);
	CHECK_EQ(fstatat(dfd, "f", &ref, 0), 0);
	CHECK_EQ(st.st_ino, ref.st_ino);
	CHECK_EQ(st.st_size, 10);
	CHECK_EQ(st.st_mode, ref.st_mode);
	CHECK_EQ(wio_fstatat(dfd, "l", &st, AT_SYMLINK_NOFOLLOW), 0);
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(wio_fstatat(dfd, "l", &st, 0), 0);
	CHECK(S_ISREG(st.st_mode));
	FAILS(wio_fstatat(dfd, "missing", &st, 0), ENOENT);
	FAILS(wio_fstatat(-1, "f", &st, 0), EBADF);
	CHECK_EQ(wio_fstatat(AT_FDCWD, file, &st, 0), 0);
	CHECK_EQ(st.st_ino, ref.st_ino);

	/* statx. */
	HANDED_OFF(r = wio_statx(dfd, "f", 0, STATX_BASIC_STATS, &sx));
	CHECK_EQ(r, 0);
	CHECK_EQ(statx(dfd, "f", 0, STATX_BASIC_STATS, &rx), 0);
	CHECK_EQ(sx.stx_ino, rx.stx_ino);
	CHECK_EQ(sx.stx_size, 10);
	CHECK_EQ(sx.stx_mode, rx.stx_mode);
	CHECK((sx.stx_mask & STATX_BASIC_STATS) == (rx.stx_mask & STATX_BASIC_STATS));
	FAILS(wio_statx(dfd, "missing", 0, STATX_BASIC_STATS, &sx), ENOENT);
	FAILS(wio_statx(dfd, "f", 0, STATX__RESERVED, &sx), EINVAL);

	/* fstatfs. */
	{
		struct statfs a, b;
		HANDED_OFF(r = wio_fstatfs(fd, &a));
		CHECK_EQ(r, 0);
		CHECK_EQ(fstatfs(fd, &b), 0);
		CHECK_EQ(a.f_type, b.f_type);
		CHECK_EQ(a.f_bsize, b.f_bsize);
		FAILS(wio_fstatfs(-1, &a), EBADF);
	}
	close(fd);
	close(dfd);
	unlink(link);
	unlink(file);
}

static void file_calls(void)
{
	char file[300], out[300], buf[64];
	struct stat st;
	int fd, fd2, p[2], r;
	off_t in_off, out_off;
	ssize_t n;

	path_in_dir(file, sizeof(file), "t");
	path_in_dir(out, sizeof(out), "o");
	fd = open(file, O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "hello, world", 12), 12);

	/* truncate by path. */
	HANDED_OFF(r = wio_truncate(file, 5));
	CHECK_EQ(r, 0);
	CHECK_EQ(fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 5);
	FAILS(wio_truncate(file, -1), EINVAL);
	FAILS(wio_truncate("/nonexistent/x", 0), ENOENT);

	/* sync_file_range. */
	HANDED_OFF(r = wio_sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	CHECK_EQ(r, 0);
	FAILS(wio_sync_file_range(-1, 0, 0, SYNC_FILE_RANGE_WRITE), EBADF);
	FAILS(wio_sync_file_range(fd, -1, 0, SYNC_FILE_RANGE_WRITE), EINVAL);
	CHECK_EQ(pipe(p), 0);
	FAILS(wio_sync_file_range(p[0], 0, 0, SYNC_FILE_RANGE_WRITE), ESPIPE);

	/* fchmod, fchown, access. */
	HANDED_OFF(r = wio_fchmod(fd, 0604));
	CHECK_EQ(r, 0);
	CHECK_EQ(fstat(fd, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0604);
	FAILS(wio_fchmod(-1, 0600), EBADF);
	HANDED_OFF(r = wio_fchown(fd, getuid(), getgid()));
	CHECK_EQ(r, 0);
	FAILS(wio_fchown(-1, getuid(), getgid()), EBADF);
	HANDED_OFF(r = wio_access(file, F_OK));
	CHECK_EQ(r, 0);
	CHECK_EQ(wio_access(file, R_OK), access(file, R_OK));
	FAILS(wio_access("/nonexistent/x", F_OK), ENOENT);
	FAILS(wio_access(file, 0x40), EINVAL);

	/* sendfile: file to a pipe, the offset moves. */
	in_off = 1;
	HANDED_OFF(n = wio_sendfile(p[1], fd, &in_off, 3));
	CHECK_EQ(n, 3);
	CHECK_EQ(in_off, 4);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "ell", 3) == 0);
	FAILS(wio_sendfile(p[1], -1, NULL, 3), EBADF);

	/* copy_file_range: file to file, both offsets move. */
	fd2 = open(out, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd2 >= 0);
	in_off = 0;
	out_off = 2;
	HANDED_OFF(n = wio_copy_file_range(fd, &in_off, fd2, &out_off, 5, 0));
	CHECK_EQ(n, 5);
	CHECK_EQ(in_off, 5);
	CHECK_EQ(out_off, 7);
	CHECK_EQ(pread(fd2, buf, sizeof(buf), 2), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	FAILS(wio_copy_file_range(-1, NULL, fd2, NULL, 5, 0), EBADF);
	FAILS(wio_copy_file_range(fd, NULL, fd2, NULL, 5, 1), EINVAL);

	close(p[0]);
	close(p[1]);
	close(fd);
	close(fd2);
	unlink(file);
	unlink(out);
}

static void dir_calls(void)
{
	char sub[300], link[300], target[64];
	int dfd, r, seen = 0;
	struct dirent *e;
	DIR *d;
	ssize_t n;

	path_in_dir(sub, sizeof(sub), "d");
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);

	/* mkdirat, then files in it, renameat, unlinkat. */
	HANDED_OFF(r = wio_mkdirat(dfd, "d", 0750));
	CHECK_EQ(r, 0);
	FAILS(wio_mkdirat(dfd, "d", 0750), EEXIST);
	FAILS(wio_mkdirat(-1, "x", 0750), EBADF);
	CHECK(close(openat(dfd, "d/a", O_CREAT | O_WRONLY, 0600)) == 0);
	HANDED_OFF(r = wio_renameat(dfd, "d/a", dfd, "d/b"));
	CHECK_EQ(r, 0);
	CHECK_EQ(faccessat(dfd, "d/b", F_OK, 0), 0);
	FAILS(wio_renameat(dfd, "d/a", dfd, "d/c"), ENOENT);

	/* opendir, readdir to the end, closedir. */
	HANDED_OFF(d = wio_opendir(sub));
	CHECK(d != NULL);
	errno = 12345;
	while ((e = wio_readdir(d)))
		seen += strcmp(e->d_name, "b") == 0;
	CHECK_EQ(errno, 12345); /* the end: errno untouched, as readdir(3) */
	CHECK_EQ(seen, 1);
	HANDED_OFF(r = wio_closedir(d));
	CHECK_EQ(r, 0);
	errno = 0;
	CHECK(wio_opendir("/nonexistent/x") == NULL);
	CHECK_EQ(errno, ENOENT);

	/* rmdir of a directory that is not empty, unlinkat, rmdir. */
	FAILS(wio_rmdir(sub), ENOTEMPTY);
	FAILS(wio_unlinkat(dfd, "d", 0), EISDIR);
	HANDED_OFF(r = wio_unlinkat(dfd, "d/b", 0));
	CHECK_EQ(r, 0);
	FAILS(wio_unlinkat(dfd, "d/b", 0), ENOENT);
	HANDED_OFF(r = wio_rmdir(sub));
	CHECK_EQ(r, 0);
	FAILS(wio_rmdir(sub), ENOENT);
	CHECK_EQ(wio_mkdirat(dfd, "d", 0700), 0);
	CHECK_EQ(wio_unlinkat(dfd, "d", AT_REMOVEDIR), 0);

	/* readlink. */
	path_in_dir(link, sizeof(link), "ln");
	CHECK_EQ(symlink("somewhere", link), 0);
	HANDED_OFF(n = wio_readlink(link, target, sizeof(target)));
	CHECK_EQ(n, 9);
	CHECK(memcmp(target, "somewhere", 9) == 0);
	FAILS(wio_readlink(dir, target, sizeof(target)), EINVAL);
	FAILS(wio_readlink("/nonexistent/x", target, sizeof(target)), ENOENT);
	unlink(link);
	close(dfd);
}

static void net_and_process_calls(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(80),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char host[64], serv[16];
	int status = 0, r;
	pid_t pid, got;

	HANDED_OFF(r = wio_getnameinfo((struct sockaddr *)&sa, sizeof(sa), host, sizeof(host), serv,
				       sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV));
	CHECK_EQ(r, 0);
	CHECK_STR_EQ(host, "127.0.0.1");
	CHECK_STR_EQ(serv, "80");
	/* An address too short for its family. */
	CHECK_EQ(wio_getnameinfo((struct sockaddr *)&sa, 2, host, sizeof(host), serv, sizeof(serv),
				 NI_NUMERICHOST),
		 getnameinfo((struct sockaddr *)&sa, 2, host, sizeof(host), serv, sizeof(serv),
			     NI_NUMERICHOST));

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(7);
	HANDED_OFF(got = wio_waitpid(pid, &status, 0));
	CHECK_EQ(got, pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(test_exit_code(status), 7);
	FAILS(wio_waitpid(pid, &status, 0), ECHILD);
}

static void calls_body(void *arg)
{
	(void)arg;
	from_wire = 1;
	stat_calls();
	file_calls();
	dir_calls();
	net_and_process_calls();
}

static void calls_test(const char *backend)
{
	start(backend);
	umask(0);
	run_wire(calls_body, NULL);
	finish();
}

TEST(more_calls_like_libc_threads)
{
	calls_test("threads");
}

TEST(more_calls_like_libc_uring)
{
	calls_test("uring");
}

/* Outside a wire they are the plain calls, with the same results. */
TEST(more_calls_outside_a_wire)
{
	unsigned long h0;

	start("threads");
	umask(0);
	h0 = wire__io_handoffs();
	stat_calls();
	file_calls();
	dir_calls();
	CHECK_EQ(wire__io_handoffs(), h0);
	finish();
}
