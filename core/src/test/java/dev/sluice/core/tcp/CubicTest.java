package dev.sluice.core.tcp;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 9438 CUBIC: the window function, K, the Reno-friendly region, the concave and convex regions, fast
 * convergence, the multiplicative decrease on loss and on RTO, and the per-ACK growth cap; on the
 * {@link CubicCongestionControl} and through {@link CongestionControl}.
 */
class CubicTest
{
    private static final int SMSS = 1000;
    private static final int ISS = 0xFFFF_F000; // sequence numbers cross the wrap
    private static final long MS = 1_000_000L;

    /** Feeds one window's worth of one-segment ACKs spread evenly over {@code rttNs}; returns the new cwnd. */
    private static int oneRoundTrip(
        final CubicCongestionControl cubic, final int cwnd, final long startNs, final long rttNs)
    {
        int window = cwnd;
        final int acks = cwnd / SMSS;
        for (int i = 0; i < acks; i++)
        {
            window = cubic.onAvoidanceAck(window, SMSS, SMSS, startNs + rttNs * i / acks, rttNs);
        }
        return window;
    }

    @Nested
    class WindowFunction
    {
        @Test
        void shouldComputeKFromWmaxAndTheEpochWindow_RFC9438s4_2()
        {
            assertEquals(Math.cbrt(75), CubicCongestionControl.k(100, 70), 1e-12, "K = cbrt((W_max - cwnd_epoch) / C)");
            assertEquals(4.2172, CubicCongestionControl.k(100, 70), 1e-4);
            assertEquals(0, CubicCongestionControl.k(50, 50), 0, "no distance to W_max: K = 0");
            assertEquals(Math.cbrt(3 / 0.4), CubicCongestionControl.k(10, 7), 1e-12);
        }

        @Test
        void shouldPassThroughTheEpochWindowAtZeroAndWmaxAtK_RFC9438s4_2()
        {
            final double k = CubicCongestionControl.k(100, 70);
            assertEquals(70, CubicCongestionControl.window(0, k, 100), 1e-9, "W_cubic(0) = cwnd_epoch");
            assertEquals(100, CubicCongestionControl.window(k, k, 100), 1e-12, "W_cubic(K) = W_max: the plateau");
            assertEquals(100.4, CubicCongestionControl.window(k + 1, k, 100), 1e-9,
                "C (1 s)^3 above W_max one second later");
            assertEquals(99.6, CubicCongestionControl.window(k - 1, k, 100), 1e-9, "and C below it one second earlier");
            assertEquals(100 + 0.4 * 8, CubicCongestionControl.window(k + 2, k, 100), 1e-9);
        }

        @Test
        void shouldUseTheConstantsOfTheRfc_RFC9438s4_3_s4_6_s5_1()
        {
            assertEquals(0.4, CubicCongestionControl.C);
            assertEquals(0.7, CubicCongestionControl.BETA);
            assertEquals(3 * 0.3 / 1.7, CubicCongestionControl.ALPHA, 1e-12, "alpha_cubic = 3 (1 - beta) / (1 + beta)");
        }
    }

    @Nested
    class Regions
    {
        @Test
        void shouldGrowConcaveTowardsWmaxAndReachItAroundK_RFC9438s4_4()
        {
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            final int ssthresh = cubic.onCongestionEvent(100 * SMSS, 100 * SMSS, SMSS); // W_max 100
            assertEquals(70 * SMSS, ssthresh);
            final long rttNs = 100 * MS;
            int cwnd = ssthresh;
            long now = 0;
            int previous = cwnd;
            double previousStep = Double.MAX_VALUE;
            while (now < 4_000 * MS)
            {
                cwnd = oneRoundTrip(cubic, cwnd, now, rttNs);
                now += rttNs;
                assertTrue(cwnd >= previous, "never shrinks");
                if (now > 500 * MS) // once W_cubic is above W_est: steps shrink as cwnd nears the plateau
                {
                    assertTrue(cwnd - previous <= previousStep + SMSS / 100, "concave: " + (cwnd - previous));
                    previousStep = cwnd - previous;
                }
                previous = cwnd;
            }
            assertEquals(CubicCongestionControl.k(100, 70), cubic.kFrom(0), 1e-3, "to the ~1 ms time unit");
            assertTrue(cwnd > 95 * SMSS && cwnd <= 100 * SMSS, "near W_max (100 segments) before K: " + cwnd);
            for (int i = 0; i < 10; i++) // 1 s on the plateau and past it
            {
                cwnd = oneRoundTrip(cubic, cwnd, now, rttNs);
                now += rttNs;
            }
            final double expected = CubicCongestionControl.window(now / 1e9 + 0.1, cubic.kFrom(0), 100);
            assertEquals(expected * SMSS, cwnd, 2 * SMSS, "follows W_cubic(t + RTT)");
        }

        @Test
        void shouldGrowConvexBeyondWmax_RFC9438s4_5()
        {
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            int cwnd = cubic.onCongestionEvent(100 * SMSS, 100 * SMSS, SMSS);
            final long rttNs = 100 * MS;
            long now = 0;
            while (now < 5_000 * MS) // up to and past K = 4.2 s
            {
                cwnd = oneRoundTrip(cubic, cwnd, now, rttNs);
                now += rttNs;
            }
            int previous = cwnd;
            int previousStep = 0;
            for (int i = 0; i < 20; i++)
            {
                cwnd = oneRoundTrip(cubic, cwnd, now, rttNs);
                now += rttNs;
                assertTrue(cwnd - previous >= previousStep - SMSS / 100, "convex: steps grow, " + (cwnd - previous));
                previousStep = cwnd - previous;
                previous = cwnd;
            }
            assertTrue(cwnd > 105 * SMSS, "probing above W_max: " + cwnd);
        }

        @Test
        void shouldFollowRenoWhereCubicIsSlower_RFC9438s4_3()
        {
            // a short RTT and a small W_max: W_cubic(t) stays below what Reno (alpha_cubic per RTT) reaches
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            int cwnd = cubic.onCongestionEvent(10 * SMSS, 10 * SMSS, SMSS); // W_max 10, cwnd_epoch 7
            final long rttNs = MS;
            long now = 0;
            for (int i = 0; i < 20; i++)
            {
                cwnd = oneRoundTrip(cubic, cwnd, now, rttNs);
                now += rttNs;
            }
            assertTrue(CubicCongestionControl.window(now / 1e9, cubic.kFrom(0), 10) < cubic.wEst(),
                "Reno-friendly region");
            assertEquals(cubic.wEst() * SMSS, cwnd, SMSS, "cwnd = W_est");
            // alpha_cubic (0.53) segments per RTT until W_est reaches cwnd_prior (10), then 1 per RTT
            // 3 / 0.53 = 5.7 RTTs from 7 to 10, then 14.3 RTTs at one per RTT: about 24 segments
            assertTrue(cwnd >= 22 * SMSS && cwnd <= 25 * SMSS, "Reno's growth: " + cwnd);
        }

        @Test
        void shouldGrowTheRenoEstimateByAlphaPerRoundTripAtLargeWindows_RFC9438s4_3()
        {
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            final int cwnd = cubic.onCongestionEvent(20_000 * SMSS, 20_000 * SMSS, SMSS); // 14,000 segments
            oneRoundTrip(cubic, cwnd, 0, 100 * MS);
            // 14,000 steps of alpha / 14,000 (3.8e-5 each, below a float's resolution at 14,000)
            assertEquals(14_000 + CubicCongestionControl.ALPHA, cubic.wEst(), 0.005, "cwnd grows a little meanwhile");
        }

        @Test
        void shouldGrowAtMostHalfAnAckedSegmentPerAck_RFC9438s4_4_target()
        {
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            final int cwnd = cubic.onCongestionEvent(100 * SMSS, 100 * SMSS, SMSS);
            int window = cubic.onAvoidanceAck(cwnd, SMSS, SMSS, 0, 100 * MS); // the epoch starts
            final int before = window;
            window = cubic.onAvoidanceAck(window, SMSS, SMSS, 100_000 * MS, 100 * MS); // W_cubic far above
            assertEquals(before + SMSS / 2, window, 1, "target capped at 1.5 cwnd: (target - cwnd) / cwnd = 0.5");
        }
    }

    @Nested
    class Reductions
    {
        @Test
        void shouldNotCountIdleTimeAsGrowthTime_RFC9438s4_2()
        {
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            int cwnd = cubic.onCongestionEvent(100 * SMSS, 100 * SMSS, SMSS);
            cwnd = cubic.onAvoidanceAck(cwnd, SMSS, SMSS, 0, 100 * MS); // the epoch starts at 0
            cubic.restartEpoch(); // idle restart
            final int before = cwnd;
            cwnd = cubic.onAvoidanceAck(cwnd, SMSS, SMSS, 60_000 * MS, 100 * MS); // a minute later
            assertTrue(cwnd - before < SMSS / 10, "a new epoch, not t = 60 s: " + (cwnd - before));
        }

        @Test
        void shouldRememberCwndAsWmaxAndMultiplyByBeta_RFC9438s4_6()
        {
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            assertEquals(70_000, cubic.onCongestionEvent(100 * SMSS, 100 * SMSS, SMSS), "FlightSize * 0.7");
            assertEquals(100, cubic.wMax(), 1e-12);
            assertEquals(2 * SMSS, cubic.onCongestionEvent(200 * SMSS, 2 * SMSS, SMSS), "at least 2 SMSS");
        }

        @Test
        void shouldReleaseBandwidthFasterWhenWmaxShrinks_RFC9438s4_7()
        {
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            cubic.onCongestionEvent(100 * SMSS, 100 * SMSS, SMSS);
            assertEquals(100, cubic.wMax(), 1e-12);
            cubic.onCongestionEvent(80 * SMSS, 80 * SMSS, SMSS); // below the last W_max: another flow came
            assertEquals(80 * 1.7 / 2, cubic.wMax(), 1e-9, "W_max = cwnd * (1 + beta) / 2");
            cubic.onCongestionEvent(120 * SMSS, 120 * SMSS, SMSS);
            assertEquals(120, cubic.wMax(), 1e-12, "above it: W_max = cwnd");
        }

        @Test
        void shouldRestartFromKZeroAfterATimeout_RFC9438s4_8()
        {
            final CubicCongestionControl cubic = new CubicCongestionControl(10);
            cubic.resetCubic();
            cubic.onCongestionEvent(100 * SMSS, 100 * SMSS, SMSS);
            assertEquals(56_000, cubic.onTimeout(80 * SMSS, 80 * SMSS, SMSS, true, 70_000), "ssthresh by beta");
            assertEquals(56_000, cubic.onTimeout(SMSS, 80 * SMSS, SMSS, false, 56_000), "not again (RFC 5681)");
            cubic.onAvoidanceAck(56 * SMSS, SMSS, SMSS, 7_000 * MS, 100 * MS); // first epoch after the RTO
            assertEquals(0, cubic.kFrom(7_000 * MS), 0, "K = 0");
            assertEquals(56, cubic.wMax(), 1e-12, "W_max = cwnd_epoch");
        }
    }

    @Nested
    class WithinCongestionControl
    {
        private final CongestionControl cc = CongestionControl.create(10, CongestionAlgorithm.CUBIC);

        WithinCongestionControl()
        {
            cc.reset(SMSS, ISS);
        }

        @Test
        void shouldBeTheDefaultWithNewRenoSelectablePerStack_RFC9438s1()
        {
            assertEquals(CongestionAlgorithm.CUBIC, TcpConfig.builder().build().congestionControl());
            assertEquals(CongestionAlgorithm.CUBIC, new LossRecovery(TcpConfig.builder().build()).congestion.algorithm());
            final TcpConfig config = TcpConfig.builder().congestionControl(CongestionAlgorithm.NEWRENO).build();
            assertEquals(CongestionAlgorithm.NEWRENO, config.congestionControl());
            assertEquals(CongestionAlgorithm.NEWRENO, new LossRecovery(config).congestion.algorithm());
        }

        @Test
        void shouldFastRetransmitWithBetaCubic_RFC9438s4_6()
        {
            assertEquals(CongestionAlgorithm.CUBIC, cc.algorithm());
            cc.onDuplicateAck(ISS + 1, ISS + 1 + 100_000, 100_000);
            cc.onDuplicateAck(ISS + 1, ISS + 1 + 100_000, 100_000);
            assertTrue(cc.onDuplicateAck(ISS + 1, ISS + 1 + 100_000, 100_000));
            assertEquals(70_000, cc.ssthresh(), "FlightSize * beta_cubic");
            assertEquals(73_000, cc.cwnd(), "ssthresh + 3 SMSS (RFC 6582 unchanged)");
            assertFalse(cc.onNewAck(100_000, ISS + 1 + 100_000, 0, 0, 0));
            assertEquals(2_000, cc.cwnd(), "full ACK: min(ssthresh, max(FlightSize, SMSS) + SMSS)");
        }

        @Test
        void shouldEnterSackRecoveryWithBetaCubic_RFC9438s4_6()
        {
            assertTrue(cc.enterSackRecovery(ISS + 1, ISS + 1 + 100_000, 100_000));
            assertEquals(70_000, cc.ssthresh());
            assertEquals(70_000, cc.cwnd());
        }

        @Test
        void shouldCollapseToOneSegmentOnTimeoutWithBetaCubicSsthresh_RFC9438s4_8()
        {
            cc.onRetransmissionTimeout(100_000, ISS + 1 + 100_000, true);
            assertEquals(70_000, cc.ssthresh());
            assertEquals(SMSS, cc.cwnd(), "cwnd = 1 SMSS like Reno");
            cc.onRetransmissionTimeout(100_000, ISS + 1 + 100_000, false);
            assertEquals(70_000, cc.ssthresh(), "a repeated timeout does not reduce ssthresh again");
        }

        @Test
        void shouldSlowStartLikeReno_RFC9438s4_10()
        {
            cc.onNewAck(2 * SMSS, ISS + 2001, 8 * SMSS);
            assertEquals(11_000, cc.cwnd(), "slow start is RFC 5681's");
        }

        @Test
        void shouldGrowFasterThanRenoAtALargeWindowAndLongRtt_RFC9438s4_4()
        {
            final CongestionControl reno = CongestionControl.create(10, CongestionAlgorithm.NEWRENO);
            reno.reset(SMSS, ISS);
            assertEquals(CongestionAlgorithm.NEWRENO, reno.algorithm());
            final int flight = 1_000 * SMSS; // 1000 segments, e.g. 120 Mbit/s at 100 ms
            for (final CongestionControl c : new CongestionControl[] {cc, reno})
            {
                c.enterSackRecovery(ISS + 1, ISS + 1 + flight, flight);
                c.onNewAck(flight, ISS + 1 + flight, 0, 0, 0); // full ACK
            }
            final long rttNs = 100 * MS;
            int seq = ISS + 1 + flight;
            for (long now = 0; now < 10_000 * MS; now += MS) // 10 s, an ACK of 10 segments every ms
            {
                seq += 10 * SMSS;
                cc.onNewAck(10 * SMSS, seq, 0, now, rttNs);
                reno.onNewAck(10 * SMSS, seq, 0, now, rttNs);
            }
            assertTrue(cc.cwnd() > 900 * SMSS, "CUBIC back near W_max (1000 segments): " + cc.cwnd());
            assertTrue(reno.cwnd() < 700 * SMSS, "Reno: 500 + 100 RTTs at most: " + reno.cwnd());
        }

    }
}
