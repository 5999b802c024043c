"""Aggregates jdk.ExecutionSample events of a JFR file (jfr print --json) per thread: top frames (self) and
top Sluice frames anywhere in the stack (inclusive). Usage: jfr_top.py FILE.json [N]"""
import json, sys, collections
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2]) if len(sys.argv) > 2 else 15
events = d["recording"]["events"]
by_thread = collections.defaultdict(list)
for e in events:
    v = e["values"]
    t = (v.get("sampledThread") or {}).get("javaName") or (v.get("sampledThread") or {}).get("osName")
    frames = [f["method"]["type"]["name"].split(".")[-1] + "." + f["method"]["name"] for f in v["stackTrace"]["frames"]]
    by_thread[t].append(frames)
for t, stacks in sorted(by_thread.items(), key=lambda kv: -len(kv[1])):
    if len(stacks) < 20:
        continue
    print(f"== thread {t}: {len(stacks)} samples")
    self_c = collections.Counter(s[0] for s in stacks if s)
    incl = collections.Counter()
    for s in stacks:
        for f in set(s):
            incl[f] += 1
    print("  self:")
    for f, c in self_c.most_common(n):
        print(f"   {100.0 * c / len(stacks):5.1f}%  {f}")
    print("  inclusive:")
    for f, c in incl.most_common(n + 10):
        print(f"   {100.0 * c / len(stacks):5.1f}%  {f}")
