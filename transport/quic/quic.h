/* quic.h — the production transport: QUIC (ngtcp2) + mutual TLS 1.3 (wolfSSL) bound to the
 * NodeID, one UDP socket per endpoint, driven by the libev loop of an nn_evclock.
 *
 * One endpoint = one UDP socket (IPv6 dual-stack when the listen address is IPv6 or empty,
 * falling back to IPv4 if the host has no IPv6) that both accepts and dials, so a handshake can
 * reuse the 4-tuple a punch opened. It implements the boundary of transport/transport.h:
 * nn_quic_new() returns an nn_tp whose ops are the QUIC ones; connections are nn_conn.
 *
 * Tiers: the TLS identity binding, ALPN "nodenet/1", stream framing (uvarint(len) | frame,
 * len <= 65,536) and the punch datagram 00 6E 70 01 are protocol (see docs/PROTOCOL.md); caps,
 * Retry under load and every timeout are local policy, all configurable (nn_quic_config) and
 * all counted (nn_quic_stats, and in transport-neutral form through ops.guard_stats). Inbound
 * caps: half-open and silent connections count; at a cap a newcomer that proved its address
 * (Retry) displaces the oldest connection that never delivered a frame, so silent
 * connections cannot hold the slots for the whole first-frame timeout. Peer input never aborts: a bad datagram is dropped and counted, a
 * bad peer gets its connection closed.
 *
 * Ownership and threading: the endpoint belongs to the thread running the clock's loop; it keeps
 * a pointer to the clock and the pool (both must outlive it) and copies the config. No hidden
 * threads; nothing blocks (non-blocking socket, bounded queues). nn_tp_destroy() closes the
 * socket and frees every connection without calling the sink.
 */
#ifndef NN_QUIC_H
#define NN_QUIC_H

#include <stdbool.h>
#include <stdint.h>

#include "identity/identity.h"
#include "kad/nn_time.h"
#include "transport/quic/certext.h"
#include "transport/quic/tlsid.h"
#include "transport/transport.h"

#define NN_QUIC_ALPN "nodenet/1"
#define NN_QUIC_ALPN_MEDIA "nodenet-media/1" /* media sessions (calls), see media.c */
#define NN_QUIC_PUNCH "\x00\x6e\x70\x01"
#define NN_QUIC_PUNCH_LEN 4

/* Configuration; zero fields take the defaults in brackets (nn_quic_config_default). */
typedef struct nn_quic_config {
	const char *listen;            /* literal "host:port" ["[::]:0", v4 fallback "0.0.0.0:0"] */
	uint32_t max_inbound;          /* concurrent inbound conns, half-open included [512] */
	uint32_t max_inbound_per_ip;   /* the same per source IP, v4-mapped unmapped [32] */
	nn_time silent_evict_age;      /* at a cap, an address-validated newcomer displaces the
					* oldest inbound conn that has not delivered its first frame
					* and is at least this old [2 s]; < 0 = never */
	nn_time handshake_timeout;     /* [10 s] */
	nn_time idle_timeout;          /* [NN_TP_IDLE_TIMEOUT, 15 min] */
	nn_time first_frame_timeout;   /* accepted conns: stream + first frame within [30 s] */
	nn_time send_deadline;         /* a send queue full this long closes the edge [5 s] */
	uint32_t send_queue_bytes;     /* per-conn bytes queued or in flight [1 MiB] */
	uint32_t send_queue_frames;    /* per-conn frames not yet handed to QUIC [1024] */
	double retry_rate;             /* new handshakes/s before Retry kicks in [100] */
	double retry_burst;            /* [200] */
	nn_time retry_token_lifetime;  /* [10 s] */
	nn_time media_idle_timeout;    /* media dialler's idle timeout parameter, and the
					* acceptor's idle reaper [10 s] */
	nn_time media_keepalive;       /* media dialler's keepalive [3 s]; < 0 = off */
	bool no_media;                 /* serve no media sessions: the listener offers only
					* "nodenet/1", dial_media is NN_EUNSUPPORTED, no
					* NN_TP_CAP_MEDIA (an endpoint of a peer without media) */
	/* relay volunteer (relay.c; facts §7.5): sessions at once, idle close, shapers */
	uint32_t relay_max_sessions;   /* [256] */
	nn_time relay_idle;            /* close after this long without a forwarded datagram [30 s] */
	double relay_rate, relay_burst; /* per session, bytes/s [250,000, burst 131,072] */
	double relay_pkt_rate, relay_pkt_burst; /* per session, packets/s [1000, burst 256] */
	double relay_agg_rate, relay_agg_burst; /* all sessions, bytes/s [2,000,000, 262,144] */
	/* ---- test hooks (never set in production) ---- */
	bool retry_always;             /* Retry every new handshake */
	bool punch_allow_loopback;     /* let punches go to loopback (tests on one host) */
	bool no_client_cert;           /* dial without a certificate */
	const char *alpn;              /* offer this ALPN instead of "nodenet/1" */
	bool media_no_datagram;        /* media ALPN served but DATAGRAM not advertised */
	nn_quic_tlsid_mode cert_mode;  /* a deliberately bad certificate */
	const nn_identity *cert_other; /* for NN_QUIC_TLSID_OTHER_KEY */
} nn_quic_config;

void nn_quic_config_default(nn_quic_config *c);

/* Endpoint counters (monotonic); in addition to the generic nn_tp_stats. */
typedef struct nn_quic_stats {
	uint64_t rx_datagrams, tx_datagrams, rx_bytes_udp, tx_bytes_udp;
	uint64_t rx_syscalls, tx_syscalls;
	uint64_t rx_punch;         /* 4-byte punch datagrams, discarded */
	uint64_t rx_non_quic;      /* other datagrams without the QUIC fixed bit, discarded */
	uint64_t rx_garbage;       /* unparseable QUIC headers, bad Initials, short Initials */
	uint64_t rx_unknown_cid;   /* short-header packets for no connection */
	uint64_t rx_version_neg;   /* other QUIC versions (answered with Version Negotiation) */
	uint64_t rx_dropped_conn;  /* packets a connection rejected (undecryptable, ...) */
	uint64_t inbound_refused_global, inbound_refused_per_ip;
	uint64_t inbound_evicted;  /* silent conns closed to admit a validated newcomer at a cap */
	uint64_t retry_sent, retry_token_ok, retry_token_bad;
	uint64_t handshakes_ok, handshake_failed, handshake_timeout;
	uint64_t tls_released;     /* TLS objects freed once their handshake was confirmed */
	uint64_t tls_post_hs_dropped; /* CRYPTO data after that (e.g. a NewSessionTicket we never
				    * asked for): acknowledged by QUIC, ignored */
	uint64_t heap_trims;       /* freed handshake memory handed back (malloc_trim), 200 ms
				    * after the last handshake in progress ended */
	uint64_t pool_shed;        /* free pool buffers given back then (nn_pool_shed) */
	uint64_t tls_alerts_rx;    /* handshakes the peer aborted with a TLS alert */
	uint64_t cert_refused[NN_QUIC_CERT_VERDICTS]; /* by verdict ([0] unused) */
	uint64_t no_peer_cert, alpn_mismatch, id_mismatch;
	uint64_t idle_timeout, first_frame_timeout, send_stalled;
	uint64_t frame_too_big;    /* peer sent a length over 65,536 (or non-minimal) */
	uint64_t streams_reset;    /* extra streams the peer opened */
	uint64_t closed_by_peer, conn_errors;
	uint64_t punch_refused;    /* punch to an implausible address */
	uint64_t tx_version_neg;   /* Version Negotiation replies sent */
	uint64_t tx_stateless_reset; /* Stateless Resets sent for unknown short-header DCIDs */
	uint64_t stateless_limited; /* either reply suppressed by the rate limit */
	/* birthday probing (birthday.c) */
	uint64_t bday_attempts;    /* attempts started */
	uint64_t bday_sockets;     /* extra sockets opened */
	uint64_t bday_punch_tx;    /* punch datagrams sent from extra sockets */
	uint64_t bday_won;         /* a socket heard the other side: it carried the dial */
	uint64_t bday_gave_up;     /* attempts whose window passed without a winner */
	uint64_t bday_refused;     /* attempts refused: too many running, or no socket at all */
	uint64_t bday_rx_dropped;  /* datagrams on extra sockets that were not for them */
	/* media sessions (media.c) */
	uint64_t media_in, media_out;   /* sessions opened (reported), by direction */
	uint64_t media_unsupported;     /* sessions refused: no media ALPN at the peer, or DATAGRAM
					 * missing from a side's transport parameters (code 1) */
	uint64_t media_idle_reaped;     /* accepted sessions closed: nothing received for 10 s */
	uint64_t media_moved;           /* sessions we dialled migrated to their edge's new path */
	uint64_t media_move_failed;     /* migrations ngtcp2 refused (no spare connection ID,
					 * handshake not confirmed) */
	uint64_t media_dgram_tx;        /* datagrams handed to QUIC */
	uint64_t media_dgram_ring_full; /* send_datagram refused: ring full (NN_EAGAIN) */
	uint64_t media_dgram_send_failed; /* datagrams the pump could not send (too big for the
					 * path or the peer's limit, no pool buffer): dropped */
	uint64_t media_dgram_rx;        /* datagrams delivered */
	uint64_t media_dgram_rx_dropped; /* received datagrams dropped: empty, over 1,201 bytes,
					 * not on an open media session, no pool buffer */
	uint64_t media_msg_tx;          /* messages fully written and FIN'd */
	uint64_t media_msg_tx_stalled;  /* messages reset: write not done within 1 s */
	uint64_t media_msg_tx_eagain;   /* message sends refused: all slots busy */
	uint64_t media_msg_rx;          /* messages delivered */
	uint64_t media_msg_rx_oversize; /* incoming messages over 65,537 bytes (stream stopped) */
	uint64_t media_msg_rx_truncated; /* streams reset by the peer or empty at FIN */
	uint64_t media_msg_rx_timeout;  /* streams not finished within the 5 s read deadline */
	uint64_t media_msg_rx_no_slot;  /* streams stopped: all read slots busy, or no buffer */
	uint64_t overlay_dgram_dropped; /* DATAGRAM frames on overlay edges (not ours): dropped */
	/* relay volunteer (relay.c) */
	uint64_t relay_sessions;   /* sessions allocated */
	uint64_t relay_refused;    /* allocations refused: session cap (NN_EBUSY) or no socket */
	uint64_t relay_reaped;     /* sessions closed idle */
	uint64_t relay_rx;         /* datagrams received on relay sockets */
	uint64_t relay_fwd_pkts, relay_fwd_bytes; /* forwarded */
	uint64_t relay_shaped;     /* dropped by a shaper (session bytes / packets, aggregate) */
	uint64_t relay_foreign;    /* dropped: not from the side's pinned IP */
	uint64_t relay_unpinned;   /* dropped: the other side has not pinned yet */
	uint64_t relay_rebind;     /* pinned port changed (same IP): followed */
	uint64_t relay_garbage;    /* dropped: empty or oversized */
	uint64_t relay_tx_failed;  /* forwards the socket refused */
} nn_quic_stats;

/* Create an endpoint: binds the socket, makes a fresh TLS key and certificate for `id`.
 * clock must be an nn_evclock (transport/clock_ev.h); pool holds received frames.
 * Errors: NN_EINVAL, NN_EADDR (bad listen address), NN_EIO (socket), NN_ECRYPTO, NN_ENOMEM. */
int nn_quic_new(nn_tp **out, const nn_identity *id, nn_clock *clock, nn_pool *pool,
		const nn_quic_config *cfg);

const nn_quic_stats *nn_quic_stats_of(const nn_tp *tp);
/* The bound local address (port resolved). */
const nn_addr *nn_quic_local_addr(const nn_tp *tp);

/* Punch hook (also ops.punch): send 00 6E 70 01 from the shared socket to a literal,
 * plausible unicast IP:port. NN_EADDR for hostnames and for loopback, multicast, unspecified,
 * link-local and broadcast addresses (loopback only with punch_allow_loopback). */
int nn_quic_punch(nn_tp *tp, const nn_addr *to);
/* Relay/punch hook: dial `want` over the explicit 4-tuple (this endpoint's socket, `remote`),
 * e.g. the address a punch opened or a relay's allocation. Same completion as nn_tp_dial. */
int nn_quic_dial_tuple(nn_tp *tp, const nn_id *want, const nn_addr *remote, void *user);

/* Test hook: make the peer-facing side of c open `n` extra bidirectional streams, each carrying
 * one byte (a misbehaving peer). Returns how many were opened. */
int nn_quic_test_open_streams(nn_tp *tp, nn_conn *c, int n);
/* Test hook: the local ports of the extra sockets of the running birthday attempts (newest
 * first); returns how many there are. */
size_t nn_quic_test_birthday_ports(nn_tp *tp, uint16_t *out, size_t cap);
/* Test hook (media conns): send `len` bytes of `data` as one message without the size check
 * (an oversized message from a misbehaving peer). data must stay valid until the session
 * closes. */
int nn_quic_test_media_raw_msg(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len);
/* Test hook: the same, but the stream never gets its FIN (a sender that stops mid-message). */
int nn_quic_test_media_partial_msg(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len);
/* Test hooks: relay sessions open; datagrams session `id` forwarded from side 0 (A, caller)
 * or 1 (B, callee). */
size_t nn_quic_test_relay_sessions(nn_tp *tp);
uint64_t nn_quic_test_relay_forwarded(nn_tp *tp, uint64_t id, unsigned from_side);
/* Test hook: does c still hold its TLS object (freed once the handshake is confirmed)? */
bool nn_quic_test_has_tls(nn_tp *tp, nn_conn *c);
/* Test hook: start a QUIC key update on c (ngtcp2_conn_initiate_key_update); 0 or NN_E*. */
int nn_quic_test_key_update(nn_tp *tp, nn_conn *c);
/* Test hook: live TLS objects of the endpoint (connections still in their handshake). */
size_t nn_quic_test_tls_live(nn_tp *tp);
/* Test hook (process-wide): wolfSSL's allocation requests served without malloc since the
 * process started (its slabs and own pages, tls.c); tests/support's malloc counter adds them. */
uint64_t nn_quic_test_wolf_allocs(void);
/* Test hook (process-wide): bytes wolfSSL holds outside malloc (slab blocks and own pages,
 * headers included); a heap figure from mallinfo2 adds them. */
size_t nn_quic_test_wolf_bytes(void);
/* Test hook: send raw bytes as stream data on c's edge stream, bypassing the framing. */
int nn_quic_test_send_raw(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len);

#endif
