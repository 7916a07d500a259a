/* httpd - HTTP/1.1 server on wires. See httpd.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_parse.h"
#include "httpd.h"
#include "wire_io.h"

struct hconn {
	struct srv_conn *c;
	struct httpd *h;
	size_t out_len;
	int broken;  /* a write failed or a reply cannot be completed: end now */
	int closing; /* an error reply that ends the connection was queued */
	char in[HTTPD_MAX_HEAD];
	char out[HTTPD_OUT];
};

/* "Date:" value, refreshed once per second. */
static char date_buf[40];
static time_t date_sec = -1;

static void date_refresh(void)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec == date_sec)
		return;
	date_sec = ts.tv_sec;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date_buf, sizeof(date_buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int flush(struct hconn *hc)
{
	if (hc->out_len && !hc->broken) {
		if (wire_net_write(&hc->c->net, hc->out, hc->out_len) < 0)
			hc->broken = 1;
		else
			srv_touch(hc->c);
	}
	hc->out_len = 0;
	return hc->broken ? -1 : 0;
}

/* Make room for @n bytes in the output buffer (n <= HTTPD_OUT). */
static int reserve(struct hconn *hc, size_t n)
{
	if (HTTPD_OUT - hc->out_len < n)
		return flush(hc);
	return 0;
}

static void put(struct hconn *hc, const char *s, size_t n)
{
	memcpy(hc->out + hc->out_len, s, n);
	hc->out_len += n;
}

#define PUTS(hc, lit) put(hc, lit, sizeof(lit) - 1)

static void put_str(struct hconn *hc, const char *s)
{
	put(hc, s, strlen(s));
}

static void put_num(struct hconn *hc, unsigned long long v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(hc, tmp + i, sizeof(tmp) - (size_t)i);
}

/*
 * Status line and headers up to the empty line. @close: announce the end
 * of the connection; @ka10: an HTTP/1.0 client asked for keep-alive.
 */
static void put_head(struct hconn *hc, const char *status, const char *type,
		     unsigned long long clen, int close, int ka10)
{
	PUTS(hc, "HTTP/1.1 ");
	put_str(hc, status);
	PUTS(hc, "\r\nServer: wire_httpd\r\nDate: ");
	put_str(hc, date_buf);
	PUTS(hc, "\r\nContent-Type: ");
	put_str(hc, type);
	PUTS(hc, "\r\nContent-Length: ");
	put_num(hc, clen);
	if (close)
		PUTS(hc, "\r\nConnection: close");
	else if (ka10)
		PUTS(hc, "\r\nConnection: keep-alive");
	PUTS(hc, "\r\n\r\n");
}

/* A short error reply with a text body. */
static void reply_error(struct hconn *hc, const char *status, int close, int ka10, int head_only,
			const char *extra)
{
	size_t sl = strlen(status);

	if (reserve(hc, 512 + sl) < 0)
		return;
	PUTS(hc, "HTTP/1.1 ");
	put(hc, status, sl);
	PUTS(hc, "\r\nServer: wire_httpd\r\nDate: ");
	put_str(hc, date_buf);
	if (extra)
		put_str(hc, extra);
	PUTS(hc, "\r\nContent-Type: text/plain\r\nContent-Length: ");
	put_num(hc, sl + 1);
	if (close)
		PUTS(hc, "\r\nConnection: close");
	else if (ka10)
		PUTS(hc, "\r\nConnection: keep-alive");
	PUTS(hc, "\r\n\r\n");
	if (!head_only) {
		put(hc, status, sl);
		PUTS(hc, "\n");
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Map the request target to a file path under the root in @out. Returns
 * the path length, 0 for "/" itself, or -1 for a bad target (percent
 * escape, NUL, a ".." segment, too long).
 */
static int map_path(struct httpd *h, const char *t, size_t tl, char *out, size_t cap)
{
	size_t o, seg;

	for (size_t i = 0; i < tl; i++)
		if (t[i] == '?' || t[i] == '#') {
			tl = i;
			break;
		}
	if (tl == 1)
		return 0;
	if (!h->root || h->root_len + tl + 1 > cap)
		return h->root ? -1 : -2;
	memcpy(out, h->root, h->root_len);
	o = h->root_len;
	seg = o;
	for (size_t i = 0; i <= tl; i++) {
		char ch;
		if (i == tl || t[i] == '/') {
			/* End of a segment: refuse "..", which could leave the root. */
			if (o - seg == 3 && memcmp(out + seg, "/..", 3) == 0)
				return -1;
			if (i == tl)
				break;
			seg = o;
			out[o++] = '/';
			continue;
		}
		ch = t[i];
		if (ch == '%') {
			int a = i + 2 < tl ? hexval(t[i + 1]) : -1,
			    b = a >= 0 ? hexval(t[i + 2]) : -1;
			if (b < 0)
				return -1;
			ch = (char)(a * 16 + b);
			i += 2;
			if (ch == '\0' || ch == '/')
				return -1; /* no NUL, no hidden separators */
		}
		out[o++] = ch;
	}
	out[o] = '\0';
	return (int)o;
}

static void serve_file(struct hconn *hc, const char *path, int head_only, int close, int ka10)
{
	struct stat st;
	/* O_NONBLOCK: opening a FIFO or a device under the document root
	 * must not wait (for a writer, a carrier ...), holding a worker;
	 * only regular files are served, and they read as usual. */
	int fd = wio_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	off_t off = 0, size;

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == ELOOP ||
		    errno == ENAMETOOLONG)
			reply_error(hc, "404 Not Found", close, ka10, head_only, NULL);
		else
			reply_error(hc, "500 Internal Server Error", close, ka10, head_only, NULL);
		return;
	}
	if (wio_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		wio_close(fd);
		reply_error(hc, "404 Not Found", close, ka10, head_only, NULL);
		return;
	}
	size = st.st_size;
	if (reserve(hc, 512) < 0)
		goto out;
	put_head(hc, "200 OK", "application/octet-stream", (unsigned long long)size, close, ka10);
	if (head_only)
		goto out;
	while (off < size) {
		size_t room = HTTPD_OUT - hc->out_len;
		if (room < 4096) {
			if (flush(hc) < 0)
				goto out;
			room = HTTPD_OUT;
		}
		if ((off_t)room > size - off)
			room = (size_t)(size - off);
		ssize_t n = wio_pread(fd, hc->out + hc->out_len, room, off);
		if (n <= 0) {
			/* The file shrank or failed: the promised length cannot be kept. */
			hc->broken = 1;
			break;
		}
		hc->out_len += (size_t)n;
		off += n;
	}
out:
	wio_close(fd);
}

static void handle_request(struct hconn *hc, const struct http_request *r)
{
	struct httpd *h = hc->h;
	int head_only = 0, close = !r->keep_alive, ka10 = r->minor == 0 && r->keep_alive;
	char path[PATH_MAX];

	h->requests++;
	if (r->method_len == 3 && memcmp(r->method, "GET", 3) == 0) {
	} else if (r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0) {
		head_only = 1;
	} else {
		reply_error(hc, "405 Method Not Allowed", 1, 0, 0, "\r\nAllow: GET, HEAD");
		hc->closing = 1;
		return;
	}
	int pl = map_path(h, r->target, r->target_len, path, sizeof(path));
	if (pl == 0) {
		if (reserve(hc, 512) < 0)
			return;
		put_head(hc, "200 OK", "text/plain", sizeof(HTTPD_BODY) - 1, close, ka10);
		if (!head_only)
			PUTS(hc, HTTPD_BODY);
	} else if (pl == -2) {
		reply_error(hc, "404 Not Found", close, ka10, head_only, NULL);
	} else if (pl < 0) {
		reply_error(hc, "400 Bad Request", 1, 0, head_only, NULL);
		hc->closing = 1;
	} else {
		serve_file(hc, path, head_only, close, ka10);
	}
}

static void httpd_conn(struct srv_conn *c)
{
	struct hconn hc;
	size_t len = 0;
	long long skip = 0;
	int done = 0;

	hc.c = c;
	hc.h = c->srv->ctx;
	hc.out_len = 0;
	hc.broken = 0;
	hc.closing = 0;
	while (!done) {
		ssize_t n = wire_net_read_any(&c->net, hc.in + len, sizeof(hc.in) - len);
		size_t off = 0;

		if (n <= 0) {
			if (n == 0 && c->req_expired && (len > 0 || skip)) {
				/* Cut off by the request limit while incomplete. */
				hc.h->requests++;
				date_refresh();
				reply_error(&hc, "408 Request Timeout", 1, 0, 0, NULL);
				flush(&hc);
			}
			break;
		}
		len += (size_t)n;
		date_refresh();
		while (off < len) {
			struct http_request req;
			if (skip) {
				/* A body sent with GET or HEAD: not needed, dropped. */
				size_t k = len - off < (size_t)skip ? len - off : (size_t)skip;
				off += k;
				skip -= (long long)k;
				continue;
			}
			int r = http_parse_request(hc.in + off, len - off, HTTPD_MAX_HEAD, &req);
			if (r == HTTP_PARSE_INCOMPLETE)
				break;
			if (r < 0) {
				hc.h->requests++;
				reply_error(&hc,
					    r == HTTP_PARSE_TOO_LARGE
						? "413 Request Header Fields Too Large"
						: "400 Bad Request",
					    1, 0, 0, NULL);
				done = 2;
				break;
			}
			off += (size_t)r;
			handle_request(&hc, &req);
			skip = req.content_length;
			if (hc.broken || hc.closing) {
				done = hc.closing ? 2 : 1;
				break;
			}
			if (!req.keep_alive) {
				done = 1;
				break;
			}
		}
		srv_partial(c, !done && (off < len || skip > 0));
		if (flush(&hc) < 0)
			return;
		if (done)
			break;
		memmove(hc.in, hc.in + off, len - off);
		len -= off;
	}
	if (done == 2)
		srv_linger(c, 1000);
}

int httpd_start(struct httpd *h, int listen_fd, const char *root, unsigned limit, int idle_ms,
		int request_ms)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nServer: wire_httpd\r\n"
				   "Content-Type: text/plain\r\nContent-Length: 24\r\n"
				   "Connection: close\r\n\r\n503 Service Unavailable\n";

	h->root = root;
	h->root_len = root ? strlen(root) : 0;
	while (h->root_len > 1 && root[h->root_len - 1] == '/')
		h->root_len--;
	h->requests = 0;
	h->srv.busy = busy;
	h->srv.busy_len = sizeof(busy) - 1;
	return srv_start(&h->srv, listen_fd, limit, HTTPD_STACK, idle_ms, request_ms, httpd_conn, h,
			 "http");
}
