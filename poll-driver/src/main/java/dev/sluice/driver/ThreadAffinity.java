package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Pins the calling thread to one CPU with Linux {@code sched_setaffinity(0, ...)} (the calling thread only:
 * the JVM's other threads keep their affinity). Control path; called once by each polling thread.
 */
public final class ThreadAffinity
{
    /** Highest CPU number accepted (size of a {@code cpu_set_t}). */
    public static final int MAX_CPU = 1023;
    private static final int CPU_SET_BYTES = (MAX_CPU + 1) / 8;
    private static final MethodHandle SCHED_SETAFFINITY;

    static
    {
        final Linker linker = Linker.nativeLinker();
        SCHED_SETAFFINITY = linker.downcallHandle(linker.defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS));
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
