package dev.sluice.core.tcp;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.PSH;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Script-style tests of connection closing: the FIN (eighth) and ACK (fifth) steps of RFC 9293 §3.10.7.4
 * in every closing state, CLOSE (§3.10.4), ABORT (§3.10.5), the close reason (MUST-12) and the TIME-WAIT
 * timeout (§3.10.8, MUST-13).
 */
class TcpConnectionCloseTest extends TcpConnectionScript
{
    private static final long TWO_MSL_NS = TcpConfig.builder().build().timeWaitNs();

    private int iss;

    private void open()
    {
        established();
        iss = expectedIss();
    }

    private Seg fromPeer(final int offset, final int ackOffset)
    {
        return seg(REMOTE_ISS + 1 + offset, 0).withAck(iss + 1 + ackOffset);
    }

    /** ESTABLISHED → FIN-WAIT-1 with our FIN sent (SEQ = ISS + 1). */
    private void finWait1()
    {
        open();
        assertTrue(connection.close());
        poll();
        expect(iss + 1, REMOTE_ISS + 1, ACK | FIN);
        assertEquals(TcpState.FIN_WAIT_1, connection.state());
    }

    private void finWait2()
    {
        finWait1();
        send(fromPeer(0, 1));
        expectNothing();
        assertEquals(TcpState.FIN_WAIT_2, connection.state());
    }

    private void timeWait()
    {
        finWait2();
        send(fromPeer(0, 1).withFlags(ACK | FIN));
        poll();
        expect(iss + 2, REMOTE_ISS + 2, ACK);
        assertEquals(TcpState.TIME_WAIT, connection.state());
    }

    private void closeWait()
    {
        open();
        send(fromPeer(0, 0).withFlags(ACK | FIN));
        poll();
        expect(iss + 1, REMOTE_ISS + 2, ACK);
        assertEquals(TcpState.CLOSE_WAIT, connection.state());
    }

    @Nested
    class SynReceived
    {
        @Test
        void shouldQueueCloseUntilTheHandshakeCompletes_RFC9293s3_10_4()
        {
            synReceived();
            iss = expectedIss();
            assertEquals(10, connection.send(new UnsafeBuffer(new byte[10]), 0, 10));
            assertTrue(connection.close());
            assertFalse(connection.close(), "connection closing");
            assertEquals(TcpConnection.SEND_NOT_OPEN, connection.send(new UnsafeBuffer(new byte[1]), 0, 1));
            poll();
            expectNothing();
            assertEquals(TcpState.SYN_RECEIVED, connection.state());

            send(fromPeer(0, 0));
            assertEquals(TcpState.FIN_WAIT_1, connection.state());
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH | FIN, 10);
        }

        @Test
        void shouldMoveToCloseWaitOnDataAndFinThatCompleteTheHandshake_RFC9293s3_10_7_4()
        {
            synReceived();
            iss = expectedIss();
            send(fromPeer(0, 0).withFlags(ACK | FIN).withPayload(20));
            assertEquals(20, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
            poll();
            expect(iss + 1, REMOTE_ISS + 22, ACK);
        }
    }

    @Nested
    class Established
    {
        @BeforeEach
        void setUp()
        {
            open();
        }

        @Test
        void shouldMoveToCloseWaitOnFinInEstablished_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 0).withFlags(ACK | FIN));
            expectNothing(); // the ACK waits for the end of the burst (MUST-59)
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
            assertEquals(1, app.peerClosedCalls);
            assertEquals(REMOTE_ISS + 2, connection.rcvNxt());

            poll();
            expect(iss + 1, REMOTE_ISS + 2, ACK);
        }

        @Test
        void shouldDeliverDataBeforeTheFinItTravelsWith_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 0).withFlags(ACK | FIN).withPayload(50));
            assertEquals(50, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
            poll();
            expect(iss + 1, REMOTE_ISS + 52, ACK);
        }

        @Test
        void shouldProcessFinOnceTheHoleBeforeItFills_SHLD31()
        {
            send(fromPeer(10, 0).withPayload(10));
            send(fromPeer(0, 0).withFlags(ACK | FIN).withPayload(10)); // FIN at 10 follows [0,10) only
            assertEquals(20, app.receivedBytes);
            assertEquals(TcpState.ESTABLISHED, connection.state(), "the FIN is not at the new RCV.NXT");
            send(fromPeer(20, 0).withFlags(ACK | FIN));
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
        }

        @Test
        void shouldReportResetByPeer_MUST12()
        {
            send(seg(REMOTE_ISS + 1, RST));
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.RESET_BY_PEER), app.closed);
            assertEquals(TcpCloseReason.RESET_BY_PEER, connection.closeReason());
        }

        @Test
        void shouldSendRstAndCloseOnAbort_RFC9293s3_10_5()
        {
            connection.send(new UnsafeBuffer(new byte[10]), 0, 10);
            connection.abort();
            expect(iss + 1, 0, RST);
            expectNothing();
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.ABORTED), app.closed);
            poll();
            expectNothing();
        }

        @Test
        void shouldResetOnCloseWithUnreadData_SHLD3()
        {
            app.consumeAtMost = 0;
            send(fromPeer(0, 0).withPayload(10));
            assertTrue(connection.close());
            expect(iss + 1, 0, RST);
            assertEquals(List.of(TcpCloseReason.ABORTED), app.closed);
        }

        @Test
        void shouldSendFinAfterQueuedData_RFC9293s3_10_4()
        {
            connection.send(new UnsafeBuffer(new byte[100]), 0, 100);
            connection.close();
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH | FIN, 100);
            assertEquals(iss + 102, connection.sndNxt());
            assertFalse(connection.close(), "connection closing");
        }
    }

    @Nested
    class FinWait1
    {
        @BeforeEach
        void setUp()
        {
            finWait1();
        }

        @Test
        void shouldMoveToFinWait2WhenOurFinIsAcked_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 1));
            assertEquals(TcpState.FIN_WAIT_2, connection.state());
        }

        @Test
        void shouldStayInFinWait1OnAckThatDoesNotCoverOurFin_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 0).withWindow(2000));
            assertEquals(TcpState.FIN_WAIT_1, connection.state());
        }

        @Test
        void shouldMoveToClosingOnFinBeforeOurFinIsAcked_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 0).withFlags(ACK | FIN));
            assertEquals(TcpState.CLOSING, connection.state());
            assertEquals(1, app.peerClosedCalls);
            poll();
            expect(iss + 2, REMOTE_ISS + 2, ACK);
        }

        @Test
        void shouldMoveToTimeWaitOnFinThatAcksOurFin_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 1).withFlags(ACK | FIN));
            assertEquals(TcpState.TIME_WAIT, connection.state());
            poll();
            expect(iss + 2, REMOTE_ISS + 2, ACK);
        }

        @Test
        void shouldStillReceiveData_MAY1()
        {
            send(fromPeer(0, 0).withPayload(30));
            assertEquals(30, app.receivedBytes);
            poll();
            expect(iss + 2, REMOTE_ISS + 31, ACK);
        }
    }

    @Nested
    class FinWait2
    {
        @BeforeEach
        void setUp()
        {
            finWait2();
        }

        @Test
        void shouldStillReceiveData_MAY1()
        {
            send(fromPeer(0, 1).withPayload(30));
            assertEquals(30, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
            assertEquals(TcpState.FIN_WAIT_2, connection.state());
        }

        @Test
        void shouldMoveToTimeWaitOnFin_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 1).withFlags(ACK | FIN));
            assertEquals(TcpState.TIME_WAIT, connection.state());
            assertEquals(NOW_NS + TWO_MSL_NS, connection.nextDeadlineNs());
            poll();
            expect(iss + 2, REMOTE_ISS + 2, ACK);
        }
    }

    @Nested
    class Closing
    {
        @BeforeEach
        void setUp()
        {
            finWait1();
            send(fromPeer(0, 0).withFlags(ACK | FIN));
            poll();
            expect(iss + 2, REMOTE_ISS + 2, ACK);
        }

        @Test
        void shouldMoveToTimeWaitWhenOurFinIsAcked_RFC9293s3_10_7_4()
        {
            sendAt(fromPeer(1, 1), NOW_NS + 5);
            assertEquals(TcpState.TIME_WAIT, connection.state());
            assertEquals(NOW_NS + 5 + TWO_MSL_NS, connection.nextDeadlineNs());
        }

        @Test
        void shouldAckRetransmittedFinInClosing_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 0).withFlags(ACK | FIN));
            expect(iss + 2, REMOTE_ISS + 2, ACK);
            assertEquals(TcpState.CLOSING, connection.state());
            assertEquals(1, app.peerClosedCalls);
        }

        @Test
        void shouldIgnoreAckThatDoesNotCoverOurFin_RFC9293s3_10_7_4()
        {
            send(fromPeer(1, 0));
            assertEquals(TcpState.CLOSING, connection.state());
            assertEquals(NOW_NS + config.rtoInitialNs(), connection.nextDeadlineNs(), "only our FIN's RTO");
        }
    }

    @Nested
    class TimeWait
    {
        @BeforeEach
        void setUp()
        {
            timeWait();
        }

        @Test
        void shouldLingerInTimeWaitForTwoMsl_MUST13()
        {
            final long deadline = connection.nextDeadlineNs();
            assertEquals(NOW_NS + TWO_MSL_NS, deadline);
            assertEquals(0, connection.onTimer(deadline - 1));
            assertEquals(TcpState.TIME_WAIT, connection.state());

            assertEquals(1, connection.onTimer(deadline));
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.NORMAL), app.closed);
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs());
            expectNothing();
        }

        @Test
        void shouldAckRetransmittedFinAndRestartTimer_RFC9293s3_10_7_4()
        {
            sendAt(fromPeer(0, 1).withFlags(ACK | FIN), NOW_NS + 10_000_000_000L);
            expect(iss + 2, REMOTE_ISS + 2, ACK);
            assertEquals(NOW_NS + 10_000_000_000L + TWO_MSL_NS, connection.nextDeadlineNs());
            assertEquals(TcpState.TIME_WAIT, connection.state());
            assertEquals(1, app.peerClosedCalls, "a retransmitted FIN is not a second close");
        }

        @Test
        void shouldCloseOnAnExactResetButReportTheCompletedConnectionAsNormal_MUST12_RFC1337()
        {
            // both FINs were exchanged and acknowledged: a RST now (the peer's stack answering a late ACK
            // after its LAST-ACK ended, RFC 1337) must not tell the application its data was reset
            send(seg(REMOTE_ISS + 2, RST));
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.NORMAL), app.closed);
            expectNothing();
        }

        @Test
        void shouldChallengeSynInTimeWait_RFC5961s4()
        {
            send(seg(REMOTE_ISS + 2, SYN));
            expect(iss + 2, REMOTE_ISS + 2, ACK);
            assertEquals(TcpState.TIME_WAIT, connection.state());
        }
    }

    @Nested
    class CloseWait
    {
        @BeforeEach
        void setUp()
        {
            closeWait();
        }

        @Test
        void shouldAckRetransmittedFin_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 0).withFlags(ACK | FIN));
            expect(iss + 1, REMOTE_ISS + 2, ACK);
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
            assertEquals(1, app.peerClosedCalls);
        }

        @Test
        void shouldNotAdvanceRcvNxtForASecondFin_RFC9293s3_10_7_4()
        {
            send(fromPeer(1, 0).withFlags(ACK | FIN)); // acceptable, but the peer's FIN was already received
            assertEquals(REMOTE_ISS + 2, connection.rcvNxt());
            assertEquals(1, app.peerClosedCalls);
            poll();
            expect(iss + 1, REMOTE_ISS + 2, ACK);
        }

        @Test
        void shouldStillSendData_RFC9293s3_10_2()
        {
            assertEquals(10, connection.send(new UnsafeBuffer(new byte[10]), 0, 10));
            poll();
            expectData(iss + 1, REMOTE_ISS + 2, ACK | PSH, 10);
        }

        @Test
        void shouldGoThroughLastAckToClosedOnClose_MUST12()
        {
            assertTrue(connection.close());
            assertEquals(TcpState.LAST_ACK, connection.state());
            poll();
            expect(iss + 1, REMOTE_ISS + 2, ACK | FIN);

            send(fromPeer(1, 0)); // does not cover our FIN
            assertEquals(TcpState.LAST_ACK, connection.state());

            send(fromPeer(1, 1));
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.NORMAL), app.closed);
            expectNothing();
        }
    }

    @Nested
    class LastAck
    {
        @BeforeEach
        void setUp()
        {
            closeWait();
            connection.close();
            poll();
            expect(iss + 1, REMOTE_ISS + 2, ACK | FIN);
        }

        @Test
        void shouldAckRetransmittedFinInLastAck_RFC9293s3_10_7_4()
        {
            send(fromPeer(0, 0).withFlags(ACK | FIN));
            expect(iss + 2, REMOTE_ISS + 2, ACK);
            assertEquals(TcpState.LAST_ACK, connection.state());
        }

        @Test
        void shouldRetransmitOurFinOnRto_RFC9293s3_10_8()
        {
            final long deadline = connection.nextDeadlineNs();
            assertEquals(NOW_NS + config.rtoInitialNs(), deadline);
            assertEquals(1, connection.onTimer(deadline));
            expect(iss + 1, REMOTE_ISS + 2, ACK | FIN);
            assertEquals(deadline + 2 * config.rtoInitialNs(), connection.nextDeadlineNs(), "backoff (MUST-19)");

            send(fromPeer(1, 1));
            assertEquals(TcpState.CLOSED, connection.state());
        }
    }

    @Nested
    class UnsynchronizedClose
    {
        @Test
        void shouldCloseListenWithoutSegments_RFC9293s3_10_4()
        {
            listen();
            assertTrue(connection.close());
            assertEquals(TcpState.CLOSED, connection.state());
            expectNothing();
        }

        @Test
        void shouldCloseSynSentWithoutSegments_RFC9293s3_10_4()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            expect(expectedIss(), 0, SYN);
            assertTrue(connection.close());
            assertEquals(TcpState.CLOSED, connection.state());
            expectNothing();
        }

        @Test
        void shouldAbortSynSentWithoutRst_RFC9293s3_10_5()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            expect(expectedIss(), 0, SYN);
            connection.abort();
            expectNothing();
            assertEquals(List.of(TcpCloseReason.ABORTED), app.closed);
        }

        @Test
        void shouldReportRefusedConnectionAsReset_MUST12()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            expect(expectedIss(), 0, SYN);
            send(seg(0, RST).withAck(expectedIss() + 1));
            assertEquals(List.of(TcpCloseReason.RESET_BY_PEER), app.closed);
        }
    }

    @Nested
    class FullScenario
    {
        @Test
        void shouldOpenTransferBothWaysCloseAndExpireTimeWait_RFC9293s3_5_MUST13()
        {
            // active OPEN
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            final int ourIss = expectedIss();
            expect(ourIss, 0, SYN);
            send(seg(REMOTE_ISS, SYN).withAck(ourIss + 1).withMss(1000).withWindow(8000));
            expect(ourIss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpState.ESTABLISHED, connection.state());

            // data from the peer, out of order then filling the hole
            send(seg(REMOTE_ISS + 1001, 0).withAck(ourIss + 1).withWindow(8000).withPayload(500));
            send(seg(REMOTE_ISS + 1, 0).withAck(ourIss + 1).withWindow(8000).withPayload(1000));
            assertEquals(1500, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);

            // our answer carries the ACK
            connection.send(new UnsafeBuffer(new byte[2500]), 0, 2500);
            poll();
            expectData(ourIss + 1, REMOTE_ISS + 1501, ACK, 1000);
            expectData(ourIss + 1001, REMOTE_ISS + 1501, ACK, 1000);
            expectNothing(); // Nagle: the 500-byte tail waits for the ACK (SHLD-7)
            send(seg(REMOTE_ISS + 1501, 0).withAck(ourIss + 2001).withWindow(8000));
            poll();
            expectData(ourIss + 2001, REMOTE_ISS + 1501, ACK | PSH, 500);
            expectNothing();

            // we close; the peer acknowledges everything, then closes too
            connection.close();
            poll();
            expect(ourIss + 2501, REMOTE_ISS + 1501, ACK | FIN);
            send(seg(REMOTE_ISS + 1501, 0).withAck(ourIss + 2502).withWindow(8000));
            assertEquals(TcpState.FIN_WAIT_2, connection.state());
            assertEquals(0, connection.sendQueueBytes());
            sendAt(seg(REMOTE_ISS + 1501, FIN).withAck(ourIss + 2502).withWindow(8000), NOW_NS + 1_000);
            poll();
            expect(ourIss + 2502, REMOTE_ISS + 1502, ACK);
            assertEquals(TcpState.TIME_WAIT, connection.state());
            assertEquals(1, app.peerClosedCalls);

            // 2 MSL later the TCB is gone
            assertEquals(NOW_NS + 1_000 + TWO_MSL_NS, connection.nextDeadlineNs());
            connection.onTimer(connection.nextDeadlineNs());
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.NORMAL), app.closed);
        }
    }
}
