package dev.sluice.driver;

import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where zero-copy transmit is used: PMDs that read frames through the CPU and take chains; never a device that
 * reads by DMA (send-buffer memory is not DMA-mapped), never memif in its own zero-copy mode.
 */
class ZeroCopyTransmitChoiceTest
{
    private static final long MULTI_SEGS = RteEthdev.RTE_ETH_TX_OFFLOAD_MULTI_SEGS;

    private static PortInfo driver(final String name, final long tx)
    {
        return new PortInfo(name, 1, 1, 0, tx, 0, 0, 0, 65535, Integer.MAX_VALUE);
    }

    @Test
    void shouldReferencePayloadsOnCpuReadingPmdsThatTakeChains()
    {
        assertNull(ZeroCopyTransmit.unsupportedReason(driver(PortOffloads.IN_MEMORY_DRIVER, 0)));
        assertNull(ZeroCopyTransmit.unsupportedReason(driver("net_memif", MULTI_SEGS), "net_memif0,role=client"));
        assertNull(ZeroCopyTransmit.unsupportedReason(driver("net_tap", MULTI_SEGS)));
        assertNull(ZeroCopyTransmit.unsupportedReason(driver("net_af_packet", MULTI_SEGS)));
        assertEquals(MULTI_SEGS, ZeroCopyTransmit.txOffloads(driver("net_tap", MULTI_SEGS)));
    }

    @Test
    void shouldCopyForDmaDevicesPmdsWithoutChainsAndMemifZeroCopy()
    {
        assertTrue(ZeroCopyTransmit.unsupportedReason(driver("net_ice", MULTI_SEGS)).contains("DMA"));
        assertNotNull(ZeroCopyTransmit.unsupportedReason(driver("net_tap", 0)));
        assertTrue(ZeroCopyTransmit.unsupportedReason(driver("net_memif", MULTI_SEGS),
            "net_memif0,role=client,zero-copy=yes").contains("zero-copy=yes"));
        assertNotNull(ZeroCopyTransmit.unsupportedReason(driver("net_memif", MULTI_SEGS),
            "--vdev=net_memif0,zero-copy=yes,socket=/tmp/m.sock,--in-memory"));
    }

    @Test
    void shouldReadTheSwitch()
    {
        final String before = System.getProperty(ZeroCopyTransmit.PROPERTY);
        try
        {
            System.clearProperty(ZeroCopyTransmit.PROPERTY);
            assertEquals(false, ZeroCopyTransmit.requestedByProperty(), "off by default (copying measured faster)");
            System.setProperty(ZeroCopyTransmit.PROPERTY, "true");
            assertTrue(ZeroCopyTransmit.requestedByProperty());
            System.setProperty(ZeroCopyTransmit.PROPERTY, "maybe");
            assertThrows(IllegalArgumentException.class, ZeroCopyTransmit::requestedByProperty);
        }
        finally
        {
            if (before == null)
            {
                System.clearProperty(ZeroCopyTransmit.PROPERTY);
            }
            else
            {
                System.setProperty(ZeroCopyTransmit.PROPERTY, before);
            }
        }
    }
}
