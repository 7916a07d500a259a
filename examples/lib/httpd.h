/*
 * httpd.h - the HTTP/1.1 server of the wire_httpd example, as a library
 * so that tests can run it in-process.
 *
 * Keep-alive and pipelining: every complete request in the input buffer
 * is answered, and the replies of one batch leave in one write. GET and
 * HEAD only. "/" answers a fixed small text (HTTPD_BODY); other paths are
 * files under the root directory, read with wio_ calls (404 when there is
 * no root). Errors: 400 malformed request or a path with "..", 404, 405
 * other methods, 413 head over HTTPD_MAX_HEAD bytes, 500 unexpected file
 * errors, 503 when the connection limit is reached, 408 when a request
 * has not arrived in full within the request limit of its first byte.
 * 400, 405, 408 and 413 close the connection (after the reply).
 */
#ifndef WIRE_EXAMPLE_HTTPD_H
#define WIRE_EXAMPLE_HTTPD_H

#include "server.h"

#define HTTPD_BODY     "hello from libwire\n"
#define HTTPD_MAX_HEAD 8192
#define HTTPD_OUT      16384
#define HTTPD_STACK    (64 * 1024)

struct httpd {
	struct srv srv;
	const char *root; /* NULL: no files */
	size_t root_len;
	unsigned long requests; /* answered, errors included */
};

/*
 * Serve HTTP on @listen_fd (see srv_start()): at most @limit connections,
 * closing those idle for @idle_ms, answering 408 and closing when a
 * request head (with any body it announces) is still incomplete
 * @request_ms after its first byte (<= 0: no limit). @root (kept by
 * pointer) may be NULL. Returns 0 or -1 with errno.
 */
int httpd_start(struct httpd *h, int listen_fd, const char *root, unsigned limit, int idle_ms,
		int request_ms);

#endif
