package dev.sluice.driver.runtime;

import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;

/**
 * Base of an application's per-connection handler: the connection it serves and its place in the shard's
 * registry of open connections, which shutdown walks to close every connection. Handlers are pooled per
 * shard and reused.
 */
public abstract class AppConnection implements TcpReceiveHandler
{
    /** The connection served, set by {@link #attach}. */
    protected TcpConnection connection;
    /** The shard the connection lives on. */
    protected final ShardContext shard;
    int trackIndex = -1;

    /**
     * @param shard the shard the handler serves connections of.
     */
    protected AppConnection(final ShardContext shard)
    {
        this.shard = shard;
    }

    /**
     * Starts serving a connection: resets the handler's state and tracks the connection.
     *
     * @param connection the new connection.
     */
    public final void attach(final TcpConnection connection)
    {
        this.connection = connection;
        reset();
        shard.track(this);
    }

    /**
     * Stops tracking the connection (call from {@code onClosed}).
     */
    protected final void detach()
    {
        shard.untrack(this);
        connection = null;
    }

    /**
     * @return the connection, or null once closed.
     */
    public final TcpConnection connection()
    {
        return connection;
    }

    /**
     * Clears per-connection state before reuse.
     */
    protected abstract void reset();
}
