package dev.sluice.driver;

import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;
import dev.sluice.nativebindings.dpdk.generated.RteMbuf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which checksum offloads a port gets, and how an mbuf's receive flags reach the network layer. */
class PortOffloadsTest
{
    private static final long TAP_RX = 0x200e; // what net_tap 22.11 reports: IPv4, UDP, TCP checksum, scatter
    private static final long TAP_TX = 0x802e;

    private static PortInfo driver(final long rx, final long tx)
    {
        return new PortInfo("net_test", 1, 1, rx, tx, 0, 0, 0, 65535, Integer.MAX_VALUE);
    }

    @Test
    void shouldUseTheChecksumOffloadsThePmdOffers()
    {
        final PortOffloads o = PortOffloads.choose(driver(TAP_RX, TAP_TX), true);
        assertEquals(FrameTransmitter.OFFLOAD_IPV4_CHECKSUM | FrameTransmitter.OFFLOAD_TCP_CHECKSUM,
            o.txChecksumOffloads());
        assertTrue(o.rxChecksumOffload());
        assertTrue(o.describe().startsWith("rx-checksum=device tx-checksum=device tso=device"), o.describe());
        assertTrue(o.tso());
        assertEquals(RteEthdev.RTE_ETH_TX_OFFLOAD_TCP_TSO, o.txOffloads() & RteEthdev.RTE_ETH_TX_OFFLOAD_TCP_TSO);
    }

    @Test
    void shouldLeaveTsoAloneWhenOnlyChecksumsAreWantedOrNoChecksumOffload()
    {
        final PortOffloads checksumOnly = PortOffloads.choose(driver(TAP_RX, TAP_TX), true, false);
        assertFalse(checksumOnly.tso());
        assertEquals(0, checksumOnly.txOffloads() & RteEthdev.RTE_ETH_TX_OFFLOAD_TCP_TSO);
        assertTrue(checksumOnly.describe().contains("tso=offered, not used"), checksumOnly.describe());
        // TSO implies TCP checksum offload: a PMD offering TSO without it gets neither
        final PortOffloads noChecksum = PortOffloads.choose(driver(TAP_RX, RteEthdev.RTE_ETH_TX_OFFLOAD_TCP_TSO), true);
        assertFalse(noChecksum.tso());
        assertEquals(0, noChecksum.txOffloads());
    }

    @Test
    void shouldKeepSoftwareWhenNotOfferedOrNotWanted()
    {
        final PortOffloads ring = PortOffloads.choose(driver(0x2000, 0x8000), true); // net_ring
        assertEquals(0, ring.txChecksumOffloads());
        assertFalse(ring.rxChecksumOffload());
        assertEquals(0, ring.rxOffloads() | ring.txOffloads());
        final PortOffloads off = PortOffloads.choose(driver(TAP_RX, TAP_TX), false);
        assertEquals(0, off.txChecksumOffloads());
        assertFalse(off.rxChecksumOffload());
        assertTrue(off.describe().contains("-Dsluice.offloads=none"), off.describe());
    }

    @Test
    void shouldMapReceiveFlags()
    {
        assertEquals(NetworkLayer.RX_CHECKSUM_UNKNOWN, PortOffloads.rxChecksumStatus(0));
        assertEquals(NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_GOOD,
            PortOffloads.rxChecksumStatus(RteMbuf.RTE_MBUF_F_RX_IP_CKSUM_GOOD | RteMbuf.RTE_MBUF_F_RX_L4_CKSUM_GOOD));
        assertEquals(NetworkLayer.RX_IPV4_CHECKSUM_BAD | NetworkLayer.RX_L4_CHECKSUM_BAD,
            PortOffloads.rxChecksumStatus(RteMbuf.RTE_MBUF_F_RX_IP_CKSUM_BAD | RteMbuf.RTE_MBUF_F_RX_L4_CKSUM_BAD));
        // NONE: the field is not right but the data was verified: trusted like GOOD
        assertEquals(NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_GOOD,
            PortOffloads.rxChecksumStatus(RteMbuf.RTE_MBUF_F_RX_IP_CKSUM_NONE | RteMbuf.RTE_MBUF_F_RX_L4_CKSUM_NONE));
        assertEquals(NetworkLayer.RX_IPV4_CHECKSUM_GOOD,
            PortOffloads.rxChecksumStatus(RteMbuf.RTE_MBUF_F_RX_IP_CKSUM_GOOD | RteMbuf.RTE_MBUF_F_RX_RSS_HASH));
    }
}
