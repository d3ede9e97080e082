/* envelope.c — routed envelope v1: strict decode, in-place encode and patching. */
#include <string.h>

#include "routing/envelope.h"

bool nn_routing_is_routed_type(uint8_t type)
{
	switch (type) {
	case NN_T_ROUTE:
	case NN_T_LOOKUP:
	case NN_T_NEIGHBORS:
	case NN_T_HELLO:
	case NN_T_REPLY:
	case NN_T_CONNECT:
	case NN_T_CONNECT_ACK: return true;
	default: return false;
	}
}

int nn_routing_env_decode(const uint8_t *p, size_t len, nn_routing_env *out)
{
	if (!p || !out)
		return NN_EINVAL;
	nn_rd r;
	nn_rd_init(&r, p, len);
	nn_rd_id(&r, &out->target);
	out->ttl = nn_rd_u8(&r);
	nn_rd_copy(&r, out->ed_pub, NN_ED_PUB_LEN);
	out->sent = nn_rd_i64(&r);
	uint64_t navoid = nn_rd_uvarint(&r);
	if (!r.err && navoid > NN_ROUTING_MAX_AVOID)
		nn_rd_fail(&r, NN_ELIMIT);
	out->navoid = r.err ? 0 : (uint8_t)navoid;
	for (size_t i = 0; i < out->navoid; i++)
		nn_rd_id(&r, &out->avoid[i]);
	uint64_t plen = nn_rd_uvarint(&r);
	if (!r.err && (nn_rd_left(&r) < NN_ED_SIG_LEN || plen > nn_rd_left(&r) - NN_ED_SIG_LEN))
		nn_rd_fail(&r, NN_ETRUNC);
	out->plen = r.err ? 0 : (size_t)plen;
	out->payload = nn_rd_bytes(&r, out->plen);
	out->sig = nn_rd_bytes(&r, NN_ED_SIG_LEN);
	int rc = nn_rd_end(&r);
	if (rc) {
		out->payload = NULL;
		out->sig = NULL;
		out->plen = 0;
		out->navoid = 0;
	}
	return rc;
}

int nn_routing_frame_decode(const uint8_t *frame, size_t len, uint8_t *type, nn_routing_env *out)
{
	nn_frame f;
	int rc = nn_wire_frame_decode_exact(frame, len, &f);
	if (rc)
		return rc;
	if (!nn_routing_is_routed_type(f.type))
		return NN_EINVAL;
	if (type)
		*type = f.type;
	return nn_routing_env_decode(f.payload, f.len, out);
}

size_t nn_routing_env_len(size_t navoid, size_t plen)
{
	return NN_ROUTING_ENV_FIXED + nn_uvarint_len(navoid) + navoid * NN_ID_LEN +
	       nn_uvarint_len(plen) + plen + NN_ED_SIG_LEN;
}

int nn_routing_frame_payload_offset(size_t navoid, size_t plen)
{
	if (navoid > NN_ROUTING_MAX_AVOID)
		return NN_EINVAL;
	if (plen > NN_ROUTING_MAX_PAYLOAD)
		return NN_ETOOBIG;
	size_t el = nn_routing_env_len(navoid, plen);
	return (int)(nn_wire_header_len(el) + NN_ROUTING_ENV_FIXED + nn_uvarint_len(navoid) +
		     navoid * NN_ID_LEN + nn_uvarint_len(plen));
}

int nn_routing_frame_encode(uint8_t *buf, size_t cap, uint8_t type, const nn_routing_env *env)
{
	if (!buf || !env || !env->sig || (env->plen && !env->payload) ||
	    !nn_routing_is_routed_type(type))
		return NN_EINVAL;
	int off = nn_routing_frame_payload_offset(env->navoid, env->plen);
	if (off < 0)
		return off;
	size_t el = nn_routing_env_len(env->navoid, env->plen);
	int hdr = nn_wire_header_put(buf, cap, type, el);
	if (hdr < 0)
		return hdr;
	if (cap - (size_t)hdr < el)
		return NN_ENOSPC;
	nn_wr w;
	nn_wr_init(&w, buf + hdr, el);
	nn_wr_id(&w, &env->target);
	nn_wr_u8(&w, env->ttl);
	nn_wr_bytes(&w, env->ed_pub, NN_ED_PUB_LEN);
	nn_wr_i64(&w, env->sent);
	nn_wr_uvarint(&w, env->navoid);
	for (size_t i = 0; i < env->navoid; i++)
		nn_wr_id(&w, &env->avoid[i]);
	nn_wr_uvarint(&w, env->plen);
	uint8_t *pl = nn_wr_reserve(&w, env->plen);
	if (pl && env->plen && pl != env->payload)
		memmove(pl, env->payload, env->plen);
	uint8_t *sig = nn_wr_reserve(&w, NN_ED_SIG_LEN);
	if (sig && sig != env->sig)
		memmove(sig, env->sig, NN_ED_SIG_LEN);
	if (w.err)
		return w.err;
	return hdr + (int)el;
}

/* Header length of a routed frame whose envelope reaches at least `need` bytes. */
static int env_start(const uint8_t *frame, size_t len, size_t need)
{
	nn_frame f;
	size_t used;
	if (!frame)
		return NN_EINVAL;
	int rc = nn_wire_frame_decode(frame, len, &f, &used);
	if (rc)
		return rc;
	if (f.len < need)
		return NN_ETRUNC;
	return (int)(f.payload - frame);
}

int nn_routing_frame_ttl_offset(const uint8_t *frame, size_t len)
{
	int h = env_start(frame, len, NN_ROUTING_ENV_FIXED);
	return h < 0 ? h : h + NN_ROUTING_ENV_TTL_OFFSET;
}

int nn_routing_frame_set_ttl(uint8_t *frame, size_t len, uint8_t ttl)
{
	int off = nn_routing_frame_ttl_offset(frame, len);
	if (off < 0)
		return off;
	frame[off] = ttl;
	return 0;
}

int nn_routing_frame_set_avoid(uint8_t *frame, size_t len, const nn_id *avoid, size_t navoid)
{
	if (navoid > NN_ROUTING_MAX_AVOID || (navoid && !avoid))
		return NN_EINVAL;
	int h = env_start(frame, len, NN_ROUTING_ENV_FIXED + 1 + navoid * NN_ID_LEN);
	if (h < 0)
		return h;
	uint8_t *p = frame + h + NN_ROUTING_ENV_FIXED;
	if (p[0] != navoid) /* navoid <= 3 is always a one-byte uvarint */
		return NN_EINVAL;
	for (size_t i = 0; i < navoid; i++)
		memcpy(p + 1 + i * NN_ID_LEN, avoid[i].b, NN_ID_LEN);
	return 0;
}

bool nn_routing_time_within(nn_time sent, nn_time now, nn_time window)
{
	if (window < 0)
		return false;
	/* The unsigned difference of two int64 values ordered this way is their exact distance. */
	uint64_t d = sent <= now ? (uint64_t)now - (uint64_t)sent : (uint64_t)sent - (uint64_t)now;
	return d <= (uint64_t)window;
}

bool nn_routing_env_fresh(nn_time sent, nn_time now)
{
	return nn_routing_time_within(sent, now, NN_ROUTING_MAX_AGE);
}
