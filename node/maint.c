/* maint.c — maintenance: the tick (reap, keepalive, fill, probes, backoff), self-lookup,
 * sibling exchange, bucket refresh; dial outcomes and contact observation.
 *
 * Local policy throughout; defaults as in nodenet.h (nn_maintenance). The self-lookup goes one
 * hop to the closest edges as well as routed, and a new sibling edge is asked for our
 * neighbourhood at once (the joining walk, nn_node_edge_up). Fill dials contacts the
 * routing layer proposes (siblings-to-be, then long-range fingers across buckets); a failed
 * dial doubles the contact's backoff (base .. max) and a contact that keeps failing at the cap
 * is purged from the knowledge table. Probe-before-evict dials settle full buckets.
 */
#include <string.h>

#include "node/node_impl.h"
#include "routing/control.h"

int nn_node_observe(nn_node *n, const nn_routing_contact *c, nn_routing_source src)
{
	nn_id incumbent;
	int rc = nn_routing_kt_observe(n->kt, c, src, nn_node_now(n), &incumbent);
	if (rc == NN_ROUTING_OBS_NEED_PROBE)
		nn_node_want_probe(n, &incumbent);
	return rc;
}

void nn_node_want_probe(nn_node *n, const nn_id *incumbent)
{
	for (size_t i = 0; i < n->nprobes; i++)
		if (nn_kad_id_eq(&n->probes[i], incumbent))
			return;
	if (n->nprobes < NN_NODE_PROBES)
		n->probes[n->nprobes++] = *incumbent;
}

void nn_node_dial_done(nn_node *n, const nn_id *id, bool ok)
{
	struct dialstate *d = nn_idmap_get(&n->dials, id);
	if (ok) {
		if (d)
			nn_idmap_del(&n->dials, id);
		return;
	}
	bool fresh;
	if (!d && !(d = nn_idmap_put(&n->dials, id, &fresh)))
		return;
	d->pending = false;
	nn_time base = nn_node_ms(n->m.backoff_base_ms), max = nn_node_ms(n->m.backoff_max_ms);
	bool at_cap = d->delay >= max;
	d->failures++;
	d->delay = d->delay ? d->delay * 2 : base;
	if (d->delay > max)
		d->delay = max;
	d->next_attempt = nn_node_now(n) + d->delay;
	if (at_cap && d->failures >= 3) {
		(void)nn_routing_kt_mark_dead(n->kt, id);
		nn_idmap_del(&n->dials, id);
		n->stats.purged++;
	}
}

static bool skip_contact(void *user, const nn_id *id)
{
	nn_node *n = user;
	const struct dialstate *d = nn_idmap_get(&n->dials, id);
	if (d && (d->pending || d->next_attempt > nn_node_now(n)))
		return true;
	if (n->opts.cb.admit_edge && !n->opts.cb.admit_edge(n->opts.cb.user, id, false)) {
		n->stats.dropped_edge_refused++;
		return true;
	}
	return false;
}

static int dial_contact(nn_node *n, const nn_id *id, bool probe)
{
	const nn_routing_contact *c = nn_routing_kt_get(n->kt, id, NULL);
	if (!c || !c->naddrs)
		return NN_ENOENT;
	bool fresh;
	struct dialstate *d = nn_idmap_put(&n->dials, id, &fresh);
	if (!d)
		return NN_ELIMIT;
	int rc = nn_node_dial(n, id, &c->addrs[0], probe, false);
	if (rc == 0)
		d->pending = true;
	else
		nn_node_dial_done(n, id, false);
	return rc;
}

/* While the node is still filling (phase below Normal) its discovery tasks run every tick:
 * each answer brings contacts closer to us and the next round goes through them (Kademlia's
 * iterative lookup, spread over ticks). Local policy. */
static int64_t filling_period(const nn_node *n, int64_t every)
{
	if (nn_routing_edges_phase(n->edges) < NN_ROUTING_PHASE_NORMAL && n->m.tick_ms > 0 &&
	    n->m.tick_ms < every)
		return n->m.tick_ms;
	return every;
}

void nn_node_joined(nn_node *n, nn_conn *c)
{
	/* learn at once, before the bootstrap node may shed us: its neighbourhood (Siblings) and
	 * ours (a self-lookup through it) */
	uint8_t nonce[NN_ROUTING_NONCE_LEN], frame[16];
	nn_node_nonce_new(n, nonce);
	int len = nn_routing_siblings_frame(frame, sizeof frame, nonce);
	if (len > 0)
		(void)nn_node_send_conn(n, c, frame, (size_t)len);
	(void)nn_node_lookup(n, &n->ident.id, NN_LOOKUP_NEAR);
}

/* An edge we dialled came up. When it ranks among our siblings, ask it at once for its
 * contacts closest to us (one hop): a joining node walks toward its neighbourhood at the pace
 * of round trips, not of ticks, and every sibling it dials learns it from the edge itself, so
 * routes to the newcomer work as soon as it has met its neighbours (local policy). */
void nn_node_edge_up(nn_node *n, nn_conn *c)
{
	if (n->opts.no_maintenance || !c->outbound)
		return;
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &c->remote_id);
	if (e && e->role == NN_ROUTING_ROLE_SIBLING)
		(void)nn_node_lookup_via(n, &n->ident.id, c);
}

static void reap_and_keepalive(nn_node *n, nn_time now)
{
	nn_id ids[NN_ROUTING_INBOUND_CAP + 2 * NN_ROUTING_TARGET_EDGES];
	size_t cap = sizeof ids / sizeof ids[0];
	size_t k = nn_routing_edges_idle(n->edges, now, nn_node_ms(n->m.dead_sibling_ms),
					 nn_node_ms(n->m.dead_finger_ms), ids, cap);
	for (size_t i = 0; i < k; i++) {
		char hex[65];
		nn_node_log(n, NN_LOG_DEBUG, "reaping silent edge %s", nn_node_hex(&ids[i], hex));
		nn_node_drop_edge(n, &ids[i], NN_TP_REASON_NORMAL);
	}
	k = nn_routing_edges_idle(n->edges, now, nn_node_ms(n->m.keepalive_sibling_ms),
				  nn_node_ms(n->m.keepalive_finger_ms), ids, cap);
	for (size_t i = 0; i < k; i++) {
		const nn_routing_edge *e = nn_routing_edges_find(n->edges, &ids[i]);
		if (e)
			(void)nn_node_send_ping(n, e->conn);
	}
}

/* Keep the neighbourhood whole in every phase (local policy): a known contact among the 16
 * closest to us without a live edge gets dialled, up to two a call: every tick, and at once
 * when a Neighbors answer brought a new contact (the joining walk). The phase-driven fill
 * stops at Normal, but a node that joins next to us must become our edge, or greedy routes
 * toward it stall one hop short (the reference never dials in Normal). */
void nn_node_fill_near(nn_node *n)
{
	if (n->opts.no_maintenance)
		return;
	const nn_routing_contact *close[NN_ROUTING_SIBLINGS];
	size_t k = nn_routing_kt_closest(n->kt, &n->ident.id, NN_ROUTING_SIBLINGS, close);
	size_t dialled = 0;
	for (size_t i = 0; i < k && dialled < 2 && n->dials_in_flight < n->m.dialers; i++) {
		nn_id id = close[i]->id;
		if (!close[i]->naddrs || nn_routing_edges_find(n->edges, &id) || skip_contact(n, &id))
			continue;
		if (dial_contact(n, &id, false) == 0)
			dialled++;
	}
}

static void fill(nn_node *n)
{
	nn_node_fill_near(n);
	size_t want = nn_routing_edges_want(n->edges);
	if (!want || n->dials_in_flight >= n->m.dialers)
		return;
	nn_id ids[64];
	size_t room = n->m.dialers - n->dials_in_flight;
	if (want > room)
		want = room;
	if (want > 64)
		want = 64;
	size_t k = nn_routing_edges_fill(n->edges, n->kt, want, skip_contact, n, ids);
	for (size_t i = 0; i < k; i++)
		(void)dial_contact(n, &ids[i], false);
}

static void probes(nn_node *n, nn_time now)
{
	size_t done = 0;
	while (n->nprobes && done < 2) {
		nn_id id = n->probes[0];
		memmove(n->probes, n->probes + 1, (n->nprobes - 1) * sizeof n->probes[0]);
		n->nprobes--;
		done++;
		if (nn_routing_edges_find(n->edges, &id)) {
			(void)nn_routing_kt_confirm(n->kt, &id, true, now);
			continue;
		}
		const nn_routing_contact *c = nn_routing_kt_get(n->kt, &id, NULL);
		if (!c || !c->naddrs) {
			(void)nn_routing_kt_confirm(n->kt, &id, false, now);
			continue;
		}
		const struct dialstate *d = nn_idmap_get(&n->dials, &id);
		if (d && d->pending) {
			nn_node_want_probe(n, &id); /* retry next tick */
			continue;
		}
		if (dial_contact(n, &id, true) < 0)
			(void)nn_routing_kt_confirm(n->kt, &id, false, now);
	}
}

static void prune_backoff(nn_node *n, nn_time now)
{
	nn_time max = nn_node_ms(n->m.backoff_max_ms);
	for (size_t i = 0; i < n->dials.cap; i++) {
		nn_id id;
		struct dialstate *d = nn_idmap_slot(&n->dials, i, &id);
		if (d && !d->pending && d->next_attempt + max < now) {
			nn_idmap_del(&n->dials, &id);
			i--; /* backward shift may have filled slot i */
		}
	}
}

static void on_tick(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	nn_time now = nn_node_now(n);
	nn_routing_phase before = nn_routing_edges_phase(n->edges);
	reap_and_keepalive(n, now);
	nn_node_close_retired(n, now);
	prune_backoff(n, now);
	fill(n);
	probes(n, now);
	nn_routing_phase after = nn_routing_edges_phase(n->edges);
	if (after != before)
		nn_node_log(n, NN_LOG_INFO, "phase %s -> %s (%zu edges)", nn_routing_phase_name(before),
			    nn_routing_phase_name(after), nn_routing_edges_len(n->edges));
	nn_timer_start_in(n->clock, t, nn_node_ms(n->m.tick_ms));
}

static void on_self_lookup(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	(void)nn_node_lookup(n, &n->ident.id, NN_LOOKUP_NEAR);
	nn_timer_start_in(n->clock, t, nn_node_ms(filling_period(n, n->m.self_lookup_ms)));
}

static void on_sibling_exchange(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	uint8_t nonce[NN_ROUTING_NONCE_LEN], frame[16];
	nn_node_nonce_new(n, nonce);
	int len = nn_routing_siblings_frame(frame, sizeof frame, nonce);
	size_t k = nn_routing_edges_len(n->edges);
	nn_conn *sib[NN_ROUTING_SIBLINGS];
	size_t ns = 0;
	for (size_t i = 0; i < k && ns < NN_ROUTING_SIBLINGS; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		if (e->role == NN_ROUTING_ROLE_SIBLING)
			sib[ns++] = e->conn;
	}
	for (size_t i = 0; len > 0 && i < ns; i++)
		(void)nn_node_send_conn(n, sib[i], frame, (size_t)len);
	nn_timer_start_in(n->clock, t, nn_node_ms(filling_period(n, n->m.sibling_exchange_ms)));
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
		/* joining sweep: one bucket per tick, the ones not yet full */
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
	nn_timer_start_in(n->clock, t, nn_node_ms(filling_period(n, n->m.bucket_refresh_ms)));
}

static void arm(nn_node *n, nn_timer *t, nn_timer_cb cb, int64_t every_ms, nn_time first)
{
	nn_timer_init(t, cb, n);
	if (every_ms > 0)
		nn_timer_start_in(n->clock, t, first);
}

void nn_node_maint_start(nn_node *n)
{
	/* spread first runs a little so a thousand simulated nodes do not tick in lockstep */
	nn_time jitter = (nn_time)nn_clock_rand_below(n->clock, (uint64_t)nn_node_ms(1000));
	arm(n, &n->tick, on_tick, n->m.tick_ms, nn_node_ms(200) + jitter);
	arm(n, &n->self_lookup, on_self_lookup, n->m.self_lookup_ms, nn_node_ms(1500) + jitter);
	arm(n, &n->sibling_exchange, on_sibling_exchange, n->m.sibling_exchange_ms,
	    nn_node_ms(3000) + jitter);
	arm(n, &n->bucket_refresh, on_bucket_refresh, n->m.bucket_refresh_ms,
	    nn_node_ms(4000) + jitter);
}

void nn_node_maint_stop(nn_node *n)
{
	if (!n->clock)
		return;
	nn_timer_stop(n->clock, &n->tick);
	nn_timer_stop(n->clock, &n->self_lookup);
	nn_timer_stop(n->clock, &n->sibling_exchange);
	nn_timer_stop(n->clock, &n->bucket_refresh);
	nn_timer_stop(n->clock, &n->leave_done);
}
