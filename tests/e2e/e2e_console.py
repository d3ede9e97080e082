#!/usr/bin/env python3
"""e2e_console.py NODENET_NODE HOSTILE_PEER — a remote peer cannot inject console lines.

Over real QUIC on loopback: two nodenet-node daemons (one text console, one -json) and a hostile
peer (tests/e2e/hostile_peer.c) that joins both. The hostile peer advertises addresses crafted to
forge console events ("127.0.0.1:1\\nrecv ...", "\\nok", "\\nend", "\\nerror ...", ANSI and OSC
escapes) in its Neighbors answers and in the Replies it signs, and routes line-forging payloads
to both daemons. Each daemon is then asked to `rendezvous` the hostile peer (its Reply carries
the forged addresses), then `peers` and `stats`. Checks, on the raw bytes of each daemon's stdout:
  - no control byte but the line ends, no ESC, valid UTF-8;
  - every line is a well-formed event of the expected kinds, and exactly as many answers as
    commands: no `ok`, no `keys` (the Reply is dropped: `error ETIMEDOUT`), one `end` per list;
  - the hostile payloads arrive as `recv` events from the hostile peer's NodeID only;
  - the stat dropped_bad_addr moved (the addresses were refused at decode);
  - both daemons quit with exit 0 and no sanitizer report.
Stdlib only; every wait is bounded; children are always killed on the way out.
"""
import json
import os

os.environ.setdefault("NODENET_PORTMAP", "off")  # run directly: no port mapping from tests
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

CHILDREN = []


class Fail(Exception):
    pass


class Proc:
    """A child whose stdout is collected raw, byte for byte."""

    def __init__(self, args, errpath):
        self.errpath = errpath
        self.err = open(errpath, "wb")
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, bufsize=0)
        CHILDREN.append(self.p)
        self.raw = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            b = self.p.stdout.read(4096)
            if not b:
                return
            with self.lock:
                self.raw += b

    def lines(self):
        with self.lock:
            data = bytes(self.raw)
        return data.split(b"\n")[:-1]  # complete lines only

    def wait_line(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                if pred(line):
                    return line
            if self.p.poll() is not None:
                raise Fail(f"{what}: the process exited ({self.p.returncode})")
            time.sleep(0.05)
        raise Fail(f"{what}: not seen in {timeout} s; stdout so far {bytes(self.raw)[-400:]!r}")

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()


def kill_children():
    for p in CHILDREN:
        if p.poll() is None:
            p.kill()
    for p in CHILDREN:
        try:
            p.wait(timeout=5)
        except Exception:
            pass


def event(line, json_mode):
    """(kind, fields) of one stdout line, or raise Fail if it is not a well-formed event."""
    text = line.decode("utf-8")  # raises on invalid UTF-8
    if json_mode:
        e = json.loads(text)
        return e["event"], e
    hexid = r"[0-9a-f]{64}"
    token = r"[\x21-\x7e]+"
    forms = {
        "id": rf"id ({hexid})",
        "listening": rf"listening ({token})",
        "recv": rf"recv ({hexid}) (.*)",
        "error": r"error ([A-Z]+) ([\x20-\x7e]*)",
        "peer": rf"peer ({hexid}) ({token}) (in|out) (sibling|finger) "
                r"(direct|punch|birthday|relay) rtt=[0-9]+\.[0-9]ms",
        "stat": r"stat ([a-z_]+) ([0-9]+)",
        "keys": rf"keys ({hexid}) .*",
        "ok": r"ok",
        "end": r"end",
    }
    kind = text.split(" ", 1)[0]
    m = re.fullmatch(forms.get(kind, r"(?!)"), text)
    if not m:
        raise Fail(f"not a well-formed event: {text!r}")
    if kind == "recv":
        return kind, {"from": m.group(1), "text": m.group(2)}
    if kind == "stat":
        return kind, {"name": m.group(1), "value": int(m.group(2))}
    if kind == "error":
        return kind, {"name": m.group(1)}
    if kind == "id":
        return kind, {"id": m.group(1)}
    if kind == "listening":
        return kind, {"addr": m.group(1)}
    return kind, {}


def check_output(name, d, json_mode, hostile_id):
    raw = bytes(d.raw)
    bad = [b for b in raw if (b < 0x20 and b != 0x0a) or b == 0x7f]
    if bad:
        raise Fail(f"{name}: raw control byte(s) {sorted(set(bad))} on stdout: {raw[-300:]!r}")
    kinds, stats, recvs = {}, {}, []
    for line in raw.split(b"\n")[:-1]:
        try:
            kind, f = event(line, json_mode)
        except (UnicodeDecodeError, ValueError, KeyError) as e:
            raise Fail(f"{name}: malformed stdout line {line!r}: {e}")
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "stat":
            stats[f["name"]] = f["value"]
        elif kind == "recv":
            recvs.append(f)
        elif kind == "error" and f["name"] != "ETIMEDOUT":
            raise Fail(f"{name}: unexpected error event {line!r}")
    # commands sent: rendezvous (-> error ETIMEDOUT), peers (-> peer... end), stats (-> end)
    want = {"ok": 0, "keys": 0, "error": 1, "end": 2, "id": 1}
    for k, n in want.items():
        if kinds.get(k, 0) != n:
            raise Fail(f"{name}: {kinds.get(k, 0)} '{k}' event(s), want {n} (forged lines?): "
                       f"{kinds}")
    if any(r["from"] != hostile_id for r in recvs):
        raise Fail(f"{name}: a recv event from someone else than the hostile peer: {recvs}")
    if stats.get("dropped_bad_addr", 0) < 1:
        raise Fail(f"{name}: dropped_bad_addr is {stats.get('dropped_bad_addr')}, want >= 1")
    return kinds, stats, recvs


def run(binary, hostile_bin, tmp):
    daemons = {}
    for name, json_mode in (("text", False), ("json", True)):
        args = [binary, "-addr", "127.0.0.1:0", "-seed", os.path.join(tmp, name + ".seed"),
                "-console", "-log-level", "info"]
        if json_mode:
            args.append("-json")
        daemons[name] = (Proc(args, os.path.join(tmp, name + ".log")), json_mode)
    contacts, ids = [], {}
    for name, (d, json_mode) in daemons.items():
        if json_mode:
            idl = d.wait_line(lambda l: l.startswith(b'{"event":"id"'), 30, f"{name}: id")
            lst = d.wait_line(lambda l: l.startswith(b'{"event":"listening"'), 30,
                              f"{name}: listening")
            ids[name] = json.loads(idl)["id"]
            addr = json.loads(lst)["addr"]
        else:
            ids[name] = d.wait_line(lambda l: l.startswith(b"id "), 30,
                                    f"{name}: id").decode()[3:]
            addr = d.wait_line(lambda l: l.startswith(b"listening "), 30,
                               f"{name}: listening").decode()[10:]
        contacts.append(f"{ids[name]}@{addr}")
    h = Proc([hostile_bin] + contacts, os.path.join(tmp, "hostile.log"))
    hostile_id = h.wait_line(lambda l: l.startswith(b"id "), 20, "hostile: id").decode()[3:]
    print(f"ok - two daemons (text, json) and a hostile peer {hostile_id[:16]} up")

    # the hostile payloads arrive, as recv events from the hostile peer
    for name, (d, json_mode) in daemons.items():
        d.wait_line(lambda l: b"recv" in l and hostile_id.encode() in l, 15,
                    f"{name}: the hostile peer's routed payloads")
    time.sleep(1.0)  # the other payloads too

    # a rendezvous: the hostile peer signs a Reply advertising the forged addresses
    t0 = time.monotonic()
    for d, _ in daemons.values():
        d.send(f"rendezvous {hostile_id}")
    for name, (d, json_mode) in daemons.items():
        d.wait_line(lambda l: b"ETIMEDOUT" in l or b"keys" in l, 20, f"{name}: rendezvous answer")
    print(f"ok - rendezvous answered in {time.monotonic() - t0:.1f} s")
    for name, (d, json_mode) in daemons.items():
        d.send("peers")
        d.send("stats")
    for name, (d, json_mode) in daemons.items():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if sum(1 for l in d.lines() if l in (b"end", b'{"event":"end"}')) >= 2:
                break
            time.sleep(0.05)
    h.p.stdin.close()  # the hostile peer leaves
    for name, (d, json_mode) in daemons.items():
        d.send("quit")
    for name, (d, json_mode) in daemons.items():
        try:
            rc = d.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise Fail(f"{name}: still running 15 s after quit")
        time.sleep(0.1)  # the reader thread drains the pipe
        if rc != 0:
            raise Fail(f"{name}: quit exited {rc}")
        kinds, stats, recvs = check_output(name, d, json_mode, hostile_id)
        print(f"ok - {name} console: {sum(kinds.values())} events, none forged, no raw control "
              f"byte; {len(recvs)} hostile payload(s) shown as recv; dropped_bad_addr "
              f"{stats['dropped_bad_addr']}")
        with open(d.errpath, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        if "ERROR: AddressSanitizer" in log or "ERROR: LeakSanitizer" in log:
            raise Fail(f"{name}: sanitizer report in {d.errpath}")
        if any(b < 0x20 and b not in (0x0a, 0x0d) or b == 0x1b for b in log.encode()):
            raise Fail(f"{name}: raw control byte on stderr")
    try:
        h.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise Fail("hostile peer still running 10 s after its stdin closed")
    print("e2e-console passed")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    tmp = tempfile.mkdtemp(prefix="nodenet-e2e-console-")
    ok = False
    try:
        run(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), tmp)
        ok = True
    except Fail as e:
        print(f"FAIL - {e}")
    finally:
        kill_children()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs kept in {tmp}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
