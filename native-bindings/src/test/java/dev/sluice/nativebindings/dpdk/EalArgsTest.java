package dev.sluice.nativebindings.dpdk;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EalArgsTest
{
    @Test
    void shouldFindNetVdevNamesInBothArgumentForms()
    {
        final List<String> args = List.of("--no-huge", "--vdev=net_tap0,iface=sl0", "--vdev", "net_ring1",
            "--vdev=crypto_null0", "-m", "512", "--vdev=net_memif0,role=server,socket=/tmp/x");
        assertEquals(List.of("net_tap0", "net_ring1", "net_memif0"), Eal.netVdevNames(args));
    }

    @Test
    void shouldFindNoVdevsWhenNoneAreGiven()
    {
        assertEquals(List.of(), Eal.netVdevNames(Eal.DEFAULT_ARGS));
    }
}
