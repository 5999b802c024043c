package dev.sluice.core.tcp;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.PSH;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Script-style tests of data transfer in the synchronized states: SEGMENT ARRIVES steps six (URG) and seven
 * (segment text) of RFC 9293 §3.10.7.4, ACK aggregation, flow control, and SEND (§3.10.2) with
 * {@code poll}.
 */
class TcpConnectionDataTest extends TcpConnectionScript
{
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

    private static UnsafeBuffer bytes(final int length, final int first)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[length]);
        for (int i = 0; i < length; i++)
        {
            buffer.putByte(i, (byte)(first + i));
        }
        return buffer;
    }

    @Nested
    class EstablishedReceive
    {
        @BeforeEach
        void setUp()
        {
            open();
        }

        @Test
        void shouldDeliverInOrderDataAndAckOnlyOnPoll_MUST58()
        {
            send(data(0, 100));

            expectNothing();
            assertEquals(100, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
            assertEquals(REMOTE_ISS + 101, connection.rcvNxt());

            poll();
            expect(iss + 1, REMOTE_ISS + 101, ACK);
            expectNothing();
        }

        @Test
        void shouldSendOneAckForABurstOfSegments_MUST59()
        {
            send(data(0, 100));
            send(data(100, 100));
            send(data(200, 100));
            expectNothing();

            poll();
            expect(iss + 1, REMOTE_ISS + 301, ACK);
            expectNothing();
            poll();
            expectNothing();
        }

        @Test
        void shouldHoldOutOfOrderDataUntilTheHoleFills_SHLD31()
        {
            send(data(100, 100));
            assertEquals(0, app.receivedBytes);
            poll();
            expect(iss + 1, REMOTE_ISS + 1, ACK); // duplicate ACK for the hole

            send(data(0, 100));
            assertEquals(200, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
            poll();
            expect(iss + 1, REMOTE_ISS + 201, ACK);
        }

        @Test
        void shouldDeliverEachByteOnceWithOverlappingSegments_SHLD31()
        {
            send(data(50, 100));  // [50, 150) held
            send(data(20, 60));   // [20, 80) overlaps it
            send(data(0, 61));    // [0, 61) in order, overlapping the held bytes
            assertEquals(150, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
            assertEquals(REMOTE_ISS + 151, connection.rcvNxt());

            send(data(100, 100)); // starts before RCV.NXT: only [150, 200) is new
            assertEquals(200, app.receivedBytes);
            assertEquals(0, app.misorderedBytes);
            poll();
            expect(iss + 1, REMOTE_ISS + 201, ACK);
        }

        @Test
        void shouldAckDuplicateDataAtOnceWithoutDeliveringIt_RFC9293s3_10_7_4()
        {
            send(data(0, 100));
            send(data(0, 100));
            expect(iss + 1, REMOTE_ISS + 101, ACK); // unacceptable: first step answers immediately
            assertEquals(100, app.receivedBytes);
        }

        @Test
        void shouldPiggybackAckOnDataSentInTheSameBurst_MUST58()
        {
            send(data(0, 10).withWindow(5000));
            assertEquals(5, connection.send(bytes(5, 0), 0, 5));

            poll();
            expectData(iss + 1, REMOTE_ISS + 11, ACK | PSH, 5);
            expectNothing();
        }

        @Test
        void shouldReportUrgentPointerAndKeepUrgentBytesInline_MUST30_MUST32_MUST62()
        {
            send(data(0, 100).withUrgentPointer(10));

            assertEquals(java.util.List.of(10), app.urgent, "urgent data ends before SEG.SEQ + SEG.UP");
            assertEquals(100, app.receivedBytes, "urgent bytes are delivered in the stream");
            assertEquals(0, app.misorderedBytes);
            assertEquals(0, connection.urgentBytesPending());
        }

        @Test
        void shouldTellHowMuchUrgentDataRemainsBeyondTheSegment_MUST31_MUST33()
        {
            send(data(0, 100).withUrgentPointer(3000));

            assertEquals(java.util.List.of(3000), app.urgent);
            assertEquals(2900, connection.urgentBytesPending());

            send(data(100, 100).withUrgentPointer(2900)); // the same pointer again: no new signal
            assertEquals(1, app.urgent.size());
            assertEquals(2800, connection.urgentBytesPending());
        }

        @Test
        void shouldHoldAFinBeyondAGapUntilTheGapFills_SHLD31_RFC9293s3_10_7_4()
        {
            send(data(100, 10).withFlags(ACK | FIN));
            assertEquals(TcpState.ESTABLISHED, connection.state(), "not yet: bytes 0..99 are missing");
            assertEquals(0, app.peerClosedCalls);
            poll();
            expect(iss + 1, REMOTE_ISS + 1, ACK); // duplicate ACK for the hole

            send(data(0, 100)); // fills the hole: the held data and then the held FIN are processed
            assertEquals(TcpState.CLOSE_WAIT, connection.state());
            assertEquals(1, app.peerClosedCalls);
            assertEquals(110, app.receivedBytes);
            poll();
            expect(iss + 1, REMOTE_ISS + 112, ACK); // 110 bytes and the FIN
        }
    }

    @Nested
    class FlowControl
    {
        @BeforeEach
        void setUp()
        {
            useConfig(TcpConfig.builder().bufferBytes(4096, 4096).delayedAckNs(0).build());
            open();
        }

        @Test
        void shouldReduceWindowByUnconsumedBytesAndReopenIt_RFC9293s3_8_6()
        {
            app.consumeAtMost = 0;
            send(data(0, 2000));
            poll();
            assertEquals(2096, expect(iss + 1, REMOTE_ISS + 2001, ACK).window());
            assertEquals(2000, connection.unreadBytes());

            connection.consumed(2000);
            poll();
            assertEquals(4096, expect(iss + 1, REMOTE_ISS + 2001, ACK).window(), "window update");
        }

        @Test
        void shouldSendNoWindowUpdateOnceThePeerHasClosed_RFC9293s3_8_6()
        {
            app.consumeAtMost = 0;
            send(data(0, 2000).withFlags(ACK | FIN));
            poll();
            expect(iss + 1, REMOTE_ISS + 2002, ACK);
            assertEquals(TcpState.CLOSE_WAIT, connection.state());

            connection.consumed(2000); // the peer sends nothing more: a window update is noise (Linux)
            poll();
            expectNothing();
        }

        @Test
        void shouldNotAnnounceATinyWindowIncrease_MUST39()
        {
            app.consumeAtMost = 0;
            send(data(0, 1000));
            poll();
            expect(iss + 1, REMOTE_ISS + 1001, ACK);

            connection.consumed(10);
            poll();
            expectNothing();
        }

        @Test
        void shouldDropDataBeyondAZeroWindow_RFC9293Table6()
        {
            app.consumeAtMost = 0;
            send(data(0, 4096));
            poll();
            assertEquals(0, expect(iss + 1, REMOTE_ISS + 4097, ACK).window());

            send(data(4096, 10));
            expect(iss + 1, REMOTE_ISS + 4097, ACK);
            assertEquals(4096, app.receivedBytes);

            connection.consumed(4096);
            poll();
            assertEquals(4096, expect(iss + 1, REMOTE_ISS + 4097, ACK).window());
        }

        @Test
        void shouldStillProcessAckAndUrgInAZeroWindow_MUST66()
        {
            connection.noDelay(true);
            connection.send(bytes(100, 0), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            app.consumeAtMost = 0;
            send(data(0, 4096));
            poll();
            assertEquals(0, expect(iss + 101, REMOTE_ISS + 4097, ACK).window());

            send(seg(REMOTE_ISS + 4097, 0).withAck(iss + 101).withPayload(1).withUrgentPointer(5));
            expect(iss + 101, REMOTE_ISS + 4097, ACK);
            assertEquals(iss + 101, connection.sndUna(), "the ACK was processed");
            assertEquals(java.util.List.of(5), app.urgent, "the URG was processed");
            assertEquals(4096, app.receivedBytes, "the text was not");
        }

        @Test
        void shouldTrimSegmentToTheWindow_RFC9293s3_10_7_4()
        {
            app.consumeAtMost = 0;
            send(data(0, 4000));
            send(data(4000, 200));
            assertEquals(4096, app.receivedBytes, "only what fits in RCV.WND");
            assertEquals(0, app.misorderedBytes);
        }
    }

    @Nested
    class Send
    {
        @BeforeEach
        void setUp()
        {
            open();
        }

        @Test
        void shouldSendQueuedDataWithinPeerWindowAndMss_SHLD28()
        {
            final UnsafeBuffer payload = bytes(3000, 1);
            assertEquals(3000, connection.send(payload, 0, 3000));
            expectNothing();

            poll();
            final Sent first = expectData(iss + 1, REMOTE_ISS + 1, ACK, 1000); // SND.WND is 1000
            assertArrayEquals(java.util.Arrays.copyOfRange(payload.byteArray(), 0, 1000), first.payload());
            expectNothing();

            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1001).withWindow(5000));
            poll();
            final Sent second = expectData(iss + 1001, REMOTE_ISS + 1, ACK, 1400); // the peer's MSS
            assertArrayEquals(java.util.Arrays.copyOfRange(payload.byteArray(), 1000, 2400), second.payload());
            expectNothing(); // Nagle holds the 600-byte tail while 1400 bytes are outstanding
            assertEquals(2000, connection.sendQueueBytes());

            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 2401).withWindow(5000));
            poll();
            expectData(iss + 2401, REMOTE_ISS + 1, ACK | PSH, 600); // MUST-61
            expectNothing();
        }

        @Test
        void shouldReportEstablishedOnceWhenOpenSucceeds_RFC9293s3_10_1()
        {
            assertEquals(1, app.establishedCalls);
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(5000));
            assertEquals(1, app.establishedCalls);
        }

        @Test
        void shouldSignalWritableOnceAnAckFreesSpaceAfterBackPressure_RFC9293s3_10_2()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(60_000));
            final int capacity = config.sendBufferBytes();
            final UnsafeBuffer big = bytes(capacity + 10, 0);
            assertEquals(capacity, connection.send(big, 0, capacity + 10)); // back-pressure
            poll();
            assertEquals(0, app.writableCalls, "nothing acknowledged yet");
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1 + 1000).withWindow(60_000));
            poll();
            assertEquals(1, app.writableCalls);
            poll();
            assertEquals(1, app.writableCalls, "once per blocked send");
        }

        @Test
        void shouldNotSignalWritableWhenEverySendFitted_RFC9293s3_10_2()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(60_000));
            assertEquals(100, connection.send(bytes(100, 0), 0, 100));
            poll();
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 101).withWindow(60_000));
            poll();
            assertEquals(0, app.writableCalls);
        }

        @Test
        void shouldHoldSmallSegmentWhileDataIsOutstanding_SHLD7()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(5000));
            connection.send(bytes(100, 0), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);

            connection.send(bytes(100, 0), 0, 100);
            poll();
            expectNothing();

            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 101).withWindow(5000));
            poll();
            expectData(iss + 101, REMOTE_ISS + 1, ACK | PSH, 100);
        }

        @Test
        void shouldSendSmallSegmentsAtOnceWithNoDelay_MUST17()
        {
            connection.noDelay(true);
            connection.send(bytes(100, 0), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            connection.send(bytes(100, 0), 0, 100);
            poll();
            expectData(iss + 101, REMOTE_ISS + 1, ACK | PSH, 100);
        }

        @Test
        void shouldNotSendBeyondAShrunkWindow_MUST34_SHLD15()
        {
            connection.noDelay(true);
            connection.send(bytes(2000, 0), 0, 2000);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK, 1000);
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 501).withWindow(100)); // right edge moved left
            poll();
            expectNothing();
            assertEquals(iss + 1001, connection.sndNxt());
        }

        @Test
        void shouldReleaseAcknowledgedBytesFromTheSendBuffer_RFC9293s3_10_7_4()
        {
            connection.send(bytes(500, 0), 0, 500);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 500);
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 501));
            assertEquals(0, connection.sendQueueBytes());
            assertEquals(iss + 501, connection.sndUna());
        }

        @Test
        void shouldAcceptOnlyWhatFitsInTheSendBuffer_RFC9293s3_10_2()
        {
            useConfig(TcpConfig.builder().bufferBytes(2048, 4096).build());
            connection.listen(LOCAL_IP, LOCAL_PORT);
            send(seg(REMOTE_ISS, SYN_FLAG).withMss(1400));
            expect(expectedIss(), REMOTE_ISS + 1, SYN_FLAG | ACK);
            assertEquals(2000, connection.send(bytes(2000, 0), 0, 2000), "queued before ESTABLISHED");
            assertEquals(48, connection.send(bytes(100, 0), 0, 100));
            poll();
            expectNothing();
        }

        @Test
        void shouldRefuseSendWhenClosed_RFC9293s3_10_2()
        {
            connection.close();
            assertEquals(TcpConnection.SEND_NOT_OPEN, connection.send(bytes(1, 0), 0, 1));
            final TcpConnection fresh = new TcpConnection(config, isnGenerator, output);
            assertEquals(TcpConnection.SEND_NOT_OPEN, fresh.send(bytes(1, 0), 0, 1));
            assertFalse(fresh.close());
            assertEquals(TcpState.FIN_WAIT_1, connection.state());
        }
    }

    @Nested
    class Retransmission
    {
        private final long rtoNs = config.rtoInitialNs();

        @BeforeEach
        void setUp()
        {
            open();
            connection.noDelay(true);
        }

        @Test
        void shouldRetransmitFromSndUnaWhenRtoExpires_MUST18_MUST19()
        {
            final UnsafeBuffer payload = bytes(100, 9);
            connection.send(payload, 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            assertEquals(NOW_NS + rtoNs, connection.nextDeadlineNs(), "RFC 6298 (5.1)");

            assertEquals(0, connection.onTimer(NOW_NS + rtoNs - 1));
            expectNothing();
            assertEquals(1, connection.onTimer(NOW_NS + rtoNs));
            final Sent again = expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            assertArrayEquals(payload.byteArray(), again.payload());
            assertEquals(NOW_NS + 3 * rtoNs, connection.nextDeadlineNs(), "RTO doubled");

            connection.onTimer(NOW_NS + 3 * rtoNs);
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            assertEquals(NOW_NS + 7 * rtoNs, connection.nextDeadlineNs(), "RTO doubled again");
        }

        @Test
        void shouldRetransmitOnlyOneSegmentFromTheFront_RFC9293s3_10_8()
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(10_000));
            connection.send(bytes(3000, 0), 0, 3000);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK, 1400);
            expectData(iss + 1401, REMOTE_ISS + 1, ACK, 1400);
            expectData(iss + 2801, REMOTE_ISS + 1, ACK | PSH, 200);
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1401).withWindow(10_000));

            connection.onTimer(connection.nextDeadlineNs());
            expectData(iss + 1401, REMOTE_ISS + 1, ACK, 1400);
            expectNothing();
        }

        @Test
        void shouldStopTheTimerWhenEverythingIsAcked_RFC6298()
        {
            connection.send(bytes(100, 0), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            sendAt(seg(REMOTE_ISS + 1, 0).withAck(iss + 51), NOW_NS + 10);
            assertEquals(NOW_NS + 10 + rtoNs, connection.nextDeadlineNs(), "restarted on a partial ACK");
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 101));
            assertEquals(TcpConnection.NO_DEADLINE, connection.nextDeadlineNs());
        }

        @Test
        void shouldComputeRtoFromAnRttSample_MUST18()
        {
            connection.send(bytes(100, 0), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            sendAt(seg(REMOTE_ISS + 1, 0).withAck(iss + 101), NOW_NS + 100_000_000L);

            connection.send(bytes(100, 0), 0, 100);
            poll();
            // SRTT 100 ms, RTTVAR 50 ms: RTO = 100 + 4 * 50 = 300 ms
            assertEquals(nowNs + 300_000_000L, connection.nextDeadlineNs());
        }

        @Test
        void shouldTakeNoRttSampleFromARetransmittedSegment_MUST18()
        {
            connection.send(bytes(100, 0), 0, 100);
            poll();
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            connection.onTimer(NOW_NS + rtoNs);
            expectData(iss + 1, REMOTE_ISS + 1, ACK | PSH, 100);
            sendAt(seg(REMOTE_ISS + 1, 0).withAck(iss + 101), NOW_NS + rtoNs + 1_000_000L);

            connection.send(bytes(100, 0), 0, 100);
            poll();
            assertEquals(nowNs + 2 * rtoNs, connection.nextDeadlineNs(), "backed-off RTO kept, no sample (Karn)");
        }

        @Test
        void shouldTimeOutAfterR2_MUST20()
        {
            connection.send(bytes(100, 0), 0, 100);
            poll();
            long now = NOW_NS;
            for (int i = 0; i < 100 && connection.state() != TcpState.CLOSED; i++)
            {
                now = connection.nextDeadlineNs();
                connection.onTimer(now);
            }
            assertEquals(TcpState.CLOSED, connection.state());
            assertEquals(java.util.List.of(TcpCloseReason.TIMEOUT), app.closed);
            assertTrue(now - NOW_NS >= config.r2Ns(), "gave up only after R2");
        }
    }

    private static final int SYN_FLAG = dev.sluice.core.wire.TcpHeader.SYN;
}
