/* discovery.c — the periodic discovery tasks (self-lookup, sibling exchange, bucket refresh),
 * their pace, and the joining walk.
 *
 * Pace (local policy; the reference runs each task at its fixed period, and faster while
 * filling). In every phase a task runs at its floor while its rounds bring news and backs off
 * exponentially (floor, 2 floor, 4 floor, ...; four times per round once past its configured
 * period) while they bring none, up to its quiet period, NN_NODE_QUIET_FACTOR times its
 * configured period: a stable overlay goes quiet. The floor is
 * the tick below Normal (joining, or an overlay too small to ever reach Normal) and the
 * configured period in Normal. News is anything that changes what discovery would find: a
 * contact we did not know, a live edge lost, a join. News resets every task to its floor and
 * pulls a backed-off task in to one floor from now, so churn is repaired at once.
 * Fan-out scales with news too: a round that follows news asks widely (the self-lookup goes
 * one hop to the two closest edges as well, a bucket lookup to two random edges as well, the
 * sibling exchange asks every sibling); a round without news since the last asks one copy
 * (the routed lookup alone; siblings >> level of them, at least one, taken in turn), since
 * one answer serves when nothing changed.
 *
 * Joining walk (Kademlia's iterative lookup over live edges): the self-lookup also goes one hop
 * to the two closest edges, whose answers come straight back even when the neighbourhood has
 * not met us yet; a new contact from an answer is dialled at once (nn_node_fill_near); an edge
 * we dialled that becomes a sibling is asked at once, one hop, for its contacts closest to us.
 */
#include "node/node_impl.h"
#include "routing/control.h"

#define PACE_MAX_LEVEL 16 /* 2^16 floors: far beyond any quiet period */

/* The shortest delay between rounds of a task of configured period every_ms. */
static int64_t floor_ms(const nn_node *n, int64_t every_ms)
{
	if (nn_routing_edges_phase(n->edges) < NN_ROUTING_PHASE_NORMAL && n->m.tick_ms > 0 &&
	    n->m.tick_ms < every_ms)
		return n->m.tick_ms;
	return every_ms;
}

/* A round of p's task starts: true when news came since its last round (the level resets),
 * else the task backs off one level. */
static bool round_start(nn_node *n, struct nn_pace *p)
{
	bool news = n->news != p->seen;
	if (news)
		p->level = 0;
	else if (p->level < PACE_MAX_LEVEL)
		p->level++;
	p->seen = n->news;
	return news;
}

/* How far p has backed off past its configured period: 0 while its delay is within it (news
 * lately, or still backing off from the floor), then 1, 2, ... one per doubling beyond. */
static unsigned quiet_level(const nn_node *n, const struct nn_pace *p, int64_t every_ms)
{
	int64_t d = floor_ms(n, every_ms); /* the delay after a round at level i */
	unsigned q = 0;
	for (unsigned i = 0; i <= p->level; i++) {
		if (d > every_ms)
			q++;
		else if (i < p->level)
			d *= 2;
	}
	return q;
}

/* The delay until p's next round. */
static nn_time next_period(const nn_node *n, const struct nn_pace *p, int64_t every_ms)
{
	int64_t cap = every_ms * NN_NODE_QUIET_FACTOR;
	int64_t d = floor_ms(n, every_ms);
	for (unsigned i = 0; i < p->level && d < cap; i++)
		d *= d > every_ms ? 4 : 2; /* past the period: quiet, on to the cap in two rounds */
	return nn_node_ms(d < cap ? d : cap);
}

static void pull_in(nn_node *n, struct nn_pace *p, int64_t every_ms)
{
	p->level = 0;
	nn_time soon = nn_node_now(n) + nn_node_ms(floor_ms(n, every_ms));
	if (every_ms > 0 && nn_timer_armed(&p->timer) && p->timer.when > soon)
		(void)nn_timer_start(n->clock, &p->timer, soon);
}

void nn_node_news(nn_node *n)
{
	n->news++;
	if (n->opts.no_maintenance || n->stopping)
		return;
	pull_in(n, &n->self_lookup, n->m.self_lookup_ms);
	pull_in(n, &n->sibling_exchange, n->m.sibling_exchange_ms);
	pull_in(n, &n->bucket_refresh, n->m.bucket_refresh_ms);
}

/* Send a Siblings request (one fresh nonce for all of them) to conns[0..k). */
static void send_siblings(nn_node *n, nn_conn **conns, size_t k)
{
	uint8_t nonce[NN_ROUTING_NONCE_LEN], frame[16];
	nn_node_nonce_new(n, nonce, (unsigned)k); /* one answer per sibling asked */
	int len = nn_routing_siblings_frame(frame, sizeof frame, nonce);
	for (size_t i = 0; len > 0 && i < k; i++) {
		(void)nn_node_send_conn(n, conns[i], frame, (size_t)len);
		n->stats.siblings_tx++;
	}
}

void nn_node_joined(nn_node *n, nn_conn *c)
{
	/* learn at once, before the bootstrap node may shed us: its neighbourhood (Siblings) and
	 * ours (a self-lookup through it) */
	nn_node_news(n);
	send_siblings(n, &c, 1);
	(void)nn_node_lookup(n, &n->ident.id, NN_LOOKUP_NEAR);
}

/* An edge we dialled came up. When it ranks among our siblings, ask it at once for its
 * contacts closest to us (one hop): a joining node walks toward its neighbourhood at the pace
 * of round trips, not of ticks, and every sibling it dials learns it from the edge itself, so
 * routes to the newcomer work as soon as it has met its neighbours. */
void nn_node_edge_up(nn_node *n, nn_conn *c)
{
	if (n->opts.no_maintenance || !c->outbound)
		return;
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &c->remote_id);
	if (e && e->role == NN_ROUTING_ROLE_SIBLING)
		(void)nn_node_lookup_via(n, &n->ident.id, c);
}

static void on_self_lookup(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	(void)round_start(n, &n->self_lookup);
	bool quiet = quiet_level(n, &n->self_lookup, n->m.self_lookup_ms) > 0;
	(void)nn_node_lookup(n, &n->ident.id, quiet ? NN_LOOKUP_ROUTED : NN_LOOKUP_NEAR);
	nn_timer_start_in(n->clock, t, next_period(n, &n->self_lookup, n->m.self_lookup_ms));
}

static void on_sibling_exchange(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	struct nn_pace *p = &n->sibling_exchange;
	(void)round_start(n, p);
	size_t k = nn_routing_edges_len(n->edges);
	nn_conn *sib[NN_ROUTING_SIBLINGS], *ask[NN_ROUTING_SIBLINGS];
	size_t ns = 0;
	for (size_t i = 0; i < k && ns < NN_ROUTING_SIBLINGS; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		if (e->role == NN_ROUTING_ROLE_SIBLING)
			sib[ns++] = e->conn;
	}
	/* every sibling until the exchange backs off past its period; then half as many each
	 * quiet round, at least one, in turn */
	unsigned q = quiet_level(n, p, n->m.sibling_exchange_ms);
	size_t want = q < 8 ? ns >> q : 0;
	if (want < 1)
		want = 1;
	size_t na = 0;
	for (size_t i = 0; i < ns && na < want; i++)
		ask[na++] = sib[(n->sibling_cursor + i) % ns];
	n->sibling_cursor += (unsigned)na;
	if (na)
		send_siblings(n, ask, na);
	nn_timer_start_in(n->clock, t, next_period(n, p, n->m.sibling_exchange_ms));
}

/* Deepest bucket holding any contact: the sweep covers buckets 0..deepest (Kademlia's join:
 * refresh every bucket farther than the closest neighbour, empty ones included). */
static unsigned deepest_bucket(const nn_node *n)
{
	const nn_routing_kc *c[1];
	if (!nn_routing_kt_closest(n->kt, &n->ident.id, 1, c))
		return 0;
	return nn_kad_cpl(&n->ident.id, &c[0]->id);
}

static void on_bucket_refresh(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	(void)round_start(n, &n->bucket_refresh);
	enum nn_lookup_mode mode = quiet_level(n, &n->bucket_refresh, n->m.bucket_refresh_ms)
					   ? NN_LOOKUP_ROUTED
					   : NN_LOOKUP_SPREAD;
	uint8_t rnd[NN_ID_LEN];
	nn_node_rand_bytes(n, rnd, sizeof rnd);
	nn_id target;
	bool filling = nn_routing_edges_phase(n->edges) < NN_ROUTING_PHASE_NORMAL;
	if (filling) {
		/* joining sweep: one bucket per round, the ones not yet full. The cursor moves on
		 * only once the lookup is out: a round with no edge yet (the bootstrap has not
		 * answered) must not use up a bucket's turn, or a late joiner may never look into
		 * its far buckets while it joins (test_cluster_1000 under CL_SEED=74: 16 of 1,000
		 * nodes knew nobody in bucket 0 after 120 s, and one send was lost) */
		unsigned deepest = deepest_bucket(n);
		for (unsigned tries = 0; tries <= deepest; tries++) {
			unsigned b = n->refresh_cursor % (deepest + 1);
			if (nn_routing_kt_bucket_len(n->kt, b) < NN_ROUTING_K &&
			    nn_kad_random_in_bucket(&target, &n->ident.id, b, rnd) == 0) {
				if (nn_node_lookup(n, &target, mode) == 0)
					n->refresh_cursor++;
				break;
			}
			n->refresh_cursor++;
		}
	} else if (nn_routing_kt_refresh_target(n->kt, nn_node_now(n),
						nn_node_ms(n->m.bucket_stale_ms), rnd, &target) >= 0) {
		(void)nn_node_lookup(n, &target, mode);
	}
	nn_timer_start_in(n->clock, t, next_period(n, &n->bucket_refresh, n->m.bucket_refresh_ms));
}

static void arm(nn_node *n, struct nn_pace *p, nn_timer_cb cb, int64_t every_ms, nn_time first)
{
	p->level = 0;
	p->seen = n->news;
	nn_node_arm_periodic(n, &p->timer, cb, every_ms, first);
}

void nn_node_discovery_start(nn_node *n, nn_time jitter)
{
	arm(n, &n->self_lookup, on_self_lookup, n->m.self_lookup_ms, nn_node_ms(1500) + jitter);
	arm(n, &n->sibling_exchange, on_sibling_exchange, n->m.sibling_exchange_ms,
	    nn_node_ms(3000) + jitter);
	arm(n, &n->bucket_refresh, on_bucket_refresh, n->m.bucket_refresh_ms,
	    nn_node_ms(4000) + jitter);
}

void nn_node_discovery_stop(nn_node *n)
{
	nn_timer_stop(n->clock, &n->self_lookup.timer);
	nn_timer_stop(n->clock, &n->sibling_exchange.timer);
	nn_timer_stop(n->clock, &n->bucket_refresh.timer);
}
