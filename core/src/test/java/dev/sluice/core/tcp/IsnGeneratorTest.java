package dev.sluice.core.tcp;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * ISN selection of RFC 9293 §3.4.1.
 */
class IsnGeneratorTest
{
    // key 00 01 02 .. 0f of the SipHash paper, read little-endian
    private static final long PAPER_KEY0 = 0x0706050403020100L;
    private static final long PAPER_KEY1 = 0x0f0e0d0c0b0a0908L;

    private static final int LOCAL_IP = 0x0A00_0001;
    private static final int REMOTE_IP = 0x0A00_0002;
    private static final long ONE_SECOND_NS = 1_000_000_000L;

    private final IsnGenerator generator = new IsnGenerator(0x1234_5678_9ABC_DEF0L, 0x0FED_CBA9_8765_4321L);

    @Test
    void shouldMatchSipHashPaperVectorFor15ByteMessage_SHLD1()
    {
        // SipHash paper, Appendix A: message 00 01 .. 0e, output a129ca6149be45e5
        final IsnGenerator paper = new IsnGenerator(PAPER_KEY0, PAPER_KEY1);
        final UnsafeBuffer message = new UnsafeBuffer(new byte[15]);
        for (int i = 0; i < 15; i++)
        {
            message.putByte(i, (byte)i);
        }
        assertEquals(0xa129ca6149be45e5L, paper.hash(message, 0, 15));
    }

    @Test
    void shouldMatchSipHashReferenceVectorForEmptyMessage_SHLD1()
    {
        // reference implementation vectors.h, vectors_sip64[0]: 31 0e 0e dd 47 db 6f 72 (little-endian)
        final IsnGenerator paper = new IsnGenerator(PAPER_KEY0, PAPER_KEY1);
        assertEquals(0x726fdb47dd0e0e31L, paper.hash(new UnsafeBuffer(new byte[1]), 0, 0));
    }

    @Test
    void shouldHashTupleExactlyLikeTheGenericSipHashOfItsBytes_SHLD1()
    {
        final UnsafeBuffer message = new UnsafeBuffer(new byte[12]);
        final int localPort = 0xC001;
        final int remotePort = 443;
        final int remoteIp = 0xC0A8_FF07;
        message.putInt(0, LOCAL_IP, BIG_ENDIAN);
        message.putShort(4, (short)localPort, BIG_ENDIAN);
        message.putInt(6, remoteIp, BIG_ENDIAN);
        message.putShort(10, (short)remotePort, BIG_ENDIAN);

        assertEquals(generator.hash(message, 0, 12), generator.hashTuple(LOCAL_IP, localPort, remoteIp, remotePort));
    }

    @Test
    void shouldAdvanceWithTheFourMicrosecondClock_MUST8()
    {
        final int first = generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, 10 * ONE_SECOND_NS);
        final int oneSecondLater = generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, 11 * ONE_SECOND_NS);
        final int fourMicrosLater = generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, 10 * ONE_SECOND_NS + 4_000);
        final int threeMicrosLater = generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, 10 * ONE_SECOND_NS + 3_999);

        assertEquals(250_000, oneSecondLater - first);
        assertEquals(1, fourMicrosLater - first);
        assertEquals(0, threeMicrosLater - first);
    }

    @Test
    void shouldWrapTheClockModulo2To32_MUST8()
    {
        // 2^32 ticks of 4 µs later the clock component is back where it was
        final long wrapNs = (1L << 32) * IsnGenerator.CLOCK_TICK_NS;
        assertEquals(
            generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, 5 * ONE_SECOND_NS),
            generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, 5 * ONE_SECOND_NS + wrapNs));
    }

    @Test
    void shouldGiveDifferentTuplesUnrelatedOffsets_SHLD1()
    {
        final long nowNs = 7 * ONE_SECOND_NS;
        final int base = generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, nowNs);
        assertNotEquals(base, generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40001, nowNs));
        assertNotEquals(base, generator.nextIsn(LOCAL_IP, 81, REMOTE_IP, 40000, nowNs));
        assertNotEquals(base, generator.nextIsn(LOCAL_IP, 80, REMOTE_IP + 1, 40000, nowNs));
        assertNotEquals(base, generator.nextIsn(LOCAL_IP + 1, 80, REMOTE_IP, 40000, nowNs));
        // swapping the ends is a different connection too
        assertNotEquals(base, generator.nextIsn(REMOTE_IP, 40000, LOCAL_IP, 80, nowNs));
    }

    @Test
    void shouldNotBeComputableWithoutTheKey_MUST9()
    {
        final long nowNs = 7 * ONE_SECOND_NS;
        final IsnGenerator otherKey = new IsnGenerator(0x1234_5678_9ABC_DEF0L, 0x0FED_CBA9_8765_4320L);
        assertNotEquals(
            generator.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, nowNs),
            otherKey.nextIsn(LOCAL_IP, 80, REMOTE_IP, 40000, nowNs));
    }

    @Test
    void shouldRejectAllZeroKey_MUST9()
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new IsnGenerator(0, 0));
        assertEquals("ISN secret key must be random, not all zeros (MUST-9)", e.getMessage());
    }
}
