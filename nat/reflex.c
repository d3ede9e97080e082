/* reflex.c — the reflexive-address consolidator. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "nat/reflex.h"

int nn_nat_reflex_init(nn_nat_reflex *r, nn_nat_report *slots, size_t cap,
		       const nn_nat_reflex_opts *opts)
{
	if (!r || !slots || !cap)
		return NN_EINVAL;
	memset(r, 0, sizeof *r);
	memset(slots, 0, cap * sizeof *slots);
	r->slots = slots;
	r->cap = cap;
	nn_nat_reflex_opts d = {.min_votes = 2, .min_subnets = 2, .sym_min_reports = 3,
				.max_age = 600 * NN_SEC};
	if (opts) {
		if (opts->min_votes)
			d.min_votes = opts->min_votes;
		if (opts->min_subnets)
			d.min_subnets = opts->min_subnets;
		if (opts->sym_min_reports)
			d.sym_min_reports = opts->sym_min_reports;
		if (opts->max_age > 0)
			d.max_age = opts->max_age;
	}
	if (d.sym_min_reports < 2)
		d.sym_min_reports = 2;
	r->o = d;
	return 0;
}

bool nn_nat_addr_public(const nn_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (!a || nn_addr_to_sockaddr(a, &ss, &len) < 0)
		return false;
	uint8_t b[16];
	bool v4;
	if (ss.ss_family == AF_INET) {
		memcpy(b, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		v4 = true;
	} else {
		const uint8_t *p = (const uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		v4 = !memcmp(p, mapped, sizeof mapped);
		memcpy(b, v4 ? p + 12 : p, v4 ? 4 : 16);
	}
	if (v4) {
		return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224 ||
			 (b[0] == 169 && b[1] == 254) || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
			 (b[0] == 192 && b[1] == 168));
	}
	static const uint8_t zero[16];
	static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	return memcmp(b, zero, 16) && memcmp(b, one, 16) && b[0] != 0xff && /* multicast */
	       (b[0] & 0xfe) != 0xfc &&                                     /* ULA fc00::/7 */
	       !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80);                    /* fe80::/10 */
}

static nn_nat_report *find(nn_nat_reflex *r, const nn_id *reporter)
{
	for (size_t i = 0; i < r->cap; i++)
		if (r->slots[i].used && nn_kad_id_eq(&r->slots[i].reporter, reporter))
			return &r->slots[i];
	return NULL;
}

static int report(nn_nat_reflex *r, const nn_id *reporter, const nn_addr *reporter_addr,
		  bool keyed, const uint8_t *subnet, const nn_addr *observed, nn_time now)
{
	if (!r || !reporter || !reporter_addr || !observed || !observed->ep_len)
		return NN_EINVAL;
	nn_nat_report *s = find(r, reporter);
	if (!s) {
		s = &r->slots[0];
		for (size_t i = 0; i < r->cap; i++) {
			if (!r->slots[i].used) {
				s = &r->slots[i];
				break;
			}
			if (r->slots[i].at < s->at)
				s = &r->slots[i]; /* the oldest report gives way */
		}
	}
	memset(s, 0, sizeof *s);
	s->used = true;
	s->reporter = *reporter;
	s->observed = *observed;
	s->at = now;
	bool ip = nn_addr_is_quic(reporter_addr);
	if (!keyed)
		s->has_subnet = nn_addr_subnet(reporter_addr, s->subnet) == 0;
	else if ((s->has_subnet = subnet != NULL))
		memcpy(s->subnet, subnet, 16);
	/* An IP reporter votes only when it and what it names are public; a reporter of another
	 * transport (in-memory) has no notion of private space and always votes. */
	s->votes = ip ? nn_nat_addr_public(reporter_addr) && nn_nat_addr_public(observed) : true;
	r->reports++;
	if (!s->votes)
		r->ignored++;
	return s->votes ? 0 : 1;
}

int nn_nat_reflex_report(nn_nat_reflex *r, const nn_id *reporter, const nn_addr *reporter_addr,
			 const nn_addr *observed, nn_time now)
{
	return report(r, reporter, reporter_addr, false, NULL, observed, now);
}

int nn_nat_reflex_report_keyed(nn_nat_reflex *r, const nn_id *reporter,
			       const nn_addr *reporter_addr, const uint8_t *subnet,
			       const nn_addr *observed, nn_time now)
{
	return report(r, reporter, reporter_addr, true, subnet, observed, now);
}

void nn_nat_reflex_forget(nn_nat_reflex *r, const nn_id *reporter)
{
	nn_nat_report *s = r && reporter ? find(r, reporter) : NULL;
	if (s)
		memset(s, 0, sizeof *s);
}

void nn_nat_reflex_note_unsolicited(nn_nat_reflex *r, nn_time now)
{
	if (r)
		r->unsolicited_at = now ? now : 1;
}

static bool live(const nn_nat_reflex *r, const nn_nat_report *s, nn_time now)
{
	return s->used && (now - s->at) <= r->o.max_age;
}

/* Distinct subnets among the voting reports naming `ep` (those without a subnet not counted),
 * and how many reports name it; *all_unkeyed when none of them has a subnet. */
static unsigned subnets_of(const nn_nat_reflex *r, const nn_addr *ep, nn_time now,
			   unsigned *votes, bool *all_unkeyed, nn_time *latest)
{
	unsigned subnets = 0;
	*votes = 0;
	*all_unkeyed = true;
	*latest = 0;
	for (size_t i = 0; i < r->cap; i++) {
		const nn_nat_report *s = &r->slots[i];
		if (!live(r, s, now) || !s->votes || !nn_addr_eq(&s->observed, ep))
			continue;
		(*votes)++;
		if (s->at > *latest)
			*latest = s->at;
		if (!s->has_subnet)
			continue;
		*all_unkeyed = false;
		bool fresh = true;
		for (size_t j = 0; j < i && fresh; j++) {
			const nn_nat_report *t = &r->slots[j];
			fresh = !(live(r, t, now) && t->votes && t->has_subnet &&
				  nn_addr_eq(&t->observed, ep) && !memcmp(t->subnet, s->subnet, 16));
		}
		subnets += fresh;
	}
	return subnets;
}

bool nn_nat_reflex_tally(const nn_nat_reflex *r, const nn_addr *ep, nn_time now, unsigned *votes,
			 unsigned *subnets)
{
	bool unkeyed;
	nn_time latest;
	*subnets = subnets_of(r, ep, now, votes, &unkeyed, &latest);
	return *votes >= r->o.min_votes && (unkeyed || *subnets >= r->o.min_subnets);
}

void nn_nat_reflex_verdict(const nn_nat_reflex *r, const nn_addr *local, size_t nlocal,
			   nn_time now, nn_nat_verdict *out)
{
	memset(out, 0, sizeof *out);
	if (!r)
		return;
	out->filter = r->unsolicited_at ? NN_NAT_FILTER_OPEN : NN_NAT_FILTER_UNKNOWN;
	unsigned all_subnets = 0;
	bool any_keyed = false;
	const nn_nat_report *best = NULL;
	unsigned best_votes = 0, best_subnets = 0;
	nn_time best_latest = 0;
	for (size_t i = 0; i < r->cap; i++) {
		const nn_nat_report *s = &r->slots[i];
		if (!live(r, s, now))
			continue;
		out->reporters++;
		if (!s->votes)
			continue;
		out->voters++;
		/* distinct subnets among all voters, and distinct endpoints (first of each kind) */
		bool new_ep = true, new_sub = s->has_subnet;
		for (size_t j = 0; j < i; j++) {
			const nn_nat_report *t = &r->slots[j];
			if (!live(r, t, now) || !t->votes)
				continue;
			if (nn_addr_eq(&t->observed, &s->observed))
				new_ep = false;
			if (s->has_subnet && t->has_subnet && !memcmp(t->subnet, s->subnet, 16))
				new_sub = false;
		}
		any_keyed |= s->has_subnet;
		all_subnets += new_sub;
		if (!new_ep)
			continue;
		out->endpoints++;
		unsigned votes;
		bool unkeyed;
		nn_time latest;
		unsigned subs = subnets_of(r, &s->observed, now, &votes, &unkeyed, &latest);
		bool confirmed = votes >= r->o.min_votes && (unkeyed || subs >= r->o.min_subnets);
		if (!confirmed)
			continue;
		if (!best || votes > best_votes || (votes == best_votes && subs > best_subnets) ||
		    (votes == best_votes && subs == best_subnets && latest > best_latest)) {
			best = s;
			best_votes = votes;
			best_subnets = subs;
			best_latest = latest;
		}
	}
	if (best) {
		out->confirmed = true;
		out->reflexive = best->observed;
		out->votes = best_votes;
		out->vote_subnets = best_subnets;
		out->type = NN_NAT_CONE;
		for (size_t i = 0; i < nlocal; i++)
			if (local && nn_addr_eq(&local[i], &best->observed))
				out->type = NN_NAT_PUBLIC;
		return;
	}
	/* Symmetric on evidence: nothing confirmed, yet at least sym_min_reports different
	 * endpoints (so as many reporters), from more than one subnet (or from a transport without
	 * subnets). */
	if (out->endpoints >= r->o.sym_min_reports &&
	    (!any_keyed || all_subnets >= r->o.min_subnets))
		out->type = NN_NAT_SYMMETRIC;
}

const char *nn_nat_type_name(nn_nat_type t)
{
	switch (t) {
	case NN_NAT_PUBLIC:
		return "public";
	case NN_NAT_CONE:
		return "cone";
	case NN_NAT_SYMMETRIC:
		return "symmetric";
	default:
		return "unknown";
	}
}
