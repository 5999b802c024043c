package dev.sluice.core.stack;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;

import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.SynAcks;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpSegment;
import dev.sluice.core.tcp.TcpSegmentOutput;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.collections.Long2LongHashMap;

import java.util.Arrays;

/**
 * Compact SYN-RECEIVED: a passive connection whose handshake is not complete is a small record, not a
 * connection (Linux's request sock, about 256 bytes there): the 4-tuple, IRS and ISS, the options both sides
 * agreed on (the peer's MSS, its window scale, SACK-permitted, timestamps with the SYN's TSval), the listener,
 * and the SYN-ACK's retransmission count and deadline; about 50 bytes in parallel primitive arrays plus a
 * primitive-map entry. The segment that completes the handshake turns it into a connection ({@link #PROMOTE});
 * the application hears of a connection only then, as with Linux's accept().
 *
 * <p>What a record answers, as a connection in SYN-RECEIVED from a passive OPEN does (§3.10.7.4, RFC 5961):
 * <ul>
 *   <li>A retransmitted SYN (SEG.SEQ = IRS, no ACK): the SYN-ACK again (ours was lost).</li>
 *   <li>A segment outside the window RCV.NXT = IRS + 1 .. + the SYN-ACK's window: an ACK, unless it is a RST
 *       (first step).</li>
 *   <li>A RST exactly at RCV.NXT: the record is dropped (back to LISTEN, §3.10.7.4 second); one elsewhere in the
 *       window gets a challenge ACK (RFC 5961 §3.2, the stack-wide limit applies).</li>
 *   <li>Another SYN in the window: the record is dropped (back to LISTEN, §3.10.7.4 fourth).</li>
 *   <li>No ACK: dropped. An ACK other than ISS + 1: {@code <SEQ=SEG.ACK><CTL=RST>}, the record stays (fifth
 *       step). ACK = ISS + 1: {@link #PROMOTE}.</li>
 * </ul>
 *
 * <p>SYN-ACK retransmission as Linux (tcp_synack_retries = 5, TCP_TIMEOUT_INIT = 1 s doubling): sent again after
 * 1, 2, 4, 8 and 16 s, the record dropped 32 s after the fifth, 63 s after the SYN, counted. RFC 9293's MUST-23
 * (R2 for a SYN at least 3 minutes) is written for the SYN of an active OPEN; a half-open connection held 3
 * minutes is what a SYN flood feeds on, so the passive side follows Linux (a connection's own SYN-RECEIVED, after
 * a simultaneous open, keeps R2). Records at one retransmission count all wait the same time, so one FIFO list per
 * count is in deadline order and expiry looks at list heads only.
 *
 * <p>Single-threaded. The arrays grow (doubling) up to the capacity and are then reused: no allocation per SYN
 * once they have grown to the peak of half-open connections. After a storm, arrays left empty for a whole
 * {@link #SHRINK_AFTER_NS} go back to their initial size (the memory of a past flood is not kept, as Linux
 * frees its request socks; the decay keeps handshakes that come and go from re-growing them each time).
 */
final class SynReceivedTable
{
    /** {@link #onSegment}: handled, nothing more to do. */
    static final int HANDLED = 0;
    /** {@link #onSegment}: the handshake completed; make the connection ({@link #remove} the record after). */
    static final int PROMOTE = 1;
    /**
     * {@link #onSegment}: an acceptable ACK of another ISS than the record's. The caller checks it as a SYN cookie
     * (the peer's retransmitted SYN took this record after a cookie SYN-ACK it answered); when it is none, it
     * answers {@code <SEQ=SEG.ACK><CTL=RST>} (RFC 9293 §3.10.7.4 fifth) and the record stays.
     */
    static final int OTHER_ACK = 2;
    /** Linux's tcp_synack_retries. */
    static final int DEFAULT_SYN_ACK_RETRIES = 5;
    /** The first SYN-ACK retransmission timeout (Linux's TCP_TIMEOUT_INIT), doubled after each one. */
    static final long FIRST_TIMEOUT_NS = 1_000_000_000L;

    /** Empty this long, arrays grown by a storm of handshakes shrink back to their initial size. */
    static final long SHRINK_AFTER_NS = 1_000_000_000L;

    private static final int NONE = -1;
    private static final int SACK = 1;
    private static final int TIMESTAMPS = 2;
    private static final int SCALING = 4;
    private static final int INITIAL_CAPACITY = 16;

    private final TcpConfig config;
    private final IsnGenerator isnGenerator;
    private final TcpSegmentOutput output;
    private final TcpStackCounters counters;
    private final ChallengeAckLimiter challengeAcks;
    private final TcpOptions options = new TcpOptions();
    private final int maxRecords;
    private final int maxRetries;
    private Long2LongHashMap index = new Long2LongHashMap(64, 0.65f, NONE);
    private final int[] heads;
    private final int[] tails;
    private long[] keys = new long[INITIAL_CAPACITY];
    private long[] deadlines = new long[INITIAL_CAPACITY];
    private int[] localIps = new int[INITIAL_CAPACITY];
    private int[] irss = new int[INITIAL_CAPACITY];
    private int[] isss = new int[INITIAL_CAPACITY];
    private int[] tsRecents = new int[INITIAL_CAPACITY];
    private int[] next = new int[INITIAL_CAPACITY];
    private int[] previous = new int[INITIAL_CAPACITY];
    private char[] peerMss = new char[INITIAL_CAPACITY];
    private byte[] peerShifts = new byte[INITIAL_CAPACITY];
    private byte[] flags = new byte[INITIAL_CAPACITY];
    private byte[] retries = new byte[INITIAL_CAPACITY];
    private Listener[] listeners = new Listener[INITIAL_CAPACITY];
    private int created;
    private int freeHead = NONE;
    private int size;
    private long emptySinceNs = Long.MIN_VALUE;

    SynReceivedTable(
        final TcpConfig config, final IsnGenerator isnGenerator, final TcpSegmentOutput output,
        final TcpStackCounters counters, final ChallengeAckLimiter challengeAcks, final int maxRecords,
        final int maxRetries)
    {
        if (maxRecords < 1 || maxRetries < 0 || maxRetries > 30)
        {
            throw new IllegalArgumentException("maxRecords >= 1, maxRetries 0..30, got " + maxRecords + ", " +
                maxRetries);
        }
        this.config = config;
        this.isnGenerator = isnGenerator;
        this.output = output;
        this.counters = counters;
        this.challengeAcks = challengeAcks;
        this.maxRecords = maxRecords;
        this.maxRetries = maxRetries;
        this.heads = new int[maxRetries + 1];
        this.tails = new int[maxRetries + 1];
        Arrays.fill(heads, NONE);
        Arrays.fill(tails, NONE);
    }

    /**
     * Whether another record fits (otherwise the SYN is treated as beyond the backlog: a cookie or a drop).
     *
     * @return true if full.
     */
    boolean isFull()
    {
        return size == maxRecords;
    }

    /**
     * Records a SYN (no ACK, no RST; no connection or record for its 4-tuple) and sends the SYN-ACK. Text on the
     * SYN is not kept (the peer sends it again once the handshake completes), as Linux without TCP Fast Open.
     *
     * @param key      the 4-tuple's key.
     * @param syn      the SYN.
     * @param localIp  our address.
     * @param listener its listener (counted in its backlog until the record goes).
     * @param nowNs    the duty cycle's time.
     */
    void add(final long key, final TcpSegment syn, final int localIp, final Listener listener, final long nowNs)
    {
        final int record = take();
        final int localPort = syn.destinationPort();
        final TcpOptions peer = syn.options();
        int flag = 0;
        if (config.sack() && peer.sackPermitted())
        {
            flag |= SACK;
        }
        if (config.timestamps() && peer.hasTimestamps())
        {
            flag |= TIMESTAMPS;
        }
        if (config.windowScaling() && peer.hasWindowScale())
        {
            flag |= SCALING;
        }
        keys[record] = key;
        localIps[record] = localIp;
        irss[record] = syn.seq();
        isss[record] = isnGenerator.nextIsn(localIp, localPort, syn.sourceIp(), syn.sourcePort(), nowNs);
        tsRecents[record] = peer.hasTimestamps() ? peer.timestampValue() : 0;
        peerMss[record] = (char)(peer.hasMss() ? peer.mss() : 0);
        peerShifts[record] = (byte)(peer.hasWindowScale() ? peer.windowScale() : 0);
        flags[record] = (byte)flag;
        retries[record] = 0;
        listeners[record] = listener;
        listener.synReceived++;
        index.put(key, record);
        size++;
        append(record, 0, nowNs + FIRST_TIMEOUT_NS);
        sendSynAck(record, nowNs);
    }

    /**
     * The record of a 4-tuple.
     *
     * @param key the 4-tuple's key.
     * @return the record, or -1.
     */
    int find(final long key)
    {
        return size == 0 ? NONE : (int)index.get(key);
    }

    /**
     * Answers a segment for a half-open 4-tuple (see the class comment).
     *
     * @param record  from {@link #find}.
     * @param segment the segment (its options parsed without error).
     * @param nowNs   the duty cycle's time.
     * @return {@link #HANDLED}, {@link #PROMOTE} or {@link #OTHER_ACK}.
     */
    int onSegment(final int record, final TcpSegment segment, final long nowNs)
    {
        final int controls = segment.flags() & (SYN | ACK | RST);
        final int rcvNxt = irss[record] + 1;
        if (controls == SYN && segment.seq() == irss[record])
        {
            sendSynAck(record, nowNs); // the peer retransmitted its SYN: our SYN-ACK was lost
            counters.synAcksRetransmitted++;
            return HANDLED;
        }
        if (!TcpConnection.isAcceptable(segment.seq(), segment.segLen(), rcvNxt, window()))
        {
            if ((controls & RST) == 0)
            {
                sendAck(record, segment, nowNs); // §3.10.7.4 first
            }
            return HANDLED;
        }
        if ((controls & RST) != 0)
        {
            if (segment.seq() == rcvNxt)
            {
                remove(record); // §3.10.7.4 second: back to LISTEN
                counters.synReceivedReset++;
            }
            else if (challengeAcks.tryAcquire(nowNs))
            {
                sendAck(record, segment, nowNs); // RFC 5961 §3.2
            }
            return HANDLED;
        }
        if ((controls & SYN) != 0)
        {
            remove(record); // §3.10.7.4 fourth: a passive OPEN returns to LISTEN
            counters.synReceivedReset++;
            return HANDLED;
        }
        if ((controls & ACK) == 0)
        {
            return HANDLED; // fifth: no ACK, drop
        }
        if (segment.ack() != isss[record] + 1)
        {
            return OTHER_ACK; // fifth: <SEQ=SEG.ACK><CTL=RST> unless it returns a cookie (Listeners)
        }
        return PROMOTE;
    }

    /**
     * Makes the connection of a record whose handshake completed: {@link TcpConnection#synReceivedFromRecord}.
     *
     * @param record     the record.
     * @param connection a connection in LISTEN on the record's local address and port.
     * @param segment    the segment that completed the handshake.
     * @param nowNs      the duty cycle's time.
     */
    void restore(final int record, final TcpConnection connection, final TcpSegment segment, final long nowNs)
    {
        final int flag = flags[record];
        options.clear();
        if (peerMss[record] != 0)
        {
            options.mss(peerMss[record]);
        }
        if ((flag & SCALING) != 0)
        {
            options.windowScale(peerShifts[record]);
        }
        options.sackPermitted((flag & SACK) != 0);
        if ((flag & TIMESTAMPS) != 0)
        {
            options.timestamps(tsRecents[record], 0);
        }
        connection.synReceivedFromRecord(segment.sourceIp(), segment.sourcePort(), irss[record], isss[record],
            options, retries[record] > 0, nowNs);
    }

    /**
     * The listener a record counts against.
     *
     * @param record the record.
     * @return the listener.
     */
    Listener listener(final int record)
    {
        return listeners[record];
    }

    /**
     * The ISS of a record (an ICMP error quoting our SYN-ACK names it).
     *
     * @param record the record.
     * @return ISS.
     */
    int iss(final int record)
    {
        return isss[record];
    }

    /**
     * Drops a record: its listener's backlog place is freed.
     *
     * @param record the record.
     */
    void remove(final int record)
    {
        unlink(record);
        index.remove(keys[record]);
        listeners[record].synReceived--;
        listeners[record] = null;
        next[record] = freeHead;
        freeHead = record;
        size--;
    }

    /**
     * Retransmits the SYN-ACKs that are due and drops the records whose last retransmission went unanswered.
     *
     * @param nowNs the duty cycle's time.
     * @return SYN-ACKs sent plus records dropped.
     */
    int expire(final long nowNs)
    {
        if (size == 0)
        {
            return created > INITIAL_CAPACITY ? shrinkIfIdle(nowNs) : 0;
        }
        emptySinceNs = Long.MIN_VALUE;
        int work = 0;
        for (int level = maxRetries; level >= 0; level--)
        {
            int record;
            while ((record = heads[level]) != NONE && nowNs - deadlines[record] >= 0)
            {
                work++;
                unlink(record);
                if (level == maxRetries)
                {
                    linkAlone(record);
                    remove(record);
                    counters.synReceivedTimedOut++;
                    continue;
                }
                retries[record] = (byte)(level + 1);
                append(record, level + 1, nowNs + (FIRST_TIMEOUT_NS << (level + 1)));
                sendSynAck(record, nowNs);
                counters.synAcksRetransmitted++;
            }
        }
        return work;
    }

    /**
     * Half-open connections held.
     *
     * @return count.
     */
    int size()
    {
        return size;
    }

    /**
     * The earliest SYN-ACK retransmission or expiry.
     *
     * @return the deadline, or {@link TcpConnection#NO_DEADLINE}.
     */
    long firstDeadlineNs()
    {
        long first = TcpConnection.NO_DEADLINE;
        for (int level = 0; level <= maxRetries; level++)
        {
            if (heads[level] != NONE && (first == TcpConnection.NO_DEADLINE || deadlines[heads[level]] - first < 0))
            {
                first = deadlines[heads[level]];
            }
        }
        return first;
    }

    /**
     * The records the arrays hold now (grown, or back to the initial size).
     *
     * @return capacity.
     */
    int capacity()
    {
        return keys.length;
    }

    // empty since the last storm: after SHRINK_AFTER_NS the arrays and the map go back to their initial size
    private int shrinkIfIdle(final long nowNs)
    {
        if (emptySinceNs == Long.MIN_VALUE)
        {
            emptySinceNs = nowNs;
            return 0;
        }
        if (nowNs - emptySinceNs < SHRINK_AFTER_NS)
        {
            return 0;
        }
        resize(INITIAL_CAPACITY); // nothing is kept: every record is gone
        created = 0;
        freeHead = NONE;
        index = new Long2LongHashMap(64, 0.65f, NONE);
        emptySinceNs = Long.MIN_VALUE;
        return 1;
    }

    private int window()
    {
        return Math.min(config.receiveBufferBytes(), TcpConnection.MAX_UNSCALED_WINDOW);
    }

    private void sendSynAck(final int record, final long nowNs)
    {
        final long key = keys[record];
        final int remoteIp = (int)(key >>> 32);
        final int remotePort = (int)(key >>> 16) & 0xFFFF;
        final int localPort = (int)key & 0xFFFF;
        final int localIp = localIps[record];
        final int flag = flags[record];
        final boolean timestamps = (flag & TIMESTAMPS) != 0;
        SynAcks.send(config, output, options, localIp, localPort, remoteIp, remotePort, isss[record],
            irss[record] + 1, (flag & SCALING) != 0, (flag & SACK) != 0, timestamps,
            timestamps ? SynAcks.tsVal(isnGenerator, localIp, localPort, remoteIp, remotePort, nowNs) : 0,
            tsRecents[record]);
    }

    // an ACK of SYN-RECEIVED: <SEQ=ISS+1><ACK=RCV.NXT>, with timestamps when they are in use
    private void sendAck(final int record, final TcpSegment segment, final long nowNs)
    {
        final int localIp = localIps[record];
        final int window = window();
        if ((flags[record] & TIMESTAMPS) != 0)
        {
            options.clear().timestamps(SynAcks.tsVal(isnGenerator, localIp, segment.destinationPort(),
                segment.sourceIp(), segment.sourcePort(), nowNs), tsRecents[record]);
            output.sendSegment(localIp, segment.destinationPort(), segment.sourceIp(), segment.sourcePort(),
                isss[record] + 1, irss[record] + 1, ACK, window, options, null, 0);
        }
        else
        {
            output.sendControl(localIp, segment.destinationPort(), segment.sourceIp(), segment.sourcePort(),
                isss[record] + 1, irss[record] + 1, ACK, window, TcpSegmentOutput.NO_MSS_OPTION);
        }
    }

    private int take()
    {
        if (freeHead != NONE)
        {
            final int record = freeHead;
            freeHead = next[record];
            return record;
        }
        if (created == keys.length)
        {
            grow();
        }
        return created++;
    }

    private void grow()
    {
        resize(Math.min(maxRecords, keys.length * 2));
    }

    private void resize(final int capacity)
    {
        keys = Arrays.copyOf(keys, capacity);
        deadlines = Arrays.copyOf(deadlines, capacity);
        localIps = Arrays.copyOf(localIps, capacity);
        irss = Arrays.copyOf(irss, capacity);
        isss = Arrays.copyOf(isss, capacity);
        tsRecents = Arrays.copyOf(tsRecents, capacity);
        next = Arrays.copyOf(next, capacity);
        previous = Arrays.copyOf(previous, capacity);
        peerMss = Arrays.copyOf(peerMss, capacity);
        peerShifts = Arrays.copyOf(peerShifts, capacity);
        flags = Arrays.copyOf(flags, capacity);
        retries = Arrays.copyOf(retries, capacity);
        listeners = Arrays.copyOf(listeners, capacity);
    }

    // at the tail of its retransmission count's list: every record there waits the same time, so the list stays
    // in deadline order
    private void append(final int record, final int level, final long deadlineNs)
    {
        deadlines[record] = deadlineNs;
        retries[record] = (byte)level;
        next[record] = NONE;
        previous[record] = tails[level];
        if (tails[level] == NONE)
        {
            heads[level] = record;
        }
        else
        {
            next[tails[level]] = record;
        }
        tails[level] = record;
    }

    private void unlink(final int record)
    {
        final int level = retries[record];
        final int before = previous[record];
        final int after = next[record];
        if (before == NONE)
        {
            if (heads[level] == record)
            {
                heads[level] = after;
            }
        }
        else
        {
            next[before] = after;
        }
        if (after == NONE)
        {
            if (tails[level] == record)
            {
                tails[level] = before;
            }
        }
        else
        {
            previous[after] = before;
        }
        linkAlone(record);
    }

    private void linkAlone(final int record)
    {
        next[record] = NONE;
        previous[record] = NONE;
    }
}
