#!/usr/bin/env python3
"""test_lab.py [--repeat N] — validates the NAT lab itself with plain UDP (meson suite `nat`).

Needs root, `ip netns` and nft: without them it says so loudly and FAILS (exit 1).
Builds one lab (tests/nat/natlab.py): the transit namespace, 3 public hosts, two sites of
every kind (an "A" and a "B" site each, so a kind meets itself through two routers), two
sites with a 3 s UDP mapping timeout and one udp-out-only site for the runtime controls;
then, with every wait bounded:
  - isolation: no default route and no route outside 100.64.0.0/10 / the sites' LANs in any
    lab namespace; `ip route get` fails for 8.8.8.8, 1.1.1.1, RFC 1918 and an IPv6 address
    from every lab namespace (nothing is sent); every veth's peer is a namespace of this run
    and none is in the root namespace; the transit's leak counter stays 0. Negative
    controls: an added default / 8.8.8.8 route is reported by the check, and one packet with
    a private source (sent inside the lab) is counted by the transit's leak guard;
  - the pair matrix: for every ordered pair of kinds a simultaneous UDP hole punch between a
    host behind each, both sending only to signalled addresses ("punch") and answering the
    source actually seen ("prflx"); the mapping is learned from a rendezvous helper on pub1;
    one line per pair, and the table of shared/reference/nat-lab-facts.md is asserted;
  - the RFC 4787 behaviour of every kind, seen from two public hosts: endpoint-independent
    mapping or not, filtering of another port of a contacted address and of an address
    never contacted;
  - the mapping timeout (3 s, port-restricted and full cone): a packet after 2 s idle
    arrives, one after 4 s idle is dropped (and counted by the router's in_drop);
  - the runtime controls: a udp-out-only host cannot punch to a public host until the host is
    allowlisted or the filter is lifted, and cannot again after disallow / restore;
  - teardown: `ip netns list` holds none of this run's namespaces and its lock is gone.
Exit 0 only if everything held.
"""
import argparse
import ipaddress
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import natlab  # noqa: E402

KINDS = natlab.KINDS
# The table asserted (rows: the A side, columns: the B side):
#   OK    = punch OK sending only to signalled addresses (and so with prflx too)
#   prflx = punch FAILS with signalled addresses only, OK when answering the seen source
#   FAIL  = fails both ways (symmetric x port-restricted needs birthday probing, symmetric x
#           symmetric a relay; udp-out-only lets UDP out only to its allowlist)
EXPECTED_TABLE = """
A\\B           public  full   addr   port   sym    firewall  udp-out-only
public        OK      OK     OK     OK     prflx  OK        FAIL
full          OK      OK     OK     OK     prflx  OK        FAIL
addr          OK      OK     OK     OK     prflx  OK        FAIL
port          OK      OK     OK     OK     FAIL   OK        FAIL
sym           prflx   prflx  prflx  FAIL   FAIL   FAIL      FAIL
firewall      OK      OK     OK     OK     FAIL   OK        FAIL
udp-out-only  FAIL    FAIL   FAIL   FAIL   FAIL   FAIL      FAIL
"""


def expected():
    rows = [l.split() for l in EXPECTED_TABLE.strip().splitlines()]
    cols = rows[0][1:]
    assert tuple(cols) == KINDS, cols
    out = {}
    for r in rows[1:]:
        for b, v in zip(cols, r[1:]):
            out[(r[0], b)] = {"OK": (True, True), "prflx": (False, True),
                              "FAIL": (False, False)}[v]
    assert set(k[0] for k in out) == set(KINDS)
    return out


PUNCH_TIMEOUT = 3.0
OUTSIDE4 = ["8.8.8.8", "1.1.1.1", "10.255.255.1", "172.31.255.1", "192.168.255.1"]
OUTSIDE6 = ["2001:4860:4860::8888"]


class Failures:
    def __init__(self, quiet=False):
        self.items = []
        self.quiet = quiet
        self.lock = threading.Lock()

    def add(self, msg):
        with self.lock:
            self.items.append(msg)
        if not self.quiet:
            print("FAIL: " + msg, flush=True)


def guarded(fails, fn, *args):
    """Run fn(*args) in a thread; an exception is a failure, not a silent thread death."""
    def body():
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - reported as a test failure
            fails.add("%s raised %s: %s" % (fn.__name__, type(e).__name__, e))
    return threading.Thread(target=body)


def ip_json(ns, args):
    r = subprocess.run(["ip", "-n", ns, "-j"] + args, capture_output=True, text=True)
    return json.loads(r.stdout or "[]") if r.returncode == 0 else None


def check_isolation(lab, fails, namespaces=None):
    allowed = [natlab.LAB_NET] + [ipaddress.ip_network(s.lan) for s in lab.sites]
    namespaces = namespaces or lab.namespaces
    for ns in namespaces:
        routes = ip_json(ns, ["route", "show", "table", "all"])
        if routes is None:
            fails.add("%s: cannot list routes" % ns)
            continue
        for r in routes:
            if r.get("table") == "local":
                continue
            dst = r.get("dst", "")
            if dst == "default":
                fails.add("%s has a default route: %s" % (ns, r))
                continue
            net = ipaddress.ip_network(dst if "/" in dst else dst + "/32", strict=False)
            if r.get("type") in ("blackhole", "unreachable", "prohibit"):
                continue
            if not any(net.subnet_of(a) for a in allowed):
                fails.add("%s has a route outside the lab: %s" % (ns, r))
        for r in ip_json(ns, ["-6", "route", "show", "table", "all"]) or []:
            if r.get("dev") not in ("lo", None) or r.get("dst") == "default":
                fails.add("%s has an IPv6 route off loopback: %s" % (ns, r))
        for dst in OUTSIDE4 + OUTSIDE6:
            r = subprocess.run(["ip", "-n", ns, "route", "get", dst], capture_output=True,
                               text=True)
            if r.returncode == 0:
                fails.add("%s can route to %s: %s" % (ns, dst, r.stdout.strip()))
        for l in ip_json(ns, ["link", "show"]) or []:
            name = l.get("ifname")
            if name == "lo" or l.get("linkinfo", {}).get("info_kind") == "bridge":
                continue
            if name == "lan":  # the router's bridge (without -d linkinfo is absent)
                continue
            peer_ns = l.get("link_netnsid")
            if peer_ns is None:
                fails.add("%s: link %s has no peer namespace (not a lab veth?)" % (ns, name))
    # every veth's peer namespace is one of ours: the textual listing names it
    for ns in namespaces:
        out = subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            if "@" in line.split(":")[1] and ("link-netns " + lab.tag) not in line:
                fails.add("%s: veth peer outside this run's namespaces: %s" % (ns, line))
    root = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    if lab.tag in root:
        fails.add("a link of the root namespace has its peer in the lab: %s"
                  % [l for l in root.splitlines() if lab.tag in l])


def isolation_negative_control(lab, fails):
    """The isolation check must catch a route out of the lab: add one (nothing is sent),
    check that it is reported, remove it."""
    h = lab.sites[0].hosts[0]
    for route in ("default via %s" % h.gateway, "8.8.8.8/32 via %s" % h.gateway):
        subprocess.run(["ip", "-n", h.ns, "route", "add"] + route.split(), check=True)
        probe = Failures(quiet=True)
        check_isolation(lab, probe, [h.ns])
        subprocess.run(["ip", "-n", h.ns, "route", "del"] + route.split(), check=True)
        if not probe.items:
            fails.add("the isolation check did not notice a route %s" % route)
    again = Failures(quiet=True)
    check_isolation(lab, again, [h.ns])
    if again.items:
        fails.add("removing the control route left %s" % again.items)


def leak_negative_control(lab, host, agents, rdv, fails):
    """The transit's leak guard must count a packet with a private source: a host of a
    `public` site (its router has no rules) sends one from an extra 192.168.77.7/32 to the
    rendezvous, inside the lab."""
    before = lab.counters(lab.inet).get("leak_drop", (0, 0))[0]
    subprocess.run(["ip", "-n", host.ns, "addr", "add", "192.168.77.7/32", "dev", "eth0"],
                   check=True)
    try:
        g = agents[host.name]
        g.call("bind", sock="leak", addr="192.168.77.7", port=0, timeout=3)
        g.call("send", sock="leak", to=rdv, data="BIND leak", timeout=3)
        time.sleep(0.2)
        g.call("close", sock="leak", timeout=3)
    finally:
        subprocess.run(["ip", "-n", host.ns, "addr", "del", "192.168.77.7/32", "dev", "eth0"])
    after = lab.counters(lab.inet).get("leak_drop", (0, 0))[0]
    if after - before != 1:
        fails.add("leak control: the transit's leak_drop went %d -> %d for one packet from "
                  "192.168.77.7" % (before, after))


# kind -> (endpoint-independent mapping, open to another port of a contacted address,
#          open to an address never contacted)
BEHAVIOUR = {
    "public": (True, True, True), "full": (True, True, True), "addr": (True, True, False),
    "port": (True, False, False), "sym": (False, False, False),
    "firewall": (True, False, False), "udp-out-only": (True, False, False),
}


def behaviour_test(lab, sites, x, y, agents, fails, log):
    """RFC 4787 behaviour of each kind, seen from two public hosts x and y (like RFC 5780
    discovery): is the mapping endpoint-independent (same public ip:port toward x and y), does
    a packet from another port of x reach the mapping, does one from y (never contacted)?"""
    gx, gy = agents[x.name], agents[y.name]
    st = []
    for q, s in enumerate(sites):
        h = agents[s.hosts[0].name]
        h.call("bind", sock="bh", port=44000 + q, timeout=3)
        gx.call("bind", sock="bx%d" % q, port=48000 + q, timeout=3)
        gx.call("bind", sock="bx2%d" % q, port=48100 + q, timeout=3)
        gy.call("bind", sock="by%d" % q, port=48000 + q, timeout=3)
        h.call("send", sock="bh", to="%s:%d" % (x.addr, 48000 + q), data="m1-%d" % q)
        st.append((q, s, h))
    m1 = {q: gx.call("recv", sock="bx%d" % q, match="m1-%d" % q, timeout=2).get("from")
          for q, s, h in st}
    # another port of x, then y (not contacted yet), toward the mapping x saw
    for q, s, h in st:
        gx.call("send", sock="bx2%d" % q, to=m1[q], data="fp-%d" % q)
        gy.call("send", sock="by%d" % q, to=m1[q], data="fa-%d" % q)
    got = {}
    tags = [(q, h.send("recv", sock="bh", match="fp-%d" % q, timeout=0.7),
             h.send("recv", sock="bh", match="fa-%d" % q, timeout=0.7)) for q, s, h in st]
    for (q, s, h), (_, tp, ta) in zip(st, tags):
        got[q] = (bool(h.wait(tp, 5).get("ok")), bool(h.wait(ta, 5).get("ok")))
    for q, s, h in st:
        h.call("send", sock="bh", to="%s:%d" % (y.addr, 48000 + q), data="m2-%d" % q)
    for q, s, h in st:
        m2 = gy.call("recv", sock="by%d" % q, match="m2-%d" % q, timeout=2).get("from")
        eim = m1[q] is not None and m1[q] == m2
        seen = (eim,) + got[q]
        log("behaviour %-12s mapping %s (%s / %s), from another port: %s, from another "
            "address: %s" % (s.kind, "EIM" if eim else "EDM", m1[q], m2,
                             "in" if seen[1] else "dropped", "in" if seen[2] else "dropped"))
        if m1[q] is None or m2 is None:
            fails.add("behaviour %s: the host's packets did not reach the public hosts" % s.kind)
        elif seen != BEHAVIOUR[s.kind]:
            fails.add("behaviour %s: (EIM, other port in, other address in) = %s, expected %s"
                      % (s.kind, seen, BEHAVIOUR[s.kind]))


def timeout_test(lab, sites, remote, hosts_agents, fails, log):
    """Mapping timeout: 3 s sites; a packet after 2 s idle arrives, after 4 s is dropped."""
    ra = hosts_agents[remote.name]
    st = []
    for q, s in enumerate(sites):
        h = hosts_agents[s.hosts[0].name]
        v = lab.run(s, ["cat", natlab.sysctl_path("net.netfilter.nf_conntrack_udp_timeout"),
                        natlab.sysctl_path("net.netfilter.nf_conntrack_udp_timeout_stream")]
                    ).stdout.split()
        if v != [str(s.udp_timeout)] * 2:
            fails.add("timeout %s: conntrack sysctls are %s, not %d" % (s.kind, v, s.udp_timeout))
        h.call("bind", sock="to", port=45000 + q, timeout=3)
        ra.call("bind", sock="to%d" % q, port=46000 + q, timeout=3)
        h.call("send", sock="to", to="%s:%d" % (remote.addr, 46000 + q), data="hello-%d" % q,
               timeout=3)
        r = ra.call("recv", sock="to%d" % q, match="hello-%d" % q, timeout=3)
        if not r.get("ok") or not r["from"].startswith(s.wan + ":"):
            fails.add("timeout %s: hello did not arrive from %s: %s" % (s.kind, s.wan, r))
            return
        st.append((s, h, q, r["from"]))

    def probe(name, expect):
        tags = []
        for s, h, q, frm in st:
            ra.call("send", sock="to%d" % q, to=frm, data="%s-%d" % (name, q), timeout=3)
        for s, h, q, frm in st:
            tags.append(h.send("recv", sock="to", match="%s-%d" % (name, q), timeout=1.0))
        for (s, h, q, frm), tag in zip(st, tags):
            r = h.wait(tag, 5)
            got = bool(r.get("ok"))
            log("timeout %-4s (%ds): %s after the idle gap: %s" % (
                s.kind, s.udp_timeout, name, "arrived" if got else "dropped"))
            if got != expect:
                fails.add("timeout %s: %s %s, expected %s" % (
                    s.kind, name, "arrived" if got else "was dropped",
                    "to arrive" if expect else "to be dropped"))

    t = time.monotonic()
    probe("probe0", True)          # right after the hello
    time.sleep(max(0.0, t + 2.0 - time.monotonic()))   # idle 2 s < 3 s
    t = time.monotonic()
    probe("probe1", True)
    drops0 = {s.name: lab.counters(s).get("in_drop", (0, 0))[0] for s, *_ in st}
    time.sleep(max(0.0, t + 4.0 - time.monotonic()))   # idle 4 s > 3 s
    probe("probe2", False)
    for s, *_ in st:
        d = lab.counters(s).get("in_drop", (0, 0))[0] - drops0[s.name]
        if d < 1:
            fails.add("timeout %s: the expired mapping's packet was not counted by in_drop"
                      % s.kind)


def control_test(lab, site, peer, agents, rdv, fails, log):
    """allow/disallow and lift/restore on a udp-out-only site, against a public host."""
    ga, gb = agents[site.hosts[0].name], agents[peer.name]
    steps = [("allowlist without the peer", None, False),
             ("allow(peer)", lambda: lab.allow(site, peer.addr), True),
             ("disallow(peer)", lambda: lab.disallow(site, peer.addr), False),
             ("lift()", lambda: lab.lift(site), True),
             ("restore()", lambda: lab.restore(site), False)]
    for n, (what, action, want) in enumerate(steps):
        if action:
            action()
        ra, rb = natlab.punch_pair(ga, gb, rdv, "ctl%d" % n, 47000 + n, 47000 + n, "prflx",
                                   PUNCH_TIMEOUT)()
        ok = bool(ra.get("ok") and rb.get("ok"))
        log("control udp-out-only x public after %-27s punch %s" % (what + ":", "OK" if ok
                                                                    else "FAIL"))
        if ok != want:
            fails.add("control: after %s the punch %s" % (what, "worked" if ok else "failed"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the pair matrix")
    a = ap.parse_args()
    t_start = time.monotonic()
    try:
        natlab.check_environment()
    except natlab.LabUnavailable as e:
        banner = "*" * 72
        msg = "%s\n%s\nThe nat suite cannot run: counted as FAILED.\n%s" % (banner, e, banner)
        print(msg, flush=True)
        print(msg, file=sys.stderr, flush=True)
        return 1
    natlab.cleanup_stale(log=lambda m: print(m, flush=True))
    fails = Failures()
    log_lines = []
    log_lock = threading.Lock()

    def log(m):
        with log_lock:
            log_lines.append(m)

    exp = expected()
    try:
        lab = natlab.Lab(publics=3)
    except natlab.LabError as e:
        print("%s\nNAT lab could not be built: %s\nCounted as FAILED.\n%s"
              % ("*" * 72, e, "*" * 72), flush=True)
        return 1
    tag = lab.tag
    results = {}
    try:
        t0 = time.monotonic()
        side = {}
        for kind in KINDS:
            side[(kind, "A")] = lab.add_site(kind)
            side[(kind, "B")] = lab.add_site(kind)
        to_sites = [lab.add_site("port", udp_timeout=3), lab.add_site("full", udp_timeout=3)]
        ctl = lab.add_site("udp-out-only", allow=[lab.publics[0].addr])
        t_build = time.monotonic() - t0
        print("lab %s: %d namespaces built in %.2f s" % (tag, len(lab.namespaces), t_build),
              flush=True)

        t0 = time.monotonic()
        check_isolation(lab, fails)
        isolation_negative_control(lab, fails)
        print("isolation checked in %d namespaces in %.2f s" % (len(lab.namespaces),
                                                                 time.monotonic() - t0),
              flush=True)

        rdv = lab.rendezvous(lab.publics[0])
        agents = {}
        for s in lab.sites:
            agents[s.hosts[0].name] = lab.agent(s.hosts[0])
        for h in lab.publics[1:]:
            agents[h.name] = lab.agent(h)

        t1 = time.monotonic()
        pending = []
        for rnd in range(a.repeat):
            for m, mode in enumerate(("sig", "prflx")):
                for c, (ka, kb) in enumerate((x, y) for x in KINDS for y in KINDS):
                    ga = agents[side[(ka, "A")].hosts[0].name]
                    gb = agents[side[(kb, "B")].hosts[0].name]
                    port = 20000 + rnd * 200 + m * 100 + c
                    pending.append(((ka, kb), mode, natlab.punch_pair(
                        ga, gb, rdv, "r%dm%dc%d" % (rnd, m, c), port, port, mode,
                        PUNCH_TIMEOUT)))
        th = [guarded(fails, timeout_test, lab, to_sites, lab.publics[1], agents, fails, log),
              guarded(fails, control_test, lab, ctl, lab.publics[2], agents, rdv, fails, log),
              guarded(fails, behaviour_test, lab, [side[(k, "A")] for k in KINDS],
                      lab.publics[1], lab.publics[2], agents, fails, log)]
        for t in th:
            t.start()
        for pair, mode, collect in pending:
            ra, rb = collect()
            ok = bool(ra.get("ok") and rb.get("ok"))
            results.setdefault(pair, {"sig": [], "prflx": [], "ms": []})[mode].append(ok)
            if ok:
                results[pair]["ms"].append(max(ra.get("ms") or 0, rb.get("ms") or 0))
            if "why" in ra and ra["why"].startswith(("no answer", "agent", "timeout in rdv")):
                fails.add("%s x %s [%s]: probe trouble: %s / %s" % (pair + (mode, ra, rb)))
        t_matrix = time.monotonic() - t1
        for t in th:
            t.join(timeout=60)
            if t.is_alive():
                fails.add("a timeout/control check did not finish within 60 s")

        for ka in KINDS:
            for kb in KINDS:
                r = results[(ka, kb)]
                want_sig, want_prflx = exp[(ka, kb)]

                def word(v):
                    if a.repeat == 1:
                        return "OK" if v[0] else "FAIL"
                    return "%d/%d OK" % (sum(v), len(v))
                line = "lab %s x %s: punch %s (prflx %s)" % (ka, kb, word(r["sig"]),
                                                            word(r["prflx"]))
                if r["ms"]:
                    line += "  %.1f ms" % max(r["ms"])
                bad = [v for v in r["sig"] if v != want_sig] + \
                      [v for v in r["prflx"] if v != want_prflx]
                if bad:
                    line += "   <-- UNEXPECTED: expected punch %s (prflx %s)" % (
                        "OK" if want_sig else "FAIL", "OK" if want_prflx else "FAIL")
                    fails.items.append("pair %s x %s" % (ka, kb))
                print(line, flush=True)
        for m in sorted(log_lines, key=lambda m: m.split()[0]):
            print(m, flush=True)
        leak = lab.counters(lab.inet).get("leak_drop", (0, 0))[0]
        print("transit leak_drop counter: %d" % leak, flush=True)
        if leak:
            fails.add("the transit dropped %d packets with an address outside 100.64.0.0/10"
                      % leak)
        leak_negative_control(lab, side[("public", "A")].hosts[0], agents, rdv, fails)
    finally:
        t2 = time.monotonic()
        lab.teardown()
        t_down = time.monotonic() - t2
    left = [n for n in natlab.lab_namespaces().get(tag, [])]
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    if left or tag in listed:
        fails.add("namespaces of this run left after teardown: %s" % left)
    if os.path.exists(os.path.join(natlab.LOCK_DIR, tag.rstrip("-") + ".lock")):
        fails.add("the run's lock file is left after teardown")
    total = time.monotonic() - t_start
    print("lab timing: build %.2f s, matrix %.2f s (%d punches), teardown %.2f s, total %.1f s"
          % (t_build, t_matrix, len(pending), t_down, total), flush=True)
    if fails.items:
        print("lab: %d check(s) FAILED: %s" % (len(fails.items), "; ".join(fails.items)),
              flush=True)
        return 1
    print("lab: all checks held (%d pairs x 2 modes x %d round(s), isolation, timeout, "
          "controls, teardown)" % (len(KINDS) ** 2, a.repeat), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
