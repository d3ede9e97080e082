#!/usr/bin/env python3
"""metrics.py NODENET_NODE — the Prometheus endpoint over real sockets on loopback.

Two nodenet-node daemons (-pow 8) over QUIC: A with -metrics 127.0.0.1:0 (its log names the
port), B joined through A. Checks:
  - GET /metrics (urllib, and curl when installed) answers 200, Content-Type text/plain;
    version=0.0.4, and the body parses strictly as the text format: HELP (with a text) then
    TYPE before each family's samples, names [a-z0-9_] with prefix nodenet_, label values
    quoted, integer values, no line twice;
  - the documented names are there: every stat the console's `stats` lists (a counter as
    nodenet_<name>_total; nodenet_edges, _edges_out, _knowledge, _edges_punched, _edges_relayed,
    _media_sessions are gauges), and only counters
    end in _total (Prometheus naming); nodenet_edges_by_direction{direction=in|out},
    nodenet_edges_by_role, nodenet_nat_type (exactly one 1), nodenet_phase, nodenet_info;
    the numbers agree with the console (edges >= 1 once B joined);
  - HEAD /metrics has the headers and no body; another path 404; POST 405; garbage 400; a head
    over 4 KiB 431; a connection that sends nothing is closed within the 5 s timeout;
  - 8 idle connections fill the cap; a 9th client is answered only after one of them goes;
  - -metrics on a non-loopback address is refused (exit 2, one line) unless
    -metrics-allow-remote; -metrics-allow-remote alone is refused;
  - both daemons quit with exit 0 and no sanitizer report.
Stdlib only; every wait is bounded; children are always killed on the way out.
"""
import os

os.environ.setdefault("NODENET_PORTMAP", "off")  # run directly: no port mapping from tests
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

POW = 8
CHILDREN = []
NAME = re.compile(r"^nodenet_[a-z0-9_]+$")
SAMPLE = re.compile(r'^(nodenet_[a-z0-9_]+)(\{([a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*)\})? '
                    r'([0-9]+)$')


class Fail(Exception):
    pass


class Node:
    def __init__(self, binary, name, tmp, extra):
        self.name = name
        self.errpath = os.path.join(tmp, f"{name}.log")
        self.err = open(self.errpath, "wb")
        args = [binary, "-addr", "127.0.0.1:0", "-pow", str(POW), "-seed",
                os.path.join(tmp, f"{name}.seed"), "-console", "-contacts", "off"] + extra
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, bufsize=0)
        CHILDREN.append(self.p)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.id = self.wait(lambda l: l.startswith("id "), 20, "id")[3:]
        self.addr = self.wait(lambda l: l.startswith("listening 127.0.0.1:"), 20, "addr")[10:]

    def _read(self):
        for raw in self.p.stdout:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait(self, pred, timeout, what, start=0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = [l for l in self.lines[start:] if pred(l)]
            if got:
                return got[0]
            if self.p.poll() is not None:
                raise Fail(f"{self.name} {what}: exited ({self.p.returncode})")
            time.sleep(0.05)
        raise Fail(f"{self.name} {what}: not seen in {timeout} s")

    def command(self, cmd):
        with self.lock:
            start = len(self.lines)
        self.p.stdin.write(cmd.encode() + b"\n")
        self.p.stdin.flush()
        self.wait(lambda l: l == "end", 10, f"{cmd} end", start)
        with self.lock:
            block = self.lines[start:]
        return block[:block.index("end")]

    def stats(self):
        return {l.split()[1]: int(l.split()[2]) for l in self.command("stats")}

    def metrics_url(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.errpath, "rb") as f:
                m = re.search(rb"metrics on (http://127\.0\.0\.1:[0-9]+/metrics)", f.read())
            if m:
                return m.group(1).decode()
            time.sleep(0.05)
        raise Fail("no 'metrics on' line in the log")

    def quit(self):
        self.p.stdin.write(b"quit\n")
        self.p.stdin.flush()
        rc = self.p.wait(timeout=15)
        if rc != 0:
            raise Fail(f"{self.name}: exit {rc} after quit")


def parse_text(body):
    """Strict reading of the text format; returns {family: (type, [(labels, value)])}."""
    fams, help_of, seen = {}, None, set()
    current = None
    for line in body.split("\n")[:-1] if body.endswith("\n") else ["<no final newline>"]:
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            if not NAME.match(name) or name in fams or len(line.split(" ", 3)) < 4:
                raise Fail(f"bad or repeated HELP: {line!r}")
            help_of = name
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[2] != help_of or parts[3] not in ("counter", "gauge"):
                raise Fail(f"bad TYPE (or no HELP before it): {line!r}")
            current = parts[2]
            fams[current] = (parts[3], [])
        else:
            m = SAMPLE.match(line)
            if not m or m.group(1) != current:
                raise Fail(f"bad sample line (or outside its family): {line!r}")
            if line.rsplit(" ", 1)[0] in seen:
                raise Fail(f"repeated sample: {line!r}")
            seen.add(line.rsplit(" ", 1)[0])
            fams[current][1].append((m.group(3) or "", int(m.group(5))))
    return fams


def raw_request(host, port, data, timeout=8):
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        if data:
            s.sendall(data)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b
    finally:
        s.close()


def run(binary, tmp):
    # flag checks first: they never start a node
    for args, want in ((["-metrics", "10.1.2.3:9100"], "not a loopback address"),
                       (["-metrics", "0.0.0.0:9100"], "not a loopback address"),
                       (["-metrics-allow-remote"], "without -metrics"),
                       (["-metrics", "127.0.0.1"], "-metrics")):
        r = subprocess.run([binary, "-addr", "127.0.0.1:0", "-seed", os.path.join(tmp, "f.seed"),
                            "-console=false"] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        err = r.stderr.decode()
        if r.returncode != 2 or want not in err or len(err.strip().splitlines()) != 1:
            raise Fail(f"{args}: rc {r.returncode}, stderr {err!r}")
    print("ok - a non-loopback -metrics (or -metrics-allow-remote alone) exits 2 with one line")

    a = Node(binary, "a", tmp, ["-metrics", "127.0.0.1:0"])
    b = Node(binary, "b", tmp, ["-bootstrap", f"{a.id}@{a.addr}"])
    url = a.metrics_url()
    host, port = "127.0.0.1", int(url.split(":")[2].split("/")[0])
    deadline = time.monotonic() + 15
    while not a.command("peers") and time.monotonic() < deadline:
        time.sleep(0.1)

    r = urllib.request.urlopen(url, timeout=5)
    ctype = r.headers.get("Content-Type")
    body = r.read().decode("utf-8")
    if r.status != 200 or ctype != "text/plain; version=0.0.4; charset=utf-8":
        raise Fail(f"GET /metrics: {r.status} {ctype!r}")
    if int(r.headers.get("Content-Length")) != len(body.encode()):
        raise Fail("Content-Length does not match the body")
    fams = parse_text(body)
    stats = a.stats()
    gauges = ("edges", "edges_out", "knowledge", "edges_punched", "edges_relayed", "media_sessions")
    names = {s: "nodenet_" + s + ("" if s in gauges else "_total") for s in stats}
    for name, value in stats.items():
        fam = fams.get(names[name])
        if not fam or len(fam[1]) != 1 or fam[1][0][0] != "":
            raise Fail(f"stat {name}: no single unlabelled sample {names[name]}")
        want_type = "gauge" if name in gauges else "counter"
        if fam[0] != want_type:
            raise Fail(f"{names[name]} is a {fam[0]}, want {want_type}")
    # Prometheus naming conventions: counters (and only they) end in _total.
    for fam, (typ, _) in fams.items():
        if (typ == "counter") != fam.endswith("_total"):
            raise Fail(f"{fam}: a {typ} {'without' if typ == 'counter' else 'with'} _total")
    if fams["nodenet_edges"][1][0][1] < 1:
        raise Fail("nodenet_edges is 0 with B joined")
    labelled = {"nodenet_edges_by_direction": {'direction="in"', 'direction="out"'},
                "nodenet_edges_by_role": {'role="sibling"', 'role="finger"'},
                "nodenet_nat_type": {f'type="{t}"' for t in
                                     ("unknown", "public", "cone", "symmetric")},
                "nodenet_phase": {f'phase="{p}"' for p in
                                  ("bootstrap", "critical", "urgent", "needs-fill", "normal")}}
    for fam, labels in labelled.items():
        got = {l for l, _ in fams[fam][1]}
        if fams[fam][0] != "gauge" or got != labels:
            raise Fail(f"{fam}: {fams[fam]}")
    for fam in ("nodenet_nat_type", "nodenet_phase"):
        if sorted(v for _, v in fams[fam][1]) != [0] * (len(fams[fam][1]) - 1) + [1]:
            raise Fail(f"{fam}: not exactly one 1: {fams[fam][1]}")
    by_dir = sum(v for _, v in fams["nodenet_edges_by_direction"][1])
    if by_dir != fams["nodenet_edges"][1][0][1]:
        raise Fail("edges by direction do not add up to nodenet_edges")
    info = fams["nodenet_info"][1]
    if len(info) != 1 or f'id="{a.id}"' not in info[0][0]:
        raise Fail(f"nodenet_info: {info}")
    extra = set(fams) - set(names.values()) - set(labelled) - {"nodenet_info"}
    if extra:
        raise Fail(f"undocumented families: {sorted(extra)}")
    print(f"ok - GET /metrics: {len(fams)} families parse strictly, every stat present, "
          f"{fams['nodenet_edges'][1][0][1]} edge(s)")

    # The operator's tool: curl (installed by scripts/setup.sh) gets the same strict parse.
    if shutil.which("curl"):
        r = subprocess.run(["curl", "-sS", "--fail", "--max-time", "5", url],
                           capture_output=True, timeout=10)
        if r.returncode != 0:
            raise Fail(f"curl {url}: exit {r.returncode}: {r.stderr.decode()!r}")
        cfams = parse_text(r.stdout.decode("utf-8"))
        if set(cfams) != set(fams):
            raise Fail(f"curl's scrape has other families: {sorted(set(cfams) ^ set(fams))}")
        print(f"ok - curl {url}: {len(cfams)} families parse strictly, the same names")
    else:
        print("note - curl is not installed: the scrape above used urllib only")

    resp = raw_request(host, port, b"HEAD /metrics HTTP/1.0\r\n\r\n")
    head, _, rest = resp.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200 OK") or rest or b"Content-Length: " not in head:
        raise Fail(f"HEAD: {resp[:200]!r}")
    cases = [(b"GET /other HTTP/1.0\r\n\r\n", b"HTTP/1.0 404 "),
             (b"POST /metrics HTTP/1.0\r\n\r\n", b"HTTP/1.0 405 "),
             (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"HTTP/1.0 400 "),
             (b"GET /metrics HTTP/1.0\r\nX: " + b"a" * 5000 + b"\r\n\r\n", b"HTTP/1.0 431 ")]
    for req, want in cases:
        resp = raw_request(host, port, req)
        if not resp.startswith(want):
            raise Fail(f"{req[:30]!r}: {resp[:60]!r}, want {want!r}")
    t0 = time.monotonic()
    resp = raw_request(host, port, b"", timeout=10)
    if resp or time.monotonic() - t0 > 7:
        raise Fail(f"a silent connection: {resp!r} after {time.monotonic() - t0:.1f} s")
    print(f"ok - HEAD, 404, 405, 400, 431; a silent client closed after "
          f"{time.monotonic() - t0:.1f} s")

    idle = [socket.create_connection((host, port), timeout=5) for _ in range(8)]
    time.sleep(0.3)
    ninth = socket.create_connection((host, port), timeout=10)
    ninth.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    ninth.settimeout(1.0)
    try:
        early = ninth.recv(100)
    except socket.timeout:
        early = None
    if early:
        raise Fail("a 9th connection was served while 8 were open")
    idle.pop().close()
    ninth.settimeout(5)
    got = ninth.recv(100)
    if not got.startswith(b"HTTP/1.0 200 OK"):
        raise Fail(f"the 9th client after one left: {got[:60]!r}")
    ninth.close()
    for s in idle:
        s.close()
    print("ok - 8 connections at most: a 9th is served once one leaves")

    # the node still answers its console and serves again
    urllib.request.urlopen(url, timeout=5).read()
    a.quit()
    b.quit()
    for name in os.listdir(tmp):
        if name.endswith(".log"):
            with open(os.path.join(tmp, name), "rb") as f:
                t = f.read().decode("utf-8", "replace")
            if "ERROR: AddressSanitizer" in t or "ERROR: LeakSanitizer" in t or \
                    "runtime error:" in t:
                raise Fail(f"sanitizer report in {name}")
    print("ok - both nodes quit with exit 0, no sanitizer report")


def main():
    if len(sys.argv) != 2:
        print("usage: metrics.py NODENET_NODE", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="nn_metrics_")
    try:
        run(sys.argv[1], tmp)
    except (Fail, OSError, subprocess.TimeoutExpired, urllib.error.URLError) as e:
        print(f"FAIL: {e!r}")
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".log"):
                with open(os.path.join(tmp, name), "rb") as f:
                    print(f"--- {name}\n" + f.read().decode("utf-8", "replace")[-1500:])
        return 1
    finally:
        for p in CHILDREN:
            if p.poll() is None:
                p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
