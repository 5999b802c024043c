package dev.sluice.driver;

/**
 * Work an application thread asks a shard to do on the shard's own thread: commands travel through the
 * shard's command queue and run at the top of its next duty cycle, so the shard never takes a lock.
 * A command object is created by the caller (control path); running it must not block.
 */
@FunctionalInterface
public interface ShardCommand
{
    /**
     * Runs on the shard's thread.
     *
     * @param nowNs the duty cycle's time.
     */
    void execute(long nowNs);
}
