"""Checks where the target opens the connection (`source --connect TESTER:PORT --bytes N`):
SYN-SENT validation, simultaneous open, MSS on the active side, and FIN in the active
closer's states (FIN-WAIT-1, FIN-WAIT-2, CLOSING, TIME-WAIT).

The target sends N octets, closes its sending side (FIN) and reads until our FIN.
"""
import time

from framework import (ACK, FIN, PSH, RST, SYN, MOD, Conn, check, CheckFailed, CheckSkipped, flags_str, opt_mss,
                       pattern, require, seq_add)

REPLY = 1.5
NBYTES = 1000


def target_connects(ctx, nbytes=NBYTES):
    """Starts the target's active open towards a fresh tester port; returns (conn, SYN)."""
    h = ctx.target.start_active(ctx.tester, nbytes, ctx.prefetch_next)
    ctx.active = h
    ctx.tester = h.tester
    port = h.port
    syn, i = ctx.tester.wait(lambda s: s.dport == port and s.flags & SYN and not s.flags & ACK,
                             ctx.target.start_timeout, h.mark)
    require(syn is not None, "no SYN from the target towards port %d" % port)
    c = Conn(ctx, dport=syn.sport, sport=port)
    c.cursor = i + 1
    c.irs = syn.seq
    c.rcv_nxt = seq_add(syn.seq, 1)
    return c, syn


def accept(c, mss=1460, options=None, payload=b""):
    """Answers the target's SYN with SYN,ACK; expects its ACK (which may carry data)."""
    opts = opt_mss(mss) if options is None else options
    c.send(SYN | ACK, options=opts, payload=payload)
    if payload:
        c.snd_nxt = seq_add(c.iss, 1 + len(payload))
    s = c.expect(lambda s: s.flags & ACK and not s.flags & SYN, REPLY, "ACK of our SYN,ACK")
    require(not s.flags & RST, "target reset the connection: %s" % s)
    c.cursor -= 1  # the ACK may carry the first data: let recv_stream see it
    return s


def established(ctx, nbytes=NBYTES, **kw):
    c, syn = target_connects(ctx, nbytes)
    accept(c, **kw)
    return c, syn


def data_and_fin(c, nbytes=NBYTES):
    """Receives the target's data (ACKing the data only) and its FIN; returns the FIN's sequence number."""
    got, _ = c.recv_stream(nbytes, timeout=3.0)
    require(len(got) == nbytes, "received %d of %d octets" % (len(got), nbytes))
    if c.fin_seq is None:
        f = c.expect(lambda s: s.flags & FIN, 2.0, "FIN after the data")
        require(f.seq == c.rcv_nxt, "FIN at %d, expected %d" % (f.seq, c.rcv_nxt))
        c.fin_seq = f.seq
    return c.fin_seq


def to_time_wait(c):
    """Drives the target from FIN-WAIT-1 through FIN-WAIT-2 into TIME-WAIT; returns the seq of our FIN."""
    fin = data_and_fin(c)
    c.rcv_nxt = seq_add(fin, 1)
    c.send(ACK)
    time.sleep(0.1)
    our_fin = c.snd_nxt
    c.send(FIN | ACK)
    s = c.expect(lambda s: s.flags & ACK, REPLY, "ACK of our FIN")
    require(s.ack == c.snd_nxt and not s.flags & (RST | FIN), "got %s, expected ACK %d" % (s, c.snd_nxt))
    return our_fin


def still_syn_sent(c, syn):
    """The target is still in SYN-SENT: a proper SYN,ACK now completes the handshake and data flows."""
    time.sleep(0.1)
    c.drain()
    s = accept(c)
    require(s.ack == c.snd_nxt and s.seq == seq_add(syn.seq, 1), "handshake after the bogus segment: %s" % s)
    got, _ = c.recv_stream(NBYTES)
    require(len(got) == NBYTES, "received %d of %d" % (len(got), NBYTES))


def skip_earlier_segments(c):
    """Moves the cursor past every segment captured so far (call right before sending): they were sent
    before our segment, so none answers it. A target that started before its check (Sluice's are started
    ahead, targets.py) may have retransmitted its SYN (MUST-22, RTO 1 s) several times by then."""
    c.drain()
    return time.monotonic()


def crossed(s, syn, sent_t):
    """A retransmission of the target's SYN captured within 50 ms of our segment was sent before the target
    processed ours (it crossed ours on the link): not a reply to it."""
    return s.flags & (SYN | ACK | RST | FIN) == SYN and s.seq == syn.seq and s.t - sent_t < 0.05


def exited_on_reset(ctx):
    """On a target whose TCBs die with the process (sluice source), a reset connection ends
    the process: then its report must name the reset. Returns True when that was checked."""
    if not ctx.target.tcbs_die_with_process or ctx.active is None:
        return False
    deadline = time.monotonic() + 3
    while ctx.active.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if ctx.active.alive():
        return False
    out = ctx.active.output()
    require("RESET" in out.upper() or "REFUSED" in out.upper(), "the target exited without reporting the reset: %s"
            % out[-300:])
    return True


def tw_send(ctx, c, what, **kw):
    try:
        c.send(**kw)
    except CheckFailed:
        require_running(ctx, what, force=ctx.target.tcbs_die_with_process)
        raise


def require_running(ctx, what, force=False):
    if ctx.target.tcbs_die_with_process and ctx.active is not None and (force or not ctx.active.alive()):
        raise CheckSkipped("the target process exited after the close, so %s cannot be observed (%s)"
                           % (what, ctx.active.output().strip().splitlines()[-3:]))


# ------------------------------------------------------------------------------ SYN-SENT

@check("synsent-syn", ["MUST-14", "SHLD-5", "MUST-67", "MUST-2"], "active OPEN sends a SYN (no ACK, no data) with an MSS <= 1460 and a valid checksum", mode="active")
def synsent_syn(ctx):
    c, syn = target_connects(ctx)
    require(syn.flags & (SYN | ACK | RST | FIN) == SYN, "flags %s" % flags_str(syn.flags))
    require(not syn.payload, "data on the SYN")
    require(syn.mss() is not None and syn.mss() <= 1460, "MSS option %s" % syn.mss())
    require(syn.checksum_ok, "bad checksum")


@check("synsent-retransmit", ["MUST-22", "RFC6298"], "unanswered SYN is retransmitted with the same ISS after about 1 s", mode="active")
def synsent_rtx(ctx):
    c, syn = target_connects(ctx)
    s = c.expect(lambda s: s.flags & SYN, 3.5, "retransmitted SYN")
    gap = s.t - syn.t
    require(s.seq == syn.seq, "retransmitted SYN with ISS %d, first was %d" % (s.seq, syn.seq))
    require(0.5 <= gap <= 3.5, "retransmitted after %.2f s (RFC 6298: initial RTO 1 s)" % gap)


@check("synsent-bad-ack", ["3.10.7.3"], "SYN,ACK acking beyond SND.NXT: <SEQ=SEG.ACK><RST>, the target stays in SYN-SENT", mode="active")
def synsent_bad_ack(ctx):
    c, syn = target_connects(ctx)
    bad = seq_add(syn.seq, 1000)
    c.send(SYN | ACK, ack=bad, options=opt_mss(1460), advance=False)
    # a retransmission of the target's SYN (MUST-22) may cross the reply on a loaded machine: not the answer
    s = c.expect(lambda s: not (s.flags & SYN and s.seq == syn.seq), REPLY, "RST")
    require(s.flags & (RST | ACK) == RST and s.seq == bad, "got %s, expected R seq=%d" % (s, bad))
    still_syn_sent(c, syn)


@check("synsent-ack-iss", ["3.10.7.3"], "ACK with SEG.ACK = ISS in SYN-SENT: <SEQ=SEG.ACK><RST>", mode="active")
def synsent_ack_iss(ctx):
    c, syn = target_connects(ctx)
    c.send(ACK, ack=syn.seq, advance=False)
    s = c.expect(lambda s: not (s.flags & SYN and s.seq == syn.seq), REPLY, "RST")
    require(s.flags & (RST | ACK) == RST and s.seq == syn.seq, "got %s, expected R seq=%d" % (s, syn.seq))


@check("synsent-rst-bad-ack", ["3.10.7.3", "RFC5961-3"], "RST with an unacceptable ACK in SYN-SENT is ignored", mode="active")
def synsent_rst_bad(ctx):
    c, syn = target_connects(ctx)
    c.send(RST | ACK, ack=seq_add(syn.seq, 5), advance=False)
    c.none(lambda s: not (s.flags & SYN and s.seq == syn.seq), 0.4, "reply to the RST")
    still_syn_sent(c, syn)


@check("synsent-rst-no-ack", ["3.10.7.3"], "RST without ACK in SYN-SENT is ignored", mode="active")
def synsent_rst_noack(ctx):
    c, syn = target_connects(ctx)
    c.send(RST, ack=0, advance=False)
    c.none(lambda s: not (s.flags & SYN and s.seq == syn.seq), 0.4, "reply to the RST")
    still_syn_sent(c, syn)


@check("synsent-rst-refused", ["3.10.7.3"], "RST,ACK acking the SYN: connection refused, no more SYNs", mode="active")
def synsent_refused(ctx):
    c, syn = target_connects(ctx)
    sent_t = skip_earlier_segments(c)
    c.send(RST | ACK, ack=seq_add(syn.seq, 1), advance=False)
    c.none(lambda s: not crossed(s, syn, sent_t), 1.2, "segment after the refusal")
    if exited_on_reset(ctx):
        c.rcv_nxt = None
        return
    # a SYN,ACK now finds no TCB (CLOSED answers <SEQ=SEG.ACK><RST>); in SYN-SENT it would be acked
    c.send(SYN | ACK, options=opt_mss(1460))
    s = c.wait(lambda s: True, REPLY)
    require(s is None or s.flags & RST, "the refused connection is still open: %s" % s)
    c.rcv_nxt = None


@check("synsent-mss", ["MUST-14", "MUST-16", "3.10.7.3"], "SYN,ACK with MSS 200: the target sends segments of <= 200 octets", mode="active")
def synsent_mss(ctx):
    c, syn = established(ctx, mss=200)
    got, segs = c.recv_stream(NBYTES)
    require(len(got) == NBYTES, "received %d of %d" % (len(got), NBYTES))
    require(max(len(s.payload) for s in segs) <= 200, "sizes %s" % [len(s.payload) for s in segs])


@check("synsent-no-mss", ["MUST-15"], "SYN,ACK without options: the target sends segments of <= 536 octets", mode="active")
def synsent_no_mss(ctx):
    c, syn = established(ctx, options=b"")
    got, segs = c.recv_stream(NBYTES)
    require(len(got) == NBYTES, "received %d of %d" % (len(got), NBYTES))
    require(max(len(s.payload) for s in segs) <= 536, "sizes %s" % [len(s.payload) for s in segs])


@check("synsent-synack-data", ["3.10.7.3"], "data on the SYN,ACK is accepted: the target's ACK covers it", mode="active",
       linux_differs="Linux (no TFO) acknowledges only the SYN and drops the data; RFC 9293 3.10.7.3 processes the text")
def synsent_synack_data(ctx):
    c, syn = target_connects(ctx)
    s = accept(c, payload=b"0123456789")
    if s.ack != seq_add(c.iss, 11):
        s = c.wait(lambda s: s.ack == seq_add(c.iss, 11), 1.0)
        require(s is not None, "no ACK covering the SYN,ACK's 10 octets (%s)" % c.recent())


@check("simultaneous-open", ["MUST-10", "3.10.7.3"], "SYN crossing the target's SYN: SYN,ACK with the same ISS; our ACK establishes; data flows", mode="active")
def simultaneous_open(ctx):
    c, syn = target_connects(ctx)
    sent_t = skip_earlier_segments(c)
    c.send(SYN, ack=0, options=opt_mss(1460))
    s = c.expect(lambda s: s.flags & SYN and not crossed(s, syn, sent_t), REPLY, "SYN,ACK")
    require(s.flags & ACK and s.seq == syn.seq and s.ack == c.snd_nxt,
            "got %s, expected SA seq=%d ack=%d" % (s, syn.seq, c.snd_nxt))
    c.send(ACK)
    got, _ = c.recv_stream(NBYTES)
    require(len(got) == NBYTES, "received %d of %d after simultaneous open" % (len(got), NBYTES))


@check("simultaneous-open-rst", ["MUST-11", "3.10.7.4"], "RST in SYN-RECEIVED reached from an active OPEN closes the connection (no return to LISTEN)", mode="active")
def simultaneous_rst(ctx):
    c, syn = target_connects(ctx)
    c.send(SYN, ack=0, options=opt_mss(1460))
    c.expect(lambda s: s.flags & SYN and s.flags & ACK, REPLY, "SYN,ACK")
    c.send(RST, advance=False)
    c.none(lambda s: True, 1.2, "segment after the RST (SYN,ACK retransmission or SYN)")
    if exited_on_reset(ctx):
        c.rcv_nxt = None
        return
    # the ACK that would complete the handshake must find no TCB (and no listener)
    c.send(ACK)
    s = c.wait(lambda s: True, REPLY)
    require(s is None or s.flags & RST, "the connection survived the RST: %s" % s)
    c.rcv_nxt = None


# ------------------------------------------------------------------------------ closing states of the active closer

@check("active-transfer", ["3.10.7.4", "SHLD-27"], "the target's data arrives intact, then its FIN", mode="active")
def active_transfer(ctx):
    c, syn = established(ctx)
    data_and_fin(c)
    c.rcv_nxt = seq_add(c.fin_seq, 1)
    c.send(FIN | ACK)
    c.expect(lambda s: s.ack == c.snd_nxt, REPLY, "ACK of our FIN")


@check("fin-wait-1-data", ["3.10.7.4", "MAY-1"], "FIN-WAIT-1: data from us is still accepted and acknowledged", mode="active")
def fw1_data(ctx):
    c, syn = established(ctx)
    data_and_fin(c)
    c.send_data(b"half-open-data")
    s = c.expect(lambda s: s.ack == c.snd_nxt, REPLY, "ACK of our data")
    require(not s.flags & RST, "reset: %s" % s)


@check("fin-wait-1-closing", ["3.10.7.4", "3.10.8"], "FIN-WAIT-1, our FIN not acking theirs: CLOSING (our FIN acked, their FIN retransmitted)", mode="active")
def fw1_closing(ctx):
    c, syn = established(ctx)
    fin = data_and_fin(c)
    c.send(FIN | ACK)  # acks their data, not their FIN
    s = c.expect(lambda s: s.ack == c.snd_nxt, REPLY, "ACK of our FIN")
    require(not s.flags & RST, "reset: %s" % s)
    r = c.expect(lambda s: s.flags & FIN, 4.0, "their FIN retransmitted in CLOSING")
    require(r.seq == fin, "FIN seq %d, expected %d" % (r.seq, fin))
    c.rcv_nxt = seq_add(fin, 1)
    c.send(ACK)


@check("fin-wait-1-finack", ["3.10.7.4"], "FIN-WAIT-1, FIN that acks their FIN: TIME-WAIT, our FIN acked", mode="active")
def fw1_finack(ctx):
    c, syn = established(ctx)
    fin = data_and_fin(c)
    c.rcv_nxt = seq_add(fin, 1)
    c.send(FIN | ACK)
    s = c.expect(lambda s: s.ack == c.snd_nxt, REPLY, "ACK of our FIN")
    require(s.flags & (RST | FIN | SYN) == 0 and s.seq == c.rcv_nxt, "got %s" % s)


@check("fin-wait-2-data", ["3.10.7.4", "MAY-1", "MUST-40"], "FIN-WAIT-2: our data is acknowledged within 0.5 s", mode="active")
def fw2_data(ctx):
    c, syn = established(ctx)
    fin = data_and_fin(c)
    c.rcv_nxt = seq_add(fin, 1)
    c.send(ACK)
    time.sleep(0.1)
    c.drain()
    c.send_data(pattern(100))
    s = c.expect(lambda s: s.ack == c.snd_nxt, 0.5, "ACK of our data within 0.5 s")
    require(not s.flags & RST, "reset: %s" % s)


@check("ack-every-2nd-segment", ["SHLD-19", "SHLD-18"], "six full-sized segments, 20 ms apart, get at least three ACKs", mode="active")
def ack_every_2nd(ctx):
    c, syn = established(ctx)
    fin = data_and_fin(c)
    c.rcv_nxt = seq_add(fin, 1)
    c.send(ACK)
    time.sleep(0.1)
    c.drain()
    mss = min(syn.mss() or 536, 1400)
    for i in range(6):  # 20 ms apart: separate arrivals, so MUST-58/59 aggregation does not apply
        c.send_data(pattern(mss, i), chunk=mss)
        time.sleep(0.02)
    acks = c.t.collect(lambda s: c.mine(s) and s.flags & ACK, 0.6, c.cursor)
    require(acks and acks[-1].ack == c.snd_nxt, "last ACK %s does not cover all data (%d)" % (acks[-1:], c.snd_nxt))
    require(len({a.ack for a in acks}) >= 3, "%d distinct ACKs for 6 full-sized segments" % len({a.ack for a in acks}))


@check("fin-wait-2-fin", ["3.10.7.4"], "FIN-WAIT-2 then our FIN: acknowledged (TIME-WAIT)", mode="active")
def fw2_fin(ctx):
    c, syn = established(ctx)
    to_time_wait(c)


@check("fin-wait-2-rst", ["RFC5961-3", "3.10.7.4"], "exact RST in FIN-WAIT-2 closes the connection", mode="active")
def fw2_rst(ctx):
    c, syn = established(ctx)
    fin = data_and_fin(c)
    c.rcv_nxt = seq_add(fin, 1)
    c.send(ACK)
    time.sleep(0.1)
    c.send(RST, advance=False)
    time.sleep(0.4)
    c.drain()
    if ctx.target.tcbs_die_with_process:  # sluice source exits when its connection ends
        deadline = time.monotonic() + 3
        while ctx.active.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
    if ctx.active is not None and not ctx.active.alive():
        out = ctx.active.output()
        require("RESET" in out.upper(), "the target exited without reporting the reset: %s" % out[-300:])
        c.rcv_nxt = None
        return
    c.send_data(b"x")
    s = c.expect(lambda s: True, REPLY, "RST for data on a closed connection")
    require(s.flags & RST, "got %s, expected RST" % s)
    c.rcv_nxt = None


@check("time-wait-refin", ["3.10.7.4", "MUST-13"], "TIME-WAIT: a retransmitted FIN is acknowledged again", mode="active")
def tw_refin(ctx):
    c, syn = established(ctx)
    our_fin = to_time_wait(c)
    c.send(FIN | ACK, seq=our_fin, advance=False)
    s = c.expect(lambda s: True, REPLY, "ACK of the retransmitted FIN")
    require(s.flags & (ACK | RST) == ACK and s.ack == c.snd_nxt, "got %s" % s)


@check("time-wait-lingers", ["MUST-13"], "TIME-WAIT holds the connection: after 1 s (or MSL) a retransmitted FIN is still acknowledged", mode="active")
def tw_lingers(ctx):
    c, syn = established(ctx)
    our_fin = to_time_wait(c)
    wait = 1.0 if ctx.target.msl_ms is None else ctx.target.msl_ms / 1000.0
    time.sleep(wait)
    require_running(ctx, "TIME-WAIT")
    c.drain()
    tw_send(ctx, c, "TIME-WAIT", flags=FIN | ACK, seq=our_fin, advance=False)
    s = c.expect(lambda s: True, REPLY, "ACK of the retransmitted FIN")
    require(s.flags & (ACK | RST) == ACK and s.ack == c.snd_nxt, "got %s after %.1f s" % (s, wait))


@check("time-wait-expires", ["MUST-13", "3.10.8"], "TIME-WAIT ends after 2*MSL: the TCB is deleted, a FIN then gets RST", mode="active")
def tw_expires(ctx):
    if ctx.target.msl_ms is None:
        raise CheckSkipped("target's TIME-WAIT length is not configurable (Linux: fixed 60 s)")
    c, syn = established(ctx)
    our_fin = to_time_wait(c)
    time.sleep(2 * ctx.target.msl_ms / 1000.0 + 0.5)
    require_running(ctx, "the end of TIME-WAIT")
    c.drain()
    tw_send(ctx, c, "the end of TIME-WAIT", flags=FIN | ACK, seq=our_fin, advance=False)
    s = c.expect(lambda s: True, REPLY, "RST (no TCB any more)")
    require(s.flags & RST, "got %s, expected RST" % s)
    c.rcv_nxt = None


@check("time-wait-old-syn", ["RFC5961-4", "3.10.7.4"], "TIME-WAIT: a SYN with an old sequence number gets an ACK, no new connection, no RST", mode="active")
def tw_old_syn(ctx):
    c, syn = established(ctx)
    our_fin = to_time_wait(c)
    c.send(SYN, seq=seq_add(our_fin, -1000), ack=0, options=opt_mss(1460), advance=False)
    s = c.expect(lambda s: True, REPLY, "ACK")
    require(s.flags & (ACK | SYN | RST) == ACK and s.ack == c.snd_nxt, "got %s, expected ACK %d" % (s, c.snd_nxt))


@check("active-rst-in-window", ["RFC5961-3"], "FIN-WAIT-2: RST in window but not at RCV.NXT gets a challenge ACK", mode="active")
def active_rst_in_window(ctx):
    c, syn = established(ctx)
    fin = data_and_fin(c)
    c.rcv_nxt = seq_add(fin, 1)
    c.send(ACK)
    time.sleep(0.1)
    c.drain()
    c.send(RST, seq=seq_add(c.snd_nxt, 500), advance=False)
    s = c.expect(lambda s: True, REPLY, "challenge ACK")
    require(s.flags & (ACK | RST) == ACK and s.ack == c.snd_nxt and s.seq == c.rcv_nxt, "got %s" % s)
