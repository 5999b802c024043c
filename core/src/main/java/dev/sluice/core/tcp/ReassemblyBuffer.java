package dev.sluice.core.tcp;

import org.agrona.DirectBuffer;

/**
 * Out-of-order segments held for later processing (SHLD-31, RFC 9293 §3.10.7.4 "segment text"): a
 * bounded store of payload bytes beyond RCV.NXT, keyed by sequence number.
 *
 * <p>Received buffers die after the burst, so payload is copied, into {@link ChunkPool} chunks taken only while
 * something is held: an empty store holds no memory at all. The store is a virtual ring of
 * {@link #storeBytes()} (the capacity, at most what one table chunk can index: 2 MiB with 4 KiB chunks) where
 * the byte with sequence number {@code s} lives at ring index {@code s & (storeBytes - 1)} (a power of two
 * divides 2<sup>32</sup>); a table in one chunk maps each chunk-sized piece of the ring to a data chunk, taken
 * when a byte first lands in it. Which bytes are present is kept, in the same table chunk, as at most
 * {@code maxRanges} disjoint, non-adjacent {@code [start, end)} ranges sorted by sequence number; ranges that
 * touch are merged. When the last range is delivered or discarded, every chunk goes back to the pool.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>Each byte is stored once: an insert copies only the parts not already held, and keeps the
 *       bytes that arrived first (like Linux). Bytes before RCV.NXT are duplicates and are trimmed.</li>
 *   <li>Bytes at or beyond {@code RCV.NXT + min(rcvWnd, storeBytes)} are dropped, never stored.</li>
 *   <li>An insert that would need more than {@code maxRanges} ranges is dropped whole, so a peer cannot
 *       fragment the store into arbitrarily many pieces.</li>
 *   <li>An insert for which the pool has no chunk left is dropped whole ({@link #memoryDrops()} counts
 *       them); bytes already held, and in-order data, are never affected.</li>
 *   <li>Each insert reports what it did: the return value counts new bytes, and
 *       {@link #lastDuplicateBytes()} / {@link #lastDroppedBytes()} count what was not stored, so the
 *       caller can keep counters.</li>
 * </ul>
 * {@link #readInOrder} hands the contiguous bytes starting at RCV.NXT to a {@link Sink} and forgets them;
 * the caller then advances RCV.NXT by the returned count. If the caller advances RCV.NXT by other means
 * (in-order data delivered straight from the received frame), held bytes below it are discarded on the
 * next call.
 *
 * <p>No method allocates. Single-threaded.
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
         * In-order bytes; a range spread over several chunks arrives in several calls.
         *
         * @param buffer holding the bytes.
         * @param offset of the first byte.
         * @param length bytes.
         */
        void onData(DirectBuffer buffer, int offset, int length);
    }

    private static final int NO_CHUNK = ChunkPool.NO_CHUNK;

    /** The shape of a store, shared by every connection of a stack: a TCB carries only its own state. */
    static final class Geometry
    {
        final int capacity;
        final int storeBytes;
        final int storeMask;
        final int chunkBytes;
        final int chunkShift;
        final int chunkMask;
        final int pieceBytes; // bytes of a data chunk used: min(chunkBytes, storeBytes)
        final int entries;
        final int entriesOffset;
        final int maxRanges;

        Geometry(final int capacity, final int maxRanges, final int chunkBytes)
        {
            this.capacity = capacity;
            this.maxRanges = maxRanges;
            this.chunkBytes = chunkBytes;
            this.chunkShift = Integer.numberOfTrailingZeros(chunkBytes);
            this.chunkMask = chunkBytes - 1;
            this.storeBytes = (int)Math.min(capacity, (long)maxEntries(chunkBytes, maxRanges) * chunkBytes);
            this.storeMask = storeBytes - 1;
            this.pieceBytes = Math.min(chunkBytes, storeBytes);
            this.entries = Math.max(1, storeBytes >>> chunkShift);
            this.entriesOffset = maxRanges * 8;
        }
    }

    private final ChunkPool pool;
    private final Geometry geometry;
    private int table = NO_CHUNK; // ranges at [0, 8 * maxRanges), then one data chunk id per ring piece
    private int rangeCount;
    private int bufferedBytes;
    private int lastDuplicateBytes;
    private int lastDroppedBytes;
    private int epoch;
    private long memoryDrops;

    // the shard's payload memory (a receiver clamps its window by it under pressure)
    ChunkPool pool()
    {
        return pool;
    }

    /**
     * A store with a private pool just large enough for it (for use outside a stack, e.g. tests).
     *
     * @param capacityBytes a power of two up to 2^30, e.g. {@link TcpConfig#receiveBufferBytes()}.
     * @param maxRanges     most disjoint ranges held, e.g. {@link TcpConfig#maxReassemblyRanges()}.
     * @throws IllegalArgumentException if the capacity is not a power of two in 1..2^30 or maxRanges
     *                                  is not positive.
     */
    public ReassemblyBuffer(final int capacityBytes, final int maxRanges)
    {
        this(capacityBytes, maxRanges, ChunkPool.forOneConnection(1, checkCapacity(capacityBytes)));
    }

    /**
     * A store taking its chunks from a shard's pool.
     *
     * @param capacityBytes a power of two up to 2^30: bytes beyond RCV.NXT held at most (capped to what one
     *                      table chunk indexes).
     * @param maxRanges     most disjoint ranges held, 1..(chunk bytes - 4) / 8.
     * @param pool          where chunks come from.
     * @throws IllegalArgumentException if the capacity is not a power of two in 1..2^30 or maxRanges
     *                                  is out of range.
     */
    public ReassemblyBuffer(final int capacityBytes, final int maxRanges, final ChunkPool pool)
    {
        checkCapacity(capacityBytes);
        final int chunkBytes = pool.chunkBytes();
        if (maxRanges <= 0 || maxRanges * 8 + 4 > chunkBytes)
        {
            throw new IllegalArgumentException("maxRanges must be 1.." + (chunkBytes - 4) / 8 + ", got " + maxRanges);
        }
        this.pool = pool;
        this.geometry = pool.reassemblyGeometry(capacityBytes, maxRanges);
    }

    private static int checkCapacity(final int capacityBytes)
    {
        if (capacityBytes <= 0 || capacityBytes > TcpConfig.MAX_BUFFER_BYTES || Integer.bitCount(capacityBytes) != 1)
        {
            throw new IllegalArgumentException("capacityBytes must be a power of two in 1..2^30, got " +
                capacityBytes);
        }
        return capacityBytes;
    }

    private static int maxEntries(final int chunkBytes, final int maxRanges)
    {
        return Integer.highestOneBit((chunkBytes - maxRanges * 8) / 4);
    }

    /**
     * Most chunks one store of this capacity can hold at once (the table included).
     *
     * @param capacityBytes the capacity.
     * @param chunkBytes    the pool's chunk size.
     * @return chunks.
     */
    static int maxChunksFor(final int capacityBytes, final int chunkBytes)
    {
        final long store = Math.min(capacityBytes, (long)maxEntries(chunkBytes, 1) * chunkBytes);
        return (int)Math.max(1, store / chunkBytes) + 1;
    }

    /**
     * Forgets everything held (the chunks go back to the pool), for reuse of a connection.
     */
    public void clear()
    {
        freeAll();
        lastDuplicateBytes = 0;
        lastDroppedBytes = 0;
    }

    /**
     * Copies the new bytes of a segment's payload into the store (SHLD-31).
     *
     * @param rcvNxt       RCV.NXT: bytes before it are duplicates.
     * @param rcvWnd       RCV.WND: bytes at or after {@code RCV.NXT + min(rcvWnd, storeBytes)} are dropped.
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

        final long window = Math.min(geometry.storeBytes, Math.max(0, rcvWnd));
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
        while (first < rangeCount && offsetOf(rangeEnd(first), rcvNxt) < s)
        {
            first++;
        }
        int afterLast = first;
        while (afterLast < rangeCount && offsetOf(rangeStart(afterLast), rcvNxt) <= e)
        {
            afterLast++;
        }
        final int merged = afterLast - first;
        if (rangeCount - merged + 1 > geometry.maxRanges || !reserve(rcvNxt, s, e))
        {
            lastDroppedBytes += (int)(e - s);
            return 0;
        }

        long cursor = s;
        int stored = 0;
        for (int i = first; i < afterLast; i++)
        {
            final long rangeStart = offsetOf(rangeStart(i), rcvNxt);
            if (rangeStart > cursor)
            {
                stored += copyIn(rcvNxt, cursor, rangeStart, source, sourceOffset, segmentStart);
            }
            cursor = Math.max(cursor, offsetOf(rangeEnd(i), rcvNxt));
        }
        if (cursor < e)
        {
            stored += copyIn(rcvNxt, cursor, e, source, sourceOffset, segmentStart);
        }
        lastDuplicateBytes += (int)(e - s) - stored;
        bufferedBytes += stored;

        final int newStart = merged > 0 ? SequenceNumbers.min(rangeStart(first), rcvNxt + (int)s) : rcvNxt + (int)s;
        final int newEnd = merged > 0 ? SequenceNumbers.max(rangeEnd(afterLast - 1), rcvNxt + (int)e) : rcvNxt + (int)e;
        if (merged == 0)
        {
            moveRanges(first, first + 1, rangeCount - first);
            rangeCount++;
        }
        else if (merged > 1)
        {
            moveRanges(afterLast, first + 1, rangeCount - afterLast);
            rangeCount -= merged - 1;
        }
        setRange(first, newStart, newEnd);
        return stored;
    }

    // takes the table and every data chunk [s, e) lands in; false (and nothing held leaks) if the pool is spent
    private boolean reserve(final int rcvNxt, final long s, final long e)
    {
        if (table == NO_CHUNK)
        {
            final int chunk = pool.allocate();
            if (chunk == NO_CHUNK)
            {
                memoryDrops++;
                return false;
            }
            table = chunk;
            for (int i = 0; i < geometry.entries; i++)
            {
                pool.putInt(table, geometry.entriesOffset + 4 * i, NO_CHUNK);
            }
        }
        long pos = s;
        while (pos < e)
        {
            final int ringIndex = (rcvNxt + (int)pos) & geometry.storeMask;
            final int entry = geometry.entriesOffset + 4 * (ringIndex >>> geometry.chunkShift);
            if (pool.getInt(table, entry) == NO_CHUNK)
            {
                final int chunk = pool.allocate();
                if (chunk == NO_CHUNK)
                {
                    memoryDrops++;
                    if (rangeCount == 0)
                    {
                        freeAll();
                    }
                    return false;
                }
                pool.putInt(table, entry, chunk);
            }
            pos += geometry.pieceBytes - (ringIndex & geometry.chunkMask);
        }
        return true;
    }

    /**
     * Delivers the held bytes that start exactly at RCV.NXT, if any, and forgets them. The caller advances
     * RCV.NXT by the returned count. When nothing is left held, the chunks go back to the pool.
     *
     * @param rcvNxt RCV.NXT.
     * @param sink   receives the bytes (one call per chunk the range spans).
     * @return bytes delivered, 0 if the first hole is still open.
     */
    public int readInOrder(final int rcvNxt, final Sink sink)
    {
        discardBefore(rcvNxt);
        if (rangeCount == 0 || rangeStart(0) != rcvNxt)
        {
            return 0;
        }
        final int length = rangeEnd(0) - rcvNxt;
        final int tableChunk = table;
        final int startEpoch = epoch;
        removeFirstRange();
        bufferedBytes -= length;
        int done = 0;
        while (done < length && epoch == startEpoch) // the sink may have closed (and cleared) the connection
        {
            final int ringIndex = (rcvNxt + done) & geometry.storeMask;
            final int chunk = pool.getInt(tableChunk, geometry.entriesOffset + 4 * (ringIndex >>> geometry.chunkShift));
            final int offset = ringIndex & geometry.chunkMask;
            final int n = Math.min(length - done, geometry.pieceBytes - offset);
            done += n;
            sink.onData(pool.buffer(chunk), pool.offset(chunk) + offset, n);
        }
        if (rangeCount == 0 && epoch == startEpoch)
        {
            freeAll();
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
        return pool.getInt(table, index * 8);
    }

    /**
     * Sequence number after the last byte of a held range.
     *
     * @param index 0..rangeCount - 1.
     * @return sequence number.
     */
    public int rangeEnd(final int index)
    {
        return pool.getInt(table, index * 8 + 4);
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
     * Out-of-order inserts dropped because the pool had no chunk left.
     *
     * @return count.
     */
    public long memoryDrops()
    {
        return memoryDrops;
    }

    /**
     * Chunks held now (table included; 0 when nothing is held).
     *
     * @return chunks.
     */
    public int chunkCount()
    {
        if (table == NO_CHUNK)
        {
            return 0;
        }
        int count = 1;
        for (int i = 0; i < geometry.entries; i++)
        {
            if (pool.getInt(table, geometry.entriesOffset + 4 * i) != NO_CHUNK)
            {
                count++;
            }
        }
        return count;
    }

    /**
     * Bytes beyond RCV.NXT this store can hold: the capacity, capped to what one table chunk indexes.
     *
     * @return bytes, a power of two.
     */
    public int storeBytes()
    {
        return geometry.storeBytes;
    }

    /**
     * Byte capacity.
     *
     * @return bytes.
     */
    public int capacity()
    {
        return geometry.capacity;
    }

    /**
     * Most ranges held.
     *
     * @return ranges.
     */
    public int maxRanges()
    {
        return geometry.maxRanges;
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
        int done = 0;
        while (done < length)
        {
            final int ringIndex = (rcvNxt + (int)from + done) & geometry.storeMask;
            final int chunk = pool.getInt(table, geometry.entriesOffset + 4 * (ringIndex >>> geometry.chunkShift));
            final int offset = ringIndex & geometry.chunkMask;
            final int n = Math.min(length - done, geometry.pieceBytes - offset);
            pool.putBytes(chunk, offset, source, sourceOffset + (int)(from - segmentStart) + done, n);
            done += n;
        }
        return length;
    }

    private void discardBefore(final int rcvNxt)
    {
        while (rangeCount > 0)
        {
            final int start = rangeStart(0);
            final int end = rangeEnd(0);
            if (SequenceNumbers.le(end, rcvNxt))
            {
                bufferedBytes -= end - start;
                removeFirstRange();
            }
            else
            {
                if (SequenceNumbers.lt(start, rcvNxt))
                {
                    bufferedBytes -= rcvNxt - start;
                    setRange(0, rcvNxt, end);
                }
                return;
            }
        }
        if (table != NO_CHUNK)
        {
            freeAll();
        }
    }

    private void removeFirstRange()
    {
        rangeCount--;
        moveRanges(1, 0, rangeCount);
    }

    private void setRange(final int index, final int start, final int end)
    {
        pool.putInt(table, index * 8, start);
        pool.putInt(table, index * 8 + 4, end);
    }

    // moves count ranges from index from to index to (overlapping moves copy in the safe direction)
    private void moveRanges(final int from, final int to, final int count)
    {
        if (to > from)
        {
            for (int i = count - 1; i >= 0; i--)
            {
                setRange(to + i, rangeStart(from + i), rangeEnd(from + i));
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                setRange(to + i, rangeStart(from + i), rangeEnd(from + i));
            }
        }
    }

    private void freeAll()
    {
        if (table != NO_CHUNK)
        {
            for (int i = 0; i < geometry.entries; i++)
            {
                final int chunk = pool.getInt(table, geometry.entriesOffset + 4 * i);
                if (chunk != NO_CHUNK)
                {
                    pool.free(chunk);
                }
            }
            pool.free(table);
            table = NO_CHUNK;
        }
        rangeCount = 0;
        bufferedBytes = 0;
        epoch++;
    }
}
