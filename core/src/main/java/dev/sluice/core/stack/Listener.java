package dev.sluice.core.stack;

import dev.sluice.core.channel.TcpChannelHandler;

/**
 * A listening port: its acceptor (or channel handler), backlog, connections still in SYN-RECEIVED, and when it
 * last answered a SYN with a cookie.
 */
final class Listener
{
    final TcpAcceptor acceptor;
    final TcpChannelHandler channelHandler;
    final int backlog;
    int synReceived;
    boolean cookiesSent;
    long lastCookieNs;

    Listener(final TcpAcceptor acceptor, final TcpChannelHandler channelHandler, final int backlog)
    {
        this.acceptor = acceptor;
        this.channelHandler = channelHandler;
        this.backlog = backlog;
    }
}
