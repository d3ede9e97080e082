/* stream.c — the edge stream: the bounded send queue (copies of frames, each prefixed with
 * uvarint(length), kept in pooled buffers until QUIC acknowledges them) and the receive side
 * (the strict frame reader, delivery to the sink, first-frame bookkeeping).
 *
 * Backpressure (local policy): a send is refused with NN_EAGAIN when the bytes queued or in
 * flight would pass send_queue_bytes or the frames not yet handed to QUIC would pass
 * send_queue_frames; on_writable follows when both are back under half. A refusal arms the
 * stall deadline (guard timer), restarted by every acknowledgement: a queue that stays full
 * with no progress past it closes the edge (NN_TP_REASON_STALLED; a send that meets it
 * returns NN_ETIMEDOUT). The frame ring grows on demand (sendq_grow). An exhausted packet pool is NN_ELIMIT (frame dropped and counted in
 * tx_dropped, no on_writable). Steady state allocates nothing: buffers come from the pool. */
#include <stdlib.h>
#include <string.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"

void nn_quic_sendq_init(nn_quic_sendq *q) { memset(q, 0, sizeof *q); }

/* The frame ring starts at NN_QUIC_SENDQ_FRAMES0 slots and doubles when full, up to the
 * configured send_queue_frames: an edge that never queues much never holds 1,024 slots, and one
 * that did keeps its ring (steady state allocates nothing). */
static int sendq_grow(nn_quic_sendq *q, uint32_t max)
{
	uint32_t cap = q->fr_cap ? q->fr_cap * 2 : NN_QUIC_SENDQ_FRAMES0;
	if (cap > max)
		cap = max;
	uint32_t *r = malloc((size_t)cap * sizeof *r);
	if (!r)
		return NN_ENOMEM;
	for (uint32_t i = 0; i < q->fr_n; i++)
		r[i] = q->frame_ends[(q->fr_head + i) % q->fr_cap];
	free(q->frame_ends);
	q->frame_ends = r;
	q->fr_head = 0;
	q->fr_cap = cap;
	return 0;
}

void nn_quic_sendq_fini(nn_quic_sendq *q)
{
	for (nn_pkt *p = q->head, *n; p; p = n) {
		n = p->next;
		nn_pkt_release(p);
	}
	free(q->frame_ends);
	memset(q, 0, sizeof *q);
}

size_t nn_quic_sendq_unsent_frames(const nn_quic_sendq *q) { return q->fr_n; }

static bool over_half(const nn_quic_conn *c)
{
	const nn_quic_sendq *q = &c->q;
	return (q->end_off - q->ack_off) * 2 > c->ep->cfg.send_queue_bytes ||
	       q->fr_n * 2 > c->ep->cfg.send_queue_frames;
}

/* Append bytes to the queue tail, taking pool buffers as needed. */
static int append(nn_quic_conn *c, const uint8_t *d, size_t n)
{
	nn_quic_sendq *q = &c->q;
	while (n) {
		nn_pkt *t = q->tail;
		if (!t || t->len == t->cap) {
			/* frames of a few KiB (control traffic) go into a chain of datagram-sized
			 * buffers: a 64 KiB buffer per queue for them would pile up in the pool when
			 * many edges send at once (a burst of new edges) */
			nn_pkt *p = n <= NN_QUIC_SENDQ_SMALL
					    ? nn_pool_get_class(c->ep->base.pool, NN_POOL_DGRAM)
					    : nn_pool_get(c->ep->base.pool, n);
			if (!p)
				p = nn_pool_get_class(c->ep->base.pool, NN_POOL_DGRAM);
			if (!p)
				return NN_ENOMEM;
			p->tag = q->end_off;
			p->next = NULL;
			if (t)
				t->next = p;
			else
				q->head = p;
			q->tail = t = p;
			if (!q->wr)
				q->wr = p;
		}
		size_t k = t->cap - t->len < n ? t->cap - t->len : n;
		memcpy(t->data + t->len, d, k);
		t->len += (uint32_t)k;
		q->end_off += k;
		d += k;
		n -= k;
		if (!q->wr)
			q->wr = t;
	}
	return 0;
}

int nn_quic_stream_send(nn_quic_conn *c, const uint8_t *frame, size_t len, bool raw)
{
	nn_quic_ep *ep = c->ep;
	nn_quic_sendq *q = &c->q;
	if (c->state != NN_QS_OPEN || c->lingering)
		/* the send that meets a stall-closed edge learns why */
		return c->close_reason == NN_TP_REASON_STALLED && c->close_err == NN_ETIMEDOUT
			       ? NN_ETIMEDOUT
			       : NN_ECLOSED;
	uint8_t hdr[NN_QUIC_FRAME_HDR_MAX];
	int h = 0;
	if (!raw) {
		h = nn_quic_framer_prefix(hdr, len);
		if (h < 0)
			return h;
	}
	if (q->end_off - q->ack_off + len + (size_t)h > ep->cfg.send_queue_bytes ||
	    q->fr_n >= ep->cfg.send_queue_frames) {
		nn_time now = nn_quic_now(ep);
		if (q->eagain && ep->cfg.send_deadline > 0 &&
		    now - q->stall_since >= ep->cfg.send_deadline) {
			/* full with no progress past the deadline: the edge is stuck */
			ep->st.send_stalled++;
			ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_STALLED, NULL, 0);
			nn_quic_conn_fail(c, NN_ETIMEDOUT, NN_TP_REASON_STALLED, true);
			return NN_ETIMEDOUT;
		}
		if (!q->eagain) {
			q->stall_since = now;
			if (ep->cfg.send_deadline > 0)
				nn_timer_start_in(ep->base.clock, &c->guard, ep->cfg.send_deadline);
		}
		q->eagain = true;
		c->base.tx_eagain++;
		ep->base.stats.tx_eagain++;
		return NN_EAGAIN;
	}
	if (q->fr_n == q->fr_cap && sendq_grow(q, ep->cfg.send_queue_frames) != 0)
		return NN_ENOMEM;
	uint64_t end0 = q->end_off;
	int rc = append(c, hdr, (size_t)h);
	if (!rc)
		rc = append(c, frame, len);
	if (rc) {
		/* out of pool buffers: undo to the frame boundary (the tail may hold a partial
		 * copy; trim it, the bytes were never handed out) */
		while (q->tail && q->end_off > end0) {
			nn_pkt *t = q->tail;
			uint64_t start = t->tag;
			if (start >= end0) {
				/* drop the whole buffer */
				nn_pkt *p = q->head, *prev = NULL;
				while (p != t) {
					prev = p;
					p = p->next;
				}
				if (prev)
					prev->next = NULL;
				else
					q->head = NULL;
				if (q->wr == t)
					q->wr = NULL;
				q->tail = prev;
				q->end_off = start;
				nn_pkt_release(t);
			} else {
				t->len = (uint32_t)(end0 - start);
				q->end_off = end0;
			}
		}
		if (!q->wr && q->head) {
			nn_pkt *p = q->head;
			while (p && p->tag + p->len <= q->wr_off)
				p = p->next;
			q->wr = p;
		}
		/* the transport-wide buffer cap, not this queue: dropped and counted, and no
		 * on_writable will follow (transport.h) */
		ep->base.stats.tx_dropped++;
		return NN_ELIMIT;
	}
	q->frame_ends[(q->fr_head + q->fr_n) % q->fr_cap] = (uint32_t)q->end_off;
	q->fr_n++;
	c->base.tx_frames++;
	c->base.tx_bytes += len;
	ep->base.stats.tx_frames++;
	ep->base.stats.tx_bytes += len;
	nn_quic_mark_dirty(c);
	return 0;
}

size_t nn_quic_sendq_vecs(nn_quic_sendq *q, ngtcp2_vec *v, size_t max)
{
	size_t n = 0;
	for (nn_pkt *p = q->wr; p && n < max; p = p->next) {
		uint64_t start = p->tag > q->wr_off ? p->tag : q->wr_off;
		size_t skip = (size_t)(start - p->tag);
		if (skip >= p->len)
			continue;
		v[n].base = p->data + skip;
		v[n].len = p->len - skip;
		n++;
	}
	return n;
}

void nn_quic_sendq_wrote(nn_quic_conn *c, size_t n)
{
	nn_quic_sendq *q = &c->q;
	q->wr_off += n;
	while (q->wr && q->wr->tag + q->wr->len <= q->wr_off)
		q->wr = q->wr->next;
	/* frames whose last byte went out */
	while (q->fr_n && (uint32_t)(q->wr_off - q->frame_ends[q->fr_head]) < 0x80000000u) {
		q->fr_head = (q->fr_head + 1) % q->fr_cap;
		q->fr_n--;
	}
}

void nn_quic_sendq_acked(nn_quic_conn *c, uint64_t off, uint64_t len)
{
	nn_quic_sendq *q = &c->q;
	nn_quic_ep *ep = c->ep;
	if (off + len > q->ack_off) {
		q->ack_off = off + len;
		if (c->lingering) {
			if (q->ack_off >= q->end_off) /* the close's frames are all delivered */
				nn_quic_conn_fail(c, 0, c->linger_reason, true);
		} else if (q->eagain && ep->cfg.send_deadline > 0) {
			/* progress: the stall deadline counts from the last acknowledgement */
			q->stall_since = nn_quic_now(ep);
			nn_timer_start_in(ep->base.clock, &c->guard, ep->cfg.send_deadline);
		}
	}
	while (q->head && q->head->tag + q->head->len <= q->ack_off &&
	       q->head->tag + q->head->len <= q->wr_off && q->head != q->tail) {
		nn_pkt *p = q->head;
		q->head = p->next;
		nn_pkt_release(p);
	}
	/* the tail is released only once fully acked and no more can be appended usefully */
	if (q->head && q->head == q->tail && q->head->tag + q->head->len <= q->ack_off &&
	    q->ack_off == q->end_off) {
		nn_pkt_release(q->head);
		q->head = q->tail = q->wr = NULL;
	}
	if (q->eagain && !over_half(c) && c->state == NN_QS_OPEN && !c->lingering) {
		q->eagain = false;
		nn_timer_stop(ep->base.clock, &c->guard);
		if (ep->base.sink.on_writable)
			ep->base.sink.on_writable(ep->base.sink.ctx, &c->base);
	}
}

static void deliver(nn_quic_conn *c, nn_pkt *p)
{
	nn_quic_ep *ep = c->ep;
	c->base.rx_frames++;
	c->base.rx_bytes += p->len;
	ep->base.stats.rx_frames++;
	ep->base.stats.rx_bytes += p->len;
	if (!c->first_frame_seen) {
		c->first_frame_seen = true;
		if (!c->base.outbound && !c->q.eagain)
			nn_timer_stop(ep->base.clock, &c->guard);
	}
	nn_pkt *held = p;
	if (ep->base.sink.on_frame)
		ep->base.sink.on_frame(ep->base.sink.ctx, &c->base, &held);
	if (held)
		nn_pkt_release(held);
}

void nn_quic_stream_recv(nn_quic_conn *c, const uint8_t *d, size_t n, bool fin)
{
	nn_quic_ep *ep = c->ep;
	while (n && c->state == NN_QS_OPEN) {
		/* the assembly buffer is taken only for a split frame, sized to it */
		c->framer.buf = c->rx_pkt ? c->rx_pkt->data : NULL;
		size_t used;
		const uint8_t *fr;
		size_t fl;
		int rc = nn_quic_framer_feed(&c->framer, d, n, &used, &fr, &fl);
		d += used;
		n -= used;
		if (rc == NN_QUIC_FRAMER_NEED_BUF) {
			c->rx_pkt = nn_pool_get(ep->base.pool, c->framer.need ? c->framer.need : 1);
			if (!c->rx_pkt) {
				/* no buffer: the edge cannot make progress; close it */
				ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_POLICY,
								   NULL, 0);
				nn_quic_conn_fail(c, NN_ENOMEM, NN_TP_REASON_POLICY, true);
				return;
			}
			continue;
		}
		if (rc < 0) {
			ep->st.frame_too_big++;
			ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_POLICY, NULL, 0);
			nn_quic_conn_fail(c, NN_ETOOBIG, NN_TP_REASON_POLICY, true);
			return;
		}
		if (rc == 0)
			break;
		nn_pkt *p;
		if (c->rx_pkt && fr == c->rx_pkt->data) {
			p = c->rx_pkt;
			c->rx_pkt = NULL;
		} else {
			p = nn_pool_get(ep->base.pool, fl ? fl : 1);
			if (!p) {
				ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_POLICY,
								   NULL, 0);
				nn_quic_conn_fail(c, NN_ENOMEM, NN_TP_REASON_POLICY, true);
				return;
			}
			memcpy(p->data, fr, fl);
		}
		p->len = (uint32_t)fl;
		deliver(c, p);
	}
	/* hold the assembly buffer only while a frame body is split */
	if (c->rx_pkt && !(c->framer.in_body && c->framer.got)) {
		nn_pkt_release(c->rx_pkt);
		c->rx_pkt = NULL;
	}
	if (fin && c->state == NN_QS_OPEN) {
		/* the peer ended the edge stream: a clean end between frames, a truncation inside */
		int err = nn_quic_framer_idle(&c->framer) ? NN_ECLOSED : NN_ETRUNC;
		ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_NORMAL, NULL, 0);
		nn_quic_conn_fail(c, err, NN_TP_REASON_NORMAL, true);
	}
}
