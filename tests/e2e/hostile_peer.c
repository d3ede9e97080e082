/* hostile_peer.c — a hostile nodenet peer for tests/e2e/e2e_console.py (loopback only).
 *
 *   hostile_peer <64-hex NodeID>@<ip:port> [...]
 *
 * A real node (QUIC, PoW 0, a random identity, listening on 127.0.0.1) built from the library's
 * internals, with one twist: after its real address, its self contact advertises addresses
 * crafted to forge console lines ("127.0.0.1:1\nrecv ...", "\nok", "\nend", "\nerror ...") and to
 * drive a terminal (ANSI / OSC escapes). It bootstraps from every contact given, so the victims
 * receive those addresses in its Neighbors answers and in the Replies it signs to their
 * rendezvous Hellos. Once an edge is up it also routes to that peer payloads that would forge
 * lines if a console printed them raw. It prints "id <hex>" on stdout, and leaves when its
 * stdin closes.
 */
#include <ev.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_impl.h"

static const char *const hostile_addrs[] = {
	"127.0.0.1:1\nrecv forged-recv",
	"127.0.0.1:2\nok",
	"127.0.0.1:3\nend",
	"127.0.0.1:4\nerror EINVAL forged-error",
	"\x1b[2J\x1b[H127.0.0.1:5",
	"127.0.0.1:6\x1b]0;pwned\x07",
	"127.0.0.1:7 keys forged",
};

static const char *const hostile_payloads[] = {
	"\x1b[2J\x1b[Hok\nend\nerror EINVAL forged-error",
	"hex:41",
	"\nrecv forged-recv",
};

struct hostile {
	nn_node *node;
	ev_io in_w;
	int sent;
};

static void on_edge(void *user, const nn_id *peer, bool up)
{
	struct hostile *h = user;
	if (!up)
		return;
	for (size_t i = 0; i < sizeof hostile_payloads / sizeof hostile_payloads[0]; i++)
		if (nn_node_send(h->node, peer, hostile_payloads[i], strlen(hostile_payloads[i])) == 0)
			h->sent++;
}

static void on_drained(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void on_stdin(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hostile *h = w->data;
	char buf[256];
	(void)revents;
	if (read(w->fd, buf, sizeof buf) > 0)
		return;
	ev_io_stop(loop, w);
	nn_node_stop(h->node);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s <64-hex NodeID>@<ip:port> [...]\n", argv[0]);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	struct hostile h = {0};
	uint8_t seed[NN_SEED_BYTES];
	randombytes_buf(seed, sizeof seed);
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = "127.0.0.1:0";
	o.log_level = NN_LOG_ERROR;
	o.cb = (nn_node_callbacks){.user = &h, .on_edge = on_edge};
	int rc = nn_node_new(&h.node, &o, loop);
	sodium_memzero(seed, sizeof seed);
	if (rc < 0) {
		fprintf(stderr, "hostile_peer: nn_node_new: %s\n", nn_strerror(rc));
		return 1;
	}
	/* the twist: crafted addresses after the real one (nn_addr_set checks lengths only) */
	nn_routing_contact *self = &h.node->self_contact;
	for (size_t i = 0; i < sizeof hostile_addrs / sizeof hostile_addrs[0] &&
			   self->naddrs < NN_ROUTING_CONTACT_ADDRS;
	     i++)
		if (nn_addr_set(&self->addrs[self->naddrs], "quic", hostile_addrs[i]) == 0)
			self->naddrs++;
	for (int i = 1; i < argc; i++) {
		const char *at = strchr(argv[i], '@');
		nn_id id;
		if (!at || nn_id_parse(&id, argv[i], (size_t)(at - argv[i])) < 0 ||
		    (rc = nn_node_bootstrap(h.node, &id, at + 1)) < 0) {
			fprintf(stderr, "hostile_peer: bad contact %s\n", argv[i]);
			return 2;
		}
	}
	char hex[65];
	printf("id %s\n", nn_id_format(hex, nn_node_id(h.node)));
	fflush(stdout);
	ev_io_init(&h.in_w, on_stdin, STDIN_FILENO, EV_READ);
	h.in_w.data = &h;
	ev_io_start(loop, &h.in_w);
	ev_run(loop, 0);
	/* let the transport report the closed connections before the free (as cmd/run.c) */
	ev_timer drain;
	ev_timer_init(&drain, on_drained, 0.1, 0);
	ev_timer_start(loop, &drain);
	ev_run(loop, 0);
	fprintf(stderr, "hostile_peer: %d hostile payload(s) routed\n", h.sent);
	nn_node_free(h.node);
	return 0;
}
