package dev.sluice.nativebindings.dpdk;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.sluice.nativebindings.dpdk.internal.NativeLookup;
import dev.sluice.nativebindings.tools.DpdkCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Availability, the version check, and the errors a user meets when something is wrong.
 * Start-up failures run in child JVMs: EAL can be initialised once per process.
 */
class DpdkAvailabilityIT
{
    private static final String CHECK = DpdkCheck.class.getName();
    private static final List<String> EAL = Eal.DEFAULT_ARGS;

    @Test
    void shouldBeAvailableWithDpdk2211()
    {
        assertNull(Dpdk.unavailabilityCause());
        assertTrue(Dpdk.isAvailable());
        assertTrue(Dpdk.version().startsWith("DPDK 22.11."), Dpdk.version());
    }

    @Test
    void shouldStartAndListPortsOfAWorkingVdev() throws Exception
    {
        final JavaProcess p = JavaProcess.run(List.of(), CHECK, concat(EAL, "--vdev=net_null0"));
        assertEquals(0, p.exitCode(), p.stderr());
        assertTrue(p.stdout().contains("port 0 net_null0 driver=net_null"), p.stdout());
    }

    @Test
    void shouldShowDpdksReasonWhenEalInitFails() throws Exception
    {
        final JavaProcess p = JavaProcess.run(List.of(), CHECK, concat(EAL, "--vdev=net_nosuchdriver0"));
        assertEquals(1, p.exitCode());
        assertTrue(p.stderr().contains("rte_eal_init failed: No such device"), p.stderr());
        assertTrue(p.stderr().contains("DPDK said:") && p.stderr().contains("Unable to parse device 'net_nosuchdriver0'"),
            p.stderr());
    }

    @Test
    void shouldShowDpdksReasonForAnInvalidEalArgument() throws Exception
    {
        final JavaProcess p = JavaProcess.run(List.of(), CHECK, "--no-such-eal-option");
        assertEquals(1, p.exitCode());
        assertTrue(p.stderr().contains("rte_eal_init failed: Invalid argument"), p.stderr());
        assertTrue(p.stderr().contains("Invalid 'command line' arguments"), p.stderr());
    }

    @Test
    void shouldNameAVdevThatDidNotProbe(@TempDir final Path dir) throws Exception
    {
        // EAL succeeds with 0 ports when a vdev's probe fails: here net_pcap cannot open its input
        final String vdev = "--vdev=net_pcap0,rx_pcap=" + dir.resolve("missing.pcap") + ",tx_pcap=" + dir.resolve("o.pcap");
        final JavaProcess p = JavaProcess.run(List.of(), CHECK, concat(EAL, vdev));
        assertEquals(1, p.exitCode());
        assertTrue(p.stderr().contains("EAL started but vdev net_pcap0 did not probe"), p.stderr());
        assertTrue(p.stderr().contains("missing.pcap"), "DPDK's own reason is shown: " + p.stderr());
    }

    @Test
    void shouldSayHowToInstallWhenTheShimIsMissing(@TempDir final Path dir) throws Exception
    {
        final JavaProcess p = JavaProcess.run(
            List.of("-D" + NativeLookup.SHIM_PATH_PROPERTY + "=" + dir.resolve("libsluice_shim.so")), CHECK);
        assertEquals(1, p.exitCode());
        assertTrue(p.stderr().contains("DPDK unavailable") && p.stderr().contains("is not a readable file"), p.stderr());
    }

    @Test
    void shouldSayHowToInstallWhenADpdkLibraryIsMissing(@TempDir final Path dir) throws Exception
    {
        // A shim that needs a DPDK library which is not installed, as on a machine without the dpdk package.
        Files.writeString(dir.resolve("fake.c"), "int rte_fake_version(void) { return 1; }\n");
        Files.writeString(dir.resolve("shim.c"), "extern int rte_fake_version(void); int sluice_x(void) { return rte_fake_version(); }\n");
        exec(dir, "gcc", "-shared", "-fPIC", "-o", "librte_fake.so.23", "-Wl,-soname,librte_fake.so.23", "fake.c");
        exec(dir, "gcc", "-shared", "-fPIC", "-o", "libsluice_shim.so", "shim.c", dir.resolve("librte_fake.so.23").toString());
        Files.delete(dir.resolve("librte_fake.so.23"));

        final JavaProcess p = JavaProcess.run(
            List.of("-D" + NativeLookup.SHIM_PATH_PROPERTY + "=" + dir.resolve("libsluice_shim.so")), CHECK);
        assertEquals(1, p.exitCode());
        assertTrue(p.stderr().contains("librte_fake.so.23"), "names the missing library: " + p.stderr());
        assertTrue(p.stderr().contains("apt-get install dpdk"), "says how to install: " + p.stderr());
    }

    private static void exec(final Path dir, final String... command) throws Exception
    {
        final Process p = new ProcessBuilder(command).directory(dir.toFile()).inheritIO().start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command));
    }

    private static String[] concat(final List<String> list, final String... more)
    {
        final String[] all = list.toArray(new String[list.size() + more.length]);
        System.arraycopy(more, 0, all, list.size(), more.length);
        return all;
    }
}
