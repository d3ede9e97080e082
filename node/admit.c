/* admit.c — inbound admission (local policy): who may hold an inbound edge, whom to shed for a
 * newcomer, and what a refused newcomer is told.
 *
 * The node decides, not the transport: the transport's connection caps sit above the node's
 * edge caps (nodenet.h nn_node_opts), so every newcomer that completes a handshake reaches
 * nn_node_register with its first frame. There, in order:
 *   1. shares: at most in_per_ip inbound edges from one source IP and in_per_subnet from one
 *      /24 or /64 (no subnet for loopback), so a few addresses cannot take every slot; a peer
 *      redialling to replace the edge we dialled to it is exempt, and a refused peer we already
 *      know has its new address learnt so our own fill may dial it (conn.c nn_node_register);
 *   2. the edge cap: a newcomer within its shares sheds the longest-idle inbound finger of the
 *      most crowded bucket (never a sibling, never an edge we dialled);
 *   3. a newcomer refused at any cap, and a finger shed for one, gets a Referral — up to 16
 *      keyed contacts closest to it, x_pub zeroed, none we failed to reach lately — sent on its
 *      connection just before the policy close, instead of silence.
 * The receiving side takes a Referral only on a connection it dialled, once per connection,
 * as third-party hints (NN_ROUTING_SRC_HINT), and dials the referred contacts at once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "node/node_impl.h"
#include "routing/control.h"

/* ---- source keys ---- */

static unsigned default_source(void *user, const nn_addr *a, uint8_t ip[16], uint8_t subnet[16])
{
	(void)user;
	struct sockaddr_storage ss;
	socklen_t len;
	if (nn_addr_to_sockaddr(a, &ss, &len) != 0)
		return 0; /* not an IP address (mem names): no shares */
	memset(ip, 0, 16);
	if (ss.ss_family == AF_INET) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		memcpy(ip, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	unsigned have = NN_NODE_HAS_IP;
	if (nn_addr_subnet(a, subnet) == 0)
		have |= NN_NODE_HAS_SUBNET;
	return have;
}

void nn_node_admit_init(nn_node *n)
{
	size_t cap = n->opts.max_inbound_edges ? n->opts.max_inbound_edges : NN_ROUTING_INBOUND_CAP;
	n->in_per_ip = n->opts.max_inbound_edges_per_ip;
	if (!n->in_per_ip)
		n->in_per_ip = cap / 16 ? (unsigned)(cap / 16) : 1;
	n->in_per_subnet = n->opts.max_inbound_edges_per_subnet;
	if (!n->in_per_subnet)
		n->in_per_subnet = cap / 32 ? (unsigned)(cap / 32) : 1;
	n->edges_per_subnet = n->opts.max_edges_per_subnet;
	if (!n->edges_per_subnet)
		n->edges_per_subnet = NN_NODE_EDGES_PER_SUBNET;
	n->near_per_subnet = n->opts.max_near_edges_per_subnet;
	if (!n->near_per_subnet)
		n->near_per_subnet = NN_NODE_EDGES_PER_SUBNET;
	n->source_fn = default_source;
	n->source_user = NULL;
}

void nn_node_set_source_fn(nn_node *n, nn_node_source_fn fn, void *user)
{
	n->source_fn = fn ? fn : default_source;
	n->source_user = fn ? user : NULL;
}

void nn_node_admit_keys(nn_node *n, struct nconn *nc, const nn_conn *c)
{
	unsigned have = n->source_fn(n->source_user, &c->remote_addr, nc->ip, nc->subnet);
	nc->has_ip = (have & NN_NODE_HAS_IP) != 0;
	nc->has_subnet = (have & NN_NODE_HAS_SUBNET) != 0;
}

/* ---- shares ---- */

/* Live edges, in both directions, in bucket min_bucket or deeper (0: all), whose remote address
 * is in subnet `key` (the edge table's keys come from the same source-key hook, node.c
 * nn_node_subnet_key); `except`'s own edge, which a newcomer would replace, does not count. */
static size_t live_in_subnet(const nn_node *n, const uint8_t key[16], const nn_id *except,
			     unsigned min_bucket)
{
	size_t same = 0, len = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < len; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		same += e->bucket >= min_bucket && e->has_subnet && !memcmp(e->subnet, key, 16) &&
			!nn_kad_id_eq(&e->id, except);
	}
	return same;
}

/* The depth of our neighbourhood: the first knowledge bucket that is not full after the run of
 * full ones that starts at the first non-empty bucket (below the PoW difficulty all buckets are
 * empty). Peers sharing at least D leading bits with us are "near": an
 * eclipse needs identities there, while honest hosts of one /24 (a NAT, a LAN) land there only
 * by chance (2^-D each). Identities near us cannot lower D (they fill deep buckets, not a
 * shallow one), and one /24 holds at most NN_ROUTING_SUBNET_CAP table entries, too few to fill
 * bucket D on its own. 0 (no full bucket: a small overlay, where everyone would be near)
 * means no near region. */
unsigned nn_node_near_depth(const nn_node *n)
{
	unsigned b = 0; /* buckets below the PoW difficulty are empty by construction: skip them */
	while (b < NN_ROUTING_BUCKETS && nn_routing_kt_bucket_len(n->kt, b) == 0)
		b++;
	unsigned d = b;
	while (d < NN_ROUTING_BUCKETS && nn_routing_kt_bucket_len(n->kt, d) >= NN_ROUTING_K)
		d++;
	return d == b ? 0 : d;
}

/* The near-region share (local policy): an inbound newcomer near us is refused when its /24 or
 * /64 already holds near_per_subnet live edges (either direction) with near peers. The overall
 * inbound share (in_per_subnet) stays for peers elsewhere, so many hosts behind one NAT still
 * join through one node. Counted in dropped_inbound_near_subnet. */
static bool near_subnet_full(nn_node *n, const nn_conn *c)
{
	const struct nconn *me = c->user;
	unsigned d = nn_node_near_depth(n);
	if (!d || nn_kad_cpl(&n->ident.id, &c->remote_id) < d)
		return false;
	if (live_in_subnet(n, me->subnet, &c->remote_id, d) < n->near_per_subnet)
		return false;
	n->stats.dropped_inbound_near_subnet++;
	return true;
}

int nn_node_admit_shares(nn_node *n, const nn_conn *c)
{
	const struct nconn *me = c->user;
	if (!me || (!me->has_ip && !me->has_subnet))
		return 0;
	unsigned same_ip = 0, same_subnet = 0;
	size_t len = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < len; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		if (e->outgoing || nn_kad_id_eq(&e->id, &c->remote_id))
			continue; /* an edge the peer replaces does not count against it */
		const nn_conn *ec = e->conn;
		const struct nconn *o = ec->user;
		if (!o)
			continue;
		same_ip += me->has_ip && o->has_ip && !memcmp(o->ip, me->ip, 16);
		same_subnet += me->has_subnet && o->has_subnet && !memcmp(o->subnet, me->subnet, 16);
	}
	if (me->has_ip && same_ip >= n->in_per_ip) {
		n->stats.dropped_inbound_per_ip++;
		return NN_ROUTING_REFER_PER_IP;
	}
	/* inbound: the inbound share only. The live-edge share (edges_per_subnet) steers our own
	 * dials; refusing inbound newcomers by it would cap every NAT, household and CGNAT block
	 * at two edges per node (the nat-birthday lab: hosts behind one NAT could not join) */
	if (me->has_subnet && same_subnet >= n->in_per_subnet) {
		n->stats.dropped_inbound_per_subnet++;
		return NN_ROUTING_REFER_PER_SUBNET;
	}
	if (me->has_subnet && near_subnet_full(n, c))
		return NN_ROUTING_REFER_PER_SUBNET;
	return 0;
}

bool nn_node_subnet_full_addr(nn_node *n, const nn_addr *a, const nn_id *peer)
{
	uint8_t key[16];
	if (nn_node_subnet_key(n, a, key) != 0 ||
	    live_in_subnet(n, key, peer, 0) < n->edges_per_subnet)
		return false;
	n->stats.dials_skipped_subnet++;
	return true;
}

bool nn_node_subnet_full(nn_node *n, const nn_id *contact)
{
	const nn_routing_kc *c = nn_routing_kt_get(n->kt, contact, NULL);
	uint8_t key[16];
	if (!c || !nn_routing_kc_subnet(c, nn_node_subnet_key, n, key))
		return false;
	size_t have = live_in_subnet(n, key, contact, 0);
	/* dials in flight to that subnet will be edges too */
	for (const struct nconn *nc = n->conns; nc && have < n->edges_per_subnet; nc = nc->next) {
		if (!nc->dialling || nn_kad_id_eq(&nc->want, contact) ||
		    nn_routing_edges_find(n->edges, &nc->want))
			continue;
		const nn_routing_kc *d = nn_routing_kt_get(n->kt, &nc->want, NULL);
		uint8_t dk[16];
		if (d && nn_routing_kc_subnet(d, nn_node_subnet_key, n, dk) && !memcmp(dk, key, 16))
			have++;
	}
	if (have < n->edges_per_subnet)
		return false;
	n->stats.dials_skipped_subnet++;
	return true;
}

/* ---- Referrals: sending ---- */

/* Compose a Referral for `to` into n->tx: its closest keyed contacts with addresses, x_pub
 * zeroed, skipping `to` and contacts we failed to reach lately. Returns the frame length. */
static int referral_frame(nn_node *n, const nn_id *to, uint8_t reason)
{
	static const uint8_t zero[NN_ROUTING_NONCE_LEN];
	nn_routing_neighbors nb;
	nn_routing_neighbors_init(&nb, zero);
	/* keyed contacts with addresses only: a keyless hint would lose its addresses at the
	 * newcomer */
	_Static_assert(NN_ROUTING_REFERRAL_MAX <= NN_ROUTING_SIBLINGS, "one call fills a Referral");
	(void)nn_node_share_closest(n, &nb, to, to, NN_ROUTING_REFERRAL_MAX, true);
	return nn_routing_referral_frame(n->tx, NN_WIRE_MAX_FRAME, reason, &nb);
}

static void send_referral(nn_node *n, nn_conn *c, uint8_t reason)
{
	int len = referral_frame(n, &c->remote_id, reason);
	if (len > 0 && nn_tp_send(n->tp, c, n->tx, (size_t)len) == 0)
		n->stats.referrals_tx++;
}

void nn_node_refuse(nn_node *n, nn_conn *c, uint8_t reason)
{
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "inbound %s refused (reason %u): referred elsewhere",
		    nn_node_hex(&c->remote_id, hex), reason);
	send_referral(n, c, reason);
	nn_node_close_conn(n, c, NN_TP_REASON_POLICY);
}

/* ---- shedding ---- */

/* Siblings and outgoing edges are never shed, so a flood of inbound connections cannot
 * displace the edges we chose or our neighbourhood, and a bootstrap node never turns joiners
 * away once it is full. The shed peer gets a Referral, sees a policy close and backs off before
 * dialling us again. */
bool nn_node_make_inbound_room(nn_node *n)
{
	uint16_t count[NN_ROUTING_BUCKETS] = {0};
	size_t len = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < len; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		if (!e->outgoing && e->role == NN_ROUTING_ROLE_FINGER)
			count[e->bucket]++;
	}
	unsigned worst = 0;
	for (unsigned b = 1; b < NN_ROUTING_BUCKETS; b++)
		if (count[b] > count[worst])
			worst = b;
	const nn_routing_edge *victim = NULL;
	for (size_t i = 0; count[worst] && i < len; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		if (!e->outgoing && e->role == NN_ROUTING_ROLE_FINGER && e->bucket == worst &&
		    (!victim || e->last_seen < victim->last_seen))
			victim = e;
	}
	if (!victim)
		return false;
	nn_id id = victim->id;
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "inbound cap: shedding finger %s", nn_node_hex(&id, hex));
	send_referral(n, victim->conn, NN_ROUTING_REFER_SHED);
	n->stats.inbound_shed++;
	nn_node_drop_edge(n, &id, NN_TP_REASON_POLICY);
	return true;
}

/* ---- Referrals: receiving ---- */

void nn_node_on_referral(nn_node *n, nn_conn *c, const uint8_t *payload, size_t len)
{
	struct nconn *nc = c->user;
	if (!c->outbound || !nc || nc->referred) {
		n->stats.dropped_referral++; /* only the node we dialled may refer us, once */
		return;
	}
	nn_routing_neighbors nbs;
	nn_routing_neighbors *nb = &nbs;
	uint8_t reason;
	if (nn_routing_referral_decode(payload, len, &reason, nb) < 0) {
		n->stats.dropped_malformed++;
		return;
	}
	nc->referred = true;
	n->stats.referrals_rx++;
	n->stats.dropped_bad_addr += nb->dropped_addrs; /* left out of their contacts */
	nn_id ids[NN_ROUTING_REFERRAL_MAX];
	size_t k = 0;
	for (size_t i = 0; i < nb->count; i++) {
		nn_routing_contact ct;
		if (nn_routing_neighbors_get(nb, i, &ct) < 0 || nn_kad_id_eq(&ct.id, &n->ident.id) ||
		    nn_kad_id_eq(&ct.id, &c->remote_id))
			continue;
		nn_routing_contact_sanitize_hint(&ct); /* third-party word: no x_pub, keyless = no addr */
		int rc = nn_node_observe(n, &ct, NN_ROUTING_SRC_HINT);
		if (rc < 0)
			continue;
		n->stats.referral_contacts += rc == NN_ROUTING_OBS_ADDED;
		if (ct.naddrs)
			ids[k++] = ct.id;
	}
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "referred by %s (reason %u): %zu contact(s)",
		    nn_node_hex(&c->remote_id, hex), reason, k);
	nn_node_dial_some(n, ids, k);
}
