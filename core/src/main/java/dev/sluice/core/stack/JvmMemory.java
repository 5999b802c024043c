package dev.sluice.core.stack;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * How the JVM's memory is measured for the idle-connection figures (issue 11), one copy for the tests and the
 * bench: used heap after full collections, and direct memory by the JVM's own counter (the payload pools' slabs
 * are direct buffers, freed at once when given back, so this counter is exact for them). Not for the data path.
 */
public final class JvmMemory
{
    private JvmMemory()
    {
    }

    /**
     * Used heap after {@code System.gc()}: the least of three tries, so a collection that left garbage behind
     * does not count.
     *
     * @return bytes.
     */
    public static long usedHeapAfterGc()
    {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    /**
     * Bytes held by direct buffers now (the JVM's "direct" buffer pool).
     *
     * @return bytes.
     * @throws IllegalStateException if the JVM reports no such pool.
     */
    public static long directMemoryUsed()
    {
        for (final BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class))
        {
            if ("direct".equals(pool.getName()))
            {
                return pool.getMemoryUsed();
            }
        }
        throw new IllegalStateException("the JVM reports no direct buffer pool");
    }
}
