#!/usr/bin/python3
"""Black-box TCP conformance suite (RFC 9293, RFC 5961 and companions) against Linux or Sluice.

  scripts/conformance-run [--target linux|sluice] [--only ID,ID|PREFIX*] [--list]
                          [--json FILE] [--markdown FILE] [--report-only] [--msl-ms N]
                          [--prefix slcf] [--verbose]

Prints a matrix (requirement, check, result) and writes it as markdown and JSON. Exits 1
when a check FAILs (unless --report-only), 2 on a usage or setup error. Results: PASS,
FAIL, SKIP (with the reason), and on the Linux target XFAIL for a check where Linux is
known to deviate from the RFC (the check asserts the RFC; the deviation is named).
"""
import argparse
import atexit
import fnmatch
import json
import os
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import framework  # noqa: E402
from framework import REGISTRY, CheckFailed, CheckSkipped, Ctx, Result, Tester  # noqa: E402
import checks_passive  # noqa: E402,F401
import checks_active  # noqa: E402,F401
import checks_final  # noqa: E402,F401
from targets import LinuxTarget, SluiceTarget, TARGET_IP, TESTER_IP  # noqa: E402


def select(patterns):
    if not patterns:
        return list(REGISTRY)
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    return [c for c in REGISTRY if any(fnmatch.fnmatch(c.id, p) for p in pats)]


def run_one(chk, tester, target, verbose, prefetch_next=0):
    ctx = Ctx(tester, target)
    ctx.prefetch_next = prefetch_next
    t0 = time.monotonic()
    try:
        chk.fn(ctx)
        status, detail = "PASS", ""
    except CheckSkipped as e:
        status, detail = "SKIP", str(e)
    except CheckFailed as e:
        status, detail = "FAIL", str(e)
    except KeyboardInterrupt:
        raise
    except Exception as e:  # a broken check is a failure with its reason, never a crash of the run
        status, detail = "FAIL", "error: %s: %s" % (type(e).__name__, e)
        if verbose:
            traceback.print_exc()
    finally:
        try:
            ctx.teardown()
        except Exception:
            pass
    if status == "FAIL" and target.name == "linux" and chk.linux_differs:
        status, detail = "XFAIL", "known Linux deviation (%s): %s" % (chk.linux_differs, detail)
    time.sleep(0.05)  # let the teardown RST land before the next check
    return Result(chk, status, detail, time.monotonic() - t0)


def markdown(results, target, secs):
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines = ["# TCP conformance against %s" % target, "",
             "%d checks in %.0f s: %s" % (len(results), secs,
                                          ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items()))), "",
             "| requirement | check | result | description / reason |", "|---|---|---|---|"]
    for r in results:
        why = r.check.desc + ((" — " + r.detail.replace("|", "/")) if r.detail else "")
        lines.append("| %s | `%s` | %s | %s |" % (", ".join(r.check.reqs), r.check.id, r.status, why))
    by_req = {}
    for r in results:
        for q in r.check.reqs:
            by_req.setdefault(q, []).append(r)
    lines += ["", "## By requirement", "", "| requirement | checks | result |", "|---|---|---|"]
    for q in sorted(by_req, key=req_key):
        rs = by_req[q]
        worst = "FAIL" if any(r.status == "FAIL" for r in rs) else (
            "PASS" if all(r.status in ("PASS", "XFAIL") for r in rs) else "PARTIAL")
        if all(r.status == "SKIP" for r in rs):
            worst = "SKIP"
        lines.append("| %s | %s | %s |" % (q, " ".join("`%s`" % r.check.id for r in rs), worst))
    return "\n".join(lines) + "\n"


def req_key(q):
    import re
    m = re.match(r"([A-Z]+)-(\d+)", q)
    return (0, m.group(1), int(m.group(2))) if m else (1, q, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=["linux", "sluice"], default="linux")
    ap.add_argument("--only", help="comma-separated check ids or glob patterns")
    ap.add_argument("--list", action="store_true", help="list the checks and exit")
    ap.add_argument("--json", help="write results as JSON here")
    ap.add_argument("--markdown", help="write the matrix as markdown here")
    ap.add_argument("--report-only", action="store_true", help="exit 0 even when checks fail")
    ap.add_argument("--msl-ms", type=int, default=500, help="MSL given to the sluice target (TIME-WAIT = 2*MSL)")
    ap.add_argument("--prefix", default="slcf", help="name prefix of namespaces and interfaces")
    ap.add_argument("--sluice", help="path of the sluice launcher (default scripts/sluice)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    checks = select(args.only)
    if args.list:
        for c in REGISTRY:
            print("%-24s %-8s %-40s %s" % (c.id, c.mode, ",".join(c.reqs), c.desc))
        print("%d checks" % len(REGISTRY))
        return 0
    if not checks:
        print("no check matches %r" % args.only, file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("conformance-run needs root (network namespaces, raw sockets)", file=sys.stderr)
        return 2

    workdir = tempfile.mkdtemp(prefix="sluice-conformance-")
    target = LinuxTarget(args.prefix, workdir) if args.target == "linux" else \
        SluiceTarget(args.prefix, workdir, args.msl_ms, args.sluice)
    tester = Tester(TESTER_IP, TARGET_IP)

    def cleanup():
        tester.detach()
        target.cleanup()
    atexit.register(cleanup)

    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t_start = time.monotonic()
    results = []
    try:
        target.setup(tester)
        passive = [c for c in checks if c.mode == "passive"]
        active = [c for c in checks if c.mode == "active"]
        final = [c for c in checks if c.mode == "final"]
        if passive:
            target.start_passive(tester)
        for chk in passive:
            results.append(run_one(chk, tester, target, args.verbose))
            print_result(results[-1])
        target.stop_passive(tester)
        for i, chk in enumerate(active):
            results.append(run_one(chk, tester, target, args.verbose, prefetch_next=len(active) - i - 1))
            print_result(results[-1])
        for chk in final:
            results.append(run_one(chk, tester, target, args.verbose))
            print_result(results[-1])
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        cleanup()
        return 130
    except Exception as e:
        print("setup error: %s (logs in %s)" % (e, workdir), file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        cleanup()
        return 2
    cleanup()
    secs = time.monotonic() - t_start

    order = {c.id: i for i, c in enumerate(REGISTRY)}
    results.sort(key=lambda r: order[r.check.id])
    md = markdown(results, args.target, secs)
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    print()
    print("%-22s %-26s %-6s %s" % ("requirement", "check", "result", "reason"))
    for r in results:
        print("%-22s %-26s %-6s %s" % (",".join(r.check.reqs)[:22], r.check.id, r.status, r.detail[:110]))
    summary = ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items()))
    print("\nconformance against %s: %d checks in %.1f s: %s (logs in %s)" % (args.target, len(results), secs,
                                                                          summary, workdir))
    print("%d passed, %d failed, %d skipped" % (counts.get("PASS", 0) + counts.get("XFAIL", 0),
                                             counts.get("FAIL", 0), counts.get("SKIP", 0)))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"target": args.target, "seconds": round(secs, 1), "counts": counts,
                       "results": [r.as_dict() for r in results]}, f, indent=2)
    return 0 if args.report_only or counts.get("FAIL", 0) == 0 else 1


def print_result(r):
    print("%-6s %-26s %5.1fs %s" % (r.status, r.check.id, r.secs, r.detail[:140]), flush=True)


if __name__ == "__main__":
    sys.exit(main())
