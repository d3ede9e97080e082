/* fuzz_datagram.c — arbitrary UDP datagrams into a live QUIC endpoint's dispatcher (punch and
 * non-QUIC filtering, header decoding, DCID lookup, caps, Retry gate, new-connection setup and
 * ngtcp2's packet processing): never crash, never leak past the caps. The first input byte picks
 * the source port (so some inputs hit connections earlier inputs created); anything the
 * endpoint answers goes to 127.0.0.1 (loopback only). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "transport/clock_ev.h"
#include "transport/quic/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nn_tp *tp;
static nn_pool pool;

static void init(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	nn_clock *clk = nn_evclock_new(loop);
	uint8_t seed[32] = {42};
	nn_identity id;
	nn_quic_config cfg;
	nn_quic_config_default(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.max_inbound = 64;
	if (!clk || nn_pool_init(&pool, NULL) != 0 || nn_identity_from_seed(&id, seed) != 0 ||
	    nn_quic_new(&tp, &id, clk, &pool, &cfg) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!tp)
		init();
	if (size < 1)
		return 0;
	struct sockaddr_in src = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons((uint16_t)(40000 + data[0] % 4))};
	nn_quic_ep *ep = (nn_quic_ep *)tp;
	nn_quic_ep_datagram(ep, data + 1, size - 1, (struct sockaddr *)&src, sizeof src);
	nn_quic_flush(ep);
	return 0;
}
