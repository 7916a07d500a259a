/* Tests of the wire_httpd example: its request parser, then the server. */
#include <errno.h>
#include <string.h>

#include "http_parse.h"
#include "test.h"

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

/* xorshift64*: deterministic random bytes for the bounded fuzz tests. */
static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* Random and mutated heads: every result is one of the documented ones. */
TEST(parse_random_input)
{
	static const char seed_req[] = "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
	char buf[256];
	struct http_request r;
	uint64_t seed = 0x5eed1234abcdULL;

	printf("seed %#llx\n", (unsigned long long)seed);
	rng_state = seed;
	for (int it = 0; it < 200000; it++) {
		size_t n = rng() % sizeof(buf);
		if (it & 1) {
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)rng();
		} else {
			n = sizeof(seed_req) - 1;
			memcpy(buf, seed_req, n);
			for (int k = (int)(rng() % 4); k >= 0; k--)
				buf[rng() % n] =
				    (char)(rng() % 4 ? (char)rng() : "\r\n :"[rng() % 4]);
			n = rng() % (n + 1);
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
