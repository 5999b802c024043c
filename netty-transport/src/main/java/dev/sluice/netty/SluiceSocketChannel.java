package dev.sluice.netty;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.Future;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A TCP connection of a Sluice shard as a Netty {@link SocketChannel}: accepted by a
 * {@link SluiceServerSocketChannel} or connected with {@code Bootstrap.connect}. It lives on the event loop of
 * the shard that owns its flow, and every operation runs on that thread.
 *
 * <h2>Reading and flow control</h2>
 * Received bytes are copied once from the frame into a pooled {@link ByteBuf} of the channel's allocator (sized
 * by the channel's {@code RecvByteBufAllocator}, as epoll and NIO size their reads), in the stack's callback. They are not zero-copy because the frame's mbuf is freed in bulk right after the burst
 * (nothing may hold an mbuf past the duty cycle, so a slow reader can never drain the mempool), while a
 * ByteBuf's lifetime is the pipeline's to decide. The copied bytes are <em>not consumed</em> in the stack until
 * the pipeline reads them: with {@code autoRead} off and no {@code read()}, they stay held and keep counting
 * against the receive window, which closes (RFC 9293 flow control); {@code read()} delivers what is held
 * ({@code channelRead} per buffer, then one {@code channelReadComplete}) and opens the window again.
 *
 * <h2>Writing</h2>
 * {@code flush} copies the flushed ByteBufs into the connection's send queue and releases them; the shard
 * transmits at the end of its current duty cycle, so every flush of one cycle batches into full segments.
 * What the send queue does not accept stays in Netty's {@code ChannelOutboundBuffer}, whose high/low water
 * marks drive {@code isWritable()}; the stack's {@code onWritable} resumes the flush.
 *
 * <h2>Closing</h2>
 * {@code close()} sends our FIN after the queued data (a RST if received data was left unread, SHLD-3);
 * with {@code SO_LINGER} 0 it is an ABORT (RST). The peer's FIN closes the channel, or with
 * {@code ALLOW_HALF_CLOSURE} shuts its input down ({@code ChannelInputShutdownEvent}); {@code shutdownOutput()}
 * sends our FIN and keeps reading. A reset or timed-out connection reaches {@code exceptionCaught} with an
 * {@link IOException}, then closes.
 */
public final class SluiceSocketChannel extends AbstractChannel implements SocketChannel
{
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);
    private static final TcpConfig DEFAULT_TCP = TcpConfig.builder().build();

    private final SluiceSocketChannelConfig config = new SluiceSocketChannelConfig(this);
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>(4);
    private final UnsafeBuffer inboundView = new UnsafeBuffer(0, 0); // over a pooled ByteBuf's memory while copying
    private final SluiceIoHandler ownerHandler;
    private SluiceIoHandler ioHandler;
    private final SluiceIoHandle handle = new SluiceIoHandle(this);
    private IoRegistration registration;
    private TcpChannel tcp;
    private int pendingBytes;
    private boolean readRequested;
    private boolean peerClosed;
    private boolean stackGone;
    private IOException stackError;
    boolean inReadyList;
    private volatile boolean open = true;
    private volatile boolean active;
    private volatile boolean inputShutdown;
    private volatile boolean outputShutdown;
    private volatile InetSocketAddress local;
    private volatile InetSocketAddress remote;
    private ChannelPromise connectPromise;
    private Future<?> connectTimeout;

    /** A client channel: {@code Bootstrap.channel(SluiceSocketChannel.class)}. */
    public SluiceSocketChannel()
    {
        super(null);
        this.ownerHandler = null;
    }

    /** An accepted connection, established, owned by {@code handler}'s shard. */
    SluiceSocketChannel(final SluiceServerSocketChannel parent, final SluiceIoHandler handler, final TcpChannel tcp)
    {
        super(parent);
        this.ownerHandler = handler;
        this.tcp = tcp;
        this.active = true;
        this.local = address(tcp.localIp(), tcp.localPort());
        this.remote = address(tcp.remoteIp(), tcp.remotePort());
    }

    /**
     * @return the event loop of the shard that owns this accepted connection, or null for a client channel.
     */
    EventLoop ownerLoop()
    {
        return ownerHandler == null ? null : ownerHandler.eventLoop();
    }

    @Override
    public ServerSocketChannel parent()
    {
        return (ServerSocketChannel)super.parent();
    }

    @Override
    public SluiceSocketChannelConfig config()
    {
        return config;
    }

    @Override
    public ChannelMetadata metadata()
    {
        return METADATA;
    }

    @Override
    public boolean isOpen()
    {
        return open;
    }

    @Override
    public boolean isActive()
    {
        return open && active;
    }

    @Override
    public InetSocketAddress localAddress()
    {
        return (InetSocketAddress)super.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress()
    {
        return (InetSocketAddress)super.remoteAddress();
    }

    @Override
    protected SocketAddress localAddress0()
    {
        return local;
    }

    @Override
    protected SocketAddress remoteAddress0()
    {
        return remote;
    }

    @Override
    public boolean isInputShutdown()
    {
        return inputShutdown || !open;
    }

    @Override
    public boolean isOutputShutdown()
    {
        return outputShutdown || !open;
    }

    @Override
    public boolean isShutdown()
    {
        return isInputShutdown() && isOutputShutdown();
    }

    @Override
    public ChannelFuture shutdownOutput()
    {
        return shutdownOutput(newPromise());
    }

    @Override
    public ChannelFuture shutdownOutput(final ChannelPromise promise)
    {
        if (eventLoop().inEventLoop())
        {
            ((AbstractUnsafe)unsafe()).shutdownOutput(promise);
        }
        else
        {
            eventLoop().execute(() -> ((AbstractUnsafe)unsafe()).shutdownOutput(promise));
        }
        return promise;
    }

    @Override
    public ChannelFuture shutdownInput()
    {
        return shutdownInput(newPromise());
    }

    @Override
    public ChannelFuture shutdownInput(final ChannelPromise promise)
    {
        if (eventLoop().inEventLoop())
        {
            shutdownInput0(promise);
        }
        else
        {
            eventLoop().execute(() -> shutdownInput0(promise));
        }
        return promise;
    }

    private void shutdownInput0(final ChannelPromise promise)
    {
        if (!open)
        {
            promise.setFailure(new ClosedChannelException());
            return;
        }
        // like shutdown(SHUT_RD): what is held and what arrives later is discarded, the window stays open
        inputShutdown = true;
        releasePending(true);
        promise.setSuccess();
    }

    @Override
    public ChannelFuture shutdown()
    {
        return shutdown(newPromise());
    }

    @Override
    public ChannelFuture shutdown(final ChannelPromise promise)
    {
        final ChannelFuture output = shutdownOutput();
        output.addListener(f -> shutdownInput().addListener(g ->
        {
            final Throwable cause = f.cause() != null ? f.cause() : g.cause();
            if (cause != null)
            {
                promise.tryFailure(cause);
            }
            else
            {
                promise.trySuccess();
            }
        }));
        return promise;
    }

    @Override
    protected boolean isCompatible(final EventLoop loop)
    {
        return loop instanceof IoEventLoop ioLoop && ioLoop.isCompatible(SluiceIoHandle.class);
    }

    @Override
    protected AbstractUnsafe newUnsafe()
    {
        return new SluiceUnsafe();
    }

    @Override
    protected void doRegister(final ChannelPromise promise)
    {
        ((IoEventLoop)eventLoop()).register(handle).addListener(f ->
        {
            if (!f.isSuccess())
            {
                promise.setFailure(f.cause());
                return;
            }
            final IoRegistration r = (IoRegistration)f.getNow();
            final SluiceIoHandler handler = r.attachment();
            if (ownerHandler != null && handler != ownerHandler)
            {
                r.cancel();
                promise.setFailure(new IllegalStateException("an accepted Sluice channel must be registered on " +
                    "the event loop of the shard that owns it: use SluiceEventLoopGroup as the child group"));
                return;
            }
            registration = r;
            ioHandler = handler;
            applyOptions();
            promise.setSuccess();
            if (!pending.isEmpty() || peerClosed || stackGone)
            {
                handler.markReady(this);
            }
        });
    }

    @Override
    protected void doDeregister()
    {
        if (registration != null)
        {
            registration.cancel();
        }
    }

    @Override
    protected void doBind(final SocketAddress localAddress)
    {
        // the local port is chosen by connect (or given to it); the address is the shard's
    }

    @Override
    protected void doDisconnect() throws Exception
    {
        doClose();
    }

    @Override
    protected void doClose()
    {
        final boolean wasOpen = open;
        open = false;
        active = false;
        if (connectTimeout != null)
        {
            connectTimeout.cancel(false);
            connectTimeout = null;
        }
        final TcpChannel t = tcp;
        tcp = null;
        if (t != null && wasOpen)
        {
            t.attach(null); // later callbacks of this connection (FIN-WAIT, TIME-WAIT) are not the pipeline's
            if (config.getSoLinger() == 0)
            {
                t.abort();
            }
            else
            {
                t.close();
            }
        }
        releasePending(false);
    }

    @Override
    protected void doShutdownOutput()
    {
        outputShutdown = true;
        if (tcp != null)
        {
            tcp.shutdownOutput();
        }
    }

    @Override
    protected void doBeginRead()
    {
        if (inputShutdown)
        {
            return;
        }
        readRequested = true;
        if (ioHandler != null && (!pending.isEmpty() || peerClosed || stackGone))
        {
            ioHandler.markReady(this);
        }
    }

    @Override
    protected Object filterOutboundMessage(final Object msg)
    {
        if (msg instanceof ByteBuf)
        {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: " + msg.getClass().getName() +
            " (Sluice channels write ByteBufs; FileRegion is not supported)");
    }

    @Override
    protected void doWrite(final ChannelOutboundBuffer in) throws Exception
    {
        final TcpChannel t = tcp;
        if (t == null)
        {
            throw new ClosedChannelException();
        }
        Object msg;
        while ((msg = in.current()) != null)
        {
            final ByteBuf buf = (ByteBuf)msg;
            final int readable = buf.readableBytes();
            if (readable == 0)
            {
                in.remove();
                continue;
            }
            final int sent = send(t, buf, readable);
            if (sent < 0)
            {
                throw new IOException("connection closed by the stack (" + t.state() + ")");
            }
            in.removeBytes(sent);
            if (sent < readable)
            {
                break; // the send queue is full: the stack's onWritable resumes the flush
            }
        }
        t.flush();
    }

    private int send(final TcpChannel t, final ByteBuf buf, final int length)
    {
        final UnsafeBuffer view = ioHandler.sendView();
        final int index = buf.readerIndex();
        if (buf.hasArray())
        {
            view.wrap(buf.array(), buf.arrayOffset() + index, length);
            return t.send(view, 0, length);
        }
        if (buf.hasMemoryAddress())
        {
            view.wrap(buf.memoryAddress() + index, length); // no ByteBuffer slice per write (internalNioBuffer has one)
            return t.send(view, 0, length);
        }
        // a direct or composite buffer without an address: staged through the shard's scratch array
        // (getBytes(byte[]) allocates nothing; internalNioBuffer and nioBuffers slice new ByteBuffers per call)
        final byte[] scratch = ioHandler.copyScratch();
        int sent = 0;
        while (sent < length)
        {
            final int n = Math.min(scratch.length, length - sent);
            buf.getBytes(index + sent, scratch, 0, n);
            view.wrap(scratch, 0, n);
            final int accepted = t.send(view, 0, n);
            if (accepted < 0)
            {
                return sent > 0 ? sent : accepted;
            }
            sent += accepted;
            if (accepted < n)
            {
                break;
            }
        }
        return sent;
    }


    private SluiceIoHandler handler()
    {
        return ioHandler != null ? ioHandler : ownerHandler;
    }

    // --- the stack's callbacks (shard thread) ---

    void onEstablished()
    {
        local = address(tcp.localIp(), tcp.localPort());
        final ChannelPromise promise = connectPromise;
        connectPromise = null;
        if (connectTimeout != null)
        {
            connectTimeout.cancel(false);
            connectTimeout = null;
        }
        applyOptions();
        final boolean wasActive = isActive();
        active = true;
        if (promise != null && !promise.trySuccess())
        {
            unsafe().close(voidPromise()); // cancelled or timed out meanwhile
            return;
        }
        if (!wasActive && isActive())
        {
            pipeline().fireChannelActive();
        }
    }

    int onData(final DirectBuffer buffer, final int offset, final int length)
    {
        if (inputShutdown || !open)
        {
            return length;
        }
        ByteBuf last = pending.peekLast();
        if (last == null || last.writableBytes() < length)
        {
            // sized by the channel's RecvByteBufAllocator (adaptive by default), as epoll and NIO size their reads:
            // small requests get small buffers, bulk transfers grow to the allocator's maximum
            last = config.getAllocator().ioBuffer(Math.max(length, unsafe().recvBufAllocHandle().guess()));
            pending.add(last);
        }
        final int writerIndex = last.writerIndex();
        if (last.hasArray())
        {
            buffer.getBytes(offset, last.array(), last.arrayOffset() + writerIndex, length);
        }
        else if (last.hasMemoryAddress())
        {
            // not internalNioBuffer: Netty 4.2's adaptive allocator slices a new ByteBuffer for every call
            inboundView.wrap(last.memoryAddress() + writerIndex, length);
            inboundView.putBytes(0, buffer, offset, length);
        }
        else if (handler() != null && length <= handler().copyScratch().length)
        {
            // a direct buffer without an address (Netty does not use Unsafe on this JDK): through the shard's
            // scratch array, because setBytes(byte[]) reuses the buffer's cached ByteBuffer, where
            // internalNioBuffer would slice a new one per call; a second copy of a frame's payload is cheaper
            final byte[] scratch = handler().copyScratch();
            buffer.getBytes(offset, scratch, 0, length);
            last.setBytes(writerIndex, scratch, 0, length);
        }
        else
        {
            final ByteBuffer nio = last.internalNioBuffer(writerIndex, length);
            buffer.getBytes(offset, nio, nio.position(), length);
        }
        last.writerIndex(writerIndex + length);
        pendingBytes += length;
        if (ioHandler != null && readRequested)
        {
            ioHandler.markReady(this);
        }
        return 0; // consumed when the pipeline reads it: until then it closes the window
    }

    void onWritable()
    {
        ((SluiceUnsafe)unsafe()).flushNow();
    }

    void onPeerClosed()
    {
        peerClosed = true;
        if (ioHandler != null)
        {
            ioHandler.markReady(this);
        }
    }

    void onStackClosed(final TcpCloseReason reason)
    {
        tcp = null;
        stackGone = true;
        final ChannelPromise promise = connectPromise;
        if (promise != null)
        {
            connectPromise = null;
            final IOException cause = reason == TcpCloseReason.TIMEOUT ?
                new ConnectTimeoutException("connection timed out: " + remote) :
                new ConnectException("connection refused: " + remote);
            promise.tryFailure(cause);
            unsafe().close(voidPromise());
            return;
        }
        if (reason == TcpCloseReason.RESET_BY_PEER)
        {
            stackError = new IOException("Connection reset by peer");
        }
        else if (reason == TcpCloseReason.TIMEOUT)
        {
            stackError = new IOException("Connection timed out");
        }
        peerClosed = true;
        if (ioHandler != null)
        {
            ioHandler.markReady(this);
        }
    }

    /** Delivers what the stack gave us if the pipeline asked to read, then an end of stream or a reset. */
    void deliverInbound()
    {
        if (!open || ioHandler == null)
        {
            return;
        }
        if (stackError != null)
        {
            final IOException error = stackError;
            stackError = null;
            releasePending(false);
            pipeline().fireExceptionCaught(error);
            unsafe().close(voidPromise());
            return;
        }
        if (!pending.isEmpty())
        {
            if (!readRequested)
            {
                return; // not reading: held unconsumed, the receive window closes
            }
            readRequested = false;
            if (tcp != null)
            {
                tcp.consume(pendingBytes);
            }
            final RecvByteBufAllocator.Handle sizing = unsafe().recvBufAllocHandle();
            sizing.reset(config);
            sizing.lastBytesRead(pendingBytes);
            sizing.readComplete(); // the next buffers' size follows what this read brought
            pendingBytes = 0;
            ByteBuf buf;
            while (open && (buf = pending.poll()) != null)
            {
                pipeline().fireChannelRead(buf);
            }
            if (!open)
            {
                return;
            }
            pipeline().fireChannelReadComplete();
        }
        if (open && pending.isEmpty() && peerClosed && !inputShutdown && (readRequested || config.isAutoRead()))
        {
            inputShutdown = true;
            if (stackGone || !config.isAllowHalfClosure())
            {
                unsafe().close(voidPromise());
            }
            else
            {
                pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
                pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
            }
        }
    }

    private void releasePending(final boolean consume)
    {
        if (consume && tcp != null && pendingBytes > 0)
        {
            tcp.consume(pendingBytes);
        }
        pendingBytes = 0;
        ByteBuf buf;
        while ((buf = pending.poll()) != null)
        {
            buf.release();
        }
    }

    void clearReadRequest()
    {
        if (eventLoop().inEventLoop())
        {
            readRequested = false;
        }
        else
        {
            eventLoop().execute(() -> readRequested = false);
        }
    }

    /** TCP_NODELAY and SO_KEEPALIVE onto the connection, once on its shard's thread. */
    void applyOptions()
    {
        final TcpChannel t = tcp;
        if (t == null || ioHandler == null) // ioHandler is set in doRegister, before Netty marks it registered
        {
            return;
        }
        if (t.inShardThread())
        {
            t.noDelay(config.isTcpNoDelay());
            t.keepAlive(config.isKeepAlive());
        }
        else
        {
            eventLoop().execute(this::applyOptions);
        }
    }

    TcpConfig stackConfig()
    {
        final SluiceIoHandler handler = ioHandler != null ? ioHandler : ownerHandler;
        return handler != null ? handler.tcp().config() : DEFAULT_TCP;
    }

    static InetSocketAddress address(final int ip, final int port)
    {
        try
        {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[] {
                (byte)(ip >>> 24), (byte)(ip >>> 16), (byte)(ip >>> 8), (byte)ip}), port);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalStateException(ex); // never: four bytes are an IPv4 address
        }
    }

    static int ipv4(final InetSocketAddress address) throws ConnectException
    {
        if (address.isUnresolved() || address.getAddress().getAddress().length != 4)
        {
            throw new ConnectException("Sluice connects to resolved IPv4 addresses only: " + address);
        }
        final byte[] b = address.getAddress().getAddress();
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }

    private final class SluiceUnsafe extends AbstractUnsafe
    {
        void flushNow()
        {
            flush0();
        }

        @Override
        public void connect(final SocketAddress remoteAddress, final SocketAddress localAddress,
            final ChannelPromise promise)
        {
            if (!promise.setUncancellable() || !ensureOpen(promise))
            {
                return;
            }
            try
            {
                if (connectPromise != null)
                {
                    throw new ConnectionPendingException();
                }
                if (tcp != null)
                {
                    throw new IllegalStateException("already connected");
                }
                final InetSocketAddress to = (InetSocketAddress)remoteAddress;
                final int localPort = localAddress instanceof InetSocketAddress l ? l.getPort() : 0;
                final TcpChannel t = ioHandler.open(ipv4(to), to.getPort(), localPort, SluiceSocketChannel.this);
                if (t == null)
                {
                    throw new ConnectException("no free local port or pooled connection for " + to);
                }
                tcp = t;
                remote = to;
                local = address(t.localIp(), t.localPort());
                connectPromise = promise;
                final int timeoutMs = config.getConnectTimeoutMillis();
                if (timeoutMs > 0)
                {
                    connectTimeout = eventLoop().schedule(() ->
                    {
                        final ChannelPromise p = connectPromise;
                        if (p != null && p.tryFailure(new ConnectTimeoutException(
                            "connection timed out after " + timeoutMs + " ms: " + to)))
                        {
                            connectPromise = null;
                            close(voidPromise());
                        }
                    }, timeoutMs, TimeUnit.MILLISECONDS);
                }
                promise.addListener(f ->
                {
                    if (f.isCancelled())
                    {
                        close(voidPromise());
                    }
                });
            }
            catch (final Throwable t)
            {
                promise.tryFailure(t);
                closeIfClosed();
            }
        }
    }
}
