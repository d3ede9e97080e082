/* control.h — the routing control payloads: Ping, Pong, Lookup, Neighbors, Siblings, Leave,
 * and libnodenet's Referral.
 *
 * Layouts (protocol, MUST):
 *   Ping (2), Leave (7): empty payload (a Ping frame is 01 02 00);
 *   Pong (3): exactly one address (the pinger's observed remote address), nothing after it;
 *   Siblings (6): exactly an 8-byte nonce; Lookup (4, routed): payload exactly an 8-byte nonce;
 *   Neighbors (5, routed): nonce(8) | uvarint n (<= 17) | contact x n, nothing after it, where
 *     contact = id(32) | ed_pub(32) | x_pub(32) | caps(u32 BE) | address list.
 *
 * Verifiable tier: decoders are strict (trailing bytes, non-minimal varints, truncation are
 * errors). Neighbors caps are checked before anything is stored: n <= 17 and n <= remaining
 * bytes / 101 (the smallest contact), and the running address total <= 256 is enforced on each
 * list's declared count before its entries are read; addresses must match the grammar of
 * transport/addr.h (a Pong outside it is NN_EADDR; a Neighbors answer only loses the address).
 * Decoders write into caller-provided fixed-size structs and never allocate; encoders write
 * into caller buffers.
 *
 * Referral (63, per edge; a libnodenet addition that reference peers ignore as an unknown type):
 *   reason (1) | uvarint n (<= 16) | contact x n, nothing after it, contact as in Neighbors;
 *   decoded with the same caps (n <= 16 and n <= remaining / 101, 256 addresses in total).
 *
 * A Neighbors answer is third-party information: node passes each contact through
 * nn_routing_contact_sanitize_hint and observes it as NN_ROUTING_SRC_HINT (except the
 * responder's own entry), and should zero third parties' x_pub before answering.
 */
#ifndef NN_ROUTING_CONTROL_H
#define NN_ROUTING_CONTROL_H

#include "routing/routing.h"

#define NN_ROUTING_NEIGHBOR_MIN_LEN (NN_ID_LEN + NN_ED_PUB_LEN + NN_X_PUB_LEN + 4 + 1) /* 101 */

/* ---- per-edge frames (whole frames, header included; return the frame length) ---- */
int nn_routing_ping_frame(uint8_t *buf, size_t cap);
int nn_routing_leave_frame(uint8_t *buf, size_t cap);
int nn_routing_pong_frame(uint8_t *buf, size_t cap, const nn_addr *observed);
int nn_routing_siblings_frame(uint8_t *buf, size_t cap, const uint8_t nonce[NN_ROUTING_NONCE_LEN]);

/* ---- payload decoders ---- */
/* Ping / Leave: 0 for an empty payload, NN_ETRAILING otherwise (node never needs to look). */
int nn_routing_empty_decode(const uint8_t *p, size_t len);
int nn_routing_pong_decode(const uint8_t *p, size_t len, nn_addr *observed);
/* Lookup and Siblings payloads: exactly an 8-byte nonce (NN_ETRUNC / NN_ETRAILING). */
int nn_routing_nonce_decode(const uint8_t *p, size_t len, uint8_t nonce[NN_ROUTING_NONCE_LEN]);

/* ---- payload encoders (return the payload length or NN_ENOSPC) ---- */
int nn_routing_pong_encode(uint8_t *buf, size_t cap, const nn_addr *observed);
int nn_routing_nonce_encode(uint8_t *buf, size_t cap, const uint8_t nonce[NN_ROUTING_NONCE_LEN]);

/* ---- Neighbors ---- */
typedef struct nn_routing_neighbor {
	nn_id id;
	uint8_t ed_pub[NN_ED_PUB_LEN];
	uint8_t x_pub[NN_X_PUB_LEN];
	uint32_t caps;
	uint16_t addr_off; /* first address in nn_routing_neighbors.addrs */
	uint16_t naddrs;
} nn_routing_neighbor;

typedef struct nn_routing_neighbors {
	uint8_t nonce[NN_ROUTING_NONCE_LEN];
	size_t count;
	nn_routing_neighbor c[NN_ROUTING_NEIGHBORS_MAX];
	size_t naddrs; /* addresses used across all contacts */
	nn_addr addrs[NN_ROUTING_NEIGHBORS_MAX_ADDRS];
	size_t dropped_addrs; /* decode: addresses outside the grammar, left out (count them) */
} nn_routing_neighbors;

/* NN_ETRUNC, NN_ELIMIT (over 17 contacts or 256 addresses), NN_ETRAILING, NN_ENONMINIMAL,
 * NN_ECORRUPT (an address without a network name), NN_ETOOBIG (an address field too long).
 * An address outside the grammar (transport/addr.h) is not an error: it is left out of its
 * contact (which keeps its other addresses) and counted in out->dropped_addrs; the 256 cap
 * applies to the addresses as declared on the wire. */
int nn_routing_neighbors_decode(const uint8_t *p, size_t len, nn_routing_neighbors *out);
/* Encode nb as a payload; NN_ENOSPC, NN_ELIMIT (nb over the caps). */
int nn_routing_neighbors_encode(uint8_t *buf, size_t cap, const nn_routing_neighbors *nb);
/* Start an answer with nonce; then append contacts (all their addresses, up to
 * NN_ROUTING_CONTACT_ADDRS). append: NN_ELIMIT when 17 contacts or 256 addresses are reached. */
void nn_routing_neighbors_init(nn_routing_neighbors *nb, const uint8_t nonce[NN_ROUTING_NONCE_LEN]);
int nn_routing_neighbors_append(nn_routing_neighbors *nb, const nn_routing_contact *c);
/* Contact i as an nn_routing_contact (addresses beyond NN_ROUTING_CONTACT_ADDRS dropped).
 * NN_EINVAL for i out of range. */
int nn_routing_neighbors_get(const nn_routing_neighbors *nb, size_t i, nn_routing_contact *out);

/* ---- Referral: the last word to a newcomer refused (or shed) at an inbound cap ----
 * The contacts ride in an nn_routing_neighbors whose nonce is unused (zero on decode). The
 * reason byte is informational: any value decodes; these are the ones libnodenet sends. */
#define NN_ROUTING_REFERRAL_MAX 16 /* contacts in one Referral (protocol cap of the addition) */
enum nn_routing_refer_reason {
	NN_ROUTING_REFER_FULL = 1,      /* every inbound edge slot is taken */
	NN_ROUTING_REFER_PER_IP = 2,    /* the newcomer's source IP holds its share of them */
	NN_ROUTING_REFER_PER_SUBNET = 3,/* its /24 (IPv4) or /64 (IPv6) holds its share */
	NN_ROUTING_REFER_SHED = 4,      /* an inbound finger shed to admit a newcomer */
};
/* A whole Referral frame (header included) from nb's first NN_ROUTING_REFERRAL_MAX contacts
 * at most; returns the frame length, NN_ENOSPC, NN_ELIMIT (nb over the caps). */
int nn_routing_referral_frame(uint8_t *buf, size_t cap, uint8_t reason,
			      const nn_routing_neighbors *nb);
/* NN_ETRUNC, NN_ELIMIT (over 16 contacts or 256 addresses), NN_ETRAILING, NN_ENONMINIMAL,
 * NN_ECORRUPT, NN_ETOOBIG, as for Neighbors. */
int nn_routing_referral_decode(const uint8_t *p, size_t len, uint8_t *reason,
			       nn_routing_neighbors *out);

#endif
