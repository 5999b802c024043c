package dev.sluice.core.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import static dev.sluice.core.wire.GoldenFrames.buffer;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ChecksumTest
{
    private static final int IP = EthernetHeader.HEADER_LENGTH;
    private static final int TCP = IP + Ipv4Header.MIN_HEADER_LENGTH;

    static int naiveSum(final byte[] bytes, final int offset, final int length)
    {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2)
        {
            sum += ((bytes[offset + i] & 0xFF) << 8) | (bytes[offset + i + 1] & 0xFF);
        }
        if ((length & 1) != 0)
        {
            sum += (bytes[offset + length - 1] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)sum;
    }

    @Nested
    class AgainstNaiveReference
    {
        @Test
        void shouldMatchByteByByteSumForRandomOffsetsAndLengths()
        {
            final SplittableRandom random = new SplittableRandom(42);
            final byte[] bytes = new byte[4096];
            final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
            for (int round = 0; round < 20_000; round++)
            {
                if (round % 64 == 0)
                {
                    random.nextBytes(bytes);
                }
                final int offset = random.nextInt(64);
                final int length = random.nextInt(round % 10 == 0 ? 2000 : 80);
                assertEquals(naiveSum(bytes, offset, length), Checksum.sum(buffer, offset, length),
                    "offset " + offset + " length " + length);
            }
        }

        @Test
        void shouldMatchOnAllOnesAndAllZeroInputs()
        {
            final byte[] ones = new byte[1500];
            java.util.Arrays.fill(ones, (byte)0xFF);
            for (int length = 0; length < 100; length++)
            {
                assertEquals(naiveSum(ones, 0, length), Checksum.sum(new UnsafeBuffer(ones), 0, length));
                assertEquals(0, Checksum.sum(new UnsafeBuffer(new byte[100]), 0, length));
            }
        }

        @Test
        void shouldWorkOnOffHeapBuffers()
        {
            final byte[] bytes = new byte[1600];
            new SplittableRandom(7).nextBytes(bytes);
            final UnsafeBuffer direct = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes.length));
            direct.putBytes(0, bytes);
            for (int length = 1490; length < 1510; length++)
            {
                assertEquals(naiveSum(bytes, 3, length), Checksum.sum(direct, 3, length));
            }
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31})
        void shouldCombineTwoBuffersAtAnySplitPoint(final int split)
        {
            final SplittableRandom random = new SplittableRandom(split);
            for (int round = 0; round < 500; round++)
            {
                final byte[] whole = new byte[split + random.nextInt(300)];
                random.nextBytes(whole);
                final UnsafeBuffer first = new UnsafeBuffer(new byte[split + 5]);
                first.putBytes(5, whole, 0, split);
                final UnsafeBuffer second = new UnsafeBuffer(new byte[whole.length - split + 3]);
                second.putBytes(3, whole, split, whole.length - split);
                assertEquals(naiveSum(whole, 0, whole.length),
                    Checksum.sum(first, 5, split, second, 3, whole.length - split));
            }
        }
    }

    @Nested
    class GoldenCaptures
    {
        @Test
        void shouldVerifyCapturedIpv4HeaderChecksums()
        {
            for (final String hex : new String[]{GoldenFrames.TCP_SYN, GoldenFrames.TCP_DATA_ODD,
                GoldenFrames.ICMP_ECHO_REPLY, GoldenFrames.ICMP_PORT_UNREACHABLE_UDP, GoldenFrames.TCP_RST})
            {
                assertEquals(0, Checksum.compute(buffer(hex), IP, Ipv4Header.MIN_HEADER_LENGTH), hex);
            }
        }

        @Test
        void shouldRecomputeCapturedIpv4HeaderChecksum()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            Ipv4Header.putChecksum(frame, IP, Ipv4Header.MIN_HEADER_LENGTH);
            assertEquals(0x02e5, Ipv4Header.checksum(frame, IP));
        }

        @Test
        void shouldVerifyCapturedTcpChecksumIncludingPseudoHeader_MUST3()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_DATA_ODD);
            final int segmentLength = Ipv4Header.totalLength(frame, IP) - Ipv4Header.MIN_HEADER_LENGTH;
            assertEquals(32 + 79, segmentLength);
            assertEquals(0, Checksum.transportChecksum(frame, TCP, segmentLength,
                GoldenFrames.IP_A, GoldenFrames.IP_B, Ipv4Header.PROTOCOL_TCP));
        }

        @Test
        void shouldRecomputeCapturedTcpChecksumOverOddLengthPayload_MUST2()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_DATA_ODD);
            TcpHeader.putChecksum(frame, TCP, 111, GoldenFrames.IP_A, GoldenFrames.IP_B);
            assertEquals(0x2f15, TcpHeader.checksum(frame, TCP));
        }

        @Test
        void shouldComputeTcpChecksumWithPayloadInSecondBufferAfterOddHeaderPart()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_DATA_ODD);
            final int expected = TcpHeader.checksum(frame, TCP);
            frame.putShort(TCP + TcpHeader.CHECKSUM_OFFSET, (short)0);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[200]);
            for (final int split : new int[]{32, 33, 47, 110})
            {
                payload.putBytes(1, frame, TCP + split, 111 - split);
                assertEquals(expected, Checksum.transportChecksum(frame, TCP, split, payload, 1, 111 - split,
                    GoldenFrames.IP_A, GoldenFrames.IP_B, Ipv4Header.PROTOCOL_TCP), "split " + split);
            }
        }

        @Test
        void shouldVerifyCapturedFullSizedSegment()
        {
            final UnsafeBuffer frame = GoldenFrames.fullSizedSegment();
            assertEquals(1514, frame.capacity());
            assertEquals(0, Checksum.transportChecksum(frame, TCP, 1480,
                GoldenFrames.IP_B, GoldenFrames.IP_A, Ipv4Header.PROTOCOL_TCP));
        }

        @Test
        void shouldVerifyCapturedIcmpChecksumOverWholeMessage()
        {
            assertEquals(0, Checksum.compute(buffer(GoldenFrames.ICMP_ECHO_REQUEST), TCP, 64));
        }
    }

    @Nested
    class IncrementalUpdateRfc1624
    {
        @Test
        void shouldMatchFullRecomputationAfterChangingOneWord()
        {
            final SplittableRandom random = new SplittableRandom(1624);
            final UnsafeBuffer header = new UnsafeBuffer(new byte[20]);
            for (int round = 0; round < 50_000; round++)
            {
                for (int i = 0; i < 20; i += 4)
                {
                    header.putInt(i, random.nextInt());
                }
                header.putShort(10, (short)0);
                final int checksum = Checksum.compute(header, 0, 20);
                final int index = 2 * random.nextInt(10);
                if (index == 10)
                {
                    continue;
                }
                final int oldWord = header.getShort(index, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
                final int newWord = round % 7 == 0 ? (~oldWord & 0xFFFF) : random.nextInt(0x10000);
                header.putShort(index, (short)newWord, java.nio.ByteOrder.BIG_ENDIAN);
                assertEquals(Checksum.compute(header, 0, 20), Checksum.update16(checksum, oldWord, newWord));
            }
        }

        @Test
        void shouldMatchFullRecomputationAfterChangingAnAddress()
        {
            final SplittableRandom random = new SplittableRandom(32);
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            for (int round = 0; round < 10_000; round++)
            {
                final int checksum = Ipv4Header.checksum(frame, IP);
                final int oldAddress = Ipv4Header.source(frame, IP);
                final int newAddress = random.nextInt();
                frame.putInt(IP + Ipv4Header.SOURCE_OFFSET, newAddress, java.nio.ByteOrder.BIG_ENDIAN);
                final int updated = Checksum.update32(checksum, oldAddress, newAddress);
                Ipv4Header.putChecksum(frame, IP, 20);
                assertEquals(Ipv4Header.checksum(frame, IP), updated);
            }
        }

        @Test
        void shouldReproduceRfc1624Example()
        {
            // RFC 1624 §4: HC = 0xDD2F, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000 (eqn. 3)
            assertEquals(0x0000, Checksum.update16(0xDD2F, 0x5555, 0x3285));
        }
    }

    @Test
    void shouldSumPseudoHeaderLikeTwelveBytes()
    {
        final UnsafeBuffer pseudo = new UnsafeBuffer(new byte[12]);
        pseudo.putInt(0, GoldenFrames.IP_A, java.nio.ByteOrder.BIG_ENDIAN);
        pseudo.putInt(4, GoldenFrames.IP_B, java.nio.ByteOrder.BIG_ENDIAN);
        pseudo.putShort(8, (short)6, java.nio.ByteOrder.BIG_ENDIAN);
        pseudo.putShort(10, (short)1480, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(Checksum.sum(pseudo, 0, 12),
            Checksum.pseudoHeaderSum(GoldenFrames.IP_A, GoldenFrames.IP_B, 6, 1480));
    }
}
