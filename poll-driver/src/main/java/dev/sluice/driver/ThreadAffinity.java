package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Pins the calling thread to one CPU with Linux {@code sched_setaffinity(0, ...)} (the calling thread only:
 * the JVM's other threads keep their affinity), and tells which CPU a pinned thread has. Control path; called
 * once by each polling thread (and each socket waker).
 */
public final class ThreadAffinity
{
    /** Highest CPU number accepted (size of a {@code cpu_set_t}). */
    public static final int MAX_CPU = 1023;
    private static final int CPU_SET_BYTES = (MAX_CPU + 1) / 8;
    private static final MethodHandle SCHED_SETAFFINITY;
    private static final MethodHandle SCHED_GETAFFINITY;

    static
    {
        final Linker linker = Linker.nativeLinker();
        SCHED_SETAFFINITY = linker.downcallHandle(linker.defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS));
        SCHED_GETAFFINITY = linker.downcallHandle(linker.defaultLookup().find("sched_getaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS));
    }

    /**
     * @return the CPU the calling thread is pinned to, or -1 if it may run on more than one (or the kernel
     *         does not say).
     */
    public static int soleCpuOfCurrentThread()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment mask = arena.allocate(CPU_SET_BYTES, 8);
            final int rc = (int)SCHED_GETAFFINITY.invokeExact(0, (long)CPU_SET_BYTES, mask);
            if (rc != 0)
            {
                return -1;
            }
            int cpu = -1;
            for (int i = 0; i < CPU_SET_BYTES / 8; i++)
            {
                final long word = mask.getAtIndex(ValueLayout.JAVA_LONG, i);
                if (word != 0)
                {
                    if (cpu >= 0 || Long.bitCount(word) != 1)
                    {
                        return -1;
                    }
                    cpu = i * 64 + Long.numberOfTrailingZeros(word);
                }
            }
            return cpu;
        }
        catch (final RuntimeException ex)
        {
            throw ex;
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException(t);
        }
    }

    private ThreadAffinity()
    {
    }

    /**
     * @param cpu the CPU, 0..{@link #MAX_CPU}.
     * @throws IllegalStateException if the kernel refuses (no such CPU, or outside the process's cpuset).
     */
    public static void pinCurrentThread(final int cpu)
    {
        if (cpu < 0 || cpu > MAX_CPU)
        {
            throw new IllegalArgumentException("cpu must be 0.." + MAX_CPU + ", got " + cpu);
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment mask = arena.allocate(CPU_SET_BYTES, 8);
            mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte)(1 << (cpu % 8)));
            final int rc = (int)SCHED_SETAFFINITY.invokeExact(0, (long)CPU_SET_BYTES, mask);
            if (rc != 0)
            {
                throw new IllegalStateException("sched_setaffinity(cpu " + cpu + ") failed: no such CPU or not " +
                    "allowed for this process");
            }
        }
        catch (final RuntimeException ex)
        {
            throw ex;
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException(t);
        }
    }
}
