/* dispatch.c — one frame from an edge: parse, register or refresh the edge, dispatch by type.
 *
 * Per-edge control frames (Ping, Pong, Siblings, Leave), App frames, Referrals (admit.c) and
 * the relay frames RelayRequest / Grant / Bind / Refuse (relay.c) are handled here; routed
 * types go to route.c. Rate limits (local policy): Ping and Siblings charge the edge's control
 * bucket (the reference never limits pings: DESIGN §5.9), App charges its forward bucket.
 * A malformed frame on an unregistered connection closes it; on a registered edge it is
 * dropped and counted. Unknown types are ignored, the edge stays up.
 */
#include <string.h>

#include "node/node_impl.h"
#include "routing/control.h"

int nn_node_send_ping(nn_node *n, nn_conn *c)
{
	uint8_t frame[8];
	int len = nn_routing_ping_frame(frame, sizeof frame);
	if (len < 0)
		return len;
	n->stats.pings_tx++;
	return nn_node_send_conn(n, c, frame, (size_t)len);
}

static void on_ping(nn_node *n, nn_conn *c, const nn_frame *f)
{
	if (!nn_routing_edges_allow_control(n->edges, &c->remote_id, nn_node_now(n))) {
		n->stats.dropped_rate_limited++;
		return;
	}
	uint8_t frame[8 + NN_ADDR_TEXT_MAX];
	int len = nn_routing_pong_frame(frame, sizeof frame, &c->remote_addr);
	if (len > 0)
		(void)nn_node_send_answer(n, c, frame, (size_t)len);
	(void)f;
}

static void on_pong(nn_node *n, nn_conn *c, const nn_frame *f)
{
	nn_addr observed;
	if (nn_node_decoded(n, nn_routing_pong_decode(f->payload, f->len, &observed)) < 0)
		return;
	/* the Pong already refreshed the edge's liveness; what it saw of us feeds the NAT
	 * verdict (nat.c) */
	nn_node_nat_pong(n, c, &observed);
}

static void on_siblings(nn_node *n, nn_conn *c, const nn_frame *f)
{
	uint8_t nonce[NN_ROUTING_NONCE_LEN];
	if (nn_routing_nonce_decode(f->payload, f->len, nonce) < 0) {
		n->stats.dropped_malformed++;
		return;
	}
	if (!nn_routing_edges_allow_control(n->edges, &c->remote_id, nn_node_now(n))) {
		n->stats.dropped_rate_limited++;
		return;
	}
	(void)nn_node_send_neighbors(n, &c->remote_id, &n->ident.id, nonce, c);
}

static void on_app(nn_node *n, nn_conn *c, const nn_frame *f)
{
	if (!nn_routing_edges_allow_forward(n->edges, &c->remote_id, nn_node_now(n))) {
		n->stats.dropped_rate_limited++;
		return;
	}
	n->stats.direct_rx++;
	if (n->opts.cb.on_direct)
		n->opts.cb.on_direct(n->opts.cb.user, &c->remote_id, f->payload, f->len);
}

void nn_node_on_frame(void *ctx, nn_conn *c, nn_pkt **pktp)
{
	nn_node *n = ctx;
	nn_pkt *pkt = *pktp;
	struct nconn *nc = c->user;
	if (!nc || nc->closing) {
		n->stats.dropped_tombstoned++; /* a dropped edge cannot be resurrected */
		return;
	}
	nc->answer_by = 0; /* the peer is alive (conn.c: unanswered dials) */
	nc->unanswered_since = 0; /* ... and answers (keepalive.c) */
	nc->unanswered_ping = 0;
	if (c->kind != NN_CONN_OVERLAY)
		return;
	nn_frame f;
	int rc = nn_wire_frame_decode_exact(pkt->data, pkt->len, &f);
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &c->remote_id);
	bool registered = e && e->conn == c;
	if (rc < 0) {
		n->stats.dropped_malformed++;
		if (!registered) {
			nc->closing = true;
			nn_tp_close(n->tp, c, NN_TP_REASON_POLICY);
		}
		return;
	}
	nn_time last_seen = e ? e->last_seen : 0;
	if (registered || (nc->retired && e)) {
		/* a retired crossed-dial loser still carries the edge's frames (grace period) */
		nn_time now = nn_node_now(n);
		if (registered)
			nn_node_ka_rx(n, nc, last_seen, now); /* how long was it silent? */
		nn_routing_edges_touch(n->edges, &c->remote_id, now);
	} else if (nc->retired) {
		return; /* the winning edge is gone too: nothing to attribute the frame to */
	} else {
		if (n->stopping || nn_node_register(n, c) < 0)
			return;
	}
	if (nn_routing_is_routed_type(f.type)) { /* routing knows which types are routed */
		nn_node_route_frame(n, c, f.type, pkt->data, pkt->len);
		return;
	}
	switch (f.type) {
	case NN_T_PING:
		on_ping(n, c, &f);
		break;
	case NN_T_PONG:
		on_pong(n, c, &f);
		break;
	case NN_T_SIBLINGS:
		on_siblings(n, c, &f);
		break;
	case NN_T_LEAVE:
		if (nn_routing_empty_decode(f.payload, f.len) < 0) {
			n->stats.dropped_malformed++;
			break;
		}
		nn_node_drop_edge(n, &c->remote_id, NN_TP_REASON_NORMAL);
		/* it is leaving the overlay: forget it rather than dial it again */
		(void)nn_routing_kt_mark_dead(n->kt, &c->remote_id);
		break;
	case NN_T_APP:
		on_app(n, c, &f);
		break;
	case NN_T_REFERRAL:
		nn_node_on_referral(n, c, f.payload, f.len);
		break;
	case NN_T_KA_PROBE:
		nn_node_on_ka_probe(n, c, &f);
		break;
	case NN_T_KA_ECHO:
		nn_node_on_ka_echo(n, c, &f, last_seen);
		break;
	case NN_T_RELAY_REQUEST:
		nn_node_on_relay_request(n, c, f.payload, f.len);
		break;
	case NN_T_RELAY_GRANT:
		nn_node_on_relay_grant(n, c, f.payload, f.len);
		break;
	case NN_T_RELAY_BIND:
		nn_node_on_relay_bind(n, c, f.payload, f.len);
		break;
	case NN_T_RELAY_REFUSE:
		nn_node_on_relay_refuse(n, c, f.payload, f.len);
		break;
	default:
		n->stats.dropped_unknown_type++; /* ignored; the edge stays up */
		break;
	}
}
