/* tls.c — wolfSSL contexts for the endpoint (one server, one client), the certificate check
 * inside the verify callback, ALPN, and the post-handshake checks.
 *
 * wolfSSL facts this relies on (wolfSSL 5.7 with opensslextra, as scripts/setup.sh builds
 * it): the verify callback runs for every peer certificate with preverify = 0 (no signer), so
 * it does the whole identity check itself and returns 1 only for a good leaf; the ALPN select
 * callback is never called, so both sides use wolfSSL_UseALPN with FAILED_ON_MISMATCH and the
 * negotiated value is checked again after the handshake. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <ngtcp2/ngtcp2_crypto_wolfssl.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"

#ifdef WOLFSSL_AESNI
#define NN_QUIC_CIPHERS                                                                       \
	"TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES256-GCM-SHA384"
#else
#define NN_QUIC_CIPHERS                                                                       \
	"TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384"
#endif

static nn_quic_conn *conn_of_ssl(WOLFSSL *ssl)
{
	ngtcp2_crypto_conn_ref *ref = ssl ? wolfSSL_get_app_data(ssl) : NULL;
	return ref ? ref->user_data : NULL;
}

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	(void)preverify;
	WOLFSSL *ssl = wolfSSL_X509_STORE_CTX_get_ex_data(
		store, wolfSSL_get_ex_data_X509_STORE_CTX_idx());
	nn_quic_conn *c = conn_of_ssl(ssl);
	if (!c)
		return 0;
	if (wolfSSL_X509_STORE_CTX_get_error_depth(store) != 0)
		return 1; /* only the leaf binds the identity; TLS proves possession of its key */
	WOLFSSL_X509 *x = wolfSSL_X509_STORE_CTX_get_current_cert(store);
	int len = 0;
	const unsigned char *der = x ? wolfSSL_X509_get_der(x, &len) : NULL;
	nn_id peer;
	uint8_t ed_pub[NN_ED_PUB_LEN];
	nn_quic_cert_verdict v = NN_QUIC_CERT_MALFORMED;
	if (!der || len <= 0 ||
	    nn_quic_certext_verify(der, (size_t)len, &peer, ed_pub, &v) != 0) {
		c->verdict = v;
		return 0;
	}
	if (c->base.outbound && !nn_kad_id_eq(&peer, &c->want)) {
		/* abort before our own certificate goes out: someone else answered */
		c->idmismatch = true;
		return 0;
	}
	c->base.remote_id = peer;
	memcpy(c->base.remote_ed_pub, ed_pub, sizeof c->base.remote_ed_pub);
	c->peer_verified = true;
	c->verdict = NN_QUIC_CERT_OK;
	return 1;
}

static WOLFSSL_CTX *make_ctx(nn_quic_ep *ep, bool client)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(client ? wolfTLSv1_3_client_method()
						  : wolfTLSv1_3_server_method());
	if (!ctx)
		return NULL;
	int rc = client ? ngtcp2_crypto_wolfssl_configure_client_context(ctx)
			: ngtcp2_crypto_wolfssl_configure_server_context(ctx);
	if (rc != 0)
		goto fail;
	if (!(client && ep->cfg.no_client_cert)) {
		if (wolfSSL_CTX_use_certificate_buffer(ctx, ep->tlsid.cert, (long)ep->tlsid.cert_len,
						       WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
		    wolfSSL_CTX_use_PrivateKey_buffer(ctx, ep->tlsid.key, (long)ep->tlsid.key_len,
						      WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
			goto fail;
	}
	/* Local policy (speed): without AES-NI, wolfSSL's C ChaCha20-Poly1305 beats its C
	 * AES-GCM several times over, so prefer ChaCha; with AES-NI (--enable-aesni) AES-GCM wins.
	 * X25519 likewise beats generic P-256 for the key share. All stay interoperable (TLS 1.3's
	 * mandatory AES-128-GCM and P-256 remain on offer). */
	if (wolfSSL_CTX_set_cipher_list(ctx, NN_QUIC_CIPHERS) != WOLFSSL_SUCCESS)
		goto fail;
	static const int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1};
	if (wolfSSL_CTX_set_groups(ctx, (int *)groups, 2) != WOLFSSL_SUCCESS)
		goto fail;
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			       verify_cb);
	/* no resumption: every connection proves its identity afresh */
	(void)wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
#ifdef HAVE_SESSION_TICKET
	(void)wolfSSL_CTX_no_ticket_TLSv13(ctx);
#endif
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

/* wolfSSL's allocations (local policy, issue 16). A handshake's TLS object (6.2 KiB), its
 * buffers and key material are short-lived but land between the long-lived state of the
 * connections being built; after a burst of handshakes they leave resident holes of a few KiB
 * each in the heap that no trim returns (64 handshakes at once: about 3.7 KiB per edge). So
 * wolfSSL's requests of NN_QUIC_WOLF_MMAP bytes and more get pages of their own (mmap), given
 * back whole when freed; smaller ones (the AEAD contexts that outlive the handshake, 1.1 KiB
 * each) stay with malloc. A 16-byte header records the size and which of the two it came from.
 * Installed once per process (wolfSSL's allocator is process-wide; the pointers are the same
 * functions for every endpoint), before wolfSSL's first allocation: the private static wolfSSL
 * of the build has no other user. A handshake makes a handful of such requests (a few
 * microseconds of system calls against ~1 ms of handshake). */
#define NN_QUIC_WOLF_MMAP 2048u
#define WOLF_HDR 16u
/* Under AddressSanitizer every request goes to malloc, so ASan checks wolfSSL's bounds and
 * LeakSanitizer scans what wolfSSL holds (it does not scan our own mmap pages: an endpoint kept
 * until exit, as a fuzz target keeps one, would show its small blocks as leaked). */
#if defined(__SANITIZE_ADDRESS__)
#define NN_QUIC_WOLF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NN_QUIC_WOLF_SANITIZED 1
#endif
#endif
#ifndef NN_QUIC_WOLF_SANITIZED
#define NN_QUIC_WOLF_SANITIZED 0
#endif

static void *wolf_malloc(size_t n)
{
	if (n > SIZE_MAX - 4096)
		return NULL;
	size_t *h;
	if (!NN_QUIC_WOLF_SANITIZED && n + WOLF_HDR >= NN_QUIC_WOLF_MMAP) {
		void *p = mmap(NULL, n + WOLF_HDR, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		h = p;
		h[1] = 1;
	} else {
		if (!(h = malloc(n + WOLF_HDR)))
			return NULL;
		h[1] = 0;
	}
	h[0] = n;
	return (uint8_t *)h + WOLF_HDR;
}

static void wolf_free(void *q)
{
	if (!q)
		return;
	size_t *h = (size_t *)(void *)((uint8_t *)q - WOLF_HDR);
	if (h[1])
		(void)munmap(h, h[0] + WOLF_HDR);
	else
		free(h);
}

static void *wolf_realloc(void *q, size_t n)
{
	if (!q)
		return wolf_malloc(n);
	size_t *h = (size_t *)(void *)((uint8_t *)q - WOLF_HDR);
	if (!h[1] && (NN_QUIC_WOLF_SANITIZED || n + WOLF_HDR < NN_QUIC_WOLF_MMAP)) {
		/* stays with malloc: its realloc */
		size_t *r = realloc(h, n + WOLF_HDR);
		if (!r)
			return NULL;
		r[0] = n;
		return (uint8_t *)r + WOLF_HDR;
	}
	void *r = wolf_malloc(n);
	if (!r)
		return NULL;
	memcpy(r, q, h[0] < n ? h[0] : n);
	wolf_free(q);
	return r;
}

static void wolf_allocators(void)
{
	(void)wolfSSL_SetAllocators(wolf_malloc, wolf_free, wolf_realloc);
}

int nn_quic_tls_init(nn_quic_ep *ep, const nn_identity *id)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, wolf_allocators);
	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return NN_ECRYPTO;
	int rc = nn_quic_tlsid_make_ex(&ep->tlsid, id, ep->cfg.cert_mode, ep->cfg.cert_other);
	if (rc)
		return rc;
	ep->sctx = make_ctx(ep, false);
	ep->cctx = make_ctx(ep, true);
	nn_quic_tlsid_wipe(&ep->tlsid); /* the contexts hold their own copies */
	return ep->sctx && ep->cctx ? 0 : NN_ECRYPTO;
}

void nn_quic_tls_fini(nn_quic_ep *ep)
{
	nn_timer_stop(ep->base.clock, &ep->trim);
	if (ep->sctx)
		wolfSSL_CTX_free(ep->sctx);
	if (ep->cctx)
		wolfSSL_CTX_free(ep->cctx);
	ep->sctx = ep->cctx = NULL;
	wolfSSL_Cleanup();
}

WOLFSSL *nn_quic_tls_new(nn_quic_ep *ep, nn_quic_conn *c, bool client)
{
	WOLFSSL *ssl = wolfSSL_new(client ? ep->cctx : ep->sctx);
	if (!ssl)
		return NULL;
	ep->tls_live++; /* paired in nn_quic_tls_free (the caller stores ssl in c->ssl) */
	wolfSSL_set_app_data(ssl, &c->ref);
	if (client)
		wolfSSL_set_connect_state(ssl);
	else
		wolfSSL_set_accept_state(ssl);
	/* a dialler offers one protocol (its connection's kind); the listener offers both unless
	 * it serves no media, and the negotiated one decides the kind (nn_quic_tls_check) */
	const char *alpn = ep->cfg.alpn ? ep->cfg.alpn : NN_QUIC_ALPN;
	if (client && c->base.kind == NN_CONN_MEDIA)
		alpn = NN_QUIC_ALPN_MEDIA;
	else if (!client && !ep->cfg.alpn && !ep->cfg.no_media)
		alpn = NN_QUIC_ALPN "," NN_QUIC_ALPN_MEDIA; /* wolfSSL takes a comma-separated list */
	char buf[64];
	size_t n = strlen(alpn);
	if (n >= sizeof buf) {
		wolfSSL_free(ssl);
		ep->tls_live--;
		return NULL;
	}
	memcpy(buf, alpn, n + 1);
	if (wolfSSL_UseALPN(ssl, buf, (unsigned)n, WOLFSSL_ALPN_FAILED_ON_MISMATCH) !=
	    WOLFSSL_SUCCESS) {
		wolfSSL_free(ssl);
		ep->tls_live--;
		return NULL;
	}
	return ssl;
}

int nn_quic_tls_check(nn_quic_conn *c)
{
	char *proto = NULL;
	unsigned short plen = 0;
	if (wolfSSL_ALPN_GetProtocol(c->ssl, &proto, &plen) != WOLFSSL_SUCCESS || !proto) {
		c->ep->st.alpn_mismatch++;
		return NN_ETLS;
	}
	bool overlay = plen == sizeof NN_QUIC_ALPN - 1 && !memcmp(proto, NN_QUIC_ALPN, plen);
	bool media = plen == sizeof NN_QUIC_ALPN_MEDIA - 1 &&
		     !memcmp(proto, NN_QUIC_ALPN_MEDIA, plen);
	if (c->base.outbound ? !(c->base.kind == NN_CONN_MEDIA ? media : overlay)
			     : !(overlay || (media && !c->ep->cfg.no_media))) {
		c->ep->st.alpn_mismatch++;
		return NN_ETLS;
	}
	if (media)
		c->base.kind = NN_CONN_MEDIA; /* the listener routes by the negotiated protocol */
	if (!c->peer_verified) {
		c->ep->st.no_peer_cert++;
		return NN_ETLS;
	}
	return 0;
}

/* A handshake's TLS object and buffers are a few KiB each, short-lived and allocated between
 * the long-lived state of connections: after a burst of handshakes the heap is left with
 * resident holes that malloc keeps (it only gives back the top of the heap). Local policy:
 * NN_QUIC_TRIM_DELAY after the last handshake in progress ended, the packet pool sheds the
 * free buffers beyond those in use plus a few (a burst leaves it at the burst's peak, about
 * 150 datagram buffers after 64 handshakes at once: 0.24 MiB), then free pages go back to the
 * system (glibc malloc_trim). Off the connect path, and only after handshakes: an idle
 * endpoint never wakes for it. */
#define NN_QUIC_TRIM_DELAY (200 * NN_MS)
#define NN_QUIC_TRIM_KEEP_DGRAM 16 /* free datagram buffers kept beyond those in use */

static void trim_cb(nn_timer *t, void *arg)
{
	nn_quic_ep *ep = arg;
	(void)t;
	if (ep->tls_live)
		return; /* a handshake started meanwhile: its end re-arms */
	/* the pool still holds the buffers the burst had in flight at once; keep as many free
	 * as are in use now (traffic under way), and a few */
	nn_pool *pool = ep->base.pool;
	for (int c = 0; c < NN_POOL_NCLASS; c++) {
		const nn_pool_stats *ps = nn_pool_stats_of(pool, (enum nn_pool_class)c);
		uint32_t keep = ps->in_use + (c == NN_POOL_DGRAM ? NN_QUIC_TRIM_KEEP_DGRAM : 1);
		ep->st.pool_shed += nn_pool_shed(pool, (enum nn_pool_class)c, keep);
	}
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
	ep->st.heap_trims++;
}

void nn_quic_tls_timer_init(nn_quic_ep *ep) { nn_timer_init(&ep->trim, trim_cb, ep); }

void nn_quic_tls_free(nn_quic_conn *c)
{
	if (!c->ssl)
		return;
	nn_quic_ep *ep = c->ep;
	if (c->qc)
		ngtcp2_conn_set_tls_native_handle(c->qc, NULL);
	wolfSSL_free(c->ssl);
	c->ssl = NULL;
	c->tls_release = false;
	if (ep->tls_live && --ep->tls_live == 0 && !ep->destroying)
		(void)nn_timer_start_in(ep->base.clock, &ep->trim, NN_QUIC_TRIM_DELAY);
}

void nn_quic_tls_release(nn_quic_conn *c)
{
	if (!c->ssl)
		return;
	/* everything the connection needs from TLS was taken during the handshake: the peer's
	 * NodeID and Ed25519 key (verify_cb), the ALPN (nn_quic_tls_check), the 1-RTT keys and
	 * the AEAD/HKDF choice (ngtcp2's crypto context, which key updates derive from) */
	nn_quic_tls_free(c);
	c->ep->st.tls_released++;
}
