/* routing.h — routing vocabulary: constants, the contact, capability bits, observation source.
 *
 * One purpose: the types and numbers every routing module shares (knowledge.h, edges.h,
 * envelope.h, control.h, decide.h, dedup.h build on them). The routing layer is pure: no I/O,
 * no threads, no clocks (`now` is a parameter), no global mutable state; tables allocate once at
 * init and never after. It uses kad, identity, pow, wire, transport/addr.h and
 * transport/tokenbucket.h only — never a transport connection: a live edge carries an opaque
 * handle that node/ interprets.
 *
 * Tiers (as in the reference): values marked "protocol" must match every v1 peer; "verifiable"
 * ones are checked locally on every input (clamps, caps, key binding, PoW); the rest is local
 * policy that nothing security-critical relies on.
 *
 * Ownership: an nn_routing_contact is a plain value the caller owns; tables copy what they keep.
 */
#ifndef NN_ROUTING_H
#define NN_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/identity.h"
#include "kad/kad.h"
#include "kad/nn_time.h"
#include "transport/addr.h"

/* ---- constants (reference §8.1) ---- */
#define NN_ROUTING_BUCKETS 256          /* one bucket per prefix length (policy) */
#define NN_ROUTING_K 20                 /* bucket size and replacement-cache size (policy) */
#define NN_ROUTING_SIBLINGS 16          /* closest live edges classed as siblings (policy) */
#define NN_ROUTING_TARGET_EDGES 64      /* desired outgoing edges (policy) */
#define NN_ROUTING_LOW_WATER 8          /* at or below: Urgent (policy) */
#define NN_ROUTING_KMIN 3               /* floor and disjoint paths at origination (policy) */
#define NN_ROUTING_FILL_HYSTERESIS 4    /* Normal stays Normal down to 60 outgoing (policy) */
#define NN_ROUTING_SUBNET_CAP 8         /* knowledge entries per /24 or /64 (policy) */
#define NN_ROUTING_LIVE_SUBNET_CAP 2    /* live edges per subnet before fill looks elsewhere */
#define NN_ROUTING_INBOUND_CAP 256      /* inbound live edges (policy) */
#define NN_ROUTING_CONTROL_RATE 16.0    /* per-edge control bucket, tokens/s (policy) */
#define NN_ROUTING_CONTROL_BURST 32.0
#define NN_ROUTING_FORWARD_RATE 512.0   /* per-edge forward bucket, tokens/s (policy) */
#define NN_ROUTING_FORWARD_BURST 1024.0
#define NN_ROUTING_MAX_HOPS 16          /* TTL ceiling, enforced by clamping (protocol) */
#define NN_ROUTING_MAX_AVOID 3          /* avoid-set entries accepted on decode (protocol) */
#define NN_ROUTING_MAX_AGE (30 * NN_SEC) /* freshness window, both directions (protocol) */
#define NN_ROUTING_NONCE_LEN 8          /* lookup / siblings nonce (protocol) */
#define NN_ROUTING_NEIGHBORS_MAX 17     /* contacts in one Neighbors answer (protocol cap) */
#define NN_ROUTING_NEIGHBORS_MAX_ADDRS 256 /* addresses across one answer (protocol cap) */
#define NN_ROUTING_CANDIDATES 8         /* next-hop candidates from decide (policy) */
#define NN_ROUTING_CONTACT_ADDRS 8      /* addresses kept per contact; extra ones dropped */

/* Capability bits: self-reported hints, never used for security. */
#define NN_ROUTING_CAP_RELAY 1u  /* CanRelay */
#define NN_ROUTING_CAP_ANCHOR 2u /* PublicAnchor */

/* A contact: what a Neighbors answer carries and what the knowledge table learns (it keeps the
 * packed nn_routing_kc, below). ed_pub all zeros
 * means "key unknown" (a keyless contact); x_pub all zeros means "not bound". */
typedef struct nn_routing_contact {
	nn_id id;
	uint8_t ed_pub[NN_ED_PUB_LEN];
	uint8_t x_pub[NN_X_PUB_LEN];
	uint32_t caps;
	uint8_t naddrs; /* <= NN_ROUTING_CONTACT_ADDRS */
	nn_addr addrs[NN_ROUTING_CONTACT_ADDRS];
} nn_routing_contact;

/* Who vouches for an observation (local policy, DESIGN.md §5.4):
 * SELF — the contact itself: its own authenticated edge or its own signed message;
 * HINT — a third party (a Neighbors answer, an operator's bootstrap list seen second-hand).
 * Hints may introduce a contact but never rewrite a keyed contact's addresses or caps. */
typedef enum nn_routing_source {
	NN_ROUTING_SRC_SELF = 0,
	NN_ROUTING_SRC_HINT = 1,
} nn_routing_source;

/* Subnet key function (injected; default nn_addr_subnet): 0 and key filled when the address
 * has a subnet, non-zero otherwise (caps are inert for such addresses). */
typedef int (*nn_routing_subnet_fn)(void *user, const nn_addr *a, uint8_t key[16]);

/* A contact as the knowledge table keeps it (knowledge.h): the same ID, key and caps, no x_pub
 * (only a rendezvous binds one, and the node keeps it with the verified keys), the addresses
 * packed (nn_addr_pk: 32 bytes instead of 82). A stored contact holds only addrs[0 .. naddrs):
 * read it through the pointer the table returns, or copy it out with nn_routing_kc_contact. */
typedef struct nn_routing_kc {
	nn_id id;
	uint8_t ed_pub[NN_ED_PUB_LEN];
	uint32_t caps;
	uint8_t naddrs; /* <= NN_ROUTING_CONTACT_ADDRS */
	nn_addr_pk addrs[NN_ROUTING_CONTACT_ADDRS];
} nn_routing_kc;

/* Address i (< k->naddrs) of a stored contact. */
void nn_routing_kc_addr(const nn_routing_kc *k, size_t i, nn_addr *out);
/* The stored contact as a plain contact (x_pub zero). */
void nn_routing_kc_contact(nn_routing_contact *dst, const nn_routing_kc *k);

/* True when ed_pub is all zeros (key unknown). */
bool nn_routing_key_is_zero(const uint8_t ed_pub[NN_ED_PUB_LEN]);

/* Key binding (verifiable): 0 when ed_pub is zero (keyless) or BLAKE2b-256(ed_pub) == id,
 * NN_EIDMISMATCH otherwise. */
int nn_routing_contact_check_key(const nn_routing_contact *c);

/* Sanitize a contact learned from a third party (local policy): x_pub is cleared (only the
 * contact's own signed Hello or Reply binds one, node/rendezvous.c) and a keyless contact loses
 * its addresses, so an unauthenticated hint cannot point us at an address of its choosing. */
void nn_routing_contact_sanitize_hint(nn_routing_contact *c);

/* The subnet of a stored contact: that of its first address that has one. Returns true and
 * fills key, or false when no address has a subnet. fn NULL means nn_addr_subnet. */
bool nn_routing_kc_subnet(const nn_routing_kc *k, nn_routing_subnet_fn fn, void *user,
			  uint8_t key[16]);

/* nn_addr_subnet in the nn_routing_subnet_fn shape. */
int nn_routing_default_subnet(void *user, const nn_addr *a, uint8_t key[16]);

#endif
