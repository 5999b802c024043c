"""Targets under test. Both put the target in a network namespace of its own making and
give the tester an interface whose other end reaches it:
  linux   the kernel of namespace <prefix>-t (a python echo server / client), over a veth
          pair whose tester end sits in namespace <prefix>-x with no address
  sluice  `scripts/sluice echo|source` on a DPDK net_tap inside namespace <prefix>-s; the
          tester sits on the tap's kernel side (no address on it either)
"""
import os
import signal
import subprocess
import threading
import time

from framework import Conn, Tester, delete_netns, sh

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

TESTER_IP = "10.201.6.1"
TARGET_IP = "10.201.6.2"
PREFIXLEN = 24
LISTEN_PORT = 7007
CLOSED_PORT = 7008


def ns_sysctl(ns, key, value):
    sh(["sysctl", "-q", "-w", "%s=%s" % (key, value)], ns=ns, check=False)


def quiet_ns(ns):
    """No IPv6 (router solicitations, MLD) and no answers for addresses the kernel does
    not own in the tester's namespace."""
    ns_sysctl(ns, "net.ipv6.conf.all.disable_ipv6", 1)
    ns_sysctl(ns, "net.ipv6.conf.default.disable_ipv6", 1)


class Proc:
    def __init__(self, cmd, log):
        self.log = open(log, "w")
        self.popen = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        self.logpath = log

    def output(self):
        self.log.flush()
        with open(self.logpath) as f:
            return f.read()

    def alive(self):
        return self.popen.poll() is None

    def stop(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(3)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(3)
        self.log.close()


class ActiveHandle:
    """One active-open target process, the port it connects to, and the tester that sees it
    (Sluice: a tester of its own, on that process's tap; mark = where its segments start)."""

    def __init__(self, port, nbytes, tester, mark=0):
        self.port = port
        self.nbytes = nbytes
        self.tester = tester
        self.mark = mark
        self.proc = None
        self.thread = None
        self.error = None
        self.own_tester = False

    def ready(self, timeout):
        if self.thread is not None:
            self.thread.join(timeout)
        if self.error is not None:
            raise self.error
        if self.proc is None:
            raise RuntimeError("active target did not start in %.0f s" % timeout)

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def output(self):
        return self.proc.output() if self.proc else ""

    def stop(self):
        if self.thread is not None:
            self.thread.join(60)
        if self.proc is not None:
            self.proc.stop()
        if self.own_tester:
            self.tester.detach()


class Target:
    name = "?"
    listen_port = LISTEN_PORT
    closed_port = CLOSED_PORT
    ip = TARGET_IP
    msl_ms = None
    tcbs_die_with_process = False  # Linux keeps TIME-WAIT in the kernel after the process exits

    def __init__(self, prefix, workdir):
        self.prefix = prefix
        self.workdir = workdir
        self.procs = []

    def forget_pmtu(self):
        """Drops what a check taught the target about the path MTU."""

    def cleanup(self):
        for p in self.procs:
            p.stop()
        self.procs = []
        delete_netns(self.prefix + "-")


class LinuxTarget(Target):
    name = "linux"
    start_timeout = 5.0

    def setup(self, tester):
        self.tns, self.xns = self.prefix + "-t", self.prefix + "-x"
        self.tif, self.xif = self.prefix + "-t0", self.prefix + "-x0"
        delete_netns(self.prefix + "-")
        sh(["ip", "netns", "add", self.tns])
        sh(["ip", "netns", "add", self.xns])
        quiet_ns(self.tns)
        quiet_ns(self.xns)
        sh(["ip", "link", "add", self.tif, "netns", self.tns, "type", "veth", "peer", "name", self.xif,
            "netns", self.xns])
        sh(["ip", "addr", "add", "%s/%d" % (TARGET_IP, PREFIXLEN), "dev", self.tif], ns=self.tns)
        for ns, i in ((self.tns, self.tif), (self.xns, self.xif), (self.tns, "lo")):
            sh(["ip", "link", "set", i, "up"], ns=ns)
        # segments must carry real checksums on the wire, and the target must verify ours
        # (veth marks frames from a packet socket "checksum unnecessary" while rx offload is on)
        sh(["ethtool", "-K", self.tif, "tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off"],
           ns=self.tns, check=False)
        sh(["ethtool", "-K", self.xif, "tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off"],
           ns=self.xns, check=False)
        # one challenge ACK / dup ACK per check must not be suppressed by the 500 ms limiter
        ns_sysctl(self.tns, "net.ipv4.tcp_invalid_ratelimit", 0)
        self.echo = Proc(["ip", "netns", "exec", self.tns, "/usr/bin/python3", os.path.join(HERE, "linux_peer.py"),
                          "echo", "--port", str(LISTEN_PORT)], os.path.join(self.workdir, "linux-echo.log"))
        self.procs.append(self.echo)
        tester.attach(self.xns, self.xif)
        deadline = time.monotonic() + 5
        while "listening" not in self.echo.output():
            if time.monotonic() > deadline:
                raise RuntimeError("linux echo server did not start: " + self.echo.output())
            time.sleep(0.05)
        tester.resolve_target()

    def start_passive(self, tester):
        pass

    def forget_pmtu(self):
        sh(["ip", "route", "flush", "cache"], ns=self.tns, check=False)

    def stop_passive(self, tester):
        pass

    def start_active(self, tester, nbytes, prefetch_next=False):
        port = Conn._ports.pop()
        h = ActiveHandle(port, nbytes, tester, tester.mark())
        h.proc = Proc(["ip", "netns", "exec", self.tns, "/usr/bin/python3", os.path.join(HERE, "linux_peer.py"),
                       "source", "--connect", "%s:%d" % (tester.ip, port), "--bytes", str(nbytes)],
                      os.path.join(self.workdir, "linux-source-%d.log" % port))
        self.procs.append(h.proc)
        return h

    def stop_active(self, handle):
        handle.stop()


class SluiceTarget(Target):
    """scripts/sluice echo / source on net_tap in namespace <prefix>-s. The tap exists only
    while a Sluice process runs, so the tester re-attaches whenever one starts."""
    name = "sluice"
    tcbs_die_with_process = True
    start_timeout = 60.0

    def __init__(self, prefix, workdir, msl_ms=500, sluice=None):
        super().__init__(prefix, workdir)
        self.msl_ms = msl_ms
        self.sluice = sluice or os.path.join(ROOT, "scripts", "sluice")
        self.passive = None
        self.prepared = []
        self.next_slot = 0
        self.depth = 3

    def setup(self, tester):
        self.ns = self.prefix + "-s"
        self.tap = self.prefix + "-tap0"
        delete_netns(self.prefix + "-")
        sh(["ip", "netns", "add", self.ns])
        quiet_ns(self.ns)
        sh(["ip", "link", "set", "lo", "up"], ns=self.ns)
        for slot in range(self.depth + 1):  # active-open processes take turns in depth+1 namespaces
            ns = "%s-a%d" % (self.prefix, slot)
            sh(["ip", "netns", "add", ns])
            quiet_ns(ns)
        # build once outside the timed part (scripts/sluice builds on first use)
        subprocess.run([self.sluice, "--help"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=900)

    def _common(self, counters, tap=None):
        # one counters file per process, named by the caller: prepared active-open processes are
        # created before any of them is started, so a name from a process count would repeat
        # (the second process then exited on FileAlreadyExistsException: "no SYN from the target")
        return ["--dev", "net_tap0,iface=%s" % (tap or self.tap), "--ip", "%s/%d" % (TARGET_IP, PREFIXLEN),
                "--msl-ms", str(self.msl_ms),
                "--counters-file", os.path.join(self.workdir, counters)]

    def _start(self, tester, args, log, ns=None, tap=None, handle=None):
        ns, tap = ns or self.ns, tap or self.tap
        p = Proc(["ip", "netns", "exec", ns, self.sluice] + args, os.path.join(self.workdir, log))
        self.procs.append(p)
        if handle is not None:
            handle.proc = p
        deadline = time.monotonic() + 60
        while sh(["ip", "link", "show", tap], ns=ns, check=False) != 0:
            if not p.alive():
                raise RuntimeError("sluice exited: " + p.output()[-2000:])
            if time.monotonic() > deadline:
                raise RuntimeError("sluice tap did not appear: " + p.output()[-2000:])
            time.sleep(0.1)
        tester.attach(ns, tap)
        # sluice gives the tap's kernel side a MAC of its own once the port is up
        while "ready" not in p.output():
            if not p.alive():
                raise RuntimeError("sluice exited: " + p.output()[-2000:])
            if time.monotonic() > deadline:
                raise RuntimeError("sluice not ready: " + p.output()[-2000:])
            time.sleep(0.01)
        tester.refresh_mac()
        return p

    def start_passive(self, tester):
        if self.passive is None or not self.passive.alive():
            tester.target_mac = None
            # the SYN backlog checks_cookies.py fills (Linux: linux_peer.py's listen backlog)
            counters = "sluice-echo-%d.counters" % len(self.procs)
            self.passive = self._start(tester, ["echo"] + self._common(counters) + ["--listen", str(LISTEN_PORT),
                                                                              "--syn-backlog", "64"],
                                       "sluice-echo.log")
            tester.resolve_target(30)

    def stop_passive(self, tester):
        if self.passive is not None:
            self.passive.stop()
            self.passive = None
            tester.detach()

    def _prepare(self, nbytes):
        """Starts an active-open process in the background, in the next of two namespaces,
        with a tester of its own: the next check's JVM starts while this one runs."""
        slot = self.next_slot
        self.next_slot = (slot + 1) % (self.depth + 1)
        ns, tap = "%s-a%d" % (self.prefix, slot), "%s-tapa%d" % (self.prefix, slot)
        t = Tester(TESTER_IP, TARGET_IP)
        h = ActiveHandle(Conn._ports.pop(), nbytes, t)
        h.own_tester = True
        args = ["source"] + self._common("sluice-source-%d.counters" % h.port, tap) + [
            "--idle", "backoff", "--connect", "%s:%d" % (TESTER_IP, h.port), "--bytes", str(nbytes)]

        def run():
            try:
                self._start(t, args, "sluice-source-%d.log" % h.port, ns, tap, h)
            except Exception as e:  # reported when the check takes this handle
                h.error = e
        h.thread = threading.Thread(target=run, daemon=True)
        h.thread.start()
        return h

    def start_active(self, tester, nbytes, prefetch_next=0):
        """Takes the oldest prepared process (or starts one) and keeps up to `depth` more
        starting, no more than the `prefetch_next` active checks still to run need."""
        h = self.prepared.pop(0) if self.prepared and self.prepared[0].nbytes == nbytes else None
        if h is None:
            h = self._prepare(nbytes)
        while len(self.prepared) < min(self.depth, prefetch_next):
            self.prepared.append(self._prepare(nbytes))
        h.ready(self.start_timeout)
        return h

    def stop_active(self, handle):
        handle.stop()

    def cleanup(self):
        for h in self.prepared:
            h.stop()
        self.prepared = []
        super().cleanup()
