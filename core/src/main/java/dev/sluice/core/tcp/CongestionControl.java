package dev.sluice.core.tcp;

/**
 * The congestion window of one connection: RFC 5681 slow start and congestion avoidance (MUST-19), the
 * initial window of RFC 6928, fast retransmit on the third duplicate ACK and NewReno fast recovery
 * (RFC 6582).
 *
 * <pre>
 * start:             cwnd = IW = min(n * SMSS, max(2 * SMSS, 14600)) (RFC 6928, n = 10 by default)
 *                    ssthresh = "arbitrarily high" (RFC 5681 §3.1)
 * new data acked:    cwnd &lt; ssthresh: cwnd += min(acked, SMSS)     (slow start, appropriate byte counting,
 *                                                                    L = 1 SMSS, RFC 3465)
 *                    else: one SMSS per cwnd bytes acked             (congestion avoidance, RFC 5681 (3))
 * 3rd duplicate ACK: if SND.UNA &gt; recover: ssthresh = max(FlightSize / 2, 2 * SMSS); recover = SND.NXT - 1;
 *                    retransmit SND.UNA; cwnd = ssthresh + 3 * SMSS  (RFC 6582 §3.2 step 2)
 * more duplicates:   cwnd += SMSS                                    (step 3, inflation)
 * partial ACK:       retransmit SND.UNA; cwnd -= acked; if acked &gt;= SMSS, cwnd += SMSS  (step 5)
 * full ACK (&gt; recover): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS), leave recovery    (step 5)
 * RTO:               ssthresh = max(FlightSize / 2, 2 * SMSS); cwnd = 1 SMSS (loss window, RFC 5681 (4));
 *                    recover = SND.NXT - 1 (RFC 6582 §4: no fast retransmit for the same flight)
 * </pre>
 *
 * The initial slow start runs RFC 9406 HyStart++ ({@link HyStart}, the base class) when enabled: it leaves slow
 * start when the round-trip time grows, through Conservative Slow Start, instead of at the first loss.
 *
 * <p>This class is NewReno; {@link CubicCongestionControl} (RFC 9438) overrides only the reductions (beta_cubic =
 * 0.7 instead of 1/2) and the growth in congestion avoidance: slow start and the recovery state machine are the
 * same. A subclass rather than a strategy object: CUBIC's few fields then cost no extra header (idle connections
 * stay under 1 KiB). Sequence numbers are compared modulo 2^32. No allocation; single-threaded.
 */
public sealed class CongestionControl extends HyStart permits CubicCongestionControl
{
    /** Duplicate ACKs that trigger fast retransmit (RFC 5681 §3.2). */
    public static final int DUP_ACK_THRESHOLD = 3;
    /** The byte cap of RFC 6928's initial window: max(2 * SMSS, 14600). */
    public static final int INITIAL_WINDOW_CAP_BYTES = 14_600;

    private final byte initialWindowSegments; // 1..127 (TcpConfig allows 1..64); a byte keeps CUBIC's object at 64 B
    int smss;
    int cwnd;
    int ssthresh;
    private int undoCwnd; // cwnd before the first RTO of an episode, 0: nothing to undo (RFC 4015)
    private int undoSsthresh;
    private int bytesAckedInAvoidance;
    private int duplicateAcks;
    private boolean inRecovery;
    private boolean sackRecovery;
    private final boolean hyStartEnabled; // RFC 9406 in the initial slow start (TcpConfig.hyStart)
    private int recover;
    private int fastRetransmits;

    /**
     * Creates NewReno congestion state; call {@link #reset} when the connection is synchronized.
     *
     * @param initialWindowSegments n of RFC 6928 (10), 1..127.
     */
    public CongestionControl(final int initialWindowSegments)
    {
        this(initialWindowSegments, true);
    }

    /**
     * Creates NewReno congestion state; call {@link #reset} when the connection is synchronized.
     *
     * @param initialWindowSegments n of RFC 6928 (10), 1..127.
     * @param hyStart               whether the initial slow start runs RFC 9406 HyStart++.
     */
    public CongestionControl(final int initialWindowSegments, final boolean hyStart)
    {
        if (initialWindowSegments < 1 || initialWindowSegments > Byte.MAX_VALUE)
        {
            throw new IllegalArgumentException("initialWindowSegments must be 1..127, got " + initialWindowSegments);
        }
        this.initialWindowSegments = (byte)initialWindowSegments;
        this.hyStartEnabled = hyStart;
        reset(TcpConnection.DEFAULT_SEND_MSS_BYTES, 0);
    }

    /**
     * Creates the congestion state of the given algorithm.
     *
     * @param initialWindowSegments n of RFC 6928 (10), &gt;= 1.
     * @param algorithm             NewReno or CUBIC congestion avoidance.
     * @return the congestion state.
     */
    public static CongestionControl create(final int initialWindowSegments, final CongestionAlgorithm algorithm)
    {
        return create(initialWindowSegments, algorithm, true);
    }

    /**
     * Creates the congestion state of the given algorithm.
     *
     * @param initialWindowSegments n of RFC 6928 (10), &gt;= 1.
     * @param algorithm             NewReno or CUBIC congestion avoidance.
     * @param hyStart               whether the initial slow start runs RFC 9406 HyStart++.
     * @return the congestion state.
     */
    public static CongestionControl create(
        final int initialWindowSegments, final CongestionAlgorithm algorithm, final boolean hyStart)
    {
        return algorithm == CongestionAlgorithm.CUBIC ?
            new CubicCongestionControl(initialWindowSegments, hyStart) :
            new CongestionControl(initialWindowSegments, hyStart);
    }

    /**
     * Whether the initial slow start is RFC 9406 HyStart++'s and which part of it is running.
     *
     * @return true in HyStart++'s Conservative Slow Start (RFC 9406 §4.2).
     */
    public boolean inConservativeSlowStart()
    {
        return hyStartPhase() == CSS;
    }

    /**
     * The congestion-avoidance algorithm.
     *
     * @return NEWRENO or CUBIC.
     */
    public CongestionAlgorithm algorithm()
    {
        return CongestionAlgorithm.NEWRENO;
    }

    /**
     * Starts a new connection: cwnd = IW, ssthresh unbounded.
     *
     * @param smss   sender MSS (the effective send MSS).
     * @param iss    ISS, the initial value of "recover" (RFC 6582 §3.2 step 1).
     */
    public void reset(final int smss, final int iss)
    {
        startHyStart(hyStartEnabled, iss); // HyStart++'s first round starts at the first ACK of data
        this.smss = Math.max(1, smss);
        cwnd = initialWindow(this.smss, initialWindowSegments);
        ssthresh = Integer.MAX_VALUE;
        undoCwnd = 0;
        bytesAckedInAvoidance = 0;
        duplicateAcks = 0;
        inRecovery = false;
        sackRecovery = false;
        recover = iss;
        fastRetransmits = 0;
        resetAlgorithm();
    }

    /** Resets the algorithm's own state (a new connection). */
    void resetAlgorithm()
    {
    }

    /**
     * RFC 6928: IW = min(n * SMSS, max(2 * SMSS, 14600)), but at least one segment.
     *
     * @param smss     sender MSS.
     * @param segments n.
     * @return bytes.
     */
    public static int initialWindow(final int smss, final int segments)
    {
        final long window = Math.min((long)segments * smss, Math.max(2L * smss, INITIAL_WINDOW_CAP_BYTES));
        return (int)Math.max(smss, window);
    }

    /**
     * An ACK advanced SND.UNA, at time 0 without an RTT (enough for NewReno).
     *
     * @param ackedBytes sequence space newly acknowledged.
     * @param segAck     SEG.ACK.
     * @param flightSize bytes still outstanding after this ACK (SND.NXT - SND.UNA).
     * @return true if the ACK is a partial ACK in fast recovery (see {@link #onNewAck(int, int, int, long, long)}).
     */
    public boolean onNewAck(final int ackedBytes, final int segAck, final int flightSize)
    {
        return onNewAck(ackedBytes, segAck, flightSize, 0, 0);
    }

    /**
     * An ACK advanced SND.UNA.
     *
     * @param ackedBytes sequence space newly acknowledged.
     * @param segAck     SEG.ACK.
     * @param flightSize bytes still outstanding after this ACK (SND.NXT - SND.UNA).
     * @param nowNs      the duty cycle's time (CUBIC's t, RFC 9438 §4.2).
     * @param rttNs      the smoothed RTT, 0 if none yet (CUBIC's target W_cubic(t + RTT)).
     * @return true if the ACK is a partial ACK in fast recovery: the caller retransmits the segment at the
     * new SND.UNA (RFC 6582 §3.2 step 5).
     */
    public boolean onNewAck(
        final int ackedBytes, final int segAck, final int flightSize, final long nowNs, final long rttNs)
    {
        return onNewAck(ackedBytes, segAck, flightSize, nowNs, rttNs, -1);
    }

    /**
     * An ACK advanced SND.UNA, with the RTT it measures (HyStart++'s currRTT, RFC 9406 §4.2).
     *
     * @param ackedBytes  sequence space newly acknowledged.
     * @param segAck      SEG.ACK.
     * @param flightSize  bytes still outstanding after this ACK (SND.NXT - SND.UNA).
     * @param nowNs       the duty cycle's time (CUBIC's t, RFC 9438 §4.2).
     * @param rttNs       the smoothed RTT, 0 if none yet (CUBIC's target W_cubic(t + RTT)).
     * @param rttSampleNs the RTT this ACK measures (timestamp echo or the timed segment), negative if none.
     * @return true if the ACK is a partial ACK in fast recovery: the caller retransmits the segment at the
     * new SND.UNA (RFC 6582 §3.2 step 5).
     */
    public boolean onNewAck(
        final int ackedBytes, final int segAck, final int flightSize, final long nowNs, final long rttNs,
        final long rttSampleNs)
    {
        duplicateAcks = 0;
        if (inRecovery)
        {
            if (SequenceNumbers.gt(segAck, recover))
            {
                inRecovery = false; // full acknowledgment
                sackRecovery = false;
                cwnd = (int)Math.min(ssthresh, (long)Math.max(flightSize, smss) + smss);
                bytesAckedInAvoidance = 0;
                return false;
            }
            if (sackRecovery)
            {
                return false; // RFC 6675: cwnd stays; pipe decides what is sent
            }
            cwnd = Math.max(smss, cwnd - ackedBytes + (ackedBytes >= smss ? smss : 0)); // partial ACK
            return true;
        }
        if (SequenceNumbers.gt(segAck - 1, recover))
        {
            recover = segAck - 1; // keeps "recover" within half the sequence space of SND.UNA across wraps
        }
        if (cwnd < ssthresh)
        {
            final int growth = slowStartGrowth(ackedBytes, smss, segAck, segAck + flightSize, rttSampleNs);
            if (growth == ENTER_AVOIDANCE)
            {
                ssthresh = cwnd; // RFC 9406 §4.2: CSS_ROUNDS rounds of CSS, congestion avoidance from here
            }
            else
            {
                cwnd = saturatedAdd(cwnd, growth);
            }
        }
        else
        {
            cwnd = avoidanceCwnd(ackedBytes, nowNs, rttNs);
        }
        return false;
    }

    /**
     * cwnd after an ACK in congestion avoidance (cwnd &gt;= ssthresh, not recovering): NewReno adds one SMSS per
     * cwnd bytes acknowledged (RFC 5681 (3)).
     *
     * @param ackedBytes bytes newly acknowledged.
     * @param nowNs      the duty cycle's time.
     * @param rttNs      the smoothed RTT, 0 if none.
     * @return the new cwnd.
     */
    int avoidanceCwnd(final int ackedBytes, final long nowNs, final long rttNs)
    {
        bytesAckedInAvoidance += ackedBytes;
        if (bytesAckedInAvoidance >= cwnd)
        {
            bytesAckedInAvoidance -= cwnd;
            return saturatedAdd(cwnd, smss);
        }
        return cwnd;
    }

    /**
     * A duplicate ACK in the sense of RFC 5681 §2 arrived (outstanding data, no payload, no SYN or FIN,
     * SEG.ACK = SND.UNA, unchanged window).
     *
     * @param sndUna     SND.UNA.
     * @param sndNxt     SND.NXT.
     * @param flightSize SND.NXT - SND.UNA.
     * @return true if this is the third duplicate and fast retransmit starts: the caller retransmits the
     * segment at SND.UNA.
     */
    public boolean onDuplicateAck(final int sndUna, final int sndNxt, final int flightSize)
    {
        duplicateAcks++;
        if (inRecovery)
        {
            cwnd = saturatedAdd(cwnd, smss); // inflation: a segment has left the network
            return false;
        }
        // RFC 6582 §3.2 step 2 / §4.1: only when the ACK covers more than "recover" (no second reduction for
        // one flight of data, e.g. duplicates caused by our own retransmissions after an RTO)
        if (duplicateAcks == DUP_ACK_THRESHOLD && SequenceNumbers.gt(sndUna, recover))
        {
            stopHyStart(); // RFC 9406 §4.2: a loss ends slow start and CSS
            ssthresh = reducedSsthresh(flightSize);
            cwnd = saturatedAdd(ssthresh, DUP_ACK_THRESHOLD * smss);
            recover = sndNxt - 1;
            inRecovery = true;
            fastRetransmits++;
            return true;
        }
        return false;
    }

    /**
     * A duplicate ACK in the sense of RFC 6675 §2 (it SACKs data not SACKed before): counted towards DupThresh.
     */
    public void countDuplicateAck()
    {
        duplicateAcks++;
    }

    /**
     * SACK-based loss recovery starts (RFC 6675 §5 step 4): ssthresh = cwnd = max(FlightSize / 2, 2 * SMSS)
     * (RFC 5681 (4)); "recover" = SND.NXT - 1, so that one flight is one congestion event.
     *
     * @param sndUna     SND.UNA.
     * @param sndNxt     SND.NXT (HighData, the RecoveryPoint).
     * @param flightSize bytes outstanding.
     * @return false if already recovering or the flight was already answered by a reduction (RFC 6582 §4).
     */
    public boolean enterSackRecovery(final int sndUna, final int sndNxt, final int flightSize)
    {
        if (inRecovery || !SequenceNumbers.gt(sndUna, recover))
        {
            return false;
        }
        stopHyStart(); // RFC 9406 §4.2
        ssthresh = reducedSsthresh(flightSize);
        cwnd = ssthresh;
        recover = sndNxt - 1;
        inRecovery = true;
        sackRecovery = true;
        fastRetransmits++;
        return true;
    }

    /**
     * A tail loss probe repaired a loss (RFC 8985 §7.4): a congestion event answered like the start of a
     * recovery that is already over: ssthresh = cwnd = the reduced window (Linux's CWR for TLP).
     *
     * @param flightSize bytes outstanding.
     */
    public void onLossRepairedByProbe(final int flightSize)
    {
        ssthresh = reducedSsthresh(Math.max(flightSize, cwnd));
        cwnd = Math.min(cwnd, ssthresh);
        bytesAckedInAvoidance = 0;
    }

    /**
     * During fast recovery, the window RFC 6937 PRR allows (pipe + sndcnt); replaces NewReno's inflation and
     * deflation and RFC 6675's cwnd = ssthresh.
     *
     * @param window bytes.
     */
    void recoveryWindow(final int window)
    {
        cwnd = window;
    }

    /**
     * Whether SACK-based loss recovery (RFC 6675) is running.
     *
     * @return true in SACK recovery.
     */
    public boolean inSackRecovery()
    {
        return sackRecovery;
    }

    /**
     * The retransmission timer expired (RFC 5681 (4), RFC 6582 §4).
     *
     * @param flightSize bytes outstanding.
     * @param sndNxt     SND.NXT (highest sequence sent).
     * @param firstTimeout true for the first timeout of this segment: later timeouts of the same segment do
     *                     not halve ssthresh again (RFC 5681 §3.1 note on (4)).
     */
    public void onRetransmissionTimeout(final int flightSize, final int sndNxt, final boolean firstTimeout)
    {
        if (firstTimeout)
        {
            undoCwnd = cwnd; // RFC 4015: what a spurious timeout gives back
            undoSsthresh = ssthresh;
        }
        stopHyStart(); // RFC 9406 §4.3: later slow starts are standard
        ssthresh = timeoutSsthresh(flightSize, firstTimeout);
        cwnd = smss;
        bytesAckedInAvoidance = 0;
        duplicateAcks = 0;
        inRecovery = false;
        sackRecovery = false;
        recover = sndNxt - 1;
    }

    /**
     * The retransmission timeout was spurious (RFC 3522 detection; RFC 4015 response, as Linux's undo): cwnd and
     * ssthresh return to their values before the first timeout of the episode (never lower than now); the epoch
     * of CUBIC restarts from there.
     *
     * @return false when there was no timeout to undo.
     */
    boolean undoRetransmissionTimeout()
    {
        if (undoCwnd == 0)
        {
            return false;
        }
        cwnd = Math.max(cwnd, undoCwnd);
        ssthresh = Math.max(ssthresh, undoSsthresh);
        undoCwnd = 0;
        bytesAckedInAvoidance = 0;
        return true;
    }

    /** The timeout was not spurious (or undone already): nothing to give back. */
    void forgetUndo()
    {
        undoCwnd = 0;
    }

    /**
     * After an idle period longer than RTO, cwnd restarts from the restart window (RFC 5681 §4.1):
     * min(IW, cwnd).
     */
    public void onIdleRestart()
    {
        cwnd = Math.min(cwnd, initialWindow(smss, initialWindowSegments));
        onIdle();
    }

    /** The connection was idle longer than RTO (CUBIC: the idle time is not growth time). */
    void onIdle()
    {
    }

    /**
     * cwnd in bytes.
     *
     * @return the congestion window.
     */
    public int cwnd()
    {
        return cwnd;
    }

    /**
     * ssthresh in bytes, {@link Integer#MAX_VALUE} until the first loss.
     *
     * @return the slow-start threshold.
     */
    public int ssthresh()
    {
        return ssthresh;
    }

    /**
     * Whether NewReno fast recovery is in progress.
     *
     * @return true between the fast retransmit and the full acknowledgment.
     */
    public boolean inRecovery()
    {
        return inRecovery;
    }

    /**
     * Consecutive duplicate ACKs.
     *
     * @return count.
     */
    public int duplicateAcks()
    {
        return duplicateAcks;
    }

    /**
     * Fast retransmits since {@link #reset}.
     *
     * @return count.
     */
    public int fastRetransmits()
    {
        return fastRetransmits;
    }

    /**
     * ssthresh after a congestion event found by duplicate ACKs or SACK: max(FlightSize / 2, 2 * SMSS) (RFC 5681
     * (4)); cwnd is still the window before the reduction.
     *
     * @param flightSize bytes outstanding.
     * @return the new ssthresh.
     */
    int reducedSsthresh(final int flightSize)
    {
        return Math.max(flightSize / 2, 2 * smss);
    }

    /**
     * ssthresh after a retransmission timeout: halved on the first expiry of a segment only (RFC 5681 (4)).
     *
     * @param flightSize   bytes outstanding.
     * @param firstTimeout the first expiry for this segment.
     * @return the new ssthresh; cwnd is still the window before the timeout.
     */
    int timeoutSsthresh(final int flightSize, final boolean firstTimeout)
    {
        return firstTimeout ? Math.max(flightSize / 2, 2 * smss) : ssthresh;
    }

    static int saturatedAdd(final int a, final int b)
    {
        final long sum = (long)a + b;
        return sum > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int)sum;
    }
}
