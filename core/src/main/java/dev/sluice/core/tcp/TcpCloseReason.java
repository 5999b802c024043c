package dev.sluice.core.tcp;

/**
 * Why a connection reached CLOSED, reported once to the application through
 * {@link TcpReceiveHandler#onClosed} (MUST-12: a normal close is distinguishable from a reset).
 */
public enum TcpCloseReason
{
    /** Both FINs exchanged and acknowledged (after TIME-WAIT for the active closer), or CLOSE before the
     * connection was synchronized (LISTEN, SYN-SENT). */
    NORMAL,
    /** The peer sent an acceptable RST ("connection reset" or, in SYN-SENT, "connection refused"). */
    RESET_BY_PEER,
    /** The local application called ABORT, or CLOSE with unread data (SHLD-3). */
    ABORTED,
    /** A timer gave up on the peer (user timeout, R2). */
    TIMEOUT,
    /** An ICMP hard error (protocol or port unreachable) during the handshake (SYN-SENT, SYN-RECEIVED). */
    UNREACHABLE
}
