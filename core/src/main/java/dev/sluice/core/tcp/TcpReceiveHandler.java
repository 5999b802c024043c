package dev.sluice.core.tcp;

import org.agrona.DirectBuffer;

/**
 * What a connection delivers to the application, on the shard's thread, during {@code onSegment} or
 * {@code onTimer}. Implementations must not allocate and must not keep a reference to the buffer after the
 * call returns: it is the received frame (zero copy) or the reassembly ring.
 */
public interface TcpReceiveHandler
{
    /** A handler that consumes and ignores everything. */
    TcpReceiveHandler DISCARD = new TcpReceiveHandler()
    {
        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            return length;
        }
    };

    /**
     * The connection reached ESTABLISHED (the handshake completed, either side): OPEN succeeded. Data queued
     * with {@link TcpConnection#send} before this is already on its way.
     */
    default void onEstablished()
    {
    }

    /**
     * Space opened in the send buffer after a {@link TcpConnection#send} accepted fewer bytes than offered
     * (back-pressure released by the peer's ACK). Called once per blocked send, from
     * {@link TcpConnection#poll} before queued data is transmitted, so bytes sent here leave in the same
     * duty cycle.
     */
    default void onWritable()
    {
    }

    /**
     * In-order bytes, each delivered exactly once (RFC 9293 §3.10.7.4 seventh step). Bytes the handler does
     * not consume now (it copies them somewhere) keep counting against the receive window until it calls
     * {@link TcpConnection#consumed(int)}: that is the flow control of RECEIVE.
     *
     * @param buffer holding the bytes, valid only during the call.
     * @param offset of the first byte.
     * @param length bytes, &gt; 0.
     * @return bytes consumed now, 0..length; the rest is released later with
     * {@link TcpConnection#consumed(int)}.
     */
    int onData(DirectBuffer buffer, int offset, int length);

    /**
     * The peer's FIN arrived after all its data: it will send nothing more (eighth step). Called once.
     */
    default void onPeerClosed()
    {
    }

    /**
     * The urgent pointer arrived or advanced (MUST-32). Urgent bytes stay inline in the stream delivered to
     * {@link #onData}; {@link TcpConnection#urgentBytesPending()} tells how many are still ahead (MUST-33).
     *
     * @param urgentBytesAhead bytes from the next byte to be delivered up to the urgent pointer.
     */
    default void onUrgent(final int urgentBytesAhead)
    {
    }

    /**
     * The connection reached CLOSED; called once, with the reason (MUST-12).
     *
     * @param reason why.
     */
    default void onClosed(final TcpCloseReason reason)
    {
    }

    /**
     * The segment at SND.UNA (or the SYN) has now been retransmitted R1 times without an acknowledgment
     * (MUST-20, SHLD-9): the path may be failing. Informational; the connection goes on retransmitting until
     * R2 (the user timeout), then closes with {@link TcpCloseReason#TIMEOUT}.
     *
     * @param retransmissions retransmissions so far (= {@link TcpConfig#r1Retransmissions()}).
     */
    default void onExcessiveRetransmissions(final int retransmissions)
    {
    }
}
