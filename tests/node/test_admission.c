/* test_admission.c — inbound admission in virtual time on the in-memory transport: per-IP and
 * per-subnet shares of inbound edges, shedding the longest-idle inbound finger at the cap,
 * Referrals that let a refused newcomer join through other nodes, and a stranded node that
 * keeps trying every contact it knows. The mem transport has no IP addresses, so the tests
 * give the hub's connections synthetic source IPs through the node's source-key hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/control.h"
#include "tests/node/cluster.h"

/* ---- synthetic source addresses: mem endpoint "n<i>" -> IPv4 ip_of[i] (0 = none) ---- */
#define MAXN 64
struct srcmap {
	uint32_t ip_of[MAXN];
};

static unsigned src_of(void *user, const nn_addr *a, uint8_t ip[16], uint8_t subnet[16])
{
	const struct srcmap *m = user;
	if (a->ep_len < 2 || a->ep[0] != 'n')
		return 0;
	unsigned idx = (unsigned)strtoul(a->ep + 1, NULL, 10);
	if (idx >= MAXN || !m->ip_of[idx])
		return 0;
	uint32_t v = m->ip_of[idx];
	memset(ip, 0, 16);
	ip[10] = ip[11] = 0xff;
	ip[12] = (uint8_t)(v >> 24);
	ip[13] = (uint8_t)(v >> 16);
	ip[14] = (uint8_t)(v >> 8);
	ip[15] = (uint8_t)v;
	memcpy(subnet, ip, 16);
	subnet[15] = 0;
	return NN_NODE_HAS_IP | NN_NODE_HAS_SUBNET;
}

static nn_node_stats stats_of(cluster *cl, uint32_t i)
{
	nn_node_stats s;
	nn_node_get_stats(cl->nodes[i].node, &s);
	return s;
}

static bool has_edge(cluster *cl, uint32_t i, uint32_t j)
{
	return nn_routing_edges_find(nn_node_edges(cl->nodes[i].node), &cl->nodes[j].id) != NULL;
}

/* Nodes 1..10 share one IP, 11..20 have ten IPs of one /24, 21..30 ten different /24s. The hub
 * keeps 4 inbound edges per IP and 6 per subnet: 4 + 6 + 10 edges; the other 10 newcomers are
 * refused, each counted by its cause, and each gets a Referral. */
static void test_per_ip_and_subnet_shares(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	o.max_inbound_edges_per_ip = 4;
	o.max_inbound_edges_per_subnet = 6;
	o.max_edges_per_subnet = 64; /* the inbound shares alone (the live-edge share: below) */
	cluster *cl = cl_new(31, 41, 0, &o);
	struct srcmap m = {{0}};
	for (uint32_t i = 1; i <= 10; i++)
		m.ip_of[i] = 0x0a000101u;                    /* 10.0.1.1 */
	for (uint32_t i = 11; i <= 20; i++)
		m.ip_of[i] = 0x0a000200u + i;                /* 10.0.2.x */
	for (uint32_t i = 21; i <= 30; i++)
		m.ip_of[i] = 0x0a000001u + (i << 8) + (i << 16); /* a /24 each */
	assert_int_equal(cl_start(cl, 0), 0);
	nn_node_set_source_fn(cl->nodes[0].node, src_of, &m);
	for (uint32_t i = 1; i <= 30; i++) {
		assert_int_equal(cl_start(cl, i), 0);
		assert_int_equal(cl_bootstrap(cl, i, 0), 0);
		cl_run(cl, 20 * NN_MS);
	}
	cl_run(cl, 500 * NN_MS);
	nn_routing_edges *he = nn_node_edges(cl->nodes[0].node);
	size_t from_ip = 0, from_subnet = 0, others = 0;
	for (uint32_t i = 1; i <= 30; i++)
		if (has_edge(cl, 0, i))
			(*(i <= 10 ? &from_ip : i <= 20 ? &from_subnet : &others))++;
	nn_node_stats s = stats_of(cl, 0);
	printf("# hub: %zu inbound edges (%zu from the one IP, %zu from the one /24, %zu others); "
	       "refused per IP %llu, per subnet %llu; referrals sent %llu\n",
	       nn_routing_edges_inbound(he), from_ip, from_subnet, others,
	       (unsigned long long)s.dropped_inbound_per_ip,
	       (unsigned long long)s.dropped_inbound_per_subnet, (unsigned long long)s.referrals_tx);
	assert_int_equal(from_ip, 4);
	assert_int_equal(from_subnet, 6);
	assert_int_equal(others, 10);
	assert_int_equal(s.dropped_inbound_per_ip, 6);
	assert_int_equal(s.dropped_inbound_per_subnet, 4);
	assert_int_equal(s.referrals_tx, 10);
	assert_int_equal(s.dropped_inbound_full, 0);
	/* every refused newcomer took its Referral (on the connection it dialled) */
	size_t referred = 0;
	for (uint32_t i = 1; i <= 30; i++)
		if (!has_edge(cl, 0, i)) {
			nn_node_stats r = stats_of(cl, i);
			assert_int_equal(r.referrals_rx, 1);
			referred++;
		}
	assert_int_equal(referred, 10);
	/* a share frees up when an edge from that IP goes: the next one from it is admitted */
	uint32_t gone = 0, waiting = 0;
	for (uint32_t i = 1; i <= 10; i++) {
		if (has_edge(cl, 0, i) && !gone)
			gone = i;
		else if (!has_edge(cl, 0, i) && !waiting)
			waiting = i;
	}
	nn_node_drop_edge(cl->nodes[gone].node, &cl->nodes[0].id, NN_TP_REASON_NORMAL);
	cl_run(cl, 100 * NN_MS);
	assert_false(has_edge(cl, 0, gone));
	assert_int_equal(cl_bootstrap(cl, waiting, 0), 0);
	cl_run(cl, 100 * NN_MS);
	assert_true(has_edge(cl, 0, waiting));
	cl_free(cl);
}

static void learn(cluster *cl, uint32_t i, uint32_t j)
{
	nn_routing_contact c;
	memset(&c, 0, sizeof c);
	c.id = cl->nodes[j].id;
	char name[16];
	snprintf(name, sizeof name, "n%u", j);
	assert_int_equal(nn_addr_set(&c.addrs[0], "mem", name), 0);
	c.naddrs = 1;
	assert_true(nn_routing_kt_observe(nn_node_knowledge(cl->nodes[i].node), &c, NN_ROUTING_SRC_HINT,
					  0, NULL) >= 0);
}

/* Give slot i a fresh identity whose common prefix with `with` is (near) at least / (far)
 * exactly 0 bits. */
static void mint_cpl(cluster *cl, uint32_t i, const nn_id *with, bool near)
{
	for (;;) {
		nn_test_rng_fill(&cl->rng, cl->nodes[i].seed, 32);
		nn_identity_id_from_seed(&cl->nodes[i].id, NULL, cl->nodes[i].seed);
		unsigned cpl = nn_kad_cpl(&cl->nodes[i].id, with);
		if (near ? cpl >= 1 : cpl == 0)
			return;
	}
}

/* The near-region share (max_near_edges_per_subnet, default 2): the hub's bucket 0 is full and
 * bucket 1 is not, so its near depth D is 1. Six newcomers of one /24 near the hub (sharing
 * its first bit) get 2 edges, the other 4 are refused and counted; six newcomers of another
 * /24 far from it (bucket 0) all get in under the inbound /24 share (8), as hosts behind one
 * NAT must. Before the rule the near six all got in. */
static void test_near_region_share_per_subnet(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(64, 47, 0, &o);
	const nn_id *hub = &cl->nodes[0].id;
	for (uint32_t i = 1; i <= 24; i++)
		mint_cpl(cl, i, hub, false); /* known to the hub: bucket 0 fills (K = 20) */
	for (uint32_t i = 40; i < 46; i++)
		mint_cpl(cl, i, hub, true);
	for (uint32_t i = 48; i < 54; i++)
		mint_cpl(cl, i, hub, false);
	struct srcmap m = {{0}};
	for (uint32_t i = 1; i <= 24; i++)
		m.ip_of[i] = 0x0a000001u + (i << 8); /* a /24 each */
	for (uint32_t i = 40; i < 46; i++)
		m.ip_of[i] = 0x0afa0000u + i; /* 10.250.0.x */
	for (uint32_t i = 48; i < 54; i++)
		m.ip_of[i] = 0x0afb0000u + i; /* 10.251.0.x */
	assert_int_equal(cl_start(cl, 0), 0);
	nn_node_set_source_fn(cl->nodes[0].node, src_of, &m);
	for (uint32_t i = 1; i <= 24; i++)
		learn(cl, 0, i);
	assert_int_equal(nn_node_near_depth(cl->nodes[0].node), 1);
	for (uint32_t i = 40; i < 54; i++) {
		if (i >= 46 && i < 48)
			continue;
		assert_int_equal(cl_start(cl, i), 0);
		assert_int_equal(cl_bootstrap(cl, i, 0), 0);
		cl_run(cl, 20 * NN_MS);
	}
	cl_run(cl, 200 * NN_MS);
	size_t near = 0, far = 0;
	for (uint32_t i = 40; i < 46; i++)
		near += has_edge(cl, 0, i);
	for (uint32_t i = 48; i < 54; i++)
		far += has_edge(cl, 0, i);
	nn_node_stats s = stats_of(cl, 0);
	printf("# hub (D = %u): %zu of 6 near newcomers of one /24 admitted, %zu of 6 far ones of "
	       "another; refused near %llu, per subnet %llu\n",
	       nn_node_near_depth(cl->nodes[0].node), near, far,
	       (unsigned long long)s.dropped_inbound_near_subnet,
	       (unsigned long long)s.dropped_inbound_per_subnet);
	assert_int_equal(near, 2);
	assert_int_equal(far, 6);
	assert_int_equal(s.dropped_inbound_near_subnet, 4);
	assert_int_equal(s.dropped_inbound_per_subnet, 0);
	assert_int_equal(s.referrals_tx, 4);
	cl_free(cl);
}

/* The share of live edges per subnet (max_edges_per_subnet, default 2) counts edges in both
 * directions and steers the node's own dials; inbound newcomers meet only the inbound share
 * (32), so hosts behind one NAT all get in: the hub dialled nodes 1 and 2 of one /24, node 3
 * of that /24 dials in and is admitted, and node 4 of it is not dialled when the hub is asked to
 * dial 4 and 5 (5 in another /24 is); once the edges to 1, 2 and 3 are gone, 4 is dialled. */
static void test_live_edge_share_per_subnet_both_directions(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(6, 43, 0, &o);
	struct srcmap m = {{0}};
	for (uint32_t i = 1; i <= 4; i++)
		m.ip_of[i] = 0x0a000100u + i; /* 10.0.1.x */
	m.ip_of[5] = 0x0a000501u;             /* 10.0.5.1 */
	for (uint32_t i = 0; i <= 5; i++)
		assert_int_equal(cl_start(cl, i), 0);
	nn_node_set_source_fn(cl->nodes[0].node, src_of, &m);
	assert_int_equal(cl_bootstrap(cl, 0, 1), 0);
	assert_int_equal(cl_bootstrap(cl, 0, 2), 0);
	cl_run(cl, 200 * NN_MS);
	assert_true(has_edge(cl, 0, 1) && has_edge(cl, 0, 2));
	assert_int_equal(nn_routing_edges_outgoing(nn_node_edges(cl->nodes[0].node)), 2);
	assert_int_equal(cl_bootstrap(cl, 3, 0), 0);
	cl_run(cl, 200 * NN_MS);
	nn_node_stats s = stats_of(cl, 0);
	assert_true(has_edge(cl, 0, 3)); /* a third host behind the same NAT joins */
	assert_int_equal(s.dropped_inbound_per_subnet, 0);
	learn(cl, 0, 4);
	learn(cl, 0, 5);
	nn_id ids[2] = {cl->nodes[4].id, cl->nodes[5].id};
	nn_node_dial_some(cl->nodes[0].node, ids, 2);
	cl_run(cl, 200 * NN_MS);
	s = stats_of(cl, 0);
	printf("# hub: edges to 1 %d, 2 %d, 3 %d, 4 %d, 5 %d; refused per subnet %llu, dials skipped "
	       "per subnet %llu\n", has_edge(cl, 0, 1), has_edge(cl, 0, 2), has_edge(cl, 0, 3),
	       has_edge(cl, 0, 4), has_edge(cl, 0, 5), (unsigned long long)s.dropped_inbound_per_subnet,
	       (unsigned long long)s.dials_skipped_subnet);
	assert_false(has_edge(cl, 0, 4));
	assert_true(has_edge(cl, 0, 5));
	assert_true(s.dials_skipped_subnet >= 1);
	/* a share frees up when the edges of that subnet go */
	for (uint32_t i = 1; i <= 3; i++)
		nn_node_drop_edge(cl->nodes[0].node, &cl->nodes[i].id, NN_TP_REASON_NORMAL);
	cl_run(cl, 100 * NN_MS);
	nn_node_dial_some(cl->nodes[0].node, ids, 1);
	cl_run(cl, 200 * NN_MS);
	assert_true(has_edge(cl, 0, 4));
	cl_free(cl);
}

/* The hub holds 24 inbound edges (its cap): 16 siblings and 8 fingers. All of them but one
 * finger F of the most crowded bucket stay active; a 25th newcomer sheds F (the longest-idle
 * inbound finger there), which is told with a Referral, and takes its place. */
static void test_shed_longest_idle_finger_at_cap(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	o.max_inbound_edges = 24;
	cluster *cl = cl_new(26, 42, 0, &o);
	for (uint32_t i = 0; i <= 24; i++)
		assert_int_equal(cl_start(cl, i), 0);
	for (uint32_t i = 1; i <= 24; i++) {
		assert_int_equal(cl_bootstrap(cl, i, 0), 0);
		cl_run(cl, 20 * NN_MS);
	}
	cl_run(cl, 2 * NN_SEC);
	nn_routing_edges *he = nn_node_edges(cl->nodes[0].node);
	assert_int_equal(nn_routing_edges_inbound(he), 24);
	/* the most crowded bucket of inbound fingers, and one finger F in it */
	unsigned count[NN_ROUTING_BUCKETS] = {0};
	for (size_t i = 0; i < nn_routing_edges_len(he); i++) {
		const nn_routing_edge *e = nn_routing_edges_at(he, i);
		if (!e->outgoing && e->role == NN_ROUTING_ROLE_FINGER)
			count[e->bucket]++;
	}
	unsigned worst = 0;
	for (unsigned b = 1; b < NN_ROUTING_BUCKETS; b++)
		if (count[b] > count[worst])
			worst = b;
	assert_true(count[worst] >= 1);
	uint32_t f = 0;
	for (uint32_t i = 1; i <= 24 && !f; i++) {
		const nn_routing_edge *e = nn_routing_edges_find(he, &cl->nodes[i].id);
		if (e && e->role == NN_ROUTING_ROLE_FINGER && e->bucket == worst)
			f = i;
	}
	assert_true(f > 0);
	/* everyone else speaks (a Ping refreshes the hub's last-seen of that edge) */
	for (uint32_t i = 1; i <= 24; i++) {
		if (i == f)
			continue;
		const nn_routing_edge *e =
			nn_routing_edges_find(nn_node_edges(cl->nodes[i].node), &cl->nodes[0].id);
		assert_non_null(e);
		assert_int_equal(nn_node_send_ping(cl->nodes[i].node, e->conn), 0);
	}
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(cl_start(cl, 25), 0);
	assert_int_equal(cl_bootstrap(cl, 25, 0), 0);
	cl_run(cl, 200 * NN_MS);
	nn_node_stats s = stats_of(cl, 0);
	nn_node_stats fs = stats_of(cl, f);
	printf("# hub at its cap of 24: shed %llu (node %u, bucket %u), referrals sent %llu; the "
	       "shed node took %llu\n", (unsigned long long)s.inbound_shed, f, worst,
	       (unsigned long long)s.referrals_tx, (unsigned long long)fs.referrals_rx);
	assert_int_equal(s.inbound_shed, 1);
	assert_int_equal(s.dropped_inbound_full, 0);
	assert_true(has_edge(cl, 0, 25));
	assert_false(has_edge(cl, 0, f));
	assert_false(has_edge(cl, f, 0));
	for (uint32_t i = 1; i <= 24; i++)
		if (i != f)
			assert_true(has_edge(cl, 0, i));
	assert_int_equal(s.referrals_tx, 1);
	assert_int_equal(fs.referrals_rx, 1);
	cl_free(cl);
}

/* The hub takes 4 inbound edges and no more (all siblings: nobody to shed). A fifth node that
 * only knows the hub is refused, gets a Referral naming the other four, dials them and joins
 * the overlay: it has edges and its messages route (to the hub, through them). */
static void test_referral_lets_refused_newcomer_join(void **state)
{
	cluster *cl = cl_new(6, 43, 0, NULL);
	cl->base.max_inbound_edges = 4;
	assert_int_equal(cl_start(cl, 0), 0);
	cl->base.max_inbound_edges = 0;
	for (uint32_t i = 1; i <= 4; i++) {
		assert_int_equal(cl_start(cl, i), 0);
		assert_int_equal(cl_bootstrap(cl, i, 0), 0);
		cl_run(cl, 20 * NN_MS);
	}
	cl_run(cl, 10 * NN_SEC);
	assert_int_equal(nn_routing_edges_inbound(nn_node_edges(cl->nodes[0].node)), 4);
	assert_int_equal(cl_start(cl, 5), 0);
	assert_int_equal(cl_bootstrap(cl, 5, 0), 0);
	cl_run(cl, 2 * NN_SEC);
	nn_node_stats hub = stats_of(cl, 0), nc = stats_of(cl, 5);
	printf("# refused newcomer: hub refused %llu (cap), referrals sent %llu; newcomer took "
	       "%llu Referral(s) with %llu new contacts, has %zu edges\n",
	       (unsigned long long)hub.dropped_inbound_full, (unsigned long long)hub.referrals_tx,
	       (unsigned long long)nc.referrals_rx, (unsigned long long)nc.referral_contacts,
	       cl_edges(cl, 5));
	assert_true(hub.dropped_inbound_full >= 1);
	assert_true(hub.referrals_tx >= 1);
	assert_int_equal(nc.referrals_rx, 1);
	assert_int_equal(nc.referral_contacts, 4);
	assert_false(has_edge(cl, 0, 5));
	assert_true(cl_edges(cl, 5) >= 2);
	for (uint32_t i = 1; i <= 4; i++) /* it joined through the referred nodes */
		assert_true(has_edge(cl, 5, i));
	assert_int_equal(cl_send(cl, 5, 0, 501), 0);
	assert_int_equal(cl_send(cl, 0, 5, 502), 0);
	assert_int_equal(cl_send(cl, 5, 3, 503), 0);
	cl_run(cl, 200 * NN_MS);
	assert_int_equal(cl_count(cl, 0, 501), 1);
	assert_int_equal(cl_count(cl, 5, 502), 1);
	assert_int_equal(cl_count(cl, 3, 503), 1);
	cl_free(cl);
}

/* A peer that crashed and came back under its NodeID on a new endpoint (the soak's restart on a
 * new port) dials a node that holds the edge it dialled to the old process, with the peer's IP
 * at its inbound share (all 50 soak processes share 127.0.0.1, over the share of 16). The new
 * connection replaces the old edge, shares or not (it takes no new place); before, it was
 * refused and the node kept the dead edge, so a routed frame for the peer went over it alone
 * (not yet silent for NN_NODE_SUSPECT_IDLE: no second copy) and was lost. */

/* Node `was` crashes (its transport goes silent, no close) and its identity comes back at once
 * as node `now`, bootstrapping from the hub (node 0); after 0.5 s the hub sends it `tag`. */
static void crash_and_return(cluster *cl, uint32_t was, uint32_t now, uint64_t tag)
{
	nn_mem_partition(cl->nodes[was].tp, 1);
	memcpy(cl->nodes[now].seed, cl->nodes[was].seed, sizeof cl->nodes[now].seed);
	cl->nodes[now].id = cl->nodes[was].id;
	assert_int_equal(cl_start(cl, now), 0);
	assert_int_equal(cl_bootstrap(cl, now, 0), 0);
	cl_run(cl, 500 * NN_MS);
	assert_int_equal(cl_send(cl, 0, now, tag), 0);
	cl_run(cl, 500 * NN_MS);
}
static void test_restarted_peer_replaces_its_edge_past_the_shares(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	o.max_inbound_edges_per_ip = 2;
	o.max_edges_per_subnet = 64;
	cluster *cl = cl_new(6, 47, 0, &o);
	struct srcmap m = {{0}};
	for (uint32_t i = 1; i <= 5; i++)
		m.ip_of[i] = 0x0a000101u; /* one IP, like loopback */
	assert_int_equal(cl_start(cl, 0), 0);
	nn_node_set_source_fn(cl->nodes[0].node, src_of, &m);
	for (uint32_t i = 1; i <= 3; i++)
		assert_int_equal(cl_start(cl, i), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0); /* two inbound edges from the IP: its share */
	assert_int_equal(cl_bootstrap(cl, 2, 0), 0);
	assert_int_equal(cl_bootstrap(cl, 0, 3), 0); /* the hub dials 3 */
	cl_run(cl, 20 * NN_SEC);                     /* past the crossed-dial window */
	nn_routing_edges *he = nn_node_edges(cl->nodes[0].node);
	const nn_routing_edge *e = nn_routing_edges_find(he, &cl->nodes[3].id);
	assert_non_null(e);
	assert_true(e->outgoing);
	assert_int_equal(nn_routing_edges_inbound(he), 2);
	assert_int_equal(cl_send(cl, 3, 0, 0x7100), 0); /* the edge was heard just now */
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(cl_count(cl, 0, 0x7100), 1);
	/* 3 crashes: nothing more from it, no close; it is back at once as "n4" */
	crash_and_return(cl, 3, 4, 0x7101);
	nn_node_stats s = stats_of(cl, 0);
	e = nn_routing_edges_find(he, &cl->nodes[3].id);
	printf("# restarted peer at the hub: refused per IP %llu, replaced %llu, edge %s; the hub's "
	       "message to it delivered %zu\n", (unsigned long long)s.dropped_inbound_per_ip,
	       (unsigned long long)s.dup_restarted, !e ? "none" : e->outgoing ? "the old one" : "new",
	       cl_count(cl, 4, 0x7101));
	assert_int_equal(s.dropped_inbound_per_ip, 0);
	assert_int_equal(s.dup_restarted, 1);
	assert_non_null(e);
	assert_false(e->outgoing);
	assert_int_equal(cl_count(cl, 4, 0x7101), 1);
	assert_int_equal(nn_routing_edges_inbound(he), 3); /* 1, 2 and the restarted 3 */
	/* it restarts again ("n5"): now the edge it replaces is one it dialled, the IP is over
	 * its share (3 of 2), and again it takes no new place */
	assert_int_equal(cl_send(cl, 4, 0, 0x7102), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(cl_count(cl, 0, 0x7102), 1);
	crash_and_return(cl, 4, 5, 0x7103);
	s = stats_of(cl, 0);
	printf("# and again: refused per IP %llu, delivered %zu\n",
	       (unsigned long long)s.dropped_inbound_per_ip, cl_count(cl, 5, 0x7103));
	assert_int_equal(s.dropped_inbound_per_ip, 0);
	assert_int_equal(cl_count(cl, 5, 0x7103), 1);
	assert_int_equal(nn_routing_edges_inbound(he), 3);
	cl_free(cl);
}

/* A known peer that comes back on a new address (a restart, a new port) from an IP at our
 * inbound share is refused, but its authenticated new address is learnt, so our fill dials it
 * there at the next tick. A newcomer we did not know is refused and not learnt: identities of a
 * crowded /24 or IP (an eclipse attempt's) do not flow into our table that way. */
static void test_refused_known_peer_is_relearnt_and_dialled(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.max_inbound_edges_per_ip = 2;
	o.max_edges_per_subnet = 64;
	cluster *cl = cl_new(6, 48, 0, &o);
	struct srcmap m = {{0}};
	for (uint32_t i = 1; i <= 5; i++)
		m.ip_of[i] = 0x0a000101u;
	m.ip_of[3] = 0x0a000202u; /* 3 first comes from an IP of its own */
	assert_int_equal(cl_start(cl, 0), 0);
	nn_node_set_source_fn(cl->nodes[0].node, src_of, &m);
	for (uint32_t i = 1; i <= 3; i++) {
		assert_int_equal(cl_start(cl, i), 0);
		assert_int_equal(cl_bootstrap(cl, i, 0), 0);
	}
	cl_run(cl, 200 * NN_MS);
	nn_routing_kt *kt = nn_node_knowledge(cl->nodes[0].node);
	assert_non_null(nn_routing_kt_get(kt, &cl->nodes[3].id, NULL));
	/* 3 crashes and its edge goes; it comes back as "n4" from the crowded IP */
	nn_mem_partition(cl->nodes[3].tp, 1);
	nn_node_drop_edge(cl->nodes[0].node, &cl->nodes[3].id, NN_TP_REASON_NORMAL);
	memcpy(cl->nodes[4].seed, cl->nodes[3].seed, sizeof cl->nodes[4].seed);
	cl->nodes[4].id = cl->nodes[3].id;
	assert_int_equal(cl_start(cl, 4), 0);
	assert_int_equal(cl_bootstrap(cl, 4, 0), 0);
	/* and a stranger "n5" from that IP */
	assert_int_equal(cl_start(cl, 5), 0);
	assert_int_equal(cl_bootstrap(cl, 5, 0), 0);
	cl_run(cl, 200 * NN_MS);
	nn_node_stats s = stats_of(cl, 0);
	const nn_routing_kc *k = nn_routing_kt_get(kt, &cl->nodes[3].id, NULL);
	bool moved = false; /* its address now names n4 (mem addresses: "n<index>") */
	for (size_t i = 0; k && i < k->naddrs; i++) {
		nn_addr ka;
		nn_routing_kc_addr(k, i, &ka);
		moved |= ka.ep_len == 2 && !memcmp(ka.ep, "n4", 2);
	}
	bool stranger = nn_routing_kt_get(kt, &cl->nodes[5].id, NULL) != NULL;
	cl_run(cl, 6 * NN_SEC); /* one maintenance tick */
	const nn_routing_edge *e =
		nn_routing_edges_find(nn_node_edges(cl->nodes[0].node), &cl->nodes[3].id);
	printf("# refused per IP %llu; the known peer's new address learnt: %s; the stranger "
	       "learnt: %s; an edge to the peer after one tick: %s\n",
	       (unsigned long long)s.dropped_inbound_per_ip, moved ? "yes" : "no",
	       stranger ? "yes" : "no", !e ? "none" : e->outgoing ? "ours" : "its");
	assert_int_equal(s.dropped_inbound_per_ip, 2);
	assert_true(moved);
	assert_false(stranger);
	assert_non_null(e);
	assert_true(e->outgoing);
	cl_free(cl);
}

/* A Referral counts only on a connection we dialled, once: one pushed by a peer that dialled
 * us, or a second one, is dropped and counted, and teaches nothing. */
static void test_referral_only_from_dialled_connection(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(4, 44, 0, &o);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(cl_start(cl, i), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0); /* 1 dialled 0 */
	cl_run(cl, 100 * NN_MS);
	/* a Referral naming node 3 (keyed, with its mem address) */
	nn_identity id3;
	nn_identity_from_seed(&id3, cl->nodes[3].seed);
	nn_routing_contact c3;
	memset(&c3, 0, sizeof c3);
	c3.id = id3.id;
	memcpy(c3.ed_pub, id3.ed_pub, 32);
	nn_addr_set(&c3.addrs[0], "mem", "n3");
	c3.naddrs = 1;
	nn_identity_wipe(&id3);
	static const uint8_t zero[8];
	nn_routing_neighbors nb;
	nn_routing_neighbors_init(&nb, zero);
	assert_int_equal(nn_routing_neighbors_append(&nb, &c3), 0);
	uint8_t frame[1024];
	int len = nn_routing_referral_frame(frame, sizeof frame, NN_ROUTING_REFER_FULL, &nb);
	assert_true(len > 0);
	/* node 1 pushes it to node 0, who did not dial 1: refused */
	const nn_routing_edge *e = nn_routing_edges_find(nn_node_edges(cl->nodes[1].node),
							 &cl->nodes[0].id);
	assert_non_null(e);
	assert_int_equal(nn_tp_send(cl->nodes[1].tp, e->conn, frame, (size_t)len), 0);
	cl_run(cl, 50 * NN_MS);
	nn_node_stats s0 = stats_of(cl, 0);
	assert_int_equal(s0.dropped_referral, 1);
	assert_int_equal(s0.referrals_rx, 0);
	assert_null(nn_routing_kt_get(nn_node_knowledge(cl->nodes[0].node), &cl->nodes[3].id, NULL));
	/* node 0 sends it to node 1, who dialled 0: taken, node 3 learned and dialled; a second
	 * one on the same connection is refused */
	e = nn_routing_edges_find(nn_node_edges(cl->nodes[0].node), &cl->nodes[1].id);
	assert_non_null(e);
	assert_int_equal(nn_tp_send(cl->nodes[0].tp, e->conn, frame, (size_t)len), 0);
	assert_int_equal(nn_tp_send(cl->nodes[0].tp, e->conn, frame, (size_t)len), 0);
	cl_run(cl, 50 * NN_MS);
	nn_node_stats s1 = stats_of(cl, 1);
	assert_int_equal(s1.referrals_rx, 1);
	assert_int_equal(s1.dropped_referral, 1);
	assert_int_equal(s1.referral_contacts, 1);
	assert_true(has_edge(cl, 1, 3));
	/* a malformed one is counted as such */
	uint8_t bad[8] = {1, NN_T_REFERRAL, 2, 1, 5};
	nn_node_stats before = stats_of(cl, 1);
	e = nn_routing_edges_find(nn_node_edges(cl->nodes[3].node), &cl->nodes[1].id);
	assert_non_null(e); /* 1 dialled 3: 3 may refer 1, but not with garbage */
	assert_int_equal(nn_tp_send(cl->nodes[3].tp, e->conn, bad, 5), 0);
	cl_run(cl, 50 * NN_MS);
	nn_node_stats after = stats_of(cl, 1);
	assert_int_equal(after.dropped_malformed, before.dropped_malformed + 1);
	assert_int_equal(after.referrals_rx, before.referrals_rx);
	cl_free(cl);
}

/* A node cut off for half an hour (every edge reaped, every dial failing) while its only
 * bootstrap contact died keeps its knowledge and keeps trying the contacts it knows: after the
 * partition heals it is back in the overlay within the rejoin back-off (60 s at most). */
static void test_stranded_node_retries_known_contacts(void **state)
{
	cluster *cl = cl_new(6, 45, 0, NULL);
	assert_int_equal(cl_join(cl, 0, 6), 0);
	cl_run(cl, 30 * NN_SEC);
	const uint32_t s = 5;
	assert_true(cl_edges(cl, s) >= 2);
	cl_kill(cl, 0, false); /* the bootstrap node is gone for good */
	nn_mem_partition(cl->nodes[s].tp, 1);
	cl_run(cl, 30 * 60 * NN_SEC);
	assert_int_equal(cl_edges(cl, s), 0);
	size_t known = nn_routing_kt_size(nn_node_knowledge(cl->nodes[s].node));
	nn_node_stats before = stats_of(cl, s);
	nn_mem_heal(cl->hub);
	cl_run(cl, 75 * NN_SEC);
	nn_node_stats after = stats_of(cl, s);
	printf("# stranded 30 min: knew %zu contacts; %llu re-dials so far, %llu purged; %zu edges "
	       "75 s after the heal\n", known, (unsigned long long)after.rejoins,
	       (unsigned long long)after.purged, cl_edges(cl, s));
	assert_true(known >= 3);
	assert_int_equal(after.purged, before.purged);
	assert_true(after.rejoins > before.rejoins);
	assert_true(cl_edges(cl, s) >= 1);
	assert_int_equal(cl_send(cl, s, 2, 601), 0);
	assert_int_equal(cl_send(cl, 3, s, 602), 0);
	cl_run(cl, 200 * NN_MS);
	assert_int_equal(cl_count(cl, 2, 601), 1);
	assert_int_equal(cl_count(cl, s, 602), 1);
	cl_free(cl);
}

/* The mem transport keeps no defensive counters (only media ones, and this cluster has no
 * session): the node's tp_* stats read 0. */
static void test_mem_transport_counters_are_zero(void **state)
{
	cluster *cl = cl_new(2, 46, 0, NULL);
	assert_int_equal(cl_join(cl, 0, 2), 0);
	cl_run(cl, 1 * NN_SEC);
	nn_node_stats s = stats_of(cl, 0);
	uint64_t v;
	const char *name;
	size_t tp = 0;
	for (size_t i = 0; (name = nn_node_stat(&s, i, &v)); i++)
		if (!strncmp(name, "tp_", 3)) {
			tp++;
			assert_int_equal(v, 0);
		}
	assert_true(tp >= 20);
	cl_free(cl);
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_ip_and_subnet_shares),
		cmocka_unit_test(test_live_edge_share_per_subnet_both_directions),
		cmocka_unit_test(test_near_region_share_per_subnet),
		cmocka_unit_test(test_shed_longest_idle_finger_at_cap),
		cmocka_unit_test(test_referral_lets_refused_newcomer_join),
		cmocka_unit_test(test_referral_only_from_dialled_connection),
		cmocka_unit_test(test_restarted_peer_replaces_its_edge_past_the_shares),
		cmocka_unit_test(test_refused_known_peer_is_relearnt_and_dialled),
		cmocka_unit_test(test_stranded_node_retries_known_contacts),
		cmocka_unit_test(test_mem_transport_counters_are_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
