package dev.sluice.driver;

import static java.nio.ByteOrder.BIG_ENDIAN;

import org.agrona.DirectBuffer;

/**
 * Which shard owns a flow: a symmetric hash of the TCP 4-tuple modulo the shard count, so both directions
 * of a connection map to the same shard and an active open can choose a local port that maps to the
 * calling shard. Software steering works with any PMD: net_tap spreads flows over its queues by the
 * kernel's own hash, which Sluice cannot choose, so a frame that arrives on another shard's queue is handed
 * to its owner (counted).
 *
 * <p>Frames that are not TCP over IPv4 are handled where they arrive ({@link #LOCAL}), except ARP replies
 * ({@link #ALL_SHARDS}): every shard keeps its own ARP cache and resolves on its own, and a reply arrives on
 * whichever queue the link chose, so the receiving shard hands a copy to every other shard. ARP requests
 * for our address are answered by the shard that received them.
 */
public final class FlowSteering
{
    /** Handle the frame on the shard that received it. */
    public static final int LOCAL = -1;
    /** Handle the frame here and hand a copy to every other shard. */
    public static final int ALL_SHARDS = -2;
    private static final int ETHER_TYPE_OFFSET = 12;
    private static final int ETHER_HEADER = 14;
    private static final int VLAN_TAG = 4;

    private FlowSteering()
    {
    }

    /**
     * The owner of a TCP flow, the same from either end.
     *
     * @param ipA    one address.
     * @param portA  its port.
     * @param ipB    the other address.
     * @param portB  its port.
     * @param shards shard count, &gt;= 1.
     * @return 0..shards-1.
     */
    public static int owner(final int ipA, final int portA, final int ipB, final int portB, final int shards)
    {
        if (shards == 1)
        {
            return 0;
        }
        long x = ((long)(ipA ^ ipB) << 16) ^ ((portA ^ portB) & 0xFFFF);
        x *= 0x9E37_79B9_7F4A_7C15L;
        x ^= x >>> 32;
        x *= 0xD6E8_FEB8_6659_FD93L;
        x ^= x >>> 29;
        return (int)((x & Long.MAX_VALUE) % shards);
    }

    /**
     * Classifies a received Ethernet frame.
     *
     * @param frame  the frame.
     * @param offset its first byte.
     * @param length its length.
     * @param shards shard count.
     * @return the owning shard, {@link #LOCAL} or {@link #ALL_SHARDS}.
     */
    public static int classify(final DirectBuffer frame, final int offset, final int length, final int shards)
    {
        if (length < ETHER_HEADER)
        {
            return LOCAL;
        }
        int l3 = offset + ETHER_HEADER;
        int etherType = frame.getShort(offset + ETHER_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF;
        if (etherType == 0x8100 && length >= ETHER_HEADER + VLAN_TAG)
        {
            etherType = frame.getShort(l3 + 2, BIG_ENDIAN) & 0xFFFF;
            l3 += VLAN_TAG;
        }
        final int end = offset + length;
        if (etherType == 0x0806)
        {
            // ARP opcode at 6: 2 is a reply
            return l3 + 8 <= end && frame.getShort(l3 + 6, BIG_ENDIAN) == 2 ? ALL_SHARDS : LOCAL;
        }
        if (etherType != 0x0800 || l3 + 20 > end)
        {
            return LOCAL;
        }
        final int versionIhl = frame.getByte(l3) & 0xFF;
        final int ihl = (versionIhl & 0x0F) * 4;
        if ((versionIhl >> 4) != 4 || ihl < 20 || frame.getByte(l3 + 9) != 6 || l3 + ihl + 4 > end)
        {
            return LOCAL; // not TCP, or malformed: the network layer counts the drop
        }
        final int source = frame.getInt(l3 + 12, BIG_ENDIAN);
        final int destination = frame.getInt(l3 + 16, BIG_ENDIAN);
        final int sourcePort = frame.getShort(l3 + ihl, BIG_ENDIAN) & 0xFFFF;
        final int destinationPort = frame.getShort(l3 + ihl + 2, BIG_ENDIAN) & 0xFFFF;
        return owner(source, sourcePort, destination, destinationPort, shards);
    }
}
