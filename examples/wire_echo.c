/*
 * wire_echo [-w] PORT [MAX_CONNECTIONS] - a TCP echo server on 127.0.0.1,
 * one wire per connection, on one OS thread.
 *
 * The connection wires come from a wire_pool (entries in one array, each
 * stack mapped on first use and kept, reused LIFO), so a busy server runs
 * on cache-hot stacks and maps no memory per connection. When every entry
 * is taken, the acceptor blocks in wire_pool_alloc_block() until a
 * connection ends.
 *
 * Two ways to write a connection loop, both exact (wire_fd.h: a wait
 * returns whenever the fd is readable, whatever was read before):
 *  - read first (the default): read, echo, and wait only when the read
 *    came back short or with EAGAIN. After a short read the socket is
 *    most likely empty, so the wire waits instead of reading again for
 *    EAGAIN; if more data is there after all, the wait returns at the
 *    scheduler's next poll.
 *  - wait first (-w): wait, read once, echo, wait again.
 * Either way a message costs one read and one write, and the scheduler's
 * epoll_wait is shared by every connection that became ready at the same
 * time.
 *
 * bench/bench_w5.c builds this file with WIRE_ECHO_NO_MAIN to run the
 * same server in threads; WIRE_ECHO_COUNT(n) and WIRE_ECHO_AFTER_INIT()
 * then count their syscalls.
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
#include "wire_pool.h"

#ifndef WIRE_ECHO_COUNT
#define WIRE_ECHO_COUNT(n) ((void)0)
#endif
#ifndef WIRE_ECHO_AFTER_INIT
#define WIRE_ECHO_AFTER_INIT() ((void)0)
#endif

#define ECHO_STACK (16 * 1024)
#define ECHO_BUF   4096

struct echo_server {
	void (*connection)(void *); /* the loop of a connection wire */
	wire_pool_t pool;
	wire_pool_entry_t *entries;
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

/* Read first: wait only after a short read or EAGAIN. */
static void echo_connection(void *arg)
{
	wire_fd_state_t st;
	char buf[ECHO_BUF];

	wire_fd_mode_init(&st, (int)(intptr_t)arg);
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
	/* Returning gives the pool entry back. */
}

/* Wait first: wait, one read, echo. */
static void echo_connection_wait_first(void *arg)
{
	wire_fd_state_t st;
	char buf[ECHO_BUF];

	wire_fd_mode_init(&st, (int)(intptr_t)arg);
	if (wire_fd_mode_read(&st) == 0) {
		while (wire_fd_wait(&st) == 0) {
			ssize_t r = read(st.fd, buf, sizeof(buf));
			WIRE_ECHO_COUNT(1);
			if (r > 0) {
				if (echo_write_all(&st, buf, (size_t)r) != 0)
					break;
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				break; /* end of stream or error */
			}
		}
	}
	wire_fd_close(&st);
	WIRE_ECHO_COUNT(1);
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
		int one = 1;
		int fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		WIRE_ECHO_COUNT(1);
		if (fd < 0) {
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
		/* Blocks while every connection wire is busy. */
		if (!wire_pool_alloc_block(&srv->pool, "echo connection", srv->connection,
					   (void *)(intptr_t)fd)) {
			perror("wire_echo: connection wire");
			close(fd);
		}
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
 * thread, each reading first or (@wait_first) waiting first. Returns only
 * if the acceptor fails (or no memory).
 */
static int echo_serve(int listen_fd, unsigned max_conn, int wait_first)
{
	static __thread wire_thread_t thread;
	struct echo_server *srv = calloc(1, sizeof(*srv));

	if (!srv || !(srv->entries = calloc(max_conn, sizeof(*srv->entries))))
		return -1;
	srv->connection = wait_first ? echo_connection_wait_first : echo_connection;
	if (wire_pool_init(&srv->pool, srv->entries, max_conn, ECHO_STACK) != 0)
		return -1;
	wire_thread_init(&thread);
	if (wire_fd_init() != 0)
		return -1;
	WIRE_ECHO_AFTER_INIT();
	wire_fd_mode_init(&srv->listen_state, listen_fd);
	wire_init(&srv->acceptor, "acceptor", echo_acceptor, srv, srv->acceptor_stack, ECHO_STACK);
	wire_thread_run();
	return -1;
}

#ifndef WIRE_ECHO_NO_MAIN
int main(int argc, char **argv)
{
	int port, fd, wait_first = 0;
	unsigned max_conn = 1024;

	if (argc > 1 && strcmp(argv[1], "-w") == 0) {
		wait_first = 1;
		argc--;
		argv++;
	}
	if (argc < 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: wire_echo [-w] PORT [MAX_CONNECTIONS]\n");
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
	echo_serve(fd, max_conn, wait_first);
	perror("wire_echo");
	return 1;
}
#endif
