package dev.sluice.core.tcp;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Script-style tests of congestion control in an ESTABLISHED connection (peer MSS 1400, window 65535):
 * sending limited by min(cwnd, SND.WND), slow start (MUST-19), fast retransmit and NewReno fast recovery,
 * and the loss window with go-back-N after an RTO.
 */
class TcpConnectionCongestionTest extends TcpConnectionScript
{
    private static final int MSS = 1400;
    private int iss;

    @BeforeEach
    void open()
    {
        established();
        iss = expectedIss();
        send(ack(0));
        connection.noDelay(true);
        connection.send(new UnsafeBuffer(new byte[30 * MSS]), 0, 30 * MSS);
    }

    private Seg ack(final int ackOffset)
    {
        return seg(REMOTE_ISS + 1, 0).withAck(iss + 1 + ackOffset).withWindow(65_535);
    }

    private void expectSegments(final int firstIndex, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            expectData(iss + 1 + (firstIndex + i) * MSS, REMOTE_ISS + 1, ACK, MSS);
        }
    }

    private void sendInitialWindow()
    {
        poll();
        expectSegments(0, 10);
        expectNothing();
    }

    @Test
    void shouldSendNoMoreThanTheInitialWindow_RFC6928_MUST19()
    {
        sendInitialWindow();
        assertEquals(10 * MSS, connection.congestionControl().cwnd());
    }

    @Test
    void shouldLimitSendingByTheSmallerOfCwndAndSndWnd_RFC5681()
    {
        send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(3 * MSS));
        poll();
        expectSegments(0, 3);
        expectNothing();
    }

    @Test
    void shouldOpenCwndInSlowStart_MUST19()
    {
        sendInitialWindow();
        send(ack(2 * MSS)); // acknowledges two segments: cwnd grows by one SMSS (L = 1)
        poll();
        expectSegments(10, 3); // 11 SMSS cwnd less 8 in flight
        expectNothing();
    }

    @Test
    void shouldFastRetransmitOnTheThirdDuplicateAck_RFC5681s3_2()
    {
        sendInitialWindow();
        send(ack(0));
        send(ack(0));
        expectNothing();
        send(ack(0));
        expectSegments(0, 1);
        expectNothing();
        assertTrue(connection.congestionControl().inRecovery());
        assertEquals(5 * MSS, connection.congestionControl().ssthresh(), "half of the flight");
    }

    @Test
    void shouldSendNewDataAsDuplicatesInflateCwnd_RFC6582()
    {
        sendInitialWindow();
        for (int i = 0; i < 3; i++)
        {
            send(ack(0));
        }
        expectSegments(0, 1);
        for (int i = 0; i < 3; i++)
        {
            send(ack(0));
        }
        poll(); // cwnd = 5 + 3 + 3 SMSS = 11 SMSS against 10 in flight
        expectSegments(10, 1);
        expectNothing();
    }

    @Test
    void shouldRetransmitOnAPartialAckAndLeaveRecoveryOnTheFullAck_RFC6582()
    {
        sendInitialWindow();
        for (int i = 0; i < 3; i++)
        {
            send(ack(0));
        }
        expectSegments(0, 1);
        send(ack(3 * MSS)); // partial: the segment at the new SND.UNA was lost too
        expectSegments(3, 1);
        assertTrue(connection.congestionControl().inRecovery());

        send(ack(10 * MSS));
        assertFalse(connection.congestionControl().inRecovery());
        assertEquals(2 * MSS, connection.congestionControl().cwnd(), "min(ssthresh, max(FlightSize, SMSS) + SMSS)");
    }

    @Test
    void shouldSendFromTheStartOfRecoveryInProportionWithoutSack_RFC6937s3()
    {
        sendInitialWindow();
        for (int k = 1; k <= 10; k++)
        {
            send(ack(k * MSS)); // slow start, one segment per ACK: two out each time
        }
        poll();
        output.sent.clear(); // segments 10..29 in flight, cwnd 20 SMSS
        connection.send(new UnsafeBuffer(new byte[10 * MSS]), 0, 10 * MSS);
        for (int i = 0; i < 3; i++)
        {
            send(ack(10 * MSS));
        }
        expectSegments(10, 1); // fast retransmit: RecoverFS 20 SMSS, ssthresh 10 SMSS
        expectNothing();
        // RFC 6937: a duplicate ACK is one segment delivered (the third included), sndcnt = CEIL(prr_delivered *
        // 10 / 20) - prr_out (the retransmission counts): one new segment per two duplicates while pipe (flight less
        // the duplicates) exceeds ssthresh; NewReno's inflated cwnd (ssthresh + 3 + n SMSS against 20 in flight)
        // would send nothing before the eighth
        for (int i = 1; i <= 7; i++)
        {
            send(ack(10 * MSS));
            poll();
            if (i % 2 == 1 && i > 1)
            {
                expectSegments(30 + (i - 3) / 2, 1);
            }
            expectNothing();
        }
    }

    @Test
    void shouldRestartFromOneSegmentAndGoBackNAfterAnRto_MUST19()
    {
        sendInitialWindow();
        connection.onTimer(connection.nextDeadlineNs());
        expectSegments(0, 1);
        assertEquals(MSS, connection.congestionControl().cwnd());
        assertEquals(5 * MSS, connection.congestionControl().ssthresh());
        poll();
        expectNothing(); // the loss window is full

        send(ack(MSS));
        poll();
        expectSegments(1, 2); // slow start: two segments for one acknowledged
        expectNothing();

        send(ack(9 * MSS)); // the receiver already held most of the rest: go-back-N skips it
        poll();
        expectSegments(9, 3); // the last resent segment, then new data: cwnd 3 SMSS
        expectNothing();
    }

    @Test
    void shouldNotFastRetransmitOnDuplicatesThatCarryAWindowUpdate_RFC5681s2()
    {
        sendInitialWindow();
        for (int i = 0; i < 3; i++)
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(60_000 + i));
        }
        expectNothing();
        assertFalse(connection.congestionControl().inRecovery());
    }
}
