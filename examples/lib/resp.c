/* resp - RESP2 command parser. See resp.h. */
#include <string.h>

#include "resp.h"

/*
 * Parse "<digits>\r\n" (optionally negative) at @p, @n bytes available.
 * Returns bytes used (> 0), 0 if incomplete, -1 if malformed.
 */
static int parse_len_slow(const char *p, size_t n, long long *out)
{
	size_t i = 0;
	int neg = 0;
	long long x = 0;

	if (i < n && p[i] == '-') {
		neg = 1;
		i++;
	}
	size_t d0 = i;
	while (i < n && p[i] >= '0' && p[i] <= '9') {
		if (i - d0 >= 18)
			return -1;
		x = x * 10 + (p[i] - '0');
		i++;
	}
	if (i == n)
		return 0;
	if (i == d0 || p[i] != '\r')
		return -1;
	if (i + 1 == n)
		return 0;
	if (p[i + 1] != '\n')
		return -1;
	*out = neg ? -x : x;
	return (int)(i + 2);
}

/*
 * parse_len_slow() with a fast path for what nearly every frame holds: a
 * length of one or two digits, its CRLF already in the buffer (counts,
 * key and value sizes of ordinary commands).
 */
static inline int parse_len_line(const char *p, size_t n, long long *out)
{
	if (n >= 4) {
		unsigned d0 = (unsigned)(unsigned char)p[0] - '0';
		unsigned d1 = (unsigned)(unsigned char)p[1] - '0';

		if (d0 < 10 && p[1] == '\r' && p[2] == '\n') {
			*out = d0;
			return 3;
		}
		if (d0 < 10 && d1 < 10 && p[2] == '\r' && p[3] == '\n') {
			*out = d0 * 10 + d1;
			return 4;
		}
	}
	return parse_len_slow(p, n, out);
}

static int parse_inline(const char *buf, size_t len, struct resp_cmd *cmd, const char **err)
{
	const char *nl = memchr(buf, '\n', len < RESP_MAX_INLINE ? len : RESP_MAX_INLINE);
	size_t end, i = 0;

	if (!nl) {
		if (len >= RESP_MAX_INLINE) {
			*err = "Protocol error: too big inline request";
			return RESP_BAD;
		}
		return RESP_INCOMPLETE;
	}
	end = (size_t)(nl - buf);
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	cmd->argc = 0;
	for (;;) {
		while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i == end)
			break;
		size_t s = i;
		while (i < end && buf[i] != ' ' && buf[i] != '\t')
			i++;
		if (cmd->argc == RESP_MAX_ARGS) {
			*err = "Protocol error: too many arguments";
			return RESP_BAD;
		}
		cmd->argv[cmd->argc] = buf + s;
		cmd->argl[cmd->argc] = i - s;
		cmd->argc++;
	}
	return (int)(nl - buf) + 1;
}

int resp_parse(const char *buf, size_t len, struct resp_cmd *cmd, const char **err, size_t *need)
{
	size_t pos;
	long long n, l;
	int r;

	if (need)
		*need = 0;
	if (len == 0)
		return RESP_INCOMPLETE;
	if (buf[0] != '*')
		return parse_inline(buf, len, cmd, err);
	r = parse_len_line(buf + 1, len - 1, &n);
	if (r == 0)
		return len > 32 ? (*err = "Protocol error: invalid multibulk length", RESP_BAD)
				: RESP_INCOMPLETE;
	if (r < 0 || n > RESP_MAX_ARGS) {
		*err = r < 0 ? "Protocol error: invalid multibulk length"
			     : "Protocol error: too many arguments";
		return RESP_BAD;
	}
	pos = 1 + (size_t)r;
	cmd->argc = 0;
	for (long long k = 0; k < n; k++) {
		if (pos == len)
			return RESP_INCOMPLETE;
		if (buf[pos] != '$') {
			*err = "Protocol error: expected '$'";
			return RESP_BAD;
		}
		r = parse_len_line(buf + pos + 1, len - pos - 1, &l);
		if (r == 0) {
			if (len - pos > 32) {
				*err = "Protocol error: invalid bulk length";
				return RESP_BAD;
			}
			return RESP_INCOMPLETE;
		}
		if (r < 0 || l < 0 || l > RESP_MAX_BULK) {
			*err = "Protocol error: invalid bulk length";
			return RESP_BAD;
		}
		pos += 1 + (size_t)r;
		if (len - pos < (size_t)l + 2) {
			if (need)
				*need = pos + (size_t)l + 2;
			return RESP_INCOMPLETE;
		}
		if (buf[pos + l] != '\r' || buf[pos + l + 1] != '\n') {
			*err = "Protocol error: bulk string not terminated by CRLF";
			return RESP_BAD;
		}
		cmd->argv[cmd->argc] = buf + pos;
		cmd->argl[cmd->argc] = (size_t)l;
		cmd->argc++;
		pos += (size_t)l + 2;
	}
	return (int)pos;
}
