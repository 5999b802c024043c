package dev.sluice.netty;

import dev.sluice.nativebindings.dpdk.Eal;

/**
 * The one EAL of this module's integration-test JVM (DPDK allows one per process; failsafe runs every
 * integration test class of the module in one fork).
 */
final class TestEal
{
    private static Eal eal;

    private TestEal()
    {
    }

    static synchronized Eal get()
    {
        if (eal == null)
        {
            eal = Eal.init(Eal.DEFAULT_ARGS);
        }
        return eal;
    }
}
