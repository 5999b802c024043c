package dev.sluice.driver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.sluice.nativebindings.dpdk.Mbuf;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Received frames that arrive as an mbuf chain (zero-copy frames of a sender over net_ring: headers in the first
 * mbuf, payload in mbufs attached to the sender's send-buffer chunks). A TCP frame whose first mbuf holds exactly
 * its headers and whose payload is contiguous in the others (one chunk, or neighbouring chunks of one slab) is
 * read in place: {@link #splitAt} wraps a view around the headers and one around the payload, for
 * {@code NetworkLayer.onSplitFrame}. Any other chain is copied into one buffer ({@link #linearize}): one frame's
 * room, or one per burst slot where frames are held until the burst's end (receive coalescing). Counts both.
 * Owned by one shard's thread; allocates only at construction.
 */
final class ChainedFrames
{
    private static final int ETHERNET = 14;
    private static final int MIN_HEADERS = ETHERNET + 20 + 20;

    private final int frameRoom;
    private final boolean perSlot;
    private final UnsafeBuffer linear;
    private final UnsafeBuffer segment = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer payload = new UnsafeBuffer(0, 0);
    private long linearized;
    private long readInPlace;

    /**
     * @param maxFrameLength the longest frame the shard takes.
     * @param slots          frames held at once (the rx burst with receive coalescing), else 1.
     */
    ChainedFrames(final int maxFrameLength, final int slots)
    {
        this.frameRoom = maxFrameLength;
        this.perSlot = slots > 1;
        this.linear = new UnsafeBuffer(ByteBuffer.allocateDirect(slots * maxFrameLength));
    }

    /**
     * Whether a chained frame can be read in place: untagged IPv4 carrying TCP, its first mbuf exactly the Ethernet,
     * IPv4 and TCP headers (options included), the rest its payload, contiguous. If so, {@code headers} wraps the
     * headers and {@link #payload()} the payload.
     *
     * @param mbuf    the frame's first mbuf.
     * @param headers the view to wrap around the headers.
     * @return the headers' length, or 0 when the frame must be linearized.
     */
    int splitAt(final long mbuf, final UnsafeBuffer headers)
    {
        final int length = Mbuf.dataLength(mbuf);
        headers.wrap(Mbuf.dataAddress(mbuf), length);
        if (length < MIN_HEADERS || headers.getShort(12, ByteOrder.BIG_ENDIAN) != 0x0800 ||
            headers.getByte(ETHERNET + 9) != 6)
        {
            return 0;
        }
        final int ipHeader = (headers.getByte(ETHERNET) & 0xF) << 2;
        if (ipHeader < 20 || ETHERNET + ipHeader + 20 > length ||
            ETHERNET + ipHeader + ((headers.getByte(ETHERNET + ipHeader + 12) & 0xF0) >>> 2) != length)
        {
            return 0;
        }
        long m = Mbuf.next(mbuf);
        final long start = Mbuf.dataAddress(m);
        int payloadLength = 0;
        for (; m != 0; m = Mbuf.next(m))
        {
            if (Mbuf.dataAddress(m) != start + payloadLength)
            {
                return 0;
            }
            payloadLength += Mbuf.dataLength(m);
        }
        if (length + payloadLength != Mbuf.packetLength(mbuf))
        {
            return 0;
        }
        payload.wrap(start, payloadLength);
        readInPlace++;
        return length;
    }

    /**
     * The payload of the frame {@link #splitAt} last accepted.
     *
     * @return the view.
     */
    UnsafeBuffer payload()
    {
        return payload;
    }

    /**
     * Copies a chained frame into one buffer.
     *
     * @param mbuf  the frame's first mbuf.
     * @param slot  its place in the burst (its own room when frames are held per slot).
     * @param frame the view to wrap around the copy.
     * @return the frame's length, or -1 if it is longer than a frame of this shard (not copied).
     */
    int linearize(final long mbuf, final int slot, final UnsafeBuffer frame)
    {
        final int length = Mbuf.packetLength(mbuf);
        if (length > frameRoom)
        {
            return -1;
        }
        final int base = perSlot ? slot * frameRoom : 0;
        int done = 0;
        for (long m = mbuf; m != 0 && done < length; m = Mbuf.next(m))
        {
            segment.wrap(Mbuf.dataAddress(m), Math.min(Mbuf.dataLength(m), length - done));
            linear.putBytes(base + done, segment, 0, segment.capacity());
            done += segment.capacity();
        }
        linearized++;
        frame.wrap(linear, base, done);
        return done;
    }

    /**
     * @return chained frames copied into one buffer.
     */
    long linearized()
    {
        return linearized;
    }

    /**
     * @return chained frames read in place.
     */
    long readInPlace()
    {
        return readInPlace;
    }
}
