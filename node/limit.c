/* limit.c — per-originator token buckets (16/s, burst 32), charged only for verified work
 * requests at the terminal. At most `max` originators are tracked; when the table is full,
 * buckets that refilled completely are forgotten first, else the one with the most tokens.
 * The maintenance tick forgets refilled buckets too (a full bucket is the state a new
 * originator starts in, so forgetting one changes no decision) and trims the table. */
#include "node/node_impl.h"
#include "routing/routing.h"

int nn_olimit_init(nn_olimit *l, size_t max, const uint8_t key[16])
{
	l->max = max;
	return nn_idmap_init(&l->map, max, sizeof(nn_tbucket_state), key);
}

void nn_olimit_fini(nn_olimit *l) { nn_idmap_fini(&l->map); }

/* Delete every refilled bucket; *victim (when not NULL) gets the fullest one left, if any. */
static size_t forget_full(nn_olimit *l, nn_time now, nn_id *victim, bool *have)
{
	nn_id id;
	double best = -1;
	size_t freed = 0;
	for (size_t i = 0; i < l->map.cap; i++) {
		nn_tbucket_state *b = nn_idmap_slot(&l->map, i, &id);
		if (!b)
			continue;
		double t = nn_tbucket_state_peek(b, NN_ROUTING_CONTROL_RATE, NN_ROUTING_CONTROL_BURST,
						 now);
		if (t >= NN_ROUTING_CONTROL_BURST) {
			nn_idmap_del(&l->map, &id);
			freed++;
			i--; /* backward shift may have moved another entry into slot i */
			continue;
		}
		if (victim && t > best) {
			best = t;
			*victim = id;
			*have = true;
		}
	}
	return freed;
}

static void make_room(nn_olimit *l, nn_time now)
{
	nn_id victim;
	bool have = false;
	if (!forget_full(l, now, &victim, &have) && have)
		nn_idmap_del(&l->map, &victim);
}

size_t nn_olimit_sweep(nn_olimit *l, nn_time now)
{
	size_t freed = forget_full(l, now, NULL, NULL);
	(void)nn_idmap_trim(&l->map);
	return freed;
}

bool nn_olimit_allow(nn_olimit *l, const nn_id *originator, nn_time now)
{
	nn_tbucket_state *b = nn_idmap_get(&l->map, originator);
	if (!b) {
		if (l->map.n >= l->max)
			make_room(l, now);
		bool fresh;
		b = nn_idmap_put(&l->map, originator, &fresh);
		if (!b)
			return false;
		if (fresh)
			nn_tbucket_state_init(b);
	}
	return nn_tbucket_state_take(b, NN_ROUTING_CONTROL_RATE, NN_ROUTING_CONTROL_BURST, 1, now);
}
