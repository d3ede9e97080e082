/* test_nat.c — the pure NAT layer: Connect/ConnectAck codec, reflexive consolidation and the
 * evidence rules for the NAT type (DESIGN §5.6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "nat/nat.h"
#include "wire/wire.h"

static nn_addr q(const char *ep)
{
	nn_addr a;
	assert_int_equal(nn_addr_set(&a, "quic", ep), 0);
	return a;
}

static nn_id idn(uint8_t k)
{
	nn_id id;
	memset(&id, k, sizeof id);
	return id;
}

/* ---- Connect / ConnectAck ---- */
static void test_connect_roundtrip_and_strictness(void **state)
{
	nn_nat_connect m, d;
	memset(&m, 0, sizeof m);
	for (int i = 0; i < 16; i++)
		m.nonce[i] = (uint8_t)(i * 7);
	m.naddrs = 2;
	m.addrs[0] = q("198.51.100.7:4242");
	m.addrs[1] = q("[2001:db8::1]:4242");
	uint8_t buf[NN_NAT_CONNECT_MAX];
	int len = nn_nat_connect_encode(&m, buf, sizeof buf);
	assert_true(len > 16);
	assert_int_equal(nn_nat_connect_decode(&d, buf, (size_t)len), 0);
	assert_memory_equal(d.nonce, m.nonce, 16);
	assert_int_equal(d.naddrs, 2);
	assert_true(nn_addr_eq(&d.addrs[1], &m.addrs[1]));
	/* empty list: nonce + 00 */
	m.naddrs = 0;
	assert_int_equal(nn_nat_connect_encode(&m, buf, sizeof buf), 17);
	assert_int_equal(nn_nat_connect_decode(&d, buf, 17), 0);
	assert_false(d.has_hint); /* the reference sends no hint */
	/* one byte after the list is the NAT hint (libnodenet addition); two are trailing bytes
	 * (the reference ignores them; we refuse) */
	buf[17] = 0;
	buf[18] = 0;
	assert_int_equal(nn_nat_connect_decode(&d, buf, 18), 0);
	assert_true(d.has_hint);
	assert_int_equal(d.hint, 0);
	assert_int_equal(nn_nat_connect_decode(&d, buf, 19), NN_ETRAILING);
	/* truncated nonce, missing list */
	assert_int_equal(nn_nat_connect_decode(&d, buf, 15), NN_ETRUNC);
	assert_int_equal(nn_nat_connect_decode(&d, buf, 16), NN_ETRUNC);
	/* 17 addresses: refused before any is read */
	buf[16] = 17;
	memset(buf + 17, 0, 40);
	assert_int_equal(nn_nat_connect_decode(&d, buf, 57), NN_ELIMIT);
	/* non-minimal count */
	buf[16] = 0x80;
	buf[17] = 0x00;
	assert_int_equal(nn_nat_connect_decode(&d, buf, 18), NN_ENONMINIMAL);
	/* encoder refuses what the decoder would refuse */
	m.naddrs = 17;
	assert_int_equal(nn_nat_connect_encode(&m, buf, sizeof buf), NN_ELIMIT);
	m.naddrs = 1;
	assert_int_equal(nn_nat_connect_encode(&m, buf, 10), NN_ENOSPC);
	assert_int_equal(nn_nat_connect_decode(NULL, buf, 1), NN_EINVAL);
	/* an address outside the host:port grammar (a line-forging one) sinks the whole payload:
	 * the envelope signature covers the list as sent */
	memset(&m, 0, sizeof m);
	m.naddrs = 1;
	assert_int_equal(nn_addr_set(&m.addrs[0], "quic", "127.0.0.1:1\nrecv x"), 0);
	len = nn_nat_connect_encode(&m, buf, sizeof buf);
	assert_true(len > 0);
	assert_int_equal(nn_nat_connect_decode(&d, buf, (size_t)len), NN_EADDR);
	assert_int_equal(d.naddrs, 0);
}

/* The NAT hint rides after the address list and round-trips; the reference's payload (no hint)
 * still decodes. */
static void test_connect_nat_hint(void **state)
{
	(void)state;
	nn_nat_connect m, d;
	memset(&m, 0, sizeof m);
	m.naddrs = 1;
	m.addrs[0] = q("198.51.100.7:4242");
	uint8_t buf[NN_NAT_CONNECT_MAX];
	int plain = nn_nat_connect_encode(&m, buf, sizeof buf);
	assert_true(plain > 0);
	m.has_hint = true;
	m.hint = nn_nat_hint_make(NN_NAT_SYMMETRIC, false);
	assert_int_equal(m.hint, 0x03);
	int len = nn_nat_connect_encode(&m, buf, sizeof buf);
	assert_int_equal(len, plain + 1);
	assert_int_equal(buf[len - 1], 0x03);
	assert_int_equal(nn_nat_connect_decode(&d, buf, (size_t)len), 0);
	assert_true(d.has_hint);
	assert_int_equal(d.hint, 0x03);
	assert_int_equal(d.naddrs, 1);
	assert_int_equal(nn_nat_hint_make(NN_NAT_CONE, true), 0x06);
	/* the largest payload with its hint fits NN_NAT_CONNECT_MAX */
	memset(&m, 0, sizeof m);
	m.naddrs = NN_NAT_MAX_ADDRS;
	for (size_t i = 0; i < m.naddrs; i++) {
		char host[96];
		snprintf(host, sizeof host, "h%053u.ex:65535", (unsigned)i); /* 63 bytes */
		assert_int_equal(nn_addr_set(&m.addrs[i], "quic", host), 0);
	}
	m.has_hint = true;
	len = nn_nat_connect_encode(&m, buf, sizeof buf);
	assert_true(len > 0);
	assert_int_equal(nn_nat_connect_decode(&d, buf, (size_t)len), 0);
	assert_true(d.has_hint);
}

/* Birthday probing only between exactly one symmetric side and a cone / filtered public one. */
static void test_birthday_role(void **state)
{
	(void)state;
	uint8_t sym = nn_nat_hint_make(NN_NAT_SYMMETRIC, false);
	uint8_t cone = nn_nat_hint_make(NN_NAT_CONE, false);
	uint8_t pub = nn_nat_hint_make(NN_NAT_PUBLIC, false);
	uint8_t open_cone = nn_nat_hint_make(NN_NAT_CONE, true);
	uint8_t unknown = nn_nat_hint_make(NN_NAT_UNKNOWN, false);
	/* symmetric side opens sockets toward cone / filtered public */
	assert_int_equal(nn_nat_birthday_role(NN_NAT_SYMMETRIC, false, true, cone),
			 NN_NAT_BDAY_SOCKETS);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_SYMMETRIC, false, true, pub),
			 NN_NAT_BDAY_SOCKETS);
	/* the other side sprays */
	assert_int_equal(nn_nat_birthday_role(NN_NAT_CONE, false, true, sym), NN_NAT_BDAY_SPRAY);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_PUBLIC, false, true, sym), NN_NAT_BDAY_SPRAY);
	/* never symmetric x symmetric, never without a hint, never an unknown side, never an
	 * open filter (the plain punch gets through) */
	assert_int_equal(nn_nat_birthday_role(NN_NAT_SYMMETRIC, false, true, sym), 0);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_SYMMETRIC, false, false, 0), 0);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_CONE, false, false, 0), 0);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_SYMMETRIC, false, true, unknown), 0);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_UNKNOWN, false, true, sym), 0);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_SYMMETRIC, false, true, open_cone), 0);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_CONE, true, true, sym), 0);
	assert_int_equal(nn_nat_birthday_role(NN_NAT_CONE, false, true, cone), 0);
	/* reserved bits are ignored */
	assert_int_equal(nn_nat_birthday_role(NN_NAT_CONE, false, true, (uint8_t)(sym | 0xf8)),
			 NN_NAT_BDAY_SPRAY);
}

/* ---- consolidation ---- */
struct fx {
	nn_nat_report slots[8];
	nn_nat_reflex r;
	nn_nat_verdict v;
	nn_addr local;
};

static void fx_init(struct fx *f)
{
	assert_int_equal(nn_nat_reflex_init(&f->r, f->slots, 8, NULL), 0);
	f->local = q("10.0.1.2:4242");
}

static void verdict(struct fx *f, nn_time now)
{
	nn_nat_reflex_verdict(&f->r, &f->local, 1, now, &f->v);
}

static void test_confirmed_across_subnets(void **state)
{
	struct fx f;
	fx_init(&f);
	nn_addr ours = q("100.64.9.2:4242");
	/* an empty observed address is refused */
	nn_addr empty;
	memset(&empty, 0, sizeof empty);
	assert_int_equal(nn_nat_reflex_report(&f.r, &(nn_id){{9}}, &ours, &empty, 1), NN_EINVAL);
	/* one reporter: nothing confirmed, nothing claimed */
	nn_id a = idn(1), b = idn(2), c = idn(3);
	nn_addr ra = q("100.64.1.2:4242"), ra2 = q("100.64.1.9:4242"), rb = q("100.64.2.2:4242");
	assert_int_equal(nn_nat_reflex_report(&f.r, &a, &ra, &ours, NN_SEC), 0);
	verdict(&f, NN_SEC);
	assert_false(f.v.confirmed);
	assert_int_equal(f.v.type, NN_NAT_UNKNOWN);
	/* a second reporter in the SAME /24 does not corroborate */
	assert_int_equal(nn_nat_reflex_report(&f.r, &c, &ra2, &ours, NN_SEC), 0);
	verdict(&f, NN_SEC);
	assert_false(f.v.confirmed);
	/* one from another /24 does */
	assert_int_equal(nn_nat_reflex_report(&f.r, &b, &rb, &ours, 2 * NN_SEC), 0);
	verdict(&f, 2 * NN_SEC);
	assert_true(f.v.confirmed);
	assert_true(nn_addr_eq(&f.v.reflexive, &ours));
	assert_int_equal(f.v.type, NN_NAT_CONE);
	assert_int_equal(f.v.votes, 3);
	assert_int_equal(f.v.vote_subnets, 2);
	/* no NAT: the confirmed address is our own */
	f.local = ours;
	verdict(&f, 2 * NN_SEC);
	assert_int_equal(f.v.type, NN_NAT_PUBLIC);
	/* forgetting a reporter's edge withdraws its vote */
	nn_nat_reflex_forget(&f.r, &b);
	verdict(&f, 2 * NN_SEC);
	assert_false(f.v.confirmed);
	/* reports expire */
	assert_int_equal(nn_nat_reflex_report(&f.r, &b, &rb, &ours, 2 * NN_SEC), 0);
	verdict(&f, 2 * NN_SEC + 601 * NN_SEC);
	assert_false(f.v.confirmed);
	assert_int_equal(f.v.reporters, 0);
}

static void test_private_reporters_do_not_vote(void **state)
{
	struct fx f;
	fx_init(&f);
	nn_addr lan1 = q("192.168.1.5:4242"), lan2 = q("10.9.0.5:4242");
	nn_addr seen_lan = q("192.168.1.2:4242"), pub = q("100.64.7.1:5000");
	assert_int_equal(nn_nat_reflex_report(&f.r, &(nn_id){{1}}, &lan1, &seen_lan, 1), 1);
	assert_int_equal(nn_nat_reflex_report(&f.r, &(nn_id){{2}}, &lan2, &pub, 1), 1);
	/* a public reporter naming a private address is not believed either */
	nn_addr wan = q("100.64.1.2:4242");
	assert_int_equal(nn_nat_reflex_report(&f.r, &(nn_id){{3}}, &wan, &seen_lan, 1), 1);
	verdict(&f, 1);
	assert_int_equal(f.v.reporters, 3);
	assert_int_equal(f.v.voters, 0);
	assert_int_equal(f.v.type, NN_NAT_UNKNOWN);
	/* the reference's count-only test calls this mix (3 reporters, no address with 3 votes)
	 * symmetric: LAN peers plus one WAN peer. We do not. */
	assert_int_equal(nn_nat_reflex_report(&f.r, &(nn_id){{3}}, &wan, &pub, 2), 0);
	verdict(&f, 2);
	assert_int_equal(f.v.type, NN_NAT_UNKNOWN);
	assert_true(nn_nat_addr_public(&wan));
	assert_false(nn_nat_addr_public(&lan2));
	nn_addr loop = q("127.0.0.1:1"), ll = q("[fe80::1]:1"), ula = q("[fd00::1]:1"),
		g6 = q("[2001:db8::5]:1"), mapped = q("[::ffff:10.1.2.3]:1");
	assert_false(nn_nat_addr_public(&loop));
	assert_false(nn_nat_addr_public(&ll));
	assert_false(nn_nat_addr_public(&ula));
	assert_false(nn_nat_addr_public(&mapped));
	assert_true(nn_nat_addr_public(&g6));
	nn_addr mem;
	nn_addr_set(&mem, "mem", "n1");
	assert_false(nn_nat_addr_public(&mem));
}

/* Symmetric needs evidence: three different endpoints from reporters in more than one subnet.
 * Two reports that disagree are not enough (a small overlay, or one liar), and one liar among
 * honest reporters cannot turn a cone into a symmetric NAT. */
static void test_symmetric_on_evidence_only(void **state)
{
	struct fx f;
	fx_init(&f);
	nn_addr r1 = q("100.64.1.2:4242"), r2 = q("100.64.2.2:4242"), r3 = q("100.64.3.2:4242");
	nn_addr p1 = q("100.64.9.2:31001"), p2 = q("100.64.9.2:48213"), p3 = q("100.64.9.2:1777");
	nn_nat_reflex_report(&f.r, &(nn_id){{1}}, &r1, &p1, 1);
	nn_nat_reflex_report(&f.r, &(nn_id){{2}}, &r2, &p2, 1);
	verdict(&f, 1);
	assert_int_equal(f.v.type, NN_NAT_UNKNOWN); /* two disagree: could be one liar */
	nn_nat_reflex_report(&f.r, &(nn_id){{3}}, &r3, &p3, 1);
	verdict(&f, 1);
	assert_int_equal(f.v.type, NN_NAT_SYMMETRIC);
	assert_false(f.v.confirmed);
	assert_int_equal(f.v.endpoints, 3);

	/* the same three endpoints, all from one /24: no evidence across subnets */
	struct fx g;
	fx_init(&g);
	nn_addr s1 = q("100.64.1.2:4242"), s2 = q("100.64.1.3:4242"), s3 = q("100.64.1.4:4242");
	nn_nat_reflex_report(&g.r, &(nn_id){{1}}, &s1, &p1, 1);
	nn_nat_reflex_report(&g.r, &(nn_id){{2}}, &s2, &p2, 1);
	nn_nat_reflex_report(&g.r, &(nn_id){{3}}, &s3, &p3, 1);
	verdict(&g, 1);
	assert_int_equal(g.v.type, NN_NAT_UNKNOWN);

	/* cone: two honest reporters in two subnets agree; a liar names a third port */
	struct fx h;
	fx_init(&h);
	nn_nat_reflex_report(&h.r, &(nn_id){{1}}, &r1, &p1, 1);
	nn_nat_reflex_report(&h.r, &(nn_id){{2}}, &r2, &p1, 1);
	nn_nat_reflex_report(&h.r, &(nn_id){{3}}, &r3, &p3, 1);
	verdict(&h, 1);
	assert_int_equal(h.v.type, NN_NAT_CONE);
	assert_true(nn_addr_eq(&h.v.reflexive, &p1));
	assert_int_equal(h.v.endpoints, 2);
	/* a reporter's newer report replaces its older one */
	nn_nat_reflex_report(&h.r, &(nn_id){{3}}, &r3, &p1, 2);
	verdict(&h, 2);
	assert_int_equal(h.v.votes, 3);
	assert_int_equal(h.v.endpoints, 1);
}

/* Reports keyed by the caller (the node's source-key hook: the in-memory simulator gives mem
 * reporters synthetic subnets). Two liars of one subnet naming a fake address outnumber the
 * one honest reporter so far, yet confirm nothing (the tally says why: 2 votes, 1 subnet); one
 * liar among three reporters is outvoted once a second honest subnet agrees. */
static void test_keyed_reports_one_subnet_quorum(void **state)
{
	struct fx f;
	fx_init(&f);
	nn_addr mem1, mem2, mem3, mem4, ours, fake = q("198.51.100.7:4242");
	nn_addr_set(&mem1, "mem", "n1");
	nn_addr_set(&mem2, "mem", "n2");
	nn_addr_set(&mem3, "mem", "n3");
	nn_addr_set(&mem4, "mem", "n4");
	nn_addr_set(&ours, "mem", "n0");
	uint8_t liars[16] = {10, 250, 0, 0}, h1[16] = {10, 1, 0, 0}, h2[16] = {10, 2, 0, 0};
	unsigned votes, subnets;
	assert_int_equal(nn_nat_reflex_report_keyed(&f.r, &(nn_id){{1}}, &mem1, h1, &ours, 1), 0);
	assert_int_equal(nn_nat_reflex_report_keyed(&f.r, &(nn_id){{2}}, &mem2, liars, &fake, 1), 0);
	assert_int_equal(nn_nat_reflex_report_keyed(&f.r, &(nn_id){{3}}, &mem3, liars, &fake, 1), 0);
	verdict(&f, 1);
	assert_false(f.v.confirmed);
	assert_false(nn_nat_reflex_tally(&f.r, &fake, 1, &votes, &subnets));
	assert_int_equal(votes, 2);
	assert_int_equal(subnets, 1);
	/* without keys (the plain mem report) the same two votes would confirm it */
	struct fx g;
	fx_init(&g);
	nn_nat_reflex_report(&g.r, &(nn_id){{2}}, &mem2, &fake, 1);
	nn_nat_reflex_report(&g.r, &(nn_id){{3}}, &mem3, &fake, 1);
	assert_true(nn_nat_reflex_tally(&g.r, &fake, 1, &votes, &subnets));
	/* a second honest subnet confirms the truth; the liars stay outvoted */
	assert_int_equal(nn_nat_reflex_report_keyed(&f.r, &(nn_id){{4}}, &mem4, h2, &ours, 2), 0);
	verdict(&f, 2);
	assert_true(f.v.confirmed);
	assert_true(nn_addr_eq(&f.v.reflexive, &ours));
	assert_true(nn_nat_reflex_tally(&f.r, &ours, 2, &votes, &subnets));
	assert_int_equal(subnets, 2);
	/* one liar among three keyed reporters: the two honest ones confirm */
	nn_nat_reflex_forget(&f.r, &(nn_id){{3}});
	verdict(&f, 2);
	assert_true(f.v.confirmed);
	assert_true(nn_addr_eq(&f.v.reflexive, &ours));
	/* a NULL key is a reporter without a subnet */
	assert_int_equal(nn_nat_reflex_report_keyed(&f.r, &(nn_id){{5}}, &mem1, NULL, &ours, 3), 0);
	assert_true(nn_nat_reflex_tally(&f.r, &ours, 3, &votes, &subnets));
	assert_int_equal(votes, 3);
	assert_int_equal(subnets, 2);
}

/* In-memory transport: no subnets, no private space; the vote count decides. A full table gives
 * way to the oldest report. Filtering is open once unsolicited inbound arrived. */
static void test_unkeyed_reporters_and_capacity(void **state)
{
	struct fx f;
	fx_init(&f);
	nn_addr me, other;
	nn_addr_set(&me, "mem", "nat-7");
	nn_addr_set(&other, "mem", "nat-9");
	for (uint8_t i = 1; i <= 8; i++) {
		nn_addr r;
		char name[8];
		snprintf(name, sizeof name, "n%u", i);
		nn_addr_set(&r, "mem", name);
		assert_int_equal(nn_nat_reflex_report(&f.r, &(nn_id){{i}}, &r, i <= 2 ? &other : &me,
						      i), 0);
	}
	verdict(&f, 10);
	assert_true(f.v.confirmed);
	assert_true(nn_addr_eq(&f.v.reflexive, &me));
	assert_int_equal(f.v.votes, 6);
	assert_int_equal(f.v.filter, NN_NAT_FILTER_UNKNOWN);
	/* a ninth reporter replaces the oldest (reporter 1) */
	nn_addr r9;
	nn_addr_set(&r9, "mem", "n9");
	nn_nat_reflex_report(&f.r, &(nn_id){{9}}, &r9, &me, 11);
	verdict(&f, 11);
	assert_int_equal(f.v.reporters, 8);
	assert_int_equal(f.v.votes, 7);
	nn_nat_reflex_note_unsolicited(&f.r, 12);
	verdict(&f, 12);
	assert_int_equal(f.v.filter, NN_NAT_FILTER_OPEN);
	assert_string_equal(nn_nat_type_name(NN_NAT_SYMMETRIC), "symmetric");
}

/* ---- keepalive: the mapping-lifetime estimator and the probe frames ---- */

/* A NAT that keeps mappings `life` long: a probe of silence g survives iff g < life. */
static nn_nat_ka_outcome nat_with_life(nn_time life, nn_time g) { return g < life ? NN_NAT_KA_SURVIVED : NN_NAT_KA_FAILED; }

static nn_time learn(nn_nat_ka *k, nn_time life, nn_time *now, int rounds, int *probes)
{
	*probes = 0;
	for (int i = 0; i < rounds; i++) {
		nn_time g = nn_nat_ka_probe_start(k, *now);
		if (!g) {
			*now += NN_SEC;
			continue;
		}
		(*probes)++;
		*now += g;
		nn_nat_ka_probe_done(k, *now, nat_with_life(life, g), g);
	}
	return nn_nat_ka_interval(k);
}

static void test_keepalive_learns_upward_and_stays_under_the_timeout(void **state)
{
	(void)state;
	nn_nat_ka k;
	nn_time now = 0;
	int probes;
	nn_nat_ka_init(&k, now);
	assert_int_equal(nn_nat_ka_interval(&k), NN_NAT_KA_DEFAULT); /* no evidence: the default */
	/* a long-lived mapping (3 minutes): up to the cap, in a few probes, then quiet */
	assert_int_equal(learn(&k, 180 * NN_SEC, &now, 200, &probes), NN_NAT_KA_MAX);
	assert_in_range(probes, 2, 4);
	assert_int_equal(nn_nat_ka_probe_start(&k, now), 0); /* converged: re-check later */
	now += NN_NAT_KA_RECHECK;
	assert_true(nn_nat_ka_probe_start(&k, now) > 0);
	/* mappings of 30 s, 45 s and 20 s: the interval ends under each, never under 60% of it */
	nn_time lives[] = {30 * NN_SEC, 45 * NN_SEC, 20 * NN_SEC, 12 * NN_SEC};
	for (size_t i = 0; i < sizeof lives / sizeof lives[0]; i++) {
		nn_nat_ka_init(&k, now = 0);
		nn_time iv = learn(&k, lives[i], &now, 300, &probes);
		assert_true(iv < lives[i]);
		if (lives[i] > NN_NAT_KA_DEFAULT)
			assert_true(iv >= NN_NAT_KA_DEFAULT); /* never below the default when it is safe */
		assert_true(iv >= lives[i] * 6 / 10);
		assert_true(probes <= 8); /* bounded: bisection stops when the bounds are close */
	}
}

static void test_keepalive_evidence_and_contradictions(void **state)
{
	(void)state;
	nn_nat_ka k;
	nn_nat_ka_init(&k, 0);
	/* passive evidence: a frame after 50 s of silence raises the interval to 45 s */
	assert_true(nn_nat_ka_survived(&k, 50 * NN_SEC));
	assert_false(nn_nat_ka_survived(&k, 40 * NN_SEC)); /* shorter: nothing new */
	assert_int_equal(nn_nat_ka_interval(&k), 45 * NN_SEC);
	/* a failed probe below what survived: the NAT changed (or a peer lied): the failure wins,
	 * the interval drops under it */
	nn_time g = nn_nat_ka_probe_start(&k, 0);
	assert_true(g > 50 * NN_SEC);
	k.probing = 30 * NN_SEC; /* pretend the probe asked for 30 s */
	nn_nat_ka_probe_done(&k, 0, NN_NAT_KA_FAILED, 0);
	assert_int_equal(k.survived, 0);
	assert_int_equal(nn_nat_ka_interval(&k), NN_NAT_KA_DEFAULT > 24 * NN_SEC ? 24 * NN_SEC : NN_NAT_KA_DEFAULT);
	/* a probe that taught nothing (no echo: a reference peer) waits NN_NAT_KA_RETRY */
	g = nn_nat_ka_probe_start(&k, 100 * NN_SEC);
	assert_true(g > 0 && g < 30 * NN_SEC);
	assert_int_equal(nn_nat_ka_probe_start(&k, 100 * NN_SEC), 0); /* one at a time */
	nn_nat_ka_probe_done(&k, 100 * NN_SEC, NN_NAT_KA_NONE, 0);
	assert_int_equal(nn_nat_ka_probe_start(&k, 100 * NN_SEC + NN_NAT_KA_RETRY - 1), 0);
	assert_true(nn_nat_ka_probe_start(&k, 100 * NN_SEC + NN_NAT_KA_RETRY) > 0);
	/* later survival beyond the failure clears it */
	assert_true(nn_nat_ka_survived(&k, 35 * NN_SEC));
	assert_int_equal(k.failed, 0);
	/* the floor holds whatever a liar makes us believe */
	nn_nat_ka_init(&k, 0);
	k.probing = NN_SEC;
	nn_nat_ka_probe_done(&k, 0, NN_NAT_KA_FAILED, 0);
	assert_int_equal(nn_nat_ka_interval(&k), NN_NAT_KA_FLOOR);
}

static void test_keepalive_frames(void **state)
{
	(void)state;
	uint8_t nonce[NN_NAT_KA_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8}, got[NN_NAT_KA_NONCE_LEN];
	uint8_t buf[NN_NAT_KA_FRAME_MAX];
	int len = nn_nat_ka_probe_frame(buf, sizeof buf, nonce, 37500);
	assert_int_equal(len, 2 + 1 + NN_NAT_KA_PROBE_LEN);
	const uint8_t want[] = {1, NN_T_KA_PROBE, 12, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x00, 0x92, 0x7c};
	assert_memory_equal(buf, want, sizeof want);
	nn_frame f;
	assert_int_equal(nn_wire_frame_decode_exact(buf, (size_t)len, &f), 0);
	uint32_t d = 0;
	assert_int_equal(nn_nat_ka_probe_decode(f.payload, f.len, got, &d), 0);
	assert_int_equal(d, 37500);
	assert_memory_equal(got, nonce, sizeof nonce);
	assert_int_equal(nn_nat_ka_probe_decode(f.payload, f.len - 1, got, &d), NN_ETRUNC);
	uint8_t longer[NN_NAT_KA_PROBE_LEN + 1] = {0};
	memcpy(longer, f.payload, f.len);
	assert_int_equal(nn_nat_ka_probe_decode(longer, sizeof longer, got, &d), NN_ETRAILING);
	uint8_t zero[NN_NAT_KA_PROBE_LEN] = {0}, huge[NN_NAT_KA_PROBE_LEN] = {0};
	huge[8] = 0xff;
	assert_int_equal(nn_nat_ka_probe_decode(zero, sizeof zero, got, &d), NN_ECORRUPT);
	assert_int_equal(nn_nat_ka_probe_decode(huge, sizeof huge, got, &d), NN_ECORRUPT);
	assert_int_equal(nn_nat_ka_probe_frame(buf, sizeof buf, nonce, 0), NN_EINVAL);
	assert_int_equal(nn_nat_ka_probe_frame(buf, sizeof buf, nonce, NN_NAT_KA_PROBE_MAX_MS + 1), NN_EINVAL);
	assert_int_equal(nn_nat_ka_probe_frame(buf, 8, nonce, 1000), NN_ENOSPC);
	len = nn_nat_ka_echo_frame(buf, sizeof buf, nonce);
	assert_int_equal(len, 2 + 1 + NN_NAT_KA_NONCE_LEN);
	assert_int_equal(nn_wire_frame_decode_exact(buf, (size_t)len, &f), 0);
	assert_int_equal(f.type, NN_T_KA_ECHO);
	assert_int_equal(nn_nat_ka_echo_decode(f.payload, f.len, got), 0);
	assert_int_equal(nn_nat_ka_echo_decode(f.payload, f.len - 1, got), NN_ETRUNC);
}

/* ---- port-mapping policy (virtual clock: plain nanoseconds) ---- */
static void test_portmap_renew_at_half_lifetime(void **state)
{
	(void)state;
	nn_nat_portmap p;
	nn_time t = 1000 * NN_SEC;
	nn_nat_portmap_init(&p, t);
	assert_false(nn_nat_portmap_valid(&p, t));
	assert_int_equal(nn_nat_portmap_due(&p, t), NN_PM_MAP);
	nn_nat_portmap_ok(&p, t, 3600);
	assert_true(nn_nat_portmap_valid(&p, t));
	/* nothing until half the lifetime, then a renewal */
	assert_int_equal(nn_nat_portmap_due(&p, t + 1799 * NN_SEC), NN_PM_NOTHING);
	assert_int_equal(nn_nat_portmap_due(&p, t + 1800 * NN_SEC), NN_PM_RENEW);
	/* a renewal restarts the lifetime from its own time */
	t += 1800 * NN_SEC;
	nn_nat_portmap_ok(&p, t, 3600);
	assert_true(nn_nat_portmap_valid(&p, t + 3599 * NN_SEC));
	assert_false(nn_nat_portmap_valid(&p, t + 3600 * NN_SEC));
	assert_int_equal(nn_nat_portmap_due(&p, t + 1799 * NN_SEC), NN_PM_NOTHING);
	assert_int_equal(nn_nat_portmap_due(&p, t + 1800 * NN_SEC), NN_PM_RENEW);
	/* a tiny lifetime is not renewed in a busy loop; a permanent one is refreshed */
	nn_nat_portmap_ok(&p, t, 1);
	assert_int_equal(nn_nat_portmap_due(&p, t + NN_PM_MIN_RENEW - 1), NN_PM_NOTHING);
	assert_false(nn_nat_portmap_valid(&p, t + NN_SEC)); /* lapsed meanwhile: not advertised */
	assert_int_equal(nn_nat_portmap_due(&p, t + NN_PM_MIN_RENEW), NN_PM_MAP);
	nn_nat_portmap_ok(&p, t, 0);
	assert_true(nn_nat_portmap_valid(&p, t + 100000 * NN_SEC));
	assert_int_equal(nn_nat_portmap_due(&p, t + NN_PM_PERMANENT_RENEW - 1), NN_PM_NOTHING);
	assert_int_equal(nn_nat_portmap_due(&p, t + NN_PM_PERMANENT_RENEW), NN_PM_RENEW);
}

static void test_portmap_backoff(void **state)
{
	(void)state;
	nn_nat_portmap p;
	nn_time t = 0;
	nn_nat_portmap_init(&p, t);
	/* no gateway: 5, 10, 20, ... s, capped at 15 min */
	nn_time want = NN_PM_BACKOFF_BASE;
	for (int i = 0; i < 12; i++) {
		assert_int_equal(nn_nat_portmap_due(&p, t), NN_PM_MAP);
		nn_nat_portmap_fail(&p, t);
		assert_int_equal(p.failures, (unsigned)i + 1);
		assert_int_equal(nn_nat_portmap_due(&p, t + want - 1), NN_PM_NOTHING);
		t += want;
		want = want * 2 > NN_PM_BACKOFF_MAX ? NN_PM_BACKOFF_MAX : want * 2;
	}
	assert_int_equal(want, NN_PM_BACKOFF_MAX);
	/* success resets the back-off */
	nn_nat_portmap_ok(&p, t, 3600);
	assert_int_equal(p.failures, 0);
	assert_int_equal(p.backoff, NN_PM_BACKOFF_BASE);
}

static void test_portmap_failed_renewal_and_lapse(void **state)
{
	(void)state;
	nn_nat_portmap p;
	nn_time t = 0;
	nn_nat_portmap_init(&p, t);
	nn_nat_portmap_ok(&p, t, 60); /* renew at 30 s, expires at 60 s */
	t = 30 * NN_SEC;
	assert_int_equal(nn_nat_portmap_due(&p, t), NN_PM_RENEW);
	nn_nat_portmap_fail(&p, t); /* retried 5 s later; still advertised meanwhile */
	assert_true(nn_nat_portmap_valid(&p, t));
	assert_int_equal(nn_nat_portmap_due(&p, t + 5 * NN_SEC - 1), NN_PM_NOTHING);
	t += 5 * NN_SEC;
	assert_int_equal(nn_nat_portmap_due(&p, t), NN_PM_RENEW);
	nn_nat_portmap_fail(&p, t); /* +10 s */
	t += 10 * NN_SEC;
	assert_int_equal(nn_nat_portmap_due(&p, t), NN_PM_RENEW);
	nn_nat_portmap_fail(&p, t); /* +20 s would pass the expiry (60 s): the retry is at it */
	assert_int_equal(p.next, 60 * NN_SEC);
	assert_true(nn_nat_portmap_valid(&p, 60 * NN_SEC - 1));
	/* lapsed: no longer advertised, and the next attempt maps afresh */
	assert_false(nn_nat_portmap_valid(&p, 60 * NN_SEC));
	assert_int_equal(nn_nat_portmap_due(&p, 60 * NN_SEC), NN_PM_MAP);
	assert_int_equal(p.state, NN_PM_IDLE);
}

static void test_portmap_reset_and_stop(void **state)
{
	(void)state;
	nn_nat_portmap p;
	nn_nat_portmap_init(&p, 0);
	nn_nat_portmap_ok(&p, 0, 3600);
	/* the local address changed: map again at once, the old mapping is not advertised */
	nn_nat_portmap_reset(&p, 10 * NN_SEC);
	assert_false(nn_nat_portmap_valid(&p, 10 * NN_SEC));
	assert_int_equal(nn_nat_portmap_due(&p, 10 * NN_SEC), NN_PM_MAP);
	nn_nat_portmap_ok(&p, 10 * NN_SEC, 3600);
	/* leaving: nothing is due any more, whatever comes back late */
	nn_nat_portmap_stop(&p);
	assert_false(nn_nat_portmap_valid(&p, 11 * NN_SEC));
	assert_int_equal(nn_nat_portmap_due(&p, 100000 * NN_SEC), NN_PM_NOTHING);
	nn_nat_portmap_ok(&p, 12 * NN_SEC, 3600);
	nn_nat_portmap_fail(&p, 12 * NN_SEC);
	nn_nat_portmap_reset(&p, 12 * NN_SEC);
	assert_false(nn_nat_portmap_valid(&p, 12 * NN_SEC));
	assert_int_equal(nn_nat_portmap_due(&p, 100000 * NN_SEC), NN_PM_NOTHING);
}

/* ---- relay frames (12-14, 62) ---- */
static void test_relay_codecs(void **state)
{
	(void)state;
	uint8_t buf[128];
	/* RelayRequest: nonce | target, 48 bytes; trailing bytes ignored (reference rule) */
	nn_nat_relay_request rq = {.target = idn(0xab)}, rq2;
	for (int i = 0; i < 16; i++)
		rq.nonce[i] = (uint8_t)(0x10 + i);
	int len = nn_nat_relay_request_encode(&rq, buf, sizeof buf);
	assert_int_equal(len, 48);
	assert_int_equal(buf[0], 0x10);
	assert_int_equal(buf[16], 0xab);
	assert_int_equal(nn_nat_relay_request_decode(&rq2, buf, 48), 0);
	assert_memory_equal(&rq, &rq2, sizeof rq);
	buf[48] = 0x99;
	assert_int_equal(nn_nat_relay_request_decode(&rq2, buf, 49), 0);
	assert_memory_equal(&rq, &rq2, sizeof rq);
	for (size_t k = 0; k < 48; k++)
		assert_int_equal(nn_nat_relay_request_decode(&rq2, buf, k), NN_ETRUNC);
	assert_int_equal(nn_nat_relay_request_encode(&rq, buf, 47), NN_ENOSPC);

	/* RelayGrant: nonce | addr; the exact bytes */
	nn_nat_relay_grant g = {.addr = q("198.51.100.7:40000")}, g2;
	memset(g.nonce, 0x42, 16);
	len = nn_nat_relay_grant_encode(&g, buf, sizeof buf);
	assert_int_equal(len, 16 + 1 + 4 + 1 + 18);
	assert_int_equal(buf[16], 4);
	assert_memory_equal(buf + 17, "quic", 4);
	assert_int_equal(buf[21], 18);
	assert_int_equal(nn_nat_relay_grant_decode(&g2, buf, (size_t)len), 0);
	assert_true(nn_addr_eq(&g2.addr, &g.addr));
	assert_memory_equal(g2.nonce, g.nonce, 16);
	buf[len] = 0;
	buf[len + 1] = 7;
	assert_int_equal(nn_nat_relay_grant_decode(&g2, buf, (size_t)len + 2), 0);
	assert_int_equal(nn_nat_relay_grant_decode(&g2, buf, (size_t)len - 1), NN_ETRUNC);
	/* an address outside the grammar is refused and leaves nothing behind */
	buf[22] = '\n';
	assert_int_equal(nn_nat_relay_grant_decode(&g2, buf, (size_t)len), NN_EADDR);
	assert_int_equal(g2.addr.ep_len, 0);
	/* non-minimal length varint */
	uint8_t nonmin[] = {0x80, 0x00};
	assert_int_equal(nn_nat_relay_bind_decode(&g2.addr, nonmin, sizeof nonmin), NN_ENONMINIMAL);

	/* RelayBind: one address */
	nn_addr a = q("[2001:db8::5]:4000"), a2;
	len = nn_nat_relay_bind_encode(&a, buf, sizeof buf);
	assert_int_equal(len, 1 + 4 + 1 + 18);
	assert_int_equal(nn_nat_relay_bind_decode(&a2, buf, (size_t)len), 0);
	assert_true(nn_addr_eq(&a, &a2));
	assert_int_equal(nn_nat_relay_bind_decode(&a2, buf, 3), NN_ETRUNC);
	assert_int_equal(nn_nat_relay_bind_decode(&a2, NULL, 0), NN_ETRUNC);
	nn_addr bad;
	memset(&bad, 0, sizeof bad);
	assert_int_equal(nn_nat_relay_bind_encode(&bad, buf, sizeof buf), NN_EINVAL);

	/* RelayRefuse (libnodenet, type 62): nonce | reason */
	nn_nat_relay_refuse f = {.reason = NN_NAT_RELAY_NO_EDGE}, f2;
	memset(f.nonce, 0x5a, 16);
	len = nn_nat_relay_refuse_encode(&f, buf, sizeof buf);
	assert_int_equal(len, 17);
	assert_int_equal(buf[16], 2);
	assert_int_equal(nn_nat_relay_refuse_decode(&f2, buf, 17), 0);
	assert_memory_equal(&f, &f2, sizeof f);
	assert_int_equal(nn_nat_relay_refuse_decode(&f2, buf, 16), NN_ETRUNC);
	buf[16] = 200; /* unknown reason: decodes as-is */
	assert_int_equal(nn_nat_relay_refuse_decode(&f2, buf, 18), 0);
	assert_int_equal(f2.reason, 200);
	assert_string_equal(nn_nat_relay_reason_name(200), "unknown");
	assert_string_equal(nn_nat_relay_reason_name(NN_NAT_RELAY_BUSY), "busy");
	assert_int_equal(NN_T_RELAY_REFUSE, 62);
}

/* PCP MAP (RFC 6887): the request's bytes, a real answer, errors, NAT-PMP's reply, junk. */
static void test_pcp_codec(void **state)
{
	(void)state;
	nn_pcp_map m = {.protocol = NN_PCP_PROTO_UDP, .internal_port = 4242, .external_port = 4242};
	for (int i = 0; i < NN_PCP_NONCE_LEN; i++)
		m.nonce[i] = (uint8_t)(0xa0 + i);
	const uint8_t me[4] = {192, 168, 1, 20};
	uint8_t req[NN_PCP_MAP_LEN];
	assert_int_equal(nn_nat_pcp_map_encode(req, sizeof req - 1, me, &m, 3600), NN_ENOSPC);
	assert_int_equal(nn_nat_pcp_map_encode(req, sizeof req, me, &m, 3600), NN_PCP_MAP_LEN);
	static const uint8_t want_hdr[24] = {2, 1, 0, 0, 0, 0, 0x0e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
					     0, 0, 0xff, 0xff, 192, 168, 1, 20};
	assert_memory_equal(req, want_hdr, sizeof want_hdr);
	assert_memory_equal(req + 24, m.nonce, NN_PCP_NONCE_LEN);
	assert_int_equal(req[36], 17);
	assert_int_equal(req[40] << 8 | req[41], 4242);
	assert_int_equal(req[42] << 8 | req[43], 4242);
	assert_int_equal(req[54], 0xff); /* suggested external: ::ffff:0.0.0.0 */
	assert_int_equal(req[56] | req[57] | req[58] | req[59], 0);

	/* the answer a gateway builds from it: R bit, result, lifetime, epoch, assigned address */
	uint8_t ans[NN_PCP_MAP_LEN];
	memcpy(ans, req, sizeof ans);
	ans[1] = 0x80 | NN_PCP_OP_MAP;
	ans[3] = NN_PCP_SUCCESS;
	ans[4] = 0, ans[5] = 0, ans[6] = 0x07, ans[7] = 0x08; /* 1800 s */
	ans[8] = 0, ans[9] = 0, ans[10] = 0, ans[11] = 99;     /* epoch 99 */
	memset(ans + 12, 0, 12);
	ans[42] = 0x30, ans[43] = 0x39; /* 12345 */
	ans[56] = 100, ans[57] = 64, ans[58] = 7, ans[59] = 2;
	nn_pcp_answer a;
	assert_int_equal(nn_nat_pcp_answer_decode(&a, ans, sizeof ans), 0);
	assert_int_equal(a.result, NN_PCP_SUCCESS);
	assert_int_equal(a.opcode, NN_PCP_OP_MAP);
	assert_int_equal(a.lifetime_s, 1800);
	assert_int_equal(a.epoch_s, 99);
	assert_memory_equal(a.map.nonce, m.nonce, NN_PCP_NONCE_LEN);
	assert_int_equal(a.map.internal_port, 4242);
	assert_int_equal(a.map.external_port, 12345);
	static const uint8_t ext[4] = {100, 64, 7, 2};
	assert_memory_equal(a.map.external_ip, ext, 4);

	/* strictness: truncated, a request (no R bit), not IPv4-mapped, odd length */
	assert_int_equal(nn_nat_pcp_answer_decode(&a, ans, NN_PCP_MAP_LEN - 4), NN_ECORRUPT);
	assert_int_equal(nn_nat_pcp_answer_decode(&a, ans, 1), NN_ECORRUPT);
	assert_int_equal(nn_nat_pcp_answer_decode(&a, req, sizeof req), NN_ECORRUPT);
	ans[45] = 1;
	assert_int_equal(nn_nat_pcp_answer_decode(&a, ans, sizeof ans), NN_ECORRUPT);
	ans[45] = 0;
	uint8_t longer[NN_PCP_MAP_LEN + 2];
	memcpy(longer, ans, sizeof ans);
	longer[NN_PCP_MAP_LEN] = longer[NN_PCP_MAP_LEN + 1] = 0;
	assert_int_equal(nn_nat_pcp_answer_decode(&a, longer, sizeof longer), NN_ECORRUPT);

	/* an error answer is the header alone, and says why */
	uint8_t err[24] = {2, 0x81, 0, NN_PCP_NOT_AUTHORIZED, 0, 0, 0, 30};
	assert_int_equal(nn_nat_pcp_answer_decode(&a, err, sizeof err), 0);
	assert_int_equal(a.result, NN_PCP_NOT_AUTHORIZED);
	assert_string_equal(nn_nat_pcp_result_name(a.result), "NOT_AUTHORIZED");
	assert_string_equal(nn_nat_pcp_result_name(200), "UNKNOWN");

	/* a NAT-PMP-only gateway: its version-0 "unsupported version" answer (RFC 6886 §3.5) */
	uint8_t pmp[8] = {0, 0x81, 0, 1, 0, 0, 0, 5};
	assert_int_equal(nn_nat_pcp_answer_decode(&a, pmp, sizeof pmp), NN_EBADVERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_roundtrip_and_strictness),
		cmocka_unit_test(test_connect_nat_hint),
		cmocka_unit_test(test_birthday_role),
		cmocka_unit_test(test_relay_codecs),
		cmocka_unit_test(test_pcp_codec),
		cmocka_unit_test(test_confirmed_across_subnets),
		cmocka_unit_test(test_keyed_reports_one_subnet_quorum),
		cmocka_unit_test(test_private_reporters_do_not_vote),
		cmocka_unit_test(test_symmetric_on_evidence_only),
		cmocka_unit_test(test_unkeyed_reporters_and_capacity),
		cmocka_unit_test(test_keepalive_learns_upward_and_stays_under_the_timeout),
		cmocka_unit_test(test_keepalive_evidence_and_contradictions),
		cmocka_unit_test(test_keepalive_frames),
		cmocka_unit_test(test_portmap_renew_at_half_lifetime),
		cmocka_unit_test(test_portmap_backoff),
		cmocka_unit_test(test_portmap_failed_renewal_and_lapse),
		cmocka_unit_test(test_portmap_reset_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
