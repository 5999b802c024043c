package dev.sluice.driver.runtime;

import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.driver.ShardAgent;
import org.agrona.concurrent.SystemNanoClock;

/** A shard context without DPDK, for application tests that drive handlers by hand. */
final class TestShards
{
    private TestShards()
    {
    }

    static ShardContext context()
    {
        final TcpStackCounters counters = new TcpStackCounters();
        final NetworkSegmentOutput output = new NetworkSegmentOutput(0, counters);
        final TcpStack tcp = new TcpStack(TcpConfig.builder().build(), new IsnGenerator(1, 2), output, counters, 1);
        final ShardAgent agent = new ShardAgent(null, null, 0, 0, null, tcp, output, new SystemNanoClock(), null);
        return new ShardContext(agent, tcp, 0x0A000001);
    }
}
