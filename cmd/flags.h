/* flags.h — Go-style command-line flags for nodenet-node (`-name value`, `-name=value`,
 * `--name` works too; booleans take no value or `=true/false`). Parsing stops at the first
 * non-flag argument or at "--". Errors are one line in err (no exit, no printing). */
#ifndef NN_CMD_FLAGS_H
#define NN_CMD_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

enum nn_flag_kind { NN_FLAG_BOOL, NN_FLAG_STRING, NN_FLAG_INT };

typedef struct nn_flag {
	const char *name;
	enum nn_flag_kind kind;
	void *ptr;        /* bool *, const char **, long * */
	long min, max;    /* NN_FLAG_INT range */
	const char *usage;
	bool set;         /* out: seen on the command line */
} nn_flag;

/* Parse argv[0..argc) against flags. Returns the index of the first positional argument, or -1
 * with a message in err. "-h"/"-help"/"--help" return -2. */
int nn_flags_parse(nn_flag *flags, size_t n, int argc, char **argv, char *err, size_t errcap);
/* Print "  -name value\n\tusage" lines. */
void nn_flags_usage(const nn_flag *flags, size_t n, void *file);

#endif
