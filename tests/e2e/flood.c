/* flood.c — a hostile crowd for the admission e2e (tests/e2e/admission.py): many QUIC
 * endpoints with fresh identities, bound to several loopback source IPs, each holding one
 * connection to a victim node for a while. Per IP, `--silent` of them stay silent (handshake
 * done, not a frame: they hold a connection slot without being an edge) and the others try to
 * be edges (a Ping at once, then one every 5 s so they never look idle). A connection that
 * closes or fails is dialled again a second later, so the crowd keeps pressing for its slots
 * for the whole run.
 *
 *   flood <64-hex NodeID>@<ip:port> [--ips 127.0.0.2-127.0.0.10] [--per-ip 32] [--silent 8]
 *         [--seconds 40] [--pow 0]
 *
 * Prints one status line a second ("flood t=... held ... edges ... silent ... referrals ...")
 * and a summary at the end; exits 0, or 2 on bad arguments / set-up failure. Loopback only.
 */
#include <arpa/inet.h>
#include <ev.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/identity.h"
#include "pow/pow.h"
#include "transport/clock_ev.h"
#include "transport/quic/quic.h"
#include "wire/wire.h"

struct att {
	nn_tp *tp;
	nn_conn *c;
	bool silent, dialling;
	double redial_at;
};

struct flood {
	struct ev_loop *loop;
	nn_clock *clk;
	nn_pool pool;
	nn_id victim;
	nn_addr victim_addr;
	struct att *a;
	size_t n;
	double t0, end;
	uint64_t referrals, closes, failures, max_held;
	ev_timer tick;
	ev_signal sigterm;
};

static struct flood F;

static void on_conn(void *ctx, nn_conn *c)
{
	struct att *a = ctx;
	a->c = c;
	a->dialling = false;
	if (!a->silent) {
		static const uint8_t ping[3] = {1, NN_T_PING, 0};
		(void)nn_tp_send(a->tp, c, ping, sizeof ping);
	}
}

static void on_failed(void *ctx, void *user, const nn_id *want, const nn_addr *addr, int err)
{
	struct att *a = ctx;
	a->dialling = false;
	a->redial_at = ev_now(F.loop) + 1.0;
	F.failures++;
}

static void on_frame(void *ctx, nn_conn *c, nn_pkt **p)
{
	if ((*p)->len >= 2 && (*p)->data[1] == NN_T_REFERRAL)
		F.referrals++;
}

static void on_closed(void *ctx, nn_conn *c, int err, uint64_t reason)
{
	struct att *a = ctx;
	if (a->c == c)
		a->c = NULL;
	a->redial_at = ev_now(F.loop) + 1.0;
	F.closes++;
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	double now = ev_now(loop);
	static double last_print, last_ping;
	size_t held = 0, edges = 0, silent = 0;
	bool ping = now - last_ping >= 5.0;
	for (size_t i = 0; i < F.n; i++) {
		struct att *a = &F.a[i];
		if (a->c) {
			held++;
			(*(a->silent ? &silent : &edges))++;
			if (ping && !a->silent) {
				static const uint8_t p[3] = {1, NN_T_PING, 0};
				(void)nn_tp_send(a->tp, a->c, p, sizeof p);
			}
		} else if (!a->dialling && now >= a->redial_at && now < F.end) {
			if (nn_tp_dial(a->tp, &F.victim, &F.victim_addr, NULL) == 0)
				a->dialling = true;
			else
				a->redial_at = now + 1.0;
		}
	}
	if (ping)
		last_ping = now;
	if (held > F.max_held)
		F.max_held = held;
	if (now - last_print >= 1.0) {
		last_print = now;
		printf("flood t=%.1f held %zu edges %zu silent %zu closes %llu failures %llu "
		       "referrals %llu\n",
		       now - F.t0, held, edges, silent, (unsigned long long)F.closes,
		       (unsigned long long)F.failures, (unsigned long long)F.referrals);
		fflush(stdout);
	}
	if (now >= F.end)
		ev_break(loop, EVBREAK_ALL);
}

static void sig_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static int usage(void)
{
	fprintf(stderr, "usage: flood <64-hex NodeID>@<ip:port> [--ips A-B] [--per-ip N] "
			"[--silent N] [--seconds S] [--pow D]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *ips = "127.0.0.2-127.0.0.10";
	long per_ip = 32, pow = 0, silent = -1;
	double seconds = 40;
	if (argc < 2)
		return usage();
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ips"))
			ips = argv[i + 1];
		else if (!strcmp(argv[i], "--per-ip"))
			per_ip = strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--silent"))
			silent = strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = strtod(argv[i + 1], NULL);
		else if (!strcmp(argv[i], "--pow"))
			pow = strtol(argv[i + 1], NULL, 10);
		else
			return usage();
	}
	const char *at = strchr(argv[1], '@');
	if (!at || at - argv[1] != 64 || nn_kad_id_from_hex(&F.victim, argv[1], 64) != 0 ||
	    nn_addr_set(&F.victim_addr, "quic", at + 1) != 0 || per_ip < 1 || per_ip > 1000)
		return usage();
	/* source IPs: a range of IPv4 loopback addresses that differ in the last byte */
	char lo[32], hi[32];
	const char *dash = strchr(ips, '-');
	if (!dash || (size_t)(dash - ips) >= sizeof lo || strlen(dash + 1) >= sizeof hi)
		return usage();
	memcpy(lo, ips, (size_t)(dash - ips));
	lo[dash - ips] = 0;
	strcpy(hi, dash + 1);
	struct in_addr la, ha;
	if (inet_pton(AF_INET, lo, &la) != 1 || inet_pton(AF_INET, hi, &ha) != 1 ||
	    (ntohl(la.s_addr) >> 24) != 127 || ntohl(ha.s_addr) < ntohl(la.s_addr) ||
	    ntohl(ha.s_addr) - ntohl(la.s_addr) > 64)
		return usage();
	uint32_t nip = ntohl(ha.s_addr) - ntohl(la.s_addr) + 1;
	if (silent < 0)
		silent = per_ip / 4;
	if (sodium_init() < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	F.loop = ev_default_loop(0);
	F.clk = nn_evclock_new(F.loop);
	if (!F.clk || nn_pool_init(&F.pool, NULL) != 0)
		return 2;
	F.n = (size_t)nip * (size_t)per_ip;
	F.a = calloc(F.n, sizeof *F.a);
	if (!F.a)
		return 2;
	for (size_t i = 0; i < F.n; i++) {
		struct att *a = &F.a[i];
		a->silent = (long)(i / nip) < silent;
		uint8_t seed[32];
		nn_identity id;
		do {
			randombytes_buf(seed, sizeof seed);
			nn_identity_from_seed(&id, seed);
		} while (!nn_pow_ok(&id.id, (int)pow));
		struct in_addr src = {.s_addr = htonl(ntohl(la.s_addr) + (uint32_t)(i % nip))};
		char listen[48], host[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &src, host, sizeof host);
		snprintf(listen, sizeof listen, "%s:0", host);
		nn_quic_config cfg;
		nn_quic_config_default(&cfg);
		cfg.listen = listen;
		int rc = nn_quic_new(&a->tp, &id, F.clk, &F.pool, &cfg);
		nn_identity_wipe(&id);
		if (rc != 0) {
			fprintf(stderr, "flood: endpoint on %s: %s\n", listen, nn_strerror(rc));
			return 2;
		}
		nn_tp_sink s = {.ctx = a, .on_conn = on_conn, .on_dial_failed = on_failed,
				.on_frame = on_frame, .on_closed = on_closed};
		nn_tp_set_sink(a->tp, &s);
	}
	F.t0 = ev_now(F.loop);
	F.end = F.t0 + seconds;
	printf("flood: %zu endpoints on %u source IPs (%s), %ld each (%ld silent), %.0f s\n", F.n,
	       nip, ips, per_ip, silent, seconds);
	fflush(stdout);
	ev_timer_init(&F.tick, tick_cb, 0.0, 0.1);
	ev_timer_start(F.loop, &F.tick);
	ev_signal_init(&F.sigterm, sig_cb, SIGTERM);
	ev_signal_start(F.loop, &F.sigterm);
	ev_run(F.loop, 0);
	size_t held = 0;
	for (size_t i = 0; i < F.n; i++)
		held += F.a[i].c != NULL;
	printf("flood done: held %zu at the end, %llu at most; %llu closes, %llu failed dials, "
	       "%llu referrals\n",
	       held, (unsigned long long)F.max_held, (unsigned long long)F.closes,
	       (unsigned long long)F.failures, (unsigned long long)F.referrals);
	fflush(stdout);
	for (size_t i = 0; i < F.n; i++)
		nn_tp_destroy(F.a[i].tp);
	free(F.a);
	nn_pool_fini(&F.pool);
	nn_clock_destroy(F.clk);
	return 0;
}
