/* run.c — the daemon: flags, seed, node, console and signals on one libev loop. */
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/bootstrap.h"
#include "cmd/console.h"
#include "cmd/flags.h"
#include "cmd/metrics.h"
#include "cmd/run.h"
#include "cmd/seed.h"

#define PROG "nodenet-node"
#define POW_MAX 256
#define STOP_GUARD_S 3.0
#define DRAIN_S 0.1
#define CONTACTS_SAVE_S 300.0 /* the contacts file is rewritten this often */

/* Command-line values. */
struct args {
	const char *addr, *bootstrap, *seed, *log_level, *contacts, *metrics, *portmap;
	long pow, portmap_life, max_inbound, max_inbound_per_ip, max_in_edges, max_in_edges_ip,
	    max_in_edges_net, max_edges_net, max_near_edges_net, target_edges;
	bool relay, console, json, metrics_remote, accept_calls, no_portmap;
};

enum { F_ADDR, F_BOOTSTRAP, F_SEED, F_POW, F_RELAY, F_MAXIN, F_MAXINIP, F_MAXEDGES, F_MAXEDGESIP,
       F_MAXEDGESNET, F_EDGESNET, F_NEAREDGESNET, F_TARGET_EDGES, F_LOG, F_CONSOLE, F_JSON,
       F_CONTACTS, F_METRICS, F_METRICS_REMOTE, F_ACCEPT_CALLS, F_PORTMAP, F_NO_PORTMAP,
       F_PORTMAP_LIFE, F_COUNT };

static void make_flags(nn_flag f[F_COUNT], struct args *a)
{
	nn_flag def[F_COUNT] = {
		[F_ADDR] = {"addr", NN_FLAG_STRING, &a->addr, 0, 0,
			    "UDP listen address \"host:port\" or \":port\" (all interfaces)", false},
		[F_BOOTSTRAP] = {"bootstrap", NN_FLAG_STRING, &a->bootstrap, 0, 0,
				 "contacts to join through: <64-hex NodeID>@host:port[,...]", false},
		[F_SEED] = {"seed", NN_FLAG_STRING, &a->seed, 0, 0,
			    "path to the 32-byte seed file, minted if missing (default "
			    "$XDG_CONFIG_HOME/nodenet/nodenet.seed)", false},
		[F_POW] = {"pow", NN_FLAG_INT, &a->pow, 0, POW_MAX,
			   "network proof-of-work difficulty: leading zero bits of every NodeID", false},
		[F_RELAY] = {"relay", NN_FLAG_BOOL, &a->relay, 0, 0, "volunteer as a relay", false},
		[F_MAXIN] = {"max-inbound", NN_FLAG_INT, &a->max_inbound, 1, 1000000,
			     "concurrent inbound QUIC connections, handshakes included (default 2 x "
			     "-max-inbound-edges = 512); keep it above -max-inbound-edges",
			     false},
		[F_MAXINIP] = {"max-inbound-per-ip", NN_FLAG_INT, &a->max_inbound_per_ip, 1, 1000000,
			       "concurrent inbound QUIC connections per source IP (default 2 x "
			       "-max-inbound-edges-per-ip = 32)",
			       false},
		[F_MAXEDGES] = {"max-inbound-edges", NN_FLAG_INT, &a->max_in_edges, 1, 30000,
				"inbound overlay edges; at the cap a newcomer sheds the longest-idle "
				"inbound finger (default 256)",
				false},
		[F_MAXEDGESIP] = {"max-inbound-edges-per-ip", NN_FLAG_INT, &a->max_in_edges_ip, 1,
				  30000,
				  "inbound edges from one source IP; newcomers beyond it are "
				  "referred to other nodes (default -max-inbound-edges / 16 = 16)",
				  false},
		[F_MAXEDGESNET] = {"max-inbound-edges-per-subnet", NN_FLAG_INT, &a->max_in_edges_net,
				   1, 30000,
				   "inbound edges from one /24 (IPv4) or /64 (IPv6) (default "
				   "-max-inbound-edges / 32 = 8)",
				   false},
		[F_EDGESNET] = {"max-edges-per-subnet", NN_FLAG_INT, &a->max_edges_net, 1, 30000,
				"live edges (inbound and dialled counted together) with one /24 or /64 that "
				"our own dials keep to (default 2: the eclipse defence)",
				false},
		[F_NEAREDGESNET] = {"max-near-edges-per-subnet", NN_FLAG_INT, &a->max_near_edges_net,
				    1, 30000,
				    "live edges with one /24 or /64 among peers near our NodeID that an "
				    "inbound newcomer near us may join (default 2: the eclipse defence; "
				    "hosts elsewhere meet only -max-inbound-edges-per-subnet)",
				    false},
		[F_TARGET_EDGES] = {"target-edges", NN_FLAG_INT, &a->target_edges,
				    NN_NODE_TARGET_EDGES_MIN, NN_NODE_TARGET_EDGES_MAX,
				    "outgoing edges the node keeps dialled (default 64); fewer save "
				    "connections and keepalives and make routes longer",
				    false},
		[F_LOG] = {"log-level", NN_FLAG_STRING, &a->log_level, 0, 0,
			   "debug, info, warn or error (default info)", false},
		[F_CONSOLE] = {"console", NN_FLAG_BOOL, &a->console, 0, 0,
			       "line console on stdin/stdout (default: on when stdin is not a "
			       "terminal). When a pipe or socket on stdin closes, the node leaves; "
			       "after a file or /dev/null it keeps running",
			       false},
		[F_JSON] = {"json", NN_FLAG_BOOL, &a->json, 0, 0, "console events as JSON lines", false},
		[F_CONTACTS] = {"contacts", NN_FLAG_STRING, &a->contacts, 0, 0,
				"file of known contacts, loaded at start (a restarted node rejoins "
				"through them without -bootstrap) and saved every 5 minutes and on "
				"a graceful stop; \"off\" disables it (default: the seed's path "
				"+ \".contacts\")",
				false},
		[F_METRICS] = {"metrics", NN_FLAG_STRING, &a->metrics, 0, 0,
			       "serve Prometheus metrics at http://host:port/metrics, e.g. "
			       "127.0.0.1:9100 (default off; loopback only unless "
			       "-metrics-allow-remote)",
			       false},
		[F_METRICS_REMOTE] = {"metrics-allow-remote", NN_FLAG_BOOL, &a->metrics_remote, 0, 0,
				      "let -metrics listen on a non-loopback address (anyone who "
				      "reaches it reads the node's counters, NodeID and edges)",
				      false},
		[F_ACCEPT_CALLS] = {"accept-calls", NN_FLAG_BOOL, &a->accept_calls, 0, 0,
				    "accept every inbound call (media session) that passes PoW and "
				    "the caps (default: refuse all)",
				    false},
		[F_PORTMAP] = {"portmap", NN_FLAG_STRING, &a->portmap, 0, 0,
			       "ask the home gateway to forward our UDP port: \"auto\" (the default: PCP, "
			       "NAT-PMP, then UPnP-IGD), \"pcp\", \"natpmp\", \"upnp\" or \"off\" "
			       "(the environment's NODENET_PORTMAP is the default when set)",
			       false},
		[F_NO_PORTMAP] = {"no-portmap", NN_FLAG_BOOL, &a->no_portmap, 0, 0,
				  "no port mapping (overrides -portmap and NODENET_PORTMAP)", false},
		[F_PORTMAP_LIFE] = {"portmap-lifetime", NN_FLAG_INT, &a->portmap_life, 4, 604800,
				    "lifetime in seconds asked of the gateway for the port mapping, "
				    "renewed at half of it (default 3600)",
				    false},
	};
	memcpy(f, def, sizeof def);
}

void nn_cmd_run_usage(void *file)
{
	struct args a = {0};
	nn_flag f[F_COUNT];
	make_flags(f, &a);
	FILE *out = file;
	fprintf(out,
		"usage: " PROG " [flags]           run a node (at least one of -addr, -bootstrap)\n"
		"       " PROG " id [-seed PATH] [-pow N]   print the node's NodeID\n"
		"       " PROG " -version                   print \"" PROG " <version>\"\n\n"
		"Console (stdin not a terminal, or -console): commands, one per line:\n"
		"  send <64-hex NodeID> <text>   route text to a node: \"ok\" or \"error <NAME> <msg>\"\n"
		"  direct <64-hex NodeID> <text> over a direct edge (connects first): \"ok\" or error\n"
		"  rendezvous <64-hex NodeID>    \"keys <hex> <ed_pub-hex> <x_pub-hex> <addr>...\"\n"
		"  connect <64-hex NodeID>       \"connected <hex> direct <addr>\" or error\n"
		"  peers                         \"peer <hex> <addr> <in|out> <sibling|finger>\"... \"end\"\n"
		"  stats                         \"stat <name> <value>\"... \"end\"\n"
		"  nat                           \"nat <type> <reflexive|-> ...\" (see README)\n"
		"  status                        one screen: \"status id|phase|local|reflexive|nat|"
		"edge ...\"... \"end\"\n"
		"  call <64-hex NodeID>          open a call (media session): \"ok\", then \"call <hex> "
		"up|down\"\n"
		"  hangup <64-hex NodeID>        close every call with the node: \"call <hex> down\"... "
		"\"ok\"\n"
		"  say <64-hex> <channel> <text> one datagram on channel 16..255 of the call: \"ok\"\n"
		"  tell <64-hex> <channel> <text> one message (reliable) on the call: \"ok\"\n"
		"  quit                          leave gracefully and exit\n"
		"Events: \"id <hex>\", \"listening <addr>\" at start, \"recv <from-hex> <text|hex:...>\",\n"
		"\"call <hex> up|down [ERR]\", \"media <hex> <channel> <text|hex:...>\".\n"
		"SIGINT/SIGTERM leave gracefully (exit 0). Bad flags or input exit 2.\n\nflags:\n");
	nn_flags_usage(f, F_COUNT, out);
}

/* ---- the daemon ---- */
struct daemon {
	const char *prog;
	struct ev_loop *loop;
	nn_node *node;
	int log_level;
	bool console_on;
	bool accept_calls; /* -accept-calls: consent to every inbound call */
	nn_console con;
	ev_io in_w;
	ev_signal sig_int, sig_term;
	ev_timer guard;
	ev_timer save_w;
	const char *contacts; /* the contacts file, or NULL */
	nn_metrics *metrics;  /* the Prometheus endpoint, or NULL */
	bool stopping;
};

static const char *level_name(int level)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	return level >= 0 && level <= 3 ? names[level] : "log";
}

static void say(struct daemon *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct daemon *d, int level, const char *fmt, ...)
{
	if (level < d->log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", level_name(level));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void on_log(void *user, int level, const char *line)
{
	(void)user;
	fprintf(stderr, "%s: ", level_name(level));
	nn_console_put_text(stderr, line, strlen(line), false); /* no raw control byte */
	fputc('\n', stderr);
}

static void on_message(void *user, const nn_id *from, const uint8_t *data, size_t len)
{
	struct daemon *d = user;
	if (d->console_on) {
		nn_console_recv(&d->con, from, data, len);
		return;
	}
	char hex[65];
	nn_id_format(hex, from);
	if (nn_console_printable(data, len))
		say(d, NN_LOG_INFO, "message from %s: %.*s", hex, len > 200 ? 200 : (int)len,
		    (const char *)data);
	else
		say(d, NN_LOG_INFO, "message from %s: %zu bytes (binary)", hex, len);
}

static void on_direct(void *user, const nn_id *from, const uint8_t *data, size_t len)
{
	struct daemon *d = user;
	if (d->console_on) {
		nn_console_recv(&d->con, from, data, len); /* direct frames read as recv too */
		return;
	}
	char hex[65];
	say(d, NN_LOG_INFO, "direct frame from %s: %zu bytes", nn_id_format(hex, from), len);
}

static bool on_media_consent(void *user, const nn_id *peer, uint64_t sid)
{
	struct daemon *d = user;
	char hex[65];
	(void)sid;
	say(d, NN_LOG_INFO, "incoming call from %s: %s", nn_id_format(hex, peer),
	    d->accept_calls ? "accepted" : "refused");
	return d->accept_calls;
}

static void on_media_state(void *user, uint64_t sid, const nn_id *peer, bool inbound, int status)
{
	struct daemon *d = user;
	(void)sid;
	(void)inbound;
	if (d->console_on) {
		nn_console_call(&d->con, peer, status == 0, status);
		return;
	}
	char hex[65];
	say(d, NN_LOG_INFO, "call %s %s%s%s", nn_id_format(hex, peer), status == 0 ? "up" : "down",
	    status < 0 ? " " : "", status < 0 ? nn_errname(status) : "");
}

static void on_media_datagram(void *user, uint64_t sid, uint8_t ch, const uint8_t *data,
			      size_t len, int64_t rx_ns)
{
	struct daemon *d = user;
	(void)rx_ns;
	nn_media_info info;
	if (!d->console_on || nn_node_media_info(d->node, sid, &info) < 0)
		return;
	nn_console_media(&d->con, &info.peer, ch, data, len);
}

static void on_media_message(void *user, uint64_t sid, uint8_t ch, const uint8_t *data,
			     size_t len)
{
	on_media_datagram(user, sid, ch, data, len, 0);
}

static void on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;
	(void)revents;
	say(d, NN_LOG_WARN, "the node did not finish stopping in %.0f s; exiting", STOP_GUARD_S);
	ev_break(loop, EVBREAK_ALL);
}

static void on_drained(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void save_contacts(struct daemon *d)
{
	if (!d->contacts)
		return;
	int rc = nn_node_save_contacts(d->node, d->contacts);
	if (rc < 0)
		say(d, NN_LOG_WARN, "cannot save the contacts file %s: %s", d->contacts,
		    nn_strerror(rc));
	else
		say(d, NN_LOG_DEBUG, "saved %d contact(s) to %s", rc, d->contacts);
}

static void on_save(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	save_contacts(w->data);
}

/* Load the contacts file: a missing one is a first start; any other failure is one warning
 * and a clean start. Returns how many contacts were learned. */
static int load_contacts(struct daemon *d)
{
	if (!d->contacts)
		return 0;
	int rc = nn_node_load_contacts(d->node, d->contacts);
	if (rc == NN_ENOENT)
		return 0;
	if (rc < 0) {
		say(d, NN_LOG_WARN, "ignoring the contacts file %s (%s); starting without it",
		    d->contacts, nn_strerror(rc));
		return 0;
	}
	say(d, NN_LOG_INFO, "loaded %d contact(s) from %s", rc, d->contacts);
	return rc;
}

static void begin_stop(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	say(d, NN_LOG_INFO, "%s: leaving the overlay", why);
	ev_timer_stop(d->loop, &d->save_w);
	save_contacts(d); /* before the Leaves: the edges are still up */
	if (d->console_on)
		ev_io_stop(d->loop, &d->in_w);
	if (nn_node_stop(d->node) < 0) {
		ev_break(d->loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&d->guard, on_guard, STOP_GUARD_S, 0);
	d->guard.data = d;
	ev_timer_start(d->loop, &d->guard);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	(void)revents;
	if (d->stopping) { /* a second signal: do not wait for the Leaves */
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	begin_stop(d, w->signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_stdin(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;
	char buf[16384];
	(void)loop;
	(void)revents;
	ssize_t n = read(w->fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n > 0) {
		nn_console_feed(&d->con, buf, (size_t)n);
		if (d->con.quit)
			begin_stop(d, "quit");
		return;
	}
	nn_console_eof(&d->con);
	ev_io_stop(d->loop, &d->in_w);
	struct stat st;
	if (d->con.quit || n < 0 || fstat(w->fd, &st) != 0 || S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)) {
		/* the process driving the console went away (or said quit): leave */
		begin_stop(d, d->con.quit ? "quit" : n < 0 ? "console read error"
							  : "console closed");
		return;
	}
	/* a file or /dev/null ran out: keep serving until a signal */
	say(d, NN_LOG_INFO, "console input ended; running until SIGINT or SIGTERM");
}

/* The join hint for the first node of an overlay. */
static void print_join_hint(struct daemon *d, const char *seed_path)
{
	char addrs[16][64], hex[65];
	size_t k = nn_node_addrs(d->node, addrs, 16);
	if (k > 16)
		k = 16;
	if (!k)
		return;
	nn_id_format(hex, nn_node_id(d->node));
	size_t pick = 0;
	for (size_t i = 0; i < k; i++)
		if (!strncmp(addrs[i], "127.0.0.1:", 10)) {
			pick = i;
			break;
		}
	const char *colon = strrchr(addrs[pick], ':');
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	long next = port > 0 && port < 65535 ? port + 1 : 0;
	char dir[4096] = ".";
	const char *slash = strrchr(seed_path, '/');
	if (slash)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - seed_path), seed_path);
	say(d, NN_LOG_INFO, "no -bootstrap: this is the first node of a new overlay; another node "
			    "joins it with:");
	say(d, NN_LOG_INFO, "  %s -bootstrap %s@%s -addr :%ld -seed %s/node-%ld.seed", d->prog, hex,
	    addrs[pick], next, dir, next);
	for (size_t i = 0; i < k; i++)
		if (i != pick && strncmp(addrs[i], "127.", 4) != 0 && strncmp(addrs[i], "[::1]", 5) != 0)
			say(d, NN_LOG_INFO, "  (or from another machine: -bootstrap %s@%s)", hex,
			    addrs[i]);
}

static int parse_level(const char *s)
{
	if (!s || !strcmp(s, "info"))
		return NN_LOG_INFO;
	if (!strcmp(s, "debug"))
		return NN_LOG_DEBUG;
	if (!strcmp(s, "warn") || !strcmp(s, "warning"))
		return NN_LOG_WARN;
	if (!strcmp(s, "error"))
		return NN_LOG_ERROR;
	return -1;
}

#define BAD(...)                                                                               \
	do {                                                                                   \
		fprintf(stderr, PROG ": " __VA_ARGS__);                                        \
		fputc('\n', stderr);                                                           \
		return 2;                                                                      \
	} while (0)

/* Runs the loop until the node stopped. */
static int serve(struct daemon *d)
{
	ev_signal_init(&d->sig_int, on_signal, SIGINT);
	ev_signal_init(&d->sig_term, on_signal, SIGTERM);
	d->sig_int.data = d->sig_term.data = d;
	ev_signal_start(d->loop, &d->sig_int);
	ev_signal_start(d->loop, &d->sig_term);
	if (d->contacts) {
		ev_timer_init(&d->save_w, on_save, CONTACTS_SAVE_S, CONTACTS_SAVE_S);
		d->save_w.data = d;
		ev_timer_start(d->loop, &d->save_w);
	}
	if (d->console_on) {
		ev_io_init(&d->in_w, on_stdin, STDIN_FILENO, EV_READ);
		d->in_w.data = d;
		ev_io_start(d->loop, &d->in_w);
	}
	do
		ev_run(d->loop, 0);
	while (!d->stopping);
	/* The node breaks the loop right after closing its connections; the transport puts their
	 * CONNECTION_CLOSE on the wire and reports them closed at its next flush. Give it DRAIN_S
	 * for that, so the free finds an idle endpoint (nn_node_free() with connections still
	 * open is safe too: it forgets them before the transport frees them). */
	ev_timer_stop(d->loop, &d->guard);
	ev_timer_init(&d->guard, on_drained, DRAIN_S, 0);
	ev_timer_start(d->loop, &d->guard);
	ev_run(d->loop, 0);
	ev_timer_stop(d->loop, &d->guard);
	ev_timer_stop(d->loop, &d->save_w);
	ev_signal_stop(d->loop, &d->sig_int);
	ev_signal_stop(d->loop, &d->sig_term);
	if (d->console_on)
		ev_io_stop(d->loop, &d->in_w);
	return 0;
}

int nn_cmd_run(const char *prog, int argc, char **argv)
{
	struct args a = {0};
	nn_flag f[F_COUNT];
	make_flags(f, &a);
	char err[512];
	int pos = nn_flags_parse(f, F_COUNT, argc, argv, err, sizeof err);
	if (pos == -2) {
		nn_cmd_run_usage(stdout);
		return 0;
	}
	if (pos < 0)
		BAD("%s (see -help)", err);
	if (pos < argc)
		BAD("unexpected argument \"%s\" (see -help)", argv[pos]);
	if (!a.addr && !a.bootstrap)
		BAD("give -addr (listen) or -bootstrap (join), or both (see -help)");
	int level = parse_level(a.log_level);
	if (level < 0)
		BAD("invalid value \"%s\" for -log-level: want debug, info, warn or error", a.log_level);
	/* -portmap, else NODENET_PORTMAP (what test suites set to "off"), else auto */
	unsigned portmap = 0;
	const char *pm_src = "-portmap";
	if (!a.portmap) {
		a.portmap = getenv("NODENET_PORTMAP");
		pm_src = "NODENET_PORTMAP";
		if (!a.portmap || !a.portmap[0])
			a.portmap = "auto";
	}
	{
		if (!strcmp(a.portmap, "auto"))
			portmap = NN_PORTMAP_ALL;
		else if (!strcmp(a.portmap, "natpmp"))
			portmap = NN_PORTMAP_NATPMP;
		else if (!strcmp(a.portmap, "upnp"))
			portmap = NN_PORTMAP_UPNP;
		else if (!strcmp(a.portmap, "pcp"))
			portmap = NN_PORTMAP_PCP;
		else if (strcmp(a.portmap, "off"))
			BAD("invalid value \"%s\" for %s: want auto, pcp, natpmp, upnp or off",
			    a.portmap, pm_src);
	}
	char listen[NN_CMD_HOST_MAX + 16] = "";
	if (a.addr) {
		nn_cmd_hostport hp;
		if (nn_cmd_parse_hostport(&hp, a.addr, strlen(a.addr), true, true, err, sizeof err) < 0)
			BAD("-addr %s", err);
		if (nn_cmd_resolve(&hp, listen, sizeof listen, err, sizeof err) < 0)
			BAD("-addr: %s", err);
	}
	char metrics_addr[NN_CMD_HOST_MAX + 16] = "";
	if (a.metrics) {
		nn_cmd_hostport hp;
		if (nn_cmd_parse_hostport(&hp, a.metrics, strlen(a.metrics), false, true, err,
					  sizeof err) < 0)
			BAD("-metrics %s", err);
		if (nn_cmd_resolve(&hp, metrics_addr, sizeof metrics_addr, err, sizeof err) < 0)
			BAD("-metrics: %s", err);
		if (!a.metrics_remote && !nn_metrics_is_loopback(metrics_addr))
			BAD("-metrics %s is not a loopback address: the metrics would be readable by "
			    "anyone who reaches it (add -metrics-allow-remote to mean it)", a.metrics);
	} else if (a.metrics_remote) {
		BAD("-metrics-allow-remote without -metrics");
	}
	nn_cmd_contact contacts[NN_CMD_MAX_CONTACTS];
	char literal[NN_CMD_MAX_CONTACTS][NN_CMD_HOST_MAX + 16];
	int ncontacts = 0;
	if (a.bootstrap) {
		ncontacts = nn_cmd_parse_bootstrap(contacts, NN_CMD_MAX_CONTACTS, a.bootstrap, err,
						   sizeof err);
		if (ncontacts < 0)
			BAD("%s", err);
		for (int i = 0; i < ncontacts; i++)
			if (nn_cmd_resolve(&contacts[i].hp, literal[i], sizeof literal[i], err,
					   sizeof err) < 0)
				BAD("-bootstrap: %s", err);
	}
	char path[4096];
	const char *seed_path = a.seed;
	if (!seed_path) {
		if (nn_cmd_default_seed_path(path, sizeof path) < 0)
			BAD("no -seed given and neither XDG_CONFIG_HOME nor HOME is set");
		seed_path = path;
	}
	char contacts_path[4096 + 16];
	const char *cfile = a.contacts;
	if (cfile && !*cfile)
		BAD("-contacts: give a path, or \"off\"");
	if (cfile && !strcmp(cfile, "off"))
		cfile = NULL;
	else if (!cfile) {
		snprintf(contacts_path, sizeof contacts_path, "%s.contacts", seed_path);
		cfile = contacts_path;
	}
	uint8_t seed[NN_SEED_BYTES];
	nn_id id;
	int minted;
	if (nn_cmd_load_or_mint(seed_path, (int)a.pow, seed, &id, &minted, err, sizeof err) < 0)
		BAD("%s", err);
	for (int i = 0; i < ncontacts; i++)
		if (!memcmp(contacts[i].id.b, id.b, sizeof id.b)) {
			char hex[65];
			nn_cmd_wipe(seed, sizeof seed);
			BAD("-bootstrap: %s is this node's own NodeID (give this node another -seed)",
			    nn_id_format(hex, &id));
		}

	struct daemon d = {.prog = prog, .log_level = level, .contacts = cfile,
			   .accept_calls = a.accept_calls,
			   .console_on = f[F_CONSOLE].set ? a.console : !isatty(STDIN_FILENO)};
	if (minted)
		say(&d, NN_LOG_INFO, "minted a new identity into %s", seed_path);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill the node mid-Leave */
	d.loop = ev_default_loop(EVFLAG_AUTO);
	if (!d.loop) {
		nn_cmd_wipe(seed, sizeof seed);
		fprintf(stderr, PROG ": cannot create the event loop\n");
		return 1;
	}
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = listen[0] ? listen : NULL;
	o.pow = (int)a.pow;
	o.relay = a.relay;
	o.portmap = a.no_portmap ? 0 : portmap;
	o.portmap_lifetime_s = (uint32_t)a.portmap_life;
	o.max_inbound = (unsigned)a.max_inbound;
	o.max_inbound_per_ip = (unsigned)a.max_inbound_per_ip;
	o.max_inbound_edges = (unsigned)a.max_in_edges;
	o.max_inbound_edges_per_ip = (unsigned)a.max_in_edges_ip;
	o.max_inbound_edges_per_subnet = (unsigned)a.max_in_edges_net;
	o.target_edges = (unsigned)a.target_edges;
	o.max_edges_per_subnet = (unsigned)a.max_edges_net;
	o.max_near_edges_per_subnet = (unsigned)a.max_near_edges_net;
	o.log_level = level;
	o.cb = (nn_node_callbacks){.user = &d, .on_message = on_message, .on_direct = on_direct,
				   .on_log = on_log, .media_consent = on_media_consent,
				   .on_media_state = on_media_state,
				   .on_media_datagram = on_media_datagram,
				   .on_media_message = on_media_message};
	int rc = nn_node_new(&d.node, &o, d.loop);
	nn_cmd_wipe(seed, sizeof seed);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot start the node%s%s: %s\n", a.addr ? " on " : "",
			a.addr ? a.addr : "", nn_strerror(rc));
		return rc == NN_EADDR || rc == NN_EPOW || rc == NN_EINVAL ? 2 : 1;
	}
	if (d.console_on && nn_console_init(&d.con, d.node, stdout, a.json) < 0) {
		nn_node_free(d.node);
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	if (metrics_addr[0]) {
		rc = nn_metrics_start(&d.metrics, d.loop, d.node, metrics_addr, a.metrics_remote);
		if (rc < 0) {
			int e = errno;
			nn_node_free(d.node);
			if (d.console_on)
				nn_console_fini(&d.con);
			fprintf(stderr, PROG ": cannot serve metrics on %s: %s%s%s\n", metrics_addr,
				nn_strerror(rc), rc == NN_EIO ? ": " : "", rc == NN_EIO ? strerror(e) : "");
			return 1;
		}
		say(&d, NN_LOG_INFO, "metrics on http://%s/metrics", nn_metrics_addr(d.metrics));
	}
	if (d.console_on)
		nn_console_start(&d.con);
	for (int i = 0; i < ncontacts; i++) {
		char hex[65];
		rc = nn_node_bootstrap(d.node, &contacts[i].id, literal[i]);
		if (rc < 0)
			say(&d, NN_LOG_WARN, "bootstrap %s@%s: %s", nn_id_format(hex, &contacts[i].id),
			    literal[i], nn_strerror(rc));
	}
	int known = load_contacts(&d);
	if (!ncontacts && !known)
		print_join_hint(&d, seed_path);
	rc = serve(&d);
	nn_metrics_stop(d.metrics);
	nn_node_free(d.node);
	if (d.console_on)
		nn_console_fini(&d.con);
	ev_loop_destroy(d.loop);
	return rc;
}
