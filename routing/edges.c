/* edges.c — the live-edge table: membership, ID index, roles, phase, idle, rate checks. */
#include <stdlib.h>
#include <string.h>

#include "routing/edges_impl.h"

/* ---- ID -> index map ---- */

static size_t slot_hash(const nn_routing_edges *e, const nn_id *id)
{
	uint64_t h = nn_edges_be64(id->b + 8) ^ nn_edges_be64(id->b + 16) * 0x9e3779b97f4a7c15ull ^
		     nn_edges_be64(id->b + 24);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (size_t)h & e->imask;
}

static size_t slot_find(const nn_routing_edges *e, const nn_id *id, bool *found)
{
	size_t s = slot_hash(e, id);
	while (e->index[s] != NN_EDGES_NO_SLOT) {
		if (nn_kad_id_eq(&e->edge[e->index[s]].id, id)) {
			*found = true;
			return s;
		}
		s = (s + 1) & e->imask;
	}
	*found = false;
	return s;
}

int nn_routing_edges_index_of(const nn_routing_edges *e, const nn_id *id)
{
	bool f;
	size_t s = slot_find(e, id, &f);
	return f ? e->index[s] : -1;
}

static void slot_delete(nn_routing_edges *e, size_t hole)
{
	size_t j = hole;
	for (;;) {
		j = (j + 1) & e->imask;
		if (e->index[j] == NN_EDGES_NO_SLOT)
			break;
		size_t home = slot_hash(e, &e->edge[e->index[j]].id);
		bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!in_range) {
			e->index[hole] = e->index[j];
			hole = j;
		}
	}
	e->index[hole] = NN_EDGES_NO_SLOT;
}

/* ---- sorted view ---- */

static size_t sorted_lower_bound(const nn_routing_edges *e, uint64_t k)
{
	size_t lo = 0, hi = e->len;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (e->skey0[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sorted position of edge i (its key0 is e->key0[i]); len entries are sorted. */
static size_t sorted_pos(const nn_routing_edges *e, size_t i)
{
	size_t p = sorted_lower_bound(e, e->key0[i]);
	while (e->sidx[p] != i)
		p++;
	return p;
}

/* ---- lifecycle ---- */

#define EDGES_START 16 /* edges the arrays hold at first; they grow by half up to cap */

/* Grow array a to n elements in place (realloc; a NULL a is allocated): true on success. */
#define GROW(a, n) ((p = realloc((a), (n) * sizeof *(a))) != NULL ? ((a) = p, true) : false)

/* Room for n edges (n >= len): the per-edge arrays grow, the ID index is rebuilt with
 * 2n slots or more. On failure the table is unchanged except for arrays already grown. */
static int edges_alloc(nn_routing_edges *e, size_t n)
{
	void *p;
	if (!GROW(e->edge, n) || !GROW(e->key0, n) || !GROW(e->scratch, n) ||
	    !GROW(e->skey0, n) || !GROW(e->sidx, n))
		return NN_ENOMEM;
	size_t slots = 16;
	while (slots < 2 * n)
		slots <<= 1;
	if (!e->index || slots != e->imask + 1) {
		uint16_t *ix = malloc(slots * sizeof *ix);
		if (!ix)
			return NN_ENOMEM;
		memset(ix, 0xff, slots * sizeof *ix);
		free(e->index);
		e->index = ix;
		e->imask = slots - 1;
		for (size_t i = 0; i < e->len; i++) {
			bool found;
			size_t sl = slot_find(e, &e->edge[i].id, &found);
			e->index[sl] = (uint16_t)i;
		}
	}
	e->alloc = n;
	return 0;
}

int nn_routing_edges_new(nn_routing_edges **out, const nn_id *self,
			 const nn_routing_edges_opts *o)
{
	nn_routing_edges_opts d = {0};
	if (!out || !self)
		return NN_EINVAL;
	*out = NULL;
	if (!o)
		o = &d;
	size_t max_out = o->max_outgoing ? o->max_outgoing : 2 * NN_ROUTING_TARGET_EDGES;
	size_t in_cap = o->inbound_cap ? o->inbound_cap : NN_ROUTING_INBOUND_CAP;
	size_t cap = max_out + in_cap;
	if (cap >= NN_EDGES_NO_SLOT / 2)
		return NN_EINVAL;
	nn_routing_edges *e = calloc(1, sizeof *e);
	if (!e)
		return NN_ENOMEM;
	if (edges_alloc(e, cap < EDGES_START ? cap : EDGES_START) < 0) {
		nn_routing_edges_free(e);
		return NN_ENOMEM;
	}
	e->self = *self;
	e->cap = cap;
	e->max_out = max_out;
	e->inbound_cap = in_cap;
	e->target = o->target_edges ? o->target_edges : NN_ROUTING_TARGET_EDGES;
	e->subnet_fn = o->subnet ? o->subnet : nn_routing_default_subnet;
	e->subnet_user = o->subnet_user;
	e->phase = NN_ROUTING_PHASE_BOOTSTRAP;
	*out = e;
	return 0;
}

void nn_routing_edges_free(nn_routing_edges *e)
{
	if (!e)
		return;
	free(e->edge);
	free(e->key0);
	free(e->index);
	free(e->scratch);
	free(e->skey0);
	free(e->sidx);
	free(e);
}

const nn_id *nn_routing_edges_self(const nn_routing_edges *e) { return &e->self; }

size_t nn_routing_edges_bytes(const nn_routing_edges *e)
{
	if (!e)
		return 0;
	return sizeof *e + e->alloc * (sizeof *e->edge + sizeof *e->key0 + sizeof *e->scratch +
				       sizeof *e->skey0 + sizeof *e->sidx) +
	       (e->imask + 1) * sizeof *e->index;
}

/* ---- roles and phase ---- */

static void classify(nn_routing_edges *e)
{
	/* The NN_ROUTING_SIBLINGS edges closest to self: selection by insertion into a top-k. */
	uint16_t top[NN_ROUTING_SIBLINGS];
	size_t k = 0;
	for (size_t i = 0; i < e->len; i++) {
		e->edge[i].role = NN_ROUTING_ROLE_FINGER;
		const nn_id *id = &e->edge[i].id;
		if (k == NN_ROUTING_SIBLINGS &&
		    nn_kad_cmp_distance(&e->self, id, &e->edge[top[k - 1]].id) >= 0)
			continue;
		size_t j = k < NN_ROUTING_SIBLINGS ? k++ : k - 1;
		while (j > 0 && nn_kad_cmp_distance(&e->self, id, &e->edge[top[j - 1]].id) < 0) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = (uint16_t)i;
	}
	for (size_t j = 0; j < k; j++)
		e->edge[top[j]].role = NN_ROUTING_ROLE_SIBLING;
}

static void update_phase(nn_routing_edges *e)
{
	size_t n = e->nout;
	nn_routing_phase p;
	if (n == 0)
		p = NN_ROUTING_PHASE_BOOTSTRAP;
	else if (n <= NN_ROUTING_KMIN)
		p = NN_ROUTING_PHASE_CRITICAL;
	else if (n <= NN_ROUTING_LOW_WATER)
		p = NN_ROUTING_PHASE_URGENT;
	else if (n >= e->target)
		p = NN_ROUTING_PHASE_NORMAL;
	else if (e->phase == NN_ROUTING_PHASE_NORMAL && e->target >= NN_ROUTING_FILL_HYSTERESIS &&
		 n >= e->target - NN_ROUTING_FILL_HYSTERESIS)
		p = NN_ROUTING_PHASE_NORMAL;
	else
		p = NN_ROUTING_PHASE_NEEDS_FILL;
	e->phase = p;
}

/* ---- membership ---- */

int nn_routing_edges_add(nn_routing_edges *e, const nn_id *id, void *conn, bool outgoing,
			 uint32_t caps, const nn_addr *remote, nn_time now)
{
	if (!e || !id || nn_kad_id_eq(id, &e->self) || nn_kad_id_is_zero(id))
		return NN_EINVAL;
	bool found;
	size_t s = slot_find(e, id, &found);
	if (found)
		return NN_EEXIST;
	if (outgoing ? e->nout >= e->max_out : e->nin >= e->inbound_cap)
		return NN_ELIMIT;
	if (e->len == e->alloc) { /* not the hot path: a new edge; a few times in a life */
		size_t n = e->alloc + e->alloc / 2 < e->cap ? e->alloc + e->alloc / 2 : e->cap;
		if (n <= e->len || edges_alloc(e, n) < 0)
			return NN_ENOMEM;
		s = slot_find(e, id, &found);
	}
	size_t i = e->len;
	uint64_t k0 = nn_edges_be64(id->b);
	size_t p = sorted_lower_bound(e, k0);
	memmove(e->skey0 + p + 1, e->skey0 + p, (e->len - p) * sizeof *e->skey0);
	memmove(e->sidx + p + 1, e->sidx + p, (e->len - p) * sizeof *e->sidx);
	e->skey0[p] = k0;
	e->sidx[p] = (uint16_t)i;
	e->len++;
	nn_routing_edge *ed = &e->edge[i];
	memset(ed, 0, sizeof *ed);
	ed->id = *id;
	ed->conn = conn;
	ed->outgoing = outgoing;
	ed->bucket = (uint8_t)nn_kad_cpl(&e->self, id);
	ed->caps = caps;
	ed->last_seen = now;
	if (remote)
		ed->has_subnet = e->subnet_fn(e->subnet_user, remote, ed->subnet) == 0;
	nn_tbucket_state_init(&ed->control);
	nn_tbucket_state_init(&ed->forward);
	e->key0[i] = k0;
	e->index[s] = (uint16_t)i;
	if (outgoing)
		e->nout++;
	else
		e->nin++;
	classify(e);
	update_phase(e);
	return 0;
}

int nn_routing_edges_remove(nn_routing_edges *e, const nn_id *id)
{
	if (!e || !id)
		return NN_EINVAL;
	bool found;
	size_t s = slot_find(e, id, &found);
	if (!found)
		return NN_ENOENT;
	size_t i = e->index[s];
	if (e->edge[i].outgoing)
		e->nout--;
	else
		e->nin--;
	slot_delete(e, s);
	size_t p = sorted_pos(e, i);
	memmove(e->skey0 + p, e->skey0 + p + 1, (e->len - p - 1) * sizeof *e->skey0);
	memmove(e->sidx + p, e->sidx + p + 1, (e->len - p - 1) * sizeof *e->sidx);
	size_t last = --e->len;
	if (i != last) {
		size_t lp = sorted_pos(e, last);
		e->sidx[lp] = (uint16_t)i;
		e->edge[i] = e->edge[last];
		e->key0[i] = e->key0[last];
		size_t ls = slot_find(e, &e->edge[i].id, &found);
		e->index[ls] = (uint16_t)i;
	}
	classify(e);
	update_phase(e);
	return 0;
}

const nn_routing_edge *nn_routing_edges_find(const nn_routing_edges *e, const nn_id *id)
{
	int i = e && id ? nn_routing_edges_index_of(e, id) : -1;
	return i < 0 ? NULL : &e->edge[i];
}

int nn_routing_edges_touch(nn_routing_edges *e, const nn_id *id, nn_time now)
{
	int i = e && id ? nn_routing_edges_index_of(e, id) : -1;
	if (i < 0)
		return NN_ENOENT;
	if (now > e->edge[i].last_seen)
		e->edge[i].last_seen = now;
	return 0;
}

int nn_routing_edges_set_caps(nn_routing_edges *e, const nn_id *id, uint32_t caps)
{
	int i = e && id ? nn_routing_edges_index_of(e, id) : -1;
	if (i < 0)
		return NN_ENOENT;
	e->edge[i].caps = caps;
	return 0;
}

size_t nn_routing_edges_len(const nn_routing_edges *e) { return e->len; }

const nn_routing_edge *nn_routing_edges_at(const nn_routing_edges *e, size_t i)
{
	return i < e->len ? &e->edge[i] : NULL;
}

size_t nn_routing_edges_outgoing(const nn_routing_edges *e) { return e->nout; }
size_t nn_routing_edges_inbound(const nn_routing_edges *e) { return e->nin; }
nn_routing_phase nn_routing_edges_phase(const nn_routing_edges *e) { return e->phase; }

const char *nn_routing_phase_name(nn_routing_phase p)
{
	switch (p) {
	case NN_ROUTING_PHASE_BOOTSTRAP: return "bootstrap";
	case NN_ROUTING_PHASE_CRITICAL: return "critical";
	case NN_ROUTING_PHASE_URGENT: return "urgent";
	case NN_ROUTING_PHASE_NEEDS_FILL: return "needs-fill";
	case NN_ROUTING_PHASE_NORMAL: return "normal";
	}
	return "unknown";
}

size_t nn_routing_edges_want(const nn_routing_edges *e)
{
	switch (e->phase) {
	case NN_ROUTING_PHASE_BOOTSTRAP:
	case NN_ROUTING_PHASE_CRITICAL: return 8;
	case NN_ROUTING_PHASE_URGENT: return 4;
	case NN_ROUTING_PHASE_NEEDS_FILL: return 2;
	case NN_ROUTING_PHASE_NORMAL: return 0;
	}
	return 0;
}

bool nn_routing_edges_may_shed(const nn_routing_edges *e, const nn_id *id)
{
	int i = e && id ? nn_routing_edges_index_of(e, id) : -1;
	if (i < 0)
		return false;
	return !e->edge[i].outgoing || e->nout > NN_ROUTING_KMIN;
}

/* ---- liveness and rate limits ---- */

static bool at_least(nn_time now, nn_time then, nn_time age)
{
	if (then > now)
		return false;
	return (uint64_t)now - (uint64_t)then >= (uint64_t)(age < 0 ? 0 : age);
}

size_t nn_routing_edges_idle(const nn_routing_edges *e, nn_time now, nn_time sibling_timeout,
			     nn_time finger_timeout, nn_id *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < e->len && n < cap; i++) {
		const nn_routing_edge *ed = &e->edge[i];
		nn_time t = ed->role == NN_ROUTING_ROLE_SIBLING ? sibling_timeout : finger_timeout;
		if (at_least(now, ed->last_seen, t))
			out[n++] = ed->id;
	}
	return n;
}

static bool allow(nn_routing_edges *e, const nn_id *id, nn_time now, bool control)
{
	if (!e || !id)
		return false;
	if (nn_kad_id_is_zero(id))
		return true;
	int i = nn_routing_edges_index_of(e, id);
	if (i < 0)
		return false;
	if (control)
		return nn_tbucket_state_take(&e->edge[i].control, NN_ROUTING_CONTROL_RATE,
					     NN_ROUTING_CONTROL_BURST, 1.0, now);
	return nn_tbucket_state_take(&e->edge[i].forward, NN_ROUTING_FORWARD_RATE,
				     NN_ROUTING_FORWARD_BURST, 1.0, now);
}

bool nn_routing_edges_allow_control(nn_routing_edges *e, const nn_id *id, nn_time now)
{
	return allow(e, id, now, true);
}

bool nn_routing_edges_allow_forward(nn_routing_edges *e, const nn_id *id, nn_time now)
{
	return allow(e, id, now, false);
}

/* ---- closest live edges ---- */

static bool excluded(const nn_id *id, const nn_id *ex, size_t nex)
{
	for (size_t i = 0; i < nex; i++)
		if (nn_kad_id_eq(id, &ex[i]))
			return true;
	return false;
}

size_t nn_routing_edges_closest(const nn_routing_edges *e, const nn_id *target, size_t n,
				const nn_id *exclude, size_t nex, const nn_routing_edge **out)
{
	size_t k = 0;
	if (!e || !target || !out || n == 0)
		return 0;
	for (size_t i = 0; i < e->len; i++) {
		const nn_routing_edge *ed = &e->edge[i];
		if (k == n && nn_kad_cmp_distance(target, &ed->id, &out[k - 1]->id) >= 0)
			continue;
		if (excluded(&ed->id, exclude, nex))
			continue;
		size_t j = k < n ? k++ : k - 1;
		while (j > 0 && nn_kad_cmp_distance(target, &ed->id, &out[j - 1]->id) < 0) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = ed;
	}
	return k;
}
