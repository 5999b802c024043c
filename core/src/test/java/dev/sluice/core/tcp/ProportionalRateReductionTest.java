package dev.sluice.core.tcp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * RFC 6937 Proportional Rate Reduction on its own: the proportional part, its rounding, the slow-start reduction
 * bound, the fast retransmit on the first ACK and DeliveredData without SACK. Through a connection:
 * {@code TcpConnectionSackTest.Sender} and {@code TcpConnectionCongestionTest}.
 */
class ProportionalRateReductionTest
{
    private static final int MSS = 1000;

    private final ProportionalRateReduction prr = new ProportionalRateReduction();

    @Test
    void shouldSendSsthreshOverRecoverFsOfWhatIsDelivered_RFC6937s3()
    {
        prr.start(20_000, 0);
        prr.onSent(MSS); // the fast retransmit
        int sent = MSS;
        for (int ack = 1; ack <= 10; ack++)
        {
            final int sndcnt = prr.onAck(MSS, 20_000 - ack * MSS / 2, 10_000, MSS);
            prr.onSent(sndcnt);
            sent += sndcnt;
            assertEquals(Math.max(MSS, (ack * MSS + 1) / 2), sent, "prr_out = CEIL(prr_delivered * 1/2) after ACK " + ack);
        }
        assertEquals(10 * MSS, prr.delivered());
        assertEquals(5 * MSS, prr.out(), "half of what was delivered: the ratio ssthresh / RecoverFS");
    }

    @Test
    void shouldRoundTheProportionalShareUp_RFC6937s3()
    {
        prr.start(3000, 0); // ssthresh 2,100 (CUBIC's 0.7): 100 bytes delivered allow CEIL(70) = 70
        prr.onSent(MSS);
        assertEquals(0, prr.onAck(100, 2500, 2100, MSS), "CEIL(100 * 2100 / 3000) - 1000 < 0: nothing");
        assertEquals(400, prr.onAck(1900, 2400, 2100, MSS), "CEIL(2000 * 2100 / 3000) = 1400, minus 1000 sent");
        assertEquals(3000, prr.recoverFs());
    }

    @Test
    void shouldLetTheFastRetransmitGoOnTheFirstAck_RFC6937s3()
    {
        prr.start(100_000, 0);
        assertEquals(MSS, prr.onAck(0, 90_000, 50_000, MSS), "nothing delivered yet, prr_out = 0: one segment");
        prr.onSent(MSS);
        assertEquals(0, prr.onAck(0, 90_000, 50_000, MSS), "after it, nothing until data is delivered");
    }

    @Test
    void shouldBoundSlowStartToOneSegmentMoreThanDelivered_RFC6937s3_SSRB()
    {
        prr.start(20_000, 0);
        prr.onSent(MSS);
        // pipe far below ssthresh: MIN(ssthresh - pipe, MAX(prr_delivered - prr_out, DeliveredData) + MSS)
        assertEquals(2 * MSS, prr.onAck(MSS, 2000, 10_000, MSS), "MAX(1000 - 1000, 1000) + 1000");
        prr.onSent(2 * MSS);
        assertEquals(6 * MSS, prr.onAck(5 * MSS, 2000, 10_000, MSS), "MAX(6000 - 3000, 5000) + 1000");
        prr.onSent(6 * MSS);
        assertEquals(MSS, prr.onAck(MSS, 9000, 10_000, MSS), "ssthresh - pipe: back to ssthresh, not beyond");
    }

    @Test
    void shouldNeverAllowANegativeCount_RFC6937s3()
    {
        prr.start(10_000, 0);
        prr.onSent(8 * MSS); // more than the share (retransmissions forced by partial ACKs)
        assertEquals(0, prr.onAck(MSS, 9000, 5000, MSS));
    }

    @Test
    void shouldCountDuplicateAcksAsOneSegmentAndNotTwiceWithoutSack_RFC6937s3()
    {
        prr.start(10_000, 2 * MSS); // two duplicates came before recovery
        assertEquals(MSS, prr.onDuplicateAck(MSS), "the third: one segment delivered");
        assertEquals(3 * MSS, prr.dupAckBytes(), "three segments left the network");
        assertEquals(MSS, prr.onDuplicateAck(MSS));
        // a partial ACK of 5 segments: four were reported by duplicates already, one is new delivered data
        assertEquals(MSS, prr.onCumulativeAck(5 * MSS));
        assertEquals(0, prr.dupAckBytes());
        assertEquals(2 * MSS, prr.onCumulativeAck(2 * MSS), "no credit left: all of it is delivered data");
    }
}
