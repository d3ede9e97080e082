/* cfile.c — the contacts file codec (see cfile.h). */
#include <string.h>

#include "identity/identity.h"
#include "routing/cfile.h"
#include "wire/wire.h"

static const uint8_t magic[7] = {'n', 'n', 'c', 't', 'c', 't', 's'};

static bool key_zero(const uint8_t *k)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < NN_ED_PUB_LEN; i++)
		acc |= k[i];
	return acc == 0;
}

int nn_routing_cfile_encode(uint8_t *out, size_t cap, const nn_id *self,
			    const nn_routing_contact *c, size_t n)
{
	if (!out || !self || (n && !c) || n > NN_ROUTING_CFILE_MAX)
		return NN_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (c[i].naddrs > NN_ROUTING_CONTACT_ADDRS || key_zero(c[i].ed_pub) ||
		    nn_addr_list_check(c[i].addrs, c[i].naddrs, NN_ROUTING_CONTACT_ADDRS) < 0)
			return NN_EINVAL;
	nn_wr w;
	nn_wr_init(&w, out, cap);
	nn_wr_bytes(&w, magic, sizeof magic);
	nn_wr_u8(&w, NN_ROUTING_CFILE_VERSION);
	nn_wr_id(&w, self);
	nn_wr_u16(&w, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		nn_wr_id(&w, &c[i].id);
		nn_wr_bytes(&w, c[i].ed_pub, NN_ED_PUB_LEN);
		nn_wr_bytes(&w, c[i].x_pub, NN_X_PUB_LEN);
		nn_wr_u32(&w, c[i].caps);
		nn_addr_list_write(&w, c[i].addrs, c[i].naddrs);
	}
	uint8_t *sum = nn_wr_reserve(&w, NN_ROUTING_CFILE_SUM);
	if (w.err)
		return w.err == NN_ENOSPC || w.err == NN_ETRUNC ? NN_ENOSPC : w.err;
	nn_blake2b256(sum, out, w.off - NN_ROUTING_CFILE_SUM);
	return (int)w.off;
}

int nn_routing_cfile_decode(const uint8_t *in, size_t len, const nn_id *self,
			    nn_routing_contact *out, size_t cap, size_t *count)
{
	if (!self || !count || (!in && len) || (!out && cap))
		return NN_EINVAL;
	*count = 0;
	if (len < NN_ROUTING_CFILE_HEADER + NN_ROUTING_CFILE_SUM)
		return NN_ETRUNC;
	if (len > NN_ROUTING_CFILE_BYTES_MAX)
		return NN_ETOOBIG;
	if (memcmp(in, magic, sizeof magic) != 0)
		return NN_ECORRUPT;
	if (in[sizeof magic] != NN_ROUTING_CFILE_VERSION)
		return NN_EBADVERSION;
	uint8_t sum[NN_ROUTING_CFILE_SUM];
	size_t body = len - NN_ROUTING_CFILE_SUM;
	nn_blake2b256(sum, in, body);
	if (memcmp(sum, in + body, sizeof sum) != 0)
		return NN_ECORRUPT; /* truncated or damaged */
	nn_rd r;
	nn_rd_init(&r, in, body);
	(void)nn_rd_bytes(&r, sizeof magic + 1);
	nn_id writer;
	nn_rd_id(&r, &writer);
	if (memcmp(writer.b, self->b, sizeof writer.b) != 0)
		return NN_EIDMISMATCH; /* another node's file */
	size_t n = nn_rd_u16(&r);
	if (n > NN_ROUTING_CFILE_MAX || n > cap)
		return NN_ELIMIT;
	/* the smallest contact is 101 bytes (no address) */
	if (n > nn_rd_left(&r) / (32 * 3 + 4 + 1))
		return NN_ETRUNC;
	for (size_t i = 0; i < n && !r.err; i++) {
		nn_routing_contact *c = &out[i];
		memset(c, 0, sizeof *c);
		nn_rd_id(&r, &c->id);
		nn_rd_copy(&r, c->ed_pub, NN_ED_PUB_LEN);
		nn_rd_copy(&r, c->x_pub, NN_X_PUB_LEN);
		c->caps = nn_rd_u32(&r);
		size_t na = 0;
		nn_addr_list_read(&r, c->addrs, NN_ROUTING_CONTACT_ADDRS, NN_ROUTING_CONTACT_ADDRS,
				  &na);
		if (r.err)
			break;
		c->naddrs = (uint8_t)na;
		if (key_zero(c->ed_pub) || nn_routing_contact_check_key(c) != 0)
			return NN_ECORRUPT;
		if (!memcmp(c->id.b, self->b, sizeof c->id.b))
			return NN_ECORRUPT;
	}
	int rc = nn_rd_end(&r);
	if (rc < 0)
		return rc;
	*count = n;
	return 0;
}
