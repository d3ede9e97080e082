/* quic_factory.c — see quic_factory.h. */
#include <stdlib.h>

#include "tests/quic/quic_factory.h"

int nn_qenv_setup(void *arg, uint64_t seed, void **env)
{
	nn_qenv *e = calloc(1, sizeof *e);
	if (!e)
		return NN_ENOMEM;
	e->cfg = arg;
	e->loop = ev_loop_new(EVFLAG_AUTO);
	e->clk = e->loop ? nn_evclock_new(e->loop) : NULL;
	if (!e->clk || nn_pool_init(&e->pool, NULL) != 0) {
		nn_clock_destroy(e->clk);
		if (e->loop)
			ev_loop_destroy(e->loop);
		free(e);
		return NN_ENOMEM;
	}
	*env = e;
	return 0;
}

void nn_qenv_teardown(void *env)
{
	nn_qenv *e = env;
	nn_pool_fini(&e->pool);
	nn_clock_destroy(e->clk);
	ev_loop_destroy(e->loop);
	free(e);
}

int nn_qenv_endpoint(nn_qenv *e, const uint8_t seed[32], const nn_quic_config *cfg, nn_tp **out,
		     nn_addr *addr)
{
	nn_identity id;
	int rc = nn_identity_from_seed(&id, seed);
	if (rc)
		return rc;
	nn_quic_config c;
	if (cfg)
		c = *cfg;
	else if (e->cfg)
		c = *e->cfg;
	else
		nn_quic_config_default(&c);
	if (!c.listen)
		c.listen = "127.0.0.1:0";
	rc = nn_quic_new(out, &id, e->clk, &e->pool, &c);
	nn_identity_wipe(&id);
	if (rc == 0 && addr)
		*addr = *nn_quic_local_addr(*out);
	return rc;
}

static int q_create(void *env, const uint8_t seed[32], nn_tp **out, nn_addr *addr)
{
	return nn_qenv_endpoint(env, seed, NULL, out, addr);
}

int nn_qenv_run(void *env, bool (*pred)(void *), void *parg, nn_time timeout)
{
	nn_qenv *e = env;
	return nn_clock_run(e->clk, pred, parg, nn_clock_now(e->clk) + timeout);
}

static nn_quic_config contract_cfg;

static int q_setup(void *arg, uint64_t seed, void **env)
{
	nn_quic_config_default(&contract_cfg);
	contract_cfg.send_queue_frames = 256;
	return nn_qenv_setup(&contract_cfg, seed, env);
}

const struct nn_contract_factory nn_quic_factory = {
	.name = "quic",
	.setup = q_setup,
	.teardown = nn_qenv_teardown,
	.create = q_create,
	.run = nn_qenv_run,
	.max_queue = 256,
	.step_timeout = 10 * NN_SEC,
	.reports_keys = true,
};

struct qwait {
	const int *a;
	int va;
	const uint64_t *u;
	uint64_t vu;
};
static bool qwait_done(void *arg)
{
	struct qwait *w = arg;
	return (!w->a || *w->a >= w->va) && (!w->u || *w->u >= w->vu);
}
int nn_qenv_wait_int(void *env, const int *a, int v, nn_time timeout)
{
	struct qwait w = {.a = a, .va = v};
	return nn_qenv_run(env, qwait_done, &w, timeout);
}
int nn_qenv_wait_u64(void *env, const uint64_t *u, uint64_t v, nn_time timeout)
{
	struct qwait w = {.u = u, .vu = v};
	return nn_qenv_run(env, qwait_done, &w, timeout);
}
