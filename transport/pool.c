/* pool.c — per-class free lists of packet buffers; debug poisoning and ownership checks. */
#include <stdlib.h>
#include <string.h>

#include "transport/pool.h"

static const uint32_t class_cap[NN_POOL_NCLASS] = {NN_POOL_DGRAM_CAP, NN_POOL_FRAME_CAP};

bool nn_pool_debug_default(void)
{
#ifdef NN_POOL_DEBUG
	return true;
#else
	return false;
#endif
}

static void fault(const nn_pool *p, const char *what, const nn_pkt *pkt)
{
	if (p->fault)
		p->fault(p->fault_ctx, what, pkt);
	else
		abort(); /* programming error in our own code, never peer input */
}

static nn_pkt *make(nn_pool *p, enum nn_pool_class cls)
{
	nn_pool_stats *st = &p->st[cls];
	if (st->allocated >= p->max[cls])
		return NULL;
	nn_pkt *k = malloc(sizeof *k + class_cap[cls]);
	if (!k)
		return NULL;
	memset(k, 0, sizeof *k);
	k->data = (uint8_t *)(k + 1);
	k->cap = class_cap[cls];
	k->pool = p;
	k->cls = (uint8_t)cls;
	k->state = NN_PKT_FREE;
	if (p->debug)
		memset(k->data, NN_POOL_POISON, k->cap);
	st->allocated++;
	return k;
}

static void push_free(nn_pool *p, nn_pkt *k)
{
	k->next = p->free[k->cls];
	p->free[k->cls] = k;
	p->nfree[k->cls]++;
}

int nn_pool_init(nn_pool *p, const nn_pool_opts *o)
{
	memset(p, 0, sizeof *p);
	p->max[NN_POOL_DGRAM] = NN_POOL_DEFAULT_MAX_DGRAM;
	p->max[NN_POOL_FRAME] = NN_POOL_DEFAULT_MAX_FRAME;
	p->debug = nn_pool_debug_default();
	if (o) {
		for (int c = 0; c < NN_POOL_NCLASS; c++)
			if (o->max[c])
				p->max[c] = o->max[c];
		if (o->debug >= 0)
			p->debug = o->debug != 0;
		p->fault = o->fault;
		p->fault_ctx = o->fault_ctx;
		for (int c = 0; c < NN_POOL_NCLASS; c++)
			for (uint32_t i = 0; i < o->prealloc[c]; i++) {
				nn_pkt *k = make(p, (enum nn_pool_class)c);
				if (!k) {
					nn_pool_fini(p);
					return NN_ENOMEM;
				}
				push_free(p, k);
			}
	}
	return 0;
}

void nn_pool_fini(nn_pool *p)
{
	for (int c = 0; c < NN_POOL_NCLASS; c++) {
		nn_pkt *k = p->free[c];
		while (k) {
			nn_pkt *n = k->next;
			free(k);
			k = n;
		}
		p->free[c] = NULL;
		p->nfree[c] = 0;
		if (p->debug && p->st[c].in_use)
			fault(p, "leak: packets still owned at pool fini", NULL);
	}
}

static bool poison_intact(const nn_pkt *k)
{
	for (uint32_t i = 0; i < k->cap; i++)
		if (k->data[i] != NN_POOL_POISON)
			return false;
	return true;
}

nn_pkt *nn_pool_get_class(nn_pool *p, enum nn_pool_class cls)
{
	nn_pkt *k = p->free[cls];
	if (k) {
		p->free[cls] = k->next;
		p->nfree[cls]--;
		if (p->debug && (k->state != NN_PKT_FREE || !poison_intact(k)))
			fault(p, "use after release: free packet was written", k);
	} else if (!(k = make(p, cls))) {
		p->st[cls].fails++;
		return NULL;
	}
	k->state = NN_PKT_OWNED;
	k->len = 0;
	k->next = NULL;
	k->at = 0;
	k->tag = 0;
	p->st[cls].gets++;
	p->st[cls].in_use++;
	return k;
}

nn_pkt *nn_pool_get(nn_pool *p, size_t need)
{
	if (need <= NN_POOL_DGRAM_CAP)
		return nn_pool_get_class(p, NN_POOL_DGRAM);
	if (need <= NN_POOL_FRAME_CAP)
		return nn_pool_get_class(p, NN_POOL_FRAME);
	p->st[NN_POOL_FRAME].fails++;
	return NULL;
}

void nn_pkt_release(nn_pkt *k)
{
	if (!k)
		return;
	nn_pool *p = k->pool;
	if (k->state != NN_PKT_OWNED) {
		p->st[k->cls].double_releases++;
		if (p->debug)
			fault(p, "double release", k);
		return;
	}
	k->state = NN_PKT_FREE;
	if (p->debug)
		memset(k->data, NN_POOL_POISON, k->cap);
	p->st[k->cls].releases++;
	p->st[k->cls].in_use--;
	push_free(p, k);
}

void nn_pkt_check(const nn_pkt *k)
{
	if (k->pool->debug && k->state != NN_PKT_OWNED)
		fault(k->pool, "use after release", k);
}

uint32_t nn_pool_shed(nn_pool *p, enum nn_pool_class cls, uint32_t keep)
{
	uint32_t gone = 0;
	while (p->nfree[cls] > keep) {
		nn_pkt *k = p->free[cls];
		p->free[cls] = k->next;
		p->nfree[cls]--;
		p->st[cls].allocated--;
		p->st[cls].shed++;
		free(k);
		gone++;
	}
	return gone;
}

const nn_pool_stats *nn_pool_stats_of(const nn_pool *p, enum nn_pool_class cls)
{
	return &p->st[cls];
}
