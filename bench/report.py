#!/usr/bin/env python3
"""Turns one scripts/bench run into result.json, results.md and results.html.

Input: a run directory holding e2e/*.json (one JSON object per load-tool run, written by KernelBench and
SluiceBench), jmh.json (JMH's -rf json output, optional) and run.json (machine, command, mode).
Output in the same directory: result.json (everything), results.md (the table), results.html (a
self-contained page: inline SVG, no external resources).
"""
import html
import json
import math
import os
import sys

# workload -> (label, metric key, unit, "higher" or "lower" is better, target Sluice/kernel ratio)
WORKLOADS = [
    ("pingpong", "ping-pong p99 RTT (1 conn, 64 B)", "p99", "us", "lower", 0.2),
    ("pingpong", "ping-pong p50 RTT", "p50", "us", "lower", None),
    ("pingpong", "ping-pong p99.9 RTT", "p999", "us", "lower", None),
    ("pingpong", "ping-pong round trips/s", "ops", "/s", "higher", None),
    ("rate", "request rate (64 conns, 1 outstanding 64 B each)", "ops", "req/s", "higher", 5.0),
    ("rate", "request rate p99 latency", "p99", "us", "lower", None),
    ("bulk", "bulk (1 conn, payload)", "gbit", "Gbit/s", "higher", 1.0),
    ("bulk-mtu9000", "bulk, Sluice at MTU 9000 (kernel: loopback as above)", "gbit", "Gbit/s", "higher", None),
    ("connect-seq", "connection rate, sequential", "ops", "conn/s", "higher", 5.0),
    ("connect-16", "connection rate, 16 concurrent", "ops", "conn/s", "higher", 5.0),
]


def metric(result, key):
    if result is None:
        return None
    if key == "ops":
        return result.get("ops_per_s")
    if key == "gbit":
        return result.get("gbit_per_s")
    lat = result.get("latency_ns")
    if not lat:
        return None
    return lat[key] / 1000.0


def best(results, key, better):
    """The run with the best value of the workload's primary metric (kernel: spin vs block)."""
    candidates = [r for r in results if metric(r, key) is not None]
    if not candidates:
        return None
    return (min if better == "lower" else max)(candidates, key=lambda r: metric(r, key))


def fmt(value, unit):
    if value is None:
        return "n/a"
    if unit in ("us",):
        return "%.1f µs" % value if value < 1000 else "%.2f ms" % (value / 1000)
    if unit == "Gbit/s":
        return "%.2f Gbit/s" % value
    if value >= 1e6:
        return "%.2f M%s" % (value / 1e6, unit)
    if value >= 1e3:
        return "%.1f k%s" % (value / 1e3, unit)
    return "%.0f %s" % (value, unit)


def num(value):
    try:
        value = float(value)
        return 0.0 if math.isnan(value) else value
    except (TypeError, ValueError):
        return 0.0


def load(run_dir):
    e2e = []
    e2e_dir = os.path.join(run_dir, "e2e")
    if os.path.isdir(e2e_dir):
        for name in sorted(os.listdir(e2e_dir)):
            if name.endswith(".json"):
                with open(os.path.join(e2e_dir, name)) as f:
                    text = f.read().strip()
                if text:
                    item = json.loads(text)
                    item["file"] = name
                    e2e.append(item)
    jmh = []
    jmh_path = os.path.join(run_dir, "jmh.json")
    if os.path.exists(jmh_path) and os.path.getsize(jmh_path) > 0:
        with open(jmh_path) as f:
            for b in json.load(f):
                sec = b.get("secondaryMetrics", {})
                alloc = (sec.get("gc.alloc.rate.norm") or sec.get("\u00b7gc.alloc.rate.norm") or {}).get("score")
                jmh.append({
                    "benchmark": b["benchmark"].replace("dev.sluice.bench.", ""),
                    "params": b.get("params", {}),
                    "score": b["primaryMetric"]["score"],
                    "error": num(b["primaryMetric"].get("scoreError")),
                    "unit": b["primaryMetric"]["scoreUnit"],
                    "alloc_bytes_per_op": alloc,
                    "best": min(v for fork in b["primaryMetric"].get("rawData", [[b["primaryMetric"]["score"]]]) for v in fork),
                })
    run = {}
    run_path = os.path.join(run_dir, "run.json")
    if os.path.exists(run_path):
        with open(run_path) as f:
            run = json.load(f)
    logs = os.path.join(run_dir, "logs")
    if os.path.isdir(logs):
        samples = []
        for name in sorted(os.listdir(logs)):
            if name.startswith("hugepages-") and name.endswith(".txt"):
                with open(os.path.join(logs, name)) as f:
                    text = f.read().strip()
                if text:
                    samples.append("%s: %s" % (name[len("hugepages-"):-4], text.split(":")[-1].strip()))
        if samples:
            run["hugepages_free_during_sluice_runs"] = samples
    return run, e2e, jmh


TRANSPORTS = (("ring", "sluice-ring"), ("memif", "sluice-memif"))


def compare(e2e):
    rows = []
    for workload, label, key, unit, better, target in WORKLOADS:
        # the kernel has one bulk figure (loopback, MTU 65536): the jumbo row compares with it
        kernel_workload = "bulk" if workload.startswith("bulk") else workload
        kernel_runs = [r for r in e2e if r["workload"] == kernel_workload and r["system"].startswith("kernel")]
        # the kernel's best mode is chosen on the workload's primary metric
        primary = {"pingpong": ("p99", "lower"), "rate": ("ops", "higher"), "bulk": ("gbit", "higher"),
                   "bulk-mtu9000": ("gbit", "higher"),
                   "connect-seq": ("ops", "higher"), "connect-16": ("ops", "higher")}[workload]
        k = best(kernel_runs, *primary)
        kv = metric(k, key)
        row = {"workload": workload, "label": label, "unit": unit, "better": better, "target": target,
               "kernel": kv, "kernel_system": k["system"] if k else None}
        for transport, system in TRANSPORTS:
            s = best([r for r in e2e if r["workload"] == workload and r["system"] == system], *primary)
            sv = metric(s, key)
            ratio = sv / kv if kv and sv is not None else None
            met = None
            if target is not None and ratio is not None:
                met = ratio <= target if better == "lower" else ratio >= target
            row[transport] = sv
            row[transport + "_ratio"] = ratio
            row[transport + "_met"] = met
        # the headline: net_ring (both shards in one JVM), as the first configuration
        row["sluice"], row["ratio"], row["met"] = row["ring"], row["ring_ratio"], row["ring_met"]
        rows.append(row)
    return rows


def ratio_text(ratio):
    if ratio is None:
        return "n/a"
    return "%.2fx" % ratio if ratio >= 0.1 else "%.2gx" % ratio


def markdown(run, rows, e2e, jmh):
    out = []
    out.append("Sluice vs Linux kernel TCP, %s, %s" % (run.get("date", "?"), run.get("machine", {}).get("summary", "?")))
    out.append("")
    out.append("Command: `%s`; Sluice EAL mode: **%s**; load average before the run: %s, after: %s" % (
        run.get("command", "?"), run.get("mode", "?"), run.get("load_before", "?"), run.get("load_after", "?")))
    if run.get("hugepages_free_during_sluice_runs"):
        out.append("")
        out.append("2 MB hugepages reserved for the run: %s; in use while Sluice ran (per workload, sampled): %s" % (
            run.get("hugepages_total", "?"), ", ".join(run["hugepages_free_during_sluice_runs"])))
    out.append("")
    waits_all = [max(r.get("client_runqueue_wait_pct", 0), r.get("server_runqueue_wait_pct", 0)) for r in e2e]
    if waits_all and max(waits_all) > 20:
        out.append("**Warning: the machine was shared during this run** (load average %s before, %s after; measured "
                   "threads waited up to %.0f %% of the time for a CPU, see the last columns below). Busy-polling "
                   "threads suffer most from that, so these ratios are not a claim about Sluice: re-run on an idle "
                   "machine." % (run.get("load_before", "?"), run.get("load_after", "?"), max(waits_all)))
        out.append("")
    out.append("| workload | kernel (best of NIO spin/block, Netty epoll) | Sluice net_ring | ring/kernel | Sluice net_memif | memif/kernel | target | met (ring, memif) |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["target"] is None:
            target = ""
        else:
            target = ("≤ %.1fx" if r["better"] == "lower" else "≥ %.0fx") % r["target"]
        met = "" if r["target"] is None else ", ".join(
            "n/a" if r[t + "_met"] is None else ("yes" if r[t + "_met"] else "**no**") for t, _ in TRANSPORTS)
        kernel = fmt(r["kernel"], r["unit"]) + ("" if not r["kernel_system"] else " (%s)" % r["kernel_system"].replace("kernel-", ""))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["label"], kernel, fmt(r["ring"], r["unit"]), ratio_text(r["ring_ratio"]),
            fmt(r["memif"], r["unit"]), ratio_text(r["memif_ratio"]), target, met))
    allocs = [r for r in e2e if r["system"].startswith("sluice") and "alloc_bytes_per_op" in r]
    waits = [r for r in e2e if r["system"].startswith("sluice") and "client_runqueue_wait_pct" in r]
    if waits:
        out.append("")
        out.append("Sluice shard threads waited on the run queue for " + ", ".join("%s %s %.0f/%.0f %%" % (
            r["system"].replace("sluice-", ""), r["workload"], r["client_runqueue_wait_pct"], r["server_runqueue_wait_pct"]) for r in waits) +
            " of the measured time (client/server, -1: the thread is in the other JVM; 0 % on a machine of its own).")
    if allocs:
        out.append("")
        out.append("Sluice bytes allocated per operation on the two shard threads during the measurement "
                   "(ThreadMXBean): " + ", ".join("%s %s %.3f B/op (%d + %d B)" % (
                       r["system"].replace("sluice-", ""), r["workload"], r["alloc_bytes_per_op"], r["client_alloc_bytes"], r["server_alloc_bytes"])
                       for r in allocs))
    if jmh:
        out.append("")
        out.append("| JMH benchmark | params | ns/op (mean ± error) | best iteration | B/op (-prof gc) |")
        out.append("|---|---|---|---|---|")
        for b in jmh:
            params = ", ".join("%s=%s" % kv for kv in sorted(b["params"].items()))
            alloc = "n/a" if b["alloc_bytes_per_op"] is None else "%.3f" % b["alloc_bytes_per_op"]
            out.append("| %s | %s | %.1f ± %.1f | %.1f | %s |" % (
                b["benchmark"], params, b["score"], b["error"] or 0, b["best"], alloc))
    out.append("")
    out.append("All end-to-end runs (every kernel mode):")
    out.append("")
    out.append("| system | workload | s | ops/s | Gbit/s | p50 µs | p99 µs | p99.9 µs | client thread CPU / run-queue wait % | server thread CPU / wait % |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in e2e:
        lat = r.get("latency_ns") or {}
        out.append("| %s | %s | %.1f | %.0f | %.3f | %s | %s | %s | %s | %s |" % (
            r["system"], r["workload"], r["seconds"], r["ops_per_s"], r["gbit_per_s"],
            "%.1f" % (lat["p50"] / 1000) if lat else "", "%.1f" % (lat["p99"] / 1000) if lat else "",
            "%.1f" % (lat["p999"] / 1000) if lat else "",
            "%.0f / %.0f" % (r.get("client_cpu_pct", -1), r.get("client_runqueue_wait_pct", -1)),
            "%.0f / %.0f" % (r.get("server_cpu_pct", -1), r.get("server_runqueue_wait_pct", -1))))
    out.append("")
    out.append("A busy-polling thread should show ~100 % CPU and ~0 % run-queue wait; a large wait means the "
               "machine was shared (other processes took the core) and the run measures the scheduler more "
               "than the stack.")
    return "\n".join(out) + "\n"


COLORS = {"kernel": "#d62728", "sluice-ring": "#1f77b4", "sluice-memif": "#2ca02c",
          "kernel-nio-spin": "#d62728", "kernel-nio-block": "#ff7f0e", "kernel-netty-epoll": "#9467bd",
          "kernel-netty-epoll-block": "#9467bd"}


def color(system):
    return COLORS.get(system, COLORS["kernel"])


def latency_svg(workload, runs, width=520, height=300):
    """Percentile distribution: x = percentile (log scale of 1/(1-p)), y = latency (log scale)."""
    runs = [r for r in runs if r.get("percentiles")]
    if not runs:
        return ""
    ml, mr, mt, mb = 60, 20, 30, 40
    pw, ph = width - ml - mr, height - mt - mb
    xs_max = 5.0  # up to 99.999
    values = [v for r in runs for p, v in r["percentiles"] if v > 0]
    y_min = 10 ** math.floor(math.log10(max(min(values) / 1000.0, 0.1)))
    y_max = 10 ** math.ceil(math.log10(max(values) / 1000.0))
    if y_max <= y_min:
        y_max = y_min * 10

    def x(p):
        p = min(p, 99.999)
        return ml + pw * min(xs_max, -math.log10(1 - p / 100.0)) / xs_max

    def y(us):
        us = max(us, y_min)
        return mt + ph * (1 - (math.log10(us) - math.log10(y_min)) / (math.log10(y_max) - math.log10(y_min)))

    s = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (width, height)]
    s.append('<text x="%d" y="16" font-size="13" font-weight="bold">%s: latency by percentile</text>' % (ml, html.escape(workload)))
    s.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (ml, mt, pw, ph))
    for i, label in enumerate(["0", "90", "99", "99.9", "99.99", "99.999"]):
        xx = ml + pw * i / xs_max
        s.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>' % (xx, mt, xx, mt + ph))
        s.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (xx, mt + ph + 14, label))
    s.append('<text x="%d" y="%d" text-anchor="middle">percentile</text>' % (ml + pw / 2, height - 6))
    decade = y_min
    while decade <= y_max * 1.001:
        yy = y(decade)
        s.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (ml, yy, ml + pw, yy))
        label = "%g µs" % decade if decade < 1000 else "%g ms" % (decade / 1000) if decade < 1e6 else "%g s" % (decade / 1e6)
        s.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (ml - 4, yy + 4, label))
        decade *= 10
    for i, r in enumerate(runs):
        pts = " ".join("%.1f,%.1f" % (x(p), y(v / 1000.0)) for p, v in r["percentiles"] if p < 100)
        dash = "" if r["system"].startswith("sluice") else ' stroke-dasharray="6,3"'
        s.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (pts, color(r["system"]), dash))
        s.append('<text x="%d" y="%d" fill="%s">%s</text>' % (ml + 8, mt + 14 + 13 * i, color(r["system"]), html.escape(r["system"])))
    s.append("</svg>")
    return "\n".join(s)


def bars_svg(rows, width=880):
    """One bar pair per throughput workload, each scaled to its own maximum, values printed."""
    items = [r for r in rows if r["unit"] in ("req/s", "conn/s", "Gbit/s", "/s")]
    bar_h, gap = 16, 14
    height = 40 + len(items) * (3 * bar_h + gap)
    ml, mr = 340, 200
    pw = width - ml - mr
    s = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (width, height)]
    s.append('<text x="10" y="16" font-size="13" font-weight="bold">Throughput (each workload scaled to its largest value; kernel = its best mode)</text>')
    yy = 30
    for r in items:
        top = max(r["kernel"] or 0, r["ring"] or 0, r["memif"] or 0) or 1
        s.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (ml - 6, yy + bar_h + 4, html.escape(r["label"])))
        for name, value in ((r["kernel_system"] or "kernel", r["kernel"]), ("sluice-ring", r["ring"]), ("sluice-memif", r["memif"])):
            w = pw * (value or 0) / top
            s.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (ml, yy, w, bar_h - 2, color(name)))
            s.append('<text x="%.1f" y="%d">%s %s</text>' % (ml + w + 4, yy + bar_h - 5, name, html.escape(fmt(value, r["unit"]))))
            yy += bar_h
        yy += gap
    s.append("</svg>")
    return "\n".join(s)


def page(run, rows, e2e, jmh, md):
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sluice vs kernel, %s</title>" % html.escape(run.get("date", "")),
             "<style>body{font-family:sans-serif;max-width:1100px;margin:20px auto;padding:0 10px}"
             "table{border-collapse:collapse;margin:10px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
             "th{background:#f3f3f3}.no{color:#b00;font-weight:bold}.yes{color:#070}"
             ".grid{display:flex;flex-wrap:wrap;gap:10px}</style></head><body>"]
    parts.append("<h1>Sluice vs Linux kernel TCP</h1>")
    parts.append("<p>%s<br>Machine: %s<br>Command: <code>%s</code><br>Sluice EAL mode: <b>%s</b>; load average before: %s</p>" % (
        html.escape(run.get("date", "")), html.escape(run.get("machine", {}).get("summary", "")),
        html.escape(run.get("command", "")), html.escape(run.get("mode", "")), html.escape(str(run.get("load_before", "")))))
    parts.append("<table><tr><th>workload</th><th>kernel (best of NIO spin/block, Netty epoll)</th><th>Sluice net_ring</th><th>ring/kernel</th>"
                 "<th>Sluice net_memif</th><th>memif/kernel</th><th>target</th><th>met (ring, memif)</th></tr>")
    for r in rows:
        target = "" if r["target"] is None else (("≤ %.1fx" if r["better"] == "lower" else "≥ %.0fx") % r["target"])
        met = "" if r["target"] is None else ", ".join(
            "n/a" if r[t + "_met"] is None else ('<span class="%s">%s</span>' % ("yes" if r[t + "_met"] else "no",
                                                                              "yes" if r[t + "_met"] else "no"))
            for t, _ in TRANSPORTS)
        parts.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            html.escape(r["label"]), html.escape(fmt(r["kernel"], r["unit"])), html.escape(fmt(r["ring"], r["unit"])),
            ratio_text(r["ring_ratio"]), html.escape(fmt(r["memif"], r["unit"])), ratio_text(r["memif_ratio"]), target, met))
    parts.append("</table>")
    parts.append(bars_svg(rows))
    parts.append('<div class="grid">')
    for workload in ("pingpong", "rate", "connect-seq", "connect-16"):
        parts.append(latency_svg(workload, [r for r in e2e if r["workload"] == workload]))
    parts.append("</div>")
    if jmh:
        parts.append("<h2>JMH (-prof gc)</h2><table><tr><th>benchmark</th><th>params</th><th>ns/op</th><th>best iteration</th><th>B/op</th></tr>")
        for b in jmh:
            params = ", ".join("%s=%s" % kv for kv in sorted(b["params"].items()))
            alloc = "n/a" if b["alloc_bytes_per_op"] is None else "%.3f" % b["alloc_bytes_per_op"]
            parts.append("<tr><td>%s</td><td>%s</td><td>%.1f ± %.1f</td><td>%.1f</td><td>%s</td></tr>" % (
                html.escape(b["benchmark"]), html.escape(params), b["score"], b["error"] or 0, b["best"], alloc))
        parts.append("</table>")
    parts.append("<h2>All runs</h2><pre>%s</pre>" % html.escape(md.split("All end-to-end runs (every kernel mode):")[-1]))
    parts.append("</body></html>")
    return "\n".join(parts)


def main():
    if len(sys.argv) != 2:
        print("usage: report.py RUN_DIR", file=sys.stderr)
        sys.exit(2)
    run_dir = sys.argv[1]
    run, e2e, jmh = load(run_dir)
    rows = compare(e2e)
    md = markdown(run, rows, e2e, jmh)
    with open(os.path.join(run_dir, "result.json"), "w") as f:
        json.dump({"run": run, "comparison": rows, "e2e": e2e, "jmh": jmh}, f, indent=1)
    with open(os.path.join(run_dir, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(run_dir, "results.html"), "w") as f:
        f.write(page(run, rows, e2e, jmh, md))
    print(md)


if __name__ == "__main__":
    main()
