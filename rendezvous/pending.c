/* pending.c — sent Hellos awaiting their Reply: add, match-and-verify, remove. */
#include <string.h>

#include "rendezvous/pending.h"

static bool live(const nn_rdv_pending_entry *e, nn_time now)
{
	return e->state != NN_RDV_FREE && now <= e->deadline;
}

static nn_rdv_pending_entry *find(const nn_rdv_pending *p, const uint8_t nonce[NN_RDV_NONCE_LEN],
				  nn_time now)
{
	for (size_t i = 0; i < p->cap; i++)
		if (live(&p->e[i], now) && memcmp(p->e[i].nonce, nonce, NN_RDV_NONCE_LEN) == 0)
			return &p->e[i];
	return NULL;
}

void nn_rdv_pending_init(nn_rdv_pending *p, nn_rdv_pending_entry *entries, size_t cap)
{
	p->e = entries;
	p->cap = entries ? cap : 0;
	if (p->cap)
		memset(entries, 0, cap * sizeof *entries);
}

int nn_rdv_pending_add(nn_rdv_pending *p, const nn_id *target,
		       const uint8_t nonce[NN_RDV_NONCE_LEN], nn_time deadline, nn_time now)
{
	if (!p || !target || !nonce || deadline < now)
		return NN_EINVAL;
	if (find(p, nonce, now))
		return NN_EEXIST;
	for (size_t i = 0; i < p->cap; i++) {
		nn_rdv_pending_entry *e = &p->e[i];
		if (live(e, now))
			continue;
		e->target = *target;
		memcpy(e->nonce, nonce, NN_RDV_NONCE_LEN);
		e->deadline = deadline;
		e->state = NN_RDV_WAITING;
		return 0;
	}
	return NN_ELIMIT;
}

int nn_rdv_pending_match(nn_rdv_pending *p, const nn_rdv_reply *r, nn_time now, nn_id *target)
{
	if (!p || !r)
		return NN_EINVAL;
	nn_rdv_pending_entry *e = find(p, r->nonce, now);
	if (!e)
		return NN_ENONCE;
	int rc = nn_rdv_reply_verify(r, &e->target, e->nonce);
	if (rc)
		return rc; /* a bad Reply does not consume the pending Hello */
	if (e->state == NN_RDV_ANSWERED)
		return NN_EREPLAY;
	e->state = NN_RDV_ANSWERED;
	if (target)
		*target = e->target;
	return 0;
}

int nn_rdv_pending_remove(nn_rdv_pending *p, const uint8_t nonce[NN_RDV_NONCE_LEN])
{
	if (!p || !nonce)
		return NN_EINVAL;
	for (size_t i = 0; i < p->cap; i++)
		if (p->e[i].state != NN_RDV_FREE &&
		    memcmp(p->e[i].nonce, nonce, NN_RDV_NONCE_LEN) == 0) {
			memset(&p->e[i], 0, sizeof p->e[i]);
			return 0;
		}
	return NN_ENOENT;
}

size_t nn_rdv_pending_waiting(const nn_rdv_pending *p, nn_time now)
{
	size_t n = 0;
	for (size_t i = 0; p && i < p->cap; i++)
		n += live(&p->e[i], now) && p->e[i].state == NN_RDV_WAITING;
	return n;
}
