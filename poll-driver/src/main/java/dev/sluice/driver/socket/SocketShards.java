package dev.sluice.driver.socket;

import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.driver.runtime.SluiceRuntime;

/**
 * The {@link SocketShard}s of one runtime, installed on first use (each shard adds its part to its duty
 * cycle through its command queue) and shared by every socket of that runtime.
 */
final class SocketShards
{
    private static final Map<SluiceRuntime, SocketShards> BY_RUNTIME = new WeakHashMap<>();

    private final SluiceRuntime runtime;
    private final SocketShard[] shards;
    private final AtomicInteger nextShard = new AtomicInteger();

    private SocketShards(final SluiceRuntime runtime, final SocketShard[] shards)
    {
        this.runtime = runtime;
        this.shards = shards;
    }

    static synchronized SocketShards of(final SluiceRuntime runtime)
    {
        SocketShards installed = BY_RUNTIME.get(runtime);
        if (installed == null)
        {
            final int count = runtime.shardCount();
            final SocketShard[] shards = new SocketShard[count];
            final CompletableFuture<?>[] done = new CompletableFuture<?>[count];
            for (int i = 0; i < count; i++)
            {
                final SocketShard shard = new SocketShard(runtime.context(i));
                shards[i] = shard;
                final CompletableFuture<Void> added = new CompletableFuture<>();
                done[i] = added;
                runtime.execute(i, nowNs ->
                {
                    shard.installedOnShardThread();
                    runtime.context(shard.context().index()).addWork(shard);
                    added.complete(null);
                });
            }
            try
            {
                CompletableFuture.allOf(done).get(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while installing the socket pumps", ex);
            }
            catch (final ExecutionException | TimeoutException ex)
            {
                throw new IllegalStateException("the shards did not install the socket pumps (are they running?)", ex);
            }
            for (final SocketShard shard : shards)
            {
                shard.startWaker();
            }
            installed = new SocketShards(runtime, shards);
            BY_RUNTIME.put(runtime, installed);
        }
        return installed;
    }

    SluiceRuntime runtime()
    {
        return runtime;
    }

    int count()
    {
        return shards.length;
    }

    SocketShard shard(final int index)
    {
        return shards[index];
    }

    /**
     * The shard a new client connection is opened from: the calling thread's own shard when a shard of this
     * runtime carries it ({@link ShardThreads}), else round robin.
     */
    SocketShard nextForConnect()
    {
        final ShardScheduler carrier = ShardThreads.schedulerOf(Thread.currentThread());
        if (carrier != null)
        {
            for (final SocketShard shard : shards)
            {
                if (shard == carrier.shard())
                {
                    return shard;
                }
            }
        }
        return shards[Math.floorMod(nextShard.getAndIncrement(), shards.length)];
    }
}
