/* test_nat.c — NAT traversal at the node, on the in-memory transport in virtual time: the
 * consolidator fed by Pongs, coordinates, dial hygiene, and the punch stage of the connect
 * cascade (Connect / ConnectAck, volleys, dials from both sides) through the mem transport's
 * NAT model (a port-restricted cone: inbound dials pass only from endpoints the node punched or
 * dialled). Real kernel NATs are the `nat` lab suite's job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tests/node/cluster.h"

struct done {
	nn_clock *clk;
	int calls, status;
	char how[16], addr[64];
	nn_time at;
};

static void on_conn(void *user, int status, const nn_id *target, const char *how,
		    const char *addr)
{
	struct done *d = user;
	d->calls++;
	d->status = status;
	d->at = nn_clock_now(d->clk);
	snprintf(d->how, sizeof d->how, "%s", how ? how : "-");
	snprintf(d->addr, sizeof d->addr, "%s", addr ? addr : "-");
}

static nn_node_stats st(cluster *cl, uint32_t i)
{
	nn_node_stats s;
	nn_node_get_stats(cl->nodes[i].node, &s);
	return s;
}

/* 0 is a hub; 1 (A) and 2 (B) hang off it; B (and A when both) sit behind the NAT model. */
static cluster *trio(uint64_t seed, bool a_nat, bool b_nat, uint32_t caps)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(3, seed, 0, &o);
	cl->caps = caps;
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(cl_start(cl, i), 0);
	/* NATed nodes dial out to the hub: their NAT lets the hub's side of that edge in */
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	assert_int_equal(cl_bootstrap(cl, 2, 0), 0);
	cl_run(cl, 100 * NN_MS);
	nn_mem_endpoint_set_nat(cl->nodes[1].tp, a_nat, 0);
	nn_mem_endpoint_set_nat(cl->nodes[2].tp, b_nat, 0);
	return cl;
}

/* The live edge to `to` as nn_node_peers reports it (path, RTT); fails the test if missing. */
static nn_peer_info peer_of(nn_node *n, const nn_id *to)
{
	nn_peer_info p[64];
	size_t k = nn_node_peers(n, p, 64);
	for (size_t i = 0; i < k && i < 64; i++)
		if (!memcmp(p[i].id.b, to->b, sizeof to->b))
			return p[i];
	fail_msg("no live edge to the peer");
	return p[0];
}

/* B is behind a NAT: A's direct dial cannot get in, the punch stage does (B answers the
 * Connect once and dials back; A dials B after B's volleys opened its NAT). */
static void test_punch_through_one_nat(void **state)
{
	cluster *cl = trio(41, false, true, NN_TP_CAP_PUNCH);
	struct done d = {.clk = cl->clk};
	nn_time t0 = nn_clock_now(cl->clk);
	assert_int_equal(nn_node_connect(cl->nodes[1].node, &cl->nodes[2].id, 8000, on_conn, &d),
			 0);
	cl_run(cl, 6 * NN_SEC);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.how, "punch");
	printf("# punch through one NAT: %.0f ms virtual (Connect alongside the direct stage)\n",
	       (double)(d.at - t0) / (double)NN_MS);
	nn_node_stats a = st(cl, 1), b = st(cl, 2);
	assert_int_equal(a.connects_tx, 1);
	assert_int_equal(a.connect_acks_rx, 1);
	assert_int_equal(a.connects_punched, 1);
	assert_int_equal(b.connect_acks_tx, 1); /* one answer whatever the copies */
	assert_true(b.punches_tx >= 1);
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[2].node), &cl->nodes[1].id));
	/* peers / status / metrics say how the edge came up, and its round trip (mem: 2 x 1 ms) */
	nn_peer_info pi = peer_of(cl->nodes[1].node, &cl->nodes[2].id);
	assert_string_equal(pi.path, "punch");
	assert_int_equal(pi.rtt_us, 2000);
	assert_int_equal(st(cl, 1).edges_punched, 1);
	assert_int_equal(st(cl, 1).edges_relayed, 0);
	cl_free(cl);
}

/* Both behind the NAT model: still one edge, from whichever side got through first. */
static void test_punch_both_behind_nat(void **state)
{
	cluster *cl = trio(42, true, true, NN_TP_CAP_PUNCH);
	struct done d = {.clk = cl->clk};
	assert_int_equal(nn_node_connect(cl->nodes[1].node, &cl->nodes[2].id, 8000, on_conn, &d),
			 0);
	cl_run(cl, 6 * NN_SEC);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.how, "punch");
	cl_run(cl, 2 * NN_SEC); /* crossed dials settle on one edge each side */
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[1].node), &cl->nodes[2].id));
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[2].node), &cl->nodes[1].id));
	cl_free(cl);
}

/* Without a punch capability the cascade ends after the direct stage with the most telling
 * error, well before the caller's deadline; with it but the peer behind a NAT that never
 * answers Connects (no punch capability on its side: it answers, but cannot open its NAT),
 * the punch stage ends on its own bound, also before the deadline. */
static void test_stages_are_bounded(void **state)
{
	cluster *cl = trio(43, false, true, 0);
	struct done d = {.clk = cl->clk};
	nn_time t0 = nn_clock_now(cl->clk);
	assert_int_equal(nn_node_connect(cl->nodes[1].node, &cl->nodes[2].id, 20000, on_conn, &d),
			 0);
	cl_run(cl, 20 * NN_SEC);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, NN_EUNREACH);
	assert_true(d.at - t0 < 3 * NN_SEC);
	assert_int_equal(st(cl, 1).connects_tx, 0);
	cl_free(cl);

	/* the target never acknowledges: its Connects are dropped at the hub (blackhole) */
	cl = trio(44, false, true, NN_TP_CAP_PUNCH);
	nn_mem_link cut = nn_mem_link_default();
	cut.blackhole = true;
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[0].tp, cl->nodes[2].tp, &cut), 0);
	struct done e = {.clk = cl->clk};
	t0 = nn_clock_now(cl->clk);
	/* the keys as if a Reply had arrived (the Hello could not reach B either) */
	assert_int_equal(nn_node_connect(cl->nodes[1].node, &cl->nodes[2].id, 30000, on_conn, &e),
			 0);
	struct vkey k;
	memset(&k, 0, sizeof k);
	nn_addr_set(&k.addrs[0], "mem", "n2");
	k.naddrs = 1;
	nn_node_ops_keys(cl->nodes[1].node, &cl->nodes[2].id, &k);
	cl_run(cl, 30 * NN_SEC);
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.status, NN_EUNREACH);
	assert_true(e.at - t0 < NN_OP_DIRECT_TAIL + NN_OP_PUNCH_ACK_WAIT + NN_SEC);
	assert_int_equal(st(cl, 1).connects_tx, 1);
	assert_int_equal(st(cl, 1).connect_acks_rx, 0);
	cl_free(cl);
}

/* Pongs feed the consolidator: two neighbours report our address (mem transport: no subnets),
 * it is confirmed and, being our own, says "public". Coordinates lead with it only when it is
 * not one of our own; our own addresses are never dialled. */
static void test_reflexive_from_pongs_and_dial_hygiene(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.maint.tick_ms = 1000;
	o.maint.keepalive_sibling_ms = 1000;
	o.maint.keepalive_finger_ms = 1000;
	cluster *cl = cl_new(3, 45, 0, &o);
	assert_int_equal(cl_join(cl, 0, 3), 0);
	cl_run(cl, 10 * NN_SEC);
	nn_node *n = cl->nodes[0].node;
	assert_int_equal(n->nat.type, NN_NAT_PUBLIC);
	assert_true(n->nat.confirmed);
	assert_true(n->nat.votes >= 2);
	nn_addr self;
	nn_addr_set(&self, "mem", "n0");
	assert_true(nn_addr_eq(&n->nat.reflexive, &self));
	nn_addr coords[4];
	assert_int_equal(nn_node_coords(n, coords, 4), 1);
	assert_true(nn_addr_eq(&coords[0], &self));
	assert_false(nn_node_addr_dialable(n, &self));
	assert_int_equal(nn_node_dial(n, &cl->nodes[1].id, &self, false, false), NN_EADDR);
	nn_addr other;
	nn_addr_set(&other, "mem", "n1");
	assert_true(nn_node_addr_dialable(n, &other));
	/* an edge that goes takes its report with it */
	unsigned votes = n->nat.votes;
	cl_kill(cl, 2, false);
	cl_run(cl, 100 * NN_SEC); /* the dead sibling is reaped */
	assert_true(n->nat.voters < votes || !n->nat.confirmed);
	cl_free(cl);
}

/* Birthday probing's signalling on mem (which does not model it: its opt-in op records the call
 * and runs it as a plain dial). A (verdict forced to `a_type`) connects to B (`b_type`); the
 * links between them are cut both ways, so the direct dials and the plain punch fail while the
 * overlay (via the hub) carries Connect / ConnectAck; `lift` reopens them 300 ms after the Ack
 * (before the birthday sub-stage starts, after the punch's dials were sent). */
struct bday_run {
	struct done d;
	nn_node_stats a, b;
	uint32_t b_calls, a_calls;
	nn_addr b_first;
	nn_time ack_at, t0;
};

static void bday_run(uint64_t seed, int a_type, int b_type, bool lift, struct bday_run *r)
{
	cluster *cl = trio(seed, true, true, NN_TP_CAP_PUNCH | NN_TP_CAP_BIRTHDAY);
	nn_node *a = cl->nodes[1].node, *b = cl->nodes[2].node;
	a->nat.type = (nn_nat_type)a_type;
	b->nat.type = (nn_nat_type)b_type;
	nn_mem_link cut = nn_mem_link_default();
	cut.blackhole = true;
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[1].tp, cl->nodes[2].tp, &cut), 0);
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[2].tp, cl->nodes[1].tp, &cut), 0);
	memset(r, 0, sizeof *r);
	r->d.clk = cl->clk;
	r->t0 = nn_clock_now(cl->clk);
	assert_int_equal(nn_node_connect(a, &cl->nodes[2].id, 20000, on_conn, &r->d), 0);
	for (int i = 0; i < 500 && st(cl, 1).connect_acks_rx == 0; i++)
		cl_run(cl, 10 * NN_MS);
	assert_int_equal(st(cl, 1).connect_acks_rx, 1);
	r->ack_at = nn_clock_now(cl->clk);
	cl_run(cl, 300 * NN_MS);
	if (lift) {
		nn_mem_link open = nn_mem_link_default();
		assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[1].tp, cl->nodes[2].tp, &open), 0);
		assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[2].tp, cl->nodes[1].tp, &open), 0);
	}
	cl_run(cl, 20 * NN_SEC);
	r->a = st(cl, 1);
	r->b = st(cl, 2);
	r->a_calls = nn_mem_endpoint_birthday_calls(cl->nodes[1].tp, NULL);
	r->b_calls = nn_mem_endpoint_birthday_calls(cl->nodes[2].tp, &r->b_first);
	cl_free(cl);
}

/* cone x symmetric: both sides start the sub-stage 500 ms after the Connect / Ack; the
 * symmetric side (B, the target) asks its transport for birthday probing toward A's address,
 * the cone side would spray (mem addresses have no ports: no probes); the connect reports how =
 * "birthday". Cut for good: the sub-stage and the call end on their bounds. */
static void test_birthday_signalling(void **state)
{
	struct bday_run r;
	bday_run(51, NN_NAT_CONE, NN_NAT_SYMMETRIC, true, &r);
	assert_int_equal(r.d.calls, 1);
	assert_int_equal(r.d.status, 0);
	assert_string_equal(r.d.how, "birthday");
	assert_true(r.d.at + 10 * NN_MS >= r.ack_at + NN_OP_BDAY_DELAY); /* polled every 10 ms */
	assert_int_equal(r.b_calls, 1);
	assert_string_equal(r.b_first.ep, "n1"); /* toward A's coordinates */
	assert_int_equal(r.a_calls, 0);          /* A is the cone side: it sprays */
	assert_int_equal(r.a.birthday_started, 1);
	assert_int_equal(r.b.birthday_started, 1);
	assert_int_equal(r.a.connects_birthday, 1);
	assert_int_equal(r.a.birthday_probes_tx, 0);

	/* the roles the other way round (A symmetric initiates) */
	bday_run(52, NN_NAT_SYMMETRIC, NN_NAT_PUBLIC, true, &r);
	assert_int_equal(r.d.status, 0);
	assert_string_equal(r.d.how, "birthday");
	assert_int_equal(r.a_calls, 1);
	assert_int_equal(r.b_calls, 0);

	/* cut for good: bounded, an error well before the caller's 20 s */
	bday_run(53, NN_NAT_CONE, NN_NAT_SYMMETRIC, false, &r);
	assert_int_equal(r.d.calls, 1);
	assert_int_not_equal(r.d.status, 0);
	assert_true(r.d.at <= r.ack_at + NN_OP_BDAY_DELAY + NN_OP_BDAY_SPAN + 10 * NN_MS);
	assert_int_equal(r.b_calls, 1);
	assert_int_equal(r.a.birthday_gave_up, 1);

	/* never for symmetric x symmetric, nor cone x cone, nor with an unknown side */
	static const int pairs[][2] = {{NN_NAT_SYMMETRIC, NN_NAT_SYMMETRIC},
				       {NN_NAT_CONE, NN_NAT_CONE},
				       {NN_NAT_UNKNOWN, NN_NAT_SYMMETRIC}};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		bday_run(54 + i, pairs[i][0], pairs[i][1], false, &r);
		assert_int_not_equal(r.d.status, 0);
		assert_int_equal(r.a.birthday_started + r.b.birthday_started, 0);
		assert_int_equal(r.a_calls + r.b_calls, 0);
	}
}

/* The maintenance dialer uses the cascade: two nodes behind the NAT model learn each other
 * through the hub; their direct dials fail (neither NAT lets the other in), so each failed dial
 * starts the connect cascade, whose punch opens the way. Without it they never get an edge. */
static void test_maintenance_dialer_punches(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.maint.tick_ms = 1000;
	cluster *cl = cl_new(3, 47, 0, &o);
	cl->caps = NN_TP_CAP_PUNCH;
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(cl_start(cl, i), 0);
	nn_mem_endpoint_set_nat(cl->nodes[1].tp, true, 0);
	nn_mem_endpoint_set_nat(cl->nodes[2].tp, true, 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	assert_int_equal(cl_bootstrap(cl, 2, 0), 0);
	nn_time t0 = nn_clock_now(cl->clk);
	while (nn_clock_now(cl->clk) - t0 < 30 * NN_SEC &&
	       !nn_routing_edges_find(nn_node_edges(cl->nodes[1].node), &cl->nodes[2].id))
		cl_run(cl, 100 * NN_MS);
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[1].node), &cl->nodes[2].id));
	nn_node_stats a = st(cl, 1), b = st(cl, 2);
	printf("# NATed pair connected by the maintenance dialer's cascade after %.1f s virtual "
	       "(cascades %llu + %llu, ok %llu + %llu)\n",
	       (double)(nn_clock_now(cl->clk) - t0) / (double)NN_SEC,
	       (unsigned long long)a.maint_cascades, (unsigned long long)b.maint_cascades,
	       (unsigned long long)a.maint_cascades_ok, (unsigned long long)b.maint_cascades_ok);
	assert_true(a.maint_cascades + b.maint_cascades >= 1);
	assert_true(a.maint_cascades_ok + b.maint_cascades_ok + a.punchbacks_ok + b.punchbacks_ok >=
		    1);
	assert_int_equal(a.connects_ok + b.connects_ok, 0); /* no caller: not counted as calls */
	cl_free(cl);
}

/* Filtering inferred from evidence: an inbound edge from a public IP we sent nothing to says
 * our filter is open; one from an IP we dialled or punched says nothing (a restricting NAT lets
 * exactly those in); private and loopback sources say nothing either. */
static void test_filtering_from_unsolicited_inbound(void **state)
{
	cluster *cl = cl_new(1, 48, 0, NULL);
	assert_int_equal(cl_start(cl, 0), 0);
	nn_node *n = cl->nodes[0].node;
	nn_conn c;
	memset(&c, 0, sizeof c);
	c.outbound = false;
	nn_addr dialled, other, lan;
	nn_addr_set(&dialled, "quic", "198.51.100.7:4242");
	nn_addr_set(&other, "quic", "203.0.113.9:4242");
	nn_addr_set(&lan, "quic", "192.168.1.9:4242");
	nn_node_nat_sent_to(n, &dialled);
	c.remote_addr = dialled;
	c.remote_addr.ep[c.remote_addr.ep_len - 1] = '3'; /* another port, the same IP */
	nn_node_nat_inbound(n, &c);
	c.remote_addr = lan;
	nn_node_nat_inbound(n, &c);
	c.outbound = true;
	c.remote_addr = other;
	nn_node_nat_inbound(n, &c); /* our own dial: not evidence */
	nn_nat_info ni;
	nn_node_nat_info(n, &ni);
	assert_false(ni.filtering_open);
	c.outbound = false;
	nn_node_nat_inbound(n, &c);
	nn_node_nat_info(n, &ni);
	assert_true(ni.filtering_open);
	cl_free(cl);
}

/* The edge between P (behind a port-restricted NAT whose UDP mapping dies after 30 s of silence
 * both ways, modelled here: the frames of U toward P are black-holed from then until P sends
 * again) and U (no NAT verdict yet, filtering open: no mapping of its own, so it keeps quiet
 * while it owes an echo). P probes its mapping: KaProbe(37.5 s), both ends silent. The mapping
 * dies at 30 s, U's echo at 37.5 s dies in it, and P resumes its keepalive only once the echo
 * was due (37.5 s + 2 ticks + 5 s). U's dead threshold (45 s, its class's default) used to count
 * from the probe: U reaped the edge before P's resumed ping reached it, while P kept it (on QUIC
 * U's close died in the expired mapping too: the half-dead edge of the nat-keepalive lab).
 * Both ends must keep the edge for 10 minutes of idle probing, and it carries a frame after. */
static void nat_mapping(cluster *cl, uint32_t p, uint32_t u, bool *blocked)
{
	nn_node *n = cl->nodes[p].node;
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &cl->nodes[u].id);
	if (!e || !e->conn || !((nn_conn *)e->conn)->user)
		return;
	const struct nconn *nc = ((nn_conn *)e->conn)->user;
	nn_time last = nc->last_tx > e->last_seen ? nc->last_tx : e->last_seen;
	bool dead = nn_clock_now(cl->clk) - last >= 30 * NN_SEC;
	if (dead == *blocked)
		return;
	*blocked = dead;
	nn_mem_link l = nn_mem_link_default();
	l.blackhole = dead;
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[u].tp, cl->nodes[p].tp, &l), 0);
}

static void test_probe_silence_keeps_both_ends(void **state)
{
	cluster *cl = cl_new(2, 49, 0, NULL);
	assert_int_equal(cl_start(cl, 0), 0);
	assert_int_equal(cl_start(cl, 1), 0);
	nn_node *u = cl->nodes[0].node, *p = cl->nodes[1].node;
	/* P: one reporter is enough for a verdict, so Pongs from U make it "public" with its
	 * filtering never seen open: behind a stateful filter, it keeps a mapping and probes it */
	nn_nat_reflex_opts ro = {.min_votes = 1, .min_subnets = 1};
	assert_int_equal(nn_nat_reflex_init(&p->reflex, p->reflex_slots, NN_NODE_REFLEX_REPORTERS,
					     &ro), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	cl_run(cl, 2 * NN_SEC);
	nn_node_nat_unsolicited(u); /* mem addresses are not IPs: U's open filtering by hand */
	bool blocked = false;
	nn_time t0 = nn_clock_now(cl->clk);
	while (nn_clock_now(cl->clk) - t0 < 10 * 60 * NN_SEC) {
		nat_mapping(cl, 1, 0, &blocked);
		cl_run(cl, 250 * NN_MS);
	}
	nn_node_stats sp = st(cl, 1), su = st(cl, 0);
	printf("# P: nat %d filter %d, probes %llu (survived %llu, failed %llu), pings %llu, "
	       "edges down %llu; U: nat %d filter %d, echoes %llu, pings %llu, edges down %llu; "
	       "frames black-holed %llu\n",
	       (int)p->nat.type, (int)p->nat.filter, (unsigned long long)sp.ka_probes_tx,
	       (unsigned long long)sp.ka_probes_survived, (unsigned long long)sp.ka_probes_failed,
	       (unsigned long long)sp.pings_tx, (unsigned long long)sp.edges_down, (int)u->nat.type,
	       (int)u->nat.filter, (unsigned long long)su.ka_echoes_tx,
	       (unsigned long long)su.pings_tx, (unsigned long long)su.edges_down,
	       (unsigned long long)nn_mem_hub_stats_of(cl->hub)->frames_blackholed);
	/* the scenario happened: P behind, U with nothing to keep, a probe echoed into the
	 * expired mapping */
	assert_int_equal(p->nat.type, NN_NAT_PUBLIC);
	assert_int_not_equal(p->nat.filter, NN_NAT_FILTER_OPEN);
	assert_int_equal(u->nat.type, NN_NAT_UNKNOWN);
	assert_int_equal(u->nat.filter, NN_NAT_FILTER_OPEN);
	assert_true(sp.ka_probes_tx >= 1);
	assert_true(su.ka_echoes_tx >= 1);
	assert_true(nn_mem_hub_stats_of(cl->hub)->frames_blackholed >= 1);
	/* the edge lived on both ends throughout, and carries a routed frame both ways */
	assert_int_equal(sp.edges_down, 0);
	assert_int_equal(su.edges_down, 0);
	assert_int_equal(cl_edges(cl, 0), 1);
	assert_int_equal(cl_edges(cl, 1), 1);
	nn_mem_link open = nn_mem_link_default();
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[0].tp, cl->nodes[1].tp, &open), 0);
	assert_int_equal(cl_send(cl, 0, 1, 0x5151), 0);
	assert_int_equal(cl_send(cl, 1, 0, 0x5152), 0);
	cl_run(cl, 50 * NN_MS);
	assert_int_equal(cl_count(cl, 1, 0x5151), 1);
	assert_int_equal(cl_count(cl, 0, 0x5152), 1);
	cl_free(cl);
}

/* Keepalive thresholds far away (ping after 300 s, dead after 600 s), so only the rules under
 * test act on a silent edge. */
static nn_node_opts far_keepalive(void)
{
	nn_node_opts o;
	memset(&o, 0, sizeof o);
	o.maint.keepalive_sibling_ms = o.maint.keepalive_finger_ms = 300000;
	o.maint.dead_sibling_ms = o.maint.dead_finger_ms = 600000;
	return o;
}

/* Nothing gets through between nodes a and b either way, and no close arrives (a crash). */
static void blackhole_pair(cluster *cl, uint32_t a, uint32_t b)
{
	nn_mem_link bh = nn_mem_link_default();
	bh.blackhole = true;
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[a].tp, cl->nodes[b].tp, &bh), 0);
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[b].tp, cl->nodes[a].tp, &bh), 0);
}

/* Frames sent, nothing heard (keepalive.c): with idle thresholds far away (ping after 300 s,
 * dead after 600 s), an edge whose peer went silent without a Leave (modelled: both directions
 * black-holed) stops carrying routed frames after 25 s: a ping at 10 s, down at 25 s. A peer
 * that is alive but never sends on the edge (one-way traffic) answers the ping and keeps it. */
static void test_unanswered_frames_drop_a_dead_edge(void **state)
{
	(void)state;
	nn_node_opts base = far_keepalive();
	cluster *cl = cl_new(2, 61, 0, &base);
	assert_int_equal(cl_start(cl, 0), 0);
	assert_int_equal(cl_start(cl, 1), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	cl_run(cl, 2 * NN_SEC);
	assert_int_equal(cl_edges(cl, 0), 1);
	/* one-way traffic to a live peer for 60 s: pinged, answered, kept */
	for (int i = 0; i < 60; i++) {
		assert_int_equal(cl_send(cl, 0, 1, 0x6100 + (uint64_t)i), 0);
		cl_run(cl, NN_SEC);
	}
	nn_node_stats s = st(cl, 0);
	assert_true(s.unanswered_pings >= 1);
	assert_int_equal(s.edges_unanswered, 0);
	assert_int_equal(cl_edges(cl, 0), 1);
	assert_int_equal(cl_count(cl, 1, 0x6100 + 59), 1);
	/* the peer "crashes": nothing gets through either way, and no close arrives */
	blackhole_pair(cl, 0, 1);
	nn_time t0 = nn_clock_now(cl->clk), down = 0;
	for (int i = 0; i < 60 && !down; i++) {
		(void)cl_send(cl, 0, 1, 0x6200 + (uint64_t)i);
		cl_run(cl, NN_SEC);
		if (cl_edges(cl, 0) == 0)
			down = nn_clock_now(cl->clk) - t0;
	}
	s = st(cl, 0);
	printf("# one-way: %llu unanswered pings; crash: edge down after %.0f s (%llu down by the rule)\n",
	       (unsigned long long)s.unanswered_pings, (double)down / NN_SEC,
	       (unsigned long long)s.edges_unanswered);
	assert_true(down > 0);
	assert_true(down <= NN_NODE_UNANSWERED_DEAD + 2 * 5 * NN_SEC); /* + the tick's lag */
	assert_int_equal(s.edges_unanswered, 1);
	cl_free(cl);
}

/* An idle edge pings only at its keepalive threshold: a Pong (an answer) does not start the
 * unanswered clock, so the two ends do not draw each other's pings every ~25 s for ever (issue
 * 16: before, a hub with 64 idle edges sent 2.6 pings/s, all of them "unanswered"; here that
 * was ~48 pings in 10 minutes). Keepalive far away (300 s): what remains are the pings after
 * the backed-off discovery's requests (an answer may come back over another edge). */
static void test_idle_edge_no_ping_loop(void **state)
{
	(void)state;
	nn_node_opts base = far_keepalive();
	cluster *cl = cl_new(2, 62, 0, &base);
	assert_int_equal(cl_start(cl, 0), 0);
	assert_int_equal(cl_start(cl, 1), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	cl_run(cl, 3 * 60 * NN_SEC); /* the join's requests and answers, discovery backing off */
	assert_int_equal(cl_edges(cl, 0), 1);
	nn_node_stats a0 = st(cl, 0), b0 = st(cl, 1);
	cl_run(cl, 10 * 60 * NN_SEC);
	nn_node_stats a1 = st(cl, 0), b1 = st(cl, 1);
	uint64_t un = a1.unanswered_pings - a0.unanswered_pings + b1.unanswered_pings -
		      b0.unanswered_pings;
	uint64_t pings = a1.pings_tx - a0.pings_tx + b1.pings_tx - b0.pings_tx;
	printf("# 10 idle minutes: %llu pings (%llu after unanswered frames), edge kept: %zu\n",
	       (unsigned long long)pings, (unsigned long long)un, cl_edges(cl, 0));
	assert_true(un <= 8);
	assert_true(pings <= 12);
	assert_int_equal(cl_edges(cl, 0), 1);
	cl_free(cl);
}

/* A peer that crashed and came back elsewhere under its NodeID (a restart on a new port) leaves
 * a silent edge behind at nodes that held one. A routed frame to it over that edge alone would
 * be lost until the unanswered rule drops the edge (25 s); an edge silent for
 * NN_NODE_SUSPECT_IDLE gets the frame and, as a second copy, the launch it would get without the
 * edge, and a ping at once. Here the edge 0-1 goes dark while 1 stays reachable through 2. */
static void test_silent_edge_gets_a_second_copy(void **state)
{
	(void)state;
	nn_node_opts base = far_keepalive();
	cluster *cl = cl_new(3, 62, 0, &base);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cl_start(cl, i), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	assert_int_equal(cl_bootstrap(cl, 2, 0), 0);
	cl_run(cl, 3 * NN_SEC);
	assert_int_equal(cl_bootstrap(cl, 2, 1), 0);
	cl_run(cl, 3 * NN_SEC);
	assert_int_equal(cl_edges(cl, 0), 2);
	assert_int_equal(cl_edges(cl, 2), 2);
	/* a live, recently used edge: one copy */
	assert_int_equal(cl_send(cl, 0, 1, 0x6300), 0);
	cl_run(cl, NN_SEC);
	assert_int_equal(cl_count(cl, 1, 0x6300), 1);
	assert_int_equal(st(cl, 0).suspect_copies, 0);
	blackhole_pair(cl, 0, 1);
	cl_run(cl, NN_NODE_SUSPECT_IDLE + NN_SEC);
	assert_int_equal(cl_edges(cl, 0), 2); /* nothing noticed yet: the edge 0-1 is silent */
	assert_int_equal(cl_send(cl, 0, 1, 0x6301), 0);
	cl_run(cl, NN_SEC);
	nn_node_stats s = st(cl, 0);
	printf("# silent edge: delivered %zu, suspect copies %llu, pings %llu\n",
	       cl_count(cl, 1, 0x6301), (unsigned long long)s.suspect_copies,
	       (unsigned long long)s.unanswered_pings);
	assert_int_equal(cl_count(cl, 1, 0x6301), 1); /* exactly once: through 2 */
	assert_int_equal(s.suspect_copies, 1);
	assert_true(s.unanswered_pings >= 1);
	/* the ping stays unanswered: the edge goes within the unanswered rule's 25 s */
	cl_run(cl, NN_NODE_UNANSWERED_DEAD + 2 * 5 * NN_SEC);
	assert_int_equal(cl_edges(cl, 0), 1);
	assert_int_equal(st(cl, 0).edges_unanswered, 1);
	cl_free(cl);
}

/* The two local-optimum tests' overlay (no maintenance, far keepalives, 4 nodes of the given
 * seed in *out): node 0 is the target T; of the others, by XOR distance to T, X is the closest,
 * Y next, S the farthest; edges S-X, X-T, X-Y, Y-T, up for 2 s. */
struct detour_roles {
	uint32_t T, X, Y, S;
};
static struct detour_roles detour_overlay(cluster **out, uint64_t seed)
{
	nn_node_opts base = far_keepalive();
	base.no_maintenance = true;
	cluster *cl = *out = cl_new(4, seed, 0, &base);
	uint32_t r[3] = {1, 2, 3};
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (nn_kad_cmp_distance(&cl->nodes[0].id, &cl->nodes[r[j]].id,
						&cl->nodes[r[i]].id) < 0) {
				uint32_t t = r[i];
				r[i] = r[j];
				r[j] = t;
			}
	struct detour_roles d = {0, r[0], r[1], r[2]};
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(cl_start(cl, i), 0);
	assert_int_equal(cl_bootstrap(cl, d.S, d.X), 0);
	assert_int_equal(cl_bootstrap(cl, d.X, d.T), 0);
	assert_int_equal(cl_bootstrap(cl, d.X, d.Y), 0);
	assert_int_equal(cl_bootstrap(cl, d.Y, d.T), 0);
	cl_run(cl, 2 * NN_SEC);
	assert_int_equal(cl_edges(cl, d.X), 3);
	return d;
}

/* The same at a transit node that has no other edge closer to the target than itself: the
 * target's closest neighbour X holds its old edge (dark: the target came back elsewhere and has
 * not redialled X), the frame from S reaches X, and X's next candidate would be farther than X.
 * A second copy goes to X's closest other edge Y, a neighbour of the target that holds a live
 * edge to it (suspect_detours); before, the one copy over the dark edge was lost. */
static void test_silent_edge_detour_at_a_local_optimum(void **state)
{
	(void)state;
	cluster *cl;
	const struct detour_roles d = detour_overlay(&cl, 63);
	const uint32_t T = d.T, X = d.X, S = d.S; /* Y: the neighbour the copy goes through */
	assert_int_equal(cl_edges(cl, S), 1);
	assert_int_equal(cl_send(cl, S, T, 0x6400), 0);
	cl_run(cl, NN_SEC);
	assert_int_equal(cl_count(cl, T, 0x6400), 1); /* S -> X -> T */
	blackhole_pair(cl, X, T);
	cl_run(cl, NN_NODE_SUSPECT_IDLE + NN_SEC);
	assert_int_equal(cl_edges(cl, X), 3);
	assert_int_equal(cl_send(cl, S, T, 0x6401), 0);
	cl_run(cl, NN_SEC);
	nn_node_stats x = st(cl, X);
	printf("# local optimum: delivered %zu, X's suspect copies %llu, detours %llu\n",
	       cl_count(cl, T, 0x6401), (unsigned long long)x.suspect_copies,
	       (unsigned long long)x.suspect_detours);
	assert_int_equal(cl_count(cl, T, 0x6401), 1); /* exactly once: through Y */
	assert_int_equal(x.suspect_copies, 1);
	assert_int_equal(x.suspect_detours, 1);
	cl_free(cl);
}

/* A local optimum without any copy out: X, the target's closest neighbour, knows the target
 * (a contact of its) but holds no edge to it (the nat-pairs case: a symmetric-NAT target that
 * X's restricting NAT cannot reach the way X dials), so the frame from S finds no edge closer
 * than X. It goes on to X's closest other edge Y, which holds an edge to the target
 * (hole_detours); before, it was dropped there (dropped_no_route). A target X does not know
 * still dies at X. */
static void test_known_target_without_edge_detour(void **state)
{
	(void)state;
	cluster *cl;
	const struct detour_roles d = detour_overlay(&cl, 64);
	const uint32_t T = d.T, X = d.X, S = d.S; /* Y: the neighbour the copy goes through */
	/* X loses its edge to T and cannot get it back; it keeps T as a contact */
	blackhole_pair(cl, X, T);
	nn_node_drop_edge(cl->nodes[X].node, &cl->nodes[T].id, NN_TP_REASON_NORMAL);
	cl_run(cl, NN_SEC);
	assert_int_equal(cl_edges(cl, X), 2);
	assert_int_equal(cl_edges(cl, S), 1);
	assert_non_null(nn_routing_kt_get(nn_node_knowledge(cl->nodes[X].node), &cl->nodes[T].id,
					  NULL));
	assert_int_equal(cl_send(cl, S, T, 0x6500), 0);
	cl_run(cl, NN_SEC);
	nn_node_stats x = st(cl, X);
	printf("# known target, no edge at the local optimum: delivered %zu, X's hole detours %llu, "
	       "dropped no route %llu\n", cl_count(cl, T, 0x6500),
	       (unsigned long long)x.hole_detours, (unsigned long long)x.dropped_no_route);
	assert_int_equal(cl_count(cl, T, 0x6500), 1); /* S -> X -> Y -> T */
	assert_int_equal(x.hole_detours, 1);
	/* a made-up NodeID next to T (X is its local optimum too), which X does not know, dies at
	 * X as before */
	uint64_t before = x.dropped_no_route;
	nn_id stranger = cl->nodes[T].id;
	stranger.b[31] ^= 1;
	assert_null(nn_routing_kt_get(nn_node_knowledge(cl->nodes[X].node), &stranger, NULL));
	assert_int_equal(nn_node_send(cl->nodes[S].node, &stranger, "x", 1), 0);
	cl_run(cl, NN_SEC);
	x = st(cl, X);
	assert_int_equal(x.hole_detours, 1);
	assert_int_equal(x.dropped_no_route, before + 1);
	cl_free(cl);
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_punch_through_one_nat),
		cmocka_unit_test(test_punch_both_behind_nat),
		cmocka_unit_test(test_stages_are_bounded),
		cmocka_unit_test(test_birthday_signalling),
		cmocka_unit_test(test_reflexive_from_pongs_and_dial_hygiene),
		cmocka_unit_test(test_maintenance_dialer_punches),
		cmocka_unit_test(test_filtering_from_unsolicited_inbound),
		cmocka_unit_test(test_probe_silence_keeps_both_ends),
		cmocka_unit_test(test_unanswered_frames_drop_a_dead_edge),
		cmocka_unit_test(test_idle_edge_no_ping_loop),
		cmocka_unit_test(test_silent_edge_gets_a_second_copy),
		cmocka_unit_test(test_silent_edge_detour_at_a_local_optimum),
		cmocka_unit_test(test_known_target_without_edge_detour),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
