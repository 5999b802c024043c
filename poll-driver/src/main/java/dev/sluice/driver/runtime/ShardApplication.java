package dev.sluice.driver.runtime;

import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.driver.ShardWork;

/**
 * One shard's part of an {@link Application}: the handler of the shard's listening port and its per-cycle
 * work (after the burst, before TCP's poll). Runs on the shard's thread only.
 */
public interface ShardApplication extends ShardWork
{
    /**
     * The handler of the configured listening port on this shard: its {@link TcpChannelHandler#onAccept} is
     * asked for every SYN (e.g. a {@link dev.sluice.core.channel.ChannelHandlerPool}).
     *
     * @return the listener's handler, or null for a client that listens nowhere.
     */
    TcpChannelHandler listener();

    @Override
    default int doWork(final long nowNs)
    {
        return 0;
    }
}
