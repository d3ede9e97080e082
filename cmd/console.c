/* console.c — the daemon's line console: parse commands, run them on the node, print events. */
#include <stdlib.h>
#include <string.h>

#include "cmd/console.h"

/* ---- parsing (pure) ---- */
static bool word_is(const char *w, size_t wlen, const char *lit)
{
	return wlen == strlen(lit) && !memcmp(w, lit, wlen);
}

/* Copy up to 32 bytes of w as printable ASCII (others as '?') for an error message. */
static void sanitize(char *dst, size_t cap, const char *w, size_t wlen)
{
	size_t o = 0;
	for (size_t i = 0; i < wlen && o + 4 < cap && i < 32; i++)
		dst[o++] = w[i] >= 0x20 && w[i] < 0x7f ? w[i] : '?';
	if (wlen > 32 && o + 4 < cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = 0;
}

static bool only_blanks(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* say|tell <64-hex> <channel 16..255> <text> (say: one datagram; tell: one message) */
static int parse_say(nn_console_cmd *out, bool tell, const char *rest, size_t rlen, char *err,
		     size_t errcap)
{
	const char *name = tell ? "tell" : "say";
	const char *f[2];
	size_t flen[2];
	for (int k = 0; k < 2; k++) {
		while (rlen && (*rest == ' ' || *rest == '\t')) {
			rest++;
			rlen--;
		}
		size_t l = 0;
		while (l < rlen && rest[l] != ' ' && rest[l] != '\t')
			l++;
		if (l == 0 || l == rlen) {
			snprintf(err, errcap, "usage: %s <64-hex NodeID> <channel 16..255> <text>",
				 name);
			return NN_EINVAL;
		}
		f[k] = rest;
		flen[k] = l;
		rest += l;
		rlen -= l;
	}
	if (nn_id_parse(&out->target, f[0], flen[0]) < 0) {
		snprintf(err, errcap, "%s: the NodeID must be exactly 64 hex digits", name);
		return NN_EINVAL;
	}
	unsigned ch = 0;
	bool ok = flen[1] <= 3;
	for (size_t i = 0; ok && i < flen[1]; i++) {
		if (f[1][i] < '0' || f[1][i] > '9')
			ok = false;
		else
			ch = ch * 10 + (unsigned)(f[1][i] - '0');
	}
	if (!ok || ch < NN_NODE_MEDIA_CH_FIRST || ch > 255) {
		snprintf(err, errcap, "%s: the channel must be a number 16..255 (0-15 are reserved)",
			 name);
		return NN_EINVAL;
	}
	out->op = tell ? NN_CON_TELL : NN_CON_SAY;
	out->channel = (uint8_t)ch;
	out->text = rest + 1; /* one separator, as send's */
	out->text_len = rlen - 1;
	return 0;
}

int nn_console_parse(nn_console_cmd *out, const char *line, size_t len, char *err, size_t errcap)
{
	memset(out, 0, sizeof *out);
	if (len && line[len - 1] == '\r')
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return 0; /* empty line: nothing to do */
	const char *w = line + i;
	size_t wlen = 0;
	while (i + wlen < len && line[i + wlen] != ' ' && line[i + wlen] != '\t')
		wlen++;
	const char *rest = w + wlen;
	size_t rlen = len - i - wlen;
	if (word_is(w, wlen, "say") || word_is(w, wlen, "tell"))
		return parse_say(out, word_is(w, wlen, "tell"), rest, rlen, err, errcap);
	if (word_is(w, wlen, "call") || word_is(w, wlen, "hangup")) {
		bool call = word_is(w, wlen, "call");
		const char *name = call ? "call" : "hangup";
		while (rlen && (*rest == ' ' || *rest == '\t')) {
			rest++;
			rlen--;
		}
		size_t hlen = 0;
		while (hlen < rlen && rest[hlen] != ' ' && rest[hlen] != '\t')
			hlen++;
		if (hlen == 0 || !only_blanks(rest + hlen, rlen - hlen)) {
			snprintf(err, errcap, "usage: %s <64-hex NodeID>", name);
			return NN_EINVAL;
		}
		if (nn_id_parse(&out->target, rest, hlen) < 0) {
			snprintf(err, errcap, "%s: the NodeID must be exactly 64 hex digits", name);
			return NN_EINVAL;
		}
		out->op = call ? NN_CON_CALL : NN_CON_HANGUP;
		return 0;
	}
	bool with_text = word_is(w, wlen, "send") || word_is(w, wlen, "direct");
	bool id_only = word_is(w, wlen, "rendezvous") || word_is(w, wlen, "connect");
	if (with_text || id_only) {
		const char *name = word_is(w, wlen, "send")	? "send"
				   : word_is(w, wlen, "direct") ? "direct"
				   : word_is(w, wlen, "connect") ? "connect"
								: "rendezvous";
		while (rlen && (*rest == ' ' || *rest == '\t')) {
			rest++;
			rlen--;
		}
		size_t hlen = 0;
		while (hlen < rlen && rest[hlen] != ' ' && rest[hlen] != '\t')
			hlen++;
		bool bad = with_text ? hlen == 0 || hlen == rlen
				     : hlen == 0 || !only_blanks(rest + hlen, rlen - hlen);
		if (bad) {
			snprintf(err, errcap, "usage: %s <64-hex NodeID>%s", name,
				 with_text ? " <text>" : "");
			return NN_EINVAL;
		}
		if (nn_id_parse(&out->target, rest, hlen) < 0) {
			snprintf(err, errcap, "%s: the NodeID must be exactly 64 hex digits", name);
			return NN_EINVAL;
		}
		out->op = word_is(w, wlen, "send")     ? NN_CON_SEND
			  : word_is(w, wlen, "direct")  ? NN_CON_DIRECT
			  : word_is(w, wlen, "connect") ? NN_CON_CONNECT
							: NN_CON_RENDEZVOUS;
		if (with_text) {
			out->text = rest + hlen + 1;
			out->text_len = rlen - hlen - 1;
		}
		return 0;
	}
	enum nn_console_op op = word_is(w, wlen, "peers") ? NN_CON_PEERS
				: word_is(w, wlen, "stats") ? NN_CON_STATS
				: word_is(w, wlen, "nat")   ? NN_CON_NAT
				: word_is(w, wlen, "status") ? NN_CON_STATUS
				: word_is(w, wlen, "quit")  ? NN_CON_QUIT
							    : NN_CON_NONE;
	char q[48];
	sanitize(q, sizeof q, w, wlen);
	if (op == NN_CON_NONE) {
		snprintf(err, errcap, "unknown command \"%s\" (commands: send, direct, rendezvous, "
				 "connect, peers, stats, nat, status, call, hangup, say, tell, quit)", q);
		return NN_EINVAL;
	}
	if (!only_blanks(rest, rlen)) {
		snprintf(err, errcap, "%s takes no arguments", q);
		return NN_EINVAL;
	}
	out->op = op;
	return 0;
}

bool nn_console_printable(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint32_t c = p[i], min;
		size_t k;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		if (len - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (p[i + j] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
		    (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029)
			return false;
		i += k + 1;
	}
	return true;
}

/* ---- output ---- */
static void put_hex(FILE *f, const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char chunk[512];
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		chunk[o++] = digits[p[i] >> 4];
		chunk[o++] = digits[p[i] & 15];
		if (o == sizeof chunk) {
			fwrite(chunk, 1, o, f);
			o = 0;
		}
	}
	fwrite(chunk, 1, o, f);
}

/* A JSON string literal (quotes included). Printable UTF-8 (nn_console_printable) is copied
 * as it is except '"' and '\\'; any other string is escaped to pure ASCII: control bytes, DEL
 * and every byte >= 0x80 as \u00XX, so a peer's bytes never reach stdout raw and the output
 * stays valid UTF-8 whatever they were. */
static void put_json_str(FILE *f, const char *s, size_t len)
{
	bool utf8 = nn_console_printable((const uint8_t *)s, len);
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8))
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void nn_console_put_text(FILE *f, const char *s, size_t len, bool token)
{
	static const char digits[] = "0123456789abcdef";
	if (token && len == 0) {
		fputc('-', f);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch > 0x20 && ch < 0x7f && ch != '\\') {
			fputc(ch, f);
		} else if (ch == ' ' && !token) {
			fputc(' ', f);
		} else {
			fputs("\\x", f);
			fputc(digits[ch >> 4], f);
			fputc(digits[ch & 15], f);
		}
	}
}

static void put_token(FILE *f, const char *s) { nn_console_put_text(f, s, strlen(s), true); }

static void put_json_cstr(FILE *f, const char *s) { put_json_str(f, s, strlen(s)); }

static void end_event(nn_console *c)
{
	fputc('\n', c->out);
	fflush(c->out);
}

/* {"event":"<name>" — the caller adds fields and calls end_object. */
static void begin_json(nn_console *c, const char *event)
{
	fprintf(c->out, "{\"event\":\"%s\"", event);
}

static void end_object(nn_console *c)
{
	fputc('}', c->out);
	end_event(c);
}

static void field(nn_console *c, const char *name, const char *value)
{
	fprintf(c->out, ",\"%s\":", name);
	put_json_cstr(c->out, value);
}

void nn_console_ok(nn_console *c)
{
	if (c->json) {
		begin_json(c, "ok");
		end_object(c);
	} else {
		fputs("ok", c->out);
		end_event(c);
	}
}

void nn_console_error(nn_console *c, int err, const char *message)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s", message ? message : nn_strerror(err));
	if (c->json) {
		begin_json(c, "error");
		field(c, "name", nn_errname(err));
		field(c, "message", msg);
		end_object(c);
	} else {
		fprintf(c->out, "error %s ", nn_errname(err));
		nn_console_put_text(c->out, msg, strlen(msg), false);
		end_event(c);
	}
}

void nn_console_start(nn_console *c)
{
	char hex[65], addrs[16][64];
	nn_id_format(hex, nn_node_id(c->node));
	if (c->json) {
		begin_json(c, "id");
		field(c, "id", hex);
		end_object(c);
	} else {
		fprintf(c->out, "id %s", hex);
		end_event(c);
	}
	size_t k = nn_node_addrs(c->node, addrs, 16);
	for (size_t i = 0; i < k && i < 16; i++) {
		if (c->json) {
			begin_json(c, "listening");
			field(c, "addr", addrs[i]);
			end_object(c);
		} else {
			fputs("listening ", c->out);
			put_token(c->out, addrs[i]);
			end_event(c);
		}
	}
}

static void put_payload(nn_console *c, const uint8_t *data, size_t len);

void nn_console_recv(nn_console *c, const nn_id *from, const uint8_t *data, size_t len)
{
	char hex[65];
	nn_id_format(hex, from);
	bool text = nn_console_printable(data, len);
	if (c->json) {
		begin_json(c, "recv");
		field(c, "from", hex);
		fprintf(c->out, ",\"%s\":", text ? "text" : "hex");
		if (text) {
			put_json_str(c->out, (const char *)data, len);
		} else {
			fputc('"', c->out);
			put_hex(c->out, data, len);
			fputc('"', c->out);
		}
		end_object(c);
		return;
	}
	fprintf(c->out, "recv %s ", hex);
	/* printable UTF-8 has no control byte, newline or ESC: it is shown as sent, unless it
	 * could pass for the hex form of another payload */
	put_payload(c, data, len);
	end_event(c);
}

/* A payload as recv shows it: printable UTF-8 not beginning "hex:" as sent, else hex:<hex>. */
static void put_payload(nn_console *c, const uint8_t *data, size_t len)
{
	if (nn_console_printable(data, len) && !(len >= 4 && !memcmp(data, "hex:", 4))) {
		fwrite(data, 1, len, c->out);
	} else {
		fputs("hex:", c->out);
		put_hex(c->out, data, len);
	}
}

void nn_console_call(nn_console *c, const nn_id *peer, bool up, int status)
{
	char hex[65];
	nn_id_format(hex, peer);
	if (c->json) {
		begin_json(c, "call");
		field(c, "id", hex);
		field(c, "state", up ? "up" : "down");
		if (!up && status < 0)
			field(c, "error", nn_errname(status));
		end_object(c);
		return;
	}
	fprintf(c->out, "call %s %s", hex, up ? "up" : "down");
	if (!up && status < 0)
		fprintf(c->out, " %s", nn_errname(status));
	end_event(c);
}

void nn_console_media(nn_console *c, const nn_id *from, uint8_t channel, const uint8_t *data,
		      size_t len)
{
	char hex[65];
	nn_id_format(hex, from);
	bool text = nn_console_printable(data, len);
	if (c->json) {
		begin_json(c, "media");
		field(c, "from", hex);
		fprintf(c->out, ",\"channel\":%u,\"%s\":", channel, text ? "text" : "hex");
		if (text) {
			put_json_str(c->out, (const char *)data, len);
		} else {
			fputc('"', c->out);
			put_hex(c->out, data, len);
			fputc('"', c->out);
		}
		end_object(c);
		return;
	}
	fprintf(c->out, "media %s %u ", hex, channel);
	put_payload(c, data, len);
	end_event(c);
}

/* The newest open session with peer (0 = none). */
static uint64_t session_with(nn_node *n, const nn_id *peer, bool up_only)
{
	uint64_t sids[64], best = 0;
	size_t k = nn_node_media_list(n, sids, 64);
	for (size_t i = 0; i < k && i < 64; i++) {
		nn_media_info info;
		if (nn_node_media_info(n, sids[i], &info) < 0 || (up_only && !info.up))
			continue;
		if (!memcmp(info.peer.b, peer->b, sizeof peer->b) && sids[i] > best)
			best = sids[i];
	}
	return best;
}

static void cmd_hangup(nn_console *c, const nn_id *peer)
{
	unsigned closed = 0;
	uint64_t sid;
	while ((sid = session_with(c->node, peer, false)) != 0) {
		if (nn_node_media_close(c->node, sid) < 0)
			break;
		closed++;
	}
	if (!closed) {
		nn_console_error(c, NN_ENOENT, "no call with that node");
		return;
	}
	for (unsigned i = 0; i < closed; i++)
		nn_console_call(c, peer, false, 0);
	nn_console_ok(c);
}

static void cmd_say(nn_console *c, const nn_console_cmd *cmd)
{
	uint64_t sid = session_with(c->node, &cmd->target, true);
	if (!sid) {
		nn_console_error(c, NN_ENOENT, "no call with that node is up");
		return;
	}
	int rc = cmd->op == NN_CON_TELL
			 ? nn_node_media_send_message(c->node, sid, cmd->channel, cmd->text,
						      cmd->text_len)
			 : nn_node_media_send(c->node, sid, cmd->channel, cmd->text, cmd->text_len);
	if (rc < 0)
		nn_console_error(c, rc, NULL);
	else
		nn_console_ok(c);
}

static void print_end(nn_console *c)
{
	if (c->json) {
		begin_json(c, "end");
		end_object(c);
	} else {
		fputs("end", c->out);
		end_event(c);
	}
}

void nn_console_peer(nn_console *c, const nn_peer_info *p)
{
	char hex[65], addr[sizeof p->addr];
	nn_id_format(hex, &p->id);
	snprintf(addr, sizeof addr, "%.*s", (int)sizeof p->addr - 1, p->addr);
	const char *dir = p->inbound ? "in" : "out";
	const char *role = p->sibling ? "sibling" : "finger";
	if (c->json) {
		begin_json(c, "peer");
		field(c, "id", hex);
		field(c, "addr", addr);
		field(c, "dir", dir);
		field(c, "role", role);
		field(c, "path", p->path ? p->path : "direct");
		fprintf(c->out, ",\"rtt_us\":%lld", (long long)p->rtt_us);
		end_object(c);
	} else {
		fprintf(c->out, "peer %s ", hex);
		put_token(c->out, addr);
		fprintf(c->out, " %s %s %s rtt=%.1fms", dir, role, p->path ? p->path : "direct",
			(double)p->rtt_us / 1000);
		end_event(c);
	}
}

static void cmd_peers(nn_console *c)
{
	size_t n = nn_node_peers(c->node, NULL, 0);
	nn_peer_info *p = n ? calloc(n, sizeof *p) : NULL;
	if (n && !p) {
		nn_console_error(c, NN_ENOMEM, NULL);
		return;
	}
	size_t k = nn_node_peers(c->node, p, n);
	if (k > n)
		k = n;
	for (size_t i = 0; i < k; i++)
		nn_console_peer(c, &p[i]);
	free(p);
	print_end(c);
}

static void cmd_stats(nn_console *c)
{
	nn_node_stats s;
	nn_node_get_stats(c->node, &s);
	uint64_t v;
	const char *name;
	for (size_t i = 0; (name = nn_node_stat(&s, i, &v)) != NULL; i++) {
		if (c->json) {
			begin_json(c, "stat");
			field(c, "name", name);
			fprintf(c->out, ",\"value\":%llu", (unsigned long long)v);
			end_object(c);
		} else {
			fprintf(c->out, "stat %s %llu", name, (unsigned long long)v);
			end_event(c);
		}
	}
	print_end(c);
}

/* What the node believes about its own NAT, and why; its keepalive; relays; port mapping:
 *   nat <type> <reflexive|-> <reporters> votes=<n> voters=<n> subnets=<n> filtering=<open|unknown>
 *       keepalive=<s> ka-survived=<s|-> ka-failed=<s|-> relays=<n> [via=<relay allocation>]...
 *       portmap=<off|none|pcp|natpmp|upnp>[ mapped=<addr> ttl=<s>] */
static void cmd_nat(nn_console *c)
{
	nn_nat_info ni;
	nn_node_nat_info(c->node, &ni);
	nn_portmap_info pm;
	nn_node_portmap_info(c->node, &pm);
	const char *filt = ni.filtering_open ? "open" : "unknown";
	if (c->json) {
		begin_json(c, "nat");
		field(c, "type", ni.type);
		field(c, "reflexive", ni.reflexive);
		fprintf(c->out, ",\"reporters\":%u,\"votes\":%u,\"voters\":%u,\"subnets\":%u",
			ni.reporters, ni.votes, ni.voters, ni.subnets);
		field(c, "filtering", filt);
		fprintf(c->out, ",\"keepalive_ms\":%lld,\"ka_survived_ms\":%lld,\"ka_failed_ms\":%lld",
			(long long)ni.keepalive_ms, (long long)ni.ka_survived_ms,
			(long long)ni.ka_failed_ms);
		fprintf(c->out, ",\"relays\":%u,\"via\":[", ni.relays);
		for (unsigned i = 0; i < ni.relays && i < 4; i++) {
			if (i)
				fputc(',', c->out);
			put_json_cstr(c->out, ni.relay[i]);
		}
		fputc(']', c->out);
		field(c, "portmap", pm.state);
		if (pm.external[0]) {
			field(c, "mapped", pm.external);
			fprintf(c->out, ",\"ttl\":%lld", (long long)pm.ttl_s);
		}
		end_object(c);
		return;
	}
	fprintf(c->out, "nat %s ", ni.type);
	put_token(c->out, ni.reflexive[0] ? ni.reflexive : "-");
	fprintf(c->out, " %u votes=%u voters=%u subnets=%u filtering=%s", ni.reporters, ni.votes,
		ni.voters, ni.subnets, filt);
	fprintf(c->out, " keepalive=%.1f", (double)ni.keepalive_ms / 1000);
	if (ni.ka_survived_ms)
		fprintf(c->out, " ka-survived=%.1f", (double)ni.ka_survived_ms / 1000);
	else
		fputs(" ka-survived=-", c->out);
	if (ni.ka_failed_ms)
		fprintf(c->out, " ka-failed=%.1f", (double)ni.ka_failed_ms / 1000);
	else
		fputs(" ka-failed=-", c->out);
	fprintf(c->out, " relays=%u", ni.relays);
	for (unsigned i = 0; i < ni.relays && i < 4; i++) {
		fputs(" via=", c->out);
		put_token(c->out, ni.relay[i]);
	}
	fprintf(c->out, " portmap=%s", pm.state);
	if (pm.external[0]) {
		fputs(" mapped=", c->out);
		put_token(c->out, pm.external);
		fprintf(c->out, " ttl=%lld", (long long)pm.ttl_s);
	}
	end_event(c);
}

/* One screen: who we are, where, behind what, and our edges (see console.h). */
void nn_console_status_print(nn_console *c, const nn_console_status *st)
{
	char hex[65];
	size_t out = 0, sib = 0;
	for (size_t i = 0; i < st->npeers; i++) {
		out += !st->peers[i].inbound;
		sib += st->peers[i].sibling;
	}
	nn_id_format(hex, &st->id);
	const char *refl = st->nat.reflexive;
	char rbuf[sizeof st->nat.reflexive];
	snprintf(rbuf, sizeof rbuf, "%.*s", (int)sizeof rbuf - 1, refl);
	const char *type = st->nat.type ? st->nat.type : "unknown";
	if (c->json) {
		begin_json(c, "status");
		field(c, "id", hex);
		field(c, "phase", st->phase);
		fprintf(c->out,
			",\"edges\":%zu,\"edges_out\":%zu,\"edges_in\":%zu,\"siblings\":%zu,"
			"\"fingers\":%zu,\"known\":%llu,\"local\":[",
			st->npeers, out, st->npeers - out, sib, st->npeers - sib,
			(unsigned long long)st->known);
		for (size_t i = 0; i < st->naddrs; i++) {
			char a[64];
			snprintf(a, sizeof a, "%.*s", 63, st->addrs[i]);
			if (i)
				fputc(',', c->out);
			put_json_cstr(c->out, a);
		}
		fputc(']', c->out);
		field(c, "reflexive", rbuf);
		field(c, "mapped", st->mapped ? st->mapped : "");
		field(c, "nat", type);
		fputs(",\"peers\":[", c->out);
		for (size_t i = 0; i < st->npeers; i++) {
			const nn_peer_info *p = &st->peers[i];
			char a[sizeof p->addr];
			snprintf(a, sizeof a, "%.*s", (int)sizeof a - 1, p->addr);
			nn_id_format(hex, &p->id);
			fprintf(c->out, "%s{\"id\":\"%s\",\"addr\":", i ? "," : "", hex);
			put_json_cstr(c->out, a);
			fprintf(c->out, ",\"dir\":\"%s\",\"role\":\"%s\",\"path\":\"%s\",\"rtt_us\":%lld}",
				p->inbound ? "in" : "out", p->sibling ? "sibling" : "finger",
				p->path ? p->path : "direct", (long long)p->rtt_us);
		}
		fputc(']', c->out);
		end_object(c);
		return;
	}
	fprintf(c->out, "status id %s", hex);
	end_event(c);
	fputs("status phase ", c->out);
	put_token(c->out, st->phase);
	fprintf(c->out, " edges=%zu out=%zu in=%zu siblings=%zu fingers=%zu known=%llu",
		st->npeers, out, st->npeers - out, sib, st->npeers - sib,
		(unsigned long long)st->known);
	end_event(c);
	for (size_t i = 0; i < st->naddrs; i++) {
		char a[64];
		snprintf(a, sizeof a, "%.*s", 63, st->addrs[i]);
		fputs("status local ", c->out);
		put_token(c->out, a);
		end_event(c);
	}
	fputs("status reflexive ", c->out);
	put_token(c->out, rbuf[0] ? rbuf : "-");
	end_event(c);
	fputs("status mapped ", c->out);
	put_token(c->out, st->mapped && st->mapped[0] ? st->mapped : "-");
	end_event(c);
	fputs("status nat ", c->out);
	put_token(c->out, type);
	end_event(c);
	for (size_t i = 0; i < st->npeers; i++) {
		const nn_peer_info *p = &st->peers[i];
		char a[sizeof p->addr];
		snprintf(a, sizeof a, "%.*s", (int)sizeof a - 1, p->addr);
		nn_id_format(hex, &p->id);
		fprintf(c->out, "status edge %s ", hex);
		put_token(c->out, a);
		fprintf(c->out, " %s %s %s rtt=%.1fms", p->inbound ? "in" : "out",
			p->sibling ? "sibling" : "finger", p->path ? p->path : "direct",
			(double)p->rtt_us / 1000);
		end_event(c);
	}
	print_end(c);
}

static void cmd_status(nn_console *c)
{
	nn_console_status st;
	memset(&st, 0, sizeof st);
	char addrs[16][64];
	st.id = *nn_node_id(c->node);
	st.phase = nn_node_phase(c->node);
	st.naddrs = nn_node_addrs(c->node, addrs, 16);
	if (st.naddrs > 16)
		st.naddrs = 16;
	st.addrs = (const char(*)[64])addrs;
	nn_node_nat_info(c->node, &st.nat);
	nn_portmap_info pm;
	nn_node_portmap_info(c->node, &pm);
	st.mapped = pm.external;
	nn_node_stats s;
	nn_node_get_stats(c->node, &s);
	st.known = s.knowledge;
	size_t n = nn_node_peers(c->node, NULL, 0);
	nn_peer_info *p = n ? calloc(n, sizeof *p) : NULL;
	if (n && !p) {
		nn_console_error(c, NN_ENOMEM, NULL);
		return;
	}
	st.npeers = nn_node_peers(c->node, p, n);
	if (st.npeers > n)
		st.npeers = n;
	st.peers = p;
	nn_console_status_print(c, &st);
	free(p);
}

/* ---- asynchronous answers ---- */
void nn_console_keys(nn_console *c, const nn_peer_keys *k)
{
	char hex[65], addr[sizeof k->addrs[0]];
	size_t naddrs = k->naddrs < NN_NODE_MAX_ADDRS ? k->naddrs : NN_NODE_MAX_ADDRS;
	nn_id_format(hex, &k->id);
	if (c->json) {
		begin_json(c, "keys");
		field(c, "id", hex);
		fputs(",\"ed_pub\":\"", c->out);
		put_hex(c->out, k->ed_pub, sizeof k->ed_pub);
		fputs("\",\"x_pub\":\"", c->out);
		put_hex(c->out, k->x_pub, sizeof k->x_pub);
		fputs("\",\"addrs\":[", c->out);
		for (size_t i = 0; i < naddrs; i++) {
			if (i)
				fputc(',', c->out);
			snprintf(addr, sizeof addr, "%.*s", (int)sizeof addr - 1, k->addrs[i]);
			put_json_cstr(c->out, addr);
		}
		fputc(']', c->out);
		end_object(c);
		return;
	}
	fprintf(c->out, "keys %s ", hex);
	put_hex(c->out, k->ed_pub, sizeof k->ed_pub);
	fputc(' ', c->out);
	put_hex(c->out, k->x_pub, sizeof k->x_pub);
	for (size_t i = 0; i < naddrs; i++) {
		snprintf(addr, sizeof addr, "%.*s", (int)sizeof addr - 1, k->addrs[i]);
		fputc(' ', c->out);
		put_token(c->out, addr);
	}
	end_event(c);
}

void nn_console_connected(nn_console *c, const nn_id *target, const char *how, const char *addr)
{
	char hex[65];
	nn_id_format(hex, target);
	if (c->json) {
		begin_json(c, "connected");
		field(c, "id", hex);
		field(c, "how", how);
		field(c, "addr", addr);
		end_object(c);
	} else {
		fprintf(c->out, "connected %s ", hex);
		put_token(c->out, how);
		fputc(' ', c->out);
		put_token(c->out, addr);
		end_event(c);
	}
}

static void on_keys(void *user, int status, const nn_id *target, const nn_peer_keys *k)
{
	nn_console *c = user;
	(void)target;
	if (status < 0)
		nn_console_error(c, status, NULL);
	else
		nn_console_keys(c, k);
}

static void on_connected(void *user, int status, const nn_id *target, const char *how,
			 const char *addr)
{
	nn_console *c = user;
	if (status < 0)
		nn_console_error(c, status, NULL);
	else
		nn_console_connected(c, target, how, addr);
}

static void on_direct_done(void *user, int status, const nn_id *target)
{
	nn_console *c = user;
	(void)target;
	if (status < 0)
		nn_console_error(c, status, NULL);
	else
		nn_console_ok(c);
}

void nn_console_exec(nn_console *c, const char *line, size_t len)
{
	nn_console_cmd cmd;
	char err[160];
	if (nn_console_parse(&cmd, line, len, err, sizeof err) < 0) {
		nn_console_error(c, NN_EINVAL, err);
		return;
	}
	if (cmd.op == NN_CON_NONE)
		return;
	if (cmd.op == NN_CON_QUIT) {
		c->quit = true;
		return;
	}
	if (!c->node) {
		nn_console_error(c, NN_ESTATE, "no node");
		return;
	}
	switch (cmd.op) {
	case NN_CON_SEND: {
		int rc = nn_node_send(c->node, &cmd.target, cmd.text, cmd.text_len);
		if (rc < 0)
			nn_console_error(c, rc, NULL);
		else
			nn_console_ok(c);
		break;
	}
	case NN_CON_DIRECT: {
		int rc = nn_node_send_direct(c->node, &cmd.target, cmd.text, cmd.text_len, 0,
					     on_direct_done, c);
		if (rc < 0)
			nn_console_error(c, rc, NULL);
		break;
	}
	case NN_CON_RENDEZVOUS: {
		int rc = nn_node_rendezvous(c->node, &cmd.target, 0, on_keys, c);
		if (rc < 0)
			nn_console_error(c, rc, NULL);
		break;
	}
	case NN_CON_CONNECT: {
		int rc = nn_node_connect(c->node, &cmd.target, 0, on_connected, c);
		if (rc < 0)
			nn_console_error(c, rc, NULL);
		break;
	}
	case NN_CON_CALL: {
		uint64_t sid;
		int rc = nn_node_media_open(c->node, &cmd.target, 10000, &sid);
		if (rc < 0)
			nn_console_error(c, rc, NULL);
		else
			nn_console_ok(c);
		break;
	}
	case NN_CON_HANGUP:
		cmd_hangup(c, &cmd.target);
		break;
	case NN_CON_SAY:
	case NN_CON_TELL:
		cmd_say(c, &cmd);
		break;
	case NN_CON_PEERS:
		cmd_peers(c);
		break;
	case NN_CON_STATS:
		cmd_stats(c);
		break;
	case NN_CON_NAT:
		cmd_nat(c);
		break;
	case NN_CON_STATUS:
		cmd_status(c);
		break;
	default:
		break;
	}
}

/* ---- line machinery ---- */
int nn_console_init(nn_console *c, nn_node *node, FILE *out, bool json)
{
	memset(c, 0, sizeof *c);
	c->node = node;
	c->out = out;
	c->json = json;
	c->buf = malloc(NN_CONSOLE_MAX_LINE + 1);
	return c->buf ? 0 : NN_ENOMEM;
}

void nn_console_fini(nn_console *c)
{
	free(c->buf);
	c->buf = NULL;
}

void nn_console_feed(nn_console *c, const char *data, size_t len)
{
	while (len && !c->quit) {
		const char *nl = memchr(data, '\n', len);
		size_t seg = nl ? (size_t)(nl - data) : len;
		size_t step = nl ? seg + 1 : seg;
		if (c->discarding) {
			if (nl)
				c->discarding = false;
		} else if (c->len + seg > NN_CONSOLE_MAX_LINE) {
			char msg[96];
			snprintf(msg, sizeof msg, "line longer than %d bytes: ignored",
				 NN_CONSOLE_MAX_LINE);
			nn_console_error(c, NN_ETOOBIG, msg);
			c->len = 0;
			c->discarding = nl == NULL;
		} else {
			memcpy(c->buf + c->len, data, seg);
			c->len += seg;
			if (nl) {
				size_t n = c->len;
				c->len = 0;
				nn_console_exec(c, c->buf, n);
			}
		}
		data += step;
		len -= step;
	}
}

void nn_console_eof(nn_console *c)
{
	if (!c->quit && !c->discarding && c->len) {
		size_t n = c->len;
		c->len = 0;
		nn_console_exec(c, c->buf, n);
	}
	c->len = 0;
	c->discarding = false;
}
