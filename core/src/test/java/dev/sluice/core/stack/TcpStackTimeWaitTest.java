package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static dev.sluice.core.stack.StackPair.IP_B;
import static dev.sluice.core.stack.StackPair.TCP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * Issue 11, compact TIME-WAIT: the TCB is freed when TIME-WAIT starts and a record of a few tens of bytes answers
 * for the 4-tuple for 2 MSL (MUST-13): retransmitted FINs re-ACKed with the timeout restarted, old duplicates
 * ACKed, a new SYN above the old sequence space accepted (RFC 9293 §3.10.7.4, RFC 6191), a cap with oldest-first
 * recycling.
 */
class TcpStackTimeWaitTest
{
    private static final int PORT = 80;
    private static final int CLIENT_PORT = 40_000;
    private static final long MSL_NS = 50_000_000L;

    private final StackPair pair = new StackPair(TcpConfig.builder().mslNs(MSL_NS).build(), 8, 8);
    private final Endpoint server = new Endpoint();
    private final Endpoint client = new Endpoint();
    private final List<UnsafeBuffer> fromServer = new ArrayList<>();
    private final List<UnsafeBuffer> fromClient = new ArrayList<>();

    TcpStackTimeWaitTest()
    {
        pair.tap = (from, frame, length) ->
        {
            if (StackPair.isTcp(frame))
            {
                (from == pair.a ? fromServer : fromClient).add(StackPair.copy(frame, length));
            }
            return true;
        };
    }

    // the server closes first (an HTTP server without keep-alive): the server's side goes to TIME-WAIT
    private long serverClosedConnection()
    {
        pair.a.stack.listen(PORT, server);
        client.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, client, pair.nowNs);
        pair.runUntil(() -> server.established == 1 && client.established == 1, 30_000);
        assertTrue(server.connection.close());
        pair.runUntil(() -> client.peerClosed == 1, 100);
        assertTrue(client.connection.close());
        pair.runUntil(() -> pair.a.stack.timeWaitCount() == 1 && client.closeReason != null, 100);
        return pair.nowNs;
    }

    private UnsafeBuffer last(final List<UnsafeBuffer> frames, final int flags)
    {
        for (int i = frames.size() - 1; i >= 0; i--)
        {
            if ((StackPair.tcpFlags(frames.get(i)) & flags) == flags)
            {
                return frames.get(i);
            }
        }
        throw new AssertionError("no frame with flags " + flags);
    }

    private int acksFromServerAfter(final int index)
    {
        int acks = 0;
        for (int i = index; i < fromServer.size(); i++)
        {
            if (StackPair.tcpFlags(fromServer.get(i)) == TcpHeader.ACK)
            {
                acks++;
            }
        }
        return acks;
    }

    @Test
    void shouldFreeTheTcbAndKeepACompactRecordForTwoMsl_MUST13()
    {
        final long start = serverClosedConnection();
        assertEquals(0, pair.a.stack.connectionCount(), "the TCB is free at once");
        assertEquals(TcpCloseReason.NORMAL, server.closeReason);
        assertTrue(pair.a.stack.isTimeWait(IP_B, CLIENT_PORT, PORT));
        assertEquals(1, pair.a.counters.timeWaitEntered());

        pair.runUntil(() -> pair.a.stack.timeWaitCount() == 0, 20_000);
        final long lasted = pair.nowNs - start;
        assertTrue(lasted >= 2 * MSL_NS - StackPair.STEP_NS * 3, "ended after " + lasted + " ns");
        assertTrue(lasted <= 2 * MSL_NS + StackPair.STEP_NS * 2, "ended late: " + lasted + " ns");
    }

    @Test
    void shouldAckARetransmittedFinAndRestartTwoMsl_MUST13()
    {
        serverClosedConnection();
        final UnsafeBuffer clientFin = last(fromClient, TcpHeader.FIN | TcpHeader.ACK);
        pair.idle(MSL_NS); // half of TIME-WAIT
        final int seen = fromServer.size();
        final long restartNs = pair.nowNs;
        // the client's LAST-ACK did not get our ACK; from here on the client is gone (its RST to our ACK would
        // end TIME-WAIT, as in Linux with tcp_rfc1337 = 0)
        pair.tap = (from, frame, length) ->
        {
            if (from == pair.a)
            {
                fromServer.add(StackPair.copy(frame, length));
            }
            return from == pair.a;
        };
        pair.a.receive(clientFin, clientFin.capacity());
        pair.steps(1);
        assertEquals(1, acksFromServerAfter(seen), "the record ACKs the FIN again");

        pair.runUntil(() -> pair.a.stack.timeWaitCount() == 0, 30_000);
        assertTrue(pair.nowNs - restartNs >= 2 * MSL_NS - 3 * StackPair.STEP_NS,
            "2 MSL restarted: ended " + (pair.nowNs - restartNs) + " ns after the FIN");
    }

    @Test
    void shouldAckAnOldDuplicateSynAndKeepTheRecord()
    {
        serverClosedConnection();
        final UnsafeBuffer oldSyn = fromClient.get(0);
        assertEquals(TcpHeader.SYN, StackPair.tcpFlags(oldSyn));
        final int seen = fromServer.size();
        pair.a.receive(oldSyn, oldSyn.capacity()); // its sequence number is below RCV.NXT of the old connection
        pair.steps(1);
        assertEquals(1, acksFromServerAfter(seen));
        assertEquals(1, pair.a.stack.timeWaitCount());
        assertEquals(0, pair.a.stack.connectionCount());
        assertEquals(0, pair.a.counters.timeWaitReused());
    }

    @Test
    void shouldAcceptANewSynAboveTheOldSequenceSpace_RFC6191()
    {
        serverClosedConnection();
        final int oldIss = TcpHeader.sequence(fromClient.get(0), TCP);
        pair.idle(MSL_NS / 2); // time moves the client's ISN clock on (RFC 6528)
        final Endpoint again = new Endpoint();
        again.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, again, pair.nowNs);
        assertNotNull(again.connection);
        pair.runUntil(() -> again.established == 1 && server.established == 2, 100);
        assertTrue(TcpHeader.sequence(last(fromClient, TcpHeader.SYN), TCP) - oldIss > 0);
        assertEquals(1, pair.a.counters.timeWaitReused());
        assertEquals(0, pair.a.stack.timeWaitCount());
        assertEquals(TcpState.ESTABLISHED, server.connection.state());
    }

    @Test
    void shouldRecycleTheOldestRecordBeyondTheCap()
    {
        pair.a.stack.maxTimeWait(2);
        pair.a.stack.listen(PORT, server);
        for (int i = 0; i < 3; i++)
        {
            final Endpoint c = new Endpoint();
            c.closeWhenPeerCloses = true;
            c.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + i, c, pair.nowNs);
            final int accepted = server.accepted;
            pair.runUntil(() -> c.established == 1 && server.accepted == accepted + 1 &&
                server.connection.state() == TcpState.ESTABLISHED, 30_000);
            server.connection.close();
            pair.runUntil(() -> c.closeReason != null, 1_000);
            pair.steps(2);
        }
        assertEquals(2, pair.a.stack.timeWaitCount());
        assertEquals(1, pair.a.counters.timeWaitRecycled());
        assertTrue(!pair.a.stack.isTimeWait(IP_B, CLIENT_PORT, PORT), "the oldest went first");
        assertTrue(pair.a.stack.isTimeWait(IP_B, CLIENT_PORT + 2, PORT));
    }
}
