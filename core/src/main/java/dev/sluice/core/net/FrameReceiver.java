package dev.sluice.core.net;

import org.agrona.DirectBuffer;

/**
 * Takes received Ethernet frames: the shard's {@link NetworkLayer}, or a stage in front of it.
 */
@FunctionalInterface
public interface FrameReceiver
{
    /**
     * One received frame, valid only during the call.
     *
     * @param buffer holding the frame.
     * @param offset of the Ethernet header.
     * @param length of the frame (no FCS).
     * @param nowNs  the duty cycle's time.
     */
    void onFrame(DirectBuffer buffer, int offset, int length, long nowNs);
}
