/* server - acceptor, pooled connection wires and idle sweeper. See server.h. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"
#include "wire_fd.h"
#include "wire_timeout.h"

/* The connection list (wire_list_t from wire.h, circular, head as sentinel). */
static void conns_add(wire_list_t *head, wire_list_t *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static void conns_del(wire_list_t *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* link is the first member of a connection: the node is the record. */
#define conn_of(p) ((struct srv_conn *)(void *)(p))
_Static_assert(offsetof(struct srv_conn, link) == 0, "conn_of casts the node");

long srv_env_num(const char *name, long def)
{
	const char *s = getenv(name);
	long v = s ? strtol(s, NULL, 10) : def;
	return v > 0 ? v : def;
}

int64_t srv_busy_poll(void)
{
	const char *v = getenv("WIRE_FD_BUSY_POLL_US");

	if ((!v || !*v) && wire_fd_set_busy_poll(SRV_BUSY_POLL_NS) != 0)
		return -1;
	return wire_fd_busy_poll();
}

int srv_listen_tcp(const char *host, int port, int backlog, int *port_out)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t l = sizeof(a);
	int one = 1, fd;

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, backlog) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (port_out)
		*port_out = ntohs(a.sin_port);
	return fd;
}

static void conn_main(void *arg)
{
	struct srv *s = arg;
	struct srv_conn c;
	int fd = s->handoff_fd, one = 1;

	s->handoff_fd = -1;
	if (wire_net_init(&c.net, fd) != 0) {
		close(fd);
		return;
	}
	/* Replies go out in one write per batch: do not let Nagle hold them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c.srv = s;
	c.req_ms = 0;
	c.req_expired = 0;
	srv_touch(&c);
	conns_add(&s->conns, &c.link);
	s->nconns++;
	s->handle(&c);
	conns_del(&c.link);
	s->nconns--;
	wire_net_close(&c.net);
}

static void acceptor_main(void *arg)
{
	struct srv *s = arg;

	while (!s->stopping) {
		int fd = wire_net_accept(&s->listener, NULL, NULL);
		if (fd < 0) {
			if (s->stopping || errno == EBADF || errno == EINVAL)
				break;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				wire_fd_wait_msec(10); /* let connections end */
			continue;
		}
		s->accepted++;
		s->handoff_fd = fd;
		if (!wire_pool_alloc(&s->pool, s->name, conn_main, s)) {
			/* Over the limit (or out of stacks): say so and close. */
			s->handoff_fd = -1;
			s->rejected++;
			if (s->busy_len)
				(void)!send(fd, s->busy, s->busy_len, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		/* The new wire is queued ahead of us: it takes handoff_fd first. */
		wire_yield();
	}
}

static void sweeper_main(void *arg)
{
	struct srv *s = arg;
	int period = s->idle_ms / 4;

	if (s->request_ms > 0 && s->request_ms / 4 < period)
		period = s->request_ms / 4;
	if (period > 1000)
		period = 1000;
	if (period < 1)
		period = 1;
	while (!s->stopping) {
		wire_timeout_t t;
		wire_timeout_init(&t);
		wire_timeout_reset(&t, period);
		wire_timeout_wait(&s->stop_wait, &t); /* srv_stop() cuts it short */
		wire_timeout_stop(&t);
		int64_t now = srv_now_ms();
		for (wire_list_t *p = s->conns.next; p != &s->conns; p = p->next) {
			struct srv_conn *c = conn_of(p);
			if (c->net.fds.fd < 0)
				continue;
			if (now - c->last_ms > s->idle_ms) {
				shutdown(c->net.fds.fd, SHUT_RDWR);
				c->last_ms = now; /* once */
				s->idle_closed++;
			} else if (c->req_ms && !c->req_expired && s->request_ms > 0 &&
				   now - c->req_ms > s->request_ms) {
				/* The handler's read ends; it may still reply. */
				shutdown(c->net.fds.fd, SHUT_RD);
				c->req_expired = 1;
				s->request_closed++;
			}
		}
	}
}

int srv_start(struct srv *s, int listen_fd, unsigned limit, unsigned stack_size, int idle_ms,
	      int request_ms, srv_handler_t handle, void *ctx, const char *name)
{
	s->entries = calloc(limit, sizeof(*s->entries));
	if (!s->entries)
		return -1;
	if (wire_pool_init(&s->pool, s->entries, limit, stack_size) != 0 ||
	    wire_net_init(&s->listener, listen_fd) != 0) {
		free(s->entries);
		s->entries = NULL;
		return -1;
	}
	s->handle = handle;
	s->ctx = ctx;
	s->name = name;
	s->idle_ms = idle_ms > 0 ? idle_ms : 1;
	s->request_ms = request_ms > 0 ? request_ms : 0;
	s->stopping = 0;
	wire_wait_init(&s->stop_wait);
	s->handoff_fd = -1;
	s->conns.next = s->conns.prev = &s->conns;
	s->nconns = 0;
	s->accepted = s->rejected = s->idle_closed = s->request_closed = 0;
	wire_init(&s->acceptor, "acceptor", acceptor_main, s, s->acceptor_stack, SRV_AUX_STACK);
	wire_init(&s->sweeper, "sweeper", sweeper_main, s, s->sweeper_stack, SRV_AUX_STACK);
	return 0;
}

void srv_stop(struct srv *s)
{
	wire_list_t *p;

	if (s->stopping)
		return;
	s->stopping = 1;
	wire_wait_resume(&s->stop_wait);
	wire_net_close(&s->listener);
	for (p = s->conns.next; p != &s->conns; p = p->next) {
		struct srv_conn *c = conn_of(p);
		if (c->net.fds.fd >= 0)
			shutdown(c->net.fds.fd, SHUT_RDWR);
	}
}

void srv_destroy(struct srv *s)
{
	wire_pool_destroy(&s->pool);
	free(s->entries);
	s->entries = NULL;
}

void srv_linger(struct srv_conn *c, int ms)
{
	static char sink[4096];
	size_t total = 0;

	if (shutdown(c->net.fds.fd, SHUT_WR) != 0)
		return;
	wire_net_set_timeout_ns(&c->net, (int64_t)ms * 1000000);
	while (total < 64 * 1024) {
		ssize_t n = wire_net_read_any(&c->net, sink, sizeof(sink));
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	wire_net_set_timeout_ns(&c->net, -1);
}
