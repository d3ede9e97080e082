/* cidmap.c — connection ID → connection: open addressing with linear probing and backward-shift
 * deletion, keyed SipHash (libsodium crypto_shorthash) so peers cannot aim collisions. Grows at
 * half load (allocation happens only when a connection is created, never per packet). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"

static size_t slot_of(const nn_quic_cidmap *m, const uint8_t *cid, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, cid, len, m->key);
	uint64_t v;
	memcpy(&v, h, sizeof v);
	return (size_t)v & (m->cap - 1);
}

static bool same(const nn_quic_cident *e, const uint8_t *cid, size_t len)
{
	return e->conn && e->len == len && memcmp(e->cid, cid, len) == 0;
}

int nn_quic_cidmap_init(nn_quic_cidmap *m, const uint8_t key[16])
{
	memset(m, 0, sizeof *m);
	memcpy(m->key, key, 16);
	m->cap = 64;
	m->tab = calloc(m->cap, sizeof *m->tab);
	return m->tab ? 0 : NN_ENOMEM;
}

void nn_quic_cidmap_fini(nn_quic_cidmap *m)
{
	free(m->tab);
	m->tab = NULL;
	m->cap = m->n = 0;
}

static void insert(nn_quic_cidmap *m, const nn_quic_cident *e)
{
	size_t i = slot_of(m, e->cid, e->len);
	while (m->tab[i].conn)
		i = (i + 1) & (m->cap - 1);
	m->tab[i] = *e;
	m->n++;
}

static int grow(nn_quic_cidmap *m)
{
	nn_quic_cident *old = m->tab;
	size_t ocap = m->cap;
	nn_quic_cident *t = calloc(ocap * 2, sizeof *t);
	if (!t)
		return NN_ENOMEM;
	m->tab = t;
	m->cap = ocap * 2;
	m->n = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].conn)
			insert(m, &old[i]);
	free(old);
	return 0;
}

int nn_quic_cidmap_put(nn_quic_cidmap *m, const uint8_t *cid, size_t len, nn_quic_conn *c)
{
	if (len == 0 || len > NGTCP2_MAX_CIDLEN || !c)
		return NN_EINVAL;
	size_t i = slot_of(m, cid, len);
	for (; m->tab[i].conn; i = (i + 1) & (m->cap - 1))
		if (same(&m->tab[i], cid, len))
			return m->tab[i].conn == c ? 0 : NN_EEXIST;
	if ((m->n + 1) * 2 > m->cap) {
		int rc = grow(m);
		if (rc)
			return rc;
	}
	nn_quic_cident e = {.conn = c, .len = (uint8_t)len};
	memcpy(e.cid, cid, len);
	insert(m, &e);
	return 0;
}

nn_quic_conn *nn_quic_cidmap_get(const nn_quic_cidmap *m, const uint8_t *cid, size_t len)
{
	if (len == 0 || len > NGTCP2_MAX_CIDLEN)
		return NULL;
	for (size_t i = slot_of(m, cid, len); m->tab[i].conn; i = (i + 1) & (m->cap - 1))
		if (same(&m->tab[i], cid, len))
			return m->tab[i].conn;
	return NULL;
}

void nn_quic_cidmap_del(nn_quic_cidmap *m, const uint8_t *cid, size_t len)
{
	if (len == 0 || len > NGTCP2_MAX_CIDLEN)
		return;
	size_t i = slot_of(m, cid, len);
	for (; m->tab[i].conn; i = (i + 1) & (m->cap - 1))
		if (same(&m->tab[i], cid, len))
			break;
	if (!m->tab[i].conn)
		return;
	/* backward-shift deletion keeps every probe chain unbroken */
	size_t j = i;
	for (;;) {
		m->tab[i].conn = NULL;
		for (;;) {
			j = (j + 1) & (m->cap - 1);
			if (!m->tab[j].conn) {
				m->n--;
				return;
			}
			size_t k = slot_of(m, m->tab[j].cid, m->tab[j].len);
			/* move j back to i unless its home k lies cyclically in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		m->tab[i] = m->tab[j];
		i = j;
	}
}
