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

/* a closer to target than b? d0 values are the top 64 bits of the distances. */
static bool closer(const nn_id *t, uint64_t da, const nn_id *a, uint64_t db, const nn_id *b)
{
	if (da != db)
		return da < db;
	return nn_kad_cmp_distance(t, a, b) < 0;
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

	const uint64_t t0 = nn_edges_be64(target->b);
	const uint64_t s0 = nn_edges_be64(e->self.b) ^ t0;
	const uint64_t *key0 = e->key0;
	uint16_t top[NN_ROUTING_CANDIDATES];
	uint64_t topd[NN_ROUTING_CANDIDATES];
	size_t k = 0;
	/* lim: the largest top word that can still enter (self's until the list is full, then the
	 * 8th candidate's). One compare rejects almost every edge without touching its ID. */
	uint64_t lim = s0;
	for (size_t i = 0, n = e->len; i < n; i++) {
		uint64_t d0 = key0[i] ^ t0;
		if (d0 > lim)
			continue;
		const nn_id *id = &e->edge[i].id;
		if (d0 == s0 && nn_kad_cmp_distance(target, id, &e->self) >= 0)
			continue; /* not strictly closer than self */
		if (k == NN_ROUTING_CANDIDATES &&
		    !closer(target, d0, id, topd[k - 1], &e->edge[top[k - 1]].id))
			continue;
		if (navoid && in_avoid(id, avoid, navoid))
			continue;
		size_t j = k < NN_ROUTING_CANDIDATES ? k++ : k - 1;
		while (j > 0 && closer(target, d0, id, topd[j - 1], &e->edge[top[j - 1]].id)) {
			top[j] = top[j - 1];
			topd[j] = topd[j - 1];
			j--;
		}
		top[j] = (uint16_t)i;
		topd[j] = d0;
		if (k == NN_ROUTING_CANDIDATES)
			lim = topd[k - 1];
	}
	for (size_t j = 0; j < k; j++) {
		out->cand[j].id = e->edge[top[j]].id;
		out->cand[j].conn = e->edge[top[j]].conn;
	}
	out->n = k;
	if (k == 0)
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
	out->n = n;
	out->navoid = n - 1;
	for (size_t i = 0; i < n; i++) {
		out->hop[i].id = first[i]->id;
		out->hop[i].conn = first[i]->conn;
		size_t a = 0;
		for (size_t j = 0; j < n; j++)
			if (j != i)
				out->avoid[i][a++] = first[j]->id;
	}
	return (int)n;
}
