/* quic_factory.h — the QUIC transport as a contract-suite factory, plus helpers the QUIC tests
 * share: one libev loop per environment, one packet pool, endpoints on 127.0.0.1:0. */
#ifndef NN_TEST_QUIC_FACTORY_H
#define NN_TEST_QUIC_FACTORY_H

#include <ev.h>

#include "tests/transport/contract.h"
#include "transport/clock_ev.h"
#include "transport/quic/quic.h"

typedef struct nn_qenv {
	struct ev_loop *loop;
	nn_clock *clk;
	nn_pool pool;
	const nn_quic_config *cfg; /* template for every endpoint (NULL = test defaults) */
} nn_qenv;

extern const struct nn_contract_factory nn_quic_factory;

int nn_qenv_setup(void *arg, uint64_t seed, void **env);
void nn_qenv_teardown(void *env);
/* An endpoint with identity from seed and config cfg (NULL = the env's template). */
int nn_qenv_endpoint(nn_qenv *e, const uint8_t seed[32], const nn_quic_config *cfg, nn_tp **out,
		     nn_addr *addr);
int nn_qenv_run(void *env, bool (*pred)(void *), void *parg, nn_time timeout);
/* Run the loop until *a >= v (or *u >= v), or timeout; what nn_qenv_run returns. */
int nn_qenv_wait_int(void *env, const int *a, int v, nn_time timeout);
int nn_qenv_wait_u64(void *env, const uint64_t *u, uint64_t v, nn_time timeout);

#endif
