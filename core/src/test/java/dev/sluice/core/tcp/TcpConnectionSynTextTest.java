package dev.sluice.core.tcp;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Text and FIN carried on a SYN-ACK (RFC 9293 §3.10.7.3: "continue processing at the sixth step") and text
 * on a SYN in LISTEN (§3.10.7.2: "queued for processing after the connection is established"); every byte is
 * delivered once and in order (SHLD-31).
 */
class TcpConnectionSynTextTest extends TcpConnectionScript
{
    @Nested
    class SynSent
    {
        private int iss;

        private void connect()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            expect(iss, 0, SYN);
        }

        @Test
        void shouldDeliverAndAckTextOnSynAck_RFC9293s3_10_7_3()
        {
            connect();
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withMss(1460).withPayload(10));

            expect(iss + 1, REMOTE_ISS + 11, ACK);
            expectNothing();
            assertEquals(TcpState.ESTABLISHED, connection.state());
            assertEquals(1, app.establishedCalls);
            assertEquals(10, app.receivedBytes);
            assertEquals(0, app.misorderedBytes, "text starts at IRS + 1");
            assertEquals(REMOTE_ISS + 11, connection.rcvNxt());
        }

        @Test
        void shouldStillAckSynAckTextWhenTheApplicationClosesOnEstablished_RFC9293s3_10_7_3()
        {
            connect();
            app.onEstablishedAction = () -> connection.close(); // a client that sends nothing more (FIN-WAIT-1)
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withMss(1460).withPayload(10));

            expect(iss + 1, REMOTE_ISS + 11, ACK);
            assertEquals(TcpState.FIN_WAIT_1, connection.state());
            assertEquals(10, app.receivedBytes, "FIN-WAIT-1 still receives text");
        }

        @Test
        void shouldDeliverRetransmittedSynAckTextOnce_RFC9293s3_10_7_3_SHLD31()
        {
            connect();
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withMss(1460).withPayload(10));
            expect(iss + 1, REMOTE_ISS + 11, ACK);
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withPayload(20)); // 10 old bytes, 10 new
            poll();
            expect(iss + 1, REMOTE_ISS + 21, ACK);
            assertEquals(20, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
        }

        @Test
        void shouldEnterCloseWaitOnFinOnSynAckWithText_RFC9293s3_10_7_3()
        {
            connect();
            send(seg(REMOTE_ISS, SYN | FIN).withAck(iss + 1).withMss(1460).withPayload(10));

            expect(iss + 1, REMOTE_ISS + 12, ACK);
            expectNothing();
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
            assertEquals(10, app.receivedBytes);
            assertEquals(1, app.peerClosedCalls);
        }

        @Test
        void shouldEnterCloseWaitOnSynFinAck_RFC9293s3_10_7_3()
        {
            connect();
            send(seg(REMOTE_ISS, SYN | FIN).withAck(iss + 1).withMss(1460));

            expect(iss + 1, REMOTE_ISS + 2, ACK);
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
            assertEquals(1, app.peerClosedCalls);
        }

        @Test
        void shouldTrimSynAckTextToReceiveWindow_RFC9293s3_10_7_3()
        {
            useConfig(TcpConfig.builder().delayedAckNs(0).bufferBytes(64 * 1024, 2048).build());
            connect();
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withMss(1460).withPayload(3000));

            expect(iss + 1, REMOTE_ISS + 1 + 2048, ACK);
            assertEquals(2048, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
        }
    }

    @Nested
    class Listen
    {
        @Test
        void shouldHoldSynTextUntilEstablished_RFC9293s3_10_7_2()
        {
            listen();
            send(seg(REMOTE_ISS, SYN).withMss(1400).withPayload(10));
            expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK); // the SYN-ACK acknowledges only the SYN
            assertEquals(0, app.receivedBytes, "nothing is delivered before ESTABLISHED");

            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1));
            assertEquals(TcpState.ESTABLISHED, connection.state());
            assertEquals(10, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
            poll();
            expect(expectedIss() + 1, REMOTE_ISS + 11, ACK);

            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1).withPayload(10)); // the peer resends it
            poll();
            expect(expectedIss() + 1, REMOTE_ISS + 11, ACK);
            assertEquals(10, app.receivedBytes, "delivered once");
        }

        @Test
        void shouldDeliverHeldSynTextOnceWhenCompletingAckCarriesIt_RFC9293s3_10_7_2_SHLD31()
        {
            listen();
            send(seg(REMOTE_ISS, SYN).withMss(1400).withPayload(10));
            expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK);

            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1).withPayload(15));
            poll();
            expect(expectedIss() + 1, REMOTE_ISS + 16, ACK);
            assertEquals(15, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
        }

        @Test
        void shouldForgetHeldSynTextWhenResetToListen_RFC9293s3_10_7_4()
        {
            listen();
            send(seg(REMOTE_ISS, SYN).withMss(1400).withPayload(10));
            expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK);
            send(seg(REMOTE_ISS + 1, dev.sluice.core.wire.TcpHeader.RST));
            assertEquals(TcpState.LISTEN, connection.state());

            send(seg(REMOTE_ISS, SYN).withMss(1400));
            expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK);
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1));
            assertEquals(TcpState.ESTABLISHED, connection.state());
            assertEquals(0, app.receivedBytes, "the first SYN's text went with its TCB");
            poll();
            expectNothing();
        }
    }
}
