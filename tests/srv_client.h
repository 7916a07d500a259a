/*
 * Helpers for the in-process tests of the example servers: the server runs
 * on wires of this thread, the test's client on another wire, over
 * 127.0.0.1. Header-only; included by test_httpd.c and test_kv.c.
 */
#ifndef WIRE_TEST_SRV_CLIENT_H
#define WIRE_TEST_SRV_CLIENT_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "server.h"
#include "test.h"
#include "wire.h"
#include "wire_fd.h"
#include "wire_net.h"

static wire_thread_t tc_thread;
static int tc_port;
static char tc_port_str[16];
static struct srv *tc_srv;
static void (*tc_body)(void);
static wire_t tc_client_wire;
static char tc_client_stack[256 * 1024];

/* Scheduler, poller and a listening socket on 127.0.0.1 (any port). */
static inline int tc_setup(void)
{
	int fd;

	wire_thread_init(&tc_thread);
	CHECK_EQ(wire_fd_init(), 0);
	fd = srv_listen_tcp("127.0.0.1", 0, 64, &tc_port);
	CHECK(fd >= 0);
	snprintf(tc_port_str, sizeof(tc_port_str), "%d", tc_port);
	return fd;
}

static inline void tc_client_main(void *arg)
{
	(void)arg;
	tc_body();
	srv_stop(tc_srv);
}

/* Run @body on a client wire, stop the server, run until all wires end. */
static inline void tc_run(struct srv *s, void (*body)(void))
{
	tc_srv = s;
	tc_body = body;
	wire_init(&tc_client_wire, "client", tc_client_main, NULL, tc_client_stack,
		  sizeof(tc_client_stack));
	wire_thread_run();
	CHECK_EQ(wire_thread_suspended(), 0);
}

/* Connect a client socket with a generous timeout for each later call. */
static inline void tc_connect(wire_net_t *n)
{
	CHECK_EQ(
	    wire_net_connect_tcp(n, "127.0.0.1", tc_port_str, TEST_MS(5000 * test_time_scale())),
	    0);
}

static inline void tc_send(wire_net_t *n, const char *s, size_t len)
{
	CHECK_EQ(wire_net_write(n, s, len), (ssize_t)len);
}

#define TC_SEND(n, lit) tc_send(n, lit, sizeof(lit) - 1)

/* Read until end of stream (or @cap - 1 bytes); NUL-terminated. */
static inline size_t tc_read_all(wire_net_t *n, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		ssize_t r = wire_net_read_any(n, buf + len, cap - 1 - len);
		if (r < 0)
			CHECK(errno == ECONNRESET);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == cap - 1)
			break;
	}
	buf[len] = '\0';
	return len;
}

/* Read exactly @len bytes (the test knows what is due). */
static inline void tc_read_exact(wire_net_t *n, char *buf, size_t len)
{
	CHECK_EQ(wire_net_read_full(n, buf, len), (ssize_t)len);
	buf[len] = '\0';
}

/*
 * A slow sender: send @s one byte at a time, waiting up to @gap_ms for the
 * server to answer or close between bytes. Returns how many bytes were
 * sent when the server answered or closed (@len if it never did); what it
 * sent back first is in @out (NUL-terminated), its length in *@outlen
 * (0 for a close).
 */
static inline size_t tc_drip(wire_net_t *n, const char *s, size_t len, int gap_ms, char *out,
			     size_t cap, size_t *outlen)
{
	int64_t saved = n->timeout_ns;
	size_t i = 0;

	*outlen = 0;
	wire_net_set_timeout_ns(n, TEST_MS(gap_ms));
	while (i < len) {
		if (wire_net_write(n, s + i, 1) != 1) {
			CHECK(errno == EPIPE || errno == ECONNRESET);
			break;
		}
		i++;
		ssize_t r = wire_net_read_any(n, out, cap - 1);
		if (r >= 0) {
			*outlen = (size_t)r;
			break;
		}
		if (errno == ECONNRESET)
			break;
		CHECK_EQ(errno, ETIMEDOUT);
	}
	wire_net_set_timeout_ns(n, saved);
	out[*outlen] = '\0';
	return i;
}

/* xorshift64*: deterministic random bytes for the bounded fuzz tests. */
static uint64_t tc_rng_state;
static inline uint64_t tc_rng(void)
{
	tc_rng_state ^= tc_rng_state >> 12;
	tc_rng_state ^= tc_rng_state << 25;
	tc_rng_state ^= tc_rng_state >> 27;
	return tc_rng_state * 2685821657736338717ULL;
}

/*
 * Fill @buf with at least @min bytes of a random mix of the @nvalid
 * requests in @valid: most whole, some with a few bytes replaced, one
 * piece in @noise_in pure noise. @buf must hold @min plus the longest
 * request. Returns the length.
 */
static inline size_t tc_mangle(char *buf, size_t min, const char *const *valid, unsigned nvalid,
			       unsigned noise_in)
{
	size_t len = 0;

	while (len < min) {
		const char *v = valid[tc_rng() % nvalid];
		size_t vl = strlen(v);
		if (tc_rng() % noise_in == 0) {
			for (size_t i = 0; i < vl; i++)
				buf[len + i] = (char)tc_rng();
		} else {
			memcpy(buf + len, v, vl);
			for (int k = (int)(tc_rng() % 3); k > 0; k--)
				buf[len + tc_rng() % vl] = (char)tc_rng();
		}
		len += vl;
	}
	return len;
}

#endif
