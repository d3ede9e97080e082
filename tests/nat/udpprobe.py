#!/usr/bin/env python3
"""udpprobe.py — plain-UDP helpers run INSIDE the NAT lab's namespaces (Python 3 stdlib only).

Three modes:
  rendezvous --port P   a "STUN-like" helper for a public lab host: answers
                          BIND <nonce>            with  MAPPED <nonce> <ip>:<port>  (the source it saw)
                          REG <session> <id>      with  PEER <session> <peer ip:port> <your ip:port>
                                                  once a second id registered in that session,
                                                  else WAIT <session>
  agent                 a long-running prober driven by JSON lines on stdin, answering JSON
                        lines on stdout (see Agent.OPS); many operations run at once, each
                        tagged by the caller, each bounded by its own timeout
  punch ...             one hole punch from the command line (what the agent's "punch" does)

Hole punch (op "punch"): bind the given local port, register at the rendezvous until it names
the peer's public mapping (the source the rendezvous saw), then every `interval` send
`PUNCH <session> <me> <heard>` to the targets until both "I heard the peer" and "the peer heard
me" (its heard flag) hold, then a few more rounds so the peer completes too. Targets: the
signalled address only (mode "sig"), plus every source a PUNCH from the peer actually came
from (mode "prflx", peer-reflexive answering). A PUNCH is accepted from any source in both
modes: the modes differ only in where we send.

Every wait is bounded; nothing here sends anywhere but the addresses it is given.
"""
import argparse
import json
import os
import selectors
import socket
import sys
import time


def parse_addr(s):
    host, _, port = s.rpartition(":")
    return (host, int(port))


def fmt_addr(a):
    return "%s:%d" % (a[0], a[1])


# ------------------------------------------------------------------------ rendezvous server
def rendezvous(port, ready=True):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    sessions = {}  # session -> {id: (addr, last_seen)}
    if ready:
        print("ready rendezvous %d" % port, flush=True)
    last_gc = time.monotonic()
    while True:
        try:
            data, src = s.recvfrom(2048)
        except InterruptedError:
            continue
        now = time.monotonic()
        if now - last_gc > 10:
            for k in [k for k, v in sessions.items()
                      if all(now - t > 60 for _, t in v.values())]:
                del sessions[k]
            last_gc = now
        parts = data.decode("ascii", "replace").split()
        if len(parts) == 2 and parts[0] == "BIND":
            s.sendto(("MAPPED %s %s" % (parts[1], fmt_addr(src))).encode(), src)
        elif len(parts) == 3 and parts[0] == "REG":
            sess, who = parts[1], parts[2]
            members = sessions.setdefault(sess, {})
            if who not in members and len(members) >= 2:
                continue  # a session has two members; a third is ignored
            members[who] = (src, now)
            others = [a for k, (a, _) in members.items() if k != who]
            if others:
                msg = "PEER %s %s %s" % (sess, fmt_addr(others[0]), fmt_addr(src))
            else:
                msg = "WAIT %s" % sess
            s.sendto(msg.encode(), src)


# ------------------------------------------------------------------------ agent
class Punch:
    """One hole punch; driven by the agent's loop (on_timer / on_packet)."""

    def __init__(self, agent, req):
        self.agent = agent
        self.tag = req["tag"]
        self.session = req["session"]
        self.me = req["me"]
        self.mode = req.get("mode", "sig")
        self.rdv = parse_addr(req["rdv"])
        self.interval = float(req.get("interval", 0.05))
        now = time.monotonic()
        self.rdv_deadline = now + float(req.get("rdv_timeout", 5.0))
        self.punch_timeout = float(req.get("timeout", 3.0))
        self.deadline = self.rdv_deadline
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.bind((req.get("bind", "0.0.0.0"), int(req.get("port", 0))))
        self.local = self.sock.getsockname()
        self.phase = "rdv"
        self.signalled = None
        self.mapped = None
        self.targets = []
        self.seen = []
        self.heard = False
        self.acked = False
        self.linger = 0
        self.sent = 0
        self.received = 0
        self.t_punch = None
        self.t_done = None
        self.next_send = now

    def _send(self, data, to):
        try:
            self.sock.sendto(data, to)
            self.sent += 1
        except OSError:
            pass  # unreachable etc.: counted as not sent

    def on_timer(self, now):
        if now >= self.deadline:
            return self.finish(ok=self.phase == "done" or (self.heard and self.acked),
                               why=None if self.heard and self.acked else "timeout in " + self.phase)
        if now < self.next_send:
            return None
        self.next_send = now + (0.1 if self.phase == "rdv" else self.interval)
        if self.phase == "rdv":
            self._send(("REG %s %s" % (self.session, self.me)).encode(), self.rdv)
        else:
            msg = ("PUNCH %s %s %d" % (self.session, self.me, 1 if self.heard else 0)).encode()
            for t in self.targets:
                self._send(msg, t)
            if self.phase == "done":
                self.linger -= 1
                if self.linger <= 0:
                    return self.finish(ok=True)
        return None

    def on_packet(self, data, src, now):
        parts = data.decode("ascii", "replace").split()
        if not parts or len(parts) < 2 or parts[1] != self.session:
            return None
        if parts[0] == "PEER" and len(parts) == 4 and src == self.rdv and self.phase == "rdv":
            self.signalled = parse_addr(parts[2])
            self.mapped = parse_addr(parts[3])
            self.targets = [self.signalled]
            self.phase = "punch"
            self.t_punch = now
            self.deadline = now + self.punch_timeout
            self.next_send = now
            return self.on_timer(now)
        if parts[0] == "PUNCH" and len(parts) == 4 and parts[2] != self.me:
            self.received += 1
            if src not in self.seen:
                self.seen.append(src)
            if self.mode == "prflx" and src not in self.targets:
                self.targets.append(src)
            self.heard = True
            if parts[3] == "1":
                self.acked = True
            if self.heard and self.acked and self.phase == "punch":
                self.phase = "done"
                self.t_done = now
                self.linger = 4
                self.next_send = now
                return self.on_timer(now)
        return None

    def finish(self, ok, why=None):
        res = {"tag": self.tag, "op": "punch", "ok": bool(ok), "mode": self.mode,
               "local": fmt_addr(self.local),
               "mapped": fmt_addr(self.mapped) if self.mapped else None,
               "signalled": fmt_addr(self.signalled) if self.signalled else None,
               "seen": [fmt_addr(a) for a in self.seen],
               "sent": self.sent, "received": self.received,
               "ms": round((self.t_done - self.t_punch) * 1000, 1)
               if self.t_done and self.t_punch else None}
        if why:
            res["why"] = why
        self.agent.close_sock(self.sock)
        return res


class Plain:
    """A plain socket for bind/send/recv/stun operations; queues what arrives."""

    def __init__(self, agent, name, sock):
        self.agent = agent
        self.name = name
        self.sock = sock
        self.queue = []
        self.waiters = []  # (tag, deadline, match, kind, extra)

    def on_packet(self, data, src, now):
        self.queue.append((data, src))
        return self.serve(now)

    def serve(self, now):
        out = []
        for w in list(self.waiters):
            tag, deadline, match, kind, extra = w
            hit = None
            for i, (data, src) in enumerate(self.queue):
                text = data.decode("ascii", "replace")
                if kind == "stun":
                    p = text.split()
                    if len(p) == 3 and p[0] == "MAPPED" and p[1] == tag:
                        hit = i
                        break
                elif text.startswith(match):
                    hit = i
                    break
            if hit is not None:
                data, src = self.queue.pop(hit)
                self.waiters.remove(w)
                text = data.decode("ascii", "replace")
                if kind == "stun":
                    out.append({"tag": tag, "op": "stun", "ok": True, "mapped": text.split()[2]})
                else:
                    out.append({"tag": tag, "op": "recv", "ok": True, "from": fmt_addr(src),
                                "data": text})
            elif now >= deadline:
                self.waiters.remove(w)
                out.append({"tag": tag, "op": kind, "ok": False, "why": "timeout"})
            elif kind == "stun" and now >= extra["next"]:
                extra["next"] = now + 0.1
                try:
                    self.sock.sendto(("BIND %s" % tag).encode(), extra["server"])
                except OSError:
                    pass
        return out

    def on_timer(self, now):
        return self.serve(now)


class Agent:
    OPS = ("punch", "bind", "send", "recv", "stun", "close", "ping", "quit")

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.owners = {}   # socket fileno -> Punch | Plain
        self.plains = {}   # name -> Plain
        self.tasks = []    # Punch objects and Plains with waiters
        self.inbuf = b""
        self.running = True

    def close_sock(self, sock):
        try:
            self.sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        self.owners.pop(sock.fileno(), None)
        sock.close()

    def emit(self, res):
        if res:
            sys.stdout.write(json.dumps(res) + "\n")
            sys.stdout.flush()

    def handle(self, req, now):
        op = req.get("op")
        tag = req.get("tag", "")
        try:
            if op == "punch":
                p = Punch(self, req)
                self.sel.register(p.sock, selectors.EVENT_READ)
                self.owners[p.sock.fileno()] = p
                self.tasks.append(p)
                self.emit(p.on_timer(now))
            elif op == "bind":
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setblocking(False)
                s.bind((req.get("addr", "0.0.0.0"), int(req.get("port", 0))))
                pl = Plain(self, req["sock"], s)
                self.plains[req["sock"]] = pl
                self.owners[s.fileno()] = pl
                self.sel.register(s, selectors.EVENT_READ)
                self.emit({"tag": tag, "op": op, "ok": True, "local": fmt_addr(s.getsockname())})
            elif op == "send":
                pl = self.plains[req["sock"]]
                pl.sock.sendto(req.get("data", "").encode(), parse_addr(req["to"]))
                self.emit({"tag": tag, "op": op, "ok": True})
            elif op in ("recv", "stun"):
                pl = self.plains[req["sock"]]
                extra = {}
                if op == "stun":
                    extra = {"server": parse_addr(req["server"]), "next": now}
                pl.waiters.append((tag, now + float(req.get("timeout", 1.0)),
                                   req.get("match", ""), op, extra))
                if pl not in self.tasks:
                    self.tasks.append(pl)
                for r in pl.serve(now):
                    self.emit(r)
            elif op == "close":
                pl = self.plains.pop(req["sock"])
                if pl in self.tasks:
                    self.tasks.remove(pl)
                self.close_sock(pl.sock)
                self.emit({"tag": tag, "op": op, "ok": True})
            elif op == "ping":
                self.emit({"tag": tag, "op": op, "ok": True})
            elif op == "quit":
                self.running = False
            else:
                self.emit({"tag": tag, "op": op, "ok": False, "why": "unknown op"})
        except (OSError, KeyError, ValueError) as e:
            self.emit({"tag": tag, "op": op, "ok": False, "why": "%s: %s" % (type(e).__name__, e)})

    def run(self, stdin=True, until_idle=False):
        if stdin:
            os.set_blocking(0, False)
            self.sel.register(0, selectors.EVENT_READ)
            print(json.dumps({"ready": True}), flush=True)
        while self.running and not (until_idle and not self.tasks):
            now = time.monotonic()
            timeout = 0.5
            for t in self.tasks:
                if isinstance(t, Punch):
                    timeout = min(timeout, max(0.0, min(t.next_send, t.deadline) - now))
                else:
                    timeout = min(timeout, 0.02)
            for key, _ in self.sel.select(timeout):
                now = time.monotonic()
                if key.fd == 0:
                    self.read_stdin(now)
                    continue
                owner = self.owners.get(key.fd)
                if owner is not None:
                    self.drain(key.fileobj, owner, now)
            now = time.monotonic()
            for t in list(self.tasks):
                res = t.on_timer(now)
                if isinstance(t, Punch):
                    if res:
                        self.emit(res)
                        self.tasks.remove(t)
                else:
                    for r in res:
                        self.emit(r)
                    if not t.waiters:
                        self.tasks.remove(t)

    def read_stdin(self, now):
        try:
            chunk = os.read(0, 65536)
        except BlockingIOError:
            return
        if not chunk:
            self.running = False
            return
        self.inbuf += chunk
        while b"\n" in self.inbuf:
            line, self.inbuf = self.inbuf.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                req = json.loads(line)
            except ValueError:
                self.emit({"ok": False, "why": "bad json"})
                continue
            self.handle(req, now)

    def drain(self, sock, owner, now):
        while owner in self.tasks or isinstance(owner, Plain):
            try:
                data, src = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. an ICMP error queued on the socket
            res = owner.on_packet(data, src, now)
            if isinstance(owner, Punch):
                if res:
                    self.emit(res)
                    self.tasks.remove(owner)
                    return
            else:
                for r in res:
                    self.emit(r)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rendezvous")
    r.add_argument("--port", type=int, default=3478)
    sub.add_parser("agent")
    p = sub.add_parser("punch")
    p.add_argument("--rdv", required=True, help="rendezvous ip:port")
    p.add_argument("--session", required=True)
    p.add_argument("--me", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=("sig", "prflx"), default="sig")
    p.add_argument("--timeout", type=float, default=3.0)
    a = ap.parse_args()
    if a.cmd == "rendezvous":
        rendezvous(a.port)
    elif a.cmd == "agent":
        Agent().run()
    else:
        ag = Agent()
        results = []
        ag.emit = lambda r: results.append(r) if r else None
        ag.handle({"op": "punch", "tag": "cli", "session": a.session, "me": a.me,
                   "port": a.port, "mode": a.mode, "rdv": a.rdv, "timeout": a.timeout},
                  time.monotonic())
        ag.run(stdin=False, until_idle=True)
        res = results[-1]
        print(json.dumps(res), flush=True)
        sys.exit(0 if res.get("ok") else 1)


if __name__ == "__main__":
    main()
