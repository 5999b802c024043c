package dev.sluice.driver.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.sluice.core.tcp.CongestionAlgorithm;
import dev.sluice.core.wire.Addresses;
import dev.sluice.nativebindings.dpdk.Eal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SluiceConfigTest
{
    private static final String BASE = "--dev net_tap0,iface=sl0 --ip 10.0.0.2/24";

    private static SluiceConfig parse(final String line)
    {
        return SluiceConfig.parse(line.isEmpty() ? new String[0] : line.split(" "));
    }

    @Test
    void shouldParseAnEchoServerWithDefaults()
    {
        final SluiceConfig c = parse("echo " + BASE + " --listen 7");
        assertEquals(SluiceConfig.Command.ECHO, c.command());
        assertEquals("net_tap0,iface=sl0", c.device());
        assertEquals("net_tap0", c.portName());
        assertEquals("sl0", c.tapInterface());
        assertTrue(c.isVdev());
        assertEquals(Addresses.parseIpv4("10.0.0.2"), c.ip());
        assertEquals(24, c.prefixLength());
        assertEquals(0, c.gatewayIp());
        assertEquals(7, c.listenPort());
        assertEquals(1, c.cores());
        assertEquals(List.of(), c.cpus());
        assertEquals(SluiceConfig.IdleMode.SPIN, c.idle());
        assertEquals(Eal.DEFAULT_ARGS, c.ealArgs());
        assertEquals(-1, c.mac());
        assertNull(c.pcapFile());
        assertEquals(SluiceConfig.DEFAULT_COUNTERS_FILE, c.countersFile());
        assertEquals(0, c.seconds());
        // issue 11: sized by a memory budget derived from the machine, not a fixed count of full slots
        assertEquals(dev.sluice.core.stack.MemoryBudget.of(c.memoryBudgetBytes()).maxConnections(), c.maxConnections());
        assertTrue(c.memoryBudgetBytes() >= dev.sluice.core.stack.MemoryBudget.MIN_BUDGET_BYTES);
        assertTrue(c.timeWaitWait());
        assertFalse(c.tcp().noDelay());
        assertEquals(CongestionAlgorithm.CUBIC, c.tcp().congestionControl());
        assertEquals(30_000_000_000L, c.tcp().mslNs());
        assertEquals(200_000_000L, c.tcp().rtoMinNs());
        assertEquals(List.of("--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry",
            "--vdev=net_tap0,iface=sl0"), c.fullEalArgs());
    }

    @Test
    void shouldParseLinkImpairmentsAndDefaultToNone()
    {
        final SluiceConfig plain = parse("echo " + BASE + " --listen 7");
        assertFalse(plain.impairRx().isActive());
        assertFalse(plain.impairTx().isActive());
        final SluiceConfig c = parse("echo " + BASE + " --listen 7 --impair-rx loss=1%,seed=3 --impair-tx delay=10ms");
        assertEquals(0.01, c.impairRx().lossRate(), 1e-12);
        assertEquals(3, c.impairRx().seed());
        assertEquals(10_000_000L, c.impairTx().delayNs());
    }

    @Test
    void shouldRejectABadImpairmentNamingTheFlag()
    {
        final ConfigException ex = assertThrows(ConfigException.class,
            () -> parse("echo " + BASE + " --listen 7 --impair-tx loss=2x"));
        assertTrue(ex.getMessage().startsWith("--impair-tx"), ex.getMessage());
    }

    @Test
    void shouldParseEveryFlagOfASource()
    {
        final SluiceConfig c = parse("source " + BASE + " --connect 10.0.0.1:9000 --bytes 100M --cores 2 --cpus 1,0" +
            " --idle backoff --gateway 10.0.0.254 --mac 02:00:00:00:00:07 --pcap /tmp/x.pcap" +
            " --counters-file /tmp/c --mtu 1400 --max-connections 16 --mss 1200 --msl-ms 1000" +
            " --rto-min-ms 50 --rto-initial-ms 500 --delayed-ack-ms 0 --no-delay --keepalive" +
            " --keepalive-idle-s 30 --send-buffer 65536 --receive-buffer 131072 --congestion-control newreno");
        assertEquals(SluiceConfig.Command.SOURCE, c.command());
        assertEquals(Addresses.parseIpv4("10.0.0.1"), c.connectIp());
        assertEquals(9000, c.connectPort());
        assertEquals(100L << 20, c.bytes());
        assertEquals(2, c.cores());
        assertEquals(List.of(1, 0), c.cpus());
        assertEquals(SluiceConfig.IdleMode.BACKOFF, c.idle());
        assertEquals(Addresses.parseIpv4("10.0.0.254"), c.gatewayIp());
        assertEquals(0x0200_0000_0007L, c.mac());
        assertEquals("/tmp/x.pcap", c.pcapFile());
        assertEquals("/tmp/c", c.countersFile());
        assertEquals(1400, c.mtu());
        assertEquals(16, c.maxConnections());
        assertEquals(1200, c.tcp().mssBytes());
        assertEquals(CongestionAlgorithm.NEWRENO, c.tcp().congestionControl());
        assertThrows(ConfigException.class, () -> parse("source " + BASE + " --connect 10.0.0.1:9000" +
            " --congestion-control bbr"));
        assertEquals(1_000_000_000L, c.tcp().mslNs());
        assertEquals(50_000_000L, c.tcp().rtoMinNs());
        assertEquals(500_000_000L, c.tcp().rtoInitialNs());
        assertEquals(0, c.tcp().delayedAckNs());
        assertTrue(c.tcp().noDelay());
        assertTrue(c.tcp().keepAliveEnabled());
        assertEquals(30_000_000_000L, c.tcp().keepAliveIdleNs());
        assertEquals(65536, c.tcp().sendBufferBytes());
        assertEquals(131072, c.tcp().receiveBufferBytes());
    }

    @Test
    void shouldClampTheMssToTheMtu()
    {
        assertEquals(1360, parse("sink " + BASE + " --listen 9 --mtu 1400").tcp().mssBytes());
    }

    @Test
    void shouldTakeTheMssFromAJumboMtuUnlessGiven_MUST67()
    {
        assertEquals(8960, parse("sink " + BASE + " --listen 9 --mtu 9000").tcp().mssBytes());
        assertEquals(1460, parse("sink " + BASE + " --listen 9").tcp().mssBytes());
        assertEquals(1400, parse("sink " + BASE + " --listen 9 --mtu 9000 --mss 1400").tcp().mssBytes());
    }

    @Test
    void shouldPutAPciDeviceOnThePciBus()
    {
        final SluiceConfig c = parse("http --dev 0000:03:00.0 --ip 10.0.0.2/24 --listen 80");
        assertFalse(c.isVdev());
        assertNull(c.tapInterface());
        assertEquals(List.of("--no-huge", "-m", "512", "--no-shconf", "--no-telemetry", "-a", "0000:03:00.0"),
            c.fullEalArgs());
    }

    @Test
    void shouldSplitTheEalArguments()
    {
        final SluiceConfig c = SluiceConfig.parse(new String[] {
            "echo", "--dev", "net_ring0", "--ip", "10.0.0.2/24", "--listen", "7", "--eal", " --no-huge  -m 256 "});
        assertEquals(List.of("--no-huge", "-m", "256"), c.ealArgs());
    }

    @Test
    void shouldReturnNullForHelpAndDocumentEveryFlag()
    {
        assertNull(parse("echo --help"));
        assertNull(parse("-h"));
        final String usage = SluiceConfig.usage();
        for (final String flag : List.of("--dev", "--ip", "--gateway", "--listen", "--connect", "--bytes",
            "--cores", "--cpus", "--idle", "--eal", "--mac", "--pcap", "--counters-file", "--seconds", "--mtu",
            "--max-connections", "--mss", "--msl-ms", "--rto-min-ms", "--rto-initial-ms", "--delayed-ack-ms",
            "--no-delay", "--keepalive", "--keepalive-idle-s", "--send-buffer", "--receive-buffer", "--config",
            "--congestion-control"))
        {
            assertTrue(usage.contains(flag + " ") || usage.contains(flag + "\n") || usage.contains(flag + "  "),
                flag);
        }
    }

    @Test
    void shouldReadAPropertiesFileThatFlagsOverride(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("sluice.properties");
        Files.writeString(file, "dev=net_tap0,iface=sl9\nip=10.9.0.2/16\nlisten=80\nno-delay=true\ncores=2\n");
        final SluiceConfig c = parse("http --config " + file + " --cores 1");
        assertEquals("net_tap0,iface=sl9", c.device());
        assertEquals(16, c.prefixLength());
        assertEquals(80, c.listenPort());
        assertTrue(c.tcp().noDelay());
        assertEquals(1, c.cores());
    }

    @Test
    void shouldRejectABadPropertiesFile(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("bad.properties");
        Files.writeString(file, "dev=net_ring0\nlisten-port=80\n");
        assertMessage("unknown key 'listen-port'", "http --config " + file);
        assertMessage("cannot read", "http --config " + dir.resolve("missing.properties"));
        final Path switchFile = dir.resolve("switch.properties");
        Files.writeString(switchFile, "dev=net_ring0\nip=10.0.0.2/24\nlisten=80\nno-delay=yes\n");
        assertMessage("--no-delay is a switch", "http --config " + switchFile);
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', value = {
        "''|missing subcommand",
        "serve " + BASE + "|unknown subcommand 'serve'",
        "echo " + BASE + " --listen 7 --colour red|unknown flag --colour",
        "echo " + BASE + " --listen 7 stray|unexpected argument 'stray'",
        "echo " + BASE + " --listen|--listen needs a value",
        "echo --ip 10.0.0.2/24 --listen 7|missing --dev",
        "echo --dev net_ring0 --listen 7|missing --ip",
        "echo " + BASE + "|missing --listen",
        "echo --dev net_ring0 --ip 10.0.0.2 --listen 7|--ip wants A.B.C.D/N",
        "echo --dev net_ring0 --ip 10.0.0.300/24 --listen 7|--ip wants an IPv4 address",
        "echo --dev net_ring0 --ip 10.0.0.2/33 --listen 7|--ip must be 1..32",
        "echo --dev net_ring0 --ip 10.0.0.2/x --listen 7|--ip wants a number",
        "echo " + BASE + " --listen 0|--listen must be 1..65535",
        "echo " + BASE + " --listen 70000|--listen must be 1..65535",
        "echo " + BASE + " --listen seven|--listen wants a number",
        "echo " + BASE + " --listen 7 --gateway 1.2.3|--gateway wants an IPv4 address",
        "echo " + BASE + " --listen 7 --bytes 10|--bytes does not apply to echo",
        "echo " + BASE + " --listen 7 --connect 1.2.3.4:5|--connect does not apply to echo",
        "source " + BASE + " --connect 1.2.3.4:5 --bytes 1 --listen 7|--listen does not apply to source",
        "source " + BASE + " --connect 1.2.3.4:5 --bytes 1 --seconds 3|--seconds does not apply to source",
        "source " + BASE + " --bytes 10|missing --connect",
        "source " + BASE + " --connect 1.2.3.4:5|missing --bytes",
        "source " + BASE + " --connect 1.2.3.4 --bytes 1|--connect wants IP:PORT",
        "source " + BASE + " --connect 1.2.3.4:0 --bytes 1|--connect must be 1..65535",
        "source " + BASE + " --connect 1.2.3:5 --bytes 1|--connect wants an IPv4 address",
        "source " + BASE + " --connect 1.2.3.4:5 --bytes 0|--bytes must be 1..",
        "source " + BASE + " --connect 1.2.3.4:5 --bytes 10X|--bytes wants a number",
        "echo " + BASE + " --listen 7 --cores 0|--cores must be 1..64",
        "echo " + BASE + " --listen 7 --cores 65|--cores must be 1..64",
        "echo " + BASE + " --listen 7 --cores 2 --cpus 3|--cpus names 1 CPU(s) for 2 core(s)",
        "echo " + BASE + " --listen 7 --cores 2 --cpus 3,3|--cpus names a CPU twice",
        "echo " + BASE + " --listen 7 --cpus x|--cpus wants a number",
        "echo " + BASE + " --listen 7 --cpus 1024|--cpus must be 0..1023",
        "echo " + BASE + " --listen 7 --idle sleepy|--idle wants spin, backoff or yield",
        "echo " + BASE + " --listen 7 --mac 02:00:00:00:00|--mac wants aa:bb:cc:dd:ee:ff",
        "echo " + BASE + " --listen 7 --mac 01:00:5e:00:00:01|--mac must be a unicast address",
        "echo " + BASE + " --listen 7 --mac 00:00:00:00:00:00|--mac must be a unicast address",
        "echo " + BASE + " --listen 7 --seconds -1|--seconds must be 0..",
        "echo " + BASE + " --listen 7 --mtu 100|--mtu must be 576..9000",
        "echo " + BASE + " --listen 7 --max-connections 0|--max-connections must be 1..16777216",
        "echo " + BASE + " --listen 7 --memory-budget 1m|--memory-budget must be at least 16m, got 1m",
        "echo " + BASE + " --listen 7 --memory-budget lots|--memory-budget wants a number, got 'LOTS'",
        "echo " + BASE + " --listen 7 --mss 10|--mss must be 88..",
        "echo " + BASE + " --listen 7 --msl-ms 0|--msl-ms must be 1..",
        "echo " + BASE + " --listen 7 --rto-min-ms 0|--rto-min-ms must be 1..",
        "echo " + BASE + " --listen 7 --rto-min-ms 500 --rto-initial-ms 100|--rto-initial-ms (100) must be >=",
        "echo " + BASE + " --listen 7 --delayed-ack-ms 500|--delayed-ack-ms must be 0..499",
        "echo " + BASE + " --listen 7 --keepalive-idle-s 0|--keepalive-idle-s must be 1..",
        "echo " + BASE + " --listen 7 --send-buffer 100000|--send-buffer must be a power of two",
        "echo " + BASE + " --listen 7 --receive-buffer 0|--receive-buffer must be 1..",
        "echo " + BASE + " --listen 7 --receive-buffer 64|TCP settings: receiveBufferBytes",
        "echo " + BASE + " --listen 7 --eal --vdev=net_null0|--eal must not name devices",
        "echo --dev '' --ip 10.0.0.2/24 --listen 7|--dev wants a DPDK device string",
    })
    void shouldRejectWithAOneLineMessage(final String line, final String expected)
    {
        assertMessage(expected, line.replace("''", ""));
    }

    private static void assertMessage(final String expected, final String line)
    {
        final String[] args = line.isEmpty() ? new String[0] :
            java.util.Arrays.stream(line.split(" ")).map(s -> s.equals("''") ? "" : s).toArray(String[]::new);
        final ConfigException ex = assertThrows(ConfigException.class, () -> SluiceConfig.parse(args), line);
        assertTrue(ex.getMessage().contains(expected), "'" + ex.getMessage() + "' should contain '" + expected + "'");
        assertFalse(ex.getMessage().contains("\n"), "one line: " + ex.getMessage());
    }
}
