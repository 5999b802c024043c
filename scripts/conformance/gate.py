#!/usr/bin/env python3
"""Compares a conformance result (JSON from run.py --json) with known-failures.txt: exit 1 on any FAIL that is
not a known failure (a regression); reports known failures that now pass. `gate.py --new-failures FILE`
prints the ids of the new failures, comma-separated (scripts/test re-runs those once)."""
import json
import os
import sys

ids_only = sys.argv[1] == "--new-failures"
result = json.load(open(sys.argv[-1]))
known = set()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "known-failures.txt")) as f:
    for line in f:
        line = line.split("#", 1)[0].strip()
        if line:
            known.add(line)
failed = {r["id"]: r for r in result["results"] if r["status"] == "FAIL"}
new = sorted(set(failed) - known)
fixed = sorted(i for i in known if i not in failed)
if ids_only:
    print(",".join(new))  # for a re-run with --only
    sys.exit(0)
c = result["counts"]
print("conformance against %s: %d checks, %d PASS, %d FAIL (%d known), %d SKIP" % (
    result["target"], len(result["results"]), c.get("PASS", 0), c.get("FAIL", 0), len(set(failed) & known),
    c.get("SKIP", 0)))
for i in fixed:
    print("  now passing, remove from known-failures.txt: %s" % i)
for i in new:
    r = failed[i]
    print("  REGRESSION %s (%s): %s" % (i, ",".join(r["requirements"]), r["detail"]))
sys.exit(1 if new else 0)
