/* call.c — a two-party "call" on libnodenet: two nodes in one process over loopback QUIC.
 *
 *   call [SECONDS]            (default 3)
 *
 * Node "bob" listens on 127.0.0.1 and accepts every call (media_consent); node "alice" joins
 * through bob, and once their edge is up opens a media session to him and sends an audio-like
 * flow: 50 datagrams a second of 160 bytes (a 20 ms frame of 64 kbit/s audio) on channel 16,
 * each carrying its sequence number and send time. At the end it hangs up with one reliable
 * message ("bye", channel 17) and prints what bob received: loss, reordering, and the RFC 3550
 * interarrival jitter computed from the receive timestamp every datagram carries.
 *
 * Exit status: 0 when the call ran (loss on loopback should be 0), 1 on an error, and 77 (a
 * "skip" for test runners) when the transport refused the session as unsupported — the QUIC
 * transport's media sessions (ALPN nodenet-media/1) are not built yet in this tree.
 *
 * Both nodes share one libev loop (the host's: nn_node_new(..., loop)); everything below runs
 * on that loop's thread. Only the public header is used; link with libnodenet.
 */
#include <ev.h>
#include <nodenet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_BYTES 160
#define FRAME_MS 20
#define CH_AUDIO 16
#define CH_CONTROL 17

struct call {
	struct ev_loop *loop;
	nn_node *alice, *bob;
	nn_id bob_id;
	uint64_t sid;          /* alice's session */
	bool up, done, skipped;
	int failed;            /* an error ended the call */
	double seconds;
	ev_timer tick, guard;
	uint32_t sent;
	/* bob's receive side */
	uint32_t got, reordered, max_seq;
	bool have_prev;
	int64_t prev_transit;  /* ns */
	double jitter;         /* ns, RFC 3550 */
	bool bye;
};

static int64_t now_ns(struct ev_loop *loop) { return (int64_t)(ev_now(loop) * 1e9); }

/* ---- bob ---- */
static bool bob_consent(void *user, const nn_id *peer, uint64_t sid)
{
	(void)user;
	(void)peer;
	(void)sid;
	return true; /* a real application would ask its user */
}

static void bob_datagram(void *user, uint64_t sid, uint8_t ch, const uint8_t *data, size_t len,
			 int64_t rx_ns)
{
	struct call *c = user;
	(void)sid;
	if (ch != CH_AUDIO || len < 12)
		return;
	uint32_t seq;
	int64_t sent_ns;
	memcpy(&seq, data, 4);
	memcpy(&sent_ns, data + 4, 8);
	c->got++;
	if (seq < c->max_seq)
		c->reordered++;
	else
		c->max_seq = seq;
	/* the two clocks differ by a constant: only transit-time differences count */
	int64_t transit = rx_ns - sent_ns;
	if (c->have_prev) {
		double d = fabs((double)(transit - c->prev_transit));
		c->jitter += (d - c->jitter) / 16.0;
	}
	c->prev_transit = transit;
	c->have_prev = true;
}

static void bob_message(void *user, uint64_t sid, uint8_t ch, const uint8_t *data, size_t len)
{
	struct call *c = user;
	(void)sid;
	if (ch == CH_CONTROL && len == 3 && !memcmp(data, "bye", 3))
		c->bye = true;
}

static void bob_state(void *user, uint64_t sid, const nn_id *peer, bool inbound, int status)
{
	struct call *c = user;
	(void)sid;
	(void)peer;
	(void)inbound;
	if (status != 0 && c->sent) {
		c->done = true;
		ev_break(c->loop, EVBREAK_ALL);
	}
}

/* ---- alice ---- */
static void finish(struct call *c)
{
	if (c->up) {
		(void)nn_node_media_send_message(c->alice, c->sid, CH_CONTROL, "bye", 3);
		c->up = false;
	}
	/* give the last datagrams and the message a moment, then stop */
	ev_timer_stop(c->loop, &c->tick);
	ev_timer_set(&c->tick, 0.3, 0.);
	ev_timer_start(c->loop, &c->tick);
	c->done = true;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct call *c = w->data;
	(void)revents;
	if (c->done) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (c->sent >= (uint32_t)(c->seconds * 1000 / FRAME_MS)) {
		finish(c);
		return;
	}
	uint8_t frame[FRAME_BYTES];
	memset(frame, 0x55, sizeof frame);
	int64_t t = now_ns(loop);
	memcpy(frame, &c->sent, 4);
	memcpy(frame + 4, &t, 8);
	int rc = nn_node_media_send(c->alice, c->sid, CH_AUDIO, frame, sizeof frame);
	if (rc < 0 && rc != NN_EAGAIN) {
		fprintf(stderr, "call: send: %s\n", nn_strerror(rc));
		c->failed = rc;
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	c->sent++;
}

static void unsupported(struct call *c)
{
	fprintf(stderr,
		"call: SKIPPED — the transport refused the media session (NN_EUNSUPPORTED): this "
		"build's QUIC transport has no media sessions (ALPN nodenet-media/1) yet\n");
	c->skipped = true;
	ev_break(c->loop, EVBREAK_ALL);
}

static void alice_state(void *user, uint64_t sid, const nn_id *peer, bool inbound, int status)
{
	struct call *c = user;
	(void)peer;
	(void)inbound;
	if (sid != c->sid)
		return;
	if (status == NN_EUNSUPPORTED) {
		unsupported(c);
		return;
	}
	if (status < 0) {
		fprintf(stderr, "call: the session ended: %s\n", nn_strerror(status));
		c->failed = status;
		ev_break(c->loop, EVBREAK_ALL);
		return;
	}
	c->up = true;
	printf("call up: %.0f s of %d-byte frames every %d ms\n", c->seconds, FRAME_BYTES, FRAME_MS);
	fflush(stdout);
	ev_timer_init(&c->tick, on_tick, 0., FRAME_MS / 1000.);
	c->tick.data = c;
	ev_timer_start(c->loop, &c->tick);
}

static void alice_edge(void *user, const nn_id *peer, bool up)
{
	struct call *c = user;
	if (!up || c->sid || memcmp(peer->b, c->bob_id.b, sizeof peer->b))
		return;
	int rc = nn_node_media_open(c->alice, &c->bob_id, 5000, &c->sid);
	if (rc == NN_EUNSUPPORTED) {
		unsupported(c);
	} else if (rc < 0) {
		fprintf(stderr, "call: open: %s\n", nn_strerror(rc));
		c->failed = rc;
		ev_break(c->loop, EVBREAK_ALL);
	}
}

static void on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct call *c = w->data;
	(void)revents;
	fprintf(stderr, "call: timed out\n");
	c->failed = NN_ETIMEDOUT;
	ev_break(loop, EVBREAK_ALL);
}

static int make_node(nn_node **out, struct ev_loop *loop, const char *listen,
		     const nn_node_callbacks *cb)
{
	uint8_t seed[NN_SEED_BYTES];
	int rc = nn_seed_mint(seed, 0, 1, NULL, NULL);
	if (rc < 0)
		return rc;
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = listen;
	o.log_level = NN_LOG_WARN;
	o.cb = *cb;
	rc = nn_node_new(out, &o, loop);
	memset(seed, 0, sizeof seed);
	return rc;
}

int main(int argc, char **argv)
{
	struct call c;
	memset(&c, 0, sizeof c);
	c.seconds = argc > 1 ? atof(argv[1]) : 3.0;
	if (c.seconds <= 0 || c.seconds > 600) {
		fprintf(stderr, "usage: call [SECONDS 0..600]\n");
		return 2;
	}
	c.loop = ev_default_loop(EVFLAG_AUTO);
	nn_node_callbacks bob_cb = {.user = &c, .media_consent = bob_consent,
				    .on_media_state = bob_state,
				    .on_media_datagram = bob_datagram,
				    .on_media_message = bob_message};
	nn_node_callbacks alice_cb = {.user = &c, .on_edge = alice_edge,
				      .on_media_state = alice_state};
	int rc = make_node(&c.bob, c.loop, "127.0.0.1:0", &bob_cb);
	if (rc == 0)
		rc = make_node(&c.alice, c.loop, "127.0.0.1:0", &alice_cb);
	if (rc < 0) {
		fprintf(stderr, "call: cannot start the nodes: %s\n", nn_strerror(rc));
		nn_node_free(c.bob);
		return 1;
	}
	c.bob_id = *nn_node_id(c.bob);
	char addrs[4][64];
	if (nn_node_addrs(c.bob, addrs, 4) < 1) {
		fprintf(stderr, "call: bob has no address\n");
		return 1;
	}
	rc = nn_node_bootstrap(c.alice, &c.bob_id, addrs[0]);
	if (rc < 0) {
		fprintf(stderr, "call: bootstrap: %s\n", nn_strerror(rc));
		return 1;
	}
	ev_timer_init(&c.guard, on_guard, c.seconds + 15., 0.);
	c.guard.data = &c;
	ev_timer_start(c.loop, &c.guard);
	ev_run(c.loop, 0);
	ev_timer_stop(c.loop, &c.guard);
	ev_timer_stop(c.loop, &c.tick);
	nn_node_free(c.alice);
	nn_node_free(c.bob);
	if (c.skipped)
		return 77;
	if (c.failed)
		return 1;
	double loss = c.sent ? 100.0 * (double)(c.sent - c.got) / (double)c.sent : 0;
	printf("sent %u, received %u (loss %.2f %%), reordered %u, jitter %.3f ms, bye %s\n",
	       c.sent, c.got, loss, c.reordered, c.jitter / 1e6, c.bye ? "received" : "missing");
	return c.got > 0 && c.bye ? 0 : 1;
}
