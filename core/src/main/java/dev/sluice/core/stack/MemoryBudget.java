package dev.sluice.core.stack;

import dev.sluice.core.tcp.ChunkPool;

/**
 * How a shard's memory budget is spent: half on connections (compact TCBs on the heap, about 800 bytes each
 * measured, {@value #BYTES_PER_CONNECTION} assumed), half on payload (a {@link ChunkPool} of off-heap chunks
 * taken only while bytes are buffered). TIME-WAIT records are a few tens of bytes and are capped by the same
 * count as connections (Linux's {@code tcp_max_tw_buckets} plays that part).
 *
 * <p>The default budget per shard is a quarter of the machine's RAM, no more than the JVM's heap limit (the
 * default direct-memory limit equals it), shared among the shards: on a 24 GB, 2-core machine with the JVM's
 * default heap (6 GB) that is 3 GiB per shard, 1.5 million connections and 1.5 GiB of payload each.
 *
 * @param budgetBytes    the shard's budget.
 * @param maxConnections most connections at once.
 * @param poolBytes      payload memory.
 * @param maxTimeWait    most TIME-WAIT records.
 */
public record MemoryBudget(long budgetBytes, int maxConnections, long poolBytes, int maxTimeWait)
{
    /** Heap assumed per connection (measured about 800 bytes idle: TcpStackMemoryTest). */
    public static final int BYTES_PER_CONNECTION = 1024;
    /** Smallest budget accepted. */
    public static final long MIN_BUDGET_BYTES = 16L << 20;
    /** Most connections per shard, whatever the budget. */
    public static final int MAX_CONNECTIONS = 1 << 24;

    /**
     * Splits a budget.
     *
     * @param budgetBytes the shard's budget, &gt;= {@link #MIN_BUDGET_BYTES}.
     * @return the split.
     */
    public static MemoryBudget of(final long budgetBytes)
    {
        if (budgetBytes < MIN_BUDGET_BYTES)
        {
            throw new IllegalArgumentException("memory budget must be >= 16 MiB, got " + budgetBytes);
        }
        final long half = budgetBytes / 2;
        final int connections = (int)Math.min(MAX_CONNECTIONS, half / BYTES_PER_CONNECTION);
        return new MemoryBudget(budgetBytes, connections, half, connections);
    }

    /**
     * The default budget of one shard.
     *
     * @param physicalMemoryBytes the machine's RAM.
     * @param maxHeapBytes        the JVM's heap limit ({@link Runtime#maxMemory()}).
     * @param shards              shards sharing the machine.
     * @return bytes, at least {@link #MIN_BUDGET_BYTES}.
     */
    public static long defaultBudgetBytes(final long physicalMemoryBytes, final long maxHeapBytes, final int shards)
    {
        final long total = Math.min(physicalMemoryBytes / 4, maxHeapBytes);
        return Math.max(MIN_BUDGET_BYTES, total / Math.max(1, shards));
    }

    /**
     * A payload pool of {@link #poolBytes()}.
     *
     * @return a new pool (nothing reserved until used).
     */
    public ChunkPool newPool()
    {
        return ChunkPool.ofBudget(poolBytes);
    }
}
