package dev.sluice.core.tcp;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The send ring: application bytes in, (re)transmissions out, acknowledged bytes released.
 */
class SendBufferTest
{
    private final SendBuffer buffer = new SendBuffer(16);
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[64]);

    private static UnsafeBuffer bytes(final int first, final int count)
    {
        final UnsafeBuffer source = new UnsafeBuffer(new byte[count]);
        for (int i = 0; i < count; i++)
        {
            source.putByte(i, (byte)(first + i));
        }
        return source;
    }

    private byte[] readBytes(final int seq, final int maxLength)
    {
        final int copied = buffer.read(seq, frame, 3, maxLength);
        final byte[] out = new byte[copied];
        frame.getBytes(3, out);
        return out;
    }

    private static byte[] expected(final int first, final int count)
    {
        final byte[] out = new byte[count];
        for (int i = 0; i < count; i++)
        {
            out[i] = (byte)(first + i);
        }
        return out;
    }

    @Test
    void shouldStartEmptyAtGivenSequence()
    {
        buffer.reset(1001);
        assertTrue(buffer.isEmpty());
        assertEquals(1001, buffer.headSeq());
        assertEquals(1001, buffer.tailSeq());
        assertEquals(16, buffer.freeBytes());
    }

    @Test
    void shouldAcceptOnlyWhatFitsAsBackPressure()
    {
        buffer.reset(0);
        assertEquals(10, buffer.append(bytes(0, 10), 0, 10));
        assertEquals(6, buffer.append(bytes(10, 10), 0, 10));
        assertEquals(0, buffer.append(bytes(20, 1), 0, 1));
        assertEquals(0, buffer.freeBytes());
        assertEquals(16, buffer.tailSeq());
    }

    @Test
    void shouldReadUnacknowledgedRangeForTransmission()
    {
        buffer.reset(100);
        buffer.append(bytes(0, 12), 0, 12);

        assertArrayEquals(expected(0, 5), readBytes(100, 5));
        assertArrayEquals(expected(5, 7), readBytes(105, 50));
        assertEquals(0, buffer.read(112, frame, 0, 10), "nothing at the tail");
        assertEquals(12, buffer.size(), "reading does not consume");
    }

    @Test
    void shouldRereadSameBytesForRetransmission_RFC9293s3_10_8()
    {
        buffer.reset(100);
        buffer.append(bytes(40, 8), 0, 8);
        final byte[] first = readBytes(102, 4);
        final byte[] again = readBytes(102, 4);
        assertArrayEquals(first, again);
        assertArrayEquals(expected(42, 4), again);
    }

    @Test
    void shouldRefuseReadOutsideBufferedRange()
    {
        buffer.reset(100);
        buffer.append(bytes(0, 8), 0, 8);
        assertEquals(SendBuffer.NOT_BUFFERED, buffer.read(99, frame, 0, 4));
        assertEquals(SendBuffer.NOT_BUFFERED, buffer.read(109, frame, 0, 4));
    }

    @Test
    void shouldReleaseAcknowledgedBytesAndMakeRoom()
    {
        buffer.reset(100);
        buffer.append(bytes(0, 16), 0, 16);

        assertEquals(6, buffer.release(106));
        assertEquals(106, buffer.headSeq());
        assertEquals(6, buffer.freeBytes());
        assertEquals(SendBuffer.NOT_BUFFERED, buffer.read(105, frame, 0, 1));
        assertArrayEquals(expected(6, 10), readBytes(106, 16));
    }

    @Test
    void shouldIgnoreOldAcknowledgment()
    {
        buffer.reset(100);
        buffer.append(bytes(0, 8), 0, 8);
        buffer.release(104);
        assertEquals(0, buffer.release(104));
        assertEquals(0, buffer.release(90));
        assertEquals(104, buffer.headSeq());
    }

    @Test
    void shouldReleaseEverythingWhenAckAlsoCoversFin()
    {
        buffer.reset(100);
        buffer.append(bytes(0, 8), 0, 8);
        assertEquals(8, buffer.release(109));
        assertTrue(buffer.isEmpty());
        assertEquals(108, buffer.headSeq());
    }

    @Test
    void shouldWrapAroundTheRing()
    {
        buffer.reset(0);
        buffer.append(bytes(0, 12), 0, 12);
        buffer.release(10);
        assertEquals(14, buffer.append(bytes(12, 14), 0, 14), "crosses the end of the ring");

        assertArrayEquals(expected(10, 16), readBytes(10, 16));
        assertArrayEquals(expected(14, 5), readBytes(14, 5), "a range split by the ring end");
    }

    @Test
    void shouldWrapTheSequenceSpace()
    {
        final int start = 0xFFFF_FFF8;
        buffer.reset(start);
        buffer.append(bytes(0, 16), 0, 16);
        assertEquals(8, buffer.tailSeq());

        assertArrayEquals(expected(6, 6), readBytes(0xFFFF_FFFE, 6));
        assertEquals(10, buffer.release(2));
        assertEquals(2, buffer.headSeq());
        assertEquals(10, buffer.append(bytes(16, 10), 0, 10));
        assertArrayEquals(expected(10, 16), readBytes(2, 16));
    }

    @Test
    void shouldNeverAcceptNegativeLength()
    {
        buffer.reset(0);
        assertEquals(0, buffer.append(bytes(0, 1), 0, -5));
        assertTrue(buffer.isEmpty());
        assertEquals(0, buffer.size());
    }

    @Test
    void shouldRejectCapacityThatIsNotAPowerOfTwo()
    {
        assertThrows(IllegalArgumentException.class, () -> new SendBuffer(1000));
        assertThrows(IllegalArgumentException.class, () -> new SendBuffer(0));
    }
}
