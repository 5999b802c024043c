package dev.sluice.core.stack;

import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;

import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpSegment;
import dev.sluice.core.tcp.TcpSegmentOutput;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.collections.Long2LongHashMap;

import java.util.Arrays;

/**
 * Compact TIME-WAIT: when a connection enters TIME-WAIT its TCB goes back to the free list and this table keeps
 * what TIME-WAIT needs (RFC 9293 §3.10.7.4, MUST-13): the 4-tuple, SND.NXT, RCV.NXT, the window, TS.Recent when
 * timestamps are in effect (RFC 7323: every ACK then carries the option, or the peer drops it) and the
 * 2&middot;MSL deadline, 37 bytes in parallel primitive arrays plus a primitive map entry (Linux's
 * {@code inet_timewait_sock} plays this part). Records are kept in a ring in deadline order (every record lives
 * 2&middot;MSL from its last restart, so a restarted one moves to the tail); expiry looks at the head only.
 *
 * <p>What a record answers, as the connection did in TIME-WAIT:
 * <ul>
 *   <li>The peer's retransmitted FIN (its LAST-ACK lost our ACK): ACKed again and the 2&middot;MSL restarted
 *       (MUST-13).</li>
 *   <li>A RST exactly at RCV.NXT ends TIME-WAIT (§3.10.7.4 second; the connection had completed, RFC 1337); one
 *       elsewhere in the window gets a challenge ACK (RFC 5961 §3.2, the stack-wide limit applies); others are
 *       dropped.</li>
 *   <li>A SYN whose sequence number is above RCV.NXT reopens the 4-tuple as a new connection (RFC 9293
 *       §3.10.7.4 via RFC 1122 4.2.2.13 and RFC 6191; timestamps are not implemented, so the ISN test is the
 *       one that applies): the record is dropped ({@link TcpStackCounters#timeWaitReused()}) and the listener
 *       gets the SYN. Any other SYN gets an ACK (RFC 5961 §4).</li>
 *   <li>Other segments outside the window get an ACK (§3.10.7.4 first); inside it they are ignored.</li>
 * </ul>
 * At most {@code maxRecords} records: beyond that the oldest is recycled early
 * ({@link TcpStackCounters#timeWaitRecycled()}; Linux's {@code tcp_max_tw_buckets}, where Linux drops the new
 * one instead). Single-threaded; no allocation after the arrays have grown to the peak number of records.
 */
final class TimeWaitTable
{
    /** {@link #onSegment}: handled, nothing more to do. */
    static final int HANDLED = 0;
    /** {@link #onSegment}: the record is gone, hand the SYN to the listener as a new connection. */
    static final int REOPEN = 1;

    private static final long NONE = -1L;
    private static final long DEAD = 0L; // a key is never 0: ports are never 0

    private final TcpStackCounters counters;
    private final ChallengeAckLimiter challengeAcks;
    private final int maxRecords;
    private final Long2LongHashMap index = new Long2LongHashMap(64, 0.65f, NONE);
    private long[] keys = new long[16];
    private long[] deadlines = new long[16];
    private int[] localIps = new int[16];
    private int[] sndNxts = new int[16];
    private int[] rcvNxts = new int[16];
    private int[] windows = new int[16];
    private int[] tsRecents = new int[16];
    private boolean[] timestamps = new boolean[16];
    private final IsnGenerator isnGenerator;
    private final TcpOptions options = new TcpOptions();
    private int head;
    private int used; // ring positions from head, dead ones included
    private int live;

    TimeWaitTable(
        final TcpStackCounters counters, final ChallengeAckLimiter challengeAcks, final IsnGenerator isnGenerator,
        final int maxRecords)
    {
        this.isnGenerator = isnGenerator;
        if (maxRecords < 1)
        {
            throw new IllegalArgumentException("maxRecords must be >= 1, got " + maxRecords);
        }
        this.counters = counters;
        this.challengeAcks = challengeAcks;
        this.maxRecords = maxRecords;
    }

    /**
     * Records a connection entering TIME-WAIT.
     *
     * @param key        its key in the connection table.
     * @param connection the connection, in TIME-WAIT.
     * @param deadlineNs when TIME-WAIT ends.
     */
    void add(final long key, final TcpConnection connection, final long deadlineNs)
    {
        if (live == maxRecords)
        {
            recycleOldest();
        }
        append(key, connection.localIp(), connection.sndNxt(), connection.rcvNxt(),
            Math.min(connection.rcvWnd(), TcpConnection.MAX_UNSCALED_WINDOW), deadlineNs,
            connection.timestampsEnabled(), connection.tsRecent());
        live++;
        counters.timeWaitEntered++;
    }

    private void append(
        final long key, final int localIp, final int sndNxt, final int rcvNxt, final int window, final long deadlineNs,
        final boolean timestamp, final int tsRecent)
    {
        if (used == keys.length)
        {
            grow();
        }
        final int position = (head + used) % keys.length;
        keys[position] = key;
        localIps[position] = localIp;
        sndNxts[position] = sndNxt;
        rcvNxts[position] = rcvNxt;
        windows[position] = window;
        deadlines[position] = deadlineNs;
        timestamps[position] = timestamp;
        tsRecents[position] = tsRecent;
        used++;
        index.put(key, position);
    }

    private void grow()
    {
        final int capacity = keys.length;
        final long[] newKeys = new long[capacity * 2];
        final long[] newDeadlines = new long[capacity * 2];
        final int[] newLocalIps = new int[capacity * 2];
        final int[] newSndNxts = new int[capacity * 2];
        final int[] newRcvNxts = new int[capacity * 2];
        final int[] newWindows = new int[capacity * 2];
        final int[] newTsRecents = new int[capacity * 2];
        final boolean[] newTimestamps = new boolean[capacity * 2];
        int count = 0;
        for (int i = 0; i < used; i++)
        {
            final int from = (head + i) % capacity;
            if (keys[from] != DEAD)
            {
                newKeys[count] = keys[from];
                newDeadlines[count] = deadlines[from];
                newLocalIps[count] = localIps[from];
                newSndNxts[count] = sndNxts[from];
                newRcvNxts[count] = rcvNxts[from];
                newWindows[count] = windows[from];
                newTsRecents[count] = tsRecents[from];
                newTimestamps[count] = timestamps[from];
                index.put(keys[from], count);
                count++;
            }
        }
        keys = newKeys;
        deadlines = newDeadlines;
        localIps = newLocalIps;
        sndNxts = newSndNxts;
        rcvNxts = newRcvNxts;
        windows = newWindows;
        tsRecents = newTsRecents;
        timestamps = newTimestamps;
        head = 0;
        used = count;
    }

    private void recycleOldest()
    {
        while (used > 0)
        {
            final int position = head;
            final long key = keys[position];
            popHead();
            if (key != DEAD)
            {
                index.remove(key);
                live--;
                counters.timeWaitRecycled++;
                return;
            }
        }
    }

    private void popHead()
    {
        keys[head] = DEAD;
        head = (head + 1) % keys.length;
        used--;
    }

    private void remove(final int position)
    {
        index.remove(keys[position]);
        keys[position] = DEAD;
        live--;
    }

    /**
     * The record of a 4-tuple.
     *
     * @param key the connection key.
     * @return its position, or -1.
     */
    int find(final long key)
    {
        return live == 0 ? -1 : (int)index.get(key);
    }

    /**
     * Answers a segment for a 4-tuple in TIME-WAIT.
     *
     * @param position   the record, from {@link #find}.
     * @param segment    the segment.
     * @param output     where replies go.
     * @param timeWaitNs 2&middot;MSL.
     * @param nowNs      the duty cycle's time.
     * @return {@link #HANDLED} or {@link #REOPEN}.
     */
    int onSegment(
        final int position, final TcpSegment segment, final TcpSegmentOutput output, final long timeWaitNs,
        final long nowNs)
    {
        counters.timeWaitSegments++;
        final int rcvNxt = rcvNxts[position];
        final int window = windows[position];
        if (segment.has(RST))
        {
            if (segment.seq() == rcvNxt)
            {
                remove(position); // §3.10.7.4 second: CLOSED (the connection had completed: RFC 1337)
            }
            else if (TcpConnection.isAcceptable(segment.seq(), 0, rcvNxt, window) && challengeAcks.tryAcquire(nowNs))
            {
                sendAck(position, segment, output, nowNs); // RFC 5961 §3.2
            }
            return HANDLED;
        }
        if (segment.has(SYN) && !segment.has(ACK) && (gt(segment.seq(), rcvNxt) || newerTimestamp(position, segment)))
        {
            remove(position); // RFC 6191 / RFC 1122 4.2.2.13: a new incarnation above the old sequence space
            counters.timeWaitReused++;
            return REOPEN;
        }
        if (segment.has(FIN) && segment.seq() + segment.segLen() == rcvNxt)
        {
            restart(position, nowNs + timeWaitNs); // the peer's LAST-ACK lost our ACK (MUST-13)
            sendAck(find(keyOf(segment)), segment, output, nowNs);
            return HANDLED;
        }
        final boolean acceptable = TcpConnection.isAcceptable(segment.seq(), segment.segLen(), rcvNxt, window);
        if (!acceptable)
        {
            sendAck(position, segment, output, nowNs); // §3.10.7.4 first
        }
        else if (segment.has(SYN) && challengeAcks.tryAcquire(nowNs))
        {
            sendAck(position, segment, output, nowNs); // RFC 5961 §4.2
        }
        return HANDLED;
    }

    // RFC 6191 §2: with timestamps, a SYN whose TSval is above TS.Recent is a new incarnation
    private boolean newerTimestamp(final int position, final TcpSegment segment)
    {
        return timestamps[position] && segment.options().hasTimestamps() &&
            segment.options().timestampValue() - tsRecents[position] > 0;
    }

    private static long keyOf(final TcpSegment segment)
    {
        return TcpStack.connectionKey(segment.sourceIp(), segment.sourcePort(), segment.destinationPort());
    }

    private void sendAck(
        final int position, final TcpSegment segment, final TcpSegmentOutput output, final long nowNs)
    {
        if (timestamps[position])
        {
            // TSval on the connection's clock (its 4-tuple's offset, RFC 7323 §7.1), TSecr = TS.Recent
            final int localIp = localIps[position];
            final int tsVal = (int)(nowNs / 1_000_000L) + isnGenerator.timestampOffset(
                localIp, segment.destinationPort(), segment.sourceIp(), segment.sourcePort());
            options.clear().timestamps(tsVal, tsRecents[position]);
            output.sendSegment(localIp, segment.destinationPort(), segment.sourceIp(), segment.sourcePort(),
                sndNxts[position], rcvNxts[position], ACK, windows[position], options, null, 0);
        }
        else
        {
            output.sendControl(localIps[position], segment.destinationPort(), segment.sourceIp(),
                segment.sourcePort(), sndNxts[position], rcvNxts[position], ACK, windows[position],
                TcpSegmentOutput.NO_MSS_OPTION);
        }
        counters.timeWaitAcks++;
    }

    // the record moves to the tail: the ring stays in deadline order
    private void restart(final int position, final long deadlineNs)
    {
        final long key = keys[position];
        final int localIp = localIps[position];
        final int sndNxt = sndNxts[position];
        final int rcvNxt = rcvNxts[position];
        final int window = windows[position];
        keys[position] = DEAD;
        append(key, localIp, sndNxt, rcvNxt, window, deadlineNs, timestamps[position], tsRecents[position]);
    }

    /**
     * Ends the TIME-WAIT of every record whose deadline has passed.
     *
     * @param nowNs the duty cycle's time.
     * @return records ended.
     */
    int expire(final long nowNs)
    {
        int expired = 0;
        while (used > 0)
        {
            final int position = head;
            final long key = keys[position];
            if (key == DEAD)
            {
                popHead();
                continue;
            }
            if (nowNs - deadlines[position] < 0)
            {
                break;
            }
            index.remove(key);
            popHead();
            live--;
            expired++;
        }
        return expired;
    }

    /**
     * Records held.
     *
     * @return count.
     */
    int size()
    {
        return live;
    }

    /**
     * When the latest record ends.
     *
     * @return the deadline, or {@link TcpConnection#NO_DEADLINE} when empty.
     */
    long lastDeadlineNs()
    {
        for (int i = used - 1; i >= 0; i--)
        {
            final int position = (head + i) % keys.length;
            if (keys[position] != DEAD)
            {
                return deadlines[position];
            }
        }
        return TcpConnection.NO_DEADLINE;
    }

    /**
     * When the oldest record ends.
     *
     * @return the deadline, or {@link TcpConnection#NO_DEADLINE} when empty.
     */
    long firstDeadlineNs()
    {
        for (int i = 0; i < used; i++)
        {
            final int position = (head + i) % keys.length;
            if (keys[position] != DEAD)
            {
                return deadlines[position];
            }
        }
        return TcpConnection.NO_DEADLINE;
    }

    /** Forgets every record. */
    void clear()
    {
        Arrays.fill(keys, DEAD);
        index.clear();
        head = 0;
        used = 0;
        live = 0;
    }
}
