/* http.h — the request parser of nodenet-node's metrics endpoint (a tiny HTTP/1.0 responder).
 *
 * A request is untrusted bytes from whoever can reach the socket. The parser is pure: no I/O,
 * no allocation; it reads only buf[0..len) and points into it. It accepts
 *   request-line = method SP target SP "HTTP/1." ("0" | "1") CRLF
 *   then header lines (each CRLF-terminated, no control byte but HTAB, at most
 *   NN_HTTP_MAX_HEADERS of them), then an empty line (CRLF),
 * where method is 1..16 uppercase letters and target is "/" followed by 0..255 bytes of
 * 0x21..0x7e. A bare LF ends a line too (curl never sends one, old tools do). The whole head
 * must fit in NN_HTTP_MAX_REQUEST bytes; the body (none expected) is ignored.
 */
#ifndef NN_CMD_HTTP_H
#define NN_CMD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define NN_HTTP_MAX_REQUEST 4096
#define NN_HTTP_MAX_TARGET 256
#define NN_HTTP_MAX_HEADERS 64

typedef struct nn_http_req {
	const char *method; /* points into the buffer, not NUL-terminated */
	size_t method_len;
	const char *path;   /* the target up to '?' */
	size_t path_len;
	int minor;          /* HTTP/1.<minor> */
	size_t head_len;    /* bytes of the request line, headers and empty line */
} nn_http_req;

/* Parse the head of a request from buf[0..len). Returns 1 with *out filled when the head is
 * complete, 0 when more bytes are needed (len < NN_HTTP_MAX_REQUEST and nothing is wrong so
 * far), NN_ETOOBIG when the head does not end within NN_HTTP_MAX_REQUEST bytes (or has too
 * many header lines), NN_EINVAL when the bytes are not a request. */
int nn_http_parse(const char *buf, size_t len, nn_http_req *out);

/* True when the request's method is m (exact, case-sensitive). */
bool nn_http_method_is(const nn_http_req *r, const char *m);

#endif
