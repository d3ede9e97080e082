/* messenger.c — a minimal P2P messenger on libnodenet (the seeds' example, in C).
 *
 *   messenger SEED_FILE LISTEN [BOOTSTRAP_ID@IP:PORT]
 *
 * Identity from SEED_FILE (minted to meet POW_DIFFICULTY and saved if missing), a node
 * listening on LISTEN (e.g. ":4242"), joined through the bootstrap contact if one is given.
 * Then each stdin line "<64-hex NodeID> <text>" is sent to that node; messages for us are
 * printed as "from <hex>: <text>". End of input leaves the overlay gracefully.
 *
 * It shows the API's threading model: the node runs its own loop on a thread of its own
 * (nn_node_run), callbacks run on that thread, and the main thread hands work to it with
 * nn_node_call() — the only calls that are safe from another thread are nn_node_call() and
 * nn_node_stop(). Only the public header is used; link with libnodenet.
 */
#include <nodenet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POW_DIFFICULTY 8 /* network-wide constant: leading zero bits required of a NodeID */

/* A message travelling from the main thread to the loop thread. */
struct outgoing {
	nn_id to;
	size_t len;
	char text[];
};

/* Runs on the loop thread (nn_node_call). nn_node_send never blocks and copies the bytes. */
static void send_on_loop(nn_node *n, void *arg)
{
	struct outgoing *m = arg;
	int rc = nn_node_send(n, &m->to, m->text, m->len);
	if (rc < 0)
		fprintf(stderr, "send: %s (%s)\n", nn_strerror(rc), nn_errname(rc));
	free(m);
}

/* Runs on the loop thread: data is valid only during the call. */
static void on_message(void *user, const nn_id *from, const uint8_t *data, size_t len)
{
	char hex[65];
	(void)user;
	printf("from %s: %.*s\n", nn_id_format(hex, from), (int)len, (const char *)data);
	fflush(stdout);
}

static void on_log(void *user, int level, const char *line)
{
	(void)user;
	(void)level;
	fprintf(stderr, "node: %s\n", line);
}

static void *run_node(void *n)
{
	nn_node_run(n);
	return NULL;
}

/* 1. Identity: the seed is the only secret; keep it to keep the NodeID across restarts. */
static int load_identity(const char *path, uint8_t seed[NN_SEED_BYTES])
{
	int rc = nn_seed_load(path, seed);
	if (rc != NN_ENOENT)
		return rc;
	fprintf(stderr, "minting an identity with %d leading zero bits...\n", POW_DIFFICULTY);
	rc = nn_seed_mint(seed, POW_DIFFICULTY, 0, NULL, NULL);
	return rc < 0 ? rc : nn_seed_save(path, seed);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s SEED_FILE LISTEN [BOOTSTRAP_ID@IP:PORT]\n", argv[0]);
		return 2;
	}
	uint8_t seed[NN_SEED_BYTES];
	int rc = load_identity(argv[1], seed);
	if (rc < 0) {
		fprintf(stderr, "identity: %s\n", nn_strerror(rc));
		return 1;
	}

	/* 2. Node: options with defaults, then ours. The node copies the seed. */
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = argv[2];
	o.pow = POW_DIFFICULTY;  /* enforce PoW on every edge and routed message */
	o.relay = true;          /* volunteer as a relay */
	o.max_inbound = 256;     /* DoS backstop on a public entry point */
	o.max_inbound_per_ip = 32;
	o.cb.on_message = on_message;
	o.cb.on_log = on_log;
	nn_node *n;
	rc = nn_node_new(&n, &o, NULL); /* NULL: the node gets its own loop */
	memset(seed, 0, sizeof seed);
	if (rc < 0) {
		fprintf(stderr, "node: %s\n", nn_strerror(rc));
		return 1;
	}
	char hex[65], addrs[4][64];
	size_t k = nn_node_addrs(n, addrs, 4);
	printf("I am %s", nn_id_format(hex, nn_node_id(n)));
	for (size_t i = 0; i < k && i < 4; i++)
		printf(" %s %s", i ? "," : "at", addrs[i]);
	printf("\n");
	fflush(stdout);

	/* 3. Bootstrap off a known contact (before the loop runs, so on this thread). */
	if (argc == 4) {
		const char *at = strchr(argv[3], '@');
		nn_id boot;
		if (!at || nn_id_parse(&boot, argv[3], (size_t)(at - argv[3])) < 0) {
			fprintf(stderr, "bootstrap: want <64-hex NodeID>@ip:port\n");
			nn_node_free(n);
			return 2;
		}
		rc = nn_node_bootstrap(n, &boot, at + 1);
		if (rc < 0)
			fprintf(stderr, "bootstrap: %s\n", nn_strerror(rc));
	}

	/* 4. Run the node's loop on its own thread. */
	pthread_t loop_thread;
	if (pthread_create(&loop_thread, NULL, run_node, n) != 0) {
		nn_node_free(n);
		return 1;
	}

	/* 5. Send: "<hex> <text>" per line, handed to the loop thread. */
	char line[4096];
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\r\n")] = 0;
		char *sp = strchr(line, ' ');
		nn_id to;
		if (!sp || nn_id_parse(&to, line, (size_t)(sp - line)) < 0) {
			fprintf(stderr, "want: <64-hex NodeID> <text>\n");
			continue;
		}
		size_t len = strlen(sp + 1);
		struct outgoing *m = malloc(sizeof *m + len);
		if (!m)
			break;
		m->to = to;
		m->len = len;
		memcpy(m->text, sp + 1, len);
		while ((rc = nn_node_call(n, send_on_loop, m)) == NN_EAGAIN)
			usleep(1000); /* the hand-off queue is full: let the loop catch up */
		if (rc < 0) {
			fprintf(stderr, "call: %s\n", nn_strerror(rc));
			free(m);
		}
	}

	/* 6. Leave gracefully: Leave to every edge, then the loop ends and run_node returns. */
	nn_node_stop(n);
	pthread_join(loop_thread, NULL);
	nn_node_free(n);
	return 0;
}
