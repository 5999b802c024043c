package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpSegmentOutput;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

/**
 * Issue 4 acceptance: data through an established connection driven by {@link TcpStack} (segments in, the
 * ready list, timers, segments out through the network layer) allocates nothing in steady state; nor does
 * a whole connection's life (ephemeral port, handshake, data, close, TIME-WAIT expiry), which arms, cancels
 * and expires wheel timers. Allocation is the ThreadMXBean allocated-bytes delta of the test thread; early
 * rounds warm up the JIT and are not checked.
 */
class TcpStackAllocationTest
{
    private static final int PORT = 7;
    private static final int ROUNDS = 6;
    private static final int SEGMENTS_PER_ROUND = 10_000;
    private static final int FLOOD_PORT = 61_000;

    private final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
    private final Endpoint server = new Endpoint();
    private final Endpoint client = new Endpoint();
    private final UnsafeBuffer data = new UnsafeBuffer(new byte[64 * 1024]);
    private StackPair pair;
    private int floodSyns;
    private int serverConnectionsLeft;

    private final StackPair.Condition bothEstablished = () -> client.established == 1 && server.established == 1;
    private final StackPair.Condition serverGotAll = () -> server.received == 1_000;
    private final StackPair.Condition serverPeerClosed = () -> server.peerClosed == 1;
    private final StackPair.Condition bothFreed = () -> client.closeReason != null && server.closeReason != null &&
        pair.a.stack.connectionCount() == serverConnectionsLeft && pair.b.stack.connectionCount() == 0;

    @Test
    void shouldNotAllocateWhileTenThousandSegmentsFlowThroughAnEstablishedConnection()
    {
        pair = new StackPair(TcpConfig.builder().bufferBytes(64 * 1024, 64 * 1024).build(), 4, 4);
        pair.a.stack.listen(PORT, server);
        client.connection = pair.b.stack.connect(IP_A, PORT, 40_000, client, pair.nowNs);
        pair.runUntil(bothEstablished, 100);

        final long[] allocated = new long[ROUNDS];
        for (int round = 0; round < ROUNDS; round++)
        {
            final long segmentsBefore = pair.a.counters.segmentsToConnections();
            final long before = threads.getCurrentThreadAllocatedBytes();
            while (pair.a.counters.segmentsToConnections() - segmentsBefore < SEGMENTS_PER_ROUND)
            {
                // the application sends outside any callback: the ready list must notice
                client.connection.send(data, 0, data.capacity());
                pair.step();
            }
            allocated[round] = threads.getCurrentThreadAllocatedBytes() - before;
        }

        assertEquals(0, steadyState(allocated), "bytes allocated per round: " + java.util.Arrays.toString(allocated));
        assertTrue(server.received >= (long)ROUNDS * SEGMENTS_PER_ROUND * 1000, "received " + server.received);
        assertEquals(0, pair.a.netCounters.get(dev.sluice.core.counters.NetCounterDescriptor.TCP_BAD_CHECKSUM));
    }

    @Test
    void shouldNotAllocateWhenWholeConnectionsComeAndGoThroughTheTimerWheel()
    {
        pair = new StackPair(TcpConfig.builder().mslNs(1_000_000L).build(), 4, 4);
        pair.a.stack.listen(PORT, server);
        pair.b.stack.compactTimeWait(false); // TIME-WAIT on the wheel (the compact records: below)

        final long[] allocated = new long[ROUNDS];
        for (int round = 0; round < ROUNDS; round++)
        {
            final long scheduled = pair.b.counters.timersScheduled();
            final long cancelled = pair.a.counters.timersCancelled() + pair.b.counters.timersCancelled();
            final long expired = pair.b.counters.timerExpiries();
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20; i++)
            {
                oneConnectionLifetime();
            }
            allocated[round] = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(pair.b.counters.timersScheduled() > scheduled, "no timer armed");
            assertTrue(pair.a.counters.timersCancelled() + pair.b.counters.timersCancelled() > cancelled,
                "no timer cancelled");
            assertTrue(pair.b.counters.timerExpiries() > expired, "no timer expired");
        }

        assertEquals(0, steadyState(allocated), "bytes allocated per round: " + java.util.Arrays.toString(allocated));
        assertEquals(0, pair.a.stack.scheduledTimers());
        assertEquals(0, pair.b.stack.scheduledTimers());
    }

    @Test
    void shouldNotAllocateWhenWholeConnectionsComeAndGoThroughCompactTimeWait()
    {
        pair = new StackPair(TcpConfig.builder().mslNs(1_000_000L).build(), 4, 4);
        pair.a.stack.listen(PORT, server);
        final StackPair.Condition timeWaitOver = () -> pair.b.stack.timeWaitCount() == 0;
        final long[] allocated = new long[ROUNDS];
        for (int round = 0; round < ROUNDS; round++)
        {
            final long entered = pair.b.counters.timeWaitEntered();
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20; i++)
            {
                oneConnectionLifetime();
                pair.runUntil(timeWaitOver, 1_000);
            }
            allocated[round] = threads.getCurrentThreadAllocatedBytes() - before;
            assertEquals(entered + 20, pair.b.counters.timeWaitEntered(), "compact TIME-WAIT records");
        }
        assertEquals(0, steadyState(allocated), "bytes allocated per round: " + java.util.Arrays.toString(allocated));
    }

    @Test
    void shouldNotAllocateWhileASynFloodIsAnsweredWithCookiesAndCookieConnectionsComeAndGo_RFC4987_3_6()
    {
        pair = new StackPair(TcpConfig.builder().mslNs(1_000_000L).build(), 4, 4);
        pair.a.stack.listen(PORT, server, 1);
        // SYN-ACKs to the flood's ports are lost (the flood's sources are silent)
        pair.tap = (from, frame, length) -> !(from == pair.a && StackPair.isTcp(frame) &&
            StackPair.tcpFlags(frame) == (TcpHeader.SYN | TcpHeader.ACK) &&
            TcpHeader.destinationPort(frame, StackPair.TCP) >= FLOOD_PORT);
        floodSyns(1); // holds the backlog (1) in SYN-RECEIVED: every later SYN gets a cookie
        serverConnectionsLeft = 0; // the holder is a compact SYN-RECEIVED record, not a connection
        final StackPair.Condition timeWaitOver = () -> pair.b.stack.timeWaitCount() == 0;
        final long[] allocated = new long[ROUNDS];
        for (int round = 0; round < ROUNDS; round++)
        {
            final long cookiesAccepted = pair.a.counters.synCookiesAccepted();
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 10; i++)
            {
                floodSyns(100);
                oneConnectionLifetime();
                pair.runUntil(timeWaitOver, 1_000);
            }
            allocated[round] = threads.getCurrentThreadAllocatedBytes() - before;
            assertEquals(cookiesAccepted + 10, pair.a.counters.synCookiesAccepted(), "connections by cookie");
        }
        assertEquals(0, steadyState(allocated), "bytes allocated per round: " + java.util.Arrays.toString(allocated));
        assertTrue(pair.a.counters.synCookiesSent() >= ROUNDS * 10 * 101L);
        assertEquals(1, pair.a.stack.synReceivedCount(PORT));
    }

    private void floodSyns(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            // the first port is the backlog's holder, never reused
            final int port = floodSyns == 0 ? FLOOD_PORT : FLOOD_PORT + 1 + floodSyns % 4_000;
            floodSyns++;
            pair.b.output.sendSyn(StackPair.IP_B, port, IP_A, PORT, floodSyns * 7919,
                0, TcpHeader.SYN, 65_535, 1460, TcpSegmentOutput.NO_WINDOW_SCALE);
        }
        pair.step();
    }

    // ephemeral port, handshake, 1000 bytes, close from the client, TIME-WAIT on the client until it expires
    private void oneConnectionLifetime()
    {
        client.reset();
        server.reset();
        client.connection = pair.b.stack.connect(IP_A, PORT, client, pair.nowNs, null);
        assertNotNull(client.connection);
        pair.runUntil(bothEstablished, 100);
        assertEquals(1_000, client.connection.send(data, 0, 1_000));
        pair.runUntil(serverGotAll, 100);
        client.connection.close();
        pair.runUntil(serverPeerClosed, 100);
        server.connection.close();
        pair.runUntil(bothFreed, 1_000);
        if (client.closeReason != TcpCloseReason.NORMAL || server.closeReason != TcpCloseReason.NORMAL)
        {
            throw new AssertionError("closed with " + client.closeReason + " / " + server.closeReason);
        }
    }

    // the smallest of the rounds after warm-up: per-segment or per-timer allocation shows in every round
    private static long steadyState(final long[] allocated)
    {
        long min = Long.MAX_VALUE;
        for (int i = ROUNDS / 2; i < ROUNDS; i++)
        {
            min = Math.min(min, allocated[i]);
        }
        return min;
    }
}
