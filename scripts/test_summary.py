#!/usr/bin/env python3
"""test_summary.py TESTLOG.json [OUT] — count meson's results and print `N passed, N failed`.

Reads meson's JSON test log (one object per line). OK and EXPECTEDFAIL count as passed;
FAIL, TIMEOUT, UNEXPECTEDPASS and ERROR as failed; SKIP as skipped. Prints the names of
failures first, the count line last, writes the count line to OUT if given, and exits 1 when
anything failed or nothing ran."""
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


def main():
    passed, failed, skipped, names = 0, 0, 0, []
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                t = json.loads(line)
                r = t.get("result", "ERROR")
                if r in PASS:
                    passed += 1
                elif r in SKIP:
                    skipped += 1
                else:
                    failed += 1
                    names.append(f"{t.get('name', '?')}: {r}")
    except OSError as e:
        print(f"no test log: {e}")
        failed += 1
    for n in names:
        print(f"failed: {n}")
    if passed + failed == 0:
        failed = 1
        print("no test ran")
    line = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(line + "\n")
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
