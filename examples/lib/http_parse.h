/*
 * http_parse.h - a strict, allocation-free parser for the head of one
 * HTTP/1.x request, used by the wire_httpd example and its tests.
 *
 * The parser looks at bytes already received and never keeps state between
 * calls: call it again with the same (grown) buffer when more bytes arrive.
 * Every complete line is validated as soon as it is present, so garbage is
 * rejected without waiting for the end of the head.
 */
#ifndef WIRE_EXAMPLE_HTTP_PARSE_H
#define WIRE_EXAMPLE_HTTP_PARSE_H

#include <stddef.h>

/* Results of http_parse_request() other than a head length. */
#define HTTP_PARSE_INCOMPLETE 0	 /* the head is not complete yet */
#define HTTP_PARSE_BAD	      -1 /* malformed: answer 400 and close */
#define HTTP_PARSE_TOO_LARGE  -2 /* head longer than allowed: 413 and close */

/* One parsed request head. Pointers point into the caller's buffer. */
struct http_request {
	const char *method;
	size_t method_len;
	const char *target; /* origin-form, starts with '/' */
	size_t target_len;
	int minor;		  /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
	int keep_alive;		  /* the connection may stay open after the reply */
	long long content_length; /* bytes of body after the head; 0 if none */
	size_t head_len;	  /* bytes of the head, final empty line included */
};

/*
 * Parse the request head at the start of @buf (@len bytes). Returns the
 * head length (> 0) with @req filled, HTTP_PARSE_INCOMPLETE while the
 * head may still become valid, HTTP_PARSE_BAD for a malformed head, and
 * HTTP_PARSE_TOO_LARGE when no complete head fits in @max_head bytes.
 *
 * Accepted: "METHOD SP /target SP HTTP/1.0|1.1 CRLF", header lines
 * "name: value CRLF", an empty CRLF line. Rejected as malformed: bare LF or
 * CR, control bytes, a request target not in origin form, whitespace
 * before a header colon, obsolete line folding, a request body announced
 * with Transfer-Encoding, an invalid or conflicting Content-Length, and an
 * HTTP/1.1 request without Host.
 */
int http_parse_request(const char *buf, size_t len, size_t max_head, struct http_request *req);

#endif
