/* Tests of the wire_kv example: its RESP parser, then the server. */
#include <errno.h>
#include <string.h>

#include "resp.h"
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

static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* Random and mutated frames: every result is one of the documented ones. */
TEST(parse_random_input)
{
	static const char seed_frame[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
	char buf[256];
	uint64_t seed = 0x6b76f00dULL;

	printf("seed %#llx\n", (unsigned long long)seed);
	rng_state = seed;
	for (int it = 0; it < 200000; it++) {
		size_t n = rng() % sizeof(buf), need = 0;
		if (it & 1) {
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)rng();
			if (it & 2)
				buf[0] = '*';
		} else {
			n = sizeof(seed_frame) - 1;
			memcpy(buf, seed_frame, n);
			for (int k = (int)(rng() % 4); k >= 0; k--)
				buf[rng() % n] =
				    (char)(rng() % 2 ? (char)rng() : "\r\n*$0123"[rng() % 8]);
			n = rng() % (n + 1);
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
