/* media.c — media sessions on QUIC (ALPN "nodenet-media/1", facts §7.6): the datagram ring and
 * its pump, messages as one unidirectional stream each (send slots with a write deadline,
 * bounded read slots with a read deadline), and the accepted side's idle reaper.
 *
 * Datagrams: send_datagram copies the media frame into a pooled buffer in a 64-slot ring and
 * returns; a full ring is NN_EAGAIN (backpressure, counted). The write path (conn.c) drains the
 * ring ahead of stream data, one DATAGRAM frame per media frame; a frame the path or the peer
 * cannot carry is dropped and counted, never closing the session. Received DATAGRAM frames go to
 * the sink's on_datagram in a pooled, lent buffer with pkt->at = the receive time (when the
 * socket read that returned the packet finished: one clock reading per recvmmsg batch).
 * Messages: nn_tp_send on a media conn = one new uni stream carrying the bytes then FIN. At most
 * NN_QUIC_MEDIA_TX_MSGS are in flight (then NN_EAGAIN, on_writable when a slot frees); a write
 * not finished (all bytes + FIN handed to QUIC) within 1 s is reset with stream error 1 and
 * counted. Streams are independent, so a flow-control-blocked message holds up no other.
 * Incoming uni streams are read to FIN through msgasm.h (<= 65,537 bytes, 5 s deadline, at most
 * NN_QUIC_MEDIA_RX_MSGS at once); oversized, truncated, reset, late or slot-less messages are
 * stopped (STOP_SENDING, code 3), dropped and counted; whole ones reach on_frame (pkt->at =
 * when the FIN arrived). Channels are not checked here (the node does, transport/media.h).
 * Steady state allocates nothing: all buffers are pool packets, slots are fixed arrays. */
#include <stdlib.h>
#include <string.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"
#include "transport/quic/msgasm.h"

static nn_quic_media *M(nn_quic_conn *c) { return c->m; }

static void tick_cb(nn_timer *t, void *arg);

int nn_quic_media_attach(nn_quic_conn *c)
{
	if (c->m)
		return 0;
	c->m = calloc(1, sizeof *c->m);
	if (!c->m)
		return NN_ENOMEM;
	for (int i = 0; i < NN_QUIC_MEDIA_TX_MSGS; i++)
		c->m->tx[i].sid = -1;
	for (int i = 0; i < NN_QUIC_MEDIA_RX_MSGS; i++)
		c->m->rx[i].sid = -1;
	nn_timer_init(&c->m->tick, tick_cb, c);
	c->base.kind = NN_CONN_MEDIA;
	return 0;
}

static void tx_free(nn_quic_mtx *t)
{
	nn_pkt_release(t->pkt);
	memset(t, 0, sizeof *t);
	t->sid = -1;
}

static void rx_free(nn_quic_mrx *r)
{
	nn_pkt_release(r->pkt);
	memset(r, 0, sizeof *r);
	r->sid = -1;
}

void nn_quic_media_detach(nn_quic_conn *c)
{
	nn_quic_media *m = M(c);
	if (!m)
		return;
	nn_timer_stop(c->ep->base.clock, &m->tick);
	while (m->r_n)
		nn_quic_media_dgram_pop(c, false);
	for (int i = 0; i < NN_QUIC_MEDIA_TX_MSGS; i++)
		tx_free(&m->tx[i]);
	for (int i = 0; i < NN_QUIC_MEDIA_RX_MSGS; i++)
		rx_free(&m->rx[i]);
	free(m);
	c->m = NULL;
}

void nn_quic_media_opened(nn_quic_conn *c)
{
	nn_quic_media *m = M(c);
	m->last_rx = nn_quic_now(c->ep);
	nn_timer_start_in(c->ep->base.clock, &m->tick, NN_QUIC_MEDIA_TICK);
	if (c->base.outbound)
		c->ep->st.media_out++;
	else
		c->ep->st.media_in++;
}

/* ---- datagrams ---- */

int nn_quic_media_send_datagram(nn_quic_conn *c, const uint8_t *d, size_t n)
{
	nn_quic_ep *ep = c->ep;
	nn_quic_media *m = M(c);
	if (!m)
		return NN_EINVAL;
	if (c->state != NN_QS_OPEN || c->lingering)
		return NN_ECLOSED;
	if (n == 0 || !d)
		return NN_EINVAL;
	if (n > NN_TP_MAX_DGRAM) {
		ep->base.stats.tx_toobig++;
		return NN_ETOOBIG;
	}
	if (m->r_n >= NN_QUIC_MEDIA_RING) {
		ep->st.media_dgram_ring_full++;
		c->base.tx_eagain++;
		ep->base.stats.tx_eagain++;
		return NN_EAGAIN;
	}
	nn_pkt *p = nn_pool_get_class(ep->base.pool, NN_POOL_DGRAM);
	if (!p) {
		ep->st.media_dgram_send_failed++;
		ep->base.stats.dgram_dropped++;
		return NN_ELIMIT;
	}
	memcpy(p->data, d, n);
	p->len = (uint32_t)n;
	m->ring[(m->r_head + m->r_n) % NN_QUIC_MEDIA_RING] = p;
	m->r_n++;
	ep->base.stats.dgram_tx++;
	nn_quic_mark_dirty(c);
	return 0;
}

nn_pkt *nn_quic_media_dgram_peek(nn_quic_conn *c)
{
	nn_quic_media *m = M(c);
	return m && m->r_n ? m->ring[m->r_head] : NULL;
}

void nn_quic_media_dgram_pop(nn_quic_conn *c, bool sent)
{
	nn_quic_media *m = M(c);
	if (!m->r_n)
		return;
	nn_pkt *p = m->ring[m->r_head];
	m->ring[m->r_head] = NULL;
	m->r_head = (m->r_head + 1) % NN_QUIC_MEDIA_RING;
	m->r_n--;
	if (sent) {
		c->ep->st.media_dgram_tx++;
		c->base.tx_bytes += p->len;
	} else if (c->state == NN_QS_OPEN) {
		c->ep->st.media_dgram_send_failed++;
		c->ep->base.stats.dgram_dropped++;
	}
	nn_pkt_release(p);
}

void nn_quic_media_recv_datagram(nn_quic_conn *c, const uint8_t *d, size_t n)
{
	nn_quic_ep *ep = c->ep;
	if (!c->m || c->state != NN_QS_OPEN || c->lingering) {
		if (!c->m)
			ep->st.overlay_dgram_dropped++;
		else
			ep->st.media_dgram_rx_dropped++;
		return;
	}
	if (n == 0 || n > NN_TP_MAX_DGRAM) {
		ep->st.media_dgram_rx_dropped++;
		return;
	}
	nn_pkt *p = nn_pool_get_class(ep->base.pool, NN_POOL_DGRAM);
	if (!p) {
		ep->st.media_dgram_rx_dropped++;
		return;
	}
	memcpy(p->data, d, n);
	p->len = (uint32_t)n;
	/* the receive timestamp: when the socket read returned the packet, not now (a batch is
	 * decrypted and handed to the node one datagram after another) */
	p->at = ep->rx_at > 0 ? ep->rx_at : nn_quic_now(ep);
	ep->st.media_dgram_rx++;
	c->base.rx_bytes += n;
	nn_tp_deliver_datagram(&ep->base, &c->base, p);
}

/* ---- messages: send ---- */

static void writable(nn_quic_conn *c)
{
	nn_quic_media *m = M(c);
	if (!m->eagain || c->state != NN_QS_OPEN)
		return;
	m->eagain = false;
	if (c->ep->base.sink.on_writable)
		c->ep->base.sink.on_writable(c->ep->base.sink.ctx, &c->base);
}

int nn_quic_media_send_msg(nn_quic_conn *c, const uint8_t *d, size_t n, bool unchecked)
{
	nn_quic_ep *ep = c->ep;
	nn_quic_media *m = M(c);
	if (!m)
		return NN_EINVAL;
	if (c->state != NN_QS_OPEN || c->lingering)
		return NN_ECLOSED;
	if (n == 0 || !d)
		return NN_EINVAL;
	if (n > NN_TP_MAX_MEDIA_MSG && !unchecked) {
		ep->base.stats.tx_toobig++;
		return NN_ETOOBIG;
	}
	nn_quic_mtx *t = NULL;
	for (int i = 0; i < NN_QUIC_MEDIA_TX_MSGS && !t; i++)
		if (!m->tx[i].used)
			t = &m->tx[i];
	if (!t) {
		m->eagain = true;
		ep->st.media_msg_tx_eagain++;
		c->base.tx_eagain++;
		ep->base.stats.tx_eagain++;
		return NN_EAGAIN;
	}
	if (unchecked) {
		t->ext = d;
	} else {
		t->pkt = nn_pool_get(ep->base.pool, n);
		if (!t->pkt) {
			ep->base.stats.tx_dropped++;
			return NN_ELIMIT;
		}
		memcpy(t->pkt->data, d, n);
		t->pkt->len = (uint32_t)n;
	}
	t->used = true;
	t->len = (uint32_t)n;
	t->wr = 0;
	t->sid = -1; /* opened by the write path (never from inside a sink callback) */
	t->deadline = nn_quic_now(ep) + NN_QUIC_MEDIA_WRITE_DEADLINE;
	c->base.tx_frames++;
	ep->base.stats.tx_frames++;
	ep->base.stats.tx_bytes += n;
	nn_quic_mark_dirty(c);
	return 0;
}

size_t nn_quic_media_queued(const nn_quic_conn *c)
{
	const nn_quic_media *m = c->m;
	if (!m)
		return 0;
	size_t n = m->r_n;
	for (int i = 0; i < NN_QUIC_MEDIA_TX_MSGS; i++)
		n += m->tx[i].used && !m->tx[i].fin_sent && !m->tx[i].reset;
	return n;
}

bool nn_quic_media_unacked(const nn_quic_conn *c)
{
	for (int i = 0; c->m && i < NN_QUIC_MEDIA_TX_MSGS; i++)
		if (c->m->tx[i].used && !c->m->tx[i].reset)
			return true;
	return false;
}

void nn_quic_media_write_begin(nn_quic_conn *c)
{
	nn_quic_media *m = M(c);
	for (int i = 0; i < NN_QUIC_MEDIA_TX_MSGS; i++)
		m->tx[i].blocked = false;
}

/* The oldest message with bytes (or FIN) left to write whose stream is open or can be opened
 * now; NULL if none. */
nn_quic_mtx *nn_quic_media_next_tx(nn_quic_conn *c)
{
	nn_quic_media *m = M(c);
	nn_quic_mtx *best = NULL;
	for (int i = 0; i < NN_QUIC_MEDIA_TX_MSGS; i++) {
		nn_quic_mtx *t = &m->tx[i];
		if (!t->used || t->fin_sent || t->reset || t->blocked || (t->nofin && t->wr == t->len))
			continue;
		if (!best || t->deadline < best->deadline)
			best = t;
	}
	if (best && best->sid < 0) {
		int64_t sid;
		if (ngtcp2_conn_open_uni_stream(c->qc, &sid, best) != 0) {
			/* the peer's stream credit is used up: wait for MAX_STREAMS (the deadline
			 * still runs) */
			for (int i = 0; i < NN_QUIC_MEDIA_TX_MSGS; i++)
				if (m->tx[i].sid < 0)
					m->tx[i].blocked = true;
			return nn_quic_media_next_tx(c);
		}
		best->sid = sid;
	}
	return best;
}

void nn_quic_media_tx_wrote(nn_quic_conn *c, nn_quic_mtx *t, size_t n, bool fin)
{
	t->wr += (uint32_t)n;
	if (fin && t->wr == t->len && !t->fin_sent) {
		t->fin_sent = true;
		c->ep->st.media_msg_tx++;
	}
}

/* ---- messages: receive ---- */

static nn_quic_mrx *rx_of(nn_quic_conn *c, void *suser)
{
	nn_quic_media *m = M(c);
	if (!m || !suser)
		return NULL;
	uintptr_t p = (uintptr_t)suser, b = (uintptr_t)&m->rx[0],
		  e = (uintptr_t)&m->rx[NN_QUIC_MEDIA_RX_MSGS];
	return p >= b && p < e ? (nn_quic_mrx *)suser : NULL;
}

static nn_quic_mtx *tx_of(nn_quic_conn *c, void *suser)
{
	nn_quic_media *m = M(c);
	if (!m || !suser)
		return NULL;
	uintptr_t p = (uintptr_t)suser, b = (uintptr_t)&m->tx[0],
		  e = (uintptr_t)&m->tx[NN_QUIC_MEDIA_TX_MSGS];
	return p >= b && p < e ? (nn_quic_mtx *)suser : NULL;
}

/* Stop reading a remote stream and forget it. */
static void rx_refuse(nn_quic_conn *c, nn_quic_mrx *r, int64_t sid)
{
	ngtcp2_conn_shutdown_stream_read(c->qc, 0, sid, NN_QUIC_MEDIA_ERR_REFUSED);
	ngtcp2_conn_set_stream_user_data(c->qc, sid, NULL);
	if (r)
		rx_free(r);
	nn_quic_mark_dirty(c);
}

void nn_quic_media_stream_open(nn_quic_conn *c, int64_t sid)
{
	nn_quic_media *m = M(c);
	nn_quic_mrx *r = NULL;
	for (int i = 0; i < NN_QUIC_MEDIA_RX_MSGS && !r; i++)
		if (!m->rx[i].used)
			r = &m->rx[i];
	if (!r) {
		c->ep->st.media_msg_rx_no_slot++;
		rx_refuse(c, NULL, sid);
		return;
	}
	r->used = true;
	r->sid = sid;
	r->got = 0;
	r->deadline = nn_quic_now(c->ep) + NN_QUIC_MEDIA_READ_DEADLINE;
	ngtcp2_conn_set_stream_user_data(c->qc, sid, r);
}

void nn_quic_media_stream_data(nn_quic_conn *c, int64_t sid, void *suser, uint64_t off,
			       const uint8_t *d, size_t n, bool fin)
{
	nn_quic_ep *ep = c->ep;
	nn_quic_mrx *r = rx_of(c, suser);
	if (!r || r->sid != sid || c->state != NN_QS_OPEN || c->lingering)
		return; /* refused or forgotten (or we are closing): the bytes are thrown away */
	nn_quic_msgasm a;
	if (!r->pkt) {
		/* a small message that arrives whole fits a datagram-class buffer */
		size_t need = fin && off == 0 && n ? n : NN_POOL_FRAME_CAP;
		r->pkt = nn_pool_get(ep->base.pool, need);
		if (!r->pkt) {
			ep->st.media_msg_rx_no_slot++;
			rx_refuse(c, r, sid);
			return;
		}
	}
	nn_quic_msgasm_init(&a, r->pkt->data, r->pkt->cap);
	a.got = r->got;
	int rc = nn_quic_msgasm_feed(&a, off, d, n, fin);
	if (rc == NN_ENOSPC) {
		nn_pkt *big = nn_pool_get_class(ep->base.pool, NN_POOL_FRAME);
		if (!big) {
			ep->st.media_msg_rx_no_slot++;
			rx_refuse(c, r, sid);
			return;
		}
		memcpy(big->data, r->pkt->data, r->got);
		nn_pkt_release(r->pkt);
		r->pkt = big;
		nn_quic_msgasm_rebuf(&a, big->data, big->cap);
		rc = nn_quic_msgasm_feed(&a, off, d, n, fin);
	}
	if (rc < 0) {
		if (rc == NN_ETOOBIG)
			ep->st.media_msg_rx_oversize++;
		else
			ep->st.media_msg_rx_truncated++;
		rx_refuse(c, r, sid);
		return;
	}
	r->got = a.got;
	if (rc == 0)
		return;
	nn_pkt *p = r->pkt;
	r->pkt = NULL;
	p->len = a.got;
	p->at = nn_quic_now(ep);
	ngtcp2_conn_set_stream_user_data(c->qc, sid, NULL);
	rx_free(r);
	ep->st.media_msg_rx++;
	nn_tp_deliver_frame(&ep->base, &c->base, p);
}

void nn_quic_media_stream_close(nn_quic_conn *c, int64_t sid, void *suser, bool app_err)
{
	nn_quic_ep *ep = c->ep;
	nn_quic_mrx *r = rx_of(c, suser);
	if (r && r->sid == sid) {
		/* closed before its FIN was read: reset by the peer */
		ep->st.media_msg_rx_truncated++;
		rx_free(r);
	}
	nn_quic_mtx *t = tx_of(c, suser);
	if (t && t->sid == sid) {
		tx_free(t);
		if (c->lingering && !nn_quic_media_unacked(c))
			nn_quic_conn_fail(c, 0, c->linger_reason, true); /* the close's messages are done */
		else
			writable(c);
	}
	(void)app_err;
}

/* ---- moving a session we dialled onto its edge's new path ----
 * A QUIC client migration (RFC 9000 §9) with ngtcp2's immediate migration: the session starts
 * sending to the edge's remote address at once, on a fresh connection ID, and validates the
 * path meanwhile; the peer (the server of this connection) sees its client's address change and
 * follows it after validation. Streams and what is in flight on them carry over (lost packets are
 * retransmitted on the new path); DATAGRAM frames lost at the switch are not. The socket stays
 * the endpoint's: the edge's NAT mapping is the same one. ngtcp2 migrates only to a local
 * address other than the current one, so the move names the socket anew (a sockaddr that is
 * the endpoint's with the low bits of the host part changed, c->alias; never bound, used only
 * as the path's name in ngtcp2_conn_read_pkt / initiate). An edge on a birthday socket is not
 * followed (NN_EUNSUPPORTED). */
int nn_quic_media_move(nn_quic_conn *c, nn_quic_conn *e)
{
	nn_quic_ep *ep = c->ep;
	if (!c->m || !c->base.outbound || c->xs || e->m)
		return NN_EINVAL;
	if (c->state != NN_QS_OPEN || c->lingering || e->state != NN_QS_OPEN)
		return NN_ECLOSED;
	if (e->xs)
		return NN_EUNSUPPORTED;
	const ngtcp2_path *cur = ngtcp2_conn_get_path(c->qc);
	if ((socklen_t)cur->remote.addrlen == e->remote_len &&
	    !memcmp(cur->remote.addr, &e->remote, e->remote_len))
		return 0; /* it runs there already */
	struct sockaddr_storage al;
	memcpy(&al, &ep->local, ep->local_len);
	uint8_t g = ++c->alias_gen;
	if (!g)
		g = c->alias_gen = 1;
	if (al.ss_family == AF_INET)
		((uint8_t *)&((struct sockaddr_in *)&al)->sin_addr)[3] ^= g;
	else if (al.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&al)->sin6_addr.s6_addr[15] ^= g;
	else
		return NN_EUNSUPPORTED;
	ngtcp2_path p = {
		.local = {.addr = (ngtcp2_sockaddr *)&al, .addrlen = ep->local_len},
		.remote = {.addr = (ngtcp2_sockaddr *)&e->remote, .addrlen = e->remote_len},
	};
	int rv = ngtcp2_conn_initiate_immediate_migration(c->qc, &p,
							  (ngtcp2_tstamp)nn_quic_now(ep));
	if (rv != 0) {
		ep->st.media_move_failed++;
		return rv == NGTCP2_ERR_CONN_ID_BLOCKED ? NN_EAGAIN
		       : rv == NGTCP2_ERR_NOMEM	       ? NN_ENOMEM
						       : NN_ESTATE;
	}
	memcpy(&c->alias, &al, ep->local_len);
	c->alias_len = ep->local_len;
	memcpy(&c->remote, &e->remote, e->remote_len);
	c->remote_len = e->remote_len;
	c->base.remote_addr = e->base.remote_addr;
	ep->st.media_moved++;
	nn_quic_mark_dirty(c);
	nn_quic_flush(ep);
	return 0;
}

/* ---- deadlines and the idle reaper ---- */

static void tick_cb(nn_timer *tm, void *arg)
{
	nn_quic_conn *c = arg;
	nn_quic_ep *ep = c->ep;
	nn_quic_media *m = M(c);
	if (!m || c->state != NN_QS_OPEN)
		return;
	nn_time now = nn_quic_now(ep);
	if (c->lingering) {
		/* closing: the guard timer ends the linger after NN_QUIC_LINGER at most */
		nn_timer_start_in(ep->base.clock, &m->tick, NN_QUIC_MEDIA_TICK);
		return;
	}
	bool freed = false;
	for (int i = 0; i < NN_QUIC_MEDIA_TX_MSGS; i++) {
		nn_quic_mtx *t = &m->tx[i];
		if (!t->used || t->fin_sent || t->reset || now < t->deadline)
			continue;
		ep->st.media_msg_tx_stalled++;
		ep->base.stats.tx_dropped++;
		if (t->sid >= 0) {
			/* reset; the slot is freed when QUIC closes the stream */
			t->reset = true;
			ngtcp2_conn_shutdown_stream_write(c->qc, 0, t->sid, NN_QUIC_MEDIA_ERR_STALL);
		} else {
			tx_free(t);
			freed = true;
		}
		nn_quic_mark_dirty(c);
	}
	for (int i = 0; i < NN_QUIC_MEDIA_RX_MSGS; i++) {
		nn_quic_mrx *r = &m->rx[i];
		if (!r->used || now < r->deadline)
			continue;
		ep->st.media_msg_rx_timeout++;
		rx_refuse(c, r, r->sid);
	}
	if (!c->base.outbound && now - m->last_rx >= ep->cfg.media_idle_timeout) {
		/* local policy: the peer's advertised idle timeout is not trusted */
		ep->st.media_idle_reaped++;
		ep->st.idle_timeout++;
		nn_quic_conn_fail(c, NN_ETIMEDOUT, NN_TP_REASON_NORMAL, true);
		nn_quic_flush(ep);
		return;
	}
	nn_timer_start_in(ep->base.clock, &m->tick, NN_QUIC_MEDIA_TICK);
	if (freed)
		writable(c);
	nn_quic_flush(ep);
}
