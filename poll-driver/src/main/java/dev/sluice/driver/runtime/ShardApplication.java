package dev.sluice.driver.runtime;

import dev.sluice.core.stack.TcpAcceptor;
import dev.sluice.driver.ShardWork;

/**
 * One shard's part of an {@link Application}: accepts the connections of its shard's listeners and does
 * its per-cycle work (after the burst, before TCP's poll). Runs on the shard's thread only.
 */
public interface ShardApplication extends TcpAcceptor, ShardWork
{
    @Override
    default int doWork(final long nowNs)
    {
        return 0;
    }
}
