package dev.sluice.core.tcp;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.PSH;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * RACK-TLP (RFC 8985) on a connection whose peer uses SACK, in virtual time: RACK's time-based loss detection
 * (§6.2) with its reordering window and timer (§6.3), and the tail loss probe (§7.2-§7.4). The round trip is
 * 20 ms; min_RTT / 4 = 5 ms is the reordering window.
 */
class TcpConnectionRackTest extends TcpConnectionScript
{
    private static final int MSS = 1000;
    private static final long RTT_NS = 20_000_000L;
    private static final long MS = 1_000_000L;

    private final TcpRecoveryCounters counters = new TcpRecoveryCounters();
    private final List<Integer> retransmitted = new ArrayList<>();
    private int iss;
    private int base; // first sequence number of segment 0 of the flight under test

    /** MSS 1000, SACK-permitted, NOP NOP: a peer offering SACK without timestamps. */
    private static byte[] synSackOption()
    {
        return new byte[] {2, 4, (byte)(MSS >> 8), (byte)MSS, 4, 2, 1, 1};
    }

    /** NOP NOP SACK with the given edges (left, right, ...); none: no option. */
    private static byte[] sackOption(final int... edges)
    {
        if (edges.length == 0)
        {
            return new byte[0];
        }
        final byte[] option = new byte[4 + 4 * edges.length];
        option[0] = 1;
        option[1] = 1;
        option[2] = 5;
        option[3] = (byte)(2 + 4 * edges.length);
        for (int i = 0; i < edges.length; i++)
        {
            option[4 + 4 * i] = (byte)(edges[i] >>> 24);
            option[5 + 4 * i] = (byte)(edges[i] >>> 16);
            option[6 + 4 * i] = (byte)(edges[i] >>> 8);
            option[7 + 4 * i] = (byte)edges[i];
        }
        return option;
    }

    @BeforeEach
    void establishedWithSackAndRtt()
    {
        assertTrue(config.rack(), "RACK-TLP is on by default (Linux's tcp_recovery)");
        connection.recoveryCounters(counters);
        listen();
        send(seg(REMOTE_ISS, SYN).withRawOptions(synSackOption()));
        iss = expectedIss();
        expect(iss, REMOTE_ISS + 1, SYN | ACK);
        send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(60_000));
        connection.noDelay(true);
        // two segments answered after one round trip: SRTT = min_RTT = 20 ms
        base = iss + 1;
        sendSegments(2);
        nowNs += RTT_NS;
        ack(seq(2));
        base = seq(2);
        output.sent.clear();
    }

    private int seq(final int segment)
    {
        return base + MSS * segment;
    }

    // queues n segments and lets them go
    private void sendSegments(final int n)
    {
        assertEquals(n * MSS, connection.send(new UnsafeBuffer(new byte[n * MSS]), 0, n * MSS));
        poll();
        for (int k = 0; k < n; k++)
        {
            expectData(seq(k), REMOTE_ISS + 1, k == n - 1 ? ACK | PSH : ACK, MSS);
        }
        expectNothing();
    }

    private void ack(final int cumulative, final int... sackEdges)
    {
        send(seg(REMOTE_ISS + 1, 0).withAck(cumulative).withWindow(60_000).withRawOptions(sackOption(sackEdges)));
        poll();
        collectRetransmissions();
    }

    private void fireTimerAt(final long deadlineNs)
    {
        nowNs = deadlineNs;
        connection.onTimer(nowNs);
        poll();
        collectRetransmissions();
    }

    private void collectRetransmissions()
    {
        while (!output.sent.isEmpty())
        {
            final Sent sent = output.sent.poll();
            if (sent.payload().length > 0)
            {
                retransmitted.add(Math.floorDiv(sent.seq() - base, MSS));
            }
        }
    }

    @Nested
    class LossDetection
    {
        @Test
        void shouldWaitTheReorderingWindowBeforeDeemingASegmentLost_RFC8985s6_2_step5()
        {
            final long sentNs = nowNs;
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(2)); // segment 1 arrived, segment 0 not (yet): reordering or loss?
            assertEquals(List.of(), retransmitted, "within min_RTT / 4 of its expected delivery: not lost yet");
            assertEquals(sentNs + RTT_NS + RTT_NS / 4, connection.nextDeadlineNs(),
                "RACK's reordering timer: xmit_ts + RACK.rtt + reo_wnd (§6.3)");
            fireTimerAt(connection.nextDeadlineNs());
            assertEquals(List.of(0), retransmitted, "the timer found it lost");
            assertEquals(1, counters.rackLosses());
            assertEquals(1, counters.sackRecoveries());
            assertEquals(0, counters.retransmissionTimeouts());
        }

        @Test
        void shouldTellEachSegmentOfALargeSendSackedOrLost_RFC8985s6_2_RFC2018s3()
        {
            output.largeSegmentBytes = 64 * MSS; // segmentation offload: the ten segments leave in one call
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(2), seq(3), seq(10)); // 1 and 3..9 arrived: 0 and 2 are lost, nothing else
            assertEquals(List.of(0, 2), retransmitted, "the two lost segments, not the whole large send");
            assertEquals(2, counters.rackLosses());
            nowNs += RTT_NS;
            ack(seq(10));
            assertEquals(List.of(0, 2), retransmitted);
            assertEquals(0, counters.dsacks());
            assertEquals(0, counters.retransmissionTimeouts());
        }

        @Test
        void shouldNotRetransmitWhenTheReorderedSegmentArrivesWithinTheWindow_RFC8985s6_2()
        {
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(2));
            nowNs += 3 * MS; // segment 0 arrives late, within reo_wnd
            ack(seq(2));
            nowNs += 2 * MS;
            ack(seq(10));
            assertEquals(List.of(), retransmitted);
            assertEquals(0, counters.rackLosses());
            assertEquals(0, counters.sackRecoveries(), "no spurious fast retransmit");
        }

        @Test
        void shouldDeemLostAtOnceWhenDupThreshSegmentsAreSackedBeforeReorderingIsSeen_RFC8985s6_2_step4()
        {
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(4)); // three segments SACKed, no reordering seen: reo_wnd = 0
            assertEquals(List.of(0), retransmitted);
            assertEquals(1, counters.rackLosses());
        }

        @Test
        void shouldKeepTheWindowOnceReorderingWasSeen_RFC8985s6_2_step3()
        {
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(2));
            nowNs += MS;
            ack(seq(3)); // segment 0 delivered below RACK.fack, never retransmitted: reordering_seen
            ack(seq(10));
            base = seq(10);
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(5)); // four SACKed: reo_wnd stays min_RTT / 4 now
            assertEquals(List.of(), retransmitted, "reordering seen: DupThresh SACKed segments no longer suffice");
            fireTimerAt(connection.nextDeadlineNs());
            assertEquals(List.of(0), retransmitted);
        }

        @Test
        void shouldWidenTheWindowAfterADsack_RFC8985s6_2_step4()
        {
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(2));
            fireTimerAt(connection.nextDeadlineNs()); // segment 0 deemed lost after 5 ms and sent again
            assertEquals(List.of(0), retransmitted);
            nowNs += MS;
            ack(seq(10), seq(0), seq(1)); // the original arrived too: D-SACK, the retransmission was spurious
            assertEquals(1, counters.dsacks());
            assertEquals(1, counters.spuriousRetransmissions());
            retransmitted.clear();
            base = seq(10);
            final long sentNs = nowNs;
            sendSegments(2); // cwnd after the recovery
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(2));
            assertEquals(sentNs + RTT_NS + 2 * (RTT_NS / 4), connection.nextDeadlineNs(),
                "reo_wnd_mult = 2: twice min_RTT / 4");
        }
    }

    @Nested
    class TailLossProbe
    {
        @Test
        void shouldProbeTheLastSegmentAtTwoSrtt_RFC8985s7_2_s7_3()
        {
            final long sentNs = nowNs;
            sendSegments(10);
            assertEquals(sentNs + 2 * RTT_NS + LossRecovery.PTO_SLACK_NS, connection.nextDeadlineNs(),
                "PTO = 2 * SRTT (+ 2 ms, Linux's TCP_TIMEOUT_MIN)");
            fireTimerAt(connection.nextDeadlineNs());
            assertEquals(List.of(9), retransmitted, "nothing new to send: the last segment again");
            assertEquals(1, counters.tlpProbes());
            assertEquals(nowNs + connection.rtoNs(), connection.nextDeadlineNs(), "then the RTO, not another probe");
            fireTimerAt(connection.nextDeadlineNs());
            assertEquals(1, counters.retransmissionTimeouts(), "a probe that drew no ACK leaves it to the RTO");
        }

        @Test
        void shouldKeepThePtoWhenAnAckAcknowledgesNothingNew_RFC8985s7_2()
        {
            final long sentNs = nowNs;
            sendSegments(10);
            final long ptoNs = connection.nextDeadlineNs();
            nowNs += 10 * MS;
            send(seg(REMOTE_ISS + 1, 0).withAck(seq(0)).withWindow(60_000).withPayload(100)); // the peer's data
            poll();
            output.sent.clear();
            assertEquals(ptoNs, connection.nextDeadlineNs(), "only an ACK of new data restarts the PTO");
            fireTimerAt(ptoNs);
            assertEquals(1, counters.tlpProbes());
            assertTrue(ptoNs - sentNs < connection.rtoNs());
        }

        @Test
        void shouldAddTheWorstCaseDelayedAckWithOneSegmentInFlight_RFC8985s7_2()
        {
            final long sentNs = nowNs;
            sendSegments(1);
            final long pto = Math.min(2 * RTT_NS + LossRecovery.WC_DEL_ACK_T_NS, connection.rtoNs());
            assertEquals(sentNs + pto, connection.nextDeadlineNs(), "PTO = min(2 * SRTT + WCDelAckT, RTO)");
            fireTimerAt(connection.nextDeadlineNs());
            assertEquals(1, counters.tlpProbes());
            assertEquals(List.of(0), retransmitted);
            assertEquals(0, counters.retransmissionTimeouts());
        }

        @Test
        void shouldProbeInSackRecoveryWhenTheAcksOfARetransmissionAreLost_RFC8985s7_2_s6_2()
        {
            // beyond RFC 8985 §7.2 (the PTO in the open state only): in SACK recovery a lost ACK (or retransmission)
            // with nothing sent after it would leave only the RTO, 200 ms or more
            sendSegments(4);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(4)); // segments 1-3 arrived, 0 did not: RACK deems it lost
            assertEquals(List.of(0), retransmitted, "the fast retransmit");
            assertEquals(1, counters.sackRecoveries());
            assertTrue(connection.nextDeadlineNs() <= nowNs + RTT_NS + LossRecovery.PTO_SLACK_NS,
                "the PTO (2 * SRTT + 2 ms after the flight left), not the RTO (" + connection.rtoNs() + " ns)");
            fireTimerAt(connection.nextDeadlineNs()); // the ACK of the retransmission was lost
            assertEquals(1, counters.tlpProbes());
            assertEquals(List.of(0, 0), retransmitted, "nothing new to send: the last segment not SACKed again");
            nowNs += RTT_NS;
            ack(seq(4), seq(0), seq(1)); // the probe's ACK: everything arrived, the probe D-SACKed
            assertEquals(0, counters.retransmissionTimeouts(), "no timeout");
        }

        @Test
        void shouldLetRackMarkALostRetransmissionByTheProbeSentAfterIt_RFC8985s6_2_s7_3()
        {
            sendSegments(4);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(4));
            assertEquals(List.of(0), retransmitted);
            assertEquals(10_000, connection.send(new UnsafeBuffer(new byte[10_000]), 0, 10_000));
            poll();
            output.sent.clear(); // cwnd in recovery: PRR lets little or nothing more go
            fireTimerAt(connection.nextDeadlineNs()); // the retransmission was lost too: the probe, new data
            assertEquals(1, counters.tlpProbes());
            nowNs += RTT_NS;
            ack(seq(0), seq(1), connection.snd.nxt); // the probe, sent after the retransmission, is SACKed; 0 not
            assertEquals(2, java.util.Collections.frequency(retransmitted, 0),
                "RACK deemed the retransmission lost by the probe's transmit time: resent, no timeout");
            assertEquals(0, counters.retransmissionTimeouts());
        }

        @Test
        void shouldProbeWithNewDataWhenThereIsSome_RFC8985s7_3()
        {
            sendSegments(11); // cwnd (IW + one SMSS of slow start) is full
            assertEquals(5000, connection.send(new UnsafeBuffer(new byte[5000]), 0, 5000));
            poll();
            expectNothing();
            nowNs = connection.nextDeadlineNs();
            connection.onTimer(nowNs);
            expectData(seq(11), REMOTE_ISS + 1, ACK, MSS); // new data, beyond cwnd: a probe is not held back by it
            expectNothing();
            assertEquals(1, counters.tlpProbes());
        }

        @Test
        void shouldReduceCwndWhenTheProbeRepairedALoss_RFC8985s7_4()
        {
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(9)); // segment 9, the tail, is lost
            final int cwndBefore = connection.congestionControl().cwnd();
            fireTimerAt(connection.nextDeadlineNs());
            assertEquals(List.of(9), retransmitted, "the probe resends the tail");
            nowNs += RTT_NS;
            ack(seq(10)); // TLP.end_seq acknowledged: the original or the probe? A D-SACK would tell
            base = seq(10);
            sendSegments(1);
            nowNs += RTT_NS;
            ack(seq(1)); // above TLP.end_seq and no D-SACK came: the probe repaired a loss
            assertEquals(1, counters.tlpRepairedLosses());
            assertTrue(connection.congestionControl().cwnd() < cwndBefore,
                "cwnd reduced: " + connection.congestionControl().cwnd() + " < " + cwndBefore);
            assertEquals(0, counters.retransmissionTimeouts());
        }

        @Test
        void shouldNotReduceCwndWhenTheProbeWasSpurious_RFC8985s7_4()
        {
            sendSegments(10);
            nowNs += 2 * RTT_NS; // every ACK is late
            fireTimerAt(connection.nextDeadlineNs());
            assertEquals(List.of(9), retransmitted);
            final int cwndBefore = connection.congestionControl().cwnd();
            ack(seq(10));
            ack(seq(10), seq(9), seq(10)); // D-SACK of the probe: the original had arrived
            base = seq(10);
            sendSegments(1);
            nowNs += RTT_NS;
            ack(seq(1));
            assertEquals(0, counters.tlpRepairedLosses());
            assertTrue(connection.congestionControl().cwnd() >= cwndBefore);
        }
    }

    @Nested
    class RetransmissionTimeout
    {
        @Test
        void shouldResendWhatThePeerRenegedOnWithinTenMillisecondsNotOneRtoPerRange_RFC2018s8_RFC8985s6_3()
        {
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(5), seq(10)); // 5..9 SACKed, 0..4 lost at once (DupThresh SACKed, reo_wnd = 0)
            assertEquals(List.of(0, 1, 2, 3, 4), retransmitted);
            nowNs += RTT_NS;
            ack(seq(5)); // 0..4 arrived, yet nothing above: the peer dropped the 5..9 it had SACKed (reneged)
            final long renegedNs = nowNs;
            assertTrue(connection.nextDeadlineNs() - nowNs <= LossRecovery.RENEGING_DELAY_NS,
                "not a whole RTO: " + (connection.nextDeadlineNs() - nowNs) + " ns");
            fireTimerAt(connection.nextDeadlineNs());
            for (int round = 0; round < 10 && retransmitted.getLast() < 9; round++)
            {
                nowNs += RTT_NS;
                ack(seq(retransmitted.getLast() + 1)); // each resent segment arrives
            }
            nowNs += RTT_NS;
            ack(seq(10));
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), retransmitted, "each once, the reneged ones included");
            assertEquals(1, counters.retransmissionTimeouts(), "one timeout forgets the scoreboard (RFC 6675 §5.1)");
            assertTrue(nowNs - renegedNs < LossRecovery.RENEGING_DELAY_NS + 5 * RTT_NS, (nowNs - renegedNs) + " ns");
        }

        @Test
        void shouldResendOnlyTheUnsackedSegmentsTheTimeoutDeemsLost_RFC8985s6_3_RFC6675s5_1()
        {
            sendSegments(10);
            nowNs += RTT_NS;
            ack(seq(0), seq(1), seq(2), seq(3), seq(4), seq(5), seq(6), seq(7), seq(10)); // holes 0, 2, 4, 6
            assertEquals(List.of(0, 2, 4, 6), retransmitted);
            fireTimerAt(connection.nextDeadlineNs()); // every retransmission was lost: the probe, the highest hole
            assertEquals(1, counters.tlpProbes());
            assertEquals(List.of(0, 2, 4, 6, 6), retransmitted, "the last segment not SACKed");
            fireTimerAt(connection.nextDeadlineNs()); // lost as well: the RTO
            assertEquals(1, counters.retransmissionTimeouts());
            assertEquals(List.of(0, 2, 4, 6, 6, 0), retransmitted, "SND.UNA's segment first, cwnd = 1 SMSS");
            nowNs += RTT_NS;
            ack(seq(2), seq(3), seq(4), seq(5), seq(6), seq(7), seq(10));
            nowNs += RTT_NS;
            ack(seq(4), seq(5), seq(6), seq(7), seq(10));
            nowNs += RTT_NS;
            ack(seq(6), seq(7), seq(10));
            nowNs += RTT_NS;
            ack(seq(10));
            assertEquals(List.of(0, 2, 4, 6, 6, 0, 2, 4, 6), retransmitted, "the holes again, each once; nothing SACKed");
            assertEquals(1, counters.retransmissionTimeouts());
        }
    }
}
