package dev.sluice.core.tcp;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * RFC 7323 §2 window scaling (CONFORMANCE.md, "7323 (window scale ...)": options only in SYNs and used only
 * when both sides offered them; SYN windows never scaled; shift &gt; 14 treated as 14), with RFC 5961 §5,
 * MUST-1 and the persist/SWS logic on unscaled byte counts.
 */
class TcpConnectionWindowScaleTest extends TcpConnectionScript
{
    private static final int OUR_SHIFT = 3; // 256 KiB receive buffer (the default)

    @Test
    void shouldChooseSmallestShiftCoveringReceiveBuffer_RFC7323s2_3()
    {
        assertEquals(0, WindowScaling.shiftFor(65_535));
        assertEquals(1, WindowScaling.shiftFor(65_536));
        assertEquals(OUR_SHIFT, WindowScaling.shiftFor(256 * 1024));
        assertEquals(14, WindowScaling.shiftFor(TcpConfig.MAX_BUFFER_BYTES));
        assertEquals(OUR_SHIFT, WindowScaling.shiftFor(config.receiveBufferBytes()));
        assertTrue(TcpConfig.builder().build().windowScaling(), "on by default (Linux's tcp_window_scaling)");
        assertEquals(256 * 1024, TcpConfig.builder().build().receiveBufferBytes());
    }

    @Nested
    class ActiveOpen
    {
        private int iss;

        private void connect()
        {
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            iss = expectedIss();
        }

        @Test
        void shouldOfferWindowScaleOnSynWithUnscaledWindow_RFC7323s2_2()
        {
            connect();
            final Sent syn = expect(iss, 0, SYN);
            assertEquals(1460, syn.mss());
            assertEquals(OUR_SHIFT, syn.windowScale());
            assertEquals(TcpConnection.MAX_UNSCALED_WINDOW, syn.window(), "a SYN's window is never scaled");
        }

        @Test
        void shouldNotOfferWindowScaleWhenConfiguredOff_RFC7323s2_2()
        {
            useConfig(TcpConfig.builder().delayedAckNs(0).windowScaling(false).build());
            connect();
            assertEquals(NO_WS, expect(iss, 0, SYN).windowScale());
        }

        @Test
        void shouldRetransmitSynWithWindowScale_RFC7323s2_2_MUST22()
        {
            connect();
            expect(iss, 0, SYN);
            connection.onTimer(connection.nextDeadlineNs());
            assertEquals(OUR_SHIFT, expect(iss, 0, SYN).windowScale());
        }

        @Test
        void shouldScaleBothDirectionsWhenSynAckCarriesWindowScale_RFC7323s2_2()
        {
            connect();
            expect(iss, 0, SYN);
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withWindow(5000).withWindowScale(2));

            final Sent ack = expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(5000, connection.sndWnd(), "the SYN-ACK's window is not scaled");
            assertEquals(256 * 1024, connection.rcvWnd(), "RCV.WND may now exceed 65,535");
            assertEquals((256 * 1024) >> OUR_SHIFT, ack.window(), "RCV.WND >> Rcv.Wind.Shift");

            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(5000));
            assertEquals(5000 << 2, connection.sndWnd(), "SND.WND = SEG.WND << Snd.Wind.Shift");
        }

        @Test
        void shouldIgnoreWindowScaleOnSynAckAnsweringSynWithoutIt_RFC7323s2_2()
        {
            useConfig(TcpConfig.builder().delayedAckNs(0).windowScaling(false).build());
            connect();
            expect(iss, 0, SYN);
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withWindow(5000).withWindowScale(5));

            final Sent ack = expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpConnection.MAX_UNSCALED_WINDOW, ack.window());
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(6000));
            assertEquals(6000, connection.sndWnd());
        }

        @Test
        void shouldNotScaleWhenPeerOmitsWindowScale_RFC7323s2_2()
        {
            connect();
            expect(iss, 0, SYN);
            send(seg(REMOTE_ISS, SYN).withAck(iss + 1).withWindow(5000).withMss(1460));

            final Sent ack = expect(iss + 1, REMOTE_ISS + 1, ACK);
            assertEquals(TcpConnection.MAX_UNSCALED_WINDOW, ack.window());
            assertEquals(TcpConnection.MAX_UNSCALED_WINDOW, connection.rcvWnd(), "capped without scaling");
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(6000));
            assertEquals(6000, connection.sndWnd());
        }
    }

    @Nested
    class PassiveOpen
    {
        private void synReceivedScaled(final int peerShift)
        {
            listen();
            send(seg(REMOTE_ISS, SYN).withWindow(40_000).withWindowScale(peerShift));
            final Sent synAck = expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK);
            assertEquals(OUR_SHIFT, synAck.windowScale(), "the SYN-ACK answers a SYN with the option");
            assertEquals(TcpConnection.MAX_UNSCALED_WINDOW, synAck.window(), "a SYN-ACK's window is never scaled");
        }

        private void establishedScaled(final int peerShift, final int window)
        {
            synReceivedScaled(peerShift);
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1).withWindow(window));
            assertEquals(TcpState.ESTABLISHED, connection.state());
        }

        @Test
        void shouldAnswerSynWithoutWindowScaleWithout_RFC7323s2_2()
        {
            listen();
            send(seg(REMOTE_ISS, SYN).withMss(1400));
            assertEquals(NO_WS, expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK).windowScale());
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1).withWindow(700));
            assertEquals(700, connection.sndWnd());
            assertEquals(TcpConnection.MAX_UNSCALED_WINDOW, connection.rcvWnd());
        }

        @Test
        void shouldScaleWindowOfHandshakeCompletingAck_RFC7323s2_3()
        {
            establishedScaled(7, 100);
            assertEquals(100 << 7, connection.sndWnd());
        }

        @Test
        void shouldTreatShiftAbove14As14_RFC7323s2_3()
        {
            establishedScaled(20, 1);
            assertEquals(1 << 14, connection.sndWnd());
        }

        @Test
        void shouldAdvertiseScaledWindowAfterHandshake_RFC7323s2_3()
        {
            establishedScaled(0, 1000);
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1).withPayload(8));
            poll();
            final Sent ack = expect(expectedIss() + 1, REMOTE_ISS + 9, ACK);
            assertEquals((256 * 1024) >> OUR_SHIFT, ack.window());
            assertEquals(256 * 1024, connection.rcvWnd());
        }

        @Test
        void shouldNeverMoveAdvertisedRightEdgeLeftWhenRounding_RFC7323s2_4_SHLD14()
        {
            establishedScaled(0, 1000);
            app.consumeAtMost = 0; // every byte stays unread: RCV.WND shrinks by odd amounts
            int seq = REMOTE_ISS + 1;
            long lastEdge = Integer.toUnsignedLong(seq) + TcpConnection.MAX_UNSCALED_WINDOW; // the SYN-ACK's
            int roundedUp = 0;
            for (int length : new int[] {5, 3, 1, 9, 7, 13, 2, 8, 1000, 1})
            {
                send(seg(seq, 0).withAck(expectedIss() + 1).withPayload(length));
                seq += length;
                poll();
                final Sent ack = expect(expectedIss() + 1, seq, ACK);
                final int edge = ack.ack() + (ack.window() << OUR_SHIFT);
                assertTrue(SequenceNumbers.gt(edge, (int)lastEdge - (1 << OUR_SHIFT)),
                    "advertised right edge moved left by the granularity or more after " + length + " bytes");
                final int trueEdge = seq + connection.rcvWnd();
                assertTrue(SequenceNumbers.lt(edge, trueEdge + (1 << OUR_SHIFT)),
                    () -> "more than the granularity beyond RCV.NXT + RCV.WND: edge " + edge + " true " + trueEdge);
                if (ack.window() != connection.rcvWnd() >>> OUR_SHIFT)
                {
                    roundedUp++; // plain rounding down would have moved the edge left
                }
                if (SequenceNumbers.lt(edge, (int)lastEdge))
                {
                    assertEquals((connection.rcvWnd() + 7) >>> OUR_SHIFT, ack.window(),
                        "recedes (by less than the granularity) only when held to RCV.WND rounded up");
                }
                lastEdge = edge;
            }
            assertTrue(roundedUp > 0, "the sequence exercises the round-up");
        }

        @Test
        void shouldRoundUpRatherThanRecede_RFC7323s2_4()
        {
            establishedScaled(0, 1000);
            app.consumeAtMost = 0;
            final int iss = expectedIss();
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withPayload(5));
            poll();
            assertEquals(262_139 >> OUR_SHIFT, expect(iss + 1, REMOTE_ISS + 6, ACK).window(), "rounded down");
            send(seg(REMOTE_ISS + 6, 0).withAck(iss + 1).withPayload(3));
            poll();
            assertEquals(262_136 >> OUR_SHIFT, expect(iss + 1, REMOTE_ISS + 9, ACK).window());
            send(seg(REMOTE_ISS + 9, 0).withAck(iss + 1).withPayload(1));
            poll();
            // RCV.WND 262,135 >> 3 = 32,766 would end at REMOTE_ISS + 10 + 262,128, left of the last edge
            // REMOTE_ISS + 9 + 262,136: the edge is kept, rounded up to 32,767
            assertEquals(32_767, expect(iss + 1, REMOTE_ISS + 10, ACK).window());
            assertEquals(262_135, connection.rcvWnd());
        }

        @Test
        void shouldUseScaledMaxSndWndForAckAcceptability_RFC5961s5()
        {
            establishedScaled(7, 1000); // SND.WND = MAX.SND.WND = 128,000
            final int sndUna = connection.sndUna();
            send(seg(REMOTE_ISS + 1, 0).withAck(sndUna - 100_000));
            expectNothing(); // old but within MAX.SND.WND: acceptable, nothing to answer
            send(seg(REMOTE_ISS + 1, 0).withAck(sndUna - 200_000));
            expect(sndUna, REMOTE_ISS + 1, ACK); // RFC 5961 §5.2: challenge ACK
        }

        @Test
        void shouldSendWithinScaledSendWindow_RFC7323s2_3_MUST38()
        {
            establishedScaled(4, 100); // 1,600 bytes
            final UnsafeBuffer data = new UnsafeBuffer(new byte[5000]);
            assertEquals(5000, connection.send(data, 0, 5000));
            poll();
            expectData(expectedIss() + 1, REMOTE_ISS + 1, ACK, 1460);
            // 140 bytes of window left, less than half of MAX.SND.WND (1,600): sender SWS avoidance waits
            expectNothing();
        }

        @Test
        void shouldProbeZeroScaledWindow_MUST35()
        {
            establishedScaled(4, 0);
            final UnsafeBuffer data = new UnsafeBuffer(new byte[100]);
            connection.send(data, 0, 100);
            poll();
            expectNothing();
            connection.onTimer(connection.nextDeadlineNs());
            expect(expectedIss(), REMOTE_ISS + 1, ACK); // zero-window probe at SND.UNA - 1
            send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1).withWindow(10)); // 160 bytes
            assertEquals(160, connection.sndWnd());
            poll();
            expectData(expectedIss() + 1, REMOTE_ISS + 1, ACK | dev.sluice.core.wire.TcpHeader.PSH, 100);
        }
    }
}
