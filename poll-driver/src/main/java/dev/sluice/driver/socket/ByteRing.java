package dev.sluice.driver.socket;

import dev.sluice.core.channel.TcpChannel;
import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A single-producer/single-consumer byte ring between an application thread and a shard: the producer
 * copies in up to the free space, the consumer copies out (or hands the bytes straight to a
 * {@link TcpChannel}), and the two positions are volatile counters, so neither side locks or allocates.
 * Positions only grow; the index of position {@code p} is {@code p & (capacity - 1)}.
 *
 * <p>Both positions are written with volatile stores: a side that parks after publishing its own position
 * and reading the other's (the waiter) and a side that publishes and then looks for a waiter (the waker)
 * then see each other (no lost wake-up).
 */
final class ByteRing
{
    private final UnsafeBuffer buffer;
    private final int capacity;
    private final int mask;
    private volatile long head; // consumer position
    private volatile long tail; // producer position

    /**
     * @param minCapacity bytes at least; rounded up to a power of two.
     */
    ByteRing(final int minCapacity)
    {
        this.capacity = BitUtil.findNextPositivePowerOfTwo(Math.max(64, minCapacity));
        this.mask = capacity - 1;
        this.buffer = new UnsafeBuffer(new byte[capacity]);
    }

    int capacity()
    {
        return capacity;
    }

    /** Bytes the consumer can take (either side may ask). */
    int available()
    {
        return (int)(tail - head);
    }

    /** Bytes the producer can add (either side may ask). */
    int free()
    {
        return capacity - (int)(tail - head);
    }

    // ---- producer ----

    int offer(final DirectBuffer source, final int offset, final int length)
    {
        final long t = tail;
        final int n = Math.min(length, capacity - (int)(t - head));
        if (n <= 0)
        {
            return 0;
        }
        final int index = (int)t & mask;
        final int first = Math.min(n, capacity - index);
        buffer.putBytes(index, source, offset, first);
        if (n > first)
        {
            buffer.putBytes(0, source, offset + first, n - first);
        }
        tail = t + n;
        return n;
    }

    int offer(final byte[] source, final int offset, final int length)
    {
        final long t = tail;
        final int n = Math.min(length, capacity - (int)(t - head));
        if (n <= 0)
        {
            return 0;
        }
        final int index = (int)t & mask;
        final int first = Math.min(n, capacity - index);
        buffer.putBytes(index, source, offset, first);
        if (n > first)
        {
            buffer.putBytes(0, source, offset + first, n - first);
        }
        tail = t + n;
        return n;
    }

    // ---- consumer ----

    int poll(final byte[] destination, final int offset, final int length)
    {
        final long h = head;
        final int n = Math.min(length, (int)(tail - h));
        if (n <= 0)
        {
            return 0;
        }
        final int index = (int)h & mask;
        final int first = Math.min(n, capacity - index);
        buffer.getBytes(index, destination, offset, first);
        if (n > first)
        {
            buffer.getBytes(0, destination, offset + first, n - first);
        }
        head = h + n;
        return n;
    }

    /**
     * Sends what the ring holds on {@code channel}, as far as its send queue takes it.
     *
     * @return bytes taken out of the ring, or {@link TcpChannel#NOT_OPEN} if the channel refused.
     */
    int drainTo(final TcpChannel channel)
    {
        final long h = head;
        final int n = (int)(tail - h);
        if (n == 0)
        {
            return 0;
        }
        final int index = (int)h & mask;
        final int first = Math.min(n, capacity - index);
        int sent = channel.send(buffer, index, first);
        if (sent < 0)
        {
            return TcpChannel.NOT_OPEN;
        }
        if (sent == first && n > first)
        {
            final int more = channel.send(buffer, 0, n - first);
            sent += Math.max(0, more);
        }
        head = h + sent;
        return sent;
    }

    /** Drops everything the ring holds (consumer side). */
    int discard()
    {
        final long t = tail;
        final int n = (int)(t - head);
        head = t;
        return n;
    }
}
