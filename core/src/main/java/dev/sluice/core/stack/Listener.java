package dev.sluice.core.stack;

import dev.sluice.core.channel.TcpChannelHandler;

/** A listening port: its acceptor (or channel handler), backlog and connections still in SYN-RECEIVED. */
final class Listener
{
    final TcpAcceptor acceptor;
    final TcpChannelHandler channelHandler;
    final int backlog;
    int synReceived;

    Listener(final TcpAcceptor acceptor, final TcpChannelHandler channelHandler, final int backlog)
    {
        this.acceptor = acceptor;
        this.channelHandler = channelHandler;
        this.backlog = backlog;
    }
}
