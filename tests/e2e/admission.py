#!/usr/bin/env python3
"""admission.py NODENET_NODE FLOOD — inbound admission end to end, real QUIC on loopback.

(a) Flood: a victim nodenet-node (-pow 0) is pressed by FLOOD (tests/e2e/flood.c): 288 QUIC
    connections with fresh identities from 9 source IPs (127.0.0.2..127.0.0.10, 32 each; per IP
    24 try to be edges and keep pinging, 8 stay silent), each dialled again a second after it
    is refused or closed, for 40 s. While it holds them, an honest
    newcomer bootstrapping through the victim must have a live edge and route a message to it
    within 5 s of being started.
(b) Crowd: 40 nodenet-node processes on 127.0.0.1 (-pow 8, default caps) bootstrap through one
    node. Every one must end with a live edge (the ones the bootstrap node refuses are referred
    to others), and sampled routed sends between random pairs arrive exactly once.
Defaults only, no cap is raised. Stdlib only; every wait is bounded; every child is killed on
the way out (e2e.py's Node, console driving and checks are reused).
"""
import os
import queue
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import CHILDREN, Fail, Node, kill_children, sanitizer_findings  # noqa: E402

FLOOD_SECONDS = 40
FLOOD_IPS = "127.0.0.2-127.0.0.10"
FLOOD_PER_IP = 32
JOIN_WITHIN = 5.0
CROWD = 40


def interesting(st, prefixes=("edges", "dropped_inbound", "inbound_shed", "referral",
                              "tp_inbound", "tp_retry", "rejoins")):
    return " ".join(f"{k}={v}" for k, v in st.items() if k.startswith(prefixes) and v)


class Flood:
    def __init__(self, binary, boot, tmp):
        self.errpath = os.path.join(tmp, "flood.log")
        self.errfile = open(self.errpath, "wb")
        self.p = subprocess.Popen([binary, boot, "--ips", FLOOD_IPS, "--per-ip",
                                   str(FLOOD_PER_IP), "--seconds", str(FLOOD_SECONDS)],
                                  stdout=subprocess.PIPE, stderr=self.errfile, bufsize=0)
        CHILDREN.append(self.p)
        self.held = 0
        self.lines = queue.Queue()
        self.summary = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            m = re.match(r"flood t=\S+ held (\d+)", line)
            if m:
                self.held = int(m.group(1))
            elif line.startswith("flood done"):
                self.summary = line
            self.lines.put(line)

    def wait_held(self, n, timeout):
        deadline = time.monotonic() + timeout
        while self.held < n and time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise Fail(f"flood exited early: rc {self.p.returncode} (log {self.errpath})")
            time.sleep(0.1)
        return self.held


def wait_joined(node, peer, text, t0, within):
    """node has a live edge and a routed message from it reaches peer; returns (edge s, msg s)."""
    deadline = t0 + within
    t_edge = None
    while time.monotonic() < deadline:
        if node.stats()["edges"] >= 1:
            t_edge = time.monotonic() - t0
            break
        time.sleep(0.05)
    if t_edge is None:
        return None, None
    while time.monotonic() < deadline:
        r = node.cmd(f"send {peer.id} {text}")
        if r.get("event") == "ok":
            break
        time.sleep(0.05)
    while time.monotonic() < deadline:
        if any(x[2] == text for x in peer.received()):
            return t_edge, time.monotonic() - t0
        time.sleep(0.02)
    return t_edge, None


def flood_scenario(binary, flood_bin, tmp):
    e2e.POW = 0
    victim = Node(binary, 0, tmp)
    victim.wait_started()
    boot = f"{victim.id}@{victim.addr}"
    fl = Flood(flood_bin, boot, tmp)
    # established: most of its connections up (the ones refused at a cap churn), and a few
    # seconds of pressing on the caps behind it
    want = FLOOD_PER_IP * 9 * 5 // 8
    held = fl.wait_held(want, 30)
    if held < want:
        raise Fail(f"the flood holds only {held} connections (want >= {want}); victim "
                   f"{interesting(victim.stats())}; log {fl.errpath}")
    time.sleep(3)
    st = victim.stats()
    print(f"ok - flood holds {fl.held} connections to the victim from 9 IPs (the rest are "
          f"refused and re-dialled); victim: {interesting(st)}")
    t0 = time.monotonic()
    newcomer = Node(binary, 1, tmp, bootstrap=boot)
    newcomer.wait_started(timeout=JOIN_WITHIN)
    t_edge, t_msg = wait_joined(newcomer, victim, "hello-under-flood", t0, JOIN_WITHIN)
    if t_msg is None:
        raise Fail(f"newcomer: edge after {t_edge} s, no routed message within {JOIN_WITHIN} s "
                   f"while the flood held {fl.held}; newcomer {interesting(newcomer.stats())}; "
                   f"victim {interesting(victim.stats())}")
    print(f"ok - an honest newcomer joined under the flood: live edge {t_edge:.2f} s, routed "
          f"message received {t_msg:.2f} s after it was started (flood holding {fl.held})")
    try:
        fl.p.wait(timeout=FLOOD_SECONDS + 20)
    except subprocess.TimeoutExpired:
        raise Fail("the flood did not end")
    time.sleep(0.2)
    if not fl.summary:
        raise Fail(f"flood: no summary (rc {fl.p.returncode}, log {fl.errpath})")
    print(f"info - {fl.summary}")
    if all(p["id"] != newcomer.id for p in victim.peers()):
        raise Fail("the victim lost the newcomer's edge during the flood")
    st = victim.stats()
    if st.get("dropped_inbound_per_ip", 0) < 1 and st.get("tp_inbound_refused_per_ip", 0) < 1:
        raise Fail(f"the flood never met a per-IP cap: {interesting(st)}")
    print(f"ok - the newcomer's edge outlived the 40 s flood; victim: {interesting(st)}")
    return [victim, newcomer]


def crowd_scenario(binary, tmp, rng):
    e2e.POW = 8
    t0 = time.monotonic()
    first = Node(binary, 100, tmp)
    first.wait_started()
    boot = f"{first.id}@{first.addr}"
    nodes = [first] + [Node(binary, 100 + i, tmp, bootstrap=boot) for i in range(1, CROWD)]
    for n in nodes[1:]:
        n.wait_started(timeout=60)
    last = max(n.joined for n in nodes)
    print(f"ok - {CROWD} nodes on 127.0.0.1 started, all bootstrapping through one node, in "
          f"{last - t0:.1f} s")
    waiting = list(nodes)
    deadline = last + 60
    while waiting and time.monotonic() < deadline:
        waiting = [n for n in waiting if n.stats()["edges"] < 1]
        if waiting:
            time.sleep(0.25)
    if waiting:
        raise Fail(f"{len(waiting)} of {CROWD} nodes have no live edge 60 s after the last "
                   f"start: {[n.idx for n in waiting][:10]}; e.g. "
                   f"{interesting(waiting[0].stats())}; bootstrap node "
                   f"{interesting(first.stats())}")
    st = [n.stats() for n in nodes]
    edges = [s["edges"] for s in st]
    referred = sum(1 for s in st if s.get("referrals_rx", 0) > 0)
    print(f"ok - all {CROWD} have live edges {time.monotonic() - last:.1f} s after the last "
          f"start (edges min {min(edges)} mean {sum(edges) / len(edges):.1f} max "
          f"{max(edges)}); {referred} were referred at least once; bootstrap node: "
          f"{interesting(st[0])}")
    # routed sends between random pairs, after the same settling time as e2e.py
    time.sleep(e2e.SETTLE)
    now = time.monotonic()
    for n in nodes:
        n.joined = now
    pairs = set()
    while len(pairs) < 30:
        s, d = rng.randrange(CROWD), rng.randrange(CROWD)
        if s != d:
            pairs.add((s, d))
    expected, sent_at, deadline_of = e2e.send_pairs(nodes, sorted(pairs), "crowd",
                                                    now + e2e.DELIVERY_WINDOW)
    e2e.wait_deliveries(nodes, expected, deadline_of, grace=1.0)
    e2e.check_deliveries(nodes, expected, sent_at, deadline_of, "crowd of 40, random pairs")
    return nodes


def quit_all(nodes):
    for n in nodes:
        if n.p.poll() is None:
            try:
                n.p.stdin.write(b"quit\n")
                n.p.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
    deadline = time.monotonic() + 20
    bad = {}
    for n in nodes:
        try:
            rc = n.p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            rc = None
        if rc != 0:
            bad[n.idx] = rc
    if bad:
        raise Fail(f"nodes did not exit 0 on quit: {bad}")


def run(binary, flood_bin, tmp, which):
    t0 = time.monotonic()
    rng = random.Random(20261205)
    everyone = []
    if which in ("all", "flood"):
        nodes = flood_scenario(binary, flood_bin, tmp)
        everyone += nodes
        quit_all(nodes)
    if which in ("all", "crowd"):
        nodes = crowd_scenario(binary, tmp, rng)
        everyone += nodes
        quit_all(nodes)
    asan, ubsan, first = sanitizer_findings(everyone)
    if asan:
        raise Fail(f"{asan} sanitizer error(s) in node logs; first: {first}")
    if ubsan:
        print(f"warning - {ubsan} UBSan runtime error line(s); first: {first}")
    print(f"admission e2e passed in {time.monotonic() - t0:.1f} s")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    which = sys.argv[3] if len(sys.argv) > 3 else "all"
    signal_handlers()
    tmp = tempfile.mkdtemp(prefix="nodenet-admission-")
    ok = False
    try:
        run(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), tmp, which)
        ok = True
    except Fail as e:
        print(f"FAIL - {e}")
    finally:
        kill_children()
        if ok:
            subprocess.run(["rm", "-rf", tmp])
        else:
            print(f"logs kept in {tmp}")
    return 0 if ok else 1


def signal_handlers():
    import signal
    signal.signal(signal.SIGTERM, e2e.on_signal)
    signal.signal(signal.SIGINT, e2e.on_signal)


if __name__ == "__main__":
    sys.exit(main())
