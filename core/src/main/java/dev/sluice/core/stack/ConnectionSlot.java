package dev.sluice.core.stack;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import org.agrona.DirectBuffer;

/**
 * A pooled connection and the handler it currently forwards to: a connection's handler is fixed at
 * construction, so the pool gives each connection this forwarder and swaps the target on reuse. It also
 * listens to the application's calls on the connection, to queue it for the next poll, and it is the
 * connection's {@link TcpChannel}: the narrow API costs no object per connection.
 */
final class ConnectionSlot extends ConnectionTimerWheel.Node
    implements TcpReceiveHandler, TcpConnection.ActivityListener, TcpChannel
{
    // what an inner class's implicit outer reference was: no field added per connection
    final TcpStack stack;
    TcpConnection connection;
    TcpReceiveHandler delegate = TcpReceiveHandler.DISCARD;
    TcpChannelHandler handler;
    Object attachment;
    long key;
    long id;
    boolean inUse;
    boolean queued;
    boolean outputShutdown;
    boolean finDeferred;
    boolean handlerFailed;

    ConnectionSlot(final TcpStack stack)
    {
        this.stack = stack;
    }

    void recycle()
    {
        delegate = TcpReceiveHandler.DISCARD;
        handler = null;
        attachment = null;
        inUse = false;
        outputShutdown = false;
        finDeferred = false;
        handlerFailed = false;
    }

    @Override
    public void onApplicationActivity(final TcpConnection connection)
    {
        if (inUse)
        {
            stack.markReady(this);
        }
    }

    @Override
    public int onData(final DirectBuffer buffer, final int offset, final int length)
    {
        try
        {
            final TcpChannelHandler h = handler;
            return h != null ? h.onData(this, buffer, offset, length) : delegate.onData(buffer, offset, length);
        }
        catch (final RuntimeException ex)
        {
            stack.handlerFailures.failed(this, ex);
            return length; // the connection is aborted after this step
        }
    }

    @Override
    public void onEstablished()
    {
        final TcpChannelHandler h = handler;
        if (h == null)
        {
            try
            {
                delegate.onEstablished();
            }
            catch (final RuntimeException ex)
            {
                stack.handlerFailures.failed(this, ex);
            }
            return;
        }
        if (finDeferred && connection.unreadBytes() == 0)
        {
            sendDeferredFin(); // shutdownOutput before the handshake completed
        }
        try
        {
            h.onEstablished(this);
        }
        catch (final RuntimeException ex)
        {
            stack.handlerFailures.failed(this, ex);
        }
    }

    @Override
    public void onWritable()
    {
        try
        {
            final TcpChannelHandler h = handler;
            if (h != null)
            {
                h.onWritable(this);
            }
            else
            {
                delegate.onWritable();
            }
        }
        catch (final RuntimeException ex)
        {
            stack.handlerFailures.failed(this, ex);
        }
    }

    @Override
    public void onPeerClosed()
    {
        try
        {
            final TcpChannelHandler h = handler;
            if (h != null)
            {
                h.onPeerClosed(this);
            }
            else
            {
                delegate.onPeerClosed();
            }
        }
        catch (final RuntimeException ex)
        {
            stack.handlerFailures.failed(this, ex);
        }
    }

    @Override
    public void onUrgent(final int urgentBytesAhead)
    {
        if (handler == null)
        {
            delegate.onUrgent(urgentBytesAhead); // channels see urgent bytes inline only
        }
    }

    @Override
    public void onClosed(final TcpCloseReason reason)
    {
        if (inUse)
        {
            stack.markReady(this); // an ABORT outside the stack's callbacks: freed at the next poll
        }
        try
        {
            final TcpChannelHandler h = handler;
            if (h != null)
            {
                h.onClosed(this, reason);
            }
            else
            {
                delegate.onClosed(reason);
            }
        }
        catch (final RuntimeException ex)
        {
            stack.handlerFailures.onException(ex); // already closed: nothing to abort
        }
    }

    @Override
    public void onExcessiveRetransmissions(final int retransmissions)
    {
        try
        {
            final TcpChannelHandler h = handler;
            if (h != null)
            {
                h.onExcessiveRetransmissions(this, retransmissions); // R1 advice (SHLD-9)
            }
            else
            {
                delegate.onExcessiveRetransmissions(retransmissions);
            }
        }
        catch (final RuntimeException ex)
        {
            stack.handlerFailures.failed(this, ex);
        }
    }

    // --- TcpChannel: the application's view, shard thread only ---

    @Override
    public long id()
    {
        stack.thread.check();
        return id;
    }

    @Override
    public int send(final DirectBuffer source, final int offset, final int length)
    {
        stack.thread.check();
        if (outputShutdown)
        {
            return NOT_OPEN;
        }
        return connection.send(source, offset, length);
    }

    @Override
    public void flush()
    {
        stack.thread.check();
        if (inUse)
        {
            stack.markReady(this);
        }
    }

    @Override
    public void consume(final int bytes)
    {
        stack.thread.check();
        connection.consumed(bytes);
        if (finDeferred && connection.unreadBytes() == 0 && connection.state().isSynchronized())
        {
            sendDeferredFin();
        }
    }

    @Override
    public boolean shutdownOutput()
    {
        stack.thread.check();
        if (outputShutdown)
        {
            return false;
        }
        switch (connection.state())
        {
            case SYN_SENT, SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT ->
            {
                outputShutdown = true;
                // CLOSE with unread data would reset (SHLD-3), before the handshake it would abandon the
                // connection: the FIN waits for either to change
                if (connection.unreadBytes() > 0 || connection.state() == TcpState.SYN_SENT)
                {
                    finDeferred = true;
                }
                else
                {
                    connection.close();
                }
                return true;
            }
            default ->
            {
                return false;
            }
        }
    }

    private void sendDeferredFin()
    {
        finDeferred = false;
        connection.close();
    }

    @Override
    public boolean close()
    {
        stack.thread.check();
        outputShutdown = true;
        finDeferred = false;
        return connection.close();
    }

    @Override
    public void abort()
    {
        stack.thread.check();
        outputShutdown = true;
        finDeferred = false;
        connection.abort();
    }

    @Override
    public TcpState state()
    {
        stack.thread.check();
        return connection.state();
    }

    @Override
    public boolean isOpen()
    {
        stack.thread.check();
        return connection.state() != TcpState.CLOSED;
    }

    @Override
    public boolean isOutputShutdown()
    {
        stack.thread.check();
        return outputShutdown || connection.state() == TcpState.CLOSED;
    }

    @Override
    public TcpCloseReason closeReason()
    {
        stack.thread.check();
        return connection.state() == TcpState.CLOSED ? connection.closeReason() : null;
    }

    @Override
    public int unreadBytes()
    {
        stack.thread.check();
        return connection.unreadBytes();
    }

    @Override
    public int sendQueueBytes()
    {
        stack.thread.check();
        return connection.sendQueueBytes();
    }

    @Override
    public int writableBytes()
    {
        stack.thread.check();
        if (outputShutdown)
        {
            return 0;
        }
        return switch (connection.state())
        {
            case SYN_SENT, SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT ->
                Math.max(0, stack.config().sendBufferBytes() - connection.sendQueueBytes());
            default -> 0;
        };
    }

    @Override
    public boolean isWritable()
    {
        return writableBytes() > 0;
    }

    @Override
    public int localIp()
    {
        stack.thread.check();
        return connection.localIp();
    }

    @Override
    public int localPort()
    {
        stack.thread.check();
        return (int)key & 0xFFFF;
    }

    @Override
    public int remoteIp()
    {
        stack.thread.check();
        return (int)(key >>> 32);
    }

    @Override
    public int remotePort()
    {
        stack.thread.check();
        return (int)(key >>> 16) & 0xFFFF;
    }

    @Override
    public Object attachment()
    {
        stack.thread.check();
        return attachment;
    }

    @Override
    public void attach(final Object attachment)
    {
        stack.thread.check();
        this.attachment = attachment;
    }

    @Override
    public TcpChannelHandler handler()
    {
        stack.thread.check();
        return handler;
    }

    @Override
    public void handler(final TcpChannelHandler handler)
    {
        stack.thread.check();
        if (handler == null)
        {
            throw new NullPointerException("handler");
        }
        this.handler = handler;
    }

    @Override
    public void noDelay(final boolean noDelay)
    {
        stack.thread.check();
        connection.noDelay(noDelay);
        if (inUse)
        {
            stack.markReady(this); // may release a segment Nagle held back
        }
    }

    @Override
    public void keepAlive(final boolean enabled)
    {
        stack.thread.check();
        connection.keepAlive(enabled);
        if (inUse)
        {
            stack.markReady(this); // re-arms the timer
        }
    }

    @Override
    public boolean inShardThread()
    {
        final Thread owner = stack.ownerThread();
        return owner == null || owner == Thread.currentThread();
    }

    @Override
    public String toString()
    {
        return "TcpChannel#" + id + "[" + dev.sluice.core.wire.Addresses.ipv4ToString((int)(key >>> 32)) +
            ":" + ((int)(key >>> 16) & 0xFFFF) + " -> :" + ((int)key & 0xFFFF) + "]";
    }
}
