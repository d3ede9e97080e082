#!/usr/bin/env python3
"""check_man.py lint|drift SRCDIR [NODENET_NODE] — the hand-written man pages (man/).

lint:  each page formats without a warning: `groff -ww -z -man` (groff-base), and
       `man --warnings -l` (man-db) when present; with neither, `mandoc -T lint`. With none of
       the three the test is skipped (exit 77) with the reason.
drift: the pages cannot fall behind the code:
       - every flag that `nodenet-node -h` and `nodenet-node id -h` print (and -version, -help)
         is a tagged item (.TP) of nodenet-node(1)'s OPTIONS, and OPTIONS has no tag for a
         flag the daemon does not know;
       - every console command that -h lists is a tagged item of its CONSOLE section;
       - EXIT STATUS has items 0, 1 and 2;
       - every function node/nodenet.h declares is in libnodenet(3)'s synopsis (as "nn_name("),
         and the page names no function the header lacks.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_api_doc import header_functions  # noqa: E402

PAGES = ["nodenet-node.1", "libnodenet.3"]


def lint(src):
    tools = []
    if shutil.which("groff"):
        tools.append(["groff", "-ww", "-z", "-man"])
    if shutil.which("man"):
        tools.append(["man", "--warnings", "-l"])
    if not tools and shutil.which("mandoc"):
        tools.append(["mandoc", "-T", "lint", "-W", "warning"])
    if not tools:
        print("SKIP: none of groff (groff-base), man (man-db) or mandoc is installed, so the man "
              "pages cannot be linted (scripts/setup.sh installs groff-base)")
        return 77
    bad = 0
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    for page in PAGES:
        path = os.path.join(src, "man", page)
        for tool in tools:
            r = subprocess.run(tool + [path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=env, timeout=60)
            err = r.stderr.decode("utf-8", "replace").strip()
            if r.returncode != 0 or err:
                print(f"FAIL: {' '.join(tool)} {page}: exit {r.returncode}\n{err}")
                bad += 1
            else:
                print(f"ok - {' '.join(tool)} {page}: no warning")
    return 1 if bad else 0


def tags(roff):
    """{section: [tag line, ...]} for the .TP items of a page."""
    out, section, lines = {}, None, roff.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            section = line[4:].strip().strip('"')
        elif line.startswith(".TP") and i + 1 < len(lines):
            out.setdefault(section, []).append(lines[i + 1])
    return out


def unroff(s):
    return s.replace("\\-", "-").replace('"', " ")


def daemon_help(binary, *args):
    r = subprocess.run([binary, *args, "-h"], capture_output=True, timeout=20)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {binary} {' '.join(args)} -h exited {r.returncode}")
    return r.stdout.decode()


def drift(src, binary):
    bad = []
    roff = open(os.path.join(src, "man", "nodenet-node.1"), encoding="utf-8").read()
    t = tags(roff)
    help_main, help_id = daemon_help(binary), daemon_help(binary, "id")
    flags = set(re.findall(r"^  -([a-z][a-z-]*)", help_main + help_id, re.M))
    flags |= {"version", "help", "h"}
    documented = set()
    for line in t.get("OPTIONS", []):
        documented |= set(re.findall(r"(?<![a-z])-{1,2}([a-z][a-z-]*)", unroff(line)))
    for f in sorted(flags - documented):
        bad.append(f"nodenet-node(1): flag -{f} (from -h) has no item in OPTIONS")
    for f in sorted(documented - flags):
        bad.append(f"nodenet-node(1): OPTIONS documents -{f}, which -h does not list")
    block = help_main.split("Console", 1)[1].split("Events", 1)[0]
    commands = set(re.findall(r"^  ([a-z]+)\b", block, re.M))
    if len(commands) < 5:
        bad.append(f"could not read the console commands from -h: {sorted(commands)}")
    console = {unroff(l).split()[1] for l in t.get("CONSOLE", []) if len(l.split()) > 1}
    for c in sorted(commands - console):
        bad.append(f"nodenet-node(1): console command {c} (from -h) has no item in CONSOLE")
    exits = {unroff(l).split()[1] for l in t.get("EXIT STATUS", []) if len(l.split()) > 1}
    for code in ("0", "1", "2"):
        if code not in exits:
            bad.append(f"nodenet-node(1): EXIT STATUS has no item {code}")
    lib = open(os.path.join(src, "man", "libnodenet.3"), encoding="utf-8").read()
    htext = open(os.path.join(src, "node", "nodenet.h"), encoding="utf-8").read()
    hdr = header_functions(htext)
    synopsis = set(re.findall(r"\b(nn_\w+)\(", lib))
    # names the page uses that are not functions: types and macros the header spells out
    types = set(re.findall(r"\b(nn_\w+)", htext)) - hdr
    named = set(re.findall(r"\b(nn_\w+)", lib)) - types
    for f in sorted(hdr - synopsis):
        bad.append(f"libnodenet(3): {f}() is declared in node/nodenet.h but not in the page")
    for f in sorted(named - hdr):
        bad.append(f"libnodenet(3): names {f}, which node/nodenet.h does not declare")
    for b in bad:
        print("FAIL:", b)
    if bad:
        return 1
    print(f"ok - nodenet-node(1) has the {len(flags)} flags and {len(commands)} console commands "
          f"of -h and exit statuses 0/1/2; libnodenet(3) has the header's {len(hdr)} functions")
    return 0


def main():
    mode, src = sys.argv[1], sys.argv[2]
    if mode == "lint":
        return lint(src)
    return drift(src, sys.argv[3])


if __name__ == "__main__":
    sys.exit(main())
