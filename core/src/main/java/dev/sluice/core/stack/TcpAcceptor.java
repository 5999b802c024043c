package dev.sluice.core.stack;

import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;

/**
 * What a listening port does with each new connection: gives the handler that receives its data and
 * events. Called on the shard's thread when a SYN creates the connection (before the handshake completes),
 * so the handler sees every event of the connection. Implement it with a class rather than a lambda that
 * captures state.
 */
public interface TcpAcceptor
{
    /**
     * A SYN to the listening port created {@code connection}.
     *
     * @param connection the new connection, in LISTEN about to process the SYN; keep it to send and close.
     * @return the handler for this connection, never null ({@link TcpReceiveHandler#DISCARD} to ignore).
     */
    TcpReceiveHandler onAccept(TcpConnection connection);
}
