#!/usr/bin/env python3
"""Interop with Linux over impaired links (issue 6, part 1).

Sluice runs on a DPDK net_tap device inside a network namespace this script creates; the tap's kernel
side is the Linux peer. With --link af_packet or --link af_xdp, Sluice runs on one end of a veth pair
(net_af_packet / net_af_xdp, scripts/lib/veth.sh) and the Linux peer sits on the other end in a
namespace of its own. For every link case (clean, loss, reordering, duplication, delay with jitter,
corruption) three transfers run and are checked by SHA-256:

  download  Linux curl fetches GET /bytes/N from `sluice http`            (Sluice sends)
  echo      a Linux client streams N random bytes through `sluice echo`   (both directions)
  upload    `sluice source --connect` sends N pattern bytes to a Linux receiver (Sluice opens actively)

Impairments: `tc netem` where the kernel has sch_netem; otherwise (this CI kernel has none) the same
netem-style impairments are applied by Sluice at its device boundary in both directions
(`--impair-rx/--impair-tx`, dev.sluice.core.net.ImpairedLink): every frame either way crosses them,
so the Linux peer sees loss, reordering, duplication, delay and corruption exactly as on a netem link.

Prints a table and writes it as markdown and JSON. Exit code 1 if any transfer failed.
"""
import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

NS = "slio"
IFACE = "slio0"
PEER_IFACE = "slio1"
# --link: the device Sluice uses and the namespace of the Linux peer (set in main)
DEVICES = {
    "tap": "net_tap0,iface=" + IFACE,
    "af_packet": "net_af_packet0,iface=" + IFACE + ",qpairs=1,framecnt=4096",
    "af_xdp": "net_af_xdp0,iface=" + IFACE + ",start_queue=0,queue_count=1",
}
LINK = "tap"
PEER_NS = NS
KERNEL_IP = "10.77.0.1"
SLUICE_IP = "10.77.0.2"
HTTP_PORT = 8080
ECHO_PORT = 7
SINK_PORT = 5001
MB = 1 << 20

# name, impairment (both directions), download/echo/upload sizes, time bound per transfer (s)
CASES = [
    ("clean", "none", 100 * MB, 10 * MB, 100 * MB, 120),
    ("loss 1%", "loss=1%", 20 * MB, 5 * MB, 20 * MB, 120),
    ("loss 5%", "loss=5%", 5 * MB, 2 * MB, 5 * MB, 120),
    ("reorder 25% (10 ms)", "delay=10ms,reorder=25%", 5 * MB, 2 * MB, 5 * MB, 120),
    ("duplicate 5%", "dup=5%", 20 * MB, 5 * MB, 20 * MB, 120),
    ("delay 10 ms ± 2 ms", "delay=10ms,jitter=2ms", 10 * MB, 2 * MB, 10 * MB, 120),
    ("corrupt 0.1%", "corrupt=0.1%", 20 * MB, 5 * MB, 20 * MB, 120),
]
QUICK_SCALE = 0.1


def pattern_sha256(n):
    """SHA-256 of the first n bytes of Sluice's fixed pattern (dev.sluice.driver.apps.FixedPattern):
    byte i is '!' + i % 89."""
    block = pattern_block()
    h = hashlib.sha256()
    full, rest = divmod(n, len(block))
    for _ in range(full):
        h.update(block)
    h.update(block[:rest])
    return h.hexdigest()


def pattern_block():
    period = bytes(33 + i for i in range(89))
    return period * (65536 // 89)


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, **kw)


def nsexec(*args, **kw):
    """Runs a command where the Linux peer is."""
    return sh("ip", "netns", "exec", PEER_NS, *args, **kw)


class Sluice:
    """One sluice process inside the namespace, on its own net_tap device."""

    def __init__(self, root, command, extra, impair, log_dir, label):
        self.log = open(os.path.join(log_dir, label.replace(" ", "_") + ".log"), "w")
        cmd = ["ip", "netns", "exec", NS, os.path.join(root, "scripts", "sluice"), command,
               "--dev", DEVICES[LINK], "--ip", SLUICE_IP + "/24"]
        if impair != "none":
            cmd += ["--impair-rx", impair + ",seed=11", "--impair-tx", impair + ",seed=23"]
        self.proc = subprocess.Popen(cmd + extra, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_for_tap(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sluice exited with %d before its device came up" % self.proc.returncode)
            if LINK != "tap":
                return  # the veth pair exists already, its peer end configured
            if nsexec("ip", "link", "show", IFACE, check=False, capture_output=True).returncode == 0:
                configure_kernel_side()
                return
            time.sleep(0.1)
        raise RuntimeError("the tap did not appear within %d s" % timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def configure_kernel_side():
    nsexec("ip", "addr", "replace", KERNEL_IP + "/24", "dev", IFACE)
    nsexec("ip", "link", "set", IFACE, "up")


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = nsexec("python3", "-c",
                   "import socket,sys; s=socket.socket(); s.settimeout(1); s.connect(('%s',%d)); s.close()"
                   % (SLUICE_IP, port), check=False, capture_output=True)
        if r.returncode == 0:
            return
        time.sleep(0.3)
    raise RuntimeError("port %d did not accept connections within %d s" % (port, timeout))


def run_download(root, impair, size, bound, logs, label):
    server = Sluice(root, "http", ["--listen", str(HTTP_PORT)], impair, logs, label + " http")
    try:
        server.wait_for_tap()
        wait_port(HTTP_PORT)
        start = time.time()
        r = nsexec("bash", "-c", "curl -sS --max-time %d http://%s:%d/bytes/%d | sha256sum"
                   % (bound, SLUICE_IP, HTTP_PORT, size), check=False, capture_output=True, text=True)
        elapsed = time.time() - start
        got = r.stdout.split()[0] if r.stdout else ""
        ok = r.returncode == 0 and got == pattern_sha256(size)
        return ok, elapsed, "" if ok else (r.stderr.strip() or "sha256 mismatch")
    finally:
        server.stop()


ECHO_CLIENT = r"""
import hashlib, os, socket, sys, threading, time
host, port, n, bound = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
data = os.urandom(1 << 20)
s = socket.create_connection((host, port), timeout=bound)
s.settimeout(bound)
sent = hashlib.sha256()
def writer():
    left = n
    while left:
        chunk = data[:min(left, len(data))]
        s.sendall(chunk)
        sent.update(chunk)
        left -= len(chunk)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=writer); t.start()
got = hashlib.sha256(); total = 0
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    got.update(b); total += len(b)
t.join()
print(total, sent.hexdigest() == got.hexdigest())
"""


def run_echo(root, impair, size, bound, logs, label):
    server = Sluice(root, "echo", ["--listen", str(ECHO_PORT)], impair, logs, label + " echo")
    try:
        server.wait_for_tap()
        wait_port(ECHO_PORT)
        start = time.time()
        r = nsexec("timeout", str(bound), "python3", "-c", ECHO_CLIENT, SLUICE_IP, str(ECHO_PORT), str(size),
                   str(bound), check=False, capture_output=True, text=True)
        elapsed = time.time() - start
        ok = r.returncode == 0 and r.stdout.split() == [str(size), "True"]
        return ok, elapsed, "" if ok else (r.stdout.strip() + " " + r.stderr.strip()[-200:])
    finally:
        server.stop()


RECEIVER = r"""
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(float(sys.argv[3]))
print("listening", flush=True)
c, _ = s.accept(); c.settimeout(float(sys.argv[3]))
h = hashlib.sha256(); total = 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b); total += len(b)
print(total, h.hexdigest(), flush=True)
"""


def run_upload(root, impair, size, bound, logs, label):
    # bound to any address: the kernel address exists only once sluice has created the tap
    receiver = subprocess.Popen(["ip", "netns", "exec", PEER_NS, "timeout", str(bound + 60), "python3", "-c", RECEIVER,
                                 "0.0.0.0", str(SINK_PORT), str(bound + 30)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = None
    try:
        if receiver.stdout.readline().strip() != "listening":
            return False, 0, "the Linux receiver did not start: " + receiver.stderr.read()[-200:]
        client = Sluice(root, "source", ["--connect", "%s:%d" % (KERNEL_IP, SINK_PORT), "--bytes", str(size),
                                         "--no-time-wait-wait"],
                        impair, logs, label + " source")
        client.wait_for_tap()
        start = time.time()
        try:
            client.proc.wait(bound)
        except subprocess.TimeoutExpired:
            return False, time.time() - start, "sluice source did not finish within %d s" % bound
        elapsed = time.time() - start
        out, err = receiver.communicate(timeout=60)
        result = out.split()
        ok = client.proc.returncode == 0 and result == [str(size), pattern_sha256(size)]
        return ok, elapsed, "" if ok else ("sluice exit %s, receiver: %s %s" % (client.proc.returncode,
                                                                                  out.strip(), err.strip()[-200:]))
    finally:
        if client:
            client.stop()
        if receiver.poll() is None:
            receiver.kill()


def veth_lib(root, call):
    sh("bash", "-c", "source '%s'; %s" % (os.path.join(root, "scripts", "lib", "veth.sh"), call))


def netns_up(root):
    if LINK != "tap":
        veth_lib(root, "veth_up %s %s %s %s %s/24" % (NS, PEER_NS, IFACE, PEER_IFACE, KERNEL_IP))
        return
    sh("ip", "netns", "del", NS, check=False, stderr=subprocess.DEVNULL)
    sh("ip", "netns", "add", NS)
    nsexec("ip", "link", "set", "lo", "up")


def netns_down(root):
    if LINK != "tap":
        veth_lib(root, "veth_down %s %s" % (NS, PEER_NS))
        return
    sh("ip", "netns", "del", NS, check=False, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--quick", action="store_true", help="sizes scaled by %.1f" % QUICK_SCALE)
    ap.add_argument("--case", action="append", help="run only cases whose name starts with this")
    ap.add_argument("--out", default=None, help="directory for table.md, result.json and logs")
    ap.add_argument("--link", choices=sorted(DEVICES), default="tap",
                    help="Sluice's device towards Linux: net_tap (default), or a veth pair through "
                         "net_af_packet or net_af_xdp")
    args = ap.parse_args()
    global LINK, PEER_NS
    LINK = args.link
    PEER_NS = NS if LINK == "tap" else NS + "p"
    out = args.out or os.path.join(args.root, "target", "interop")
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    rows = []
    failures = 0
    netns_up(args.root)
    try:
        for name, impair, down, echo, up, bound in CASES:
            if args.case and not any(name.startswith(c) for c in args.case):
                continue
            scale = QUICK_SCALE if args.quick else 1.0
            for kind, size, fn in (("download (curl ← sluice http)", int(down * scale), run_download),
                                   ("echo (Linux ⇄ sluice echo)", int(echo * scale), run_echo),
                                   ("upload (sluice source → Linux)", int(up * scale), run_upload)):
                ok, elapsed, why = fn(args.root, impair, size, bound, logs, name + " " + kind.split()[0])
                mbit = size * 8 / elapsed / 1e6 if elapsed > 0 else 0
                rows.append({"case": name, "impairment": impair, "transfer": kind, "bytes": size,
                             "seconds": round(elapsed, 2), "mbit_per_s": round(mbit, 1), "ok": ok, "why": why})
                failures += 0 if ok else 1
                print("%-22s %-32s %10d B %7.2f s %9.1f Mbit/s  %s %s" % (
                    name, kind, size, elapsed, mbit, "PASS" if ok else "FAIL", why), flush=True)
    finally:
        netns_down(args.root)
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump({"netem": False, "link": LINK, "rows": rows}, f, indent=2)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("| link | transfer | bytes | seconds | Mbit/s | result |\n|---|---|---:|---:|---:|---|\n")
        for r in rows:
            f.write("| %s | %s | %d | %.2f | %.1f | %s |\n" % (r["case"], r["transfer"], r["bytes"], r["seconds"],
                                                                r["mbit_per_s"], "pass" if r["ok"] else "FAIL"))
    print("table: %s" % os.path.join(out, "table.md"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
