/* media.c — media sessions (calls) at the node: open, admission, datagrams, messages, close.
 *
 * A session is one transport connection of kind NN_CONN_MEDIA, dialled on an overlay edge
 * (nn_tp_dial_media: the edge's observed address) and never registered as an edge: it is not
 * in the edge tables, does not count toward the floor, and no edge event closes it. Facts
 * §13.8: an inbound session passes PoW -> caps (16 per node, 4 per peer NodeID) -> consent (none
 * set = refuse) before the application sees anything; each refusal is counted. Every session has
 * a receive budget (two token buckets, charged before anything is copied or decoded). A failed
 * media dial (other than NN_EUNSUPPORTED: the peer is fine, it just has no media) and the end
 * of every session ping the peer's edge: an idle death hints that the path died, and the ping
 * finds it out (a failing send drops a zombie edge).
 *
 * Datagrams: nn_node_media_send hands a frame to the transport at once; when the transport
 * pushes back it goes into the session's 64-slot ring, and a full ring returns NN_EAGAIN. The
 * ring drains on the transport's on_writable (or a short retry timer). Messages go straight to
 * the transport (one frame = one unidirectional stream on QUIC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"
#include "pow/pow.h"
#include "transport/media.h"
#include "transport/tokenbucket.h"

static struct nn_msess *find(nn_node *n, uint64_t sid)
{
	for (struct nn_msess *s = n->msess; s; s = s->next)
		if (s->sid == sid)
			return s;
	return NULL;
}

static bool is_ours(nn_node *n, const void *p)
{
	for (struct nn_msess *s = n->msess; s; s = s->next)
		if (s == p)
			return true;
	return false;
}

static void pump_cb(nn_timer *t, void *arg);

static struct nn_msess *sess_new(nn_node *n, const nn_id *peer, bool inbound)
{
	struct nn_msess *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->node = n;
	s->sid = ++n->msess_next_sid;
	s->peer = *peer;
	s->inbound = inbound;
	nn_tbucket_init(&s->rx_bytes, NN_MEDIA_RX_BYTES_RATE, NN_MEDIA_RX_BYTES_BURST);
	nn_tbucket_init(&s->rx_pkts, NN_MEDIA_RX_PKTS_RATE, NN_MEDIA_RX_PKTS_BURST);
	nn_timer_init(&s->pump, pump_cb, s);
	s->next = n->msess;
	if (n->msess)
		n->msess->prev = s;
	n->msess = s;
	return s;
}

static void sess_free(nn_node *n, struct nn_msess *s)
{
	nn_timer_stop(n->clock, &s->pump);
	if (s->prev)
		s->prev->next = s->next;
	else
		n->msess = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->c)
		s->c->user = NULL;
	free(s->ring);
	free(s);
}

/* ---- application callbacks (counted in in_app like every call into the application) ---- */
static void app_state(nn_node *n, struct nn_msess *s, int status)
{
	if (s->app_closed || !n->app.on_media_state)
		return;
	n->in_app++;
	n->app.on_media_state(n->app.user, s->sid, &s->peer, s->inbound, status);
	n->in_app--;
}

/* Ping the peer's edge (a session ended, or a media dial failed): a send failure drops a zombie
 * edge (nn_node_send_conn). */
static void ping_edge(nn_node *n, const nn_id *peer)
{
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, peer);
	if (!e || n->stopping)
		return;
	n->stats.media_edge_pings++;
	(void)nn_node_send_ping(n, e->conn);
}

/* ---- outbound ---- */
static int dial_on_edge(nn_node *n, struct nn_msess *s)
{
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &s->peer);
	if (!e)
		return NN_EUNROUTABLE;
	nn_conn *ec = e->conn;
	s->addr = ec->remote_addr;
	int rc = nn_tp_dial_media(n->tp, ec, s);
	if (rc == 0)
		s->dialling = true;
	return rc;
}

struct connect_ctx {
	nn_node *n;
	uint64_t sid;
};

static void connected(void *user, int status, const nn_id *target, const char *how,
		      const char *addr)
{
	struct connect_ctx *cx = user;
	nn_node *n = cx->n;
	uint64_t sid = cx->sid;
	(void)target;
	(void)how;
	(void)addr;
	free(cx);
	struct nn_msess *s = find(n, sid);
	if (!s || !s->connecting)
		return;
	s->connecting = false;
	if (s->app_closed) {
		sess_free(n, s);
		return;
	}
	int rc = status;
	if (rc == 0)
		rc = dial_on_edge(n, s);
	if (rc < 0) {
		n->stats.media_dial_failed++;
		app_state(n, s, rc);
		sess_free(n, s);
	}
}

int nn_node_media_open(nn_node *n, const nn_id *target, int64_t timeout_ms, uint64_t *sid)
{
	if (!n || !target || !sid)
		return NN_EINVAL;
	if (nn_kad_id_eq(target, &n->ident.id))
		return NN_EINVAL;
	if (!(n->tp->caps & NN_TP_CAP_MEDIA))
		return NN_EUNSUPPORTED;
	if (n->stopping)
		return NN_ESTATE;
	unsigned out = 0;
	for (struct nn_msess *s = n->msess; s; s = s->next)
		out += !s->inbound;
	if (out >= NN_NODE_MEDIA_MAX_OUT)
		return NN_ELIMIT;
	struct nn_msess *s = sess_new(n, target, false);
	if (!s)
		return NN_ENOMEM;
	int rc;
	if (nn_routing_edges_find(n->edges, target)) {
		rc = dial_on_edge(n, s);
	} else {
		struct connect_ctx *cx = malloc(sizeof *cx);
		if (!cx) {
			rc = NN_ENOMEM;
		} else {
			cx->n = n;
			cx->sid = s->sid;
			rc = nn_node_connect(n, target, timeout_ms, connected, cx);
			if (rc < 0)
				free(cx);
			else
				s->connecting = true;
		}
	}
	if (rc < 0) {
		sess_free(n, s);
		return rc;
	}
	*sid = s->sid;
	return 0;
}

bool nn_node_media_dial_failed(nn_node *n, void *user, int err)
{
	if (!user || !is_ours(n, user))
		return false;
	struct nn_msess *s = user;
	s->dialling = false;
	n->stats.media_dial_failed++;
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "media dial %s failed: %s", nn_node_hex(&s->peer, hex),
		    nn_errname(err));
	/* the peer answered without media: its edge is fine. Anything else may mean the path
	 * died: ping the edge now */
	if (err != NN_EUNSUPPORTED && err != NN_ECANCELED)
		ping_edge(n, &s->peer);
	app_state(n, s, err);
	sess_free(n, s);
	return true;
}

/* ---- inbound admission and connection events ---- */
static void refuse(nn_node *n, nn_conn *c)
{
	c->user = NULL;
	nn_tp_close(n->tp, c, NN_TP_REASON_POLICY);
}

void nn_node_media_on_conn(nn_node *n, nn_conn *c)
{
	if (n->stopping) {
		if (c->outbound && is_ours(n, c->user))
			((struct nn_msess *)c->user)->app_closed = true;
		else
			c->user = NULL;
		nn_tp_close(n->tp, c, NN_TP_REASON_POLICY);
		return;
	}
	if (c->outbound) {
		struct nn_msess *s = c->user;
		if (!s || !is_ours(n, s)) { /* not a dial of ours */
			refuse(n, c);
			return;
		}
		s->c = c;
		s->dialling = false;
		if (s->app_closed) {
			nn_tp_close(n->tp, c, NN_TP_REASON_NORMAL);
			return;
		}
		s->up = true;
		n->stats.media_opened++;
		char hex[65];
		nn_node_log(n, NN_LOG_DEBUG, "media %llu up to %s", (unsigned long long)s->sid,
			    nn_node_hex(&s->peer, hex));
		app_state(n, s, 0);
		return;
	}
	/* inbound: PoW -> caps -> consent */
	const nn_id *peer = &c->remote_id;
	if (!nn_pow_ok(peer, n->pow)) {
		n->stats.dropped_media_sub_pow++;
		refuse(n, c);
		return;
	}
	unsigned all = 0, same = 0;
	for (struct nn_msess *s = n->msess; s; s = s->next) {
		if (!s->slot)
			continue;
		all++;
		same += nn_kad_id_eq(&s->peer, peer);
	}
	if (all >= NN_NODE_MEDIA_MAX_IN || same >= NN_NODE_MEDIA_MAX_PER_PEER) {
		n->stats.dropped_media_cap++;
		refuse(n, c);
		return;
	}
	struct nn_msess *s = sess_new(n, peer, true);
	if (!s) {
		n->stats.dropped_media_cap++;
		refuse(n, c);
		return;
	}
	/* the slot is held from here until the conn closes; its end pings the edge */
	s->slot = true;
	s->c = c;
	s->addr = c->remote_addr;
	c->user = s;
	bool ok = false;
	if (n->app.media_consent) {
		n->in_app++;
		ok = n->app.media_consent(n->app.user, peer, s->sid);
		n->in_app--;
	}
	if (!is_ours(n, s) || s->c != c || s->app_closed)
		return; /* the application closed it from inside consent */
	if (!ok) {
		n->stats.dropped_media_consent++;
		s->app_closed = true;
		nn_tp_close(n->tp, c, NN_TP_REASON_POLICY);
		return;
	}
	s->up = true;
	n->stats.media_accepted++;
	app_state(n, s, 0);
}

void nn_node_media_on_closed(nn_node *n, nn_conn *c, int err, uint64_t reason)
{
	struct nn_msess *s = c->user;
	if (!s || !is_ours(n, s))
		return;
	s->c = NULL;
	c->user = NULL;
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "media %llu to %s closed: %s (%llu)",
		    (unsigned long long)s->sid, nn_node_hex(&s->peer, hex), nn_errname(err),
		    (unsigned long long)reason);
	ping_edge(n, &s->peer);
	if (s->up) {
		int st = err < 0 ? err : NN_ECLOSED;
		if (err == NN_ECLOSED && reason == NN_TP_REASON_POLICY)
			st = NN_EREFUSED; /* the peer refused it (caps, consent) */
		else if (err == NN_ECLOSED && reason == NN_TP_REASON_UNSUPPORTED)
			st = NN_EUNSUPPORTED;
		app_state(n, s, st);
	}
	sess_free(n, s);
}

/* ---- receive ---- */
static bool within_budget(nn_node *n, struct nn_msess *s, size_t len)
{
	nn_time now = nn_node_now(n);
	if (nn_tbucket_take(&s->rx_pkts, 1, now) && nn_tbucket_take(&s->rx_bytes, (double)len, now))
		return true;
	s->st.rx_dropped_budget++;
	n->stats.dropped_media_budget++;
	return false;
}

void nn_node_media_on_datagram(nn_node *n, nn_conn *c, nn_pkt **pkt)
{
	struct nn_msess *s = c->user;
	if (!s || !is_ours(n, s) || !s->up || s->app_closed)
		return;
	const nn_pkt *k = *pkt;
	if (!within_budget(n, s, k->len))
		return;
	uint8_t ch;
	const uint8_t *p;
	size_t plen;
	if (nn_media_frame_decode(k->data, k->len, NN_MEDIA_DATAGRAM, &ch, &p, &plen) < 0) {
		s->st.rx_dropped_reserved++;
		n->stats.dropped_media_reserved++;
		return;
	}
	s->st.rx_datagrams++;
	if (!n->app.on_media_datagram)
		return;
	n->in_app++;
	/* the transport's receive timestamp (when it read the datagram), not our clock now */
	int64_t rx_ns = (int64_t)(k->at > 0 ? k->at : nn_node_now(n));
	n->app.on_media_datagram(n->app.user, s->sid, ch, p, plen, rx_ns);
	n->in_app--;
}

void nn_node_media_on_frame(nn_node *n, nn_conn *c, nn_pkt **pkt)
{
	struct nn_msess *s = c->user;
	if (!s || !is_ours(n, s) || !s->up || s->app_closed)
		return;
	const nn_pkt *k = *pkt;
	/* the packet bucket for the stream, the byte bucket for payload + 1 */
	if (!within_budget(n, s, k->len))
		return;
	uint8_t ch;
	const uint8_t *p;
	size_t plen;
	int rc = nn_media_frame_decode(k->data, k->len, NN_MEDIA_MESSAGE, &ch, &p, &plen);
	if (rc == NN_ETOOBIG) {
		s->st.rx_dropped_messages++;
		n->stats.dropped_media_reserved++; /* oversized */
		return;
	}
	if (rc < 0) {
		s->st.rx_dropped_reserved++;
		n->stats.dropped_media_reserved++;
		return;
	}
	s->st.rx_messages++;
	if (!n->app.on_media_message)
		return;
	n->in_app++;
	n->app.on_media_message(n->app.user, s->sid, ch, p, plen);
	n->in_app--;
}

/* ---- send ---- */
static uint8_t *ring_slot(struct nn_msess *s, unsigned i)
{
	return s->ring + (size_t)((s->ring_head + i) % NN_NODE_MEDIA_TX_RING) * NN_TP_MAX_DGRAM;
}

/* Hand queued datagrams to the transport until it pushes back. */
static void pump(nn_node *n, struct nn_msess *s)
{
	while (s->ring_count && s->c) {
		int rc = nn_tp_send_datagram(n->tp, s->c, ring_slot(s, 0), s->ring_len[s->ring_head]);
		if (rc == NN_EAGAIN)
			break;
		if (rc < 0)
			s->st.tx_dropped_send++; /* counted, never closes the session */
		s->ring_head = (s->ring_head + 1) % NN_NODE_MEDIA_TX_RING;
		s->ring_count--;
	}
	if (s->ring_count) {
		if (!nn_timer_armed(&s->pump))
			(void)nn_timer_start_in(n->clock, &s->pump, NN_MEDIA_PUMP_RETRY);
	} else {
		nn_timer_stop(n->clock, &s->pump);
	}
	if (s->want_writable && s->ring_count <= NN_NODE_MEDIA_TX_RING / 2 && s->up &&
	    !s->app_closed) {
		s->want_writable = false;
		if (n->app.on_media_writable) {
			n->in_app++;
			n->app.on_media_writable(n->app.user, s->sid);
			n->in_app--;
		}
	}
}

static void pump_cb(nn_timer *t, void *arg)
{
	(void)t;
	struct nn_msess *s = arg;
	pump(s->node, s);
}

void nn_node_media_on_writable(nn_node *n, nn_conn *c)
{
	struct nn_msess *s = c->user;
	if (s && is_ours(n, s))
		pump(n, s);
}

static int usable(nn_node *n, uint64_t sid, uint8_t ch, struct nn_msess **out)
{
	struct nn_msess *s = find(n, sid);
	if (!s || s->app_closed)
		return NN_ENOENT;
	if (ch < NN_NODE_MEDIA_CH_FIRST)
		return NN_EINVAL;
	if (!s->up || !s->c)
		return NN_ESTATE;
	*out = s;
	return 0;
}

int nn_node_media_send(nn_node *n, uint64_t sid, uint8_t ch, const void *data, size_t len)
{
	if (!n || (!data && len))
		return NN_EINVAL;
	struct nn_msess *s;
	int rc = usable(n, sid, ch, &s);
	if (rc < 0)
		return rc;
	if (len > NN_NODE_MEDIA_MAX_DGRAM)
		return NN_ETOOBIG;
	uint8_t frame[NN_TP_MAX_DGRAM];
	int flen = nn_media_frame_encode(frame, sizeof frame, NN_MEDIA_DATAGRAM, ch, data, len);
	if (flen < 0)
		return flen;
	if (!s->ring_count) {
		rc = nn_tp_send_datagram(n->tp, s->c, frame, (size_t)flen);
		if (rc == 0) {
			s->st.tx_datagrams++;
			return 0;
		}
		if (rc == NN_ECLOSED)
			return rc;
		if (rc != NN_EAGAIN) {
			/* accepted by us, refused by the transport (path MTU, buffers): counted */
			s->st.tx_datagrams++;
			s->st.tx_dropped_send++;
			return 0;
		}
	}
	if (s->ring_count >= NN_NODE_MEDIA_TX_RING) {
		s->st.tx_dropped_queue++;
		n->stats.dropped_media_queue++;
		s->want_writable = true;
		return NN_EAGAIN;
	}
	if (!s->ring) {
		s->ring = malloc((size_t)NN_NODE_MEDIA_TX_RING * NN_TP_MAX_DGRAM);
		if (!s->ring)
			return NN_ENOMEM;
	}
	memcpy(ring_slot(s, s->ring_count), frame, (size_t)flen);
	s->ring_len[(s->ring_head + s->ring_count) % NN_NODE_MEDIA_TX_RING] = (uint16_t)flen;
	s->ring_count++;
	s->st.tx_datagrams++;
	if (!nn_timer_armed(&s->pump))
		(void)nn_timer_start_in(n->clock, &s->pump, NN_MEDIA_PUMP_RETRY);
	return 0;
}

int nn_node_media_send_message(nn_node *n, uint64_t sid, uint8_t ch, const void *data,
			       size_t len)
{
	if (!n || (!data && len))
		return NN_EINVAL;
	struct nn_msess *s;
	int rc = usable(n, sid, ch, &s);
	if (rc < 0)
		return rc;
	if (len > NN_NODE_MEDIA_MAX_MESSAGE)
		return NN_ETOOBIG;
	int flen = nn_media_frame_encode(n->tx, NN_WIRE_MAX_FRAME, NN_MEDIA_MESSAGE, ch, data, len);
	if (flen < 0)
		return flen;
	rc = nn_tp_send(n->tp, s->c, n->tx, (size_t)flen);
	if (rc == 0)
		s->st.tx_messages++;
	else if (rc == NN_ETIMEDOUT)
		s->st.tx_dropped_stall++;
	return rc;
}

int nn_node_media_close(nn_node *n, uint64_t sid)
{
	if (!n)
		return NN_EINVAL;
	struct nn_msess *s = find(n, sid);
	if (!s || s->app_closed)
		return NN_ENOENT;
	s->app_closed = true;
	if (s->c) {
		nn_tp_close(n->tp, s->c, NN_TP_REASON_NORMAL); /* on_closed frees the record */
		return 0;
	}
	if (!s->connecting && !s->dialling)
		sess_free(n, s);
	/* else: the connect's completion or the dial's outcome frees it */
	return 0;
}

int nn_node_media_info(nn_node *n, uint64_t sid, nn_media_info *out)
{
	if (!n || !out)
		return NN_EINVAL;
	const struct nn_msess *s = find(n, sid);
	if (!s || s->app_closed)
		return NN_ENOENT;
	memset(out, 0, sizeof *out);
	out->peer = s->peer;
	const nn_addr *a = s->inbound && s->c ? &s->c->remote_addr : &s->addr; /* the dialler moves it */
	if (a->ep_len)
		snprintf(out->addr, sizeof out->addr, "%.*s", (int)a->ep_len, a->ep);
	out->inbound = s->inbound;
	out->up = s->up;
	out->tx_queued = s->ring_count;
	out->stats = s->st;
	return 0;
}

size_t nn_node_media_list(nn_node *n, uint64_t *out, size_t cap)
{
	size_t k = 0;
	for (const struct nn_msess *s = n ? n->msess : NULL; s; s = s->next) {
		if (s->app_closed)
			continue;
		if (k < cap && out)
			out[k] = s->sid;
		k++;
	}
	return k;
}

/* ---- the edge moved (relay -> direct upgrade) ---- */
void nn_node_media_edge_moved(nn_node *n, const nn_id *peer, nn_conn *edge)
{
	for (struct nn_msess *s = n->msess; s; s = s->next) {
		if (s->inbound || !s->up || !s->c || s->app_closed || !nn_kad_id_eq(&s->peer, peer))
			continue;
		int rc = nn_tp_move_media(n->tp, s->c, edge);
		char hex[65];
		if (rc == 0) {
			s->addr = edge->remote_addr;
			n->stats.media_moved++;
			nn_node_log(n, NN_LOG_INFO, "media %llu to %s moved with its edge to %.*s",
				    (unsigned long long)s->sid, nn_node_hex(peer, hex),
				    (int)edge->remote_addr.ep_len, edge->remote_addr.ep);
		} else {
			n->stats.media_move_failed++; /* the session stays on its path */
			nn_node_log(n, NN_LOG_INFO, "media %llu to %s not moved: %s",
				    (unsigned long long)s->sid, nn_node_hex(peer, hex), nn_errname(rc));
		}
	}
}

/* ---- lifecycle ---- */
void nn_node_media_close_all(nn_node *n)
{
	for (struct nn_msess *s = n->msess; s; s = s->next) {
		s->app_closed = true;
		if (s->c)
			nn_tp_close(n->tp, s->c, NN_TP_REASON_NORMAL);
	}
}

void nn_node_media_free(nn_node *n, bool forget_conns)
{
	while (n->msess) {
		struct nn_msess *s = n->msess;
		if (s->c && !forget_conns) {
			s->c->user = NULL;
			nn_tp_close(n->tp, s->c, NN_TP_REASON_NORMAL);
		}
		if (forget_conns)
			s->c = NULL;
		sess_free(n, s);
	}
}
