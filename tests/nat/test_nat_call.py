#!/usr/bin/env python3
"""test_nat_call.py NODENET_NODE — a call (media session) rides the path two NATed nodes found.

Two public bootstrap nodes (distinct /24s, so NAT verdicts are corroborated) and, for every
pair in PAIRS, two sites of the given kinds with one `nodenet-node -accept-calls` each. For each
pair the first node runs `connect <id>` to the second (how the edge came up must be one of the
pair's expected ways), then `call <id>`; once the call is up on both sides:
  - 100 datagrams at 50 pkt/s from the caller (`say`, channel 16) and 50 back (`say`), each
    timed from the write of `say` to the `media` line on the other side (one-way latency
    including both consoles' pipes; both processes run on this host, one clock);
  - one message each way (`tell`, channel 17), which must arrive;
  - the session runs to the edge's observed address: the caller's edge address (`peers`) is
    printed, and the transport counted one media session out and one in (`tp_media_out`,
    `tp_media_in`);
  - `hangup`: the callee sees `call <id> down ECLOSED`.
One line per pair: how the edge came up, the path, datagrams through and lost each way, one-way
p50/p99/max, messages. A pair whose edge needs a punch may also come up "direct" when the
callee's NAT already held a flow toward the caller's WAN address just before the call
(conntrack on its router: its maintenance dialer dialled the caller, failed against the
caller's NAT, and left its own NAT open); that is said in a line of its own. Asserted: the call comes up, loss <= 5 % each way, both messages arrive,
the hang-up reaches the callee.

The second public node volunteers as a relay (`-relay`): the sym x sym pair has no direct path,
its edge comes up through the relay, and the call rides the relay's allocation (the session
dials the edge's observed address, which is then the relay's).
Without root / ip netns / nft it fails loudly. Every namespace is deleted afterwards.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import natlab  # noqa: E402
from natnode import Fail, Node, PORT, lab_binary  # noqa: E402

# (caller's site kind, callee's site kind, the ways `connect` may bring the edge up).
# A full cone lets the port-restricted node's direct dial in, but the port-restricted side
# filters the full-cone caller: that edge needs the hole punch. Two port-restricted cones punch.
PAIRS = [
    ("full", "port", ("punch",)),
    ("port", "port", ("punch",)),
    ("sym", "sym", ("relay",)),  # no direct path: the call rides the relay's allocation
]
DGRAMS_OUT, DGRAMS_BACK = 100, 50
INTERVAL = 0.020  # 50 pkt/s, audio-like
MAX_LOSS = 0.05


def wait_media(node, text, timeout):
    """The read time of the first `media ... <text>` line on node, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with node.lock:
            for t, line in node.media:
                if line.split(" ", 3)[3:] == [text]:
                    return t
        time.sleep(0.005)
    return None


def flow(src, dst, n, tag):
    """n datagrams src -> dst at 50 pkt/s; returns (sent times, arrival times or None)."""
    sent = []
    t_next = time.monotonic()
    for k in range(n):
        now = time.monotonic()
        if t_next > now:
            time.sleep(t_next - now)
        t_next += INTERVAL
        sent.append(time.monotonic())
        r = src.cmd("say %s 16 %s-%d" % (dst.id, tag, k), ("ok", "error "))
        if not r.startswith("ok"):
            raise Fail("%s: say: %s" % (src.name, r))
    time.sleep(1.0)
    with dst.lock:
        seen = {}
        for t, line in dst.media:
            f = line.split(" ", 3)
            if len(f) == 4 and f[1] == src.id and f[2] == "16" and f[3].startswith(tag + "-"):
                seen.setdefault(f[3], t)
    return sent, [seen.get("%s-%d" % (tag, k)) for k in range(n)]


def summary(sent, got):
    d = sorted((g - s) * 1000 for s, g in zip(sent, got) if g is not None)
    through = len(d)
    loss = 1 - through / len(sent)
    if not d:
        return loss, "0/%d through" % len(sent)
    p99 = d[min(len(d) - 1, int(round(0.99 * (len(d) - 1))))]
    return loss, "%d/%d through (loss %.1f %%), one-way p50 %.2f ms p99 %.2f ms max %.2f ms" % (
        through, len(sent), loss * 100, statistics.median(d), p99, d[-1])


def nat_open_to(lab, site, peer_site):
    """True if site's router holds a UDP flow its host started toward peer_site's WAN address
    (conntrack): a port-restricted NAT then lets that peer's packets in, so a direct dial from
    it goes through without a punch. False without conntrack (the strict reading)."""
    if site.kind == "public" or shutil.which("conntrack") is None:
        return False
    r = lab.run(site.router, ["conntrack", "-L", "-p", "udp", "--orig-dst", peer_site.wan],
                check=False)
    return peer_site.wan in r.stdout


def run_pair(lab, binary, tmp, boot, k, x, y, ways, failures):
    a_site, b_site = lab.add_site(x, hosts=1), lab.add_site(y, hosts=1)
    # names (seed files) unique per pair: a callee must not come back with an earlier pair's
    # identity and contacts
    a = Node(lab, a_site.hosts[0], binary, tmp, "%s-caller%d" % (x, k), boot, ["-accept-calls"])
    b = Node(lab, b_site.hosts[0], binary, tmp, "%s-callee%d" % (y, k), boot, ["-accept-calls"])
    a.started()
    b.started()
    # both verdicts settled (cone) before connecting, so the punch is chosen
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(n.cmd("nat", ("nat ",)).split()[1] != "unknown" for n in (a, b)):
            break
        time.sleep(0.5)
    had = b.id in a.peer_ids()
    # The callee's maintenance dialer dials every contact it learns, the caller too: such a
    # dial fails against the caller's NAT but leaves the callee's own NAT open to the caller
    # for its UDP timeout, and the caller's direct dial then simply goes through. Asked just
    # before the call; only then is "direct" a right answer for a pair that needs a punch.
    opened = nat_open_to(lab, b_site, a_site)
    t0 = time.monotonic()
    line = a.cmd("connect " + b.id, ("connected ", "error "), timeout=20)
    f = line.split()
    how = f[2] if f[0] == "connected" else "FAIL"
    connect_ms = (time.monotonic() - t0) * 1000
    if how == "direct" and opened and how not in ways:
        print("nat call %-4s x %-4s: the callee's NAT was already open to the caller (its own "
              "dial): direct is right" % (x, y))
        ways = ways + ("direct",)
    if how == "FAIL" or (how not in ways and not had):
        failures.append("%s x %s: connect: %s after %.0f ms (want %s)" %
                        (x, y, line, connect_ms, "/".join(ways)))
        return
    path = a.edge_addr(b.id)
    t0 = time.monotonic()
    r = a.cmd("call " + b.id, ("ok", "error "))
    if not r.startswith("ok"):
        failures.append("%s x %s: call: %s" % (x, y, r))
        return
    up = a.next_line(10, ("call %s" % b.id,))
    if up.split()[2] != "up":
        failures.append("%s x %s: %s" % (x, y, up))
        return
    up_b = b.next_line(10, ("call %s" % a.id,))
    if up_b.split()[2] != "up":
        failures.append("%s x %s: callee: %s" % (x, y, up_b))
        return
    call_ms = (time.monotonic() - t0) * 1000
    s_out, g_out = flow(a, b, DGRAMS_OUT, "d")
    s_back, g_back = flow(b, a, DGRAMS_BACK, "u")
    msgs = 0
    for src, dst, text in ((a, b, "m-caller"), (b, a, "m-callee")):
        r = src.cmd("tell %s 17 %s" % (dst.id, text), ("ok", "error "))
        if r.startswith("ok") and wait_media(dst, text, 5) is not None:
            msgs += 1
        else:
            failures.append("%s x %s: message %s: %s" % (x, y, text, r))
    st_a, st_b = a.stats(), b.stats()
    loss_out, txt_out = summary(s_out, g_out)
    loss_back, txt_back = summary(s_back, g_back)
    print("nat call %-4s x %-4s: edge %s%s in %.0f ms, path %s, call up in %.0f ms" %
          (x, y, how, " (already up)" if had else "", connect_ms, path, call_ms))
    print("nat call %-4s x %-4s:   caller -> callee %s" % (x, y, txt_out))
    print("nat call %-4s x %-4s:   callee -> caller %s" % (x, y, txt_back))
    print("nat call %-4s x %-4s:   messages %d/2; transport: caller media_out %s dgram_tx %s, "
          "callee media_in %s dgram_rx %s" %
          (x, y, msgs, st_a.get("tp_media_out"), st_a.get("tp_media_dgram_tx"),
           st_b.get("tp_media_in"), st_b.get("tp_media_dgram_rx")))
    for loss, d in ((loss_out, "caller -> callee"), (loss_back, "callee -> caller")):
        if loss > MAX_LOSS:
            failures.append("%s x %s: %s lost %.1f %%" % (x, y, d, loss * 100))
    if st_a.get("tp_media_out", 0) < 1 or st_b.get("tp_media_in", 0) < 1:
        failures.append("%s x %s: the transport counted no media session" % (x, y))
    r = a.cmd("hangup " + b.id, ("ok", "error "))
    try:
        down = b.next_line(10, ("call %s" % a.id,))
        if down.split()[2:4] != ["down", "ECLOSED"]:
            failures.append("%s x %s: hang-up seen as %r" % (x, y, down))
    except Fail as e:
        failures.append("%s x %s: hang-up: %s" % (x, y, e))
    a.quit()
    b.quit()


def main():
    binary, rc = lab_binary(sys.argv, "test_nat_call.py")
    if binary is None:
        return rc
    t_start = time.monotonic()
    failures = []
    with tempfile.TemporaryDirectory() as tmp, natlab.Lab(publics=2) as lab:
        pubs = [Node(lab, lab.publics[0], binary, tmp, "pub1").started()]
        boot0 = "%s@%s:%d" % (pubs[0].id, lab.publics[0].addr, PORT)
        pubs.append(Node(lab, lab.publics[1], binary, tmp, "pub2", boot0, relay=True).started())
        boot = ",".join("%s@%s:%d" % (p.id, h.addr, PORT) for p, h in zip(pubs, lab.publics))
        for k, (x, y, ways) in enumerate(PAIRS):
            try:
                run_pair(lab, binary, tmp, boot, k, x, y, ways, failures)
            except Fail as e:
                failures.append("%s x %s: %s" % (x, y, e))
        for p in pubs:
            p.quit()
    print("# %.1f s" % (time.monotonic() - t_start))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
