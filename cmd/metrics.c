/* metrics.c — the Prometheus endpoint (see metrics.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/http.h"
#include "cmd/metrics.h"

/* ---- the body ---- */
static const char *const stat_desc[] = {
#define NN_METRICS_DESC_(name, desc) desc,
	NN_NODE_STATS(NN_METRICS_DESC_)
#undef NN_METRICS_DESC_
};

/* HELP text: backslash and newline escaped, as the format asks. */
static void put_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void labelled(FILE *f, const char *name, const char *help, const char *label,
		     const char *const *values, size_t nvalues, const uint64_t *counts)
{
	fprintf(f, "# HELP nodenet_%s %s\n# TYPE nodenet_%s gauge\n", name, help, name);
	for (size_t i = 0; i < nvalues; i++)
		fprintf(f, "nodenet_%s{%s=\"%s\"} %llu\n", name, label, values[i],
			(unsigned long long)counts[i]);
}

void nn_metrics_render(FILE *f, nn_node *n)
{
	nn_node_stats s;
	nn_node_get_stats(n, &s);
	uint64_t v;
	const char *name;
	for (size_t i = 0; (name = nn_node_stat(&s, i, &v)) != NULL; i++) {
		const char *desc = i < sizeof stat_desc / sizeof stat_desc[0] ? stat_desc[i] : "";
		bool gauge = !strncmp(desc, "gauge: ", 7);
		/* Prometheus naming: a counter's name ends in _total; a gauge's does not. */
		const char *suffix = gauge ? "" : "_total";
		fprintf(f, "# HELP nodenet_%s%s ", name, suffix);
		put_help(f, gauge ? desc + 7 : desc);
		fprintf(f, "\n# TYPE nodenet_%s%s %s\nnodenet_%s%s %llu\n", name, suffix,
			gauge ? "gauge" : "counter", name, suffix, (unsigned long long)v);
	}
	size_t np = nn_node_peers(n, NULL, 0);
	nn_peer_info *p = np ? calloc(np, sizeof *p) : NULL;
	size_t k = p ? nn_node_peers(n, p, np) : 0;
	if (k > np)
		k = np;
	uint64_t dir[2] = {0, 0}, role[2] = {0, 0};
	for (size_t i = 0; i < k; i++) {
		dir[p[i].inbound ? 0 : 1]++;
		role[p[i].sibling ? 0 : 1]++;
	}
	free(p);
	static const char *const dirs[] = {"in", "out"}, *const roles[] = {"sibling", "finger"};
	labelled(f, "edges_by_direction", "live edges by who dialled (in: the peer)", "direction",
		 dirs, 2, dir);
	labelled(f, "edges_by_role", "live edges by role", "role", roles, 2, role);
	nn_nat_info ni;
	nn_node_nat_info(n, &ni);
	static const char *const types[] = {"unknown", "public", "cone", "symmetric"};
	uint64_t is_type[4];
	for (size_t i = 0; i < 4; i++)
		is_type[i] = ni.type && !strcmp(ni.type, types[i]);
	labelled(f, "nat_type", "the node's NAT verdict (1 for the current one)", "type", types, 4,
		 is_type);
	static const char *const phases[] = {"bootstrap", "critical", "urgent", "needs-fill",
					      "normal"};
	const char *ph = nn_node_phase(n);
	uint64_t is_phase[5];
	for (size_t i = 0; i < 5; i++)
		is_phase[i] = !strcmp(ph, phases[i]);
	labelled(f, "phase", "the node's phase (1 for the current one)", "phase", phases, 5,
		 is_phase);
	char hex[65];
	nn_id_format(hex, nn_node_id(n));
	fprintf(f, "# HELP nodenet_info the node's software version and NodeID\n"
		   "# TYPE nodenet_info gauge\nnodenet_info{version=\"%s\",id=\"%s\"} 1\n",
		NN_VERSION_STRING, hex);
}

/* ---- addresses ---- */
static int parse_literal(const char *hp, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(hp, ':');
	if (!colon || colon == hp)
		return NN_EADDR;
	size_t hl = (size_t)(colon - hp);
	const char *h = hp;
	if (hp[0] == '[') {
		if (hl < 3 || hp[hl - 1] != ']')
			return NN_EADDR;
		h = hp + 1;
		hl -= 2;
	}
	if (hl >= sizeof host)
		return NN_EADDR;
	memcpy(host, h, hl);
	host[hl] = 0;
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		return NN_EADDR;
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (hp[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof *v4;
		return 0;
	}
	if (hp[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof *v6;
		return 0;
	}
	return NN_EADDR;
}

static bool sockaddr_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

bool nn_metrics_is_loopback(const char *hostport)
{
	struct sockaddr_storage ss;
	socklen_t len;
	return hostport && parse_literal(hostport, &ss, &len) == 0 && sockaddr_loopback(&ss);
}

/* ---- the server ---- */
struct mconn {
	nn_metrics *m;
	int fd;
	ev_io io;
	ev_timer timer;
	char in[NN_HTTP_MAX_REQUEST];
	size_t in_len;
	char *out; /* the response, once the request is complete */
	size_t out_len, out_off;
};

struct nn_metrics {
	struct ev_loop *loop;
	nn_node *node;
	int fd;
	ev_io accept_w;
	struct mconn *conns[NN_METRICS_MAX_CONNS];
	size_t nconns;
	char addr[80];
};

static void conn_close(struct mconn *c)
{
	nn_metrics *m = c->m;
	ev_io_stop(m->loop, &c->io);
	ev_timer_stop(m->loop, &c->timer);
	(void)close(c->fd);
	free(c->out);
	for (size_t i = 0; i < m->nconns; i++)
		if (m->conns[i] == c) {
			m->conns[i] = m->conns[--m->nconns];
			break;
		}
	free(c);
	if (m->fd >= 0)
		ev_io_start(m->loop, &m->accept_w); /* below the cap again */
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_close(w->data);
}

static void on_conn_io(struct ev_loop *loop, ev_io *w, int revents);

/* Build the response and switch the watcher to writing. */
static void respond(struct mconn *c, int status, const char *reason, bool head_only,
		    bool with_metrics)
{
	char *body = NULL;
	size_t body_len = 0;
	FILE *f = open_memstream(&body, &body_len);
	if (!f) {
		conn_close(c);
		return;
	}
	if (with_metrics)
		nn_metrics_render(f, c->m->node);
	else
		fprintf(f, "%d %s\n", status, reason);
	if (fclose(f) != 0) {
		free(body);
		conn_close(c);
		return;
	}
	char *resp = NULL;
	size_t resp_len = 0;
	f = open_memstream(&resp, &resp_len);
	if (!f) {
		free(body);
		conn_close(c);
		return;
	}
	fprintf(f,
		"HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n",
		status, reason,
		with_metrics ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8",
		body_len);
	if (!head_only)
		fwrite(body, 1, body_len, f);
	free(body);
	if (fclose(f) != 0) {
		free(resp);
		conn_close(c);
		return;
	}
	c->out = resp;
	c->out_len = resp_len;
	c->out_off = 0;
	ev_io_stop(c->m->loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(c->m->loop, &c->io);
}

static void on_request(struct mconn *c)
{
	nn_http_req r;
	int rc = nn_http_parse(c->in, c->in_len, &r);
	if (rc == 0)
		return; /* more to come */
	if (rc == NN_ETOOBIG) {
		respond(c, 431, "Request Header Fields Too Large", false, false);
		return;
	}
	if (rc < 0) {
		respond(c, 400, "Bad Request", false, false);
		return;
	}
	bool get = nn_http_method_is(&r, "GET"), head = nn_http_method_is(&r, "HEAD");
	if (!get && !head)
		respond(c, 405, "Method Not Allowed", false, false);
	else if (r.path_len == 8 && !memcmp(r.path, "/metrics", 8))
		respond(c, 200, "OK", head, true);
	else
		respond(c, 404, "Not Found", head, false);
}

static void on_conn_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mconn *c = w->data;
	(void)loop;
	if (c->out) {
		if (!(revents & EV_WRITE))
			return;
		ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (k <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)k;
		if (c->out_off == c->out_len) {
			(void)shutdown(c->fd, SHUT_WR);
			conn_close(c);
		}
		return;
	}
	if (!(revents & EV_READ))
		return;
	if (c->in_len == sizeof c->in) { /* cannot happen: a full buffer was answered */
		conn_close(c);
		return;
	}
	ssize_t k = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (k <= 0) {
		conn_close(c); /* closed before a whole request: nobody to answer */
		return;
	}
	c->in_len += (size_t)k;
	on_request(c);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	nn_metrics *m = w->data;
	(void)revents;
	while (m->nconns < NN_METRICS_MAX_CONNS) {
		int fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or a transient error: wait for the next readiness */
		struct mconn *c = calloc(1, sizeof *c);
		if (!c) {
			(void)close(fd);
			return;
		}
		c->m = m;
		c->fd = fd;
		ev_io_init(&c->io, on_conn_io, fd, EV_READ);
		c->io.data = c;
		ev_timer_init(&c->timer, on_timeout, NN_METRICS_TIMEOUT_S, 0);
		c->timer.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_start(loop, &c->timer);
		m->conns[m->nconns++] = c;
	}
	ev_io_stop(loop, &m->accept_w); /* at the cap: the kernel's backlog waits */
}

int nn_metrics_start(nn_metrics **out, struct ev_loop *loop, nn_node *n, const char *hostport,
		     bool allow_remote)
{
	struct sockaddr_storage ss;
	socklen_t len;
	*out = NULL;
	if (!loop || !n || !hostport || parse_literal(hostport, &ss, &len) < 0)
		return NN_EADDR;
	if (!allow_remote && !sockaddr_loopback(&ss))
		return NN_EREFUSED;
	nn_metrics *m = calloc(1, sizeof *m);
	if (!m)
		return NN_ENOMEM;
	m->loop = loop;
	m->node = n;
	m->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(m->fd, (struct sockaddr *)&ss, len) != 0 || listen(m->fd, 16) != 0) {
		int e = errno;
		if (m->fd >= 0)
			(void)close(m->fd);
		free(m);
		errno = e;
		return NN_EIO;
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof bound;
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (getsockname(m->fd, (struct sockaddr *)&bound, &blen) == 0) {
		if (bound.ss_family == AF_INET) {
			const struct sockaddr_in *b = (const struct sockaddr_in *)&bound;
			inet_ntop(AF_INET, &b->sin_addr, ip, sizeof ip);
			port = ntohs(b->sin_port);
		} else {
			const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&bound;
			inet_ntop(AF_INET6, &b->sin6_addr, ip, sizeof ip);
			port = ntohs(b->sin6_port);
		}
	}
	snprintf(m->addr, sizeof m->addr, bound.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 port);
	ev_io_init(&m->accept_w, on_accept, m->fd, EV_READ);
	m->accept_w.data = m;
	ev_io_start(loop, &m->accept_w);
	*out = m;
	return 0;
}

const char *nn_metrics_addr(const nn_metrics *m) { return m->addr; }

void nn_metrics_stop(nn_metrics *m)
{
	if (!m)
		return;
	while (m->nconns)
		conn_close(m->conns[0]);
	ev_io_stop(m->loop, &m->accept_w);
	(void)close(m->fd);
	free(m);
}
