package dev.sluice.core.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static dev.sluice.core.wire.GoldenFrames.buffer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv4HeaderTest
{
    private static final int IP = EthernetHeader.HEADER_LENGTH;

    @Nested
    class GoldenBytes
    {
        @Test
        void shouldReadCapturedSynHeader()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            assertEquals(20, Ipv4Header.validate(frame, IP, frame.capacity() - IP));
            final Ipv4Header ip = new Ipv4Header().wrap(frame, IP);
            assertEquals(20, ip.headerLength());
            assertEquals(0, ip.tos());
            assertEquals(60, ip.totalLength());
            assertEquals(0x233b, ip.identification());
            assertEquals(Ipv4Header.FLAG_DONT_FRAGMENT, ip.flagsAndFragmentOffset());
            assertFalse(Ipv4Header.isFragment(frame, IP));
            assertEquals(64, ip.ttl());
            assertEquals(Ipv4Header.PROTOCOL_TCP, ip.protocol());
            assertEquals(0x02e5, ip.checksum());
            assertEquals(GoldenFrames.IP_A, ip.source());
            assertEquals(GoldenFrames.IP_B, ip.destination());
        }

        @Test
        void shouldReadCapturedTosOfIcmpError()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_PORT_UNREACHABLE_UDP);
            assertEquals(20, Ipv4Header.validate(frame, IP, frame.capacity() - IP));
            assertEquals(0xc0, Ipv4Header.tos(frame, IP));
            assertEquals(Ipv4Header.PROTOCOL_ICMP, Ipv4Header.protocol(frame, IP));
        }

        @Test
        void shouldEmitBytesIdenticalToCapturedHeader()
        {
            final UnsafeBuffer expected = buffer(GoldenFrames.TCP_SYN);
            final UnsafeBuffer out = new UnsafeBuffer(new byte[20]);
            Ipv4Header.write(out, 0, 0, 60, 0x233b, Ipv4Header.FLAG_DONT_FRAGMENT, 64, Ipv4Header.PROTOCOL_TCP,
                GoldenFrames.IP_A, GoldenFrames.IP_B);
            final byte[] bytes = new byte[20];
            expected.getBytes(IP, bytes);
            assertArrayEquals(bytes, out.byteArray());
        }

        @Test
        void shouldIgnoreLinkPaddingAfterTotalLength()
        {
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[60]);
            frame.putBytes(0, buffer(GoldenFrames.TCP_RST), 0, 54);
            assertEquals(20, Ipv4Header.validate(frame, IP, 60 - IP));
            assertEquals(40, Ipv4Header.totalLength(frame, IP));
        }
    }

    @Nested
    class MalformedInput
    {
        @Test
        void shouldReportTruncatedAtEveryLengthBelowTotalLength()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            for (int length = 0; length < 60; length++)
            {
                assertEquals(WireError.TRUNCATED, Ipv4Header.validate(frame, IP, length), "length " + length);
            }
            assertEquals(20, Ipv4Header.validate(frame, IP, 60));
        }

        @Test
        void shouldRejectVersionOtherThan4()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putByte(IP, (byte)0x65);
            assertEquals(WireError.BAD_VERSION, Ipv4Header.validate(frame, IP, 60));
        }

        @Test
        void shouldRejectIhlBelow5()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            for (int ihl = 0; ihl < 5; ihl++)
            {
                frame.putByte(IP, (byte)(0x40 | ihl));
                assertEquals(WireError.BAD_HEADER_LENGTH, Ipv4Header.validate(frame, IP, 60), "ihl " + ihl);
            }
        }

        @Test
        void shouldRejectTotalLengthBelowHeaderLength()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putShort(IP + 2, (short)19, ByteOrder.BIG_ENDIAN);
            Ipv4Header.putChecksum(frame, IP, 20);
            assertEquals(WireError.BAD_TOTAL_LENGTH, Ipv4Header.validate(frame, IP, 60));
        }

        @Test
        void shouldRejectHeaderLongerThanAvailableBytes()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putByte(IP, (byte)0x4f);
            assertEquals(WireError.TRUNCATED, Ipv4Header.validate(frame, IP, 59));
        }

        @Test
        void shouldRejectEverySingleBitFlipAsBadChecksumOrOtherError()
        {
            final UnsafeBuffer original = buffer(GoldenFrames.TCP_SYN);
            for (int bit = 0; bit < 160; bit++)
            {
                final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
                frame.putByte(IP + bit / 8, (byte)(original.getByte(IP + bit / 8) ^ (1 << (bit % 8))));
                assertTrue(Ipv4Header.validate(frame, IP, 60) < 0, "bit " + bit);
            }
        }

        @Test
        void shouldSkipChecksumWhenNicVerifiedIt()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putShort(IP + Ipv4Header.CHECKSUM_OFFSET, (short)0x1234);
            assertEquals(WireError.BAD_CHECKSUM, Ipv4Header.validate(frame, IP, 60));
            assertEquals(20, Ipv4Header.validate(frame, IP, 60, false));
        }
    }

    @Test
    void shouldAcceptAndSkipOptions_MUST50()
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[64]);
        Ipv4Header.write(frame, 0, 0, 44, 1, 0, 64, 6, GoldenFrames.IP_A, GoldenFrames.IP_B);
        frame.putByte(0, (byte)0x46);
        frame.putInt(20, 0x94040000, ByteOrder.BIG_ENDIAN); // router alert, an option we do not interpret
        Ipv4Header.putChecksum(frame, 0, 24);
        assertEquals(24, Ipv4Header.validate(frame, 0, 64));
    }

    @Test
    void shouldDetectEveryFragmentShape()
    {
        final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
        frame.putShort(IP + 6, (short)Ipv4Header.FLAG_MORE_FRAGMENTS, ByteOrder.BIG_ENDIAN);
        assertTrue(Ipv4Header.isFragment(frame, IP));
        frame.putShort(IP + 6, (short)(Ipv4Header.FLAG_DONT_FRAGMENT | 185), ByteOrder.BIG_ENDIAN);
        assertTrue(Ipv4Header.isFragment(frame, IP));
        frame.putShort(IP + 6, (short)0, ByteOrder.BIG_ENDIAN);
        assertFalse(Ipv4Header.isFragment(frame, IP));
    }
}
