/* addr.c — transport addresses: v1 wire codec, IP literal parsing, subnet keys. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/addr.h"

int nn_addr_set(nn_addr *a, const char *net, const char *ep)
{
	size_t nl = strlen(net), el = strlen(ep);
	if (nl == 0)
		return NN_EINVAL;
	if (nl > NN_ADDR_NET_MAX || el > NN_ADDR_EP_MAX)
		return NN_ETOOBIG;
	memset(a, 0, sizeof *a);
	memcpy(a->net, net, nl);
	memcpy(a->ep, ep, el);
	a->net_len = (uint8_t)nl;
	a->ep_len = (uint8_t)el;
	return 0;
}

bool nn_addr_eq(const nn_addr *a, const nn_addr *b)
{
	return a->net_len == b->net_len && a->ep_len == b->ep_len &&
	       !memcmp(a->net, b->net, a->net_len) && !memcmp(a->ep, b->ep, a->ep_len);
}

bool nn_addr_is_quic(const nn_addr *a) { return a->net_len == 4 && !memcmp(a->net, "quic", 4); }

size_t nn_addr_wire_len(const nn_addr *a)
{
	return nn_uvarint_len(a->net_len) + a->net_len + nn_uvarint_len(a->ep_len) + a->ep_len;
}

void nn_addr_write(nn_wr *w, const nn_addr *a)
{
	nn_wr_lenbytes(w, a->net, a->net_len);
	nn_wr_lenbytes(w, a->ep, a->ep_len);
}

/* ---- the address grammar (local policy, checked at decode) ---- */
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* A decimal number of 1..5 digits without a leading zero ("0" itself allowed), <= max. */
static bool decimal(const char *p, size_t len, unsigned max, unsigned *out)
{
	if (len == 0 || len > 5 || (len > 1 && p[0] == '0'))
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(p[i]))
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Dotted quad: four decimal octets 0..255, no leading zeros (01 could be read as octal). */
static bool ipv4_ok(const char *h, size_t len)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t j = i;
		unsigned v;
		while (j < len && h[j] != '.')
			j++;
		if (!decimal(h + i, j - i, 255, &v))
			return false;
		if (part < 3 && j == len)
			return false;
		if (part == 3 && j != len)
			return false;
		i = j + 1;
	}
	return true;
}

/* The inside of "[...]": hex digits, ':' and '.' only (no zone: "%eth0" means nothing to a
 * remote peer), and a valid IPv6 literal. */
static bool ipv6_ok(const char *h, size_t len)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;
	if (len < 2 || len >= sizeof buf)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_hex(h[i]) && h[i] != ':' && h[i] != '.')
			return false;
	memcpy(buf, h, len);
	buf[len] = 0;
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* DNS name: labels of 1..63 [A-Za-z0-9-], not starting or ending with '-', joined by single
 * dots, no trailing dot; the last label is not all digits (a host of digits and dots is an
 * IPv4 literal or nothing). */
static bool dns_ok(const char *h, size_t len)
{
	size_t i = 0, last = 0;
	if (len == 0)
		return false;
	while (i <= len) {
		size_t j = i;
		while (j < len && h[j] != '.')
			j++;
		if (j == i || j - i > 63 || h[i] == '-' || h[j - 1] == '-')
			return false;
		for (size_t k = i; k < j; k++)
			if (!is_alnum(h[k]) && h[k] != '-')
				return false;
		last = i;
		i = j + 1;
	}
	for (size_t k = last; k < len; k++)
		if (!is_digit(h[k]))
			return true;
	return false;
}

static bool quic_endpoint_ok(const char *ep, size_t len)
{
	const char *colon = len ? memrchr(ep, ':', len) : NULL;
	unsigned port;
	if (!colon)
		return false;
	size_t hl = (size_t)(colon - ep);
	if (!decimal(colon + 1, len - hl - 1, 65535, &port) || port == 0)
		return false;
	if (hl >= 2 && ep[0] == '[' && ep[hl - 1] == ']')
		return ipv6_ok(ep + 1, hl - 2);
	bool dotted = hl > 0;
	for (size_t i = 0; i < hl; i++)
		dotted &= is_digit(ep[i]) || ep[i] == '.';
	return dotted ? ipv4_ok(ep, hl) : dns_ok(ep, hl);
}

int nn_addr_check(const nn_addr *a)
{
	if (!a || a->net_len == 0 || a->net_len > NN_ADDR_NET_MAX || a->ep_len > NN_ADDR_EP_MAX)
		return NN_EADDR;
	for (size_t i = 0; i < a->net_len; i++)
		if (!is_digit(a->net[i]) && !(a->net[i] >= 'a' && a->net[i] <= 'z'))
			return NN_EADDR;
	if (nn_addr_is_quic(a))
		return quic_endpoint_ok(a->ep, a->ep_len) ? 0 : NN_EADDR;
	if (a->ep_len == 0)
		return NN_EADDR;
	for (size_t i = 0; i < a->ep_len; i++) {
		char c = a->ep[i];
		if (!is_alnum(c) && (c == 0 || !strchr("._:[]-", c))) /* strchr finds the NUL */
			return NN_EADDR;
	}
	return 0;
}

/* The codec's structural part: lengths, and a non-empty net. */
static void read_raw(nn_rd *r, nn_addr *a)
{
	size_t nl, el;
	const uint8_t *net = nn_rd_lenbytes(r, NN_ADDR_NET_MAX, &nl);
	const uint8_t *ep = nn_rd_lenbytes(r, NN_ADDR_EP_MAX, &el);
	memset(a, 0, sizeof *a);
	if (r->err)
		return;
	if (nl == 0) {
		nn_rd_fail(r, NN_ECORRUPT); /* an address needs a network name */
		return;
	}
	memcpy(a->net, net, nl);
	memcpy(a->ep, ep, el);
	a->net_len = (uint8_t)nl;
	a->ep_len = (uint8_t)el;
}

void nn_addr_read(nn_rd *r, nn_addr *a)
{
	read_raw(r, a);
	if (!r->err && nn_addr_check(a) != 0) {
		memset(a, 0, sizeof *a);
		nn_rd_fail(r, NN_EADDR);
	}
}

/* The declared count of a list, checked against the caps and the remaining bytes. */
static bool list_count(nn_rd *r, size_t cap, size_t max_count, uint64_t *count)
{
	*count = nn_rd_uvarint(r);
	if (r->err)
		return false;
	if (*count > max_count || *count > cap) {
		nn_rd_fail(r, NN_ELIMIT);
		return false;
	}
	if (*count > nn_rd_left(r) / 2) {
		nn_rd_fail(r, NN_ETRUNC);
		return false;
	}
	return true;
}

void nn_addr_list_read(nn_rd *r, nn_addr *out, size_t cap, size_t max_count, size_t *n)
{
	uint64_t count;
	*n = 0;
	if (!list_count(r, cap, max_count, &count))
		return;
	for (size_t i = 0; i < count && !r->err; i++)
		nn_addr_read(r, &out[i]);
	if (!r->err)
		*n = (size_t)count;
}

void nn_addr_list_read_valid(nn_rd *r, nn_addr *out, size_t cap, size_t max_count, size_t *n,
			     size_t *declared, size_t *dropped)
{
	uint64_t count;
	size_t kept = 0, bad = 0;
	*n = *declared = *dropped = 0;
	if (!list_count(r, cap, max_count, &count))
		return;
	for (size_t i = 0; i < count && !r->err; i++) {
		read_raw(r, &out[kept]);
		if (r->err)
			break;
		if (nn_addr_check(&out[kept]) == 0) {
			kept++;
		} else {
			memset(&out[kept], 0, sizeof out[kept]);
			bad++;
		}
	}
	if (!r->err) {
		*n = kept;
		*declared = (size_t)count;
		*dropped = bad;
	}
}

void nn_addr_list_write(nn_wr *w, const nn_addr *a, size_t n)
{
	nn_wr_uvarint(w, n);
	for (size_t i = 0; i < n; i++)
		nn_addr_write(w, &a[i]);
}

/* Split "host:port" or "[v6]:port" into a NUL-terminated host and a port. */
static int split_hostport(const nn_addr *a, char host[NN_ADDR_EP_MAX + 1], unsigned *port)
{
	const char *ep = a->ep;
	size_t len = a->ep_len;
	const char *colon;
	if (len == 0)
		return NN_EADDR;
	if (ep[0] == '[') {
		const char *close = memchr(ep, ']', len);
		if (!close || (size_t)(close - ep) + 1 >= len || close[1] != ':')
			return NN_EADDR;
		size_t hl = (size_t)(close - ep - 1);
		memcpy(host, ep + 1, hl);
		host[hl] = 0;
		colon = close + 1;
	} else {
		colon = memrchr(ep, ':', len);
		if (!colon)
			return NN_EADDR;
		size_t hl = (size_t)(colon - ep);
		if (memchr(ep, ':', hl))
			return NN_EADDR; /* bare IPv6 without brackets is ambiguous */
		memcpy(host, ep, hl);
		host[hl] = 0;
	}
	const char *p = colon + 1, *end = ep + len;
	if (p == end || end - p > 5)
		return NN_EADDR;
	unsigned v = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return NN_EADDR;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > 65535)
		return NN_EADDR;
	*port = v;
	return 0;
}

int nn_addr_to_sockaddr(const nn_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[NN_ADDR_EP_MAX + 1];
	unsigned port;
	if (!nn_addr_is_quic(a) || split_hostport(a, host, &port) != 0)
		return NN_EADDR;
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
		return 0;
	}
	return NN_EADDR;
}

int nn_addr_from_sockaddr(nn_addr *a, const struct sockaddr *sa, socklen_t len)
{
	char host[INET6_ADDRSTRLEN], ep[NN_ADDR_EP_MAX + 1];
	unsigned port;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		port = ntohs(s4->sin_port);
		snprintf(ep, sizeof ep, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host, sizeof host);
			snprintf(ep, sizeof ep, "%s:%u", host, port);
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
			snprintf(ep, sizeof ep, "[%s]:%u", host, port);
		}
	} else {
		return NN_EADDR;
	}
	return nn_addr_set(a, "quic", ep);
}

int nn_addr_subnet(const nn_addr *a, uint8_t key[16])
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (nn_addr_to_sockaddr(a, &ss, &len) != 0)
		return NN_EADDR;
	memset(key, 0, 16);
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
		if ((ntohl(s4->sin_addr.s_addr) >> 24) == 127)
			return NN_EADDR; /* loopback: one host, no subnet */
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
		key[15] = 0;
		return 0;
	}
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127))
		return NN_EADDR;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(key, s6->sin6_addr.s6_addr, 15);
		return 0;
	}
	memcpy(key, s6->sin6_addr.s6_addr, 8);
	return 0;
}

const char *nn_addr_str(const nn_addr *a, char *buf, size_t cap)
{
	snprintf(buf, cap, "%.*s/%.*s", (int)a->net_len, a->net, (int)a->ep_len, a->ep);
	return buf;
}

int nn_addr_list_check(const nn_addr *a, size_t n, size_t max)
{
	if (n > max)
		return NN_ELIMIT;
	if (n && !a)
		return NN_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (a[i].net_len == 0 || a[i].net_len > NN_ADDR_NET_MAX ||
		    a[i].ep_len > NN_ADDR_EP_MAX)
			return NN_EINVAL;
	return 0;
}
