/* internal.h — the endpoint and connection structs shared by the transport/quic .c files.
 * Private: nothing outside transport/quic includes this. All of it belongs to the loop thread.
 */
#ifndef NN_QUIC_INTERNAL_H
#define NN_QUIC_INTERNAL_H

#include <ev.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "transport/quic/wolf.h"

#include "transport/quic/framer.h"
#include "transport/quic/quic.h"
#include "transport/tokenbucket.h"

#define NN_QUIC_CIDLEN 16
#define NN_QUIC_RX_BATCH 32     /* datagrams per recvmmsg without GRO */
#define NN_QUIC_RX_BUFSZ 2048   /* largest datagram we accept (max_udp_payload_size) */
#define NN_QUIC_GRO_BATCH 8     /* coalesced buffers per recvmmsg with GRO */
#define NN_QUIC_GRO_BUFSZ 65536
#define NN_QUIC_TX_BATCH 32
#define NN_QUIC_TX_BUFSZ 1500
#define NN_QUIC_GSO_MAX 40 /* packets per GSO super-datagram */
#define NN_QUIC_LINGER (1 * NN_SEC) /* the longest a close waits for its frames' acks */

typedef struct nn_quic_ep nn_quic_ep;
typedef struct nn_quic_conn nn_quic_conn;
typedef struct nn_quic_xsock nn_quic_xsock;
typedef struct nn_quic_bday nn_quic_bday;
typedef struct nn_quic_media nn_quic_media;
typedef struct nn_quic_relay nn_quic_relay;

/* ---- birthday.c: extra sockets for birthday probing (bounds: local policy) ---- */
#define NN_QUIC_BDAY_SOCKETS 256  /* extra sockets per attempt, at most */
#define NN_QUIC_BDAY_RUNNING 2    /* attempts at once, at most */
#define NN_QUIC_BDAY_PEERS 4      /* addresses of the other side each socket punches */
#define NN_QUIC_BDAY_WINDOW_MAX (10 * NN_SEC)
#define NN_QUIC_BDAY_RESEND (500 * NN_MS) /* punches from every socket again, this often */

/* One extra UDP socket: while its attempt runs it only listens for the other side's punch;
 * the winner is handed to the connection it dials (c->xs) and lives as long as it. */
struct nn_quic_xsock {
	nn_quic_ep *ep;
	int fd;
	ev_io io;
	struct sockaddr_storage local;
	socklen_t local_len;
	nn_quic_bday *b;      /* the running attempt, NULL once won */
	nn_quic_conn *conn;   /* the connection it carries, once won */
};

/* ---- cidmap.c: connection ID -> connection, open addressing, keyed hash ---- */
typedef struct nn_quic_cident {
	nn_quic_conn *conn; /* NULL = empty */
	uint8_t len;
	uint8_t cid[NGTCP2_MAX_CIDLEN];
} nn_quic_cident;

typedef struct nn_quic_cidmap {
	nn_quic_cident *tab;
	size_t cap, n; /* cap is a power of two */
	uint8_t key[16];
} nn_quic_cidmap;

int nn_quic_cidmap_init(nn_quic_cidmap *m, const uint8_t key[16]);
void nn_quic_cidmap_fini(nn_quic_cidmap *m);
int nn_quic_cidmap_put(nn_quic_cidmap *m, const uint8_t *cid, size_t len, nn_quic_conn *c);
nn_quic_conn *nn_quic_cidmap_get(const nn_quic_cidmap *m, const uint8_t *cid, size_t len);
void nn_quic_cidmap_del(nn_quic_cidmap *m, const uint8_t *cid, size_t len);

/* ---- caps.c: inbound admission caps (global + per source IP) ---- */
typedef struct nn_quic_ipcount {
	uint8_t ip[16];
	uint32_t n;
} nn_quic_ipcount;

typedef struct nn_quic_caps {
	nn_quic_ipcount *ips; /* max_inbound entries, n used */
	uint32_t n, total, max, per_ip;
} nn_quic_caps;

int nn_quic_caps_init(nn_quic_caps *c, uint32_t max, uint32_t per_ip);
void nn_quic_caps_fini(nn_quic_caps *c);
/* 0 and counted, or NN_ELIMIT with *which = 1 (global) / 2 (per IP). */
int nn_quic_caps_admit(nn_quic_caps *c, const uint8_t ip[16], int *which);
void nn_quic_caps_release(nn_quic_caps *c, const uint8_t ip[16]);
/* 16-byte key of a sockaddr, IPv4 as v4-mapped (so v4 and mapped v4 are one source). */
void nn_quic_ip_key(const struct sockaddr *sa, uint8_t ip[16]);

/* ---- send queue (stream.c) ---- */
#define NN_QUIC_SENDQ_FRAMES0 16 /* first size of the frame ring; doubles up to send_queue_frames */
#define NN_QUIC_SENDQ_SMALL 8192 /* frames up to this size are queued in datagram-class buffers */
typedef struct nn_quic_sendq {
	nn_pkt *head, *tail;   /* pkt->tag = stream offset of its first byte */
	nn_pkt *wr;            /* first pkt with unsent bytes */
	uint64_t ack_off;      /* everything below is acknowledged */
	uint64_t wr_off;       /* everything below was handed to ngtcp2 */
	uint64_t end_off;      /* end of queued data */
	uint32_t *frame_ends;  /* ring: low 32 bits of each unsent frame's end offset */
	uint32_t fr_head, fr_n, fr_cap;
	bool eagain;           /* a send was refused since the last writable */
	nn_time stall_since;   /* when the queue last made no progress while refusing */
} nn_quic_sendq;

enum nn_quic_state {
	NN_QS_HANDSHAKE = 0, /* TLS running */
	NN_QS_OPEN,          /* confirmed, authenticated, reported */
	NN_QS_CLOSING,       /* close requested / error: CONNECTION_CLOSE pending */
	NN_QS_DEAD           /* waiting to be reported and freed */
};

struct nn_quic_conn {
	nn_conn base; /* first */
	nn_quic_ep *ep;
	ngtcp2_conn *qc;
	WOLFSSL *ssl;
	ngtcp2_crypto_conn_ref ref;
	ngtcp2_path_storage ps;
	struct sockaddr_storage remote;
	socklen_t remote_len;
	uint8_t ipkey[16];
	uint8_t state;
	bool inbound_counted;  /* holds a caps slot */
	bool reported;         /* on_conn was called */
	bool peer_verified;    /* verify callback accepted the leaf */
	bool idmismatch;
	bool in_dirty;
	bool in_read;          /* inside ngtcp2_conn_read_pkt: defer closes */
	bool first_frame_seen;
	bool stream_blocked;
	bool tls_release;      /* handshake confirmed and checked: free ssl at the next write
				* (outside ngtcp2); ngtcp2 does key updates without it */
	bool flush_on_close;   /* close() by the sink: queued frames go out before the close */
	bool lingering;        /* closed by the sink with frames unacknowledged: still sending
				* them (nothing is delivered any more) until they are acked or
				* NN_QUIC_LINGER passed, then CONNECTION_CLOSE */
	uint64_t linger_reason;
	nn_time born;          /* when the connection was created */
	bool announce;         /* outbound: open the edge stream on the wire with an empty STREAM frame */
	nn_quic_cert_verdict verdict;
	nn_id want;            /* outbound: the NodeID we dialled */
	int64_t sid;           /* the edge stream, -1 until open */
	ngtcp2_cid odcid;      /* server: the client's first DCID (routing key) */
	bool has_odcid;
	/* close bookkeeping */
	int close_err;         /* what on_closed / on_dial_failed will say */
	uint64_t close_reason;
	ngtcp2_ccerr ccerr;    /* what we send */
	bool send_cc;
	/* timers */
	nn_timer qtimer;       /* ngtcp2 expiry */
	nn_timer guard;        /* first-frame / send-stall deadline */
	/* rx */
	nn_quic_framer framer;
	nn_pkt *rx_pkt;        /* assembly buffer while a frame is split */
	/* tx */
	nn_quic_sendq q;
	/* lists */
	nn_quic_media *m;      /* media session state (kind NN_CONN_MEDIA), else NULL */
	nn_quic_xsock *xs;     /* birthday winner: this conn's own socket (NULL = the endpoint's) */
	/* a migrated media session (media.c nn_quic_media_move): the name its path's local half
	 * has for ngtcp2. The socket is the same; ngtcp2 migrates only to a local address that
	 * differs from the current one, so each move names the socket anew (alias_gen) */
	struct sockaddr_storage alias;
	socklen_t alias_len;
	uint8_t alias_gen;
	nn_quic_conn *next, *prev;   /* all conns */
	nn_quic_conn *dirty_next;
};

struct nn_quic_ep {
	nn_tp base; /* first */
	nn_quic_config cfg;
	nn_quic_stats st;
	struct ev_loop *loop;
	int fd;
	int family;
	bool gso;
	struct sockaddr_storage local;
	socklen_t local_len;
	nn_addr local_addr;
	ev_io rio;
	ev_prepare prep;
	WOLFSSL_CTX *sctx, *cctx;
	nn_quic_tlsid tlsid;
	nn_quic_cidmap cids;
	nn_quic_caps caps;
	nn_tbucket hs_bucket;
	nn_tbucket stateless_bucket; /* VN + stateless reset replies */
	uint8_t secret[32];       /* retry tokens, stateless reset tokens */
	ngtcp2_callbacks ccb, scb;
	nn_quic_conn *conns;
	nn_quic_conn *dirty;
	nn_quic_bday *bdays;      /* running birthday attempts (birthday.c) */
	nn_quic_relay *relays;    /* relay sessions (relay.c) */
	unsigned nrelays;
	uint64_t relay_serial;
	nn_tbucket relay_agg;     /* the relay shaper across all sessions */
	nn_timer relay_reap;      /* idle sessions */
	uint64_t serial;
	uint32_t tls_live;        /* WOLFSSL objects alive (connections in their handshake) */
	nn_timer trim;            /* tls.c: hand freed handshake memory back to the system */
	bool destroying;
	/* rx batch */
	struct mmsghdr rmsg[NN_QUIC_RX_BATCH];
	struct iovec riov[NN_QUIC_RX_BATCH];
	struct sockaddr_storage rsrc[NN_QUIC_RX_BATCH];
	uint8_t *rbuf;            /* rx_n buffers of rx_sz bytes */
	size_t rx_n, rx_sz;
	nn_time rx_at;            /* when the batch being processed was read (0 = none): media
				   * datagrams carry it as their receive timestamp */
	bool gro;
	_Alignas(struct cmsghdr) char rctl[NN_QUIC_RX_BATCH][CMSG_SPACE(sizeof(int))];
	/* tx: one GSO buffer (or a batch of datagrams without GSO) */
	uint8_t *tbuf;
	struct mmsghdr tmsg[NN_QUIC_TX_BATCH];
	struct iovec tiov[NN_QUIC_TX_BATCH];
};

/* endpoint.c */
nn_time nn_quic_now(nn_quic_ep *ep);
void nn_quic_mark_dirty(nn_quic_conn *c);
void nn_quic_flush(nn_quic_ep *ep);

/* socket.c */
int nn_quic_socket_open(nn_quic_ep *ep, const char *listen);
void nn_quic_socket_close(nn_quic_ep *ep);
/* Send n packets of `size` bytes each (last may be shorter) stored back to back in buf, to
 * the remote address; uses GSO when possible. */
int nn_quic_socket_send(nn_quic_ep *ep, const struct sockaddr *to, socklen_t tolen,
			const uint8_t *buf, size_t total, size_t size);
/* The same from another socket (a birthday winner's). */
int nn_quic_socket_send_fd(nn_quic_ep *ep, int fd, const struct sockaddr *to, socklen_t tolen,
			   const uint8_t *buf, size_t total, size_t size);
/* What c sends with: its own socket (birthday) or the endpoint's. */
int nn_quic_conn_send(nn_quic_conn *c, const uint8_t *buf, size_t total, size_t size);
int nn_quic_conn_send_to(nn_quic_conn *c, const struct sockaddr_storage *to, socklen_t tolen,
			 const uint8_t *buf, size_t total, size_t size);
/* A media session we dialled moves onto the path of edge e (a QUIC client migration to the
 * edge's remote address from the same socket): 0 or NN_E*. */
int nn_quic_media_move(nn_quic_conn *c, nn_quic_conn *e);
/* Drain the socket (bounded per call) and hand each datagram to nn_quic_ep_datagram. */
void nn_quic_socket_read(nn_quic_ep *ep);
int nn_quic_sockaddr_for(nn_quic_ep *ep, const nn_addr *a, struct sockaddr_storage *ss,
			 socklen_t *len);

/* endpoint.c: one received datagram */
void nn_quic_ep_datagram(nn_quic_ep *ep, const uint8_t *d, size_t n, const struct sockaddr *src,
			 socklen_t srclen);

/* endpoint.c: a plausible unicast punch target (facts §7.4) */
bool nn_quic_punch_target_ok(const struct sockaddr *sa, bool allow_loopback);

/* birthday.c */
int nn_quic_birthday(nn_tp *tp, const nn_id *want, const nn_addr *peers, size_t npeers,
		     unsigned sockets, nn_time window, void *user);
/* Close an extra socket (a winner's, when its connection is freed). */
void nn_quic_xsock_close(nn_quic_xsock *xs);
/* Endpoint teardown: every running attempt ends without a report. */
void nn_quic_birthday_destroy(nn_quic_ep *ep);

/* relay.c: the relay volunteer's sessions (ops.relay_alloc / relay_free) */
int nn_quic_relay_alloc(nn_tp *tp, nn_tp_relay *out);
int nn_quic_relay_free(nn_tp *tp, uint64_t id);
void nn_quic_relay_init(nn_quic_ep *ep);
/* Endpoint teardown: every session closes. */
void nn_quic_relay_destroy(nn_quic_ep *ep);

/* wolfrand.c: wolfSSL's CUSTOM_RAND_GENERATE_BLOCK (scripts/setup.sh): len random bytes from
 * libsodium into out; returns 0. */
int nn_quic_wolf_rand(unsigned char *out, unsigned int len);

/* tls.c: wolfSSL's allocator, its own-page paths for tests (whatever the build; process-wide
 * state like the allocator itself): a block of n bytes (slab or own pages), realloc and free of
 * any of wolfSSL's blocks, and the trim that unmaps the cached empty pages and mappings. */
void *nn_quic_test_wolf_own_alloc(size_t n);
void *nn_quic_test_wolf_realloc(void *q, size_t n);
void nn_quic_test_wolf_free(void *q);
void nn_quic_test_wolf_trim(void);

/* tls.c */
void nn_quic_tls_timer_init(nn_quic_ep *ep); /* first thing: nn_quic_tls_fini stops it */
int nn_quic_tls_init(nn_quic_ep *ep, const nn_identity *id);
void nn_quic_tls_fini(nn_quic_ep *ep);
WOLFSSL *nn_quic_tls_new(nn_quic_ep *ep, nn_quic_conn *c, bool client);
/* After the handshake: 0 if ALPN and certificate are fine. */
int nn_quic_tls_check(nn_quic_conn *c);
/* Once the handshake is confirmed and checked: free the WOLFSSL object (its buffers, the
 * peer's certificate chain, the key schedule). Called outside any ngtcp2 call. */
void nn_quic_tls_release(nn_quic_conn *c);
/* Free c's TLS object whatever the state (connection teardown). */
void nn_quic_tls_free(nn_quic_conn *c);

/* conn.c */
void nn_quic_callbacks_init(nn_quic_ep *ep);
nn_quic_conn *nn_quic_conn_client(nn_quic_ep *ep, const nn_id *want,
				  const struct sockaddr *to, socklen_t tolen, const nn_addr *addr,
				  nn_quic_xsock *xs, void *user, uint8_t kind, int *err);
nn_quic_conn *nn_quic_conn_server(nn_quic_ep *ep, const ngtcp2_pkt_hd *hd,
				  const ngtcp2_cid *odcid, const struct sockaddr *src,
				  socklen_t srclen, int *err);
void nn_quic_conn_read(nn_quic_conn *c, const uint8_t *d, size_t n, const struct sockaddr *src,
		       socklen_t srclen);
/* Write whatever the connection has to send (handshake, stream data, acks, close). */
void nn_quic_conn_write(nn_quic_conn *c);
/* Begin closing: err/reason are what the sink will be told; app code goes on the wire. */
void nn_quic_conn_fail(nn_quic_conn *c, int err, uint64_t reason, bool send_cc);
/* Report and free a DEAD conn (sink notified unless destroying). */
void nn_quic_conn_reap(nn_quic_conn *c);
void nn_quic_conn_free(nn_quic_conn *c);
/* Best-effort CONNECTION_CLOSE (shutdown), no report. */
void nn_quic_conn_goodbye(nn_quic_conn *c);
void nn_quic_conn_arm(nn_quic_conn *c);

/* retry.c: address validation under load (stateless Retry, per-process secret) */
/* Decide for a new Initial: returns 1 to accept (odcid set if it carried a valid Retry token,
 * *validated = true), 0 when a Retry was sent or the packet dropped. force: Retry any Initial
 * without a valid token, whatever the handshake rate. */
int nn_quic_retry_gate(nn_quic_ep *ep, const ngtcp2_pkt_hd *hd, const struct sockaddr *src,
		       socklen_t srclen, bool force, ngtcp2_cid *odcid, bool *validated);

/* stateless.c: Version Negotiation and Stateless Reset, rate-limited */
void nn_quic_send_version_negotiation(nn_quic_ep *ep, const ngtcp2_version_cid *vc, size_t n,
				      const struct sockaddr *src, socklen_t srclen);
void nn_quic_send_stateless_reset(nn_quic_ep *ep, const uint8_t *dcid, size_t dcidlen, size_t n,
				  const struct sockaddr *src, socklen_t srclen);

/* stream.c */
void nn_quic_sendq_init(nn_quic_sendq *q);
void nn_quic_sendq_fini(nn_quic_sendq *q);
int nn_quic_stream_send(nn_quic_conn *c, const uint8_t *frame, size_t len, bool raw);
/* Up to max vecs of unsent data; returns the count. */
size_t nn_quic_sendq_vecs(nn_quic_sendq *q, ngtcp2_vec *v, size_t max);
void nn_quic_sendq_wrote(nn_quic_conn *c, size_t n);
void nn_quic_sendq_acked(nn_quic_conn *c, uint64_t off, uint64_t len);
size_t nn_quic_sendq_unsent_frames(const nn_quic_sendq *q);
void nn_quic_stream_recv(nn_quic_conn *c, const uint8_t *d, size_t n, bool fin);

/* ---- media.c: media sessions (ALPN nodenet-media/1) ----
 * Bounds (local policy unless marked): datagram ring NN_QUIC_MEDIA_RING (protocol facts: 64);
 * messages in flight per session NN_QUIC_MEDIA_TX_MSGS; messages being read at once
 * NN_QUIC_MEDIA_RX_MSGS (more open streams are stopped and counted). */
#define NN_QUIC_MEDIA_RING 64
#define NN_QUIC_MEDIA_TX_MSGS 16
#define NN_QUIC_MEDIA_RX_MSGS 32
#define NN_QUIC_MEDIA_UNI_STREAMS 256       /* uni streams the peer may open (facts §7.6) */
#define NN_QUIC_MEDIA_DGRAM_PARAM 65535     /* our max_datagram_frame_size */
#define NN_QUIC_MEDIA_STREAM_WIN (128u * 1024) /* per uni stream receive window */
#define NN_QUIC_MEDIA_IDLE (10 * NN_SEC)
#define NN_QUIC_MEDIA_KEEPALIVE (3 * NN_SEC)
#define NN_QUIC_MEDIA_WRITE_DEADLINE (1 * NN_SEC)
#define NN_QUIC_MEDIA_READ_DEADLINE (5 * NN_SEC)
#define NN_QUIC_MEDIA_TICK (250 * NN_MS)
/* stream error codes (protocol: facts §7.6) */
#define NN_QUIC_MEDIA_ERR_STALL 1   /* a message write stalled past its deadline */
#define NN_QUIC_MEDIA_ERR_CANCEL 2  /* the sender gave the message up */
#define NN_QUIC_MEDIA_ERR_REFUSED 3 /* reader: oversize, timed out, no slot (STOP_SENDING) */

typedef struct nn_quic_mtx {   /* one outgoing message = one uni stream */
	nn_pkt *pkt;           /* the message bytes (pool), kept until the stream closes */
	const uint8_t *ext;    /* test hook: caller's bytes instead of pkt */
	uint32_t len, wr;      /* length, bytes handed to ngtcp2 */
	int64_t sid;           /* -1 until opened */
	nn_time deadline;      /* the whole write must be done by then */
	bool used, fin_sent, reset, blocked;
	bool nofin;            /* test hook: never send the FIN (a peer that stops mid-message) */
} nn_quic_mtx;

typedef struct nn_quic_mrx {   /* one incoming message being read */
	nn_pkt *pkt;
	uint32_t got;
	int64_t sid;
	nn_time deadline;
	bool used;
} nn_quic_mrx;

struct nn_quic_media {
	nn_pkt *ring[NN_QUIC_MEDIA_RING];
	uint32_t r_head, r_n;
	nn_quic_mtx tx[NN_QUIC_MEDIA_TX_MSGS];
	nn_quic_mrx rx[NN_QUIC_MEDIA_RX_MSGS];
	nn_time last_rx;       /* accepted sessions: the idle reaper's clock */
	nn_timer tick;         /* deadlines and the idle reaper */
	bool eagain;           /* a message send was refused: on_writable when a slot frees */
};

int nn_quic_media_attach(nn_quic_conn *c);
void nn_quic_media_detach(nn_quic_conn *c);
void nn_quic_media_opened(nn_quic_conn *c); /* reported: start the tick */
int nn_quic_media_send_datagram(nn_quic_conn *c, const uint8_t *d, size_t n);
int nn_quic_media_send_msg(nn_quic_conn *c, const uint8_t *d, size_t n, bool unchecked);
size_t nn_quic_media_queued(const nn_quic_conn *c);
/* Messages accepted by send whose streams are not finished (acknowledged or reset) yet. */
bool nn_quic_media_unacked(const nn_quic_conn *c);
/* write path (conn.c write_pkts): the next datagram / message with unsent bytes */
nn_pkt *nn_quic_media_dgram_peek(nn_quic_conn *c);
void nn_quic_media_dgram_pop(nn_quic_conn *c, bool sent);
nn_quic_mtx *nn_quic_media_next_tx(nn_quic_conn *c);
void nn_quic_media_tx_wrote(nn_quic_conn *c, nn_quic_mtx *t, size_t n, bool fin);
void nn_quic_media_write_begin(nn_quic_conn *c);
/* ngtcp2 callbacks, routed by conn.c for media conns */
void nn_quic_media_recv_datagram(nn_quic_conn *c, const uint8_t *d, size_t n);
void nn_quic_media_stream_open(nn_quic_conn *c, int64_t sid);
void nn_quic_media_stream_data(nn_quic_conn *c, int64_t sid, void *suser, uint64_t off,
			       const uint8_t *d, size_t n, bool fin);
void nn_quic_media_stream_close(nn_quic_conn *c, int64_t sid, void *suser, bool app_err);

#endif
