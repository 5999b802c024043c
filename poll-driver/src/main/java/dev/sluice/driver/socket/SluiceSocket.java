package dev.sluice.driver.socket;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.driver.runtime.Sluice;
import dev.sluice.driver.runtime.SluiceRuntime;

/**
 * A blocking TCP socket on Sluice for application threads, platform or virtual, shaped like
 * {@link java.net.Socket}: {@link #connect(SocketAddress, int)}, {@link #getInputStream()},
 * {@link #getOutputStream()}, {@link #shutdownOutput()}, {@link #setSoTimeout(int)}, {@link #close()}.
 *
 * <h2>How it works</h2>
 * The connection lives on one shard. Bytes cross between the application thread and the shard through two
 * single-producer/single-consumer rings (received: shard to application; to send: application to shard),
 * with back-pressure both ways: a reader whose ring is empty parks, a writer whose ring is full parks, and the
 * shard wakes exactly the waiting thread once it has added or taken bytes. A write rings the shard's doorbell
 * once (a flag keeps a socket queued at most once); the shard copies the ring into TCP's send queue at its
 * next duty cycle. Received bytes are released to TCP's receive window as the application reads them, so a
 * slow reader closes the window (RFC 9293 flow control). In steady state neither side locks or allocates per
 * read or write. A parked virtual thread is unparked by another application thread already inside a call on
 * the same shard, or else by the shard's waker thread ({@link Wakeups}); waiting parks at once (an adaptive
 * bounded spin before parking can be turned on with {@code -Dsluice.socket.spinNs=NANOS}).
 *
 * <h2>Differences from {@code java.net.Socket}</h2>
 * <ul>
 *   <li>One reader thread and one writer thread at a time (the rings are single-consumer and single-producer);
 *       {@code java.net.Socket} serializes concurrent readers with a lock.</li>
 *   <li>Interrupting a thread blocked in {@code read}, {@code write} or {@code connect} closes the socket and
 *       throws {@link SocketException}, for platform threads too (JDK sockets do this for virtual threads
 *       only).</li>
 *   <li>{@link #close()} returns at once; data already written is still sent, then the FIN (SO_LINGER off);
 *       received data left unread resets the connection, as Linux does. {@link #abort()} (or
 *       {@code setSoLinger(true, 0)} then close) resets it at once.</li>
 *   <li>Addresses are IPv4; the local address is the stack's. No socket options beyond
 *       {@link #setTcpNoDelay(boolean)}, {@link #setSoTimeout(int)} and {@link #setSoLinger(boolean, int)}.</li>
 * </ul>
 */
public final class SluiceSocket implements Closeable
{
    /**
     * Longest spin of a read before it parks ({@code -Dsluice.socket.spinNs}; default 0: park at once). Off by
     * default: on a machine whose application threads share their CPUs (two vCPUs, one of them a shard's), a
     * spinning reader holds the CPU its peer needs to answer; measured in README (blocking sockets).
     */
    static final long SPIN_NS = Long.getLong("sluice.socket.spinNs", 0);

    private final SocketShards shards;
    private final SocketState state;
    private final Input input = new Input();
    private final Output output = new Output();
    private volatile int soTimeoutMs;
    private volatile boolean lingerZero;
    private volatile boolean closed;
    private volatile boolean connecting;
    private int spinFailures; // reader thread only
    private int spinSkip;     // reader thread only

    /**
     * An unconnected socket of a running stack.
     *
     * @param sluice the stack.
     */
    public SluiceSocket(final Sluice sluice)
    {
        this(sluice.runtime());
    }

    /**
     * An unconnected socket of a running stack.
     *
     * @param runtime the stack's runtime.
     */
    public SluiceSocket(final SluiceRuntime runtime)
    {
        this.shards = SocketShards.of(runtime);
        final TcpConfig tcp = runtime.context(0).tcpConfig();
        this.state = new SocketState(tcp.receiveBufferBytes(), tcp.sendBufferBytes(), null);
    }

    SluiceSocket(final SocketShards shards, final SocketState accepted)
    {
        this.shards = shards;
        this.state = accepted;
    }

    /**
     * Connects without a timeout (TCP's own: the SYN is retried until R2 for SYNs).
     *
     * @param endpoint an {@link InetSocketAddress} with an IPv4 address.
     * @throws IOException as {@link #connect(SocketAddress, int)}.
     */
    public void connect(final SocketAddress endpoint) throws IOException
    {
        connect(endpoint, 0);
    }

    /**
     * Active OPEN: the connection is opened from a shard (round robin) with a local port that shard owns.
     *
     * @param endpoint  an {@link InetSocketAddress} with an IPv4 address.
     * @param timeoutMs 0 for none.
     * @throws ConnectException       if refused (RST), unreachable, or no local port or connection is free.
     * @throws SocketTimeoutException if not established within the timeout (the attempt is aborted).
     * @throws SocketException        if the socket is closed or already connected.
     */
    public void connect(final SocketAddress endpoint, final int timeoutMs) throws IOException
    {
        if (!(endpoint instanceof InetSocketAddress address) || address.isUnresolved() ||
            !(address.getAddress() instanceof Inet4Address))
        {
            throw new UnknownHostException("an IPv4 InetSocketAddress is required, got " + endpoint);
        }
        if (timeoutMs < 0)
        {
            throw new IllegalArgumentException("timeout < 0");
        }
        if (closed)
        {
            throw new SocketException("Socket is closed");
        }
        if (connecting || state.server != null)
        {
            throw new SocketException("already connected");
        }
        connecting = true;
        final byte[] ip = address.getAddress().getAddress();
        state.connectIp = ((ip[0] & 0xFF) << 24) | ((ip[1] & 0xFF) << 16) | ((ip[2] & 0xFF) << 8) | (ip[3] & 0xFF);
        state.connectPort = address.getPort();
        state.shard = shards.nextForConnect();
        state.connectRequested = true;
        state.schedule();
        final long deadlineNs = timeoutMs == 0 ? 0 : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        final Thread me = Thread.currentThread();
        while (true)
        {
            if (state.established)
            {
                return;
            }
            final String failure = state.openFailure;
            if (failure != null)
            {
                closed = true;
                throw new ConnectException(failure);
            }
            final TcpCloseReason reason = state.closed;
            if (reason != null)
            {
                closed = true;
                throw new ConnectException(switch (reason)
                {
                    case RESET_BY_PEER -> "Connection refused";
                    case UNREACHABLE -> "No route to host (ICMP unreachable)";
                    case TIMEOUT -> "Connection timed out";
                    default -> "Connection failed: " + reason;
                });
            }
            if (closed)
            {
                throw new SocketException("Socket closed");
            }
            state.connector = me;
            if (state.established || state.closed != null || state.openFailure != null)
            {
                state.connector = null;
                continue;
            }
            if (deadlineNs != 0)
            {
                final long leftNs = deadlineNs - System.nanoTime();
                if (leftNs <= 0)
                {
                    state.connector = null;
                    abort();
                    throw new SocketTimeoutException("Connect timed out");
                }
                LockSupport.parkNanos(this, leftNs);
            }
            else
            {
                LockSupport.park(this);
            }
            state.connector = null;
            checkInterrupt();
        }
    }

    /**
     * @return the stream of received bytes (the same object every time).
     */
    public InputStream getInputStream()
    {
        return input;
    }

    /**
     * @return the stream to send on (the same object every time); {@code flush} does nothing: every write is
     * handed to the shard at once.
     */
    public OutputStream getOutputStream()
    {
        return output;
    }

    /**
     * @param timeoutMs how long a read waits for data before {@link SocketTimeoutException}; 0 for ever.
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
     * @return the read timeout, 0 for none.
     */
    public int getSoTimeout()
    {
        return soTimeoutMs;
    }

    /**
     * @param on     true with {@code lingerS == 0}: {@link #close()} resets the connection (like
     *               {@code SO_LINGER} 0); other values keep the default close.
     * @param lingerS seconds; only 0 is meaningful here.
     */
    public void setSoLinger(final boolean on, final int lingerS)
    {
        this.lingerZero = on && lingerS == 0;
    }

    /**
     * Turns Nagle's algorithm off or on for this connection ({@code TCP_NODELAY}); applied by the shard.
     *
     * @param on true to send small segments at once.
     */
    public void setTcpNoDelay(final boolean on)
    {
        state.noDelayRequest = on ? 1 : 0;
        if (state.shard != null)
        {
            state.schedule();
        }
    }

    /**
     * Half-close: the FIN follows everything written so far; reading goes on until the peer's FIN.
     *
     * @throws SocketException if the socket is closed or not connected.
     */
    public void shutdownOutput() throws SocketException
    {
        checkOpen();
        state.shutdownRequested = true;
        state.schedule();
    }

    /**
     * Reads return end of stream from now on; bytes that arrive later are discarded.
     *
     * @throws SocketException if the socket is closed or not connected.
     */
    public void shutdownInput() throws SocketException
    {
        checkOpen();
        state.inputShutdown = true;
        state.readTotal = state.readTotal + state.rx.discard();
        state.schedule();
    }

    /**
     * CLOSE: returns at once; what was written is still sent, then the FIN (with {@code setSoLinger(true, 0)}:
     * ABORT instead). Threads blocked on this socket get {@link SocketException}. Idempotent.
     */
    @Override
    public void close()
    {
        if (lingerZero)
        {
            abort();
            return;
        }
        if (!closed)
        {
            closed = true;
            state.closeRequested = true;
            if (state.shard != null)
            {
                state.schedule();
            }
            wakeBlocked();
        }
    }

    /**
     * ABORT: the connection is reset at once (the peer sees a RST), unsent data is dropped, and threads
     * blocked in read, write or connect wake with {@link SocketException}. Not in {@code java.net.Socket}
     * (there: {@code setSoLinger(true, 0)} then close).
     */
    public void abort()
    {
        closed = true;
        state.abortRequested = true;
        if (state.shard != null)
        {
            state.schedule();
        }
        wakeBlocked();
    }

    private void wakeBlocked()
    {
        final Thread r = state.reader;
        if (r != null)
        {
            LockSupport.unpark(r);
        }
        final Thread w = state.writer;
        if (w != null)
        {
            LockSupport.unpark(w);
        }
        final Thread c = state.connector;
        if (c != null)
        {
            LockSupport.unpark(c);
        }
    }

    /**
     * @return whether the handshake completed.
     */
    public boolean isConnected()
    {
        return state.established;
    }

    /**
     * @return whether {@link #close()} or {@link #abort()} was called.
     */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * @return whether {@link #shutdownOutput()} was called.
     */
    public boolean isOutputShutdown()
    {
        return state.shutdownRequested;
    }

    /**
     * @return whether {@link #shutdownInput()} was called.
     */
    public boolean isInputShutdown()
    {
        return state.inputShutdown;
    }

    /**
     * @return the peer's address, or null before the connection is established.
     */
    public InetAddress getInetAddress()
    {
        return state.established ? toAddress(state.remoteIp) : null;
    }

    /**
     * @return the peer's port, or 0 before the connection is established.
     */
    public int getPort()
    {
        return state.established ? state.remotePort : 0;
    }

    /**
     * @return our address (the stack's), or null before the connection is established.
     */
    public InetAddress getLocalAddress()
    {
        return state.established ? toAddress(state.localIp) : null;
    }

    /**
     * @return our port, or -1 before the connection is established.
     */
    public int getLocalPort()
    {
        return state.established ? state.localPort : -1;
    }

    @Override
    public String toString()
    {
        return "SluiceSocket[" + (state.established ? getInetAddress() + ":" + getPort() + " local port " +
            getLocalPort() : "unconnected") + (closed ? " closed" : "") + "]";
    }

    /** The shard that owns the connection (null before connect). */
    SocketShard shard()
    {
        return state.shard;
    }

    private static InetAddress toAddress(final int ip)
    {
        try
        {
            return InetAddress.getByAddress(new byte[]{(byte)(ip >>> 24), (byte)(ip >>> 16), (byte)(ip >>> 8),
                (byte)ip});
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private void checkOpen() throws SocketException
    {
        if (closed)
        {
            throw new SocketException("Socket is closed");
        }
        if (state.shard == null)
        {
            throw new SocketException("Socket is not connected");
        }
    }

    private void checkInterrupt() throws SocketException
    {
        if (Thread.currentThread().isInterrupted())
        {
            abort();
            throw new SocketException("Closed by interrupt");
        }
    }

    int read(final byte[] b, final int off, final int len) throws IOException
    {
        Objects.checkFromIndexSize(off, len, b.length);
        final SocketShard shard = state.shard;
        if (shard == null)
        {
            throw new SocketException("Socket is not connected");
        }
        if (len == 0)
        {
            return 0;
        }
        shard.enterCall();
        try
        {
            return awaitAndRead(shard, b, off, len);
        }
        finally
        {
            shard.leaveCall();
        }
    }

    /** Inside a counted call ({@link SocketShard#enterCall()}); leaves it while spinning or parked. */
    private int awaitAndRead(final SocketShard shard, final byte[] b, final int off, final int len) throws IOException
    {
        long deadlineNs = 0;
        final Thread me = Thread.currentThread();
        boolean spun = false;
        while (true)
        {
            if (closed)
            {
                throw new SocketException("Socket closed");
            }
            if (state.inputShutdown)
            {
                return -1;
            }
            final int n = state.rx.poll(b, off, len);
            if (n > 0)
            {
                state.readTotal = state.readTotal + n;
                state.schedule(); // the shard opens the window
                return n;
            }
            final boolean eof = state.eof;
            final TcpCloseReason reason = state.closed;
            if (eof || reason != null)
            {
                if (state.rx.available() > 0)
                {
                    continue; // the last bytes arrived before the FIN or the close
                }
                if (eof || reason == TcpCloseReason.NORMAL)
                {
                    return -1;
                }
                throw new SocketException(reason == TcpCloseReason.TIMEOUT ? "Connection timed out" :
                    reason == TcpCloseReason.ABORTED ? "Connection aborted" : "Connection reset");
            }
            if (!spun)
            {
                spun = true;
                if (spinBeforePark(shard))
                {
                    continue;
                }
            }
            state.reader = me;
            if (state.rx.available() > 0 || state.eof || state.closed != null || closed)
            {
                state.reader = null;
                continue;
            }
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
                    state.reader = null;
                    throw new SocketTimeoutException("Read timed out");
                }
                shard.leaveCall();
                LockSupport.parkNanos(this, leftNs);
            }
            else
            {
                shard.leaveCall();
                LockSupport.park(this);
            }
            shard.enterCall();
            state.reader = null;
            checkInterrupt();
        }
    }

    /**
     * The waiting policy of a read that finds no data: an adaptive, bounded spin before parking. A response
     * that comes back within {@link #SPIN_NS} (a round trip through a busy-polling shard takes microseconds) is
     * then taken without a park and the wake-up it needs (two context switches); a spin that ends empty
     * makes the next waits of this socket park at once (1, 2, 4 .. 64 of them) before it tries again, so a
     * socket whose answers come slowly (many connections per carrier) stops spinning and parks, as the issue
     * asks. The spinning thread does not count as inside a call: other threads' wake-ups do not wait for it.
     *
     * @return whether data, end of stream or a close arrived while spinning.
     */
    private boolean spinBeforePark(final SocketShard shard)
    {
        if (SPIN_NS <= 0)
        {
            return false;
        }
        if (spinSkip > 0)
        {
            spinSkip--;
            return false;
        }
        shard.leaveCall();
        boolean arrived = false;
        final long endNs = System.nanoTime() + SPIN_NS;
        do
        {
            Thread.onSpinWait();
            if (state.rx.available() > 0 || state.eof || state.closed != null || closed)
            {
                arrived = true;
                break;
            }
        }
        while (System.nanoTime() - endNs < 0);
        shard.enterCall();
        if (arrived)
        {
            spinFailures = 0;
        }
        else
        {
            spinFailures = Math.min(spinFailures + 1, 6);
            spinSkip = (1 << spinFailures) - 1;
        }
        return arrived;
    }

    void write(final byte[] b, final int off, final int len) throws IOException
    {
        Objects.checkFromIndexSize(off, len, b.length);
        final SocketShard shard = state.shard;
        if (shard == null)
        {
            throw new SocketException("Socket is not connected");
        }
        shard.enterCall();
        try
        {
            offerAll(shard, b, off, len);
        }
        finally
        {
            shard.leaveCall();
        }
    }

    /** Inside a counted call ({@link SocketShard#enterCall()}); leaves it while parked. */
    private void offerAll(final SocketShard shard, final byte[] b, final int off, final int len) throws IOException
    {
        int offset = off;
        int remaining = len;
        final Thread me = Thread.currentThread();
        while (remaining > 0)
        {
            if (closed)
            {
                throw new SocketException("Socket closed");
            }
            if (state.shutdownRequested)
            {
                throw new SocketException("Socket output is shutdown");
            }
            final TcpCloseReason reason = state.closed;
            if (reason != null)
            {
                throw new SocketException(reason == TcpCloseReason.NORMAL ? "Broken pipe" : "Connection reset");
            }
            final int n = state.tx.offer(b, offset, remaining);
            if (n > 0)
            {
                offset += n;
                remaining -= n;
                state.schedule();
                continue;
            }
            state.writer = me;
            if (state.tx.free() > 0 || state.closed != null || closed)
            {
                state.writer = null;
                continue;
            }
            shard.leaveCall();
            LockSupport.park(this);
            shard.enterCall();
            state.writer = null;
            checkInterrupt();
        }
    }

    /** The received bytes; no allocation per read. */
    private final class Input extends InputStream
    {
        private final byte[] one = new byte[1];

        @Override
        public int read() throws IOException
        {
            final int n = SluiceSocket.this.read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(final byte[] b, final int off, final int len) throws IOException
        {
            return SluiceSocket.this.read(b, off, len);
        }

        @Override
        public int available()
        {
            return state.rx.available();
        }

        @Override
        public void close()
        {
            SluiceSocket.this.close();
        }
    }

    /** The bytes to send; no allocation per write. */
    private final class Output extends OutputStream
    {
        private final byte[] one = new byte[1];

        @Override
        public void write(final int b) throws IOException
        {
            one[0] = (byte)b;
            SluiceSocket.this.write(one, 0, 1);
        }

        @Override
        public void write(final byte[] b, final int off, final int len) throws IOException
        {
            SluiceSocket.this.write(b, off, len);
        }

        @Override
        public void close()
        {
            SluiceSocket.this.close();
        }
    }
}
