package dev.sluice.driver.socket;

import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import dev.sluice.driver.ShardWork;
import dev.sluice.driver.runtime.ShardContext;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The blocking sockets' part of one shard's duty cycle: a bounded many-to-one queue of sockets whose
 * application threads rang the doorbell, drained each cycle (each socket pumped once). Runs on the shard's
 * thread; {@link #enqueue} is called by application threads. No allocation per cycle or per socket.
 *
 * <p>Parked application threads are woken through {@link Wakeups} (no allocation on the shard; the unpark done
 * by an application thread already running where possible, else by a waker thread). Virtual threads carried
 * by this shard ({@link ShardThreads}) are unparked by the shard itself and run here, in {@link #doWork}.
 */
final class SocketShard implements ShardWork
{
    /** Most sockets queued at once per shard (each socket is queued at most once). */
    static final int QUEUE_CAPACITY = 1 << 17;
    private static final int DRAIN_LIMIT = 4096;

    private final ShardContext context;
    private final ManyToOneConcurrentArrayQueue<SocketState> queue =
        new ManyToOneConcurrentArrayQueue<>(QUEUE_CAPACITY);
    private final Consumer<SocketState> pumpOne = SocketShard::pump;
    private final Wakeups wakeups;
    private final ShardScheduler scheduler = new ShardScheduler(this);

    SocketShard(final ShardContext context)
    {
        this.context = context;
        this.wakeups = new Wakeups(QUEUE_CAPACITY, "sluice-socket-waker-" + context.index(),
            Wakeups.WAKER_PARK_BOUND_NS);
    }

    /** Shard side, once, as the shard adds this part to its duty cycle. */
    void installedOnShardThread()
    {
        wakeups.shareShardCpu();
    }

    /** Starts the waker (after {@link #installedOnShardThread()}). */
    void startWaker()
    {
        wakeups.start();
    }

    /** Shard side: wakes a parked application thread without allocating on the shard. */
    void wake(final Thread thread)
    {
        wakeups.wake(thread);
    }

    /** Application side: see {@link Wakeups#enterCall()}. */
    void enterCall()
    {
        wakeups.enterCall();
    }

    /** Application side: see {@link Wakeups#leaveCall()}. */
    void leaveCall()
    {
        wakeups.leaveCall();
    }

    /** The scheduler of the virtual threads this shard carries ({@link ShardThreads}). */
    ShardScheduler scheduler()
    {
        return scheduler;
    }

    ShardContext context()
    {
        return context;
    }

    /** Application side. */
    void enqueue(final SocketState state)
    {
        long parkNs = 1_000;
        while (!queue.offer(state))
        {
            LockSupport.parkNanos(parkNs); // more than QUEUE_CAPACITY sockets busy at once: back-pressure
            parkNs = Math.min(parkNs * 2, 1_000_000);
        }
    }

    private static void pump(final SocketState state)
    {
        state.unscheduled();
        state.pump();
    }

    /**
     * Pumps the sockets whose application threads rang, then runs the virtual threads this shard carries that
     * became runnable (woken by the pumps, by the receive burst before them, or by other threads), then pumps
     * again what those threads wrote: a request read in this cycle is answered in this cycle.
     */
    @Override
    public int doWork(final long nowNs)
    {
        int work = queue.drain(pumpOne, DRAIN_LIMIT);
        final int ran = scheduler.runQueued();
        if (ran > 0)
        {
            work += ran + queue.drain(pumpOne, DRAIN_LIMIT);
        }
        return work;
    }
}
