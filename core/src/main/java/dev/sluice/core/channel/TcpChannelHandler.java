package dev.sluice.core.channel;

import dev.sluice.core.tcp.TcpCloseReason;
import org.agrona.DirectBuffer;

/**
 * Callbacks of one or many {@link TcpChannel}s, on the shard's thread. One handler object may serve every
 * connection of a listener (keep per-connection state in {@link TcpChannel#attachment()}), or each
 * connection may get its own ({@link TcpChannel#handler(TcpChannelHandler)}, {@link ChannelHandlerPool}).
 *
 * <p>Callbacks run after the stack decided what a segment or timer does, never halfway through a
 * transition; a handler may call any {@link TcpChannel} method from them, including {@code close} and
 * {@code abort}. Implementations must not block, should not allocate, and must not keep the buffer passed
 * to {@link #onData} after it returns (it is the received frame or the reassembly ring).
 *
 * <p>Order for one connection: {@code onAccept} (passive only), {@code onEstablished}, any number of
 * {@code onData}/{@code onWritable}/{@code onExcessiveRetransmissions}, {@code onPeerClosed} at most once,
 * then {@code onClosed} exactly once (if {@code onAccept} accepted, or the active open succeeded).
 */
public interface TcpChannelHandler
{
    /**
     * A SYN to a listening port arrived: the peer's address and port are known, nothing was answered yet.
     * Refusing sends the peer a RST ("connection refused") and no other callback follows. The handler may
     * set the channel's attachment or its own handler here.
     *
     * @param channel the new connection (state LISTEN, about to process the SYN).
     * @return true to accept, false to refuse.
     */
    default boolean onAccept(final TcpChannel channel)
    {
        return true;
    }

    /**
     * The handshake completed (either side): OPEN succeeded. Data sent before is already on its way.
     *
     * @param channel the connection.
     */
    default void onEstablished(final TcpChannel channel)
    {
    }

    /**
     * In-order bytes, each delivered exactly once. Bytes not consumed now keep counting against the receive
     * window until {@link TcpChannel#consume}.
     *
     * @param channel the connection.
     * @param buffer  holding the bytes, valid only during the call.
     * @param offset  of the first byte.
     * @param length  bytes, &gt; 0.
     * @return bytes consumed now, 0..length.
     */
    int onData(TcpChannel channel, DirectBuffer buffer, int offset, int length);

    /**
     * Space opened in the send queue after a {@link TcpChannel#send} accepted fewer bytes than offered.
     * Called once per blocked send, before the cycle's segments are built, so bytes sent here leave at once.
     *
     * @param channel the connection.
     */
    default void onWritable(final TcpChannel channel)
    {
    }

    /**
     * The peer's FIN arrived after all its data: it sends nothing more. We may still send until we close.
     *
     * @param channel the connection.
     */
    default void onPeerClosed(final TcpChannel channel)
    {
    }

    /**
     * The connection reached CLOSED (MUST-12: the reason tells a normal close from a reset). The last
     * callback; the channel is recycled after it returns.
     *
     * @param channel the connection.
     * @param reason  why.
     */
    default void onClosed(final TcpChannel channel, final TcpCloseReason reason)
    {
    }

    /**
     * R1 advice (MUST-20, SHLD-9): the segment at SND.UNA (or the SYN) was retransmitted R1 times without an
     * acknowledgment; the path may be failing. Informational: the connection keeps retransmitting until R2
     * (the user timeout), then closes with {@link TcpCloseReason#TIMEOUT}. An application may abort earlier.
     *
     * @param channel         the connection.
     * @param retransmissions retransmissions so far.
     */
    default void onExcessiveRetransmissions(final TcpChannel channel, final int retransmissions)
    {
    }
}
