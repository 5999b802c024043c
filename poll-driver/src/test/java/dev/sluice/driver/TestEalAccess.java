package dev.sluice.driver;

import dev.sluice.nativebindings.dpdk.Eal;

/**
 * The integration-test JVM's one EAL ({@link TestEal}), for tests in other packages.
 */
public final class TestEalAccess
{
    private TestEalAccess()
    {
    }

    /**
     * @return the shared EAL.
     */
    public static Eal get()
    {
        return TestEal.get();
    }
}
