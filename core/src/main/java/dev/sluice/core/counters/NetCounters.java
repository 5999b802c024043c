package dev.sluice.core.counters;

/**
 * One shard's network-layer counter values, indexed by {@link NetCounterDescriptor#id()}. Written only by
 * the owning thread, without synchronisation; another thread may read a slightly stale value.
 */
public final class NetCounters
{
    private final long[] values = new long[NetCounterDescriptor.count()];

    /**
     * Adds one.
     *
     * @param descriptor the counter.
     */
    public void increment(final NetCounterDescriptor descriptor)
    {
        values[descriptor.ordinal()]++;
    }

    /**
     * Adds a delta.
     *
     * @param descriptor the counter.
     * @param delta      amount to add.
     */
    public void add(final NetCounterDescriptor descriptor, final long delta)
    {
        values[descriptor.ordinal()] += delta;
    }

    /**
     * Current value.
     *
     * @param descriptor the counter.
     * @return the value.
     */
    public long get(final NetCounterDescriptor descriptor)
    {
        return values[descriptor.ordinal()];
    }

    /**
     * Current value by id, for publishers iterating over ids.
     *
     * @param id a {@link NetCounterDescriptor#id()}.
     * @return the value.
     */
    public long get(final int id)
    {
        return values[id];
    }

    /**
     * Sum of every {@link NetCounterDescriptor.Type#DROP} counter.
     *
     * @return total drops.
     */
    public long totalDrops()
    {
        long total = 0;
        for (int id = 0; id < values.length; id++)
        {
            if (NetCounterDescriptor.byId(id).type() == NetCounterDescriptor.Type.DROP)
            {
                total += values[id];
            }
        }
        return total;
    }

    /**
     * Resets every counter to zero (tests and restarts).
     */
    public void reset()
    {
        java.util.Arrays.fill(values, 0);
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder();
        for (int id = 0; id < values.length; id++)
        {
            if (values[id] != 0)
            {
                sb.append(NetCounterDescriptor.byId(id).label()).append('=').append(values[id]).append('\n');
            }
        }
        return sb.toString();
    }
}
