package dev.sluice.core.stack;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * A shard's connections: the table keyed by {@link TcpStack#connectionKey}, the pooled connections (created on
 * first need up to the limit, then reused through a free list) and the ready list of those the next poll
 * visits. Single-threaded; no allocation once a connection exists.
 */
final class ConnectionTable
{
    private static final int INITIAL_SLOTS = 64;

    private final TcpStack stack;
    private final TcpConfig config;
    private final IsnGenerator isnGenerator;
    private final NetworkSegmentOutput output;
    private final TcpStackCounters counters;
    private final ChunkPool pool;
    private final int maxConnections;
    private final Long2ObjectHashMap<ConnectionSlot> connections;
    private ConnectionSlot[] free;
    private ConnectionSlot[] ready;
    private ConnectionSlot[] draining;
    private int createdConnections;
    private int readyCount;
    private int freeCount;
    private int activeCount;
    private long nextChannelId;

    ConnectionTable(
        final TcpStack stack, final TcpConfig config, final IsnGenerator isnGenerator,
        final NetworkSegmentOutput output, final TcpStackCounters counters, final int maxConnections,
        final ChunkPool pool)
    {
        this.stack = stack;
        this.config = config;
        this.isnGenerator = isnGenerator;
        this.output = output;
        this.counters = counters;
        this.maxConnections = maxConnections;
        this.pool = pool;
        final int initial = Math.min(maxConnections, INITIAL_SLOTS);
        this.connections = new Long2ObjectHashMap<>(Math.max(8, initial * 2), 0.65f);
        this.free = new ConnectionSlot[initial];
        this.ready = new ConnectionSlot[initial];
        this.draining = new ConnectionSlot[initial];
    }

    ConnectionSlot get(final long key)
    {
        return connections.get(key);
    }

    boolean contains(final long key)
    {
        return connections.containsKey(key);
    }

    Long2ObjectHashMap<ConnectionSlot> map()
    {
        return connections;
    }

    // the gauges of the counters, once per poll
    void publishGauges(final ChallengeAckLimiter challengeAcks)
    {
        counters.challengeAcksLimited = challengeAcks.suppressed();
        counters.connectionsOpen = activeCount();
        counters.payloadChunksInUse = pool.inUseChunks();
        counters.payloadAllocationFailures = pool.allocationFailures();
        counters.payloadBytesReserved = pool.reservedBytes();
    }

    int activeCount()
    {
        return activeCount;
    }

    int maxConnections()
    {
        return maxConnections;
    }

    int createdConnections()
    {
        return createdConnections;
    }

    int readyCount()
    {
        return readyCount;
    }

    // control path: a snapshot, so the visitor may close or abort what it is given
    int forEach(final Consumer<? super TcpChannel> visitor)
    {
        final ConnectionSlot[] snapshot = new ConnectionSlot[activeCount];
        int count = 0;
        for (final ConnectionSlot slot : connections.values())
        {
            snapshot[count++] = slot;
        }
        for (int i = 0; i < count; i++)
        {
            visitor.accept(snapshot[i]);
        }
        return count;
    }

    // a new connection is refused at the limit, and while the pool is under pressure (its reserve is for the
    // data of the connections already open)
    boolean mayOpen()
    {
        if (activeCount >= maxConnections)
        {
            counters.poolExhausted++;
            return false;
        }
        if (pool.underPressure())
        {
            counters.connectionsRefusedMemory++;
            return false;
        }
        return true;
    }

    ConnectionSlot take()
    {
        if (!mayOpen())
        {
            return null;
        }
        if (freeCount == 0)
        {
            return newSlot();
        }
        final ConnectionSlot slot = free[--freeCount];
        free[freeCount] = null;
        return slot;
    }

    // a new TCB: allocated once, then reused through the free list (never on the steady-state path)
    private ConnectionSlot newSlot()
    {
        if (createdConnections == free.length)
        {
            final int length = (int)Math.min(maxConnections, Math.max(16L, 2L * free.length));
            free = Arrays.copyOf(free, length);
            ready = Arrays.copyOf(ready, length);
            draining = Arrays.copyOf(draining, length);
        }
        final ConnectionSlot slot = new ConnectionSlot(stack);
        slot.connection = new TcpConnection(config, isnGenerator, output, slot, pool);
        slot.connection.activityListener(slot);
        slot.connection.recoveryCounters(counters.recovery());
        createdConnections++;
        return slot;
    }

    void activate(final ConnectionSlot slot, final long key)
    {
        slot.key = key;
        slot.inUse = true;
        slot.id = ++nextChannelId;
        activeCount++;
        connections.put(key, slot);
        slot.connection.clearSoftErrors();
    }

    // a connection taken but never activated (a refused SYN) goes back to the free list
    void putBack(final ConnectionSlot slot)
    {
        slot.recycle();
        free[freeCount++] = slot;
    }

    // a connection that reached CLOSED leaves the table for the free list
    void release(final ConnectionSlot slot)
    {
        connections.remove(slot.key);
        activeCount--;
        slot.recycle();
        free[freeCount++] = slot;
        counters.connectionsReleased++;
    }

    void markReady(final ConnectionSlot slot)
    {
        if (!slot.queued)
        {
            slot.queued = true;
            ready[readyCount++] = slot;
        }
    }

    // the ready list becomes the batch this poll drains ({@link #batch}); connections queued meanwhile go to
    // the other list
    int swapReady()
    {
        final ConnectionSlot[] batch = ready;
        final int count = readyCount;
        ready = draining;
        draining = batch;
        readyCount = 0;
        return count;
    }

    ConnectionSlot[] batch()
    {
        return draining;
    }
}
