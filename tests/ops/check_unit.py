#!/usr/bin/env python3
"""check_unit.py verify|exec SRCDIR UNIT NODENET_NODE — the systemd unit (dist/systemd/).

UNIT is nodenet-node@.service as meson configured it (ExecStart in the install's bindir).
verify: needs systemd-analyze (package systemd; skipped, exit 77, with the reason without it):
  - `systemd-analyze verify` of the unit as instance nodenet-node@test.service, its ExecStart
    pointed at the built binary and nodenet-node(1) on MANPATH (so Documentation= resolves),
    prints nothing and exits 0;
  - `systemd-analyze security --offline=true` rates its exposure at most 2.0 ("OK");
exec: (no systemd needed) the hardening the issue names is there (DynamicUser, StateDirectory,
  ProtectSystem=strict, NoNewPrivileges, RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
  AF_NETLINK (netlink for getifaddrs: a wildcard -addr lists the interface addresses),
  an empty CapabilityBoundingSet), and the ExecStart line, expanded the way systemd expands it
  (%S, %i, ${VAR} as one word, $VAR split) with NODENET_ADDR=127.0.0.1:0 and NODENET_ARGS from
  a conf file, runs the daemon: it mints its seed in the state directory (mode 0600), comes
  up, and on SIGTERM (systemd's stop) exits 0 having written the contacts file there.
"""
import os

os.environ.setdefault("NODENET_PORTMAP", "off")  # run directly: no port mapping from tests
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def directives(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def verify(src, unit, binary):
    tool = shutil.which("systemd-analyze")
    if not tool:
        print("SKIP: systemd-analyze is not installed (Debian package systemd; scripts/setup.sh "
              "installs it), so the unit cannot be verified")
        return 77
    text = open(unit, encoding="utf-8").read()
    m = re.search(r"^ExecStart=(\S+)", text, re.M)
    text = text.replace(m.group(1), os.path.abspath(binary))
    with tempfile.TemporaryDirectory(prefix="nn-unit-") as tmp:
        path = os.path.join(tmp, "nodenet-node@test.service")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.makedirs(os.path.join(tmp, "man", "man1"))
        shutil.copy(os.path.join(src, "man", "nodenet-node.1"), os.path.join(tmp, "man", "man1"))
        env = dict(os.environ, MANPATH=os.path.join(tmp, "man"), SYSTEMD_PAGER="",
                   SYSTEMD_COLORS="0", LC_ALL="C.UTF-8")
        args = [tool, "verify"] + ([] if shutil.which("man") else ["--man=no"]) + [path]
        r = subprocess.run(args, capture_output=True, env=env, cwd=tmp, timeout=60)
        out = (r.stdout + r.stderr).decode("utf-8", "replace").strip()
        if r.returncode != 0 or out:
            print(f"FAIL: systemd-analyze verify: exit {r.returncode}\n{out}")
            return 1
        print("ok - systemd-analyze verify nodenet-node@test.service: clean"
              + ("" if shutil.which("man") else " (man not installed: --man=no)"))
        r = subprocess.run([tool, "security", "--offline=true", "--no-pager", path],
                           capture_output=True, env=env, cwd=tmp, timeout=60)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
        if not m:
            print(f"FAIL: systemd-analyze security gave no exposure level:\n{out[-1000:]}")
            return 1
        if float(m.group(1)) > 2.0:
            print(f"FAIL: exposure {m.group(1)} > 2.0:\n{out}")
            return 1
        print(f"ok - systemd-analyze security --offline: exposure {m.group(1)} (at most 2.0)")
    return 0


def expand(word, env, spec):
    for k, v in spec.items():
        word = word.replace("%" + k, v)
    if re.fullmatch(r"\$[A-Za-z_]\w*", word):
        return env.get(word[1:], "").split()
    return [re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word)]


def exec_line(src, unit, binary):
    d = directives(open(unit, encoding="utf-8").read())
    want = {"DynamicUser": "yes", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
            "CapabilityBoundingSet": "",
            "StateDirectory": "nodenet/%i", "StateDirectoryMode": "0700", "ProtectHome": "yes",
            "PrivateTmp": "yes", "PrivateDevices": "yes", "RestartPreventExitStatus": "2"}
    for k, v in want.items():
        if d.get(k) != [v]:
            print(f"FAIL: {k}={v} wanted once, the unit has {d.get(k)}")
            return 1
    print(f"ok - the unit has {', '.join(f'{k}={v}' for k, v in want.items())}")
    with tempfile.TemporaryDirectory(prefix="nn-unit-") as tmp:
        state = os.path.join(tmp, "state")
        os.makedirs(os.path.join(state, "nodenet", "test"), mode=0o700)
        env = {}
        for e in d.get("Environment", []):
            k, v = e.split("=", 1)
            env[k] = v
        conf = os.path.join(tmp, "test.conf")  # what EnvironmentFile=/etc/nodenet/%i.conf holds
        with open(conf, "w") as f:
            f.write("NODENET_ADDR=127.0.0.1:0\nNODENET_ARGS=-pow 1 -log-level debug\n")
        for line in open(conf):
            k, v = line.rstrip("\n").split("=", 1)
            env[k] = v
        spec = {"S": state, "i": "test"}
        words = shlex.split(d["ExecStart"][0])
        argv = [os.path.abspath(binary)] + [w for x in words[1:] for w in expand(x, env, spec)]
        log = open(os.path.join(tmp, "log"), "w+b")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            seed = os.path.join(state, "nodenet", "test", "nodenet.seed")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and p.poll() is None:
                log.seek(0)
                if b" up, " in log.read():
                    break
                time.sleep(0.05)
            log.seek(0)
            out = log.read().decode("utf-8", "replace")
            if p.poll() is not None or " up, " not in out:
                print(f"FAIL: {shlex.join(argv)} did not come up:\n{out[-1500:]}")
                return 1
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        log.seek(0)
        out = log.read().decode("utf-8", "replace")
        contacts = seed + ".contacts"
        if rc != 0 or "Sanitizer" in out or "runtime error" in out:
            print(f"FAIL: exit {rc} after SIGTERM:\n{out[-1500:]}")
            return 1
        if not os.path.exists(seed) or os.stat(seed).st_mode & 0o777 != 0o600:
            print(f"FAIL: no seed with mode 0600 at {seed}")
            return 1
        if not os.path.exists(contacts):
            print(f"FAIL: no contacts file at {contacts} after the graceful stop:\n{out[-1500:]}")
            return 1
        print("ok - the ExecStart line (expanded as systemd does) runs the node: seed minted "
              "0600 in the StateDirectory, SIGTERM exits 0, contacts file saved there")
    return 0


def main():
    mode, src, unit, binary = sys.argv[1:5]
    return verify(src, unit, binary) if mode == "verify" else exec_line(src, unit, binary)


if __name__ == "__main__":
    sys.exit(main())
