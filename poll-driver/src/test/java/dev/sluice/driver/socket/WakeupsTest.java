package dev.sluice.driver.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

/**
 * The wake-up protocol between a shard and application threads, without DPDK: a platform thread plays the
 * shard (answers requests, wakes the waiting thread), virtual threads play the sockets' readers in the shape
 * of {@link SluiceSocket}'s read (enter the call, look, register as waiter, look again, leave the call, park).
 * The waker parks without a bound here, so a lost wake-up is a thread that never finishes.
 */
class WakeupsTest
{
    private static final int THREADS = 16;
    private static final int ROUNDS = 20_000;

    @Test
    void shouldWakeEveryWaitingVirtualThreadThroughCallersOrTheWaker() throws Exception
    {
        final Wakeups wakeups = new Wakeups(1024, "test-waker", Long.MAX_VALUE);
        wakeups.start();
        final AtomicIntegerArray requested = new AtomicIntegerArray(THREADS);
        final AtomicIntegerArray answered = new AtomicIntegerArray(THREADS);
        final AtomicReferenceArray<Thread> waiter = new AtomicReferenceArray<>(THREADS);
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong wakes = new AtomicLong();
        final Thread shard = Thread.ofPlatform().daemon().start(() ->
        {
            while (!stop.get())
            {
                for (int i = 0; i < THREADS; i++)
                {
                    if (requested.get(i) != answered.get(i))
                    {
                        answered.set(i, requested.get(i)); // volatile: the answer before the look at the waiter
                        final Thread t = waiter.get(i);
                        if (t != null)
                        {
                            wakeups.wake(t);
                            wakes.incrementAndGet();
                        }
                    }
                }
                Thread.onSpinWait();
            }
        });
        final CountDownLatch done = new CountDownLatch(THREADS);
        final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        try
        {
            for (int i = 0; i < THREADS; i++)
            {
                final int id = i;
                threads.submit(() ->
                {
                    for (int round = 1; round <= ROUNDS && !stop.get(); round++)
                    {
                        wakeups.enterCall();
                        requested.set(id, round);
                        while (answered.get(id) != round && !stop.get())
                        {
                            waiter.set(id, Thread.currentThread());
                            if (answered.get(id) == round)
                            {
                                waiter.set(id, null);
                                break;
                            }
                            wakeups.leaveCall();
                            LockSupport.park();
                            wakeups.enterCall();
                            waiter.set(id, null);
                        }
                        wakeups.leaveCall();
                    }
                    if (!stop.get())
                    {
                        done.countDown();
                    }
                });
            }
            // liveness, not performance: without a lost wake-up this takes about a second
            final boolean finished = done.await(120, TimeUnit.SECONDS);
            stop.set(true);
            assertTrue(finished, "threads still waiting (a lost wake-up): " + done.getCount() + " after " +
                wakes.get() + " wake-ups");
        }
        finally
        {
            stop.set(true);
            threads.shutdownNow(); // interrupts (unparks) the threads left waiting: they see stop and end
        }
        shard.join();
        assertTrue(wakes.get() > 0, "the shard never had to wake a thread: the test did not exercise the protocol");
    }

    @Test
    void shouldUnparkPlatformThreadsDirectly() throws Exception
    {
        final Wakeups wakeups = new Wakeups(16, "test-waker-unstarted", Long.MAX_VALUE); // no waker running
        final CountDownLatch parked = new CountDownLatch(1);
        final AtomicBoolean woken = new AtomicBoolean();
        final Thread t = Thread.ofPlatform().start(() ->
        {
            parked.countDown();
            while (!woken.get())
            {
                LockSupport.park();
            }
        });
        parked.await();
        woken.set(true);
        wakeups.wake(t);
        t.join(TimeUnit.SECONDS.toMillis(60));
        assertEquals(false, t.isAlive(), "a platform thread is unparked by the caller of wake, no waker needed");
    }
}
