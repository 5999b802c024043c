package dev.sluice.netty;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.runtime.ShardContext;
import dev.sluice.driver.runtime.SluiceConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A Netty {@link IoHandler} whose {@link #run} is one duty cycle of a Sluice shard: the Netty event loop thread
 * is the shard's busy-polling thread, and channel pipelines run on it with no hand-off.
 *
 * <p>How it meets Netty 4.2's contract ({@code SingleThreadIoEventLoop} calls {@code run}, then runs its task
 * queue, in a loop):
 * <ul>
 * <li>{@link #initialize()} (on the loop thread) registers the thread with DPDK and starts the shard.</li>
 * <li>{@link #run} runs one duty cycle (rx burst, TCP, the pipelines' reads, tx) and returns if it did any
 *     work or a task is waiting, so tasks and scheduled tasks run between cycles. Where epoll or NIO would
 *     block in {@code epoll_wait}/{@code select} (only when {@link IoHandlerContext#canBlock()}), this handler
 *     keeps running duty cycles (spinning, the default {@code --idle spin}; or, with {@code --idle backoff},
 *     backing off and parking) until one does work, {@link #wakeup()} is called (like an eventfd write wakes
 *     epoll) or the next scheduled task is due: an idle loop does not pay the event loop's task checks
 *     between every two empty cycles.</li>
 * <li>{@link #register} accepts the Sluice channels; their events do not travel through {@code IoHandle.handle}
 *     but arrive as the stack's callbacks on this thread.</li>
 * <li>{@link #prepareToDestroy()} closes every channel (FIN) while the group's quiet period keeps the
 *     shard polling so the FINs are acknowledged; {@link #destroy()} aborts what is left (RST), flushes and
 *     stops the shard; the last shard to stop stops the port.</li>
 * </ul>
 *
 * <p>Inbound reads are delivered after the rx burst and before TCP's output step of the same cycle (the
 * shard's {@code ShardWork} hook), so a response written in {@code channelRead} leaves in the same cycle.
 */
public final class SluiceIoHandler implements IoHandler
{
    /** How long a shutting-down shard waits for its closed connections to finish their FIN exchange. */
    static final long CLOSE_GRACE_NS = TimeUnit.SECONDS.toNanos(1);

    private final SluiceTransport transport;
    private final ShardContext shardContext;
    private final ShardAgent agent;
    private final TcpStack tcp;
    private final int shard;
    private final ThreadAwareExecutor executor;
    private final IdleStrategy idle;
    private final ChannelEvents events = new ChannelEvents();
    private final ArrayDeque<SluiceSocketChannel> ready = new ArrayDeque<>();
    private final List<Registration> registrations = new ArrayList<>();
    private final UnsafeBuffer sendView = new UnsafeBuffer(0, 0);
    private final byte[] copyScratch = new byte[16 * 1024];
    private Thread thread;
    private volatile boolean parked;
    private volatile boolean woken;
    private boolean started;

    SluiceIoHandler(
        final SluiceTransport transport, final ShardContext context, final int shard,
        final ThreadAwareExecutor executor)
    {
        this.transport = transport;
        this.shardContext = context;
        this.agent = context.agent();
        this.tcp = agent.tcp();
        this.shard = shard;
        this.executor = executor;
        this.idle = transport.config().idle() == SluiceConfig.IdleMode.BACKOFF ?
            new BackoffIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(200)) :
            null;
    }

    /**
     * A factory for {@code MultiThreadIoEventLoopGroup}: one handler per shard of the transport, so the group
     * must have {@code transport.shardCount()} event loops ({@link SluiceEventLoopGroup} does that and routes
     * accepted channels to the event loop of the shard that owns them).
     *
     * @param transport the prepared port.
     * @return the factory.
     */
    public static IoHandlerFactory newFactory(final SluiceTransport transport)
    {
        return transport::newHandler;
    }

    @Override
    public void initialize()
    {
        thread = Thread.currentThread();
        agent.onStart();
        tcp.ownerThread(thread);
        shardContext.addWork(nowNs -> deliverReady()); // after the burst, before TCP's output step
        started = true;
    }

    @Override
    public int run(final IoHandlerContext context)
    {
        if (!started)
        {
            return 0;
        }
        int work = agent.doWork(); // the pipelines' reads run inside, before TCP's output step (see initialize)
        if (work > 0 || !context.canBlock())
        {
            if (idle != null)
            {
                idle.reset();
            }
            return work;
        }
        // Nothing to do and no task due: where epoll would block in epoll_wait, keep polling here until work,
        // a wakeup() (a task from another thread) or the next scheduled task's time, rather than going back
        // through the event loop's task-queue checks between every two empty duty cycles.
        woken = false;
        final long untilNs = agent.nowNs() + context.delayNanos(System.nanoTime());
        while (work == 0 && !woken && agent.nowNs() - untilNs < 0)
        {
            if (idle != null)
            {
                parked = true; // wakeup() from another thread unparks
                idle.idle();
                parked = false;
            }
            work = agent.doWork();
        }
        if (idle != null && work > 0)
        {
            idle.reset();
        }
        return work;
    }

    @Override
    public void prepareToDestroy()
    {
        for (final Registration registration : registrations.toArray(new Registration[0]))
        {
            registration.handle.close();
        }
    }

    @Override
    public void destroy()
    {
        if (started)
        {
            // the channels were closed in prepareToDestroy (our FINs are out); Netty's quiet period counts from the
            // last task, not from the close, so wait here until every close finished (TIME-WAIT or CLOSED) or
            // the grace period passed, then abort what is left (the peer sees a RST)
            final long deadline = System.nanoTime() + CLOSE_GRACE_NS;
            while (unfinishedCloses() > 0 && System.nanoTime() - deadline < 0)
            {
                agent.doWork();
                deliverReady();
                Thread.onSpinWait();
            }
            tcp.forEachChannel(channel -> channel.abort());
            agent.doWork();
            agent.onClose();
            started = false;
        }
        transport.handlerDestroyed();
    }

    private int unfinishedCloses()
    {
        final int[] unfinished = new int[1];
        tcp.forEachChannel(channel ->
        {
            if (channel.state() != TcpState.TIME_WAIT)
            {
                unfinished[0]++;
            }
        });
        return unfinished[0];
    }

    @Override
    public IoRegistration register(final IoHandle handle)
    {
        if (!(handle instanceof SluiceIoHandle sluiceHandle))
        {
            throw new IllegalArgumentException("not a Sluice channel: " + handle);
        }
        final Registration registration = new Registration(sluiceHandle);
        registrations.add(registration);
        return registration;
    }

    @Override
    public void wakeup()
    {
        woken = true;
        if (parked)
        {
            LockSupport.unpark(thread);
        }
    }

    @Override
    public boolean isCompatible(final Class<? extends IoHandle> handleType)
    {
        return SluiceIoHandle.class.isAssignableFrom(handleType);
    }

    /**
     * @return the shard's index (its rx/tx queue).
     */
    public int shard()
    {
        return shard;
    }

    /**
     * @return the event loop that runs this handler.
     */
    EventLoop eventLoop()
    {
        return (EventLoop)executor;
    }

    ThreadAwareExecutor executor()
    {
        return executor;
    }

    SluiceTransport transport()
    {
        return transport;
    }

    TcpStack tcp()
    {
        return tcp;
    }

    ShardAgent agent()
    {
        return agent;
    }

    ChannelEvents events()
    {
        return events;
    }

    UnsafeBuffer sendView()
    {
        return sendView;
    }

    /** Staging for copies between frames and ByteBufs that have neither an array nor a memory address. */
    byte[] copyScratch()
    {
        return copyScratch;
    }

    /**
     * Active open: from the given local port, or from an ephemeral port whose flow this shard owns (software
     * flow steering sends the replies here).
     */
    dev.sluice.core.channel.TcpChannel open(
        final int remoteIp, final int remotePort, final int localPort, final SluiceSocketChannel channel)
    {
        if (localPort != 0)
        {
            return tcp.open(remoteIp, remotePort, localPort, events, channel, agent.nowNs());
        }
        return shardContext.open(remoteIp, remotePort, events, channel);
    }

    void markReady(final SluiceSocketChannel channel)
    {
        if (!channel.inReadyList)
        {
            channel.inReadyList = true;
            ready.add(channel);
        }
    }

    private int deliverReady()
    {
        final int count = ready.size();
        for (int i = 0; i < count; i++)
        {
            final SluiceSocketChannel channel = ready.poll();
            channel.inReadyList = false;
            channel.deliverInbound();
        }
        return count;
    }

    /** What the shard keeps of a registered channel. */
    private final class Registration implements IoRegistration
    {
        private final SluiceIoHandle handle;
        private boolean valid = true;

        Registration(final SluiceIoHandle handle)
        {
            this.handle = handle;
        }

        @SuppressWarnings("unchecked")
        @Override
        public <T> T attachment()
        {
            return (T)SluiceIoHandler.this;
        }

        @Override
        public long submit(final IoOps ops)
        {
            return 0; // readiness is not polled: the stack calls the channel back
        }

        @Override
        public boolean isValid()
        {
            return valid;
        }

        @Override
        public boolean cancel()
        {
            if (!valid)
            {
                return false;
            }
            valid = false;
            registrations.remove(this);
            return true;
        }
    }
}
