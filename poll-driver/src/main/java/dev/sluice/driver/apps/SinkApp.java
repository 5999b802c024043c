package dev.sluice.driver.apps;

import java.io.PrintStream;
import java.util.ArrayDeque;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.ShardCounterDescriptor;
import dev.sluice.driver.runtime.AppConnection;
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
        return new Shard(shard, out);
    }

    private static final class Shard implements ShardApplication
    {
        private final ShardContext shard;
        private final PrintStream out;
        private final ArrayDeque<Handler> free = new ArrayDeque<>();

        Shard(final ShardContext shard, final PrintStream out)
        {
            this.shard = shard;
            this.out = out;
        }

        @Override
        public TcpReceiveHandler onAccept(final TcpConnection connection)
        {
            Handler h = free.pollFirst();
            if (h == null)
            {
                h = new Handler(shard, this);
            }
            h.attach(connection);
            shard.counters().increment(ShardCounterDescriptor.APP_CONNECTIONS);
            return h;
        }
    }

    private static final class Handler extends AppConnection
    {
        private final Shard owner;
        private long bytes;
        private long firstByteNs;
        private long lastByteNs;
        private int remoteIp;
        private int remotePort;

        Handler(final ShardContext shard, final Shard owner)
        {
            super(shard);
            this.owner = owner;
        }

        @Override
        protected void reset()
        {
            bytes = 0;
            firstByteNs = 0;
            lastByteNs = 0;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            final long nowNs = shard.nowNs();
            if (bytes == 0)
            {
                firstByteNs = nowNs;
                remoteIp = connection.remoteIp();
                remotePort = connection.remotePort();
            }
            lastByteNs = nowNs;
            bytes += length;
            shard.counters().add(ShardCounterDescriptor.APP_BYTES_IN, length);
            return length;
        }

        @Override
        public void onPeerClosed()
        {
            connection.close();
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            final double seconds = Math.max(1, lastByteNs - firstByteNs) / 1e9;
            owner.out.printf("sink: %s:%d %d bytes in %.3f s = %.1f Mbit/s (%s)%n", Addresses.ipv4ToString(remoteIp),
                remotePort, bytes, seconds, bytes * 8 / seconds / 1e6, reason);
            detach();
            owner.free.addFirst(this);
        }
    }
}
