/* relay.h — the volunteer-relay signalling, per edge: RelayRequest (12), RelayGrant (13),
 * RelayBind (14) and libnodenet's RelayRefuse (62).
 *
 * Layouts (protocol, nodenet v1; interoperable with the reference, whose decoders ignore
 * trailing bytes, so ours do too for these four types):
 *   RelayRequest (12): nonce (16) | target NodeID (32)
 *   RelayGrant (13):   nonce (16) | address (the caller-facing allocation)
 *   RelayBind (14):    address (the callee-facing allocation); no nonce, no caller identity
 *   RelayRefuse (62):  nonce (16) | reason (1)  — a libnodenet addition: a relay that cannot
 *     serve a request answers at once instead of staying silent; reference peers ignore the
 *     unknown type (they wait out their deadline, as before). Unknown reason values decode
 *     as-is (the requester only needs "refused").
 * Verifiable tier: fixed fields bounds-checked, the address within the host:port grammar of
 * transport/addr.h (NN_EADDR), minimal varints; bytes after the last field are ignored (the
 * reference's rule for these frames). Decoders fill caller-owned structs and never allocate;
 * encoders emit exactly the fields, refuse what the decoder would refuse. Pure: no I/O.
 */
#ifndef NN_NAT_RELAY_H
#define NN_NAT_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "kad/kad.h"
#include "transport/addr.h"

#define NN_NAT_RELAY_NONCE_LEN 16
/* Largest payloads we emit (address: 1 + 15 + 1 + 63 at most, see NN_NAT_CONNECT_MAX). */
#define NN_NAT_RELAY_REQUEST_LEN (NN_NAT_RELAY_NONCE_LEN + NN_ID_LEN)
#define NN_NAT_RELAY_GRANT_MAX (NN_NAT_RELAY_NONCE_LEN + 80)
#define NN_NAT_RELAY_BIND_MAX 80
#define NN_NAT_RELAY_REFUSE_LEN (NN_NAT_RELAY_NONCE_LEN + 1)

/* Refusal reasons (RelayRefuse; libnodenet). */
enum nn_nat_relay_reason {
	NN_NAT_RELAY_NOT_VOLUNTEER = 1, /* this node does not relay (-relay off, or no transport
					 * support) */
	NN_NAT_RELAY_NO_EDGE = 2,       /* no live edge to the target */
	NN_NAT_RELAY_BUSY = 3,          /* session cap reached, or the allocation failed */
	NN_NAT_RELAY_RATE = 4,          /* the requester's edge asked too often */
	NN_NAT_RELAY_BAD = 5            /* the target is the requester or the relay itself */
};

typedef struct nn_nat_relay_request {
	uint8_t nonce[NN_NAT_RELAY_NONCE_LEN];
	nn_id target;
} nn_nat_relay_request;

typedef struct nn_nat_relay_grant {
	uint8_t nonce[NN_NAT_RELAY_NONCE_LEN];
	nn_addr addr;
} nn_nat_relay_grant;

typedef struct nn_nat_relay_refuse {
	uint8_t nonce[NN_NAT_RELAY_NONCE_LEN];
	uint8_t reason;
} nn_nat_relay_refuse;

/* Encoders: the payload length, or NN_EINVAL (NULL, bad address), NN_ENOSPC. */
int nn_nat_relay_request_encode(const nn_nat_relay_request *m, uint8_t *buf, size_t cap);
int nn_nat_relay_grant_encode(const nn_nat_relay_grant *m, uint8_t *buf, size_t cap);
int nn_nat_relay_bind_encode(const nn_addr *a, uint8_t *buf, size_t cap);
int nn_nat_relay_refuse_encode(const nn_nat_relay_refuse *m, uint8_t *buf, size_t cap);

/* Decoders of a payload of len bytes (trailing bytes ignored). 0, or NN_ETRUNC, NN_EINVAL,
 * NN_ENONMINIMAL / NN_ETOOBIG / NN_ECORRUPT / NN_EADDR (the address); *m zeroed on error. */
int nn_nat_relay_request_decode(nn_nat_relay_request *m, const uint8_t *buf, size_t len);
int nn_nat_relay_grant_decode(nn_nat_relay_grant *m, const uint8_t *buf, size_t len);
int nn_nat_relay_bind_decode(nn_addr *a, const uint8_t *buf, size_t len);
int nn_nat_relay_refuse_decode(nn_nat_relay_refuse *m, const uint8_t *buf, size_t len);

/* Name of a reason ("not-volunteer", ...) or "unknown". */
const char *nn_nat_relay_reason_name(uint8_t reason);

#endif
