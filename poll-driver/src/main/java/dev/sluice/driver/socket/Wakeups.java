package dev.sluice.driver.socket;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

import dev.sluice.driver.ThreadAffinity;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

/**
 * How a shard wakes parked application threads without allocating and, where it can, without a hand-off to
 * another thread.
 *
 * <p>A platform thread is unparked by the shard directly (no allocation). A virtual thread cannot be: every
 * unpark of a virtual thread allocates (the JDK wraps its continuation in a {@code ForkJoinTask}, 24 bytes)
 * and the shard thread must not allocate per operation. So the shard queues it ({@link #wake}), and whoever
 * runs on the application side unparks it:
 * <ol>
 *   <li>an application thread inside a blocking call on one of the shard's sockets ({@link #enterCall()})
 *       drains the queue when it leaves the call or before it parks ({@link #leaveCall()}): on a virtual
 *       thread's carrier the unpark is a push onto that carrier's own queue, no system call and no other
 *       thread involved;</li>
 *   <li>only when no application thread is inside such a call does the shard wake the waker, a platform
 *       thread that drains the queue (one futex wake-up per batch, not per thread).</li>
 * </ol>
 * The two sides meet Dekker-style: the shard publishes the thread, fences, then reads the count of threads
 * inside calls; a thread leaving a call decrements that count (a full fence), then drains. Either the shard
 * sees no caller and wakes the waker, or the leaving caller sees the queued thread: no wake-up is lost, and
 * none waits longer than the rest of a call already under way (a call never parks or spins while counted).
 *
 * <p>A virtual thread carried by a shard ({@link ShardThreads}) is not queued: the shard unparks it directly
 * (its scheduler queues its continuation without allocating) and it neither counts as a caller nor drains the
 * queue.
 *
 * <p>The waker is left to the scheduler by default. Pinned to a busy-spinning shard's CPU
 * ({@code -Dsluice.socket.wakerOnShardCpu=true}) it waits for the shard's time slice to end: on the quiet
 * 2-vCPU machine (2026-12-05, `BlockingSocketBench --transport sluice --idle spin`) ping-pong p99 was
 * 1,125 us pinned against 103 us unpinned, and the 64-connection rate 39,893 against 47,960 req/s. With one
 * backing-off shard thread per stack (`--drive threads --idle backoff`) pinning won the rate (157,480 against
 * 104,025 req/s) at a similar p99, so it stays a switch.
 *
 * <p>Switches, for comparison runs: {@code -Dsluice.socket.directWake=true} (the shard unparks virtual threads
 * itself: 24 bytes allocated on the shard thread per wake-up), {@code -Dsluice.socket.callersWake=false}
 * (always the waker), {@code -Dsluice.socket.wakerOnShardCpu=true} (the waker on its shard's CPU).
 */
final class Wakeups
{
    /** Unpark virtual threads from the shard thread itself (allocates per wake-up). */
    static final boolean DIRECT_WAKE = Boolean.getBoolean("sluice.socket.directWake");
    /** Application threads inside calls unpark the queued ones (false: always the waker). */
    static final boolean CALLERS_WAKE = !"false".equals(System.getProperty("sluice.socket.callersWake"));
    /** Pin the waker to its shard's CPU when the shard is pinned (default false: left to the scheduler). */
    static final boolean WAKER_ON_SHARD_CPU = Boolean.getBoolean("sluice.socket.wakerOnShardCpu");
    /** How long the idle waker parks before it looks at the queue anyway: a bound, not a poll period. */
    static final long WAKER_PARK_BOUND_NS = 1_000_000;
    private static final VarHandle CALLERS;

    static
    {
        try
        {
            CALLERS = MethodHandles.lookup().findVarHandle(Wakeups.class, "callers", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final ManyToManyConcurrentArrayQueue<Thread> queue;
    private final Thread waker;
    private final long wakerParkBoundNs;
    private volatile boolean wakerParked;
    private volatile int wakerCpu = -1;
    @SuppressWarnings("unused") // through CALLERS
    private volatile int callers; // application threads inside a blocking call, not parked

    /**
     * @param capacity         most threads queued at once (past it the shard unparks directly).
     * @param wakerName        the waker thread's name.
     * @param wakerParkBoundNs how long the idle waker parks at most ({@link #WAKER_PARK_BOUND_NS}; tests give
     *                         {@link Long#MAX_VALUE} so that a lost wake-up shows as a hang).
     */
    Wakeups(final int capacity, final String wakerName, final long wakerParkBoundNs)
    {
        this.queue = new ManyToManyConcurrentArrayQueue<>(capacity);
        this.wakerParkBoundNs = wakerParkBoundNs;
        this.waker = Thread.ofPlatform().daemon().name(wakerName).unstarted(this::runWaker);
    }

    /** Shard side, once, before {@link #start()}: pins the waker to the calling shard thread's CPU, if it has one. */
    void shareShardCpu()
    {
        wakerCpu = WAKER_ON_SHARD_CPU ? ThreadAffinity.soleCpuOfCurrentThread() : -1;
    }

    /** Starts the waker. */
    void start()
    {
        waker.start();
    }

    /**
     * Shard side: wakes a parked application thread without allocating on the shard.
     *
     * @param thread the parked thread.
     */
    void wake(final Thread thread)
    {
        // a platform thread, or a virtual thread carried by a shard (its unpark queues its continuation on that
        // shard's scheduler: nothing allocated), is unparked here
        if (DIRECT_WAKE || !thread.isVirtual() || ShardThreads.schedulerOf(thread) != null || !queue.offer(thread))
        {
            LockSupport.unpark(thread);
            return;
        }
        // the offer before the look at the count and the flag: callers and the waker look in the other order
        VarHandle.fullFence();
        if ((!CALLERS_WAKE || (int)CALLERS.getVolatile(this) == 0) && wakerParked)
        {
            LockSupport.unpark(waker);
        }
    }

    /** Application side: the calling thread starts a blocking call on one of the shard's sockets. */
    void enterCall()
    {
        if (CALLERS_WAKE && ShardThreads.schedulerOf(Thread.currentThread()) == null)
        {
            CALLERS.getAndAdd(this, 1);
        }
    }

    /**
     * Application side: the calling thread ends its call or is about to park or spin: it first unparks the
     * threads the shard queued meanwhile (on a carrier: onto the carrier's own queue).
     */
    void leaveCall()
    {
        // a shard-carried thread takes no part: its unpark of a default virtual thread would allocate on the shard
        if (CALLERS_WAKE && ShardThreads.schedulerOf(Thread.currentThread()) == null)
        {
            CALLERS.getAndAdd(this, -1); // a full fence: the decrement before the look at the queue
            Thread thread;
            while ((thread = queue.poll()) != null)
            {
                LockSupport.unpark(thread);
            }
        }
    }

    private void runWaker()
    {
        final int cpu = wakerCpu;
        if (cpu >= 0)
        {
            try
            {
                ThreadAffinity.pinCurrentThread(cpu);
            }
            catch (final RuntimeException ex)
            {
                // stays unpinned
            }
        }
        while (true)
        {
            Thread thread;
            int woken = 0;
            while ((thread = queue.poll()) != null)
            {
                LockSupport.unpark(thread);
                woken++;
            }
            if (woken == 0)
            {
                wakerParked = true;
                if (queue.isEmpty()) // after the flag: the shard offers, then looks at the flag
                {
                    LockSupport.parkNanos(this, wakerParkBoundNs);
                }
                wakerParked = false;
            }
        }
    }
}
