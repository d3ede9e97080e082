/* tlsid.h — this endpoint's TLS identity: a fresh ECDSA P-256 key and a self-signed certificate
 * carrying the v1 identity extension (certext.h).
 *
 * Protocol (MUST): serial 1, subject = issuer = CN "nodenet", validity 1970-01-01T00:00:00Z to
 * 9999-12-31T23:59:59Z, one non-critical extension 1.3.6.1.4.1.58147.1.1 (96 bytes). Local
 * policy: one key per endpoint (the reference makes one per process; either is fresh per run).
 * Ownership: the struct holds the private key; the caller wipes it with nn_quic_tlsid_wipe().
 * No allocation survives the call.
 */
#ifndef NN_QUIC_TLSID_H
#define NN_QUIC_TLSID_H

#include <stddef.h>
#include <stdint.h>

#include "identity/identity.h"

#define NN_QUIC_TLSID_CERT_MAX 1024
#define NN_QUIC_TLSID_KEY_MAX 256

typedef struct nn_quic_tlsid {
	uint8_t cert[NN_QUIC_TLSID_CERT_MAX]; /* DER certificate */
	size_t cert_len;
	uint8_t key[NN_QUIC_TLSID_KEY_MAX];   /* DER ECPrivateKey (secret) */
	size_t key_len;
} nn_quic_tlsid;

/* Certificate variants; everything but NORMAL exists for bad-input tests only. */
typedef enum nn_quic_tlsid_mode {
	NN_QUIC_TLSID_NORMAL = 0,
	NN_QUIC_TLSID_NO_EXT,    /* no identity extension */
	NN_QUIC_TLSID_CRITICAL,  /* extension marked critical */
	NN_QUIC_TLSID_SHORT,     /* 95-byte extension */
	NN_QUIC_TLSID_LONG,      /* 97-byte extension */
	NN_QUIC_TLSID_OTHER_KEY, /* ed_pub of id, signature by `other` */
} nn_quic_tlsid_mode;

/* Make a fresh key and certificate bound to id. Returns 0, NN_ECRYPTO or NN_ENOSPC. */
int nn_quic_tlsid_make(nn_quic_tlsid *out, const nn_identity *id);
/* Test variant; other is used only by NN_QUIC_TLSID_OTHER_KEY. */
int nn_quic_tlsid_make_ex(nn_quic_tlsid *out, const nn_identity *id, nn_quic_tlsid_mode mode,
			  const nn_identity *other);
void nn_quic_tlsid_wipe(nn_quic_tlsid *t);

#endif
