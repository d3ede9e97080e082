/* main.c — nodenet-node: a thin wiring of libnodenet (node/nodenet.h only).
 *
 *   nodenet-node [flags]                     run a node (run.c)
 *   nodenet-node id [-seed PATH] [-pow N]    load or mint an identity, print "id <64-hex>"
 *   nodenet-node -version                    print "nodenet-node <version>"
 *
 * Bad flags or input: one line on stderr, exit 2. */
#include <stdio.h>
#include <string.h>

#include "cmd/flags.h"
#include "cmd/run.h"
#include "cmd/seed.h"

#define PROG "nodenet-node"
#define POW_MAX 256

static void usage(FILE *out, nn_flag *flags, size_t n)
{
	fprintf(out, "usage: " PROG " id [flags]\n\n"
		     "Load the node identity from the seed file (minting one that meets -pow if the\n"
		     "file does not exist) and print its NodeID as \"id <64-hex>\".\n\nflags:\n");
	nn_flags_usage(flags, n, out);
}

static int cmd_id(int argc, char **argv)
{
	const char *seed_path = NULL;
	long pow = 0;
	nn_flag flags[] = {
		{"seed", NN_FLAG_STRING, &seed_path, 0, 0,
		 "path to the 32-byte seed file (default $XDG_CONFIG_HOME/nodenet/nodenet.seed)", false},
		{"pow", NN_FLAG_INT, &pow, 0, POW_MAX,
		 "proof-of-work difficulty: leading zero bits the NodeID must have", false},
	};
	size_t nflags = sizeof flags / sizeof flags[0];
	char err[512];
	int pos = nn_flags_parse(flags, nflags, argc, argv, err, sizeof err);
	if (pos == -2) {
		usage(stdout, flags, nflags);
		return 0;
	}
	if (pos < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	if (pos < argc) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[pos]);
		return 2;
	}
	char path[4096];
	if (!seed_path) {
		if (nn_cmd_default_seed_path(path, sizeof path) < 0) {
			fprintf(stderr, PROG ": no -seed given and neither XDG_CONFIG_HOME nor HOME is set\n");
			return 2;
		}
		seed_path = path;
	}
	uint8_t seed[NN_SEED_BYTES];
	nn_id id;
	int minted;
	if (nn_cmd_load_or_mint(seed_path, (int)pow, seed, &id, &minted, err, sizeof err) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	nn_cmd_wipe(seed, sizeof seed);
	char hex[65];
	if (minted)
		fprintf(stderr, PROG ": minted a new identity into %s\n", seed_path);
	printf("id %s\n", nn_id_format(hex, &id));
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "-help") ||
			  !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		nn_cmd_run_usage(stdout);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-version") || !strcmp(argv[1], "--version") ||
			  !strcmp(argv[1], "version"))) {
		printf(PROG " %s\n", NN_VERSION_STRING);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc >= 2 && !strcmp(argv[1], "id"))
		return cmd_id(argc - 2, argv + 2);
	if (argc >= 2 && argv[1][0] != '-') {
		fprintf(stderr, PROG ": unknown command \"%s\" (try -help)\n", argv[1]);
		return 2;
	}
	return nn_cmd_run(argv[0], argc - 1, argv + 1);
}
