package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.le;

import dev.sluice.core.wire.TcpOptions;

/**
 * RFC 7323 timestamps of one connection: negotiation (§3.2), TS.Recent and Last.ACK.sent (§4.3), RTTM (§4.1)
 * and PAWS (§5).
 *
 * <pre>
 * TSval  = nowNs / 1 ms + offset         1 ms ticks (§5.4: between 1 ms and 1 s), a per-connection offset
 *                                        (§7.1, {@link IsnGenerator#timestampOffset})
 * SYN    offers TSopt (TSecr 0) when {@link TcpConfig#timestamps()}; SYN-ACK carries it only in reply to a SYN
 *        that had it; in effect when both SYNs carry it, then on every segment but RST (§3.2)
 * TSecr  = TS.Recent
 * R1     SEG.TSval &lt; TS.Recent, no RST, TS.Recent valid: not acceptable, ACK and drop (PAWS, §5.3)
 * R3     acceptable, SEG.TSval &gt;= TS.Recent, SEG.SEQ =&lt; Last.ACK.sent: TS.Recent = SEG.TSval (§4.3)
 * RTTM   an ACK of new data: RTT = TSval now - SEG.TSecr (retransmissions included: no Karn ambiguity)
 * §5.5   TS.Recent older than 24 days is invalid: PAWS does not reject against it
 * </pre>
 *
 * Sequence-style comparisons modulo 2^32. No allocation; single-threaded.
 */
final class Timestamps
{
    /** Nanoseconds per timestamp clock tick: 1 ms. */
    static final long TICK_NS = 1_000_000L;
    /** Bytes the option takes in every segment once in effect (NOP, NOP, kind, length, TSval, TSecr). */
    static final int OPTION_BYTES = 12;
    /** After this idle time TS.Recent is no longer valid (RFC 7323 §5.5: 24 days). */
    static final long TS_RECENT_VALID_NS = 24L * 24 * 3600 * 1_000_000_000L;

    private final boolean offered;
    private boolean enabled;
    private int offset;
    private int tsRecent;
    private long tsRecentNs;
    private int lastAckSent;
    private long nowNs;

    Timestamps(final TcpConfig config)
    {
        this.offered = config.timestamps();
    }

    void clear()
    {
        enabled = false;
        tsRecent = 0;
        tsRecentNs = 0;
        lastAckSent = 0;
    }

    /**
     * The duty cycle's time, for the TSval of what is sent next.
     *
     * @param nowNs the time.
     */
    void now(final long nowNs)
    {
        this.nowNs = nowNs;
    }

    /**
     * A connection is being opened with this 4-tuple's offset.
     *
     * @param offset from {@link IsnGenerator#timestampOffset}.
     */
    void open(final int offset)
    {
        this.offset = offset;
    }

    /** @return whether our SYN carries the option. */
    boolean offered()
    {
        return offered;
    }

    /** @return whether both SYNs carried the option: every segment but RST carries it. */
    boolean enabled()
    {
        return enabled;
    }

    /**
     * The peer's SYN (or SYN-ACK): timestamps are in effect if we offer them and it carries them (§3.2);
     * TS.Recent starts at its TSval.
     *
     * @param options the SYN's options.
     */
    void onPeerSyn(final TcpOptions options)
    {
        enabled = offered && options.hasTimestamps();
        if (enabled)
        {
            tsRecent = options.timestampValue();
            tsRecentNs = nowNs;
        }
    }

    /** @return the TSval of a segment sent now. */
    int tsVal()
    {
        return tsVal(nowNs);
    }

    /**
     * @param atNs a time in the {@code nowNs} timebase.
     * @return the TSval this connection sends at that time.
     */
    int tsVal(final long atNs)
    {
        return (int)(atNs / TICK_NS) + offset;
    }

    /** @return TS.Recent, the TSecr of what we send. */
    int tsRecent()
    {
        return tsRecent;
    }

    /** @return when TS.Recent was last set. */
    long tsRecentNs()
    {
        return tsRecentNs;
    }

    /** @return the per-connection offset of TSval. */
    int offset()
    {
        return offset;
    }

    /**
     * A segment carrying ACK = {@code ack} left: Last.ACK.sent (§4.3).
     *
     * @param ack SEG.ACK.
     */
    void onAckSent(final int ack)
    {
        lastAckSent = ack;
    }

    /**
     * §3.2: once in effect, a non-RST segment without the option SHOULD be dropped silently (never a reason
     * to abort).
     *
     * @param segment the segment.
     * @return true to drop it.
     */
    boolean isMissing(final TcpSegment segment)
    {
        return enabled && !segment.options().hasTimestamps() && !segment.has(dev.sluice.core.wire.TcpHeader.RST);
    }

    /**
     * PAWS (§5.3 R1): a segment whose TSval is older than TS.Recent (and TS.Recent is valid, §5.5) is a duplicate
     * from an earlier wrap of the sequence space or an old incarnation: not acceptable. RSTs are exempt.
     *
     * @param segment the segment.
     * @return true if PAWS rejects it.
     */
    boolean rejects(final TcpSegment segment)
    {
        return enabled && segment.options().hasTimestamps() && !segment.has(dev.sluice.core.wire.TcpHeader.RST) &&
            segment.options().timestampValue() - tsRecent < 0 && nowNs - tsRecentNs <= TS_RECENT_VALID_NS;
    }

    /**
     * R3 (§4.3): an acceptable segment at or before the left edge we last acknowledged, with a TSval not older
     * than TS.Recent, updates TS.Recent, so that TSecr echoes the segment that advanced the window.
     *
     * @param segment an acceptable segment.
     */
    void onAcceptable(final TcpSegment segment)
    {
        if (enabled && segment.options().hasTimestamps() && le(segment.seq(), lastAckSent))
        {
            final int tsVal = segment.options().timestampValue();
            if (tsVal - tsRecent >= 0 || nowNs - tsRecentNs > TS_RECENT_VALID_NS)
            {
                tsRecent = tsVal;
                tsRecentNs = nowNs;
            }
        }
    }

    /**
     * RTTM (§4.1): the round-trip time an ACK reports through its TSecr.
     *
     * @param segment an ACK of new data.
     * @return nanoseconds, or -1 when the segment gives no measurement (no option, TSecr 0, or from the future).
     */
    /**
     * RFC 3522 §3.2 step (4): whether an ACK echoes a timestamp older than {@code tsVal} (Eifel detection: the
     * ACK answers the original transmission, not a retransmission sent at {@code tsVal}).
     *
     * @param segment an ACK.
     * @param tsVal   the TSval of the retransmission.
     * @return true when timestamps are in use, the ACK carries them, and its TSecr is earlier than tsVal.
     */
    boolean echoesEarlierThan(final TcpSegment segment, final int tsVal)
    {
        if (!enabled || !segment.options().hasTimestamps())
        {
            return false;
        }
        final int tsEcr = segment.options().timestampEchoReply();
        return tsEcr != 0 && tsEcr - tsVal < 0;
    }

    long rttSampleNs(final TcpSegment segment)
    {
        if (!enabled || !segment.options().hasTimestamps())
        {
            return -1;
        }
        final int tsEcr = segment.options().timestampEchoReply();
        final int ticks = tsVal() - tsEcr;
        return tsEcr == 0 || ticks < 0 ? -1 : ticks * TICK_NS;
    }
}
