/* http_parse - HTTP/1.x request head parser. See http_parse.h. */
#include <string.h>

#include "http_parse.h"

/* RFC 9110 tchar: the bytes of a method or a header name. */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed in a header value: VCHAR, SP, HTAB, obs-text. */
static int is_vbyte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int lower_eq(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n && lit[i]; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return 0;
	}
	return i == n && lit[i] == '\0';
}

/* Does the comma-separated list @v contain the token @tok (any case)? */
static int has_token(const char *v, size_t n, const char *tok)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && lower_eq(v + s, e - s, tok))
			return 1;
	}
	return 0;
}

static int parse_request_line(const char *p, size_t n, struct http_request *req)
{
	size_t i = 0, t;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return -1;
	req->method = p;
	req->method_len = i;
	t = ++i;
	while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
		i++;
	if (i == t || i >= n || p[i] != ' ' || p[t] != '/')
		return -1;
	req->target = p + t;
	req->target_len = i - t;
	i++;
	if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0)
		return -1;
	if (p[i + 7] == '0')
		req->minor = 0;
	else if (p[i + 7] == '1')
		req->minor = 1;
	else
		return -1;
	return 0;
}

static int parse_content_length(const char *v, size_t n, long long *out)
{
	long long x = 0;

	if (n == 0 || n > 15)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	*out = x;
	return 0;
}

int http_parse_request(const char *buf, size_t len, size_t max_head, struct http_request *req)
{
	size_t pos = 0;
	int line = 0, conn_close = 0, conn_keep = 0, has_host = 0;
	long long clen = -1;

	for (;;) {
		const char *p = buf + pos;
		size_t avail = len - pos, n;
		const char *nl = memchr(p, '\n', avail);

		if (!nl) {
			/* Partial line: reject bytes that can never become valid. */
			for (size_t i = 0; i < avail; i++) {
				unsigned char c = (unsigned char)p[i];
				if (c == '\r' ? i + 1 != avail : !is_vbyte(c))
					return HTTP_PARSE_BAD;
			}
			return len >= max_head ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_INCOMPLETE;
		}
		n = (size_t)(nl - p);
		if (pos + n + 1 > max_head)
			return HTTP_PARSE_TOO_LARGE;
		if (n == 0 || p[n - 1] != '\r')
			return HTTP_PARSE_BAD; /* bare LF */
		n--;
		pos += n + 2;
		if (line++ == 0) {
			if (parse_request_line(p, n, req) != 0)
				return HTTP_PARSE_BAD;
			continue;
		}
		if (n == 0)
			break; /* end of head */
		/* Header field: name ":" OWS value OWS */
		size_t i = 0, vs, ve;
		while (i < n && is_tchar((unsigned char)p[i]))
			i++;
		if (i == 0 || i >= n || p[i] != ':')
			return HTTP_PARSE_BAD; /* also catches obs-fold and "name :" */
		size_t name_len = i++;
		for (size_t k = i; k < n; k++)
			if (!is_vbyte((unsigned char)p[k]))
				return HTTP_PARSE_BAD;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		vs = i;
		ve = n;
		while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
			ve--;
		const char *v = p + vs;
		size_t vn = ve - vs;
		switch (name_len) {
		case 4:
			if (lower_eq(p, 4, "host"))
				has_host++;
			break;
		case 10:
			if (lower_eq(p, 10, "connection")) {
				conn_close |= has_token(v, vn, "close");
				conn_keep |= has_token(v, vn, "keep-alive");
			}
			break;
		case 14:
			if (lower_eq(p, 14, "content-length")) {
				long long x;
				if (parse_content_length(v, vn, &x) != 0 ||
				    (clen >= 0 && clen != x))
					return HTTP_PARSE_BAD;
				clen = x;
			}
			break;
		case 17:
			if (lower_eq(p, 17, "transfer-encoding"))
				return HTTP_PARSE_BAD;
			break;
		}
	}
	if (req->minor == 1 && has_host != 1)
		return HTTP_PARSE_BAD;
	req->content_length = clen < 0 ? 0 : clen;
	req->keep_alive = req->minor == 1 ? !conn_close : (conn_keep && !conn_close);
	req->head_len = pos;
	return (int)pos;
}
