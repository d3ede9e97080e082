/* der.h — a small bounded DER walker for exactly one job: find the nodenet v1 extension and the
 * SubjectPublicKeyInfo in a peer's leaf X.509 certificate.
 *
 * Rules: pure, no allocation, no I/O; never reads outside [der, der+len); every length is
 * checked against its enclosing element before use. Only definite, minimally encoded lengths
 * are accepted (DER); the certificate must be one SEQUENCE filling the buffer exactly.
 * Outputs are views into the caller's buffer. Tier: verifiable (a malformed certificate is a
 * failed handshake, never a crash).
 */
#ifndef NN_QUIC_DER_H
#define NN_QUIC_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OID 1.3.6.1.4.1.58147.1.1, content bytes of the OBJECT IDENTIFIER. */
#define NN_QUIC_CERTEXT_OID_DER "\x2b\x06\x01\x04\x01\x83\xc6\x23\x01\x01"
#define NN_QUIC_CERTEXT_OID_LEN 10
#define NN_QUIC_CERTEXT_OID_TEXT "1.3.6.1.4.1.58147.1.1"

/* One DER element: tag, content view and the whole TLV. */
typedef struct nn_quic_der {
	uint8_t tag;
	const uint8_t *tlv;   /* start of the tag */
	size_t tlv_len;       /* tag + length + content */
	const uint8_t *val;   /* content */
	size_t len;           /* content length */
} nn_quic_der;

/* Read one element at buf[0..cap). Returns 0, or NN_ECORRUPT (indefinite/non-minimal length,
 * high tag numbers) or NN_ETRUNC. */
int nn_quic_der_next(const uint8_t *buf, size_t cap, nn_quic_der *out);

/* What the walker found in a certificate. */
typedef struct nn_quic_cert_view {
	const uint8_t *spki;  /* the whole SubjectPublicKeyInfo TLV */
	size_t spki_len;
	const uint8_t *ext;   /* extnValue OCTET STRING contents of the nodenet extension */
	size_t ext_len;
	bool critical;
} nn_quic_cert_view;

/* Walk a certificate. Returns 0 (ext set), NN_ENOENT (well-formed, no nodenet extension;
 * spki still set) or NN_ECORRUPT / NN_ETRUNC (malformed, including a duplicated nodenet
 * extension or a critical flag that is not a DER BOOLEAN). */
int nn_quic_der_cert_walk(const uint8_t *der, size_t len, nn_quic_cert_view *out);

#endif
