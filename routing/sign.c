/* sign.c — the routed envelope's signature: domain-labelled BLAKE2b-256 digest, Ed25519. */
#include <blake2.h>
#include <string.h>

#include "routing/envelope.h"

void nn_routing_env_digest(uint8_t out[32], uint8_t type, const nn_id *target,
			   const uint8_t ed_pub[NN_ED_PUB_LEN], nn_time sent,
			   const uint8_t *payload, size_t plen)
{
	static const char domain[] = NN_ROUTING_SIG_DOMAIN;
	blake2b_state s;
	uint8_t be[8];
	uint64_t u = (uint64_t)sent;
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(u >> (56 - 8 * i));
	blake2b_init(&s, 32);
	blake2b_update(&s, (const uint8_t *)domain, sizeof domain - 1);
	blake2b_update(&s, &type, 1);
	blake2b_update(&s, target->b, NN_ID_LEN);
	blake2b_update(&s, ed_pub, NN_ED_PUB_LEN);
	blake2b_update(&s, be, sizeof be);
	if (plen)
		blake2b_update(&s, payload, plen);
	blake2b_final(&s, out, 32);
}

int nn_routing_env_sign(const nn_identity *id, uint8_t type, const nn_id *target, nn_time sent,
			const uint8_t *payload, size_t plen, uint8_t sig[NN_ED_SIG_LEN])
{
	if (!id || !target || !sig || (plen && !payload))
		return NN_EINVAL;
	uint8_t d[32];
	nn_routing_env_digest(d, type, target, id->ed_pub, sent, payload, plen);
	return nn_identity_sign(id, sig, d, sizeof d);
}

int nn_routing_env_verify(const nn_routing_env *env, uint8_t type)
{
	if (!env || !env->sig || (env->plen && !env->payload))
		return NN_EBADSIG;
	uint8_t d[32];
	nn_routing_env_digest(d, type, &env->target, env->ed_pub, env->sent, env->payload,
			      env->plen);
	return nn_identity_verify(env->ed_pub, env->sig, d, sizeof d);
}
