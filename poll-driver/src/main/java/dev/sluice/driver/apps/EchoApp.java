package dev.sluice.driver.apps;

import java.nio.ByteBuffer;

import dev.sluice.core.channel.ChannelHandlerPool;
import dev.sluice.core.channel.TcpChannel;
import dev.sluice.driver.ShardCounterDescriptor;
import dev.sluice.driver.ShardCounters;
import dev.sluice.driver.runtime.Application;
import dev.sluice.driver.runtime.ShardApplication;
import dev.sluice.driver.runtime.ShardContext;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * {@code sluice echo}: every byte received is sent back. What the send queue does not take is kept in the
 * handler's own buffer and not consumed, so the receive window closes while the peer does not read
 * (flow control end to end); {@code onWritable} sends it and releases the window. When the peer closes,
 * the connection is closed once everything was echoed. Handlers come from a per-shard
 * {@link ChannelHandlerPool}; nothing is allocated per segment. A handler's buffer is allocated the first time
 * its connection needs it (memory on demand, issue 11): a SYN flood that holds thousands of connections in
 * SYN-RECEIVED, each with a handler, then costs no receive-buffer-sized allocation per SYN.
 */
public final class EchoApp implements Application
{
    @Override
    public ShardApplication forShard(final ShardContext shard)
    {
        final ShardCounters counters = shard.counters();
        final int capacity = shard.tcpConfig().receiveBufferBytes();
        final ChannelHandlerPool<Handler> pool = new ChannelHandlerPool<>(() -> new Handler(counters, capacity), 64);
        return () -> pool;
    }

    private static final class Handler extends ChannelHandlerPool.Pooled
    {
        private final ShardCounters counters;
        private final int capacity;
        private UnsafeBuffer pending; // null until the send queue first refuses bytes
        private int pendingStart;
        private int pendingEnd;
        private boolean peerClosed;

        Handler(final ShardCounters counters, final int capacity)
        {
            this.counters = counters;
            this.capacity = capacity;
        }

        @Override
        public boolean onAccept(final TcpChannel channel)
        {
            pendingStart = 0;
            pendingEnd = 0;
            peerClosed = false;
            counters.increment(ShardCounterDescriptor.APP_CONNECTIONS);
            return true;
        }

        @Override
        public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
        {
            counters.add(ShardCounterDescriptor.APP_BYTES_IN, length);
            int sent = 0;
            if (pendingStart == pendingEnd)
            {
                pendingStart = 0;
                pendingEnd = 0;
                sent = channel.send(buffer, offset, length);
                if (sent < 0)
                {
                    return length; // closing: nothing can be echoed any more
                }
                counters.add(ShardCounterDescriptor.APP_BYTES_OUT, sent);
            }
            final int rest = length - sent;
            if (rest > 0)
            {
                if (pending == null)
                {
                    pending = new UnsafeBuffer(ByteBuffer.allocateDirect(capacity)); // once per handler, kept
                }
                if (pendingEnd + rest > pending.capacity())
                {
                    pending.putBytes(0, pending, pendingStart, pendingEnd - pendingStart);
                    pendingEnd -= pendingStart;
                    pendingStart = 0;
                }
                if (pendingEnd + rest > pending.capacity())
                {
                    channel.abort(); // cannot happen: the window never exceeds the receive buffer
                    return length;
                }
                pending.putBytes(pendingEnd, buffer, offset + sent, rest);
                pendingEnd += rest;
            }
            return sent;
        }

        @Override
        public void onWritable(final TcpChannel channel)
        {
            if (pendingEnd == pendingStart)
            {
                return;
            }
            final int sent = channel.send(pending, pendingStart, pendingEnd - pendingStart);
            if (sent > 0)
            {
                pendingStart += sent;
                channel.consume(sent);
                counters.add(ShardCounterDescriptor.APP_BYTES_OUT, sent);
            }
            if (peerClosed && pendingStart == pendingEnd)
            {
                channel.close();
            }
        }

        @Override
        public void onPeerClosed(final TcpChannel channel)
        {
            peerClosed = true;
            if (pendingStart == pendingEnd)
            {
                channel.close();
            }
        }
    }
}
