package dev.sluice.core.tcp;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.PSH;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * RFC 7323 §3-5 timestamps: negotiation on the SYNs (§3.2), the option on every segment but RST once in
 * effect, TS.Recent and Last.ACK.sent (§4.3), RTTM (§4.1), PAWS (§5.3 R1-R3, §5.5), the 1 ms clock with a
 * per-connection offset (§5.4, §7.1), and the segment size the option costs (MUST-16).
 */
class TcpConnectionTimestampsTest extends TcpConnectionScript
{
    private static final long MS = 1_000_000L;
    private static final int PEER_TS = 0x7000_0000;

    private int iss;

    private static UnsafeBuffer bytes(final int length)
    {
        return new UnsafeBuffer(new byte[length]);
    }

    /** Passive open with timestamps on both SYNs; the handshake's ACK echoes our SYN-ACK 40 ms later. */
    private Sent establishedWithTimestamps()
    {
        listen();
        send(seg(REMOTE_ISS, SYN).withRawOptions(synTimestampsOption(PEER_TS)));
        iss = expectedIss();
        final Sent synAck = expect(iss, REMOTE_ISS + 1, SYN | ACK);
        sendAt(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withRawOptions(timestampsOption(PEER_TS + 1, synAck.tsVal())),
            NOW_NS + 40 * MS);
        assertEquals(TcpState.ESTABLISHED, connection.state());
        assertTrue(connection.timestampsEnabled());
        return synAck;
    }

    private Seg data(final int offset, final int length, final int tsVal)
    {
        return seg(REMOTE_ISS + 1 + offset, 0).withAck(iss + 1).withPayload(length)
            .withRawOptions(timestampsOption(tsVal, 0));
    }

    @Nested
    class Negotiation
    {
        @Test
        void shouldOfferTimestampsOnSynByDefault_RFC7323s3_2()
        {
            assertTrue(TcpConfig.builder().build().timestamps(), "on by default (Linux's tcp_timestamps)");
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            final Sent syn = expect(expectedIss(), 0, SYN);
            assertTrue(syn.hasTimestamps());
            assertEquals(0, syn.tsEcr(), "TSecr of a SYN is 0");
            assertEquals(1460, syn.mss());
            assertEquals(3, syn.windowScale());
        }

        @Test
        void shouldNotOfferTimestampsWhenConfiguredOff_RFC7323s3_2()
        {
            useConfig(TcpConfig.builder().delayedAckNs(0).timestamps(false).build());
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            assertFalse(expect(expectedIss(), 0, SYN).hasTimestamps());
        }

        @Test
        void shouldEchoPeerSynTsvalInSynAck_RFC7323s3_2()
        {
            final Sent synAck = establishedWithTimestamps();
            assertTrue(synAck.hasTimestamps());
            assertEquals(PEER_TS, synAck.tsEcr());
        }

        @Test
        void shouldSendNoTimestampsWhenPeerSynHadNone_RFC7323s3_2()
        {
            listen();
            send(seg(REMOTE_ISS, SYN).withMss(1460));
            assertFalse(expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK).hasTimestamps(), "SYN-ACK only in reply");
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1));
            assertFalse(connection.timestampsEnabled());
            connection.noDelay(true);
            connection.send(bytes(10), 0, 10);
            poll();
            assertFalse(expectData(expectedIss() + 1, REMOTE_ISS + 1, ACK | PSH, 10).hasTimestamps());
        }

        @Test
        void shouldNotUseTimestampsWhenSynAckHasNone_RFC7323s3_2()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            expect(iss, 0, SYN);
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withMss(1460));
            assertFalse(expect(iss + 1, REMOTE_ISS + 1, ACK).hasTimestamps());
            assertFalse(connection.timestampsEnabled());
        }

        @Test
        void shouldUseTimestampsWhenSynAckEchoesThem_RFC7323s3_2()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
            final Sent syn = expect(iss, 0, SYN);
            sendAt(seg(REMOTE_ISS, SYN).withAck(iss + 1).withRawOptions(synTimestampsOption(PEER_TS)),
                NOW_NS + 25 * MS);
            final Sent ack = expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertTrue(ack.hasTimestamps());
            assertEquals(PEER_TS, ack.tsEcr());
            assertEquals(syn.tsVal() + 25, ack.tsVal());
        }
    }

    @Nested
    class Clock
    {
        @Test
        void shouldTickInMillisecondsWithPerConnectionOffset_RFC7323s5_4_s7_1()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            final Sent syn = expect(expectedIss(), 0, SYN);
            final int offset = isnGenerator.timestampOffset(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT);
            assertEquals((int)(NOW_NS / MS) + offset, syn.tsVal());
            assertNotEquals(offset, isnGenerator.timestampOffset(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT + 1),
                "another connection, another offset");
            nowNs = connection.nextDeadlineNs(); // the SYN's retransmission, 1 s later (MUST-22)
            connection.onTimer(nowNs);
            assertEquals(syn.tsVal() + 1000, expect(expectedIss(), 0, SYN).tsVal());
        }
    }

    @Nested
    class Established
    {
        @Test
        void shouldCarryTimestampsOnEverySegmentButRst_RFC7323s3_2()
        {
            establishedWithTimestamps();
            nowNs = NOW_NS + 50 * MS;
            connection.noDelay(true);
            connection.send(bytes(10), 0, 10);
            poll();
            final Sent sent = expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 10);
            assertTrue(sent.hasTimestamps());
            assertEquals(connection.tsVal(nowNs), sent.tsVal());
            assertEquals(PEER_TS + 1, sent.tsEcr(), "TSecr = TS.Recent, from the handshake's ACK");
            connection.abort();
            assertFalse(expect(iss + 11, 0, RST).hasTimestamps());
        }

        @Test
        void shouldDropSegmentWithoutTimestampsSilently_RFC7323s3_2()
        {
            establishedWithTimestamps();
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withPayload(100));
            poll();
            expectNothing();
            assertEquals(0, app.receivedBytes);
            assertEquals(TcpState.ESTABLISHED, connection.state(), "never a reason to abort");
        }

        @Test
        void shouldAcceptRstWithoutTimestamps_RFC7323s3_2()
        {
            establishedWithTimestamps();
            send(seg(REMOTE_ISS + 1, RST));
            assertEquals(TcpState.CLOSED, connection.state());
        }

        @Test
        void shouldCutSegmentsShorterByTheOption_MUST16_RFC7323s3_2()
        {
            establishedWithTimestamps();
            assertEquals(1448, connection.effectiveSendMssBytes(), "MSS 1460 less 12 option bytes, like Linux");
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(60_000)
                .withRawOptions(timestampsOption(PEER_TS + 1, 0)));
            connection.send(bytes(3000), 0, 3000);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK, 1448);
            expectData(iss + 1 + 1448, REMOTE_ISS + 1, ACK, 1448);
        }
    }

    @Nested
    class Paws
    {
        @Test
        void shouldRejectOlderTsvalWithAnAck_RFC7323s5_3_R1()
        {
            establishedWithTimestamps();
            send(data(0, 100, PEER_TS)); // older than TS.Recent (PEER_TS + 1): an old duplicate
            assertEquals(0, app.receivedBytes);
            final Sent ack = expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(PEER_TS + 1, ack.tsEcr());
        }

        @Test
        void shouldAcceptEqualOrNewerTsval_RFC7323s5_3_R4()
        {
            establishedWithTimestamps();
            send(data(0, 100, PEER_TS + 1));
            assertEquals(100, app.receivedBytes);
        }

        @Test
        void shouldNotApplyPawsToRst_RFC7323s5_3_R1()
        {
            establishedWithTimestamps();
            send(seg(REMOTE_ISS + 1, RST).withRawOptions(timestampsOption(PEER_TS - 5, 0)));
            assertEquals(TcpState.CLOSED, connection.state());
        }

        @Test
        void shouldIgnoreTsRecentOlderThan24Days_RFC7323s5_5()
        {
            establishedWithTimestamps();
            nowNs = NOW_NS + 25L * 24 * 3600 * 1000 * MS;
            send(data(0, 100, PEER_TS - 1000));
            assertEquals(100, app.receivedBytes, "TS.Recent expired: PAWS does not reject");
            assertEquals(PEER_TS - 1000, connection.tsRecent(), "and it is taken as the new TS.Recent");
        }

        @Test
        void shouldEchoTheSegmentThatFilledTheHole_RFC7323s4_3()
        {
            establishedWithTimestamps();
            send(data(100, 100, PEER_TS + 5)); // out of order: SEG.SEQ > Last.ACK.sent
            poll();
            assertEquals(PEER_TS + 1, expect(iss + 1, REMOTE_ISS + 1, ACK).tsEcr(), "TS.Recent unchanged (R3)");
            send(data(0, 100, PEER_TS + 3)); // fills the hole
            poll();
            assertEquals(PEER_TS + 3, expect(iss + 1, REMOTE_ISS + 201, ACK).tsEcr());
            assertEquals(200, app.receivedBytes);
        }
    }

    @Nested
    class Rttm
    {
        @Test
        void shouldMeasureTheHandshakeFromTheEcho_RFC7323s4_1()
        {
            establishedWithTimestamps();
            assertEquals(40 * MS, connection.srttNs(), "SYN-ACK at NOW, its echo 40 ms later");
        }

        @Test
        void shouldMeasureARetransmittedSegmentFromTheEcho_RFC7323s4_1_MUST18()
        {
            establishedWithTimestamps();
            connection.noDelay(true);
            connection.send(bytes(100), 0, 100);
            nowNs = NOW_NS + 40 * MS;
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            nowNs = connection.nextDeadlineNs(); // RTO: the segment is sent again
            connection.onTimer(nowNs);
            final Sent retransmission = expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            final long before = connection.srttNs();
            sendAt(seg(REMOTE_ISS + 1, 0).withAck(iss + 101)
                .withRawOptions(timestampsOption(PEER_TS + 2, retransmission.tsVal())), nowNs + 60 * MS);
            // without timestamps Karn's rule (MUST-18) leaves no sample; the echo names the retransmission
            assertEquals(before + (60 * MS - before) / 8, connection.srttNs(), "SRTT moved towards 60 ms");
        }

        @Test
        void shouldUndoATimeoutWhoseFirstAckEchoesTheOriginal_RFC3522s3_2_RFC4015()
        {
            establishedWithTimestamps();
            final TcpRecoveryCounters counters = new TcpRecoveryCounters();
            connection.recoveryCounters(counters);
            connection.noDelay(true);
            connection.send(bytes(100), 0, 100);
            nowNs = NOW_NS + 40 * MS;
            poll();
            final Sent original = expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            final int cwndBefore = connection.recovery.congestion.cwnd();
            final long srttBefore = connection.srttNs();
            nowNs = connection.nextDeadlineNs(); // RTO: the ACK of the original was lost, the segment is sent again
            connection.onTimer(nowNs);
            final Sent retransmission = expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            assertTrue(retransmission.tsVal() - original.tsVal() > 0);
            assertEquals(connection.recovery.congestion.smss, connection.recovery.congestion.cwnd(), "loss window");
            // the peer had the original: its ACK of the duplicate echoes TS.Recent, the original's TSval (§4.3)
            sendAt(seg(REMOTE_ISS + 1, 0).withAck(iss + 101)
                .withRawOptions(timestampsOption(PEER_TS + 2, original.tsVal())), nowNs + MS);
            assertEquals(1, counters.spuriousTimeouts());
            assertTrue(connection.recovery.congestion.cwnd() >= cwndBefore, "cwnd before the timeout is back");
            assertEquals(Integer.MAX_VALUE, connection.recovery.congestion.ssthresh(), "ssthresh too (RFC 4015)");
            assertEquals(srttBefore, connection.srttNs(), "the echo measured the timeout's wait, not the path");
        }

        @Test
        void shouldKeepTheTimeoutsReductionWhenTheAckEchoesTheRetransmission_RFC3522s3_2()
        {
            establishedWithTimestamps();
            final TcpRecoveryCounters counters = new TcpRecoveryCounters();
            connection.recoveryCounters(counters);
            connection.noDelay(true);
            connection.send(bytes(100), 0, 100);
            nowNs = NOW_NS + 40 * MS;
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            nowNs = connection.nextDeadlineNs(); // RTO: the original was lost
            connection.onTimer(nowNs);
            final Sent retransmission = expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            sendAt(seg(REMOTE_ISS + 1, 0).withAck(iss + 101)
                .withRawOptions(timestampsOption(PEER_TS + 2, retransmission.tsVal())), nowNs + MS);
            assertEquals(0, counters.spuriousTimeouts());
            assertTrue(connection.recovery.congestion.ssthresh() < Integer.MAX_VALUE, "a real loss: ssthresh fell");
            assertTrue(connection.recovery.congestion.cwnd() <= 2 * connection.recovery.congestion.smss,
                "slow start from the loss window");
        }

        @Test
        void shouldCloseNormallyWithTimestamps_RFC7323s3_2()
        {
            establishedWithTimestamps();
            send(seg(REMOTE_ISS + 1, FIN).withAck(iss + 1).withRawOptions(timestampsOption(PEER_TS + 2, 0)));
            poll();
            assertEquals(PEER_TS + 2, expect(iss + 1, REMOTE_ISS + 2, ACK).tsEcr());
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
        }
    }
}
