package dev.sluice.driver.apps;

import java.io.PrintStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

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
 * With {@code --sha256} the line also carries the SHA-256 of the connection's bytes (loss and interop tables
 * check data that Sluice received): each handler owns its digest and a copy buffer, so the data path still
 * allocates nothing.
 */
public final class SinkApp implements Application
{
    private final PrintStream out;
    private final boolean sha256;

    /**
     * @param out where each connection's report goes.
     */
    public SinkApp(final PrintStream out)
    {
        this(out, false);
    }

    /**
     * @param out    where each connection's report goes.
     * @param sha256 whether the report carries the SHA-256 of the connection's bytes.
     */
    public SinkApp(final PrintStream out, final boolean sha256)
    {
        this.out = out;
        this.sha256 = sha256;
    }

    @Override
    public ShardApplication forShard(final ShardContext shard)
    {
        final ChannelHandlerPool<Handler> pool = new ChannelHandlerPool<>(() -> new Handler(shard, out, sha256), 16);
        return () -> pool;
    }

    private static final class Handler extends ChannelHandlerPool.Pooled
    {
        private final ShardContext shard;
        private final PrintStream out;
        private final MessageDigest digest;
        private final byte[] copy;
        private long bytes;
        private long firstByteNs;
        private long lastByteNs;
        private int remoteIp;
        private int remotePort;

        Handler(final ShardContext shard, final PrintStream out, final boolean sha256)
        {
            this.shard = shard;
            this.out = out;
            digest = sha256 ? sha256() : null;
            copy = sha256 ? new byte[64 * 1024] : null;
        }

        private static MessageDigest sha256()
        {
            try
            {
                return MessageDigest.getInstance("SHA-256");
            }
            catch (final NoSuchAlgorithmException ex)
            {
                throw new IllegalStateException("every JDK has SHA-256", ex);
            }
        }

        @Override
        public boolean onAccept(final TcpChannel channel)
        {
            bytes = 0;
            firstByteNs = 0;
            lastByteNs = 0;
            remoteIp = channel.remoteIp();
            remotePort = channel.remotePort();
            if (digest != null)
            {
                digest.reset();
            }
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
            if (digest != null)
            {
                for (int done = 0; done < length; )
                {
                    final int n = Math.min(copy.length, length - done);
                    buffer.getBytes(offset + done, copy, 0, n);
                    digest.update(copy, 0, n);
                    done += n;
                }
            }
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
            out.printf("sink: %s:%d %d bytes in %.3f s = %.1f Mbit/s (%s)%s%n", Addresses.ipv4ToString(remoteIp),
                remotePort, bytes, seconds, bytes * 8 / seconds / 1e6, reason,
                digest == null ? "" : " sha256 " + HexFormat.of().formatHex(digest.digest()));
            super.onClosed(channel, reason);
        }
    }
}
