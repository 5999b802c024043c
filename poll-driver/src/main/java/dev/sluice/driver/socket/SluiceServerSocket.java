package dev.sluice.driver.socket;

import java.io.Closeable;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.driver.runtime.Sluice;
import dev.sluice.driver.runtime.SluiceRuntime;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

/**
 * A listening socket on Sluice for application threads, shaped like {@link java.net.ServerSocket}: bound at
 * construction on every shard (each shard accepts the connections whose flows it owns), {@link #accept()}
 * with {@link #setSoTimeout(int)}, {@link #close()}.
 *
 * <p>Connections are accepted by the shards without allocating: each takes a prepared socket (its rings
 * included) from a pool of {@code backlog} sockets that {@link #accept()} refills on the application's
 * thread. A SYN that finds the pool empty is refused with a RST, like a full accept queue on a server with
 * {@code tcp_abort_on_overflow}. Established connections wait in a queue of {@code backlog} entries until an
 * application thread accepts them; the shard wakes one parked acceptor per connection.
 */
public final class SluiceServerSocket implements Closeable
{
    /** Backlog used by the constructors without one ({@code java.net.ServerSocket} uses 50). */
    public static final int DEFAULT_BACKLOG = 128;

    private final SocketShards shards;
    private final int port;
    private final int rxBytes;
    private final int txBytes;
    private final ManyToManyConcurrentArrayQueue<SocketState> spares;
    private final ManyToManyConcurrentArrayQueue<SocketState> established;
    private final ConcurrentLinkedQueue<Thread> acceptors = new ConcurrentLinkedQueue<>();
    private final AtomicLong refused = new AtomicLong();
    private volatile int soTimeoutMs;
    private volatile boolean closed;

    /**
     * Listens on {@code port} of every shard with the default backlog.
     *
     * @param sluice the running stack.
     * @param port   1..65535.
     * @throws IOException if the port already listens or the shards do not answer.
     */
    public SluiceServerSocket(final Sluice sluice, final int port) throws IOException
    {
        this(sluice.runtime(), port, DEFAULT_BACKLOG);
    }

    /**
     * Listens on {@code port} of every shard.
     *
     * @param runtime the running stack.
     * @param port    1..65535.
     * @param backlog connections prepared and queued for {@link #accept()}, &gt;= 1.
     * @throws IOException if the port already listens or the shards do not answer.
     */
    public SluiceServerSocket(final SluiceRuntime runtime, final int port, final int backlog) throws IOException
    {
        if (backlog < 1)
        {
            throw new IllegalArgumentException("backlog must be >= 1, got " + backlog);
        }
        this.shards = SocketShards.of(runtime);
        this.port = port;
        final TcpConfig tcp = runtime.context(0).tcpConfig();
        this.rxBytes = tcp.receiveBufferBytes();
        this.txBytes = tcp.sendBufferBytes();
        this.spares = new ManyToManyConcurrentArrayQueue<>(Math.max(2, backlog));
        this.established = new ManyToManyConcurrentArrayQueue<>(Math.max(2, backlog));
        for (int i = 0; i < backlog; i++)
        {
            spares.offer(new SocketState(rxBytes, txBytes, this));
        }
        try
        {
            runtime.listen(port, shard -> new Acceptor(shards.shard(shard))).get(10, TimeUnit.SECONDS);
        }
        catch (final ExecutionException ex)
        {
            throw new SocketException("cannot listen on port " + port + ": " + ex.getCause().getMessage());
        }
        catch (final InterruptedException | TimeoutException ex)
        {
            throw new SocketException("the shards did not start listening on port " + port + ": " + ex);
        }
    }

    /**
     * Waits for a connection (up to {@link #getSoTimeout()}).
     *
     * @return the established connection.
     * @throws SocketTimeoutException if none arrived within the timeout.
     * @throws SocketException        if the server socket is closed (also while waiting).
     */
    public SluiceSocket accept() throws IOException
    {
        long deadlineNs = 0;
        final Thread me = Thread.currentThread();
        while (true)
        {
            if (closed)
            {
                throw new SocketException("Socket is closed");
            }
            final SocketState state = established.poll();
            if (state != null)
            {
                spares.offer(new SocketState(rxBytes, txBytes, this)); // refill on the application's thread
                return new SluiceSocket(shards, state);
            }
            acceptors.offer(me);
            if (!established.isEmpty() || closed)
            {
                acceptors.remove(me);
                continue;
            }
            // no periodic recheck (on a shard-carried thread each timed park would allocate the JDK's timer task on
            // the shard): the shard wakes an acceptor it took off the queue after it queued the connection, and an
            // acceptor that gives up (timeout, interrupt) first takes a connection queued meanwhile or passes the
            // wake-up on, so none is lost
            final int timeoutMs = soTimeoutMs;
            if (timeoutMs > 0)
            {
                if (deadlineNs == 0)
                {
                    deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
                }
                final long leftNs = deadlineNs - System.nanoTime();
                if (leftNs <= 0)
                {
                    acceptors.remove(me);
                    final SocketState late = established.poll();
                    if (late != null)
                    {
                        spares.offer(new SocketState(rxBytes, txBytes, this));
                        return new SluiceSocket(shards, late);
                    }
                    throw new SocketTimeoutException("Accept timed out");
                }
                LockSupport.parkNanos(this, leftNs);
            }
            else
            {
                LockSupport.park(this);
            }
            acceptors.remove(me);
            if (me.isInterrupted())
            {
                passWakeUpOn();
                throw new SocketException("Closed by interrupt");
            }
        }
    }

    /** An acceptor leaving without a connection: another waiting acceptor takes any connection still queued. */
    private void passWakeUpOn()
    {
        if (!established.isEmpty())
        {
            final Thread next = acceptors.poll();
            if (next != null)
            {
                LockSupport.unpark(next);
            }
        }
    }

    /**
     * @param timeoutMs how long {@link #accept()} waits; 0 for ever.
     */
    public void setSoTimeout(final int timeoutMs)
    {
        if (timeoutMs < 0)
        {
            throw new IllegalArgumentException("timeout < 0");
        }
        this.soTimeoutMs = timeoutMs;
    }

    /**
     * @return the accept timeout, 0 for none.
     */
    public int getSoTimeout()
    {
        return soTimeoutMs;
    }

    /**
     * @return the listening port.
     */
    public int getLocalPort()
    {
        return port;
    }

    /**
     * @return SYNs refused because every prepared socket was taken (accept did not keep up).
     */
    public long refusedConnections()
    {
        return refused.get();
    }

    /**
     * @return whether {@link #close()} was called.
     */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * Stops listening on every shard; threads blocked in {@link #accept()} get {@link SocketException};
     * connections established but not accepted are reset. Idempotent.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final SluiceRuntime runtime = shards.runtime();
        final CompletableFuture<?>[] done = new CompletableFuture<?>[shards.count()];
        for (int i = 0; i < shards.count(); i++)
        {
            final CompletableFuture<Void> stopped = new CompletableFuture<>();
            done[i] = stopped;
            final int shard = i;
            runtime.execute(i, nowNs ->
            {
                runtime.context(shard).stopListening(port);
                stopped.complete(null);
            });
        }
        try
        {
            CompletableFuture.allOf(done).get(10, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            // the shards are gone: nothing listens any more
        }
        SocketState state;
        while ((state = established.poll()) != null)
        {
            new SluiceSocket(shards, state).abort();
        }
        Thread waiter;
        while ((waiter = acceptors.poll()) != null)
        {
            LockSupport.unpark(waiter);
        }
    }

    /** Shard side: a connection of this server completed its handshake. */
    void onEstablished(final SocketState state)
    {
        if (!established.offer(state))
        {
            state.channel.abort(); // cannot happen: at most backlog prepared sockets exist
            return;
        }
        final Thread waiter = acceptors.poll();
        if (waiter != null)
        {
            state.shard.wake(waiter); // a virtual thread through the wake queue: nothing allocated on the shard
        }
    }

    /** Shard side: a prepared socket whose handshake failed goes back to the pool. */
    void returnSpare(final SocketState state)
    {
        spares.offer(state);
    }

    /** One shard's listener: gives each SYN a prepared socket, or refuses it. */
    private final class Acceptor implements TcpChannelHandler
    {
        private final SocketShard shard;

        Acceptor(final SocketShard shard)
        {
            this.shard = shard;
        }

        @Override
        public boolean onAccept(final TcpChannel channel)
        {
            if (closed)
            {
                return false;
            }
            final SocketState state = spares.poll();
            if (state == null)
            {
                refused.incrementAndGet();
                return false;
            }
            state.bindAccepted(shard, channel);
            channel.handler(state);
            return true;
        }

        @Override
        public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
        {
            return length; // never called: each connection has its socket's handler
        }
    }
}
