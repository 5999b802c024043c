package dev.sluice.nativebindings.dpdk;

/**
 * The one EAL of the integration-test JVM (DPDK allows one per process; failsafe runs
 * every integration test class of this module in one fork). Ports are added after
 * start-up with {@link Eal#createVdev} and {@link RingPorts}, so each test builds what it
 * needs without restarting EAL.
 */
final class TestEal
{
    private static Eal eal;
    private static final ThreadLocal<Lcore> LCORES = new ThreadLocal<>();

    private TestEal()
    {
    }

    static synchronized Eal get()
    {
        if (eal == null)
        {
            Dpdk.ensureAvailable();
            eal = Eal.init(Eal.DEFAULT_ARGS);
        }
        return eal;
    }

    /**
     * @return the calling thread's lcore, registering it on first use.
     */
    static Lcore lcore()
    {
        Lcore lcore = LCORES.get();
        if (lcore == null)
        {
            lcore = get().registerCurrentThread();
            LCORES.set(lcore);
        }
        return lcore;
    }
}
