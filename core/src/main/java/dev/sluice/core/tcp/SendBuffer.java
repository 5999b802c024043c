package dev.sluice.core.tcp;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The send queue of one connection: bytes addressed by sequence number, stored in {@link ChunkPool} chunks
 * taken while bytes are queued and given back as soon as they are acknowledged.
 *
 * <pre>
 *            headSeq (SND.UNA for data)              tailSeq (next byte the application appends)
 *               v                                       v
 *   ... acked | sent, not yet acknowledged | not yet sent | free ...
 *                                          ^
 *                                       SND.NXT (kept by the connection)
 * </pre>
 *
 * The bytes live in a list of chunks; the first chunk starts at sequence number {@code baseSeq}, each next
 * one {@link ChunkPool#chunkBytes()} later. The application appends ({@link #append}, which accepts only what
 * fits the capacity and what the pool can give: back-pressure); the connection copies any range of
 * unacknowledged bytes into an outgoing frame for the first transmission or a retransmission ({@link #read},
 * which remembers where the last read ended, so sending a window in order walks the list once) and frees
 * bytes when they are acknowledged ({@link #release}: a chunk whose bytes are all acknowledged goes back to
 * the pool at once, and an empty queue holds no chunk). The capacity is a limit, not an allocation. SYN and
 * FIN occupy sequence space but no bytes here: the connection starts the buffer at ISS + 1 and accounts for
 * its FIN itself.
 *
 * <p>No method allocates. Single-threaded.
 */
public final class SendBuffer
{
    /** Returned by {@link #read} when the requested start is not in {@code [headSeq, tailSeq]}. */
    public static final int NOT_BUFFERED = -1;

    private final ChunkPool pool;
    private final int capacity;
    private int headSeq;
    private int tailSeq;
    private int baseSeq; // sequence number of the first byte of headChunk
    private int tailBase; // sequence number of the first byte of tailChunk
    private int headChunk = ChunkPool.NO_CHUNK;
    private int tailChunk = ChunkPool.NO_CHUNK;
    private int cursorChunk = ChunkPool.NO_CHUNK; // where the last read ended
    private int cursorBase;

    /**
     * A send queue with a private pool just large enough for it (for use outside a stack, e.g. tests).
     *
     * @param capacityBytes a power of two up to 2^30, e.g. {@link TcpConfig#sendBufferBytes()}.
     * @throws IllegalArgumentException if the capacity is not a power of two in 1..2^30.
     */
    public SendBuffer(final int capacityBytes)
    {
        this(capacityBytes, ChunkPool.forOneConnection(checkCapacity(capacityBytes), 1));
    }

    /**
     * A send queue taking its storage from a shard's pool.
     *
     * @param capacityBytes a power of two up to 2^30: the most bytes queued at once.
     * @param pool          where chunks come from.
     * @throws IllegalArgumentException if the capacity is not a power of two in 1..2^30.
     */
    public SendBuffer(final int capacityBytes, final ChunkPool pool)
    {
        this.capacity = checkCapacity(capacityBytes);
        this.pool = pool;
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

    /**
     * Empties the buffer (its chunks go back to the pool) and sets the sequence number of the first byte to
     * be appended (ISS + 1 on a new connection).
     *
     * @param startSeq sequence number of the next appended byte.
     */
    public void reset(final int startSeq)
    {
        freeAll();
        headSeq = startSeq;
        tailSeq = startSeq;
    }

    /**
     * Copies as many bytes as fit from the application (SEND). Accepting fewer than offered is the
     * back-pressure signal: the application retries when told the connection is writable.
     *
     * @param source       bytes to send.
     * @param sourceOffset offset of the first byte.
     * @param length       bytes offered, &gt;= 0.
     * @return bytes accepted, 0..length (fewer than fit when the pool is spent).
     */
    public int append(final DirectBuffer source, final int sourceOffset, final int length)
    {
        final int chunkBytes = pool.chunkBytes();
        final int accepted = Math.min(length, freeBytes());
        if (accepted <= 0)
        {
            return 0;
        }
        if (tailChunk == ChunkPool.NO_CHUNK)
        {
            final int chunk = pool.allocate();
            if (chunk == ChunkPool.NO_CHUNK)
            {
                return 0;
            }
            headChunk = chunk;
            tailChunk = chunk;
            baseSeq = tailSeq;
            tailBase = tailSeq;
        }
        int done = 0;
        while (done < accepted)
        {
            int used = tailSeq - tailBase;
            if (used == chunkBytes)
            {
                final int chunk = pool.allocate();
                if (chunk == ChunkPool.NO_CHUNK)
                {
                    break;
                }
                pool.next(tailChunk, chunk);
                tailChunk = chunk;
                tailBase += chunkBytes;
                used = 0;
            }
            final int n = Math.min(accepted - done, chunkBytes - used);
            pool.putBytes(tailChunk, used, source, sourceOffset + done, n);
            tailSeq += n;
            done += n;
        }
        return done;
    }

    /**
     * Copies buffered bytes starting at {@code seq} into an outgoing frame, for a first transmission or a
     * retransmission. Bytes stay buffered until {@link #release}d.
     *
     * @param seq               sequence number of the first byte wanted, in {@code [headSeq, tailSeq]}.
     * @param destination       frame buffer.
     * @param destinationOffset where the payload goes.
     * @param maxLength         most bytes wanted (e.g. MSS or usable window).
     * @return bytes copied, {@code min(maxLength, tailSeq - seq)}, or {@link #NOT_BUFFERED}.
     */
    public int read(final int seq, final MutableDirectBuffer destination, final int destinationOffset, final int maxLength)
    {
        final int chunkBytes = pool.chunkBytes();
        if (!SequenceNumbers.between(seq, headSeq, tailSeq))
        {
            return NOT_BUFFERED;
        }
        final int length = Math.min(maxLength, tailSeq - seq);
        if (length <= 0)
        {
            return 0;
        }
        int chunk = seek(seq);
        int base = cursorBase;
        int done = 0;
        int offset = seq - base;
        while (true)
        {
            final int n = Math.min(length - done, chunkBytes - offset);
            pool.getBytes(chunk, offset, destination, destinationOffset + done, n);
            done += n;
            if (done == length)
            {
                break;
            }
            chunk = pool.next(chunk);
            base += chunkBytes;
            offset = 0;
        }
        cursorChunk = chunk;
        cursorBase = base;
        return length;
    }

    /**
     * Finds the chunk holding a buffered byte, for handing the bytes to a device by reference instead of
     * copying them (zero-copy transmit): the bytes from {@code seq} on are at {@link #cursorOffset(int)} in the
     * returned chunk and continue in its {@link ChunkPool#next(int)} chunks. Buffered bytes never change until
     * released; a released chunk that a device still refers to is not reused ({@link ChunkReferences}).
     * Remembers where it ended, like {@link #read}.
     *
     * @param seq sequence number of a buffered byte, in {@code [headSeq, tailSeq)}.
     * @return the chunk, or {@link ChunkPool#NO_CHUNK} when {@code seq} is not buffered.
     */
    public int chunkAt(final int seq)
    {
        if (!SequenceNumbers.between(seq, headSeq, tailSeq) || seq == tailSeq)
        {
            return ChunkPool.NO_CHUNK;
        }
        return seek(seq);
    }

    // the chunk holding a buffered byte, walked from where the last read or seek ended (a window sent in order walks
    // the list once), else from the head; leaves the cursor on it
    private int seek(final int seq)
    {
        final int chunkBytes = pool.chunkBytes();
        int chunk;
        int base;
        if (cursorChunk != ChunkPool.NO_CHUNK && seq - cursorBase >= 0)
        {
            chunk = cursorChunk;
            base = cursorBase;
        }
        else
        {
            chunk = headChunk;
            base = baseSeq;
        }
        while (seq - base >= chunkBytes)
        {
            chunk = pool.next(chunk);
            base += chunkBytes;
        }
        cursorChunk = chunk;
        cursorBase = base;
        return chunk;
    }

    /**
     * Where a byte sits in the chunk the last {@link #chunkAt} returned.
     *
     * @param seq the sequence number passed to {@link #chunkAt}.
     * @return offset in the chunk.
     */
    public int cursorOffset(final int seq)
    {
        return seq - cursorBase;
    }

    /**
     * Frees bytes acknowledged by the peer; chunks left with no unacknowledged byte go back to the pool. An
     * acknowledgment beyond {@link #tailSeq()} (one that also covers our FIN) frees everything; one at or
     * before {@link #headSeq()} frees nothing.
     *
     * @param ackSeq SEG.ACK of an acceptable ACK.
     * @return bytes freed.
     */
    public int release(final int ackSeq)
    {
        final int chunkBytes = pool.chunkBytes();
        if (SequenceNumbers.le(ackSeq, headSeq))
        {
            return 0;
        }
        final int newHead = SequenceNumbers.min(ackSeq, tailSeq);
        final int released = newHead - headSeq;
        headSeq = newHead;
        if (headSeq == tailSeq)
        {
            freeAll();
        }
        else
        {
            while (headSeq - baseSeq >= chunkBytes)
            {
                final int next = pool.next(headChunk);
                pool.free(headChunk);
                headChunk = next;
                baseSeq += chunkBytes;
            }
            if (cursorChunk != ChunkPool.NO_CHUNK && cursorBase - baseSeq < 0)
            {
                cursorChunk = ChunkPool.NO_CHUNK;
            }
        }
        return released;
    }

    private void freeAll()
    {
        int chunk = headChunk;
        while (chunk != ChunkPool.NO_CHUNK)
        {
            final int next = pool.next(chunk);
            pool.free(chunk);
            chunk = next;
        }
        headChunk = ChunkPool.NO_CHUNK;
        tailChunk = ChunkPool.NO_CHUNK;
        cursorChunk = ChunkPool.NO_CHUNK;
    }

    /**
     * The most bytes the buffer holds (a limit, not an allocation).
     *
     * @return bytes.
     */
    public int capacityBytes()
    {
        return capacity;
    }

    /**
     * Chunks held now (0 when empty).
     *
     * @return chunks.
     */
    public int chunkCount()
    {
        int count = 0;
        for (int chunk = headChunk; chunk != ChunkPool.NO_CHUNK; chunk = pool.next(chunk))
        {
            count++;
        }
        return count;
    }

    /**
     * The pool storage comes from.
     *
     * @return the pool.
     */
    public ChunkPool pool()
    {
        return pool;
    }

    /**
     * Sequence number of the oldest buffered byte (SND.UNA while data is outstanding).
     *
     * @return the head sequence number.
     */
    public int headSeq()
    {
        return headSeq;
    }

    /**
     * Sequence number the next appended byte will get.
     *
     * @return the tail sequence number.
     */
    public int tailSeq()
    {
        return tailSeq;
    }

    /**
     * Bytes buffered: sent-but-unacknowledged plus not yet sent.
     *
     * @return {@code tailSeq - headSeq}.
     */
    public int size()
    {
        return tailSeq - headSeq;
    }

    /**
     * Room left for {@link #append}.
     *
     * @return bytes.
     */
    public int freeBytes()
    {
        return capacity - size();
    }

    /**
     * Whether nothing is buffered.
     *
     * @return true when empty.
     */
    public boolean isEmpty()
    {
        return tailSeq == headSeq;
    }

    /**
     * The most bytes queued at once (a limit, not an allocation).
     *
     * @return bytes.
     */
    public int capacity()
    {
        return capacity;
    }
}
