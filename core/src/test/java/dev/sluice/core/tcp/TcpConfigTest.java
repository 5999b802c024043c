package dev.sluice.core.tcp;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Validated TCP settings.
 */
class TcpConfigTest
{
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    private static void assertRejected(final Executable build, final String messageFragment)
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(messageFragment), e.getMessage());
    }

    @Nested
    class Defaults
    {
        private final TcpConfig config = TcpConfig.builder().build();

        @Test
        void shouldTurnKeepAlivesOffByDefault_MUST25()
        {
            assertFalse(config.keepAliveEnabled());
        }

        @Test
        void shouldDefaultKeepAliveIdleToTwoHours_MUST28()
        {
            assertEquals(7_200 * S, config.keepAliveIdleNs());
        }

        @Test
        void shouldLingerTwiceMslInTimeWait_MUST13()
        {
            assertEquals(2 * config.mslNs(), config.timeWaitNs());
            assertEquals(60 * S, config.timeWaitNs());
        }

        @Test
        void shouldDelayAcksLessThanHalfASecond_MUST40()
        {
            assertTrue(config.delayedAckNs() > 0 && config.delayedAckNs() < 500 * MS);
        }

        @Test
        void shouldStartWithTenSegmentsAndLimitChallengeAcksLikeLinux_RFC6928_RFC5961s7()
        {
            assertEquals(10, config.initialWindowSegments());
            assertEquals(500 * MS, config.challengeAckIntervalNs());
        }

        @Test
        void shouldKeepNagleOnByDefault_SHLD7()
        {
            assertFalse(config.noDelay());
        }

        @Test
        void shouldUseRfc6298InitialRtoAndLinuxBounds_MUST18()
        {
            assertEquals(1 * S, config.rtoInitialNs());
            assertEquals(200 * MS, config.rtoMinNs());
            assertEquals(120 * S, config.rtoMaxNs());
        }

        @Test
        void shouldRetrySynForAtLeastThreeMinutes_MUST23()
        {
            assertTrue(config.synR2Ns() >= 180 * S);
            assertTrue(config.r2Ns() >= 100 * S);
            assertTrue(config.r1Retransmissions() >= 3);
        }

        @Test
        void shouldDefaultToEthernetMssAndSixteenRanges()
        {
            assertEquals(1460, config.mssBytes());
            assertEquals(16, config.maxReassemblyRanges());
            assertEquals(256 * 1024, config.sendBufferBytes());
            assertEquals(256 * 1024, config.receiveBufferBytes());
            assertEquals(128, config.backlog());
        }
    }

    @Nested
    class Rejection
    {
        @Test
        void shouldRejectDelayedAckOfHalfASecond_MUST40()
        {
            assertRejected(() -> TcpConfig.builder().delayedAckNs(500 * MS).build(), "MUST-40");
            assertRejected(() -> TcpConfig.builder().delayedAckNs(-1).build(), "delayedAckNs");
        }

        @Test
        void shouldAcceptDelayedAckJustBelowHalfASecondOrOff_MUST40()
        {
            assertEquals(500 * MS - 1, TcpConfig.builder().delayedAckNs(500 * MS - 1).build().delayedAckNs());
            assertEquals(0, TcpConfig.builder().delayedAckNs(0).build().delayedAckNs());
        }

        @Test
        void shouldRejectSynR2BelowThreeMinutes_MUST23()
        {
            assertRejected(() -> TcpConfig.builder().retransmissionThresholds(3, 100 * S, 127 * S).build(),
                "MUST-23");
        }

        @Test
        void shouldRejectR2BelowHundredSeconds_SHLD11()
        {
            assertRejected(() -> TcpConfig.builder().retransmissionThresholds(3, 99 * S, 180 * S).build(),
                "SHLD-11");
        }

        @Test
        void shouldRejectR1BelowThree_SHLD10()
        {
            assertRejected(() -> TcpConfig.builder().retransmissionThresholds(2, 100 * S, 180 * S).build(),
                "SHLD-10");
        }

        @Test
        void shouldRejectZeroMsl_MUST13()
        {
            assertRejected(() -> TcpConfig.builder().mslNs(0).build(), "MUST-13");
        }

        @Test
        void shouldRejectSingleKeepAliveProbe_MUST29()
        {
            assertRejected(() -> TcpConfig.builder().keepAlive(true, 7_200 * S, 75 * S, 1).build(), "MUST-29");
        }

        @Test
        void shouldLetApplicationConfigureKeepAliveInterval_MUST27()
        {
            final TcpConfig config = TcpConfig.builder().keepAlive(true, 60 * S, 10 * S, 3).build();
            assertTrue(config.keepAliveEnabled());
            assertEquals(60 * S, config.keepAliveIdleNs());
            assertRejected(() -> TcpConfig.builder().keepAlive(true, 0, 10 * S, 3).build(), "MUST-27");
        }

        @Test
        void shouldRejectRtoCeilingBelowSixtySeconds_MUST18()
        {
            assertRejected(() -> TcpConfig.builder().rto(1 * S, 200 * MS, 59 * S).build(), "60 s");
        }

        @Test
        void shouldRejectInitialRtoOutsideBounds_MUST18()
        {
            assertRejected(() -> TcpConfig.builder().rto(100 * MS, 200 * MS, 60 * S).build(), "rtoInitialNs");
            assertRejected(() -> TcpConfig.builder().rto(1 * S, 0, 60 * S).build(), "rtoMinNs");
        }

        @Test
        void shouldRejectGranularityCoarserThanRtoFloor()
        {
            assertRejected(() -> TcpConfig.builder().clockGranularityNs(300 * MS).build(), "clockGranularityNs");
        }

        @Test
        void shouldRejectMssOutOfRange()
        {
            assertRejected(() -> TcpConfig.builder().mssBytes(87).build(), "mssBytes");
            assertRejected(() -> TcpConfig.builder().mssBytes(65_496).build(), "mssBytes");
        }

        @Test
        void shouldRejectBuffersThatAreNotPowersOfTwo()
        {
            assertRejected(() -> TcpConfig.builder().bufferBytes(100_000, 65_536).build(), "sendBufferBytes");
            assertRejected(() -> TcpConfig.builder().bufferBytes(65_536, 1024).build(), "receiveBufferBytes");
            assertRejected(() -> TcpConfig.builder().bufferBytes(65_536, Integer.MIN_VALUE).build(),
                "receiveBufferBytes");
        }

        @Test
        void shouldRejectRangeCountAndBacklogOutOfRange()
        {
            assertRejected(() -> TcpConfig.builder().maxReassemblyRanges(0).build(), "maxReassemblyRanges");
            assertRejected(() -> TcpConfig.builder().maxReassemblyRanges(65).build(), "maxReassemblyRanges");
            assertRejected(() -> TcpConfig.builder().backlog(0).build(), "backlog");
        }

        @Test
        void shouldLetApplicationDisableNagle_MUST17()
        {
            assertTrue(TcpConfig.builder().noDelay(true).build().noDelay());
        }

        @Test
        void shouldRejectInitialWindowAndChallengeAckLimitOutOfRange()
        {
            assertRejected(() -> TcpConfig.builder().initialWindowSegments(0).build(), "initialWindowSegments");
            assertRejected(() -> TcpConfig.builder().initialWindowSegments(65).build(), "initialWindowSegments");
            assertRejected(() -> TcpConfig.builder().challengeAckIntervalNs(-1).build(), "challengeAckIntervalNs");
            assertEquals(4, TcpConfig.builder().initialWindowSegments(4).build().initialWindowSegments());
            assertEquals(0, TcpConfig.builder().challengeAckIntervalNs(0).build().challengeAckIntervalNs());
        }
    }
}
