package dev.sluice.core.net;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.wire.Checksum;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.GoldenFrames;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.sluice.core.wire.GoldenFrames.IP_A;
import static dev.sluice.core.wire.GoldenFrames.IP_B;
import static dev.sluice.core.wire.GoldenFrames.MAC_A;
import static dev.sluice.core.wire.GoldenFrames.MAC_B;
import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checksum offload in the network layer: frames built for a device that completes the checksums are, once a
 * device has completed them as DPDK specifies, bit for bit the frames of the software path (MUST-2); the
 * receive side trusts only what the device vouches for and verifies the rest (MUST-3).
 */
class ChecksumOffloadTest
{
    private static final int IP = 14;
    private static final int L4 = 34;

    /**
     * A device with TX checksum offload, emulated as DPDK specifies it: with IP_CKSUM it computes the IPv4
     * header checksum over a zero field; with TCP_CKSUM it sums the segment, whose checksum field holds the
     * pseudo-header sum, and stores the complement. Keeps the completed frames and what each asked for.
     */
    static final class OffloadingDevice implements FrameTransmitter
    {
        final List<byte[]> sent = new ArrayList<>();
        final List<Integer> requested = new ArrayList<>();
        private final int offered;
        private UnsafeBuffer claimed;

        OffloadingDevice(final int offered)
        {
            this.offered = offered;
        }

        @Override
        public MutableDirectBuffer claim(final int maxLength)
        {
            claimed = new UnsafeBuffer(new byte[maxLength]);
            claimed.setMemory(0, maxLength, (byte)0xEE); // a recycled mbuf's garbage
            return claimed;
        }

        @Override
        public void commit(final int length)
        {
            requested.add(0);
            sent.add(Arrays.copyOf(claimed.byteArray(), length));
        }

        @Override
        public void commit(final int length, final int offloads)
        {
            assertEquals(0, offloads & ~offered, "asked for an offload the device does not offer");
            if ((offloads & OFFLOAD_IPV4_CHECKSUM) != 0)
            {
                assertEquals(0, claimed.getShort(IP + 10), "IPv4 checksum field must be 0 for the device");
                claimed.putShort(IP + 10, (short)Checksum.compute(claimed, IP, 20), BIG_ENDIAN);
            }
            if ((offloads & OFFLOAD_TCP_CHECKSUM) != 0)
            {
                final int l4Length = Ipv4Header.totalLength(claimed, IP) - 20;
                claimed.putShort(L4 + 16, (short)Checksum.compute(claimed, L4, l4Length), BIG_ENDIAN);
            }
            requested.add(offloads);
            sent.add(Arrays.copyOf(claimed.byteArray(), length));
        }

        @Override
        public void abort()
        {
            claimed = null;
        }

        @Override
        public int checksumOffloads()
        {
            return offered;
        }
    }

    private static final int BOTH = FrameTransmitter.OFFLOAD_IPV4_CHECKSUM | FrameTransmitter.OFFLOAD_TCP_CHECKSUM;

    private final RecordingTransport transport = new RecordingTransport();
    private final NetCounters counters = new NetCounters();

    private NetworkLayer layer(final FrameTransmitter device)
    {
        return new NetworkLayer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24).build(), device, transport,
            counters);
    }

    private static void learnPeer(final NetworkLayer layer)
    {
        layer.onFrame(GoldenFrames.buffer(GoldenFrames.ARP_REQUEST), 0,
            GoldenFrames.buffer(GoldenFrames.ARP_REQUEST).capacity(), 0);
    }

    private static void sendSegment(final NetworkLayer layer, final int payloadLength, final int seed)
    {
        final int segmentLength = 20 + payloadLength;
        final int offset = layer.beginIpv4(IP_A, Ipv4Header.PROTOCOL_TCP, 0, segmentLength);
        final MutableDirectBuffer frame = layer.txBuffer();
        TcpHeader.write(frame, offset, 40000 + seed, 80, 0x1234_5678 * seed, 0x0bad_f00d + seed, 20,
            TcpHeader.ACK | (payloadLength % 2 == 0 ? TcpHeader.PSH : 0), 65535 - seed, 0);
        for (int i = 0; i < payloadLength; i++)
        {
            frame.putByte(offset + 20 + i, (byte)(i * 31 + seed));
        }
        assertEquals(NetworkLayer.SENT, layer.commitTcp(segmentLength, seed));
    }

    @Nested
    class Transmit
    {
        @Test
        void shouldProduceTheSoftwareFramesBitForBitWhenTheDeviceCompletesTheChecksums_MUST2()
        {
            final OffloadingDevice software = new OffloadingDevice(0);
            final OffloadingDevice offload = new OffloadingDevice(BOTH);
            final NetworkLayer a = layer(software);
            final NetworkLayer b = layer(offload);
            learnPeer(a);
            learnPeer(b);
            final int[] lengths = {0, 1, 2, 3, 25, 26, 511, 1023, 1459, 1460};
            for (int i = 0; i < lengths.length; i++)
            {
                sendSegment(a, lengths[i], i + 1);
                sendSegment(b, lengths[i], i + 1);
            }
            assertEquals(software.sent.size(), offload.sent.size());
            for (int i = 1; i < software.sent.size(); i++) // frame 0: the ARP reply
            {
                assertEquals(0, software.requested.get(i));
                assertEquals(BOTH, offload.requested.get(i), "segment " + i + " asks the device for both checksums");
                assertArrayEquals(software.sent.get(i), offload.sent.get(i), "segment " + i);
                final UnsafeBuffer frame = new UnsafeBuffer(offload.sent.get(i));
                final int tcpLength = Ipv4Header.totalLength(frame, IP) - 20;
                assertEquals(20, Ipv4Header.validate(frame, IP, frame.capacity() - IP, true));
                assertTrue(TcpHeader.isChecksumValid(frame, L4, tcpLength, IP_B, IP_A));
            }
        }

        @Test
        void shouldOffloadOnlyTheIpv4ChecksumWhenTheDeviceOffersOnlyThat()
        {
            final OffloadingDevice device = new OffloadingDevice(FrameTransmitter.OFFLOAD_IPV4_CHECKSUM);
            final NetworkLayer layer = layer(device);
            learnPeer(layer);
            sendSegment(layer, 7, 3);
            final UnsafeBuffer frame = new UnsafeBuffer(device.sent.get(1));
            assertEquals(FrameTransmitter.OFFLOAD_IPV4_CHECKSUM, device.requested.get(1));
            assertTrue(TcpHeader.isChecksumValid(frame, L4, 27, IP_B, IP_A));
            assertEquals(20, Ipv4Header.validate(frame, IP, frame.capacity() - IP, true));
        }

        @Test
        void shouldChecksumInSoftwareAFrameThatWaitsForArp()
        {
            final OffloadingDevice device = new OffloadingDevice(BOTH);
            final NetworkLayer layer = layer(device);
            final int offset = layer.beginIpv4(IP_A, Ipv4Header.PROTOCOL_TCP, 0, 25);
            TcpHeader.write(layer.txBuffer(), offset, 40000, 80, 1, 2, 20, TcpHeader.ACK, 1000, 0);
            layer.txBuffer().setMemory(offset + 20, 5, (byte)7);
            assertEquals(NetworkLayer.QUEUED, layer.commitTcp(25, 0));
            learnPeer(layer); // the answer releases the queued frame through the plain commit
            int index = -1;
            for (int i = 0; i < device.sent.size(); i++)
            {
                if (EthernetHeader.etherType(new UnsafeBuffer(device.sent.get(i)), 0, 14) ==
                    EthernetHeader.ETHER_TYPE_IPV4)
                {
                    index = i;
                }
            }
            assertTrue(index >= 0, "the queued segment was sent");
            final UnsafeBuffer frame = new UnsafeBuffer(device.sent.get(index));
            assertEquals(0, device.requested.get(index));
            assertEquals(20, Ipv4Header.validate(frame, IP, frame.capacity() - IP, true));
            assertTrue(TcpHeader.isChecksumValid(frame, L4, 25, IP_B, IP_A));
        }
    }

    @Nested
    class Receive
    {
        private final NetworkLayer layer = layer(new OffloadingDevice(0));

        /** A TCP segment from A to B with a correct checksum, or one with a corrupted checksum. */
        private UnsafeBuffer segment(final boolean goodTcpChecksum, final boolean goodIpChecksum)
        {
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[14 + 20 + 20 + 10]);
            EthernetHeader.write(frame, 0, MAC_B, MAC_A, EthernetHeader.ETHER_TYPE_IPV4);
            Ipv4Header.write(frame, IP, 0, 50, 1, Ipv4Header.FLAG_DONT_FRAGMENT, 64, Ipv4Header.PROTOCOL_TCP, IP_A,
                IP_B);
            TcpHeader.write(frame, L4, 80, 40000, 100, 200, 20, TcpHeader.ACK, 1000, 0);
            frame.setMemory(L4 + 20, 10, (byte)'x');
            TcpHeader.putChecksum(frame, L4, 30, IP_A, IP_B);
            if (!goodTcpChecksum)
            {
                frame.putShort(L4 + 16, (short)(frame.getShort(L4 + 16) ^ 0x0101));
            }
            if (!goodIpChecksum)
            {
                frame.putShort(IP + 10, (short)(frame.getShort(IP + 10) ^ 0x0101));
            }
            return frame;
        }

        private void receive(final UnsafeBuffer frame, final int status)
        {
            layer.onFrame(frame, 0, frame.capacity(), status, 0);
        }

        @Test
        void shouldDeliverWithoutVerifyingWhatTheDeviceVouchesFor()
        {
            // a corrupted checksum flagged GOOD is delivered: proof that software verification was skipped
            receive(segment(false, false), NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_GOOD);
            assertEquals(1, transport.segments.size());
            assertEquals(0, counters.totalDrops());
        }

        @Test
        void shouldVerifyInSoftwareWhenTheDeviceSaysNothing_MUST3()
        {
            receive(segment(false, true), NetworkLayer.RX_CHECKSUM_UNKNOWN);
            assertEquals(1, counters.get(NetCounterDescriptor.TCP_BAD_CHECKSUM));
            receive(segment(true, false), NetworkLayer.RX_CHECKSUM_UNKNOWN);
            assertEquals(1, counters.get(NetCounterDescriptor.IPV4_BAD_CHECKSUM));
            receive(segment(true, true), NetworkLayer.RX_CHECKSUM_UNKNOWN);
            assertEquals(1, transport.segments.size());
            assertEquals(2, counters.totalDrops());
        }

        @Test
        void shouldVerifyTheTcpChecksumWhenTheDeviceVouchesOnlyForTheIpv4Header_MUST3()
        {
            receive(segment(false, true), NetworkLayer.RX_IPV4_CHECKSUM_GOOD);
            assertEquals(1, counters.get(NetCounterDescriptor.TCP_BAD_CHECKSUM));
            assertTrue(transport.segments.isEmpty());
        }

        @Test
        void shouldDropAndCountWhatTheDeviceFoundBad()
        {
            receive(segment(true, true), NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_BAD);
            assertEquals(1, counters.get(NetCounterDescriptor.TCP_BAD_CHECKSUM));
            receive(segment(true, true), NetworkLayer.RX_IPV4_CHECKSUM_BAD);
            assertEquals(1, counters.get(NetCounterDescriptor.IPV4_BAD_CHECKSUM));
            assertEquals(2, counters.totalDrops());
            assertTrue(transport.segments.isEmpty());
        }
    }
}
