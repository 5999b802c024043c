package dev.sluice.driver.socket;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The scheduler of the virtual threads one shard carries ({@link ShardThreads}): {@link #execute} queues a
 * virtual thread's continuation (any thread may call it: the shard itself when it wakes a reader, another
 * shard, a timer); the shard runs the queued continuations in its duty cycle ({@link #runQueued()}), after the
 * receive burst and the socket pumps, so a reader woken by data that arrived in this cycle reads it, and its
 * answer is pumped into TCP, in the same cycle.
 *
 * <p>The JDK hands a virtual thread's scheduler the same {@code Runnable} at every submit (its
 * {@code runContinuation}), and the bounded queue stores references: a wake-up allocates nothing (the default
 * ForkJoinPool scheduler wraps each submit in a {@code ForkJoinTask}). A virtual thread is queued at most once
 * at a time (the JDK submits it once per unpark or start), so the queue only fills past
 * {@link #QUEUE_CAPACITY} threads made runnable at once; those go to an unbounded overflow queue (one node
 * allocated each, counted) rather than being refused.
 */
final class ShardScheduler implements Executor
{
    /** Continuations queued at once before the overflow queue takes them. */
    static final int QUEUE_CAPACITY = 1 << 16;
    /** Continuations run per duty cycle at most (the rest wait for the next cycle: receive keeps going). */
    static final int RUN_LIMIT = 4096;

    private final ManyToOneConcurrentArrayQueue<Runnable> queue = new ManyToOneConcurrentArrayQueue<>(QUEUE_CAPACITY);
    private final ConcurrentLinkedQueue<Runnable> overflow = new ConcurrentLinkedQueue<>();
    private final AtomicLong overflowed = new AtomicLong();
    private final SocketShard shard; // null in unit tests: a scheduler alone
    private long ran; // shard thread only

    /**
     * @param shard the socket part of the shard whose thread runs the continuations (null: none).
     */
    ShardScheduler(final SocketShard shard)
    {
        this.shard = shard;
    }

    SocketShard shard()
    {
        return shard;
    }

    /** Any thread: queues a virtual thread's continuation for the shard's next duty cycle. */
    @Override
    public void execute(final Runnable continuation)
    {
        if (!queue.offer(continuation))
        {
            overflowed.incrementAndGet();
            overflow.offer(continuation);
        }
    }

    /**
     * Shard thread: runs the queued continuations, each until its virtual thread parks or ends, up to
     * {@link #RUN_LIMIT}.
     *
     * @return continuations run.
     */
    int runQueued()
    {
        int n = 0;
        Runnable continuation;
        while (n < RUN_LIMIT && (continuation = queue.poll()) != null)
        {
            continuation.run();
            n++;
        }
        if (n < RUN_LIMIT && overflowed.get() != 0)
        {
            while (n < RUN_LIMIT && (continuation = overflow.poll()) != null)
            {
                continuation.run();
                n++;
            }
        }
        ran += n;
        return n;
    }

    /** @return continuations run so far (shard thread). */
    long ran()
    {
        return ran;
    }

    /** @return continuations that found the bounded queue full (any thread). */
    long overflowed()
    {
        return overflowed.get();
    }
}
