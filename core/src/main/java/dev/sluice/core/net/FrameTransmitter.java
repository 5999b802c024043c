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
}
