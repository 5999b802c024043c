package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.nativebindings.dpdk.generated.RteMbuf;

/**
 * Static accessors for {@code struct rte_mbuf} fields by raw address, for the data path
 * (offsets from the generated {@link RteMbuf}, checked by the layout test).
 *
 * <p>Addresses come from an mbuf pointer array filled by rx burst or alloc; nothing here
 * checks them: pass only live mbufs.
 */
public final class Mbuf
{
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Mbuf()
    {
    }

    /**
     * @param mbufs pointer array.
     * @param index position.
     * @return the mbuf address at {@code index}.
     */
    public static long at(final MemorySegment mbufs, final int index)
    {
        return mbufs.getAtIndex(ValueLayout.JAVA_LONG, index);
    }

    /**
     * @param mbufs pointer array.
     * @param index position.
     * @param mbuf  the mbuf address to store.
     */
    public static void put(final MemorySegment mbufs, final int index, final long mbuf)
    {
        mbufs.setAtIndex(ValueLayout.JAVA_LONG, index, mbuf);
    }

    /**
     * The data path's read of a pointer array (rx burst, tx burst, stash) by its address: no segment bounds,
     * alignment or liveness check per call, like the field accessors below. The caller validates once what
     * makes it safe: {@code array} is the address of a live array it owns (kept reachable by its segment) and
     * {@code index} is below the count the burst call returned, itself at most the array's length.
     *
     * @param array address of the pointer array ({@link MemorySegment#address()}).
     * @param index position, {@code 0 <= index <} the array's length.
     * @return the mbuf address at {@code index}.
     */
    public static long at(final long array, final int index)
    {
        return MEMORY.get(ValueLayout.JAVA_LONG_UNALIGNED, array + ((long)index << 3));
    }

    /**
     * The data path's write of a pointer array by its address (see {@link #at(long, int)} for what the caller
     * guarantees).
     *
     * @param array address of the pointer array.
     * @param index position, {@code 0 <= index <} the array's length.
     * @param mbuf  the mbuf address to store.
     */
    public static void put(final long array, final int index, final long mbuf)
    {
        MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, array + ((long)index << 3), mbuf);
    }

    /**
     * @param mbuf the mbuf.
     * @return address of the first byte of packet data in the first segment.
     */
    public static long dataAddress(final long mbuf)
    {
        return MEMORY.get(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.buf_addr$OFFSET) +
            Short.toUnsignedInt(MEMORY.get(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.data_off$OFFSET));
    }

    /**
     * @param mbuf the mbuf.
     * @return bytes of data in this segment.
     */
    public static int dataLength(final long mbuf)
    {
        return Short.toUnsignedInt(MEMORY.get(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.data_len$OFFSET));
    }

    /**
     * @param mbuf the mbuf.
     * @return bytes of data in the whole packet (all segments).
     */
    public static int packetLength(final long mbuf)
    {
        return MEMORY.get(ValueLayout.JAVA_INT_UNALIGNED, mbuf + RteMbuf.pkt_len$OFFSET);
    }

    /**
     * Sets the length of a single-segment packet (data_len and pkt_len).
     *
     * @param mbuf   the mbuf.
     * @param length bytes of data, at most {@link #tailroom(long)} plus the current length.
     */
    public static void setLength(final long mbuf, final int length)
    {
        MEMORY.set(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.data_len$OFFSET, (short)length);
        MEMORY.set(ValueLayout.JAVA_INT_UNALIGNED, mbuf + RteMbuf.pkt_len$OFFSET, length);
    }

    /**
     * Sets the lengths of a packet's first segment: its own data ({@code data_len}) and the whole packet's, all
     * segments ({@code pkt_len}).
     *
     * @param mbuf          the first segment.
     * @param dataLength    bytes in this segment.
     * @param packetLength  bytes in all segments.
     */
    public static void setLengths(final long mbuf, final int dataLength, final int packetLength)
    {
        MEMORY.set(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.data_len$OFFSET, (short)dataLength);
        MEMORY.set(ValueLayout.JAVA_INT_UNALIGNED, mbuf + RteMbuf.pkt_len$OFFSET, packetLength);
    }

    /**
     * {@code rte_pktmbuf_attach_extbuf} in Java, for the data path (no FFM call per frame): points a fresh mbuf
     * (direct, refcnt 1, e.g. from a pool without data room) at {@code length} bytes of external memory at
     * {@code address} (IOVA = the virtual address), its data all of it ({@code data_off} 0, {@code data_len} and
     * {@code pkt_len} {@code length}), marked {@code RTE_MBUF_F_EXTERNAL} with {@code sharedInfo}. The caller
     * takes the reference on the shared info ({@link ExternalBuffers#addReference}); freeing the mbuf detaches
     * it and drops that reference. The same fields the C inline writes: checked against it by
     * {@code ZeroCopyTransmitIT}.
     *
     * @param mbuf       the mbuf to attach.
     * @param address    the memory.
     * @param length     bytes, 1..65535.
     * @param sharedInfo the memory's {@code struct rte_mbuf_ext_shared_info}.
     */
    public static void attachExternal(final long mbuf, final long address, final int length, final long sharedInfo)
    {
        MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.buf_addr$OFFSET, address);
        MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.buf_iova$OFFSET, address);
        MEMORY.set(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.buf_len$OFFSET, (short)length);
        MEMORY.set(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.data_off$OFFSET, (short)0);
        MEMORY.set(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.data_len$OFFSET, (short)length);
        MEMORY.set(ValueLayout.JAVA_INT_UNALIGNED, mbuf + RteMbuf.pkt_len$OFFSET, length);
        MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.ol_flags$OFFSET,
            offloadFlags(mbuf) | RteMbuf.RTE_MBUF_F_EXTERNAL);
        MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.shinfo$OFFSET, sharedInfo);
    }

    /**
     * Chains a segment after the last one of a packet ({@code tail.next}, the head's {@code nb_segs} + 1); the
     * caller sets the head's {@code pkt_len}.
     *
     * @param head    the packet's first mbuf.
     * @param tail    its last mbuf ({@code head} when it has one).
     * @param segment the mbuf to append (its {@code next} is null).
     */
    public static void chain(final long head, final long tail, final long segment)
    {
        MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, tail + RteMbuf.next$OFFSET, segment);
        MEMORY.set(ValueLayout.JAVA_SHORT_UNALIGNED, head + RteMbuf.nb_segs$OFFSET, (short)(segmentCount(head) + 1));
    }

    /**
     * @param mbuf the mbuf.
     * @return bytes available after the data in this segment's buffer.
     */
    public static int tailroom(final long mbuf)
    {
        return Short.toUnsignedInt(MEMORY.get(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.buf_len$OFFSET)) -
            Short.toUnsignedInt(MEMORY.get(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.data_off$OFFSET)) -
            dataLength(mbuf);
    }

    /**
     * @param mbuf the mbuf.
     * @return number of segments.
     */
    public static int segmentCount(final long mbuf)
    {
        return Short.toUnsignedInt(MEMORY.get(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.nb_segs$OFFSET));
    }

    /**
     * @param mbuf the mbuf.
     * @return the next segment's address, or 0.
     */
    public static long next(final long mbuf)
    {
        return MEMORY.get(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.next$OFFSET);
    }

    /**
     * @param mbuf the mbuf.
     * @return the offload flags ({@code RTE_MBUF_F_*}).
     */
    public static long offloadFlags(final long mbuf)
    {
        return MEMORY.get(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.ol_flags$OFFSET);
    }

    /**
     * @param mbuf  the mbuf.
     * @param flags the offload flags to set ({@code RTE_MBUF_F_TX_*}).
     */
    public static void offloadFlags(final long mbuf, final long flags)
    {
        MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.ol_flags$OFFSET, flags);
    }

    /**
     * @param mbuf  the mbuf.
     * @param value the {@code tx_offload} word: l2_len, l3_len, l4_len, tso_segsz at the
     *              {@code RTE_MBUF_*_OFS} bit offsets.
     */
    public static void txOffload(final long mbuf, final long value)
    {
        MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.tx_offload$OFFSET, value);
    }

    /**
     * @param mbuf the mbuf.
     * @return the {@code tx_offload} word.
     */
    public static long txOffload(final long mbuf)
    {
        return MEMORY.get(ValueLayout.JAVA_LONG_UNALIGNED, mbuf + RteMbuf.tx_offload$OFFSET);
    }

    /**
     * @param mbuf the mbuf.
     * @return the RSS hash (valid when {@code RTE_MBUF_F_RX_RSS_HASH} is set).
     */
    public static int rssHash(final long mbuf)
    {
        return MEMORY.get(ValueLayout.JAVA_INT_UNALIGNED, mbuf + RteMbuf.hash_rss$OFFSET);
    }

    /**
     * @param mbuf the mbuf.
     * @return the input port.
     */
    public static int port(final long mbuf)
    {
        return Short.toUnsignedInt(MEMORY.get(ValueLayout.JAVA_SHORT_UNALIGNED, mbuf + RteMbuf.port$OFFSET));
    }

    /**
     * @param mbuf the mbuf.
     * @return the segment holding this mbuf's data (first segment only), for copying.
     */
    public static MemorySegment data(final long mbuf)
    {
        return MEMORY.asSlice(dataAddress(mbuf), dataLength(mbuf));
    }
}
