package dev.sluice.driver.socket;

/**
 * Run in a JVM without {@link ShardThreads#ADD_OPENS} by {@link ShardThreadsTest}: prints what the fallback
 * says and gives.
 */
public final class ShardThreadsProbe
{
    private ShardThreadsProbe()
    {
    }

    /**
     * @param args none.
     */
    public static void main(final String[] args)
    {
        System.out.println("available=" + ShardThreads.isAvailable());
        try
        {
            ShardThreads.ensureAvailability();
            System.out.println("ensure=passed");
        }
        catch (final UnsupportedOperationException ex)
        {
            System.out.println("ensure=" + ex.getMessage());
        }
        final Thread t = ShardThreads.start(null, () -> { });
        System.out.println("fallbackVirtual=" + t.isVirtual());
    }
}
