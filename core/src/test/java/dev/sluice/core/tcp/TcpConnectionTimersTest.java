package dev.sluice.core.tcp;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.PSH;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Script-style tests of the connection's timers (RFC 9293 §3.8, §3.10.8): SYN and SYN-ACK retransmission,
 * R1/R2 and the user timeout, delayed ACK, zero-window probing and sender SWS avoidance, keep-alive; and of
 * the RFC 5961 ACK acceptability check with its challenge-ACK rate limit.
 */
class TcpConnectionTimersTest extends TcpConnectionScript
{
    private static final long S = 1_000_000_000L;
    private static final long MS = 1_000_000L;

    private int iss;

    private void open()
    {
        established();
        iss = expectedIss();
    }

    private Seg data(final int offset, final int length)
    {
        return seg(REMOTE_ISS + 1 + offset, 0).withAck(iss + 1).withPayload(length);
    }

    private Seg ack(final int ackOffset, final int window)
    {
        return seg(REMOTE_ISS + 1, 0).withAck(iss + 1 + ackOffset).withWindow(window);
    }

    private static UnsafeBuffer bytes(final int length)
    {
        return new UnsafeBuffer(new byte[length]);
    }

    // fires the earliest timer, moving the clock there
    private int fire()
    {
        nowNs = connection.nextDeadlineNs();
        return connection.onTimer(nowNs);
    }

    @Nested
    class SynRetransmission
    {
        @Test
        void shouldRetransmitSynWithExponentialBackoff_MUST22_MUST19()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            expect(iss, 0, SYN);
            assertEquals(NOW_NS + config.rtoInitialNs(), connection.nextDeadlineNs(), "initial RTO 1 s");

            assertEquals(0, connection.onTimer(NOW_NS + config.rtoInitialNs() - 1));
            expectNothing();
            assertEquals(1, fire());
            assertEquals(1460, expect(iss, 0, SYN).mss(), "the retransmitted SYN carries our MSS");
            assertEquals(NOW_NS + 3 * S, connection.nextDeadlineNs(), "RTO doubled to 2 s");
            fire();
            expect(iss, 0, SYN);
            assertEquals(NOW_NS + 7 * S, connection.nextDeadlineNs(), "RTO doubled to 4 s");
            assertEquals(TcpState.SYN_SENT, connection.state());
        }

        @Test
        void shouldRetransmitSynForAtLeastThreeMinutesThenTimeOut_MUST23_MUST12()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            expect(iss, 0, SYN);
            long lastSynNs = NOW_NS;
            int synRetransmissions = 0;
            for (int i = 0; i < 100 && connection.state() != TcpState.CLOSED; i++)
            {
                fire();
                if (!output.sent.isEmpty())
                {
                    expect(iss, 0, SYN);
                    lastSynNs = nowNs;
                    synRetransmissions++;
                }
            }
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.TIMEOUT), app.closed);
            assertTrue(lastSynNs - NOW_NS >= config.synR2Ns() - 128 * S, "retransmitted for 3 minutes");
            assertTrue(nowNs - NOW_NS >= config.synR2Ns(), "gave up only after R2 for SYN");
            assertEquals(7, synRetransmissions, "1, 3, 7, 15, 31, 63, 127 s; gives up at 255 s");
        }

        // the conformance checks simultaneous-open and synsent-rst-refused: the target's SYN was retransmitted
        // (its process started ahead of the check) before the tester's SYN (MSS only, no timestamps) crossed it
        @Test
        void shouldAnswerASynCrossingARetransmittedSynWithSynAck_MUST10_RFC9293s3_10_7_3()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            expect(iss, 0, SYN);
            fire();
            expect(iss, 0, SYN);

            sendAt(seg(REMOTE_ISS, SYN).withMss(1460), nowNs + 430 * MS);
            final Sent synAck = expect(iss, REMOTE_ISS + 1, SYN | ACK);
            assertEquals(1460, synAck.mss());
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1));
            expectNothing();
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldSendNoMoreSynsOnceARetransmittedSynIsRefused_RFC9293s3_10_7_3()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            expect(iss, 0, SYN);
            fire();
            expect(iss, 0, SYN);

            sendAt(seg(iss + 1, RST).withAck(iss + 1), nowNs + 430 * MS);
            expectNothing();
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.RESET_BY_PEER), app.closed);
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs(), "the SYN timer stopped");
            assertEquals(0, connection.onTimer(nowNs + 10 * S));
            expectNothing();
        }

        @Test
        void shouldUseThreeSecondRtoForDataAfterALostSyn_RFC6298s5_7()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            expect(iss, 0, SYN);
            fire();
            expect(iss, 0, SYN);
            sendAt(seg(REMOTE_ISS, SYN).withAck(iss + 1).withWindow(5000).withMss(1400), nowNs + 100 * MS);
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs(), "the SYN timer stopped");

            connection.send(bytes(100), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            assertEquals(nowNs + 3 * S, connection.nextDeadlineNs());
        }

        @Test
        void shouldRetransmitSynAckWithBackoff_MUST22()
        {
            synReceived();
            iss = expectedIss();
            assertEquals(NOW_NS + S, connection.nextDeadlineNs());
            fire();
            assertEquals(1460, expect(iss, REMOTE_ISS + 1, SYN | ACK).mss());
            assertEquals(NOW_NS + 3 * S, connection.nextDeadlineNs());

            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1));
            assertEquals(TcpState.ESTABLISHED, connection.state());
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs());
        }

        @Test
        void shouldAnswerARetransmittedSynWithTheSynAck_MUST22()
        {
            synReceived();
            iss = expectedIss();
            send(seg(REMOTE_ISS, SYN).withMss(1400)); // our SYN-ACK was lost
            assertEquals(1460, expect(iss, REMOTE_ISS + 1, SYN | ACK).mss());
            expectNothing();
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
        }

        @Test
        void shouldCloseAPassiveConnectionWhoseSynAckIsNeverAcked_MUST23()
        {
            synReceived();
            iss = expectedIss();
            for (int i = 0; i < 100 && connection.state() != TcpState.CLOSED; i++)
            {
                fire();
            }
            assertEquals(TcpState.CLOSED, connection.state(), "CLOSED, not LISTEN: the stack frees it");
            assertEquals(List.of(TcpCloseReason.TIMEOUT), app.closed);
            assertTrue(nowNs - NOW_NS >= config.synR2Ns());
        }
    }

    @Nested
    class ExcessiveRetransmission
    {
        @BeforeEach
        void setUp()
        {
            open();
            connection.noDelay(true);
            connection.send(bytes(100), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
        }

        @Test
        void shouldTellTheApplicationAtR1_MUST20_SHLD9()
        {
            fire();
            fire();
            assertEquals(List.of(), app.excessiveRetransmissions);
            fire();
            assertEquals(List.of(3), app.excessiveRetransmissions, "R1 = 3 retransmissions (SHLD-10)");
            fire();
            assertEquals(List.of(3), app.excessiveRetransmissions, "told once");
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldCloseAfterThePerConnectionUserTimeout_MUST21()
        {
            connection.userTimeoutNs(5 * S);
            assertEquals(5 * S, connection.userTimeoutNs());
            for (int i = 0; i < 100 && connection.state() != TcpState.CLOSED; i++)
            {
                fire();
            }
            assertEquals(List.of(TcpCloseReason.TIMEOUT), app.closed);
            assertTrue(nowNs - NOW_NS >= 5 * S);
            assertTrue(nowNs - NOW_NS < config.r2Ns(), "the connection's timeout, not the default R2");
            assertThrows(IllegalArgumentException.class, () -> connection.userTimeoutNs(0));
        }

        @Test
        void shouldRestartR2WhenNewDataIsAcked_MUST20()
        {
            fire();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            send(ack(100, 1000));
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs());
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }
    }

    @Nested
    class DelayedAck
    {
        @BeforeEach
        void setUp()
        {
            useConfig(TcpConfig.builder().build()); // delayed ACK 40 ms
            open();
        }

        @Test
        void shouldDelayTheAckOfASingleSegment_MUST40_SHLD18()
        {
            send(data(0, 100));
            poll();
            expectNothing();
            assertEquals(NOW_NS + 40 * MS, connection.nextDeadlineNs(), "well under 500 ms");

            assertEquals(0, connection.onTimer(NOW_NS + 40 * MS - 1));
            expectNothing();
            assertEquals(1, fire());
            expect(iss + 1, REMOTE_ISS + 101, ACK);
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs());
        }

        @Test
        void shouldAckEverySecondFullSizedSegment_SHLD19()
        {
            send(data(0, 1400));
            poll();
            expectNothing();
            send(data(1400, 1400));
            poll();
            expect(iss + 1, REMOTE_ISS + 2801, ACK);
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs(), "the delayed ACK was sent");

            send(data(2800, 1400));
            poll();
            expectNothing();
        }

        @Test
        void shouldStillAggregateOneAckPerPoll_MUST58_MUST59()
        {
            send(data(0, 1400));
            send(data(1400, 1400));
            send(data(2800, 1400));
            send(data(4200, 1400));
            poll();
            expect(iss + 1, REMOTE_ISS + 5601, ACK);
            expectNothing();
        }

        @Test
        void shouldAckOutOfOrderSegmentAtOnce_RFC5681s4_2()
        {
            send(data(100, 100));
            poll();
            expect(iss + 1, REMOTE_ISS + 1, ACK);
        }

        @Test
        void shouldAckSegmentFillingAHoleAtOnce_RFC5681s4_2()
        {
            send(data(100, 100));
            poll();
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            send(data(0, 100));
            poll();
            expect(iss + 1, REMOTE_ISS + 201, ACK);
        }

        @Test
        void shouldPiggybackTheDelayedAckOnData_MUST58()
        {
            send(data(0, 100));
            connection.send(bytes(10), 0, 10);
            poll();
            expectData(iss + 1, REMOTE_ISS + 101, ACK | PSH, 10);
            expectNothing();
            assertEquals(NOW_NS + config.rtoInitialNs(), connection.nextDeadlineNs(), "only the RTO is left");
        }
    }

    @Nested
    class ZeroWindow
    {
        @BeforeEach
        void setUp()
        {
            open();
            send(ack(0, 0));
            assertEquals(0, connection.sndWnd());
            connection.send(bytes(100), 0, 100);
            poll();
            expectNothing();
        }

        @Test
        void shouldProbeAZeroWindowAfterOneRtoWithBackoff_MUST35_MUST36_SHLD29_SHLD30()
        {
            assertEquals(NOW_NS + S, connection.nextDeadlineNs(), "first probe after one RTO");
            fire();
            final Sent probe = expect(iss, REMOTE_ISS + 1, ACK); // <SEQ=SND.UNA-1>: the peer must answer
            assertEquals(0, probe.payload().length);
            assertEquals(NOW_NS + 3 * S, connection.nextDeadlineNs(), "interval doubled");
            fire();
            expect(iss, REMOTE_ISS + 1, ACK);
            assertEquals(NOW_NS + 7 * S, connection.nextDeadlineNs(), "doubled again");
        }

        @Test
        void shouldStayOpenIndefinitelyWhileProbesAreAcked_MUST37()
        {
            for (int i = 0; i < 100; i++)
            {
                fire();
                expect(iss, REMOTE_ISS + 1, ACK);
                send(ack(0, 0));
            }
            assertTrue(nowNs - NOW_NS > 2 * config.r2Ns());
            assertEquals(TcpState.ESTABLISHED, connection.state());
            assertEquals(List.of(), app.closed);
        }

        @Test
        void shouldTimeOutWhenProbesStayUnanswered_MUST20()
        {
            for (int i = 0; i < 100 && connection.state() != TcpState.CLOSED; i++)
            {
                fire();
            }
            assertEquals(List.of(TcpCloseReason.TIMEOUT), app.closed);
            assertTrue(nowNs - NOW_NS >= config.r2Ns());
        }

        @Test
        void shouldSendOnceTheWindowOpens_RFC9293s3_8_6_1()
        {
            fire();
            expect(iss, REMOTE_ISS + 1, ACK);
            send(ack(0, 1000));
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs(), "persist timer stopped");
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
        }

        @Test
        void shouldNotTimeOutDataBeyondAZeroWindowWhileThePeerAnswers_SHLD17()
        {
            send(ack(0, 1000));
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            send(ack(0, 0)); // the peer closes its window without taking the data
            for (int i = 0; i < 100; i++)
            {
                fire();
                expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
                send(ack(0, 0));
            }
            assertTrue(nowNs - NOW_NS > config.r2Ns());
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }
    }

    @Nested
    class SenderSillyWindowAvoidance
    {
        @BeforeEach
        void setUp()
        {
            open(); // the peer offered 1000 bytes: Max(SND.WND) = 1000
            connection.noDelay(true);
        }

        @Test
        void shouldHoldASmallSegmentForASmallWindow_MUST38()
        {
            send(ack(0, 300));
            connection.send(bytes(1000), 0, 1000);
            poll();
            expectNothing(); // 300 < MSS, < half of the largest window, and not all the queued data

            fire(); // the override timeout
            expectData(iss + 1, REMOTE_ISS + 1, ACK, 300);
        }

        @Test
        void shouldSendWhenHalfTheLargestWindowIsUsable_MUST38()
        {
            send(ack(0, 500));
            connection.send(bytes(1000), 0, 1000);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK, 500);
        }

        @Test
        void shouldSendASmallSegmentThatEmptiesTheQueue_MUST38()
        {
            send(ack(0, 300));
            connection.send(bytes(200), 0, 200);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 200);
        }
    }

    @Nested
    class KeepAlive
    {
        @Test
        void shouldNotSendKeepAlivesByDefault_MUST25()
        {
            open();
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs());
        }

        @Test
        void shouldProbeAnIdleConnectionWithoutData_MUST24_MUST26_MUST28_SHLD12()
        {
            open();
            connection.keepAlive(true);
            assertEquals(NOW_NS + 7_200 * S, connection.nextDeadlineNs(), "idle 2 hours");
            fire();
            final Sent probe = expect(iss, REMOTE_ISS + 1, ACK); // <SEQ=SND.NXT-1>
            assertEquals(0, probe.payload().length);
            assertEquals(nowNs + 75 * S, connection.nextDeadlineNs());
        }

        @Test
        void shouldRestartTheIdleTimeWhenThePeerAnswers_MUST29()
        {
            open();
            connection.keepAlive(true);
            fire();
            expect(iss, REMOTE_ISS + 1, ACK);
            sendAt(ack(0, 1000), nowNs + S);
            assertEquals(nowNs + 7_200 * S, connection.nextDeadlineNs());
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldCloseOnlyAfterTheConfiguredUnansweredProbes_MUST27_MUST29()
        {
            useConfig(TcpConfig.builder().keepAlive(true, 60 * S, 5 * S, 3).delayedAckNs(0).build());
            open();
            for (int probe = 0; probe < 3; probe++)
            {
                fire();
                expect(iss, REMOTE_ISS + 1, ACK);
                assertEquals(TcpState.ESTABLISHED, connection.state());
            }
            // probes at 60, 65 and 70 s; the end of the fourth interval ends the connection
            assertEquals(NOW_NS + 75 * S, connection.nextDeadlineNs());
            fire();
            expectNothing();
            assertEquals(List.of(TcpCloseReason.TIMEOUT), app.closed);
        }

        @Test
        void shouldNotProbeWhileDataIsOutstanding_MUST26()
        {
            open();
            connection.keepAlive(true);
            connection.send(bytes(100), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            assertEquals(NOW_NS + config.rtoInitialNs(), connection.nextDeadlineNs(), "only the RTO");
        }
    }

    @Nested
    class AckAcceptability
    {
        @BeforeEach
        void setUp()
        {
            open(); // MAX.SND.WND = 1000
        }

        @Test
        void shouldDropAckOlderThanMaxSndWndAndChallenge_RFC5961s5()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1 - 1001).withPayload(100));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(0, app.receivedBytes, "the segment was dropped");
        }

        @Test
        void shouldAcceptOldAckWithinMaxSndWnd_RFC5961s5()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1 - 1000).withPayload(100));
            assertEquals(100, app.receivedBytes);
            poll();
            expect(iss + 1, REMOTE_ISS + 101, ACK);
        }

        @Test
        void shouldChallengeAckForUnsentData_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 2).withPayload(100));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(0, app.receivedBytes);
        }

        @Test
        void shouldRateLimitChallengeAcks_RFC5961s7()
        {
            send(seg(REMOTE_ISS + 11, RST));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            send(seg(REMOTE_ISS + 12, RST));
            send(seg(REMOTE_ISS + 1, SYN));
            expectNothing();
            assertEquals(2, connection.challengeAcksSuppressed());

            sendAt(seg(REMOTE_ISS + 13, RST), NOW_NS + 500 * MS);
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldSendEveryChallengeAckWithoutALimit_RFC5961s7()
        {
            useConfig(TcpConfig.builder().challengeAckIntervalNs(0).build());
            open();
            send(seg(REMOTE_ISS + 11, RST));
            send(seg(REMOTE_ISS + 12, RST));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertFalse(connection.challengeAcksSuppressed() > 0);
        }
    }
}
