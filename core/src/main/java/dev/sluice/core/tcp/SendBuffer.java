package dev.sluice.core.tcp;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * The send queue of one connection: an off-heap ring of bytes addressed by sequence number.
 *
 * <pre>
 *            headSeq (SND.UNA for data)              tailSeq (next byte the application appends)
 *               v                                       v
 *   ... acked | sent, not yet acknowledged | not yet sent | free ...
 *                                          ^
 *                                       SND.NXT (kept by the connection)
 * </pre>
 *
 * The byte with sequence number {@code s} lives at ring index {@code s & (capacity - 1)}. Because the
 * capacity is a power of two it divides 2<sup>32</sup>, so the mapping stays consistent when sequence
 * numbers wrap. The application appends ({@link #append}, which accepts only what fits: back-pressure);
 * the connection copies any range of unacknowledged bytes into an outgoing frame for the first
 * transmission or a retransmission ({@link #read}) and frees bytes when they are acknowledged
 * ({@link #release}). SYN and FIN occupy sequence space but no bytes here: the connection starts the
 * buffer at ISS + 1 and accounts for its FIN itself.
 *
 * <p>All memory is allocated in the constructor; no method allocates. Single-threaded.
 */
public final class SendBuffer
{
    /** Returned by {@link #read} when the requested start is not in {@code [headSeq, tailSeq]}. */
    public static final int NOT_BUFFERED = -1;

    private final UnsafeBuffer ring;
    private final int capacity;
    private final int mask;
    private int headSeq;
    private int tailSeq;

    /**
     * Allocates the ring off-heap.
     *
     * @param capacityBytes a power of two up to 2^30, e.g. {@link TcpConfig#sendBufferBytes()}.
     * @throws IllegalArgumentException if the capacity is not a power of two in 1..2^30.
     */
    public SendBuffer(final int capacityBytes)
    {
        if (capacityBytes <= 0 || capacityBytes > TcpConfig.MAX_BUFFER_BYTES || Integer.bitCount(capacityBytes) != 1)
        {
            throw new IllegalArgumentException("capacityBytes must be a power of two in 1..2^30, got " +
                capacityBytes);
        }
        this.capacity = capacityBytes;
        this.mask = capacityBytes - 1;
        this.ring = new UnsafeBuffer(ByteBuffer.allocateDirect(capacityBytes));
    }

    /**
     * Empties the buffer and sets the sequence number of the first byte to be appended (ISS + 1 on a new
     * connection).
     *
     * @param startSeq sequence number of the next appended byte.
     */
    public void reset(final int startSeq)
    {
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
     * @return bytes accepted, 0..length.
     */
    public int append(final DirectBuffer source, final int sourceOffset, final int length)
    {
        final int accepted = Math.min(length, freeBytes());
        if (accepted <= 0)
        {
            return 0;
        }
        final int index = tailSeq & mask;
        final int firstChunk = Math.min(accepted, capacity - index);
        ring.putBytes(index, source, sourceOffset, firstChunk);
        if (firstChunk < accepted)
        {
            ring.putBytes(0, source, sourceOffset + firstChunk, accepted - firstChunk);
        }
        tailSeq += accepted;
        return accepted;
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
        if (!SequenceNumbers.between(seq, headSeq, tailSeq))
        {
            return NOT_BUFFERED;
        }
        final int length = Math.min(maxLength, tailSeq - seq);
        if (length <= 0)
        {
            return 0;
        }
        final int index = seq & mask;
        final int firstChunk = Math.min(length, capacity - index);
        destination.putBytes(destinationOffset, ring, index, firstChunk);
        if (firstChunk < length)
        {
            destination.putBytes(destinationOffset + firstChunk, ring, 0, length - firstChunk);
        }
        return length;
    }

    /**
     * Frees bytes acknowledged by the peer. An acknowledgment beyond {@link #tailSeq()} (one that also
     * covers our FIN) frees everything; one at or before {@link #headSeq()} frees nothing.
     *
     * @param ackSeq SEG.ACK of an acceptable ACK.
     * @return bytes freed.
     */
    public int release(final int ackSeq)
    {
        if (SequenceNumbers.le(ackSeq, headSeq))
        {
            return 0;
        }
        final int newHead = SequenceNumbers.min(ackSeq, tailSeq);
        final int released = newHead - headSeq;
        headSeq = newHead;
        return released;
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
     * Fixed capacity.
     *
     * @return bytes.
     */
    public int capacity()
    {
        return capacity;
    }
}
