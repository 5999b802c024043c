"""Black-box TCP conformance framework: namespaces, the tester (raw L2 send and sniff),
a tester-side connection model, checks with metadata and the result matrix.

The tester owns an IPv4 address that no kernel owns (the interface it sits on has no
address in its namespace), so no kernel ever answers for it: every reply segment the
tester sees comes from the target, and the tester answers ARP for its address itself.
"""
import ctypes
import fcntl
import os
import random
import socket
import struct
import subprocess
import threading
import time

from scapy.layers.l2 import ARP, Ether
from scapy.layers.inet import IP, ICMP, TCP
from scapy.packet import Raw

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
CLONE_NEWNET = 0x40000000

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

MOD = 1 << 32


def seq_add(a, b):
    return (a + b) % MOD


def seq_lt(a, b):
    return ((a - b) % MOD) > (MOD // 2)


def seq_le(a, b):
    return a == b or seq_lt(a, b)


def seq_diff(a, b):
    """a - b as a signed 32-bit distance."""
    d = (a - b) % MOD
    return d - MOD if d >= MOD // 2 else d


def flags_str(f):
    return "".join(c for c, bit in (("F", FIN), ("S", SYN), ("R", RST), ("P", PSH), ("A", ACK), ("U", URG))
                   if f & bit) or "."


class CheckFailed(Exception):
    pass


class CheckSkipped(Exception):
    pass


def require(cond, message):
    if not cond:
        raise CheckFailed(message)


# ---------------------------------------------------------------------------------------
# namespaces and commands

def sh(cmd, check=True, capture=False, ns=None):
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = subprocess.run(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("command failed (%d): %s: %s" % (r.returncode, " ".join(cmd), r.stderr.strip()))
    return r.stdout if capture else r.returncode


_libc = ctypes.CDLL(None, use_errno=True)


class InNetns:
    """Runs a block with the calling thread in network namespace `name` (sockets created
    inside stay bound to it)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.old = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open("/var/run/netns/" + self.name, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + self.name)
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.old, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(self.old)


def delete_netns(prefix):
    for line in sh(["ip", "netns", "list"], capture=True).splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(prefix):
            pids = sh(["ip", "netns", "pids", name], check=False, capture=True) or ""
            for pid in pids.split():
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            sh(["ip", "netns", "del", name], check=False)


# ---------------------------------------------------------------------------------------
# TCP segments

def tcp_checksum(src, dst, seg):
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    data = ph + seg
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def opt_mss(mss):
    return struct.pack("!BBH", 2, 4, mss)


NOP = b"\x01"
EOL = b"\x00"


def build_tcp(src, dst, sport, dport, seq, ack, flags, window=65535, options=b"", payload=b"",
              urgptr=0, bad_checksum=False, data_offset=None):
    opts = options + b"\0" * ((4 - len(options) % 4) % 4)
    off = data_offset if data_offset is not None else (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq % MOD, ack % MOD, off << 4, flags,
                      window, 0, urgptr) + opts
    seg = hdr + payload
    c = tcp_checksum(src, dst, seg)
    if bad_checksum:
        c ^= 0x5A5A
    return seg[:16] + struct.pack("!H", c) + seg[18:]


class Segment:
    """A TCP segment received from the target."""

    def __init__(self, t, ip, tcp_bytes):
        self.t = t
        self.src, self.dst = ip.src, ip.dst
        self.ttl = ip.ttl
        self.raw = tcp_bytes
        (self.sport, self.dport, self.seq, self.ack, off, self.flags, self.window, self.csum,
         self.urgptr) = struct.unpack("!HHIIBBHHH", tcp_bytes[:20])
        self.hlen = (off >> 4) * 4
        self.options_raw = tcp_bytes[20:self.hlen]
        self.payload = tcp_bytes[self.hlen:]
        self.checksum_ok = tcp_checksum(self.src, self.dst, tcp_bytes) == 0

    @property
    def seg_len(self):
        return len(self.payload) + (1 if self.flags & SYN else 0) + (1 if self.flags & FIN else 0)

    def options(self):
        """List of (kind, bytes) parsed leniently."""
        out, i, o = [], 0, self.options_raw
        while i < len(o):
            k = o[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            if i + 1 >= len(o) or o[i + 1] < 2:
                out.append((k, None))
                break
            out.append((k, o[i + 2:i + o[i + 1]]))
            i += o[i + 1]
        return out

    def mss(self):
        for k, v in self.options():
            if k == 2 and v is not None and len(v) == 2:
                return struct.unpack("!H", v)[0]
        return None

    def has(self, f):
        return (self.flags & f) == f

    def __repr__(self):
        return "<%s seq=%d ack=%d win=%d len=%d%s>" % (flags_str(self.flags), self.seq, self.ack,
                                                       self.window, len(self.payload),
                                                       "" if self.checksum_ok else " BADSUM")


# ---------------------------------------------------------------------------------------
# the tester

ALL_TESTERS = []


class Tester:
    """Sends frames on an interface and records what the target sends (TCP segments and
    ICMP), answering ARP for the tester's address on the way."""

    def __init__(self, ip, target_ip):
        ALL_TESTERS.append(self)
        self.ip = ip
        self.target_ip = target_ip
        self.sock = None
        self.thread = None
        self.running = False
        self.lock = threading.Condition()
        self.segments = []
        self.icmp = []
        self.arp_requests = []
        self.frames_out = []
        self.mac = None
        self.target_mac = None
        self.all_checksums_ok = True
        self.bad_checksums = []

    def attach(self, ns, iface):
        self.detach()
        with InNetns(ns):
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.bind((iface, 0))
            s.settimeout(0.05)
            info = fcntl.ioctl(s.fileno(), 0x8927, struct.pack("256s", iface.encode()))  # SIOCGIFHWADDR
            self.mac = ":".join("%02x" % b for b in info[18:24])
        self.sock = s
        self.iface = iface
        self.running = True
        self.thread = threading.Thread(target=self._rx_loop, daemon=True)
        self.thread.start()

    def refresh_mac(self):
        info = fcntl.ioctl(self.sock.fileno(), 0x8927, struct.pack("256s", self.iface.encode()))
        self.mac = ":".join("%02x" % b for b in info[18:24])

    def detach(self):
        self.running = False
        if self.thread:
            self.thread.join(2)
        if self.sock:
            self.sock.close()
        self.sock = None
        self.thread = None

    def _rx_loop(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                if not self.running:
                    return
                time.sleep(0.05)
                continue
            if addr[2] == PACKET_OUTGOING:
                continue
            now = time.monotonic()
            try:
                self._handle(now, data)
            except Exception:  # a frame scapy cannot parse is not the target's reply we wait for
                pass

    def _handle(self, now, data):
        eth = Ether(data)
        if eth.haslayer(ARP):
            a = eth[ARP]
            if a.op == 1:
                with self.lock:
                    self.arp_requests.append((now, a.psrc, a.pdst))
            if a.op == 1 and a.pdst == self.ip:
                reply = Ether(dst=a.hwsrc, src=self.mac) / ARP(op=2, hwsrc=self.mac, psrc=self.ip,
                                                                hwdst=a.hwsrc, pdst=a.psrc)
                self.sock.send(bytes(reply))
            if a.psrc == self.target_ip:
                self.target_mac = a.hwsrc
            return
        if not eth.haslayer(IP):
            return
        ip = eth[IP]
        if ip.src != self.target_ip:
            return
        if ip.proto == 6:
            raw_ip = bytes(ip)
            ihl = ip.ihl * 4
            seg = Segment(now, ip, raw_ip[ihl:ip.len])
            with self.lock:
                if not seg.checksum_ok:
                    self.all_checksums_ok = False
                    self.bad_checksums.append(seg)
                self.segments.append(seg)
                self.lock.notify_all()
        elif ip.proto == 1:
            with self.lock:
                self.icmp.append((now, ip))
                self.lock.notify_all()

    def send_ip(self, ip_pkt, dst_mac=None):
        frame = Ether(src=self.mac, dst=dst_mac or self.target_mac) / ip_pkt
        self._send(bytes(frame))

    def _send(self, frame):
        try:
            self.sock.send(frame)
        except OSError as e:
            if e.errno in (6, 19, 100):  # ENXIO, ENODEV, ENETDOWN: the target's interface went away
                raise CheckFailed("the target's interface is gone (target process exited?): %s" % e)
            raise

    def send_tcp(self, tcp_bytes, src=None, dst=None, ip_kw=None, dst_mac=None, bad_ip_checksum=False):
        ip = IP(src=src or self.ip, dst=dst or self.target_ip, proto=6, flags="DF", **(ip_kw or {})) / Raw(tcp_bytes)
        if bad_ip_checksum:
            b = bytearray(bytes(ip))
            b[10] ^= 0x33
            frame = bytes(Ether(src=self.mac, dst=dst_mac or self.target_mac)) + bytes(b)
            self._send(frame)
            return
        self.send_ip(ip, dst_mac)

    def resolve_target(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.target_mac:
                return self.target_mac
            req = Ether(dst="ff:ff:ff:ff:ff:ff", src=self.mac) / ARP(op=1, hwsrc=self.mac, psrc=self.ip,
                                                                     pdst=self.target_ip)
            self.sock.send(bytes(req))
            t_end = time.monotonic() + 0.3
            while time.monotonic() < t_end and not self.target_mac:
                time.sleep(0.02)
        raise RuntimeError("target %s does not answer ARP" % self.target_ip)

    def mark(self):
        with self.lock:
            return len(self.segments)

    def wait(self, pred, timeout, start=0):
        """First segment at index >= start matching pred, within timeout; returns (seg, index) or (None, n)."""
        deadline = time.monotonic() + timeout
        i = start
        with self.lock:
            while True:
                while i < len(self.segments):
                    if pred(self.segments[i]):
                        return self.segments[i], i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, i
                self.lock.wait(left)

    def collect(self, pred, duration, start=0):
        time.sleep(duration)
        with self.lock:
            return [s for s in self.segments[start:] if pred(s)]

    def icmp_since(self, t0):
        with self.lock:
            return [ip for (t, ip) in self.icmp if t >= t0]


# ---------------------------------------------------------------------------------------
# the tester's side of one connection

class Conn:
    """The tester's model of one connection to the target: it chooses its own sequence
    numbers and tracks the target's."""

    _ports = list(range(20000, 60000))
    random.shuffle(_ports)

    def __init__(self, ctx, dport, sport=None, isn=None, window=65535):
        self.ctx = ctx
        self.t = ctx.tester
        self.dport = dport
        self.sport = sport or Conn._ports.pop()
        self.iss = random.randrange(MOD) if isn is None else isn % MOD
        self.snd_nxt = self.iss
        self.irs = None
        self.rcv_nxt = None
        self.window = window
        self.cursor = self.t.mark()
        self.peer_window = None
        self.peer_mss = None
        self.synack = None
        self.fin_seq = None
        ctx.conns.append(self)

    def mine(self, s):
        return s.sport == self.dport and s.dport == self.sport

    # sending
    def send(self, flags, seq=None, ack=None, payload=b"", window=None, options=b"", urgptr=0,
             bad_checksum=False, advance=True, **kw):
        if seq is None:
            seq = self.snd_nxt
        if ack is None:
            ack = self.rcv_nxt or 0
        w = self.window if window is None else window
        seg = build_tcp(kw.get("src") or self.t.ip, kw.get("dst") or self.t.target_ip, self.sport, self.dport,
                        seq, ack, flags, w,
                        options, payload, urgptr, bad_checksum, kw.pop("data_offset", None))
        self.t.send_tcp(seg, **kw)
        if advance and seq == self.snd_nxt:
            n = len(payload) + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)
            self.snd_nxt = seq_add(self.snd_nxt, n)

    def send_data(self, data, seq=None, flags=PSH | ACK, chunk=1400, **kw):
        """Sends data in segments of at most `chunk` octets (the link MTU is 1500)."""
        if seq is None:
            seq = self.snd_nxt
        for i in range(0, max(len(data), 1), chunk):
            self.send(flags, seq=seq_add(seq, i), payload=data[i:i + chunk], **kw)

    # receiving
    def wait(self, pred=lambda s: True, timeout=1.0):
        seg, i = self.t.wait(lambda s: self.mine(s) and pred(s), timeout, self.cursor)
        if seg is not None:
            self.cursor = i + 1
        return seg

    def expect(self, pred, timeout, what):
        seg = self.wait(pred, timeout)
        if seg is None:
            got = self.recent()
            raise CheckFailed("expected %s within %.1fs; got %s" % (what, timeout, got or "nothing"))
        return seg

    def recent(self, n=6):
        with self.t.lock:
            return [s for s in self.t.segments if self.mine(s)][-n:]

    def none(self, pred, duration, what):
        """Asserts no segment matching pred arrives within duration."""
        start = self.cursor
        got = self.t.collect(lambda s: self.mine(s) and pred(s), duration, start)
        require(not got, "expected no %s; got %s" % (what, got[:4]))

    def drain(self):
        self.cursor = self.t.mark()

    # composite steps
    def syn(self, options=None, mss=1460, payload=b"", flags=SYN, **kw):
        opts = opt_mss(mss) if options is None else options
        self.send(flags, ack=0, options=opts, payload=payload, **kw)

    def open(self, mss=1460, options=None, window=None, timeout=2.0, ack_payload=b""):
        """Active open from the tester: SYN, wait SYN-ACK, ACK. Returns the SYN-ACK."""
        if window is not None:
            self.window = window
        self.syn(options=options, mss=mss)
        sa = self.expect(lambda s: s.has(SYN | ACK), timeout, "SYN-ACK")
        require(sa.ack == self.snd_nxt, "SYN-ACK acks %d, expected %d" % (sa.ack, self.snd_nxt))
        self.on_synack(sa)
        self.send(ACK, payload=ack_payload)
        return sa

    def on_synack(self, sa):
        self.synack = sa
        self.irs = sa.seq
        self.rcv_nxt = seq_add(sa.seq, 1)
        self.peer_window = sa.window
        self.peer_mss = sa.mss()

    def recv_stream(self, nbytes, timeout=3.0, ack=True, window=None, stop_on_fin=True):
        """Collects in-order data from the target up to nbytes (ACKing as it goes when ack);
        returns (bytes, segments with data)."""
        buf = {}
        got = b""
        segs = []
        deadline = time.monotonic() + timeout
        fin_seen = False
        while len(got) < nbytes and time.monotonic() < deadline:
            s = self.wait(lambda s: len(s.payload) > 0 or s.flags & FIN, max(0.0, deadline - time.monotonic()))
            if s is None:
                break
            if s.payload:
                segs.append(s)
                off = seq_diff(s.seq, self.rcv_nxt)
                if off <= 0 and -off < len(s.payload):
                    data = s.payload[-off:]
                    got += data
                    self.rcv_nxt = seq_add(self.rcv_nxt, len(data))
                    while self.rcv_nxt in buf:
                        d = buf.pop(self.rcv_nxt)
                        got += d
                        self.rcv_nxt = seq_add(self.rcv_nxt, len(d))
                elif off > 0:
                    buf[s.seq] = s.payload
            if s.flags & FIN and seq_add(s.seq, len(s.payload)) == self.rcv_nxt:
                fin_seen = True
                self.fin_seq = self.rcv_nxt
            if ack:
                self.send(ACK, window=window)
            if fin_seen and stop_on_fin:
                break
        return got, segs

    def rst(self):
        """Tears the connection down (RST at the target's RCV.NXT)."""
        if self.rcv_nxt is not None:
            self.send(RST | ACK, advance=False)
        else:
            self.send(RST, advance=False)


def pattern(n, salt=0):
    return bytes(((i * 7 + salt) & 0xFF) for i in range(n))


# ---------------------------------------------------------------------------------------
# checks and results

class Check:
    def __init__(self, fn, cid, reqs, desc, mode="passive", linux_differs=None, needs=None):
        self.fn = fn
        self.id = cid
        self.reqs = reqs
        self.desc = desc
        self.mode = mode
        self.linux_differs = linux_differs
        self.needs = needs or []


REGISTRY = []


def check(cid, reqs, desc, mode="passive", linux_differs=None, needs=None):
    """Registers a check. mode: passive (against the listener) or active (the target
    connects to the tester). linux_differs: how Linux deviates from the RFC on this check."""
    def deco(fn):
        REGISTRY.append(Check(fn, cid, reqs, desc, mode, linux_differs, needs))
        return fn
    return deco


class Result:
    def __init__(self, chk, status, detail, secs):
        self.check = chk
        self.status = status
        self.detail = detail
        self.secs = secs

    def as_dict(self):
        return {"id": self.check.id, "requirements": self.check.reqs, "description": self.check.desc,
                "status": self.status, "detail": self.detail, "seconds": round(self.secs, 2),
                "linux_differs": self.check.linux_differs}


class Ctx:
    """What one check gets: the tester, the target and helpers; tracks connections so the
    teardown can reset them."""

    def __init__(self, tester, target):
        self.tester = tester
        self.target = target
        self.conns = []
        self.active = None
        self.cleanups = []
        self.prefetch_next = 0

    def conn(self, port=None, **kw):
        return Conn(self, port or self.target.listen_port, **kw)

    def teardown(self):
        for c in self.conns:
            try:
                c.rst()
            except Exception:
                pass
        if self.active is not None:
            self.target.stop_active(self.active)
            self.active = None
        for fn in self.cleanups:
            fn()
