/* fuzz_addr.c — the address list decoder (and the IP endpoint parser behind it): never crash,
 * never write past the caller's array, and every accepted list re-encodes to the very bytes it
 * was decoded from (strict decoding makes the encoding unique). Byte 0 picks the caps. */
#include <arpa/inet.h>
#include <netinet/in.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cap = data[0] & 7, max_count = (data[0] >> 3) & 7;
	nn_addr out[8 + 1];
	memset(&out[cap], 0x5c, sizeof out[cap]); /* guard right after the caller's array */
	nn_rd r;
	size_t n = 0;
	nn_rd_init(&r, data + 1, size - 1);
	nn_addr_list_read(&r, out, cap, max_count, &n);
	const uint8_t *g = (const uint8_t *)&out[cap];
	for (size_t i = 0; i < sizeof out[cap]; i++)
		if (g[i] != 0x5c)
			abort();
	if (r.err == 0) {
		if (n > cap || n > max_count)
			abort();
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
		}
	}
	return 0;
}
