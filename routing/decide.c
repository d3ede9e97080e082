/* decide.c — greedy decide over the live edges, and the disjoint-path launch plan. */
#include <string.h>

#include "routing/edges_impl.h"
#include "routing/decide.h"

static bool in_avoid(const nn_id *id, const nn_id *avoid, size_t navoid)
{
	for (size_t i = 0; i < navoid; i++)
		if (nn_kad_id_eq(id, &avoid[i]))
			return true;
	return false;
}

/* Walking the implicit binary trie of the edges sorted by their top 64 bits: every range
 * [lo, hi) visited holds the edges whose first L bits equal the target's, so the half whose
 * bit L matches the target is wholly closer than the other half. Visiting the near half first
 * emits edges in increasing XOR distance; the walk stops when 8 candidates are out or when the
 * next edge is not strictly closer than self. */
typedef struct walk {
	const nn_routing_edges *e;
	const nn_id *t;
	uint64_t t0, s0;
	const nn_id *avoid;
	size_t navoid;
	nn_routing_decision *out;
	bool stop;
} walk;

#define LEAF 8

/* Emit edge idx (already known to be next in distance order). */
static void emit(walk *w, uint16_t idx)
{
	const nn_routing_edge *ed = &w->e->edge[idx];
	uint64_t d0 = w->e->key0[idx] ^ w->t0;
	if (d0 > w->s0 || (d0 == w->s0 && nn_kad_cmp_distance(w->t, &ed->id, &w->e->self) >= 0)) {
		w->stop = true; /* this and everything after it is not closer than self */
		return;
	}
	if (w->navoid && in_avoid(&ed->id, w->avoid, w->navoid))
		return;
	nn_routing_hop *h = &w->out->cand[w->out->n++];
	h->id = ed->id;
	h->conn = ed->conn;
	if (w->out->n == NN_ROUTING_CANDIDATES)
		w->stop = true;
}

static bool before(const walk *w, uint16_t a, uint16_t b)
{
	uint64_t da = w->e->key0[a] ^ w->t0, db = w->e->key0[b] ^ w->t0;
	if (da != db)
		return da < db;
	return nn_kad_cmp_distance(w->t, &w->e->edge[a].id, &w->e->edge[b].id) < 0;
}

/* A small range: sort by distance, emit in order. Ranges of equal top words can be larger
 * than LEAF only when L reached 64; they are emitted by repeated minimum selection. */
static void leaf(walk *w, size_t lo, size_t hi)
{
	const uint16_t *sidx = w->e->sidx;
	if (hi - lo <= LEAF) {
		uint16_t v[LEAF];
		size_t m = 0;
		for (size_t i = lo; i < hi; i++) {
			size_t j = m++;
			while (j > 0 && before(w, sidx[i], v[j - 1])) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = sidx[i];
		}
		for (size_t i = 0; i < m && !w->stop; i++)
			emit(w, v[i]);
		return;
	}
	int prev = -1;
	while (!w->stop) {
		int best = -1;
		for (size_t i = lo; i < hi; i++) {
			uint16_t x = sidx[i];
			if (prev >= 0 && !before(w, (uint16_t)prev, x))
				continue;
			if (best < 0 || before(w, x, (uint16_t)best))
				best = x;
		}
		if (best < 0)
			return;
		emit(w, (uint16_t)best);
		prev = best;
	}
}

static void descend(walk *w, size_t lo, size_t hi, unsigned L)
{
	if (w->stop || lo == hi)
		return;
	if (hi - lo <= LEAF || L == 64) {
		leaf(w, lo, hi);
		return;
	}
	/* First position whose bit L is set (the range shares bits 0..L-1). */
	const uint64_t *k = w->e->skey0;
	uint64_t bit = (uint64_t)1 << (63 - L);
	size_t a = lo, b = hi;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (k[mid] & bit)
			b = mid;
		else
			a = mid + 1;
	}
	bool t_set = (w->t0 & bit) != 0;
	size_t nlo = t_set ? a : lo, nhi = t_set ? hi : a;
	size_t flo = t_set ? lo : a, fhi = t_set ? a : hi;
	descend(w, nlo, nhi, L + 1);
	/* The far half's distances have bit L set: none beats self unless self's does too. */
	if (w->s0 >= bit)
		descend(w, flo, fhi, L + 1);
}

nn_routing_action nn_routing_decide(const nn_routing_edges *e, const nn_id *target, uint8_t ttl,
				    const nn_id *avoid, size_t navoid, nn_routing_decision *out)
{
	out->n = 0;
	out->ttl = 0;
	if (nn_kad_id_eq(target, &e->self))
		return out->action = NN_ROUTING_DELIVER;
	if (ttl > NN_ROUTING_MAX_HOPS)
		ttl = NN_ROUTING_MAX_HOPS;
	if (ttl == 0)
		return out->action = NN_ROUTING_DROP;
	if (navoid > NN_ROUTING_MAX_AVOID)
		navoid = NN_ROUTING_MAX_AVOID;
	if (!avoid)
		navoid = 0;
	walk w = {.e = e, .t = target, .avoid = avoid, .navoid = navoid, .out = out};
	w.t0 = nn_edges_be64(target->b);
	w.s0 = nn_edges_be64(e->self.b) ^ w.t0;
	descend(&w, 0, e->len, 0);
	if (out->n == 0)
		return out->action = NN_ROUTING_DROP;
	out->ttl = (uint8_t)(ttl - 1);
	return out->action = NN_ROUTING_FORWARD;
}

nn_routing_action nn_routing_decide_env(const nn_routing_edges *e, const nn_routing_env *env,
					nn_routing_decision *out)
{
	return nn_routing_decide(e, &env->target, env->ttl, env->avoid, env->navoid, out);
}

size_t nn_routing_decision_ties(const nn_routing_decision *d, const nn_id *target)
{
	if (d->n == 0)
		return 0;
	unsigned c = nn_kad_cpl(&d->cand[0].id, target);
	size_t n = 1;
	while (n < d->n && nn_kad_cpl(&d->cand[n].id, target) == c)
		n++;
	return n;
}

int nn_routing_launch_plan(const nn_routing_edges *e, const nn_id *target, size_t d,
			   const nn_id *exclude, size_t nex, nn_routing_launch *out)
{
	if (!e || !target || !out || d == 0 || d > NN_ROUTING_KMIN)
		return NN_EINVAL;
	const nn_routing_edge *first[NN_ROUTING_KMIN];
	size_t n = nn_routing_edges_closest(e, target, d, exclude, nex, first);
	memset(out, 0, sizeof *out);
	if (n == 0)
		return NN_EUNROUTABLE;
	/* The target itself is a live edge (then it is the closest): the other copies must still
	 * be able to reach it, so no avoid set names it (it would strand them one hop short). */
	bool direct = nn_kad_id_eq(&first[0]->id, target);
	out->n = n;
	out->navoid = direct && n > 1 ? n - 2 : n - 1;
	for (size_t i = 0; i < n; i++) {
		out->hop[i].id = first[i]->id;
		out->hop[i].conn = first[i]->conn;
		size_t a = 0;
		for (size_t j = direct ? 1 : 0; j < n && a < out->navoid; j++)
			if (j != i)
				out->avoid[i][a++] = first[j]->id;
	}
	return (int)n;
}
