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

void nn_addr_read(nn_rd *r, nn_addr *a)
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

void nn_addr_list_read(nn_rd *r, nn_addr *out, size_t cap, size_t max_count, size_t *n)
{
	*n = 0;
	uint64_t count = nn_rd_uvarint(r);
	if (r->err)
		return;
	if (count > max_count || count > cap) {
		nn_rd_fail(r, NN_ELIMIT);
		return;
	}
	if (count > nn_rd_left(r) / 2) {
		nn_rd_fail(r, NN_ETRUNC);
		return;
	}
	for (size_t i = 0; i < count && !r->err; i++)
		nn_addr_read(r, &out[i]);
	if (!r->err)
		*n = (size_t)count;
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
