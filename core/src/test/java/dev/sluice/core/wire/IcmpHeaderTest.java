package dev.sluice.core.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.wire.GoldenFrames.buffer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class IcmpHeaderTest
{
    private static final int ICMP = 34;

    @Nested
    class GoldenBytes
    {
        @Test
        void shouldReadCapturedEchoRequest()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_ECHO_REQUEST);
            assertEquals(8, IcmpHeader.validate(frame, ICMP, 64, true));
            final IcmpHeader icmp = new IcmpHeader().wrap(frame, ICMP);
            assertEquals(IcmpHeader.TYPE_ECHO_REQUEST, icmp.type());
            assertEquals(0, icmp.code());
            assertEquals(0x63c2, icmp.checksum());
            assertEquals(7369, icmp.identifier());
            assertEquals(1, icmp.sequence());
        }

        @Test
        void shouldEmitCapturedEchoReplyFromRequest()
        {
            final UnsafeBuffer request = buffer(GoldenFrames.ICMP_ECHO_REQUEST);
            final UnsafeBuffer reply = new UnsafeBuffer(new byte[64]);
            IcmpHeader.write(reply, 0, IcmpHeader.TYPE_ECHO_REPLY, 0, IcmpHeader.restOfHeader(request, ICMP));
            reply.putBytes(8, request, ICMP + 8, 56);
            IcmpHeader.putChecksum(reply, 0, 64);
            final byte[] expected = new byte[64];
            buffer(GoldenFrames.ICMP_ECHO_REPLY).getBytes(ICMP, expected);
            assertArrayEquals(expected, reply.byteArray());
        }

        @Test
        void shouldValidateQuoteOfCapturedPortUnreachable()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_PORT_UNREACHABLE_UDP);
            final int length = Ipv4Header.totalLength(frame, 14) - 20;
            assertEquals(8, IcmpHeader.validate(frame, ICMP, length, true));
            assertEquals(20, IcmpHeader.validateQuote(frame, ICMP + 8, length - 8));
            assertEquals(Ipv4Header.PROTOCOL_UDP, Ipv4Header.protocol(frame, ICMP + 8));
        }

        @Test
        void shouldReadNextHopMtuOfFragmentationNeeded()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_FRAGMENTATION_NEEDED);
            final int length = Ipv4Header.totalLength(frame, 14) - 20;
            assertEquals(8, IcmpHeader.validate(frame, ICMP, length, true));
            assertEquals(1400, IcmpHeader.sequence(frame, ICMP));
            assertEquals(IcmpHeader.ERROR_FRAGMENTATION_NEEDED,
                IcmpHeader.classify(IcmpHeader.type(frame, ICMP), IcmpHeader.code(frame, ICMP)));
        }
    }

    @Nested
    class MalformedInput
    {
        @Test
        void shouldReportTruncatedAtEveryLengthBelow8()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_ECHO_REQUEST);
            for (int length = 0; length < 8; length++)
            {
                assertEquals(WireError.TRUNCATED, IcmpHeader.validate(frame, ICMP, length, true), "length " + length);
            }
        }

        @Test
        void shouldRejectBadChecksum()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_ECHO_REQUEST);
            frame.putByte(ICMP + 20, (byte)0x55);
            assertEquals(WireError.BAD_CHECKSUM, IcmpHeader.validate(frame, ICMP, 64, true));
            assertEquals(8, IcmpHeader.validate(frame, ICMP, 64, false));
        }

        @Test
        void shouldReportEveryTruncationOfQuote()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_FRAGMENTATION_NEEDED);
            for (int length = 0; length < 28; length++)
            {
                assertEquals(WireError.TRUNCATED, IcmpHeader.validateQuote(frame, ICMP + 8, length), "length " + length);
            }
            assertEquals(20, IcmpHeader.validateQuote(frame, ICMP + 8, 28));
        }

        @Test
        void shouldRejectQuoteWithBadVersionOrIhl()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_FRAGMENTATION_NEEDED);
            frame.putByte(ICMP + 8, (byte)0x44);
            assertEquals(WireError.BAD_HEADER_LENGTH, IcmpHeader.validateQuote(frame, ICMP + 8, 60));
            frame.putByte(ICMP + 8, (byte)0x65);
            assertEquals(WireError.BAD_VERSION, IcmpHeader.validateQuote(frame, ICMP + 8, 60));
            frame.putByte(ICMP + 8, (byte)0x4f);
            assertEquals(WireError.TRUNCATED, IcmpHeader.validateQuote(frame, ICMP + 8, 60));
        }
    }

    @Nested
    class ErrorClassification
    {
        @Test
        void shouldClassifySoftErrors_MUST56()
        {
            for (final int code : new int[]{0, 1, 5, 9, 10, 13})
            {
                assertEquals(IcmpHeader.ERROR_SOFT, IcmpHeader.classify(3, code), "code " + code);
            }
            assertEquals(IcmpHeader.ERROR_SOFT, IcmpHeader.classify(IcmpHeader.TYPE_TIME_EXCEEDED, 0));
            assertEquals(IcmpHeader.ERROR_SOFT, IcmpHeader.classify(IcmpHeader.TYPE_TIME_EXCEEDED, 1));
            assertEquals(IcmpHeader.ERROR_SOFT, IcmpHeader.classify(IcmpHeader.TYPE_PARAMETER_PROBLEM, 0));
        }

        @Test
        void shouldClassifyProtocolAndPortUnreachableAsHard_SHLD26()
        {
            assertEquals(IcmpHeader.ERROR_HARD, IcmpHeader.classify(3, 2));
            assertEquals(IcmpHeader.ERROR_HARD, IcmpHeader.classify(3, 3));
        }

        @Test
        void shouldIgnoreSourceQuench_MUST55()
        {
            assertEquals(IcmpHeader.ERROR_IGNORED, IcmpHeader.classify(IcmpHeader.TYPE_SOURCE_QUENCH, 0));
        }

        @Test
        void shouldNotTreatEchoOrRedirectAsErrors()
        {
            assertEquals(IcmpHeader.ERROR_NONE, IcmpHeader.classify(IcmpHeader.TYPE_ECHO_REPLY, 0));
            assertEquals(IcmpHeader.ERROR_NONE, IcmpHeader.classify(IcmpHeader.TYPE_ECHO_REQUEST, 0));
            assertEquals(IcmpHeader.ERROR_NONE, IcmpHeader.classify(IcmpHeader.TYPE_REDIRECT, 1));
        }
    }
}
