/* flags.c — Go-style flag parsing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/flags.h"

static nn_flag *find(nn_flag *flags, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(flags[i].name) == len && !strncmp(flags[i].name, name, len))
			return &flags[i];
	return NULL;
}

static int set_value(nn_flag *f, const char *v, char *err, size_t errcap)
{
	switch (f->kind) {
	case NN_FLAG_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "1"))
			*(bool *)f->ptr = true;
		else if (!strcmp(v, "false") || !strcmp(v, "0"))
			*(bool *)f->ptr = false;
		else {
			snprintf(err, errcap, "invalid boolean value \"%s\" for -%s", v, f->name);
			return -1;
		}
		break;
	case NN_FLAG_STRING:
		*(const char **)f->ptr = v;
		break;
	case NN_FLAG_INT: {
		char *end;
		errno = 0;
		long x = strtol(v, &end, 10);
		if (errno || end == v || *end || x < f->min || x > f->max) {
			snprintf(err, errcap, "invalid value \"%s\" for -%s: want an integer %ld..%ld", v,
				 f->name, f->min, f->max);
			return -1;
		}
		*(long *)f->ptr = x;
		break;
	}
	}
	f->set = true;
	return 0;
}

int nn_flags_parse(nn_flag *flags, size_t n, int argc, char **argv, char *err, size_t errcap)
{
	int i = 0;
	while (i < argc) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0')
			return i;
		if (!strcmp(a, "--"))
			return i + 1;
		a += a[1] == '-' ? 2 : 1;
		if (!strcmp(a, "h") || !strcmp(a, "help"))
			return -2;
		const char *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		nn_flag *f = find(flags, n, a, len);
		if (!f) {
			snprintf(err, errcap, "flag provided but not defined: -%.*s", (int)len, a);
			return -1;
		}
		if (eq) {
			if (set_value(f, eq + 1, err, errcap) < 0)
				return -1;
		} else if (f->kind == NN_FLAG_BOOL) {
			*(bool *)f->ptr = true;
			f->set = true;
		} else {
			if (i + 1 >= argc) {
				snprintf(err, errcap, "flag needs an argument: -%s", f->name);
				return -1;
			}
			if (set_value(f, argv[++i], err, errcap) < 0)
				return -1;
		}
		i++;
	}
	return i;
}

void nn_flags_usage(const nn_flag *flags, size_t n, void *file)
{
	FILE *out = file;
	for (size_t i = 0; i < n; i++) {
		const char *arg = flags[i].kind == NN_FLAG_STRING ? " string"
				  : flags[i].kind == NN_FLAG_INT  ? " int"
								  : "";
		fprintf(out, "  -%s%s\n    \t%s\n", flags[i].name, arg, flags[i].usage);
	}
}
