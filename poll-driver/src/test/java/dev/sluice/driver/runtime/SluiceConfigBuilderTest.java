package dev.sluice.driver.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import dev.sluice.core.wire.Addresses;
import org.junit.jupiter.api.Test;

/**
 * The embedding builder: the same defaults and the same validation as the flags (which parse into it).
 */
class SluiceConfigBuilderTest
{
    @Test
    void shouldHaveTheDefaultsOfTheFlags()
    {
        final SluiceConfig fromFlags = SluiceConfig.parse(
            "echo --dev net_tap0,iface=sl0 --ip 10.0.0.2/24 --listen 7".split(" "));
        final SluiceConfig built = SluiceConfig.builder().command(SluiceConfig.Command.ECHO)
            .device("net_tap0,iface=sl0").ip("10.0.0.2/24").listenPort(7).build();
        assertEquals(fromFlags, built);
    }

    @Test
    void shouldCarryEverySettingLikeTheFlags()
    {
        final SluiceConfig fromFlags = SluiceConfig.parse(("http --dev net_ring0 --ip 10.1.0.2/16 --listen 8080 " +
            "--gateway 10.1.0.1 --cores 2 --cpus 2,3 --idle backoff --mtu 9000 --max-connections 5000 --mss 8960 " +
            "--msl-ms 1000 --rto-min-ms 10 --rto-initial-ms 20 --delayed-ack-ms 0 --no-delay --keepalive " +
            "--keepalive-idle-s 60 --send-buffer 65536 --receive-buffer 32768 --seconds 3").split(" "));
        final SluiceConfig built = SluiceConfig.builder().command(SluiceConfig.Command.HTTP).device("net_ring0")
            .ip(Addresses.parseIpv4("10.1.0.2"), 16).listenPort(8080).gatewayIp(Addresses.parseIpv4("10.1.0.1"))
            .cores(2).cpus(List.of(2, 3)).idle(SluiceConfig.IdleMode.BACKOFF).mtu(9000).maxConnections(5000)
            .mssBytes(8960).mslMs(1000).rtoMinMs(10).rtoInitialMs(20).delayedAckMs(0).noDelay(true).keepAlive(true)
            .keepAliveIdleS(60).sendBufferBytes(65536).receiveBufferBytes(32768).seconds(3).build();
        assertEquals(fromFlags, built);
    }

    @Test
    void shouldNeedNoCommandOrPortWhenEmbedding()
    {
        final SluiceConfig config = SluiceConfig.builder().device("net_ring0").ip("10.0.0.2/24").build();
        assertEquals(0, config.listenPort());
        assertEquals(null, config.command());
    }

    @Test
    void shouldValidateNamingTheFlag()
    {
        assertMessage("missing --dev", SluiceConfig.builder().ip("10.0.0.2/24"));
        assertMessage("missing --ip", SluiceConfig.builder().device("net_ring0"));
        assertMessage("--mtu must be 576..9000", base().mtu(100));
        assertMessage("--listen must be 1..65535", base().listenPort(70_000));
        assertMessage("--cores must be 1..64", base().cores(0));
        assertMessage("--send-buffer must be a power of two", base().sendBufferBytes(100_000));
        assertMessage("--rto-initial-ms (100) must be >=", base().rtoMinMs(500).rtoInitialMs(100));
        assertMessage("--cpus names a CPU twice", base().cores(2).cpus(List.of(3, 3)));
        assertMessage("--eal must not name devices", base().ealArgs(List.of("--vdev=net_null0")));
        assertMessage("--mac must be a unicast address", base().mac(0x01_00_5e_00_00_01L));
    }

    @Test
    void shouldRequireAConfigToConclude()
    {
        final ConfigException ex = assertThrows(ConfigException.class, () -> new SluiceContext().conclude());
        assertTrue(ex.getMessage().contains("config is required"), ex.getMessage());
    }

    private static SluiceConfigBuilder base()
    {
        return SluiceConfig.builder().device("net_ring0").ip("10.0.0.2/24");
    }

    private static void assertMessage(final String expected, final SluiceConfigBuilder builder)
    {
        final ConfigException ex = assertThrows(ConfigException.class, builder::build);
        assertTrue(ex.getMessage().contains(expected), "'" + ex.getMessage() + "' should contain '" + expected + "'");
    }
}
