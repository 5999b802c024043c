package dev.sluice.core.tcp;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * Out-of-order segments held for later processing (SHLD-31, RFC 9293 §3.10.7.4 "segment text"): a
 * bounded store of payload bytes beyond RCV.NXT, keyed by sequence number.
 *
 * <p>Received buffers die after the burst, so payload is copied, into an off-heap ring where the byte
 * with sequence number {@code s} lives at index {@code s & (capacity - 1)} (the capacity is a power of
 * two and so divides 2<sup>32</sup>). Which bytes are present is kept as at most {@code maxRanges}
 * disjoint, non-adjacent {@code [start, end)} ranges sorted by sequence number; ranges that touch are
 * merged.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>Each byte is stored once: an insert copies only the parts not already held, and keeps the
 *       bytes that arrived first (like Linux). Bytes before RCV.NXT are duplicates and are trimmed.</li>
 *   <li>Bytes at or beyond {@code RCV.NXT + min(rcvWnd, capacity)} are dropped, never stored.</li>
 *   <li>An insert that would need more than {@code maxRanges} ranges is dropped whole, so a peer cannot
 *       fragment the store into arbitrarily many pieces.</li>
 *   <li>Each insert reports what it did: the return value counts new bytes, and
 *       {@link #lastDuplicateBytes()} / {@link #lastDroppedBytes()} count what was not stored, so the
 *       caller can keep counters.</li>
 * </ul>
 * {@link #readInOrder} hands the contiguous bytes starting at RCV.NXT to a {@link Sink} and forgets them;
 * the caller then advances RCV.NXT by the returned count. If the caller advances RCV.NXT by other means
 * (in-order data delivered straight from the received frame), held bytes below it are discarded on the
 * next call.
 *
 * <p>All memory is allocated in the constructor; no method allocates. Single-threaded.
 */
public final class ReassemblyBuffer
{
    /**
     * Receives in-order bytes. The buffer is only valid during the call. Implement it on a long-lived
     * object (e.g. the connection) rather than with a capturing lambda, which would allocate.
     */
    @FunctionalInterface
    public interface Sink
    {
        /**
         * In-order bytes; a range split by the end of the ring arrives in two calls.
         *
         * @param buffer holding the bytes.
         * @param offset of the first byte.
         * @param length bytes.
         */
        void onData(DirectBuffer buffer, int offset, int length);
    }

    private final UnsafeBuffer ring;
    private final int capacity;
    private final int mask;
    private final int maxRanges;
    private final int[] rangeStarts;
    private final int[] rangeEnds;
    private int rangeCount;
    private int bufferedBytes;
    private int lastDuplicateBytes;
    private int lastDroppedBytes;

    /**
     * Allocates the store off-heap.
     *
     * @param capacityBytes a power of two up to 2^30, e.g. {@link TcpConfig#receiveBufferBytes()}.
     * @param maxRanges     most disjoint ranges held, e.g. {@link TcpConfig#maxReassemblyRanges()}.
     * @throws IllegalArgumentException if the capacity is not a power of two in 1..2^30 or maxRanges
     *                                  is not positive.
     */
    public ReassemblyBuffer(final int capacityBytes, final int maxRanges)
    {
        if (capacityBytes <= 0 || capacityBytes > TcpConfig.MAX_BUFFER_BYTES || Integer.bitCount(capacityBytes) != 1)
        {
            throw new IllegalArgumentException("capacityBytes must be a power of two in 1..2^30, got " +
                capacityBytes);
        }
        if (maxRanges <= 0)
        {
            throw new IllegalArgumentException("maxRanges must be > 0, got " + maxRanges);
        }
        this.capacity = capacityBytes;
        this.mask = capacityBytes - 1;
        this.maxRanges = maxRanges;
        this.rangeStarts = new int[maxRanges];
        this.rangeEnds = new int[maxRanges];
        this.ring = new UnsafeBuffer(ByteBuffer.allocateDirect(capacityBytes));
    }

    /**
     * Forgets everything held, for reuse of a pooled connection.
     */
    public void clear()
    {
        rangeCount = 0;
        bufferedBytes = 0;
        lastDuplicateBytes = 0;
        lastDroppedBytes = 0;
    }

    /**
     * Copies the new bytes of a segment's payload into the store (SHLD-31).
     *
     * @param rcvNxt       RCV.NXT: bytes before it are duplicates.
     * @param rcvWnd       RCV.WND: bytes at or after {@code RCV.NXT + min(rcvWnd, capacity)} are dropped.
     * @param seq          SEG.SEQ of the first payload byte.
     * @param source       buffer holding the payload.
     * @param sourceOffset offset of the first payload byte.
     * @param length       payload length.
     * @return bytes newly stored; see {@link #lastDuplicateBytes()} and {@link #lastDroppedBytes()} for
     * the rest.
     */
    public int insert(
        final int rcvNxt, final int rcvWnd, final int seq, final DirectBuffer source, final int sourceOffset,
        final int length)
    {
        lastDuplicateBytes = 0;
        lastDroppedBytes = 0;
        if (length <= 0)
        {
            return 0;
        }
        discardBefore(rcvNxt);

        final long window = Math.min(capacity, Math.max(0, rcvWnd));
        final long segmentStart = seq - rcvNxt;
        final long segmentEnd = segmentStart + length;
        final long s = Math.max(0, segmentStart);
        if (segmentEnd <= s)
        {
            lastDuplicateBytes = length;
            return 0;
        }
        if (s >= window)
        {
            lastDuplicateBytes = (int)(s - segmentStart);
            lastDroppedBytes = (int)(segmentEnd - s);
            return 0;
        }
        final long e = Math.min(segmentEnd, window);
        lastDuplicateBytes = (int)(s - segmentStart);
        lastDroppedBytes = (int)(segmentEnd - e);

        // ranges [first, afterLast) overlap or touch [s, e) and merge with it
        int first = 0;
        while (first < rangeCount && offsetOf(rangeEnds[first], rcvNxt) < s)
        {
            first++;
        }
        int afterLast = first;
        while (afterLast < rangeCount && offsetOf(rangeStarts[afterLast], rcvNxt) <= e)
        {
            afterLast++;
        }
        final int merged = afterLast - first;
        if (rangeCount - merged + 1 > maxRanges)
        {
            lastDroppedBytes += (int)(e - s);
            return 0;
        }

        long cursor = s;
        int stored = 0;
        for (int i = first; i < afterLast; i++)
        {
            final long rangeStart = offsetOf(rangeStarts[i], rcvNxt);
            if (rangeStart > cursor)
            {
                stored += copyIn(rcvNxt, cursor, rangeStart, source, sourceOffset, segmentStart);
            }
            cursor = Math.max(cursor, offsetOf(rangeEnds[i], rcvNxt));
        }
        if (cursor < e)
        {
            stored += copyIn(rcvNxt, cursor, e, source, sourceOffset, segmentStart);
        }
        lastDuplicateBytes += (int)(e - s) - stored;
        bufferedBytes += stored;

        final int newStart = merged > 0 ? SequenceNumbers.min(rangeStarts[first], rcvNxt + (int)s) : rcvNxt + (int)s;
        final int newEnd = merged > 0 ? SequenceNumbers.max(rangeEnds[afterLast - 1], rcvNxt + (int)e) : rcvNxt + (int)e;
        if (merged == 0)
        {
            System.arraycopy(rangeStarts, first, rangeStarts, first + 1, rangeCount - first);
            System.arraycopy(rangeEnds, first, rangeEnds, first + 1, rangeCount - first);
            rangeCount++;
        }
        else if (merged > 1)
        {
            System.arraycopy(rangeStarts, afterLast, rangeStarts, first + 1, rangeCount - afterLast);
            System.arraycopy(rangeEnds, afterLast, rangeEnds, first + 1, rangeCount - afterLast);
            rangeCount -= merged - 1;
        }
        rangeStarts[first] = newStart;
        rangeEnds[first] = newEnd;
        return stored;
    }

    /**
     * Delivers the held bytes that start exactly at RCV.NXT, if any, and forgets them. The caller advances
     * RCV.NXT by the returned count.
     *
     * @param rcvNxt RCV.NXT.
     * @param sink   receives the bytes (one or two calls).
     * @return bytes delivered, 0 if the first hole is still open.
     */
    public int readInOrder(final int rcvNxt, final Sink sink)
    {
        discardBefore(rcvNxt);
        if (rangeCount == 0 || rangeStarts[0] != rcvNxt)
        {
            return 0;
        }
        final int length = rangeEnds[0] - rcvNxt;
        final int index = rcvNxt & mask;
        final int firstChunk = Math.min(length, capacity - index);
        removeFirstRange();
        bufferedBytes -= length;
        sink.onData(ring, index, firstChunk);
        if (firstChunk < length)
        {
            sink.onData(ring, 0, length - firstChunk);
        }
        return length;
    }

    /**
     * Bytes held.
     *
     * @return bytes.
     */
    public int bufferedBytes()
    {
        return bufferedBytes;
    }

    /**
     * Whether nothing is held.
     *
     * @return true when empty.
     */
    public boolean isEmpty()
    {
        return rangeCount == 0;
    }

    /**
     * Number of disjoint ranges held (the source of SACK blocks).
     *
     * @return 0..maxRanges.
     */
    public int rangeCount()
    {
        return rangeCount;
    }

    /**
     * First sequence number of a held range, ranges sorted by sequence number.
     *
     * @param index 0..rangeCount - 1.
     * @return sequence number.
     */
    public int rangeStart(final int index)
    {
        return rangeStarts[index];
    }

    /**
     * Sequence number after the last byte of a held range.
     *
     * @param index 0..rangeCount - 1.
     * @return sequence number.
     */
    public int rangeEnd(final int index)
    {
        return rangeEnds[index];
    }

    /**
     * Bytes of the last insert that were already held or already delivered (before RCV.NXT).
     *
     * @return bytes.
     */
    public int lastDuplicateBytes()
    {
        return lastDuplicateBytes;
    }

    /**
     * Bytes of the last insert dropped for lack of window, capacity or ranges.
     *
     * @return bytes.
     */
    public int lastDroppedBytes()
    {
        return lastDroppedBytes;
    }

    /**
     * Byte capacity.
     *
     * @return bytes.
     */
    public int capacity()
    {
        return capacity;
    }

    /**
     * Most ranges held.
     *
     * @return ranges.
     */
    public int maxRanges()
    {
        return maxRanges;
    }

    private static long offsetOf(final int seq, final int rcvNxt)
    {
        return seq - rcvNxt;
    }

    private int copyIn(
        final int rcvNxt, final long from, final long to, final DirectBuffer source, final int sourceOffset,
        final long segmentStart)
    {
        final int length = (int)(to - from);
        final int index = (rcvNxt + (int)from) & mask;
        final int sourceIndex = sourceOffset + (int)(from - segmentStart);
        final int firstChunk = Math.min(length, capacity - index);
        ring.putBytes(index, source, sourceIndex, firstChunk);
        if (firstChunk < length)
        {
            ring.putBytes(0, source, sourceIndex + firstChunk, length - firstChunk);
        }
        return length;
    }

    private void discardBefore(final int rcvNxt)
    {
        while (rangeCount > 0)
        {
            if (SequenceNumbers.le(rangeEnds[0], rcvNxt))
            {
                bufferedBytes -= rangeEnds[0] - rangeStarts[0];
                removeFirstRange();
            }
            else
            {
                if (SequenceNumbers.lt(rangeStarts[0], rcvNxt))
                {
                    bufferedBytes -= rcvNxt - rangeStarts[0];
                    rangeStarts[0] = rcvNxt;
                }
                return;
            }
        }
    }

    private void removeFirstRange()
    {
        rangeCount--;
        System.arraycopy(rangeStarts, 1, rangeStarts, 0, rangeCount);
        System.arraycopy(rangeEnds, 1, rangeEnds, 0, rangeCount);
    }
}
