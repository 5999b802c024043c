package dev.sluice.core.tcp;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.tcp.SequenceNumbers.between;
import static dev.sluice.core.tcp.SequenceNumbers.diff;
import static dev.sluice.core.tcp.SequenceNumbers.ge;
import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.inRange;
import static dev.sluice.core.tcp.SequenceNumbers.inWindow;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;
import static dev.sluice.core.tcp.SequenceNumbers.max;
import static dev.sluice.core.tcp.SequenceNumbers.min;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sequence-number comparisons of RFC 9293 §3.4, which every other rule depends on.
 */
class SequenceNumbersTest
{
    @Nested
    class Ordering
    {
        @Test
        void shouldOrderAcrossTheWrap_RFC9293s3_4()
        {
            assertTrue(lt(0xFFFF_FFFF, 0));
            assertTrue(lt(0xFFFF_FF00, 0x0000_0100));
            assertTrue(gt(0x0000_0001, 0xFFFF_FFFF));
            assertTrue(ge(0, 0xFFFF_FFFF));
            assertTrue(le(0xFFFF_FFFF, 0));
            assertFalse(lt(0, 0xFFFF_FFFF));
            assertFalse(gt(0xFFFF_FFFF, 0));
        }

        @Test
        void shouldOrderAcrossTheSignBoundary_RFC9293s3_4()
        {
            // plain signed int comparison gets this one wrong
            assertTrue(lt(Integer.MAX_VALUE, Integer.MIN_VALUE));
            assertTrue(gt(Integer.MIN_VALUE, Integer.MAX_VALUE));
        }

        @Test
        void shouldTreatEqualNumbersAsNeitherBeforeNorAfter()
        {
            assertFalse(lt(12345, 12345));
            assertFalse(gt(12345, 12345));
            assertTrue(le(12345, 12345));
            assertTrue(ge(12345, 12345));
        }

        @Test
        void shouldComputeSignedDistanceAcrossTheWrap()
        {
            assertEquals(2, diff(0x0000_0001, 0xFFFF_FFFF));
            assertEquals(-2, diff(0xFFFF_FFFF, 0x0000_0001));
        }

        @Test
        void shouldPickLaterAndEarlierAcrossTheWrap()
        {
            assertEquals(5, max(0xFFFF_FFF0, 5));
            assertEquals(0xFFFF_FFF0, min(0xFFFF_FFF0, 5));
            assertEquals(5, max(5, 0xFFFF_FFF0));
        }
    }

    @Nested
    class Windows
    {
        @Test
        void shouldContainLeftEdgeButNotRightEdge_RFC9293Table6()
        {
            final int rcvNxt = 0xFFFF_FFF0;
            assertTrue(inWindow(rcvNxt, rcvNxt, 100));
            assertTrue(inWindow(rcvNxt + 99, rcvNxt, 100));
            assertTrue(inWindow(0x10, rcvNxt, 100));
            assertFalse(inWindow(rcvNxt + 100, rcvNxt, 100));
            assertFalse(inWindow(rcvNxt - 1, rcvNxt, 100));
        }

        @Test
        void shouldContainNothingInAZeroWindow_RFC9293Table6()
        {
            assertFalse(inWindow(7, 7, 0));
        }

        @Test
        void shouldHandleWindowLargerThanHalfTheSpace_REC1()
        {
            assertTrue(inWindow(0x9000_0000, 0, 0xA000_0000));
            assertFalse(inWindow(0xB000_0000, 0, 0xA000_0000));
        }

        @Test
        void shouldTestHalfOpenRangeAcrossTheWrap()
        {
            assertTrue(inRange(0xFFFF_FFFF, 0xFFFF_FFF0, 0x10));
            assertTrue(inRange(0x0F, 0xFFFF_FFF0, 0x10));
            assertFalse(inRange(0x10, 0xFFFF_FFF0, 0x10));
            assertFalse(inRange(0xFFFF_FFEF, 0xFFFF_FFF0, 0x10));
        }

        @Test
        void shouldTestAcceptableAckClosedRange_RFC9293s3_10_7_4()
        {
            final int sndUna = 0xFFFF_FFFE;
            final int sndNxt = 3;
            assertTrue(between(sndUna, sndUna, sndNxt));
            assertTrue(between(0, sndUna, sndNxt));
            assertTrue(between(sndNxt, sndUna, sndNxt));
            assertFalse(between(sndNxt + 1, sndUna, sndNxt));
            assertFalse(between(sndUna - 1, sndUna, sndNxt));
        }
    }
}
