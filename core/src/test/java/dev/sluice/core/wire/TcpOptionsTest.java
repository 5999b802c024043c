package dev.sluice.core.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static dev.sluice.core.wire.GoldenFrames.buffer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TcpOptionsTest
{
    private static final int TCP = 34;
    private final TcpOptions options = new TcpOptions();

    private int parseHex(final String hex)
    {
        final byte[] bytes = HexFormat.of().parseHex(hex);
        // place the options at an odd offset inside a larger buffer: nothing may depend on alignment
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[bytes.length + 8]);
        buffer.setMemory(0, buffer.capacity(), (byte)0x5A);
        buffer.putBytes(3, bytes);
        return options.parse(buffer, 3, bytes.length);
    }

    @Nested
    class GoldenBytes
    {
        @Test
        void shouldParseLinuxSynOptions_MUST4_MUST14()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            assertEquals(0, options.parseHeader(frame, TCP, 40));
            assertTrue(options.hasMss());
            assertEquals(1460, options.mss());
            assertTrue(options.sackPermitted());
            assertTrue(options.hasTimestamps());
            assertEquals(0x5d178220, options.timestampValue());
            assertEquals(0, options.timestampEchoReply());
            assertTrue(options.hasWindowScale());
            assertEquals(10, options.windowScale());
            assertEquals(0, options.sackBlockCount());
            assertEquals(0, options.unknownCount());
            assertEquals(0, options.malformedCount());
        }

        @Test
        void shouldParseTimestampsOnNonSynSegment_MUST5()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_ACK);
            assertEquals(0, options.parseHeader(frame, TCP, TcpHeader.headerLength(frame, TCP)));
            assertFalse(options.hasMss());
            assertTrue(options.hasTimestamps());
            assertEquals(0x5d178220, options.timestampValue());
            assertEquals(0x1a58d629, options.timestampEchoReply());
        }

        @Test
        void shouldParseTwoSackBlocks()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_ACK_SACK);
            assertEquals(52, TcpHeader.validate(frame, TCP, 52));
            assertEquals(0, options.parseHeader(frame, TCP, 52));
            assertEquals(2, options.sackBlockCount());
            assertEquals(0xb803c5a5, options.sackLeftEdge(0));
            assertEquals(0xb803cb4d, options.sackRightEdge(0));
            assertEquals(0xb803d0f5, options.sackLeftEdge(1));
            assertEquals(0xb803d69d, options.sackRightEdge(1));
            assertTrue(options.hasTimestamps());
        }

        @Test
        void shouldEncodeBytesIdenticalToCapturedOptions()
        {
            assertEncodesTo(GoldenFrames.TCP_SYN, 40);
            assertEncodesTo(GoldenFrames.TCP_SYN_ACK, 40);
            assertEncodesTo(GoldenFrames.TCP_ACK, 32);
            assertEncodesTo(GoldenFrames.TCP_ACK_SACK, 52);
        }

        private void assertEncodesTo(final String hex, final int headerLength)
        {
            final UnsafeBuffer frame = buffer(hex);
            assertEquals(0, options.parseHeader(frame, TCP, headerLength));
            final UnsafeBuffer out = new UnsafeBuffer(new byte[headerLength - 20]);
            assertEquals(headerLength - 20, options.encodedLength());
            assertEquals(headerLength - 20, options.encode(out, 0));
            final byte[] expected = new byte[headerLength - 20];
            frame.getBytes(TCP + 20, expected);
            assertArrayEquals(expected, out.byteArray());
        }
    }

    @Nested
    class WellFormedShapes
    {
        @Test
        void shouldIgnoreUnknownOptionWithLength_MUST6()
        {
            assertEquals(0, parseHex("1e06aabbccdd" + "020405b4"));
            assertEquals(1, options.unknownCount());
            assertEquals(1460, options.mss());
        }

        @Test
        void shouldProcessUnalignedOptions_MUST64()
        {
            assertEquals(0, parseHex("01" + "0303" + "07" + "080a0000000100000002" + "020405dc"));
            assertEquals(7, options.windowScale());
            assertEquals(1, options.timestampValue());
            assertEquals(2, options.timestampEchoReply());
            assertEquals(1500, options.mss());
        }

        @Test
        void shouldStopAtEolAndIgnoreNonZeroBytesAfterIt_MUST69()
        {
            assertEquals(0, parseHex("020405b4" + "00" + "0000ff02"));
            assertEquals(1460, options.mss());
            assertEquals(0, options.unknownCount());
            assertFalse(options.hasWindowScale());
        }

        @Test
        void shouldNotInterpretOptionHiddenAfterEol_MUST69()
        {
            assertEquals(0, parseHex("00" + "020405b4" + "000000"));
            assertFalse(options.hasMss());
        }

        @Test
        void shouldAcceptOnlyNops()
        {
            assertEquals(0, parseHex("01010101"));
            assertFalse(options.hasMss());
        }

        @Test
        void shouldParseFourSackBlocks()
        {
            final StringBuilder hex = new StringBuilder("0101" + "0522");
            for (int i = 0; i < 8; i++)
            {
                hex.append(String.format("%08x", i * 100));
            }
            assertEquals(0, parseHex(hex.toString()));
            assertEquals(4, options.sackBlockCount());
            assertEquals(600, options.sackLeftEdge(3));
            assertEquals(700, options.sackRightEdge(3));
        }

        @Test
        void shouldKeepLastOfRepeatedOptions()
        {
            assertEquals(0, parseHex("020405b4" + "02040218"));
            assertEquals(536, options.mss());
        }

        @Test
        void shouldResetHolderBetweenParses()
        {
            assertEquals(0, parseHex("020405b4" + "01030307"));
            assertEquals(0, parseHex("01010101"));
            assertFalse(options.hasMss());
            assertFalse(options.hasWindowScale());
        }
    }

    @Nested
    class MalformedShapes
    {
        @Test
        void shouldReportLengthZeroAsIllegal_MUST7()
        {
            assertEquals(WireError.ILLEGAL_OPTION_LENGTH, parseHex("0200" + "0000"));
        }

        @Test
        void shouldReportLengthOneAsIllegal_MUST7()
        {
            assertEquals(WireError.ILLEGAL_OPTION_LENGTH, parseHex("01" + "1e01" + "00"));
        }

        @Test
        void shouldReportLengthPastHeaderEnd()
        {
            assertEquals(WireError.OPTION_OVERFLOW, parseHex("020805b4"));
            assertEquals(WireError.OPTION_OVERFLOW, parseHex("0101" + "080a00000001"));
        }

        @Test
        void shouldReportKindWithoutLengthByteAtEnd_MUST68()
        {
            assertEquals(WireError.OPTION_OVERFLOW, parseHex("010101" + "02"));
        }

        @Test
        void shouldSkipKnownOptionsWithWrongLength()
        {
            assertEquals(0, parseHex("0203ff" + "030400ff" + "0403ff" + "080900000000000000" + "050b000000000000000000"));
            assertEquals(5, options.malformedCount());
            assertFalse(options.hasMss());
            assertFalse(options.hasWindowScale());
            assertFalse(options.sackPermitted());
            assertFalse(options.hasTimestamps());
            assertEquals(0, options.sackBlockCount());
        }

        @Test
        void shouldReportEveryTruncationOfCapturedSynOptionsWithoutThrowing()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            // cutting inside an option must be an overflow; cutting on an option boundary is fine
            final boolean[] boundary = new boolean[21];
            for (final int b : new int[]{0, 4, 6, 16, 17, 20})
            {
                boundary[b] = true;
            }
            for (int length = 0; length <= 20; length++)
            {
                final int result = options.parse(frame, TCP + 20, length);
                assertEquals(boundary[length] ? 0 : WireError.OPTION_OVERFLOW, result, "length " + length);
            }
        }
    }

    @Nested
    class Encoding
    {
        @Test
        void shouldPadWithZeroEolBytes_MUST69()
        {
            final UnsafeBuffer out = new UnsafeBuffer(new byte[8]);
            out.setMemory(0, 8, (byte)0x77);
            options.clear().sackPermitted(true);
            assertEquals(4, options.encode(out, 0));
            assertEquals(0, options.clear().encode(out, 4));
            options.clear().windowScale(14);
            assertEquals(4, options.encode(out, 4));
            assertEquals("010104020103030e", HexFormat.of().formatHex(out.byteArray()));
        }

        @Test
        void shouldRoundTripEveryCombination()
        {
            final UnsafeBuffer out = new UnsafeBuffer(new byte[40]);
            final TcpOptions parsed = new TcpOptions();
            for (int mask = 0; mask < 32; mask++)
            {
                options.clear();
                if ((mask & 1) != 0)
                {
                    options.mss(1220);
                }
                if ((mask & 2) != 0)
                {
                    options.windowScale(3);
                }
                if ((mask & 4) != 0)
                {
                    options.sackPermitted(true);
                }
                if ((mask & 8) != 0)
                {
                    options.timestamps(-5, 77);
                }
                if ((mask & 16) != 0)
                {
                    options.addSackBlock(1, 2).addSackBlock(-3, -4).addSackBlock(5, 6).addSackBlock(7, 8);
                }
                final int length = options.encode(out, 0);
                assertEquals(options.encodedLength(), length);
                assertTrue(length <= 40 && length % 4 == 0);
                assertEquals(0, parsed.parse(out, 0, length));
                assertEquals(options.hasMss(), parsed.hasMss());
                assertEquals(options.mss(), parsed.mss());
                assertEquals(options.hasWindowScale(), parsed.hasWindowScale());
                assertEquals(options.sackPermitted(), parsed.sackPermitted());
                assertEquals(options.hasTimestamps(), parsed.hasTimestamps());
                assertEquals(options.timestampValue(), parsed.timestampValue());
                if (parsed.sackBlockCount() > 0)
                {
                    assertEquals(-3, parsed.sackLeftEdge(1));
                    assertEquals(-4, parsed.sackRightEdge(1));
                }
                final int used = ((mask & 1) != 0 ? 4 : 0) + ((mask & 8) != 0 ? 12 : (mask & 4) != 0 ? 4 : 0) +
                    ((mask & 2) != 0 ? 4 : 0);
                assertEquals((mask & 16) == 0 ? 0 : Math.min(4, (36 - used) / 8), parsed.sackBlockCount(), "mask " + mask);
            }
        }
    }
}
