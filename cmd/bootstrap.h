/* bootstrap.h — parsing the daemon's address flags: `-addr host:port|:port` and
 * `-bootstrap <64-hex NodeID>@host:port[,...]`.
 *
 * Parsing is pure (no I/O, no allocation): it splits and validates, and on failure writes one
 * line saying what is wrong into err. Hosts may be IP literals (IPv6 in brackets) or names;
 * nn_cmd_resolve() turns a name into a literal (getaddrinfo, blocking: call it at start-up,
 * never on the event loop). Ports are decimal, 1..65535 (0 allowed for -addr: any port).
 */
#ifndef NN_CMD_BOOTSTRAP_H
#define NN_CMD_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>

#include "node/nodenet.h"

#define NN_CMD_HOST_MAX 256
#define NN_CMD_MAX_CONTACTS 64

typedef struct nn_cmd_hostport {
	char host[NN_CMD_HOST_MAX]; /* without brackets; "" for ":port" */
	unsigned port;
} nn_cmd_hostport;

typedef struct nn_cmd_contact {
	nn_id id;
	nn_cmd_hostport hp;
} nn_cmd_contact;

/* Parse "host:port", "[v6]:port" or ":port" (when allow_empty_host). Port 0 only when
 * allow_zero_port. 0 or NN_EINVAL / NN_EADDR with a message in err. */
int nn_cmd_parse_hostport(nn_cmd_hostport *out, const char *s, size_t len, bool allow_empty_host,
			  bool allow_zero_port, char *err, size_t errcap);

/* Parse a comma-separated -bootstrap list into out[0..cap). Returns the count (>= 1) or a
 * negative NN_E* with a message in err. */
int nn_cmd_parse_bootstrap(nn_cmd_contact *out, size_t cap, const char *s, char *err,
			   size_t errcap);

/* Format hp as a literal "ip:port" / "[ip6]:port" into out, resolving a host name
 * (getaddrinfo; IPv4 preferred). "" host gives ":port". 0 or NN_EADDR with a message. */
int nn_cmd_resolve(const nn_cmd_hostport *hp, char *out, size_t cap, char *err, size_t errcap);

#endif
