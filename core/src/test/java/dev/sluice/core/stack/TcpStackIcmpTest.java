package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static dev.sluice.core.stack.StackPair.TCP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.IcmpHeader;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * ICMP errors about our segments (MUST-54..56, SHLD-25/26, RFC 5927, RFC 1122 4.2.3.9), injected as frames
 * into the network layer, which classifies them and hands them to the stack.
 */
class TcpStackIcmpTest
{
    private static final int PORT = 7;
    private static final int CLIENT_PORT = 40_000;

    private final StackPair pair = new StackPair(TcpConfig.builder().build(), 4, 4);
    private final Endpoint server = new Endpoint();
    private final Endpoint client = new Endpoint();
    private StackPair.Shard blackholed;
    private UnsafeBuffer lastLost;

    TcpStackIcmpTest()
    {
        pair.tap = this::tap;
        pair.a.stack.listen(PORT, server);
    }

    private boolean tap(final StackPair.Shard from, final DirectBuffer frame, final int length)
    {
        if (from == blackholed && StackPair.isTcp(frame))
        {
            lastLost = StackPair.copy(frame, length);
            return false;
        }
        return true;
    }

    // B's SYN is lost on the way to A: B stays in SYN-SENT, and we hold the SYN to quote it
    private UnsafeBuffer connectIntoTheVoid()
    {
        blackholed = pair.b;
        client.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, client, pair.nowNs);
        assertNotNull(client.connection);
        pair.runUntil(() -> lastLost != null, 100);
        assertEquals(TcpHeader.SYN, StackPair.tcpFlags(lastLost));
        return lastLost;
    }

    private static int quotedSeq(final UnsafeBuffer frame)
    {
        return TcpHeader.sequence(frame, TCP);
    }

    @Test
    void shouldAbortAConnectionInSynSentOnPortUnreachable_SHLD26_MUST54()
    {
        final UnsafeBuffer syn = connectIntoTheVoid();

        final UnsafeBuffer icmp = StackPair.icmpError(pair.b, syn, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 3,
            quotedSeq(syn));
        pair.b.receive(icmp, icmp.capacity());

        assertEquals(TcpCloseReason.UNREACHABLE, client.closeReason); // MUST-12: the application learns why
        assertEquals(TcpCloseReason.UNREACHABLE, client.connection.closeReason());
        assertEquals(1, pair.b.counters.icmpHardErrorsAborted());
        assertEquals(0, pair.b.stack.connectionCount());
        assertEquals(4, pair.b.stack.freeConnections());
        pair.steps(2);
        assertEquals(0, pair.b.stack.scheduledTimers());
    }

    @Test
    void shouldAbortAConnectionInSynSentOnProtocolUnreachable_SHLD26()
    {
        final UnsafeBuffer syn = connectIntoTheVoid();

        final UnsafeBuffer icmp = StackPair.icmpError(pair.b, syn, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 2,
            quotedSeq(syn));
        pair.b.receive(icmp, icmp.capacity());

        assertEquals(TcpCloseReason.UNREACHABLE, client.closeReason);
        assertEquals(0, pair.b.stack.connectionCount());
    }

    @Test
    void shouldIgnoreAnIcmpErrorWhoseQuotedSequenceIsNotInFlight_RFC5927()
    {
        final UnsafeBuffer syn = connectIntoTheVoid();
        final int iss = quotedSeq(syn);

        for (final int seq : new int[] {iss + 1, iss - 1, iss + 1_000_000})
        {
            final UnsafeBuffer icmp = StackPair.icmpError(pair.b, syn, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 3,
                seq);
            pair.b.receive(icmp, icmp.capacity());
        }

        assertEquals(TcpState.SYN_SENT, client.connection.state());
        assertNull(client.closeReason);
        assertEquals(3, pair.b.counters.icmpErrorsOutOfWindow());
        assertEquals(0, pair.b.counters.icmpHardErrorsAborted());
        assertEquals(TcpConnection.NO_SOFT_ERROR, client.connection.lastSoftErrorType());
    }

    @Test
    void shouldRecordSoftErrorsWithoutAbortingTheHandshake_MUST56_SHLD25()
    {
        final UnsafeBuffer syn = connectIntoTheVoid();
        final int[][] softErrors = {
            {IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 0}, // net unreachable
            {IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 1}, // host unreachable
            {IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 5}, // source route failed
            {IcmpHeader.TYPE_PARAMETER_PROBLEM, 0},
            {IcmpHeader.TYPE_TIME_EXCEEDED, 0},
        };

        for (final int[] error : softErrors)
        {
            final UnsafeBuffer icmp = StackPair.icmpError(pair.b, syn, error[0], error[1], quotedSeq(syn));
            pair.b.receive(icmp, icmp.capacity());
        }

        assertEquals(TcpState.SYN_SENT, client.connection.state());
        assertNull(client.closeReason);
        assertEquals(5, client.connection.softErrors());
        assertEquals(IcmpHeader.TYPE_TIME_EXCEEDED, client.connection.lastSoftErrorType());
        assertEquals(0, client.connection.lastSoftErrorCode());
        assertEquals(pair.nowNs, client.connection.lastSoftErrorNs());
        assertEquals(5, pair.b.counters.icmpSoftErrors());
    }

    @Test
    void shouldDiscardSourceQuench_MUST55()
    {
        final UnsafeBuffer syn = connectIntoTheVoid();

        final UnsafeBuffer icmp = StackPair.icmpError(pair.b, syn, IcmpHeader.TYPE_SOURCE_QUENCH, 0, quotedSeq(syn));
        pair.b.receive(icmp, icmp.capacity());

        assertEquals(TcpState.SYN_SENT, client.connection.state());
        assertEquals(0, client.connection.softErrors());
        assertEquals(0, pair.b.counters.icmpSoftErrors() + pair.b.counters.icmpErrorsIgnored());
    }

    @Test
    void shouldIgnoreAnIcmpErrorForNoConnection_MUST54()
    {
        final UnsafeBuffer syn = connectIntoTheVoid();
        final UnsafeBuffer otherPort = StackPair.copy(syn, syn.capacity());
        otherPort.putShort(TCP, (short)(CLIENT_PORT + 1), java.nio.ByteOrder.BIG_ENDIAN);

        final UnsafeBuffer icmp = StackPair.icmpError(pair.b, otherPort, IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
            3, quotedSeq(syn));
        pair.b.receive(icmp, icmp.capacity());

        assertEquals(TcpState.SYN_SENT, client.connection.state());
        assertEquals(1, pair.b.counters.icmpErrorsIgnored());
    }

    @Test
    void shouldKeepAnEstablishedConnectionOnAHardErrorAsLinuxDoes_RFC5927()
    {
        client.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, client, pair.nowNs);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);
        blackholed = pair.b;
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[100]);
        assertEquals(100, client.connection.send(payload, 0, 100));
        pair.runUntil(() -> lastLost != null, 100);
        final UnsafeBuffer lostData = lastLost;
        assertEquals(client.connection.sndUna(), quotedSeq(lostData));

        final UnsafeBuffer icmp = StackPair.icmpError(pair.b, lostData, IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
            3, quotedSeq(lostData));
        pair.b.receive(icmp, icmp.capacity());

        assertEquals(TcpState.ESTABLISHED, client.connection.state());
        assertNull(client.closeReason);
        assertEquals(1, client.connection.softErrors(), "recorded as a soft error");
        assertEquals(3, client.connection.lastSoftErrorCode());
        blackholed = null;
        pair.runUntil(() -> server.received == 100, 30_000); // the retransmission gets through
    }

    @Test
    void shouldLowerTheSendMssAndResendAtOnceOnFragmentationNeeded_MUST54_RFC1191()
    {
        client.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, client, pair.nowNs);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);
        assertEquals(1460 - 12, client.connection.effectiveSendMssBytes(), "timestamps take 12 (RFC 7323)");
        blackholed = pair.b; // a router with a 576-byte link drops our 1500-byte datagrams
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[3000]);
        assertEquals(3000, client.connection.send(payload, 0, 3000));
        pair.runUntil(() -> lastLost != null, 100);
        final UnsafeBuffer lost = lastLost;
        final long sentBefore = pair.b.counters.segmentsSent();

        blackholed = null;
        final UnsafeBuffer icmp = StackPair.icmpError(pair.b, lost, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 4,
            576, quotedSeq(lost)); // fragmentation needed and DF set, next-hop MTU 576
        pair.b.receive(icmp, icmp.capacity());

        assertEquals(536 - 12, client.connection.effectiveSendMssBytes(), "576 - 40 - timestamps");
        assertEquals(1, pair.b.counters.icmpPathMtuLowered());
        pair.steps(1);
        assertTrue(pair.b.counters.segmentsSent() > sentBefore, "resent at once, not after the RTO");
        pair.runUntil(() -> server.received == 3000, 200);
        assertEquals(TcpState.ESTABLISHED, client.connection.state());
    }

    @Test
    void shouldIgnoreFragmentationNeededThatWouldRaiseTheMssOrGoBelowTheFloor_RFC1191()
    {
        client.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, client, pair.nowNs);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);
        blackholed = pair.b;
        assertEquals(100, client.connection.send(new UnsafeBuffer(new byte[100]), 0, 100));
        pair.runUntil(() -> lastLost != null, 100);
        final UnsafeBuffer icmp = StackPair.icmpError(pair.b, lastLost, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 4,
            9000, quotedSeq(lastLost));
        pair.b.receive(icmp, icmp.capacity());
        assertEquals(1460 - 12, client.connection.effectiveSendMssBytes(), "a larger MTU never raises the MSS");
        final UnsafeBuffer tiny = StackPair.icmpError(pair.b, lastLost, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 4,
            100, quotedSeq(lastLost));
        pair.b.receive(tiny, tiny.capacity());
        assertEquals(TcpConnection.MIN_PATH_MTU - 40 - 12, client.connection.effectiveSendMssBytes(),
            "a forged tiny MTU is clamped (Linux min_pmtu)");
    }

    @Test
    void shouldDropAHalfOpenConnectionOnAHardErrorQuotingItsSynAckAndFreeItsBacklogPlace_SHLD26()
    {
        blackholed = pair.a; // A's SYN-ACK is lost
        client.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, client, pair.nowNs);
        pair.runUntil(() -> lastLost != null, 100);
        final UnsafeBuffer synAck = lastLost;
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, StackPair.tcpFlags(synAck));
        assertEquals(1, pair.a.stack.synReceivedCount(PORT), "a compact SYN-RECEIVED record");
        assertEquals(0, pair.a.stack.connectionCount());

        final UnsafeBuffer stale = StackPair.icmpError(pair.a, synAck, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 3,
            quotedSeq(synAck) + 1); // RFC 5927 §4.1: not the SYN-ACK we sent
        pair.a.receive(stale, stale.capacity());
        assertEquals(1, pair.a.stack.synReceivedCount(PORT));
        assertEquals(1, pair.a.counters.icmpErrorsOutOfWindow());

        final UnsafeBuffer icmp = StackPair.icmpError(pair.a, synAck, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 3,
            quotedSeq(synAck));
        pair.a.receive(icmp, icmp.capacity());

        assertEquals(0, pair.a.stack.synReceivedCount(PORT));
        assertEquals(1, pair.a.counters.icmpHardErrorsAborted());
        assertEquals(0, pair.a.stack.connectionCount());
        assertNull(server.connection, "the application never saw the half-open connection");
    }
}
