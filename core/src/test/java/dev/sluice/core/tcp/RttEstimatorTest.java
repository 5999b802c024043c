package dev.sluice.core.tcp;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 6298 retransmission timer (MUST-18) with backoff (MUST-19), against worked numbers.
 */
class RttEstimatorTest
{
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    // Linux-like floor 200 ms, ceiling 120 s, G = 1 ms
    private final RttEstimator rtt = new RttEstimator(1 * S, 200 * MS, 120 * S, 1 * MS);

    @Nested
    class Estimation
    {
        @Test
        void shouldStartWithOneSecondRto_MUST18()
        {
            assertEquals(1 * S, rtt.rtoNs());
            assertFalse(rtt.hasSample());
        }

        @Test
        void shouldInitialiseFromFirstSample_MUST18()
        {
            rtt.onRttSample(100 * MS);

            // SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 * RTTVAR) = 100 + 200
            assertEquals(100 * MS, rtt.srttNs());
            assertEquals(50 * MS, rtt.rttvarNs());
            assertEquals(300 * MS, rtt.rtoNs());
            assertTrue(rtt.hasSample());
        }

        @Test
        void shouldSmoothLaterSamplesWithAlphaEighthAndBetaQuarter_MUST18()
        {
            rtt.onRttSample(100 * MS);
            rtt.onRttSample(200 * MS);

            // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
            assertEquals(62_500_000L, rtt.rttvarNs());
            assertEquals(112_500_000L, rtt.srttNs());
            assertEquals(362_500_000L, rtt.rtoNs());

            rtt.onRttSample(112_500_000L);

            // a sample equal to SRTT only shrinks RTTVAR: 3/4 * 62.5 = 46.875; RTO = 112.5 + 187.5
            assertEquals(46_875_000L, rtt.rttvarNs());
            assertEquals(112_500_000L, rtt.srttNs());
            assertEquals(300 * MS, rtt.rtoNs());
        }

        @Test
        void shouldUseClockGranularityWhenVarianceIsSmaller_MUST18()
        {
            final RttEstimator coarse = new RttEstimator(1 * S, 1 * MS, 60 * S, 50 * MS);
            coarse.onRttSample(8 * MS);

            // 4 * RTTVAR = 16 ms < G = 50 ms
            assertEquals(58 * MS, coarse.rtoNs());
        }

        @Test
        void shouldRoundUpToConfiguredMinimum_MUST18()
        {
            rtt.onRttSample(10 * MS);
            assertEquals(200 * MS, rtt.rtoNs());

            final RttEstimator rfcFloor = new RttEstimator(1 * S, 1 * S, 60 * S, 1 * MS);
            rfcFloor.onRttSample(10 * MS);
            assertEquals(1 * S, rfcFloor.rtoNs());
        }

        @Test
        void shouldCapComputedRtoAtMaximum_MUST18()
        {
            rtt.onRttSample(100 * S);
            assertEquals(120 * S, rtt.rtoNs());
        }

        @Test
        void shouldResetToInitialState()
        {
            rtt.onRttSample(100 * MS);
            rtt.onTimeout();
            rtt.reset();

            assertEquals(1 * S, rtt.rtoNs());
            assertFalse(rtt.hasSample());
            assertEquals(0, rtt.backoffCount());
        }
    }

    @Nested
    class Backoff
    {
        @Test
        void shouldBackOffExponentially_MUST19()
        {
            final long[] expectedNs = {2 * S, 4 * S, 8 * S, 16 * S, 32 * S, 64 * S, 120 * S, 120 * S};
            for (int i = 0; i < expectedNs.length; i++)
            {
                rtt.onTimeout();
                assertEquals(expectedNs[i], rtt.rtoNs(), "after timeout " + (i + 1));
                assertEquals(i + 1, rtt.backoffCount());
            }
        }

        @Test
        void shouldKeepBackedOffRtoUntilNextValidSample_MUST19()
        {
            rtt.onRttSample(100 * MS);
            rtt.onTimeout();
            rtt.onTimeout();
            assertEquals(1200 * MS, rtt.rtoNs());

            rtt.onRttSample(100 * MS);

            // RTTVAR = 3/4 * 50 = 37.5, SRTT = 100: RTO = 100 + 150
            assertEquals(250 * MS, rtt.rtoNs());
            assertEquals(0, rtt.backoffCount());
        }

        @Test
        void shouldReinitialiseRtoToThreeSecondsWhenSynWasRetransmitted_MUST18()
        {
            rtt.onTimeout();
            rtt.onTimeout();
            assertEquals(4 * S, rtt.rtoNs());

            rtt.onSynRetransmittedBeforeData();

            assertEquals(3 * S, rtt.rtoNs());
            assertEquals(0, rtt.backoffCount());
        }

        @Test
        void shouldKeepComputedRtoAfterSynLossWhenASampleExists_MUST18()
        {
            rtt.onRttSample(100 * MS);
            rtt.onSynRetransmittedBeforeData();
            assertEquals(300 * MS, rtt.rtoNs());
        }
    }

    @Nested
    class KarnsAlgorithm
    {
        @Test
        void shouldSampleTimedSegmentWhenAckCoversIt_MUST18()
        {
            assertTrue(rtt.startTiming(1000, 5 * S));
            assertFalse(rtt.startTiming(2000, 5 * S + 1), "only one segment is timed at a time");

            assertFalse(rtt.onAck(999, 5 * S + 50 * MS), "ACK below the timed segment's end");
            assertTrue(rtt.isTiming());
            assertTrue(rtt.onAck(1000, 5 * S + 100 * MS));

            assertFalse(rtt.isTiming());
            assertEquals(100 * MS, rtt.srttNs());
        }

        @Test
        void shouldSampleAcrossSequenceWrap_MUST18()
        {
            rtt.startTiming(0xFFFF_FFF0, 0);
            assertTrue(rtt.onAck(0x10, 80 * MS));
            assertEquals(80 * MS, rtt.srttNs());
        }

        @Test
        void shouldNotSampleAfterRetransmission_MUST18()
        {
            rtt.startTiming(1000, 0);
            rtt.onRetransmit();

            assertFalse(rtt.onAck(1000, 500 * MS));
            assertFalse(rtt.hasSample());
            assertEquals(1 * S, rtt.rtoNs());
        }

        @Test
        void shouldNotSampleAfterTimeout_MUST18()
        {
            rtt.startTiming(1000, 0);
            rtt.onTimeout();

            assertFalse(rtt.onAck(1000, 3 * S));
            assertFalse(rtt.hasSample());
            assertEquals(2 * S, rtt.rtoNs());
        }
    }

    @Test
    void shouldRejectInconsistentBounds()
    {
        assertThrows(IllegalArgumentException.class, () -> new RttEstimator(100 * MS, 200 * MS, 120 * S, MS));
        assertThrows(IllegalArgumentException.class, () -> new RttEstimator(1 * S, 0, 120 * S, MS));
        assertThrows(IllegalArgumentException.class, () -> new RttEstimator(1 * S, 200 * MS, 120 * S, 0));
    }

    @Test
    void shouldTakeTimerSettingsFromConfig_MUST18()
    {
        final RttEstimator fromConfig = new RttEstimator(TcpConfig.builder().rto(1 * S, 1 * S, 60 * S).build());
        fromConfig.onRttSample(10 * MS);
        assertEquals(1 * S, fromConfig.rtoNs());
    }
}
