/* test_contract.c — the contract suite against every transport registered in this binary:
 * mem with the default link, and mem over a slow, jittery, lossy, narrow link. (QUIC runs the
 * same suite from tests/quic/ with its own factory.) Then the suite is turned on deliberately
 * broken transports (mem with one rule violated) to show that it catches each violation. */
#include <stdio.h>
#include <string.h>

#include "tests/transport/mem_factory.h"

/* ---- flawed variants: mem endpoints whose ops table has one broken entry ---- */

enum flaw { DROPS_FRAMES, SWALLOWS_EAGAIN, ACCEPTS_OVERSIZE, NEVER_CLOSES };

static enum flaw cur_flaw;
static nn_tp_ops flawed_ops;
static const nn_tp_ops *real_ops;
static unsigned send_count;

static int flawed_send(nn_tp *tp, nn_conn *c, const uint8_t *f, size_t len)
{
	switch (cur_flaw) {
	case DROPS_FRAMES: /* loses one frame in 7 */
		if (++send_count % 7 == 0)
			return 0;
		break;
	case SWALLOWS_EAGAIN: { /* pretends a full queue took the frame */
		int rc = real_ops->send(tp, c, f, len);
		return rc == NN_EAGAIN ? 0 : rc;
	}
	case ACCEPTS_OVERSIZE:
		if (len > NN_TP_MAX_FRAME)
			return 0;
		break;
	default:
		break;
	}
	return real_ops->send(tp, c, f, len);
}

static int flawed_close(nn_tp *tp, nn_conn *c, uint64_t reason)
{
	/* claims success but never closes: neither end ever sees on_closed */
	return cur_flaw == NEVER_CLOSES ? 0 : real_ops->close(tp, c, reason);
}

static int flawed_create(void *env, const uint8_t seed[32], nn_tp **out, nn_addr *addr)
{
	int rc = nn_mem_factory.create(env, seed, out, addr);
	if (rc == 0) {
		real_ops = (*out)->ops;
		flawed_ops = *real_ops;
		flawed_ops.send = flawed_send;
		flawed_ops.close = flawed_close;
		(*out)->ops = &flawed_ops;
	}
	return rc;
}

int main(void)
{
	nn_mem_link rough = nn_mem_link_default();
	rough.latency = 40 * NN_MS;
	rough.jitter = 15 * NN_MS;
	rough.loss_ppm = 50000;
	rough.bandwidth = 2 * 1000 * 1000;
	rough.queue_frames = 16;
	const struct nn_contract_factory reg[] = {
		nn_mem_factory,
		nn_mem_factory_with(&rough, "mem-rough"),
	};
	int fails = 0;
	for (size_t i = 0; i < sizeof reg / sizeof reg[0]; i++)
		fails += nn_contract_run(&reg[i]);
	printf("contract: %d failed checks\n", fails);

	/* the suite must fail each broken transport */
	static const char *names[] = {"broken-drops-frames", "broken-swallows-eagain",
				      "broken-accepts-oversize", "broken-close-unseen"};
	int undetected = 0;
	for (int k = 0; k <= NEVER_CLOSES; k++) {
		struct nn_contract_factory f = nn_mem_factory;
		f.name = names[k];
		f.create = flawed_create;
		f.step_timeout = 5 * NN_SEC;
		cur_flaw = (enum flaw)k;
		send_count = 0;
		fprintf(stderr, "---- expected failures of %s follow ----\n", names[k]);
		int n = nn_contract_run(&f);
		printf("contract on %s: %d failed checks (must be > 0)\n", names[k], n);
		undetected += n == 0;
	}
	return fails || undetected ? 1 : 0;
}
