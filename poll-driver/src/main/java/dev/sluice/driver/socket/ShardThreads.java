package dev.sluice.driver.socket;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Constructor;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.driver.runtime.SluiceRuntime;

/**
 * Virtual threads carried by Sluice's shards (opt-in): thread-per-connection code on {@link SluiceSocket}s
 * that runs on the shard's own thread, Seastar's thread model. A read that finds data returns at once; one
 * that does not parks its virtual thread (the continuation is frozen, the shard goes on with its duty cycle),
 * and the shard resumes it in the cycle in which data arrives: no hand-off to another CPU, no waker thread,
 * nothing allocated per wake-up (a shard-carried virtual thread's scheduler is {@link ShardScheduler}: the
 * JDK hands it the same continuation at every submit; freezing and thawing reuse the thread's stack chunk).
 *
 * <pre>{@code
 * ThreadFactory onShards = ShardThreads.factory(runtime);        // round robin over the shards
 * try (SluiceServerSocket listener = new SluiceServerSocket(runtime, 8080, 1024))
 * {
 *     onShards.newThread(() -> {
 *         while (true)
 *         {
 *             SluiceSocket s = listener.accept();
 *             ShardThreads.start(s, () -> serve(s));          // on the connection's own shard
 *         }
 *     }).start();
 * }
 * }</pre>
 *
 * <h2>The rule (as Netty's event loop's)</h2>
 * Code on these threads runs on the shard: while it runs, the shard receives, sends and times nothing. It must
 * block only on Sluice sockets (or anything else that parks a virtual thread: locks, {@code Thread.sleep},
 * queues, which the JDK resumes through the same scheduler) and must not compute for long: a blocking system
 * call (file I/O, a JDK socket) stops the shard's whole network until it returns, and a park while pinned (a
 * native frame or a class initializer on the stack) parks the shard thread itself: if only this shard can wake
 * the thread (a read on one of its sockets), it never does. A timed wait ({@code setSoTimeout}, {@code Thread.sleep}) uses the JDK's timer, which allocates per
 * wait; the shard's own path allocates nothing. Virtual threads started by a shard-carried thread with
 * {@code Thread.ofVirtual()} (or {@code Executors.newVirtualThreadPerTaskExecutor()}) inherit its shard (the
 * JDK's rule: a new virtual thread takes its creator's scheduler). Allocations of code on these threads are
 * counted on the shard thread by {@code ThreadMXBean.getThreadAllocatedBytes}. When a stack closes, its
 * shard-carried threads still parked are never resumed: close their sockets and let them end first.
 *
 * <h2>Availability</h2>
 * The JDK has no public API for a virtual thread's scheduler yet; Sluice reaches the package-private
 * {@code java.lang.ThreadBuilders.VirtualThreadBuilder(Executor)} constructor (JDK 21 to 25), which needs the
 * JVM flag {@code --add-opens java.base/java.lang=ALL-UNNAMED}. Without it {@link #isAvailable()} is false,
 * {@link #unavailabilityCause()} says why, {@link #ensureAvailability()} throws, and {@link #factory} falls back
 * to the JDK's default scheduler (once, with a warning on the standard error): the sockets then wake their
 * virtual threads through the waker path ({@link Wakeups}), correct but with a hand-off per wake-up.
 */
public final class ShardThreads
{
    /** The JVM flag these threads need. */
    public static final String ADD_OPENS = "--add-opens java.base/java.lang=ALL-UNNAMED";

    private static final Constructor<?> BUILDER;
    private static final Class<?> VIRTUAL_THREAD;
    private static final VarHandle SCHEDULER;
    private static final Throwable CAUSE;
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    static
    {
        Constructor<?> builder = null;
        Class<?> virtualThread = null;
        VarHandle scheduler = null;
        Throwable cause = null;
        try
        {
            virtualThread = Class.forName("java.lang.VirtualThread");
            scheduler = MethodHandles.privateLookupIn(virtualThread, MethodHandles.lookup())
                .findVarHandle(virtualThread, "scheduler", Executor.class);
            builder = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder")
                .getDeclaredConstructor(Executor.class);
            builder.setAccessible(true);
            // the JDK refuses a custom scheduler where continuations are not supported: find out now
            ((Thread.Builder.OfVirtual)builder.newInstance((Executor)Runnable::run)).unstarted(() -> { });
        }
        catch (final ReflectiveOperationException | RuntimeException | LinkageError ex)
        {
            cause = ex instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : ex;
            builder = null;
            scheduler = null;
        }
        BUILDER = builder;
        VIRTUAL_THREAD = virtualThread;
        SCHEDULER = scheduler;
        CAUSE = cause;
    }

    private ShardThreads()
    {
    }

    /**
     * @return whether shard-carried virtual threads can be made in this JVM.
     */
    public static boolean isAvailable()
    {
        return CAUSE == null;
    }

    /**
     * @return why they cannot (null when {@link #isAvailable()}).
     */
    public static Throwable unavailabilityCause()
    {
        return CAUSE;
    }

    /**
     * @throws UnsupportedOperationException naming the missing JVM flag, unless {@link #isAvailable()}.
     */
    public static void ensureAvailability()
    {
        if (CAUSE != null)
        {
            throw new UnsupportedOperationException(message(), CAUSE);
        }
    }

    /**
     * Virtual threads carried by the runtime's shards, round robin (or the JDK's default virtual threads, with
     * a warning once, when not {@link #isAvailable()}).
     *
     * @param runtime a started stack.
     * @return a thread factory; thread-safe.
     */
    public static ThreadFactory factory(final SluiceRuntime runtime)
    {
        final SocketShards shards = SocketShards.of(runtime);
        if (!isAvailable())
        {
            return fallback();
        }
        final ThreadFactory[] perShard = new ThreadFactory[shards.count()];
        for (int i = 0; i < perShard.length; i++)
        {
            perShard[i] = builder(shards.shard(i).scheduler(), i).factory();
        }
        if (perShard.length == 1)
        {
            return perShard[0];
        }
        final AtomicInteger next = new AtomicInteger();
        return task -> perShard[Math.floorMod(next.getAndIncrement(), perShard.length)].newThread(task);
    }

    /**
     * Virtual threads carried by one shard (or the default ones, as {@link #factory(SluiceRuntime)}).
     *
     * @param runtime a started stack.
     * @param shard   the shard's index.
     * @return a thread factory; thread-safe.
     */
    public static ThreadFactory factory(final SluiceRuntime runtime, final int shard)
    {
        final SocketShards shards = SocketShards.of(runtime);
        return isAvailable() ? builder(shards.shard(shard).scheduler(), shard).factory() : fallback();
    }

    /**
     * A thread-per-task executor over {@link #factory(SluiceRuntime)}.
     *
     * @param runtime a started stack.
     * @return a new executor; close it to wait for its threads.
     */
    public static ExecutorService newThreadPerTaskExecutor(final SluiceRuntime runtime)
    {
        return Executors.newThreadPerTaskExecutor(factory(runtime));
    }

    /**
     * Starts a virtual thread on the shard that owns {@code socket}'s connection (thread-per-connection after
     * an accept); a default virtual thread when not {@link #isAvailable()}.
     *
     * @param socket a connected socket (null or unconnected: a default virtual thread).
     * @param task   what the thread runs.
     * @return the started thread.
     */
    public static Thread start(final SluiceSocket socket, final Runnable task)
    {
        final SocketShard shard = socket == null ? null : socket.shard();
        if (!isAvailable() || shard == null)
        {
            return fallbackBuilder().start(task);
        }
        return builder(shard.scheduler(), shard.context().index()).start(task);
    }

    /**
     * @return whether the calling thread is a virtual thread carried by a shard.
     */
    public static boolean onShard()
    {
        return schedulerOf(Thread.currentThread()) != null;
    }

    /** The shard scheduler carrying {@code thread}, or null (a platform thread, a default virtual thread). */
    static ShardScheduler schedulerOf(final Thread thread)
    {
        if (SCHEDULER == null || !thread.isVirtual() || thread.getClass() != VIRTUAL_THREAD)
        {
            return null;
        }
        return SCHEDULER.get(thread) instanceof ShardScheduler s ? s : null;
    }

    /** Unit tests: virtual threads carried by a scheduler that the test drives. */
    static Thread.Builder.OfVirtual builder(final ShardScheduler scheduler, final int shard)
    {
        ensureAvailability();
        try
        {
            return ((Thread.Builder.OfVirtual)BUILDER.newInstance(scheduler)).name("sluice-vt-" + shard + "-", 0);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private static ThreadFactory fallback()
    {
        return fallbackBuilder().factory();
    }

    private static Thread.Builder.OfVirtual fallbackBuilder()
    {
        if (WARNED.compareAndSet(false, true))
        {
            System.err.println("sluice: " + message() + "; using the JDK's default virtual threads instead");
        }
        return Thread.ofVirtual();
    }

    private static String message()
    {
        return "virtual threads carried by Sluice's shards need the JVM flag " + ADD_OPENS + " (" + CAUSE + ")";
    }
}
