#!/usr/bin/env python3
"""check_err_block.py SRCROOT — node/nodenet.h's error block must be byte-identical to
kad/nn_err.h: the lines between `/* BEGIN nn_err */` and `/* END nn_err */` in the public
header against kad/nn_err.h from `#ifndef NN_ERR_H` to its final `#endif` (inclusive)."""
import sys


def public_block(text):
    begin, end = "/* BEGIN nn_err */\n", "/* END nn_err */"
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < 0 or j < i:
        raise SystemExit("node/nodenet.h: missing /* BEGIN nn_err */ ... /* END nn_err */")
    if text.find(begin, i + 1) >= 0 or text.find(end, j + 1) >= 0:
        raise SystemExit("node/nodenet.h: the BEGIN/END nn_err markers appear more than once")
    return text[i + len(begin):j]


def kad_block(text):
    i = text.find("#ifndef NN_ERR_H")
    j = text.rfind("#endif")
    if i < 0 or j < i:
        raise SystemExit("kad/nn_err.h: no #ifndef NN_ERR_H ... #endif")
    nl = text.find("\n", j)
    return text[i:len(text) if nl < 0 else nl + 1]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    with open(f"{root}/node/nodenet.h", "rb") as f:
        pub = public_block(f.read().decode("utf-8"))
    with open(f"{root}/kad/nn_err.h", "rb") as f:
        kad = kad_block(f.read().decode("utf-8"))
    if pub == kad:
        print(f"ok - the nn_err block of node/nodenet.h matches kad/nn_err.h ({len(kad)} bytes)")
        return 0
    pl, kl = pub.splitlines(True), kad.splitlines(True)
    for n, (a, b) in enumerate(zip(pl, kl), 1):
        if a != b:
            print(f"FAIL - line {n} of the block differs:\n  nodenet.h: {a!r}\n  nn_err.h:  {b!r}")
            break
    else:
        print(f"FAIL - the blocks differ in length: nodenet.h {len(pl)} lines, nn_err.h {len(kl)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
