/* transport.h — the one polymorphic boundary between the node and a transport (mem, QUIC).
 *
 * A transport endpoint (nn_tp) has a local NodeID and addresses, dials NodeIDs at addresses, and
 * reports authenticated connections (nn_conn) to an event sink the node installs. Edges are
 * bidirectional: a connection we dialled carries frames both ways, exactly like one we accepted.
 * There is no accept call: an inbound connection appears through sink.on_conn.
 *
 * Rules (verifiable tier unless marked):
 * - Authentication (protocol): on_conn is only reported once the remote NodeID is proven
 *   (QUIC: TLS handshake confirmed + certificate extension verified). A dial whose peer proves
 *   a different NodeID fails with NN_EIDMISMATCH, distinct from every other failure.
 * - One frame per send, whole frame <= NN_TP_MAX_FRAME (65,536) bytes (a media conn's frame is
 *   one media message, <= NN_TP_MAX_MEDIA_MSG = 65,537 bytes), else NN_ETOOBIG; an
 *   empty frame is NN_EINVAL. Frames arrive intact, each once, in send order per connection.
 * - Send never blocks and never takes ownership: it copies the bytes into its own bounded
 *   per-connection queue before returning (the caller may reuse/patch its buffer at once, e.g.
 *   retry over another edge), or returns NN_EAGAIN when that queue is full (backpressure,
 *   counted in stats.tx_eagain; on_writable follows once the queue drained to half),
 *   NN_ELIMIT when a transport-wide buffer cap is exhausted (no on_writable follows; the frame
 *   is dropped and counted), or NN_ECLOSED after close. A queue that stays full (no
 *   progress) past the transport's deadline closes the connection: that send returns
 *   NN_ETIMEDOUT and on_closed follows with NN_ETIMEDOUT / NN_TP_REASON_STALLED (local
 *   policy: the deadline).
 * - Received frames are lent: on_frame gets `nn_pkt **pkt`, a pooled buffer valid only for the
 *   duration of the call. To keep it, the callback takes ownership by setting *pkt = NULL and
 *   later calls nn_pkt_release() once (or passes it on). It may also forward straight from it:
 *   patch bytes in place (the TTL) and nn_tp_send() it on another connection, since send copies.
 * - Dial and close complete asynchronously, never from inside the call: dial returns 0
 *   ("in progress") or an immediate error (bad address, unsupported net); then exactly one of
 *   on_conn (success; conn->user = the dial's user pointer) or on_dial_failed follows.
 * - Lifetime: a connection is valid from on_conn until on_closed returns, and on_closed is
 *   reported exactly once per reported connection, for local closes too (err 0), after close()
 *   returned. Sends between close() and on_closed return NN_ECLOSED. Frames a send accepted
 *   before close() still reach the peer ahead of the close (QUIC lingers up to 1 s sending and
 *   retransmitting them until acknowledged, delivering nothing more, then sends its
 *   CONNECTION_CLOSE; mem delivers them before the close marker), so a last word such as a Referral reaches the peer. Destroying
 *   the transport
 *   frees every connection and pending dial without calling the sink (peers see a close);
 *   never destroy a transport from inside one of its own callbacks.
 * - Optional capabilities are flags in tp->caps, with ops that may be NULL; the nn_tp_*
 *   wrappers return NN_EUNSUPPORTED for a missing op.
 * - Defensive counters (local policy): what a transport refused or dropped on its own, before
 *   the node saw anything (garbage datagrams, refused certificates, Retry, caps, oversized
 *   frames, ...), plus its media-session counters, reported through the optional
 *   ops.guard_stats in transport-neutral names (nn_tp_guard); what a transport does not keep
 *   reads zero (mem keeps only media counters).
 *
 * Threading: everything runs on the thread of the transport's clock loop (transport/clock.h);
 * no call here is thread-safe; callbacks must not block. Callbacks may call back into the
 * transport (send, close, dial) — implementations must tolerate that re-entrance.
 */
#ifndef NN_TRANSPORT_H
#define NN_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/kad.h"
#include "kad/nn_err.h"
#include "transport/addr.h"
#include "transport/clock.h"
#include "transport/pool.h"

#define NN_TP_MAX_FRAME 65536u /* == NN_WIRE_MAX_FRAME */
/* An overlay connection that carries nothing is closed by the transport after this long by
 * default (QUIC's max_idle_timeout; the lesser of both ends' applies): longer than the longest
 * silence the node lets a live edge have before it calls the edge dead (node/keepalive.c checks
 * it at compile time), so the transport never closes an edge both nodes still count as live. */
#define NN_TP_IDLE_TIMEOUT (900 * NN_SEC)

typedef struct nn_tp nn_tp;
typedef struct nn_conn nn_conn;
typedef struct nn_tp_guard nn_tp_guard;

/* Capability flags (tp->caps). */
enum nn_tp_cap {
	NN_TP_CAP_PUNCH = 1u << 0,       /* ops.punch: raw punch datagram to an address */
	NN_TP_CAP_RELAY = 1u << 1,       /* ops.relay_alloc/relay_free: volunteer relay splices */
	NN_TP_CAP_MEDIA = 1u << 2,       /* ops.dial_media + ops.send_datagram: media sessions */
	NN_TP_CAP_IP_ADDRESSED = 1u << 3, /* addresses are real IP:port (subnet accounting) */
	NN_TP_CAP_BIRTHDAY = 1u << 4     /* ops.birthday: extra sockets for birthday probing */
};

enum nn_conn_kind {
	NN_CONN_OVERLAY = 0, /* overlay edge: frames are wire frames (wire/wire.h) */
	NN_CONN_MEDIA = 1    /* media session: frames are media messages, plus datagrams */
};

/* Close reasons (the application close code on the wire; QUIC sends it). */
enum nn_tp_reason {
	NN_TP_REASON_NORMAL = 0,      /* normal teardown (protocol: code 0) */
	NN_TP_REASON_UNSUPPORTED = 1, /* media refused (protocol: code 1) */
	NN_TP_REASON_IDMISMATCH = 2,  /* peer is not the NodeID we dialled */
	NN_TP_REASON_STALLED = 3,     /* send queue stuck full past its deadline */
	NN_TP_REASON_POLICY = 4       /* admission refused, caps, shutdown */
};

/* A connection. Implementations embed it first in their own struct and own the memory; the node
 * reads the fields and may use `user`. */
struct nn_conn {
	nn_tp *tp;            /* transport it belongs to */
	nn_id remote_id;      /* authenticated remote NodeID */
	uint8_t remote_ed_pub[32]; /* its Ed25519 key, remote_id = BLAKE2b(it); zero if unknown */
	nn_addr remote_addr;  /* observed: the dialled address (outbound) or the source (inbound) */
	bool outbound;        /* true if we dialled it */
	uint8_t kind;         /* enum nn_conn_kind */
	void *user;           /* node's slot; the dial's user pointer for outbound conns */
	uint64_t serial;      /* 1, 2, ... per transport instance: stable in traces */
	nn_time rtt;          /* smoothed round-trip time as the transport measures it, 0 = none yet */
	/* counters (monotonic) */
	uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes, tx_eagain;
};

/* The event sink the node installs (nn_tp_set_sink). All callbacks optional (NULL = ignore). */
typedef struct nn_tp_sink {
	void *ctx;
	/* New authenticated connection, inbound or outbound (see conn->outbound, conn->user). */
	void (*on_conn)(void *ctx, nn_conn *c);
	/* A dial failed: NN_EIDMISMATCH (someone else answered), NN_EUNREACH, NN_ETIMEDOUT,
	 * NN_EUNSUPPORTED (media refused), NN_ETLS, NN_EREFUSED, ... `user` is the dial's. */
	void (*on_dial_failed)(void *ctx, void *user, const nn_id *want, const nn_addr *addr,
			       int err);
	/* One whole frame (or media message). *pkt is lent for the call: see the rules above. */
	void (*on_frame)(void *ctx, nn_conn *c, nn_pkt **pkt);
	/* One media datagram (media conns only), same lending rules. (*pkt)->at is its receive
	 * timestamp on tp->clock: when the transport read it (QUIC: the socket read that returned
	 * it; mem: its arrival), which may be earlier than now. */
	void (*on_datagram)(void *ctx, nn_conn *c, nn_pkt **pkt);
	/* The send queue drained to half after an NN_EAGAIN on c. */
	void (*on_writable)(void *ctx, nn_conn *c);
	/* c is gone after this returns. err: 0 = we closed it (reason = ours); NN_ECLOSED = the peer
	 * closed it (reason = its code); NN_ETIMEDOUT (idle / stalled), NN_EIO, ... otherwise. */
	void (*on_closed)(void *ctx, nn_conn *c, int err, uint64_t reason);
} nn_tp_sink;

/* Relay allocation (NN_TP_CAP_RELAY): two addresses on the volunteer; `a` faces the caller,
 * `b` the callee. */
typedef struct nn_tp_relay {
	uint64_t id;
	nn_addr a, b;
} nn_tp_relay;

typedef struct nn_tp_ops {
	const char *name; /* "mem", "quic" */
	/* Dial `want` at `addr`; completion via the sink. */
	int (*dial)(nn_tp *tp, const nn_id *want, const nn_addr *addr, void *user);
	int (*send)(nn_tp *tp, nn_conn *c, const uint8_t *frame, size_t len);
	int (*close)(nn_tp *tp, nn_conn *c, uint64_t reason);
	/* Copy up to cap local addresses into out; returns how many there are in total. */
	size_t (*local_addrs)(nn_tp *tp, nn_addr *out, size_t cap);
	/* Frames queued on c and not yet handed to the network (for stats / pacing). */
	size_t (*queued)(nn_tp *tp, const nn_conn *c);
	void (*destroy)(nn_tp *tp);
	/* ---- optional (NULL = unsupported) ---- */
	int (*punch)(nn_tp *tp, const nn_addr *to);
	int (*relay_alloc)(nn_tp *tp, nn_tp_relay *out);
	int (*relay_free)(nn_tp *tp, uint64_t id);
	/* Open a media session to the peer of overlay edge `edge` (same observed address);
	 * completion via on_conn (kind NN_CONN_MEDIA) or on_dial_failed (NN_EUNSUPPORTED if the
	 * peer has no media). */
	int (*dial_media)(nn_tp *tp, nn_conn *edge, void *user);
	/* Move the media session `media` (one this side dialled) onto the path of overlay edge
	 * `edge` to the same peer (the edge moved, e.g. off a relay): the session, its streams and
	 * what is in flight on them stay; datagrams in flight on the old path may be lost. 0, or
	 * NN_EUNSUPPORTED when the transport cannot move a session (it stays where it is). */
	int (*move_media)(nn_tp *tp, nn_conn *media, nn_conn *edge);
	/* One unreliable datagram on a media conn: <= NN_TP_MAX_DGRAM bytes (else NN_ETOOBIG); may
	 * be lost or reordered; never blocks (NN_EAGAIN when the ring is full). */
	int (*send_datagram)(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len);
	/* Copy the defensive counters (nn_tp_guard, below) into *out. */
	void (*guard_stats)(nn_tp *tp, nn_tp_guard *out);
	/* Birthday probing, the side behind an endpoint-dependent (symmetric) NAT: open up to
	 * `sockets` extra sockets (the transport caps it), send punch datagrams from each to every
	 * address of peers[0..npeers) (a mapping per socket), and when one of them hears a punch
	 * from one of those addresses within `window`, dial `want` from that socket to that address
	 * (the 4-tuple the other side's probe opened) and close the others. Completion like dial:
	 * on_conn (user) or on_dial_failed (NN_ETIMEDOUT: no socket won in time). NN_ELIMIT when
	 * too many attempts run. */
	int (*birthday)(nn_tp *tp, const nn_id *want, const nn_addr *peers, size_t npeers,
			unsigned sockets, nn_time window, void *user);
} nn_tp_ops;

#define NN_TP_MAX_DGRAM 1201u /* media frame: channel byte + 1200 payload */
#define NN_TP_MAX_MEDIA_MSG 65537u /* media message: channel byte + 65,536 payload */

/* Endpoint counters (monotonic), kept by every implementation. */
typedef struct nn_tp_stats {
	uint64_t dials, dial_failed, dial_idmismatch;
	uint64_t conns_in, conns_out, closed;
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t tx_eagain;  /* sends refused for a full queue (backpressure) */
	uint64_t tx_toobig;  /* sends refused for size */
	uint64_t tx_dropped; /* frames the network lost (partition, closing peer) */
	uint64_t dgram_tx, dgram_rx, dgram_dropped, punches_tx, punches_rx;
} nn_tp_stats;

/* Defensive and media counters (monotonic): X(name, description). The node copies each into
 * its own stats as tp_<name> (node/nodenet.h NN_NODE_STATS, same relative order; the copy in node/log.c
 * does not compile when a name is missing there). The media_* ones and overlay_dgram_dropped
 * are the transport's view of media sessions (QUIC: nn_quic_stats; mem fills the ones it
 * models); the node's own per-session view is nn_media_stats. */
#define NN_TP_GUARD_STATS(X)                                                                 \
	X(rx_garbage, "datagrams dropped unparsed: not QUIC, bad headers, short Initials")     \
	X(rx_unknown_conn, "packets for no connection we have")                               \
	X(version_neg_tx, "Version Negotiation replies sent (other protocol versions)")       \
	X(stateless_reset_tx, "Stateless Resets sent for unknown connections")                 \
	X(stateless_limited, "Version Negotiation / Stateless Reset replies rate-limited")     \
	X(retry_tx, "Retry packets sent (address validation under handshake load or at a cap)") \
	X(retry_token_bad, "Initials with an invalid or expired Retry token")                 \
	X(inbound_refused_global, "inbound handshakes refused: global connection cap")        \
	X(inbound_refused_per_ip, "inbound handshakes refused: per-source-IP connection cap")  \
	X(inbound_evicted, "silent inbound connections closed to admit a validated newcomer")  \
	X(handshake_failed, "handshakes that failed (any reason)")                            \
	X(handshake_timeout, "handshakes that did not finish in time")                       \
	X(cert_missing, "peer certificates without the NodeID extension")                    \
	X(cert_malformed, "peer certificates that do not parse")                             \
	X(cert_bad_length, "peer certificates whose extension is not 96 bytes")              \
	X(cert_critical, "peer certificates whose extension is marked critical")             \
	X(cert_bad_sig, "peer certificates whose extension signature fails")                 \
	X(no_peer_cert, "handshakes without a client certificate")                           \
	X(alpn_mismatch, "handshakes with a foreign ALPN")                                   \
	X(id_mismatch, "dials answered by another NodeID")                                   \
	X(first_frame_timeout, "accepted connections silent past the first-frame timeout")   \
	X(frame_too_big, "connections closed for a frame length over 65,536")                \
	X(streams_reset, "extra streams a peer opened, reset")                               \
	X(send_stalled, "connections closed for a send queue stuck past its deadline")        \
	X(idle_timeout, "connections closed by the idle timeout")                            \
	X(birthday_sockets, "birthday probing: extra sockets opened")                        \
	X(birthday_won, "birthday probing: a socket heard the peer and carried the dial")   \
	X(birthday_gave_up, "birthday probing: attempts with no winner in their window")    \
	X(birthday_refused, "birthday probing: attempts refused (too many running, no socket)") \
	X(relay_sessions, "relay volunteer: sessions allocated")                             \
	X(relay_refused, "relay volunteer: allocations refused (session cap, no socket)")    \
	X(relay_reaped, "relay volunteer: sessions closed after 30 s without forwarding")    \
	X(relay_shaped, "relay volunteer: datagrams dropped by a shaper (session, aggregate)") \
	X(relay_foreign, "relay volunteer: datagrams dropped: not from the pinned host")     \
	X(relay_unpinned, "relay volunteer: datagrams dropped: other side not pinned yet")    \
	X(relay_other_drops, "relay volunteer: datagrams dropped: empty, oversized, send failed") \
	X(media_in, "media sessions accepted by the transport (reported to the node)")       \
	X(media_out, "media sessions dialled that came up")                                  \
	X(media_unsupported, "media sessions refused: the peer has no media or no DATAGRAM")  \
	X(media_idle_reaped, "accepted media sessions closed: nothing received for 10 s")    \
	X(media_moved, "media sessions dialled that migrated to their edge's new path")      \
	X(media_move_failed, "media session migrations refused (no spare connection ID)")   \
	X(media_dgram_tx, "media datagrams handed to the network")                           \
	X(media_dgram_ring_full, "media datagram sends refused: send ring full (NN_EAGAIN)") \
	X(media_dgram_send_failed, "media datagrams dropped at send: too big for the path")  \
	X(media_dgram_rx, "media datagrams received and handed to the node")                 \
	X(media_dgram_rx_dropped, "media datagrams dropped at receive: empty, oversized, late") \
	X(media_msg_tx, "media messages fully written (FIN)")                                \
	X(media_msg_tx_stalled, "media messages reset: write not done within 1 s")           \
	X(media_msg_tx_eagain, "media message sends refused: all send slots busy")           \
	X(media_msg_rx, "media messages received whole and handed to the node")              \
	X(media_msg_rx_oversize, "media messages stopped: over 65,537 bytes")                \
	X(media_msg_rx_truncated, "media messages reset by the peer or empty at FIN")         \
	X(media_msg_rx_timeout, "media messages not finished within the 5 s read deadline")   \
	X(media_msg_rx_no_slot, "media messages stopped: all read slots busy, or no buffer")  \
	X(overlay_dgram_dropped, "datagrams arriving on overlay edges (not media): dropped") \
	X(udp_tx, "UDP datagrams sent (all traffic: the idle-cost benchmark reads it)")         \
	X(udp_tx_bytes, "UDP payload bytes sent")                                            \
	X(udp_rx, "UDP datagrams received")                                                  \
	X(udp_rx_bytes, "UDP payload bytes received")

struct nn_tp_guard {
#define NN_TP_GUARD_FIELD_(name, desc) uint64_t name;
	NN_TP_GUARD_STATS(NN_TP_GUARD_FIELD_)
#undef NN_TP_GUARD_FIELD_
};

/* Base struct; implementations embed it first. */
struct nn_tp {
	const nn_tp_ops *ops;
	nn_clock *clock; /* loop and time source; not owned */
	nn_pool *pool;   /* receive buffers; not owned */
	nn_id local_id;
	uint32_t caps;
	nn_tp_sink sink;
	nn_tp_stats stats;
};

/* Install (copy) the sink; do it before the first dial or inbound connection. */
static inline void nn_tp_set_sink(nn_tp *tp, const nn_tp_sink *s) { tp->sink = *s; }

static inline int nn_tp_dial(nn_tp *tp, const nn_id *want, const nn_addr *addr, void *user)
{
	return tp->ops->dial(tp, want, addr, user);
}
static inline int nn_tp_send(nn_tp *tp, nn_conn *c, const uint8_t *frame, size_t len)
{
	/* a media conn's frame is one media message: channel byte + up to 65,536 payload */
	if (len > (c && c->kind == NN_CONN_MEDIA ? NN_TP_MAX_MEDIA_MSG : NN_TP_MAX_FRAME)) {
		tp->stats.tx_toobig++;
		return NN_ETOOBIG;
	}
	return tp->ops->send(tp, c, frame, len);
}
static inline int nn_tp_close(nn_tp *tp, nn_conn *c, uint64_t reason)
{
	return tp->ops->close(tp, c, reason);
}
static inline size_t nn_tp_local_addrs(nn_tp *tp, nn_addr *out, size_t cap)
{
	return tp->ops->local_addrs(tp, out, cap);
}
static inline size_t nn_tp_queued(nn_tp *tp, const nn_conn *c)
{
	return tp->ops->queued ? tp->ops->queued(tp, c) : 0;
}
static inline void nn_tp_destroy(nn_tp *tp)
{
	if (tp)
		tp->ops->destroy(tp);
}
static inline int nn_tp_punch(nn_tp *tp, const nn_addr *to)
{
	return tp->ops->punch ? tp->ops->punch(tp, to) : NN_EUNSUPPORTED;
}
static inline int nn_tp_relay_alloc(nn_tp *tp, nn_tp_relay *out)
{
	return tp->ops->relay_alloc ? tp->ops->relay_alloc(tp, out) : NN_EUNSUPPORTED;
}
static inline int nn_tp_relay_free(nn_tp *tp, uint64_t id)
{
	return tp->ops->relay_free ? tp->ops->relay_free(tp, id) : NN_EUNSUPPORTED;
}
static inline int nn_tp_dial_media(nn_tp *tp, nn_conn *edge, void *user)
{
	return tp->ops->dial_media ? tp->ops->dial_media(tp, edge, user) : NN_EUNSUPPORTED;
}
static inline int nn_tp_move_media(nn_tp *tp, nn_conn *media, nn_conn *edge)
{
	return tp->ops->move_media ? tp->ops->move_media(tp, media, edge) : NN_EUNSUPPORTED;
}
/* The transport's defensive counters; all zero when it keeps none. */
static inline int nn_tp_birthday(nn_tp *tp, const nn_id *want, const nn_addr *peers,
				 size_t npeers, unsigned sockets, nn_time window, void *user)
{
	return tp->ops->birthday ? tp->ops->birthday(tp, want, peers, npeers, sockets, window, user)
				 : NN_EUNSUPPORTED;
}
static inline void nn_tp_guard_stats(nn_tp *tp, nn_tp_guard *out)
{
	*out = (nn_tp_guard){0};
	if (tp->ops->guard_stats)
		tp->ops->guard_stats(tp, out);
}
static inline int nn_tp_send_datagram(nn_tp *tp, nn_conn *c, const uint8_t *d, size_t len)
{
	if (!tp->ops->send_datagram)
		return NN_EUNSUPPORTED;
	if (len > NN_TP_MAX_DGRAM)
		return NN_ETOOBIG;
	return tp->ops->send_datagram(tp, c, d, len);
}

/* ---- helpers for implementations (transport/tp.c) ----
 * Deliver a received frame held in *pkt to the sink, update counters, and release the packet
 * unless the callback took it. */
void nn_tp_deliver_frame(nn_tp *tp, nn_conn *c, nn_pkt *pkt);
void nn_tp_deliver_datagram(nn_tp *tp, nn_conn *c, nn_pkt *pkt);

#endif
