package dev.sluice.bench.e2e;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Pins the calling thread to one CPU with {@code sched_setaffinity(0, ...)} (0 is the calling thread in
 * Linux), so client and server of every benchmark run on their own core, kernel and Sluice alike.
 */
public final class Affinity
{
    private static final int MASK_BYTES = 128;
    private static final MethodHandle SCHED_SETAFFINITY;
    private static final MethodHandle GETTID;

    static
    {
        final Linker linker = Linker.nativeLinker();
        SCHED_SETAFFINITY = linker.downcallHandle(
            linker.defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS));
        GETTID = linker.downcallHandle(
            linker.defaultLookup().find("gettid").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
    }

    /**
     * The calling thread's Linux thread id (for {@code /proc/self/task/TID/schedstat}).
     *
     * @return the tid.
     */
    public static int gettid()
    {
        try
        {
            return (int)GETTID.invokeExact();
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private Affinity()
    {
    }

    /**
     * Pins the calling thread.
     *
     * @param cpu the CPU number, or a negative value to leave the thread unpinned.
     * @throws IllegalStateException if the kernel refuses.
     */
    public static void pin(final int cpu)
    {
        pin(0, cpu);
    }

    /**
     * Pins a thread of this process.
     *
     * @param tid the thread's Linux id (0: the calling thread).
     * @param cpu the CPU number, or a negative value to leave the thread unpinned.
     * @throws IllegalStateException if the kernel refuses.
     */
    public static void pin(final int tid, final int cpu)
    {
        if (cpu < 0)
        {
            return;
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment mask = arena.allocate(MASK_BYTES);
            mask.set(ValueLayout.JAVA_LONG, (cpu / 64) * 8L, 1L << (cpu % 64));
            final int rc = (int)SCHED_SETAFFINITY.invokeExact(tid, (long)MASK_BYTES, mask);
            if (rc != 0)
            {
                throw new IllegalStateException("sched_setaffinity(cpu " + cpu + ") failed");
            }
        }
        catch (final RuntimeException ex)
        {
            throw ex;
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
