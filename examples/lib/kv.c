/* kv - RESP2 key-value server on wires. See kv.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "resp.h"

struct kv_entry {
	struct kv_entry *next;
	uint64_t hash;
	uint32_t klen, vlen, vcap;
	char data[]; /* key, then value (vcap bytes of room) */
};

/* ---- the store ---- */

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

int kv_table_init(struct kv_table *t)
{
	t->mask = 1023;
	t->count = 0;
	t->buckets = calloc(t->mask + 1, sizeof(*t->buckets));
	return t->buckets ? 0 : -1;
}

void kv_table_free(struct kv_table *t)
{
	for (size_t i = 0; t->buckets && i <= t->mask; i++) {
		struct kv_entry *e = t->buckets[i], *n;
		for (; e; e = n) {
			n = e->next;
			free(e);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
}

/* The link that points at @key's entry (or the NULL at the chain's end). */
static struct kv_entry **lookup(struct kv_table *t, const char *key, size_t klen, uint64_t h)
{
	struct kv_entry **pp = &t->buckets[h & t->mask];

	for (; *pp; pp = &(*pp)->next) {
		struct kv_entry *e = *pp;
		if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
			break;
	}
	return pp;
}

static struct kv_entry *get(struct kv_table *t, const char *key, size_t klen)
{
	return *lookup(t, key, klen, hash_bytes(key, klen));
}

static void grow(struct kv_table *t)
{
	size_t n = (t->mask + 1) * 2;
	struct kv_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* stay at this size: chains get longer, nothing breaks */
	for (size_t i = 0; i <= t->mask; i++) {
		struct kv_entry *e = t->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = n - 1;
}

/* Set @key to @val. Returns 0, or -1 when out of memory (store unchanged). */
static int set(struct kv_table *t, const char *key, size_t klen, const char *val, size_t vlen)
{
	uint64_t h = hash_bytes(key, klen);
	struct kv_entry **pp = lookup(t, key, klen, h), *e = *pp;

	if (e && e->vcap >= vlen) {
		memcpy(e->data + klen, val, vlen);
		e->vlen = (uint32_t)vlen;
		return 0;
	}
	size_t cap = vlen < 16 ? 16 : vlen;
	struct kv_entry *ne = malloc(sizeof(*ne) + klen + cap);
	if (!ne)
		return -1;
	ne->hash = h;
	ne->klen = (uint32_t)klen;
	ne->vlen = (uint32_t)vlen;
	ne->vcap = (uint32_t)cap;
	memcpy(ne->data, key, klen);
	memcpy(ne->data + klen, val, vlen);
	if (e) {
		ne->next = e->next;
		*pp = ne;
		free(e);
		return 0;
	}
	ne->next = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = ne;
	if (++t->count > t->mask + 1)
		grow(t);
	return 0;
}

static int del(struct kv_table *t, const char *key, size_t klen)
{
	struct kv_entry **pp = lookup(t, key, klen, hash_bytes(key, klen)), *e = *pp;

	if (!e)
		return 0;
	*pp = e->next;
	free(e);
	t->count--;
	return 1;
}

/* ---- replies ---- */

struct kconn {
	struct srv_conn *c;
	struct kv *k;
	size_t out_len;
	int broken;
	char out[KV_OUT];
};

static int flush(struct kconn *kc)
{
	if (kc->out_len && !kc->broken) {
		if (wire_net_write(&kc->c->net, kc->out, kc->out_len) < 0)
			kc->broken = 1;
		else
			srv_touch(kc->c);
	}
	kc->out_len = 0;
	return kc->broken ? -1 : 0;
}

/* Append @n bytes; a block larger than the buffer is written through. */
static void put_slow(struct kconn *kc, const char *s, size_t n)
{
	if (KV_OUT - kc->out_len < n) {
		if (flush(kc) < 0)
			return;
		if (n > KV_OUT) {
			if (wire_net_write(&kc->c->net, s, n) < 0)
				kc->broken = 1;
			return;
		}
	}
	memcpy(kc->out + kc->out_len, s, n);
	kc->out_len += n;
}

static inline void put(struct kconn *kc, const char *s, size_t n)
{
	if (__builtin_expect(KV_OUT - kc->out_len >= n, 1)) {
		memcpy(kc->out + kc->out_len, s, n);
		kc->out_len += n;
		return;
	}
	put_slow(kc, s, n);
}

#define PUTS(kc, lit) put(kc, lit, sizeof(lit) - 1)

/* Write "<prefix><number>\r\n" at @p (room for 24 bytes); returns its length. */
static size_t fmt_line_num(char *p, char prefix, long long v)
{
	char tmp[24];
	int i = sizeof(tmp);
	size_t n;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	n = sizeof(tmp) - (size_t)i;
	p[0] = prefix;
	memcpy(p + 1, tmp + i, n);
	p[n + 1] = '\r';
	p[n + 2] = '\n';
	return n + 3;
}

/* Append "<prefix><number>\r\n". */
static void put_line_num(struct kconn *kc, char prefix, long long v)
{
	char tmp[24];

	put(kc, tmp, fmt_line_num(tmp, prefix, v));
}

/* Append a bulk string: "$<n>\r\n<bytes>\r\n", in place when it fits. */
static void put_bulk(struct kconn *kc, const char *s, size_t n)
{
	if (__builtin_expect(KV_OUT - kc->out_len >= n + 26, 1)) {
		char *p = kc->out + kc->out_len;
		size_t h = fmt_line_num(p, '$', (long long)n);
		memcpy(p + h, s, n);
		p[h + n] = '\r';
		p[h + n + 1] = '\n';
		kc->out_len += h + n + 2;
		return;
	}
	put_line_num(kc, '$', (long long)n);
	put(kc, s, n);
	PUTS(kc, "\r\n");
}

/* "-ERR <msg>\r\n"; @msg is sanitized (no CR/LF). */
static void put_err(struct kconn *kc, const char *a, const char *b, size_t bn, const char *c)
{
	char tmp[160];
	size_t n = 0;

	for (const char *p = a; *p && n < 60; p++)
		tmp[n++] = *p;
	for (size_t i = 0; i < bn && n < 120; i++)
		tmp[n++] = (b[i] == '\r' || b[i] == '\n') ? ' ' : b[i];
	for (const char *p = c; p && *p && n < 150; p++)
		tmp[n++] = *p;
	PUTS(kc, "-ERR ");
	put(kc, tmp, n);
	PUTS(kc, "\r\n");
}

/* ---- commands ---- */

static int name_is(const struct resp_cmd *cmd, const char *lit, size_t n)
{
	if (cmd->argl[0] != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((cmd->argv[0][i] | 0x20) != lit[i])
			return 0;
	return 1;
}

/* Strict signed 64-bit decimal, as INCR wants it. */
static int parse_ll(const char *s, size_t n, long long *out)
{
	unsigned long long v = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (n == 0 || n > 20)
		return -1;
	if (s[0] == '-') {
		neg = 1;
		i = 1;
		if (n == 1)
			return -1;
	}
	if (s[i] == '0' && n > i + 1)
		return -1;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg && v == 0)
		return -1; /* "-0" */
	*out = neg ? (long long)(0ULL - v) : (long long)v;
	return 0;
}

static void wrong_args(struct kconn *kc, const struct resp_cmd *cmd)
{
	char low[32];
	size_t n = cmd->argl[0] < sizeof(low) ? cmd->argl[0] : sizeof(low);

	for (size_t i = 0; i < n; i++)
		low[i] = (char)(cmd->argv[0][i] | 0x20);
	put_err(kc, "wrong number of arguments for '", low, n, "' command");
}

static void exec(struct kconn *kc, const struct resp_cmd *cmd)
{
	struct kv_table *t = &kc->k->table;
	int argc = cmd->argc;

	kc->k->commands++;
	switch (cmd->argl[0]) {
	case 3:
		if (name_is(cmd, "get", 3)) {
			if (argc != 2)
				goto arity;
			struct kv_entry *e = get(t, cmd->argv[1], cmd->argl[1]);
			if (e)
				put_bulk(kc, e->data + e->klen, e->vlen);
			else
				PUTS(kc, "$-1\r\n");
			return;
		}
		if (name_is(cmd, "set", 3)) {
			if (argc < 3)
				goto arity;
			if (argc > 3) {
				PUTS(kc, "-ERR syntax error\r\n");
				return;
			}
			if (cmd->argl[1] > UINT32_MAX / 2 || cmd->argl[2] > UINT32_MAX / 2 ||
			    set(t, cmd->argv[1], cmd->argl[1], cmd->argv[2], cmd->argl[2]) != 0)
				PUTS(kc, "-ERR out of memory\r\n");
			else
				PUTS(kc, "+OK\r\n");
			return;
		}
		if (name_is(cmd, "del", 3)) {
			if (argc < 2)
				goto arity;
			long long n = 0;
			for (int i = 1; i < argc; i++)
				n += del(t, cmd->argv[i], cmd->argl[i]);
			put_line_num(kc, ':', n);
			return;
		}
		break;
	case 4:
		if (name_is(cmd, "ping", 4)) {
			if (argc == 1)
				PUTS(kc, "+PONG\r\n");
			else if (argc == 2)
				put_bulk(kc, cmd->argv[1], cmd->argl[1]);
			else
				goto arity;
			return;
		}
		if (name_is(cmd, "incr", 4)) {
			if (argc != 2)
				goto arity;
			struct kv_entry *e = get(t, cmd->argv[1], cmd->argl[1]);
			long long v = 0;
			if (e && parse_ll(e->data + e->klen, e->vlen, &v) != 0) {
				PUTS(kc, "-ERR value is not an integer or out of range\r\n");
				return;
			}
			if (v == LLONG_MAX) {
				PUTS(kc, "-ERR increment or decrement would overflow\r\n");
				return;
			}
			v++;
			char num[24];
			int n = 0;
			unsigned long long u =
			    v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
			char rev[24];
			int r = 0;
			do {
				rev[r++] = (char)('0' + u % 10);
				u /= 10;
			} while (u);
			if (v < 0)
				num[n++] = '-';
			while (r)
				num[n++] = rev[--r];
			if (set(t, cmd->argv[1], cmd->argl[1], num, (size_t)n) != 0)
				PUTS(kc, "-ERR out of memory\r\n");
			else
				put_line_num(kc, ':', v);
			return;
		}
		if (name_is(cmd, "mget", 4)) {
			if (argc < 2)
				goto arity;
			put_line_num(kc, '*', argc - 1);
			for (int i = 1; i < argc && !kc->broken; i++) {
				struct kv_entry *e = get(t, cmd->argv[i], cmd->argl[i]);
				if (e)
					put_bulk(kc, e->data + e->klen, e->vlen);
				else
					PUTS(kc, "$-1\r\n");
			}
			return;
		}
		break;
	case 6:
		if (name_is(cmd, "exists", 6)) {
			if (argc < 2)
				goto arity;
			long long n = 0;
			for (int i = 1; i < argc; i++)
				n += get(t, cmd->argv[i], cmd->argl[i]) != NULL;
			put_line_num(kc, ':', n);
			return;
		}
		if (name_is(cmd, "config", 6)) {
			if (argc == 3 && cmd->argl[1] == 3 && (cmd->argv[1][0] | 0x20) == 'g' &&
			    (cmd->argv[1][1] | 0x20) == 'e' && (cmd->argv[1][2] | 0x20) == 't') {
				/* The truth about the two settings clients ask for. */
				const char *p = cmd->argv[2];
				size_t pl = cmd->argl[2];
				if (pl == 4 && memcmp(p, "save", 4) == 0)
					PUTS(kc, "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
				else if (pl == 10 && memcmp(p, "appendonly", 10) == 0)
					PUTS(kc, "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
				else
					PUTS(kc, "*0\r\n");
				return;
			}
			PUTS(kc, "-ERR only CONFIG GET is supported\r\n");
			return;
		}
		break;
	}
	put_err(kc, "unknown command '", cmd->argv[0], cmd->argl[0] < 64 ? cmd->argl[0] : 64, "'");
	return;
arity:
	wrong_args(kc, cmd);
}

/* ---- connections ---- */

static void kv_conn(struct srv_conn *c)
{
	struct kconn kc;
	struct resp_cmd cmd;
	char stack_in[KV_IN];
	char *in = stack_in;
	size_t cap = sizeof(stack_in), len = 0;
	int done = 0;

	kc.c = c;
	kc.k = c->srv->ctx;
	kc.out_len = 0;
	kc.broken = 0;
	while (!done) {
		ssize_t n = wire_net_read_any(&c->net, in + len, cap - len);
		size_t off = 0, need = 0;
		const char *err = NULL;

		if (n <= 0)
			break;
		len += (size_t)n;
		while (off < len) {
			int r = resp_parse(in + off, len - off, &cmd, &err, &need);
			if (r == RESP_INCOMPLETE)
				break;
			if (r < 0) {
				PUTS(&kc, "-ERR ");
				put(&kc, err, strlen(err));
				PUTS(&kc, "\r\n");
				done = 2;
				break;
			}
			off += (size_t)r;
			if (cmd.argc > 0)
				exec(&kc, &cmd);
			if (kc.broken) {
				done = 1;
				break;
			}
		}
		srv_partial(c, !done && off < len);
		if (flush(&kc) < 0)
			break;
		if (done)
			break;
		/* Keep the partial command; grow the buffer if it cannot fit. */
		len -= off;
		if (off)
			memmove(in, in + off, len);
		size_t want = need > len ? need : (len == cap ? cap * 2 : 0);
		if (want > cap) {
			if (want > KV_MAX_REQ) {
				PUTS(&kc, "-ERR Protocol error: request too large\r\n");
				flush(&kc);
				done = 2;
				break;
			}
			if (want < cap * 2)
				want = cap * 2 < KV_MAX_REQ ? cap * 2 : KV_MAX_REQ;
			char *nb = malloc(want);
			if (!nb) {
				PUTS(&kc, "-ERR out of memory\r\n");
				flush(&kc);
				break;
			}
			memcpy(nb, in, len);
			if (in != stack_in)
				free(in);
			in = nb;
			cap = want;
		}
	}
	if (in != stack_in)
		free(in);
	if (done == 2)
		srv_linger(c, 1000);
}

int kv_start(struct kv *k, int listen_fd, unsigned limit, int idle_ms, int request_ms)
{
	static const char busy[] = "-ERR max number of clients reached\r\n";

	if (kv_table_init(&k->table) != 0)
		return -1;
	k->commands = 0;
	k->srv.busy = busy;
	k->srv.busy_len = sizeof(busy) - 1;
	if (srv_start(&k->srv, listen_fd, limit, KV_STACK, idle_ms, request_ms, kv_conn, k, "kv") !=
	    0) {
		kv_table_free(&k->table);
		return -1;
	}
	return 0;
}

void kv_destroy(struct kv *k)
{
	srv_destroy(&k->srv);
	kv_table_free(&k->table);
}
