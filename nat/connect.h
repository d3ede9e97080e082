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
 */
#ifndef NN_NAT_CONNECT_H
#define NN_NAT_CONNECT_H

#include <stddef.h>
#include <stdint.h>

#include "transport/addr.h"

#define NN_NAT_NONCE_LEN 16
#define NN_NAT_MAX_ADDRS 16
/* The largest payload: nonce, a one-byte count, 16 addresses of at most 1+15+1+63 bytes. */
#define NN_NAT_CONNECT_MAX (NN_NAT_NONCE_LEN + 1 + NN_NAT_MAX_ADDRS * 80)

typedef struct nn_nat_connect {
	uint8_t nonce[NN_NAT_NONCE_LEN];
	size_t naddrs;
	nn_addr addrs[NN_NAT_MAX_ADDRS];
} nn_nat_connect;

/* Encode into buf; returns the length, or NN_EINVAL (bad argument or address), NN_ELIMIT (more
 * than 16 addresses), NN_ENOSPC. */
int nn_nat_connect_encode(const nn_nat_connect *m, uint8_t *buf, size_t cap);
/* Decode exactly len bytes. NN_ETRUNC, NN_ELIMIT, NN_ENONMINIMAL, NN_ETRAILING, NN_ETOOBIG,
 * NN_EADDR (an address outside the grammar), NN_EINVAL. */
int nn_nat_connect_decode(nn_nat_connect *m, const uint8_t *buf, size_t len);

#endif
