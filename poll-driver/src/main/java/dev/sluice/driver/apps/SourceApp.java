package dev.sluice.driver.apps;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.driver.ShardCounterDescriptor;
import dev.sluice.driver.runtime.Application;
import dev.sluice.driver.runtime.ShardApplication;
import dev.sluice.driver.runtime.ShardContext;
import dev.sluice.driver.runtime.SluiceRuntime;
import org.agrona.DirectBuffer;

/**
 * {@code sluice source}: one connection that sends {@code bytes} bytes of the {@link FixedPattern}, then
 * closes. It succeeds when the peer has acknowledged every byte and our FIN and has closed its side too;
 * it fails if the connection is reset or times out, or if the peer closes before everything was sent.
 * Sending follows back-pressure: as much as the send buffer takes, the rest on {@code onWritable}.
 */
public final class SourceApp implements Application
{
    /** Still running. */
    public static final int RUNNING = 0;
    /** Everything was sent and acknowledged, and both sides closed. */
    public static final int SUCCEEDED = 1;
    /** Reset, timed out, refused, or closed early by the peer. */
    public static final int FAILED = 2;

    private final long bytes;
    private volatile int outcome = RUNNING;
    private volatile String failure;
    private volatile long startNs;
    private volatile long endNs;
    private volatile boolean established;
    private volatile int timeWaitRecords;
    private Shard shard0;

    /**
     * @param bytes what to send.
     */
    public SourceApp(final long bytes)
    {
        this.bytes = bytes;
    }

    @Override
    public ShardApplication forShard(final ShardContext shard)
    {
        final Shard s = new Shard(shard);
        if (shard.index() == 0)
        {
            shard0 = s;
        }
        return s;
    }

    /**
     * Opens the connection from shard 0 (call once the runtime runs).
     *
     * @param runtime    the running stack.
     * @param remoteIp   the peer.
     * @param remotePort its port.
     */
    public void start(final SluiceRuntime runtime, final int remoteIp, final int remotePort)
    {
        final Shard s = shard0;
        runtime.execute(0, nowNs -> s.open(remoteIp, remotePort, nowNs));
    }

    /**
     * @return {@link #RUNNING}, {@link #SUCCEEDED} or {@link #FAILED}.
     */
    public int outcome()
    {
        return outcome;
    }

    /**
     * @return why it failed, or null.
     */
    public String failure()
    {
        return failure;
    }

    /**
     * @return whether the handshake completed.
     */
    public boolean established()
    {
        return established;
    }

    /**
     * @return nanoseconds from ESTABLISHED to the peer's close after the last acknowledgement.
     */
    public long elapsedNs()
    {
        return endNs - startNs;
    }

    /**
     * @return 4-tuples of shard 0 still in TIME-WAIT (the connection's, once it closed actively).
     */
    public int timeWaitRecords()
    {
        return timeWaitRecords;
    }

    /**
     * @return the bytes sent.
     */
    public long bytes()
    {
        return bytes;
    }

    private void finish(final int result, final String reason, final long nowNs)
    {
        if (outcome == RUNNING)
        {
            endNs = nowNs;
            failure = reason;
            outcome = result;
        }
    }

    private final class Shard implements ShardApplication
    {
        private final ShardContext shard;
        private Handler handler;

        Shard(final ShardContext shard)
        {
            this.shard = shard;
        }

        void open(final int remoteIp, final int remotePort, final long nowNs)
        {
            handler = new Handler(shard);
            final TcpChannel c = shard.open(remoteIp, remotePort, handler, null);
            if (c == null)
            {
                finish(FAILED, "no local port or connection free", nowNs);
                return;
            }
            handler.channel = c;
        }

        @Override
        public TcpChannelHandler listener()
        {
            return null; // a client: listens nowhere
        }

        @Override
        public int doWork(final long nowNs)
        {
            final Handler h = handler;
            final TcpChannel c = h == null ? null : h.channel;
            // the compact records, and our TCB while it is itself in TIME-WAIT (the stack makes its record at the
            // poll after the one that sent the last ACK: counting only records let the command see 0 in between
            // and exit at once, with TIME-WAIT not over)
            final int records = shard.timeWaitCount() + (c != null && c.state() == TcpState.TIME_WAIT ? 1 : 0);
            if (records != timeWaitRecords)
            {
                timeWaitRecords = records; // for the command, which stays until TIME-WAIT ends
            }
            if (c != null && h.peerClosed && h.closeCalled && outcome == RUNNING && c.state() == TcpState.TIME_WAIT &&
                c.sendQueueBytes() == 0)
            {
                finish(SUCCEEDED, null, nowNs); // every byte and our FIN acknowledged; TIME-WAIT need not end
                return 1;
            }
            return 0;
        }
    }

    private final class Handler implements TcpChannelHandler
    {
        private final ShardContext shard;
        private TcpChannel channel;
        private long sent;
        private boolean closeCalled;
        private boolean peerClosed;

        Handler(final ShardContext shard)
        {
            this.shard = shard;
        }

        @Override
        public void onEstablished(final TcpChannel channel)
        {
            startNs = shard.nowNs();
            established = true;
            fill(channel);
        }

        @Override
        public void onWritable(final TcpChannel channel)
        {
            fill(channel);
        }

        private void fill(final TcpChannel channel)
        {
            while (sent < bytes)
            {
                final int chunk = (int)Math.min(bytes - sent, FixedPattern.CHUNK_BYTES);
                final int n = channel.send(FixedPattern.buffer(), FixedPattern.offset(sent), chunk);
                if (n <= 0)
                {
                    return; // back-pressure: onWritable comes when the peer acknowledges
                }
                sent += n;
                shard.counters().add(ShardCounterDescriptor.APP_BYTES_OUT, n);
            }
            if (!closeCalled)
            {
                closeCalled = true;
                channel.close(); // the FIN follows the data
            }
        }

        @Override
        public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
        {
            shard.counters().add(ShardCounterDescriptor.APP_BYTES_IN, length);
            return length;
        }

        @Override
        public void onPeerClosed(final TcpChannel channel)
        {
            peerClosed = true;
            if (!closeCalled)
            {
                finish(FAILED, "the peer closed after " + sent + " of " + bytes + " bytes", shard.nowNs());
                channel.close();
            }
        }

        @Override
        public void onClosed(final TcpChannel channel, final TcpCloseReason reason)
        {
            this.channel = null; // recycled by the stack after this returns
            timeWaitRecords = shard.timeWaitCount(); // the compact record is in place before the TCB closes
            if (reason == TcpCloseReason.NORMAL && peerClosed && closeCalled)
            {
                finish(SUCCEEDED, null, shard.nowNs());
            }
            else if (!established && reason == TcpCloseReason.RESET_BY_PEER)
            {
                finish(FAILED, "connection refused (the peer answered the SYN with a RST: nothing listens there)",
                    shard.nowNs());
            }
            else
            {
                finish(FAILED, "connection closed: " + reason + " after " + sent + " bytes queued", shard.nowNs());
            }
        }
    }
}
