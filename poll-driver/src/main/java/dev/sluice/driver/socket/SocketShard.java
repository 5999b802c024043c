package dev.sluice.driver.socket;

import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import dev.sluice.driver.ShardWork;
import dev.sluice.driver.runtime.ShardContext;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * The blocking sockets' part of one shard's duty cycle: a bounded many-to-one queue of sockets whose
 * application threads rang the doorbell, drained each cycle (each socket pumped once). Runs on the shard's
 * thread; {@link #enqueue} is called by application threads. No allocation per cycle or per socket.
 *
 * <p>Waking a parked thread: a platform thread is unparked by the shard directly (no allocation); a virtual
 * thread is handed to this shard's waker, a platform thread that unparks it, because unparking a virtual thread
 * from outside its scheduler allocates (the JDK wraps the continuation in a {@code ForkJoinTask}) and the shard
 * thread must not allocate per operation. That hop costs latency (the waker itself must be woken); with
 * {@code -Dsluice.socket.directWake=true} the shard unparks virtual threads itself: lower latency, about 24 bytes
 * allocated on the shard thread per wake-up.
 */
final class SocketShard implements ShardWork
{
    /** Most sockets queued at once per shard (each socket is queued at most once). */
    static final int QUEUE_CAPACITY = 1 << 17;
    /** Unpark virtual threads from the shard thread itself (lower latency, allocates per wake-up). */
    static final boolean DIRECT_WAKE = Boolean.getBoolean("sluice.socket.directWake");
    private static final int DRAIN_LIMIT = 4096;

    private final ShardContext context;
    private final ManyToOneConcurrentArrayQueue<SocketState> queue =
        new ManyToOneConcurrentArrayQueue<>(QUEUE_CAPACITY);
    private final Consumer<SocketState> pumpOne = SocketShard::pump;
    private final OneToOneConcurrentArrayQueue<Thread> toWake = new OneToOneConcurrentArrayQueue<>(QUEUE_CAPACITY);
    private final Thread waker;
    private volatile boolean wakerParked;

    SocketShard(final ShardContext context)
    {
        this.context = context;
        this.waker = Thread.ofPlatform().daemon().name("sluice-socket-waker-" + context.index()).start(this::runWaker);
    }

    /** Shard side: wakes a parked application thread without allocating on the shard. */
    void wake(final Thread thread)
    {
        if (DIRECT_WAKE || !thread.isVirtual() || !toWake.offer(thread))
        {
            LockSupport.unpark(thread);
            return;
        }
        VarHandle.fullFence(); // the offer before the look at the flag: the waker checks in the other order
        if (wakerParked)
        {
            LockSupport.unpark(waker);
        }
    }

    private void runWaker()
    {
        while (true)
        {
            Thread thread;
            int woken = 0;
            while ((thread = toWake.poll()) != null)
            {
                LockSupport.unpark(thread);
                woken++;
            }
            if (woken == 0)
            {
                wakerParked = true;
                if (toWake.isEmpty())
                {
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1)); // a bound, not a poll period
                }
                wakerParked = false;
            }
        }
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

    @Override
    public int doWork(final long nowNs)
    {
        return queue.drain(pumpOne, DRAIN_LIMIT);
    }
}
