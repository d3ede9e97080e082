/* route.c — routed frames at every hop, origination over disjoint paths, lookups.
 *
 * At every hop (verifiable tier): strict decode, the arriving edge's forward bucket, PoW of the
 * originator (so sub-PoW traffic dies at the first honest hop), freshness (+-30 s), decide. A
 * transit frame is then checked before it moves on (DESIGN §5.10): not forwarded here before
 * (replays die at the first honest hop that saw the original), within the node's verification
 * budget, and its signature verifies (forgeries die at the first honest hop). It is forwarded
 * from the buffer it arrived in with only its TTL byte patched; a failed send moves on to the
 * next candidate (local repair). At the terminal the signature is verified, duplicates and
 * replays are suppressed (DESIGN §5.3), work requests are charged to the per-originator
 * limiter, and the message is handled by type.
 *
 * Origination signs once. To a live-edge target it sends one copy over that edge; otherwise one
 * copy per disjoint first hop, each with the other first hops in its avoid set; the copies are
 * built in the node's scratch buffer, the avoid set patched in place between sends.
 */
#include <sodium.h>
#include <string.h>

#include "node/node_impl.h"
#include "pow/pow.h"
#include "routing/control.h"

/* ---- solicited nonces (Lookup / Siblings answers) ----
 * Each request carries a fresh random nonce (CSPRNG) and a budget: the number of answers it
 * can honestly draw (one per copy sent, or per sibling asked). Answers beyond it are dropped
 * and counted, so a node on the path cannot answer one Lookup with Neighbors from many
 * identities (local policy, an eclipse aid otherwise). */
void nn_node_nonce_new(nn_node *n, uint8_t nonce[NN_ROUTING_NONCE_LEN], unsigned answers)
{
	nn_node_rand_bytes(n, nonce, NN_ROUTING_NONCE_LEN);
	nn_time now = nn_node_now(n);
	size_t victim = 0;
	for (size_t i = 0; i < NN_NODE_NONCES; i++) {
		if (n->nonces[i].expires <= now) {
			victim = i;
			break;
		}
		if (n->nonces[i].expires < n->nonces[victim].expires)
			victim = i;
	}
	memcpy(n->nonces[victim].nonce, nonce, NN_ROUTING_NONCE_LEN);
	n->nonces[victim].expires = now + NN_ROUTING_MAX_AGE;
	n->nonces[victim].answers = (uint8_t)(answers < 1 ? 1 : answers > 255 ? 255 : answers);
}

static struct nonce_slot *nonce_find(nn_node *n, const uint8_t nonce[NN_ROUTING_NONCE_LEN])
{
	nn_time now = nn_node_now(n);
	for (size_t i = 0; i < NN_NODE_NONCES; i++)
		if (n->nonces[i].expires > now &&
		    !memcmp(n->nonces[i].nonce, nonce, NN_ROUTING_NONCE_LEN))
			return &n->nonces[i];
	return NULL;
}

bool nn_node_nonce_valid(nn_node *n, const uint8_t nonce[NN_ROUTING_NONCE_LEN])
{
	return nonce_find(n, nonce) != NULL;
}

int nn_node_nonce_take(nn_node *n, const uint8_t nonce[NN_ROUTING_NONCE_LEN])
{
	struct nonce_slot *s = nonce_find(n, nonce);
	if (!s)
		return NN_ENONCE;
	if (!s->answers)
		return NN_ELIMIT;
	s->answers--;
	return 0;
}

/* ---- building frames ---- */
/* Sign and encode a routed frame into n->tx with navoid avoid entries (from avoid, may be
 * NULL when 0), sent at `sent` (wall clock). payload may already sit at its offset in n->tx.
 * Returns the frame length. The avoid entries are not signed: copies of one message built at
 * one `sent` carry one signature, so receivers and transit nodes see them as one. */
static int build_at(nn_node *n, uint8_t type, const nn_id *target, uint8_t ttl,
		    const nn_id *avoid, size_t navoid, const uint8_t *payload, size_t plen,
		    nn_time sent)
{
	int off = nn_routing_frame_payload_offset(navoid, plen);
	if (off < 0)
		return off;
	uint8_t *at = n->tx + off;
	if (plen && payload != at)
		memmove(at, payload, plen);
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	env.target = *target;
	env.ttl = ttl;
	memcpy(env.ed_pub, n->ident.ed_pub, NN_ED_PUB_LEN);
	env.sent = sent;
	env.navoid = (uint8_t)navoid;
	for (size_t i = 0; i < navoid; i++)
		env.avoid[i] = avoid[i];
	env.payload = at;
	env.plen = plen;
	uint8_t sig[NN_ED_SIG_LEN];
	int rc = nn_routing_env_sign(&n->ident, type, target, env.sent, at, plen, sig);
	if (rc < 0)
		return rc;
	env.sig = sig;
	return nn_routing_frame_encode(n->tx, NN_WIRE_MAX_FRAME, type, &env);
}

static int build(nn_node *n, uint8_t type, const nn_id *target, uint8_t ttl, const nn_id *avoid,
		 size_t navoid, const uint8_t *payload, size_t plen)
{
	return build_at(n, type, target, ttl, avoid, navoid, payload, plen, nn_node_wall(n));
}

int nn_node_originate(nn_node *n, uint8_t type, const nn_id *target, const uint8_t *payload,
		      size_t plen)
{
	return nn_node_originate_ex(n, type, target, payload, plen, NULL, 0, NULL, NULL);
}

static bool listed(const nn_id *ids, size_t k, const nn_id *id)
{
	for (size_t i = 0; i < k; i++)
		if (nn_kad_id_eq(&ids[i], id))
			return true;
	return false;
}

int nn_node_originate_ex(nn_node *n, uint8_t type, const nn_id *target, const uint8_t *payload,
			 size_t plen, const nn_id *avoid, size_t navoid, nn_id *first, size_t *nfirst)
{
	if (nfirst)
		*nfirst = 0;
	if (navoid > NN_NODE_SEND_MAX_AVOID)
		return NN_EINVAL;
	/* The target is a live edge: one copy straight over it (local policy). Disjoint copies
	 * would only reach it again through other edges, and a receiver that does not suppress
	 * duplicates (the reference) would deliver the message once per copy. The disjoint launch
	 * is the fallback when that edge refuses the frame. */
	const nn_routing_edge *edge = nn_routing_edges_find(n->edges, target);
	/* first hops not to take: the caller's (an earlier unacknowledged send's), and the target
	 * itself once its edge refused the frame */
	nn_id exclude[NN_NODE_SEND_MAX_AVOID + 1];
	size_t nex = 0;
	for (size_t i = 0; i < navoid; i++)
		exclude[nex++] = avoid[i];
	if (edge && listed(avoid, navoid, target))
		edge = NULL;
	size_t direct = 0;
	nn_time sent = nn_node_wall(n); /* one signature for the direct copy and the launch */
	if (edge) {
		nn_conn *ec = edge->conn;
		bool suspect = nn_node_edge_suspect(n, ec, nn_node_now(n));
		int len = build_at(n, type, target, NN_ROUTING_MAX_HOPS, NULL, 0, payload, plen,
				   sent);
		if (len < 0)
			return len;
		if (nn_node_send_conn(n, ec, n->tx, (size_t)len) == 0) {
			if (first && nfirst) {
				first[0] = *target;
				*nfirst = 1;
			}
			if (!suspect)
				return 1;
			/* a silent edge: the launch below carries a second copy (keepalive.c) */
			direct = 1;
			nn_node_suspect_copy(n, ec, nn_node_now(n));
		}
		exclude[nex++] = *target;
		/* the payload may sit in n->tx where the avoid-less frame put it: take it back out
		 * of harm's way before the launch re-encodes (build moves it into place again) */
		if (plen && payload >= n->tx && payload < n->tx + NN_WIRE_MAX_FRAME) {
			int off = nn_routing_frame_payload_offset(0, plen);
			if (off < 0)
				return off;
			payload = n->tx + off;
		}
	}
	nn_routing_launch L;
	size_t paths = NN_ROUTING_KMIN - direct; /* the direct copy is one of the KMin */
	int rc = nn_routing_launch_plan(n->edges, target, paths, nex ? exclude : NULL, nex, &L);
	if (rc == NN_EUNROUTABLE && navoid) /* every edge excluded: the plain launch after all */
		rc = nn_routing_launch_plan(n->edges, target, paths, exclude + navoid, nex - navoid,
					    &L);
	if (rc < 0)
		return direct ? 1 : rc;
	int len = build_at(n, type, target, NN_ROUTING_MAX_HOPS, L.avoid[0], L.navoid, payload,
			   plen, sent);
	if (len < 0)
		return direct ? 1 : len;
	size_t ok = direct;
	int last = NN_EUNROUTABLE;
	for (size_t i = 0; i < L.n; i++) {
		if (i > 0)
			(void)nn_routing_frame_set_avoid(n->tx, (size_t)len, L.avoid[i], L.navoid);
		int s = nn_node_send_conn(n, L.hop[i].conn, n->tx, (size_t)len);
		if (s == 0) {
			if (first && nfirst)
				first[(*nfirst)++] = L.hop[i].id;
			ok++;
		} else {
			last = s;
		}
	}
	return ok ? (int)ok : last;
}

/* The connections of the up to k (<= KMin) live edges closest to target, closest first. The
 * handles stay valid while sends drop edges (a conn lives until on_closed). */
static size_t closest_conns(nn_node *n, const nn_id *target, size_t k, nn_conn **out)
{
	const nn_routing_edge *cand[NN_ROUTING_KMIN];
	size_t got = nn_routing_edges_closest(n->edges, target, k, NULL, 0, cand);
	for (size_t i = 0; i < got; i++)
		out[i] = cand[i]->conn;
	return got;
}

/* One copy toward target, trying the closest edges in turn (answers: no avoid set). */
static int originate_single(nn_node *n, uint8_t type, const nn_id *target,
			    const uint8_t *payload, size_t plen)
{
	nn_conn *conns[NN_ROUTING_KMIN];
	size_t k = closest_conns(n, target, NN_ROUTING_KMIN, conns);
	if (!k)
		return NN_EUNROUTABLE;
	int len = build(n, type, target, NN_ROUTING_MAX_HOPS, NULL, 0, payload, plen);
	if (len < 0)
		return len;
	int last = NN_EUNROUTABLE;
	for (size_t i = 0; i < k; i++) {
		last = nn_node_send_conn(n, conns[i], n->tx, (size_t)len);
		if (last == 0)
			return 0;
	}
	return last;
}

/* Send one signed Lookup for target over conns[0..k): copies whose one_hop[i] is set carry
 * TTL 0, so that edge drops the Lookup and answers at once with its own closest contacts (a
 * one-hop FIND_NODE in wire v1 terms: a Lookup that dies at its first hop is answered there),
 * straight back over its edge to us; the others are routed. All copies share one signature, so
 * a terminal reached twice answers once. */
static int send_lookup(nn_node *n, const nn_id *target, nn_conn **conns, const bool *one_hop,
		       size_t k)
{
	uint8_t nonce[NN_ROUTING_NONCE_LEN];
	nn_node_nonce_new(n, nonce, (unsigned)k); /* one answer per copy */
	int len = build(n, NN_T_LOOKUP, target, NN_ROUTING_MAX_HOPS, &n->ident.id, 1, nonce,
			sizeof nonce);
	if (len < 0)
		return len;
	n->stats.lookups_tx++;
	size_t ok = 0;
	for (size_t i = 0; i < k; i++) {
		(void)nn_routing_frame_set_ttl(n->tx, (size_t)len, one_hop[i] ? 0 : NN_ROUTING_MAX_HOPS);
		ok += nn_node_send_conn(n, conns[i], n->tx, (size_t)len) == 0;
	}
	return ok ? 0 : NN_EAGAIN;
}

int nn_node_lookup(nn_node *n, const nn_id *target, enum nn_lookup_mode mode)
{
	nn_conn *conns[NN_ROUTING_KMIN + 1];
	bool one_hop[NN_ROUTING_KMIN + 1] = {false};
	size_t k;
	switch (mode) {
	case NN_LOOKUP_SPREAD: {
		k = closest_conns(n, target, 1, conns);
		/* Two more first hops drawn at random, one hop each: when our neighbourhood knows
		 * nobody in the target's region yet (a joining node), a far edge usually does (local
		 * policy). */
		size_t len = nn_routing_edges_len(n->edges);
		for (int tries = 0; k && tries < 8 && k < NN_ROUTING_KMIN && len > k; tries++) {
			const nn_routing_edge *e = nn_routing_edges_at(
				n->edges, (size_t)randombytes_uniform((uint32_t)len));
			bool dup = false;
			for (size_t i = 0; i < k; i++)
				dup |= conns[i] == e->conn;
			if (!dup) {
				one_hop[k] = true;
				conns[k++] = e->conn;
			}
		}
		break;
	}
	case NN_LOOKUP_ROUTED:
		k = closest_conns(n, target, 1, conns);
		break;
	case NN_LOOKUP_NEAR: {
		/* Routed through the closest edge, and one hop to the two closest: their answers come
		 * straight back even when the terminal of the routed copy cannot reach us yet (a
		 * joining node that its neighbourhood has not met). Kademlia's iterative lookup,
		 * over live edges (local policy). */
		nn_conn *c[2];
		size_t got = closest_conns(n, target, 2, c);
		k = 0;
		if (got) {
			conns[k++] = c[0];
			for (size_t i = 0; i < got; i++) {
				one_hop[k] = true;
				conns[k++] = c[i];
			}
		}
		break;
	}
	default:
		return NN_EINVAL;
	}
	if (!k)
		return NN_EUNROUTABLE;
	return send_lookup(n, target, conns, one_hop, k);
}

int nn_node_lookup_via(nn_node *n, const nn_id *target, nn_conn *c)
{
	bool one_hop = true;
	return send_lookup(n, target, &c, &one_hop, 1);
}

size_t nn_node_share_closest(nn_node *n, nn_routing_neighbors *nb, const nn_id *near,
			     const nn_id *to, size_t max, bool keyed_only)
{
	const nn_routing_kc *close[2 * NN_ROUTING_SIBLINGS];
	if (max > NN_ROUTING_SIBLINGS)
		max = NN_ROUTING_SIBLINGS;
	size_t k = nn_routing_kt_closest(n->kt, near, 2 * max, close);
	size_t listed = 0;
	for (size_t i = 0; i < k && listed < max; i++) {
		const nn_routing_kc *ct = close[i];
		if (nn_kad_id_eq(&ct->id, to))
			continue;
		if (keyed_only && (!ct->naddrs || nn_routing_key_is_zero(ct->ed_pub)))
			continue;
		const struct dialstate *ds = nn_idmap_get(&n->dials, &ct->id);
		if (ds && ds->failures && !nn_routing_edges_find(n->edges, &ct->id))
			continue; /* we failed to reach it lately: do not spread it */
		nn_routing_contact c;
		nn_routing_kc_contact(&c, ct); /* the table keeps no x_pub: none leaks */
		if (nn_routing_neighbors_append(nb, &c) < 0)
			break;
		listed++;
	}
	return listed;
}

int nn_node_send_neighbors(nn_node *n, const nn_id *to, const nn_id *near,
			   const uint8_t nonce[NN_ROUTING_NONCE_LEN], nn_conn *direct)
{
	nn_routing_neighbors nb;
	nn_routing_neighbors_init(&nb, nonce);
	(void)nn_node_share_closest(n, &nb, near, to, NN_ROUTING_SIBLINGS, false);
	/* always room for ourselves: our own signed word on our addresses */
	(void)nn_routing_neighbors_append(&nb, &n->self_contact);
	/* encode the payload where the frame wants it (navoid 0) */
	int off = nn_routing_frame_payload_offset(0, 0);
	if (off < 0)
		return off;
	uint8_t *p = n->tx + off + 3; /* room for a longer plen varint; moved by build if needed */
	int plen = nn_routing_neighbors_encode(p, NN_ROUTING_MAX_PAYLOAD, &nb);
	if (plen < 0)
		return plen;
	n->stats.neighbors_tx++;
	if (!direct)
		return originate_single(n, NN_T_NEIGHBORS, to, p, (size_t)plen);
	int len = build(n, NN_T_NEIGHBORS, to, 1, NULL, 0, p, (size_t)plen);
	if (len < 0)
		return len;
	return nn_node_send_conn(n, direct, n->tx, (size_t)len);
}

/* ---- terminal actions ---- */
static void on_neighbors(nn_node *n, const nn_id *origin, const nn_routing_env *env)
{
	if (env->plen < NN_ROUTING_NONCE_LEN || !nn_node_nonce_valid(n, env->payload)) {
		n->stats.dropped_unsolicited++;
		return;
	}
	if (!nn_olimit_allow(&n->olimit, origin, nn_node_now(n))) {
		n->stats.dropped_rate_limited++;
		return;
	}
	nn_routing_neighbors nb;
	if (nn_routing_neighbors_decode(env->payload, env->plen, &nb) < 0) {
		n->stats.dropped_malformed++;
		return;
	}
	if (nn_node_nonce_take(n, env->payload) < 0) {
		n->stats.dropped_extra_answers++; /* the request's answer budget is spent */
		return;
	}
	n->stats.dropped_bad_addr += nb.dropped_addrs; /* left out of their contacts */
	size_t added = 0;
	for (size_t i = 0; i < nb.count; i++) {
		nn_routing_contact c;
		if (nn_routing_neighbors_get(&nb, i, &c) < 0)
			continue;
		int rc;
		if (nn_kad_id_eq(&c.id, origin)) {
			memset(c.x_pub, 0, sizeof c.x_pub);
			rc = nn_node_observe(n, &c, NN_ROUTING_SRC_SELF); /* its own signed word */
		} else {
			nn_routing_contact_sanitize_hint(&c);
			rc = nn_node_observe(n, &c, NN_ROUTING_SRC_HINT);
		}
		added += rc == NN_ROUTING_OBS_ADDED;
	}
	/* a newcomer close to us is dialled now, not at the next tick: the next step of the walk
	 * toward our neighbourhood (see nn_node_edge_up) */
	if (added)
		nn_node_fill_near(n);
}

static void terminal(nn_node *n, uint8_t type, const nn_routing_env *env, const nn_id *origin,
		     bool delivered)
{
	if (!delivered && type != NN_T_LOOKUP)
		return;
	/* the cheap look first, as at transit (transit_ok): a second or third copy of what we
	 * took already costs no signature check (only verified envelopes are ever recorded) */
	if (nn_routing_dedup_seen(&n->dedup, env->sig, nn_node_wall(n))) {
		n->stats.dropped_dup++;
		return;
	}
	if (nn_routing_env_verify(env, type) < 0) {
		n->stats.dropped_bad_sig++;
		return;
	}
	if (nn_routing_dedup_check(&n->dedup, env->sig, nn_node_wall(n)) < 0) {
		n->stats.dropped_dup++;
		return;
	}
	switch (type) {
	case NN_T_ROUTE:
		n->stats.delivered++;
		if (n->opts.cb.on_message)
			n->opts.cb.on_message(n->opts.cb.user, origin, env->payload, env->plen);
		break;
	case NN_T_LOOKUP:
		if (env->plen != NN_ROUTING_NONCE_LEN) {
			n->stats.dropped_malformed++;
			break;
		}
		if (!nn_olimit_allow(&n->olimit, origin, nn_node_now(n))) {
			n->stats.dropped_rate_limited++;
			break;
		}
		(void)nn_node_send_neighbors(n, origin, &env->target, env->payload, NULL);
		break;
	case NN_T_NEIGHBORS:
		on_neighbors(n, origin, env);
		break;
	case NN_T_HELLO:
		nn_node_on_hello(n, origin, env);
		break;
	case NN_T_REPLY:
		nn_node_on_reply(n, origin, env);
		break;
	case NN_T_CONNECT:
		nn_node_on_connect(n, origin, env);
		break;
	case NN_T_CONNECT_ACK:
		nn_node_on_connect_ack(n, origin, env);
		break;
	default:
		n->stats.dropped_unknown_type++;
		break;
	}
}

/* A routed frame died here at a local optimum: we know no edge closer to its target, yet the
 * target exists (a signed message was sent to it). Most often a node just joined next to us
 * and we have not met it. Ask our closest edges for the target's neighbourhood (one-hop
 * lookups); the answer feeds the knowledge table and the sibling fill dials any newcomer close
 * to us. At most one repair per tick (local policy). */
static void repair_lookup(nn_node *n, const nn_id *target)
{
	nn_time now = nn_node_now(n);
	if (now < n->next_repair)
		return;
	n->next_repair = now + nn_node_ms(n->m.tick_ms > 0 ? n->m.tick_ms : 5000);
	n->stats.repairs++;
	(void)nn_node_lookup(n, target, NN_LOOKUP_SPREAD);
}

/* The transit checks (verifiable tier, DESIGN §5.10): a frame is forwarded only if its
 * signature verifies under the envelope's ed_pub (so a forged frame, or one re-signed under
 * somebody else's key, dies at the first honest hop) and this node has not forwarded the same
 * envelope before inside the freshness window (so a captured frame replayed along the path dies
 * at the first honest hop that saw it). The cheap replay look comes first and records nothing;
 * the record is made only when the frame is forwarded. Verifications are paced node-wide by a
 * token bucket (local policy, NN_NODE_VERIFY_RATE): past it transit frames are shed, never
 * forwarded unchecked, so a flood of frames costs the node a bounded share of a core. */
static int transit_ok(nn_node *n, uint8_t type, const nn_routing_env *env, nn_time now)
{
	if (nn_routing_dedup_seen(&n->transit, env->sig, nn_node_wall(n))) {
		n->stats.dropped_transit_replay++;
		return NN_EREPLAY;
	}
	if (!nn_tbucket_take(&n->verify_budget, 1, now)) {
		n->stats.dropped_verify_budget++;
		return NN_ELIMIT;
	}
	if (nn_routing_env_verify(env, type) < 0) {
		n->stats.dropped_bad_sig++;
		return NN_EBADSIG;
	}
	return 0;
}

/* The copy over a silent edge to the target was the only one: no other edge is closer to the
 * target than we are. Most often we are one of the target's closest neighbours and it came back
 * elsewhere under its NodeID (a restart) without redialling us yet: our next closest edge,
 * though farther than us, is a neighbour of the target too and likely holds its new edge. One
 * copy goes there (not back where the frame came from, nor into its avoid set); if it comes
 * back to us, the transit record drops it (local policy; counted in suspect_detours). */
static bool detour_copy(nn_node *n, const nn_conn *from, const nn_routing_env *env,
			const uint8_t *frame, size_t len)
{
	nn_id ex[2 + NN_ROUTING_MAX_AVOID];
	size_t nex = 0;
	ex[nex++] = env->target;
	if (from)
		ex[nex++] = from->remote_id;
	for (size_t i = 0; i < env->navoid && i < NN_ROUTING_MAX_AVOID; i++)
		ex[nex++] = env->avoid[i];
	const nn_routing_edge *h[1];
	if (nn_routing_edges_closest(n->edges, &env->target, 1, ex, nex, h) != 1)
		return false;
	return nn_node_send_conn(n, h[0]->conn, frame, len) == 0;
}

/* A frame at a local optimum that no copy left (no edge closer to the target than us, or only
 * the one it came from) for a target we know: a contact of ours that we hold no edge to,
 * because it cannot be reached the way we dialled it (a symmetric NAT against our port- or
 * address-restricting NAT, a UDP-restricted host). The frame is not dropped: one copy goes to
 * our closest other edge, though farther (not where it came from, not into its avoid set), a
 * neighbour of the target likely to hold an edge to it; our transit record drops it if it
 * comes back (local policy; counted in hole_detours). A target we do not know still dies here
 * (dropped_no_route), so a frame for a made-up NodeID costs no more hops than before. Before,
 * all three copies to a symmetric-NAT node died when the sender's three closest edges were
 * such nodes (nat-pairs: 2 of 272 sends, docs/EVALUATION.md). Returns true if the copy went. */
static bool hole_detour(nn_node *n, const nn_conn *from, const nn_routing_env *env,
			uint8_t *frame, size_t len)
{
	if (!from || env->ttl == 0 || !nn_routing_kt_get(n->kt, &env->target, NULL))
		return false;
	(void)nn_routing_frame_set_ttl(frame, len, (uint8_t)(env->ttl - 1));
	if (!detour_copy(n, from, env, frame, len))
		return false;
	n->stats.hole_detours++;
	(void)nn_routing_dedup_check(&n->transit, env->sig, nn_node_wall(n));
	return true;
}

void nn_node_route_frame(nn_node *n, nn_conn *from, uint8_t type, uint8_t *frame, size_t len)
{
	nn_routing_env env;
	uint8_t t;
	if (nn_routing_frame_decode(frame, len, &t, &env) < 0) {
		n->stats.dropped_malformed++;
		return;
	}
	nn_time now = nn_node_now(n);
	if (from && !nn_routing_edges_allow_forward(n->edges, &from->remote_id, now)) {
		n->stats.dropped_rate_limited++;
		return;
	}
	nn_id origin;
	nn_identity_node_id(&origin, env.ed_pub);
	if (!nn_pow_ok(&origin, n->pow)) {
		n->stats.dropped_sub_pow++;
		return;
	}
	if (!nn_routing_env_fresh(env.sent, nn_node_wall(n))) {
		n->stats.dropped_stale++;
		return;
	}
	nn_routing_decision d;
	nn_routing_action a = nn_routing_decide_env(n->edges, &env, &d);
	if (from && nn_kad_id_eq(&origin, &n->ident.id) &&
	    (a != NN_ROUTING_DROP || type == NN_T_LOOKUP || env.ttl >= NN_ROUTING_MAX_HOPS)) {
		/* an envelope we signed, back from an edge, with somewhere to go or for us, or with
		 * the TTL we sent it with (no hop forwarded it): a replay (a hop captured our frame
		 * and sent it back). We keep no forwarded record of our own envelopes, so without
		 * this it would be launched again over our edges outside its avoid set. An honest
		 * copy returns only from a first hop farther from the target than we are, with its
		 * TTL decremented, and then every edge closer than us is in its avoid set (our first
		 * hops are our closest edges): decide finds no candidate, and the local optimum
		 * below may start its repair lookup as before. Our Lookups name us in their avoid
		 * set, so none of them ever comes back. */
		n->stats.dropped_transit_replay++;
		return;
	}
	if (a == NN_ROUTING_DELIVER) {
		terminal(n, type, &env, &origin, true);
		return;
	}
	if (a == NN_ROUTING_DROP) {
		if (type == NN_T_LOOKUP) {
			terminal(n, type, &env, &origin, false); /* a dead end answers (also at TTL 0) */
		} else if (env.ttl == 0) {
			n->stats.dropped_ttl++;
		} else if (transit_ok(n, type, &env, now) == 0) {
			/* only an authentic frame may start a repair lookup (or take a detour) */
			if (!hole_detour(n, from, &env, frame, len))
				n->stats.dropped_no_route++;
			repair_lookup(n, &env.target);
		}
		return;
	}
	if (from && transit_ok(n, type, &env, now) < 0)
		return;
	(void)nn_routing_frame_set_ttl(frame, len, d.ttl);
	bool sent = false; /* a copy went over a silent edge to the target: one more goes on */
	for (size_t i = 0; i < d.n; i++) {
		nn_conn *c = d.cand[i].conn;
		if (c == from)
			continue;
		bool suspect = !sent && nn_kad_id_eq(&d.cand[i].id, &env.target) &&
			       nn_node_edge_suspect(n, c, now);
		if (nn_node_send_conn(n, c, frame, len) == 0) {
			if (sent)
				return;
			n->stats.forwarded++;
			if (from)
				(void)nn_routing_dedup_check(&n->transit, env.sig, nn_node_wall(n));
			if (!suspect)
				return;
			sent = true;
			nn_node_suspect_copy(n, c, now);
			continue;
		}
		if (!sent)
			n->stats.local_repairs++;
	}
	if (sent) {
		if (detour_copy(n, from, &env, frame, len))
			n->stats.suspect_detours++;
		return;
	}
	if (!hole_detour(n, from, &env, frame, len))
		n->stats.dropped_no_route++;
}
