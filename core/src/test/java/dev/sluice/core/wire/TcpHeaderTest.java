package dev.sluice.core.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.wire.GoldenFrames.buffer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TcpHeaderTest
{
    private static final int TCP = 34;

    @Nested
    class GoldenBytes
    {
        @Test
        void shouldReadCapturedSyn()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            assertEquals(40, TcpHeader.validate(frame, TCP, 40));
            final TcpHeader tcp = new TcpHeader().wrap(frame, TCP);
            assertEquals(49260, tcp.sourcePort());
            assertEquals(18080, tcp.destinationPort());
            assertEquals((int)1123147930L, tcp.sequence());
            assertEquals(0, tcp.acknowledgment());
            assertEquals(40, tcp.headerLength());
            assertEquals(TcpHeader.SYN, tcp.flags());
            assertEquals(64240, tcp.window());
            assertEquals(0x2e9f, tcp.checksum());
            assertEquals(0, tcp.urgentPointer());
            assertTrue(TcpHeader.isChecksumValid(frame, TCP, 40, GoldenFrames.IP_A, GoldenFrames.IP_B));
        }

        @Test
        void shouldReadSequenceAboveTwoToThe31AsRawInt()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN_ACK);
            assertEquals(3087253185L, TcpHeader.sequence(frame, TCP) & 0xFFFF_FFFFL);
            assertEquals(1123147931, TcpHeader.acknowledgment(frame, TCP));
            assertEquals(TcpHeader.SYN | TcpHeader.ACK, TcpHeader.flags(frame, TCP));
            assertEquals(65160, TcpHeader.window(frame, TCP)); // above 32767: unsigned, MUST-1
        }

        @Test
        void shouldReadCapturedRstWithoutOptions()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_RST);
            assertEquals(20, TcpHeader.validate(frame, TCP, 20));
            assertEquals(TcpHeader.RST | TcpHeader.ACK, TcpHeader.flags(frame, TCP));
            assertTrue(TcpHeader.isChecksumValid(frame, TCP, 20, GoldenFrames.IP_B, GoldenFrames.IP_A));
        }

        @Test
        void shouldEmitBytesIdenticalToCapturedSyn()
        {
            final UnsafeBuffer expected = buffer(GoldenFrames.TCP_SYN);
            final UnsafeBuffer out = new UnsafeBuffer(new byte[40]);
            TcpHeader.write(out, 0, 49260, 18080, (int)1123147930L, 0, 40, TcpHeader.SYN, 64240, 0);
            final int optionsLength = new TcpOptions().mss(1460).sackPermitted(true)
                .timestamps(0x5d178220, 0).windowScale(10).encode(out, 20);
            assertEquals(20, optionsLength);
            TcpHeader.putChecksum(out, 0, 40, GoldenFrames.IP_A, GoldenFrames.IP_B);
            final byte[] bytes = new byte[40];
            expected.getBytes(TCP, bytes);
            assertArrayEquals(bytes, out.byteArray());
        }
    }

    @Nested
    class MalformedInput
    {
        @Test
        void shouldReportTruncatedAtEveryLengthBelowDataOffset()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            for (int length = 0; length < 40; length++)
            {
                assertEquals(WireError.TRUNCATED, TcpHeader.validate(frame, TCP, length), "length " + length);
            }
        }

        @Test
        void shouldRejectDataOffsetBelow5()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            for (int dataOffset = 0; dataOffset < 5; dataOffset++)
            {
                frame.putByte(TCP + 12, (byte)(dataOffset << 4));
                assertEquals(WireError.BAD_HEADER_LENGTH, TcpHeader.validate(frame, TCP, 40));
            }
        }

        @Test
        void shouldDetectCorruptedPayloadByChecksum_MUST3()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_DATA_ODD);
            frame.putByte(frame.capacity() - 1, (byte)0);
            assertFalse(TcpHeader.isChecksumValid(frame, TCP, 111, GoldenFrames.IP_A, GoldenFrames.IP_B));
        }
    }
}
