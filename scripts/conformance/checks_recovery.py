"""Checks of the loss-recovery options against the target's listener (`echo`): RFC 7323
timestamps (negotiation, on every segment, PAWS), RFC 2018 / RFC 2883 selective
acknowledgments (SACK-permitted, SACK blocks for out-of-order data, D-SACK for a duplicate) and
the RFC 8985 tail loss probe (its timing against the RTO).

Once timestamps are negotiated every segment the tester sends carries them, since RFC 7323
§3.2 lets the target drop segments without them (Sluice does; Linux accepts them).
"""
import struct
import time

from framework import ACK, NOP, PSH, SYN, check, opt_mss, pattern, require, seq_add, seq_le

REPLY = 1.5
TS0 = 1000


def opt_ts(tsval, tsecr):
    return NOP + NOP + struct.pack("!BBII", 8, 10, tsval, tsecr)


def opt_sack_permitted():
    return NOP + NOP + bytes([4, 2])


def ts_of(s):
    """(TSval, TSecr) of a segment, or None."""
    for k, v in s.options():
        if k == 8 and v is not None and len(v) == 8:
            return struct.unpack("!II", v)
    return None


def sack_of(s):
    """The SACK blocks of a segment as [(left, right), ...]."""
    for k, v in s.options():
        if k == 5 and v is not None and len(v) % 8 == 0:
            return [struct.unpack("!II", v[i:i + 8]) for i in range(0, len(v), 8)]
    return []


def has_option(s, kind):
    return any(k == kind for k, _ in s.options())


def ts_open(ctx, extra=b""):
    """Tester's SYN with MSS and timestamps (TSval TS0), the ACK with TSval TS0 + 1."""
    c = ctx.conn()
    c.syn(options=opt_mss(1460) + extra + opt_ts(TS0, 0))
    sa = c.expect(lambda s: s.has(SYN | ACK), 2.0, "SYN-ACK")
    c.on_synack(sa)
    ts = ts_of(sa)
    c.send(ACK, options=opt_ts(TS0 + 1, ts[0] if ts else 0))
    return c, sa


@check("ts-synack-echo", ["RFC7323-3.2"], "a SYN with timestamps gets a SYN-ACK with timestamps echoing its TSval")
def ts_synack_echo(ctx):
    _, sa = ts_open(ctx)
    ts = ts_of(sa)
    require(ts is not None, "SYN-ACK without timestamps: %s" % (sa.options(),))
    require(ts[1] == TS0, "SYN-ACK TSecr %d, expected the SYN's TSval %d" % (ts[1], TS0))


@check("ts-not-offered", ["RFC7323-3.2"], "a SYN without timestamps gets none, on the SYN-ACK or later")
def ts_not_offered(ctx):
    c = ctx.conn()
    sa = c.open()
    require(ts_of(sa) is None, "SYN-ACK carries timestamps the SYN did not offer")
    c.send_data(b"no-timestamps")
    got, segs = c.recv_stream(len(b"no-timestamps"))
    require(got == b"no-timestamps", "echo %r" % got)
    require(all(ts_of(s) is None for s in segs), "data segment with timestamps that were never negotiated")


@check("ts-every-segment", ["RFC7323-3.2", "RFC7323-4.3"],
       "once negotiated, the target's segments carry timestamps and echo TS.Recent")
def ts_every_segment(ctx):
    c, _ = ts_open(ctx)
    data = b"timestamped-data"
    c.send(PSH | ACK, payload=data, options=opt_ts(TS0 + 5, 0))
    s = c.expect(lambda s: s.flags & ACK, REPLY, "the echo or its ACK")
    ts = ts_of(s)
    require(ts is not None, "segment without timestamps after negotiating them: %s" % s)
    require(ts[1] == TS0 + 5, "TSecr %d, expected TS.Recent = %d (the data's TSval)" % (ts[1], TS0 + 5))


@check("ts-paws", ["RFC7323-5.3"], "PAWS: data with a TSval older than TS.Recent is not accepted and gets an ACK")
def ts_paws(ctx):
    c, _ = ts_open(ctx)
    c.send(PSH | ACK, payload=b"old-duplicate", options=opt_ts(TS0 - 100, 0), advance=False)
    s = c.expect(lambda s: s.flags & ACK, REPLY, "an ACK for the old segment (R1)")
    require(s.ack == c.snd_nxt and not s.payload,
            "PAWS should drop the segment and ACK %d; got %s" % (c.snd_nxt, s))
    c.send(PSH | ACK, payload=b"fresh", options=opt_ts(TS0 + 2, 0))
    e = c.expect(lambda s: len(s.payload) > 0, REPLY, "the echo of the fresh segment")
    require(e.payload.startswith(b"fresh"), "echo %r: the old segment was accepted" % e.payload)


@check("sack-permitted", ["RFC2018-2"], "a SYN with SACK-permitted gets a SYN-ACK with SACK-permitted")
def sack_permitted(ctx):
    c = ctx.conn()
    sa = c.open(options=opt_mss(1460) + opt_sack_permitted())
    require(has_option(sa, 4), "SYN-ACK without SACK-permitted: %s" % (sa.options(),))
    c2 = ctx.conn()
    sa2 = c2.open()
    require(not has_option(sa2, 4), "SACK-permitted in reply to a SYN without it")


@check("sack-blocks", ["RFC2018-4"], "out-of-order data is reported in a SACK block of the next ACK")
def sack_blocks(ctx):
    c = ctx.conn()
    c.open(options=opt_mss(1460) + opt_sack_permitted())
    left = seq_add(c.snd_nxt, 100)
    c.send(PSH | ACK, seq=left, payload=b"x" * 50, advance=False)
    s = c.expect(lambda s: s.flags & ACK and sack_of(s), REPLY, "an ACK with a SACK block")
    require(s.ack == c.snd_nxt, "cumulative ACK %d, expected %d" % (s.ack, c.snd_nxt))
    require(sack_of(s)[0] == (left, seq_add(left, 50)),
            "first SACK block %s, expected (%d, %d)" % (sack_of(s)[0], left, seq_add(left, 50)))


@check("dsack", ["RFC2883-4"], "a duplicate segment is reported as a D-SACK: the first block, below the ACK")
def dsack(ctx):
    c = ctx.conn()
    c.open(options=opt_mss(1460) + opt_sack_permitted())
    start = c.snd_nxt
    c.send_data(b"d" * 40)
    c.recv_stream(40)
    c.drain()
    c.send(PSH | ACK, seq=start, payload=b"d" * 40, advance=False)  # again
    s = c.expect(lambda s: s.flags & ACK and sack_of(s), REPLY, "an ACK with a D-SACK block")
    require(sack_of(s)[0] == (start, seq_add(start, 40)),
            "first block %s, expected the duplicate (%d, %d)" % (sack_of(s)[0], start, seq_add(start, 40)))


TLP_ACK_DELAY = 0.05  # the tester holds every ACK this long: the target's SRTT becomes about 50 ms


def _echo_unacked(c, data):
    """Sends data, collects its echo without ACKing it; returns the echo's data segments."""
    c.send_data(data, chunk=1460)
    got, segs = c.recv_stream(len(data), ack=False)
    require(got == data, "echo of %d bytes: got %d" % (len(data), len(got)))
    return segs


def _hold_until(t):
    delay = t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


@check("tlp-probe-timing", ["RFC8985-7.2", "RFC8985-7.3"],
       "a response left unacknowledged draws a loss probe of its last segment after about 2*SRTT, before the RTO")
def tlp_probe_timing(ctx):
    c = ctx.conn()
    c.open(options=opt_mss(1460) + opt_sack_permitted())
    d = TLP_ACK_DELAY
    # round trips of about d: the target's SRTT follows the ACK delays the tester really achieved (a loaded
    # machine makes them longer), estimated here with RFC 6298's EWMA from the handshake's ~0 (low) or from the
    # first sample (high); RTO >= 200 ms on both targets
    srtt_lo = srtt_hi = None
    for i in range(16):
        segs = _echo_unacked(c, pattern(1000, i))
        _hold_until(segs[-1].t + d)
        c.send(ACK)
        r = time.monotonic() - segs[-1].t
        srtt_lo = r / 8 if srtt_lo is None else srtt_lo + (r - srtt_lo) / 8
        srtt_hi = r if srtt_hi is None else srtt_hi + (r - srtt_hi) / 8
    # 4 full segments: no small tail that Nagle holds back until the PTO sends it as new data (RFC 8985 7.3)
    segs = sorted(_echo_unacked(c, pattern(4 * 1460, 7)), key=lambda s: seq_add(s.seq, len(s.payload)) - c.irs)
    require(len(segs) >= 3, "a 5840-byte echo in %d segments: need 3 or more" % len(segs))
    last = segs[-1]
    tail_end = seq_add(last.seq, len(last.payload))
    # nothing of it is acknowledged: the PTO runs from the last transmission, several segments in flight (no
    # WCDelAckT)
    t_sent = max(s.t for s in segs)
    probe = c.expect(lambda s: len(s.payload) > 0 and s.t > t_sent and seq_le(segs[0].seq, s.seq), 1.5,
                     "a loss probe")
    waited = probe.t - t_sent
    c.send(ACK)
    require(seq_le(tail_end, seq_add(probe.seq, len(probe.payload) + 1460)) and
            seq_le(seq_add(probe.seq, len(probe.payload)), tail_end),
            "the probe %s, %.0f ms after the last segment, is not (part of) the last segment, which ends at %d; "
            "the echo: %s" % (probe, waited * 1000, tail_end, segs))
    require(2 * srtt_lo - 0.010 <= waited <= 2 * srtt_hi + 0.045,
            "probe %.0f ms after the last segment; expected about 2 * SRTT = %.0f..%.0f ms (PTO, RFC 8985 7.2)"
            % (waited * 1000, 2 * srtt_lo * 1000, 2 * srtt_hi * 1000))
    require(waited < 0.2, "probe %.0f ms after the last segment: not before the 200 ms minimum RTO" % (waited * 1000))
