package dev.sluice.core.tcp;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The out-of-order store (SHLD-31). Payload byte values are a function of their sequence number, so
 * every delivered byte can be checked against where it belongs.
 */
class ReassemblyBufferTest
{
    private static final int BASE = 1000;
    private static final int WINDOW = 1 << 16;

    private final ReassemblyBuffer store = new ReassemblyBuffer(1024, 16);
    private final CollectingSink sink = new CollectingSink();

    private static byte patternA(final int seq)
    {
        return (byte)(seq * 7 + 3);
    }

    private static byte patternB(final int seq)
    {
        return (byte)~patternA(seq);
    }

    private static UnsafeBuffer payload(final int seq, final int length, final boolean useB)
    {
        // two bytes of slack on each side: nothing outside the payload may be read
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[length + 4]);
        for (int i = 0; i < length; i++)
        {
            buffer.putByte(2 + i, useB ? patternB(seq + i) : patternA(seq + i));
        }
        return buffer;
    }

    private int insert(final int rcvNxt, final int seq, final int length)
    {
        return store.insert(rcvNxt, WINDOW, seq, payload(seq, length, false), 2, length);
    }

    private int insertAt(final int relativeStart, final int relativeEnd)
    {
        return insert(BASE, BASE + relativeStart, relativeEnd - relativeStart);
    }

    private void assertRanges(final int rcvNxt, final int... relativeEdges)
    {
        assertEquals(relativeEdges.length / 2, store.rangeCount(), "range count");
        int bytes = 0;
        for (int i = 0; i < store.rangeCount(); i++)
        {
            assertEquals(rcvNxt + relativeEdges[2 * i], store.rangeStart(i), "start of range " + i);
            assertEquals(rcvNxt + relativeEdges[2 * i + 1], store.rangeEnd(i), "end of range " + i);
            bytes += relativeEdges[2 * i + 1] - relativeEdges[2 * i];
        }
        assertEquals(bytes, store.bufferedBytes(), "buffered bytes");
    }

    private static byte[] expectedA(final int seq, final int length)
    {
        final byte[] out = new byte[length];
        for (int i = 0; i < length; i++)
        {
            out[i] = patternA(seq + i);
        }
        return out;
    }

    @Nested
    class Overlaps
    {
        @Test
        void shouldKeepDisjointSegmentBeforeExistingRange_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(4, insertAt(1, 5));
            assertRanges(BASE, 1, 5, 10, 20);
        }

        @Test
        void shouldMergeSegmentTouchingLeftEdge_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(5, insertAt(5, 10));
            assertRanges(BASE, 5, 20);
        }

        @Test
        void shouldTrimSegmentOverlappingLeftEdge_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(5, insertAt(5, 15));
            assertEquals(5, store.lastDuplicateBytes());
            assertRanges(BASE, 5, 20);
        }

        @Test
        void shouldStoreNothingForSegmentInsideExistingRange_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(0, insertAt(12, 18));
            assertEquals(6, store.lastDuplicateBytes());
            assertEquals(0, store.lastDroppedBytes());
            assertRanges(BASE, 10, 20);
        }

        @Test
        void shouldStoreNothingForExactDuplicate_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(0, insertAt(10, 20));
            assertEquals(10, store.lastDuplicateBytes());
            assertRanges(BASE, 10, 20);
        }

        @Test
        void shouldStoreBothEndsOfSegmentCoveringExistingRange_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(10, insertAt(5, 25));
            assertEquals(10, store.lastDuplicateBytes());
            assertRanges(BASE, 5, 25);
        }

        @Test
        void shouldTrimSegmentOverlappingRightEdge_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(5, insertAt(15, 25));
            assertRanges(BASE, 10, 25);
        }

        @Test
        void shouldMergeSegmentTouchingRightEdge_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(5, insertAt(20, 25));
            assertRanges(BASE, 10, 25);
        }

        @Test
        void shouldKeepDisjointSegmentAfterExistingRange_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(3, insertAt(22, 25));
            assertRanges(BASE, 10, 20, 22, 25);
        }

        @Test
        void shouldBridgeTwoRangesStoringOnlyTheHole_SHLD31()
        {
            insertAt(10, 20);
            insertAt(30, 40);
            assertEquals(10, insertAt(15, 35));
            assertEquals(10, store.lastDuplicateBytes());
            assertRanges(BASE, 10, 40);
        }

        @Test
        void shouldSwallowSeveralRangesStoringEveryGap_SHLD31()
        {
            insertAt(10, 20);
            insertAt(30, 40);
            insertAt(50, 60);
            // gaps 5..10, 20..30, 40..50, 60..65
            assertEquals(30, insertAt(5, 65));
            assertEquals(30, store.lastDuplicateBytes());
            assertRanges(BASE, 5, 65);
        }

        @Test
        void shouldKeepRangesSortedWhenFillingBetweenThem_SHLD31()
        {
            insertAt(50, 60);
            insertAt(10, 20);
            insertAt(30, 40);
            assertRanges(BASE, 10, 20, 30, 40, 50, 60);
        }

        @Test
        void shouldKeepBytesThatArrivedFirst_SHLD31()
        {
            insertAt(10, 20);
            final UnsafeBuffer other = payload(BASE, 30, true);
            store.insert(BASE, WINDOW, BASE, other, 2, 30);

            assertEquals(30, store.readInOrder(BASE, sink));
            final byte[] delivered = sink.bytes();
            for (int i = 0; i < 30; i++)
            {
                final byte expected = i >= 10 && i < 20 ? patternA(BASE + i) : patternB(BASE + i);
                assertEquals(expected, delivered[i], "byte " + i);
            }
        }
    }

    @Nested
    class Delivery
    {
        @Test
        void shouldHoldBytesUntilTheHoleAtRcvNxtIsFilled_SHLD31()
        {
            insertAt(10, 20);
            assertEquals(0, store.readInOrder(BASE, sink));
            assertEquals(0, sink.bytes().length);

            insertAt(0, 10);
            assertEquals(20, store.readInOrder(BASE, sink));

            assertArrayEquals(expectedA(BASE, 20), sink.bytes());
            assertTrue(store.isEmpty());
            assertEquals(0, store.bufferedBytes());
        }

        @Test
        void shouldDeliverOnlyTheFirstContiguousRange_SHLD31()
        {
            insertAt(0, 10);
            insertAt(20, 30);
            assertEquals(10, store.readInOrder(BASE, sink));
            assertRanges(BASE, 20, 30);
            assertEquals(0, store.readInOrder(BASE + 10, sink));
        }

        @Test
        void shouldTrimBytesAlreadyDelivered_SHLD31()
        {
            final int rcvNxt = BASE + 10;
            assertEquals(5, insert(rcvNxt, BASE + 5, 10));
            assertEquals(5, store.lastDuplicateBytes());
            assertEquals(0, insert(rcvNxt, BASE, 10));
            assertEquals(10, store.lastDuplicateBytes());
            assertRanges(rcvNxt, 0, 5);
        }

        @Test
        void shouldDiscardHeldBytesOvertakenByDirectDelivery_SHLD31()
        {
            insertAt(10, 20);
            insertAt(30, 40);
            // the connection delivered [BASE, BASE + 15) straight from a frame and advanced RCV.NXT
            assertEquals(5, store.readInOrder(BASE + 15, sink));
            assertArrayEquals(expectedA(BASE + 15, 5), sink.bytes());
            assertRanges(BASE + 20, 10, 20);
        }

        @Test
        void shouldDeliverAcrossTheEndOfTheRingInTwoCalls_SHLD31()
        {
            final int rcvNxt = 1000;  // ring index 1000 & 1023 = 1000: 24 bytes before the end
            assertEquals(100, insert(rcvNxt, rcvNxt, 100));
            assertEquals(100, store.readInOrder(rcvNxt, sink));
            assertEquals(2, sink.calls);
            assertArrayEquals(expectedA(rcvNxt, 100), sink.bytes());
        }

        @Test
        void shouldWrapTheSequenceSpace_SHLD31()
        {
            final int rcvNxt = 0xFFFF_FFF0;
            assertEquals(20, insert(rcvNxt, 0x10, 20));
            assertEquals(0x20, insert(rcvNxt, rcvNxt, 0x20));
            assertEquals(1, store.rangeCount());
            assertEquals(0x24, store.rangeEnd(0));

            assertEquals(0x34, store.readInOrder(rcvNxt, sink));
            assertArrayEquals(expectedA(rcvNxt, 0x34), sink.bytes());
        }
    }

    @Nested
    class Limits
    {
        @Test
        void shouldDropBytesBeyondTheReceiveWindow_SHLD31()
        {
            assertEquals(6, store.insert(BASE, 100, BASE + 94, payload(BASE + 94, 10, false), 2, 10));
            assertEquals(4, store.lastDroppedBytes());
            assertEquals(0, store.insert(BASE, 100, BASE + 100, payload(BASE + 100, 10, false), 2, 10));
            assertEquals(10, store.lastDroppedBytes());
            assertRanges(BASE, 94, 100);
        }

        @Test
        void shouldDropBytesBeyondCapacityEvenIfWindowIsLarger_SHLD31()
        {
            assertEquals(24, store.insert(BASE, WINDOW, BASE + 1000, payload(BASE + 1000, 50, false), 2, 50));
            assertEquals(26, store.lastDroppedBytes());
            assertRanges(BASE, 1000, 1024);
        }

        @Test
        void shouldStoreNothingInAZeroWindow_MUST66()
        {
            assertEquals(0, store.insert(BASE, 0, BASE + 1, payload(BASE + 1, 10, false), 2, 10));
            assertEquals(10, store.lastDroppedBytes());
            assertTrue(store.isEmpty());
        }

        @Test
        void shouldDropSegmentThatWouldExceedTheRangeLimit_SHLD31()
        {
            final ReassemblyBuffer small = new ReassemblyBuffer(1024, 2);
            small.insert(BASE, WINDOW, BASE + 10, payload(BASE + 10, 10, false), 2, 10);
            small.insert(BASE, WINDOW, BASE + 30, payload(BASE + 30, 10, false), 2, 10);

            assertEquals(0, small.insert(BASE, WINDOW, BASE + 50, payload(BASE + 50, 10, false), 2, 10));
            assertEquals(10, small.lastDroppedBytes());
            assertEquals(2, small.rangeCount());
            assertEquals(20, small.bufferedBytes());

            // a segment that merges into an existing range still fits
            assertEquals(5, small.insert(BASE, WINDOW, BASE + 40, payload(BASE + 40, 5, false), 2, 5));
            // and one that joins both ranges frees a slot
            assertEquals(10, small.insert(BASE, WINDOW, BASE + 20, payload(BASE + 20, 10, false), 2, 10));
            assertEquals(1, small.rangeCount());
            assertEquals(10, small.insert(BASE, WINDOW, BASE + 50, payload(BASE + 50, 10, false), 2, 10));
            assertEquals(2, small.rangeCount());
        }

        @Test
        void shouldForgetEverythingOnClear()
        {
            insertAt(10, 20);
            store.clear();
            assertTrue(store.isEmpty());
            assertEquals(0, store.bufferedBytes());
            assertEquals(0, store.readInOrder(BASE + 10, sink));
        }

        @Test
        void shouldRejectIllegalConstruction()
        {
            assertThrows(IllegalArgumentException.class, () -> new ReassemblyBuffer(1000, 16));
            assertThrows(IllegalArgumentException.class, () -> new ReassemblyBuffer(1024, 0));
        }
    }

    private static final class CollectingSink implements ReassemblyBuffer.Sink
    {
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private int calls;

        @Override
        public void onData(final DirectBuffer buffer, final int offset, final int length)
        {
            calls++;
            final byte[] chunk = new byte[length];
            buffer.getBytes(offset, chunk);
            received.writeBytes(chunk);
        }

        byte[] bytes()
        {
            return received.toByteArray();
        }
    }
}
