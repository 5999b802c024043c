#!/usr/bin/env python3
"""Loss table (issue 12): Sluice<->Linux beside Linux<->Linux under the same kernel-applied loss, in one run.

Two paths, built with scripts/interop's code (interop.py: the Sluice process on net_tap, its namespace and
kernel side; scripts/lib/veth.sh: the veth pair with offloads off):

  sluice  Sluice on net_tap in namespace sllt; the Linux peer is the tap's kernel side in the same namespace.
  linux   a veth pair between namespaces slltA (the stack under test: Linux) and slltB (the Linux peer).

Loss is applied by the kernel in the Linux peer's namespace (the client side) on both directions: nftables
rules `meta l4proto tcp numgen random mod 1000 < N counter drop` in an input and an output chain. Reordering
has no kernel tool here (no sch_netem): that row uses Sluice's own impairment (--impair-rx/--impair-tx, as
scripts/interop does) and so has no Linux<->Linux figure.

Directions, each timed by the Linux peer and checked by SHA-256 of the FixedPattern stream (byte i is
'!' + i % 89):
  sends     the stack under test sends (`sluice source --connect`, or a Python sender in slltA) to a Linux
            receiver that reads for --seconds after accepting, hashes what it got, then resets the connection;
  receives  a Linux sender streams the pattern for --seconds, shuts down its side and waits for the close;
            the stack under test hashes what it received (`sluice sink --sha256`, or a Python receiver).
Each cell is the median of --repeat transfers (default 3); the share is that median over the same path and
direction's clean median. Writes table.md and result.json under --out (default target/losstable) and prints
the table.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402  (the Sluice process, namespaces and pattern of scripts/interop)

SINK_PORT = 5001
# the veth path: the stack under test (Linux) in NS_A, the Linux peer in NS_B
NS_A, NS_B, IF_A, IF_B = "slltA", "slltB", "sllta", "slltb"
VETH_A_IP, VETH_B_IP = "10.79.1.2", "10.79.1.1"
CHUNK_PERIODS = 16  # a sender's chunk: 16 pattern blocks, a whole number of 89-byte periods

# name, nft drop per mille (0: none), Sluice impairment (both directions)
CASES = [
    ("clean", 0, "none"),
    ("loss 1%", 10, "none"),
    ("loss 2%", 20, "none"),
    ("loss 5%", 50, "none"),
    ("reorder 25% (10 ms)", 0, "delay=10ms,reorder=25%"),
]

RECEIVER = r"""
import hashlib, socket, struct, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port)); s.listen(1); s.settimeout(120)
print("listening", flush=True)
c, _ = s.accept()
start = time.monotonic(); end = start + seconds
h = hashlib.sha256(); total = 0; buf = bytearray(1 << 20); view = memoryview(buf); eof = False
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    c.settimeout(left)
    try:
        n = c.recv_into(buf)
    except socket.timeout:
        break
    if n == 0:
        eof = True
        break
    h.update(view[:n]); total += n
elapsed = time.monotonic() - start
if not eof:
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset: the sender stops now
c.close()
print(total, h.hexdigest(), "%.4f" % elapsed, "eof" if eof else "cut", flush=True)
"""

SENDER = r"""
import socket, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[4].encode())
period = bytes(33 + i for i in range(89))
chunk = period * (65536 // 89) * %d
s.settimeout(30); s.connect((host, port))
start = time.monotonic(); end = start + seconds; total = 0
try:
    while seconds <= 0 or time.monotonic() < end:
        s.sendall(chunk); total += len(chunk)
except OSError:
    pass  # the receiver resets when its time is up
if seconds > 0:
    s.shutdown(socket.SHUT_WR)
    s.settimeout(120)
    while s.recv(1 << 16):
        pass
print(total, "%%.4f" %% (time.monotonic() - start), flush=True)
""" % CHUNK_PERIODS


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, **kw)


def nft_loss(ns, per_mille):
    """Replaces the loss rules of namespace ns: drop per_mille of TCP packets in and out (0: none)."""
    sh("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "losstable", check=False,
       stderr=subprocess.DEVNULL)
    if per_mille == 0:
        return
    rules = "table inet losstable {\n"
    for chain, hook in (("in", "input"), ("out", "output")):
        rules += ("  chain %s { type filter hook %s priority 0; policy accept;\n"
                  "    meta l4proto tcp numgen random mod 1000 < %d counter drop\n  }\n" % (chain, hook, per_mille))
    rules += "}\n"
    sh("ip", "netns", "exec", ns, "nft", "-f", "-", input=rules, text=True)


def nft_counters(ns):
    r = sh("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "losstable", check=False,
           capture_output=True, text=True)
    return [int(p) for p in re.findall(r"counter packets (\d+)", r.stdout)]


# Linux senders' congestion control, set per socket (TCP_CONGESTION): Linux's default is cubic, but this
# machine's namespaces may default to another (bbr here) and allow only some per namespace
LINUX_CC = "cubic"


def offloads_off(ns, iface, peer):
    """Segmentation and checksum offloads off on a Linux end, as scripts/lib/veth.sh does for the veth pair.
    On the Linux peer's device (where the nft rules are) GSO is also limited to one segment: TCP builds GSO
    packets of up to 64 KiB even with the device's GSO off, and the output chain sees them whole (in an A/B
    here, a 1 % rule dropped 152 packets of 665,000 segments: one drop = up to 45 segments). The input chain
    sees single segments already (the sender's device segments them), so the stack under test keeps its GSO."""
    sh("ip", "netns", "exec", ns, "ethtool", "-K", iface, "tx", "off", "rx", "off", "tso", "off", "gso", "off",
       "gro", "off", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if peer:
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "dev", iface, "gso_max_segs", "1")


def start_receiver(ns, seconds):
    # no `timeout` wrapper: killing it would leave python listening; the script bounds itself
    p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", RECEIVER,
                          str(SINK_PORT), str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "listening":
        raise RuntimeError("the Linux receiver did not start: " + p.stderr.read()[-300:])
    return p


def finish_receiver(p, bound):
    try:
        out, err = p.communicate(timeout=bound)
    except subprocess.TimeoutExpired:
        p.kill()
        return None, "the receiver did not finish in %d s" % bound
    fields = out.split()
    if len(fields) != 4:
        return None, "receiver: %s %s" % (out.strip(), err.strip()[-300:])
    total, digest, elapsed = int(fields[0]), fields[1], float(fields[2])
    if total == 0:
        return None, "nothing received"
    if digest != interop.pattern_sha256(total):
        return None, "SHA-256 mismatch over %d bytes" % total
    return (total, elapsed), ""


def run_sender(ns, host, seconds):
    bound = int(seconds) + 150
    r = sh("ip", "netns", "exec", ns, "timeout", str(bound), "python3", "-c", SENDER, host, str(SINK_PORT),
           str(seconds), LINUX_CC, check=False, capture_output=True, text=True)
    fields = r.stdout.split()
    if r.returncode != 0 or len(fields) != 2:
        return None, "sender exit %d: %s %s" % (r.returncode, r.stdout.strip(), r.stderr.strip()[-300:])
    return (int(fields[0]), float(fields[1])), ""


# ------------------------------------------------------------------ the two stacks under test

class SluicePath:
    """Sluice on net_tap; the Linux peer (and the loss rules) in the tap's namespace."""
    name = "sluice"
    peer_ns = "sllt"

    def __init__(self, root, logs, extra):
        self.root, self.logs, self.extra = root, logs, extra
        self.sink = None
        self.sink_impair = None
        interop.NS = interop.PEER_NS = self.peer_ns
        interop.IFACE = "sllt0"
        interop.LINK = "tap"
        interop.DEVICES["tap"] = "net_tap0,iface=sllt0"
        self.extra = ["--counters-file", "/dev/shm/sllt.counters"] + extra
        configure = interop.configure_kernel_side

        def configure_kernel_side():  # before the address: no connection exists yet
            offloads_off(self.peer_ns, interop.IFACE, True)
            configure()
        interop.configure_kernel_side = configure_kernel_side
        interop.KERNEL_IP, interop.SLUICE_IP = "10.79.0.1", "10.79.0.2"

    def up(self):
        interop.netns_up(self.root)

    def down(self):
        self.stop_sink()
        interop.netns_down(self.root)

    def stop_sink(self):
        if self.sink:
            self.sink.stop()
            self.sink = None

    def sends(self, impair, seconds, label):
        receiver = start_receiver(self.peer_ns, seconds)
        source = None
        try:
            source = interop.Sluice(self.root, "source", ["--connect", "%s:%d" % (interop.KERNEL_IP, SINK_PORT),
                                                          "--bytes", "1000G", "--no-time-wait-wait"] + self.extra,
                                    impair, self.logs, label)
            source.wait_for_tap()
            return finish_receiver(receiver, int(seconds) + 120)
        finally:
            if source:
                source.stop()
            if receiver.poll() is None:
                receiver.kill()

    def receives(self, impair, seconds, label):
        if self.sink is None or self.sink_impair != impair:
            self.stop_sink()
            self.sink = interop.Sluice(self.root, "sink", ["--listen", str(SINK_PORT), "--sha256"] + self.extra,
                                       impair, self.logs, label)
            self.sink_impair = impair
            self.sink.wait_for_tap()
            interop.wait_port(SINK_PORT)
        log_path = self.sink.log.name
        before = sink_lines(log_path)
        result, why = run_sender(self.peer_ns, interop.SLUICE_IP, seconds)
        if result is None:
            return None, why
        total, elapsed = result
        # the connection's line: complete (the file may be read while the line is written) and with the byte
        # count sent; other lines (the port probe's empty connection) are not it
        deadline = time.time() + 20
        seen = []
        while time.time() < deadline:
            seen = sink_lines(log_path)[len(before):]
            for line in seen:
                m = re.search(r" (\d+) bytes in .* sha256 ([0-9a-f]{64})$", line)
                if m and int(m.group(1)) == total:
                    if m.group(2) != interop.pattern_sha256(total):
                        return None, "SHA-256 mismatch over %d bytes" % total
                    return (total, elapsed), ""
            time.sleep(0.1)
        return None, "sink reported no connection of %d bytes: %s" % (total, seen[-3:])


def sink_lines(path):
    with open(path, errors="replace") as f:
        return [line.strip() for line in f if line.startswith("sink: ") and line.endswith("\n")]


class LinuxPath:
    """Linux in slltA over a veth pair (offloads off) to the Linux peer (and the loss rules) in slltB."""
    name = "linux"
    peer_ns = NS_B

    def __init__(self, root, logs, extra):
        self.root = root

    def up(self):
        interop.veth_lib(self.root, "veth_up %s %s %s %s %s/24" % (NS_A, NS_B, IF_A, IF_B, VETH_B_IP))
        sh("ip", "netns", "exec", NS_A, "ip", "addr", "add", VETH_A_IP + "/24", "dev", IF_A)
        offloads_off(NS_B, IF_B, True)  # veth_up turned the offloads of both ends off already

    def down(self):
        interop.veth_lib(self.root, "veth_down %s %s" % (NS_A, NS_B))

    def sends(self, impair, seconds, label):
        receiver = start_receiver(NS_B, seconds)
        sender = subprocess.Popen(["ip", "netns", "exec", NS_A, "python3", "-c", SENDER, VETH_B_IP, str(SINK_PORT),
                                   "0", LINUX_CC],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return finish_receiver(receiver, int(seconds) + 120)
        finally:
            if sender.poll() is None:
                sender.kill()
            sender.wait()

    def receives(self, impair, seconds, label):
        # the receiver hashes for as long as the sender streams (it stops at EOF, well before this bound)
        receiver = start_receiver(NS_A, seconds + 120)
        try:
            result, why = run_sender(NS_B, VETH_A_IP, seconds)
            if result is None:
                return None, why
            got, why = finish_receiver(receiver, 60)
            if got is None:
                return None, why
            if got[0] != result[0]:
                return None, "sent %d bytes, received %d" % (result[0], got[0])
            return result, ""
        finally:
            if receiver.poll() is None:
                receiver.kill()


# ------------------------------------------------------------------ the run

def measure(path, case, direction, seconds, repeat, rows):
    name, per_mille, impair = case
    if path.name == "linux" and impair != "none":
        return  # no kernel reordering on this machine (no sch_netem)
    nft_loss(path.peer_ns, per_mille)
    for i in range(repeat):
        label = "%s %s %s %d" % (path.name, name.replace("%", "pct").replace(" ", "_").replace("(", "")
                                 .replace(")", ""), direction, i + 1)
        # rule counters cannot be reset with nft 1.0.6 (`reset counters` is for named counters): per transfer
        # is the difference
        dropped_before = nft_counters(path.peer_ns) if per_mille else []
        t0 = time.time()
        try:
            result, why = getattr(path, direction)(impair, seconds, label)
        except (RuntimeError, OSError, subprocess.SubprocessError) as ex:
            result, why = None, str(ex)
        drops = [a - b for a, b in zip(nft_counters(path.peer_ns), dropped_before)] if per_mille else []
        row = {"path": path.name, "case": name, "direction": direction, "run": i + 1, "ok": result is not None,
               "why": why, "nft_dropped": drops, "wall_s": round(time.time() - t0, 1)}
        if result:
            row.update(bytes=result[0], seconds=round(result[1], 3), mbit_per_s=round(result[0] * 8 / result[1] / 1e6, 1))
        rows.append(row)
        print("%-6s %-20s %-8s #%d %s" % (path.name, name, direction, i + 1,
                                          "%9.1f Mbit/s (%d B in %.2f s)%s" % (row["mbit_per_s"], row["bytes"],
                                                                             row["seconds"],
                                                                             "  nft dropped %s" % drops if drops else "")
                                          if result else "FAIL " + why), flush=True)
    nft_loss(path.peer_ns, 0)


def table(rows, cases):
    def median(path, case, direction):
        v = [r["mbit_per_s"] for r in rows if r["path"] == path and r["case"] == case and r["direction"] == direction
             and r["ok"]]
        return statistics.median(v) if v else None

    def cell(path, case, direction):
        m = median(path, case, direction)
        if m is None:
            tried = [r for r in rows if r["path"] == path and r["case"] == case and r["direction"] == direction]
            return ("FAIL", "") if tried else ("n/a", "")
        clean = median(path, "clean", direction)
        return "%.1f" % m, ("%.0f%%" % (100 * m / clean) if clean else "")

    out = ["| case | Sluice sends Mbit/s | share | Linux sends Mbit/s | share | Sluice receives Mbit/s | share | "
           "Linux receives Mbit/s | share |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, _, _ in cases:
        cells = []
        for direction in ("sends", "receives"):
            for path in ("sluice", "linux"):
                cells += cell(path, name, direction)
        out.append("| %s | %s |" % (name, " | ".join(cells)))
    ok = sum(1 for r in rows if r["ok"])
    out.append("")
    out.append("%d of %d transfers intact (SHA-256); share = median / the same path and direction's clean median."
               % (ok, len(rows)))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each transfer (default 5)")
    ap.add_argument("--repeat", type=int, default=3, help="transfers per cell, the median is reported (default 3)")
    ap.add_argument("--quick", action="store_true", help="one 2-second transfer per cell (a smoke run)")
    ap.add_argument("--case", action="append", help="run only cases whose name starts with this (clean always runs)")
    ap.add_argument("--path", choices=("sluice", "linux"), action="append", help="only this path (default both)")
    ap.add_argument("--direction", choices=("sends", "receives"), action="append",
                    help="only this direction of the stack under test (default both)")
    ap.add_argument("--sluice-args", default="", help="more flags for every sluice process, e.g. '--idle backoff'")
    ap.add_argument("--linux-cc", default="cubic", help="the Linux senders' congestion control (default cubic)")
    ap.add_argument("--out", default=None, help="directory for table.md, result.json and logs")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.repeat = 2.0, 1
    global LINUX_CC
    LINUX_CC = args.linux_cc
    out = args.out or os.path.join(args.root, "target", "losstable")
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    cases = [c for c in CASES if c[0] == "clean" or not args.case or any(c[0].startswith(p) for p in args.case)]
    rows = []
    started = time.time()
    extra = args.sluice_args.split()
    for cls in (SluicePath, LinuxPath):
        if args.path and cls.name not in args.path:
            continue
        path = cls(args.root, logs, extra)
        path.up()
        try:
            for direction in args.direction or ("sends", "receives"):
                for case in cases:
                    measure(path, case, direction, args.seconds, args.repeat, rows)
        finally:
            path.down()
    text = table(rows, cases)
    load = open("/proc/loadavg").read().split()[:3]
    meta = {"seconds": args.seconds, "repeat": args.repeat, "wall_s": round(time.time() - started, 1),
            "load_after": " ".join(load), "linux_congestion_control": LINUX_CC}
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=2)
    header = ("Loss table: %d transfer(s) of %.0f s per cell, median; %.0f s in all; load average after %s; "
              "Linux congestion control %s.\n\n" % (args.repeat, args.seconds, meta["wall_s"], meta["load_after"],
                                                     meta["linux_congestion_control"]))
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(header + text)
    print()
    print(header + text)
    print("table: %s" % os.path.join(out, "table.md"))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
