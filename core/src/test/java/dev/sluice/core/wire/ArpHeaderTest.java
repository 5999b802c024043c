package dev.sluice.core.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.wire.GoldenFrames.buffer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ArpHeaderTest
{
    private static final int ARP = EthernetHeader.HEADER_LENGTH;

    @Nested
    class GoldenBytes
    {
        @Test
        void shouldReadCapturedRequest()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ARP_REQUEST);
            assertEquals(EthernetHeader.ETHER_TYPE_ARP, EthernetHeader.etherType(frame, 0, 14));
            assertEquals(ArpHeader.LENGTH, ArpHeader.validate(frame, ARP, frame.capacity() - ARP));
            final ArpHeader arp = new ArpHeader().wrap(frame, ARP);
            assertEquals(ArpHeader.OPERATION_REQUEST, arp.operation());
            assertEquals(GoldenFrames.MAC_A, arp.senderMac());
            assertEquals(GoldenFrames.IP_A, arp.senderIp());
            assertEquals(0, arp.targetMac());
            assertEquals(GoldenFrames.IP_B, arp.targetIp());
        }

        @Test
        void shouldReadCapturedReply()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ARP_REPLY);
            assertEquals(ArpHeader.LENGTH, ArpHeader.validate(frame, ARP, 28));
            assertEquals(ArpHeader.OPERATION_REPLY, ArpHeader.operation(frame, ARP));
            assertEquals(GoldenFrames.MAC_B, ArpHeader.senderMac(frame, ARP));
            assertEquals(GoldenFrames.IP_B, ArpHeader.senderIp(frame, ARP));
            assertEquals(GoldenFrames.MAC_A, ArpHeader.targetMac(frame, ARP));
            assertEquals(GoldenFrames.IP_A, ArpHeader.targetIp(frame, ARP));
        }

        @Test
        void shouldEmitBytesIdenticalToCapturedReply()
        {
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[42]);
            EthernetHeader.write(frame, 0, GoldenFrames.MAC_A, GoldenFrames.MAC_B, EthernetHeader.ETHER_TYPE_ARP);
            ArpHeader.write(frame, ARP, ArpHeader.OPERATION_REPLY, GoldenFrames.MAC_B, GoldenFrames.IP_B,
                GoldenFrames.MAC_A, GoldenFrames.IP_A);
            assertArrayEquals(buffer(GoldenFrames.ARP_REPLY).byteArray(), frame.byteArray());
        }
    }

    @Nested
    class MalformedInput
    {
        @Test
        void shouldReportTruncatedAtEveryLengthBelow28()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ARP_REQUEST);
            for (int length = 0; length < ArpHeader.LENGTH; length++)
            {
                assertEquals(WireError.TRUNCATED, ArpHeader.validate(frame, ARP, length), "length " + length);
            }
        }

        @Test
        void shouldRejectEveryNonEthernetIpv4Field()
        {
            final int[][] corruptions = {{0, 1}, {1, 6}, {2, 0x86}, {3, 0xdd}, {4, 8}, {5, 16}, {7, 3}, {6, 1}};
            for (final int[] corruption : corruptions)
            {
                final UnsafeBuffer frame = buffer(GoldenFrames.ARP_REQUEST);
                frame.putByte(ARP + corruption[0], (byte)corruption[1]);
                assertEquals(WireError.UNSUPPORTED, ArpHeader.validate(frame, ARP, 28),
                    "byte " + corruption[0] + " = " + corruption[1]);
            }
        }
    }
}
