package dev.sluice.core.tcp;

import java.util.List;
import dev.sluice.core.wire.TcpOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Script-style tests of SEGMENT ARRIVES (RFC 9293 §3.10.7): send a segment built as real wire bytes,
 * expect the segments the connection sends back.
 */
class TcpConnectionTest extends TcpConnectionScript
{
    @Nested
    class Acceptability
    {
        @Test
        void shouldAcceptEmptySegmentOnlyAtRcvNxtInZeroWindow_RFC9293Table6()
        {
            assertTrue(TcpConnection.isAcceptable(100, 0, 100, 0));
            assertFalse(TcpConnection.isAcceptable(101, 0, 100, 0));
        }

        @Test
        void shouldAcceptEmptySegmentInsideWindow_RFC9293Table6()
        {
            assertTrue(TcpConnection.isAcceptable(100, 0, 100, 10));
            assertTrue(TcpConnection.isAcceptable(109, 0, 100, 10));
            assertFalse(TcpConnection.isAcceptable(110, 0, 100, 10));
            assertFalse(TcpConnection.isAcceptable(99, 0, 100, 10));
        }

        @Test
        void shouldNeverAcceptDataInZeroWindow_RFC9293Table6()
        {
            assertFalse(TcpConnection.isAcceptable(100, 1, 100, 0));
        }

        @Test
        void shouldAcceptDataWhoseStartOrEndIsInsideWindow_RFC9293Table6()
        {
            assertTrue(TcpConnection.isAcceptable(95, 10, 100, 10), "ends inside");
            assertTrue(TcpConnection.isAcceptable(105, 10, 100, 10), "starts inside");
            assertFalse(TcpConnection.isAcceptable(90, 10, 100, 10), "ends just before RCV.NXT");
            assertFalse(TcpConnection.isAcceptable(110, 10, 100, 10), "starts at the right edge");
        }

        @Test
        void shouldTestAcceptabilityAcrossSequenceWrap_RFC9293Table6()
        {
            assertTrue(TcpConnection.isAcceptable(0x5, 0, 0xFFFF_FFF0, 100));
            assertTrue(TcpConnection.isAcceptable(0xFFFF_FFEC, 10, 0xFFFF_FFF0, 100));
        }
    }

    @Nested
    class Closed
    {
        @Test
        void shouldResetSegmentWithoutAckUsingSeqPlusLen_RFC9293s3_10_7_1()
        {
            assertTrue(TcpConnection.replyToClosedPort(wrap(seg(1000, SYN)), output));
            expect(0, 1001, RST | ACK);
        }

        @Test
        void shouldCountPayloadAndFinInSegLen_RFC9293s3_10_7_1()
        {
            TcpConnection.replyToClosedPort(wrap(seg(1000, FIN).withPayload(10)), output);
            expect(0, 1011, RST | ACK);
        }

        @Test
        void shouldResetSegmentWithAckUsingSegAckAsSeq_RFC9293s3_10_7_1()
        {
            TcpConnection.replyToClosedPort(wrap(seg(1000, 0).withAck(0xABCD_0123)), output);
            expect(0xABCD_0123, 0, RST);
        }

        @Test
        void shouldNeverAnswerRst_RFC9293s3_10_7_1()
        {
            assertFalse(TcpConnection.replyToClosedPort(wrap(seg(1000, RST)), output));
            assertFalse(TcpConnection.replyToClosedPort(wrap(seg(1000, RST).withAck(5)), output));
            expectNothing();
        }

        @Test
        void shouldAnswerLikeClosedPortWhenConnectionIsClosed_RFC9293s3_10_7_1()
        {
            send(seg(1000, SYN));
            expect(0, 1001, RST | ACK);
            assertEquals(TcpState.CLOSED, connection.state());
        }
    }

    @Nested
    class Listen
    {
        @BeforeEach
        void setUp()
        {
            listen();
        }

        @Test
        void shouldEnterListenOnPassiveOpen_MUST11()
        {
            assertEquals(TcpState.LISTEN, connection.state());
            assertTrue(connection.isPassiveOpen());
            assertThrows(IllegalStateException.class, () -> connection.listen(LOCAL_IP, LOCAL_PORT));
        }

        @Test
        void shouldIgnoreRst_RFC9293s3_10_7_2()
        {
            send(seg(1000, RST));
            expectNothing();
            assertEquals(TcpState.LISTEN, connection.state());
        }

        @Test
        void shouldResetAnyAck_RFC9293s3_10_7_2()
        {
            send(seg(1000, 0).withAck(5000));
            expect(5000, 0, RST);
            assertEquals(TcpState.LISTEN, connection.state());
        }

        @Test
        void shouldAnswerSynWithSynAckCarryingOurMss_MUST14_SHLD5()
        {
            send(seg(REMOTE_ISS, SYN).withMss(1400));

            final Sent synAck = expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK);
            assertEquals(1460, synAck.mss());
            assertEquals(0xFFFF, synAck.window(), "unscaled window, capped at 65535");
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
            assertEquals(expectedIss(), connection.iss());
            assertEquals(expectedIss(), connection.sndUna());
            assertEquals(expectedIss() + 1, connection.sndNxt());
            assertEquals(REMOTE_ISS, connection.irs());
            assertEquals(REMOTE_ISS + 1, connection.rcvNxt());
            assertEquals(1400, connection.sendMssBytes());
            assertEquals(REMOTE_IP, connection.remoteIp());
            assertEquals(REMOTE_PORT, connection.remotePort());
        }

        @Test
        void shouldChooseIssFromClockAndKeyedHash_MUST8_SHLD1()
        {
            send(seg(REMOTE_ISS, SYN));
            assertEquals(isnGenerator.nextIsn(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS), connection.iss());
        }

        @Test
        void shouldAssume536WithoutMssOption_MUST15()
        {
            send(seg(REMOTE_ISS, SYN));
            assertEquals(TcpConnection.DEFAULT_SEND_MSS_BYTES, connection.sendMssBytes());
        }

        @Test
        void shouldNotAcknowledgeDataCarriedOnSyn()
        {
            send(seg(REMOTE_ISS, SYN).withPayload(10));
            expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK);
        }

        @Test
        void shouldDropSegmentWithoutSynAckOrRst_RFC9293s3_10_7_2()
        {
            send(seg(1000, FIN).withPayload(5));
            expectNothing();
            assertEquals(TcpState.LISTEN, connection.state());
        }

        @Test
        void shouldDropSynWithIllegalOptionLength_MUST7()
        {
            send(seg(REMOTE_ISS, SYN).withRawOptions((byte)TcpOptions.KIND_MSS, (byte)0, (byte)0, (byte)0));
            expectNothing();
            assertEquals(TcpState.LISTEN, connection.state());
        }
    }

    @Nested
    class SynSent
    {
        private int iss;

        @BeforeEach
        void setUp()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            final Sent syn = expect(iss, 0, SYN);
            assertEquals(1460, syn.mss());
        }

        @Test
        void shouldSendSynWithMssOnActiveOpen_MUST14_SHLD5()
        {
            assertEquals(TcpState.SYN_SENT, connection.state());
            assertFalse(connection.isPassiveOpen());
            assertEquals(iss, connection.sndUna());
            assertEquals(iss + 1, connection.sndNxt());
            assertThrows(IllegalStateException.class,
                () -> connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS));
        }

        @Test
        void shouldEstablishOnAcceptableSynAck_RFC9293s3_10_7_3()
        {
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withWindow(5000).withMss(1400));

            expect(iss + 1, REMOTE_ISS + 1, ACK);
            expectNothing();
            assertEquals(TcpState.ESTABLISHED, connection.state());
            assertEquals(iss + 1, connection.sndUna());
            assertEquals(REMOTE_ISS, connection.irs());
            assertEquals(REMOTE_ISS + 1, connection.rcvNxt());
            assertEquals(5000, connection.sndWnd());
            assertEquals(1400, connection.sendMssBytes());
        }

        @Test
        void shouldAssume536WhenSynAckHasNoMss_MUST15()
        {
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1));
            assertEquals(TcpConnection.DEFAULT_SEND_MSS_BYTES, connection.sendMssBytes());
        }

        @Test
        void shouldResetAckAtOrBelowIss_RFC9293s3_10_7_3()
        {
            send(seg(REMOTE_ISS, SYN).withAck(iss));
            expect(iss, 0, RST);
            assertEquals(TcpState.SYN_SENT, connection.state());
        }

        @Test
        void shouldResetAckBeyondSndNxt_RFC9293s3_10_7_3()
        {
            send(seg(REMOTE_ISS, 0).withAck(iss + 2));
            expect(iss + 2, 0, RST);
            assertEquals(TcpState.SYN_SENT, connection.state());
        }

        @Test
        void shouldDropRstWithUnacceptableAck_RFC9293s3_10_7_3()
        {
            send(seg(REMOTE_ISS, RST).withAck(iss + 5));
            expectNothing();
            assertEquals(TcpState.SYN_SENT, connection.state());
        }

        @Test
        void shouldCloseOnRstWithAcceptableAck_RFC9293s3_10_7_3()
        {
            send(seg(0, RST).withAck(iss + 1));
            expectNothing();
            assertEquals(TcpState.CLOSED, connection.state());
        }

        @Test
        void shouldDropRstWithoutAck_RFC9293s3_10_7_3()
        {
            send(seg(REMOTE_ISS, RST));
            expectNothing();
            assertEquals(TcpState.SYN_SENT, connection.state());
        }

        @Test
        void shouldDropAcceptableAckWithoutSyn_RFC9293s3_10_7_3()
        {
            send(seg(REMOTE_ISS, 0).withAck(iss + 1));
            expectNothing();
            assertEquals(TcpState.SYN_SENT, connection.state());
        }

        @Test
        void shouldAnswerSimultaneousOpenWithSynAckAndEstablishOnItsAck_MUST10()
        {
            send(seg(REMOTE_ISS, SYN).withMss(1300));

            final Sent synAck = expect(iss, REMOTE_ISS + 1, SYN | ACK);
            assertEquals(1460, synAck.mss());
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
            assertEquals(1300, connection.sendMssBytes());

            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1));
            expectNothing();
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldCloseNotListenOnRstInSynReceivedReachedFromActiveOpen_MUST11()
        {
            send(seg(REMOTE_ISS, SYN));
            expect(iss, REMOTE_ISS + 1, SYN | ACK);

            send(seg(REMOTE_ISS + 1, RST));
            expectNothing();
            assertEquals(TcpState.CLOSED, connection.state());
        }

        @Test
        void shouldChallengeInWindowSynInSynReceivedReachedFromActiveOpen_MUST11()
        {
            send(seg(REMOTE_ISS, SYN));
            expect(iss, REMOTE_ISS + 1, SYN | ACK);

            send(seg(REMOTE_ISS + 1, SYN));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
        }
    }

    @Nested
    class SynReceived
    {
        @BeforeEach
        void setUp()
        {
            synReceived();
        }

        @Test
        void shouldEnterEstablishedOnAckOfSynAck_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1).withWindow(3000));

            expectNothing();
            assertEquals(TcpState.ESTABLISHED, connection.state());
            assertEquals(expectedIss() + 1, connection.sndUna());
            assertEquals(3000, connection.sndWnd());
            assertEquals(REMOTE_ISS + 1, connection.sndWl1());
            assertEquals(expectedIss() + 1, connection.sndWl2());
        }

        @Test
        void shouldResetAckOfUnsentData_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 5));
            expect(expectedIss() + 5, 0, RST);
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
        }

        @Test
        void shouldResetAckThatDoesNotCoverOurSyn_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss()));
            expect(expectedIss(), 0, RST);
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
        }

        @Test
        void shouldReturnToListenOnRstAtRcvNxtWhenPassive_MUST11()
        {
            send(seg(REMOTE_ISS + 1, RST));
            expectNothing();
            assertEquals(TcpState.LISTEN, connection.state());
            assertEquals(0, connection.remoteIp());
            assertTrue(connection.isPassiveOpen());
        }

        @Test
        void shouldReportAHandshakeResetWhenAStackReleasesTheListeningConnection_MUST12()
        {
            send(seg(REMOTE_ISS + 1, RST));
            assertEquals(TcpState.LISTEN, connection.state());
            connection.releaseFromListen(); // the stack, not the connection, keeps listening on the port
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(List.of(TcpCloseReason.RESET_BY_PEER), app.closed);
        }

        @Test
        void shouldChallengeInWindowRstNotAtRcvNxt_RFC5961s3()
        {
            send(seg(REMOTE_ISS + 100, RST));
            expect(expectedIss() + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
        }

        @Test
        void shouldSilentlyDropRstOutsideWindow_RFC5961s3()
        {
            send(seg(REMOTE_ISS, RST));
            expectNothing();
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
        }

        @Test
        void shouldAnswerRetransmittedSynWithSynAckLikeLinuxAndFreeBsd_MUST22()
        {
            // RFC 9293's first step would send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, which a peer in SYN-SENT
            // drops; Linux (tcp_check_req) and FreeBSD (syncache) resend the SYN-ACK, and so do we
            send(seg(REMOTE_ISS, SYN));
            expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK);
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
        }

        @Test
        void shouldReturnToListenOnInWindowSynWhenPassive_MUST11()
        {
            send(seg(REMOTE_ISS + 1, SYN));
            expectNothing();
            assertEquals(TcpState.LISTEN, connection.state());
        }

        @Test
        void shouldDropSegmentWithoutAckBit_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0));
            expectNothing();
            assertEquals(TcpState.SYN_RECEIVED, connection.state());
        }
    }

    @Nested
    class Established
    {
        private int iss;

        @BeforeEach
        void setUp()
        {
            established();
            iss = expectedIss();
        }

        @Test
        void shouldChallengeSynInWindow_RFC5961s4()
        {
            send(seg(REMOTE_ISS + 1, SYN));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldAckSynOutsideWindow_RFC5961s4()
        {
            send(seg(0x1234_5678, SYN));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldCloseOnRstAtRcvNxt_RFC5961s3()
        {
            send(seg(REMOTE_ISS + 1, RST));
            expectNothing();
            assertEquals(TcpState.CLOSED, connection.state());
        }

        @Test
        void shouldChallengeInWindowRstNotAtRcvNxt_RFC5961s3()
        {
            send(seg(REMOTE_ISS + 2, RST));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldSilentlyDropRstOutsideWindow_RFC5961s3()
        {
            send(seg(REMOTE_ISS + 1 + 0x10000, RST));
            expectNothing();
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldAckUnacceptableSegment_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1 + 0x10000, 0).withAck(iss + 1).withPayload(10));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
        }

        @Test
        void shouldAckAndDropAckOfUnsentData_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 2).withWindow(7));
            expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(iss + 1, connection.sndUna());
            assertEquals(1000, connection.sndWnd(), "a dropped segment must not update the window");
        }

        @Test
        void shouldIgnoreOldAckForWindowUpdate_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss).withWindow(7));
            expectNothing();
            assertEquals(iss + 1, connection.sndUna());
            assertEquals(1000, connection.sndWnd());
        }

        @Test
        void shouldUpdateWindowFromSegmentAsNewAsLastUpdate_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(2000));
            expectNothing();
            assertEquals(2000, connection.sndWnd());
        }

        @Test
        void shouldNotUpdateWindowFromOlderSegment_RFC9293s3_10_7_4()
        {
            // acceptable because its end is in the window, but it starts before SND.WL1
            send(seg(REMOTE_ISS - 4, 0).withAck(iss + 1).withWindow(5).withPayload(10));
            assertEquals(1000, connection.sndWnd());
            assertEquals(REMOTE_ISS + 1, connection.sndWl1());
        }

        @Test
        void shouldDropSegmentWithoutAckBit_RFC9293s3_10_7_4()
        {
            send(seg(REMOTE_ISS + 1, 0).withWindow(9));
            expectNothing();
            assertEquals(1000, connection.sndWnd());
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }
    }
}
