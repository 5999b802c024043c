package dev.sluice.driver.runtime;

/**
 * What runs on top of the stack: creates one {@link ShardApplication} per shard (on the main thread,
 * before the shards start), so that each shard's part owns its handlers and buffers without sharing.
 */
@FunctionalInterface
public interface Application
{
    /**
     * @param shard the shard this part runs on.
     * @return the part; its {@code onAccept} serves every listening port of the shard.
     */
    ShardApplication forShard(ShardContext shard);
}
