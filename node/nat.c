/* nat.c — the node's NAT traversal: what our neighbours see of us, our coordinates, and the
 * hole punch signalled over the overlay.
 *
 * - Every Pong reports the address the responder saw our connection come from; the reports of
 *   live edges feed the consolidator (nat/reflex.h), whose verdict (confirmed reflexive
 *   address, NAT type) is recomputed on every change and logged when it changes.
 * - coords() = the confirmed reflexive address (behind a symmetric NAT: the last observed one,
 *   whose IP still opens an address-restricted filter), then our advertised addresses. Hello,
 *   Reply, Connect and ConnectAck carry it.
 * - Hole punch (DCUtR-style, DESIGN §5.2/§5.5; local policy on top of the v1 messages): the
 *   initiator routes Connect(nonce, coords) to the target over the disjoint paths; the target
 *   answers once with ConnectAck(nonce, coords) and starts its half at once; both sides then
 *   send punch volleys to every candidate of the other and dial every candidate, so whichever
 *   side sits behind the harder NAT gets through, and an accepted connection from an
 *   unannounced 4-tuple (a peer-reflexive address behind a symmetric NAT) is taken like any
 *   other inbound edge. Crossed dials keep one edge (conn.c). The stages and their bounds are
 *   driven by ops.c.
 * - Dial hygiene: never a candidate that is one of our own addresses; loopback only when the
 *   whole overlay lives on this host (every address we advertise is loopback).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

static bool is_loopback(const nn_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (nn_addr_to_sockaddr(a, &ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET)
		return (((const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr)[0]) == 127;
	const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(a6->s6_addr, mapped, sizeof mapped))
		return a6->s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(a6);
}

void nn_node_nat_init(nn_node *n)
{
	(void)nn_nat_reflex_init(&n->reflex, n->reflex_slots, NN_NODE_REFLEX_REPORTERS, NULL);
	memset(&n->nat, 0, sizeof n->nat);
	nn_nat_ka_init(&n->ka, nn_node_now(n));
	const nn_routing_contact *s = &n->self_contact;
	bool any = false, all = true;
	for (size_t i = 0; i < s->naddrs; i++) {
		if (!nn_addr_is_quic(&s->addrs[i]))
			continue;
		any = true;
		all &= is_loopback(&s->addrs[i]);
	}
	n->self_loopback_only = any && all;
}

static void reverdict(nn_node *n)
{
	nn_nat_verdict v;
	nn_nat_reflex_verdict(&n->reflex, n->self_contact.addrs, n->self_contact.naddrs,
			      nn_node_now(n), &v);
	bool changed = v.type != n->nat.type || v.confirmed != n->nat.confirmed ||
		       (v.confirmed && !nn_addr_eq(&v.reflexive, &n->nat.reflexive));
	n->nat = v;
	if (!changed)
		return;
	n->stats.nat_changes++;
	char buf[NN_ADDR_TEXT_MAX];
	nn_node_log(n, NN_LOG_INFO, "nat: %s, reflexive %s (%u of %u reporters agree)",
		    nn_nat_type_name(v.type),
		    v.confirmed ? nn_addr_str(&v.reflexive, buf, sizeof buf) : "-", v.votes,
		    v.voters);
}

/* A neighbour's report of our address. The reporter's subnet comes from the node's source-key
 * hook (what admission and the routing tables use). A report that confirms nothing is kept but
 * counted: one naming another address than the confirmed one (a liar, or a stale mapping) is
 * outvoted; one whose address has the votes but from too few subnets (a quorum from one /24 or
 * /64) confirms nothing. */
void nn_node_nat_pong(nn_node *n, nn_conn *c, const nn_addr *observed)
{
	uint8_t key[16];
	bool keyed = nn_node_subnet_key(n, &c->remote_addr, key) == 0;
	nn_time now = nn_node_now(n);
	int rc = nn_nat_reflex_report_keyed(&n->reflex, &c->remote_id, &c->remote_addr,
					    keyed ? key : NULL, observed, now);
	if (rc < 0)
		return;
	reverdict(n);
	if (rc != 0)
		return; /* kept without a vote (a private reporter or address) */
	unsigned votes, subnets;
	bool confirms = nn_nat_reflex_tally(&n->reflex, observed, now, &votes, &subnets);
	if (!confirms && votes >= n->reflex.o.min_votes)
		n->stats.reflex_one_subnet++;
	else if (n->nat.confirmed && !nn_addr_eq(&n->nat.reflexive, observed))
		n->stats.reflex_outvoted++;
}

void nn_node_nat_forget(nn_node *n, const nn_id *peer)
{
	nn_nat_reflex_forget(&n->reflex, peer);
	reverdict(n);
}

void nn_node_nat_unsolicited(nn_node *n)
{
	nn_nat_reflex_note_unsolicited(&n->reflex, nn_node_now(n));
	n->nat.filter = NN_NAT_FILTER_OPEN;
}

/* The IP of a literal IP address, as 16 bytes (IPv4 v4-mapped). */
static bool ip_of(const nn_addr *a, uint8_t ip[16])
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (!nn_addr_is_quic(a) || nn_addr_to_sockaddr(a, &ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		memcpy(ip, mapped, sizeof mapped);
		memcpy(ip + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		memcpy(ip, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	return true;
}

void nn_node_nat_sent_to(nn_node *n, const nn_addr *a)
{
	uint8_t ip[16];
	if (!ip_of(a, ip))
		return;
	if (!n->sent_ips && !(n->sent_ips = calloc(NN_NODE_SENT_IPS, sizeof *n->sent_ips))) {
		nn_node_log(n, NN_LOG_WARN, "nat: out of memory: a send to an IP goes unrecorded");
		return;
	}
	nn_time now = nn_node_now(n);
	for (size_t i = 0; i < NN_NODE_SENT_IPS; i++)
		if (n->sent_ips[i].at && !memcmp(n->sent_ips[i].ip, ip, 16)) {
			n->sent_ips[i].at = now;
			return;
		}
	struct sent_ip *s = &n->sent_ips[n->sent_next];
	n->sent_next = (n->sent_next + 1) % NN_NODE_SENT_IPS;
	memcpy(s->ip, ip, 16);
	s->at = now ? now : 1;
}

void nn_node_nat_inbound(nn_node *n, const nn_conn *c)
{
	uint8_t ip[16];
	if (c->outbound || !nn_nat_addr_public(&c->remote_addr) || !ip_of(&c->remote_addr, ip))
		return;
	nn_time now = nn_node_now(n);
	for (size_t i = 0; n->sent_ips && i < NN_NODE_SENT_IPS; i++)
		if (n->sent_ips[i].at && now - n->sent_ips[i].at <= NN_NODE_SENT_IP_AGE &&
		    !memcmp(n->sent_ips[i].ip, ip, 16))
			return; /* we sent there: the filter may have opened for it */
	if (n->nat.filter != NN_NAT_FILTER_OPEN)
		nn_node_log(n, NN_LOG_INFO, "nat: unsolicited inbound edge: filtering is open");
	nn_node_nat_unsolicited(n);
}

static bool add_unique(nn_addr *out, size_t *k, size_t cap, const nn_addr *a)
{
	if (*k >= cap)
		return false;
	for (size_t i = 0; i < *k; i++)
		if (nn_addr_eq(&out[i], a))
			return false;
	out[(*k)++] = *a;
	return true;
}

/* The most recent voting report (behind a symmetric NAT: its IP is right, its port is not). */
static const nn_addr *latest_observed(const nn_node *n)
{
	const nn_nat_report *best = NULL;
	for (size_t i = 0; i < NN_NODE_REFLEX_REPORTERS; i++) {
		const nn_nat_report *r = &n->reflex_slots[i];
		if (r->used && r->votes && (!best || r->at > best->at))
			best = r;
	}
	return best ? &best->observed : NULL;
}

size_t nn_node_coords(nn_node *n, nn_addr *out, size_t cap)
{
	size_t k = 0;
	if (n->nat.confirmed && n->nat.type != NN_NAT_PUBLIC)
		(void)add_unique(out, &k, cap, &n->nat.reflexive);
	else if (n->nat.type == NN_NAT_SYMMETRIC && latest_observed(n))
		(void)add_unique(out, &k, cap, latest_observed(n));
	const nn_routing_contact *s = &n->self_contact;
	for (size_t i = 0; i < s->naddrs; i++)
		(void)add_unique(out, &k, cap, &s->addrs[i]);
	return k;
}

bool nn_node_addr_dialable(nn_node *n, const nn_addr *a)
{
	const nn_routing_contact *s = &n->self_contact;
	for (size_t i = 0; i < s->naddrs; i++)
		if (nn_addr_eq(&s->addrs[i], a))
			return false; /* ourselves */
	if (n->nat.confirmed && nn_addr_eq(&n->nat.reflexive, a))
		return false;
	if (nn_addr_is_quic(a) && is_loopback(a) && !n->self_loopback_only)
		return false; /* someone else's loopback is ours */
	return true;
}

bool nn_node_addrs_look_direct(nn_node *n, const nn_addr *a, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (!nn_nat_addr_public(&a[i]) && !(n->self_loopback_only && is_loopback(&a[i])))
			return false;
	return k > 0;
}

/* ---- Connect / ConnectAck ---- */
static int send_signal(nn_node *n, uint8_t type, const nn_id *to,
		       const uint8_t nonce[NN_NAT_NONCE_LEN], bool hint)
{
	nn_nat_connect m;
	memset(&m, 0, sizeof m);
	memcpy(m.nonce, nonce, NN_NAT_NONCE_LEN);
	m.naddrs = nn_node_coords(n, m.addrs, NN_NAT_MAX_ADDRS);
	/* libnodenet addition: our NAT verdict, so the other side can decide on birthday probing
	 * (the reference ignores the byte). Without it the other side never starts birthday. */
	m.has_hint = hint;
	m.hint = nn_nat_hint_make(n->nat.type, n->nat.filter == NN_NAT_FILTER_OPEN);
	uint8_t buf[NN_NAT_CONNECT_MAX];
	int len = nn_nat_connect_encode(&m, buf, sizeof buf);
	if (len < 0)
		return len;
	int rc = nn_node_originate(n, type, to, buf, (size_t)len);
	return rc < 0 ? rc : 0;
}

int nn_node_send_connect(nn_node *n, struct nn_op *op)
{
	nn_node_rand_bytes(n, op->punch_nonce, sizeof op->punch_nonce);
	/* the maintenance dialer's cascades punch but never probe: no hint, so the other side
	 * does not start birthday either (sprays and extra sockets are for calls) */
	int rc = send_signal(n, NN_T_CONNECT, &op->target, op->punch_nonce, !op->maint);
	if (rc == 0)
		n->stats.connects_tx++;
	return rc;
}

static int decode_signal(nn_node *n, const nn_routing_env *env, nn_nat_connect *m)
{
	/* signed as a whole: one bad address sinks it */
	int rc = nn_node_decoded(n, nn_nat_connect_decode(m, env->payload, env->plen));
	return rc == NN_EADDR ? rc : rc < 0 ? NN_ECORRUPT : 0;
}

void nn_node_on_connect(nn_node *n, const nn_id *origin, const nn_routing_env *env)
{
	if (!nn_olimit_allow(&n->olimit, origin, nn_node_now(n))) {
		n->stats.dropped_rate_limited++;
		return;
	}
	nn_nat_connect m;
	if (decode_signal(n, env, &m) < 0)
		return;
	/* one answer per Connect however many copies arrive: the terminal's duplicate cache
	 * already saw to that (the copies share one signature) */
	if (send_signal(n, NN_T_CONNECT_ACK, origin, m.nonce, true) == 0)
		n->stats.connect_acks_tx++;
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, origin);
	if (e && !nn_node_conn_relayed(n, e->conn))
		return; /* a direct edge exists already: nothing to punch (a relayed one: upgrade) */
	if (nn_node_ops_punchback(n, origin, &m) < 0)
		n->stats.dropped_punch_busy++;
}

void nn_node_on_connect_ack(nn_node *n, const nn_id *origin, const nn_routing_env *env)
{
	nn_nat_connect m;
	if (decode_signal(n, env, &m) < 0)
		return;
	nn_node_ops_connect_ack(n, origin, &m);
}

void nn_node_punch_volley(nn_node *n, struct nn_op *op)
{
	if (!(n->tp->caps & NN_TP_CAP_PUNCH))
		return;
	for (unsigned i = 0; i < op->ncand; i++) {
		nn_node_nat_sent_to(n, &op->cand[i]);
		if (nn_tp_punch(n->tp, &op->cand[i]) == 0)
			n->stats.punches_tx++;
	}
}

int nn_node_bday_role(nn_node *n, const nn_nat_connect *m)
{
	int role = nn_nat_birthday_role(n->nat.type, n->nat.filter == NN_NAT_FILTER_OPEN,
					m->has_hint, m->hint);
	if (role == NN_NAT_BDAY_SOCKETS && !(n->tp->caps & NN_TP_CAP_BIRTHDAY))
		return NN_NAT_BDAY_NONE;
	if (role == NN_NAT_BDAY_SPRAY && !(n->tp->caps & NN_TP_CAP_PUNCH))
		return NN_NAT_BDAY_NONE;
	return role;
}

void nn_node_bday_spray(nn_node *n, struct nn_op *op, unsigned count)
{
	/* the host part of the symmetric side's address, with port i of the permutation */
	const nn_addr *to = &op->bday_to;
	size_t hl = to->ep_len;
	while (hl && to->ep[hl - 1] != ':')
		hl--;
	if (hl < 2 || hl > 64) {
		op->probes = NN_OP_BDAY_PROBES; /* no port to vary (not an IP address): done */
		return;
	}
	nn_node_nat_sent_to(n, to); /* the symmetric side will connect from that IP */
	for (unsigned i = 0; i < count && op->probes < NN_OP_BDAY_PROBES; i++) {
		uint32_t port = NN_OP_BDAY_PORT_BASE +
				(op->spray_start + op->probes * op->spray_step) % NN_OP_BDAY_PORTS;
		op->probes++;
		char text[80];
		nn_addr a;
		snprintf(text, sizeof text, "%.*s%u", (int)hl, to->ep, (unsigned)port);
		if (nn_addr_set(&a, "quic", text) != 0)
			continue;
		if (nn_tp_punch(n->tp, &a) == 0)
			n->stats.birthday_probes_tx++;
	}
}

void nn_node_nat_info(nn_node *n, nn_nat_info *out)
{
	memset(out, 0, sizeof *out);
	if (!n)
		return;
	const nn_nat_verdict *v = &n->nat;
	out->type = nn_nat_type_name(v->type);
	if (v->confirmed)
		snprintf(out->reflexive, sizeof out->reflexive, "%.*s", (int)v->reflexive.ep_len,
			 v->reflexive.ep);
	out->reporters = v->reporters;
	out->voters = v->voters;
	out->votes = v->votes;
	out->subnets = v->vote_subnets;
	out->filtering_open = v->filter == NN_NAT_FILTER_OPEN;
	nn_time ka_sib, ka_fin, dead_sib, dead_fin;
	nn_node_ka_timeouts(n, &ka_sib, &ka_fin, &dead_sib, &dead_fin);
	out->keepalive_ms = ka_fin / NN_MS;
	out->ka_survived_ms = n->ka.survived / NN_MS;
	out->ka_failed_ms = n->ka.failed / NN_MS;
	nn_id ids[4];
	nn_addr addrs[4];
	size_t k = nn_node_relays_in_use(n, ids, addrs, 4);
	out->relays = (unsigned)k;
	for (size_t i = 0; i < k && i < 4; i++)
		snprintf(out->relay[i], sizeof out->relay[i], "%.*s", (int)addrs[i].ep_len,
			 addrs[i].ep);
}
