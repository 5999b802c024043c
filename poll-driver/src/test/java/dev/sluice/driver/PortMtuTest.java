package dev.sluice.driver;

import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.PortInfo;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Jumbo frames: which MTU a port is configured with, and mbufs that hold a whole frame. */
class PortMtuTest
{
    private static PortInfo driver(final int maxMtu, final int maxRxPktLen)
    {
        return new PortInfo("net_test", 1, 1, 0, 0, 0, 0, 0, maxMtu, maxRxPktLen);
    }

    @Test
    void shouldConfigureAJumboMtuWhereTheDriverTakesIt()
    {
        assertEquals(9000, PortMtu.configurable(driver(65535, Integer.MAX_VALUE), 9000)); // net_ring
        assertEquals("9000", PortMtu.describe(driver(65535, Integer.MAX_VALUE), 9000, 9000));
    }

    @Test
    void shouldLeaveTheDefaultWhereTheDriverWouldRefuseIt()
    {
        final PortInfo memif = driver(65535, 1518); // net_memif 22.11
        assertEquals(0, PortMtu.configurable(memif, 9000));
        assertTrue(PortMtu.describe(memif, 9000, 0).contains("max frame 1518"));
        assertEquals(0, PortMtu.configurable(driver(1500, Integer.MAX_VALUE), 9000), "max_mtu 1500");
    }

    @Test
    void shouldKeepDpdksDefaultAt1500()
    {
        assertEquals(0, PortMtu.configurable(driver(65535, Integer.MAX_VALUE), 1500));
        assertEquals("1500", PortMtu.describe(driver(65535, 1518), 1500, 0));
    }

    @Test
    void mbufsShouldHoldAWholeFrameOfTheMtu()
    {
        assertEquals(MbufPool.DEFAULT_DATA_ROOM, MbufPool.dataRoomFor(1500));
        assertEquals(MbufPool.DEFAULT_DATA_ROOM, MbufPool.dataRoomFor(576));
        final int jumbo = MbufPool.dataRoomFor(9000);
        assertTrue(jumbo - MbufPool.HEADROOM >= 9000 + 18, "Ethernet header, a VLAN tag and 9000 bytes fit");
        assertEquals(0, jumbo % 128);
        assertEquals(9216, jumbo);
    }
}
