package dev.sluice.core.channel;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpState;
import org.agrona.DirectBuffer;

/**
 * One TCP connection as an application on the shard's thread sees it: RFC 9293's user calls (§3.9.1: SEND,
 * RECEIVE, CLOSE, ABORT, STATUS) without the engine behind them.
 *
 * <h2>Threading</h2>
 * Every method must be called on the thread of the shard that owns the connection (the thread that runs
 * its duty cycle); any other thread gets a {@link WrongThreadException} at once (one reference comparison
 * per call). {@link #inShardThread()} is the only method any thread may call.
 *
 * <h2>Lifetime</h2>
 * A channel is valid from {@link TcpChannelHandler#onAccept} (passive open) or the stack's {@code open}
 * (active open) until {@link TcpChannelHandler#onClosed} returns. Channels are pooled by the stack: after
 * that the same object may stand for another connection, so do not keep it. {@link #id()} is different for
 * every connection a channel object serves, for code that must tell a stale reference apart.
 *
 * <h2>Sending</h2>
 * {@link #send} copies into the connection's send queue; segments leave at the end of the shard's current
 * duty cycle, after every callback of the cycle has run, so several sends in one cycle batch into full
 * segments. Fewer bytes accepted than offered is back-pressure: {@link TcpChannelHandler#onWritable} follows
 * once the peer's ACKs free space.
 *
 * <h2>Receiving</h2>
 * {@link TcpChannelHandler#onData} returns how many bytes it consumed at once; the rest (which the handler
 * must copy if it wants them) keeps counting against the receive window until {@link #consume} releases it:
 * an application that does not consume closes the window (RFC 9293 flow control).
 */
public interface TcpChannel
{
    /** What {@link #send} returns when the connection does not accept data (closing, closed, reset). */
    int NOT_OPEN = -1;

    /**
     * Identifies this use of the channel: unique among the connections one stack has had.
     *
     * @return the id, never 0.
     */
    long id();

    /**
     * SEND (§3.10.2): copies up to {@code length} bytes into the send queue. Allowed from SYN-SENT (queued
     * until the handshake completes) until CLOSE or {@link #shutdownOutput}.
     *
     * @param source bytes to send (read during the call only).
     * @param offset of the first byte.
     * @param length bytes offered.
     * @return bytes accepted (0..length; fewer than offered: back-pressure, {@link TcpChannelHandler#onWritable}
     * follows), or {@link #NOT_OPEN}.
     */
    int send(DirectBuffer source, int offset, int length);

    /**
     * Asks for what was sent to be transmitted at the end of this duty cycle. {@link #send} already implies
     * it; a framework that separates write from flush (Netty) calls it once per flush.
     */
    void flush();

    /**
     * RECEIVE flow control: the application finished with {@code bytes} it did not consume inside
     * {@link TcpChannelHandler#onData}; the receive window opens again.
     *
     * @param bytes bytes released, clamped to those held.
     */
    void consume(int bytes);

    /**
     * Half-close: our FIN follows the queued data, receiving goes on ({@code Socket.shutdownOutput}). With
     * bytes still held unconsumed, or before the handshake completed, the FIN waits until they are consumed or
     * the connection is established.
     *
     * @return false if output was already shut down or the connection is closing or closed.
     */
    boolean shutdownOutput();

    /**
     * CLOSE (§3.10.4) like {@code Socket.close}: our FIN follows the queued data; if received data was left
     * unconsumed the connection is reset instead so the peer learns it was lost (SHLD-3). Data that arrives
     * afterwards is still delivered to {@link TcpChannelHandler#onData} until the peer's FIN.
     *
     * @return false if there was nothing to close or CLOSE was already called.
     */
    boolean close();

    /**
     * ABORT (§3.10.5): queued data is dropped, the peer gets a RST (in the synchronized states), and the
     * connection goes to CLOSED at once: {@link TcpChannelHandler#onClosed} with
     * {@link TcpCloseReason#ABORTED} runs before this returns.
     */
    void abort();

    /**
     * STATUS (§3.10.6): the connection's state.
     *
     * @return the state; {@link TcpState#CLOSED} once closed.
     */
    TcpState state();

    /**
     * @return true until the connection reached CLOSED.
     */
    boolean isOpen();

    /**
     * @return true once {@link #shutdownOutput} or {@link #close} was called.
     */
    boolean isOutputShutdown();

    /**
     * @return why the connection closed, or null while it is open.
     */
    TcpCloseReason closeReason();

    /**
     * @return bytes delivered to the application and not yet consumed.
     */
    int unreadBytes();

    /**
     * @return bytes in the send queue: not yet sent or not yet acknowledged.
     */
    int sendQueueBytes();

    /**
     * @return bytes {@link #send} would accept now; 0 when the queue is full or the connection does not accept
     * data.
     */
    int writableBytes();

    /**
     * @return {@code writableBytes() > 0}.
     */
    boolean isWritable();

    /**
     * @return our IPv4 address (the shard's).
     */
    int localIp();

    /**
     * @return our port.
     */
    int localPort();

    /**
     * @return the peer's IPv4 address.
     */
    int remoteIp();

    /**
     * @return the peer's port.
     */
    int remotePort();

    /**
     * @return the application's object for this connection, null until {@link #attach} (cleared when the
     * channel is recycled).
     */
    Object attachment();

    /**
     * Stores the application's object for this connection (per-connection state for a shared handler).
     *
     * @param attachment anything, or null.
     */
    void attach(Object attachment);

    /**
     * @return the handler that receives this connection's callbacks.
     */
    TcpChannelHandler handler();

    /**
     * Gives this connection its own handler (from {@link TcpChannelHandler#onAccept}, e.g. one taken from a
     * pool); later callbacks go to it.
     *
     * @param handler the new handler, not null.
     */
    void handler(TcpChannelHandler handler);

    /**
     * Turns Nagle's algorithm off (true, {@code TCP_NODELAY}) or on (MUST-17).
     *
     * @param noDelay true to send small segments at once.
     */
    void noDelay(boolean noDelay);

    /**
     * Turns keep-alive probes on or off (MUST-24; off by default, MUST-25).
     *
     * @param enabled true to probe an idle connection.
     */
    void keepAlive(boolean enabled);

    /**
     * Whether the calling thread is the shard's thread (any thread may ask).
     *
     * @return true if the other methods may be called now.
     */
    boolean inShardThread();
}
