package dev.sluice.driver.apps;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.driver.ShardCounterDescriptor;
import dev.sluice.driver.runtime.AppConnection;
import dev.sluice.driver.runtime.Application;
import dev.sluice.driver.runtime.ShardApplication;
import dev.sluice.driver.runtime.ShardContext;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * {@code sluice echo}: every byte received is sent back. What the send buffer does not take is kept in the
 * handler's own buffer and not consumed, so the receive window closes while the peer does not read
 * (flow control end to end); {@code onWritable} sends it and releases the window. When the peer closes,
 * the connection is closed once everything was echoed. Handlers are pooled per shard; nothing is
 * allocated per segment.
 */
public final class EchoApp implements Application
{
    @Override
    public ShardApplication forShard(final ShardContext shard)
    {
        return new Shard(shard);
    }

    private static final class Shard implements ShardApplication
    {
        private final ShardContext shard;
        private final ArrayDeque<Handler> free = new ArrayDeque<>();

        Shard(final ShardContext shard)
        {
            this.shard = shard;
        }

        @Override
        public TcpReceiveHandler onAccept(final TcpConnection connection)
        {
            Handler h = free.pollFirst();
            if (h == null)
            {
                h = new Handler(shard, this, shard.tcp().config().receiveBufferBytes());
            }
            h.attach(connection);
            shard.counters().increment(ShardCounterDescriptor.APP_CONNECTIONS);
            return h;
        }
    }

    private static final class Handler extends AppConnection
    {
        private final Shard owner;
        private final UnsafeBuffer pending;
        private int pendingStart;
        private int pendingEnd;
        private boolean peerClosed;

        Handler(final ShardContext shard, final Shard owner, final int capacity)
        {
            super(shard);
            this.owner = owner;
            this.pending = new UnsafeBuffer(ByteBuffer.allocateDirect(capacity));
        }

        @Override
        protected void reset()
        {
            pendingStart = 0;
            pendingEnd = 0;
            peerClosed = false;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            shard.counters().add(ShardCounterDescriptor.APP_BYTES_IN, length);
            int sent = 0;
            if (pendingStart == pendingEnd)
            {
                pendingStart = 0;
                pendingEnd = 0;
                sent = connection.send(buffer, offset, length);
                if (sent < 0)
                {
                    return length; // closing: nothing can be echoed any more
                }
                shard.counters().add(ShardCounterDescriptor.APP_BYTES_OUT, sent);
            }
            final int rest = length - sent;
            if (rest > 0)
            {
                if (pendingEnd + rest > pending.capacity())
                {
                    pending.putBytes(0, pending, pendingStart, pendingEnd - pendingStart);
                    pendingEnd -= pendingStart;
                    pendingStart = 0;
                }
                if (pendingEnd + rest > pending.capacity())
                {
                    connection.abort(); // cannot happen: the window never exceeds the receive buffer
                    return length;
                }
                pending.putBytes(pendingEnd, buffer, offset + sent, rest);
                pendingEnd += rest;
            }
            return sent;
        }

        @Override
        public void onWritable()
        {
            if (connection == null || pendingEnd == pendingStart)
            {
                return;
            }
            final int sent = connection.send(pending, pendingStart, pendingEnd - pendingStart);
            if (sent > 0)
            {
                pendingStart += sent;
                connection.consumed(sent);
                shard.counters().add(ShardCounterDescriptor.APP_BYTES_OUT, sent);
            }
            if (peerClosed && pendingStart == pendingEnd)
            {
                connection.close();
            }
        }

        @Override
        public void onPeerClosed()
        {
            peerClosed = true;
            if (pendingStart == pendingEnd)
            {
                connection.close();
            }
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            detach();
            owner.free.addFirst(this);
        }
    }
}
