/* reflex.h — what our neighbours see of us: reflexive-address consolidation and NAT type.
 *
 * One purpose: turn neighbours' reports of the address our packets arrive from (each Pong
 * carries the address the responder saw our connection come from) into a verdict a node can
 * act on: our confirmed reflexive address, the NAT's mapping behaviour (public, endpoint-
 * independent "cone", endpoint-dependent "symmetric", or unknown) and, where evidence allows,
 * its filtering.
 *
 * Rules (all local policy, DESIGN §5.6; the reference's count-only test is fooled by one liar
 * or a small overlay):
 * - one report per reporter (the latest), at most `cap` reporters (the oldest report gives way),
 *   reports older than max_age are ignored; a reporter's report is forgotten with its edge;
 * - reporters whose own address is private, loopback or link-local do not vote on the public
 *   mapping (they see our LAN side), nor does a report that names a non-public address;
 * - an address is confirmed when at least min_votes reporters name it and they sit in at least
 *   min_subnets distinct subnets (/24, /64); when no voter has a subnet (in-memory transport)
 *   the vote count alone decides;
 * - symmetric (endpoint-dependent mapping) only on evidence: no address confirmed, and voting
 *   reporters naming at least sym_min_reports *different* endpoints, from at least min_subnets
 *   subnets — a symmetric NAT gives every destination its own port, so each reporter sees a
 *   different one; one liar among honest reporters cannot make us symmetric (the honest ones
 *   confirm), and two reports cannot either (unknown: the node still tries to punch);
 * - filtering is "open" once an unsolicited inbound connection arrived (endpoint-independent
 *   filtering or no NAT), otherwise unknown.
 * Ownership: the caller provides the report slots (fixed, no allocation); time is `now`.
 */
#ifndef NN_NAT_REFLEX_H
#define NN_NAT_REFLEX_H

#include <stdbool.h>
#include <stddef.h>

#include "kad/kad.h"
#include "kad/nn_time.h"
#include "transport/addr.h"

typedef enum nn_nat_type {
	NN_NAT_UNKNOWN = 0,   /* not enough evidence */
	NN_NAT_PUBLIC = 1,    /* the confirmed address is one of our own: no NAT */
	NN_NAT_CONE = 2,      /* endpoint-independent mapping: one public endpoint for everyone */
	NN_NAT_SYMMETRIC = 3, /* endpoint-dependent mapping: a new port per destination */
} nn_nat_type;

typedef enum nn_nat_filter {
	NN_NAT_FILTER_UNKNOWN = 0,
	NN_NAT_FILTER_OPEN = 1, /* unsolicited inbound arrived */
} nn_nat_filter;

typedef struct nn_nat_report {
	nn_id reporter;
	nn_addr observed;   /* what the reporter saw our address as */
	uint8_t subnet[16]; /* the reporter's subnet key, when has_subnet */
	bool has_subnet;
	bool votes;         /* a public reporter naming a public address */
	bool used;
	nn_time at;
} nn_nat_report;

typedef struct nn_nat_reflex_opts {
	unsigned min_votes;       /* reporters that must agree [2] */
	unsigned min_subnets;     /* distinct subnets among them [2] */
	unsigned sym_min_reports; /* distinct endpoints from as many reporters for symmetric [3] */
	nn_time max_age;          /* reports older than this are ignored [10 min] */
} nn_nat_reflex_opts;

typedef struct nn_nat_reflex {
	nn_nat_report *slots;
	size_t cap;
	nn_nat_reflex_opts o;
	nn_time unsolicited_at; /* last unsolicited inbound, 0 = never */
	uint64_t reports, ignored;
} nn_nat_reflex;

typedef struct nn_nat_verdict {
	nn_nat_type type;
	nn_nat_filter filter;
	bool confirmed;        /* reflexive is valid */
	nn_addr reflexive;     /* the confirmed reflexive address */
	unsigned votes;        /* reporters naming it */
	unsigned vote_subnets; /* distinct subnets among them */
	unsigned voters;       /* voting reporters in all */
	unsigned endpoints;    /* distinct endpoints they name */
	unsigned reporters;    /* reports held, voting or not */
} nn_nat_verdict;

/* opts may be NULL (defaults). NN_EINVAL. */
int nn_nat_reflex_init(nn_nat_reflex *r, nn_nat_report *slots, size_t cap,
		       const nn_nat_reflex_opts *opts);
/* reporter saw our connection come from `observed`; reporter_addr is where we see the reporter
 * (its subnet and whether it may vote). 0 when it votes, 1 when kept without a vote,
 * NN_EINVAL. */
int nn_nat_reflex_report(nn_nat_reflex *r, const nn_id *reporter, const nn_addr *reporter_addr,
			 const nn_addr *observed, nn_time now);
/* The same with the reporter's subnet key given by the caller (the node's source-key hook, so
 * the reflexive vote, admission and the routing tables agree on what a subnet is); subnet NULL:
 * none (reporter_addr then decides only whether the reporter may vote). */
int nn_nat_reflex_report_keyed(nn_nat_reflex *r, const nn_id *reporter,
			       const nn_addr *reporter_addr, const uint8_t *subnet,
			       const nn_addr *observed, nn_time now);
/* How the live voting reports naming ep stand at now: *votes reporters, from *subnets distinct
 * subnets; returns true when ep is confirmed by them (the verdict's rule). */
bool nn_nat_reflex_tally(const nn_nat_reflex *r, const nn_addr *ep, nn_time now, unsigned *votes,
			 unsigned *subnets);
/* The reporter's edge is gone: forget its report. */
void nn_nat_reflex_forget(nn_nat_reflex *r, const nn_id *reporter);
/* An inbound connection arrived that we did not solicit (no dial or punch of ours preceded it). */
void nn_nat_reflex_note_unsolicited(nn_nat_reflex *r, nn_time now);
/* The verdict at `now`. local: our own bound addresses (a confirmed address equal to one of them
 * means no NAT). */
void nn_nat_reflex_verdict(const nn_nat_reflex *r, const nn_addr *local, size_t nlocal,
			   nn_time now, nn_nat_verdict *out);
/* Is a an address a public reporter can vote with / a mapping can be: a literal IP that is not
 * private (RFC 1918, fc00::/7), loopback, link-local, unspecified or multicast. */
bool nn_nat_addr_public(const nn_addr *a);
const char *nn_nat_type_name(nn_nat_type t);

#endif
