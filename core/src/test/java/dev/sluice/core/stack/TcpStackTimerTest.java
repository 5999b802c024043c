package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static dev.sluice.core.stack.StackPair.STEP_NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpState;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The stack's timer wheel and ready list: connection timers fire through Agrona's
 * {@code DeadlineTimerWheel}, only connections with a segment, a timer or an application call are polled,
 * and application calls made outside the stack's callbacks are noticed.
 */
class TcpStackTimerTest
{
    private static final int PORT = 7;
    private static final int CLIENT_PORT = 40_000;
    private static final long RTO_NS = 200_000_000L;
    private static final long MSL_NS = 10_000_000L;

    private static final TcpConfig CONFIG = TcpConfig.builder()
        .bufferBytes(64 * 1024, 64 * 1024)
        .rto(RTO_NS, RTO_NS, TcpConfig.MIN_RTO_MAX_NS)
        .mslNs(MSL_NS)
        .delayedAckNs(0) // these tests count timers and ACKs: every ACK at once (MUST-40 has its own tests)
        .build();

    private final Endpoint server = new Endpoint();
    private final Endpoint client = new Endpoint();
    private final UnsafeBuffer data = new UnsafeBuffer(new byte[256 * 1024]);

    private StackPair open(final TcpConfig config)
    {
        final StackPair pair = new StackPair(config, 4, 4);
        pair.a.stack.listen(PORT, server);
        client.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, client, pair.nowNs);
        assertNotNull(client.connection);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);
        return pair;
    }

    @Test
    void shouldRetransmitThroughTheTimerWheelOnceTheRtoExpires_MUST19()
    {
        final StackPair pair = open(CONFIG);
        final long[] dataSeenNs = new long[4];
        final int[] dataFrames = new int[1];
        pair.tap = (from, frame, length) ->
        {
            if (from == pair.b && StackPair.isTcp(frame) && StackPair.tcpPayloadLength(frame) > 0)
            {
                if (dataFrames[0] < dataSeenNs.length)
                {
                    dataSeenNs[dataFrames[0]] = pair.nowNs;
                }
                dataFrames[0]++;
                return false; // lost
            }
            return true;
        };
        final long firedBefore = pair.b.counters.timersFired();

        assertEquals(100, client.connection.send(data, 0, 100));
        pair.runUntil(() -> dataFrames[0] >= 2, 10_000);

        final long gapNs = dataSeenNs[1] - dataSeenNs[0];
        assertTrue(gapNs >= RTO_NS, "retransmitted after " + gapNs + " ns, before the RTO");
        assertTrue(gapNs <= RTO_NS + TcpStack.TIMER_TICK_NS + STEP_NS, "retransmitted late: " + gapNs + " ns");
        assertEquals(firedBefore + 1, pair.b.counters.timersFired());
        assertEquals(1, pair.b.stack.scheduledTimers(), "the backed-off RTO is armed again");
    }

    @Test
    void shouldRearmWithoutFiringWhenAnOlderTimerExpiresBeforeTheConnectionsDeadline_MUST19()
    {
        final StackPair pair = open(CONFIG);
        assertEquals(100, client.connection.send(data, 0, 100)); // arms the RTO for t0 + RTO
        pair.runUntil(() -> server.received == 100, 100);
        pair.steps(3); // acknowledged: the connection has no deadline, the armed timer is left in the wheel
        assertEquals(TcpConnection.NO_DEADLINE, client.connection.nextDeadlineNs());
        assertEquals(1, pair.b.stack.scheduledTimers());
        pair.idle(RTO_NS / 2);
        final long[] dataSeenNs = new long[2];
        final int[] dataFrames = new int[1];
        pair.tap = (from, frame, length) ->
        {
            if (from == pair.b && StackPair.isTcp(frame) && StackPair.tcpPayloadLength(frame) > 0)
            {
                if (dataFrames[0] < dataSeenNs.length)
                {
                    dataSeenNs[dataFrames[0]] = pair.nowNs;
                }
                dataFrames[0]++;
                return false;
            }
            return true;
        };
        final long expiriesBefore = pair.b.counters.timerExpiries();
        final long firedBefore = pair.b.counters.timersFired();

        assertEquals(100, client.connection.send(data, 0, 100)); // RTO due at t1 + RTO, after the armed timer
        pair.runUntil(() -> dataFrames[0] >= 2, 10_000);

        final long gapNs = dataSeenNs[1] - dataSeenNs[0];
        assertTrue(gapNs >= RTO_NS, "retransmitted after " + gapNs + " ns, before the RTO");
        assertTrue(gapNs <= RTO_NS + TcpStack.TIMER_TICK_NS + STEP_NS, "retransmitted late: " + gapNs + " ns");
        assertEquals(expiriesBefore + 2, pair.b.counters.timerExpiries(), "the older timer expired first");
        assertEquals(firedBefore + 1, pair.b.counters.timersFired(), "but fired nothing");
    }

    @Test
    void shouldFreeTheActiveCloserOnceTimeWaitHasLastedTwoMsl_MUST13()
    {
        final StackPair pair = open(CONFIG);
        pair.b.stack.compactTimeWait(false); // the TCB itself waits, on the wheel (TimeWaitTest: compact records)
        assertTrue(client.connection.close());
        pair.runUntil(() -> server.peerClosed == 1, 100);
        assertTrue(server.connection.close());
        pair.runUntil(() -> client.connection.state() == TcpState.TIME_WAIT, 100);
        final long timeWaitStartNs = pair.nowNs;

        pair.runUntil(() -> pair.b.stack.connectionCount() == 0, 10_000);

        final long freedAfterNs = pair.nowNs - timeWaitStartNs;
        assertTrue(freedAfterNs >= 2 * MSL_NS, "TIME-WAIT ended after " + freedAfterNs + " ns");
        assertTrue(freedAfterNs <= 2 * MSL_NS + TcpStack.TIMER_TICK_NS + STEP_NS, "late: " + freedAfterNs);
        assertEquals(TcpCloseReason.NORMAL, client.closeReason);
        assertEquals(TcpCloseReason.NORMAL, server.closeReason);
        assertEquals(0, pair.a.stack.connectionCount());
        assertEquals(0, pair.b.stack.scheduledTimers(), "no timer left behind");
        assertEquals(0, pair.a.stack.scheduledTimers(), "no timer left behind");
    }

    @Test
    void shouldFireTimersThatFellDueDuringAPauseLongerThanAWheelTurn_MUST13()
    {
        final long mslNs = 2_000_000_000L; // TIME-WAIT 4 s: several turns of the wheel
        final StackPair pair = open(TcpConfig.builder().mslNs(mslNs).build());
        pair.b.stack.compactTimeWait(false);
        assertTrue(client.connection.close());
        pair.runUntil(() -> server.peerClosed == 1, 100);
        assertTrue(server.connection.close());
        pair.runUntil(() -> client.connection.state() == TcpState.TIME_WAIT, 100);
        final long timeWaitStartNs = pair.nowNs;

        pair.b.stack.poll(timeWaitStartNs + 2 * mslNs - 2 * TcpStack.TIMER_TICK_NS);
        assertEquals(1, pair.b.stack.connectionCount(), "not before 2 MSL");

        pair.b.stack.poll(timeWaitStartNs + 10_000_000_000L); // one poll after a 10 s stall
        assertEquals(0, pair.b.stack.connectionCount());
        assertEquals(TcpCloseReason.NORMAL, client.closeReason);
        assertEquals(0, pair.b.stack.scheduledTimers());
    }

    @Test
    void shouldPollOnlyConnectionsWithASegmentATimerOrAnApplicationCall_MUST59()
    {
        final StackPair pair = open(CONFIG);
        final Endpoint[] more = {new Endpoint(), new Endpoint(), new Endpoint()};
        for (int i = 0; i < more.length; i++)
        {
            assertNotNull(pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + 1 + i, more[i], pair.nowNs));
        }
        assertEquals(100, client.connection.send(data, 0, 100));
        pair.steps(10);
        pair.idle(2 * RTO_NS); // any timer left armed by the exchange fires once, for nothing
        pair.steps(2);
        assertEquals(4, pair.b.stack.connectionCount());
        final long polledBefore = pair.b.counters.connectionsPolled();

        pair.steps(1_000);
        assertEquals(polledBefore, pair.b.counters.connectionsPolled(), "idle connections were polled");

        assertEquals(10, client.connection.send(data, 0, 10)); // outside any callback
        final long sentBefore = pair.b.counters.segmentsSent();
        pair.b.stack.poll(pair.nowNs);
        assertEquals(polledBefore + 1, pair.b.counters.connectionsPolled());
        assertEquals(sentBefore + 1, pair.b.counters.segmentsSent(), "the queued data left at once");
        pair.runUntil(() -> server.received == 110, 100);
    }

    @Test
    void shouldSendTheFinOfACloseCalledOutsideCallbacks_MUST12()
    {
        final StackPair pair = open(CONFIG);
        pair.steps(5);

        assertTrue(client.connection.close());
        pair.runUntil(() -> server.peerClosed == 1, 100);
        assertTrue(server.connection.close());
        pair.runUntil(() -> client.closeReason != null && server.closeReason != null, 10_000);

        assertEquals(TcpCloseReason.NORMAL, client.closeReason);
        assertEquals(TcpCloseReason.NORMAL, server.closeReason);
        pair.steps(2);
        assertEquals(0, pair.a.stack.connectionCount());
        assertEquals(0, pair.b.stack.connectionCount());
    }

    @Test
    void shouldAnnounceTheWindowOpenedByConsumedCalledOutsideCallbacks_MUST39()
    {
        final StackPair pair = open(CONFIG);
        server.consume = false; // the application holds on to everything: the window closes
        final int[] queued = new int[1];
        final StackPair.Condition windowClosed = () ->
        {
            queued[0] += Math.max(0, client.connection.send(data, 0, data.capacity() - queued[0]));
            return server.connection.rcvWnd() == 0 && client.connection.sndWnd() == 0 &&
                client.connection.sndNxt() == client.connection.sndUna();
        };
        pair.runUntil(windowClosed, 10_000);
        final long receivedWhileClosed = server.received;
        assertEquals(64 * 1024, server.connection.unreadBytes());

        server.connection.consumed(server.connection.unreadBytes()); // outside any callback
        server.consume = true;
        pair.runUntil(() -> server.received > receivedWhileClosed, 100);

        assertTrue(client.connection.sndWnd() > 0, "the window update reached the sender");
    }

    @Test
    void shouldFreeAConnectionAbortedOutsideCallbacks_MUST12()
    {
        final StackPair pair = open(CONFIG);
        pair.steps(5);

        client.connection.abort();
        pair.b.stack.poll(pair.nowNs);

        assertEquals(TcpCloseReason.ABORTED, client.closeReason);
        assertEquals(0, pair.b.stack.connectionCount());
        pair.runUntil(() -> server.closeReason != null, 10);
        assertEquals(TcpCloseReason.RESET_BY_PEER, server.closeReason);
        pair.steps(1);
        assertEquals(0, pair.a.stack.connectionCount());
    }

    @Test
    void shouldSendWhatNagleHeldBackOnceWokenAfterNoDelay_MUST17()
    {
        final StackPair pair = open(CONFIG);
        pair.steps(5);
        assertEquals(100, client.connection.send(data, 0, 100)); // nothing outstanding: leaves at once
        pair.b.stack.poll(pair.nowNs);
        assertEquals(100, client.connection.send(data, 0, 100)); // small, data outstanding: Nagle holds it
        pair.b.stack.poll(pair.nowNs);
        final long sentBefore = pair.b.counters.segmentsSent();
        assertTrue(client.connection.sndNxt() != client.connection.sndUna());

        client.connection.noDelay(true);
        pair.b.stack.poll(pair.nowNs);
        assertEquals(sentBefore, pair.b.counters.segmentsSent(), "noDelay alone is not an event");
        assertTrue(pair.b.stack.wake(client.connection));
        pair.b.stack.poll(pair.nowNs);

        assertEquals(sentBefore + 1, pair.b.counters.segmentsSent());
        pair.runUntil(() -> server.received == 200, 100);
        assertTrue(!pair.a.stack.wake(client.connection), "not a connection of A's stack");
    }

    @Test
    void shouldNotRearmTheWheelForEveryAcknowledgment()
    {
        // the RTO alone (RFC 6675 recovery, no tail loss probe): re-armed about once per RTO
        assertWheelRearmsPerAck(
            TcpConfig.builder().bufferBytes(64 * 1024, 4096).delayedAckNs(0).rack(false).build(), 20);
    }

    @Test
    void shouldNotRearmTheWheelForEveryAcknowledgmentWithTailLossProbes_RFC8985s7_2()
    {
        // the PTO (2 * SRTT + 2 ms) moves with every ACK; a wheel timer that fires before it is re-armed then,
        // about once per PTO, not per ACK
        assertWheelRearmsPerAck(TcpConfig.builder().bufferBytes(64 * 1024, 4096).delayedAckNs(0).build(), 8);
    }

    private void assertWheelRearmsPerAck(final TcpConfig config, final int acksPerRearm)
    {
        // a small receive window: many round trips, each ending in one aggregated ACK
        final StackPair pair = open(config);
        final UnsafeBuffer megabyte = new UnsafeBuffer(new byte[1 << 20]);
        final int[] queued = new int[1];
        pair.runUntil(() ->
        {
            queued[0] += Math.max(0, client.connection.send(megabyte, queued[0], megabyte.capacity() - queued[0]));
            return server.received == megabyte.capacity();
        }, 100_000);

        final long acks = pair.b.counters.segmentsReceived();
        final long armed = pair.b.counters.timersScheduled();
        assertTrue(acks > 100, "acks: " + acks);
        assertTrue(armed * acksPerRearm < acks, "armed " + armed + " timers for " + acks + " acknowledgments");
        pair.steps(3);
        final TcpConnection connection = client.connection;
        assertEquals(connection.sndNxt(), connection.sndUna(), "everything acknowledged");
    }
}
