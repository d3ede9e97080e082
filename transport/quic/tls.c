/* tls.c — wolfSSL contexts for the endpoint (one server, one client), the certificate check
 * inside the verify callback, ALPN, and the post-handshake checks.
 *
 * wolfSSL facts this relies on (wolfSSL 5.7 with opensslextra, as scripts/setup.sh builds
 * it): the verify callback runs for every peer certificate with preverify = 0 (no signer), so
 * it does the whole identity check itself and returns 1 only for a good leaf; the ALPN select
 * callback is never called, so both sides use wolfSSL_UseALPN with FAILED_ON_MISMATCH and the
 * negotiated value is checked again after the handshake. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
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

/* wolfSSL's allocations (local policy, issue 16). A handshake makes ~300 requests of wolfSSL's
 * allocator (hashes, key shares, the certificate's decoded forms, the TLS object, its buffers,
 * eight AEAD and header-protection contexts for the Initial and Handshake keys...), nearly all
 * freed once the handshake ends, while the connection's long-lived state is allocated in
 * between (ngtcp2's connection, its pools, our records). In one heap, a burst of handshakes
 * leaves that long-lived state scattered over pages whose other bytes are free holes: 20
 * handshakes at once (bench_mem's hub) held ~370 KiB of wolfSSL's small blocks at the peak and
 * left 152 resident heap pages only partly live, ~175 KiB free on them (one at a time: 47
 * such pages, nearly full). So wolfSSL's requests never reach malloc (but under ASan):
 *  - requests of NN_QUIC_WOLF_MMAP bytes and more (the 6.2 KiB `WOLFSSL` object, its buffers,
 *    key schedule) get pages of their own (mmap); freed, up to NN_QUIC_WOLF_MAPCACHE of them
 *    stay mapped for the next handshake's requests of the same length (an mmap, its page
 *    faults and a munmap per request were ~15 % of a handshake's CPU) until the endpoint's
 *    trim after handshakes unmaps them;
 *  - smaller ones come from one-page slabs of a few size classes (wolf_slab): a page holds
 *    blocks of one size, and a page whose blocks are all free goes back to the system
 *    (madvise MADV_DONTNEED: the page stays in our address space, in regions of
 *    NN_QUIC_WOLF_REGION pages reserved by one mmap, so no mapping is split; up to
 *    NN_QUIC_WOLF_CACHE empty pages stay resident for the next handshake until the endpoint's
 *    trim after handshakes). The short-lived blocks of a burst thus leave no holes among
 *    other allocations, and their pages go back once their blocks are free. What stays on the
 *    slabs is wolfSSL's long-lived state: the 1-RTT keys' AEAD and header-protection contexts
 *    (1,152 bytes each, three to a page) and the contexts' (WOLFSSL_CTX) own.
 * A 16-byte header before each block records the size and which of the three it came from.
 * Process-wide state, by necessity: wolfSSL's allocator is process-wide and its hooks take no
 * context pointer (wolfSSL_SetAllocators), so the slabs cannot belong to an endpoint; they are
 * installed once per process before wolfSSL's first allocation (the build's private static
 * wolfSSL has no other user) and guarded by a mutex (endpoints on different threads share
 * them); the address space reserved stays at its peak (pages no longer in use are not
 * resident). Cost: a few madvise calls per handshake; nothing per frame (wolfSSL allocates
 * nothing once the keys are in place). */
#define NN_QUIC_WOLF_MMAP 2048u
#define NN_QUIC_WOLF_CACHE 32u  /* empty slab pages kept resident for the next handshake */
#define NN_QUIC_WOLF_REGION 64u /* slab pages reserved by one mmap */
#define NN_QUIC_WOLF_MAPCACHE 32u /* freed own-page blocks kept mapped for the next handshake */
#define WOLF_HDR 16u
enum { WOLF_MALLOC = 0, WOLF_MAPPED = 1, WOLF_SLAB = 2 };
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

/* One page of blocks of one size class; the header sits at the start of the page. */
typedef struct wolf_slab {
	struct wolf_slab *next, *prev; /* the class's list of slabs with a free block */
	void *free;		       /* freed blocks (each holds the next) */
	uint32_t cls, used, bump;      /* class; blocks handed out; blocks ever carved */
	bool listed;
} wolf_slab;
#define WOLF_SLAB_HDR 48u /* sizeof (wolf_slab) rounded up to 16: blocks stay 16-aligned */

/* Block sizes, header included (multiples of 16), chosen around wolfSSL's frequent requests
 * (1,152-byte cipher contexts: three to a page). */
static const uint16_t wolf_cls_size[] = {32,  48,  64,  80,  96,  112, 128, 144, 176,  208,
					 240, 288, 352, 432, 512, 672, 816, 1008, 1168, 1344,
					 2048}; /* the last one: every request below NN_QUIC_WOLF_MMAP */
#define WOLF_NCLS (sizeof wolf_cls_size / sizeof wolf_cls_size[0])

static struct {
	pthread_mutex_t mu;
	size_t page;
	wolf_slab *head[WOLF_NCLS], *tail[WOLF_NCLS];
	wolf_slab *cache; /* empty pages still resident, linked by next */
	void **clean; /* empty pages given back to the system (madvise) */
	size_t nclean, capclean;
	unsigned ncache;
	uint8_t *rnext, *rend; /* the region pages are carved from */
	struct {
		void *p;
		size_t len; /* bytes mapped (whole pages) */
	} mapped[NN_QUIC_WOLF_MAPCACHE]; /* freed own-page blocks still mapped */
	unsigned nmapped;
} wolf = {.mu = PTHREAD_MUTEX_INITIALIZER};

_Static_assert(NN_QUIC_WOLF_MMAP <= 2048, "every slab request fits the largest class");
_Static_assert(sizeof(wolf_slab) <= WOLF_SLAB_HDR, "the slab header fits before its blocks");

static unsigned wolf_cls_of(size_t total)
{
	unsigned c = 0;
	while (wolf_cls_size[c] < total)
		c++;
	return c;
}

static uint32_t wolf_cap(unsigned c)
{
	return (uint32_t)((wolf.page - WOLF_SLAB_HDR) / wolf_cls_size[c]);
}

static void wolf_unlink(wolf_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		wolf.head[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		wolf.tail[s->cls] = s->prev;
	s->next = s->prev = NULL;
	s->listed = false;
}

static void wolf_push(wolf_slab *s, bool at_head)
{
	s->listed = true;
	if (at_head) {
		s->prev = NULL;
		s->next = wolf.head[s->cls];
		if (s->next)
			s->next->prev = s;
		else
			wolf.tail[s->cls] = s;
		wolf.head[s->cls] = s;
	} else {
		s->next = NULL;
		s->prev = wolf.tail[s->cls];
		if (s->prev)
			s->prev->next = s;
		else
			wolf.head[s->cls] = s;
		wolf.tail[s->cls] = s;
	}
}

/* An empty page goes back to the system (its contents are dropped; the next use faults in a
 * zero page) but stays in our region, listed as clean. */
static void wolf_clean(wolf_slab *s)
{
	if (wolf.nclean == wolf.capclean) {
		size_t cap = wolf.capclean ? 2 * wolf.capclean : 64;
		void **a = realloc(wolf.clean, cap * sizeof *a);
		if (!a) {
			(void)munmap(s, wolf.page); /* a hole in the region: never reused, harmless */
			return;
		}
		wolf.clean = a;
		wolf.capclean = cap;
	}
	(void)madvise(s, wolf.page, MADV_DONTNEED);
	wolf.clean[wolf.nclean++] = s; /* not linked through the page: that would fault it in */
}

static void *wolf_slab_alloc(unsigned c)
{
	(void)pthread_mutex_lock(&wolf.mu);
	wolf_slab *s = wolf.head[c];
	if (!s) {
		if (wolf.cache) {
			s = wolf.cache;
			wolf.cache = s->next;
			wolf.ncache--;
		} else if (wolf.nclean) {
			s = wolf.clean[--wolf.nclean];
		} else {
			if (wolf.rnext == wolf.rend) {
				size_t len = wolf.page * NN_QUIC_WOLF_REGION;
				void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
				if (p == MAP_FAILED) {
					(void)pthread_mutex_unlock(&wolf.mu);
					return NULL;
				}
				wolf.rnext = p;
				wolf.rend = (uint8_t *)p + len;
			}
			s = (wolf_slab *)(void *)wolf.rnext;
			wolf.rnext += wolf.page;
		}
		*s = (wolf_slab){.cls = c};
		wolf_push(s, true);
	}
	void *b = s->free;
	if (b)
		s->free = *(void **)b;
	else
		b = (uint8_t *)s + WOLF_SLAB_HDR + (size_t)s->bump++ * wolf_cls_size[c];
	if (++s->used == wolf_cap(c))
		wolf_unlink(s); /* full: off the list until a block comes back */
	(void)pthread_mutex_unlock(&wolf.mu);
	return b;
}

static void wolf_slab_free(void *b)
{
	wolf_slab *s = (wolf_slab *)((uintptr_t)b & ~(uintptr_t)(wolf.page - 1));
	(void)pthread_mutex_lock(&wolf.mu);
	*(void **)b = s->free;
	s->free = b;
	if (--s->used == 0) {
		if (s->listed)
			wolf_unlink(s);
		if (wolf.ncache < NN_QUIC_WOLF_CACHE) {
			s->next = wolf.cache;
			wolf.cache = s;
			wolf.ncache++;
		} else {
			wolf_clean(s);
		}
	} else if (!s->listed) {
		/* was full: used last, so the slabs in use drain and their pages can go back */
		wolf_push(s, false);
	}
	(void)pthread_mutex_unlock(&wolf.mu);
}

/* The endpoint's trim after handshakes: the cached empty pages go back to the system. */
static void wolf_trim(void)
{
	(void)pthread_mutex_lock(&wolf.mu);
	while (wolf.cache) {
		wolf_slab *s = wolf.cache;
		wolf.cache = s->next;
		wolf_clean(s);
	}
	wolf.ncache = 0;
	while (wolf.nmapped) {
		wolf.nmapped--;
		(void)munmap(wolf.mapped[wolf.nmapped].p, wolf.mapped[wolf.nmapped].len);
	}
	(void)pthread_mutex_unlock(&wolf.mu);
}

/* The bytes own pages for a request of total bytes (header included) map: whole pages. */
static size_t wolf_map_len(size_t total) { return (total + wolf.page - 1) & ~(wolf.page - 1); }

/* Own pages for a request of total bytes (header included): a cached mapping of the same
 * length if there is one (a handshake asks for the same few sizes as the last one), else a
 * fresh mmap. */
static void *wolf_map(size_t total)
{
	size_t len = wolf_map_len(total);
	void *p = NULL;
	(void)pthread_mutex_lock(&wolf.mu);
	for (unsigned i = wolf.nmapped; i-- > 0;)
		if (wolf.mapped[i].len == len) {
			p = wolf.mapped[i].p;
			wolf.mapped[i] = wolf.mapped[--wolf.nmapped];
			break;
		}
	(void)pthread_mutex_unlock(&wolf.mu);
	if (p)
		return p;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Freed own pages stay mapped (and resident) for the next handshake, up to
 * NN_QUIC_WOLF_MAPCACHE blocks, until the endpoint's trim after handshakes unmaps them. */
static void wolf_unmap(void *p, size_t total)
{
	size_t len = wolf_map_len(total);
	(void)pthread_mutex_lock(&wolf.mu);
	if (wolf.nmapped < NN_QUIC_WOLF_MAPCACHE) {
		wolf.mapped[wolf.nmapped].p = p;
		wolf.mapped[wolf.nmapped].len = len;
		wolf.nmapped++;
		p = NULL;
	}
	(void)pthread_mutex_unlock(&wolf.mu);
	if (p)
		(void)munmap(p, len);
}

/* wolfSSL's requests served without malloc (slab or own pages): the test suites' allocation
 * counter (tests/support/alloc_count.c, which wraps malloc) adds them, so "no allocation per
 * frame" still covers wolfSSL. */
static atomic_uint_fast64_t wolf_requests;
static atomic_size_t wolf_bytes; /* held in slab blocks and own pages, headers included */

uint64_t nn_quic_test_wolf_allocs(void) { return atomic_load(&wolf_requests); }
size_t nn_quic_test_wolf_bytes(void) { return atomic_load(&wolf_bytes); }

/* bytes a block of wolfSSL's (its header h) occupies outside malloc: 0 for malloc's */
static size_t wolf_held(const size_t *h)
{
	if (h[1] == WOLF_SLAB)
		return wolf_cls_size[((wolf_slab *)((uintptr_t)h & ~(uintptr_t)(wolf.page - 1)))->cls];
	return h[1] == WOLF_MAPPED ? h[0] + WOLF_HDR : 0;
}

/* n bytes from malloc (sanitized builds) or from our own pages (own = true). */
static void *wolf_alloc(size_t n, bool own)
{
	if (n > SIZE_MAX - 4096)
		return NULL;
	size_t *h;
	size_t total = n + WOLF_HDR;
	if (!own) {
		if (!(h = malloc(total)))
			return NULL;
		h[1] = WOLF_MALLOC;
	} else if (total >= NN_QUIC_WOLF_MMAP) {
		if (!(h = wolf_map(total)))
			return NULL;
		h[1] = WOLF_MAPPED;
	} else {
		if (!(h = wolf_slab_alloc(wolf_cls_of(total))))
			return NULL;
		h[1] = WOLF_SLAB;
	}
	h[0] = n;
	if (h[1] != WOLF_MALLOC) {
		atomic_fetch_add_explicit(&wolf_requests, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&wolf_bytes, wolf_held(h), memory_order_relaxed);
	}
	return (uint8_t *)h + WOLF_HDR;
}

static void *wolf_malloc(size_t n) { return wolf_alloc(n, !NN_QUIC_WOLF_SANITIZED); }

static void wolf_free(void *q)
{
	if (!q)
		return;
	size_t *h = (size_t *)(void *)((uint8_t *)q - WOLF_HDR);
	atomic_fetch_sub_explicit(&wolf_bytes, wolf_held(h), memory_order_relaxed);
	if (h[1] == WOLF_MAPPED)
		wolf_unmap(h, h[0] + WOLF_HDR);
	else if (h[1] == WOLF_SLAB)
		wolf_slab_free(h);
	else
		free(h);
}

static void *wolf_realloc(void *q, size_t n)
{
	if (!q)
		return wolf_malloc(n);
	if (n > SIZE_MAX - 4096)
		return NULL;
	size_t *h = (size_t *)(void *)((uint8_t *)q - WOLF_HDR);
	if (h[1] == WOLF_MALLOC) { /* sanitized builds: malloc's realloc */
		size_t *r = realloc(h, n + WOLF_HDR);
		if (!r)
			return NULL;
		r[0] = n;
		return (uint8_t *)r + WOLF_HDR;
	}
	if (h[1] == WOLF_SLAB && n + WOLF_HDR < NN_QUIC_WOLF_MMAP &&
	    wolf_cls_of(n + WOLF_HDR) ==
		    ((wolf_slab *)((uintptr_t)h & ~(uintptr_t)(wolf.page - 1)))->cls) {
		atomic_fetch_add_explicit(&wolf_requests, 1, memory_order_relaxed);
		h[0] = n; /* still fits its block */
		return q;
	}
	void *r = wolf_alloc(n, h[1] != WOLF_MALLOC);
	if (!r)
		return NULL;
	memcpy(r, q, h[0] < n ? h[0] : n);
	wolf_free(q);
	return r;
}

static void wolf_page_init(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	wolf.page = pg >= 4096 ? (size_t)pg : 4096u;
}

/* Tests (tests/quic/test_parts.c): the own-page paths whatever the build, so the slab and
 * mapping logic is exercised under ASan too (which does not see inside our pages: the test
 * checks every block's contents against an oracle instead). */
void *nn_quic_test_wolf_own_alloc(size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, wolf_page_init);
	return wolf_alloc(n, true);
}
void *nn_quic_test_wolf_realloc(void *q, size_t n) { return wolf_realloc(q, n); }
void nn_quic_test_wolf_free(void *q) { wolf_free(q); }
void nn_quic_test_wolf_trim(void) { wolf_trim(); }

static void wolf_allocators(void)
{
	wolf_page_init();
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
	wolf_trim(); /* the empty slab pages making the contexts left behind */
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
	wolf_trim();
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
