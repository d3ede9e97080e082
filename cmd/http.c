/* http.c — the metrics endpoint's request parser (see http.h). */
#include <string.h>

#include "cmd/http.h"
#include "node/nodenet.h"

/* The end of the line starting at off: the index of its LF, or len when none yet. */
static size_t line_end(const char *buf, size_t len, size_t off)
{
	const char *nl = memchr(buf + off, '\n', len - off);
	return nl ? (size_t)(nl - buf) : len;
}

/* buf[a..b) without a trailing CR. */
static size_t trim_cr(const char *buf, size_t a, size_t b)
{
	return b > a && buf[b - 1] == '\r' ? b - 1 : b;
}

static int parse_request_line(const char *s, size_t n, nn_http_req *out)
{
	size_t i = 0;
	while (i < n && s[i] >= 'A' && s[i] <= 'Z')
		i++;
	if (i == 0 || i > 16 || i >= n || s[i] != ' ')
		return NN_EINVAL;
	out->method = s;
	out->method_len = i;
	size_t t = ++i;
	while (i < n && s[i] > 0x20 && s[i] < 0x7f)
		i++;
	size_t tlen = i - t;
	if (tlen == 0 || tlen > NN_HTTP_MAX_TARGET || s[t] != '/' || i >= n || s[i] != ' ')
		return NN_EINVAL;
	const char *q = memchr(s + t, '?', tlen);
	out->path = s + t;
	out->path_len = q ? (size_t)(q - (s + t)) : tlen;
	i++;
	if (n - i != 8 || memcmp(s + i, "HTTP/1.", 7) != 0 || (s[i + 7] != '0' && s[i + 7] != '1'))
		return NN_EINVAL;
	out->minor = s[i + 7] - '0';
	return 0;
}

int nn_http_parse(const char *buf, size_t len, nn_http_req *out)
{
	if (!buf || !out)
		return NN_EINVAL;
	memset(out, 0, sizeof *out);
	size_t cap = len < NN_HTTP_MAX_REQUEST ? len : NN_HTTP_MAX_REQUEST;
	size_t off = 0, lines = 0;
	for (;;) {
		size_t e = line_end(buf, cap, off);
		size_t body_end = trim_cr(buf, off, e);
		/* every byte seen so far must be plausible, complete line or not */
		for (size_t i = off; i < body_end; i++) {
			unsigned char ch = (unsigned char)buf[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return NN_EINVAL;
		}
		if (e == cap) /* no LF yet */
			return len >= NN_HTTP_MAX_REQUEST ? NN_ETOOBIG : 0;
		if (lines == 0) {
			if (parse_request_line(buf + off, body_end - off, out) < 0)
				return NN_EINVAL;
		} else if (body_end == off) {
			out->head_len = e + 1;
			return 1;
		} else if (buf[off] == ' ' || buf[off] == '\t' || !memchr(buf + off, ':', body_end - off)) {
			return NN_EINVAL; /* no obsolete line folding; a header has a colon */
		}
		if (++lines > NN_HTTP_MAX_HEADERS + 1)
			return NN_ETOOBIG;
		off = e + 1;
	}
}

bool nn_http_method_is(const nn_http_req *r, const char *m)
{
	size_t n = strlen(m);
	return r->method && r->method_len == n && !memcmp(r->method, m, n);
}
