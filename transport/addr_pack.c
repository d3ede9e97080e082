/* addr_pack.c — the packed form of an address for long-lived tables (addr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "transport/addr.h"

enum { PK_NONE = 0, PK_IP4 = 1, PK_IP6 = 2, PK_TEXT = 3 };
#define PK_TEXT_MAX (NN_ADDR_PK_LEN - 3)

int nn_addr_pack(nn_addr_pk *pk, const nn_addr *a)
{
	memset(pk, 0, sizeof *pk);
	struct sockaddr_storage ss;
	socklen_t len;
	nn_addr back;
	/* binary only when printing it back gives the same text, so that unpack(pack(a)) == a */
	if (nn_addr_to_sockaddr(a, &ss, &len) == 0 &&
	    nn_addr_from_sockaddr(&back, (const struct sockaddr *)&ss, len) == 0 &&
	    nn_addr_eq(&back, a)) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
			pk->b[0] = PK_IP4;
			memcpy(pk->b + 1, &s4->sin_addr, 4);
			memcpy(pk->b + 5, &s4->sin_port, 2);
		} else {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
			pk->b[0] = PK_IP6;
			memcpy(pk->b + 1, &s6->sin6_addr, 16);
			memcpy(pk->b + 17, &s6->sin6_port, 2);
		}
		return 0;
	}
	if (a->net_len == 0 || a->net_len > NN_ADDR_NET_MAX || a->ep_len > NN_ADDR_EP_MAX)
		return NN_EINVAL;
	if ((size_t)a->net_len + a->ep_len > PK_TEXT_MAX)
		return NN_ETOOBIG;
	pk->b[0] = PK_TEXT;
	pk->b[1] = a->net_len;
	pk->b[2] = a->ep_len;
	memcpy(pk->b + 3, a->net, a->net_len);
	memcpy(pk->b + 3 + a->net_len, a->ep, a->ep_len);
	return 0;
}

void nn_addr_unpack(nn_addr *a, const nn_addr_pk *pk)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	switch (pk->b[0]) {
	case PK_IP4: {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, pk->b + 1, 4);
		memcpy(&s4->sin_port, pk->b + 5, 2);
		if (nn_addr_from_sockaddr(a, (const struct sockaddr *)s4, sizeof *s4) == 0)
			return;
		break;
	}
	case PK_IP6: {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, pk->b + 1, 16);
		memcpy(&s6->sin6_port, pk->b + 17, 2);
		if (nn_addr_from_sockaddr(a, (const struct sockaddr *)s6, sizeof *s6) == 0)
			return;
		break;
	}
	case PK_TEXT:
		if (pk->b[1] >= 1 && pk->b[1] <= NN_ADDR_NET_MAX &&
		    (size_t)pk->b[1] + pk->b[2] <= PK_TEXT_MAX) {
			memset(a, 0, sizeof *a);
			a->net_len = pk->b[1];
			a->ep_len = pk->b[2];
			memcpy(a->net, pk->b + 3, a->net_len);
			memcpy(a->ep, pk->b + 3 + a->net_len, a->ep_len);
			return;
		}
		break;
	default:
		break;
	}
	memset(a, 0, sizeof *a); /* not a packed address: the empty one */
}

bool nn_addr_pk_eq(const nn_addr_pk *x, const nn_addr_pk *y)
{
	return memcmp(x->b, y->b, NN_ADDR_PK_LEN) == 0;
}
