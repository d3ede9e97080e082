/* control.c — Ping, Pong, Lookup, Siblings, Leave, Neighbors and Referral payload codecs. */
#include <string.h>

#include "routing/control.h"

/* ---- per-edge frames ---- */

static int frame_with(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *payload,
		      size_t plen)
{
	return nn_wire_frame_encode(buf, cap, type, payload, plen);
}

int nn_routing_ping_frame(uint8_t *buf, size_t cap) { return frame_with(buf, cap, NN_T_PING, NULL, 0); }

int nn_routing_leave_frame(uint8_t *buf, size_t cap)
{
	return frame_with(buf, cap, NN_T_LEAVE, NULL, 0);
}

int nn_routing_pong_frame(uint8_t *buf, size_t cap, const nn_addr *observed)
{
	if (!observed)
		return NN_EINVAL;
	size_t plen = nn_addr_wire_len(observed);
	int hdr = nn_wire_header_put(buf, cap, NN_T_PONG, plen);
	if (hdr < 0)
		return hdr;
	int n = nn_routing_pong_encode(buf + hdr, cap - (size_t)hdr, observed);
	return n < 0 ? n : hdr + n;
}

int nn_routing_siblings_frame(uint8_t *buf, size_t cap, const uint8_t nonce[NN_ROUTING_NONCE_LEN])
{
	if (!nonce)
		return NN_EINVAL;
	return frame_with(buf, cap, NN_T_SIBLINGS, nonce, NN_ROUTING_NONCE_LEN);
}

/* ---- small payloads ---- */

int nn_routing_empty_decode(const uint8_t *p, size_t len)
{
	(void)p;
	return len ? NN_ETRAILING : 0;
}

int nn_routing_pong_decode(const uint8_t *p, size_t len, nn_addr *observed)
{
	if (!observed || (!p && len))
		return NN_EINVAL;
	nn_rd r;
	nn_rd_init(&r, p, len);
	nn_addr_read(&r, observed);
	return nn_rd_end(&r);
}

int nn_routing_pong_encode(uint8_t *buf, size_t cap, const nn_addr *observed)
{
	if (!observed)
		return NN_EINVAL;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_addr_write(&w, observed);
	return w.err ? w.err : (int)w.off;
}

int nn_routing_nonce_decode(const uint8_t *p, size_t len, uint8_t nonce[NN_ROUTING_NONCE_LEN])
{
	if (!nonce || (!p && len))
		return NN_EINVAL;
	if (len < NN_ROUTING_NONCE_LEN)
		return NN_ETRUNC;
	if (len > NN_ROUTING_NONCE_LEN)
		return NN_ETRAILING;
	memcpy(nonce, p, NN_ROUTING_NONCE_LEN);
	return 0;
}

int nn_routing_nonce_encode(uint8_t *buf, size_t cap, const uint8_t nonce[NN_ROUTING_NONCE_LEN])
{
	if (!nonce)
		return NN_EINVAL;
	if (!buf || cap < NN_ROUTING_NONCE_LEN)
		return NN_ENOSPC;
	memcpy(buf, nonce, NN_ROUTING_NONCE_LEN);
	return NN_ROUTING_NONCE_LEN;
}

/* ---- Neighbors ---- */

/* uvarint n (<= max) | contact x n into out (count set only on success by the callers). */
static size_t read_contacts(nn_rd *r, nn_routing_neighbors *out, size_t max)
{
	out->count = 0;
	out->naddrs = 0;
	out->dropped_addrs = 0;
	size_t declared_total = 0; /* the 256 cap counts what was sent, kept or not */
	uint64_t n = nn_rd_uvarint(r);
	if (!r->err && n > max)
		nn_rd_fail(r, NN_ELIMIT);
	if (!r->err && n > nn_rd_left(r) / NN_ROUTING_NEIGHBOR_MIN_LEN)
		nn_rd_fail(r, NN_ETRUNC);
	for (size_t i = 0; i < n && !r->err; i++) {
		nn_routing_neighbor *c = &out->c[i];
		nn_rd_id(r, &c->id);
		nn_rd_copy(r, c->ed_pub, NN_ED_PUB_LEN);
		nn_rd_copy(r, c->x_pub, NN_X_PUB_LEN);
		c->caps = nn_rd_u32(r);
		size_t room = NN_ROUTING_NEIGHBORS_MAX_ADDRS - declared_total, got = 0, declared = 0,
		       dropped = 0;
		/* The list's declared count is checked against the remaining total before any
		 * entry is read; an address outside the grammar is dropped, not the answer (these
		 * are third-party hints a reference node may relay unchecked). */
		nn_addr_list_read_valid(r, &out->addrs[out->naddrs], room, room, &got, &declared,
					&dropped);
		c->addr_off = (uint16_t)out->naddrs;
		c->naddrs = (uint16_t)got;
		out->naddrs += got;
		declared_total += declared;
		out->dropped_addrs += dropped;
	}
	return r->err ? 0 : (size_t)n;
}

/* The reader must be at the end: then out holds n contacts; else it holds none. */
static int end_contacts(nn_rd *r, nn_routing_neighbors *out, size_t n)
{
	int rc = nn_rd_end(r);
	if (rc) {
		out->count = 0;
		out->naddrs = 0;
		out->dropped_addrs = 0;
		return rc;
	}
	out->count = n;
	return 0;
}

int nn_routing_neighbors_decode(const uint8_t *p, size_t len, nn_routing_neighbors *out)
{
	if (!out || (!p && len))
		return NN_EINVAL;
	nn_rd r;
	nn_rd_init(&r, p, len);
	nn_rd_copy(&r, out->nonce, NN_ROUTING_NONCE_LEN);
	size_t n = read_contacts(&r, out, NN_ROUTING_NEIGHBORS_MAX);
	return end_contacts(&r, out, n);
}

/* uvarint count | the first `count` contacts of nb. */
static int write_contacts(nn_wr *w, const nn_routing_neighbors *nb, size_t count)
{
	nn_wr_uvarint(w, count);
	for (size_t i = 0; i < count; i++) {
		const nn_routing_neighbor *c = &nb->c[i];
		if ((size_t)c->addr_off + c->naddrs > nb->naddrs)
			return NN_EINVAL;
		nn_wr_id(w, &c->id);
		nn_wr_bytes(w, c->ed_pub, NN_ED_PUB_LEN);
		nn_wr_bytes(w, c->x_pub, NN_X_PUB_LEN);
		nn_wr_u32(w, c->caps);
		nn_addr_list_write(w, &nb->addrs[c->addr_off], c->naddrs);
	}
	return 0;
}

int nn_routing_neighbors_encode(uint8_t *buf, size_t cap, const nn_routing_neighbors *nb)
{
	if (!nb)
		return NN_EINVAL;
	if (nb->count > NN_ROUTING_NEIGHBORS_MAX || nb->naddrs > NN_ROUTING_NEIGHBORS_MAX_ADDRS)
		return NN_ELIMIT;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_wr_bytes(&w, nb->nonce, NN_ROUTING_NONCE_LEN);
	int rc = write_contacts(&w, nb, nb->count);
	if (rc)
		return rc;
	return w.err ? w.err : (int)w.off;
}

void nn_routing_neighbors_init(nn_routing_neighbors *nb, const uint8_t nonce[NN_ROUTING_NONCE_LEN])
{
	memcpy(nb->nonce, nonce, NN_ROUTING_NONCE_LEN);
	nb->count = 0;
	nb->naddrs = 0;
}

int nn_routing_neighbors_append(nn_routing_neighbors *nb, const nn_routing_contact *c)
{
	if (!nb || !c)
		return NN_EINVAL;
	size_t na = c->naddrs < NN_ROUTING_CONTACT_ADDRS ? c->naddrs : NN_ROUTING_CONTACT_ADDRS;
	if (nb->count >= NN_ROUTING_NEIGHBORS_MAX || nb->naddrs + na > NN_ROUTING_NEIGHBORS_MAX_ADDRS)
		return NN_ELIMIT;
	nn_routing_neighbor *d = &nb->c[nb->count++];
	d->id = c->id;
	memcpy(d->ed_pub, c->ed_pub, NN_ED_PUB_LEN);
	memcpy(d->x_pub, c->x_pub, NN_X_PUB_LEN);
	d->caps = c->caps;
	d->addr_off = (uint16_t)nb->naddrs;
	d->naddrs = (uint16_t)na;
	memcpy(&nb->addrs[nb->naddrs], c->addrs, na * sizeof c->addrs[0]);
	nb->naddrs += na;
	return 0;
}

int nn_routing_neighbors_get(const nn_routing_neighbors *nb, size_t i, nn_routing_contact *out)
{
	if (!nb || !out || i >= nb->count)
		return NN_EINVAL;
	const nn_routing_neighbor *s = &nb->c[i];
	memset(out, 0, sizeof *out);
	out->id = s->id;
	memcpy(out->ed_pub, s->ed_pub, NN_ED_PUB_LEN);
	memcpy(out->x_pub, s->x_pub, NN_X_PUB_LEN);
	out->caps = s->caps;
	size_t na = s->naddrs < NN_ROUTING_CONTACT_ADDRS ? s->naddrs : NN_ROUTING_CONTACT_ADDRS;
	memcpy(out->addrs, &nb->addrs[s->addr_off], na * sizeof out->addrs[0]);
	out->naddrs = (uint8_t)na;
	return 0;
}

/* ---- Referral ---- */

int nn_routing_referral_frame(uint8_t *buf, size_t cap, uint8_t reason,
			      const nn_routing_neighbors *nb)
{
	if (!nb)
		return NN_EINVAL;
	if (nb->count > NN_ROUTING_NEIGHBORS_MAX || nb->naddrs > NN_ROUTING_NEIGHBORS_MAX_ADDRS)
		return NN_ELIMIT;
	size_t count = nb->count < NN_ROUTING_REFERRAL_MAX ? nb->count : NN_ROUTING_REFERRAL_MAX;
	/* the payload first, after room for the largest header; then the header in front */
	if (!buf || cap < NN_WIRE_MAX_HEADER)
		return NN_ENOSPC;
	nn_wr w;
	nn_wr_init(&w, buf + NN_WIRE_MAX_HEADER, cap - NN_WIRE_MAX_HEADER);
	nn_wr_u8(&w, reason);
	int rc = write_contacts(&w, nb, count);
	if (rc)
		return rc;
	if (w.err)
		return w.err;
	size_t plen = w.off;
	uint8_t hdr[NN_WIRE_MAX_HEADER];
	int h = nn_wire_header_put(hdr, sizeof hdr, NN_T_REFERRAL, plen);
	if (h < 0)
		return h;
	if ((size_t)h + plen > cap)
		return NN_ENOSPC;
	memmove(buf + h, buf + NN_WIRE_MAX_HEADER, plen);
	memcpy(buf, hdr, (size_t)h);
	return h + (int)plen;
}

int nn_routing_referral_decode(const uint8_t *p, size_t len, uint8_t *reason,
			       nn_routing_neighbors *out)
{
	if (!out || !reason || (!p && len))
		return NN_EINVAL;
	nn_rd r;
	nn_rd_init(&r, p, len);
	memset(out->nonce, 0, NN_ROUTING_NONCE_LEN);
	*reason = nn_rd_u8(&r);
	size_t n = read_contacts(&r, out, NN_ROUTING_REFERRAL_MAX);
	return end_contacts(&r, out, n);
}
