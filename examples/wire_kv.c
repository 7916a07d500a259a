/*
 * wire_kv PORT - an in-memory key-value server speaking the Redis protocol
 * (RESP2) on one thread of wires: PING, GET, SET, DEL, INCR, MGET, EXISTS,
 * with pipelining.
 *
 * Listens on 127.0.0.1:PORT (WIRE_KV_ADDR overrides the address); one
 * pooled wire per connection, at most WIRE_KV_MAX_CONNS (default 1024)
 * connections, idle ones closed after WIRE_KV_IDLE_MS (default 300000)
 * ms, and those whose command is not complete WIRE_KV_REQUEST_MS (default
 * 30000) ms after its first byte closed too. The server code is in
 * examples/lib/kv.c.
 *
 * When no connection has work, the thread polls for up to 50 us before it
 * sleeps (SRV_BUSY_POLL_NS): clients on other cores then seldom pay for
 * waking it. WIRE_FD_BUSY_POLL_US sets another window; 0 turns it off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "wire.h"
#include "wire_fd.h"

int main(int argc, char **argv)
{
	static wire_thread_t thread;
	static struct kv k;
	const char *addr = getenv("WIRE_KV_ADDR");
	int port, fd;

	if (argc != 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: wire_kv PORT\n");
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
	fd = srv_listen_tcp(addr ? addr : "127.0.0.1", port, 1024, NULL);
	if (fd < 0) {
		fprintf(stderr, "wire_kv: cannot listen on port %d: %s\n", port, strerror(errno));
		return 1;
	}
	if (kv_start(&k, fd, (unsigned)srv_env_num("WIRE_KV_MAX_CONNS", 1024),
		     (int)srv_env_num("WIRE_KV_IDLE_MS", 300000),
		     (int)srv_env_num("WIRE_KV_REQUEST_MS", 30000)) != 0) {
		perror("kv_start");
		return 1;
	}
	wire_thread_run();
	kv_destroy(&k);
	return 0;
}
