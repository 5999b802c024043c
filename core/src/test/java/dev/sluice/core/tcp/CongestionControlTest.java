package dev.sluice.core.tcp;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 5681 slow start and congestion avoidance (MUST-19), RFC 6928's initial window, fast retransmit and
 * RFC 6582 NewReno fast recovery, on the congestion state alone.
 */
class CongestionControlTest
{
    private static final int SMSS = 1000;
    private static final int ISS = 0xFFFF_F000; // sequence numbers cross the wrap

    private final CongestionControl cc = new CongestionControl(10);

    CongestionControlTest()
    {
        cc.reset(SMSS, ISS);
    }

    @Nested
    class InitialWindow
    {
        @Test
        void shouldStartWithTenSegmentsCappedAt14600Bytes_RFC6928()
        {
            assertEquals(14_000, CongestionControl.initialWindow(1400, 10));
            assertEquals(14_600, CongestionControl.initialWindow(1460, 10));
            assertEquals(5_360, CongestionControl.initialWindow(536, 10));
            assertEquals(14_600, CongestionControl.initialWindow(4000, 10), "max(2 * SMSS, 14600)");
            assertEquals(18_000, CongestionControl.initialWindow(9000, 10), "at least 2 * SMSS");
            assertEquals(4_380, CongestionControl.initialWindow(1460, 3), "RFC 3390-like configurations");
            assertEquals(10_000, cc.cwnd());
            assertEquals(Integer.MAX_VALUE, cc.ssthresh(), "arbitrarily high (RFC 5681 §3.1)");
        }

        @Test
        void shouldRejectAnInitialWindowBelowOneSegment()
        {
            assertThrows(IllegalArgumentException.class, () -> new CongestionControl(0));
        }
    }

    @Nested
    class SlowStartAndCongestionAvoidance
    {
        @Test
        void shouldGrowByAtMostOneSmssPerAckInSlowStart_MUST19()
        {
            cc.onNewAck(2 * SMSS, ISS + 2001, 8 * SMSS);
            assertEquals(11_000, cc.cwnd(), "byte counting with L = 1 SMSS (RFC 3465)");
            cc.onNewAck(500, ISS + 2501, 8 * SMSS);
            assertEquals(11_500, cc.cwnd());
        }

        @Test
        void shouldGrowByOneSmssPerWindowInCongestionAvoidance_MUST19()
        {
            cc.onRetransmissionTimeout(8 * SMSS, ISS + 8001, true); // ssthresh 4000, cwnd 1000
            int seq = ISS + 1;
            while (cc.cwnd() < cc.ssthresh())
            {
                seq += SMSS;
                cc.onNewAck(SMSS, seq, 0);
            }
            assertEquals(4_000, cc.cwnd());
            for (int i = 0; i < 3; i++)
            {
                seq += SMSS;
                cc.onNewAck(SMSS, seq, 0);
            }
            assertEquals(4_000, cc.cwnd(), "less than one window acknowledged");
            seq += SMSS;
            cc.onNewAck(SMSS, seq, 0);
            assertEquals(5_000, cc.cwnd(), "one SMSS after cwnd bytes (RFC 5681 (3))");
        }
    }

    @Nested
    class Loss
    {
        @Test
        void shouldCollapseToOneSegmentAndHalveFlightOnRto_MUST19()
        {
            cc.onRetransmissionTimeout(9 * SMSS, ISS + 9001, true);
            assertEquals(SMSS, cc.cwnd(), "loss window (RFC 5681 (4))");
            assertEquals(4_500, cc.ssthresh(), "FlightSize / 2");
            cc.onRetransmissionTimeout(SMSS, ISS + 9001, false);
            assertEquals(4_500, cc.ssthresh(), "a repeated timeout of the same segment does not halve again");
            cc.onRetransmissionTimeout(SMSS, ISS + 9001, true);
            assertEquals(2 * SMSS, cc.ssthresh(), "at least 2 * SMSS");
        }

        @Test
        void shouldFastRetransmitOnTheThirdDuplicateAck_RFC5681s3_2()
        {
            final int sndUna = ISS + 1;
            final int sndNxt = ISS + 1 + 10 * SMSS;
            assertFalse(cc.onDuplicateAck(sndUna, sndNxt, 10 * SMSS));
            assertFalse(cc.onDuplicateAck(sndUna, sndNxt, 10 * SMSS));
            assertTrue(cc.onDuplicateAck(sndUna, sndNxt, 10 * SMSS));
            assertTrue(cc.inRecovery());
            assertEquals(5_000, cc.ssthresh());
            assertEquals(8_000, cc.cwnd(), "ssthresh + 3 * SMSS");
            assertFalse(cc.onDuplicateAck(sndUna, sndNxt, 10 * SMSS), "one fast retransmit per loss");
            assertEquals(9_000, cc.cwnd(), "inflated by one SMSS per further duplicate");
            assertEquals(1, cc.fastRetransmits());
        }

        @Test
        void shouldRetransmitOnPartialAckAndDeflateOnFullAck_RFC6582()
        {
            final int sndUna = ISS + 1;
            final int sndNxt = ISS + 1 + 10 * SMSS;
            for (int i = 0; i < 3; i++)
            {
                cc.onDuplicateAck(sndUna, sndNxt, 10 * SMSS);
            }
            assertTrue(cc.onNewAck(2 * SMSS, sndUna + 2 * SMSS, 8 * SMSS), "partial ACK: retransmit");
            assertEquals(7_000, cc.cwnd(), "8000 - 2000 acked + 1 SMSS");
            assertTrue(cc.inRecovery());

            assertFalse(cc.onNewAck(8 * SMSS, sndNxt, 0), "full ACK");
            assertFalse(cc.inRecovery());
            assertEquals(2 * SMSS, cc.cwnd(), "min(ssthresh, max(FlightSize, SMSS) + SMSS)");
        }

        @Test
        void shouldNotFastRetransmitForDuplicatesOfTheFlightAnRtoResent_RFC6582s4()
        {
            final int sndNxt = ISS + 1 + 10 * SMSS;
            cc.onRetransmissionTimeout(10 * SMSS, sndNxt, true);
            for (int i = 0; i < 3; i++)
            {
                assertFalse(cc.onDuplicateAck(ISS + 1 + SMSS, sndNxt, 9 * SMSS));
            }
            assertFalse(cc.inRecovery());
        }
    }
}
