"""SYN cookies (RFC 4987 §3.6) at the target's listener (`echo`): its SYN backlog is filled with
half-open handshakes from the tester's silent address (their SYN-ACKs are never answered), then a
legitimate handshake must still complete through a cookie, and a forged cookie must not.

Both targets listen with a SYN backlog of BACKLOG (Sluice `--syn-backlog`, Linux's listen(2)
backlog in linux_peer.py): FILL > BACKLOG fillers overflow it. What shows from outside that a
cookie, not a SYN-RECEIVED entry, answered: the connection's MSS is the SYN's rounded down to one of
Linux's cookie classes (536, 1300, 1440, 1460: a SYN with MSS 1400 gets segments of at most 1300),
and a cookie SYN-ACK is never retransmitted (nothing was kept). Linux and Sluice both put window
scale and SACK-permitted in the low bits of the TSval, but add the 4-tuple's timestamp offset after
encoding, so those bits are not readable on the wire. The teardown resets every filler (a RST at
RCV.NXT ends SYN-RECEIVED), so later checks find the backlog empty.
"""
from framework import ACK, PSH, RST, SYN, check, opt_mss, require, seq_add
from checks_recovery import opt_sack_permitted, opt_ts, ts_of

BACKLOG = 64
FILL = BACKLOG + 16
REPLY = 1.5
TS0 = 7000
WSCALE = 7
SYN_MSS = 1400
COOKIE_MSS = 1300  # Linux's msstab class for 1400


def opt_wscale(shift):
    return bytes([1, 3, 3, shift])


def fill_backlog(ctx):
    """FILL SYNs from fresh ports, never completed; returns once the target answered most of them."""
    fillers = []
    for _ in range(FILL):
        f = ctx.conn()
        f.syn()
        fillers.append(f)
    answered = 0
    for f in fillers:
        if f.wait(lambda s: s.has(SYN | ACK), 0.05 if answered > BACKLOG else REPLY) is not None:
            answered += 1
    require(answered >= BACKLOG, "only %d of %d filler SYNs were answered" % (answered, FILL))
    return fillers


def cookie_syn(ctx):
    """SYN with MSS 1400, window scale, SACK-permitted and timestamps; returns (conn, SYN-ACK, its TSval)."""
    c = ctx.conn()
    c.syn(options=opt_mss(SYN_MSS) + opt_wscale(WSCALE) + opt_sack_permitted() + opt_ts(TS0, 0))
    sa = c.expect(lambda s: s.has(SYN | ACK), REPLY, "SYN-ACK although the backlog is full (a cookie)")
    ts = ts_of(sa)
    require(ts is not None, "SYN-ACK without timestamps: %s" % (sa.options(),))
    c.on_synack(sa)
    return c, sa, ts[0]


@check("syn-cookie-handshake", ["RFC4987-3.6", "3.10.7.2"],
       "backlog full: a SYN still gets a SYN-ACK, its ACK creates the connection, data echoes in the MSS class")
def syn_cookie_handshake(ctx):
    fill_backlog(ctx)
    c, sa, tsval = cookie_syn(ctx)
    data = bytes((i * 13) & 0xFF for i in range(2 * SYN_MSS))
    c.send(ACK, options=opt_ts(TS0 + 1, tsval))
    c.send(PSH | ACK, payload=data[:1400], options=opt_ts(TS0 + 2, tsval))
    c.send(PSH | ACK, payload=data[1400:], options=opt_ts(TS0 + 3, tsval))
    got, sizes, stamped = {}, [], True
    while sum(len(p) for p in got.values()) < len(data):
        e = c.expect(lambda s: len(s.payload) > 0 or s.flags & RST, 2 * REPLY, "the echo")
        require(not e.flags & RST, "the cookie's ACK was refused: %s" % e)
        if e.seq not in got:
            got[e.seq] = e.payload
            sizes.append(len(e.payload))
            stamped = stamped and ts_of(e) is not None
        if e.seq == c.rcv_nxt:
            c.rcv_nxt = seq_add(e.seq, len(e.payload))
            c.send(ACK, options=opt_ts(TS0 + 4, ts_of(e)[0] if ts_of(e) else tsval))  # Nagle waits for it
    echoed = b"".join(got[k] for k in sorted(got, key=lambda q: (q - sa.seq) % (1 << 32)))
    require(echoed == data, "echo differs from what was sent")
    require(max(sizes) <= COOKIE_MSS,
            "echo segments of %s octets: more than the cookie's MSS class %d for a SYN MSS of %d (no cookie?)"
            % (sizes, COOKIE_MSS, SYN_MSS))
    require(stamped, "timestamps restored from the cookie, but an echo segment carries none")


@check("syn-cookie-forged", ["RFC4987-3.6", "3.10.7.2"],
       "backlog full: the cookie SYN-ACK is never retransmitted; a wrong cookie creates nothing, gets <SEQ=SEG.ACK><RST>")
def syn_cookie_forged(ctx):
    fill_backlog(ctx)
    c, sa, tsval = cookie_syn(ctx)
    c.none(lambda s: s.has(SYN | ACK), 1.6, "SYN-ACK retransmission (a cookie keeps no state to retransmit)")
    forged = (sa.seq + 1 + (1 << 24)) % (1 << 32)  # another count: never valid
    c.send(ACK, ack=forged, options=opt_ts(TS0 + 1, tsval))
    r = c.expect(lambda s: s.flags & RST, REPLY, "a RST for the forged cookie")
    require(r.seq == forged, "RST seq %d, expected SEG.ACK %d" % (r.seq, forged))
    c.send(PSH | ACK, ack=forged, payload=b"no-connection", options=opt_ts(TS0 + 2, tsval))
    s = c.expect(lambda s: True, REPLY, "a RST for data with the forged cookie")
    require(s.flags & RST and not s.payload, "data was accepted after a forged cookie: %s" % s)
    c.rcv_nxt = None
