/*
 * wire_echo PORT [MAX_CONNECTIONS] - a TCP echo server on 127.0.0.1, one
 * wire per connection, on one OS thread.
 *
 * The connection wires come from a fixed set of slots (wire + stack, the
 * stack allocated on first use and kept) reused LIFO, so that a busy
 * server reuses cache-hot stacks and never maps memory per connection.
 * (This is what wire_pool.h provides; the example should switch to it.)
 * When every slot is taken, the acceptor waits for a connection to end.
 *
 * Each connection follows the rule of wire_fd.h: try the I/O first, wait
 * only when it could not complete. A read that returns less than the
 * buffer drained the socket, so the wire waits at once instead of reading
 * again for EAGAIN: a message costs one read and one write, and the
 * scheduler's epoll_wait is shared by every connection that became ready
 * at the same time.
 *
 * bench/bench_w5.c builds this file with WIRE_ECHO_NO_MAIN to run the
 * same server in a thread; WIRE_ECHO_COUNT(n) then counts its syscalls.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"
#include "wire_fd.h"

#ifndef WIRE_ECHO_COUNT
#define WIRE_ECHO_COUNT(n) ((void)0)
#endif

#define ECHO_STACK (16 * 1024)
#define ECHO_BUF   4096

struct echo_slot {
	wire_t wire;
	void *stack;
	int fd;
	struct echo_slot *next_free;
	struct echo_server *server;
};

struct echo_server {
	struct echo_slot *slots;
	struct echo_slot *free_list; /* LIFO */
	unsigned nslots;
	wire_t *acceptor_parked; /* the acceptor, while it waits for a free slot */
	wire_fd_state_t listen_state;
	wire_t acceptor;
	char acceptor_stack[ECHO_STACK];
};

/* Write all of @buf; returns 0, or -1 when the connection is gone. */
static int echo_write_all(wire_fd_state_t *st, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(st->fd, buf, len);
		WIRE_ECHO_COUNT(1);
		if (w > 0) {
			buf += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -1;
		if (wire_fd_wait_write(st) != 0)
			return -1;
	}
	return 0;
}

static void echo_connection(void *arg)
{
	struct echo_slot *slot = arg;
	struct echo_server *srv = slot->server;
	wire_fd_state_t st;
	char buf[ECHO_BUF];

	wire_fd_mode_init(&st, slot->fd);
	if (wire_fd_mode_read(&st) == 0) {
		for (;;) {
			ssize_t r = read(st.fd, buf, sizeof(buf));
			WIRE_ECHO_COUNT(1);
			if (r > 0) {
				if (echo_write_all(&st, buf, (size_t)r) != 0)
					break;
				if (r == (ssize_t)sizeof(buf))
					continue; /* maybe more: read again before waiting */
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				break; /* end of stream or error */
			}
			if (wire_fd_wait(&st) != 0)
				break;
		}
	}
	wire_fd_close(&st);
	WIRE_ECHO_COUNT(1);
	/* This wire ends without yielding: its slot may be handed out now. */
	slot->next_free = srv->free_list;
	srv->free_list = slot;
	if (srv->acceptor_parked)
		wire_resume(srv->acceptor_parked);
}

static struct echo_slot *echo_take_slot(struct echo_server *srv)
{
	struct echo_slot *slot;

	while (!srv->free_list) {
		srv->acceptor_parked = &srv->acceptor;
		wire_suspend();
		srv->acceptor_parked = NULL;
	}
	slot = srv->free_list;
	if (!slot->stack && !(slot->stack = malloc(ECHO_STACK)))
		return NULL;
	srv->free_list = slot->next_free;
	return slot;
}

static void echo_acceptor(void *arg)
{
	struct echo_server *srv = arg;
	wire_fd_state_t *ls = &srv->listen_state;

	if (wire_fd_mode_read(ls) != 0) {
		perror("wire_echo: watching the listening socket");
		return;
	}
	for (;;) {
		struct echo_slot *slot = echo_take_slot(srv);
		int one = 1, fd;

		if (!slot) {
			perror("wire_echo: stack");
			wire_fd_wait_msec(100);
			continue;
		}
		fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		WIRE_ECHO_COUNT(1);
		if (fd < 0) {
			/* Give the slot back until a connection comes. */
			slot->next_free = srv->free_list;
			srv->free_list = slot;
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
				if (wire_fd_wait(ls) != 0)
					return;
			} else if (errno == EMFILE || errno == ENFILE) {
				wire_fd_wait_msec(10);
			} else {
				perror("wire_echo: accept");
				return;
			}
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		WIRE_ECHO_COUNT(1);
		slot->fd = fd;
		wire_init(&slot->wire, "echo connection", echo_connection, slot, slot->stack,
			  ECHO_STACK);
	}
}

/* A listening socket on 127.0.0.1:@port (0: any free port). Returns the fd or -1. */
static int echo_listen(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Serve @listen_fd with up to @max_conn connection wires on the calling
 * thread. Returns only if the acceptor fails (or no memory).
 */
static int echo_serve(int listen_fd, unsigned max_conn)
{
	static wire_thread_t thread;
	struct echo_server *srv = calloc(1, sizeof(*srv));

	if (!srv || !(srv->slots = calloc(max_conn, sizeof(*srv->slots))))
		return -1;
	srv->nslots = max_conn;
	for (unsigned i = max_conn; i-- > 0;) {
		srv->slots[i].server = srv;
		srv->slots[i].next_free = srv->free_list;
		srv->free_list = &srv->slots[i];
	}
	wire_thread_init(&thread);
	if (wire_fd_init() != 0)
		return -1;
	wire_fd_mode_init(&srv->listen_state, listen_fd);
	wire_init(&srv->acceptor, "acceptor", echo_acceptor, srv, srv->acceptor_stack, ECHO_STACK);
	wire_thread_run();
	return -1;
}

#ifndef WIRE_ECHO_NO_MAIN
int main(int argc, char **argv)
{
	int port, fd;
	unsigned max_conn = 1024;

	if (argc < 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: wire_echo PORT [MAX_CONNECTIONS]\n");
		return 2;
	}
	if (argc > 2 && atoi(argv[2]) > 0)
		max_conn = (unsigned)atoi(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	fd = echo_listen(port);
	if (fd < 0) {
		perror("wire_echo: listen on 127.0.0.1");
		return 1;
	}
	fprintf(stderr, "wire_echo: listening on 127.0.0.1:%d\n", port);
	echo_serve(fd, max_conn);
	perror("wire_echo");
	return 1;
}
#endif
