/* portmap.c — port mapping on the home gateway: PCP (nat/pcp.h), NAT-PMP (libnatpmp) and
 * UPnP-IGD (libminiupnpc).
 *
 * When opts.portmap asks for it (off by default), the node asks the gateway to forward its UDP
 * port (external port = internal port preferred), learns the external address, renews the
 * mapping at half its lifetime, removes it when the node stops or is freed, and advertises the
 * mapped address first among its own addresses (self_contact: Neighbors answers, and through
 * nn_node_coords() Hello / Reply / Connect / ConnectAck), so the node is a public contact: a
 * public node dials it directly, with no punch. The policy (when to map, renew, back off,
 * lapse) is the pure nat/portmap.h; this file only does the protocol calls.
 *
 * Local address: while a mapping is held, every NN_PM_ADDR_CHECK (30 s) the node looks up its
 * IPv4 address toward the default gateway (a route lookup on a connected UDP socket; nothing
 * is sent). When it changed (another network, a new DHCP lease), the mapped address is no
 * longer advertised and the node maps again at once; the old mapping is deleted where the
 * protocol allows it from the new address (UPnP, best effort), else it expires on the gateway.
 * The node's own advertised interface addresses are not re-read (nothing in the node does yet).
 *
 * Order: PCP first (RFC 6887: one MAP request to the default gateway's UDP port 5351; our own
 * client on the pure codec nat/pcp.h, since Debian 12's libnatpmp speaks NAT-PMP only and
 * libminiupnpc has no PCP client), then NAT-PMP (the same port, RFC 6886: a gateway that knows
 * only NAT-PMP answers PCP with its version-0 "unsupported version" at once), then UPnP-IGD
 * (SSDP multicast discovery on the LAN, then SOAP over HTTP to the IGD). A renewal asks the
 * protocol that made the mapping. PCP renewals and the delete at stop repeat the mapping's
 * nonce (RFC 6887 §11.2); a new mapping (after a reset or a lapse) takes a fresh one from the
 * CSPRNG. The server's epoch is not tracked: a gateway that restarted and lost the mapping is
 * found at the next renewal (half the lifetime), which maps again.
 *
 * Event loop: both libraries block; every call here is bounded, and the node's loop (QUIC
 * included) stalls while one runs. A NAT-PMP request waits at most NN_PM_NATPMP_WAIT_MS for
 * its answer (libnatpmp's own 250 ms resend included; a gateway that does not speak it mostly
 * answers at once with ICMP port unreachable); SSDP discovery waits NN_PM_SSDP_MS (1 s, the
 * least miniupnpc allows) for answers; miniupnpc's HTTP requests to the IGD carry its 3 s
 * socket timeouts (Debian builds it with MINIUPNPC_SET_SOCKET_TIMEOUT). Measured in the NAT
 * lab: a PCP or NAT-PMP mapping or any renewal takes milliseconds, a first UPnP mapping about 1 s
 * (the discovery wait), an attempt with no gateway answering about 1 to 1.7 s (then the
 * back-off of nat/portmap.h: 5 s doubling to 15 min). The removal at stop costs one request
 * (milliseconds with a gateway). Each attempt's duration is in the log line it writes.
 * Nothing of this runs unless opts.portmap is set, and never on the in-memory transport
 * (nn_node_new_on): only nn_node_new starts it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <natpmp.h>
#include <sodium.h>

#include "nat/pcp.h"
#include "node/node_impl.h"

#define NN_PM_NATPMP_WAIT_MS 700
#define NN_PM_SSDP_MS 1000 /* miniupnpc's shortest: MX 1 s */
#define NN_PM_DESC "libnodenet"
#define NN_PM_ADDR_CHECK (30 * NN_SEC) /* while mapped: how often our local address is checked */

struct nn_portmap_io {
	int proto;            /* NN_PORTMAP_PCP, _NATPMP or _UPNP: the mapping held */
	uint8_t pcp_nonce[NN_PCP_NONCE_LEN]; /* PCP: the mapping's nonce (renewals, delete) */
	uint16_t internal;    /* our UDP port */
	uint16_t external;    /* the mapped external port */
	char ext_ip[48];      /* the gateway's external IPv4 address */
	/* UPnP: the IGD found by the last discovery */
	bool have_igd;
	struct UPNPUrls urls;
	struct IGDdatas data;
	char lanaddr[64];
	char local_ip[48];    /* our address toward the default gateway when the mapping was made */
};

/* A UDP socket connected to the default gateway's port 5351 (PCP and NAT-PMP), and our IPv4
 * address toward it (the route lookup; nothing is sent). The fd, or NN_EUNREACH without a
 * gateway or route, NN_EIO. */
static int gateway_socket(int flags, struct sockaddr_in *me)
{
	natpmp_t p;
	if (initnatpmp(&p, 0, 0) < 0)
		return NN_EUNREACH; /* no default gateway (libnatpmp reads the routing table) */
	struct sockaddr_in gw = {.sin_family = AF_INET, .sin_port = htons(NN_PCP_PORT)};
	gw.sin_addr.s_addr = p.gateway;
	closenatpmp(&p);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return NN_EIO;
	socklen_t len = sizeof *me;
	if (connect(fd, (struct sockaddr *)&gw, sizeof gw) < 0 ||
	    getsockname(fd, (struct sockaddr *)me, &len) < 0) {
		close(fd);
		return NN_EUNREACH;
	}
	return fd;
}

/* ---- PCP (RFC 6887) ---- */
#define NN_PM_PCP_RESEND_MS 250 /* first resend; doubles (RFC 6887 §8.1.1 starts at 3 s: we
				 * give up sooner and fall through to NAT-PMP / UPnP) */

/* One MAP exchange with the default gateway: `lifetime` 0 deletes. 0 or NN_E*: NN_EUNSUPPORTED
 * when the gateway speaks only NAT-PMP, NN_EREFUSED when it answered with an error. */
static int pcp_map(nn_node *n, struct nn_portmap_io *io, uint16_t external, uint32_t lifetime,
		   uint32_t *granted)
{
	struct sockaddr_in me;
	int fd = gateway_socket(SOCK_NONBLOCK, &me);
	if (fd < 0)
		return fd;
	int rc = 0;
	nn_pcp_map m = {.protocol = NN_PCP_PROTO_UDP, .internal_port = io->internal,
			.external_port = external};
	memcpy(m.nonce, io->pcp_nonce, sizeof m.nonce);
	uint8_t req[NN_PCP_MAP_LEN];
	if (rc == 0 && nn_nat_pcp_map_encode(req, sizeof req, (const uint8_t *)&me.sin_addr, &m,
					     lifetime) != NN_PCP_MAP_LEN)
		rc = NN_EINTERNAL;
	struct timespec start, t;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long resend_at = 0, gap = NN_PM_PCP_RESEND_MS;
	while (rc == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long spent = (t.tv_sec - start.tv_sec) * 1000 + (t.tv_nsec - start.tv_nsec) / 1000000;
		if (spent >= NN_PM_NATPMP_WAIT_MS) {
			rc = NN_ETIMEDOUT;
			break;
		}
		if (spent >= resend_at) {
			if (send(fd, req, sizeof req, 0) < 0 && errno != EAGAIN) {
				rc = errno == ECONNREFUSED ? NN_EUNREACH : NN_EIO;
				break;
			}
			resend_at = spent + gap;
			gap *= 2;
		}
		long wait = resend_at - spent;
		if (wait > NN_PM_NATPMP_WAIT_MS - spent)
			wait = NN_PM_NATPMP_WAIT_MS - spent;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)(wait > 0 ? wait : 1)) <= 0)
			continue;
		uint8_t buf[1100];
		ssize_t len = recv(fd, buf, sizeof buf, 0);
		if (len < 0) {
			if (errno == ECONNREFUSED) /* ICMP port unreachable: nothing listens on 5351 */
				rc = NN_EUNREACH;
			continue;
		}
		nn_pcp_answer a;
		int d = nn_nat_pcp_answer_decode(&a, buf, (size_t)len);
		if (d == NN_EBADVERSION) {
			rc = NN_EUNSUPPORTED; /* NAT-PMP only: the caller asks that way */
			break;
		}
		if (d < 0 || a.opcode != NN_PCP_OP_MAP) {
			n->stats.portmap_bad_answers++; /* malformed, or not an answer to a MAP */
			continue;
		}
		if (a.result != NN_PCP_SUCCESS) {
			nn_node_log(n, NN_LOG_DEBUG, "portmap: pcp: the gateway answered %s",
				    nn_nat_pcp_result_name(a.result));
			rc = a.result == NN_PCP_UNSUPP_VERSION ? NN_EUNSUPPORTED : NN_EREFUSED;
			break;
		}
		if (sodium_memcmp(a.map.nonce, m.nonce, sizeof m.nonce) ||
		    a.map.protocol != NN_PCP_PROTO_UDP || a.map.internal_port != io->internal) {
			n->stats.portmap_bad_answers++; /* an answer about some other mapping */
			continue;
		}
		if (lifetime) {
			if (!a.lifetime_s || !a.map.external_port) {
				rc = NN_EREFUSED;
				break;
			}
			io->external = a.map.external_port;
			inet_ntop(AF_INET, a.map.external_ip, io->ext_ip, sizeof io->ext_ip);
			*granted = a.lifetime_s;
		}
		break;
	}
	close(fd);
	return rc;
}

/* ---- NAT-PMP ---- */
/* Send the pending request and wait (bounded) for its answer. 0 or NN_E*. */
static int natpmp_wait(natpmp_t *p, natpmpresp_t *resp)
{
	struct timeval start, now;
	gettimeofday(&start, NULL);
	for (;;) {
		struct pollfd pfd = {.fd = p->s, .events = POLLIN};
		gettimeofday(&now, NULL);
		long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_usec - start.tv_usec) / 1000;
		if (spent >= NN_PM_NATPMP_WAIT_MS)
			return NN_ETIMEDOUT;
		struct timeval tv;
		long wait = NN_PM_NATPMP_WAIT_MS - spent;
		if (getnatpmprequesttimeout(p, &tv) == 0) {
			long t = tv.tv_sec * 1000 + tv.tv_usec / 1000;
			if (t >= 0 && t < wait)
				wait = t ? t : 1;
		}
		(void)poll(&pfd, 1, (int)wait);
		int r = readnatpmpresponseorretry(p, resp);
		if (r == NATPMP_TRYAGAIN)
			continue;
		return r < 0 ? NN_EIO : 0;
	}
}

/* Map internal -> external (lifetime 0 removes). 0 or NN_E*; *granted the lifetime. */
static int natpmp_map(struct nn_portmap_io *io, uint16_t external, uint32_t lifetime,
		      uint32_t *granted, bool want_addr)
{
	natpmp_t p;
	if (initnatpmp(&p, 0, 0) < 0)
		return NN_EUNREACH; /* no default gateway */
	natpmpresp_t resp;
	int rc = 0;
	if (want_addr) {
		if (sendpublicaddressrequest(&p) < 0)
			rc = NN_EIO;
		if (rc == 0)
			rc = natpmp_wait(&p, &resp);
		if (rc == 0 && resp.type != NATPMP_RESPTYPE_PUBLICADDRESS)
			rc = NN_ECORRUPT;
		if (rc == 0)
			inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, io->ext_ip, sizeof io->ext_ip);
	}
	if (rc == 0 && sendnewportmappingrequest(&p, NATPMP_PROTOCOL_UDP, io->internal, external,
						 lifetime) < 0)
		rc = NN_EIO;
	if (rc == 0)
		rc = natpmp_wait(&p, &resp);
	if (rc == 0 && resp.type != NATPMP_RESPTYPE_UDPPORTMAPPING)
		rc = NN_ECORRUPT;
	if (rc == 0 && resp.pnu.newportmapping.privateport != io->internal)
		rc = NN_ECORRUPT; /* an answer about some other mapping */
	if (rc == 0 && lifetime) {
		io->external = resp.pnu.newportmapping.mappedpublicport;
		*granted = resp.pnu.newportmapping.lifetime;
		if (!io->external || !*granted)
			rc = NN_EREFUSED;
	}
	closenatpmp(&p);
	return rc;
}

/* ---- UPnP-IGD ---- */
static void upnp_forget(struct nn_portmap_io *io)
{
	if (io->have_igd)
		FreeUPNPUrls(&io->urls);
	io->have_igd = false;
}

static int upnp_discover(struct nn_portmap_io *io)
{
	upnp_forget(io);
	int err = 0;
	/* one search type: an IGDv2 answers a search for v1 too (UPnP device architecture), and
	 * each type searched costs a full wait */
	static const char *const igd[] = {"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
					  NULL};
	struct UPNPDev *devs = upnpDiscoverDevices(igd, NN_PM_SSDP_MS, NULL, NULL,
						   UPNP_LOCAL_PORT_ANY, 0, 2, &err, 0);
	if (!devs)
		return NN_EUNREACH;
	memset(&io->urls, 0, sizeof io->urls);
	memset(&io->data, 0, sizeof io->data);
	int r = UPNP_GetValidIGD(devs, &io->urls, &io->data, io->lanaddr, sizeof io->lanaddr);
	freeUPNPDevlist(devs);
	if (r == 0)
		return NN_EUNREACH;
	io->have_igd = true;
	/* 1: a connected IGD with a public external address. 2: an IGD that says it is not
	 * connected, or whose external address is reserved (miniupnpc's addr_is_reserved: RFC 1918,
	 * 100.64.0.0/10 CGNAT, documentation ranges ...): taken too (local policy) — behind a
	 * double NAT the mapping still opens the gateway's side, and the NAT lab's public space is
	 * 100.64.0.0/10; if the IGD cannot map, AddPortMapping says so. 3: not an IGD. */
	if (r != 1 && r != 2) {
		upnp_forget(io);
		return NN_EUNREACH;
	}
	return 0;
}

static int upnp_map(struct nn_portmap_io *io, bool renew, uint32_t lifetime, uint32_t *granted)
{
	if (!io->have_igd || !renew) {
		int rc = upnp_discover(io);
		if (rc < 0)
			return rc;
	}
	char ext[48] = "";
	if (UPNP_GetExternalIPAddress(io->urls.controlURL, io->data.first.servicetype, ext) != 0 ||
	    !ext[0]) {
		upnp_forget(io);
		return NN_EIO;
	}
	snprintf(io->ext_ip, sizeof io->ext_ip, "%s", ext);
	char in[8], lease[16];
	snprintf(in, sizeof in, "%u", (unsigned)io->internal);
	snprintf(lease, sizeof lease, "%u", (unsigned)lifetime);
	/* external = internal first (a renewal keeps what it had); on a conflict (718) a few
	 * other ports */
	uint16_t tries[4] = {renew && io->external ? io->external : io->internal};
	for (int i = 1; i < 4; i++) {
		uint16_t r;
		randombytes_buf(&r, sizeof r);
		tries[i] = (uint16_t)(1024 + r % (65536 - 1024));
	}
	for (int i = 0; i < 4; i++) {
		char ep[8];
		snprintf(ep, sizeof ep, "%u", (unsigned)tries[i]);
		int r = UPNP_AddPortMapping(io->urls.controlURL, io->data.first.servicetype, ep, in,
					    io->lanaddr, NN_PM_DESC, "UDP", NULL, lease);
		if (r == 0) {
			io->external = tries[i];
			*granted = lifetime;
			return 0;
		}
		if (r == 725) { /* OnlyPermanentLeasesSupported */
			r = UPNP_AddPortMapping(io->urls.controlURL, io->data.first.servicetype, ep, in,
						io->lanaddr, NN_PM_DESC, "UDP", NULL, "0");
			if (r == 0) {
				io->external = tries[i];
				*granted = 0;
				return 0;
			}
		}
		if (r != 718) /* anything but ConflictInMappingEntry: give up for now */
			break;
	}
	upnp_forget(io);
	return NN_EREFUSED;
}

/* ---- the node's side ---- */
static const char *proto_name(int proto)
{
	return proto == NN_PORTMAP_PCP ? "pcp" : proto == NN_PORTMAP_UPNP ? "upnp" : "natpmp";
}

static uint16_t our_port(nn_node *n)
{
	nn_addr local[NN_ROUTING_CONTACT_ADDRS];
	size_t k = nn_tp_local_addrs(n->tp, local, NN_ROUTING_CONTACT_ADDRS);
	for (size_t i = 0; i < k && i < NN_ROUTING_CONTACT_ADDRS; i++) {
		if (!nn_addr_is_quic(&local[i]))
			continue;
		struct sockaddr_storage ss;
		socklen_t len;
		if (nn_addr_to_sockaddr(&local[i], &ss, &len) < 0)
			continue;
		if (ss.ss_family == AF_INET)
			return ntohs(((struct sockaddr_in *)&ss)->sin_port);
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return 0;
}

/* Our local IPv4 address toward the default gateway, as text ("" without one): a UDP socket
 * connected to the gateway (a route lookup; nothing is sent). It is what the gateway maps to,
 * so when it changes (another network, DHCP) the mapping points nowhere. */
static void local_toward_gateway(char *out, size_t cap)
{
	out[0] = '\0';
	struct sockaddr_in me;
	int fd = gateway_socket(0, &me);
	if (fd < 0)
		return;
	inet_ntop(AF_INET, &me.sin_addr, out, (socklen_t)cap);
	close(fd);
}

/* Hold `mapped` (NULL: nothing) and advertise it first among our addresses. */
static void advertise(nn_node *n, const nn_addr *mapped)
{
	nn_routing_contact *s = &n->self_contact;
	if (n->pm_inserted) {
		for (size_t i = 0; i < s->naddrs; i++)
			if (nn_addr_eq(&s->addrs[i], &n->pm_addr)) {
				memmove(&s->addrs[i], &s->addrs[i + 1],
					(s->naddrs - i - 1) * sizeof s->addrs[0]);
				s->naddrs--;
				break;
			}
		n->pm_inserted = false;
	}
	n->pm_held = mapped != NULL;
	if (!mapped)
		return;
	n->pm_addr = *mapped;
	for (size_t i = 0; i < s->naddrs; i++)
		if (nn_addr_eq(&s->addrs[i], mapped))
			return; /* already ours (a host with a public address of its own) */
	size_t keep = s->naddrs < NN_ROUTING_CONTACT_ADDRS ? s->naddrs : NN_ROUTING_CONTACT_ADDRS - 1;
	memmove(&s->addrs[1], &s->addrs[0], keep * sizeof s->addrs[0]);
	s->addrs[0] = *mapped;
	s->naddrs = (uint8_t)(keep + 1);
	n->pm_inserted = true;
}

static void pm_arm(nn_node *n)
{
	nn_timer_stop(n->clock, &n->pm_timer);
	if (n->pm.state == NN_PM_STOPPED)
		return;
	nn_time at = n->pm.next, check = nn_node_now(n) + NN_PM_ADDR_CHECK;
	if (n->pm_held && check < at)
		at = check; /* look at our local address meanwhile */
	nn_timer_start(n->clock, &n->pm_timer, at);
}

/* The external address as the gateway gave it, checked: an IPv4 literal, not 0.0.0.0. */
static int mapped_addr(const struct nn_portmap_io *io, nn_addr *out, char *text, size_t cap)
{
	struct in_addr ip;
	if (inet_pton(AF_INET, io->ext_ip, &ip) != 1 || ip.s_addr == 0 || !io->external)
		return NN_EADDR;
	snprintf(text, cap, "%s:%u", io->ext_ip, (unsigned)io->external);
	return nn_addr_set(out, "quic", text) == 0 ? 0 : NN_EADDR;
}

static void pm_fire(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	(void)t;
	struct nn_portmap_io *io = n->pm_io;
	nn_time now = nn_node_now(n);
	if (n->pm_held && n->pm.state == NN_PM_MAPPED) {
		char local[48];
		local_toward_gateway(local, sizeof local);
		if (strcmp(local, io->local_ip)) {
			nn_node_log(n, NN_LOG_INFO, "portmap: local address %s -> %s: mapping again",
				    io->local_ip[0] ? io->local_ip : "-", local[0] ? local : "-");
			advertise(n, NULL);
			nn_nat_portmap_reset(&n->pm, now);
			if (io->proto == NN_PORTMAP_UPNP && io->have_igd) {
				/* best effort: the IGD may refuse a delete from our new address (NAT-PMP
				 * cannot be asked at all: it keys mappings by the client's address), and
				 * then the old mapping lives until it expires */
				char ep[8];
				snprintf(ep, sizeof ep, "%u", (unsigned)io->external);
				(void)UPNP_DeletePortMapping(io->urls.controlURL,
							     io->data.first.servicetype, ep, "UDP", NULL);
			}
			upnp_forget(io); /* discover again: maybe another gateway */
		}
	}
	int act = nn_nat_portmap_due(&n->pm, now);
	if (!nn_nat_portmap_valid(&n->pm, now) && n->pm_held) {
		advertise(n, NULL); /* lapsed */
		nn_node_log(n, NN_LOG_INFO, "portmap: mapping lapsed");
	}
	if (act == NN_PM_NOTHING) {
		pm_arm(n);
		return;
	}
	if (!io->internal)
		io->internal = our_port(n);
	n->stats.portmap_attempts++;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool renew = act == NN_PM_RENEW;
	uint32_t granted = 0;
	uint32_t life = n->opts.portmap_lifetime_s ? n->opts.portmap_lifetime_s : NN_PM_LIFETIME_S;
	int rc = NN_EUNREACH, proto = 0;
	if ((n->opts.portmap & NN_PORTMAP_PCP) && (!renew || io->proto == NN_PORTMAP_PCP)) {
		uint16_t want = renew && io->external ? io->external : io->internal;
		if (!renew) /* a new mapping: a new nonce (a renewal repeats it) */
			randombytes_buf(io->pcp_nonce, sizeof io->pcp_nonce);
		rc = io->internal ? pcp_map(n, io, want, life, &granted) : NN_EADDR;
		proto = NN_PORTMAP_PCP;
	}
	if (rc < 0 && (n->opts.portmap & NN_PORTMAP_NATPMP) &&
	    (!renew || io->proto == NN_PORTMAP_NATPMP)) {
		uint16_t want = renew && io->external ? io->external : io->internal;
		rc = io->internal ? natpmp_map(io, want, life, &granted, true) : NN_EADDR;
		proto = NN_PORTMAP_NATPMP;
	}
	if (rc < 0 && (n->opts.portmap & NN_PORTMAP_UPNP) &&
	    (!renew || io->proto == NN_PORTMAP_UPNP)) {
		rc = io->internal ? upnp_map(io, renew, life, &granted) : NN_EADDR;
		proto = NN_PORTMAP_UPNP;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long took = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	now = nn_node_now(n);
	nn_addr mapped;
	char text[80] = "";
	if (rc == 0)
		rc = mapped_addr(io, &mapped, text, sizeof text);
	if (rc < 0) {
		n->stats.portmap_failures++;
		nn_nat_portmap_fail(&n->pm, now);
		if (!nn_nat_portmap_valid(&n->pm, now) && n->pm_held)
			advertise(n, NULL);
		nn_node_log(n, n->pm.failures == 1 ? NN_LOG_INFO : NN_LOG_DEBUG,
			    "portmap: %s failed (%s) after %lld ms, next try in %lld s",
			    renew ? "renewal" : "mapping", nn_errname(rc), took,
			    (long long)((n->pm.next - now) / NN_SEC));
		pm_arm(n);
		return;
	}
	io->proto = proto;
	local_toward_gateway(io->local_ip, sizeof io->local_ip);
	nn_nat_portmap_ok(&n->pm, now, granted);
	if (renew)
		n->stats.portmap_renewals++;
	else
		n->stats.portmap_ok++;
	bool fresh = !n->pm_held || !nn_addr_eq(&n->pm_addr, &mapped);
	advertise(n, &mapped);
	nn_node_log(n, fresh ? NN_LOG_INFO : NN_LOG_DEBUG,
		    "portmap: %s %s %s -> port %u, lifetime %u s (%lld ms)",
		    proto_name(proto), renew ? "renewed" : "mapped", text,
		    (unsigned)io->internal, (unsigned)granted, took);
	pm_arm(n);
}

void nn_node_portmap_start(nn_node *n)
{
	if (!n->opts.portmap || n->pm_io)
		return;
	n->pm_io = calloc(1, sizeof *n->pm_io);
	if (!n->pm_io) {
		nn_node_log(n, NN_LOG_WARN, "portmap: out of memory: port mapping is off");
		return;
	}
	nn_nat_portmap_init(&n->pm, nn_node_now(n));
	nn_timer_init(&n->pm_timer, pm_fire, n);
	pm_arm(n); /* the first attempt runs from the loop, not inside nn_node_new */
}

void nn_node_portmap_stop(nn_node *n)
{
	struct nn_portmap_io *io = n->pm_io;
	if (!io)
		return;
	nn_timer_stop(n->clock, &n->pm_timer);
	bool held = n->pm.state == NN_PM_MAPPED;
	nn_nat_portmap_stop(&n->pm);
	advertise(n, NULL);
	if (held && io->proto == NN_PORTMAP_PCP) {
		uint32_t g;
		/* RFC 6887 §15: the same nonce with lifetime 0 deletes the mapping */
		if (pcp_map(n, io, 0, 0, &g) == 0)
			n->stats.portmap_removed++;
	} else if (held && io->proto == NN_PORTMAP_NATPMP) {
		uint32_t g;
		/* RFC 6886 §3.4: lifetime 0 and external port 0 delete our mapping */
		if (natpmp_map(io, 0, 0, &g, false) == 0)
			n->stats.portmap_removed++;
	} else if (held && io->proto == NN_PORTMAP_UPNP && io->have_igd) {
		char ep[8];
		snprintf(ep, sizeof ep, "%u", (unsigned)io->external);
		if (UPNP_DeletePortMapping(io->urls.controlURL, io->data.first.servicetype, ep, "UDP",
					   NULL) == 0)
			n->stats.portmap_removed++;
	}
	if (held)
		nn_node_log(n, NN_LOG_INFO, "portmap: mapping removed");
	upnp_forget(io);
	free(io);
	n->pm_io = NULL;
}

void nn_node_portmap_info(nn_node *n, nn_portmap_info *out)
{
	memset(out, 0, sizeof *out);
	out->state = "off";
	if (!n || !n->opts.portmap)
		return;
	out->state = "none";
	nn_time now = nn_node_now(n);
	if (!n->pm_io || !nn_nat_portmap_valid(&n->pm, now) || !n->pm_held)
		return;
	out->state = proto_name(n->pm_io->proto);
	snprintf(out->external, sizeof out->external, "%.*s", (int)n->pm_addr.ep_len,
		 n->pm_addr.ep);
	out->ttl_s = n->pm.expires == INT64_MAX ? -1 : (int64_t)((n->pm.expires - now) / NN_SEC);
}
