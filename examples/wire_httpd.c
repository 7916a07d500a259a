/*
 * wire_httpd PORT [DIR] - a small HTTP/1.1 server on one thread of wires.
 *
 * Listens on 127.0.0.1:PORT (WIRE_HTTPD_ADDR overrides the address).
 * GET / answers a fixed text; other paths are files under DIR, read with
 * wio_ calls. Keep-alive and pipelining; one pooled wire per connection,
 * at most WIRE_HTTPD_MAX_CONNS (default 1024) connections, idle ones
 * closed after WIRE_HTTPD_IDLE_MS (default 30000) ms, and a 408 reply and
 * a close for a request head not complete WIRE_HTTPD_REQUEST_MS (default
 * 10000) ms after its first byte. The server code is in
 * examples/lib/httpd.c.
 *
 * When no connection has work, the thread polls for up to 50 us before it
 * sleeps (SRV_BUSY_POLL_NS): clients on other cores then seldom pay for
 * waking it. WIRE_FD_BUSY_POLL_US sets another window; 0 turns it off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "wire.h"
#include "wire_fd.h"
#include "wire_io.h"

int main(int argc, char **argv)
{
	static wire_thread_t thread;
	static struct httpd h;
	const char *addr = getenv("WIRE_HTTPD_ADDR");
	int port, fd;

	if (argc < 2 || argc > 3 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: wire_httpd PORT [DIR]\n");
		return 2;
	}
	wire_thread_init(&thread);
	if (wire_fd_init() != 0) {
		perror("wire_fd_init");
		return 1;
	}
	if (srv_busy_poll() < 0) {
		perror("srv_busy_poll");
		return 1;
	}
	if (argc == 3 && wire_io_init(2) != 0) {
		perror("wire_io_init");
		return 1;
	}
	fd = srv_listen_tcp(addr ? addr : "127.0.0.1", port, 1024, NULL);
	if (fd < 0) {
		fprintf(stderr, "wire_httpd: cannot listen on port %d: %s\n", port,
			strerror(errno));
		return 1;
	}
	if (httpd_start(&h, fd, argc == 3 ? argv[2] : NULL,
			(unsigned)srv_env_num("WIRE_HTTPD_MAX_CONNS", 1024),
			(int)srv_env_num("WIRE_HTTPD_IDLE_MS", 30000),
			(int)srv_env_num("WIRE_HTTPD_REQUEST_MS", 10000)) != 0) {
		perror("httpd_start");
		return 1;
	}
	wire_thread_run();
	return 0;
}
