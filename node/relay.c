/* relay.c — volunteer relays at the node: the relay's side (RelayRequest → Grant + Bind, or
 * an immediate RelayRefuse), the callee's side (RelayBind → a punch burst at the callee-facing
 * allocation, so the relay pins us; the relayed connection then arrives as an ordinary inbound
 * edge) and the frames the requester's relay stage (ops.c) sends and receives.
 *
 * Rules (local policy unless marked): a relay serves only when it volunteers (-relay) on a
 * transport with NN_TP_CAP_RELAY, has a live edge to the target, the target is neither the
 * requester nor itself, and the transport grants a session; otherwise it answers RelayRefuse
 * (62) with the reason at once — never silence (the reference's silence costs the requester
 * its whole deadline). Requests and Binds charge a per-connection bucket (NN_NODE_RELAY_RATE);
 * over it a request is refused (reason rate-limited) and a Bind dropped, both counted. A Bind
 * is taken only from an edge whose knowledge entry advertises CanRelay (any other neighbour
 * could otherwise make us punch an address of its choosing: facts §18) and only for a
 * dialable address. Allocation addresses on a wildcard socket carry an unspecified host: the
 * relay puts its own advertised host in, and receivers fall back to the host they see the
 * relay's edge at. Everything refused or dropped is counted (stats relay_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

/* ---- helpers ---- */

/* host part of a quic endpoint "host:port": length up to the last ':' */
static size_t host_len(const nn_addr *a)
{
	for (size_t i = a->ep_len; i > 0; i--)
		if (a->ep[i - 1] == ':')
			return i - 1;
	return 0;
}

static bool host_unspecified(const nn_addr *a)
{
	if (!nn_addr_is_quic(a))
		return false;
	size_t h = host_len(a);
	return (h == 7 && !memcmp(a->ep, "0.0.0.0", 7)) || (h == 4 && !memcmp(a->ep, "[::]", 4));
}

void nn_node_relay_fix_host(nn_addr *a, const nn_addr *ref)
{
	if (!host_unspecified(a) || !ref || !nn_addr_is_quic(ref) || host_unspecified(ref))
		return;
	size_t rh = host_len(ref), ah = host_len(a);
	if (!rh)
		return;
	char ep[NN_ADDR_EP_MAX + 1];
	int k = snprintf(ep, sizeof ep, "%.*s%.*s", (int)rh, ref->ep, (int)(a->ep_len - ah), a->ep + ah);
	nn_addr fixed;
	if (k > 0 && k <= NN_ADDR_EP_MAX && nn_addr_set(&fixed, "quic", ep) == 0 &&
	    nn_addr_check(&fixed) == 0)
		*a = fixed;
}

static int send_payload(nn_node *n, nn_conn *c, uint8_t type, const uint8_t *p, size_t len)
{
	int flen = nn_wire_frame_encode(n->tx, NN_WIRE_MAX_FRAME, type, p, len);
	if (flen < 0)
		return flen;
	return nn_node_send_conn(n, c, n->tx, (size_t)flen);
}

static bool charge(nn_node *n, nn_conn *c)
{
	struct nconn *nc = c->user;
	if (!nc)
		return false;
	if (!nc->relay_limit_on) {
		nn_tbucket_state_init(&nc->relay_limit);
		nc->relay_limit_on = true;
	}
	return nn_tbucket_state_take(&nc->relay_limit, NN_NODE_RELAY_RATE, NN_NODE_RELAY_BURST, 1,
				     nn_node_now(n));
}

static void refuse(nn_node *n, nn_conn *c, const uint8_t nonce[NN_NAT_RELAY_NONCE_LEN],
		   uint8_t reason)
{
	nn_nat_relay_refuse m;
	memcpy(m.nonce, nonce, sizeof m.nonce);
	m.reason = reason;
	uint8_t buf[NN_NAT_RELAY_REFUSE_LEN];
	int len = nn_nat_relay_refuse_encode(&m, buf, sizeof buf);
	if (len > 0 && send_payload(n, c, NN_T_RELAY_REFUSE, buf, (size_t)len) == 0)
		n->stats.relay_refusals_tx++;
}

/* ---- the relay's side ---- */
void nn_node_on_relay_request(nn_node *n, nn_conn *c, const uint8_t *p, size_t len)
{
	nn_nat_relay_request m;
	if (nn_nat_relay_request_decode(&m, p, len) < 0) {
		n->stats.dropped_malformed++;
		return;
	}
	n->stats.relay_requests_rx++;
	if (!charge(n, c)) {
		n->stats.dropped_relay_rate++;
		refuse(n, c, m.nonce, NN_NAT_RELAY_RATE);
		return;
	}
	if (!n->opts.relay || !(n->tp->caps & NN_TP_CAP_RELAY)) {
		refuse(n, c, m.nonce, NN_NAT_RELAY_NOT_VOLUNTEER);
		return;
	}
	if (nn_kad_id_eq(&m.target, &c->remote_id) || nn_kad_id_eq(&m.target, &n->ident.id)) {
		refuse(n, c, m.nonce, NN_NAT_RELAY_BAD);
		return;
	}
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &m.target);
	if (!e || !e->conn) {
		refuse(n, c, m.nonce, NN_NAT_RELAY_NO_EDGE);
		return;
	}
	nn_tp_relay r;
	if (nn_tp_relay_alloc(n->tp, &r) < 0) {
		refuse(n, c, m.nonce, NN_NAT_RELAY_BUSY);
		return;
	}
	/* a wildcard socket: our own advertised host */
	nn_addr coords[NN_NAT_MAX_ADDRS];
	size_t nc = nn_node_coords(n, coords, NN_NAT_MAX_ADDRS);
	for (size_t i = 0; i < nc && (host_unspecified(&r.a) || host_unspecified(&r.b)); i++) {
		nn_node_relay_fix_host(&r.a, &coords[i]);
		nn_node_relay_fix_host(&r.b, &coords[i]);
	}
	nn_nat_relay_grant g;
	memcpy(g.nonce, m.nonce, sizeof g.nonce);
	g.addr = r.a;
	uint8_t gb[NN_NAT_RELAY_GRANT_MAX], bb[NN_NAT_RELAY_BIND_MAX];
	int gl = nn_nat_relay_grant_encode(&g, gb, sizeof gb);
	int bl = nn_nat_relay_bind_encode(&r.b, bb, sizeof bb);
	nn_conn *callee = e->conn;
	/* Bind first: the callee's punch should be on its way before the caller's dial */
	if (gl < 0 || bl < 0 || send_payload(n, callee, NN_T_RELAY_BIND, bb, (size_t)bl) < 0 ||
	    send_payload(n, c, NN_T_RELAY_GRANT, gb, (size_t)gl) < 0) {
		(void)nn_tp_relay_free(n->tp, r.id);
		refuse(n, c, m.nonce, NN_NAT_RELAY_BUSY);
		return;
	}
	n->stats.relay_served++;
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "relay session %llu for %s",
		    (unsigned long long)r.id, nn_node_hex(&m.target, hex));
}

/* ---- the callee's side ---- */
void nn_node_on_relay_bind(nn_node *n, nn_conn *c, const uint8_t *p, size_t len)
{
	nn_addr a;
	if (nn_node_decoded(n, nn_nat_relay_bind_decode(&a, p, len)) < 0)
		return;
	n->stats.relay_binds_rx++;
	const nn_routing_kc *k = nn_routing_kt_get(n->kt, &c->remote_id, NULL);
	if (!k || !(k->caps & NN_ROUTING_CAP_RELAY)) {
		n->stats.dropped_relay_bind++; /* only a volunteer may make us punch */
		return;
	}
	if (!charge(n, c)) {
		n->stats.dropped_relay_rate++;
		return;
	}
	nn_node_relay_fix_host(&a, &c->remote_addr);
	if (!nn_node_addr_dialable(n, &a)) {
		n->stats.dropped_relay_bind++;
		return;
	}
	nn_node_nat_sent_to(n, &a);
	for (unsigned i = 0; i < NN_NODE_RELAY_PUNCHES; i++)
		if (nn_tp_punch(n->tp, &a) == 0)
			n->stats.punches_tx++;
	nn_node_relayed_note(n, NULL, &c->remote_id, &a); /* the caller is not named in a Bind */
}

/* ---- relayed edges we took part in (console `nat`, connect's how) ---- */
void nn_node_relayed_note(nn_node *n, const nn_id *peer, const nn_id *relay, const nn_addr *a)
{
	if (!n->relayed && !(n->relayed = calloc(NN_NODE_RELAYED, sizeof *n->relayed))) {
		nn_node_log(n, NN_LOG_WARN, "relay: out of memory: a relayed edge goes unrecorded");
		nn_node_upgrade_kick(n);
		return;
	}
	struct relayed *r = NULL;
	for (unsigned i = 0; i < NN_NODE_RELAYED && !r; i++)
		if (n->relayed[i].used && nn_addr_eq(&n->relayed[i].addr, a))
			r = &n->relayed[i]; /* the same allocation again: one slot */
	if (!r)
		r = &n->relayed[n->relayed_next++ % NN_NODE_RELAYED];
	memset(r, 0, sizeof *r);
	if (peer)
		r->peer = *peer;
	r->relay = *relay;
	r->addr = *a;
	r->used = true;
	nn_node_upgrade_kick(n); /* keep looking for a direct path (upgrade.c) */
}

bool nn_node_conn_relayed(nn_node *n, const nn_conn *c)
{
	(void)n;
	const struct nconn *nc = c ? c->user : NULL;
	return nc && nc->path == NN_PATH_RELAY;
}

bool nn_node_relayed_addr(nn_node *n, const nn_addr *a)
{
	for (unsigned i = 0; n->relayed && i < NN_NODE_RELAYED; i++)
		if (n->relayed[i].used && nn_addr_eq(&n->relayed[i].addr, a))
			return true;
	return false;
}

size_t nn_node_relays_in_use(nn_node *n, nn_id *relays, nn_addr *addrs, size_t cap)
{
	size_t k = 0, ne = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < ne; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		const nn_conn *c = e ? e->conn : NULL;
		if (!nn_node_conn_relayed(n, c))
			continue;
		if (k < cap) { /* the relay from the ring (zero if the ring has moved on) */
			memset(&relays[k], 0, sizeof relays[k]);
			addrs[k] = c->remote_addr;
			for (unsigned j = 0; n->relayed && j < NN_NODE_RELAYED; j++) {
				const struct relayed *r = &n->relayed[j];
				if (r->used && nn_addr_eq(&r->addr, &c->remote_addr)) {
					relays[k] = r->relay;
					break;
				}
			}
		}
		k++;
	}
	return k;
}

/* ---- the requester's side: frames for ops.c ---- */
int nn_node_send_relay_request(nn_node *n, nn_conn *relay, const nn_id *target,
			       const uint8_t nonce[NN_NAT_RELAY_NONCE_LEN])
{
	nn_nat_relay_request m;
	memcpy(m.nonce, nonce, sizeof m.nonce);
	m.target = *target;
	uint8_t buf[NN_NAT_RELAY_REQUEST_LEN];
	int len = nn_nat_relay_request_encode(&m, buf, sizeof buf);
	if (len < 0)
		return len;
	int rc = send_payload(n, relay, NN_T_RELAY_REQUEST, buf, (size_t)len);
	if (rc == 0)
		n->stats.relay_requests_tx++;
	return rc;
}

void nn_node_on_relay_grant(nn_node *n, nn_conn *c, const uint8_t *p, size_t len)
{
	nn_nat_relay_grant m;
	if (nn_node_decoded(n, nn_nat_relay_grant_decode(&m, p, len)) < 0)
		return;
	nn_node_relay_fix_host(&m.addr, &c->remote_addr);
	if (nn_node_ops_relay_answer(n, &c->remote_id, m.nonce, &m.addr, 0) < 0)
		n->stats.dropped_unsolicited++;
}

void nn_node_on_relay_refuse(nn_node *n, nn_conn *c, const uint8_t *p, size_t len)
{
	nn_nat_relay_refuse m;
	if (nn_nat_relay_refuse_decode(&m, p, len) < 0) {
		n->stats.dropped_malformed++;
		return;
	}
	if (nn_node_ops_relay_answer(n, &c->remote_id, m.nonce, NULL, m.reason) < 0)
		n->stats.dropped_unsolicited++;
}
