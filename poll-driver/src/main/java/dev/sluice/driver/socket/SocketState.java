package dev.sluice.driver.socket;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.driver.runtime.ShardContext;
import org.agrona.DirectBuffer;

/**
 * One blocking socket's state shared by its application threads and its shard: the two rings, the requests
 * the application makes (read progress, shutdown, close, abort, connect), what the shard reports back
 * (established, end of stream, closed), and the parked waiters. It is the connection's
 * {@link TcpChannelHandler} on the shard.
 *
 * <p>Application side: writes into {@link #tx}, reads from {@link #rx}, then rings the doorbell
 * ({@link #schedule()}): the state enters its shard's queue once (a flag keeps it from being queued twice)
 * and the shard {@link #pump()}s it at its next duty cycle. Shard side: copies received bytes into
 * {@link #rx} and wakes the reader, drains {@link #tx} into the channel and wakes the writer. Nothing is
 * locked or allocated per operation on either side.
 */
final class SocketState implements TcpChannelHandler
{
    private static final VarHandle SCHEDULED;

    static
    {
        try
        {
            SCHEDULED = MethodHandles.lookup().findVarHandle(SocketState.class, "scheduled", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final ByteRing rx;
    final ByteRing tx;
    final SluiceServerSocket server; // null for a client socket
    SocketShard shard;               // set before the state is published to the other side

    // application -> shard
    volatile long readTotal;
    volatile boolean shutdownRequested;
    volatile boolean closeRequested;
    volatile boolean abortRequested;
    volatile boolean inputShutdown;
    int connectIp;
    int connectPort;
    volatile boolean connectRequested;
    volatile int noDelayRequest = -1;

    // shard -> application
    volatile boolean established;
    volatile boolean eof;
    volatile TcpCloseReason closed;
    volatile String openFailure;
    volatile int localIp;
    volatile int localPort;
    volatile int remoteIp;
    volatile int remotePort;

    // parked application threads
    volatile Thread reader;
    volatile Thread writer;
    volatile Thread connector;

    @SuppressWarnings("unused") // through SCHEDULED
    private volatile int scheduled;

    // shard only
    TcpChannel channel;
    private long consumedTotal;
    private boolean connectStarted;
    private boolean finIssued;
    private boolean closeIssued;

    SocketState(final int rxBytes, final int txBytes, final SluiceServerSocket server)
    {
        this.rx = new ByteRing(rxBytes);
        this.tx = new ByteRing(txBytes);
        this.server = server;
    }

    /** Application side: queues this socket for its shard's next duty cycle, unless it is queued already. */
    void schedule()
    {
        if ((int)SCHEDULED.getVolatile(this) == 0 && SCHEDULED.compareAndSet(this, 0, 1))
        {
            shard.enqueue(this);
        }
    }

    /** Shard side: taken off the queue; requests made from now on queue it again. */
    void unscheduled()
    {
        SCHEDULED.setVolatile(this, 0);
    }

    /** Shard side: an accepted connection starts feeding this state. */
    void bindAccepted(final SocketShard shard, final TcpChannel channel)
    {
        this.shard = shard;
        this.channel = channel;
    }

    /** Shard side: acts on everything the application asked for since the last pump. */
    void pump()
    {
        final TcpChannel ch = channel;
        if (ch == null)
        {
            if (connectRequested && !connectStarted)
            {
                connectStarted = true;
                if (abortRequested || closeRequested)
                {
                    closed = TcpCloseReason.ABORTED;
                    wake(connector);
                    return;
                }
                final ShardContext context = shard.context();
                final TcpChannel opened = context.open(connectIp, connectPort, this, null);
                if (opened == null)
                {
                    openFailure = "no free local port or pooled connection on shard " + context.index();
                    wake(connector);
                    return;
                }
                channel = opened;
            }
            return;
        }
        if (abortRequested)
        {
            ch.abort(); // onClosed runs inside
            return;
        }
        final int noDelay = noDelayRequest;
        if (noDelay >= 0)
        {
            noDelayRequest = -1;
            ch.noDelay(noDelay == 1);
        }
        final long read = readTotal;
        if (read != consumedTotal)
        {
            final int delta = (int)(read - consumedTotal);
            consumedTotal = read;
            ch.consume(delta); // RECEIVE: the window opens as the application reads
        }
        if (!finIssued || !closeIssued)
        {
            if (tx.available() > 0)
            {
                final int sent = tx.drainTo(ch);
                if (sent < 0)
                {
                    tx.discard(); // the connection no longer sends: the writer sees why
                }
                if (sent != 0)
                {
                    wake(writer);
                }
            }
            if (tx.available() == 0)
            {
                if (closeRequested && !closeIssued)
                {
                    closeIssued = true;
                    finIssued = true;
                    ch.close(); // data first, then FIN; unread received data resets instead (SHLD-3)
                }
                else if (shutdownRequested && !finIssued)
                {
                    finIssued = true;
                    ch.shutdownOutput();
                }
            }
        }
    }

    private void wake(final Thread thread)
    {
        if (thread != null)
        {
            shard.wake(thread);
        }
    }

    @Override
    public void onEstablished(final TcpChannel channel)
    {
        localIp = channel.localIp();
        localPort = channel.localPort();
        remoteIp = channel.remoteIp();
        remotePort = channel.remotePort();
        established = true;
        if (server != null)
        {
            server.onEstablished(this);
        }
        wake(connector);
        pump(); // requests made before the handshake completed
    }

    @Override
    public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
    {
        if (inputShutdown || closeIssued)
        {
            return length; // nobody will read it
        }
        // the ring holds at least a receive buffer: what TCP delivers and the application has not read never
        // exceeds the window, so everything fits; bytes are released to the window as the application reads
        rx.offer(buffer, offset, length);
        wake(reader);
        return 0;
    }

    @Override
    public void onWritable(final TcpChannel channel)
    {
        pump();
    }

    @Override
    public void onPeerClosed(final TcpChannel channel)
    {
        eof = true;
        wake(reader);
    }

    @Override
    public void onClosed(final TcpChannel channel, final TcpCloseReason reason)
    {
        this.channel = null; // the stack recycles the channel after this returns
        if (server != null && !established)
        {
            shard = null; // the handshake failed before anyone saw this socket: prepared for the next SYN
            consumedTotal = 0;
            server.returnSpare(this);
            return;
        }
        closed = reason;
        wake(reader);
        wake(writer);
        wake(connector);
    }
}
