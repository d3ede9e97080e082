/* discovery.c — the periodic discovery tasks (self-lookup, sibling exchange, bucket refresh),
 * their pace, and the joining walk.
 *
 * Pace (local policy; the reference runs each task at its fixed period, and faster while
 * filling). Below Normal a task runs every tick while its rounds bring news, and backs off
 * exponentially (1, 2, 4, ... ticks) up to its configured period (nn_maintenance) while they
 * bring none. News is anything that changes what discovery would find: a contact we did not
 * know, a live edge lost, a join. News resets every task to the tick's pace and pulls a
 * backed-off task in to the next tick, so churn is repaired at once while an idle overlay
 * (a small one never reaches Normal) goes quiet. In Normal the configured periods apply.
 *
 * Joining walk (Kademlia's iterative lookup over live edges): the self-lookup also goes one hop
 * to the two closest edges, whose answers come straight back even when the neighbourhood has
 * not met us yet; a new contact from an answer is dialled at once (nn_node_fill_near); an edge
 * we dialled that becomes a sibling is asked at once, one hop, for its contacts closest to us.
 */
#include "node/node_impl.h"
#include "routing/control.h"

#define PACE_MAX_LEVEL 16 /* 2^16 ticks: far beyond any configured period */

static bool fast_pace(nn_node *n, int64_t every_ms)
{
	return nn_routing_edges_phase(n->edges) < NN_ROUTING_PHASE_NORMAL && n->m.tick_ms > 0 &&
	       n->m.tick_ms < every_ms;
}

/* A round of p's task ran: the delay until its next round. */
static nn_time next_period(nn_node *n, struct nn_pace *p, int64_t every_ms)
{
	if (n->news != p->seen)
		p->level = 0;
	else if (p->level < PACE_MAX_LEVEL)
		p->level++;
	p->seen = n->news;
	if (!fast_pace(n, every_ms))
		return nn_node_ms(every_ms);
	int64_t d = n->m.tick_ms;
	for (unsigned i = 0; i < p->level && d < every_ms; i++)
		d *= 2;
	return nn_node_ms(d < every_ms ? d : every_ms);
}

static void pull_in(nn_node *n, struct nn_pace *p, int64_t every_ms)
{
	p->level = 0;
	nn_time soon = nn_node_now(n) + nn_node_ms(n->m.tick_ms);
	if (fast_pace(n, every_ms) && nn_timer_armed(&p->timer) && p->timer.when > soon)
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
	for (size_t i = 0; len > 0 && i < k; i++)
		(void)nn_node_send_conn(n, conns[i], frame, (size_t)len);
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
	(void)nn_node_lookup(n, &n->ident.id, NN_LOOKUP_NEAR);
	nn_timer_start_in(n->clock, t, next_period(n, &n->self_lookup, n->m.self_lookup_ms));
}

static void on_sibling_exchange(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	size_t k = nn_routing_edges_len(n->edges);
	nn_conn *sib[NN_ROUTING_SIBLINGS];
	size_t ns = 0;
	for (size_t i = 0; i < k && ns < NN_ROUTING_SIBLINGS; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		if (e->role == NN_ROUTING_ROLE_SIBLING)
			sib[ns++] = e->conn;
	}
	if (ns)
		send_siblings(n, sib, ns);
	nn_timer_start_in(n->clock, t,
			  next_period(n, &n->sibling_exchange, n->m.sibling_exchange_ms));
}

/* Deepest bucket holding any contact: the sweep covers buckets 0..deepest (Kademlia's join:
 * refresh every bucket farther than the closest neighbour, empty ones included). */
static unsigned deepest_bucket(const nn_node *n)
{
	const nn_routing_contact *c[1];
	if (!nn_routing_kt_closest(n->kt, &n->ident.id, 1, c))
		return 0;
	return nn_kad_cpl(&n->ident.id, &c[0]->id);
}

static void on_bucket_refresh(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	uint8_t rnd[NN_ID_LEN];
	nn_node_rand_bytes(n, rnd, sizeof rnd);
	nn_id target;
	bool filling = nn_routing_edges_phase(n->edges) < NN_ROUTING_PHASE_NORMAL;
	if (filling) {
		/* joining sweep: one bucket per round, the ones not yet full */
		unsigned deepest = deepest_bucket(n);
		for (unsigned tries = 0; tries <= deepest; tries++) {
			unsigned b = n->refresh_cursor++ % (deepest + 1);
			if (nn_routing_kt_bucket_len(n->kt, b) < NN_ROUTING_K &&
			    nn_kad_random_in_bucket(&target, &n->ident.id, b, rnd) == 0) {
				(void)nn_node_lookup(n, &target, NN_LOOKUP_SPREAD);
				break;
			}
		}
	} else if (nn_routing_kt_refresh_target(n->kt, nn_node_now(n),
						nn_node_ms(n->m.bucket_stale_ms), rnd, &target) >= 0) {
		(void)nn_node_lookup(n, &target, NN_LOOKUP_SPREAD);
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
