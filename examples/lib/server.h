/*
 * server.h - the skeleton the example servers share: a listening socket,
 * an acceptor wire, one pooled wire per connection (the pool size is the
 * connection limit), and a sweeper wire that closes idle connections.
 *
 * Idle connections are found by the sweeper, not by a timer per read: the
 * handler calls srv_touch() when a connection makes progress, and the
 * sweeper shuts down (SHUT_RDWR) every connection idle longer than the
 * limit, which ends its pending read or write. The request path then arms
 * no timer at all.
 *
 * Slow senders are bounded the same way: a request must arrive in full
 * within the request limit of its first byte. The handler calls
 * srv_partial() after each batch to say whether a request is still
 * incomplete; the sweeper shuts down the reading side (SHUT_RD) of a
 * connection whose incomplete request is older than the limit and sets
 * its req_expired flag, so that the handler's read sees the end of the
 * stream and can answer (HTTP 408) before closing. Progress on the
 * request (a byte at a time) does not move the deadline.
 */
#ifndef WIRE_EXAMPLE_SERVER_H
#define WIRE_EXAMPLE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wire.h"
#include "wire_net.h"
#include "wire_pool.h"
#include "wire_wait.h"

#define SRV_AUX_STACK (64 * 1024)

struct srv;

/* One connection, on its wire's stack. */
struct srv_conn {
	wire_list_t link; /* in srv->conns */
	wire_net_t net;
	struct srv *srv;
	int64_t last_ms; /* coarse monotonic ms of the last progress */
	int64_t req_ms;	 /* when the incomplete request began; 0: none */
	int req_expired; /* the sweeper cut the request off (SHUT_RD) */
};

/* Runs on the connection's wire; returns when the connection is done. */
typedef void (*srv_handler_t)(struct srv_conn *c);

struct srv {
	wire_net_t listener;
	wire_pool_t pool;
	wire_pool_entry_t *entries;
	srv_handler_t handle;
	void *ctx;	  /* for the handler */
	const char *name; /* name of connection wires */
	const char *busy; /* sent (best effort) when the limit is reached */
	size_t busy_len;
	int idle_ms;
	int request_ms; /* limit for one request to arrive in full */
	int stopping;
	wire_wait_t stop_wait; /* triggered by srv_stop() */
	int handoff_fd;
	wire_list_t conns;
	unsigned nconns;
	unsigned long accepted, rejected, idle_closed, request_closed;
	wire_t acceptor, sweeper;
	char acceptor_stack[SRV_AUX_STACK] __attribute__((aligned(16)));
	char sweeper_stack[SRV_AUX_STACK] __attribute__((aligned(16)));
};

/* Coarse CLOCK_MONOTONIC milliseconds (vDSO, no syscall). */
static inline int64_t srv_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void srv_touch(struct srv_conn *c)
{
	c->last_ms = srv_now_ms();
}

/*
 * After parsing what was read: @incomplete says whether the input holds
 * the start of a request that has not arrived in full. Its deadline runs
 * from the first batch that left it incomplete (a clock read only then).
 */
static inline void srv_partial(struct srv_conn *c, int incomplete)
{
	if (!incomplete)
		c->req_ms = 0;
	else if (!c->req_ms)
		c->req_ms = srv_now_ms();
}

/*
 * A listening TCP socket on @host (numeric, e.g. "127.0.0.1") port @port
 * (0: any; the port chosen is stored in *@port_out if not NULL). Returns
 * the fd or -1 with errno.
 */
int srv_listen_tcp(const char *host, int port, int backlog, int *port_out);

/* The positive number in environment variable @name, or @def. */
long srv_env_num(const char *name, long def);

/*
 * The example servers' busy-poll window: when no wire is ready, the
 * thread polls without blocking for up to this long before it sleeps in
 * epoll_wait. A client on another core then seldom has to wake the
 * server's thread, which it pays for (see docs/net.md for the figures);
 * the price is a core kept busy while requests arrive at least this often
 * (the library shortens the window while polling finds nothing).
 */
#define SRV_BUSY_POLL_NS (50 * 1000)

/*
 * Turn busy polling on with SRV_BUSY_POLL_NS for the calling thread's
 * poller, unless WIRE_FD_BUSY_POLL_US is set (wire_fd_init() has applied
 * it then; 0 turns polling off). Call after wire_fd_init(). Returns the
 * window now in effect in ns, or -1 with errno (EINVAL: no poller).
 */
int64_t srv_busy_poll(void);

/*
 * Start serving on @listen_fd (owned by @s from now on): queue the
 * acceptor and sweeper wires. Call after wire_thread_init() and
 * wire_fd_init(); wires run in wire_thread_run(). @limit connections at
 * most (each on a pooled wire with @stack_size bytes of stack); @idle_ms
 * the idle limit; @request_ms the limit for a request to arrive in full
 * from its first byte (<= 0: none). Returns 0 or -1 with errno.
 */
int srv_start(struct srv *s, int listen_fd, unsigned limit, unsigned stack_size, int idle_ms,
	      int request_ms, srv_handler_t handle, void *ctx, const char *name);

/*
 * Stop: close the listener and shut down every open connection; the
 * wires of @s end soon after. May be called from a wire or a timer.
 */
void srv_stop(struct srv *s);

/* After wire_thread_run() returned: release the pool and its stacks. */
void srv_destroy(struct srv *s);

/*
 * End a connection politely after an error reply: stop sending, then
 * discard what the peer still sends (up to 64 KiB, at most @ms ms) so
 * that closing does not reset the reply away.
 */
void srv_linger(struct srv_conn *c, int ms);

#endif
