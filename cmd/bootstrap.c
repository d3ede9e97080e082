/* bootstrap.c — -addr and -bootstrap parsing, host name resolution. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd/bootstrap.h"

/* Quote at most 80 bytes of user input, printable ASCII only. */
static const char *quote(char *buf, size_t cap, const char *s, size_t len)
{
	size_t o = 0;
	if (cap < 4)
		return "";
	buf[o++] = '"';
	for (size_t i = 0; i < len && o + 5 < cap && i < 80; i++)
		buf[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (len > 80 && o + 5 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = 0;
	return buf;
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == ':' || c == '%';
}

int nn_cmd_parse_hostport(nn_cmd_hostport *out, const char *s, size_t len, bool allow_empty_host,
			  bool allow_zero_port, char *err, size_t errcap)
{
	char q[128], qp[32];
	memset(out, 0, sizeof *out);
	const char *host = s, *port;
	size_t hlen;
	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || close + 1 >= s + len || close[1] != ':') {
			snprintf(err, errcap, "%s: want [ipv6]:port", quote(q, sizeof q, s, len));
			return NN_EADDR;
		}
		host = s + 1;
		hlen = (size_t)(close - host);
		port = close + 2;
		char tmp[NN_CMD_HOST_MAX];
		struct in6_addr a6;
		bool ok = hlen > 0 && hlen < sizeof tmp;
		if (ok) {
			memcpy(tmp, host, hlen);
			tmp[hlen] = 0;
			ok = inet_pton(AF_INET6, tmp, &a6) == 1;
		}
		if (!ok) {
			snprintf(err, errcap, "%s: bad IPv6 address", quote(q, sizeof q, s, len));
			return NN_EADDR;
		}
	} else {
		const char *colon = NULL;
		for (size_t i = len; i > 0; i--)
			if (s[i - 1] == ':') {
				colon = s + i - 1;
				break;
			}
		if (!colon) {
			snprintf(err, errcap, "%s: want host:port", quote(q, sizeof q, s, len));
			return NN_EADDR;
		}
		hlen = (size_t)(colon - s);
		port = colon + 1;
		if (memchr(s, ':', hlen)) {
			snprintf(err, errcap, "%s: put an IPv6 address in brackets: [ipv6]:port",
				 quote(q, sizeof q, s, len));
			return NN_EADDR;
		}
	}
	if (hlen == 0 && !allow_empty_host) {
		snprintf(err, errcap, "%s: missing host (want host:port)", quote(q, sizeof q, s, len));
		return NN_EADDR;
	}
	if (hlen >= NN_CMD_HOST_MAX) {
		snprintf(err, errcap, "%s: host name too long", quote(q, sizeof q, s, len));
		return NN_EADDR;
	}
	for (size_t i = 0; i < hlen; i++)
		if (!host_char_ok(host[i])) {
			snprintf(err, errcap, "%s: bad character in host", quote(q, sizeof q, s, len));
			return NN_EADDR;
		}
	size_t plen = (size_t)(s + len - port);
	unsigned long p = 0;
	bool ok = plen > 0 && plen <= 5;
	for (size_t i = 0; ok && i < plen; i++) {
		ok = port[i] >= '0' && port[i] <= '9';
		p = p * 10 + (unsigned long)(port[i] - '0');
	}
	if (!ok || p > 65535 || (p == 0 && !allow_zero_port)) {
		snprintf(err, errcap, "%s: bad port %s (want %s..65535)", quote(q, sizeof q, s, len),
			 quote(qp, sizeof qp, port, plen), allow_zero_port ? "0" : "1");
		return NN_EADDR;
	}
	memcpy(out->host, host, hlen);
	out->host[hlen] = 0;
	out->port = (unsigned)p;
	return 0;
}

int nn_cmd_parse_bootstrap(nn_cmd_contact *out, size_t cap, const char *s, char *err,
			   size_t errcap)
{
	char q[128], sub[384];
	size_t n = 0;
	if (!s || !*s) {
		snprintf(err, errcap, "-bootstrap: empty (want <64-hex NodeID>@host:port[,...])");
		return NN_EINVAL;
	}
	for (const char *p = s;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0) {
			snprintf(err, errcap, "-bootstrap: empty entry %zu in the list", n + 1);
			return NN_EINVAL;
		}
		if (n == cap) {
			snprintf(err, errcap, "-bootstrap: more than %zu contacts", cap);
			return NN_EINVAL;
		}
		const char *at = memchr(p, '@', len);
		if (!at) {
			snprintf(err, errcap, "-bootstrap %s: missing '@' (want <64-hex NodeID>@host:port)",
				 quote(q, sizeof q, p, len));
			return NN_EINVAL;
		}
		if (nn_id_parse(&out[n].id, p, (size_t)(at - p)) < 0) {
			snprintf(err, errcap, "-bootstrap %s: the NodeID must be exactly 64 hex digits",
				 quote(q, sizeof q, p, len));
			return NN_EINVAL;
		}
		int rc = nn_cmd_parse_hostport(&out[n].hp, at + 1, len - (size_t)(at + 1 - p), false,
					       false, sub, sizeof sub);
		if (rc < 0) {
			snprintf(err, errcap, "-bootstrap %s", sub);
			return NN_EINVAL;
		}
		for (size_t i = 0; i < n; i++)
			if (!memcmp(out[i].id.b, out[n].id.b, sizeof out[n].id.b)) {
				snprintf(err, errcap, "-bootstrap: NodeID %.16s... listed twice",
					 p);
				return NN_EINVAL;
			}
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	return (int)n;
}

int nn_cmd_resolve(const nn_cmd_hostport *hp, char *out, size_t cap, char *err, size_t errcap)
{
	int w;
	struct in6_addr a6;
	struct in_addr a4;
	if (!hp->host[0])
		w = snprintf(out, cap, ":%u", hp->port);
	else if (inet_pton(AF_INET6, hp->host, &a6) == 1)
		w = snprintf(out, cap, "[%s]:%u", hp->host, hp->port);
	else if (inet_pton(AF_INET, hp->host, &a4) == 1)
		w = snprintf(out, cap, "%s:%u", hp->host, hp->port);
	else {
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
		struct addrinfo *res = NULL;
		int rc = getaddrinfo(hp->host, NULL, &hints, &res);
		if (rc != 0 || !res) {
			snprintf(err, errcap, "cannot resolve host \"%s\": %s", hp->host,
				 rc ? gai_strerror(rc) : "no address");
			return NN_EADDR;
		}
		const struct addrinfo *pick = res;
		for (const struct addrinfo *r = res; r; r = r->ai_next)
			if (r->ai_family == AF_INET) {
				pick = r;
				break;
			}
		char lit[INET6_ADDRSTRLEN];
		if (pick->ai_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)pick->ai_addr)->sin_addr, lit,
				  sizeof lit);
			w = snprintf(out, cap, "%s:%u", lit, hp->port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr, lit,
				  sizeof lit);
			w = snprintf(out, cap, "[%s]:%u", lit, hp->port);
		}
		freeaddrinfo(res);
	}
	if (w < 0 || (size_t)w >= cap) {
		snprintf(err, errcap, "address \"%s\" too long", hp->host);
		return NN_EADDR;
	}
	return 0;
}
