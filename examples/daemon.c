/* daemon.c — a node embedded in a program that has its own libev loop (the daemon use).
 *
 *   daemon SEED_FILE LISTEN [BOOTSTRAP_ID@IP:PORT]
 *
 * Identity from SEED_FILE (minted to meet POW_DIFFICULTY and saved if missing), a node on the
 * program's own event loop, listening on LISTEN (e.g. ":4242"), joined through the bootstrap
 * contact if one is given, its contacts kept in SEED_FILE.contacts across restarts (a restart
 * without the bootstrap argument rejoins through them). It prints
 *   "I am <hex> at <addr>"          once the node is up,
 *   "edge up|down <hex>"            as edges come and go,
 *   "stats edges=<n> knowledge=<n>" every 10 s and on SIGUSR1,
 * and on SIGINT or SIGTERM saves its contacts, leaves gracefully and exits 0.
 *
 * It shows the other threading model of the API: loop != NULL in nn_node_new attaches the node
 * to the host's loop, which the host runs (ev_run), so every callback runs on the host's one
 * thread and no locking is needed. Only the public header is used (and libev's, whose loop the
 * node shares); link with libnodenet and libev.
 */
#include <ev.h>
#include <nodenet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define POW_DIFFICULTY 8 /* network-wide constant: leading zero bits required of a NodeID */

struct app {
	nn_node *node;
	char contacts[4096];
};

static void on_edge(void *user, const nn_id *peer, bool up)
{
	char hex[65];
	(void)user;
	printf("edge %s %s\n", up ? "up" : "down", nn_id_format(hex, peer));
	fflush(stdout);
}

static void on_log(void *user, int level, const char *line)
{
	(void)user;
	(void)level;
	fprintf(stderr, "node: %s\n", line);
}

static void print_stats(struct app *a)
{
	nn_node_stats s;
	nn_node_get_stats(a->node, &s);
	printf("stats edges=%llu knowledge=%llu\n", (unsigned long long)s.edges,
	       (unsigned long long)s.knowledge);
	fflush(stdout);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	print_stats(w->data);
}

static void on_usr1(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	print_stats(w->data);
}

/* SIGINT / SIGTERM: save what we know while the edges are still up, then leave. The node's
 * graceful stop sends Leave to every edge and breaks the host loop (ev_run returns). */
static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct app *a = w->data;
	(void)loop;
	(void)revents;
	int rc = nn_node_save_contacts(a->node, a->contacts);
	if (rc < 0)
		fprintf(stderr, "contacts: %s\n", nn_strerror(rc));
	nn_node_stop(a->node);
}

static int load_identity(const char *path, uint8_t seed[NN_SEED_BYTES])
{
	int rc = nn_seed_load(path, seed);
	if (rc != NN_ENOENT)
		return rc;
	rc = nn_seed_mint(seed, POW_DIFFICULTY, 0, NULL, NULL);
	return rc < 0 ? rc : nn_seed_save(path, seed);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s SEED_FILE LISTEN [BOOTSTRAP_ID@IP:PORT]\n", argv[0]);
		return 2;
	}
	struct app a = {0};
	snprintf(a.contacts, sizeof a.contacts, "%s.contacts", argv[1]);
	uint8_t seed[NN_SEED_BYTES];
	int rc = load_identity(argv[1], seed);
	if (rc < 0) {
		fprintf(stderr, "identity: %s\n", nn_strerror(rc));
		return 1;
	}
	struct ev_loop *loop = ev_default_loop(0);
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = argv[2];
	o.pow = POW_DIFFICULTY;
	o.cb = (nn_node_callbacks){.user = &a, .on_edge = on_edge, .on_log = on_log};
	rc = nn_node_new(&a.node, &o, loop); /* attach to our loop */
	memset(seed, 0, sizeof seed);
	if (rc < 0) {
		fprintf(stderr, "node: %s\n", nn_strerror(rc));
		return 1;
	}
	char hex[65], addrs[4][64];
	size_t k = nn_node_addrs(a.node, addrs, 4);
	printf("I am %s at %s\n", nn_id_format(hex, nn_node_id(a.node)), k ? addrs[0] : "-");
	fflush(stdout);

	/* Rejoin through the contacts of the last run, and/or the bootstrap contact. */
	rc = nn_node_load_contacts(a.node, a.contacts);
	if (rc < 0 && rc != NN_ENOENT)
		fprintf(stderr, "contacts: %s (starting without them)\n", nn_strerror(rc));
	if (argc == 4) {
		const char *at = strchr(argv[3], '@');
		nn_id boot;
		if (!at || nn_id_parse(&boot, argv[3], (size_t)(at - argv[3])) < 0) {
			fprintf(stderr, "bootstrap: want <64-hex NodeID>@ip:port\n");
			nn_node_free(a.node);
			return 2;
		}
		if ((rc = nn_node_bootstrap(a.node, &boot, at + 1)) < 0)
			fprintf(stderr, "bootstrap: %s\n", nn_strerror(rc));
	}

	ev_signal sigint_w, sigterm_w, sigusr1_w;
	ev_signal_init(&sigint_w, on_stop, SIGINT);
	ev_signal_init(&sigterm_w, on_stop, SIGTERM);
	ev_signal_init(&sigusr1_w, on_usr1, SIGUSR1);
	sigint_w.data = sigterm_w.data = sigusr1_w.data = &a;
	ev_signal_start(loop, &sigint_w);
	ev_signal_start(loop, &sigterm_w);
	ev_signal_start(loop, &sigusr1_w);
	ev_timer stats_w;
	ev_timer_init(&stats_w, on_timer, 10.0, 10.0);
	stats_w.data = &a;
	ev_timer_start(loop, &stats_w);

	ev_run(loop, 0); /* returns after nn_node_stop() */

	ev_timer_stop(loop, &stats_w);
	ev_signal_stop(loop, &sigint_w);
	ev_signal_stop(loop, &sigterm_w);
	ev_signal_stop(loop, &sigusr1_w);
	nn_node_free(a.node);
	printf("stopped\n");
	return 0;
}
