package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.gt;

/**
 * RFC 9406 HyStart++: the initial slow start leaves before it overshoots, when the round-trip time of a round
 * has grown by a threshold over the last round's (a queue is building), into Conservative Slow Start (CSS), which
 * grows cwnd four times more slowly for at most five rounds and goes back to slow start if the RTT falls again
 * (the exit was spurious: jitter, not a queue).
 *
 * <pre>
 * round start (§4.2: SEG.ACK covers windowEnd):  lastRoundMinRTT = currentRoundMinRTT; currentRoundMinRTT = inf;
 *                                                rttSampleCount = 0; windowEnd = SND.NXT
 *                                                in CSS: after CSS_ROUNDS rounds, ssthresh = cwnd (avoidance)
 * each ACK in slow start:  cwnd += min(N, L * SMSS); currentRoundMinRTT = min(currentRoundMinRTT, currRTT);
 *                          if rttSampleCount &gt;= N_RTT_SAMPLE and both minima valid:
 *                            RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH))
 *                            currentRoundMinRTT &gt;= lastRoundMinRTT + RttThresh: cssBaselineMinRtt =
 *                            currentRoundMinRTT, enter CSS
 * each ACK in CSS:         cwnd += min(N, L * SMSS) / CSS_GROWTH_DIVISOR; minimum kept as above;
 *                          rttSampleCount &gt;= N_RTT_SAMPLE and currentRoundMinRTT &lt; cssBaselineMinRtt: back to
 *                          slow start (spurious exit)
 * loss (fast retransmit, SACK recovery, RTO): HyStart++ ends; later slow starts are standard (§4.3: only the
 *                          initial slow start, ssthresh then bounds the others)
 * </pre>
 *
 * L is 1 SMSS, as in this stack's RFC 5681 slow start (RFC 3465 byte counting): RFC 9406's L = 8 for a sender
 * without pacing is an upper bound on the burst an ACK may release. RTT samples are per ACK: the RFC 7323 echo
 * (every ACK when timestamps are in effect) or the RFC 6298 timed segment (one per round without timestamps,
 * fewer than N_RTT_SAMPLE: then the delay test never fires and slow start is standard).
 *
 * <p>A base class of {@link CongestionControl} rather than a part: its 13 bytes (the round's end, three RTT minima
 * in chars of 2^17 ns, about 131 us, up to 8.6 s; counts and phase in bytes) cost no extra object header (issue 11: an idle
 * connection under 1 KiB). No allocation; single-threaded.
 */
abstract sealed class HyStart permits CongestionControl
{
    /** MIN_RTT_THRESH of RFC 9406 §4.3. */
    static final long MIN_RTT_THRESH_NS = 4_000_000L;
    /** MAX_RTT_THRESH of RFC 9406 §4.3. */
    static final long MAX_RTT_THRESH_NS = 16_000_000L;
    /** MIN_RTT_DIVISOR of RFC 9406 §4.3. */
    static final int MIN_RTT_DIVISOR = 8;
    /** N_RTT_SAMPLE of RFC 9406 §4.3: samples a round needs before its minimum is compared. */
    static final int N_RTT_SAMPLE = 8;
    /** CSS_GROWTH_DIVISOR of RFC 9406 §4.3. */
    static final int CSS_GROWTH_DIVISOR = 4;
    /** CSS_ROUNDS of RFC 9406 §4.3: rounds of CSS before congestion avoidance. */
    static final int CSS_ROUNDS = 5;
    /** Returned by {@link #slowStartGrowth} when CSS has run its rounds: ssthresh = cwnd. */
    static final int ENTER_AVOIDANCE = -1;

    /** Phases. */
    static final byte STANDARD = 0; // standard slow start (HyStart++ off or over)
    static final byte SLOW_START = 1; // HyStart++ slow start, watching the delay
    static final byte CSS = 2; // Conservative Slow Start

    // RTT minima in units of 2^RTT_SHIFT ns (131 us; the thresholds are 4..16 ms), saturated below INFINITE
    private static final int RTT_SHIFT = 17;
    private static final char INFINITE = Character.MAX_VALUE;

    private int windowEnd;
    private char lastRoundMinRtt;
    private char currentRoundMinRtt;
    private char cssBaselineMinRtt;
    private byte rttSampleCount;
    private byte cssRounds;
    private byte phase;

    /**
     * The initial slow start begins (the connection is synchronized).
     *
     * @param enabled HyStart++ on (TcpConfig.hyStart); off: standard slow start.
     * @param sndNxt  SND.NXT: the first round ends when it is acknowledged.
     */
    final void startHyStart(final boolean enabled, final int sndNxt)
    {
        phase = enabled ? SLOW_START : STANDARD;
        windowEnd = sndNxt;
        lastRoundMinRtt = INFINITE;
        currentRoundMinRtt = INFINITE;
        cssBaselineMinRtt = INFINITE;
        rttSampleCount = 0;
        cssRounds = 0;
    }

    /** A loss or a timeout: standard slow start from now on (RFC 9406 §4.2, §4.3). */
    final void stopHyStart()
    {
        phase = STANDARD;
    }

    /**
     * The phase: {@link #STANDARD}, {@link #SLOW_START} or {@link #CSS}.
     *
     * @return the phase.
     */
    final byte hyStartPhase()
    {
        return phase;
    }

    /**
     * An ACK of new data in slow start (cwnd &lt; ssthresh).
     *
     * @param ackedBytes   N, bytes newly acknowledged.
     * @param smss         SMSS.
     * @param segAck       SEG.ACK.
     * @param sndNxt       SND.NXT.
     * @param rttSampleNs  the RTT this ACK measures, negative if none.
     * @return bytes to add to cwnd, or {@link #ENTER_AVOIDANCE}: set ssthresh to cwnd.
     */
    final int slowStartGrowth(
        final int ackedBytes, final int smss, final int segAck, final int sndNxt, final long rttSampleNs)
    {
        final int growth = Math.min(ackedBytes, smss); // L = 1 SMSS
        if (phase == STANDARD)
        {
            return growth;
        }
        if (gt(segAck, windowEnd)) // SND.UNA passed the round's end (Linux: after(snd_una, end_seq))
        {
            if (phase == CSS && ++cssRounds >= CSS_ROUNDS)
            {
                phase = STANDARD;
                return ENTER_AVOIDANCE;
            }
            lastRoundMinRtt = currentRoundMinRtt;
            currentRoundMinRtt = INFINITE;
            rttSampleCount = 0;
            windowEnd = sndNxt;
        }
        final byte before = phase;
        if (rttSampleNs >= 0)
        {
            currentRoundMinRtt = (char)Math.min(currentRoundMinRtt, Math.min(INFINITE - 1, rttSampleNs >> RTT_SHIFT));
            if (rttSampleCount < N_RTT_SAMPLE)
            {
                rttSampleCount++;
            }
        }
        if (rttSampleCount >= N_RTT_SAMPLE && currentRoundMinRtt != INFINITE)
        {
            if (phase == SLOW_START && lastRoundMinRtt != INFINITE)
            {
                final long rttThresh = Math.max(MIN_RTT_THRESH_NS,
                    Math.min(((long)lastRoundMinRtt << RTT_SHIFT) / MIN_RTT_DIVISOR, MAX_RTT_THRESH_NS));
                if ((long)currentRoundMinRtt << RTT_SHIFT >= ((long)lastRoundMinRtt << RTT_SHIFT) + rttThresh)
                {
                    cssBaselineMinRtt = currentRoundMinRtt;
                    cssRounds = 0;
                    phase = CSS;
                }
            }
            else if (phase == CSS && currentRoundMinRtt < cssBaselineMinRtt)
            {
                cssBaselineMinRtt = INFINITE; // the delay increase was spurious: slow start again
                phase = SLOW_START;
            }
        }
        return before == CSS ? growth / CSS_GROWTH_DIVISOR : growth;
    }
}
