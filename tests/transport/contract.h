/* contract.h — the transport contract suite: every transport must pass it.
 *
 * The suite is written against transport/transport.h only. A transport registers a factory;
 * nn_contract_run() runs every contract case against it and returns the number of failed
 * checks (each is printed with file:line). tests/transport/test_contract.c registers the mem
 * transport; the QUIC tests link nn_contract_dep and call nn_contract_run with their factory.
 *
 * A factory makes an environment (loop/hub), endpoints with a given identity seed, and runs the
 * environment's loop. Endpoints are destroyed with nn_tp_destroy(), before teardown.
 */
#ifndef NN_TEST_CONTRACT_H
#define NN_TEST_CONTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/transport.h"

struct nn_contract_factory {
	const char *name;
	void *arg; /* passed to setup */
	/* Make an environment; seed feeds any simulated randomness. */
	int (*setup)(void *arg, uint64_t seed, void **env);
	void (*teardown)(void *env);
	/* A new endpoint whose NodeID derives from the 32-byte identity seed (tp->local_id);
	 * *addr receives an address other endpoints can dial it at. */
	int (*create)(void *env, const uint8_t seed[32], nn_tp **out, nn_addr *addr);
	/* Run the loop until pred(parg) holds (0) or `timeout` ns of the environment's time
	 * passed (NN_ETIMEDOUT). */
	int (*run)(void *env, bool (*pred)(void *), void *parg, nn_time timeout);
	/* Upper bound on frames a send queue accepts before NN_EAGAIN (the backpressure case sends
	 * up to 4x this without running the loop and expects NN_EAGAIN). */
	uint32_t max_queue;
	/* Generous bound for one step (dial, delivery) in the environment's time. */
	nn_time step_timeout;
	/* The transport fills conn->remote_ed_pub (then it must be set on every connection). A
	 * non-zero key must hash to remote_id either way. */
	bool reports_keys;
};

/* Run all cases; returns the number of failed checks (0 = pass). */
int nn_contract_run(const struct nn_contract_factory *f);

#endif
