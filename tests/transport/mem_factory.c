/* mem_factory.c — the mem transport as a contract-suite factory. */
#include <stdio.h>
#include <stdlib.h>

#include "identity/identity.h"
#include "tests/transport/mem_factory.h"

typedef struct menv {
	nn_clock *clk;
	nn_pool pool;
	nn_mem_hub *hub;
	int n;
} menv;

static int m_setup(void *arg, uint64_t seed, void **env)
{
	menv *e = calloc(1, sizeof *e);
	if (!e)
		return NN_ENOMEM;
	e->clk = nn_vclock_new(seed, 0, 1700000000 * NN_SEC);
	if (!e->clk || nn_pool_init(&e->pool, NULL) != 0 ||
	    !(e->hub = nn_mem_hub_new(e->clk, &e->pool, arg))) {
		nn_clock_destroy(e->clk);
		free(e);
		return NN_ENOMEM;
	}
	*env = e;
	return 0;
}

static void m_teardown(void *env)
{
	menv *e = env;
	nn_mem_hub_free(e->hub);
	nn_pool_fini(&e->pool);
	nn_clock_destroy(e->clk);
	free(e);
}

static int m_create(void *env, const uint8_t seed[32], nn_tp **out, nn_addr *addr)
{
	menv *e = env;
	nn_id id;
	uint8_t ed_pub[NN_ED_PUB_LEN];
	char name[32];
	int rc = nn_identity_id_from_seed(&id, ed_pub, seed);
	if (rc != 0)
		return rc;
	snprintf(name, sizeof name, "ep%d", e->n++);
	rc = nn_mem_endpoint_new(e->hub, name, &id, NN_TP_CAP_PUNCH | NN_TP_CAP_MEDIA, out);
	if (rc == 0) {
		nn_mem_endpoint_set_key(*out, ed_pub);
		nn_tp_local_addrs(*out, addr, 1);
	}
	return rc;
}

static int m_run(void *env, bool (*pred)(void *), void *parg, nn_time timeout)
{
	menv *e = env;
	return nn_clock_run(e->clk, pred, parg, nn_clock_now(e->clk) + timeout);
}

const struct nn_contract_factory nn_mem_factory = {
	.name = "mem",
	.arg = NULL,
	.setup = m_setup,
	.teardown = m_teardown,
	.create = m_create,
	.run = m_run,
	.max_queue = 64,
	.step_timeout = 60 * NN_SEC,
	.reports_keys = true,
};

struct nn_contract_factory nn_mem_factory_with(const nn_mem_link *profile, const char *name)
{
	struct nn_contract_factory f = nn_mem_factory;
	f.arg = (void *)profile;
	f.name = name;
	if (profile && profile->queue_frames > f.max_queue)
		f.max_queue = profile->queue_frames;
	return f;
}
