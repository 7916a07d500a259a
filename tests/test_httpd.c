/* Tests of the wire_httpd example: its request parser, then the server. */
// TEST_LABELS: threads
#include <errno.h>
#include <string.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_parse.h"
#include "httpd.h"
#include "srv_client.h"
#include "test.h"
#include "wire_io.h"

#define S(lit) lit, sizeof(lit) - 1

static int parse(const char *s, size_t n, struct http_request *r)
{
	memset(r, 0xa5, sizeof(*r));
	return http_parse_request(s, n, 8192, r);
}

TEST(parse_simple_get)
{
	struct http_request r;
	const char req[] = "GET /index.html HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";

	CHECK_EQ(parse(S(req), &r), sizeof(req) - 1);
	CHECK_EQ(r.method_len, 3);
	CHECK(memcmp(r.method, "GET", 3) == 0);
	CHECK_EQ(r.target_len, 11);
	CHECK(memcmp(r.target, "/index.html", 11) == 0);
	CHECK_EQ(r.minor, 1);
	CHECK_EQ(r.keep_alive, 1);
	CHECK_EQ(r.content_length, 0);
	CHECK_EQ(r.head_len, sizeof(req) - 1);
}

TEST(parse_keep_alive_rules)
{
	struct http_request r;

	CHECK(parse(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), &r) > 0);
	CHECK_EQ(r.keep_alive, 0);
	CHECK(parse(S("GET / HTTP/1.1\r\nHost: a\r\nconnection: Upgrade, CLOSE \r\n\r\n"), &r) > 0);
	CHECK_EQ(r.keep_alive, 0);
	CHECK(parse(S("GET / HTTP/1.0\r\n\r\n"), &r) > 0);
	CHECK_EQ(r.minor, 0);
	CHECK_EQ(r.keep_alive, 0);
	CHECK(parse(S("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), &r) > 0);
	CHECK_EQ(r.keep_alive, 1);
}

TEST(parse_content_length)
{
	struct http_request r;

	CHECK(parse(S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"), &r) > 0);
	CHECK_EQ(r.content_length, 12);
	CHECK(
	    parse(S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n"),
		  &r) > 0);
	CHECK_EQ(r.content_length, 5);
	CHECK_EQ(
	    parse(S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
		  &r),
	    HTTP_PARSE_BAD);
	CHECK_EQ(parse(S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), &r),
		 HTTP_PARSE_BAD);
	CHECK_EQ(parse(S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"), &r),
		 HTTP_PARSE_BAD);
	CHECK_EQ(parse(S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), &r),
		 HTTP_PARSE_BAD);
}

TEST(parse_every_prefix_is_incomplete)
{
	struct http_request r;
	const char req[] = "GET /a/b?c=d HTTP/1.1\r\nHost: example\r\nX-Long: v a l u e\r\n\r\n";

	for (size_t n = 0; n < sizeof(req) - 1; n++)
		CHECK_EQ(parse(req, n, &r), HTTP_PARSE_INCOMPLETE);
	CHECK_EQ(parse(S(req), &r), sizeof(req) - 1);
}

TEST(parse_pipelined_returns_first)
{
	struct http_request r;
	const char req[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	int n = parse(S(req), &r);

	CHECK_EQ(n, (sizeof(req) - 1) / 2);
	CHECK(memcmp(r.target, "/1", 2) == 0);
	CHECK_EQ(parse(req + n, sizeof(req) - 1 - (size_t)n, &r), n);
	CHECK(memcmp(r.target, "/2", 2) == 0);
}

TEST(parse_malformed)
{
	static const char *bad[] = {
	    "GET / HTTP/1.1\nHost: a\n\n",		 /* bare LF */
	    "GET / HTTP/1.1\r\nHost: a\r\n\n",		 /* bare LF at the end */
	    "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",	 /* double space */
	    "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", /* absolute form */
	    "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
	    "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost : a\r\n\r\n", /* space before colon */
	    "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
	    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
	    "GET / HTTP/1.1\r\n\r\n", /* 1.1 without Host */
	    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
	    "\r\n",
	    "GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n",
	};
	struct http_request r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int got = parse(bad[i], strlen(bad[i]), &r);
		if (got != HTTP_PARSE_BAD)
			test_fail(__FILE__, __LINE__, "case %zu: got %d", i, got);
	}
	/* Garbage is rejected before a line ends. */
	CHECK_EQ(parse(S("\x16\x03\x01\x02"), &r), HTTP_PARSE_BAD);
}

TEST(parse_too_large)
{
	static char big[9000];
	struct http_request r;
	size_t n;

	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + n, 'v', sizeof(big) - n);
	CHECK_EQ(http_parse_request(big, 100, 8192, &r), HTTP_PARSE_INCOMPLETE);
	CHECK_EQ(http_parse_request(big, 8192, 8192, &r), HTTP_PARSE_TOO_LARGE);
	/* A complete head that ends past the limit is too large as well. */
	memcpy(big + 8190, "\r\n\r\n", 4);
	CHECK_EQ(http_parse_request(big, 8194, 8192, &r), HTTP_PARSE_TOO_LARGE);
	CHECK_EQ(http_parse_request(big, 8194, 8194, &r), 8194);
}

/* Random and mutated heads: every result is one of the documented ones. */
TEST(parse_random_input)
{
	static const char seed_req[] = "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
	char buf[256];
	struct http_request r;
	uint64_t seed = 0x5eed1234abcdULL;

	printf("seed %#llx\n", (unsigned long long)seed);
	tc_rng_state = seed;
	for (int it = 0; it < 200000; it++) {
		size_t n = tc_rng() % sizeof(buf);
		if (it & 1) {
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)tc_rng();
		} else {
			n = sizeof(seed_req) - 1;
			memcpy(buf, seed_req, n);
			for (int k = (int)(tc_rng() % 4); k >= 0; k--)
				buf[tc_rng() % n] =
				    (char)(tc_rng() % 4 ? (char)tc_rng() : "\r\n :"[tc_rng() % 4]);
			n = tc_rng() % (n + 1);
		}
		int got = http_parse_request(buf, n, 128, &r);
		CHECK(got >= HTTP_PARSE_TOO_LARGE);
		if (got > 0) {
			CHECK((size_t)got <= n);
			CHECK(r.target >= buf && r.target + r.target_len <= buf + got);
			CHECK(r.method >= buf && r.method + r.method_len <= buf + got);
			CHECK_EQ(r.head_len, got);
		}
	}
}

/* ---- the server, in-process ---- */

static struct httpd h;
static char root[64];

/* A document root with a small file, a 100 KB file and a file outside it. */
static void make_root(void)
{
	static char big[100 * 1024];
	char path[128];
	int fd;

	snprintf(root, sizeof(root), "/tmp/wire-httpd-test.XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	snprintf(path, sizeof(path), "%s/www", root);
	CHECK_EQ(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/www/a.txt", root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK_EQ(write(fd, "file a\n", 7), 7);
	close(fd);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	snprintf(path, sizeof(path), "%s/www/big.bin", root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK_EQ(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	snprintf(path, sizeof(path), "%s/secret", root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK_EQ(write(fd, "secret\n", 7), 7);
	close(fd);
	snprintf(path, sizeof(path), "%s/www", root);
}

static void remove_root(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK_EQ(system(cmd), 0);
}

static char docroot[80];

static void start_httpd_req(unsigned limit, int idle_ms, int request_ms)
{
	int fd = tc_setup();
	make_root();
	snprintf(docroot, sizeof(docroot), "%s/www", root);
	CHECK_EQ(httpd_start(&h, fd, docroot, limit, idle_ms, request_ms), 0);
}

static void start_httpd(unsigned limit, int idle_ms)
{
	start_httpd_req(limit, idle_ms, 5000);
}

static void finish_httpd(void)
{
	srv_destroy(&h.srv);
	remove_root();
}

/* Response reader that keeps what follows a response for the next one. */
static struct rd {
	wire_net_t *n;
	char buf[256 * 1024];
	size_t len, off;
} rd;

struct resp {
	int status;
	char head[1024];
	const char *body;
	size_t body_len;
};

static void rd_init(wire_net_t *n)
{
	rd.n = n;
	rd.len = rd.off = 0;
}

static void rd_more(void)
{
	if (rd.off == rd.len)
		rd.off = rd.len = 0;
	CHECK(rd.len < sizeof(rd.buf));
	ssize_t r = wire_net_read_any(rd.n, rd.buf + rd.len, sizeof(rd.buf) - rd.len);
	CHECK(r > 0);
	rd.len += (size_t)r;
}

static void read_response(struct resp *rs)
{
	char *e;
	size_t hl;

	for (;;) {
		e = memmem(rd.buf + rd.off, rd.len - rd.off, "\r\n\r\n", 4);
		if (e)
			break;
		rd_more();
	}
	hl = (size_t)(e + 4 - (rd.buf + rd.off));
	CHECK(hl < sizeof(rs->head));
	memcpy(rs->head, rd.buf + rd.off, hl);
	rs->head[hl] = '\0';
	CHECK(strncmp(rs->head, "HTTP/1.1 ", 9) == 0);
	rs->status = atoi(rs->head + 9);
	char *cl = strstr(rs->head, "\r\nContent-Length: ");
	CHECK(cl != NULL);
	rs->body_len = strtoul(cl + 18, NULL, 10);
	rd.off += hl;
	while (rd.len - rd.off < rs->body_len && !strstr(rs->head, "HEAD-ONLY"))
		rd_more();
	rs->body = rd.buf + rd.off;
	rd.off += rs->body_len;
}

/* The connection is closed by the server: nothing more comes. */
static void expect_eof(wire_net_t *n)
{
	char c;
	CHECK_EQ(rd.len - rd.off, 0);
	ssize_t r = wire_net_read_any(n, &c, 1);
	CHECK(r == 0 || (r == -1 && errno == ECONNRESET));
}

static void body_keep_alive(void)
{
	wire_net_t n;
	struct resp rs;

	tc_connect(&n);
	rd_init(&n);
	for (int i = 0; i < 3; i++) {
		TC_SEND(&n, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
		read_response(&rs);
		CHECK_EQ(rs.status, 200);
		CHECK_EQ(rs.body_len, sizeof(HTTPD_BODY) - 1);
		CHECK(memcmp(rs.body, HTTPD_BODY, rs.body_len) == 0);
		CHECK(strstr(rs.head, "\r\nDate: ") != NULL);
		CHECK(strstr(rs.head, "Connection: close") == NULL);
	}
	wire_net_close(&n);
}

TEST(serve_keep_alive)
{
	start_httpd(16, 5000);
	tc_run(&h.srv, body_keep_alive);
	CHECK_EQ(h.requests, 3);
	CHECK_EQ(h.srv.accepted, 1);
	finish_httpd();
}

static void body_pipelined(void)
{
	wire_net_t n;
	struct resp rs;

	tc_connect(&n);
	rd_init(&n);
	TC_SEND(&n, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"
		    "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
		    "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
		    "HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
		    "GET /big.bin?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"
		    "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
		    "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	CHECK(memcmp(rs.body, HTTPD_BODY, rs.body_len) == 0);
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	CHECK_EQ(rs.body_len, 7);
	CHECK(memcmp(rs.body, "file a\n", 7) == 0);
	read_response(&rs);
	CHECK_EQ(rs.status, 404);
	/* HEAD: the length of the file, no body (the next response follows). */
	strcpy(rs.head, "HEAD-ONLY");
	{
		char *e;
		while (!(e = memmem(rd.buf + rd.off, rd.len - rd.off, "\r\n\r\n", 4)))
			rd_more();
		CHECK(memmem(rd.buf + rd.off, (size_t)(e - rd.buf) - rd.off, "Content-Length: 7",
			     17) != NULL);
		rd.off = (size_t)(e + 4 - rd.buf);
	}
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	CHECK_EQ(rs.body_len, 100 * 1024);
	for (size_t i = 0; i < rs.body_len; i++)
		if (rs.body[i] != (char)('a' + i % 26))
			test_fail(__FILE__, __LINE__, "big.bin differs at %zu", i);
	read_response(&rs); /* its 5-byte body was skipped */
	CHECK_EQ(rs.status, 200);
	CHECK(memcmp(rs.body, HTTPD_BODY, rs.body_len) == 0);
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	CHECK(strstr(rs.head, "Connection: close") != NULL);
	expect_eof(&n);
	wire_net_close(&n);
}

TEST(serve_pipelined_and_files)
{
	start_httpd(16, 5000);
	/* Files go through wio_ calls: with the thread backend when built. */
	CHECK_EQ(wire_io_init(1), 0);
	tc_run(&h.srv, body_pipelined);
	wire_io_shutdown();
	CHECK_EQ(h.requests, 7);
	finish_httpd();
}

/*
 * A FIFO under the document root: opening it must not wait for a writer
 * (that held a worker each, and three requests stalled every file
 * request). It gets an error at once; files are still served.
 */
static void body_fifo(void)
{
	wire_net_t n;
	struct resp rs;
	int64_t t0 = test_now_ms();

	tc_connect(&n);
	rd_init(&n);
	for (int i = 0; i < 3; i++) {
		TC_SEND(&n, "GET /fifo HTTP/1.1\r\nHost: t\r\n\r\n");
		read_response(&rs);
		CHECK_EQ(rs.status, 404);
	}
	TC_SEND(&n, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	CHECK(memcmp(rs.body, "file a\n", 7) == 0);
	CHECK_RANGE(test_now_ms() - t0, 0, 2000 * test_time_scale());
	wire_net_close(&n);
}

static void fifo_test(const char *backend)
{
	char path[128];

	start_httpd(16, 5000);
	snprintf(path, sizeof(path), "%s/fifo", docroot);
	CHECK_EQ(mkfifo(path, 0644), 0);
	if (wire_io_init_backend(1, backend) != 0) {
		CHECK_EQ(errno, ENOSYS);
		finish_httpd();
		test_skip("io_uring backend unavailable");
	}
	tc_run(&h.srv, body_fifo);
	wire_io_shutdown();
	finish_httpd();
}

TEST(serve_fifo_in_docroot_threads)
{
	fifo_test("threads");
}

TEST(serve_fifo_in_docroot_uring)
{
	fifo_test("uring");
}

static void body_partial(void)
{
	static const char req[] = "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n";
	wire_net_t n;
	struct resp rs;

	tc_connect(&n);
	rd_init(&n);
	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		tc_send(&n, req + i, 1);
		if (i % 7 == 0)
			wire_fd_wait_msec(1);
		else
			wire_yield();
	}
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	CHECK(memcmp(rs.body, "file a\n", 7) == 0);
	wire_net_close(&n);
}

TEST(serve_partial_request)
{
	start_httpd(16, 5000);
	tc_run(&h.srv, body_partial);
	CHECK_EQ(h.requests, 1);
	finish_httpd();
}

/* One request on a fresh connection; the server must close after it. */
static void closing_exchange(const char *req, size_t len, int status)
{
	wire_net_t n;
	struct resp rs;

	tc_connect(&n);
	rd_init(&n);
	tc_send(&n, req, len);
	read_response(&rs);
	if (rs.status != status)
		test_fail(__FILE__, __LINE__, "status %d, want %d for %.40s", rs.status, status,
			  req);
	CHECK(strstr(rs.head, "Connection: close") != NULL);
	expect_eof(&n);
	wire_net_close(&n);
}

#define CLOSING(lit, status) closing_exchange(lit, sizeof(lit) - 1, status)

static void body_errors(void)
{
	static char big[HTTPD_MAX_HEAD + 100];
	size_t n;

	CLOSING("GARBAGE\r\n\r\n", 400);
	CLOSING("GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400);
	CLOSING("GET / HTTP/1.1\r\n\r\n", 400);
	CLOSING("\x16\x03\x01\x00\xa5\x01\x00\x00", 400);
	CLOSING("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", 405);
	CLOSING("DELETE /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", 405);
	CLOSING("GET /../secret HTTP/1.1\r\nHost: t\r\n\r\n", 400);
	CLOSING("GET /%2e%2e/secret HTTP/1.1\r\nHost: t\r\n\r\n", 400);
	CLOSING("GET /x/..%2fsecret HTTP/1.1\r\nHost: t\r\n\r\n", 400);
	CLOSING("GET /a.txt%00 HTTP/1.1\r\nHost: t\r\n\r\n", 400);
	CLOSING("GET / HTTP/1.0\r\n\r\n", 200);
	/* Oversized head, sent whole: 413. */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ");
	memset(big + n, 'p', sizeof(big) - n);
	memcpy(big + sizeof(big) - 4, "\r\n\r\n", 4);
	closing_exchange(big, sizeof(big), 413);
}

TEST(serve_malformed_and_refused)
{
	start_httpd(16, 5000);
	tc_run(&h.srv, body_errors);
	CHECK_EQ(h.requests, 12);
	finish_httpd();
}

static void body_http10_keep_alive(void)
{
	wire_net_t n;
	struct resp rs;

	tc_connect(&n);
	rd_init(&n);
	TC_SEND(&n, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	CHECK(strstr(rs.head, "Connection: keep-alive") != NULL);
	TC_SEND(&n, "GET /nope HTTP/1.0\r\n\r\n");
	read_response(&rs);
	CHECK_EQ(rs.status, 404);
	expect_eof(&n);
	wire_net_close(&n);
}

TEST(serve_http10)
{
	start_httpd(16, 5000);
	tc_run(&h.srv, body_http10_keep_alive);
	finish_httpd();
}

static void body_limit(void)
{
	wire_net_t a, b, c;
	struct resp rs;
	char buf[512];

	tc_connect(&a);
	rd_init(&a);
	TC_SEND(&a, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
	read_response(&rs);
	tc_connect(&b);
	rd_init(&b);
	TC_SEND(&b, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
	read_response(&rs);
	CHECK_EQ(h.srv.nconns, 2);
	/* The third is over the limit: 503, then closed. */
	tc_connect(&c);
	tc_read_all(&c, buf, sizeof(buf));
	CHECK(strncmp(buf, "HTTP/1.1 503 ", 13) == 0);
	wire_net_close(&c);
	/* Once one ends, a new connection is served again. */
	wire_net_close(&a);
	for (int i = 0; i < 100 && h.srv.nconns == 2; i++)
		wire_fd_wait_msec(1);
	tc_connect(&c);
	rd_init(&c);
	TC_SEND(&c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	wire_net_close(&b);
	wire_net_close(&c);
}

TEST(serve_connection_limit)
{
	start_httpd(2, 5000);
	tc_run(&h.srv, body_limit);
	CHECK_EQ(h.srv.rejected, 1);
	finish_httpd();
}

static int64_t idle_ms;

static void body_idle(void)
{
	wire_net_t n;
	char c;
	int64_t t0;

	tc_connect(&n);
	t0 = test_now_ms();
	/* A silent client is dropped after the idle limit (100 ms, sweeper period 25 ms). */
	ssize_t r = wire_net_read_any(&n, &c, 1);
	idle_ms = test_now_ms() - t0;
	CHECK(r == 0 || (r < 0 && errno == ECONNRESET));
	wire_net_close(&n);
}

TEST(serve_idle_timeout)
{
	start_httpd(16, 100);
	tc_run(&h.srv, body_idle);
	CHECK_RANGE(idle_ms, 90, 100 + 200 * test_time_scale());
	CHECK_EQ(h.srv.idle_closed, 1);
	finish_httpd();
}

static int64_t slow_ms;
static size_t slow_sent;

static void body_slow_head(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\nUser-Agent: slow\r\n\r\n";
	char out[1024];
	size_t got;
	wire_net_t n;

	tc_connect(&n);
	rd_init(&n);
	/* One byte every 20 ms: the head needs 900 ms, the limit is 200 ms. */
	int64_t t0 = test_now_ms();
	slow_sent = tc_drip(&n, req, sizeof(req) - 1, 20, out, sizeof(out), &got);
	slow_ms = test_now_ms() - t0;
	CHECK(got > 0);
	memcpy(rd.buf, out, got);
	rd.len = got;
	struct resp rs;
	read_response(&rs);
	CHECK_EQ(rs.status, 408);
	CHECK(strstr(rs.head, "\r\nConnection: close\r\n") != NULL);
	expect_eof(&n);
	wire_net_close(&n);
}

TEST(serve_slow_head_408)
{
	start_httpd_req(16, 10000, 200);
	tc_run(&h.srv, body_slow_head);
	printf("408 after %lld ms, %zu bytes sent\n", (long long)slow_ms, slow_sent);
	CHECK(slow_sent < sizeof("GET / HTTP/1.1\r\nHost: t\r\nUser-Agent: slow\r\n\r\n") - 1);
	/* Limit 200 ms, sweeper period 50 ms, coarse clock ticks of a few ms. */
	CHECK_RANGE(slow_ms, 190, 250 + 200 * test_time_scale());
	CHECK_EQ(h.srv.request_closed, 1);
	CHECK_EQ(h.srv.idle_closed, 0);
	CHECK_EQ(h.requests, 1);
	finish_httpd();
}

static int limit_ms;

/*
 * A head in pieces that arrives within the limit is served, and the
 * limit does not apply between requests: an idle keep-alive connection
 * outlives it.
 */
static void body_head_in_time(void)
{
	static const char *piece[] = {"GET / HT", "TP/1.1\r\nHo", "st: t\r\n\r\n"};
	wire_net_t n;
	struct resp rs;

	tc_connect(&n);
	rd_init(&n);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3; i++) {
			tc_send(&n, piece[i], strlen(piece[i]));
			if (i < 2)
				wire_fd_wait_msec(limit_ms / 10);
		}
		read_response(&rs);
		CHECK_EQ(rs.status, 200);
		wire_fd_wait_msec(limit_ms + 100); /* idle, past the request limit */
	}
	TC_SEND(&n, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
	read_response(&rs);
	CHECK_EQ(rs.status, 200);
	wire_net_close(&n);
}

TEST(serve_head_within_limit)
{
	limit_ms = 100 * test_time_scale();
	start_httpd_req(16, 10000, limit_ms);
	tc_run(&h.srv, body_head_in_time);
	CHECK_EQ(h.requests, 3);
	CHECK_EQ(h.srv.request_closed, 0);
	CHECK_EQ(h.srv.idle_closed, 0);
	finish_httpd();
}

/*
 * Bounded random input over many connections: random bytes and mutated
 * requests, each connection ended by the client's half-close. The server
 * must answer with HTTP or nothing, never crash or hang, and still serve
 * a valid request at the end.
 */
static void body_random(void)
{
	static const char *valid[] = {
	    "GET / HTTP/1.1\r\nHost: t\r\n\r\n",
	    "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nxy",
	    "HEAD /big.bin HTTP/1.0\r\n\r\n",
	};
	char buf[600], out[4096];
	uint64_t seed = 0xf00dcafe1234ULL;
	int iters = test_under_valgrind() ? 40 : 300;

	printf("seed %#llx, %d connections\n", (unsigned long long)seed, iters);
	tc_rng_state = seed;
	for (int it = 0; it < iters; it++) {
		wire_net_t n;
		size_t len = tc_mangle(buf, 300, valid, 3, 3);
		tc_connect(&n);
		tc_send(&n, buf, len);
		CHECK_EQ(shutdown(n.fds.fd, SHUT_WR), 0);
		size_t got = tc_read_all(&n, out, sizeof(out));
		CHECK(got == 0 || strncmp(out, "HTTP/1.1 ", 9) == 0);
		wire_net_close(&n);
	}
	body_keep_alive();
}

TEST(serve_random_input)
{
	start_httpd(16, 5000);
	tc_run(&h.srv, body_random);
	finish_httpd();
}
