/* node.c — node lifecycle (create, run, stop, free), the public accessors and seed helpers. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"
#include "pow/pow.h"
#include "transport/clock_ev.h"
#include "transport/quic/quic.h"

/* ---- public helpers over the lower layers ---- */
int nn_id_parse(nn_id *out, const char *hex, size_t len) { return nn_kad_id_from_hex(out, hex, len); }
char *nn_id_format(char out[65], const nn_id *id) { return nn_kad_id_to_hex(out, id); }
int nn_seed_load(const char *path, uint8_t seed[32]) { return nn_identity_seed_load(path, seed); }
int nn_seed_save(const char *path, const uint8_t seed[32]) { return nn_identity_seed_save(path, seed); }

int nn_seed_mint(uint8_t seed[32], int difficulty, unsigned threads,
		 int (*progress)(void *user, uint64_t tries, double expected), void *user)
{
	nn_pow_opts o = {.difficulty = difficulty, .threads = threads, .progress = progress,
			 .user = user};
	return nn_pow_mint(&o, seed, NULL);
}

int nn_seed_node_id(nn_id *out, const uint8_t seed[32])
{
	return nn_identity_id_from_seed(out, NULL, seed);
}

void nn_node_opts_init(nn_node_opts *o)
{
	memset(o, 0, sizeof *o);
	o->log_level = NN_LOG_INFO;
}

/* 0 -> default, negative -> off (kept negative). */
static int64_t pick(int64_t v, int64_t dflt) { return v == 0 ? dflt : v; }

static void resolve_maint(nn_maintenance *m, const nn_maintenance *in)
{
	m->tick_ms = pick(in->tick_ms, 5000);
	m->keepalive_sibling_ms = pick(in->keepalive_sibling_ms, 15000);
	m->keepalive_finger_ms = pick(in->keepalive_finger_ms, 25000);
	m->dead_sibling_ms = pick(in->dead_sibling_ms, 45000);
	m->dead_finger_ms = pick(in->dead_finger_ms, 75000);
	m->self_lookup_ms = pick(in->self_lookup_ms, 60000);
	m->sibling_exchange_ms = pick(in->sibling_exchange_ms, 30000);
	m->bucket_refresh_ms = pick(in->bucket_refresh_ms, 60000);
	m->bucket_stale_ms = pick(in->bucket_stale_ms, 900000);
	m->dial_timeout_ms = pick(in->dial_timeout_ms, 10000);
	m->backoff_base_ms = pick(in->backoff_base_ms, 1000);
	m->backoff_max_ms = pick(in->backoff_max_ms, 300000);
	m->dialers = in->dialers ? in->dialers : 4;
}

/* ---- advertised addresses: never a wildcard ---- */
static bool is_wildcard(const nn_addr *a, int *family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (nn_addr_to_sockaddr(a, &ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET) {
		*family = AF_INET;
		return ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	*family = AF_INET6;
	return IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

static unsigned port_of(const nn_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (nn_addr_to_sockaddr(a, &ss, &len) != 0)
		return 0;
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				       : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Rank: global 0, private 1, loopback 2 (advertise the most useful first). */
static int rank_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		if ((a >> 24) == 127)
			return 2;
		if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 || (a >> 16) == 0xa9fe)
			return 1;
		return 0;
	}
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_LOOPBACK(a6))
		return 2;
	if ((a6->s6_addr[0] & 0xfe) == 0xfc)
		return 1;
	return 0;
}

/* Expand a wildcard bind into the interface addresses (DESIGN §5.2). */
static size_t expand_wildcard(int family, unsigned port, nn_addr *out, size_t cap)
{
	struct ifaddrs *ifa = NULL;
	size_t n = 0;
	if (getifaddrs(&ifa) != 0)
		return 0;
	for (int rank = 0; rank <= 2; rank++) {
		if (rank == 2 && n)
			break; /* loopback only when the host has nothing else (DESIGN §5.2) */
		for (struct ifaddrs *i = ifa; i && n < cap; i = i->ifa_next) {
			if (!i->ifa_addr)
				continue;
			int f = i->ifa_addr->sa_family;
			if (f != AF_INET && f != AF_INET6)
				continue;
			if (family == AF_INET && f != AF_INET)
				continue;
			if (f == AF_INET6 &&
			    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
				continue; /* needs a zone; useless to remote peers */
			if (rank_of(i->ifa_addr) != rank)
				continue;
			struct sockaddr_storage ss;
			memcpy(&ss, i->ifa_addr,
			       f == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
			socklen_t len;
			if (f == AF_INET) {
				((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
				len = sizeof(struct sockaddr_in);
			} else {
				((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
				((struct sockaddr_in6 *)&ss)->sin6_scope_id = 0;
				len = sizeof(struct sockaddr_in6);
			}
			nn_addr a;
			if (nn_addr_from_sockaddr(&a, (struct sockaddr *)&ss, len) != 0)
				continue;
			bool dup = false;
			for (size_t k = 0; k < n; k++)
				dup |= nn_addr_eq(&out[k], &a);
			if (!dup)
				out[n++] = a;
		}
	}
	freeifaddrs(ifa);
	return n;
}

static void build_self_contact(nn_node *n)
{
	nn_routing_contact *s = &n->self_contact;
	memset(s, 0, sizeof *s);
	s->id = n->ident.id;
	memcpy(s->ed_pub, n->ident.ed_pub, sizeof s->ed_pub);
	memcpy(s->x_pub, n->ident.x_pub, sizeof s->x_pub);
	/* CanRelay only where the transport can relay (a volunteer without it would refuse all) */
	s->caps = n->opts.relay && (n->tp->caps & NN_TP_CAP_RELAY) ? NN_ROUTING_CAP_RELAY : 0;
	nn_addr local[NN_ROUTING_CONTACT_ADDRS];
	size_t k = nn_tp_local_addrs(n->tp, local, NN_ROUTING_CONTACT_ADDRS);
	if (k > NN_ROUTING_CONTACT_ADDRS)
		k = NN_ROUTING_CONTACT_ADDRS;
	for (size_t i = 0; i < k && s->naddrs < NN_ROUTING_CONTACT_ADDRS; i++) {
		int family;
		if (nn_addr_is_quic(&local[i]) && is_wildcard(&local[i], &family)) {
			s->naddrs += (uint8_t)expand_wildcard(family, port_of(&local[i]),
							       s->addrs + s->naddrs,
							       NN_ROUTING_CONTACT_ADDRS - s->naddrs);
		} else {
			s->addrs[s->naddrs++] = local[i];
		}
	}
}

size_t nn_node_addrs(nn_node *n, char (*out)[64], size_t cap)
{
	const nn_routing_contact *s = &n->self_contact;
	for (size_t i = 0; i < s->naddrs && i < cap; i++)
		snprintf(out[i], 64, "%.*s", (int)s->addrs[i].ep_len, s->addrs[i].ep);
	return s->naddrs;
}

/* ---- application callbacks: trampolines that mark the application on the stack ---- */
static void tr_message(void *u, const nn_id *from, const uint8_t *data, size_t len)
{
	nn_node *n = u;
	n->in_app++;
	n->app.on_message(n->app.user, from, data, len);
	n->in_app--;
}

static void tr_direct(void *u, const nn_id *from, const uint8_t *data, size_t len)
{
	nn_node *n = u;
	n->in_app++;
	n->app.on_direct(n->app.user, from, data, len);
	n->in_app--;
}

static bool tr_admit(void *u, const nn_id *peer, bool inbound)
{
	nn_node *n = u;
	n->in_app++;
	bool ok = n->app.admit_edge(n->app.user, peer, inbound);
	n->in_app--;
	return ok;
}

static void tr_edge(void *u, const nn_id *peer, bool up)
{
	nn_node *n = u;
	n->in_app++;
	n->app.on_edge(n->app.user, peer, up);
	n->in_app--;
}

static void tr_log(void *u, int level, const char *line)
{
	nn_node *n = u;
	n->in_app++;
	n->app.on_log(n->app.user, level, line);
	n->in_app--;
}

/* The node calls its callbacks through opts.cb (NULL stays NULL: "no callback"). */
static void install_callbacks(nn_node *n, const nn_node_callbacks *app)
{
	n->app = *app;
	n->opts.cb = (nn_node_callbacks){
		.user = n,
		.on_message = app->on_message ? tr_message : NULL,
		.on_direct = app->on_direct ? tr_direct : NULL,
		.admit_edge = app->admit_edge ? tr_admit : NULL,
		.on_edge = app->on_edge ? tr_edge : NULL,
		.on_log = app->on_log ? tr_log : NULL,
	};
}

/* ---- construction ---- */
void nn_node_rand_bytes(nn_node *n, uint8_t *out, size_t len)
{
	(void)n;
	randombytes_buf(out, len);
}

/* The subnet key of an address for the knowledge table and the edge table (their per-/24 caps):
 * the node's source-key hook, so the routing tables and admission agree on what a subnet is
 * (the default hook reads IP addresses, as nn_routing_default_subnet does; a simulator's hook
 * gives mem endpoints synthetic ones). */
int nn_node_subnet_key(void *user, const nn_addr *a, uint8_t key[16])
{
	nn_node *n = user;
	uint8_t ip[16];
	if (!n->source_fn)
		return nn_routing_default_subnet(NULL, a, key);
	return (n->source_fn(n->source_user, a, ip, key) & NN_NODE_HAS_SUBNET) ? 0 : NN_EINVAL;
}

_Static_assert(NN_NODE_TARGET_EDGES_MIN == NN_ROUTING_SIBLINGS &&
		       NN_NODE_TARGET_EDGES_MAX == NN_ROUTING_TARGET_EDGES,
	       "the public target_edges bounds follow the routing constants");

int nn_node_new_on(nn_node **out, const nn_node_opts *o, nn_tp *tp, nn_clock *clock,
		   uint8_t *scratch)
{
	if (!out || !o || !o->seed || !tp || !clock)
		return NN_EINVAL;
	if (o->target_edges &&
	    (o->target_edges < NN_NODE_TARGET_EDGES_MIN || o->target_edges > NN_NODE_TARGET_EDGES_MAX))
		return NN_EINVAL;
	*out = NULL;
	nn_node *n = calloc(1, sizeof *n);
	if (!n)
		return NN_ENOMEM;
	n->opts = *o;
	n->opts.seed = NULL;
	install_callbacks(n, &o->cb);
	n->pow = o->pow;
	n->tp = tp;
	n->clock = clock;
	n->ip_addressed = (tp->caps & NN_TP_CAP_IP_ADDRESSED) != 0;
	resolve_maint(&n->m, &o->maint);
	n->ka_adaptive = !o->maint.keepalive_sibling_ms && !o->maint.keepalive_finger_ms;
	pthread_mutex_init(&n->callq_lock, NULL);
	int rc = nn_identity_from_seed(&n->ident, o->seed);
	if (rc == 0 && !nn_pow_ok(&n->ident.id, n->pow))
		rc = NN_EPOW;
	if (rc == 0 && !nn_kad_id_eq(&n->ident.id, &tp->local_id))
		rc = NN_EINVAL; /* the transport must speak for this identity */
	if (rc == 0) {
		nn_routing_kt_opts ko = {.pow_difficulty = n->pow, .capacity = NN_NODE_KT_MAX,
					 .subnet = nn_node_subnet_key, .subnet_user = n};
		rc = nn_routing_kt_new(&n->kt, &n->ident.id, &ko);
	}
	if (rc == 0) {
		nn_routing_edges_opts eo = {.inbound_cap = o->max_inbound_edges,
					    .target_edges = o->target_edges,
					    .subnet = nn_node_subnet_key, .subnet_user = n};
		rc = nn_routing_edges_new(&n->edges, &n->ident.id, &eo);
	}
	uint8_t key[16];
	if (rc == 0) {
		nn_node_rand_bytes(n, key, sizeof key);
		rc = nn_routing_dedup_init(&n->dedup, NN_NODE_TRANSIT_SEEN, 0, key);
		if (rc == 0)
			rc = nn_routing_dedup_set_growth(&n->dedup, NN_NODE_DEDUP_MAX);
	}
	if (rc == 0) {
		nn_node_rand_bytes(n, key, sizeof key);
		rc = nn_routing_dedup_init(&n->transit, NN_NODE_TRANSIT_SEEN, 0, key);
		if (rc == 0)
			rc = nn_routing_dedup_set_growth(&n->transit, NN_NODE_TRANSIT_SEEN_MAX);
		nn_tbucket_init(&n->verify_budget, NN_NODE_VERIFY_RATE, NN_NODE_VERIFY_BURST);
		nn_tbucket_init(&n->spray_budget, NN_OP_BDAY_SPRAY_RATE, NN_OP_BDAY_SPRAY_BURST);
	}
	if (rc == 0) {
		nn_node_rand_bytes(n, key, sizeof key);
		rc = nn_olimit_init(&n->olimit, NN_NODE_OLIMIT_MAX, key);
	}
	if (rc == 0) {
		nn_node_rand_bytes(n, key, sizeof key);
		rc = nn_idmap_init(&n->dials, NN_NODE_DIALS_MAX, sizeof(struct dialstate), key);
	}
	if (rc == 0) {
		n->tx = scratch;
		if (!n->tx) {
			n->tx = malloc(NN_WIRE_MAX_FRAME);
			n->own_tx = true;
			if (!n->tx)
				rc = NN_ENOMEM;
		}
	}
	if (rc < 0) {
		nn_node_free(n);
		return rc;
	}
	build_self_contact(n);
	nn_node_nat_init(n);
	nn_node_admit_init(n);
	nn_node_sink_install(n);
	if (!o->no_maintenance)
		nn_node_maint_start(n);
	char hex[65];
	nn_node_log(n, NN_LOG_INFO, "node %s up, %u address(es), pow %d", nn_node_hex(&n->ident.id, hex),
		    n->self_contact.naddrs, n->pow);
	*out = n;
	return 0;
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents);

static int listen_literal(const char *in, char *buf, size_t cap)
{
	if (!in || !*in)
		in = ":0";
	if (in[0] == ':') { /* ":port" = every interface, dual-stack */
		if ((size_t)snprintf(buf, cap, "[::]%s", in) >= cap)
			return NN_EADDR;
		return 0;
	}
	if ((size_t)snprintf(buf, cap, "%s", in) >= cap)
		return NN_EADDR;
	return 0;
}

int nn_node_new(nn_node **out, const nn_node_opts *o, struct ev_loop *loop)
{
	if (!out || !o || !o->seed)
		return NN_EINVAL;
	*out = NULL;
	nn_identity ident;
	int rc = nn_identity_from_seed(&ident, o->seed);
	if (rc < 0)
		return rc;
	if (!nn_pow_ok(&ident.id, o->pow)) {
		nn_identity_wipe(&ident);
		return NN_EPOW;
	}
	bool own_loop = loop == NULL;
	if (own_loop && !(loop = ev_loop_new(EVFLAG_AUTO))) {
		nn_identity_wipe(&ident);
		return NN_ENOMEM;
	}
	nn_clock *clock = nn_evclock_new(loop);
	nn_pool *pool = calloc(1, sizeof *pool);
	nn_tp *tp = NULL;
	char listen[NN_ADDR_EP_MAX + 8];
	rc = clock && pool ? 0 : NN_ENOMEM;
	if (rc == 0)
		rc = nn_pool_init(pool, NULL);
	if (rc == 0)
		rc = listen_literal(o->listen, listen, sizeof listen);
	if (rc == 0) {
		nn_quic_config cfg;
		nn_quic_config_default(&cfg);
		cfg.listen = listen;
		/* the transport's caps sit above the node's edge caps, so the node sees every
		 * newcomer and decides: admit, shed for it, or refer it elsewhere (admit.c) */
		unsigned edges = o->max_inbound_edges ? o->max_inbound_edges : NN_ROUTING_INBOUND_CAP;
		unsigned per_ip = o->max_inbound_edges_per_ip ? o->max_inbound_edges_per_ip
							      : (edges / 16 ? edges / 16 : 1);
		cfg.max_inbound = o->max_inbound ? o->max_inbound : 2 * edges;
		cfg.max_inbound_per_ip = o->max_inbound_per_ip ? o->max_inbound_per_ip : 2 * per_ip;
		rc = nn_quic_new(&tp, &ident, clock, pool, &cfg);
	}
	nn_identity_wipe(&ident);
	nn_node *n = NULL;
	if (rc == 0)
		rc = nn_node_new_on(&n, o, tp, clock, NULL);
	if (rc < 0) {
		nn_tp_destroy(tp);
		if (pool) {
			nn_pool_fini(pool);
			free(pool);
		}
		nn_clock_destroy(clock);
		if (own_loop)
			ev_loop_destroy(loop);
		return rc;
	}
	n->loop = loop;
	n->own_loop = own_loop;
	n->own_clock = n->own_tp = n->own_pool = true;
	n->pool = pool;
	ev_async_init(&n->async, async_cb);
	n->async.data = n;
	ev_async_start(loop, &n->async);
	ev_unref(loop); /* the async watcher alone does not keep the loop alive */
	n->async_started = true;
	nn_node_portmap_start(n);
	*out = n;
	return 0;
}

int nn_node_free(nn_node *n)
{
	if (!n)
		return 0;
	if (n->in_app) {
		/* called from one of this node's callbacks: the node (and the transport, ngtcp2)
		 * are on the stack below it; freeing now would pull them from under their feet.
		 * Not logged: on_log is a callback too (a free from there would recurse). */
		return NN_ESTATE;
	}
	nn_node_maint_stop(n);
	nn_node_upgrade_stop(n);
	nn_node_portmap_stop(n); /* removes the mapping on the gateway */
	nn_node_ops_free(n); /* pending calls complete with NN_ECANCELED */
	if (n->tp) {
		nn_tp_sink none = {0};
		nn_tp_set_sink(n->tp, &none);
		nn_node_media_free(n, n->own_tp); /* sessions: closed, or left to the destroy */
		if (n->own_tp) {
			/* the transport frees every conn without calling the sink: forget them first */
			for (struct nconn *nc = n->conns; nc; nc = nc->next)
				nc->c = NULL;
			nn_tp_destroy(n->tp);
		} else {
			for (struct nconn *nc = n->conns; nc; nc = nc->next)
				if (nc->c && !nc->closing)
					nn_tp_close(n->tp, nc->c, NN_TP_REASON_NORMAL);
		}
	}
	while (n->conns)
		nn_node_nconn_free(n, n->conns);
	if (n->async_started) {
		ev_ref(n->loop);
		ev_async_stop(n->loop, &n->async);
	}
	nn_routing_edges_free(n->edges);
	nn_routing_kt_free(n->kt);
	nn_routing_dedup_free(&n->dedup);
	nn_routing_dedup_free(&n->transit);
	nn_olimit_fini(&n->olimit);
	nn_idmap_fini(&n->dials);
	nn_node_rdv_free(n);
	free(n->sent_ips);
	free(n->relayed);
	free(n->upgrade);
	if (n->own_tx)
		free(n->tx);
	if (n->own_clock)
		nn_clock_destroy(n->clock);
	if (n->own_pool) {
		nn_pool_fini(n->pool);
		free(n->pool);
	}
	if (n->own_loop && n->loop)
		ev_loop_destroy(n->loop);
	pthread_mutex_destroy(&n->callq_lock);
	nn_identity_wipe(&n->ident);
	free(n);
	return 0;
}

/* ---- run / stop / call ---- */
static void finish_stop(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	(void)t;
	for (struct nconn *nc = n->conns; nc; nc = nc->next)
		if (nc->c && !nc->closing) {
			nc->closing = true;
			nn_tp_close(n->tp, nc->c, NN_TP_REASON_NORMAL);
		}
	n->stopped = true;
	if (n->loop)
		ev_break(n->loop, EVBREAK_ALL);
}

static void begin_stop(nn_node *n)
{
	if (n->stopping)
		return;
	n->stopping = true;
	nn_node_log(n, NN_LOG_INFO, "stopping: leaving %zu edge(s)", nn_routing_edges_len(n->edges));
	nn_node_maint_stop(n);
	nn_node_upgrade_stop(n);
	nn_node_ops_cancel_all(n);
	nn_node_media_close_all(n);
	nn_node_leave_all(n);
	nn_node_portmap_stop(n); /* removes the mapping on the gateway (bounded, blocking) */
	/* give the transport a moment to put the Leaves on the wire */
	nn_timer_init(&n->leave_done, finish_stop, n);
	nn_timer_start_in(n->clock, &n->leave_done, 200 * NN_MS);
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	nn_node *n = w->data;
	(void)loop;
	(void)revents;
	for (;;) {
		pthread_mutex_lock(&n->callq_lock);
		if (!n->callq_len) {
			bool stop = n->stop_requested;
			pthread_mutex_unlock(&n->callq_lock);
			if (stop)
				begin_stop(n);
			return;
		}
		void (*fn)(nn_node *, void *) = n->callq[n->callq_head].fn;
		void *arg = n->callq[n->callq_head].arg;
		n->callq_head = (n->callq_head + 1) % NN_NODE_CALLQ;
		n->callq_len--;
		pthread_mutex_unlock(&n->callq_lock);
		n->in_app++;
		fn(n, arg);
		n->in_app--;
	}
}

int nn_node_call(nn_node *n, void (*fn)(nn_node *n, void *arg), void *arg)
{
	if (!n || !fn || !n->async_started)
		return NN_EINVAL;
	pthread_mutex_lock(&n->callq_lock);
	if (n->callq_len == NN_NODE_CALLQ) {
		pthread_mutex_unlock(&n->callq_lock);
		return NN_EAGAIN;
	}
	size_t i = (n->callq_head + n->callq_len) % NN_NODE_CALLQ;
	n->callq[i].fn = fn;
	n->callq[i].arg = arg;
	n->callq_len++;
	pthread_mutex_unlock(&n->callq_lock);
	ev_async_send(n->loop, &n->async);
	return 0;
}

int nn_node_stop(nn_node *n)
{
	if (!n || !n->async_started)
		return NN_EINVAL;
	pthread_mutex_lock(&n->callq_lock);
	n->stop_requested = 1;
	pthread_mutex_unlock(&n->callq_lock);
	ev_async_send(n->loop, &n->async);
	return 0;
}

int nn_node_run(nn_node *n)
{
	if (!n || !n->own_loop)
		return NN_ESTATE;
	/* keep the loop alive while the node runs: the async watcher counts again */
	ev_ref(n->loop);
	while (!n->stopped)
		ev_run(n->loop, EVRUN_ONCE);
	ev_unref(n->loop);
	return 0;
}

/* ---- accessors ---- */
const nn_id *nn_node_id(const nn_node *n) { return &n->ident.id; }
nn_routing_edges *nn_node_edges(nn_node *n) { return n->edges; }
nn_routing_kt *nn_node_knowledge(nn_node *n) { return n->kt; }
nn_tp *nn_node_transport(nn_node *n) { return n->tp; }

const char *nn_node_edge_path(nn_node *n, const nn_conn *c)
{
	static const char *const names[] = {"direct", "punch", "birthday", "relay"};
	(void)n;
	const struct nconn *nc = c->user; /* recorded when the connection was made (conn.c) */
	return names[nc && nc->path < 4 ? nc->path : 0];
}

size_t nn_node_peers(nn_node *n, nn_peer_info *out, size_t cap)
{
	size_t len = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < len && i < cap; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		const nn_conn *c = e->conn;
		out[i].id = e->id;
		snprintf(out[i].addr, sizeof out[i].addr, "%.*s", (int)c->remote_addr.ep_len,
			 c->remote_addr.ep);
		out[i].inbound = !e->outgoing;
		out[i].sibling = e->role == NN_ROUTING_ROLE_SIBLING;
		out[i].path = nn_node_edge_path(n, c);
		out[i].rtt_us = c->rtt / NN_US;
	}
	return len;
}

const char *nn_node_phase(nn_node *n)
{
	return nn_routing_phase_name(nn_routing_edges_phase(n->edges));
}

int nn_node_bootstrap(nn_node *n, const nn_id *id, const char *hostport)
{
	nn_addr a;
	if (!n || !id || !hostport)
		return NN_EINVAL;
	int rc = nn_addr_set(&a, "quic", hostport);
	if (rc < 0)
		return NN_EADDR;
	struct sockaddr_storage ss;
	socklen_t len;
	if (nn_addr_to_sockaddr(&a, &ss, &len) != 0)
		return NN_EADDR;
	return nn_node_bootstrap_addr(n, id, &a);
}

int nn_node_bootstrap_addr(nn_node *n, const nn_id *id, const nn_addr *addr)
{
	if (nn_kad_id_eq(id, &n->ident.id))
		return NN_EINVAL;
	if (nn_routing_edges_find(n->edges, id))
		return 0;
	/* remembered, so an edgeless node re-joins through it (maint.c) */
	size_t i = 0;
	while (i < n->nboots && !nn_kad_id_eq(&n->boots[i].id, id))
		i++;
	if (i == n->nboots && n->nboots < NN_NODE_BOOTSTRAPS)
		n->nboots++;
	if (i < n->nboots) {
		n->boots[i].id = *id;
		n->boots[i].addr = *addr;
	}
	/* The contact has no key yet: knowledge cannot take it while PoW is on (a keyless
	 * newcomer); the authenticated handshake supplies the key, and the edge registers then
	 * (DESIGN §5.1). */
	return nn_node_dial(n, id, addr, false, true);
}

int nn_node_send(nn_node *n, const nn_id *target, const void *data, size_t len)
{
	return nn_node_send_ex(n, target, data, len, NULL);
}

int nn_node_send_ex(nn_node *n, const nn_id *target, const void *data, size_t len,
		    nn_node_send_opts *o)
{
	if (o)
		o->nfirst = 0;
	if (!n || !target || (!data && len) ||
	    (o && (o->navoid > NN_NODE_SEND_MAX_AVOID || (o->navoid && !o->avoid))))
		return NN_EINVAL;
	if (len > NN_NODE_MAX_MESSAGE)
		return NN_ETOOBIG;
	if (nn_kad_id_eq(target, &n->ident.id)) {
		n->stats.sent++;
		n->stats.delivered++;
		if (n->opts.cb.on_message)
			n->opts.cb.on_message(n->opts.cb.user, &n->ident.id, data, len);
		return 0;
	}
	int rc = o ? nn_node_originate_ex(n, NN_T_ROUTE, target, data, len, o->avoid, o->navoid,
					  o->first, &o->nfirst)
		   : nn_node_originate(n, NN_T_ROUTE, target, data, len);
	if (rc >= 0)
		n->stats.sent++;
	return rc < 0 ? rc : 0;
}

void nn_node_leave_all(nn_node *n)
{
	uint8_t frame[8];
	int len = nn_wire_frame_encode(frame, sizeof frame, NN_T_LEAVE, NULL, 0);
	size_t k = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < k; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		(void)nn_tp_send(n->tp, e->conn, frame, (size_t)len);
	}
}
