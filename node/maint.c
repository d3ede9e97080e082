/* maint.c — maintenance: the tick (reap, keepalive, fill, probes, backoff, table trims); dial
 * outcomes and contact observation. The periodic discovery tasks are in discovery.c.
 *
 * Local policy throughout; defaults as in nodenet.h (nn_maintenance). Fill dials contacts the
 * routing layer proposes (siblings-to-be, then long-range fingers across buckets); a failed
 * dial doubles the contact's backoff (base .. max) and a contact that keeps failing at the cap
 * is purged from the knowledge table. Probe-before-evict dials settle full buckets.
 */
#include <string.h>

#include "node/node_impl.h"

int nn_node_observe(nn_node *n, const nn_routing_contact *c, nn_routing_source src)
{
	nn_id incumbent;
	int rc = nn_routing_kt_observe(n->kt, c, src, nn_node_now(n), &incumbent);
	if (rc == NN_EIDMISMATCH)
		n->stats.dropped_forged_contact++; /* its key does not hash to the ID it claims */
	else if (rc == NN_EPOW)
		n->stats.dropped_sub_pow++; /* a newcomer below the PoW, or keyless while PoW is on */
	else if (rc == NN_ROUTING_OBS_NEED_PROBE)
		nn_node_want_probe(n, &incumbent);
	else if (rc == NN_ROUTING_OBS_ADDED)
		nn_node_news(n); /* a contact we did not know: discovery is productive */
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
	/* a node without any live edge forgets nobody: the failure may be its own (its network
	 * is down, or every node it knows is full) and it keeps trying all of them (rejoin) */
	if (at_cap && d->failures >= 3 && nn_routing_edges_len(n->edges) > 0) {
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
	return nn_node_subnet_full(n, id); /* another contact, in another subnet, is dialled */
}

static int dial_contact(nn_node *n, const nn_id *id, bool probe)
{
	const nn_routing_kc *c = nn_routing_kt_get(n->kt, id, NULL);
	if (!c || !c->naddrs)
		return NN_ENOENT;
	bool fresh;
	struct dialstate *d = nn_idmap_put(&n->dials, id, &fresh);
	if (!d)
		return NN_ELIMIT;
	/* every address of the contact in turn: attempt k after k consecutive failures dials
	 * the k-th dialable one (mod their number), so no address is left untried */
	nn_addr cand;
	const nn_addr *a = NULL;
	for (unsigned i = 0; i < c->naddrs && !a; i++) {
		nn_routing_kc_addr(c, (d->failures + i) % c->naddrs, &cand);
		if (nn_node_addr_dialable(n, &cand))
			a = &cand;
	}
	if (!a) {
		nn_node_dial_done(n, id, false);
		return NN_EADDR;
	}
	int rc = nn_node_dial(n, id, a, probe, false);
	if (rc == 0 && (d = nn_idmap_get(&n->dials, id))) /* the dial may have moved it */
		d->pending = true;
	else
		nn_node_dial_done(n, id, false);
	return rc;
}

void nn_node_dial_some(nn_node *n, const nn_id *ids, size_t k)
{
	for (size_t i = 0; i < k && n->dials_in_flight < n->m.dialers; i++) {
		if (nn_routing_edges_find(n->edges, &ids[i]) || skip_contact(n, &ids[i]))
			continue;
		(void)dial_contact(n, &ids[i], false);
	}
}

static void reap_and_keepalive(nn_node *n, nn_time now)
{
	nn_id ids[NN_ROUTING_INBOUND_CAP + 2 * NN_ROUTING_TARGET_EDGES];
	size_t cap = sizeof ids / sizeof ids[0];
	nn_time ka_sib, ka_fin, dead_sib, dead_fin;
	nn_node_ka_timeouts(n, &ka_sib, &ka_fin, &dead_sib, &dead_fin);
	size_t k = nn_routing_edges_idle(n->edges, now, dead_sib, dead_fin, ids, cap);
	for (size_t i = 0; i < k; i++) {
		const nn_routing_edge *e = nn_routing_edges_find(n->edges, &ids[i]);
		if (e && !nn_node_ka_edge_due(n, e, now, true))
			continue; /* an edge that crosses no NAT of ours: the longer threshold */
		if (e && e->conn &&
		    nn_node_ka_pending(n, ((nn_conn *)e->conn)->user, now,
				       e->role == NN_ROUTING_ROLE_SIBLING ? dead_sib : dead_fin))
			continue; /* silent on purpose: a keepalive probe or echo (keepalive.c) */
		char hex[65];
		nn_node_log(n, NN_LOG_DEBUG, "reaping silent edge %s", nn_node_hex(&ids[i], hex));
		nn_node_drop_edge(n, &ids[i], NN_TP_REASON_NORMAL);
	}
	k = nn_routing_edges_idle(n->edges, now, ka_sib, ka_fin, ids, cap);
	for (size_t i = 0; i < k; i++) {
		const nn_routing_edge *e = nn_routing_edges_find(n->edges, &ids[i]);
		if (e && nn_node_ka_edge_due(n, e, now, false) &&
		    !nn_node_ka_quiet(n, ((nn_conn *)e->conn)->user))
			(void)nn_node_send_ping(n, e->conn);
	}
	nn_node_ka_unanswered(n, now);
	nn_node_ka_tick(n, now);
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
	const nn_routing_kc *close[NN_ROUTING_SIBLINGS];
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
		const nn_routing_kc *c = nn_routing_kt_get(n->kt, &id, NULL);
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

/* While edgeless, also re-dial up to NN_NODE_REJOIN_KNOWN contacts from the knowledge table,
 * taking them in turn (a cursor over the buckets) so every known contact gets tried round after
 * round; the contacts' own backoff is ignored here (the round has its own), pending dials and
 * the admission hook are not. Returns how many dials started. */
#define NN_NODE_REJOIN_KNOWN 8
static bool dialling(const nn_node *n, const nn_id *id)
{
	for (const struct nconn *nc = n->conns; nc; nc = nc->next)
		if (nc->dialling && nn_kad_id_eq(&nc->want, id))
			return true;
	return false;
}

static size_t rejoin_known(nn_node *n)
{
	size_t total = nn_routing_kt_size(n->kt), started = 0;
	if (!total)
		return 0;
	size_t start = n->rejoin_cursor % total, pos = 0, looked = 0;
	for (int pass = 0; pass < 2 && started < NN_NODE_REJOIN_KNOWN; pass++) {
		pos = 0;
		for (unsigned b = 0; b < NN_ROUTING_BUCKETS && started < NN_NODE_REJOIN_KNOWN; b++) {
			size_t blen = nn_routing_kt_bucket_len(n->kt, b);
			for (size_t i = 0; i < blen && started < NN_NODE_REJOIN_KNOWN; i++, pos++) {
				if (pass == 0 ? pos < start : pos >= start)
					continue;
				looked++;
				const nn_routing_kc *c = nn_routing_kt_bucket_at(n->kt, b, i);
				if (!c || !c->naddrs)
					continue;
				nn_id id = c->id;
				const struct dialstate *d = nn_idmap_get(&n->dials, &id);
				if ((d && d->pending) || dialling(n, &id) ||
				    (n->opts.cb.admit_edge &&
				     !n->opts.cb.admit_edge(n->opts.cb.user, &id, false)))
					continue;
				if (dial_contact(n, &id, false) == 0)
					started++;
			}
		}
	}
	n->rejoin_cursor = start + looked;
	return started;
}

/* A node with no live edge re-dials its bootstrap contacts and, in turn, the contacts it knows
 * (local policy): the first dial may have failed (the bootstrap node was not up yet, a lost
 * handshake), every edge dropped since, or every node it reached refused it at a cap. Backoff
 * doubles from one tick to NN_NODE_REJOIN_MAX while nothing comes up; any edge resets it. Never
 * more than one dial per contact in flight. */
static void rejoin(nn_node *n, nn_time now)
{
	if (nn_routing_edges_len(n->edges) > 0) {
		n->rejoin_delay = 0;
		n->rejoin_at = 0;
		return;
	}
	if ((!n->nboots && !nn_routing_kt_size(n->kt)) || now < n->rejoin_at || n->stopping)
		return;
	nn_time tick = nn_node_ms(n->m.tick_ms);
	n->rejoin_delay = n->rejoin_delay ? n->rejoin_delay * 2 : tick;
	if (n->rejoin_delay > NN_NODE_REJOIN_MAX)
		n->rejoin_delay = NN_NODE_REJOIN_MAX;
	n->rejoin_at = now + n->rejoin_delay;
	for (size_t i = 0; i < n->nboots; i++) {
		const nn_id *id = &n->boots[i].id;
		if (dialling(n, id))
			continue;
		char hex[65];
		nn_node_log(n, NN_LOG_INFO, "no live edge: re-dialling bootstrap contact %s",
			    nn_node_hex(id, hex));
		if (nn_node_dial(n, id, &n->boots[i].addr, false, true) == 0)
			n->stats.rejoins++;
	}
	size_t k = rejoin_known(n);
	n->stats.rejoins += k;
	if (k)
		nn_node_log(n, NN_LOG_INFO, "no live edge: re-dialling %zu known contact(s)", k);
}

/* Tables that grew for a burst (the join, a flood) give the memory back once their load has
 * fallen: the per-originator limiter forgets refilled buckets, the dial states (pruned just
 * before) halve while an eighth full, both dedup tables halve their older generation while a
 * quarter of it holds both generations' records (local policy; each grows again on demand). */
static void trim_tables(nn_node *n, nn_time now)
{
	(void)nn_idmap_trim(&n->dials);
	(void)nn_olimit_sweep(&n->olimit, now);
	(void)nn_routing_dedup_trim(&n->dedup);
	(void)nn_routing_dedup_trim(&n->transit);
}

static void on_tick(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	nn_time now = nn_node_now(n);
	nn_routing_phase before = nn_routing_edges_phase(n->edges);
	reap_and_keepalive(n, now);
	nn_node_sweep_conns(n, now);
	rejoin(n, now);
	prune_backoff(n, now);
	trim_tables(n, now);
	fill(n);
	probes(n, now);
	nn_routing_phase after = nn_routing_edges_phase(n->edges);
	if (after != before)
		nn_node_log(n, NN_LOG_INFO, "phase %s -> %s (%zu edges)", nn_routing_phase_name(before),
			    nn_routing_phase_name(after), nn_routing_edges_len(n->edges));
	nn_timer_start_in(n->clock, t, nn_node_ms(n->m.tick_ms));
}

void nn_node_arm_periodic(nn_node *n, nn_timer *t, nn_timer_cb cb, int64_t every_ms,
			  nn_time first)
{
	nn_timer_init(t, cb, n);
	if (every_ms > 0)
		nn_timer_start_in(n->clock, t, first);
}

void nn_node_maint_start(nn_node *n)
{
	/* spread first runs a little so a thousand simulated nodes do not tick in lockstep */
	nn_time jitter = (nn_time)nn_clock_rand_below(n->clock, (uint64_t)nn_node_ms(1000));
	nn_node_arm_periodic(n, &n->tick, on_tick, n->m.tick_ms, nn_node_ms(200) + jitter);
	nn_node_discovery_start(n, jitter);
}

void nn_node_maint_stop(nn_node *n)
{
	if (!n->clock)
		return;
	nn_timer_stop(n->clock, &n->tick);
	nn_node_discovery_stop(n);
	nn_timer_stop(n->clock, &n->leave_done);
}
