#!/usr/bin/env python3
"""soak.py NODENET_NODE [--nodes N] [--minutes M] [--churn-pct P] [--rate R] [--warmup S]
          [--min-delivery PCT] [--max-rss-drift PCT] [--seed K] [--keep DIR] [--hosts one|each]

A soak of real nodenet-node processes on loopback (real QUIC, -pow 8), driven through their
consoles (the Node driver of tests/e2e/e2e.py):
  - N processes (default 20), all bootstrapped from node 0, all on 127.0.0.1 (--hosts one, the
    default) or each on its own loopback address 127.1.x.y (--hosts each): on one
    address every process's inbound edges from the others are capped by the per-IP share (16),
    so which edges exist keeps shifting with churn; with an address each, as on a network, a
    process keeps an edge to nearly every other and its edge count stays put;
  - churn: P % of the processes (default 10) per minute are killed with SIGKILL (a crash: no
    Leave) and restarted 2 s later with the same seed and bootstrap, spread evenly over the
    minute; node 0 is never killed;
  - a steady routed workload: R sends per second (default 5) between random pairs whose two
    ends have been up for 10 s; a send counts as delivered when the target's console shows
    it exactly once within 10 s, and is left out when either end is killed within that window;
  - every 10 s: RSS (VmRSS), open fds and live edges (console `stats`) of every process that
    has not been restarted.
At the end: the delivery ratio, RSS drift after the warm-up (per never-restarted process, the
median of its samples in the minute after --warmup, default 60 s, against the median of its
last minute's samples: the median over processes and the worst; the same from one sample at
each end; and the same at equal edge counts, each process's edge-count change priced at the
RSS-per-edge slope fitted within processes, since a QUIC edge holds tens of KiB), fd counts
(a process whose fd count grew by more than 4 after the warm-up is a leak), every process
quits with exit 0, no sanitizer report in any log (ASan/LSan build), and no stuck edge:
an edge, at the end, to an earlier incarnation of a restarted process (its NodeID at an address
it no longer listens on) that ended more than STUCK_AFTER (600 s) ago, beyond the longest a
silently dead peer's idle edge lives by design (570 s on loopback).
Delivery is also given for sends whose two ends were not restarted in the last 90 s (a process
back under its old NodeID is reachable late: docs/EVALUATION.md, Soak). Each lost message is
listed with its text and the target's uptime; --keep DIR copies every process log (the dead
ones as nodeI.log.G) and soak.json (start time, NodeIDs, kill times, the losses) into DIR for
tracing a loss through the logs.
Fails (exit 1) when delivery < --min-delivery (default 99) or, for those, <
--min-delivery-steady (default 99), an fd count grew, a process did not
quit cleanly, a sanitizer reported, an edge is stuck (only a run longer than 10 minutes can
show one), or --max-rss-drift is given and the median drift exceeds it.
The CI variant (suite `soak`) is 20 processes for 3 minutes; the long run (issue 17: 50
processes, 30 minutes, drift <= 5 %) is by hand:
  tests/soak/soak.py build/cmd/nodenet-node --nodes 50 --minutes 30 --warmup 120 --hosts each \
      --max-rss-drift 5
"""
import argparse
import os

os.environ.setdefault("NODENET_PORTMAP", "off")  # run directly: no port mapping from tests
import random
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e  # noqa: E402  (the Node driver, kill_children, sanitizer_findings)

WINDOW = 10.0     # a send must arrive within this
UP_BEFORE = 10.0  # both ends up this long before a send
SAMPLE = 10.0     # RSS / fd sampling period
RESTART_GRACE = 90.0  # a process restarted this recently is reachable late (docs/EVALUATION.md)
DRIFT_WINDOW = 60.0   # RSS drift: the median of this many seconds of samples at each end
# Stuck edges: the longest a silently dead peer's idle edge may live on loopback by design is the
# open-class finger dead threshold, 2 x 270 s + 30 s = 570 s (node/keepalive.c); past this an
# edge to a process's earlier incarnation is stuck.
STUCK_AFTER = 600.0


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def nfds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def live_edges(node):
    try:
        return node.stats()["edges"]
    except e2e.Fail:
        return None


def addr_key(a):
    return a.rsplit("/", 1)[-1]


def stale_edges(nodes):
    """Edges that point at an earlier incarnation of a process (its NodeID at an address it no
    longer listens on), as (holder, peer, age) with age a lower bound: the time since the
    current incarnation started."""
    now = time.monotonic()
    by_id = {n.id: n for n in nodes}
    out = []
    for n in nodes:
        if n.p.poll() is not None:
            continue
        for p in n.peers():
            cur = by_id.get(p["id"])
            if cur is None or cur.p.poll() is not None:
                continue
            if addr_key(p["addr"]) != addr_key(cur.addr):
                out.append((n.idx, cur.idx, now - cur.joined))
    return out


def num(v):
    return "?" if v is None else f"{v:g}"


def rss_per_edge(after):
    """KiB of RSS per live edge: the slope of RSS on the live-edge count within each process
    (deviations from the process's own means, pooled over processes), or None."""
    sxy = sxx = 0.0
    for ss in after:
        pts = [(x[3], x[1]) for x in ss if x[3] is not None]
        if len(pts) < 2:
            continue
        me = sum(e for e, _ in pts) / len(pts)
        mr = sum(r for _, r in pts) / len(pts)
        sxy += sum((e - me) * (r - mr) for e, r in pts)
        sxx += sum((e - me) ** 2 for e, _ in pts)
    return sxy / sxx if sxx else None


def rss_fd_report(samples, warmup, max_rss_drift):
    """Print the RSS drift and fd lines for samples {idx: [(t, rss, fds, edges)]} taken after
    warmup seconds; False when an fd count grew or the median drift exceeds max_rss_drift."""
    good = True
    # RSS drift and fds of the processes never restarted, after the warm-up. RSS is judged on
    # the median of a minute's samples at each end (DRIFT_WINDOW): a process's RSS swings by
    # a few hundred KiB for seconds at a time (handshake buffers of the peers that restart),
    # and one 10 s sample that lands on a swing is not drift. The single-sample figures (the
    # first sample after the warm-up against the last) are printed too.
    drifts, single, fd_bad, fd_line, ends, afters = [], [], [], [], {}, []
    for i, ss in sorted(samples.items()):
        after = [x for x in ss if x[0] >= warmup and x[1] and x[2] is not None]
        if len(after) < 2:
            continue
        afters.append(after)
        t_last = after[-1][0]
        w0 = [x for x in after if x[0] < min(warmup + DRIFT_WINDOW, t_last - DRIFT_WINDOW)]
        w1 = [x for x in after if x[0] > t_last - DRIFT_WINDOW]
        if not w0 or not w1:
            continue
        r0 = statistics.median(x[1] for x in w0)
        r1 = statistics.median(x[1] for x in w1)
        e0 = [x[3] for x in w0 if x[3] is not None]
        e1 = [x[3] for x in w1 if x[3] is not None]
        ends[i] = (float(statistics.median(e0)) if e0 else None,
                   float(statistics.median(e1)) if e1 else None)
        drifts.append((100.0 * (r1 - r0) / r0, i, r0, r1))
        s0, s1 = after[0][1], after[-1][1]
        single.append((100.0 * (s1 - s0) / s0, i, s0, s1))
        f0, f1 = after[0][2], after[-1][2]
        fd_line.append(f1 - f0)
        if f1 > f0 + 4:
            fd_bad.append(f"node {i}: fds {f0} -> {f1}")
    if drifts:
        med = statistics.median(d[0] for d in drifts)
        worst = max(drifts)
        smed, sworst = statistics.median(d[0] for d in single), max(single)
        print(f"info - RSS after the {warmup:g} s warm-up, {len(drifts)} never-restarted "
              f"processes, median of the first and of the last {DRIFT_WINDOW:g} s of samples: "
              f"median drift {med:+.1f} %, worst {worst[0]:+.1f} % (node {worst[1]}: "
              f"{worst[2]:.0f} -> {worst[3]:.0f} KiB, live edges {num(ends[worst[1]][0])} -> "
              f"{num(ends[worst[1]][1])}); one sample at each end: median {smed:+.1f} %, worst "
              f"{sworst[0]:+.1f} % (node {sworst[1]}: {sworst[2]} -> {sworst[3]} KiB); fd change "
              f"min {min(fd_line)} max {max(fd_line)}")
        # A QUIC edge holds tens of KiB: a process that ends with more edges than it had after
        # the warm-up holds more state, not leaked memory. Separate the two: the drift left
        # once each process's edge-count change is priced at the pooled per-edge slope.
        b = rss_per_edge(afters)
        adj = []
        for d, i, r0, r1 in drifts:
            f0, f1 = ends[i]
            if b is not None and f0 is not None and f1 is not None:
                adj.append((100.0 * (r1 - r0 - b * (f1 - f0)) / r0, i, f0, f1))
        if adj:
            amed = statistics.median(x[0] for x in adj)
            aw = max(adj)
            print(f"info - RSS per live edge (slope within processes): {b:.1f} KiB; drift at "
                  f"equal edge counts: median {amed:+.1f} %, worst {aw[0]:+.1f} % (node {aw[1]}, "
                  f"edges {aw[2]:g} -> {aw[3]:g})")
        if max_rss_drift is not None:
            rss_ok = med <= max_rss_drift
            print(f"{'ok' if rss_ok else 'FAIL'} - median RSS drift {med:+.1f} % "
                  f"(goal <= {max_rss_drift:g} %)")
            good &= rss_ok
    else:
        print("info - no RSS samples after the warm-up (run longer than --warmup)")
    if fd_bad:
        print("FAIL - fd counts grew: " + "; ".join(fd_bad))
        good = False
    elif drifts:
        print("ok - no fd count grew by more than 4 after the warm-up")
    return good


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--churn-pct", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=60.0)
    ap.add_argument("--min-delivery", type=float, default=99.0)
    ap.add_argument("--min-delivery-steady", type=float, default=99.0)
    ap.add_argument("--max-rss-drift", type=float, default=None)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--keep", default=None, help="copy the process logs and a loss list here")
    ap.add_argument("--hosts", choices=("one", "each"), default="one",
                    help="one: every process on 127.0.0.1; each: process i on its own loopback "
                         "address 127.1.x.y, as on a real network (per-IP caps then do not bind)")
    a = ap.parse_args()
    if a.hosts == "each" and a.nodes > 250 * 256:
        ap.error("--hosts each: at most 64,000 processes (127.1.0.1 .. 127.1.255.250)")
    signal.signal(signal.SIGTERM, e2e.on_signal)
    signal.signal(signal.SIGINT, e2e.on_signal)
    rng = random.Random(a.seed)
    with tempfile.TemporaryDirectory(prefix="nn-soak-") as tmp:
        try:
            ok = run(a, rng, tmp)
        except e2e.Fail as ex:
            print(f"FAIL - {ex}")
            ok = False
        finally:
            e2e.kill_children()
            if a.keep:
                import shutil
                shutil.copytree(tmp, a.keep, dirs_exist_ok=True)
    return 0 if ok else 1


def host_of(a, i):
    """Process i's loopback address: all on 127.0.0.1, or each its own (127.1.0.1, ...)."""
    return "127.0.0.1" if a.hosts == "one" else f"127.1.{i // 250}.{1 + i % 250}"


def run(a, rng, tmp):
    t0 = time.monotonic()
    nodes = [e2e.Node(a.binary, 0, tmp, host=host_of(a, 0))]
    nodes[0].wait_started()
    boot = f"{nodes[0].id}@{nodes[0].addr}"
    for i in range(1, a.nodes):
        nodes.append(e2e.Node(a.binary, i, tmp, bootstrap=boot, host=host_of(a, i)))
    for n in nodes[1:]:
        n.wait_started()
    print(f"ok - {a.nodes} nodes started in {time.monotonic() - t0:.1f} s")
    up_since = {i: n.joined for i, n in enumerate(nodes)}
    restarted = set()
    logs = list(nodes)  # every process ever started, for the sanitizer scan

    start = time.monotonic()
    end = start + a.minutes * 60
    kills_per_min = a.nodes * a.churn_pct / 100.0
    kill_every = 60.0 / kills_per_min if kills_per_min > 0 else None
    next_kill = start + (kill_every or 0)
    pending_restart = []  # (when, idx)
    killed_at = {}        # idx -> [times]
    send_every = 1.0 / a.rate
    next_send = start + UP_BEFORE
    sends = []            # (t, s, d, text, idx-of-d's-process-generation)
    refused = 0
    samples = {}          # idx -> [(t, rss, fds)]
    ours, gen = set(), {}  # pids we killed; restarts per slot
    next_sample = start
    k = 0
    while time.monotonic() < end:
        now = time.monotonic()
        if kill_every and now >= next_kill:
            next_kill += kill_every
            cand = [i for i in range(1, a.nodes)
                    if nodes[i].p.poll() is None and i not in [x[1] for x in pending_restart]]
            if cand:
                i = rng.choice(cand)
                ours.add(nodes[i].p.pid)
                nodes[i].p.kill()
                nodes[i].p.wait(timeout=10)
                killed_at.setdefault(i, []).append(now)
                restarted.add(i)
                pending_restart.append((now + 2.0, i))
        for when, i in list(pending_restart):
            if now >= when:
                pending_restart.remove((when, i))
                gen[i] = gen.get(i, 0) + 1
                old = nodes[i].errpath + f".{gen[i]}"
                os.replace(nodes[i].errpath, old)  # keep the dead process's log for the scan
                nodes[i].errpath = old
                n = e2e.Node(a.binary, i, tmp, bootstrap=boot, host=host_of(a, i))
                n.wait_started()
                nodes[i] = n
                logs.append(n)
                up_since[i] = n.joined
        for n in nodes:
            if n.p.poll() is not None and n.p.pid not in ours:
                raise e2e.Fail(f"node {n.idx} died on its own: rc {n.p.returncode}; {n.log_tail()}")
        if now >= next_send:
            next_send += send_every
            live = [i for i in range(a.nodes) if nodes[i].p.poll() is None
                    and now - up_since[i] >= UP_BEFORE]
            if len(live) >= 2:
                s, d = rng.sample(live, 2)
                text = f"soak-{k}-{s}-{d}"
                k += 1
                r = nodes[s].cmd(f"send {nodes[d].id} {text}")
                if r.get("event") != "ok":
                    refused += 1
                sends.append((now, s, d, text, nodes[d], nodes[s], r.get("event") == "ok"))
        if now >= next_sample:
            next_sample += SAMPLE
            for i in range(a.nodes):
                if i not in restarted and nodes[i].p.poll() is None:
                    samples.setdefault(i, []).append(
                        (now - start, rss_kib(nodes[i].p.pid), nfds(nodes[i].p.pid),
                         live_edges(nodes[i])))
        time.sleep(0.01)
    time.sleep(WINDOW + 1)

    # delivery: sends whose two ends both lived through the window
    def survived(i, t):
        return not any(t <= kt <= t + WINDOW for kt in killed_at.get(i, []))
    def last_kill(t):
        ks = [(t - kt, i) for i, v in killed_at.items() for kt in v if kt <= t]
        return min(ks) if ks else None
    counted = delivered = twice = 0
    steady_n = steady_ok = 0  # sends between processes neither of which restarted within RESTART_GRACE
    lost = []
    lost_raw = []
    for (t, s, d, text, dnode, snode, accepted) in sends:
        if not survived(s, t) or not survived(d, t):
            continue
        counted += 1
        got = [x for x in dnode.received() if x[2] == text and x[0] <= t + WINDOW]
        allgot = [x for x in dnode.received() if x[2] == text]
        twice += len(allgot) > 1
        fresh = any(0 <= t - kt <= RESTART_GRACE for i in (s, d) for kt in killed_at.get(i, []))
        ok1 = len(got) == 1 and len(allgot) == 1
        if not fresh:
            steady_n += 1
            steady_ok += ok1
        if ok1:
            delivered += 1
        else:
            lk = last_kill(t)
            dk = [t - kt for kt in killed_at.get(d, []) if kt <= t]
            sk = [t - kt for kt in killed_at.get(s, []) if kt <= t]
            lost_raw.append({"t": t, "s": s, "d": d, "text": text, "n": len(allgot),
                             "d_up": t - dnode.joined, "s_up": t - snode.joined})
            lost.append(f"{s}->{d} at {t - start:.0f} s ({text}; target up {t - dnode.joined:.0f} s) ({len(allgot)} arrived; last kill: "
                        + (f"node {lk[1]} {lk[0]:.1f} s before" if lk else "none")
                        + (f"; target restarted {min(dk):.0f} s before" if dk else "")
                        + (f"; sender restarted {min(sk):.0f} s before" if sk else "") + ")")
    ratio = 100.0 * delivered / counted if counted else 0.0
    kills = sum(len(v) for v in killed_at.values())
    print(f"info - {a.minutes:g} min, {a.nodes} processes, {kills} killed and restarted "
          f"({a.churn_pct:g} %/min), {len(sends)} sends ({refused} refused by the console)")
    print(f"{'ok' if ratio >= a.min_delivery else 'FAIL'} - delivery {delivered}/{counted} = "
          f"{ratio:.2f} % exactly once within {WINDOW:g} s (goal >= {a.min_delivery:g} %); "
          f"{twice} delivered twice")
    restarted_d = sum("target restarted" in x for x in lost)
    if lost:
        print(f"info - {len(lost)} lost, {restarted_d} of them to a target restarted earlier")
    if a.keep:
        import json
        with open(os.path.join(tmp, "soak.json"), "w") as f:
            json.dump({"start": start, "ids": {str(i): n.id for i, n in enumerate(nodes)},
                       "killed_at": killed_at, "lost": lost_raw,
                       "samples": {str(i): ss for i, ss in samples.items()}}, f)
    for x in (lost if a.keep else lost[:10]):
        print(f"info - lost {x}")
    sratio = 100.0 * steady_ok / steady_n if steady_n else 100.0
    print(f"{'ok' if sratio >= a.min_delivery_steady else 'FAIL'} - delivery between processes "
          f"not restarted in the last {RESTART_GRACE:g} s: {steady_ok}/{steady_n} = {sratio:.2f} % "
          f"(goal >= {a.min_delivery_steady:g} %)")
    good = ratio >= a.min_delivery and sratio >= a.min_delivery_steady and twice == 0

    good &= rss_fd_report(samples, a.warmup, a.max_rss_drift)

    stale = stale_edges(nodes)
    stuck = [x for x in stale if x[2] > STUCK_AFTER]
    print(f"info - edges to an earlier incarnation of a restarted process at the end: {len(stale)}"
          + (f" (the oldest at least {max(x[2] for x in stale):.0f} s)" if stale else ""))
    if stuck:
        print(f"FAIL - {len(stuck)} stuck edges (to an incarnation gone more than "
              f"{STUCK_AFTER:g} s): " + ", ".join(f"{h} -> {q}" for h, q, _ in stuck[:10]))
        good = False
    else:
        print(f"ok - no stuck edge (none to an incarnation gone more than {STUCK_AFTER:g} s)")
    edges = [n.stats()["edges"] for n in nodes if n.p.poll() is None]
    print(f"info - edges per live process at the end: min {min(edges)}, max {max(edges)}")
    if min(edges) < 1:
        print("FAIL - a process has no edge at the end")
        good = False
    rcs = [(n.idx, n.quit()) for n in nodes]
    bad_rc = [f"node {i}: {rc}" for i, rc in rcs if rc != 0]
    if bad_rc:
        print("FAIL - quit: " + ", ".join(bad_rc))
        good = False
    else:
        print(f"ok - {len(rcs)} processes quit with exit 0")
    asan, ubsan, first = e2e.sanitizer_findings(logs)
    if asan or ubsan:
        print(f"FAIL - sanitizer reports: {asan} ASan/LSan, {ubsan} UBSan; first: {first}")
        good = False
    else:
        print(f"ok - no sanitizer report in {len(logs)} process logs")
    return good


if __name__ == "__main__":
    sys.exit(main())
