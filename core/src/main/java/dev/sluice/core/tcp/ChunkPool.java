package dev.sluice.core.tcp;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One shard's payload memory: fixed-size off-heap chunks that connections take while they hold bytes (send
 * queue, out-of-order data) and give back as soon as those drain. Memory follows data, not connections: an
 * idle connection holds no chunk, and the configured send and receive buffer sizes are limits (windows), not
 * allocations.
 *
 * <ul>
 *   <li>Chunks are {@link #chunkBytes()} bytes (a power of two) carved from slabs of direct memory. Slabs are
 *       allocated on first need, up to {@link #maxChunks()} chunks in all (the budget): a shard that never holds
 *       much data never reserves much. A slab allocation is a one-time event, not a per-segment one: freed
 *       chunks are reused first.</li>
 *   <li>Chunks are taken from the lowest slab that has one free (a bitmap of slabs with free chunks), so data
 *       packs into few slabs and the others drain. A slab whose chunks have all been free across a whole
 *       {@link #SLAB_DECAY_NS} period is given back to the operating system by {@link #releaseIdleSlabs(long)}
 *       (its direct buffer freed at once, not at some later GC), as Linux returns the pages of drained socket
 *       buffers: a shard whose connections all went idle holds no payload memory at all. The decay period keeps
 *       a connection that buffers now and then from freeing and re-reserving a slab per segment.</li>
 *   <li>{@link #allocate()} returns a chunk id or {@link #NO_CHUNK} when the budget is spent (or the JVM
 *       refuses more direct memory: the pool then stops growing). It never throws; callers shrink what they
 *       accept (send back-pressure, out-of-order data dropped and counted).</li>
 *   <li>{@link #underPressure()} is true while fewer than {@link #reserveChunks()} chunks remain: new
 *       connections are refused and receive windows stop growing, so the connections already open keep room
 *       for their data.</li>
 *   <li>Each chunk has a link slot ({@link #next}/{@link #next(int, int)}) for chunk lists (the send queue).</li>
 * </ul>
 * Single-threaded (one shard); no method allocates except slab growth after a slab was needed and not held.
 */
public final class ChunkPool
{
    /** No chunk: {@link #allocate()} failed, or the end of a list. */
    public static final int NO_CHUNK = -1;
    /** Default chunk size: a page (whole MSS-sized segments fit, a table of 1,024 entries fits one chunk). */
    public static final int DEFAULT_CHUNK_BYTES = 4096;
    /**
     * Default slab: 1 MiB of chunks per direct allocation: small enough that a slab drains (and is given back)
     * soon after the data in it, and that reserving one again costs tens of microseconds, not milliseconds.
     */
    public static final int DEFAULT_SLAB_BYTES = 1 << 20;
    /** A slab entirely free for this long (one to two periods of {@link #releaseIdleSlabs(long)}) is released. */
    public static final long SLAB_DECAY_NS = 1_000_000_000L;

    private static final byte[] RELEASED = new byte[0];
    private static final int INITIAL_DEFERRED = 4096;

    private final int chunkBytes;
    private final int chunkShift;
    private final int slabShift;
    private final int slabMask;
    private final int maxChunks;
    private final int reserveChunks;
    private final UnsafeBuffer[] slabs;
    // the free chunks of slab s are freeStack[s << slabShift .. (s << slabShift) + slabFree[s] - 1]
    private final int[] freeStack;
    private final int[] slabFree;
    private final int[] next;
    private final long[] liveSlabs;
    private final long[] slabsWithFree;
    private final long[] emptyAtLastCheck;
    private int freeCount;
    private int reservedChunks;
    private int growthLimit;
    private long allocations;
    private long allocationFailures;
    private long slabsReleased;
    private long nextReleaseCheckNs = Long.MIN_VALUE;
    private int peakInUse;
    private ReassemblyBuffer.Geometry geometry;
    private ChunkReferences references;
    private int[] deferred = new int[0]; // freed chunks still referenced (zero-copy transmit), oldest first
    private int deferredCount;
    private long deferrals;

    /**
     * Creates an empty pool: no memory is reserved until the first {@link #allocate()}.
     *
     * @param chunkBytes    chunk size, a power of two in 64..2^20.
     * @param maxChunks     the budget in chunks, &gt;= 1.
     * @param slabBytes     bytes per direct allocation, a power of two &gt;= chunkBytes (capped to the budget).
     * @param reserveChunks chunks kept for open connections: below this many free, {@link #underPressure()}.
     */
    public ChunkPool(final int chunkBytes, final int maxChunks, final int slabBytes, final int reserveChunks)
    {
        if (chunkBytes < 64 || chunkBytes > (1 << 20) || Integer.bitCount(chunkBytes) != 1)
        {
            throw new IllegalArgumentException("chunkBytes must be a power of two in 64..2^20, got " + chunkBytes);
        }
        if (maxChunks < 1)
        {
            throw new IllegalArgumentException("maxChunks must be >= 1, got " + maxChunks);
        }
        if (slabBytes < chunkBytes || Integer.bitCount(slabBytes) != 1)
        {
            throw new IllegalArgumentException("slabBytes must be a power of two >= chunkBytes, got " + slabBytes);
        }
        if (reserveChunks < 0 || reserveChunks > 0 && reserveChunks >= maxChunks)
        {
            throw new IllegalArgumentException("reserveChunks must be 0..maxChunks - 1, got " + reserveChunks);
        }
        this.chunkBytes = chunkBytes;
        this.chunkShift = Integer.numberOfTrailingZeros(chunkBytes);
        final int chunksPerSlab = Math.min(slabBytes / chunkBytes,
            Integer.highestOneBit(maxChunks) == maxChunks ? maxChunks : Integer.highestOneBit(maxChunks) << 1);
        this.slabShift = Integer.numberOfTrailingZeros(chunksPerSlab);
        this.slabMask = chunksPerSlab - 1;
        this.maxChunks = maxChunks;
        this.growthLimit = maxChunks;
        this.reserveChunks = reserveChunks;
        final int slabCount = (maxChunks + chunksPerSlab - 1) / chunksPerSlab;
        this.slabs = new UnsafeBuffer[slabCount];
        this.freeStack = new int[maxChunks];
        this.slabFree = new int[slabCount];
        this.next = new int[maxChunks];
        this.liveSlabs = new long[(slabCount + 63) >>> 6];
        this.slabsWithFree = new long[liveSlabs.length];
        this.emptyAtLastCheck = new long[liveSlabs.length];
    }

    /**
     * A pool of {@link #DEFAULT_CHUNK_BYTES} chunks for a memory budget, with 1/16 of it as the reserve.
     *
     * @param budgetBytes bytes of payload memory, &gt;= one chunk.
     * @return the pool.
     */
    public static ChunkPool ofBudget(final long budgetBytes)
    {
        final int chunks = (int)Math.max(1, Math.min(Integer.MAX_VALUE - 8, budgetBytes / DEFAULT_CHUNK_BYTES));
        return new ChunkPool(DEFAULT_CHUNK_BYTES, chunks, DEFAULT_SLAB_BYTES, chunks / 16);
    }

    /**
     * A private pool holding exactly what one connection's buffers may need at most (for connections made
     * outside a stack, e.g. in tests): never under pressure.
     *
     * @param sendBufferBytes    send queue limit.
     * @param receiveBufferBytes receive (reassembly) limit.
     * @return the pool.
     */
    public static ChunkPool forOneConnection(final int sendBufferBytes, final int receiveBufferBytes)
    {
        final int chunks = chunksFor(sendBufferBytes) + ReassemblyBuffer.maxChunksFor(receiveBufferBytes,
            DEFAULT_CHUNK_BYTES);
        return new ChunkPool(DEFAULT_CHUNK_BYTES, chunks, DEFAULT_SLAB_BYTES, 0);
    }

    private static int chunksFor(final int bytes)
    {
        // a queue of n bytes not aligned to chunk boundaries spans at most n / chunk + 1 chunks
        return bytes / DEFAULT_CHUNK_BYTES + 1;
    }

    // the stores of one stack share one shape (one TCP configuration per stack)
    ReassemblyBuffer.Geometry reassemblyGeometry(final int capacityBytes, final int maxRanges)
    {
        final ReassemblyBuffer.Geometry g = geometry;
        if (g != null && g.capacity == capacityBytes && g.maxRanges == maxRanges)
        {
            return g;
        }
        final ReassemblyBuffer.Geometry created = new ReassemblyBuffer.Geometry(capacityBytes, maxRanges, chunkBytes);
        geometry = created;
        return created;
    }

    /**
     * Takes a free chunk, from the lowest slab that has one.
     *
     * @return its id, or {@link #NO_CHUNK} when the budget is spent.
     */
    public int allocate()
    {
        int slab = firstSet(slabsWithFree);
        if (slab < 0 && (slab = grow()) < 0)
        {
            allocationFailures++;
            return NO_CHUNK;
        }
        final int free = --slabFree[slab];
        final int chunk = freeStack[(slab << slabShift) + free];
        if (free == 0)
        {
            clear(slabsWithFree, slab);
        }
        clear(emptyAtLastCheck, slab);
        freeCount--;
        next[chunk] = NO_CHUNK;
        allocations++;
        final int inUse = reservedChunks - freeCount;
        if (inUse > peakInUse)
        {
            peakInUse = inUse;
        }
        return chunk;
    }

    /**
     * Gives a chunk back.
     *
     * @param chunk an id from {@link #allocate()} not yet freed.
     */
    public void free(final int chunk)
    {
        if (references != null && references.isReferenced(chunk))
        {
            defer(chunk);
            return;
        }
        release(chunk);
    }

    // a referenced chunk is neither reused nor counted free (so its slab is not released) until let go
    private void defer(final int chunk)
    {
        if (deferredCount == deferred.length)
        {
            // grows to the most chunks ever referenced at once (bounded by the budget), then never again
            deferred = Arrays.copyOf(deferred, Math.min(maxChunks, Math.max(64, deferred.length << 1)));
        }
        deferred[deferredCount++] = chunk;
        deferrals++;
    }

    /**
     * Takes back the deferred chunks ({@link #free} of a chunk still referenced) that nothing refers to any
     * more: called from the shard's poll, once per duty cycle (nothing to do, one comparison, nearly always).
     *
     * @return chunks taken back.
     */
    public int reclaimDeferred()
    {
        if (deferredCount == 0)
        {
            return 0;
        }
        int kept = 0;
        final int count = deferredCount;
        for (int i = 0; i < count; i++)
        {
            final int chunk = deferred[i];
            if (references.isReferenced(chunk))
            {
                deferred[kept++] = chunk;
            }
            else
            {
                release(chunk);
            }
        }
        deferredCount = kept;
        return count - kept;
    }

    /**
     * Lets the pool ask who else refers to a chunk before reusing it (zero-copy transmit); set once, before
     * use.
     *
     * @param references the device's references, or null for none.
     */
    public void references(final ChunkReferences references)
    {
        this.references = references;
        // room for as many deferred chunks as a busy shard holds in flight, reserved now, not on the data path
        if (references != null && deferred.length == 0)
        {
            deferred = new int[Math.min(maxChunks, INITIAL_DEFERRED)];
        }
    }

    /**
     * Chunks freed while still referenced, waiting for {@link #reclaimDeferred()}.
     *
     * @return chunks.
     */
    public int deferredChunks()
    {
        return deferredCount;
    }

    /**
     * Frees that found their chunk still referenced, so far.
     *
     * @return count.
     */
    public long deferrals()
    {
        return deferrals;
    }

    private void release(final int chunk)
    {
        final int slab = chunk >>> slabShift;
        freeStack[(slab << slabShift) + slabFree[slab]++] = chunk;
        set(slabsWithFree, slab);
        freeCount++;
    }

    /**
     * Gives back to the operating system every slab whose chunks have all been free since the previous check,
     * checking at most once per {@link #SLAB_DECAY_NS}: called from the shard's poll. The slab's direct buffer is
     * freed at once; a stale view of it (an application keeping a buffer past its callback) then reads nothing
     * (a bounds-check exception) instead of freed memory.
     *
     * @param nowNs the duty cycle's time.
     * @return slabs released (0 nearly always).
     */
    public int releaseIdleSlabs(final long nowNs)
    {
        if (nowNs - nextReleaseCheckNs < 0 && nextReleaseCheckNs != Long.MIN_VALUE)
        {
            return 0;
        }
        nextReleaseCheckNs = nowNs + SLAB_DECAY_NS;
        int released = 0;
        for (int word = 0; word < liveSlabs.length; word++)
        {
            long live = liveSlabs[word];
            while (live != 0)
            {
                final int slab = (word << 6) + Long.numberOfTrailingZeros(live);
                live &= live - 1;
                if (slabFree[slab] != slabChunks(slab))
                {
                    clear(emptyAtLastCheck, slab);
                }
                else if (isSet(emptyAtLastCheck, slab))
                {
                    releaseSlab(slab);
                    released++;
                }
                else
                {
                    set(emptyAtLastCheck, slab);
                }
            }
        }
        slabsReleased += released;
        return released;
    }

    private void releaseSlab(final int slab)
    {
        final UnsafeBuffer buffer = slabs[slab];
        final ByteBuffer direct = buffer.byteBuffer();
        buffer.wrap(RELEASED);
        BufferUtil.free(direct);
        final int chunks = slabChunks(slab);
        slabFree[slab] = 0;
        freeCount -= chunks;
        reservedChunks -= chunks;
        clear(liveSlabs, slab);
        clear(slabsWithFree, slab);
        clear(emptyAtLastCheck, slab);
    }

    // reserves the lowest slab not held: its index, or -1 past the budget (or the JVM's direct memory limit)
    private int grow()
    {
        final int slab = firstClear(liveSlabs, slabs.length);
        if (slab < 0)
        {
            return -1;
        }
        final int chunks = slabChunks(slab);
        if (reservedChunks + chunks > growthLimit)
        {
            return -1;
        }
        try
        {
            final ByteBuffer direct = ByteBuffer.allocateDirect(chunks << chunkShift);
            if (slabs[slab] == null)
            {
                slabs[slab] = new UnsafeBuffer(direct);
            }
            else
            {
                slabs[slab].wrap(direct); // the same view object as before its release
            }
        }
        catch (final OutOfMemoryError ex)
        {
            growthLimit = reservedChunks; // the JVM's direct memory limit is below the budget: stop here
            return -1;
        }
        final int first = slab << slabShift;
        for (int i = 0; i < chunks; i++)
        {
            freeStack[first + i] = first + chunks - 1 - i; // the lowest chunk on top
        }
        slabFree[slab] = chunks;
        freeCount += chunks;
        reservedChunks += chunks;
        set(liveSlabs, slab);
        set(slabsWithFree, slab);
        return slab;
    }

    private int slabChunks(final int slab)
    {
        return Math.min(slabMask + 1, maxChunks - (slab << slabShift));
    }

    private static int firstSet(final long[] bits)
    {
        for (int word = 0; word < bits.length; word++)
        {
            if (bits[word] != 0)
            {
                return (word << 6) + Long.numberOfTrailingZeros(bits[word]);
            }
        }
        return -1;
    }

    private static int firstClear(final long[] bits, final int limit)
    {
        for (int word = 0; word < bits.length; word++)
        {
            if (bits[word] != -1L)
            {
                final int index = (word << 6) + Long.numberOfTrailingZeros(~bits[word]);
                return index < limit ? index : -1;
            }
        }
        return -1;
    }

    private static boolean isSet(final long[] bits, final int index)
    {
        return (bits[index >>> 6] & (1L << index)) != 0;
    }

    private static void set(final long[] bits, final int index)
    {
        bits[index >>> 6] |= 1L << index;
    }

    private static void clear(final long[] bits, final int index)
    {
        bits[index >>> 6] &= ~(1L << index);
    }

    /**
     * The slab buffer holding a chunk; the chunk starts at {@link #offset(int)} in it.
     *
     * @param chunk a chunk id.
     * @return the buffer.
     */
    public UnsafeBuffer buffer(final int chunk)
    {
        return slabs[chunk >>> slabShift];
    }

    /**
     * Where a chunk starts in its {@link #buffer(int)}.
     *
     * @param chunk a chunk id.
     * @return byte offset.
     */
    public int offset(final int chunk)
    {
        return (chunk & slabMask) << chunkShift;
    }

    /**
     * The native address of a chunk's first byte (for handing its memory to a device by reference), valid while
     * the chunk is held.
     *
     * @param chunk a chunk id.
     * @return the address.
     */
    public long address(final int chunk)
    {
        return slabs[chunk >>> slabShift].addressOffset() + ((long)(chunk & slabMask) << chunkShift);
    }

    /**
     * Copies bytes into a chunk.
     *
     * @param chunk        chunk id.
     * @param offset       offset in the chunk.
     * @param source       where the bytes come from.
     * @param sourceOffset first byte.
     * @param length       bytes, {@code offset + length <= chunkBytes}.
     */
    public void putBytes(
        final int chunk, final int offset, final DirectBuffer source, final int sourceOffset, final int length)
    {
        slabs[chunk >>> slabShift].putBytes(((chunk & slabMask) << chunkShift) + offset, source, sourceOffset, length);
    }

    /**
     * Copies bytes out of a chunk.
     *
     * @param chunk             chunk id.
     * @param offset            offset in the chunk.
     * @param destination       where the bytes go.
     * @param destinationOffset first byte.
     * @param length            bytes, {@code offset + length <= chunkBytes}.
     */
    public void getBytes(
        final int chunk, final int offset, final MutableDirectBuffer destination, final int destinationOffset,
        final int length)
    {
        destination.putBytes(destinationOffset, slabs[chunk >>> slabShift], ((chunk & slabMask) << chunkShift) + offset,
            length);
    }

    /**
     * Reads an int stored in a chunk (tables kept off-heap).
     *
     * @param chunk  chunk id.
     * @param offset offset in the chunk.
     * @return the value.
     */
    public int getInt(final int chunk, final int offset)
    {
        return slabs[chunk >>> slabShift].getInt(((chunk & slabMask) << chunkShift) + offset);
    }

    /**
     * Stores an int in a chunk.
     *
     * @param chunk  chunk id.
     * @param offset offset in the chunk.
     * @param value  the value.
     */
    public void putInt(final int chunk, final int offset, final int value)
    {
        slabs[chunk >>> slabShift].putInt(((chunk & slabMask) << chunkShift) + offset, value);
    }

    /**
     * The chunk after this one in a list.
     *
     * @param chunk chunk id.
     * @return the next chunk or {@link #NO_CHUNK}.
     */
    public int next(final int chunk)
    {
        return next[chunk];
    }

    /**
     * Links a chunk to the next one in a list.
     *
     * @param chunk     chunk id.
     * @param nextChunk the next chunk or {@link #NO_CHUNK}.
     */
    public void next(final int chunk, final int nextChunk)
    {
        next[chunk] = nextChunk;
    }

    /**
     * Whether fewer than {@link #reserveChunks()} chunks remain: refuse new connections, grow no window.
     *
     * @return true under memory pressure.
     */
    public boolean underPressure()
    {
        return availableChunks() < reserveChunks;
    }

    /**
     * Chunks that {@link #allocate()} can still return (free plus not yet created within the budget).
     *
     * @return chunks.
     */
    public int availableChunks()
    {
        return freeCount + (growthLimit - reservedChunks);
    }

    /**
     * Chunks held by connections now.
     *
     * @return chunks.
     */
    public int inUseChunks()
    {
        return reservedChunks - freeCount;
    }

    /**
     * Most chunks held at once so far.
     *
     * @return chunks.
     */
    public int peakInUseChunks()
    {
        return peakInUse;
    }

    /**
     * Bytes of direct memory reserved now (slabs held: allocated and not yet released).
     *
     * @return bytes.
     */
    public long reservedBytes()
    {
        return (long)reservedChunks << chunkShift;
    }

    /**
     * Slabs given back by {@link #releaseIdleSlabs(long)} so far.
     *
     * @return count.
     */
    public long slabsReleased()
    {
        return slabsReleased;
    }

    /**
     * Successful {@link #allocate()} calls.
     *
     * @return count.
     */
    public long allocations()
    {
        return allocations;
    }

    /**
     * {@link #allocate()} calls that found the budget spent.
     *
     * @return count.
     */
    public long allocationFailures()
    {
        return allocationFailures;
    }

    /**
     * Chunk size.
     *
     * @return bytes, a power of two.
     */
    public int chunkBytes()
    {
        return chunkBytes;
    }

    /**
     * The budget.
     *
     * @return chunks.
     */
    public int maxChunks()
    {
        return maxChunks;
    }

    /**
     * Chunks kept for open connections.
     *
     * @return chunks.
     */
    public int reserveChunks()
    {
        return reserveChunks;
    }
}
