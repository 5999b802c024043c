package dev.sluice.core.tcp;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.PSH;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Selective acknowledgments: SACK-permitted negotiation (RFC 2018 §2), SACK blocks in our ACKs, most recent
 * first (RFC 2018 §4), D-SACK (RFC 2883 §4), and the sender's scoreboard with RFC 6675 loss recovery.
 */
class TcpConnectionSackTest extends TcpConnectionScript
{
    private static final int MSS = 1000;
    private int iss;

    /** MSS 1000, SACK-permitted, NOP NOP: a peer offering SACK without timestamps (room for four blocks). */
    private static byte[] synSackOption()
    {
        return new byte[] {2, 4, (byte)(MSS >> 8), (byte)MSS, 4, 2, 1, 1};
    }

    /** NOP NOP SACK with the given edges (left, right, ...). */
    private static byte[] sackOption(final int... edges)
    {
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

    private void establishedWithSack()
    {
        listen();
        send(seg(REMOTE_ISS, SYN).withRawOptions(synSackOption()));
        iss = expectedIss();
        final Sent synAck = expect(iss, REMOTE_ISS + 1, SYN | ACK);
        assertTrue(synAck.sackPermitted(), "SACK-permitted only in reply to a SYN that carried it");
        send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withWindow(60_000));
        assertEquals(TcpState.ESTABLISHED, connection.state());
    }

    // peer data at offset (from the first byte after its SYN)
    private void peerData(final int offset, final int length)
    {
        send(seg(REMOTE_ISS + 1 + offset, 0).withAck(iss + 1).withWindow(60_000).withPayload(length));
    }

    private int[] ackBlocks(final int ack)
    {
        poll();
        final Sent sent = expect(iss + 1, ack, ACK);
        return sent.sack();
    }

    private int peer(final int offset)
    {
        return REMOTE_ISS + 1 + offset;
    }

    @Nested
    class Negotiation
    {
        @Test
        void shouldOfferSackPermittedOnSynByDefault_RFC2018s2()
        {
            assertTrue(TcpConfig.builder().build().sack(), "on by default (Linux's tcp_sack)");
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            assertTrue(expect(expectedIss(), 0, SYN).sackPermitted());
        }

        @Test
        void shouldNotOfferSackWhenConfiguredOff_RFC2018s2()
        {
            useConfig(TcpConfig.builder().delayedAckNs(0).sack(false).congestionControl(CongestionAlgorithm.NEWRENO)
                .build());
            connection.connect(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
            assertFalse(expect(expectedIss(), 0, SYN).sackPermitted());
        }

        @Test
        void shouldNotSendBlocksWhenThePeerDidNotPermitThem_RFC2018s2()
        {
            established(); // the peer's SYN had no SACK-permitted
            iss = expectedIss();
            send(seg(REMOTE_ISS + 1 + 100, 0).withAck(iss + 1).withPayload(100));
            assertEquals(0, ackBlocks(REMOTE_ISS + 1).length);
        }
    }

    @Nested
    class Receiver
    {
        @Test
        void shouldReportTheMostRecentBlockFirst_RFC2018s4()
        {
            establishedWithSack();
            peerData(100, 100);
            assertArrayEquals(new int[] {peer(100), peer(200)}, ackBlocks(peer(0)));
            peerData(300, 100);
            assertArrayEquals(new int[] {peer(300), peer(400), peer(100), peer(200)}, ackBlocks(peer(0)));
            peerData(500, 100);
            assertArrayEquals(new int[] {peer(500), peer(600), peer(300), peer(400), peer(100), peer(200)},
                ackBlocks(peer(0)));
            peerData(200, 100); // joins two blocks: the joined block is the most recent
            assertArrayEquals(new int[] {peer(100), peer(400), peer(500), peer(600)}, ackBlocks(peer(0)));
        }

        @Test
        void shouldSendAtMostFourBlocks_RFC2018s3()
        {
            establishedWithSack();
            for (int i = 1; i <= 4; i++)
            {
                peerData(200 * i, 100);
                poll();
                output.sent.clear();
            }
            peerData(1000, 100);
            final int[] blocks = ackBlocks(peer(0));
            assertEquals(8, blocks.length, "4 blocks fill the 40 option bytes");
            assertArrayEquals(new int[] {peer(1000), peer(1100), peer(800), peer(900)},
                java.util.Arrays.copyOf(blocks, 4), "the most recent first");
        }

        @Test
        void shouldStopReportingOnceTheHoleFills_RFC2018s4()
        {
            establishedWithSack();
            peerData(100, 100);
            ackBlocks(peer(0));
            peerData(0, 100);
            assertEquals(0, ackBlocks(peer(200)).length);
            assertEquals(200, app.receivedBytes);
        }

        @Test
        void shouldReportADuplicateBelowTheAckAsDsack_RFC2883s4_1()
        {
            establishedWithSack();
            peerData(0, 100);
            ackBlocks(peer(100));
            peerData(0, 100); // again: a spurious retransmission
            assertArrayEquals(new int[] {peer(0), peer(100)}, ackBlocks(peer(100)));
            peerData(100, 50);
            assertEquals(0, ackBlocks(peer(150)).length, "a D-SACK is reported once");
        }

        @Test
        void shouldReportADuplicateOfHeldDataFollowedByItsBlock_RFC2883s4_2()
        {
            establishedWithSack();
            peerData(200, 100);
            ackBlocks(peer(0));
            peerData(200, 100);
            assertArrayEquals(new int[] {peer(200), peer(300), peer(200), peer(300)}, ackBlocks(peer(0)));
        }

        @Test
        void shouldReportThePartDuplicatedBeforeRcvNxt_RFC2883s4_1()
        {
            establishedWithSack();
            peerData(0, 100);
            ackBlocks(peer(100));
            peerData(50, 100); // 50 old bytes, 50 new
            assertArrayEquals(new int[] {peer(50), peer(100)}, ackBlocks(peer(150)));
        }

        @Test
        void shouldKeepBlocksWithinTheOptionSpaceWithTimestamps_RFC2018s3_RFC7323()
        {
            listen();
            // MSS 1460, SACK-permitted, timestamps (TSval 1)
            send(seg(REMOTE_ISS, SYN).withRawOptions(
                new byte[] {2, 4, 0x05, (byte)0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}));
            iss = expectedIss();
            final Sent synAck = expect(iss, REMOTE_ISS + 1, SYN | ACK);
            send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1).withRawOptions(timestampsOption(2, synAck.tsVal())));
            for (int i = 1; i <= 4; i++)
            {
                send(seg(REMOTE_ISS + 1 + 200 * i, 0).withAck(iss + 1).withPayload(100)
                    .withRawOptions(timestampsOption(2 + i, synAck.tsVal())));
            }
            poll();
            Sent last = null;
            while (!output.sent.isEmpty())
            {
                last = output.sent.poll();
            }
            assertTrue(last.hasTimestamps());
            assertEquals(6, last.sack().length, "three blocks beside the timestamps");
        }
    }

    @Nested
    class Sender
    {
        private final List<Integer> retransmitted = new ArrayList<>();

        // RFC 6675's DupThresh and IsLost alone: RACK-TLP (RFC 8985, on by default) has TcpConnectionRackTest
        @BeforeEach
        void rfc6675Alone()
        {
            useConfig(TcpConfig.builder().delayedAckNs(0).congestionControl(CongestionAlgorithm.NEWRENO).rack(false)
                .build());
        }

        // ten segments of 1,000 bytes in flight: SND.UNA = iss + 1, segment k starts at iss + 1 + 1000 k
        private void tenSegmentsInFlight()
        {
            establishedWithSack();
            connection.noDelay(true);
            assertEquals(10_000, connection.send(new UnsafeBuffer(new byte[10_000]), 0, 10_000));
            poll();
            for (int k = 0; k < 10; k++)
            {
                expectData(seq(k), REMOTE_ISS + 1, k == 9 ? ACK | PSH : ACK, MSS);
            }
            expectNothing();
        }

        private int seq(final int segment)
        {
            return iss + 1 + MSS * segment;
        }

        private void ack(final int cumulative, final int... sackEdges)
        {
            send(seg(REMOTE_ISS + 1, 0).withAck(cumulative).withWindow(60_000).withRawOptions(sackOption(sackEdges)));
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
                    retransmitted.add((sent.seq() - iss - 1) / MSS);
                    assertEquals(MSS, sent.payload().length, "one hole, one segment");
                }
            }
        }

        @Test
        void shouldRetransmitTheFirstHoleOnTheThirdDuplicate_RFC6675s5()
        {
            final TcpRecoveryCounters stackCounters = new TcpRecoveryCounters();
            connection.recoveryCounters(stackCounters);
            tenSegmentsInFlight();
            ack(seq(0), seq(1), seq(2));
            ack(seq(0), seq(1), seq(3));
            assertEquals(List.of(), retransmitted, "two duplicates: not yet");
            ack(seq(0), seq(1), seq(4));
            assertEquals(List.of(0), retransmitted, "the hole at SND.UNA, nothing SACKed");
            assertEquals(1, connection.sackRecoveries());
            assertEquals(1, stackCounters.sackRecoveries(), "counted for sluice stat too");
            assertEquals(0, stackCounters.fastRetransmits());
            assertEquals(5000, connection.congestionControl().ssthresh(), "ssthresh = FlightSize / 2");
            // RFC 6937: cwnd = pipe (segments 4-9 and the retransmission) + sndcnt, 0 after the fast retransmit
            assertEquals(7000, connection.congestionControl().cwnd());
        }

        // twenty segments in flight (10..29) after slow start from IW10; SND.UNA = seq(10); 40,000 bytes queued
        private void twentySegmentsInFlight()
        {
            establishedWithSack();
            connection.noDelay(true);
            assertEquals(70_000, connection.send(new UnsafeBuffer(new byte[70_000]), 0, 70_000));
            poll();
            for (int k = 1; k <= 10; k++)
            {
                ack(seq(k)); // one segment per ACK: cwnd += SMSS (slow start), two segments out
            }
            assertEquals(20_000, connection.congestionControl().cwnd());
            assertEquals(30, retransmitted.size(), "segments 0..29 sent once");
            retransmitted.clear();
        }

        @Test
        void shouldSendInProportionToDeliveredDataWhilePipeExceedsSsthresh_RFC6937s3()
        {
            twentySegmentsInFlight();
            ack(seq(10), seq(11), seq(12));
            ack(seq(10), seq(11), seq(13));
            ack(seq(10), seq(11), seq(14)); // third duplicate: recovery, RecoverFS = 20,000, ssthresh = 10,000
            assertEquals(List.of(10), retransmitted, "the fast retransmit");
            assertEquals(10_000, connection.congestionControl().ssthresh());
            // each ACK delivers one segment; sndcnt = CEIL(prr_delivered * 10,000 / 20,000) - prr_out: one
            // segment per two delivered, where RFC 6675 alone (cwnd = ssthresh = 10, pipe = 17) sends nothing
            // until pipe falls below 10
            final List<Integer> newPerAck = new ArrayList<>();
            for (int k = 15; k <= 20; k++)
            {
                final int before = retransmitted.size();
                ack(seq(10), seq(11), seq(k));
                newPerAck.add(retransmitted.size() - before);
            }
            assertEquals(List.of(0, 0, 1, 0, 1, 0), newPerAck,
                "prr_delivered 2..7 segments: prr_out may reach 1, 2, 2, 3, 3, 4 segments (the retransmission counts)");
            assertEquals(List.of(10, 30, 31), retransmitted, "new data from SND.NXT");
        }

        @Test
        void shouldSlowStartBackToSsthreshOnceLossesTookPipeBelowIt_RFC6937s3_SSRB()
        {
            twentySegmentsInFlight();
            // segments 10..19 lost: the ACKs of 20, 21, 22 are the duplicates; at the third, 10..19 are deemed lost
            ack(seq(10), seq(20), seq(21));
            ack(seq(10), seq(20), seq(22));
            ack(seq(10), seq(20), seq(23));
            assertEquals(10_000, connection.congestionControl().ssthresh());
            // pipe = 7,000 (23..29) < ssthresh: PRR-SSRB, sndcnt = MIN(ssthresh - pipe, MAX(prr_delivered - prr_out,
            // DeliveredData) + MSS) = MIN(3,000, 1,000 + 1,000): two segments per segment delivered, where
            // RFC 6675 alone (cwnd = ssthresh) would send three at once
            assertEquals(List.of(10, 11), retransmitted);
            ack(seq(10), seq(20), seq(24)); // pipe 8,000: MIN(2,000, MAX(0, 1,000) + 1,000)
            assertEquals(List.of(10, 11, 12, 13), retransmitted);
            ack(seq(10), seq(20), seq(25)); // pipe 9,000: MIN(1,000, 2,000): pipe reaches ssthresh
            assertEquals(List.of(10, 11, 12, 13, 14), retransmitted);
            assertEquals(10_000, connection.congestionControl().cwnd(), "cwnd = pipe + sndcnt = ssthresh");
        }

        @Test
        void shouldRetransmitOnlyTheHolesDeemedLost_RFC6675s4_NextSeg()
        {
            tenSegmentsInFlight();
            ack(seq(0), seq(1), seq(2));
            ack(seq(0), seq(1), seq(3));
            ack(seq(0), seq(1), seq(4)); // segment 0 retransmitted
            ack(seq(0), seq(5), seq(6), seq(1), seq(4));
            ack(seq(0), seq(5), seq(7), seq(1), seq(4));
            assertEquals(List.of(0), retransmitted, "segment 4: only 2 SACKed segments above it");
            ack(seq(0), seq(5), seq(8), seq(1), seq(4));
            assertEquals(List.of(0, 4), retransmitted, "IsLost(segment 4): 3 segments SACKed above it");
            ack(seq(4), seq(5), seq(8));
            ack(seq(8));
            ack(seq(10));
            assertEquals(List.of(0, 4), retransmitted, "no SACKed segment was ever sent again");
            assertEquals(0, connection.sendQueueBytes());
        }

        @Test
        void shouldEnterRecoveryWhenEnoughIsSackedAtOnce_RFC6675s5_IsLost()
        {
            tenSegmentsInFlight();
            ack(seq(0), seq(1), seq(10)); // one ACK, but IsLost(SND.UNA)
            assertEquals(List.of(0), retransmitted);
        }

        @Test
        void shouldSkipSackedDataAfterATimeout_RFC6675s5_1_RFC2018s8()
        {
            tenSegmentsInFlight();
            ack(seq(0), seq(1), seq(10)); // segment 0 retransmitted, and lost again
            nowNs = connection.nextDeadlineNs();
            connection.onTimer(nowNs);
            poll();
            collectRetransmissions();
            ack(seq(1), seq(1), seq(10)); // the hole is filled: go-back-N would go on with segment 1
            assertEquals(List.of(0, 0), retransmitted, "after the RTO only the hole, not go-back-N over SACKed data");
            assertEquals(1, connection.retransmissionTimeouts());
            ack(seq(10));
            assertEquals(0, connection.sendQueueBytes());
        }

        @Test
        void shouldCountDsacks_RFC2883s5()
        {
            tenSegmentsInFlight();
            ack(seq(1), seq(0), seq(1)); // segment 0 acknowledged and reported twice: a duplicate arrived
            assertEquals(1, connection.dsacks());
            assertEquals(List.of(), retransmitted);
        }

        @Test
        void shouldUseNewRenoWithoutSack_RFC6582()
        {
            final TcpRecoveryCounters stackCounters = new TcpRecoveryCounters();
            connection.recoveryCounters(stackCounters);
            established(); // no SACK-permitted from the peer
            iss = expectedIss();
            connection.noDelay(true);
            connection.send(new UnsafeBuffer(new byte[4000]), 0, 4000);
            poll();
            output.sent.clear();
            for (int i = 0; i < 3; i++)
            {
                send(seg(REMOTE_ISS + 1, 0).withAck(iss + 1));
            }
            expectData(iss + 1, REMOTE_ISS + 1, ACK, 1000); // the peer's window: 1,000
            assertEquals(0, connection.sackRecoveries());
            assertEquals(1, stackCounters.fastRetransmits());
        }
    }
}
