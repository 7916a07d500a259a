/*
 * resp.h - parser for commands in the Redis protocol (RESP2), used by the
 * wire_kv example and its tests. Allocation-free: arguments point into the
 * caller's buffer, which must stay unchanged while they are used.
 */
#ifndef WIRE_EXAMPLE_RESP_H
#define WIRE_EXAMPLE_RESP_H

#include <stddef.h>

/* Most arguments one command may carry. */
#define RESP_MAX_ARGS 512
/* Longest inline command line and longest bulk string accepted. */
#define RESP_MAX_INLINE (64 * 1024)
#define RESP_MAX_BULK	(64 * 1024 * 1024)

struct resp_cmd {
	int argc;
	const char *argv[RESP_MAX_ARGS];
	size_t argl[RESP_MAX_ARGS];
};

/* Results of resp_parse() other than a frame length. */
#define RESP_INCOMPLETE 0
#define RESP_BAD	-1

/*
 * Parse one command at the start of @buf (@len bytes): a multibulk frame
 * ("*N\r\n" then N bulk strings "$L\r\n<L bytes>\r\n") or an inline
 * command (words separated by spaces or tabs, ending with "\n" or "\r\n").
 * Returns the frame length (> 0) with @cmd filled (argc may be 0 for an
 * empty line or "*0"), RESP_INCOMPLETE when more bytes are needed, or
 * RESP_BAD with *@err set to a static message for the error reply.
 * When incomplete, *@need (if not NULL) is the least total length the frame
 * is known to need, so the caller can grow its buffer ahead of the bytes.
 */
int resp_parse(const char *buf, size_t len, struct resp_cmd *cmd, const char **err, size_t *need);

#endif
