/* certext.h — the v1 TLS identity binding: the certificate extension that ties a TLS key to a
 * NodeID, and its verification.
 *
 * Protocol (MUST): the leaf certificate carries the non-critical extension OID
 * 1.3.6.1.4.1.58147.1.1 whose extnValue OCTET STRING contents are exactly 96 bytes:
 * ed_pub (32) | Ed25519 signature by the identity key over the certificate's DER
 * SubjectPublicKeyInfo as it appears in the certificate (64), no domain label. The peer's NodeID
 * is BLAKE2b-256(ed_pub). Verifiable tier: anything else fails the handshake.
 *
 * Pure (no wolfSSL, no allocation): this is what the verify callback and the fuzz target run.
 */
#ifndef NN_QUIC_CERTEXT_H
#define NN_QUIC_CERTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "identity/identity.h"
#include "kad/kad.h"

#define NN_QUIC_CERTEXT_LEN (NN_ED_PUB_LEN + NN_ED_SIG_LEN) /* 96 */

/* Why a certificate was refused (one counter each in nn_quic_stats). */
typedef enum nn_quic_cert_verdict {
	NN_QUIC_CERT_OK = 0,
	NN_QUIC_CERT_MISSING,    /* well-formed certificate without the extension */
	NN_QUIC_CERT_MALFORMED,  /* DER does not parse */
	NN_QUIC_CERT_BAD_LENGTH, /* extension value not exactly 96 bytes */
	NN_QUIC_CERT_CRITICAL,   /* extension marked critical */
	NN_QUIC_CERT_BAD_SIG,    /* signature does not verify over the SPKI */
	NN_QUIC_CERT_VERDICTS
} nn_quic_cert_verdict;

/* Build the 96-byte extension value for a DER SPKI. */
int nn_quic_certext_make(uint8_t out[NN_QUIC_CERTEXT_LEN], const nn_identity *id,
			 const uint8_t *spki, size_t spki_len);

/* Verify a peer's leaf certificate (DER). On success returns 0 and fills *peer (and ed_pub if
 * not NULL); otherwise returns NN_ETLS and *verdict says why (verdict may be NULL). */
int nn_quic_certext_verify(const uint8_t *der, size_t len, nn_id *peer,
			   uint8_t ed_pub[NN_ED_PUB_LEN], nn_quic_cert_verdict *verdict);

const char *nn_quic_cert_verdict_str(nn_quic_cert_verdict v);

#endif
