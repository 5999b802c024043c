package dev.sluice.core.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.wire.GoldenFrames.buffer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class EthernetHeaderTest
{
    @Nested
    class GoldenBytes
    {
        @Test
        void shouldReadCapturedUntaggedHeader()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            assertEquals(14, EthernetHeader.validate(frame, 0, frame.capacity()));
            final EthernetHeader header = new EthernetHeader().wrap(frame, 0, 14);
            assertEquals(GoldenFrames.MAC_B, header.destination());
            assertEquals(GoldenFrames.MAC_A, header.source());
            assertEquals(EthernetHeader.ETHER_TYPE_IPV4, header.etherType());
            assertEquals(-1, header.vlanId());
            assertEquals("e2:eb:ac:1b:bb:9e", Addresses.macToString(header.destination()));
        }

        @Test
        void shouldSkipOne8021QTag()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.VLAN_TCP_SYN);
            assertEquals(18, EthernetHeader.validate(frame, 0, frame.capacity()));
            final EthernetHeader header = new EthernetHeader().wrap(frame, 0, 18);
            assertEquals(EthernetHeader.ETHER_TYPE_IPV4, header.etherType());
            assertEquals(100, header.vlanId());
            assertEquals(0, Ipv4Header.validate(frame, 18, frame.capacity() - 18) - 20);
        }

        @Test
        void shouldReadIpv6EtherTypeWithoutInterpretingIt()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.IPV6_ROUTER_SOLICITATION);
            assertEquals(EthernetHeader.ETHER_TYPE_IPV6, EthernetHeader.etherType(frame, 0,
                EthernetHeader.validate(frame, 0, frame.capacity())));
        }
    }

    @Nested
    class MalformedInput
    {
        @Test
        void shouldReportTruncatedAtEveryLengthBelowHeader()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            for (int length = 0; length < 14; length++)
            {
                assertEquals(WireError.TRUNCATED, EthernetHeader.validate(frame, 0, length), "length " + length);
            }
        }

        @Test
        void shouldReportTruncatedWhenTagIsCut()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.VLAN_TCP_SYN);
            for (int length = 14; length < 18; length++)
            {
                assertEquals(WireError.TRUNCATED, EthernetHeader.validate(frame, 0, length), "length " + length);
            }
        }

        @Test
        void shouldAcceptQinQButRejectThreeTags()
        {
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[64]);
            EthernetHeader.write(frame, 0, 1, 2, EthernetHeader.ETHER_TYPE_QINQ);
            frame.putShort(16, (short)EthernetHeader.ETHER_TYPE_VLAN, java.nio.ByteOrder.BIG_ENDIAN);
            frame.putShort(20, (short)EthernetHeader.ETHER_TYPE_ARP, java.nio.ByteOrder.BIG_ENDIAN);
            assertEquals(22, EthernetHeader.validate(frame, 0, 64));
            assertEquals(EthernetHeader.ETHER_TYPE_ARP, EthernetHeader.etherType(frame, 0, 22));
            frame.putShort(20, (short)EthernetHeader.ETHER_TYPE_VLAN, java.nio.ByteOrder.BIG_ENDIAN);
            assertEquals(WireError.TOO_MANY_VLAN_TAGS, EthernetHeader.validate(frame, 0, 64));
        }
    }

    @Test
    void shouldRoundTripEmittedHeaderToCapturedBytes()
    {
        final UnsafeBuffer expected = buffer(GoldenFrames.TCP_SYN);
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[14]);
        assertEquals(14, EthernetHeader.write(frame, 0, GoldenFrames.MAC_B, GoldenFrames.MAC_A, 0x0800));
        final byte[] bytes = new byte[14];
        expected.getBytes(0, bytes);
        assertArrayEquals(bytes, frame.byteArray());
    }

    @Test
    void shouldParseAndFormatAddresses()
    {
        assertEquals(GoldenFrames.MAC_A, Addresses.parseMac("d2:6c:30:21:06:51"));
        assertEquals(GoldenFrames.IP_B, Addresses.parseIpv4("10.77.0.2"));
        assertEquals("10.77.0.2", Addresses.ipv4ToString(GoldenFrames.IP_B));
        assertEquals("255.255.255.255", Addresses.ipv4ToString(Addresses.IPV4_LIMITED_BROADCAST));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> Addresses.parseIpv4("10.0.0.256"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> Addresses.parseMac("d2:6c:30:21:06"));
    }
}
