/* conn.c — mem connections: bounded send into the peer's arrival queue, timed delivery, close. */
#include <stdlib.h>
#include <string.h>

#include "transport/mem/mem_int.h"

#define MEM_DGRAM_RING 64u

static nn_clock *clk_of(const mem_conn *c) { return c->ep->hub->clk; }

mem_conn *mem_conn_new(mem_ep *ep, const nn_id *rid, const nn_addr *raddr, bool outbound,
		       uint8_t kind, void *user)
{
	mem_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->pub.tp = &ep->tp;
	c->pub.remote_id = *rid;
	c->pub.remote_addr = *raddr;
	c->pub.outbound = outbound;
	c->pub.kind = kind;
	c->pub.user = user;
	c->pub.serial = ++ep->next_serial;
	c->ep = ep;
	return c;
}

static void on_conn_timer(nn_timer *t, void *arg);

void mem_conn_pair(mem_conn *a, mem_conn *b)
{
	a->peer = b;
	b->peer = a;
	nn_timer_init(&a->timer, on_conn_timer, a);
	nn_timer_init(&b->timer, on_conn_timer, b);
	for (int i = 0; i < 2; i++) {
		mem_conn *c = i ? b : a;
		c->next = c->ep->conns;
		if (c->ep->conns)
			c->ep->conns->prev = c;
		c->ep->conns = c;
		c->ep->hub->st.conns++;
	}
}

static void drop_queues(mem_conn *c)
{
	while (c->rx_head) {
		nn_pkt *k = c->rx_head;
		c->rx_head = k->next;
		nn_pkt_release(k);
	}
	c->rx_tail = NULL;
	c->rx_count = 0;
	while (c->dg_head) {
		nn_pkt *k = c->dg_head;
		c->dg_head = k->next;
		nn_pkt_release(k);
	}
	c->dg_count = 0;
}

static void rearm(mem_conn *c)
{
	nn_clock *clk = clk_of(c);
	nn_time when = INT64_MAX;
	if (c->state == MC_CLOSING)
		when = nn_clock_now(clk);
	else {
		nn_time rd = c->ep->read_delay;
		if (c->rx_head)
			when = c->rx_head->at == INT64_MAX ? INT64_MAX : c->rx_head->at + rd;
		if (c->dg_head && c->dg_head->at + rd < when)
			when = c->dg_head->at + rd;
		if (c->close_pending && c->close_at < when)
			when = c->close_at;
	}
	if (when == INT64_MAX)
		nn_timer_stop(clk, &c->timer);
	else if (!nn_timer_armed(&c->timer) || c->timer.when != when)
		nn_timer_start(clk, &c->timer, when); /* heap pre-grown: cannot fail in practice */
}

/* Free c (after its on_closed, or silently on endpoint destroy). */
static void conn_free(mem_conn *c)
{
	mem_ep *ep = c->ep;
	nn_timer_stop(clk_of(c), &c->timer);
	drop_queues(c);
	if (c->peer)
		c->peer->peer = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		ep->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ep->hub->st.conns--;
	ep->tp.stats.closed++;
	free(c);
}

/* Tell the peer we are gone: it sees on_closed(NN_ECLOSED, reason) after the frames we sent. */
static void notify_peer(mem_conn *c, uint64_t reason)
{
	mem_conn *p = c->peer;
	if (!p || p->state != MC_OPEN || p->close_pending)
		return;
	const nn_mem_link *l = mem_hub_link(c->ep->hub, c->ep, p->ep);
	nn_time at = nn_clock_now(clk_of(c)) + l->latency;
	if (p->last_arrival == INT64_MAX) { /* frames stuck on a stalled link never arrive */
		drop_queues(p);
		p->last_arrival = 0;
	}
	p->close_pending = true;
	p->close_at = at > p->last_arrival ? at : p->last_arrival;
	p->close_err = NN_ECLOSED;
	p->close_reason = reason;
	rearm(p);
}

void mem_conn_drop(mem_conn *c, uint64_t reason)
{
	notify_peer(c, reason);
	conn_free(c);
}

static void close_local(mem_conn *c, int err, uint64_t reason)
{
	notify_peer(c, reason);
	c->state = MC_CLOSING;
	c->close_pending = false;
	c->close_err = err;
	c->close_reason = reason;
	drop_queues(c);
	rearm(c);
}

int mem_conn_close(nn_tp *tp, nn_conn *pc, uint64_t reason)
{
	mem_conn *c = (mem_conn *)pc;
	if (pc->tp != tp)
		return NN_EINVAL;
	if (c->state != MC_OPEN)
		return NN_ECLOSED;
	close_local(c, 0, reason);
	return 0;
}

size_t mem_conn_queued(nn_tp *tp, const nn_conn *pc)
{
	const mem_conn *c = (const mem_conn *)pc;
	return c->peer ? c->peer->rx_count : 0;
}

/* Common gate for frames and datagrams. Returns the receiving end, NULL with *rc = 0 when the
 * network swallows it, or NULL with *rc < 0. */
static mem_conn *gate(nn_tp *tp, mem_conn *c, size_t len, const nn_mem_link **l, int *rc)
{
	*rc = 0;
	if (c->pub.tp != tp || len == 0) {
		*rc = NN_EINVAL;
		return NULL;
	}
	if (c->state != MC_OPEN) {
		*rc = NN_ECLOSED;
		return NULL;
	}
	mem_conn *r = c->peer;
	nn_mem_hub *h = c->ep->hub;
	if (!r || r->state != MC_OPEN || r->close_pending) {
		tp->stats.tx_dropped++; /* the peer is closing: like QUIC, data is discarded */
		return NULL;
	}
	*l = mem_hub_link(h, c->ep, r->ep);
	bool cut;
	if (c->via) { /* relayed: both legs must be up, and the relay still there */
		mem_ep *v = mem_hub_by_serial(h, c->via);
		cut = !v || mem_hub_cut(h, c->ep, v) || mem_hub_cut(h, v, r->ep);
	} else {
		cut = mem_hub_cut(h, c->ep, r->ep);
	}
	if (cut) {
		tp->stats.tx_dropped++;
		h->st.frames_blackholed++;
		return NULL;
	}
	return r;
}

/* A refused send. The stall clock runs while refused sends see no delivery on the queue at
 * all (r: the receiving end; NULL when the refusal is not about that queue). */
static int backpressure(nn_tp *tp, mem_conn *c, const mem_conn *r)
{
	nn_mem_hub *h = c->ep->hub;
	nn_time now = nn_clock_now(h->clk);
	c->want_writable = true;
	c->pub.tx_eagain++;
	tp->stats.tx_eagain++;
	if (!r)
		return NN_EAGAIN;
	if (!c->full_since || c->full_mark != r->rx_delivered) {
		c->full_since = now > 0 ? now : 1;
		c->full_mark = r->rx_delivered;
	} else if (now - c->full_since >= h->stall_timeout) {
		h->st.stalled_closes++;
		close_local(c, NN_ETIMEDOUT, NN_TP_REASON_STALLED);
		return NN_ETIMEDOUT;
	}
	return NN_EAGAIN;
}

int mem_conn_send(nn_tp *tp, nn_conn *pc, const uint8_t *frame, size_t len)
{
	mem_conn *c = (mem_conn *)pc;
	const nn_mem_link *l = NULL;
	int rc;
	if (len > (pc->kind == NN_CONN_MEDIA ? NN_TP_MAX_MEDIA_MSG : NN_TP_MAX_FRAME)) {
		tp->stats.tx_toobig++;
		return NN_ETOOBIG;
	}
	mem_conn *r = gate(tp, c, len, &l, &rc);
	if (r) {
		nn_mem_hub *h = c->ep->hub;
		if (r->rx_count >= l->queue_frames) {
			if (pc->kind == NN_CONN_MEDIA)
				c->ep->guard.media_msg_tx_eagain++;
			return backpressure(tp, c, r);
		}
		nn_pkt *k = nn_pool_get(h->pool, len);
		if (!k) { /* the hub's buffers are exhausted: not this queue's backpressure */
			tp->stats.tx_dropped++;
			return NN_ELIMIT;
		}
		memcpy(k->data, frame, len);
		k->len = (uint32_t)len;
		nn_time now = nn_clock_now(h->clk);
		nn_time *busy = mem_hub_busy(h, c->ep, r->ep, &r->busy_until);
		nn_time depart = *busy > now ? *busy : now;
		if (l->bandwidth)
			depart += (nn_time)((uint64_t)len * (uint64_t)NN_SEC / l->bandwidth);
		*busy = depart;
		c->pub.rtt = 2 * l->latency; /* the model's round trip (no jitter, no queueing) */
		nn_time at = depart + l->latency + mem_hub_jitter(h, l->jitter);
		if (mem_hub_chance(h, l->loss_ppm)) {
			at += 2 * l->latency; /* lost once, retransmitted */
			h->st.retransmits++;
		}
		if (at < r->last_arrival)
			at = r->last_arrival; /* a stream delivers in order */
		if (l->stall)
			at = INT64_MAX; /* accepted, never delivered */
		r->last_arrival = at;
		k->at = at;
		if (r->rx_tail)
			r->rx_tail->next = k;
		else
			r->rx_head = k;
		r->rx_tail = k;
		r->rx_count++;
		if (r->rx_head == k)
			rearm(r);
	} else if (rc < 0) {
		return rc;
	}
	c->pub.tx_frames++;
	c->pub.tx_bytes += len;
	if (pc->kind == NN_CONN_MEDIA)
		c->ep->guard.media_msg_tx++;
	tp->stats.tx_frames++;
	tp->stats.tx_bytes += len;
	return 0;
}

int mem_conn_send_datagram(nn_tp *tp, nn_conn *pc, const uint8_t *data, size_t len)
{
	mem_conn *c = (mem_conn *)pc;
	const nn_mem_link *l = NULL;
	int rc;
	if (!(tp->caps & NN_TP_CAP_MEDIA) || pc->kind != NN_CONN_MEDIA)
		return NN_EUNSUPPORTED;
	if (len > NN_TP_MAX_DGRAM)
		return NN_ETOOBIG;
	mem_conn *r = gate(tp, c, len, &l, &rc);
	if (!r) {
		if (rc == 0) { /* sent, and swallowed by the network */
			tp->stats.dgram_tx++;
			c->ep->guard.media_dgram_tx++;
		}
		return rc;
	}
	nn_mem_hub *h = c->ep->hub;
	if (len > l->mtu) {
		c->ep->guard.media_dgram_send_failed++;
		return NN_ETOOBIG;
	}
	if (r->dg_count >= MEM_DGRAM_RING) {
		c->ep->guard.media_dgram_ring_full++;
		return backpressure(tp, c, NULL);
	}
	tp->stats.dgram_tx++;
	c->ep->guard.media_dgram_tx++;
	if (mem_hub_chance(h, l->loss_ppm)) {
		tp->stats.dgram_dropped++;
		h->st.dgrams_lost++;
		return 0;
	}
	nn_pkt *k = nn_pool_get_class(h->pool, NN_POOL_DGRAM);
	if (!k) {
		tp->stats.dgram_dropped++;
		return NN_ELIMIT;
	}
	nn_time now = nn_clock_now(h->clk), depart = now;
	if (l->bandwidth) {
		/* the bottleneck: datagrams serialise with the connection's stream frames; one
		 * that would wait longer than a full queue (queue_frames x MTU) is tail-dropped */
		nn_time *busy = mem_hub_busy(h, c->ep, r->ep, &r->busy_until);
		depart = *busy > now ? *busy : now;
		depart += (nn_time)((uint64_t)len * (uint64_t)NN_SEC / l->bandwidth);
		nn_time qmax = (nn_time)((uint64_t)l->queue_frames * l->mtu * (uint64_t)NN_SEC /
					 l->bandwidth);
		if (depart - now > qmax) {
			nn_pkt_release(k);
			tp->stats.dgram_dropped++;
			h->st.dgrams_lost++;
			return 0;
		}
		*busy = depart;
	}
	memcpy(k->data, data, len);
	k->len = (uint32_t)len;
	nn_time at = depart + l->latency + mem_hub_jitter(h, l->jitter);
	if (mem_hub_chance(h, l->reorder_ppm))
		at += l->reorder_delay;
	k->at = at;
	k->tag = ++r->dg_seq;
	nn_pkt **pp = &r->dg_head;
	while (*pp && (*pp)->at <= at)
		pp = &(*pp)->next;
	k->next = *pp;
	*pp = k;
	r->dg_count++;
	if (r->dg_head == k)
		rearm(r);
	return 0;
}

static void maybe_writable(mem_conn *r)
{
	mem_conn *s = r->peer;
	if (!s || !s->want_writable || s->state != MC_OPEN)
		return;
	const nn_mem_link *l = mem_hub_link(r->ep->hub, s->ep, r->ep);
	if (r->rx_count > l->queue_frames / 2 || r->dg_count > MEM_DGRAM_RING / 2)
		return;
	s->want_writable = false;
	nn_tp *tp = &s->ep->tp;
	if (tp->sink.on_writable)
		tp->sink.on_writable(tp->sink.ctx, &s->pub);
}

static void on_conn_timer(nn_timer *t, void *arg)
{
	(void)t;
	mem_conn *c = arg;
	nn_tp *tp = &c->ep->tp;
	nn_mem_hub *h = c->ep->hub;
	nn_time now = nn_clock_now(h->clk), rd = c->ep->read_delay;
	while (c->state == MC_OPEN) {
		if (c->rx_head && c->rx_head->at <= now - rd) {
			nn_pkt *k = c->rx_head;
			c->rx_head = k->next;
			if (!c->rx_head)
				c->rx_tail = NULL;
			c->rx_count--;
			c->rx_delivered++;
			k->next = NULL;
			h->st.frames_delivered++;
			if (c->pub.kind == NN_CONN_MEDIA)
				c->ep->guard.media_msg_rx++;
			nn_tp_deliver_frame(tp, &c->pub, k);
			maybe_writable(c);
		} else if (c->dg_head && c->dg_head->at <= now - rd) {
			nn_pkt *k = c->dg_head;
			c->dg_head = k->next;
			c->dg_count--;
			k->next = NULL;
			c->ep->guard.media_dgram_rx++;
			nn_tp_deliver_datagram(tp, &c->pub, k);
			maybe_writable(c);
		} else if (c->close_pending && c->close_at <= now && !c->rx_head) {
			c->state = MC_CLOSING;
			break;
		} else {
			break;
		}
	}
	if (c->state == MC_CLOSING) {
		int err = c->close_err; /* 0 for our own close, NN_ECLOSED for the peer's */
		if (tp->sink.on_closed)
			tp->sink.on_closed(tp->sink.ctx, &c->pub, err, c->close_reason);
		conn_free(c);
		return;
	}
	rearm(c);
}
