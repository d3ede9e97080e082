/* endpoint.c — the QUIC endpoint: construction and teardown, datagram dispatch (punch / garbage
 * / connection by DCID / new inbound connection behind caps and Retry), the dirty-connection
 * flush, and the nn_tp ops table (transport/transport.h). */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kad/nn_err.h"
#include "transport/clock_ev.h"
#include "transport/quic/internal.h"

void nn_quic_config_default(nn_quic_config *c)
{
	memset(c, 0, sizeof *c);
	c->max_inbound = 512;
	c->max_inbound_per_ip = 32;
	c->silent_evict_age = 2 * NN_SEC;
	c->handshake_timeout = 10 * NN_SEC;
	c->idle_timeout = NN_TP_IDLE_TIMEOUT;
	c->first_frame_timeout = 30 * NN_SEC;
	c->send_deadline = 5 * NN_SEC;
	c->send_queue_bytes = 1u << 20;
	c->send_queue_frames = 1024;
	c->retry_rate = 100;
	c->retry_burst = 200;
	c->retry_token_lifetime = 10 * NN_SEC;
	c->media_idle_timeout = NN_QUIC_MEDIA_IDLE;
	c->media_keepalive = NN_QUIC_MEDIA_KEEPALIVE;
	c->relay_max_sessions = 256;
	c->relay_idle = 30 * NN_SEC;
	c->relay_rate = 250000;
	c->relay_burst = 131072;
	c->relay_pkt_rate = 1000;
	c->relay_pkt_burst = 256;
	c->relay_agg_rate = 2000000;
	c->relay_agg_burst = 262144;
}

static void fill_defaults(nn_quic_config *c)
{
	nn_quic_config d;
	nn_quic_config_default(&d);
#define DEF(f) if (!c->f) c->f = d.f
	DEF(max_inbound);
	DEF(max_inbound_per_ip);
	DEF(silent_evict_age);
	DEF(handshake_timeout);
	DEF(idle_timeout);
	DEF(first_frame_timeout);
	DEF(send_deadline);
	DEF(send_queue_bytes);
	DEF(send_queue_frames);
	DEF(retry_rate);
	DEF(retry_burst);
	DEF(retry_token_lifetime);
	DEF(media_idle_timeout);
	DEF(media_keepalive);
	DEF(relay_max_sessions);
	DEF(relay_idle);
	DEF(relay_rate);
	DEF(relay_burst);
	DEF(relay_pkt_rate);
	DEF(relay_pkt_burst);
	DEF(relay_agg_rate);
	DEF(relay_agg_burst);
#undef DEF
	if (c->send_queue_bytes < 2 * (NN_QUIC_FRAME_MAX + NN_QUIC_FRAME_HDR_MAX))
		c->send_queue_bytes = 2 * (NN_QUIC_FRAME_MAX + NN_QUIC_FRAME_HDR_MAX);
	if (c->send_queue_frames < 2)
		c->send_queue_frames = 2;
}

nn_time nn_quic_now(nn_quic_ep *ep) { return nn_clock_now(ep->base.clock); }

void nn_quic_mark_dirty(nn_quic_conn *c)
{
	if (c->in_dirty)
		return;
	c->in_dirty = true;
	c->dirty_next = c->ep->dirty;
	c->ep->dirty = c;
}

void nn_quic_flush(nn_quic_ep *ep)
{
	for (int round = 0; round < 64 && ep->dirty && !ep->destroying; round++) {
		nn_quic_conn *list = ep->dirty;
		ep->dirty = NULL;
		while (list && !ep->destroying) {
			nn_quic_conn *c = list;
			list = c->dirty_next;
			c->in_dirty = false;
			c->dirty_next = NULL;
			nn_quic_conn_write(c);
			if (c->state == NN_QS_DEAD) {
				if (c->in_dirty) { /* re-marked by a callback: unlink first */
					nn_quic_conn **pp = &ep->dirty;
					while (*pp && *pp != c)
						pp = &(*pp)->dirty_next;
					if (*pp)
						*pp = c->dirty_next;
				}
				nn_quic_conn_reap(c);
			}
		}
	}
}

/* ---- inbound caps: silent connections make room ---- */

/* The oldest inbound connection (from `ip` when same_ip) that holds a cap slot, is not closing,
 * has not delivered its first frame and is at least silent_evict_age old; NULL if none. */
static nn_quic_conn *silent_victim(nn_quic_ep *ep, const uint8_t ip[16], bool same_ip)
{
	if (ep->cfg.silent_evict_age < 0)
		return NULL;
	nn_time cutoff = nn_quic_now(ep) - ep->cfg.silent_evict_age;
	nn_quic_conn *v = NULL;
	for (nn_quic_conn *c = ep->conns; c; c = c->next) {
		if (!c->inbound_counted || c->first_frame_seen || c->state >= NN_QS_CLOSING ||
		    c->born > cutoff || (same_ip && memcmp(c->ipkey, ip, 16) != 0))
			continue;
		if (!v || c->born < v->born)
			v = c;
	}
	return v;
}

/* A cap refused a new Initial (*which: 1 global, 2 per IP). Local policy: a connection that
 * never delivered a frame must not hold its slot for the whole first-frame timeout while a
 * newcomer waits, so the oldest such connection (of the same source for the per-IP cap) is
 * closed to admit the newcomer — but only a newcomer that proved its source address with a
 * Retry token, so spoofed Initials cannot evict anyone. Returns true when the newcomer holds a
 * slot now (*validated and *odcid then come from its token); false to refuse it (a Retry may
 * have been sent: its next Initial carries a token). */
static bool admit_by_eviction(nn_quic_ep *ep, const ngtcp2_pkt_hd *hd, const struct sockaddr *src,
			      socklen_t srclen, const uint8_t ip[16], int *which, ngtcp2_cid *odcid,
			      bool *validated)
{
	for (int round = 0; round < 2; round++) {
		nn_quic_conn *v = silent_victim(ep, ip, *which == 2);
		if (!v)
			return false;
		if (!*validated && !nn_quic_retry_gate(ep, hd, src, srclen, true, odcid, validated))
			return false;
		nn_quic_caps_release(&ep->caps, v->ipkey);
		v->inbound_counted = false;
		ep->st.inbound_evicted++;
		ngtcp2_ccerr_set_application_error(&v->ccerr, NN_TP_REASON_POLICY, NULL, 0);
		nn_quic_conn_fail(v, NN_ELIMIT, NN_TP_REASON_POLICY, true);
		if (nn_quic_caps_admit(&ep->caps, ip, which) == 0)
			return true;
	}
	return false;
}

/* ---- datagram dispatch ---- */

void nn_quic_ep_datagram(nn_quic_ep *ep, const uint8_t *d, size_t n, const struct sockaddr *src,
			 socklen_t srclen)
{
	if (n == 0) {
		ep->st.rx_non_quic++;
		return;
	}
	if (!(d[0] & 0x40)) { /* QUIC fixed bit clear: not ours (RFC 9000 §17) */
		if (n == NN_QUIC_PUNCH_LEN && !memcmp(d, NN_QUIC_PUNCH, NN_QUIC_PUNCH_LEN)) {
			ep->st.rx_punch++;
			ep->base.stats.punches_rx++;
		} else {
			ep->st.rx_non_quic++;
		}
		return;
	}
	ngtcp2_version_cid vc;
	int rv = ngtcp2_pkt_decode_version_cid(&vc, d, n, NN_QUIC_CIDLEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		ep->st.rx_version_neg++;
		nn_quic_send_version_negotiation(ep, &vc, n, src, srclen);
		return;
	}
	if (rv != 0) {
		ep->st.rx_garbage++;
		return;
	}
	nn_quic_conn *c = nn_quic_cidmap_get(&ep->cids, vc.dcid, vc.dcidlen);
	if (c) {
		nn_quic_conn_read(c, d, n, src, srclen);
		return;
	}
	if (!(d[0] & 0x80)) {
		ep->st.rx_unknown_cid++;
		nn_quic_send_stateless_reset(ep, vc.dcid, vc.dcidlen, n, src, srclen);
		return;
	}
	ngtcp2_pkt_hd hd;
	if (ngtcp2_accept(&hd, d, n) != 0 || hd.type != NGTCP2_PKT_INITIAL) {
		ep->st.rx_garbage++; /* not an Initial, or shorter than 1200 bytes */
		return;
	}
	/* admission before any per-connection allocation */
	uint8_t ip[16];
	nn_quic_ip_key(src, ip);
	ngtcp2_cid odcid;
	bool validated = false;
	int which = 0;
	if (nn_quic_caps_admit(&ep->caps, ip, &which) != 0 &&
	    !admit_by_eviction(ep, &hd, src, srclen, ip, &which, &odcid, &validated)) {
		if (which == 1)
			ep->st.inbound_refused_global++;
		else
			ep->st.inbound_refused_per_ip++;
		return;
	}
	if (!validated && !nn_quic_retry_gate(ep, &hd, src, srclen, false, &odcid, &validated)) {
		nn_quic_caps_release(&ep->caps, ip);
		return;
	}
	int err;
	c = nn_quic_conn_server(ep, &hd, validated ? &odcid : NULL, src, srclen, &err);
	if (!c) {
		nn_quic_caps_release(&ep->caps, ip);
		ep->st.conn_errors++;
		return;
	}
	c->inbound_counted = true;
	nn_quic_conn_read(c, d, n, src, srclen);
}

/* ---- libev glue ---- */

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	nn_quic_ep *ep = w->data;
	nn_quic_socket_read(ep);
}

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	nn_quic_flush(w->data);
}

/* ---- ops ---- */

static nn_quic_ep *EP(nn_tp *tp) { return (nn_quic_ep *)tp; }
static nn_quic_conn *QC(nn_conn *c) { return (nn_quic_conn *)c; }

static int dial_to(nn_quic_ep *ep, const nn_id *want, const nn_addr *addr, void *user)
{
	if (!want || !addr)
		return NN_EINVAL;
	if (!nn_addr_is_quic(addr))
		return NN_EUNSUPPORTED;
	struct sockaddr_storage ss;
	socklen_t len;
	if (nn_quic_sockaddr_for(ep, addr, &ss, &len) != 0)
		return NN_EADDR;
	int err;
	nn_quic_conn *c = nn_quic_conn_client(ep, want, (struct sockaddr *)&ss, len, addr, NULL,
					      user, NN_CONN_OVERLAY, &err);
	if (!c)
		return err;
	ep->base.stats.dials++;
	nn_quic_mark_dirty(c); /* the first flight goes out from the loop, not from this call */
	return 0;
}

static int op_dial(nn_tp *tp, const nn_id *want, const nn_addr *addr, void *user)
{
	return dial_to(EP(tp), want, addr, user);
}

int nn_quic_dial_tuple(nn_tp *tp, const nn_id *want, const nn_addr *remote, void *user)
{
	/* one socket per endpoint: the local half of the 4-tuple is always this socket */
	return dial_to(EP(tp), want, remote, user);
}

static int op_send(nn_tp *tp, nn_conn *c, const uint8_t *frame, size_t len)
{
	if (!c || (!frame && len))
		return NN_EINVAL;
	if (len == 0)
		return NN_EINVAL;
	if (c->kind == NN_CONN_MEDIA)
		return nn_quic_media_send_msg(QC(c), frame, len, false);
	if (len > NN_TP_MAX_FRAME) {
		tp->stats.tx_toobig++;
		return NN_ETOOBIG;
	}
	return nn_quic_stream_send(QC(c), frame, len, false);
}

static int op_close(nn_tp *tp, nn_conn *c, uint64_t reason)
{
	nn_quic_conn *qc = QC(c);
	if (qc->state >= NN_QS_CLOSING || qc->lingering)
		return NN_ECLOSED;
	ngtcp2_ccerr_set_application_error(&qc->ccerr, reason, NULL, 0);
	qc->flush_on_close = true; /* frames the sink queued go out first (transport.h) */
	if (qc->m && qc->state == NN_QS_OPEN && nn_quic_media_unacked(qc)) {
		/* a media session lingers the same way for its messages (media.c closes it when
		 * the last message stream is done) */
		qc->lingering = true;
		qc->linger_reason = reason;
		nn_timer_start_in(tp->clock, &qc->guard, NN_QUIC_LINGER);
		nn_quic_mark_dirty(qc);
		return 0;
	}
	if (qc->state == NN_QS_OPEN && qc->sid >= 0 && qc->q.end_off > qc->q.ack_off) {
		/* linger: the frames are sent and retransmitted until acknowledged (or for
		 * NN_QUIC_LINGER at most), then the close goes out */
		qc->lingering = true;
		qc->linger_reason = reason;
		nn_timer_start_in(tp->clock, &qc->guard, NN_QUIC_LINGER);
		nn_quic_mark_dirty(qc);
		return 0;
	}
	nn_quic_conn_fail(qc, 0, reason, true);
	return 0;
}

static size_t op_local_addrs(nn_tp *tp, nn_addr *out, size_t cap)
{
	if (cap)
		out[0] = EP(tp)->local_addr;
	return 1;
}

static size_t op_queued(nn_tp *tp, const nn_conn *c)
{
	if (c->kind == NN_CONN_MEDIA)
		return nn_quic_media_queued((const nn_quic_conn *)c);
	return nn_quic_sendq_unsent_frames(&((const nn_quic_conn *)c)->q);
}

static void op_destroy(nn_tp *tp)
{
	nn_quic_ep *ep = EP(tp);
	ep->destroying = true;
	for (nn_quic_conn *c = ep->conns; c; c = c->next)
		nn_quic_conn_goodbye(c); /* peers learn at once instead of at their idle timeout */
	while (ep->conns)
		nn_quic_conn_free(ep->conns);
	nn_quic_birthday_destroy(ep);
	nn_quic_relay_destroy(ep);
	if (ep->loop) {
		ev_io_stop(ep->loop, &ep->rio);
		ev_prepare_stop(ep->loop, &ep->prep);
	}
	nn_quic_socket_close(ep);
	nn_quic_tls_fini(ep);
	nn_quic_cidmap_fini(&ep->cids);
	nn_quic_caps_fini(&ep->caps);
	sodium_memzero(ep->secret, sizeof ep->secret);
	free(ep->tbuf);
	free(ep);
}

/* Plausible unicast for a punch (facts §7.4): not loopback, multicast, unspecified,
 * link-local or broadcast. */
bool nn_quic_punch_target_ok(const struct sockaddr *sa, bool allow_loopback)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		if (a == 0 || a == 0xffffffffu || (a >> 28) == 0xe || (a >> 16) == 0xa9fe)
			return false;
		if ((a >> 24) == 127)
			return allow_loopback;
		return true;
	}
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		struct sockaddr_in s4 = {.sin_family = AF_INET};
		memcpy(&s4.sin_addr, &a->s6_addr[12], 4);
		return nn_quic_punch_target_ok((struct sockaddr *)&s4, allow_loopback);
	}
	if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_MULTICAST(a) || IN6_IS_ADDR_LINKLOCAL(a))
		return false;
	if (IN6_IS_ADDR_LOOPBACK(a))
		return allow_loopback;
	return true;
}

int nn_quic_punch(nn_tp *tp, const nn_addr *to)
{
	nn_quic_ep *ep = EP(tp);
	struct sockaddr_storage ss;
	socklen_t len;
	if (!to || !nn_addr_is_quic(to) || nn_addr_to_sockaddr(to, &ss, &len) != 0 ||
	    !nn_quic_punch_target_ok((struct sockaddr *)&ss, ep->cfg.punch_allow_loopback) ||
	    nn_quic_sockaddr_for(ep, to, &ss, &len) != 0) {
		ep->st.punch_refused++;
		return NN_EADDR;
	}
	int rc = nn_quic_socket_send(ep, (struct sockaddr *)&ss, len,
				     (const uint8_t *)NN_QUIC_PUNCH, NN_QUIC_PUNCH_LEN,
				     NN_QUIC_PUNCH_LEN);
	if (rc == 0)
		ep->base.stats.punches_tx++;
	return rc;
}

/* ops.dial_media: a new QUIC connection with the media ALPN from this endpoint's socket to the
 * edge's observed remote address (the NAT mapping or relay pin the edge uses), expecting the
 * edge's NodeID. */
static int op_dial_media(nn_tp *tp, nn_conn *edge, void *user)
{
	nn_quic_ep *ep = EP(tp);
	if (!(tp->caps & NN_TP_CAP_MEDIA))
		return NN_EUNSUPPORTED;
	if (!edge || edge->tp != tp || edge->kind != NN_CONN_OVERLAY)
		return NN_EINVAL;
	nn_quic_conn *e = QC(edge);
	if (e->state != NN_QS_OPEN)
		return NN_ECLOSED;
	/* an edge that rides a birthday socket: the session still leaves from the endpoint's
	 * socket (that socket belongs to the edge's connection) */
	int err;
	nn_quic_conn *c = nn_quic_conn_client(ep, &edge->remote_id, (struct sockaddr *)&e->remote,
					      e->remote_len, &edge->remote_addr, NULL, user,
					      NN_CONN_MEDIA, &err);
	if (!c)
		return err;
	ep->base.stats.dials++;
	nn_quic_mark_dirty(c);
	return 0;
}

/* ops.move_media: the session we dialled migrates to the edge's path (media.c). */
static int op_move_media(nn_tp *tp, nn_conn *media, nn_conn *edge)
{
	if (!media || !edge || media->tp != tp || edge->tp != tp ||
	    media->kind != NN_CONN_MEDIA || edge->kind != NN_CONN_OVERLAY ||
	    memcmp(media->remote_id.b, edge->remote_id.b, sizeof media->remote_id.b))
		return NN_EINVAL;
	return nn_quic_media_move(QC(media), QC(edge));
}

static int op_send_datagram(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len)
{
	if (!c || c->kind != NN_CONN_MEDIA)
		return NN_EINVAL;
	return nn_quic_media_send_datagram(QC(c), data, len);
}

static void op_guard_stats(nn_tp *tp, nn_tp_guard *g)
{
	const nn_quic_stats *s = &EP(tp)->st;
	g->rx_garbage = s->rx_garbage + s->rx_non_quic;
	g->udp_tx = s->tx_datagrams;
	g->udp_tx_bytes = s->tx_bytes_udp;
	g->udp_rx = s->rx_datagrams;
	g->udp_rx_bytes = s->rx_bytes_udp;
	g->rx_unknown_conn = s->rx_unknown_cid;
	g->version_neg_tx = s->tx_version_neg;
	g->stateless_reset_tx = s->tx_stateless_reset;
	g->stateless_limited = s->stateless_limited;
	g->retry_tx = s->retry_sent;
	g->retry_token_bad = s->retry_token_bad;
	g->inbound_refused_global = s->inbound_refused_global;
	g->inbound_refused_per_ip = s->inbound_refused_per_ip;
	g->inbound_evicted = s->inbound_evicted;
	g->handshake_failed = s->handshake_failed;
	g->handshake_timeout = s->handshake_timeout;
	g->cert_missing = s->cert_refused[NN_QUIC_CERT_MISSING];
	g->cert_malformed = s->cert_refused[NN_QUIC_CERT_MALFORMED];
	g->cert_bad_length = s->cert_refused[NN_QUIC_CERT_BAD_LENGTH];
	g->cert_critical = s->cert_refused[NN_QUIC_CERT_CRITICAL];
	g->cert_bad_sig = s->cert_refused[NN_QUIC_CERT_BAD_SIG];
	g->no_peer_cert = s->no_peer_cert;
	g->alpn_mismatch = s->alpn_mismatch;
	g->id_mismatch = s->id_mismatch;
	g->first_frame_timeout = s->first_frame_timeout;
	g->frame_too_big = s->frame_too_big;
	g->streams_reset = s->streams_reset;
	g->send_stalled = s->send_stalled;
	g->idle_timeout = s->idle_timeout;
	g->birthday_sockets = s->bday_sockets;
	g->birthday_won = s->bday_won;
	g->birthday_gave_up = s->bday_gave_up;
	g->birthday_refused = s->bday_refused;
	g->relay_sessions = s->relay_sessions;
	g->relay_refused = s->relay_refused;
	g->relay_reaped = s->relay_reaped;
	g->relay_shaped = s->relay_shaped;
	g->relay_foreign = s->relay_foreign;
	g->relay_unpinned = s->relay_unpinned;
	g->relay_other_drops = s->relay_garbage + s->relay_tx_failed;
#define NN_QUIC_GUARD_SAME_(name) g->name = s->name;
	NN_QUIC_GUARD_SAME_(media_in)
	NN_QUIC_GUARD_SAME_(media_out)
	NN_QUIC_GUARD_SAME_(media_unsupported)
	NN_QUIC_GUARD_SAME_(media_idle_reaped)
	NN_QUIC_GUARD_SAME_(media_moved)
	NN_QUIC_GUARD_SAME_(media_move_failed)
	NN_QUIC_GUARD_SAME_(media_dgram_tx)
	NN_QUIC_GUARD_SAME_(media_dgram_ring_full)
	NN_QUIC_GUARD_SAME_(media_dgram_send_failed)
	NN_QUIC_GUARD_SAME_(media_dgram_rx)
	NN_QUIC_GUARD_SAME_(media_dgram_rx_dropped)
	NN_QUIC_GUARD_SAME_(media_msg_tx)
	NN_QUIC_GUARD_SAME_(media_msg_tx_stalled)
	NN_QUIC_GUARD_SAME_(media_msg_tx_eagain)
	NN_QUIC_GUARD_SAME_(media_msg_rx)
	NN_QUIC_GUARD_SAME_(media_msg_rx_oversize)
	NN_QUIC_GUARD_SAME_(media_msg_rx_truncated)
	NN_QUIC_GUARD_SAME_(media_msg_rx_timeout)
	NN_QUIC_GUARD_SAME_(media_msg_rx_no_slot)
	NN_QUIC_GUARD_SAME_(overlay_dgram_dropped)
#undef NN_QUIC_GUARD_SAME_
}

static const nn_tp_ops quic_ops = {
	.name = "quic",
	.dial = op_dial,
	.send = op_send,
	.close = op_close,
	.local_addrs = op_local_addrs,
	.queued = op_queued,
	.destroy = op_destroy,
	.punch = nn_quic_punch,
	.guard_stats = op_guard_stats,
	.birthday = nn_quic_birthday,
	.dial_media = op_dial_media,
	.move_media = op_move_media,
	.send_datagram = op_send_datagram,
	.relay_alloc = nn_quic_relay_alloc,
	.relay_free = nn_quic_relay_free,
};

int nn_quic_new(nn_tp **out, const nn_identity *id, nn_clock *clock, nn_pool *pool,
		const nn_quic_config *cfg)
{
	if (!out || !id || !clock || !pool || !nn_clock_is_ev(clock))
		return NN_EINVAL;
	*out = NULL;
	if (sodium_init() < 0)
		return NN_ECRYPTO;
	nn_quic_ep *ep = calloc(1, sizeof *ep);
	if (!ep)
		return NN_ENOMEM;
	ep->fd = -1;
	ep->base.ops = &quic_ops;
	ep->base.clock = clock;
	ep->base.pool = pool;
	ep->base.local_id = id->id;
	ep->base.caps =
		NN_TP_CAP_PUNCH | NN_TP_CAP_IP_ADDRESSED | NN_TP_CAP_BIRTHDAY | NN_TP_CAP_RELAY;
	if (cfg)
		ep->cfg = *cfg;
	if (!ep->cfg.no_media)
		ep->base.caps |= NN_TP_CAP_MEDIA;
	fill_defaults(&ep->cfg);
	ep->loop = nn_evclock_loop(clock);
	randombytes_buf(ep->secret, sizeof ep->secret);
	uint8_t key[16];
	randombytes_buf(key, sizeof key);
	nn_tbucket_init(&ep->hs_bucket, ep->cfg.retry_rate, ep->cfg.retry_burst);
	nn_tbucket_init(&ep->stateless_bucket, 200, 200);
	nn_quic_callbacks_init(ep);
	nn_quic_relay_init(ep);
	nn_quic_tls_timer_init(ep);
	int rc = NN_ENOMEM;
	ep->tbuf = malloc(NN_QUIC_GSO_MAX * NN_QUIC_TX_BUFSZ + NN_QUIC_TX_BUFSZ);
	if (!ep->tbuf || nn_quic_cidmap_init(&ep->cids, key) != 0 ||
	    nn_quic_caps_init(&ep->caps, ep->cfg.max_inbound, ep->cfg.max_inbound_per_ip) != 0)
		goto fail;
	if ((rc = nn_quic_tls_init(ep, id)) != 0)
		goto fail;
	if ((rc = nn_quic_socket_open(ep, ep->cfg.listen)) != 0)
		goto fail;
	ev_io_init(&ep->rio, io_cb, ep->fd, EV_READ);
	ep->rio.data = ep;
	ev_io_start(ep->loop, &ep->rio);
	ev_prepare_init(&ep->prep, prepare_cb);
	ep->prep.data = ep;
	ev_prepare_start(ep->loop, &ep->prep);
	*out = &ep->base;
	return 0;
fail:
	op_destroy(&ep->base);
	return rc;
}

const nn_quic_stats *nn_quic_stats_of(const nn_tp *tp) { return &((const nn_quic_ep *)tp)->st; }

const nn_addr *nn_quic_local_addr(const nn_tp *tp)
{
	return &((const nn_quic_ep *)tp)->local_addr;
}

int nn_quic_test_open_streams(nn_tp *tp, nn_conn *conn, int n)
{
	nn_quic_conn *c = QC(conn);
	int opened = 0;
	static const uint8_t one = 0x01;
	for (int i = 0; i < n && c->state == NN_QS_OPEN; i++) {
		int64_t sid;
		if (ngtcp2_conn_open_bidi_stream(c->qc, &sid, NULL) != 0)
			break;
		ngtcp2_vec v = {.base = (uint8_t *)&one, .len = 1};
		ngtcp2_ssize nd;
		ngtcp2_pkt_info pi;
		ngtcp2_ssize w = ngtcp2_conn_writev_stream(
			c->qc, &c->ps.path, &pi, c->ep->tbuf, NGTCP2_MAX_UDP_PAYLOAD_SIZE, &nd,
			NGTCP2_WRITE_STREAM_FLAG_FIN, sid, &v, 1, (ngtcp2_tstamp)nn_quic_now(c->ep));
		if (w > 0)
			nn_quic_conn_send(c, c->ep->tbuf, (size_t)w, (size_t)w);
		opened++;
	}
	nn_quic_mark_dirty(c);
	return opened;
}

int nn_quic_test_media_raw_msg(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len)
{
	if (!c || c->kind != NN_CONN_MEDIA)
		return NN_EINVAL;
	return nn_quic_media_send_msg(QC(c), data, len, true);
}

int nn_quic_test_media_partial_msg(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len)
{
	int rc = nn_quic_test_media_raw_msg(tp, c, data, len);
	nn_quic_media *m = QC(c)->m;
	for (int i = 0; rc == 0 && i < NN_QUIC_MEDIA_TX_MSGS; i++)
		if (m->tx[i].used && m->tx[i].ext == data && !m->tx[i].nofin) {
			m->tx[i].nofin = true;
			m->tx[i].deadline = INT64_MAX; /* our own write deadline never fires */
			break;
		}
	return rc;
}

int nn_quic_test_send_raw(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len)
{
	return nn_quic_stream_send(QC(c), data, len, true);
}

bool nn_quic_test_has_tls(nn_tp *tp, nn_conn *c)
{
	(void)tp;
	return QC(c)->ssl != NULL;
}

int nn_quic_test_key_update(nn_tp *tp, nn_conn *c)
{
	nn_quic_ep *ep = (nn_quic_ep *)tp;
	nn_quic_conn *qc = QC(c);
	if (qc->state != NN_QS_OPEN)
		return NN_ECLOSED;
	if (ngtcp2_conn_initiate_key_update(qc->qc, (ngtcp2_tstamp)nn_quic_now(ep)) != 0)
		return NN_EAGAIN;
	nn_quic_mark_dirty(qc);
	nn_quic_flush(ep);
	return 0;
}

size_t nn_quic_test_tls_live(nn_tp *tp)
{
	nn_quic_ep *ep = (nn_quic_ep *)tp;
	size_t n = 0;
	for (nn_quic_conn *c = ep->conns; c; c = c->next)
		n += c->ssl != NULL;
	return n;
}
