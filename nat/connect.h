/* connect.h — Connect / ConnectAck (routed types 10 and 11): the hole-punch signalling.
 *
 * Both payloads are the same (protocol, nodenet v1): nonce (16) || addr list (<= 16), where the
 * addresses are the sender's coordinates (local addresses and its confirmed reflexive one).
 * They ride inside a signed routed envelope, so the envelope signature binds the hints to the
 * originator; nothing here is signed separately. Stricter than the reference (verifiable tier):
 * no trailing bytes, at most 16 addresses checked before any is read, minimal varints, every
 * address within the host:port grammar (NN_EADDR, transport/addr.h); encoders
 * refuse what the decoder would refuse. Decoding copies into a caller-owned fixed-size struct
 * and never allocates.
 *
 * libnodenet addition: one optional byte after the address list, the NAT hint (the sender's own
 * NAT verdict: bits 0-1 type as nn_nat_type, bit 2 filtering seen open, bits 3-7 zero when sent
 * and ignored when received). The reference ignores trailing bytes, so it stays interoperable;
 * more than one byte after the list is still NN_ETRAILING. The hint decides birthday probing
 * (nn_nat_birthday_role): only when exactly one side is symmetric and the other is known to map
 * endpoint-independently (cone, or public) without open filtering.
 */
#ifndef NN_NAT_CONNECT_H
#define NN_NAT_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/addr.h"

#define NN_NAT_NONCE_LEN 16
#define NN_NAT_MAX_ADDRS 16
/* The largest payload: nonce, a one-byte count, 16 addresses of at most 1+15+1+63 bytes, the
 * NAT hint. */
#define NN_NAT_CONNECT_MAX (NN_NAT_NONCE_LEN + 1 + NN_NAT_MAX_ADDRS * 80 + 1)

#define NN_NAT_HINT_TYPE 0x03        /* nn_nat_type (nat/reflex.h) */
#define NN_NAT_HINT_FILTER_OPEN 0x04 /* unsolicited inbound reached the sender */

typedef struct nn_nat_connect {
	uint8_t nonce[NN_NAT_NONCE_LEN];
	size_t naddrs;
	nn_addr addrs[NN_NAT_MAX_ADDRS];
	bool has_hint; /* the NAT hint byte is present (libnodenet addition) */
	uint8_t hint;
} nn_nat_connect;

/* The hint byte for our own verdict (type: nn_nat_type, 0..3). */
uint8_t nn_nat_hint_make(unsigned type, bool filter_open);

/* Birthday probing roles, decided from our verdict and the other side's hint. */
enum nn_nat_bday_role {
	NN_NAT_BDAY_NONE = 0,
	NN_NAT_BDAY_SOCKETS = 1, /* we are symmetric: open extra mappings toward the other side */
	NN_NAT_BDAY_SPRAY = 2    /* the other side is symmetric: probe random ports of its IP */
};
/* NONE unless the hint is present, exactly one side is symmetric, and the other side is cone
 * or public with filtering not seen open (an open filter needs no birthday: the plain punch
 * gets through). Never for symmetric x symmetric, nor with an unknown type. */
int nn_nat_birthday_role(unsigned self_type, bool self_filter_open, bool peer_has_hint,
			 uint8_t peer_hint);

/* Encode into buf; returns the length, or NN_EINVAL (bad argument or address), NN_ELIMIT (more
 * than 16 addresses), NN_ENOSPC. */
int nn_nat_connect_encode(const nn_nat_connect *m, uint8_t *buf, size_t cap);
/* Decode exactly len bytes. NN_ETRUNC, NN_ELIMIT, NN_ENONMINIMAL, NN_ETRAILING, NN_ETOOBIG,
 * NN_EADDR (an address outside the grammar), NN_EINVAL. */
int nn_nat_connect_decode(nn_nat_connect *m, const uint8_t *buf, size_t len);

#endif
