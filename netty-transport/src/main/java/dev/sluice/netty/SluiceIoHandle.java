package dev.sluice.netty;

import io.netty.channel.Channel;
import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;

/**
 * What a Sluice channel registers with its {@link SluiceIoHandler} (a channel cannot be its own handle: both
 * declare {@code close()}). Sluice channels receive their events as the stack's callbacks on the event loop
 * thread, so {@link #handle} is never called.
 */
final class SluiceIoHandle implements IoHandle
{
    private final Channel channel;

    SluiceIoHandle(final Channel channel)
    {
        this.channel = channel;
    }

    @Override
    public void handle(final IoRegistration registration, final IoEvent ioEvent)
    {
    }

    /** The event loop shuts down: close (FIN), as NIO and epoll close their channels. */
    @Override
    public void close()
    {
        if (channel.isOpen())
        {
            channel.unsafe().close(channel.voidPromise());
        }
    }
}
