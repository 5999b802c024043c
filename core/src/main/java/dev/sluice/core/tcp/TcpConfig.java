package dev.sluice.core.tcp;

/**
 * Validated TCP settings of one stack (shared by all connections of all shards). Build with
 * {@link #builder()}; {@link Builder#build()} rejects illegal values with a message naming the rule.
 *
 * <p>Defaults, and where they depart from the RFC text:
 * <ul>
 *   <li>{@code rtoMinNs} 200 ms like Linux. RFC 6298 (2.4) says 1 s; set 1 s for strict conformance.</li>
 *   <li>{@code rtoMaxNs} 120 s like Linux; RFC 6298 (2.5) allows any maximum of at least 60 s, which is
 *       enforced.</li>
 *   <li>{@code mslNs} 30 s, so TIME-WAIT (2 * MSL, MUST-13) lasts 60 s like Linux; RFC 9293 suggests an
 *       MSL of 2 minutes as an engineering choice.</li>
 *   <li>{@code delayedAckNs} 40 ms (Linux's minimum); must stay below 500 ms (MUST-40). 0 turns delayed
 *       ACKs off.</li>
 *   <li>Keep-alives off (MUST-25), idle time 2 h (MUST-28), 75 s between probes, 9 probes (Linux).</li>
 *   <li>{@code r1Retransmissions} 3 (SHLD-10), {@code r2Ns} 15 min (SHLD-11 asks for at least 100 s),
 *       {@code synR2Ns} 3 min (MUST-23; Linux's 6 SYN retries give only 127 s).</li>
 *   <li>{@code initialWindowSegments} 10 (RFC 6928, Linux); {@code challengeAckIntervalNs} 500 ms (Linux's
 *       per-socket limit on challenge and out-of-window ACKs; RFC 5961 §7 leaves the limit open).</li>
 *   <li>{@code windowScaling} on (RFC 7323 §2; Linux's net.ipv4.tcp_window_scaling): with the default 256 KiB
 *       receive buffer the shift is 3.</li>
 *   <li>{@code timestamps} on (RFC 7323 §3-5; Linux's net.ipv4.tcp_timestamps): 1 ms ticks with a
 *       per-connection offset.</li>
 *   <li>{@code sack} on (RFC 2018, RFC 2883, RFC 6675; Linux's net.ipv4.tcp_sack).</li>
 *   <li>{@code rack} on (RFC 8985 RACK-TLP with SACK; Linux's net.ipv4.tcp_recovery = 1).</li>
 *   <li>{@code congestionControl} CUBIC (RFC 9438, Linux's default); NEWRENO (RFC 5681, RFC 6582) is
 *       selectable.</li>
 *   <li>{@code hyStart} on: the initial slow start runs RFC 9406 HyStart++ (leaves slow start when the RTT grows,
 *       before the queue overflows).</li>
 * </ul>
 *
 * @param mssBytes             MSS we advertise; where segments are built it must still be clamped to
 *                             MTU - 40 (MUST-67).
 * @param rtoInitialNs         RTO before the first RTT sample (RFC 6298: 1 s).
 * @param rtoMinNs             lower bound of a computed RTO.
 * @param rtoMaxNs             upper bound of RTO and its backoff, at least 60 s.
 * @param clockGranularityNs   G of RFC 6298: the tick of the timer that fires the RTO.
 * @param mslNs                maximum segment lifetime; TIME-WAIT lasts {@link #timeWaitNs()}.
 * @param delayedAckNs         longest an ACK may be delayed, 0..499.999 ms (MUST-40).
 * @param keepAliveEnabled     whether new connections send keep-alives (MUST-25: false by default).
 * @param keepAliveIdleNs      idle time before the first keep-alive probe (MUST-27, MUST-28).
 * @param keepAliveIntervalNs  time between unanswered keep-alive probes.
 * @param keepAliveProbes      unanswered probes before the connection is declared dead, at least 2
 *                             (MUST-29).
 * @param noDelay              true disables the Nagle algorithm on new connections (SHLD-7, MUST-17).
 * @param r1Retransmissions    retransmissions of one segment after which IP gets negative advice and the
 *                             application is told (MUST-20, SHLD-9, SHLD-10).
 * @param r2Ns                 time retransmitting one data segment after which the connection is closed
 *                             (MUST-20, SHLD-11).
 * @param synR2Ns              time retransmitting a SYN before giving up (MUST-22, MUST-23).
 * @param sendBufferBytes      capacity of each connection's send buffer, a power of two.
 * @param receiveBufferBytes   capacity of each connection's receive (reassembly) buffer, a power of two;
 *                             it bounds the advertised window.
 * @param maxReassemblyRanges  most disjoint out-of-order ranges held per connection (SHLD-31).
 * @param backlog              connections a listener may hold in SYN-RECEIVED plus not yet accepted.
 * @param initialWindowSegments n of RFC 6928's initial congestion window min(n * SMSS, max(2 * SMSS,
 *                             14600)); 10 by default like Linux, 1..64.
 * @param challengeAckIntervalNs shortest time between two challenge ACKs of one connection (RFC 5961 §7);
 *                             500 ms like Linux's per-socket limit (net.ipv4.tcp_invalid_ratelimit); 0
 *                             sends every challenge ACK.
 * @param windowScaling        whether our SYNs offer the RFC 7323 Window Scale option (on by default, like
 *                             Linux); the shift is the smallest that covers {@code receiveBufferBytes}.
 * @param timestamps           whether our SYNs offer RFC 7323 timestamps (on by default, like Linux); in effect
 *                             when the peer's SYN carries them too: RTTM, PAWS.
 * @param sack                 whether our SYNs offer SACK-permitted (on by default, like Linux); in effect when the
 *                             peer's SYN carries it too: SACK blocks and D-SACK in our ACKs, RFC 6675 recovery.
 * @param rack                 whether connections using SACK detect losses with RACK-TLP (RFC 8985, on by default,
 *                             like Linux since 4.18): time-based loss detection and tail loss probes instead of
 *                             RFC 6675's DupThresh and IsLost; off: RFC 6675 alone.
 * @param congestionControl    congestion avoidance of every connection: {@link CongestionAlgorithm#CUBIC}
 *                             (RFC 9438, the default) or {@link CongestionAlgorithm#NEWRENO} (RFC 5681/6582).
 * @param hyStart              whether the initial slow start of every connection runs RFC 9406 HyStart++ (on by
 *                             default; needs an RTT sample per ACK, i.e. timestamps, to act).
 * @param sendQuantumBytes     the most new data one poll of a connection sends before it yields to the rest of the
 *                             duty cycle (the connection stays ready and goes on at the next poll), 0 for no limit;
 *                             64 KiB by default (see {@link Builder#sendQuantumBytes}).
 */
public record TcpConfig(
    int mssBytes,
    long rtoInitialNs,
    long rtoMinNs,
    long rtoMaxNs,
    long clockGranularityNs,
    long mslNs,
    long delayedAckNs,
    boolean keepAliveEnabled,
    long keepAliveIdleNs,
    long keepAliveIntervalNs,
    int keepAliveProbes,
    boolean noDelay,
    int r1Retransmissions,
    long r2Ns,
    long synR2Ns,
    int sendBufferBytes,
    int receiveBufferBytes,
    int maxReassemblyRanges,
    int backlog,
    int initialWindowSegments,
    long challengeAckIntervalNs,
    boolean windowScaling,
    boolean timestamps,
    boolean sack,
    boolean rack,
    CongestionAlgorithm congestionControl,
    boolean hyStart,
    int sendQuantumBytes) implements RttEstimator.Settings
{
    /** Smallest MSS accepted (Linux's TCP_MIN_MSS). */
    public static final int MIN_MSS_BYTES = 88;
    /** Largest MSS: an IPv4 datagram of 65535 bytes minus 40 bytes of headers. */
    public static final int MAX_MSS_BYTES = 65_495;
    /** Smallest allowed upper bound of RTO (RFC 6298 (2.5)). */
    public static final long MIN_RTO_MAX_NS = 60_000_000_000L;
    /** Delayed ACKs must be shorter than this (MUST-40). */
    public static final long DELAYED_ACK_LIMIT_NS = 500_000_000L;
    /** Shortest R2 for SYN retransmission (MUST-23). */
    public static final long MIN_SYN_R2_NS = 180_000_000_000L;
    /** Shortest R2 for data (SHLD-11). */
    public static final long MIN_R2_NS = 100_000_000_000L;
    /** Fewest retransmissions before R1 (SHLD-10). */
    public static final int MIN_R1_RETRANSMISSIONS = 3;
    /** Largest buffer: the largest window window scaling can express is just under 2^30. */
    public static final int MAX_BUFFER_BYTES = 1 << 30;
    /** Most reassembly ranges per connection. */
    public static final int MAX_REASSEMBLY_RANGES = 64;
    /** Default {@link #sendQuantumBytes()}: one GSO/TSO chunk's worth, as Linux's GSO limit. */
    public static final int DEFAULT_SEND_QUANTUM_BYTES = 64 * 1024;
    /** Largest configurable initial window, in segments. */
    public static final int MAX_INITIAL_WINDOW_SEGMENTS = 64;

    /**
     * Checks every value.
     *
     * @throws IllegalArgumentException naming the first illegal value and the rule it breaks.
     */
    public TcpConfig
    {
        require(mssBytes >= MIN_MSS_BYTES && mssBytes <= MAX_MSS_BYTES,
            "mssBytes must be " + MIN_MSS_BYTES + ".." + MAX_MSS_BYTES + ", got " + mssBytes);
        require(rtoMinNs > 0, "rtoMinNs must be > 0, got " + rtoMinNs);
        require(rtoInitialNs >= rtoMinNs && rtoInitialNs <= rtoMaxNs,
            "rtoInitialNs must be within rtoMinNs..rtoMaxNs, got " + rtoInitialNs);
        require(rtoMaxNs >= MIN_RTO_MAX_NS, "rtoMaxNs must be >= 60 s (RFC 6298 (2.5)), got " + rtoMaxNs);
        require(clockGranularityNs > 0 && clockGranularityNs <= rtoMinNs,
            "clockGranularityNs must be 1..rtoMinNs, got " + clockGranularityNs);
        require(mslNs > 0, "mslNs must be > 0 (TIME-WAIT is 2 * MSL, MUST-13), got " + mslNs);
        require(delayedAckNs >= 0 && delayedAckNs < DELAYED_ACK_LIMIT_NS,
            "delayedAckNs must be 0..499999999 (< 500 ms, MUST-40), got " + delayedAckNs);
        require(keepAliveIdleNs > 0, "keepAliveIdleNs must be > 0 (MUST-27), got " + keepAliveIdleNs);
        require(keepAliveIntervalNs > 0, "keepAliveIntervalNs must be > 0, got " + keepAliveIntervalNs);
        require(keepAliveProbes >= 2,
            "keepAliveProbes must be >= 2: one lost probe must not kill a connection (MUST-29), got " +
            keepAliveProbes);
        require(r1Retransmissions >= MIN_R1_RETRANSMISSIONS,
            "r1Retransmissions must be >= 3 (SHLD-10), got " + r1Retransmissions);
        require(r2Ns >= MIN_R2_NS, "r2Ns must be >= 100 s (SHLD-11), got " + r2Ns);
        require(synR2Ns >= MIN_SYN_R2_NS, "synR2Ns must be >= 3 minutes (MUST-23), got " + synR2Ns);
        require(isPowerOfTwoWithin(sendBufferBytes, mssBytes),
            "sendBufferBytes must be a power of two in mssBytes..2^30, got " + sendBufferBytes);
        require(isPowerOfTwoWithin(receiveBufferBytes, mssBytes),
            "receiveBufferBytes must be a power of two in mssBytes..2^30, got " + receiveBufferBytes);
        require(maxReassemblyRanges >= 1 && maxReassemblyRanges <= MAX_REASSEMBLY_RANGES,
            "maxReassemblyRanges must be 1.." + MAX_REASSEMBLY_RANGES + ", got " + maxReassemblyRanges);
        require(backlog >= 1 && backlog <= 65_535, "backlog must be 1..65535, got " + backlog);
        require(congestionControl != null, "congestionControl must be NEWRENO or CUBIC, got null");
        require(initialWindowSegments >= 1 && initialWindowSegments <= MAX_INITIAL_WINDOW_SEGMENTS,
            "initialWindowSegments must be 1.." + MAX_INITIAL_WINDOW_SEGMENTS + ", got " + initialWindowSegments);
        require(challengeAckIntervalNs >= 0, "challengeAckIntervalNs must be >= 0, got " + challengeAckIntervalNs);
        require(sendQuantumBytes >= 0, "sendQuantumBytes must be >= 0 (0: no limit), got " + sendQuantumBytes);
    }

    /**
     * How long the active closer stays in TIME-WAIT: 2 * MSL (MUST-13).
     *
     * @return nanoseconds.
     */
    public long timeWaitNs()
    {
        return 2 * mslNs;
    }

    /**
     * A builder with the defaults listed in the type's description.
     *
     * @return a new builder.
     */
    public static Builder builder()
    {
        return new Builder();
    }

    private static boolean isPowerOfTwoWithin(final int value, final int min)
    {
        return value >= min && value <= MAX_BUFFER_BYTES && Integer.bitCount(value) == 1;
    }

    private static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Mutable builder of {@link TcpConfig}.
     */
    public static final class Builder
    {
        private int mssBytes = 1460;
        private long rtoInitialNs = 1_000_000_000L;
        private long rtoMinNs = 200_000_000L;
        private long rtoMaxNs = 120_000_000_000L;
        private long clockGranularityNs = 1_000_000L;
        private long mslNs = 30_000_000_000L;
        private long delayedAckNs = 40_000_000L;
        private boolean keepAliveEnabled;
        private long keepAliveIdleNs = 7_200_000_000_000L;
        private long keepAliveIntervalNs = 75_000_000_000L;
        private int keepAliveProbes = 9;
        private boolean noDelay;
        private int r1Retransmissions = 3;
        private long r2Ns = 900_000_000_000L;
        private long synR2Ns = 180_000_000_000L;
        private int sendBufferBytes = 256 * 1024;
        private int receiveBufferBytes = 256 * 1024;
        private int maxReassemblyRanges = 16;
        private int backlog = 128;
        private int initialWindowSegments = 10;
        private int sendQuantumBytes = DEFAULT_SEND_QUANTUM_BYTES;
        private long challengeAckIntervalNs = 500_000_000L;
        private boolean windowScaling = true;
        private boolean timestamps = true;
        private boolean sack = true;
        private boolean rack = true;
        private CongestionAlgorithm congestionControl = CongestionAlgorithm.CUBIC;
        private boolean hyStart = true;

        private Builder()
        {
        }

        /**
         * Sets the MSS we advertise.
         *
         * @param mssBytes 88..65495.
         * @return this.
         */
        public Builder mssBytes(final int mssBytes)
        {
            this.mssBytes = mssBytes;
            return this;
        }

        /**
         * Sets the RTO bounds (RFC 6298).
         *
         * @param initialNs RTO before the first sample.
         * @param minNs     lower bound of a computed RTO.
         * @param maxNs     upper bound, at least 60 s.
         * @return this.
         */
        public Builder rto(final long initialNs, final long minNs, final long maxNs)
        {
            this.rtoInitialNs = initialNs;
            this.rtoMinNs = minNs;
            this.rtoMaxNs = maxNs;
            return this;
        }

        /**
         * Sets G, the granularity of the retransmission timer.
         *
         * @param clockGranularityNs 1..rtoMinNs.
         * @return this.
         */
        public Builder clockGranularityNs(final long clockGranularityNs)
        {
            this.clockGranularityNs = clockGranularityNs;
            return this;
        }

        /**
         * Sets the maximum segment lifetime; TIME-WAIT is twice that (MUST-13).
         *
         * @param mslNs &gt; 0.
         * @return this.
         */
        public Builder mslNs(final long mslNs)
        {
            this.mslNs = mslNs;
            return this;
        }

        /**
         * Sets the delayed-ACK time (SHLD-18, MUST-40).
         *
         * @param delayedAckNs 0 (off) up to, not including, 500 ms.
         * @return this.
         */
        public Builder delayedAckNs(final long delayedAckNs)
        {
            this.delayedAckNs = delayedAckNs;
            return this;
        }

        /**
         * Sets keep-alive behaviour (MUST-24..MUST-29).
         *
         * @param enabled    whether new connections send keep-alives.
         * @param idleNs     idle time before the first probe.
         * @param intervalNs time between unanswered probes.
         * @param probes     unanswered probes before giving up, at least 2.
         * @return this.
         */
        public Builder keepAlive(final boolean enabled, final long idleNs, final long intervalNs, final int probes)
        {
            this.keepAliveEnabled = enabled;
            this.keepAliveIdleNs = idleNs;
            this.keepAliveIntervalNs = intervalNs;
            this.keepAliveProbes = probes;
            return this;
        }

        /**
         * Sets whether Nagle is off on new connections (MUST-17).
         *
         * @param noDelay true to disable Nagle.
         * @return this.
         */
        public Builder noDelay(final boolean noDelay)
        {
            this.noDelay = noDelay;
            return this;
        }

        /**
         * Sets the excessive-retransmission thresholds (MUST-20, MUST-23).
         *
         * @param r1Retransmissions retransmissions before negative advice, at least 3.
         * @param r2Ns              time before a data connection is closed, at least 100 s.
         * @param synR2Ns           time before a SYN is given up, at least 3 minutes.
         * @return this.
         */
        public Builder retransmissionThresholds(final int r1Retransmissions, final long r2Ns, final long synR2Ns)
        {
            this.r1Retransmissions = r1Retransmissions;
            this.r2Ns = r2Ns;
            this.synR2Ns = synR2Ns;
            return this;
        }

        /**
         * Sets per-connection buffer capacities.
         *
         * @param sendBufferBytes    send buffer, power of two.
         * @param receiveBufferBytes receive buffer, power of two.
         * @return this.
         */
        public Builder bufferBytes(final int sendBufferBytes, final int receiveBufferBytes)
        {
            this.sendBufferBytes = sendBufferBytes;
            this.receiveBufferBytes = receiveBufferBytes;
            return this;
        }

        /**
         * Sets the most out-of-order ranges held per connection.
         *
         * @param maxReassemblyRanges 1..64.
         * @return this.
         */
        public Builder maxReassemblyRanges(final int maxReassemblyRanges)
        {
            this.maxReassemblyRanges = maxReassemblyRanges;
            return this;
        }

        /**
         * Sets the listen backlog.
         *
         * @param backlog 1..65535.
         * @return this.
         */
        public Builder backlog(final int backlog)
        {
            this.backlog = backlog;
            return this;
        }

        /**
         * Sets the initial congestion window in segments (RFC 6928).
         *
         * @param initialWindowSegments 1..64.
         * @return this.
         */
        public Builder initialWindowSegments(final int initialWindowSegments)
        {
            this.initialWindowSegments = initialWindowSegments;
            return this;
        }

        /**
         * Sets the challenge-ACK rate limit of each connection (RFC 5961 §7).
         *
         * @param challengeAckIntervalNs shortest time between two challenge ACKs, 0 for no limit.
         * @return this.
         */
        public Builder challengeAckIntervalNs(final long challengeAckIntervalNs)
        {
            this.challengeAckIntervalNs = challengeAckIntervalNs;
            return this;
        }

        /**
         * Turns the RFC 7323 Window Scale option on our SYNs on or off.
         *
         * @param windowScaling true (the default) to offer window scaling.
         * @return this.
         */
        public Builder windowScaling(final boolean windowScaling)
        {
            this.windowScaling = windowScaling;
            return this;
        }

        /**
         * Turns RFC 7323 timestamps (offered on our SYNs) on or off.
         *
         * @param timestamps true (the default) to offer timestamps.
         * @return this.
         */
        public Builder timestamps(final boolean timestamps)
        {
            this.timestamps = timestamps;
            return this;
        }

        /**
         * Turns selective acknowledgments (SACK-permitted on our SYNs) on or off.
         *
         * @param sack true (the default) to offer SACK.
         * @return this.
         */
        public Builder sack(final boolean sack)
        {
            this.sack = sack;
            return this;
        }

        /**
         * Turns RACK-TLP loss detection (RFC 8985) on or off for connections that use SACK.
         *
         * @param rack true (the default) for RACK-TLP; false for RFC 6675's DupThresh alone and no tail loss probe.
         * @return this.
         */
        public Builder rack(final boolean rack)
        {
            this.rack = rack;
            return this;
        }

        /**
         * Chooses the congestion control of every connection.
         *
         * @param congestionControl CUBIC (the default) or NEWRENO.
         * @return this.
         */
        public Builder congestionControl(final CongestionAlgorithm congestionControl)
        {
            this.congestionControl = congestionControl;
            return this;
        }

        /**
         * Turns RFC 9406 HyStart++ in the initial slow start on (the default) or off (standard slow start).
         *
         * @param hyStart true for HyStart++.
         * @return this.
         */
        public Builder hyStart(final boolean hyStart)
        {
            this.hyStart = hyStart;
            return this;
        }

        /**
         * Sets the send quantum: the most new data one poll of a connection sends; a connection with more to send
         * and room in its windows stays on the shard's ready list and goes on at the next poll. A busy-polling
         * shard reads its receive queue once per duty cycle, so a bulk sender that put its whole window out in one
         * poll would see the ACKs that reopen it only after that, and idle while they were on their way; with a
         * quantum the ACKs are read between quanta and the window never runs dry (Linux gets the same from
         * interrupts and TCP Small Queues). One quantum's frames still go out as one burst. Retransmissions are
         * not limited.
         *
         * @param sendQuantumBytes bytes, 0 for no limit (the whole window in one poll); default 64 KiB.
         * @return this.
         */
        public Builder sendQuantumBytes(final int sendQuantumBytes)
        {
            this.sendQuantumBytes = sendQuantumBytes;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the configuration.
         * @throws IllegalArgumentException if a value is illegal.
         */
        public TcpConfig build()
        {
            return new TcpConfig(mssBytes, rtoInitialNs, rtoMinNs, rtoMaxNs, clockGranularityNs, mslNs,
                delayedAckNs, keepAliveEnabled, keepAliveIdleNs, keepAliveIntervalNs, keepAliveProbes, noDelay,
                r1Retransmissions, r2Ns, synR2Ns, sendBufferBytes, receiveBufferBytes, maxReassemblyRanges,
                backlog, initialWindowSegments, challengeAckIntervalNs, windowScaling, timestamps, sack,
                rack, congestionControl, hyStart, sendQuantumBytes);
        }
    }
}
