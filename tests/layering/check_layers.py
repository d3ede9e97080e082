#!/usr/bin/env python3
"""check_layers.py SRCROOT — enforce the layer DAG of docs/ARCHITECTURE.md on #include lines.

A file in layer L may include only headers of L itself and of layers listed for L below, and
for a layer in ONLY only the headers listed there (cmd: the public node/nodenet.h). System
headers in <...> are not checked. Exits 1 and names every violation."""
import os
import re
import sys

ALLOWED = {
    "kad": set(),
    "identity": {"kad"},
    "pow": {"kad", "identity"},
    "wire": {"kad"},
    "transport": {"kad", "wire"},
    "transport/mem": {"kad", "wire", "transport"},
    "transport/quic": {"kad", "wire", "identity", "transport"},
    "routing": {"kad", "identity", "pow", "wire", "transport"},
    "rendezvous": {"kad", "identity", "wire", "transport"},
    "nat": {"kad", "wire", "transport"},
    "node": {"kad", "identity", "pow", "wire", "transport", "transport/mem", "transport/quic",
             "routing", "rendezvous", "nat"},
    "cmd": {"node"},
}
# Layers that may include only these headers of the layers listed for them: the daemon is built
# on the public API alone (what an embedder gets), never on node/ internals.
ONLY = {
    "cmd": {"node/nodenet.h"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    """The most specific layer a repo-relative path belongs to, or None."""
    parts = path.split("/")
    if len(parts) >= 2 and "/".join(parts[:2]) in ALLOWED and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0] if parts[0] in ALLOWED else None


def self_test():
    """The checker must catch an upward include; run on a scratch tree."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "kad"))
        os.makedirs(os.path.join(d, "transport", "mem"))
        with open(os.path.join(d, "kad", "x.c"), "w") as f:
            f.write('#include "wire/wire.h"\n')
        with open(os.path.join(d, "transport", "mem", "y.c"), "w") as f:
            f.write('#include "transport/quic/q.h"\n#include "transport/addr.h"\n')
        os.makedirs(os.path.join(d, "cmd"))
        with open(os.path.join(d, "cmd", "z.c"), "w") as f:
            f.write('#include "node/nodenet.h"\n#include "cmd/z.h"\n'
                    '#include "node/node_impl.h"\n#include "transport/addr.h"\n')
        r = subprocess.run([sys.executable, __file__, d], capture_output=True, text=True)
        out = r.stdout
        assert r.returncode == 1, out
        assert "kad/x.c:1: layer kad includes wire/wire.h" in out, out
        assert "transport/mem/y.c:1: layer transport/mem includes transport/quic/q.h" in out, out
        assert "cmd/z.c:3: layer cmd includes node/node_impl.h, not its public API" in out, out
        assert "cmd/z.c:4: layer cmd includes transport/addr.h (layer transport)" in out, out
        assert "4 layering violations" in out, out
    print("self-test ok")


def main():
    if sys.argv[1:2] == ["--self-test"]:
        self_test()
        sys.argv.pop(1)
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = []
    checked = 0
    for layer in sorted({l.split("/")[0] for l in ALLOWED}):
        for dirpath, _, files in os.walk(os.path.join(root, layer)):
            for name in files:
                if not name.endswith((".c", ".h")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                me = layer_of(rel)
                checked += 1
                with open(full, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = layer_of(m.group(1))
                        if target is None:
                            if "/" in m.group(1):
                                bad.append(f"{rel}:{lineno}: includes {m.group(1)}, outside every layer")
                            continue
                        if target != me and target not in ALLOWED[me]:
                            bad.append(f"{rel}:{lineno}: layer {me} includes {m.group(1)} (layer {target})")
                        elif target != me and me in ONLY and m.group(1) not in ONLY[me]:
                            bad.append(f"{rel}:{lineno}: layer {me} includes {m.group(1)}, "
                                       f"not its public API ({', '.join(sorted(ONLY[me]))})")
    for b in bad:
        print(b)
    print(f"checked {checked} files, {len(bad)} layering violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
