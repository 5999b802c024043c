package dev.sluice.core.channel;

import java.util.function.Supplier;

import dev.sluice.core.tcp.TcpCloseReason;
import org.agrona.DirectBuffer;

/**
 * The handler of a listening port (or of active opens) that gives each connection its own handler object
 * from a per-shard pool and takes it back after {@link TcpChannelHandler#onClosed}: applications with
 * per-connection state write a plain handler class, the pool recycles it. The pooled handler is installed
 * with {@link TcpChannel#handler(TcpChannelHandler)}, so the connection's callbacks reach it directly; only
 * {@code onClosed} passes through the pool.
 *
 * <p>A pooled handler must forget its connection's state in {@link Pooled#onClosed} (or its own reset) since
 * the next connection reuses it. Single-threaded (one pool per shard); allocates only when the pool is empty.
 *
 * @param <H> the per-connection handler type.
 */
public final class ChannelHandlerPool<H extends ChannelHandlerPool.Pooled> implements TcpChannelHandler
{
    private final Supplier<H> factory;
    private Pooled[] free;
    private int freeCount;
    private int created;

    /**
     * A per-connection handler the pool recycles.
     */
    public abstract static class Pooled implements TcpChannelHandler
    {
        ChannelHandlerPool<?> pool;

        /**
         * The connection closed; the handler returns to the pool after this returns. Subclasses that override
         * it must call {@code super.onClosed}.
         *
         * @param channel the connection.
         * @param reason  why.
         */
        @Override
        public void onClosed(final TcpChannel channel, final TcpCloseReason reason)
        {
            final ChannelHandlerPool<?> owner = pool;
            if (owner != null)
            {
                owner.release(this);
            }
        }
    }

    /**
     * @param factory       creates a handler when the pool is empty (on the shard's thread).
     * @param initialCapacity handlers kept ready; the pool grows beyond it on demand.
     */
    public ChannelHandlerPool(final Supplier<H> factory, final int initialCapacity)
    {
        this.factory = factory;
        this.free = new Pooled[Math.max(1, initialCapacity)];
    }

    /**
     * Takes a handler (or creates one) and installs it on the channel, then asks it whether to accept.
     *
     * @param channel the new connection.
     * @return what the pooled handler's {@code onAccept} answers; a refused handler goes back to the pool.
     */
    @Override
    public boolean onAccept(final TcpChannel channel)
    {
        final Pooled handler = take();
        channel.handler(handler);
        if (handler.onAccept(channel))
        {
            return true;
        }
        release(handler);
        return false;
    }

    /**
     * Installs a pooled handler on an actively opened channel (call right after the stack's {@code open}).
     *
     * @param channel the new connection.
     * @return the handler now serving it.
     */
    @SuppressWarnings("unchecked")
    public H install(final TcpChannel channel)
    {
        final Pooled handler = take();
        channel.handler(handler);
        return (H)handler;
    }

    /** Not called: each connection's own handler receives its data. */
    @Override
    public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
    {
        return channel.handler() == this ? length : channel.handler().onData(channel, buffer, offset, length);
    }

    /**
     * @return handlers created so far (pool size when all are idle).
     */
    public int created()
    {
        return created;
    }

    /**
     * @return handlers idle in the pool.
     */
    public int idle()
    {
        return freeCount;
    }

    private Pooled take()
    {
        if (freeCount > 0)
        {
            final Pooled handler = free[--freeCount];
            free[freeCount] = null;
            return handler;
        }
        final H handler = factory.get();
        handler.pool = this;
        created++;
        return handler;
    }

    private void release(final Pooled handler)
    {
        if (freeCount == free.length)
        {
            free = java.util.Arrays.copyOf(free, freeCount * 2);
        }
        free[freeCount++] = handler;
    }
}
