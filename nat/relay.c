/* relay.c — RelayRequest / RelayGrant / RelayBind / RelayRefuse payload codecs. */
#include <string.h>

#include "nat/relay.h"

static int addr_ok(const nn_addr *a)
{
	return nn_addr_list_check(a, 1, 1) == 0 && nn_addr_check(a) == 0;
}

int nn_nat_relay_request_encode(const nn_nat_relay_request *m, uint8_t *buf, size_t cap)
{
	if (!m || (!buf && cap))
		return NN_EINVAL;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_wr_bytes(&w, m->nonce, NN_NAT_RELAY_NONCE_LEN);
	nn_wr_id(&w, &m->target);
	return w.err ? w.err : (int)w.off;
}

int nn_nat_relay_grant_encode(const nn_nat_relay_grant *m, uint8_t *buf, size_t cap)
{
	if (!m || (!buf && cap) || !addr_ok(&m->addr))
		return NN_EINVAL;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_wr_bytes(&w, m->nonce, NN_NAT_RELAY_NONCE_LEN);
	nn_addr_write(&w, &m->addr);
	return w.err ? w.err : (int)w.off;
}

int nn_nat_relay_bind_encode(const nn_addr *a, uint8_t *buf, size_t cap)
{
	if (!a || (!buf && cap) || !addr_ok(a))
		return NN_EINVAL;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_addr_write(&w, a);
	return w.err ? w.err : (int)w.off;
}

int nn_nat_relay_refuse_encode(const nn_nat_relay_refuse *m, uint8_t *buf, size_t cap)
{
	if (!m || (!buf && cap))
		return NN_EINVAL;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_wr_bytes(&w, m->nonce, NN_NAT_RELAY_NONCE_LEN);
	nn_wr_u8(&w, m->reason);
	return w.err ? w.err : (int)w.off;
}

/* Every decoder: check the arguments, zero the output, start the reader. */
static int rd_open(nn_rd *r, void *m, size_t size, const uint8_t *buf, size_t len)
{
	if (!m || (!buf && len))
		return NN_EINVAL;
	memset(m, 0, size);
	nn_rd_init(r, buf, len);
	return 0;
}

/* The reader's error, trailing bytes allowed (the reference's rule for relay frames). */
static int rd_done(nn_rd *r, void *m, size_t size)
{
	if (r->err)
		memset(m, 0, size);
	return r->err;
}

int nn_nat_relay_request_decode(nn_nat_relay_request *m, const uint8_t *buf, size_t len)
{
	nn_rd r;
	int rc = rd_open(&r, m, sizeof *m, buf, len);
	if (rc)
		return rc;
	nn_rd_copy(&r, m->nonce, NN_NAT_RELAY_NONCE_LEN);
	nn_rd_id(&r, &m->target);
	return rd_done(&r, m, sizeof *m);
}

int nn_nat_relay_grant_decode(nn_nat_relay_grant *m, const uint8_t *buf, size_t len)
{
	nn_rd r;
	int rc = rd_open(&r, m, sizeof *m, buf, len);
	if (rc)
		return rc;
	nn_rd_copy(&r, m->nonce, NN_NAT_RELAY_NONCE_LEN);
	nn_addr_read(&r, &m->addr);
	return rd_done(&r, m, sizeof *m);
}

int nn_nat_relay_bind_decode(nn_addr *a, const uint8_t *buf, size_t len)
{
	nn_rd r;
	int rc = rd_open(&r, a, sizeof *a, buf, len);
	if (rc)
		return rc;
	nn_addr_read(&r, a);
	return rd_done(&r, a, sizeof *a);
}

int nn_nat_relay_refuse_decode(nn_nat_relay_refuse *m, const uint8_t *buf, size_t len)
{
	nn_rd r;
	int rc = rd_open(&r, m, sizeof *m, buf, len);
	if (rc)
		return rc;
	nn_rd_copy(&r, m->nonce, NN_NAT_RELAY_NONCE_LEN);
	m->reason = nn_rd_u8(&r);
	return rd_done(&r, m, sizeof *m);
}

const char *nn_nat_relay_reason_name(uint8_t reason)
{
	switch (reason) {
	case NN_NAT_RELAY_NOT_VOLUNTEER: return "not-volunteer";
	case NN_NAT_RELAY_NO_EDGE: return "no-edge";
	case NN_NAT_RELAY_BUSY: return "busy";
	case NN_NAT_RELAY_RATE: return "rate-limited";
	case NN_NAT_RELAY_BAD: return "bad-request";
	default: return "unknown";
	}
}
