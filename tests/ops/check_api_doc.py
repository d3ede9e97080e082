#!/usr/bin/env python3
"""check_api_doc.py SRCDIR — docs/API.md and node/nodenet.h name the same functions.

Public functions are the declarations in node/nodenet.h ("<type> nn_name(" at the start of a
line, typedefs and macros excluded). Each must be *declared* in a ```c block of docs/API.md
(its prototype, not only a call in an example). The other way round, every nn_name( that
docs/API.md mentions anywhere (prototype, example or prose `nn_name()`) must be a function of
the header, so the page cannot keep a function that was renamed or removed.
Exit 0 and one "ok" line, or exit 1 listing every difference.
"""
import re
import sys

DECL = re.compile(r"^\s*(?:(?:const|unsigned|signed|struct|enum)\s+)*[A-Za-z_]\w*[\s*]+"
                  r"(nn_\w+)\s*\(")
CALL = re.compile(r"\b(nn_\w+)\s*\(")


def header_functions(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = set()
    for line in text.splitlines():
        s = line.lstrip()
        if s.startswith(("#", "typedef")):
            continue
        m = DECL.match(line)
        if m:
            out.add(m.group(1))
    return out


def doc_functions(text):
    declared, mentioned = set(), set()
    in_c = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_c = not in_c and line.strip() in ("```c", "```C")
            continue
        if in_c:
            code = re.sub(r"/\*.*?\*/|//.*", "", line)
            m = DECL.match(code)
            if m and not code.lstrip().startswith(("typedef", "#", "return")):
                declared.add(m.group(1))
            mentioned.update(CALL.findall(code))
        else:
            mentioned.update(CALL.findall(line))
    return declared, mentioned


def main():
    src = sys.argv[1]
    hdr = header_functions(open(f"{src}/node/nodenet.h", encoding="utf-8").read())
    declared, mentioned = doc_functions(open(f"{src}/docs/API.md", encoding="utf-8").read())
    bad = []
    for f in sorted(hdr - declared):
        bad.append(f"not documented: {f}() is declared in node/nodenet.h but has no prototype "
                   "in a ```c block of docs/API.md")
    for f in sorted((declared | mentioned) - hdr):
        bad.append(f"no such function: docs/API.md names {f}() but node/nodenet.h does not "
                   "declare it")
    if len(hdr) < 10:
        bad.append(f"only {len(hdr)} functions found in node/nodenet.h: the parser is broken")
    for b in bad:
        print(b)
    if bad:
        return 1
    print(f"ok - the {len(hdr)} functions of node/nodenet.h are documented in docs/API.md, "
          "and it names no other")
    return 0


if __name__ == "__main__":
    sys.exit(main())
