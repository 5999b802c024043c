package dev.sluice.core.net;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static dev.sluice.core.wire.GoldenFrames.IP_A;
import static dev.sluice.core.wire.GoldenFrames.IP_B;
import static dev.sluice.core.wire.GoldenFrames.MAC_A;
import static dev.sluice.core.wire.GoldenFrames.MAC_B;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Receive coalescing: in-order data segments of one flow in one burst reach TCP as one segment, and nothing
 * that TCP must see on its own (a gap, FIN, PSH, URG, RST, SYN, an ACK or window change, other options, a
 * bad checksum, another flow) is ever merged or reordered.
 */
class ReceiveCoalescerTest
{
    private static final int MSS = 1460;

    /** What TCP was given: one entry per delivered segment. */
    private record Delivered(int seq, int ack, int flags, int window, int sourcePort, byte[] payload)
    {
    }

    private final List<Delivered> delivered = new ArrayList<>();
    private final NetCounters counters = new NetCounters();
    private final NetworkLayer network = new NetworkLayer(
        NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24).build(), new RecordingTransmitter(),
        new TransportHandler()
        {
            @Override
            public void onTcpSegment(
                final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
                final int sourceIp, final int destinationIp, final int tos, final long nowNs)
            {
                final byte[] payload = new byte[segmentLength - tcpHeaderLength];
                buffer.getBytes(tcpOffset + tcpHeaderLength, payload);
                delivered.add(new Delivered(TcpHeader.sequence(buffer, tcpOffset),
                    TcpHeader.acknowledgment(buffer, tcpOffset), TcpHeader.flags(buffer, tcpOffset),
                    TcpHeader.window(buffer, tcpOffset), TcpHeader.sourcePort(buffer, tcpOffset), payload));
            }

            @Override
            public void onIcmpError(
                final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
                final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
                final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
            {
            }
        }, counters);
    private final ReceiveCoalescer coalescer = new ReceiveCoalescer(network, counters, 64);

    /** A data segment from A:80 to B:40000, payload byte i = (seq + i) & 0xFF. */
    private static final class Seg
    {
        int seq;
        int length = MSS;
        int flags = TcpHeader.ACK;
        int ack = 5000;
        int window = 1000;
        int sourcePort = 80;
        byte[] options = new byte[0];
        boolean corrupt;

        Seg(final int seq)
        {
            this.seq = seq;
        }

        Seg length(final int value)
        {
            length = value;
            return this;
        }

        Seg flags(final int value)
        {
            flags = value;
            return this;
        }

        Seg ack(final int value)
        {
            ack = value;
            return this;
        }

        Seg window(final int value)
        {
            window = value;
            return this;
        }

        Seg port(final int value)
        {
            sourcePort = value;
            return this;
        }

        Seg options(final byte... value)
        {
            options = value;
            return this;
        }

        Seg corrupt()
        {
            corrupt = true;
            return this;
        }

        UnsafeBuffer frame()
        {
            final int tcpHeader = 20 + options.length;
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[Math.max(60, 34 + tcpHeader + length)]);
            EthernetHeader.write(frame, 0, MAC_B, MAC_A, EthernetHeader.ETHER_TYPE_IPV4);
            Ipv4Header.write(frame, 14, 0, 20 + tcpHeader + length, seq & 0xFFFF, Ipv4Header.FLAG_DONT_FRAGMENT, 64,
                Ipv4Header.PROTOCOL_TCP, IP_A, IP_B);
            TcpHeader.write(frame, 34, sourcePort, 40000, seq, ack, tcpHeader, flags, window, 0);
            frame.putBytes(54, options);
            for (int i = 0; i < length; i++)
            {
                frame.putByte(34 + tcpHeader + i, (byte)(seq + i));
            }
            TcpHeader.putChecksum(frame, 34, tcpHeader + length, IP_A, IP_B);
            if (corrupt)
            {
                frame.putByte(34 + tcpHeader, (byte)~frame.getByte(34 + tcpHeader));
            }
            return frame;
        }
    }

    private static Seg seg(final int seq)
    {
        return new Seg(seq);
    }

    private void burst(final Seg... segments)
    {
        // the frames stay alive until the flush, as the mbufs of a receive burst do
        final List<UnsafeBuffer> frames = new ArrayList<>();
        for (final Seg s : segments)
        {
            final UnsafeBuffer frame = s.frame();
            frames.add(frame);
            coalescer.onFrame(frame, 0, frame.capacity(), NetworkLayer.RX_CHECKSUM_UNKNOWN, 0);
        }
        coalescer.flush(0);
        assertEquals(0, coalescer.heldFrames());
        frames.clear();
    }

    private static byte[] pattern(final int seq, final int length)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < length; i++)
        {
            out.write((byte)(seq + i));
        }
        return out.toByteArray();
    }

    private void assertDelivered(final int... seqAndLength)
    {
        assertEquals(seqAndLength.length / 2, delivered.size(), delivered.toString());
        for (int i = 0; i < delivered.size(); i++)
        {
            assertEquals(seqAndLength[2 * i], delivered.get(i).seq(), "segment " + i + " sequence number");
            assertArrayEquals(pattern(seqAndLength[2 * i], seqAndLength[2 * i + 1]), delivered.get(i).payload(),
                "segment " + i + " payload");
        }
    }

    @Test
    void shouldDeliverInOrderSegmentsOfOneFlowAsOne()
    {
        burst(seg(1000), seg(1000 + MSS), seg(1000 + 2 * MSS), seg(1000 + 3 * MSS).length(100));
        assertDelivered(1000, 3 * MSS + 100);
        assertEquals(3, counters.get(NetCounterDescriptor.RX_SEGMENTS_COALESCED));
        assertEquals(1, counters.get(NetCounterDescriptor.RX_COALESCED_DELIVERED));
        assertEquals(0, counters.totalDrops());
    }

    @Test
    void shouldNeverMergeAcrossAGapOrARetransmission()
    {
        burst(seg(1000), seg(1000 + 2 * MSS), seg(1000 + 3 * MSS), seg(1000 + MSS));
        assertDelivered(1000, MSS, 1000 + 2 * MSS, 2 * MSS, 1000 + MSS, MSS);
    }

    @Test
    void shouldEndARunAfterAPshSegment()
    {
        burst(seg(1000), seg(1000 + MSS).flags(TcpHeader.ACK | TcpHeader.PSH), seg(1000 + 2 * MSS),
            seg(1000 + 3 * MSS));
        assertDelivered(1000, 2 * MSS, 1000 + 2 * MSS, 2 * MSS);
        assertEquals(TcpHeader.ACK | TcpHeader.PSH, delivered.get(0).flags(), "the PSH of the run's last segment");
        assertEquals(TcpHeader.ACK, delivered.get(1).flags());
    }

    @Test
    void shouldNeverMergeAFin()
    {
        burst(seg(1000), seg(1000 + MSS), seg(1000 + 2 * MSS).flags(TcpHeader.ACK | TcpHeader.FIN));
        assertDelivered(1000, 2 * MSS, 1000 + 2 * MSS, MSS);
        assertEquals(TcpHeader.ACK | TcpHeader.FIN, delivered.get(1).flags());
    }

    @Test
    void shouldNeverMergeUrgRstOrSyn()
    {
        burst(seg(1000), seg(1000 + MSS).flags(TcpHeader.ACK | TcpHeader.URG), seg(1000 + 2 * MSS),
            seg(1000 + 3 * MSS).flags(TcpHeader.ACK | TcpHeader.RST), seg(1000 + 4 * MSS),
            seg(1000 + 5 * MSS).flags(TcpHeader.ACK | TcpHeader.SYN));
        assertEquals(6, delivered.size(), "every segment alone: " + delivered);
        assertEquals(0, counters.get(NetCounterDescriptor.RX_SEGMENTS_COALESCED));
    }

    @Test
    void shouldKeepAnAcknowledgmentOrWindowChange()
    {
        burst(seg(1000), seg(1000 + MSS).ack(6000), seg(1000 + 2 * MSS).ack(6000),
            seg(1000 + 3 * MSS).ack(6000).window(2000));
        assertDelivered(1000, MSS, 1000 + MSS, 2 * MSS, 1000 + 3 * MSS, MSS);
        assertEquals(5000, delivered.get(0).ack());
        assertEquals(6000, delivered.get(1).ack());
        assertEquals(2000, delivered.get(2).window());
    }

    @Test
    void shouldNeverMergeSegmentsWithOtherOptions()
    {
        final byte[] timestampsA = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 9};
        final byte[] timestampsB = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 9};
        burst(seg(1000).options(timestampsA), seg(1000 + MSS).options(timestampsA), seg(1000 + 2 * MSS),
            seg(1000 + 3 * MSS).options(timestampsB));
        assertDelivered(1000, 2 * MSS, 1000 + 2 * MSS, MSS, 1000 + 3 * MSS, MSS);
    }

    @Test
    void shouldNeverMergeAcrossFlowsNorReorderThem()
    {
        burst(seg(1000), seg(1000 + MSS), seg(7000).port(81), seg(1000 + 2 * MSS));
        assertDelivered(1000, 2 * MSS, 7000, MSS, 1000 + 2 * MSS, MSS);
        assertEquals(81, delivered.get(1).sourcePort());
    }

    @Test
    void shouldPassABadChecksumAloneToBeDroppedAndCounted_MUST3()
    {
        burst(seg(1000), seg(1000 + MSS).corrupt(), seg(1000 + 2 * MSS));
        assertDelivered(1000, MSS, 1000 + 2 * MSS, MSS);
        assertEquals(1, counters.get(NetCounterDescriptor.TCP_BAD_CHECKSUM));
    }

    @Test
    void shouldDeliverPureAcksAlone()
    {
        burst(seg(1000).length(0), seg(1000).length(0).ack(7000), seg(1000), seg(1000 + MSS));
        assertEquals(3, delivered.size());
        assertDelivered(1000, 0, 1000, 0, 1000, 2 * MSS);
    }

    @Test
    void shouldStartANewSegmentAt64KiB()
    {
        final Seg[] run = new Seg[50];
        for (int i = 0; i < run.length; i++)
        {
            run[i] = seg(1000 + i * MSS);
        }
        burst(run);
        final int first = ReceiveCoalescer.MAX_MERGED_PAYLOAD / MSS;
        assertDelivered(1000, first * MSS, 1000 + first * MSS, (50 - first) * MSS);
    }

    @Test
    void shouldForgetHeldFramesOfAnAbandonedBurst()
    {
        final UnsafeBuffer a = seg(1000).frame();
        final UnsafeBuffer b = seg(1000 + MSS).frame();
        coalescer.onFrame(a, 0, a.capacity(), NetworkLayer.RX_CHECKSUM_UNKNOWN, 0);
        coalescer.onFrame(b, 0, b.capacity(), NetworkLayer.RX_CHECKSUM_UNKNOWN, 0);
        assertEquals(2, coalescer.discard());
        coalescer.flush(0);
        assertEquals(0, delivered.size(), "nothing of the abandoned burst reaches TCP");
        burst(seg(1000 + 2 * MSS));
        assertDelivered(1000 + 2 * MSS, MSS);
    }

    @Test
    void shouldLeaveFramesOutsideARunUntouched()
    {
        burst(seg(1000));
        assertDelivered(1000, MSS);
        assertEquals(0, counters.get(NetCounterDescriptor.RX_SEGMENTS_COALESCED));
        assertEquals(0, counters.get(NetCounterDescriptor.RX_COALESCED_DELIVERED));
    }
}
