/*
 * kv.h - the in-memory key-value server of the wire_kv example, speaking
 * the Redis protocol (RESP2), as a library so that tests can run it
 * in-process.
 *
 * Commands: PING [msg], GET key, SET key value, DEL key..., INCR key,
 * MGET key..., EXISTS key..., and CONFIG GET name (answers save "" and
 * appendonly "no", which is what this server does, and an empty list for
 * other names: redis-benchmark asks at start). Command names
 * are case-insensitive. Pipelining: every complete command in the input
 * buffer is executed and the replies of the batch leave in one write.
 * Unknown commands and wrong arity get an error reply and the connection
 * goes on; malformed protocol gets "-ERR Protocol error: ..." and the
 * connection is closed. A command that has not arrived in full within
 * the request limit of its first byte ends the connection, no reply.
 */
#ifndef WIRE_EXAMPLE_KV_H
#define WIRE_EXAMPLE_KV_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define KV_IN	   16384	      /* input buffer on the wire's stack */
#define KV_OUT	   16384	      /* output buffer */
#define KV_MAX_REQ (16 * 1024 * 1024) /* largest command accepted */
#define KV_STACK   (128 * 1024)

struct kv_entry;

/* The store: a chained hash table of malloc'd entries. */
struct kv_table {
	struct kv_entry **buckets;
	size_t mask; /* buckets - 1 (a power of two, minus one) */
	size_t count;
};

struct kv {
	struct srv srv;
	struct kv_table table;
	unsigned long commands;
};

/* Empty store with room to grow. Returns 0 or -1 with errno ENOMEM. */
int kv_table_init(struct kv_table *t);
/* Free every entry and the buckets. */
void kv_table_free(struct kv_table *t);

/*
 * Serve RESP on @listen_fd (see srv_start()): at most @limit connections,
 * closing those idle for @idle_ms, and closing (without a reply) those
 * whose command is still incomplete @request_ms after its first byte
 * (<= 0: no limit). Initializes @k->table. Returns 0 or -1 with errno.
 * After wire_thread_run() returns, call kv_destroy().
 */
int kv_start(struct kv *k, int listen_fd, unsigned limit, int idle_ms, int request_ms);
void kv_destroy(struct kv *k);

#endif
