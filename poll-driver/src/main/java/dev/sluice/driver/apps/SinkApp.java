package dev.sluice.driver.apps;

import java.io.PrintStream;

import dev.sluice.core.channel.ChannelHandlerPool;
import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.ShardCounterDescriptor;
import dev.sluice.driver.runtime.Application;
import dev.sluice.driver.runtime.ShardApplication;
import dev.sluice.driver.runtime.ShardContext;
import org.agrona.DirectBuffer;

/**
 * {@code sluice sink}: reads and discards; closes when the peer closes and reports the connection's
 * throughput (one line per connection, printed when it closes: the only allocation, off the data path).
 */
public final class SinkApp implements Application
{
    private final PrintStream out;

    /**
     * @param out where each connection's report goes.
     */
    public SinkApp(final PrintStream out)
    {
        this.out = out;
    }

    @Override
    public ShardApplication forShard(final ShardContext shard)
    {
        final ChannelHandlerPool<Handler> pool = new ChannelHandlerPool<>(() -> new Handler(shard, out), 16);
        return () -> pool;
    }

    private static final class Handler extends ChannelHandlerPool.Pooled
    {
        private final ShardContext shard;
        private final PrintStream out;
        private long bytes;
        private long firstByteNs;
        private long lastByteNs;
        private int remoteIp;
        private int remotePort;

        Handler(final ShardContext shard, final PrintStream out)
        {
            this.shard = shard;
            this.out = out;
        }

        @Override
        public boolean onAccept(final TcpChannel channel)
        {
            bytes = 0;
            firstByteNs = 0;
            lastByteNs = 0;
            remoteIp = channel.remoteIp();
            remotePort = channel.remotePort();
            shard.counters().increment(ShardCounterDescriptor.APP_CONNECTIONS);
            return true;
        }

        @Override
        public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
        {
            final long nowNs = shard.nowNs();
            if (bytes == 0)
            {
                firstByteNs = nowNs;
            }
            lastByteNs = nowNs;
            bytes += length;
            shard.counters().add(ShardCounterDescriptor.APP_BYTES_IN, length);
            return length;
        }

        @Override
        public void onPeerClosed(final TcpChannel channel)
        {
            channel.close();
        }

        @Override
        public void onClosed(final TcpChannel channel, final TcpCloseReason reason)
        {
            final double seconds = Math.max(1, lastByteNs - firstByteNs) / 1e9;
            out.printf("sink: %s:%d %d bytes in %.3f s = %.1f Mbit/s (%s)%n", Addresses.ipv4ToString(remoteIp),
                remotePort, bytes, seconds, bytes * 8 / seconds / 1e6, reason);
            super.onClosed(channel, reason);
        }
    }
}
