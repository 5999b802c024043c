package dev.sluice.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class OptionsTest
{
    @Test
    void shouldParseEveryOption()
    {
        final Options options = Options.parse(new String[] {"--workload", "connect-16", "--warmup", "1.5",
            "--seconds", "3", "--client-cpu", "1", "--server-cpu", "0", "--out", "x.json", "--io", "block",
            "--transport", "memif", "--role", "server", "--socket", "/tmp/s"});
        assertEquals("connect-16", options.workload());
        assertEquals(1_500_000_000L, options.warmupNs());
        assertEquals(3_000_000_000L, options.measureNs());
        assertEquals(1, options.clientCpu());
        assertEquals(0, options.serverCpu());
        assertEquals("x.json", options.out());
        assertEquals("block", options.io());
        assertEquals("memif", options.transport());
        assertEquals("server", options.role());
        assertEquals("/tmp/s", options.socket());
        assertEquals(16, options.concurrency());
        assertEquals(10_000_000L, options.mslNs());
        assertEquals(false, options.serverCloses());
    }

    @Test
    void shouldParseTheServerClosedConnectionRateAndTheIdleWorkload()
    {
        final Options rate = Options.parse(new String[] {"--workload", "connect-16-server-close", "--msl-ms", "30000"});
        assertEquals(16, rate.concurrency());
        assertEquals(true, rate.serverCloses());
        assertEquals(30_000_000_000L, rate.mslNs());
        final Options idle = Options.parse(new String[] {"--workload", "idle", "--connections", "500"});
        assertEquals(500, idle.connections());
        assertEquals(0, idle.timeWaitCap());
        assertEquals(131_072, Options.parse(new String[] {"--time-wait-cap", "131072"}).timeWaitCap());
        assertEquals(false, idle.serverCloses());
    }

    @Test
    void shouldRejectUnknownWorkloadAndDanglingOption()
    {
        assertThrows(IllegalArgumentException.class, () -> Options.parse(new String[] {"--workload", "udp"}));
        assertThrows(IllegalArgumentException.class, () -> Options.parse(new String[] {"--seconds"}));
    }
}
