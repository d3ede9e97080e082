/* keepalive.c — keepalive intervals by what lies between us and the Internet, and the probes
 * that learn how long our NAT keeps an idle mapping (nat/keepalive.h has the rules).
 *
 * Classes (local policy; only when the application left the keepalive options at 0):
 * - open: no NAT (verdict public) and an unsolicited inbound edge arrived (no stateful filter
 *   either): pings only after NN_NODE_KA_OPEN_SIBLING / _FINGER (240 s / 270 s) of silence,
 *   under the transport's 15-minute idle timeout; a silently dead peer's edge lives 510 s / 570 s
 *   (issue 16: a keepalive costs the answering end one datagram, the Pong, and the pinging end
 *   two, the Ping and the ACK of the Pong; a hub's 64 idle edges at 150 s / 180 s cost it
 *   0.39 datagrams/s and ~29 B/s, over the 0.3 / 25 B/s goals; at 240 s / 270 s ~0.25 and
 *   ~19 B/s); an edge whose remote address is loopback or private crosses no NAT of ours and is
 *   kept the same way whatever our class (nn_node_ka_edge_due);
 * - behind something (cone, symmetric, or public with filtering not seen open: a stateful
 *   firewall times out UDP like a NAT): the learned interval (25 s until evidence says more),
 *   less one tick, since the tick pings at its first run after the threshold;
 * - unknown (no verdict yet): the configured defaults, 15 s / 25 s.
 * Dead thresholds follow: at least twice the keepalive plus 30 s. On an edge the peer dialled,
 * an open node (or any node, on an edge that crosses no NAT of ours) pings NN_NODE_KA_INBOUND_LAG
 * later than the above, so the dialler's keepalive comes first and we only answer it.
 * Probes: one at a time, on an edge we dialled (so we are the QUIC client and a NAT rebinding
 * of ours is a path migration the peer follows) whose remote address is public; we send
 * KaProbe(nonce, G) and hold back our own keepalives on that edge; the peer echoes once the
 * edge has been silent both ways for G (any frame either way re-arms it: a NAT refreshes a
 * mapping on traffic in either direction), and holds back its own keepalives meanwhile if it
 * has no mapping of its own to keep (open class, or no verdict yet but filtering seen open; a
 * peer behind a NAT keeps pinging: its ping is then our evidence). Our silence past G + two
 * ticks + 5 s without the echo ends the wait: the keepalive resumes and an echo within
 * NN_NODE_KA_LATE after that is a failure at G. An echo into our silence is survival evidence;
 * an echo that arrives only after our keepalive resumed is a failure at G; no echo at all (a
 * reference peer) teaches nothing, and that edge is not asked again; a probe the edge's traffic
 * never lets finish is given up after NN_NODE_KA_PROBE_MAX.
 * Both ends of an edge stay alive through a probe (the edge's dead threshold counts only silence
 * neither end agreed to): edges with a probe or an echo pending are not reaped for silence; the
 * echo side's dead threshold counts from when the prober's keepalive resumes at the latest
 * (late_after + two ticks after the echo), not from the last frame before the silence (an echo
 * lost in the prober's expired mapping would otherwise leave a silence past the threshold and
 * the edge reaped on one side while the prober, pinging again, keeps it: a half-dead edge); the
 * prober's from its own resumption. The QUIC idle timeout (NN_TP_IDLE_TIMEOUT) exceeds the longest
 * silence any of this lets an edge live.
 * Passive evidence: every frame on a NAT-crossing edge tells how long the edge had been silent.
 *
 * Frames sent, nothing heard (local policy, WireGuard's rule for data without an answer): the
 * thresholds above are for idle edges. An edge that carries our frames while the peer stays
 * silent is pinged once NN_NODE_UNANSWERED_PING (10 s) after the first of them, and dropped when
 * NN_NODE_UNANSWERED_DEAD (25 s) pass, 15 s of them after the ping, with no frame at all from
 * the peer: a crashed peer (no Leave) stops black-holing routed traffic after 25 s, not after
 * the idle dead threshold (up to 570 s). Any frame from the peer clears it. Edges with a probe,
 * an echo or its hold pending are left alone (their silence is agreed). One-way traffic costs one Ping / Pong per 10 s. An
 * answer (Pong, KaEcho: nn_node_send_answer) expects nothing back and starts no such clock;
 * when it did, the two ends of every idle edge drew each other's pings every ~25 s for ever.
 */
#include <sodium.h>
#include <string.h>

#include "node/node_impl.h"

#define NN_NODE_KA_OPEN_SIBLING (240 * NN_SEC)
#define NN_NODE_KA_OPEN_FINGER (270 * NN_SEC)
/* On such an edge that the peer dialled, our own ping waits this much longer, so the dialler's
 * comes first (its role for the edge may be the finger's while ours is the sibling's: 30 s,
 * plus a tick) and we only answer: a hub with 64 idle edges sends one Pong a keepalive instead
 * of a Ping and the ACK of its Pong. A dialler gone silent is still pinged before its edge's
 * dead threshold (2 x 240 s + 30 s > 240 s + 60 s). */
#define NN_NODE_KA_INBOUND_LAG (60 * NN_SEC)
#define NN_NODE_KA_LATE (20 * NN_SEC) /* how long a late echo still counts as a failure */
#define NN_NODE_KA_PROBE_MAX (5 * 60 * NN_SEC) /* a probe the edge's traffic never let finish */

/* The longest silence a live edge may have here under the default timings (tick 5 s): a
 * finger's open-class dead threshold counted from the end of the longest probe silence we
 * honour (KaProbe delay, then the prober's resumption: late_after + two ticks). The transport's
 * idle timeout must exceed it, or the transport closes edges both ends still count as live.
 * Application-set dead thresholds above it are cut short by the transport. */
#define NN_NODE_KA_SILENCE_MAX                                                                 \
	((nn_time)NN_NAT_KA_PROBE_MAX_MS * NN_MS + 4 * 5 * NN_SEC + 5 * NN_SEC +                \
	 2 * NN_NODE_KA_OPEN_FINGER + 30 * NN_SEC)
_Static_assert(NN_NODE_KA_SILENCE_MAX < NN_TP_IDLE_TIMEOUT,
	       "the transport's idle timeout must exceed the longest silence of a live edge");

enum ka_class { KA_UNKNOWN, KA_OPEN, KA_BEHIND };

static enum ka_class ka_class(const nn_node *n)
{
	switch (n->nat.type) {
	case NN_NAT_UNKNOWN:
		return KA_UNKNOWN;
	case NN_NAT_PUBLIC:
		return n->nat.filter == NN_NAT_FILTER_OPEN ? KA_OPEN : KA_BEHIND;
	default:
		return KA_BEHIND;
	}
}

/* Does traffic with this peer cross our NAT (or firewall)? On transports without IP addresses
 * (the in-memory one) every address does. */
static bool crosses(const nn_node *n, const nn_addr *a)
{
	return !(n->tp->caps & NN_TP_CAP_IP_ADDRESSED) || nn_nat_addr_public(a);
}

void nn_node_ka_timeouts(nn_node *n, nn_time *ka_sib, nn_time *ka_fin, nn_time *dead_sib,
			 nn_time *dead_fin)
{
	*ka_sib = nn_node_ms(n->m.keepalive_sibling_ms);
	*ka_fin = nn_node_ms(n->m.keepalive_finger_ms);
	*dead_sib = nn_node_ms(n->m.dead_sibling_ms);
	*dead_fin = nn_node_ms(n->m.dead_finger_ms);
	if (!n->ka_adaptive)
		return;
	switch (ka_class(n)) {
	case KA_OPEN:
		*ka_sib = NN_NODE_KA_OPEN_SIBLING;
		*ka_fin = NN_NODE_KA_OPEN_FINGER;
		break;
	case KA_BEHIND: {
		/* the tick pings an edge at the first tick after the threshold: the silence
		 * may run one tick longer, and must stay within the interval */
		nn_time t = nn_nat_ka_interval(&n->ka) - nn_node_ms(n->m.tick_ms);
		*ka_sib = *ka_fin = t > NN_NAT_KA_FLOOR / 2 ? t : NN_NAT_KA_FLOOR / 2;
		break;
	}
	default:
		return;
	}
	if (*dead_sib < 2 * *ka_sib + 30 * NN_SEC)
		*dead_sib = 2 * *ka_sib + 30 * NN_SEC;
	if (*dead_fin < 2 * *ka_fin + 30 * NN_SEC)
		*dead_fin = 2 * *ka_fin + 30 * NN_SEC;
}

/* An edge whose traffic does not cross our NAT or firewall (its remote address is loopback or
 * private, on an IP transport) has no mapping to keep, whatever our class: it is kept like an
 * open node's edge (NN_NODE_KA_OPEN_*, dead at twice that plus 30 s). The caller listed e with
 * the class thresholds (never longer than these); true when e's own threshold passed too. */
bool nn_node_ka_edge_due(nn_node *n, const nn_routing_edge *e, nn_time now, bool dead)
{
	const nn_conn *c = e->conn;
	bool sib = e->role == NN_ROUTING_ROLE_SIBLING;
	/* an edge the peer dialled, where we have no mapping to keep: the dialler pings first */
	nn_time lag = !dead && n->ka_adaptive && c && !c->outbound ? NN_NODE_KA_INBOUND_LAG : 0;
	if (!n->ka_adaptive || !c || crosses(n, &c->remote_addr) || ka_class(n) == KA_OPEN) {
		if (!lag || ka_class(n) != KA_OPEN)
			return true;
		nn_time ks, kf, ds, df;
		nn_node_ka_timeouts(n, &ks, &kf, &ds, &df);
		return now - e->last_seen >= (sib ? ks : kf) + lag;
	}
	nn_time t = (sib ? NN_NODE_KA_OPEN_SIBLING : NN_NODE_KA_OPEN_FINGER) + lag;
	if (dead) {
		nn_time cfg = nn_node_ms(sib ? n->m.dead_sibling_ms : n->m.dead_finger_ms);
		t = 2 * t + 30 * NN_SEC;
		if (t < cfg)
			t = cfg;
	}
	return now - e->last_seen >= t;
}

/* No mapping of our own to keep alive, as far as we can tell: open, or no verdict yet but
 * unsolicited inbound edges arrive (a NATed node rarely sees one). */
static bool nothing_to_keep(const nn_node *n)
{
	enum ka_class k = ka_class(n);
	return k == KA_OPEN || (k == KA_UNKNOWN && n->nat.filter == NN_NAT_FILTER_OPEN);
}

bool nn_node_ka_quiet(const nn_node *n, const struct nconn *nc)
{
	/* the echo side keeps quiet only when it has no mapping of its own to keep alive */
	return nc && ((nc->ka_sent && !nc->ka_late) || (nc->echo_delay && nothing_to_keep(n)));
}

bool nn_node_ka_pending(const nn_node *n, const struct nconn *nc, nn_time now, nn_time dead)
{
	(void)n;
	return nc && (nc->ka_sent || nc->echo_delay || (nc->ka_hold && now - nc->ka_hold < dead));
}

/* A prober's keepalive resumes once its silence reached the probe's gap plus this: the echo was
 * due (the peer's tick and a round trip allowed for). */
static nn_time late_after(const nn_node *n)
{
	return 2 * nn_node_ms(n->m.tick_ms) + 5 * NN_SEC;
}

void nn_node_ka_rx(nn_node *n, struct nconn *nc, nn_time last_seen, nn_time now)
{
	nn_time since = nc->last_tx > last_seen ? nc->last_tx : last_seen;
	if (since > 0 && now - since > n->ka.survived && crosses(n, &nc->c->remote_addr) &&
	    nn_nat_ka_survived(&n->ka, now - since))
		n->stats.ka_learned++;
}

static void probe_end(nn_node *n, struct nconn *nc, nn_time now, nn_nat_ka_outcome o,
		      nn_time silence)
{
	nc->ka_sent = 0;
	nc->ka_late = false;
	if (o != NN_NAT_KA_NONE)
		nc->ka_echoes = true;
	if (o == NN_NAT_KA_SURVIVED)
		n->stats.ka_probes_survived++;
	else if (o == NN_NAT_KA_FAILED)
		n->stats.ka_probes_failed++;
	nn_time gap = n->ka.probing, before = nn_nat_ka_interval(&n->ka);
	nn_nat_ka_probe_done(&n->ka, now, o, silence);
	static const char *const what[] = {"outlived", "did not outlive", "taught nothing on"};
	nn_node_log(n, o == NN_NAT_KA_NONE ? NN_LOG_DEBUG : NN_LOG_INFO,
		    "keepalive probe: our NAT mapping %s a %.1f s silence: interval %.1f s -> %.1f s",
		    what[o], (double)(o == NN_NAT_KA_SURVIVED ? silence : gap) / NN_SEC,
		    (double)before / NN_SEC, (double)nn_nat_ka_interval(&n->ka) / NN_SEC);
}

static struct nconn *probe_candidate(nn_node *n)
{
	struct nconn *best = NULL;
	for (struct nconn *nc = n->conns; nc; nc = nc->next) {
		if (!nc->c || nc->closing || !nc->registered || !nc->c->outbound || nc->ka_mute ||
		    nc->ka_sent || !crosses(n, &nc->c->remote_addr))
			continue;
		if (!best || (nc->ka_echoes && !best->ka_echoes))
			best = nc; /* one that echoed before is the surest */
	}
	return best;
}

static void start_probe(nn_node *n, nn_time now)
{
	struct nconn *nc = probe_candidate(n);
	if (!nc)
		return;
	nn_time g = nn_nat_ka_probe_start(&n->ka, now);
	if (!g)
		return;
	nn_node_rand_bytes(n, nc->ka_nonce, sizeof nc->ka_nonce);
	uint8_t frame[NN_NAT_KA_FRAME_MAX];
	int len = nn_nat_ka_probe_frame(frame, sizeof frame, nc->ka_nonce, (uint32_t)(g / NN_MS));
	if (len < 0 || nn_node_send_conn(n, nc->c, frame, (size_t)len) != 0) {
		nn_nat_ka_probe_done(&n->ka, now, NN_NAT_KA_NONE, 0);
		return;
	}
	n->stats.ka_probes_tx++;
	nn_node_log(n, NN_LOG_DEBUG, "keepalive probe: asking for an echo after a %.1f s silence",
		    (double)g / NN_SEC);
	nc->ka_sent = now;
	nc->ka_gap = g;
}

/* How long the edge on nc has been silent both ways (a NAT refreshes a mapping on either). */
static nn_time silence(nn_node *n, const struct nconn *nc, nn_time now)
{
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &nc->c->remote_id);
	nn_time since = e && e->last_seen > nc->last_tx ? e->last_seen : nc->last_tx;
	return now - since;
}

void nn_node_ka_tick(nn_node *n, nn_time now)
{
	bool adaptive = n->ka_adaptive && ka_class(n) == KA_BEHIND;
	bool probing = false;
	for (struct nconn *nc = n->conns; nc; nc = nc->next) {
		if (!nc->c || nc->closing)
			continue;
		if (nc->echo_delay && nc->registered && silence(n, nc, now) >= nc->echo_delay) {
			uint8_t frame[NN_NAT_KA_FRAME_MAX];
			int len = nn_nat_ka_echo_frame(frame, sizeof frame, nc->echo_nonce);
			nn_node_log(n, NN_LOG_DEBUG, "keepalive echo after a %.1f s silence",
				    (double)silence(n, nc, now) / NN_SEC);
			nc->echo_delay = 0;
			/* the prober, silent as long (its clock restarted with ours on every frame),
			 * resumes its keepalive at most late_after from now, plus a tick to notice and
			 * one to ping (its tick taken as ours): until then the silence is agreed, not a
			 * sign of death, even though our echo went out (it may die in the prober's
			 * expired NAT mapping). The edge's dead threshold counts from there. */
			nc->ka_hold = now + late_after(n) + 2 * nn_node_ms(n->m.tick_ms);
			if (len > 0 && nn_node_send_answer(n, nc->c, frame, (size_t)len) == 0)
				n->stats.ka_echoes_tx++;
		}
		if (!nc->ka_sent)
			continue;
		if (nc->ka_late) {
			if (now >= nc->ka_deadline) {
				nc->ka_mute = true; /* no echo at all: it does not speak KaProbe */
				probe_end(n, nc, now, NN_NAT_KA_NONE, 0);
				continue;
			}
		} else if (silence(n, nc, now) >= nc->ka_gap + late_after(n)) {
			/* the echo was due: our silence ends here, the keepalive resumes; an echo from
			 * now on came late: the mapping had died. The silence so far was ours: the
			 * edge's dead threshold counts from here (the peer answers our keepalive) */
			nc->ka_late = true;
			nc->ka_deadline = now + NN_NODE_KA_LATE;
			nc->ka_hold = now;
		} else if (now - nc->ka_sent > NN_NODE_KA_PROBE_MAX) {
			probe_end(n, nc, now, NN_NAT_KA_NONE, 0); /* never silent long enough */
			continue;
		}
		probing = true;
	}
	if (adaptive && !probing && !n->opts.no_maintenance)
		start_probe(n, now);
}

bool nn_node_edge_suspect(nn_node *n, const nn_conn *c, nn_time now)
{
	const struct nconn *nc = c->user;
	if (!nc || nc->closing || nn_node_ka_pending(n, nc, now, NN_NODE_UNANSWERED_DEAD))
		return false; /* a keepalive probe's silence is agreed, not suspect */
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &c->remote_id);
	nn_time heard = e && e->conn == c ? e->last_seen : 0;
	if (nc->unanswered_ping)
		return true; /* cleared by any frame from the peer (dispatch.c) */
	return now - heard >= NN_NODE_SUSPECT_IDLE; /* whatever we sent since: unanswered */
}

void nn_node_suspect_copy(nn_node *n, nn_conn *c, nn_time now)
{
	struct nconn *nc = c->user;
	n->stats.suspect_copies++;
	if (!nc || nc->unanswered_ping)
		return;
	nc->unanswered_ping = now; /* the unanswered rule drops the edge if this stays unanswered */
	n->stats.unanswered_pings++;
	(void)nn_node_send_ping(n, c);
}

void nn_node_ka_unanswered(nn_node *n, nn_time now)
{
	nn_id dead[16];
	size_t k = 0;
	for (struct nconn *nc = n->conns; nc; nc = nc->next) {
		if (!nc->c || nc->closing || !nc->registered || !nc->unanswered_since ||
		    nn_node_ka_pending(n, nc, now, NN_NODE_UNANSWERED_DEAD))
			continue;
		nn_time quiet = now - nc->unanswered_since;
		if (nc->unanswered_ping && quiet >= NN_NODE_UNANSWERED_DEAD &&
		    now - nc->unanswered_ping >= NN_NODE_UNANSWERED_DEAD - NN_NODE_UNANSWERED_PING) {
			if (k < sizeof dead / sizeof dead[0])
				dead[k++] = nc->c->remote_id;
		} else if (quiet >= NN_NODE_UNANSWERED_PING && !nc->unanswered_ping) {
			nc->unanswered_ping = now; /* the ping's answer gets the 15 s that remain */
			n->stats.unanswered_pings++;
			(void)nn_node_send_ping(n, nc->c);
		}
	}
	for (size_t i = 0; i < k; i++) { /* dropping edits the list: after the walk */
		char hex[65];
		nn_node_log(n, NN_LOG_DEBUG, "edge %s: frames and a ping unanswered for %lld s: down",
			    nn_node_hex(&dead[i], hex), (long long)(NN_NODE_UNANSWERED_DEAD / NN_SEC));
		n->stats.edges_unanswered++;
		nn_node_drop_edge(n, &dead[i], NN_TP_REASON_NORMAL);
	}
}

void nn_node_on_ka_probe(nn_node *n, nn_conn *c, const nn_frame *f)
{
	struct nconn *nc = c->user;
	uint8_t nonce[NN_NAT_KA_NONCE_LEN];
	uint32_t delay;
	if (nn_nat_ka_probe_decode(f->payload, f->len, nonce, &delay) < 0) {
		n->stats.dropped_malformed++;
		return;
	}
	if (!nn_routing_edges_allow_control(n->edges, &c->remote_id, nn_node_now(n))) {
		n->stats.dropped_rate_limited++;
		return;
	}
	memcpy(nc->echo_nonce, nonce, sizeof nonce); /* one pending per edge: the newest wins */
	nc->echo_delay = nn_node_ms(delay);
}

void nn_node_on_ka_echo(nn_node *n, nn_conn *c, const nn_frame *f, nn_time last_seen)
{
	struct nconn *nc = c->user;
	uint8_t nonce[NN_NAT_KA_NONCE_LEN];
	if (nn_nat_ka_echo_decode(f->payload, f->len, nonce) < 0) {
		n->stats.dropped_malformed++;
		return;
	}
	if (!nc->ka_sent || sodium_memcmp(nonce, nc->ka_nonce, sizeof nonce) != 0) {
		n->stats.dropped_ka_echo++; /* not asked for, or stale */
		return;
	}
	nn_time now = nn_node_now(n);
	nn_time since = nc->last_tx > last_seen ? nc->last_tx : last_seen;
	if (nc->ka_late)
		probe_end(n, nc, now, NN_NAT_KA_FAILED, 0);
	else if (now - since >= nc->ka_gap - nn_node_ms(n->m.tick_ms))
		probe_end(n, nc, now, NN_NAT_KA_SURVIVED, now - since);
	else
		probe_end(n, nc, now, NN_NAT_KA_NONE, 0); /* no silence as long as asked: no verdict */
}
