package dev.sluice.core.stack;

/**
 * The thread a stack belongs to: channel calls from any other thread throw {@link WrongThreadException}, so a
 * misuse fails loudly instead of racing the shard. Bound explicitly, or by the first duty cycle.
 */
final class ShardThread
{
    private Thread owner;

    void bind(final Thread thread)
    {
        this.owner = thread;
    }

    void bindIfUnbound()
    {
        if (owner == null)
        {
            owner = Thread.currentThread();
        }
    }

    Thread owner()
    {
        return owner;
    }

    void check()
    {
        final Thread thread = owner;
        if (thread != null && thread != Thread.currentThread())
        {
            throw new WrongThreadException("a Sluice channel belongs to shard thread " + thread.getName() +
                " and was used from thread " + Thread.currentThread().getName() +
                ": post the call to the shard (execute) or use a SluiceSocket");
        }
    }
}
