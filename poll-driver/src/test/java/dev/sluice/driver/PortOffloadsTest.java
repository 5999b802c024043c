package dev.sluice.driver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;
import dev.sluice.nativebindings.dpdk.generated.RteMbuf;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    private static final int SOURCE = 0x0A000001;
    private static final int DESTINATION = 0x0A000002;

    // Ethernet + IPv4 + TCP with both checksums computed in software (MUST-2)
    private static UnsafeBuffer softwareFrame(final int payload)
    {
        final int tcpLength = TcpHeader.MIN_HEADER_LENGTH + payload;
        final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(14 + 20 + tcpLength));
        frame.putShort(12, (short)0x0800, ByteOrder.BIG_ENDIAN);
        frame.putByte(14, (byte)0x45);
        frame.putShort(14 + 2, (short)(20 + tcpLength), ByteOrder.BIG_ENDIAN);
        frame.putByte(14 + 8, (byte)64);
        frame.putByte(14 + 9, (byte)Ipv4Header.PROTOCOL_TCP);
        frame.putInt(14 + Ipv4Header.SOURCE_OFFSET, SOURCE, ByteOrder.BIG_ENDIAN);
        frame.putInt(14 + Ipv4Header.DESTINATION_OFFSET, DESTINATION, ByteOrder.BIG_ENDIAN);
        TcpHeader.write(frame, 34, 40_000, 80, 0x12345678, 0x9abcdef0, TcpHeader.MIN_HEADER_LENGTH,
            TcpHeader.ACK | TcpHeader.PSH, 65_535, 0);
        for (int i = 0; i < payload; i++)
        {
            frame.putByte(54 + i, (byte)(i * 31 + 7));
        }
        Ipv4Header.putChecksum(frame, 14, 20);
        TcpHeader.putChecksum(frame, 34, tcpLength, SOURCE, DESTINATION);
        return frame;
    }

    private static byte[] bytes(final UnsafeBuffer frame)
    {
        final byte[] bytes = new byte[frame.capacity()];
        frame.getBytes(0, bytes);
        return bytes;
    }

    @Test
    void shouldTreatARingAsAnInMemoryLinkWithPartialChecksums()
    {
        final PortInfo ring = new PortInfo(PortOffloads.IN_MEMORY_DRIVER, 1, 1, 0x2000, 0x8000, 0, 0, 0, 65535,
            Integer.MAX_VALUE);
        final PortOffloads o = PortOffloads.choose(ring, true);
        assertTrue(o.inMemory());
        assertEquals(FrameTransmitter.OFFLOAD_IPV4_CHECKSUM | FrameTransmitter.OFFLOAD_TCP_CHECKSUM,
            o.txChecksumOffloads());
        assertEquals(0, o.rxOffloads() | o.txOffloads()); // the PMD offers nothing: nothing configured on the port
        assertFalse(o.tso());
        assertTrue(o.describe().startsWith("checksums=partial"), o.describe());
        final PortOffloads off = PortOffloads.choose(ring, false);
        assertTrue(off.inMemory());
        assertEquals(0, off.txChecksumOffloads());
        assertTrue(off.describe().contains("-Dsluice.offloads=none"), off.describe());
        assertFalse(PortOffloads.choose(driver(0x2000, 0x8000), true).inMemory());
    }

    @Test
    void shouldRecognisePartialChecksumMarksOnlyWhenBothAreSet()
    {
        assertTrue(PortOffloads.hasPartialChecksums(RteMbuf.RTE_MBUF_F_TX_IPV4 | RteMbuf.RTE_MBUF_F_TX_IP_CKSUM |
            RteMbuf.RTE_MBUF_F_TX_TCP_CKSUM));
        assertFalse(PortOffloads.hasPartialChecksums(RteMbuf.RTE_MBUF_F_TX_IPV4 | RteMbuf.RTE_MBUF_F_TX_TCP_CKSUM));
        assertFalse(PortOffloads.hasPartialChecksums(RteMbuf.RTE_MBUF_F_RX_IP_CKSUM_GOOD |
            RteMbuf.RTE_MBUF_F_RX_L4_CKSUM_GOOD));
        assertFalse(PortOffloads.hasPartialChecksums(0));
    }

    @Test
    void shouldCompletePartialChecksumsBitForBitAsSoftware_MUST2_MUST3()
    {
        for (final int payload : new int[] {0, 1, 1447, 1448, 8960})
        {
            final UnsafeBuffer software = softwareFrame(payload);
            final UnsafeBuffer partial = softwareFrame(payload);
            final int tcpLength = TcpHeader.MIN_HEADER_LENGTH + payload;
            // what a sender with TX checksum offload writes: no IPv4 checksum, the pseudo-header sum in TCP's
            partial.putShort(14 + Ipv4Header.CHECKSUM_OFFSET, (short)0);
            TcpHeader.putPseudoHeaderChecksum(partial, 34, tcpLength, SOURCE, DESTINATION);
            assertFalse(TcpHeader.isChecksumValid(partial, 34, tcpLength, SOURCE, DESTINATION));
            PortOffloads.completePartialChecksums(partial, 0, partial.capacity());
            assertArrayEquals(bytes(software), bytes(partial), "payload " + payload);
            assertTrue(TcpHeader.isChecksumValid(partial, 34, tcpLength, SOURCE, DESTINATION));
        }
    }

    @Test
    void shouldLeaveFramesThatAreNotWholeIpv4TcpAlone()
    {
        final UnsafeBuffer truncated = softwareFrame(100);
        truncated.putShort(14 + Ipv4Header.CHECKSUM_OFFSET, (short)0);
        final byte[] before = bytes(truncated);
        PortOffloads.completePartialChecksums(truncated, 0, 14 + 20 + 20 + 99); // shorter than its total length
        assertArrayEquals(before, bytes(truncated));
        final UnsafeBuffer udp = softwareFrame(100);
        udp.putByte(14 + 9, (byte)17);
        udp.putShort(14 + Ipv4Header.CHECKSUM_OFFSET, (short)0);
        final byte[] udpBefore = bytes(udp);
        PortOffloads.completePartialChecksums(udp, 0, udp.capacity());
        assertArrayEquals(udpBefore, bytes(udp));
        final UnsafeBuffer arp = softwareFrame(0);
        arp.putShort(12, (short)0x0806, ByteOrder.BIG_ENDIAN);
        final byte[] arpBefore = bytes(arp);
        PortOffloads.completePartialChecksums(arp, 0, arp.capacity());
        assertArrayEquals(arpBefore, bytes(arp));
    }
}
