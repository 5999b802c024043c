package dev.sluice.driver;

/**
 * One shard's runtime counters ({@link ShardCounterDescriptor}): a plain {@code long[]} written by the
 * shard's thread only and published into the counters file every millisecond. No allocation.
 */
public final class ShardCounters
{
    private final long[] values = new long[ShardCounterDescriptor.values().length];

    /**
     * @param descriptor which counter.
     * @param delta      amount to add.
     */
    public void add(final ShardCounterDescriptor descriptor, final long delta)
    {
        values[descriptor.ordinal()] += delta;
    }

    /**
     * @param descriptor which counter.
     */
    public void increment(final ShardCounterDescriptor descriptor)
    {
        values[descriptor.ordinal()]++;
    }

    /**
     * @param descriptor which counter.
     * @param value      its new value.
     */
    public void set(final ShardCounterDescriptor descriptor, final long value)
    {
        values[descriptor.ordinal()] = value;
    }

    /**
     * @param descriptor which counter.
     * @param value      a candidate maximum.
     */
    public void max(final ShardCounterDescriptor descriptor, final long value)
    {
        if (value > values[descriptor.ordinal()])
        {
            values[descriptor.ordinal()] = value;
        }
    }

    /**
     * @param descriptor which counter.
     * @return its value (exact on the shard's thread, possibly stale elsewhere).
     */
    public long get(final ShardCounterDescriptor descriptor)
    {
        return values[descriptor.ordinal()];
    }
}
