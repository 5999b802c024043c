package dev.sluice.core.net;

import org.agrona.MutableDirectBuffer;

/**
 * Where the network layer writes outgoing frames: claim a buffer, write the frame from index 0, then
 * commit or abort. At most one claim is outstanding at a time. With DPDK, {@code claim} allocates an
 * mbuf and wraps its data area, {@code commit} sets its length and adds it to the transmit burst.
 */
public interface FrameTransmitter
{
    /**
     * Checksum offload: the device computes the IPv4 header checksum (the field is sent as 0). The frame is
     * Ethernet without VLAN tag (14 bytes) followed by an IPv4 header without options (20 bytes).
     */
    int OFFLOAD_IPV4_CHECKSUM = 1;
    /**
     * Checksum offload: the device completes the TCP checksum; the field holds the IPv4 pseudo-header sum
     * (not complemented), as DPDK's {@code RTE_MBUF_F_TX_TCP_CKSUM} requires.
     */
    int OFFLOAD_TCP_CHECKSUM = 2;
    /**
     * TCP segmentation offload (TSO): the frame holds one large TCP segment (IPv4 and TCP checksum offload
     * implied) that the device cuts into frames of a given payload size, advancing SEG.SEQ and the IPv4
     * identification, PSH and FIN on the last frame only; the TCP field holds the pseudo-header sum without
     * the length (DPDK's {@code RTE_MBUF_F_TX_TCP_SEG}).
     */
    int OFFLOAD_TCP_SEGMENTATION = 4;

    /**
     * Claims a buffer for one frame.
     *
     * @param maxLength upper bound of the frame length, Ethernet header included (no FCS).
     * @return a buffer whose frame starts at index 0 with at least {@code maxLength} writable bytes, or
     * {@code null} if none is available (the caller counts and drops).
     */
    MutableDirectBuffer claim(int maxLength);

    /**
     * Sends the claimed frame.
     *
     * @param length the frame's final length, at most the claimed {@code maxLength}.
     */
    void commit(int length);

    /**
     * Releases the claimed buffer without sending it.
     */
    void abort();

    /**
     * The checksum offloads this transmitter's device completes; the network layer asks once, when it is
     * built, and uses {@link #commit(int, int)} only for those.
     *
     * @return a set of {@code OFFLOAD_*} bits; none by default (checksums in software).
     */
    default int checksumOffloads()
    {
        return 0;
    }

    /**
     * Sends the claimed frame and asks the device to complete the checksums named in {@code offloads}.
     *
     * @param length   the frame's final length, at most the claimed {@code maxLength}.
     * @param offloads {@code OFFLOAD_*} bits, a subset of {@link #checksumOffloads()}.
     */
    default void commit(final int length, final int offloads)
    {
        if (offloads != 0)
        {
            throw new IllegalStateException("this transmitter completes no checksums");
        }
        commit(length);
    }

    /**
     * The longest frame {@link #claim} accepts for {@link #commitSegmentation} (TCP segmentation offload).
     *
     * @return bytes, Ethernet header included; 0 when the device offers no TSO (the default).
     */
    default int maxSegmentationFrameLength()
    {
        return 0;
    }

    /**
     * The longest frame (Ethernet header included) the device cuts with TCP segmentation offload: a large
     * segment whose frames would be longer is cut in software instead.
     *
     * @return bytes; unlimited by default.
     */
    default int maxSegmentationCutLength()
    {
        return Integer.MAX_VALUE;
    }

    /**
     * The most frames the device cuts one large segment into (DPDK's net_tap, through rte_gso, at most 64): a
     * large segment that would need more is cut in software instead.
     *
     * @return frames; unlimited by default.
     */
    default int maxSegmentationFrames()
    {
        return Integer.MAX_VALUE;
    }

    /**
     * Sends the claimed frame, one large TCP segment, for the device to cut into frames of
     * {@code segmentBytes} payload bytes each (TSO). Only when {@link #maxSegmentationFrameLength()} &gt; 0.
     *
     * @param length          the frame's final length.
     * @param tcpHeaderLength the TCP header's length, options included.
     * @param segmentBytes    payload bytes per frame the device cuts.
     */
    default void commitSegmentation(final int length, final int tcpHeaderLength, final int segmentBytes)
    {
        throw new IllegalStateException("this transmitter offers no TCP segmentation offload");
    }

    /**
     * Zero-copy transmit: the shortest payload this transmitter takes by reference ({@link #appendReference})
     * rather than copied into the claimed buffer (below it, copying costs less than a reference).
     *
     * @return bytes; 0 when it takes no references (the default: every payload is copied).
     */
    default int referenceMinBytes()
    {
        return 0;
    }

    /**
     * Zero-copy transmit: appends {@code length} bytes of off-heap memory to the claimed frame, after the bytes
     * written in the claimed buffer (the headers), by reference: the device reads them from {@code address} when
     * it sends the frame. The memory is chunk {@code chunk} of the shard's {@code ChunkPool} (or within it) and
     * must stay unchanged while referenced: the pool defers reusing a chunk its {@code ChunkReferences} (the
     * transmitter's) report referenced. The frame's length passed to commit counts these bytes; a commit with
     * checksum offload completes checksums over them, otherwise the caller's checksum must already cover them.
     *
     * @param chunk   the pool's chunk id holding the bytes.
     * @param address native address of the first byte.
     * @param length  bytes, at most the chunk's size.
     * @return false if no reference could be taken (no mbuf): nothing was appended.
     */
    default boolean appendReference(final int chunk, final long address, final int length)
    {
        return false;
    }
}
