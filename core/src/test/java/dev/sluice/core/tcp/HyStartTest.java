package dev.sluice.core.tcp;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 9406 HyStart++ through {@link CongestionControl}: rounds, the delay-increase test with its thresholds and
 * sample count, Conservative Slow Start, the return to slow start after a spurious exit, the end of CSS after
 * CSS_ROUNDS rounds, and the end of HyStart++ on loss. Each round sends the whole cwnd and is acknowledged one
 * segment at a time, every ACK measuring the round's RTT.
 */
class HyStartTest
{
    private static final int SMSS = 1000;
    private static final int ISS = 0xFFFF_0000; // sequence numbers cross the wrap
    private static final long MS = 1_000_000L;

    /** A sender that sends whole rounds and gets one ACK per segment, each measuring the round's RTT. */
    private static final class Sender
    {
        final CongestionControl cc;
        int una = ISS + 1;
        long nowNs;

        Sender(final boolean hyStart)
        {
            cc = new CongestionControl(10, hyStart);
            cc.reset(SMSS, ISS);
        }

        /** One round: cwnd bytes sent at once, then acknowledged one segment per ACK, each measuring rttNs. */
        void round(final long rttNs)
        {
            final int nxt = una + cc.cwnd();
            while (una != nxt)
            {
                final int acked = Math.min(SMSS, nxt - una);
                una += acked;
                nowNs += 10_000;
                cc.onNewAck(acked, una, nxt - una, nowNs, rttNs, rttNs);
            }
        }
    }

    private final Sender sender = new Sender(true);
    private final CongestionControl cc = sender.cc;

    private void round(final long rttNs)
    {
        sender.round(rttNs);
    }

    @Nested
    class DelayIncrease
    {
        @Test
        void shouldDoubleCwndPerRoundWhileTheRttIsFlat_RFC9406s4_2()
        {
            round(20 * MS);
            assertEquals(20_000, cc.cwnd(), "cwnd += min(N, L * SMSS) per ACK: doubled in a round");
            round(20 * MS);
            round(20 * MS);
            assertEquals(80_000, cc.cwnd());
            assertFalse(cc.inConservativeSlowStart());
            assertEquals(Integer.MAX_VALUE, cc.ssthresh());
        }

        @Test
        void shouldEnterConservativeSlowStartWhenTheRoundMinimumGrowsByRttThresh_RFC9406s4_2()
        {
            round(20 * MS);
            round(20 * MS);
            // RttThresh = max(4 ms, min(20 ms / 8, 16 ms)) = 4 ms
            round(24 * MS);
            assertTrue(cc.inConservativeSlowStart(), "24 ms >= 20 ms + 4 ms");
            assertEquals(Integer.MAX_VALUE, cc.ssthresh(), "CSS is still slow start: ssthresh untouched");
        }

        @Test
        void shouldStayInSlowStartBelowRttThresh_RFC9406s4_2()
        {
            round(20 * MS);
            round(20 * MS);
            round(23 * MS);
            assertFalse(cc.inConservativeSlowStart(), "23 ms < 20 ms + 4 ms");
            round(26 * MS);
            assertFalse(cc.inConservativeSlowStart(), "26 ms < 23 ms + 4 ms: compared with the last round");
        }

        @Test
        void shouldBoundRttThreshByMinAndMaxRttThresh_RFC9406s4_3()
        {
            // lastRoundMinRTT 200 ms: 200 / 8 = 25 ms, capped at MAX_RTT_THRESH = 16 ms
            round(200 * MS);
            round(200 * MS);
            round(215 * MS);
            assertFalse(cc.inConservativeSlowStart(), "15 ms < MAX_RTT_THRESH");
            round(232 * MS);
            assertTrue(cc.inConservativeSlowStart(), "17 ms over 215 ms >= MAX_RTT_THRESH");

            // lastRoundMinRTT 80 ms: 80 / 8 = 10 ms between the bounds
            final Sender other = new Sender(true);
            final CongestionControl mid = other.cc;
            other.round(80 * MS);
            other.round(80 * MS);
            other.round(89 * MS);
            assertFalse(mid.inConservativeSlowStart(), "9 ms < 80 ms / MIN_RTT_DIVISOR");
            other.round(100 * MS);
            assertFalse(mid.inConservativeSlowStart(), "11 ms < 89 ms / 8 = 11.1 ms");
            other.round(113 * MS);
            assertTrue(mid.inConservativeSlowStart(), "13 ms over 100 ms >= 100 ms / 8");
        }

        @Test
        void shouldNotCompareARoundWithFewerThanNRttSamples_RFC9406s4_3()
        {
            // IW = 10 segments: round 1 has 10 samples; then feed a round with only the timed segment's sample
            round(20 * MS);
            final int nxt = sender.una + cc.cwnd();
            for (int i = 0; sender.una != nxt; i++)
            {
                sender.una += SMSS;
                // seven samples of 40 ms, then ACKs without a sample
                cc.onNewAck(SMSS, sender.una, nxt - sender.una, sender.nowNs, 20 * MS,
                    i < HyStart.N_RTT_SAMPLE - 1 ? 40 * MS : -1);
            }
            assertFalse(cc.inConservativeSlowStart(), "7 samples < N_RTT_SAMPLE");
            round(20 * MS);
            assertFalse(cc.inConservativeSlowStart());
        }

        @Test
        void shouldRunStandardSlowStartWhenDisabled_RFC9406s4_3()
        {
            final Sender other = new Sender(false);
            final CongestionControl off = other.cc;
            other.round(20 * MS);
            other.round(20 * MS);
            other.round(40 * MS);
            other.round(80 * MS);
            assertFalse(off.inConservativeSlowStart());
            assertEquals(160_000, off.cwnd(), "doubling per round whatever the RTT");
        }
    }

    @Nested
    class ConservativeSlowStart
    {
        private void enterCss()
        {
            round(20 * MS);
            round(20 * MS);
            round(30 * MS);
            assertTrue(cc.inConservativeSlowStart());
        }

        @Test
        void shouldGrowByAQuarterOfSlowStartInCss_RFC9406s4_2()
        {
            enterCss();
            final int before = cc.cwnd();
            round(30 * MS);
            assertEquals(before + before / HyStart.CSS_GROWTH_DIVISOR, cc.cwnd(),
                "cwnd += min(N, L * SMSS) / CSS_GROWTH_DIVISOR per ACK");
        }

        @Test
        void shouldEnterCongestionAvoidanceAfterCssRounds_RFC9406s4_2()
        {
            enterCss();
            for (int i = 0; i < HyStart.CSS_ROUNDS - 1; i++)
            {
                round(30 * MS);
                assertTrue(cc.inConservativeSlowStart(), "CSS round " + (i + 2));
                assertEquals(Integer.MAX_VALUE, cc.ssthresh());
            }
            round(30 * MS);
            assertFalse(cc.inConservativeSlowStart());
            assertEquals(cc.cwnd(), cc.ssthresh(), "ssthresh = cwnd: congestion avoidance");
            final int cwnd = cc.cwnd();
            round(30 * MS);
            assertEquals(cwnd + SMSS, cc.cwnd(), "one SMSS per round from now on (RFC 5681 (3))");
        }

        @Test
        void shouldReturnToSlowStartWhenTheRttFallsBelowTheCssBaseline_RFC9406s4_2()
        {
            enterCss(); // cssBaselineMinRtt = 30 ms
            round(25 * MS);
            assertFalse(cc.inConservativeSlowStart(), "25 ms < the baseline: the exit was spurious");
            assertEquals(Integer.MAX_VALUE, cc.ssthresh());
            final int before = cc.cwnd();
            round(25 * MS);
            assertEquals(2 * before, cc.cwnd(), "slow start again, HyStart++ included");
            round(40 * MS);
            assertTrue(cc.inConservativeSlowStart(), "the delay test runs again: 40 ms >= 25 ms + 4 ms");
        }

        @Test
        void shouldStayInCssWhileTheRttStaysAtTheBaseline_RFC9406s4_2()
        {
            enterCss();
            round(30 * MS);
            round(35 * MS);
            assertTrue(cc.inConservativeSlowStart());
        }
    }

    @Nested
    class Loss
    {
        @Test
        void shouldEndHyStartOnFastRetransmit_RFC9406s4_2()
        {
            round(20 * MS);
            round(20 * MS);
            round(30 * MS);
            assertTrue(cc.inConservativeSlowStart());
            final int nxt = sender.una + cc.cwnd();
            for (int i = 0; i < CongestionControl.DUP_ACK_THRESHOLD; i++)
            {
                cc.onDuplicateAck(sender.una, nxt, nxt - sender.una);
            }
            assertTrue(cc.inRecovery());
            assertFalse(cc.inConservativeSlowStart(), "a loss ends CSS: congestion avoidance after recovery");
            assertTrue(cc.ssthresh() < Integer.MAX_VALUE);
        }

        @Test
        void shouldUseStandardSlowStartAfterATimeout_RFC9406s4_3()
        {
            round(20 * MS);
            round(20 * MS);
            cc.onRetransmissionTimeout(cc.cwnd(), sender.una + cc.cwnd(), true);
            final int ssthresh = cc.ssthresh();
            // slow start up to ssthresh is standard: a growing RTT no longer leads to CSS
            round(20 * MS);
            round(20 * MS);
            round(60 * MS);
            round(100 * MS);
            round(140 * MS);
            assertFalse(cc.inConservativeSlowStart());
            assertTrue(cc.cwnd() >= ssthresh, "slow start reached ssthresh " + ssthresh + ": " + cc.cwnd());
        }

        @Test
        void shouldEndHyStartOnSackRecovery_RFC9406s4_2()
        {
            round(20 * MS);
            round(20 * MS);
            round(30 * MS);
            final int nxt = sender.una + cc.cwnd();
            assertTrue(cc.enterSackRecovery(sender.una, nxt, nxt - sender.una));
            assertFalse(cc.inConservativeSlowStart());
        }
    }
}
