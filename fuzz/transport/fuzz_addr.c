/* fuzz_addr.c — the address list decoders (and the IP endpoint parser behind them): never crash,
 * never write past the caller's array, every accepted list re-encodes to the very bytes it was
 * decoded from (strict decoding makes the encoding unique), and everything decoded matches the
 * address grammar (transport/addr.h), as judged by an independent checker written here. Byte 0
 * picks the caps (bits 0-5) and the decoder (bit 6: the filtering nn_addr_list_read_valid);
 * with bit 7 set the rest is one raw address (byte 1: net length) and nn_addr_check must agree
 * with the independent checker both ways (differential). Every decoded address also goes
 * through the packed form (nn_addr_pack / nn_addr_unpack) and must come back equal. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kad/nn_err.h"
#include "transport/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* The grammar again, written differently from addr.c (character classes first, libc's parsers
 * for the literals), so a bug in one is not repeated in the other. */
static int in_set(char c, const char *set)
{
	return c != 0 && strchr(set, c) != NULL;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int host_ok(const char *h, size_t len)
{
	char buf[64];
	if (len == 0 || len >= sizeof buf)
		return 0;
	memcpy(buf, h, len);
	buf[len] = 0;
	if (buf[0] == '[') {
		struct in6_addr a6;
		if (buf[len - 1] != ']' || len < 4)
			return 0;
		buf[len - 1] = 0;
		for (size_t i = 1; i + 1 < len; i++)
			if (!in_set(buf[i], "0123456789abcdefABCDEF:."))
				return 0;
		return inet_pton(AF_INET6, buf + 1, &a6) == 1;
	}
	for (size_t i = 0; i < len; i++)
		if (!in_set(buf[i], ALNUM ".-"))
			return 0;
	const char *last = strrchr(buf, '.');
	last = last ? last + 1 : buf;
	if (strspn(last, "0123456789") == strlen(last)) { /* numeric: an IPv4 literal */
		struct in_addr a4;
		return inet_pton(AF_INET, buf, &a4) == 1; /* glibc refuses leading zeros */
	}
	if (buf[0] == '.' || buf[0] == '-' || buf[len - 1] == '.' || buf[len - 1] == '-' ||
	    strstr(buf, "..") || strstr(buf, ".-") || strstr(buf, "-."))
		return 0;
	return 1;
}

static int grammar_ok(const nn_addr *a)
{
	if (a->net_len == 0 || a->net_len > NN_ADDR_NET_MAX || a->ep_len > NN_ADDR_EP_MAX)
		return 0;
	for (size_t i = 0; i < a->net_len; i++)
		if (!in_set(a->net[i], "abcdefghijklmnopqrstuvwxyz0123456789"))
			return 0;
	if (a->net_len != 4 || memcmp(a->net, "quic", 4) != 0) {
		if (a->ep_len == 0)
			return 0;
		for (size_t i = 0; i < a->ep_len; i++)
			if (!in_set(a->ep[i], ALNUM "._:[]-"))
				return 0;
		return 1;
	}
	const char *colon = memrchr(a->ep, ':', a->ep_len);
	if (!colon)
		return 0;
	size_t hl = (size_t)(colon - a->ep), pl = a->ep_len - hl - 1;
	if (pl == 0 || pl > 5 || colon[1] == '0')
		return 0;
	long port = 0;
	for (size_t i = 0; i < pl; i++) {
		if (colon[1 + i] < '0' || colon[1 + i] > '9')
			return 0;
		port = port * 10 + (colon[1 + i] - '0');
	}
	return port >= 1 && port <= 65535 && host_ok(a->ep, hl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		if (size < 2)
			return 0;
		nn_addr a;
		memset(&a, 0, sizeof a);
		size_t nl = data[1] % (NN_ADDR_NET_MAX + 1), rest = size - 2;
		if (nl > rest)
			nl = rest;
		size_t el = rest - nl > NN_ADDR_EP_MAX ? NN_ADDR_EP_MAX : rest - nl;
		memcpy(a.net, data + 2, nl);
		memcpy(a.ep, data + 2 + nl, el);
		a.net_len = (uint8_t)nl;
		a.ep_len = (uint8_t)el;
		if ((nn_addr_check(&a) == 0) != (grammar_ok(&a) != 0))
			abort();
		return 0;
	}
	size_t cap = data[0] & 7, max_count = (data[0] >> 3) & 7;
	nn_addr out[8 + 1];
	memset(&out[cap], 0x5c, sizeof out[cap]); /* guard right after the caller's array */
	nn_rd r;
	size_t n = 0, declared = 0, dropped = 0;
	bool filtered = (data[0] & 0x40) != 0;
	nn_rd_init(&r, data + 1, size - 1);
	if (filtered)
		nn_addr_list_read_valid(&r, out, cap, max_count, &n, &declared, &dropped);
	else
		nn_addr_list_read(&r, out, cap, max_count, &n);
	const uint8_t *g = (const uint8_t *)&out[cap];
	for (size_t i = 0; i < sizeof out[cap]; i++)
		if (g[i] != 0x5c)
			abort();
	if (r.err == 0) {
		if (n > cap || n > max_count)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!grammar_ok(&out[i]) || nn_addr_check(&out[i]) != 0)
				abort(); /* something outside the grammar got through */
		if (filtered) { /* the filtered list re-encodes to the input only if nothing dropped */
			if (n + dropped != declared)
				abort();
			if (dropped)
				return 0;
		}
		uint8_t buf[1 + 8 * (2 + NN_ADDR_NET_MAX + 2 + NN_ADDR_EP_MAX)];
		nn_wr w;
		nn_wr_init(&w, buf, sizeof buf);
		nn_addr_list_write(&w, out, n);
		if (w.err || w.off != r.off || memcmp(buf, data + 1, w.off) != 0)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (out[i].net[out[i].net_len] != 0 || out[i].ep[out[i].ep_len] != 0)
				abort();
			struct sockaddr_storage ss, ss2;
			socklen_t len, len2;
			nn_addr back;
			uint8_t key[16];
			if (nn_addr_to_sockaddr(&out[i], &ss, &len) == 0) {
				/* printing and re-parsing is stable (v4-mapped v6 comes back as v4) */
				if (nn_addr_from_sockaddr(&back, (struct sockaddr *)&ss, len) != 0 ||
				    nn_addr_to_sockaddr(&back, &ss2, &len2) != 0)
					abort();
				nn_addr again;
				if (nn_addr_from_sockaddr(&again, (struct sockaddr *)&ss2, len2) != 0 ||
				    !nn_addr_eq(&again, &back))
					abort();
				/* every literal has a subnet key, except loopback (one host) */
				int sr = nn_addr_subnet(&out[i], key);
				if (sr != 0 && (sr != NN_EADDR || !is_loopback(&ss)))
					abort();
			}
			/* the packed form gives the address back, or says it does not fit; every
			 * IP literal that prints back as it reads packs */
			nn_addr_pk pk, pk2;
			int pr = nn_addr_pack(&pk, &out[i]);
			if (pr == 0) {
				nn_addr_unpack(&back, &pk);
				if (!nn_addr_eq(&back, &out[i]) || nn_addr_pack(&pk2, &back) != 0 ||
				    !nn_addr_pk_eq(&pk, &pk2))
					abort();
			} else if (pr != NN_ETOOBIG ||
				   out[i].net_len + out[i].ep_len <= NN_ADDR_PK_LEN - 3) {
				abort();
			}
		}
	}
	return 0;
}
