package dev.sluice.driver;

/**
 * The application's part of a duty cycle: called by the {@link ShardAgent} after every frame of the burst
 * was handled and before TCP's poll, so that what it sends leaves in the same cycle (deferred window
 * updates, data pumped into connections). Must not allocate or block.
 */
@FunctionalInterface
public interface ShardWork
{
    /**
     * @param nowNs the duty cycle's time.
     * @return work done (0 when idle), for the idle strategy.
     */
    int doWork(long nowNs);
}
