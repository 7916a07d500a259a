/* Tests of the wire_kv example: its RESP parser, then the server. */
// TEST_CPU: serve_busy_poll_default
#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "kv.h"
#include "resp.h"
#include "srv_client.h"
#include "test.h"

#define S(lit) lit, sizeof(lit) - 1

static struct resp_cmd cmd;
static const char *err;

static int arg_is(int i, const char *s)
{
	return i < cmd.argc && cmd.argl[i] == strlen(s) && memcmp(cmd.argv[i], s, cmd.argl[i]) == 0;
}

TEST(parse_multibulk)
{
	const char f[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n";

	CHECK_EQ(resp_parse(S(f), &cmd, &err, NULL), sizeof(f) - 1);
	CHECK_EQ(cmd.argc, 3);
	CHECK(arg_is(0, "SET"));
	CHECK(arg_is(1, "key"));
	CHECK(arg_is(2, "va\r\nl")); /* binary safe */
}

TEST(parse_every_prefix_is_incomplete)
{
	const char f[] = "*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n";
	size_t need;

	for (size_t n = 0; n < sizeof(f) - 1; n++)
		CHECK_EQ(resp_parse(f, n, &cmd, &err, NULL), RESP_INCOMPLETE);
	/* Once the bulk header is in, the parser knows the frame's length. */
	CHECK_EQ(resp_parse(f, 20, &cmd, &err, &need), RESP_INCOMPLETE);
	CHECK_EQ(need, sizeof(f) - 1);
	CHECK_EQ(resp_parse(S(f), &cmd, &err, &need), sizeof(f) - 1);
	CHECK(arg_is(1, "0123456789"));
}

TEST(parse_inline)
{
	CHECK_EQ(resp_parse(S("PING\r\n"), &cmd, &err, NULL), 6);
	CHECK_EQ(cmd.argc, 1);
	CHECK(arg_is(0, "PING"));
	CHECK_EQ(resp_parse(S("  set  a \tb\n"), &cmd, &err, NULL), 12);
	CHECK_EQ(cmd.argc, 3);
	CHECK(arg_is(0, "set"));
	CHECK(arg_is(1, "a"));
	CHECK(arg_is(2, "b"));
	CHECK_EQ(resp_parse(S("\r\n"), &cmd, &err, NULL), 2);
	CHECK_EQ(cmd.argc, 0);
	CHECK_EQ(resp_parse(S("GET a"), &cmd, &err, NULL), RESP_INCOMPLETE);
}

TEST(parse_pipelined)
{
	const char f[] = "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n";
	size_t off = 0;
	int n;

	n = resp_parse(f + off, sizeof(f) - 1 - off, &cmd, &err, NULL);
	CHECK_EQ(n, 14);
	CHECK(arg_is(0, "PING"));
	off += (size_t)n;
	n = resp_parse(f + off, sizeof(f) - 1 - off, &cmd, &err, NULL);
	CHECK_EQ(n, 20);
	CHECK(arg_is(1, "k"));
	off += (size_t)n;
	n = resp_parse(f + off, sizeof(f) - 1 - off, &cmd, &err, NULL);
	CHECK_EQ(n, 6);
	CHECK_EQ(off + 6, sizeof(f) - 1);
}

/* Lengths of every width, with and without the short-length fast path. */
TEST(parse_length_widths)
{
	static char f[4096];
	static const size_t widths[] = {0, 1, 9, 10, 99, 100, 1000, 2048};

	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		size_t vl = widths[w];
		int hl = sprintf(f, "*2\r\n$3\r\nGET\r\n$%zu\r\n", vl);
		memset(f + hl, 'v', vl);
		memcpy(f + hl + vl, "\r\n", 2);
		CHECK_EQ(resp_parse(f, (size_t)hl + vl + 2, &cmd, &err, NULL), hl + (int)vl + 2);
		CHECK_EQ(cmd.argc, 2);
		CHECK_EQ(cmd.argl[1], vl);
		CHECK(cmd.argv[1] == f + hl);
		/* One byte short: incomplete, and the frame's length is known. */
		size_t need = 0;
		CHECK_EQ(resp_parse(f, (size_t)hl + vl + 1, &cmd, &err, &need), RESP_INCOMPLETE);
		CHECK_EQ(need, (size_t)hl + vl + 2);
	}
	/* A leading zero is a length like any other, as in the general path. */
	CHECK_EQ(resp_parse(S("*1\r\n$04\r\nPING\r\n"), &cmd, &err, NULL), 15);
	CHECK(arg_is(0, "PING"));
	CHECK_EQ(resp_parse(S("*01\r\n$4\r\nPING\r\n"), &cmd, &err, NULL), 15);
	CHECK(arg_is(0, "PING"));
	/* Malformed right after one or two digits. */
	CHECK_EQ(resp_parse(S("*1\r\n$4\rxPING\r\n"), &cmd, &err, NULL), RESP_BAD);
	CHECK_EQ(resp_parse(S("*1\r\n$12\nabcdefghijkl\r\n"), &cmd, &err, NULL), RESP_BAD);
	CHECK_EQ(resp_parse(S("*1\r\n$1x\r\nP\r\n"), &cmd, &err, NULL), RESP_BAD);
	CHECK_EQ(resp_parse(S("*1x\r\n"), &cmd, &err, NULL), RESP_BAD);
	/* Cut inside the length line. */
	CHECK_EQ(resp_parse(S("*1\r\n$4\r"), &cmd, &err, NULL), RESP_INCOMPLETE);
	CHECK_EQ(resp_parse(S("*1\r\n$42"), &cmd, &err, NULL), RESP_INCOMPLETE);
	CHECK_EQ(resp_parse(S("*1\r"), &cmd, &err, NULL), RESP_INCOMPLETE);
}

TEST(parse_malformed)
{
	static const char *bad[] = {
	    "*2\r\n+GET\r\n",	  /* not a bulk */
	    "*x\r\n",		  /* bad count */
	    "*1\n$4\r\nPING\r\n", /* bare LF after count */
	    "*1\r\n$-1\r\n",	  /* null bulk in a command */
	    "*1\r\n$4\r\nPINGxx", /* no CRLF after the bulk */
	    "*1\r\n$4x\r\nPING\r\n",
	    "*99999\r\n",	       /* too many arguments */
	    "*1\r\n$999999999999\r\n", /* bulk too long */
	    "*1234567890123456789012345678901234567890",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		int got = resp_parse(bad[i], strlen(bad[i]), &cmd, &err, NULL);
		if (got != RESP_BAD || !err || strncmp(err, "Protocol error", 14) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: got %d", i, got);
	}
}

/* Random and mutated frames: every result is one of the documented ones. */
TEST(parse_random_input)
{
	static const char seed_frame[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
	char buf[256];
	uint64_t seed = 0x6b76f00dULL;

	printf("seed %#llx\n", (unsigned long long)seed);
	tc_rng_state = seed;
	for (int it = 0; it < 200000; it++) {
		size_t n = tc_rng() % sizeof(buf), need = 0;
		if (it & 1) {
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)tc_rng();
			if (it & 2)
				buf[0] = '*';
		} else {
			n = sizeof(seed_frame) - 1;
			memcpy(buf, seed_frame, n);
			for (int k = (int)(tc_rng() % 4); k >= 0; k--)
				buf[tc_rng() % n] =
				    (char)(tc_rng() % 2 ? (char)tc_rng()
							: "\r\n*$0123"[tc_rng() % 8]);
			n = tc_rng() % (n + 1);
		}
		err = NULL;
		int got = resp_parse(buf, n, &cmd, &err, &need);
		CHECK(got >= RESP_BAD);
		if (got == RESP_BAD)
			CHECK(err != NULL);
		if (got == RESP_INCOMPLETE)
			CHECK(need == 0 || need > n);
		if (got > 0) {
			CHECK((size_t)got <= n);
			for (int i = 0; i < cmd.argc; i++)
				CHECK(cmd.argv[i] >= buf && cmd.argv[i] + cmd.argl[i] <= buf + got);
		}
	}
}

/* ---- the server, in-process ---- */

static struct kv k;

static void start_kv_req(unsigned limit, int request_ms)
{
	int fd = tc_setup();
	CHECK_EQ(kv_start(&k, fd, limit, 5000, request_ms), 0);
}

static void start_kv(unsigned limit)
{
	start_kv_req(limit, 5000);
}

/* Send @req and expect exactly @want back (read_full of its length). */
static void exchange(wire_net_t *n, const char *req, const char *want)
{
	static char got[1 << 16];
	size_t wl = strlen(want);

	tc_send(n, req, strlen(req));
	CHECK(wl < sizeof(got));
	CHECK_EQ(wire_net_read_full(n, got, wl), (ssize_t)wl);
	got[wl] = '\0';
	if (memcmp(got, want, wl) != 0)
		test_fail(__FILE__, __LINE__, "for %s got [%s] want [%s]", req, got, want);
}

static void body_commands(void)
{
	wire_net_t n;

	tc_connect(&n);
	exchange(&n, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
	exchange(&n, "*2\r\n$4\r\nping\r\n$2\r\nhi\r\n", "$2\r\nhi\r\n");
	exchange(&n, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "$-1\r\n");
	exchange(&n, "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhello\r\n", "+OK\r\n");
	exchange(&n, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "$5\r\nhello\r\n");
	exchange(&n, "*3\r\n$3\r\nset\r\n$1\r\na\r\n$0\r\n\r\n", "+OK\r\n");
	exchange(&n, "*2\r\n$3\r\nget\r\n$1\r\na\r\n", "$0\r\n\r\n");
	exchange(&n, "*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n", ":1\r\n");
	exchange(&n, "*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n", ":2\r\n");
	exchange(&n, "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n",
		 "-ERR value is not an integer or out of range\r\n");
	exchange(&n, "SET m 9223372036854775807\r\n", "+OK\r\n");
	exchange(&n, "INCR m\r\n", "-ERR increment or decrement would overflow\r\n");
	exchange(&n, "SET m -5\r\nINCR m\r\n", "+OK\r\n:-4\r\n");
	exchange(&n, "*4\r\n$4\r\nMGET\r\n$1\r\nc\r\n$1\r\nx\r\n$1\r\nm\r\n",
		 "*3\r\n$1\r\n2\r\n$-1\r\n$2\r\n-4\r\n");
	exchange(&n, "*4\r\n$6\r\nEXISTS\r\n$1\r\nc\r\n$1\r\nc\r\n$1\r\nx\r\n", ":2\r\n");
	exchange(&n, "*4\r\n$3\r\nDEL\r\n$1\r\nc\r\n$1\r\nx\r\n$1\r\nm\r\n", ":2\r\n");
	exchange(&n, "*2\r\n$6\r\nexists\r\n$1\r\nc\r\n", ":0\r\n");
	/* Errors that keep the connection. */
	exchange(&n, "*2\r\n$5\r\nFLUSH\r\n$1\r\nc\r\n", "-ERR unknown command 'FLUSH'\r\n");
	exchange(&n, "*1\r\n$3\r\nGET\r\n", "-ERR wrong number of arguments for 'get' command\r\n");
	exchange(&n, "SET a b EX 10\r\n", "-ERR syntax error\r\n");
	exchange(&n, "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsave\r\n",
		 "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
	exchange(&n, "PING\r\n", "+PONG\r\n");
	wire_net_close(&n);
}

TEST(serve_commands)
{
	start_kv(16);
	tc_run(&k.srv, body_commands);
	kv_destroy(&k);
}

/* The servers poll for SRV_BUSY_POLL_NS before they sleep unless the
 * environment says otherwise; they serve the same with polling on. */
TEST(serve_busy_poll_default)
{
	unsetenv("WIRE_FD_BUSY_POLL_US");
	start_kv(16);
	CHECK_EQ(srv_busy_poll(), SRV_BUSY_POLL_NS);
	CHECK_EQ(wire_fd_busy_poll(), SRV_BUSY_POLL_NS);
	tc_run(&k.srv, body_commands);
	kv_destroy(&k);
	/* The environment chose: its value stays, 0 included. */
	setenv("WIRE_FD_BUSY_POLL_US", "0", 1);
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(srv_busy_poll(), 0);
	setenv("WIRE_FD_BUSY_POLL_US", "7", 1);
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(srv_busy_poll(), 7000);
	/* Empty is unset. */
	setenv("WIRE_FD_BUSY_POLL_US", "", 1);
	CHECK_EQ(wire_fd_init(), 0);
	CHECK_EQ(srv_busy_poll(), SRV_BUSY_POLL_NS);
}

/* Many commands in one write: every reply, in order. */
static void body_pipelined(void)
{
	static char req[64 * 1024], want[64 * 1024];
	size_t rl = 0, wl = 0;
	wire_net_t n;

	for (int i = 0; i < 500; i++) {
		rl +=
		    (size_t)sprintf(req + rl, "*3\r\n$3\r\nSET\r\n$4\r\nk%03d\r\n$%d\r\n%d\r\n", i,
				    i < 10    ? 1
				    : i < 100 ? 2
					      : 3,
				    i);
		wl += (size_t)sprintf(want + wl, "+OK\r\n");
		rl += (size_t)sprintf(req + rl, "*2\r\n$4\r\nINCR\r\n$4\r\nk%03d\r\n", i);
		wl += (size_t)sprintf(want + wl, ":%d\r\n", i + 1);
	}
	tc_connect(&n);
	exchange(&n, req, want);
	wire_net_close(&n);
}

TEST(serve_pipelined)
{
	start_kv(16);
	tc_run(&k.srv, body_pipelined);
	CHECK_EQ(k.commands, 1000);
	CHECK_EQ(k.table.count, 500);
	kv_destroy(&k);
}

/* A frame dribbled a byte at a time, and a value larger than the buffers. */
static void body_partial_and_big(void)
{
	static const char req[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nvalue!\r\n";
	static char big[200 * 1024 + 64], got[200 * 1024 + 64];
	size_t vl = 200 * 1024, hl;
	wire_net_t n;

	tc_connect(&n);
	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		tc_send(&n, req + i, 1);
		if (i % 5 == 0)
			wire_fd_wait_msec(1);
		else
			wire_yield();
	}
	CHECK_EQ(wire_net_read_full(&n, got, 5), 5);
	CHECK(memcmp(got, "+OK\r\n", 5) == 0);
	exchange(&n, "GET key\r\n", "$6\r\nvalue!\r\n");
	hl = (size_t)sprintf(big, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", vl);
	for (size_t i = 0; i < vl; i++)
		big[hl + i] = (char)('A' + i % 23);
	memcpy(big + hl + vl, "\r\n", 2);
	tc_send(&n, big, hl + vl + 2);
	CHECK_EQ(wire_net_read_full(&n, got, 5), 5);
	CHECK(memcmp(got, "+OK\r\n", 5) == 0);
	TC_SEND(&n, "GET big\r\n");
	hl = (size_t)sprintf(big, "$%zu\r\n", vl);
	CHECK_EQ(wire_net_read_full(&n, got, hl + vl + 2), (ssize_t)(hl + vl + 2));
	CHECK(memcmp(got, big, hl) == 0);
	for (size_t i = 0; i < vl; i++)
		if (got[hl + i] != (char)('A' + i % 23))
			test_fail(__FILE__, __LINE__, "big value differs at %zu", i);
	exchange(&n, "PING\r\n", "+PONG\r\n");
	wire_net_close(&n);
}

TEST(serve_partial_and_big)
{
	start_kv(16);
	tc_run(&k.srv, body_partial_and_big);
	kv_destroy(&k);
}

/* SET @key to @len bytes of @c (one letter keys), in one send. */
static void set_value(wire_net_t *n, const char *key, size_t len, char c)
{
	static char req[KV_OUT + 64];
	char ok[6];
	int hl = sprintf(req, "*3\r\n$3\r\nSET\r\n$1\r\n%s\r\n$%zu\r\n", key, len);

	CHECK(len <= KV_OUT);
	memset(req + hl, c, len);
	memcpy(req + (size_t)hl + len, "\r\n", 2);
	tc_send(n, req, (size_t)hl + len + 2);
	tc_read_exact(n, ok, 5);
	CHECK(memcmp(ok, "+OK\r\n", 5) == 0);
}

/* Read a bulk reply of @len bytes of @c. */
static void expect_bulk(wire_net_t *n, size_t len, char c)
{
	static char got[KV_OUT + 32];
	char hdr[32];
	int hl = sprintf(hdr, "$%zu\r\n", len);

	tc_read_exact(n, got, (size_t)hl + len + 2);
	CHECK(memcmp(got, hdr, (size_t)hl) == 0);
	for (size_t i = 0; i < len; i++)
		if (got[hl + i] != c)
			test_fail(__FILE__, __LINE__, "byte %zu of %zu is %d", i, len, got[hl + i]);
	CHECK(memcmp(got + hl + len, "\r\n", 2) == 0);
}

/*
 * Two pipelined GETs whose replies meet the end of the output buffer: the
 * first reply leaves @f bytes free, the second needs more, about as many
 * or less (every @f around its size, for several sizes), so that it is
 * built in place, or goes out in pieces around a flush. Both arrive
 * intact, in order.
 */
static void body_replies_across_buffer(void)
{
	static const size_t bs[] = {0, 5, 100, 1000};
	wire_net_t n;

	tc_connect(&n);
	for (size_t i = 0; i < sizeof(bs) / sizeof(bs[0]); i++) {
		size_t b = bs[i];
		set_value(&n, "b", b, 'B');
		for (size_t f = b > 2 ? b - 2 : 0; f <= b + 30; f++) {
			/* "$<5 digits>\r\n", the value, "\r\n": KV_OUT - f bytes. */
			size_t a = KV_OUT - 10 - f;
			set_value(&n, "a", a, 'A');
			TC_SEND(&n, "GET a\r\nGET b\r\n");
			expect_bulk(&n, a, 'A');
			expect_bulk(&n, b, 'B');
		}
	}
	exchange(&n, "PING\r\n", "+PONG\r\n");
	wire_net_close(&n);
}

TEST(serve_replies_across_buffer)
{
	start_kv(16);
	tc_run(&k.srv, body_replies_across_buffer);
	CHECK_EQ(k.table.count, 2);
	kv_destroy(&k);
}

/* Garbage: a protocol error reply, then the server closes. */
static void garbage_exchange(const char *req, size_t len)
{
	char out[512];
	wire_net_t n;

	tc_connect(&n);
	exchange(&n, "PING\r\n", "+PONG\r\n");
	tc_send(&n, req, len);
	tc_read_all(&n, out, sizeof(out));
	if (strncmp(out, "-ERR Protocol error", 19) != 0)
		test_fail(__FILE__, __LINE__, "got [%s]", out);
	CHECK_EQ(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line, then EOF */
	wire_net_close(&n);
}

#define GARBAGE(lit) garbage_exchange(lit, sizeof(lit) - 1)

static void body_garbage(void)
{
	GARBAGE("*2\r\n$3\r\nGET\r\n:12\r\n");
	GARBAGE("*1\r\n$4\r\nPINGPONG\r\n");
	GARBAGE("*abc\r\n");
	GARBAGE("*1\r\n$-5\r\n");
	GARBAGE("*1\r\n$99999999999\r\n");
	/* The server still serves a good client. */
	body_commands();
}

TEST(serve_garbage)
{
	start_kv(16);
	tc_run(&k.srv, body_garbage);
	kv_destroy(&k);
}

static void body_limit(void)
{
	wire_net_t a, b;
	char out[128];

	tc_connect(&a);
	exchange(&a, "PING\r\n", "+PONG\r\n");
	tc_connect(&b);
	tc_read_all(&b, out, sizeof(out));
	CHECK_STR_EQ(out, "-ERR max number of clients reached\r\n");
	wire_net_close(&b);
	wire_net_close(&a);
}

TEST(serve_connection_limit)
{
	start_kv(1);
	tc_run(&k.srv, body_limit);
	CHECK_EQ(k.srv.rejected, 1);
	kv_destroy(&k);
}

static int64_t slow_ms;
static size_t slow_sent;
static const char slow_cmd[] = "*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$5\r\nvalue\r\n";

static void body_slow_command(void)
{
	char out[128];
	size_t got;
	wire_net_t n;

	tc_connect(&n);
	/* One byte every 20 ms: the command needs 700 ms, the limit is 200 ms. */
	int64_t t0 = test_now_ms();
	slow_sent = tc_drip(&n, slow_cmd, sizeof(slow_cmd) - 1, 20, out, sizeof(out), &got);
	slow_ms = test_now_ms() - t0;
	CHECK_EQ(got, 0); /* closed, no reply */
	wire_net_close(&n);
	/* The command never ran; the server serves others. */
	tc_connect(&n);
	exchange(&n, "*2\r\n$3\r\nGET\r\n$4\r\nslow\r\n", "$-1\r\n");
	wire_net_close(&n);
}

TEST(serve_slow_command_closed)
{
	start_kv_req(16, 200);
	tc_run(&k.srv, body_slow_command);
	printf("closed after %lld ms, %zu bytes sent\n", (long long)slow_ms, slow_sent);
	CHECK(slow_sent < sizeof(slow_cmd) - 1);
	/* Limit 200 ms, sweeper period 50 ms, coarse clock ticks of a few ms. */
	CHECK_RANGE(slow_ms, 190, 250 + 200 * test_time_scale());
	CHECK_EQ(k.srv.request_closed, 1);
	CHECK_EQ(k.srv.idle_closed, 0);
	kv_destroy(&k);
}

static int limit_ms;

/* A command in pieces within the limit runs; idling between commands is fine. */
static void body_command_in_time(void)
{
	wire_net_t n;
	char out[16];

	tc_connect(&n);
	for (int round = 0; round < 2; round++) {
		TC_SEND(&n, "*3\r\n$3\r\nSET\r\n$1\r\nk");
		wire_fd_wait_msec(limit_ms / 10);
		TC_SEND(&n, "\r\n$2\r\nv");
		wire_fd_wait_msec(limit_ms / 10);
		TC_SEND(&n, "1\r\n");
		tc_read_exact(&n, out, 5);
		CHECK_STR_EQ(out, "+OK\r\n");
		wire_fd_wait_msec(limit_ms + 100); /* idle, past the request limit */
	}
	exchange(&n, "GET k\r\n", "$2\r\nv1\r\n");
	wire_net_close(&n);
}

TEST(serve_command_within_limit)
{
	limit_ms = 100 * test_time_scale();
	start_kv_req(16, limit_ms);
	tc_run(&k.srv, body_command_in_time);
	CHECK_EQ(k.srv.request_closed, 0);
	CHECK_EQ(k.srv.idle_closed, 0);
	kv_destroy(&k);
}

/*
 * Bounded random input: random bytes and mutated frames over many
 * connections, each ended by the client's half-close. Replies must be RESP
 * (or nothing); the server must not crash or hang, and answers a valid
 * command at the end.
 */
static void body_random(void)
{
	static const char *valid[] = {
	    "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
	    "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
	    "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n",
	    "MGET a b key\r\n",
	};
	char buf[600];
	static char out[64 * 1024];
	uint64_t seed = 0xabad1dea5eedULL;
	int iters = test_under_valgrind() ? 40 : 300;

	printf("seed %#llx, %d connections\n", (unsigned long long)seed, iters);
	tc_rng_state = seed;
	for (int it = 0; it < iters; it++) {
		wire_net_t n;
		size_t len = tc_mangle(buf, 300, valid, 4, 4);
		tc_connect(&n);
		tc_send(&n, buf, len);
		CHECK_EQ(shutdown(n.fds.fd, SHUT_WR), 0);
		size_t got = tc_read_all(&n, out, sizeof(out));
		CHECK(got == 0 || strchr("+-:$*", out[0]) != NULL);
		wire_net_close(&n);
	}
	body_commands();
}

TEST(serve_random_input)
{
	start_kv(16);
	tc_run(&k.srv, body_random);
	kv_destroy(&k);
}
