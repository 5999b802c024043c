"""Checks against the target's listener (`echo`): closed ports, LISTEN, SYN-RECEIVED,
handshake and options, RFC 5961, sequence wrap, reassembly, windows, urgent data, FIN in
the passive closing states, ICMP, checksums.

Requirement ids are those of ../shared/CONFORMANCE.md: MUST-n / SHLD-n / MAY-n, and for
the unlabeled rules of RFC 9293 §3.10 the section number (3.10.7.1 ...); RFC5961-3/4/5 are
its sections 3 (RST), 4 (SYN) and 5 (ACK); RFC5681/RFC1191/RFC6298 name companion RFCs.
"""
import struct
import time

from framework import (ACK, EOL, FIN, NOP, PSH, RST, SYN, URG, MOD, check, flags_str, opt_mss,
                       pattern, require, seq_add, seq_diff, seq_lt, CheckFailed)
from scapy.layers.inet import IP, ICMP
from scapy.packet import Raw

SHORT = 0.7     # how long "nothing arrives" is watched
REPLY = 1.5     # how long a reply is waited for


# ------------------------------------------------------------------------------ helpers

def echo_ok(c, data=b"ping-echo", timeout=2.0):
    c.send_data(data)
    got, _ = c.recv_stream(len(data), timeout)
    return got == data, got


def require_alive(c, what="the connection"):
    ok, got = echo_ok(c)
    require(ok, "%s should still echo; got %r" % (what, got[:20]))


def require_dead(c, what="the connection"):
    """A segment on a 4-tuple with no TCB gets <SEQ=SEG.ACK><RST> (3.10.7.1)."""
    c.drain()
    c.send_data(b"after")
    s = c.wait(lambda s: True, REPLY)
    require(s is not None and s.flags & RST, "%s should be gone (RST for new data); got %s" % (what, s))
    c.rcv_nxt = None


def established(ctx, **kw):
    c = ctx.conn(**kw)
    c.open()
    return c


def expect_challenge(c, what):
    """<SEQ=SND.NXT><ACK=RCV.NXT><ACK>: the target's SND.NXT is our rcv_nxt and its RCV.NXT our snd_nxt."""
    s = c.expect(lambda s: s.flags & ACK and not s.flags & (RST | SYN), REPLY, "challenge ACK after " + what)
    require(s.ack == c.snd_nxt and s.seq == c.rcv_nxt and not s.payload,
            "challenge ACK should be <SEQ=%d><ACK=%d>, got %s" % (c.rcv_nxt, c.snd_nxt, s))
    return s


def echo_sizes(c, n, timeout=3.0, **kw):
    got, segs = c.recv_stream(n, timeout, **kw)
    return got, [len(s.payload) for s in segs]


# ------------------------------------------------------------------------------ closed port

@check("closed-syn", ["3.10.7.1"], "SYN to a closed port gets <SEQ=0><ACK=SEG.SEQ+1><RST,ACK>")
def closed_syn(ctx):
    c = ctx.conn(ctx.target.closed_port)
    c.syn()
    s = c.expect(lambda s: True, REPLY, "RST,ACK")
    require(s.flags == RST | ACK, "flags %s, expected RA" % flags_str(s.flags))
    require(s.seq == 0 and s.ack == c.snd_nxt, "seq=%d ack=%d, expected 0/%d" % (s.seq, s.ack, c.snd_nxt))
    c.rcv_nxt = None


@check("closed-syn-data", ["3.10.7.1"], "SYN with 20 data octets to a closed port: ACK=SEG.SEQ+SEG.LEN (21)")
def closed_syn_data(ctx):
    c = ctx.conn(ctx.target.closed_port)
    c.syn(payload=pattern(20))
    s = c.expect(lambda s: True, REPLY, "RST,ACK")
    require(s.flags == RST | ACK and s.ack == c.snd_nxt, "got %s, expected RA ack=%d" % (s, c.snd_nxt))


@check("closed-ack", ["3.10.7.1"], "ACK to a closed port gets <SEQ=SEG.ACK><RST> (no ACK bit)")
def closed_ack(ctx):
    c = ctx.conn(ctx.target.closed_port)
    c.send(ACK, ack=123456789, payload=b"hello")
    s = c.expect(lambda s: True, REPLY, "RST")
    require(s.flags == RST and s.seq == 123456789, "got %s, expected R seq=123456789" % s)


@check("closed-fin", ["3.10.7.1"], "FIN (no ACK) to a closed port: RST,ACK acking the FIN (SEG.LEN counts FIN)")
def closed_fin(ctx):
    c = ctx.conn(ctx.target.closed_port)
    c.send(FIN, ack=0)
    s = c.expect(lambda s: True, REPLY, "RST,ACK")
    require(s.flags == RST | ACK and s.seq == 0 and s.ack == c.snd_nxt, "got %s, expected RA 0/%d" % (s, c.snd_nxt))


@check("closed-data-noack", ["3.10.7.1"], "data without ACK to a closed port: RST,ACK with ACK=SEG.SEQ+len")
def closed_data_noack(ctx):
    c = ctx.conn(ctx.target.closed_port)
    c.send(PSH, ack=0, payload=pattern(33))
    s = c.expect(lambda s: True, REPLY, "RST,ACK")
    require(s.flags == RST | ACK and s.ack == c.snd_nxt, "got %s, expected RA ack=%d" % (s, c.snd_nxt))


@check("closed-rst", ["3.10.7.1"], "RST to a closed port is dropped silently")
def closed_rst(ctx):
    c = ctx.conn(ctx.target.closed_port)
    c.send(RST, ack=0)
    c.send(RST | ACK, ack=99)
    c.none(lambda s: True, SHORT, "reply to a RST")


@check("closed-badsum", ["MUST-3"], "SYN with a bad TCP checksum to a closed port is dropped (no RST)")
def closed_badsum(ctx):
    c = ctx.conn(ctx.target.closed_port)
    c.syn(bad_checksum=True)
    c.none(lambda s: True, SHORT, "reply to a bad checksum")


# ------------------------------------------------------------------------------ handshake and options

@check("syn-synack", ["3.10.7.2", "MUST-14", "SHLD-5", "MUST-4"],
       "SYN to the listener: SYN,ACK with ACK=SEG.SEQ+1, an MSS option, no data")
def syn_synack(ctx):
    c = ctx.conn()
    c.syn()
    s = c.expect(lambda s: True, REPLY, "SYN,ACK")
    require(s.flags & (SYN | ACK | RST | FIN) == SYN | ACK, "flags %s" % flags_str(s.flags))
    require(s.ack == c.snd_nxt, "ack %d, expected %d" % (s.ack, c.snd_nxt))
    require(s.mss() is not None, "no MSS option in SYN,ACK (options %r)" % s.options_raw)
    require(not s.payload and s.window > 0, "payload or zero window in SYN,ACK")
    c.on_synack(s)


@check("synack-mss-mtu", ["MUST-67", "MUST-16"], "advertised MSS <= MTU(1500) - 40")
def synack_mss(ctx):
    c = ctx.conn()
    sa = c.open()
    require(sa.mss() is not None and 0 < sa.mss() <= 1460, "MSS %s" % sa.mss())


@check("handshake-echo", ["3.10.7.2", "3.10.7.4"], "three-way handshake, 1000 octets echoed with correct SEQ/ACK")
def handshake_echo(ctx):
    c = established(ctx)
    data = pattern(1000)
    c.send_data(data)
    got, segs = c.recv_stream(1000)
    require(got == data, "echo mismatch (%d of 1000 octets)" % len(got))
    require(all(s.ack == c.snd_nxt for s in segs[-1:]), "last echo segment does not ack all data")


@check("no-mss-after-syn", ["MUST-65"], "segments after the SYN carry no MSS option")
def no_mss_after_syn(ctx):
    c = established(ctx)
    c.send_data(pattern(300))
    got, segs = c.recv_stream(300)
    require(segs, "no data segments")
    bad = [s for s in segs if s.mss() is not None]
    require(not bad, "MSS option in non-SYN segments: %s" % bad)


@check("mss-honoured", ["MUST-14", "MUST-16"], "peer MSS 100: every echoed segment carries <= 100 octets")
def mss_honoured(ctx):
    c = ctx.conn()
    c.open(mss=100)
    c.send_data(pattern(700))
    got, sizes = echo_sizes(c, 700)
    require(len(got) == 700, "echoed %d of 700" % len(got))
    require(max(sizes) <= 100, "segment sizes %s exceed MSS 100" % sizes)


@check("mss-default-536", ["MUST-15"], "SYN without MSS option: echoed segments <= 536 octets")
def mss_default(ctx):
    c = ctx.conn()
    c.open(options=b"")
    c.send_data(pattern(1200))
    got, sizes = echo_sizes(c, 1200)
    require(len(got) == 1200, "echoed %d of 1200" % len(got))
    require(max(sizes) <= 536, "segment sizes %s exceed 536" % sizes)


@check("full-sized-segments", ["SHLD-28"], "4000 octets echoed in maximum-sized segments (MSS 500)")
def full_sized(ctx):
    c = ctx.conn()
    c.open(mss=500)
    c.send_data(pattern(1400, 1))
    c.send_data(pattern(1400, 2))
    c.send_data(pattern(1200, 3))
    got, sizes = echo_sizes(c, 4000)
    require(len(got) == 4000, "echoed %d of 4000" % len(got))
    require(sizes.count(500) >= 6, "expected mostly 500-octet segments, got %s" % sizes)


@check("mss-unaligned", ["MUST-64", "MUST-4"], "MSS option not word-aligned (NOP,MSS=200,NOP,NOP,NOP) is honoured")
def mss_unaligned(ctx):
    c = ctx.conn()
    c.open(options=NOP + opt_mss(200) + NOP * 3)
    c.send_data(pattern(1000))
    got, sizes = echo_sizes(c, 1000)
    require(len(got) == 1000 and max(sizes) <= 200, "sizes %s (MSS 200 not applied)" % sizes)


@check("options-after-eol", ["MUST-69", "MUST-4"], "nothing after EOL is parsed: EOL,MSS=200 means no MSS (536)")
def options_after_eol(ctx):
    c = ctx.conn()
    c.open(options=EOL + opt_mss(200) + b"\0\0\0")
    c.send_data(pattern(1200))
    got, sizes = echo_sizes(c, 1200)
    require(len(got) == 1200, "echoed %d of 1200" % len(got))
    require(max(sizes) <= 536, "sizes %s: more than the default 536" % sizes)
    require(max(sizes) > 200, "sizes %s: the MSS after EOL was parsed" % sizes)


@check("unknown-option-syn", ["MUST-6", "MUST-5"], "unknown option (kind 253, len 6) before MSS=300 in SYN: skipped, MSS applied")
def unknown_option_syn(ctx):
    c = ctx.conn()
    c.open(options=bytes([253, 6, 1, 2, 3, 4]) + opt_mss(300))
    c.send_data(pattern(900))
    got, sizes = echo_sizes(c, 900)
    require(len(got) == 900 and max(sizes) <= 300, "sizes %s" % sizes)


@check("option-len-zero-syn", ["MUST-7"], "SYN with an option of length 0: no crash; listener still works",
       linux_differs="Linux stops parsing and answers SYN,ACK; RFC 9293 suggests a reset; both pass")
def option_len_zero(ctx):
    c = ctx.conn()
    c.syn(options=opt_mss(1000) + bytes([99, 0, 0, 0]))
    s = c.wait(lambda s: True, REPLY)
    require(s is None or s.flags & (SYN | RST), "unexpected reply %s" % s)
    if s is not None and s.flags & SYN:
        c.on_synack(s)
    c2 = established(ctx)
    require_alive(c2, "a new connection after the malformed SYN")


@check("option-len-overflow", ["MUST-7"], "data segment whose option length runs past the header: no crash",
       linux_differs="Linux ignores the options and accepts the data; RFC suggests reset; both pass")
def option_len_overflow(ctx):
    c = established(ctx)
    c.send_data(b"bad-option", options=NOP + NOP + bytes([254, 40, 0, 0]))
    time.sleep(0.3)
    c2 = established(ctx)
    require_alive(c2, "a new connection after the malformed option")


@check("option-in-data", ["MUST-5", "MUST-6"], "unknown option on a data segment: data accepted")
def option_in_data(ctx):
    c = established(ctx)
    data = b"with-unknown-option"
    c.send_data(data, options=NOP + NOP + bytes([254, 6, 0xAA, 0xBB, 0xCC, 0xDD]))
    got, _ = c.recv_stream(len(data))
    require(got == data, "echo %r" % got)


@check("mss-option-in-data", ["MUST-5", "MUST-65"], "MSS option on a non-SYN segment is ignored, data accepted")
def mss_in_data(ctx):
    c = established(ctx)
    data = b"mss-on-data"
    c.send_data(data, options=opt_mss(64))
    got, _ = c.recv_stream(len(data))
    require(got == data, "echo %r" % got)


@check("window-unsigned", ["MUST-1", "REC-1"], "window 65535 (top bit set) is unsigned: a full initial window (>= 2000 octets at MSS 500) flows without ACKs")
def window_unsigned(ctx):
    c = ctx.conn(window=65535)
    c.open(mss=500)
    c.send_data(pattern(4000, 1), chunk=1000)
    got, _ = c.recv_stream(4000, timeout=1.5, ack=False)
    require(len(got) >= 2000, "only %d octets sent into a 65535 window" % len(got))


# ------------------------------------------------------------------------------ LISTEN

@check("listen-rst", ["3.10.7.2"], "RST to the listener is ignored; the same port then connects")
def listen_rst(ctx):
    c = ctx.conn()
    c.send(RST, ack=0, advance=False)
    c.none(lambda s: True, SHORT, "reply to RST in LISTEN")
    c.open()


@check("listen-ack", ["3.10.7.2"], "ACK to the listener (no connection) gets <SEQ=SEG.ACK><RST>")
def listen_ack(ctx):
    c = ctx.conn()
    c.send(ACK, ack=0xDEADBEEF)
    s = c.expect(lambda s: True, REPLY, "RST")
    require(s.flags == RST and s.seq == 0xDEADBEEF, "got %s" % s)


@check("listen-fin", ["3.10.7.2", "3.10.7.4"], "FIN alone to the listener is dropped (FIN never processed in LISTEN)")
def listen_fin(ctx):
    c = ctx.conn()
    c.send(FIN, ack=0)
    c.none(lambda s: True, SHORT, "reply to FIN in LISTEN")


@check("listen-data", ["3.10.7.2"], "data without SYN/ACK/RST to the listener is dropped")
def listen_data(ctx):
    c = ctx.conn()
    c.send(PSH, ack=0, payload=b"no-flags")
    c.none(lambda s: True, SHORT, "reply to bare data in LISTEN")


@check("listen-synfin", ["3.10.7.2", "3.10.7.4"], "SYN+FIN to the listener: dropped, or SYN,ACK that does not ack the FIN",
       linux_differs="Linux drops SYN+FIN; RFC 9293 processes the SYN and ignores the FIN; both pass")
def listen_synfin(ctx):
    c = ctx.conn()
    c.syn(flags=SYN | FIN)
    s = c.wait(lambda s: True, SHORT)
    if s is not None:
        require(s.flags & (SYN | ACK) == SYN | ACK and s.ack == seq_add(c.iss, 1),
                "got %s, expected SYN,ACK with ack=%d" % (s, seq_add(c.iss, 1)))
        c.on_synack(s)


@check("listen-badsum", ["MUST-3"], "SYN with a bad TCP checksum to the listener gets no SYN,ACK")
def listen_badsum(ctx):
    c = ctx.conn()
    c.syn(bad_checksum=True)
    c.none(lambda s: True, SHORT, "reply to a bad checksum")


@check("bad-ip-checksum", ["3.10.7.2"], "SYN in an IPv4 datagram with a bad header checksum is dropped (RFC 791)")
def bad_ip_checksum(ctx):
    c = ctx.conn()
    c.syn(bad_ip_checksum=True)
    c.none(lambda s: True, SHORT, "reply to a bad IP header checksum")


@check("syn-to-broadcast", ["MUST-57"], "SYN to the subnet broadcast address is dropped")
def syn_broadcast(ctx):
    c = ctx.conn()
    c.syn(dst="10.201.6.255", dst_mac="ff:ff:ff:ff:ff:ff")
    got = ctx.tester.collect(lambda s: s.dport == c.sport, SHORT, c.cursor)
    require(not got, "reply %s" % got)


@check("syn-to-multicast", ["MUST-57"], "SYN to a multicast address (224.0.0.1) is dropped")
def syn_multicast(ctx):
    c = ctx.conn()
    c.syn(dst="224.0.0.1", dst_mac="01:00:5e:00:00:01")
    got = ctx.tester.collect(lambda s: s.dport == c.sport, SHORT, c.cursor)
    require(not got, "reply %s" % got)


@check("syn-from-loopback", ["MUST-63"], "SYN from source 127.0.0.9 is ignored")
def syn_from_loopback(ctx):
    c = ctx.conn()
    t0 = time.monotonic()
    c.syn(src="127.0.0.9")
    got = ctx.tester.collect(lambda s: s.dport == c.sport, SHORT, c.cursor)
    arps = [a for a in ctx.tester.arp_requests if a[0] >= t0 and a[2] == "127.0.0.9"]
    require(not got and not arps, "answered: %s %s" % (got, arps))


@check("syn-from-broadcast", ["MUST-63"], "SYN from source 10.201.6.255 (the subnet's broadcast) is ignored",
       linux_differs="Linux answers a SYN from the directed-broadcast source (only 255.255.255.255 and multicast are martians)")
def syn_from_broadcast(ctx):
    c = ctx.conn()
    t0 = time.monotonic()
    c.syn(src="10.201.6.255")
    got = ctx.tester.collect(lambda s: s.dport == c.sport, SHORT, c.cursor)
    arps = [a for a in ctx.tester.arp_requests if a[0] >= t0 and a[2] == "10.201.6.255"]
    require(not got and not arps, "answered: %s %s" % (got, arps))


@check("syn-from-multicast", ["MUST-63"], "SYN from source 224.0.0.5 (multicast) is ignored")
def syn_from_multicast(ctx):
    c = ctx.conn()
    t0 = time.monotonic()
    c.syn(src="224.0.0.5")
    got = ctx.tester.collect(lambda s: s.dport == c.sport, SHORT, c.cursor)
    require(not got, "answered: %s" % got)


@check("ip-options", ["MUST-50"], "SYN with an IP option (router alert) is answered normally")
def ip_options(ctx):
    from scapy.layers.inet import IPOption_Router_Alert
    c = ctx.conn()
    c.syn(ip_kw={"options": [IPOption_Router_Alert()]})
    s = c.expect(lambda s: True, REPLY, "SYN,ACK")
    require(s.flags & (SYN | ACK) == SYN | ACK, "got %s" % s)
    c.on_synack(s)


@check("syn-with-data", ["3.10.7.2"], "SYN carrying data: SYN,ACK acks the SYN; data delivered exactly once",
       linux_differs="Linux (no TFO cookie) discards SYN data, RFC 9293 queues it; both pass (data once)")
def syn_with_data(ctx):
    c = ctx.conn()
    data = b"data-on-syn"
    c.syn(payload=data)
    sa = c.expect(lambda s: s.flags & SYN, REPLY, "SYN,ACK")
    require(sa.ack in (seq_add(c.iss, 1), seq_add(c.iss, 1 + len(data))), "SYN,ACK ack=%d" % sa.ack)
    c.on_synack(sa)
    kept = sa.ack == c.snd_nxt
    if not kept:
        c.send(ACK)
        # the target may still have queued it (RFC): wait for an echo first
        got, _ = c.recv_stream(len(data), timeout=0.6)
        if got != data:
            c.send_data(data, seq=seq_add(c.iss, 1))
            c.snd_nxt = seq_add(c.iss, 1 + len(data))
            more, _ = c.recv_stream(len(data) - len(got), timeout=2.0)
            got += more
    else:
        c.send(ACK)
        got, _ = c.recv_stream(len(data))
    extra, _ = c.recv_stream(1, timeout=0.4)
    require(got == data and not extra, "echo %r then %r, expected %r once" % (got, extra, data))


@check("isn-unpredictable", ["MUST-8", "MUST-9", "SHLD-1"], "ISNs of 6 connections (different ports, and one port reused) are all different and not in arithmetic progression")
def isn(ctx):
    isns = []
    for i in range(4):
        c = ctx.conn()
        isns.append(c.open().seq)
    port = ctx.conn().sport
    for i in range(2):
        c = ctx.conn(sport=port)
        isns.append(c.open().seq)
        c.rst()
        time.sleep(0.05)
    require(len(set(isns)) == len(isns), "repeated ISN %s" % isns)
    diffs = {(b - a) % MOD for a, b in zip(isns, isns[1:])}
    require(len(diffs) > 1, "ISNs in arithmetic progression: %s" % isns)


# ------------------------------------------------------------------------------ SYN-RECEIVED

def synrcvd(ctx):
    c = ctx.conn()
    c.syn()
    sa = c.expect(lambda s: s.flags & SYN, REPLY, "SYN,ACK")
    c.on_synack(sa)
    return c, sa


@check("synrcvd-bad-ack", ["3.10.7.4", "RFC5961-5"], "SYN-RECEIVED, ACK above ISS+1: <SEQ=SEG.ACK><RST>")
def synrcvd_bad_ack(ctx):
    c, sa = synrcvd(ctx)
    bad = seq_add(sa.seq, 1000)
    c.send(ACK, ack=bad)
    s = c.expect(lambda s: s.flags & RST, REPLY, "RST")
    require(s.seq == bad and not s.flags & ACK, "got %s, expected R seq=%d" % (s, bad))


@check("synrcvd-ack-iss", ["3.10.7.4"], "SYN-RECEIVED, ACK = ISS (acks nothing sent): <SEQ=SEG.ACK><RST>")
def synrcvd_ack_iss(ctx):
    c, sa = synrcvd(ctx)
    c.send(ACK, ack=sa.seq)
    s = c.expect(lambda s: s.flags & RST, REPLY, "RST")
    require(s.seq == sa.seq, "got %s, expected R seq=%d" % (s, sa.seq))


@check("synrcvd-rst", ["3.10.7.4", "RFC5961-3", "MUST-11"], "RST in SYN-RECEIVED from a passive OPEN: connection dropped (LISTEN again)")
def synrcvd_rst(ctx):
    c, sa = synrcvd(ctx)
    c.send(RST, advance=False)
    c.none(lambda s: True, 0.3, "reply to an exact RST")
    c.send(ACK)
    s = c.expect(lambda s: True, REPLY, "RST for the ACK (no connection)")
    require(s.flags & RST and s.seq == c.rcv_nxt, "got %s, expected R seq=%d" % (s, c.rcv_nxt))
    c.rcv_nxt = None
    c2 = ctx.conn()
    c2.open()


@check("synrcvd-dup-syn", ["3.10.7.4", "RFC5961-4"], "retransmitted SYN in SYN-RECEIVED: SYN,ACK (same ISS) or ACK; handshake still completes",
       linux_differs="Linux retransmits the SYN,ACK; RFC 9293 sends an ACK (unacceptable segment); both pass")
def synrcvd_dup_syn(ctx):
    c, sa = synrcvd(ctx)
    c.send(SYN, seq=c.iss, ack=0, options=opt_mss(1460), advance=False)
    s = c.expect(lambda s: True, REPLY, "SYN,ACK or ACK")
    want = sa.seq if s.flags & SYN else seq_add(sa.seq, 1)
    require(not s.flags & RST and s.seq == want and s.ack == c.snd_nxt, "got %s, expected seq %d ack %d" % (s, want, c.snd_nxt))
    c.send(ACK)
    require_alive(c)


@check("synack-retransmit", ["RFC6298", "3.10.8"], "no final ACK: the SYN,ACK is retransmitted (same ISS) after ~1 s")
def synack_retransmit(ctx):
    c, sa = synrcvd(ctx)
    s = c.expect(lambda s: s.flags & SYN, 3.5, "retransmitted SYN,ACK")
    gap = s.t - sa.t
    require(s.seq == sa.seq and gap >= 0.2, "got %s after %.2fs" % (s, gap))


@check("synrcvd-ack-data", ["3.10.7.4"], "handshake ACK carrying data: connection established, data echoed")
def synrcvd_ack_data(ctx):
    c, sa = synrcvd(ctx)
    data = b"data-on-third-segment"
    c.send(ACK | PSH, payload=data)
    got, _ = c.recv_stream(len(data))
    require(got == data, "echo %r" % got)


@check("synrcvd-ack-fin", ["3.10.7.4"], "handshake ACK with FIN: the FIN is acked (CLOSE-WAIT) and the target closes")
def synrcvd_ack_fin(ctx):
    c, sa = synrcvd(ctx)
    c.send(ACK | FIN)
    s = c.expect(lambda s: s.flags & FIN, 2.0, "FIN from the target")
    require(s.ack == c.snd_nxt, "FIN does not ack our FIN: %s (expected ack %d)" % (s, c.snd_nxt))
    c.rcv_nxt = seq_add(s.seq, 1)
    c.send(ACK)
    c.none(lambda s: True, 0.4, "segment after the last ACK")
    c.rcv_nxt = None


# ------------------------------------------------------------------------------ RFC 5961 in ESTABLISHED

@check("rst-exact", ["RFC5961-3", "3.10.7.4"], "RST with SEQ = RCV.NXT resets the connection")
def rst_exact(ctx):
    c = established(ctx)
    require_alive(c)
    c.send(RST, advance=False)
    c.none(lambda s: True, 0.3, "reply to an exact RST")
    require_dead(c)


@check("rst-ack-exact", ["RFC5961-3", "3.10.7.4"], "RST,ACK with SEQ = RCV.NXT resets the connection")
def rst_ack_exact(ctx):
    c = established(ctx)
    c.send(RST | ACK, advance=False)
    c.none(lambda s: True, 0.3, "reply to an exact RST")
    require_dead(c)


@check("rst-with-data", ["SHLD-2", "RFC5961-3"], "RST carrying data with SEQ = RCV.NXT is accepted (resets)")
def rst_with_data(ctx):
    c = established(ctx)
    c.send(RST | ACK, payload=b"reason: testing", advance=False)
    c.none(lambda s: True, 0.3, "reply to an exact RST")
    require_dead(c)


@check("rst-in-window", ["RFC5961-3", "3.10.7.4"], "RST in window but not at RCV.NXT: challenge ACK, connection kept")
def rst_in_window(ctx):
    c = established(ctx)
    c.send(RST, seq=seq_add(c.snd_nxt, 1000), advance=False)
    expect_challenge(c, "in-window RST")
    require_alive(c)


@check("rst-right-of-window", ["RFC5961-3", "3.10.7.4"], "RST beyond the receive window is dropped silently")
def rst_right(ctx):
    c = established(ctx)
    c.send(RST, seq=seq_add(c.snd_nxt, 1 << 30), advance=False)
    c.none(lambda s: True, SHORT, "reply to an out-of-window RST")
    require_alive(c)


@check("rst-left-of-window", ["RFC5961-3", "3.10.7.4"], "RST below RCV.NXT (old) is dropped silently")
def rst_left(ctx):
    c = established(ctx)
    require_alive(c)
    c.send(RST, seq=seq_add(c.snd_nxt, -5000), advance=False)
    c.none(lambda s: True, SHORT, "reply to an old RST")
    require_alive(c)


@check("syn-in-window", ["RFC5961-4", "3.10.7.4"], "SYN in window in ESTABLISHED: challenge ACK, connection kept")
def syn_in_window(ctx):
    c = established(ctx)
    c.send(SYN, seq=seq_add(c.snd_nxt, 100), ack=0, options=opt_mss(1460), advance=False)
    expect_challenge(c, "in-window SYN")
    require_alive(c)


@check("syn-at-rcvnxt", ["RFC5961-4", "3.10.7.4"], "SYN at exactly RCV.NXT: challenge ACK, no reset")
def syn_at_rcvnxt(ctx):
    c = established(ctx)
    c.send(SYN, ack=0, options=opt_mss(1460), advance=False)
    expect_challenge(c, "SYN at RCV.NXT")
    require_alive(c)


@check("syn-out-of-window", ["RFC5961-4", "3.10.7.4"], "SYN far outside the window: (challenge) ACK, connection kept")
def syn_oow(ctx):
    c = established(ctx)
    c.send(SYN, seq=seq_add(c.snd_nxt, 1 << 30), ack=0, options=opt_mss(1460), advance=False)
    expect_challenge(c, "out-of-window SYN")
    require_alive(c)


@check("data-beyond-window", ["3.10.7.4"], "data beyond the window: <SEQ=SND.NXT><ACK=RCV.NXT><ACK>, not delivered")
def data_beyond(ctx):
    c = established(ctx)
    c.send_data(b"far-away", seq=seq_add(c.snd_nxt, 1 << 30), advance=False)
    expect_challenge(c, "out-of-window data")
    c.none(lambda s: len(s.payload) > 0, 0.4, "echo of out-of-window data")
    require_alive(c)


@check("data-old-duplicate", ["3.10.7.4"], "an old duplicate data segment gets an ACK and is not delivered again")
def data_old_dup(ctx):
    c = established(ctx)
    start = c.snd_nxt
    c.send_data(pattern(100))
    got, _ = c.recv_stream(100)
    require(len(got) == 100, "first echo incomplete")
    c.send_data(pattern(50), seq=start, advance=False)
    expect_challenge(c, "old duplicate")
    c.none(lambda s: len(s.payload) > 0, 0.4, "echo of duplicate data")


@check("ack-unsent-data", ["3.10.7.4", "RFC5961-5"], "ACK above SND.NXT: an ACK is sent and the segment (data) dropped")
def ack_unsent(ctx):
    c = established(ctx)
    c.send_data(b"acks-the-future", ack=seq_add(c.rcv_nxt, 5000), advance=False)
    expect_challenge(c, "ACK of unsent data")
    c.none(lambda s: len(s.payload) > 0, 0.4, "echo of the dropped segment")
    require_alive(c)


@check("ack-too-old", ["RFC5961-5", "MAY-12", "3.10.7.4"], "ACK below SND.UNA - MAX.SND.WND: challenge ACK, data dropped")
def ack_too_old(ctx):
    c = established(ctx)
    require_alive(c)
    c.send_data(b"ancient-ack", ack=seq_add(c.rcv_nxt, -200000), advance=False)
    expect_challenge(c, "too-old ACK")
    c.none(lambda s: len(s.payload) > 0, 0.4, "echo of the dropped segment")
    require_alive(c)


@check("ack-old-acceptable", ["RFC5961-5", "3.10.7.4"], "ACK slightly below SND.UNA (within MAX.SND.WND): data accepted")
def ack_old_ok(ctx):
    c = established(ctx)
    c.send_data(pattern(100))
    got, _ = c.recv_stream(100)
    require(len(got) == 100, "first echo incomplete")
    data = b"old-but-acceptable-ack"
    c.send_data(data, ack=seq_add(c.rcv_nxt, -10))
    got, _ = c.recv_stream(len(data))
    require(got == data, "echo %r" % got)


# ------------------------------------------------------------------------------ sequence numbers near 2^32

@check("wrap-data", ["REC-1", "3.10.7.4"], "ISN 2^32-20: 300 octets across the wrap echoed intact")
def wrap_data(ctx):
    c = ctx.conn(isn=MOD - 20)
    c.open()
    data = pattern(300, 5)
    c.send_data(data[:100])
    c.send_data(data[100:])
    got, _ = c.recv_stream(300)
    require(got == data, "echo %d octets, intact=%s" % (len(got), got == data[:len(got)]))


@check("wrap-old-duplicate", ["3.10.7.4", "REC-1"], "ISN 2^32-20: a duplicate of pre-wrap octets is unacceptable (ACK, not delivered)")
def wrap_old(ctx):
    c = ctx.conn(isn=MOD - 20)
    c.open()
    c.send_data(pattern(60))
    got, _ = c.recv_stream(60)
    require(len(got) == 60 and c.snd_nxt < 100, "setup failed")
    c.send_data(pattern(10), seq=MOD - 15, advance=False)
    expect_challenge(c, "pre-wrap duplicate")
    c.none(lambda s: len(s.payload) > 0, 0.4, "echo of duplicate data")


@check("wrap-far", ["3.10.7.4", "REC-1"], "ISN 2^32-20: data at RCV.NXT+2^31-1 (far after the wrap) is unacceptable")
def wrap_far(ctx):
    c = ctx.conn(isn=MOD - 20)
    c.open()
    c.send_data(b"far", seq=seq_add(c.snd_nxt, (1 << 31) - 1), advance=False)
    expect_challenge(c, "far segment")
    c.none(lambda s: len(s.payload) > 0, 0.4, "echo of far data")
    require_alive(c)


@check("wrap-rst-exact", ["RFC5961-3", "REC-1"], "ISN 2^32-1 (RCV.NXT = 0): RST with SEQ 0 resets")
def wrap_rst_exact(ctx):
    c = ctx.conn(isn=MOD - 1)
    c.open()
    require(c.snd_nxt == 0, "setup")
    c.send(RST, advance=False)
    c.none(lambda s: True, 0.3, "reply to an exact RST")
    require_dead(c)


@check("wrap-rst-in-window", ["RFC5961-3", "REC-1"], "ISN 2^32-50: RST at RCV.NXT+100 (after the wrap) gets a challenge ACK")
def wrap_rst_in(ctx):
    c = ctx.conn(isn=MOD - 50)
    c.open()
    c.send(RST, seq=seq_add(c.snd_nxt, 100), advance=False)
    expect_challenge(c, "in-window RST across the wrap")
    require_alive(c)


@check("wrap-rst-left", ["RFC5961-3", "REC-1"], "ISN 10 with data: RST at RCV.NXT-3000 (before the wrap) is dropped")
def wrap_rst_left(ctx):
    c = ctx.conn(isn=10)
    c.open()
    c.send(RST, seq=seq_add(c.snd_nxt, -3000), advance=False)
    require(c.snd_nxt - 3000 < 0, "setup")
    c.none(lambda s: True, SHORT, "reply to an old RST")
    require_alive(c)


@check("wrap-reorder", ["SHLD-31", "REC-1"], "ISN 2^32-30: out-of-order segments on both sides of the wrap reassembled")
def wrap_ooo(ctx):
    c = ctx.conn(isn=MOD - 30)
    c.open()
    base = c.snd_nxt
    data = pattern(120, 9)
    c.send_data(data[60:120], seq=seq_add(base, 60), advance=False)
    c.send_data(data[0:60], seq=base, advance=False)
    c.snd_nxt = seq_add(base, 120)
    got, _ = c.recv_stream(120)
    require(got == data, "echo %d octets intact=%s" % (len(got), got == data[:len(got)]))


# ------------------------------------------------------------------------------ reordering and overlap

@check("ooo-dupack", ["RFC5681", "MAY-13"], "an out-of-order segment is ACKed at once with ACK = RCV.NXT (duplicate ACK)")
def ooo_dupack(ctx):
    c = established(ctx)
    base = c.snd_nxt
    c.send_data(pattern(100), seq=seq_add(base, 100), advance=False)
    s = c.expect(lambda s: s.flags & ACK, 0.5, "duplicate ACK")
    require(s.ack == base, "ACK %d, expected %d" % (s.ack, base))


@check("ooo-reassembly", ["SHLD-31"], "segments held beyond RCV.NXT: [100,200) then [0,100) echoes [0,200)")
def ooo_reassembly(ctx):
    c = established(ctx)
    base = c.snd_nxt
    data = pattern(200, 3)
    c.send_data(data[100:], seq=seq_add(base, 100), advance=False)
    time.sleep(0.1)
    c.send_data(data[:100], seq=base, advance=False)
    c.snd_nxt = seq_add(base, 200)
    got, _ = c.recv_stream(200)
    require(got == data, "echo %d octets intact=%s" % (len(got), got == data[:len(got)]))


@check("ooo-reverse", ["SHLD-31"], "five segments sent in reverse order are reassembled")
def ooo_reverse(ctx):
    c = established(ctx)
    base = c.snd_nxt
    data = pattern(500, 4)
    for i in reversed(range(5)):
        c.send_data(data[i * 100:(i + 1) * 100], seq=seq_add(base, i * 100), advance=False)
    c.snd_nxt = seq_add(base, 500)
    got, _ = c.recv_stream(500)
    require(got == data, "echo %d octets intact=%s" % (len(got), got == data[:len(got)]))


@check("overlap-new", ["3.10.7.4"], "[0,100) then [50,200): the overlap is trimmed, [0,200) echoed once")
def overlap_new(ctx):
    c = established(ctx)
    base = c.snd_nxt
    data = pattern(200, 6)
    c.send_data(data[:100], advance=False, seq=base)
    c.send_data(data[50:], seq=seq_add(base, 50), advance=False)
    c.snd_nxt = seq_add(base, 200)
    got, _ = c.recv_stream(200)
    extra, _ = c.recv_stream(1, timeout=0.3)
    require(got == data and not extra, "echo %d+%d octets intact=%s" % (len(got), len(extra), got == data))


@check("overlap-ooo", ["SHLD-31", "3.10.7.4"], "overlapping out-of-order segments [150,250) [100,200) then [0,120)")
def overlap_ooo(ctx):
    c = established(ctx)
    base = c.snd_nxt
    data = pattern(250, 8)
    c.send_data(data[150:250], seq=seq_add(base, 150), advance=False)
    c.send_data(data[100:200], seq=seq_add(base, 100), advance=False)
    c.send_data(data[0:120], seq=base, advance=False)
    c.snd_nxt = seq_add(base, 250)
    got, _ = c.recv_stream(250)
    extra, _ = c.recv_stream(1, timeout=0.3)
    require(got == data and not extra, "echo %d+%d octets intact=%s" % (len(got), len(extra), got == data))


@check("overlap-contained", ["3.10.7.4"], "a segment inside already-received data is ACKed and not delivered again")
def overlap_contained(ctx):
    c = established(ctx)
    base = c.snd_nxt
    data = pattern(200, 2)
    c.send_data(data)
    got, _ = c.recv_stream(200)
    c.send_data(data[50:100], seq=seq_add(base, 50), advance=False)
    expect_challenge(c, "contained duplicate")
    extra, _ = c.recv_stream(1, timeout=0.3)
    require(got == data and not extra, "echo %d+%d octets" % (len(got), len(extra)))


@check("fin-out-of-order", ["3.10.7.4", "SHLD-31"], "FIN beyond a hole is not processed until the hole is filled")
def fin_ooo(ctx):
    c = established(ctx)
    base = c.snd_nxt
    data = pattern(200, 1)
    c.send(FIN | ACK | PSH, seq=seq_add(base, 100), payload=data[100:], advance=False)
    s = c.expect(lambda s: s.flags & ACK, 0.8, "duplicate ACK")
    require(s.ack == base, "ACK %d before the hole is filled, expected %d" % (s.ack, base))
    c.send_data(data[:100], seq=base, advance=False)
    c.snd_nxt = seq_add(base, 201)
    got, _ = c.recv_stream(200)
    require(got == data, "echo %d octets" % len(got))
    s = c.expect(lambda s: s.ack == c.snd_nxt, 1.5, "ACK of the FIN")
    c.send(ACK)


# ------------------------------------------------------------------------------ the tester's window: probes and shrinking

def is_probe(c, una):
    """A zero-window probe: an ACK-eliciting segment, either 1 octet at SND.UNA (RFC 9293) or
    an empty segment at SND.UNA-1 (Linux). A pure ACK at SND.UNA is not one."""
    return lambda s: (s.seq == seq_add(una, -1) and not s.payload) or (s.seq == una and len(s.payload) == 1)


@check("zero-window-probe", ["MUST-35", "MUST-36", "SHLD-29"], "peer window 0 with data to send: the target probes; data flows when the window opens")
def zwp(ctx):
    c = established(ctx)
    c.window = 0
    c.send(ACK)
    data = pattern(300, 11)
    c.send_data(data)
    una = c.rcv_nxt
    p = c.expect(is_probe(c, una), 4.0, "zero-window probe")
    c.send(ACK)
    c.window = 65535
    c.send(ACK)
    got, _ = c.recv_stream(300)
    require(got == data, "echo after window opened: %d octets" % len(got))


@check("zero-window-backoff", ["SHLD-30", "MUST-37"], "zero-window probes answered with window 0 for 5.5 s: at least 2, intervals grow, connection kept")
def zwp_backoff(ctx):
    c = established(ctx)
    c.window = 0
    c.send(ACK)
    data = pattern(100, 12)
    c.send_data(data)
    una = c.rcv_nxt
    times = []
    t0 = time.monotonic()
    deadline = t0 + 5.5
    while time.monotonic() < deadline:
        p = c.wait(lambda s: True, deadline - time.monotonic())
        if p is None:
            break
        require(not p.flags & RST, "reset while probing")
        if is_probe(c, una)(p):
            times.append(p.t)
            c.send(ACK)
    gaps = [b - a for a, b in zip(times, times[1:])]
    require(len(times) >= 2, "only %d probe(s) in 5.5 s (at %s s)" % (len(times), ["%.2f" % (t - t0) for t in times]))
    if len(gaps) >= 2:
        require(gaps[-1] >= gaps[0] * 1.5, "probe intervals do not grow: %s" % ["%.2f" % g for g in gaps])
    c.window = 65535
    c.send(ACK)
    got, _ = c.recv_stream(100)
    require(got == data, "echo after probing: %d octets" % len(got))


def shrink(ctx, new_window):
    c = ctx.conn()
    c.open(window=2000)
    data = pattern(3000, 13)
    c.send_data(data[:1500])
    c.send_data(data[1500:])
    got, segs = c.recv_stream(2000, timeout=2.0, ack=False)
    require(len(got) >= 1000, "only %d octets inside a 2000 window" % len(got))
    highest = max(seq_add(s.seq, len(s.payload)) for s in segs)
    una = seq_add(c.irs, 1)
    # acknowledge 500 octets and move the right edge left
    c.rcv_nxt = seq_add(una, 500)
    c.window = new_window
    c.send(ACK)
    edge = seq_add(c.rcv_nxt, new_window)
    seen = c.t.collect(lambda s: c.mine(s) and s.payload, 1.5, c.cursor)
    new = [s for s in seen if seq_lt(highest, seq_add(s.seq, len(s.payload))) and len(s.payload) > 1]
    require(not new, "new data sent beyond the shrunk window (old right edge %d): %s" % (highest, new[:3]))
    # reopen, acknowledging everything received: the rest must follow intact
    c.window = 65535
    c.rcv_nxt = seq_add(una, len(got))
    c.send(ACK)
    rest, _ = c.recv_stream(3000 - len(got), timeout=3.0)
    require(got + rest == data, "data after the window reopened: %d+%d octets, intact=%s"
            % (len(got), len(rest), got + rest == data[:len(got) + len(rest)]))


@check("window-shrink-zero", ["MUST-34", "SHLD-15"], "peer shrinks its window to 0 below data in flight: no new data, all data delivered after reopening")
def window_shrink_zero(ctx):
    shrink(ctx, 0)


@check("window-shrink", ["MUST-34", "SHLD-15", "SHLD-16"], "peer moves its right edge left (ACK +500, window 500): no new data beyond it, data intact")
def window_shrink(ctx):
    shrink(ctx, 500)


# ------------------------------------------------------------------------------ urgent data

@check("urgent-inline", ["MUST-30", "MUST-62"], "URG segment, pointer after the urgent data: all octets delivered in order")
def urgent(ctx):
    c = established(ctx)
    data = b"urgent!!normal"
    c.send(URG | ACK | PSH, payload=data, urgptr=8)
    got, _ = c.recv_stream(len(data))
    require(got == data, "echo %r" % got)


@check("urgent-long", ["MUST-31", "MUST-30"], "urgent data spanning 3 segments (pointer beyond the segment)")
def urgent_long(ctx):
    c = established(ctx)
    data = pattern(300, 21)
    c.send(URG | ACK, payload=data[:100], urgptr=280)
    c.send(URG | ACK, payload=data[100:200], urgptr=180)
    c.send(URG | ACK | PSH, payload=data[200:], urgptr=80)
    got, _ = c.recv_stream(300)
    require(got == data, "echo %d octets intact=%s" % (len(got), got == data[:len(got)]))


# ------------------------------------------------------------------------------ FIN, passive close

@check("fin-close-wait", ["3.10.7.4"], "FIN in ESTABLISHED is acked; the echo closes (LAST-ACK); after our ACK the TCB is gone")
def fin_close_wait(ctx):
    c = established(ctx)
    require_alive(c)
    c.send(FIN | ACK)
    s = c.expect(lambda s: s.flags & FIN, 2.0, "FIN from the target")
    require(s.ack == c.snd_nxt, "target FIN acks %d, expected %d" % (s.ack, c.snd_nxt))
    c.rcv_nxt = seq_add(s.seq, 1)
    c.send(ACK)
    require_dead(c, "the connection after LAST-ACK")


@check("fin-with-data", ["3.10.7.4"], "data + FIN in one segment: data echoed, FIN acked, target FIN follows")
def fin_with_data(ctx):
    c = established(ctx)
    data = b"last-words"
    c.send(FIN | ACK | PSH, payload=data)
    got, segs = c.recv_stream(len(data), stop_on_fin=False)
    require(got == data, "echo %r" % got)
    s = c.expect(lambda s: s.flags & FIN, 2.0, "FIN from the target") if not any(x.flags & FIN for x in segs) else segs[-1]
    require(s.ack == c.snd_nxt, "FIN not acked: %s" % s)
    c.rcv_nxt = seq_add(s.seq, len(s.payload) + 1)
    c.send(ACK)


def to_last_ack(ctx):
    c = established(ctx)
    c.send(FIN | ACK)
    s = c.expect(lambda s: s.flags & FIN, 2.0, "FIN from the target")
    return c, s


@check("last-ack-retransmit", ["3.10.8", "RFC6298"], "LAST-ACK without our ACK: the target retransmits its FIN")
def last_ack_rtx(ctx):
    c, f = to_last_ack(ctx)
    s = c.expect(lambda s: s.flags & FIN, 3.5, "retransmitted FIN")
    require(s.seq == f.seq, "retransmitted FIN seq %d, expected %d" % (s.seq, f.seq))
    c.rcv_nxt = seq_add(f.seq, 1)
    c.send(ACK)


@check("last-ack-dup-fin", ["3.10.7.4"], "our FIN retransmitted in LAST-ACK is re-acknowledged")
def last_ack_dupfin(ctx):
    c, f = to_last_ack(ctx)
    c.rcv_nxt = f.seq  # we have not seen their FIN yet
    c.send(FIN | ACK, seq=seq_add(c.snd_nxt, -1), advance=False)
    s = c.expect(lambda s: s.flags & ACK and not s.flags & RST, REPLY, "ACK of the duplicate FIN")
    require(s.ack == c.snd_nxt, "ack %d expected %d" % (s.ack, c.snd_nxt))
    c.rcv_nxt = seq_add(f.seq, 1)
    c.send(ACK)


@check("last-ack-rst", ["3.10.7.4", "RFC5961-3"], "exact RST in LAST-ACK closes the connection silently")
def last_ack_rst(ctx):
    c, f = to_last_ack(ctx)
    c.rcv_nxt = seq_add(f.seq, 1)
    c.send(RST, advance=False)
    c.none(lambda s: not s.flags & FIN, 0.3, "reply to an exact RST")
    c.none(lambda s: s.flags & FIN, 1.2, "FIN retransmission after the RST")
    c.send(ACK | PSH, payload=b"x")  # no TCB any more: <SEQ=SEG.ACK><RST>
    s = c.expect(lambda s: True, REPLY, "RST (connection closed by the RST)")
    require(s.flags & RST, "the connection survived the RST: %s" % s)
    c.rcv_nxt = None


@check("data-after-fin", ["3.10.7.4", "SHLD-3"], "data after our FIN (target in LAST-ACK) is not delivered: ignored, or RST",
       linux_differs="Linux answers with RST (its socket is closed: SHLD-3); RFC 9293 ignores the text; both pass")
def data_after_fin(ctx):
    c, f = to_last_ack(ctx)
    c.rcv_nxt = f.seq  # their FIN is not acked: they stay in LAST-ACK
    c.send(ACK | PSH, payload=b"too-late")
    s = c.wait(lambda s: not (s.flags & FIN and s.seq == f.seq), REPLY)
    if s is not None:
        require(not s.payload, "data in reply %s" % s)
        require(s.flags & RST or seq_lt(s.ack, c.snd_nxt), "the late data was acked: %s" % s)
    c.rcv_nxt = seq_add(f.seq, 1)


# ------------------------------------------------------------------------------ ICMP, checksums, idle

def icmp_quote(c, seg, typ, code, **kw):
    ip = IP(src=c.t.target_ip, dst=c.t.ip, proto=6, flags="DF") / Raw(seg.raw[:8])
    c.t.send_ip(IP(src=c.t.ip, dst=c.t.target_ip) / ICMP(type=typ, code=code, **kw) / bytes(ip)[:28])


def in_flight(c, n=2920):
    """Makes the target send n octets that stay unacknowledged; returns its data segments."""
    c.send_data(pattern(n, 30))
    got, segs = c.recv_stream(n, timeout=2.0, ack=False)
    require(segs, "no data from the target")
    c.in_flight_left = n - len(got)
    return segs


@check("icmp-soft-error", ["MUST-56", "MUST-54"], "ICMP host unreachable (soft) for data in flight does not abort")
def icmp_soft(ctx):
    c = established(ctx)
    segs = in_flight(c, 500)
    icmp_quote(c, segs[0], 3, 1)
    time.sleep(0.2)
    c.send(ACK)
    require_alive(c)


@check("icmp-source-quench", ["MUST-55"], "ICMP source quench is ignored")
def icmp_quench(ctx):
    c = established(ctx)
    segs = in_flight(c, 500)
    icmp_quote(c, segs[0], 4, 0)
    time.sleep(0.2)
    c.send(ACK)
    require_alive(c)


@check("icmp-frag-needed", ["MUST-54", "RFC1191"], "ICMP fragmentation needed (MTU 576) quoting data in flight: retransmission fits")
def icmp_frag(ctx):
    c = established(ctx)
    segs = in_flight(c)
    require(max(len(s.payload) for s in segs) > 536, "segments already small: %s" % [len(s.payload) for s in segs])
    c.drain()
    ctx.cleanups.append(ctx.target.forget_pmtu)
    icmp_quote(c, segs[0], 3, 4, nexthopmtu=576)
    s = c.expect(lambda s: len(s.payload) > 0, 4.0, "retransmission")
    require(len(s.payload) <= 536, "retransmitted %d octets after PMTU 576" % len(s.payload))


@check("icmp-frag-needed-bogus", ["RFC1191", "MUST-54"], "ICMP fragmentation needed quoting a sequence number not in flight is ignored (RFC 5927)")
def icmp_frag_bogus(ctx):
    c = established(ctx)
    segs = in_flight(c)
    fake = segs[0]
    raw = bytearray(fake.raw)
    raw[4:8] = struct.pack("!I", seq_add(fake.seq, 1 << 30))
    fake.raw = bytes(raw)
    ctx.cleanups.append(ctx.target.forget_pmtu)
    icmp_quote(c, fake, 3, 4, nexthopmtu=576)
    time.sleep(0.3)
    c.send(ACK)
    if c.in_flight_left:
        c.recv_stream(c.in_flight_left)
    c.send_data(pattern(2000, 31))
    got, segs = c.recv_stream(2000)
    require(len(got) == 2000 and max(len(s.payload) for s in segs) > 536,
            "segment sizes %s after a bogus ICMP" % [len(s.payload) for s in segs])


@check("data-bad-checksum", ["MUST-3"], "data with a bad checksum is dropped (not acked), the good retransmission echoed")
def data_badsum(ctx):
    c = established(ctx)
    data = b"checksum-matters"
    c.send_data(data, bad_checksum=True, advance=False)
    c.none(lambda s: True, SHORT, "reply to a bad checksum")
    c.send_data(data)
    got, _ = c.recv_stream(len(data))
    require(got == data, "echo %r" % got)


@check("keepalive-off", ["MUST-25"], "an idle connection sends nothing for 2.5 s (keep-alive off by default)")
def keepalive_off(ctx):
    c = established(ctx)
    require_alive(c)
    c.none(lambda s: True, 2.5, "segment on an idle connection")


# ------------------------------------------------------------------------------ the target's receive window closed

def fill_receive_window(c, limit=3 << 20):
    """With our window at 0 the echo cannot send, so it stops reading and the target's receive
    window closes. Sends data until an ACK advertises window 0 and acknowledges everything."""
    c.window = 0
    sent = 0
    last = None
    while sent < limit:
        for _ in range(32):
            c.send_data(pattern(1400, sent & 0xFF), chunk=1400)
            sent += 1400
        time.sleep(0.05)
        acks = [s for s in c.recent(40) if s.flags & ACK and not s.flags & RST]
        if acks:
            last = acks[-1]
            if last.window == 0:
                # a zero window can be transient (Linux collapses its queue and reopens): it counts
                # once a 1-octet segment 0.3 s later is refused with window 0
                time.sleep(0.3)
                c.snd_nxt = [s for s in c.recent(40) if s.flags & ACK][-1].ack
                c.drain()
                c.send_data(b"?", advance=False)
                s = c.wait(lambda s: s.flags & ACK, 1.0)
                if s is not None and s.window == 0 and s.ack == c.snd_nxt:
                    c.drain()
                    return s
                if s is not None:
                    c.snd_nxt = s.ack
    raise CheckSkipped("the target's receive window did not close after %d KiB (last ACK %s)" % (sent >> 10, last))


@check("zero-rcv-window-data", ["3.10.7.4", "MUST-66"], "target's receive window 0: new data is unacceptable, answered by an ACK with window 0")
def zero_rcv_window_data(ctx):
    c = established(ctx)
    fill_receive_window(c)
    c.send_data(b"no-room", advance=False)
    s = c.expect(lambda s: s.flags & ACK and not s.flags & RST, REPLY, "ACK")
    require(s.ack == c.snd_nxt and s.window == 0, "got %s, expected ACK %d with window 0" % (s, c.snd_nxt))


@check("zero-rcv-window-rst", ["MUST-66", "RFC5961-3"], "target's receive window 0: an exact RST is still processed")
def zero_rcv_window_rst(ctx):
    c = established(ctx)
    fill_receive_window(c)
    c.send(RST | ACK, advance=False)
    time.sleep(0.3)
    c.drain()
    c.send(ACK, payload=b"", advance=False)
    s = c.expect(lambda s: True, REPLY, "RST for a segment on the reset connection")
    require(s.flags & RST, "got %s: the RST was not processed with a zero window" % s)
    c.rcv_nxt = None


@check("zero-rcv-window-rst-in-window", ["MUST-66", "RFC5961-3"], "target's receive window 0: a RST above RCV.NXT (outside the zero window) does not reset")
def zero_rcv_window_rst_chal(ctx):
    c = established(ctx)
    fill_receive_window(c)
    c.send(RST, seq=seq_add(c.snd_nxt, 1), advance=False)
    s = c.wait(lambda s: True, REPLY)
    require(s is None or not s.flags & RST, "got %s" % s)
    c.drain()
    c.send_data(b"still-there?", advance=False)  # unacceptable in a zero window: an ACK if the TCB lives
    s = c.expect(lambda s: s.flags & (ACK | RST), REPLY, "ACK (the connection is still there)")
    require(not s.flags & RST and s.ack == c.snd_nxt, "the connection was reset: %s" % s)
