#!/usr/bin/env python3
"""Reads `go test -json` on stdin and prints: every package result line, the full output of
failing tests, the port contract suites with the adapter family each ran against, and one
closing line "N passed, N failed, N skipped" (top-level tests). Exit 1 on any failure or skip:
a skipped check counts as a failed one here."""
import json
import sys
from collections import defaultdict

FAMILY = {"embedded": "embedded", "awsadapter": "emulator"}

outputs = defaultdict(list)
final = {}
pkg_lines = []
for raw in sys.stdin:
    try:
        ev = json.loads(raw)
    except ValueError:
        print(raw, end="")
        continue
    pkg, test, action = ev.get("Package", ""), ev.get("Test"), ev.get("Action")
    if action == "output":
        if test:
            outputs[(pkg, test)].append(ev["Output"])
        elif not ev["Output"].startswith(("=== ", "PASS\n", "FAIL\n", "coverage:")):
            pkg_lines.append(ev["Output"])
    elif test and action in ("pass", "fail", "skip"):
        final[(pkg, test)] = action

for line in pkg_lines:
    print(line, end="")

top = {k: v for k, v in final.items() if "/" not in k[1]}
for (pkg, test), action in sorted(final.items()):
    if action != "pass" and "/" not in test:
        print(f"\n--- {action.upper()}: {pkg} {test}")
        print("".join(outputs[(pkg, test)]), end="")

print("\nport contract suites:")
for (pkg, test), action in sorted(top.items()):
    if test.startswith("TestContract"):
        parts = pkg.split("/")
        family = next((FAMILY[p] for p in parts if p in FAMILY), "?")
        subs = sum(1 for (p, t), a in final.items() if p == pkg and t.startswith(test + "/") and a == "pass")
        print(f"  {family:9} {parts[-1]:12} {test:24} {action} ({subs} cases passed)")

counts = defaultdict(int)
for action in top.values():
    counts[action] += 1
print(f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
sys.exit(1 if counts["fail"] or counts["skip"] else 0)
