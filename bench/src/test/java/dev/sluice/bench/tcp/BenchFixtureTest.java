package dev.sluice.bench.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

import dev.sluice.core.tcp.TcpState;
import org.junit.jupiter.api.Test;

/**
 * The JMH fixtures measure what they claim: every operation is a real in-order segment, ACK or send (the
 * stack's state advances by exactly one operation's worth each time and comes back to the same shape), no
 * segment is dropped, and the steady state allocates nothing.
 */
class BenchFixtureTest
{
    private static final int OPS = 10_000;

    @Test
    void shouldDeliverEveryDataSegmentInOrderOnEachReceivePath()
    {
        for (final int payload : new int[] {64, 1448})
        {
            final TcpReceiveBenchmark benchmark = new TcpReceiveBenchmark();
            benchmark.payload = payload;
            benchmark.setUp();
            final int rcvNxt = benchmark.shard.connection.rcvNxt();
            final int rcvWnd = benchmark.shard.connection.rcvWnd();
            final long framesBefore = benchmark.shard.framesSent;
            for (int i = 0; i < OPS; i++)
            {
                benchmark.tcpOnly();
                benchmark.frame();
                benchmark.frameAndAck();
            }
            assertEquals(3L * OPS * payload, benchmark.sink.bytes, "bytes delivered, payload " + payload);
            assertEquals(rcvNxt + 3 * OPS * payload, benchmark.shard.connection.rcvNxt());
            assertEquals(rcvWnd, benchmark.shard.connection.rcvWnd(), "the window stays open");
            assertEquals(TcpState.ESTABLISHED, benchmark.shard.connection.state());
            assertEquals(OPS, benchmark.shard.framesSent - framesBefore, "one ACK per frameAndAck");
            assertEquals(0, benchmark.shard.counters.segmentsDropped());
        }
    }

    @Test
    void shouldAcknowledgeEverythingSentInEachAckInvocation()
    {
        final TcpAckBenchmark benchmark = new TcpAckBenchmark();
        benchmark.setUp();
        final int iss = benchmark.shard.connection.sndUna();
        for (int round = 0; round < 10; round++)
        {
            benchmark.refill();
            assertEquals(TcpAckBenchmark.ACKS * TcpAckBenchmark.ACKED_PER_ACK, benchmark.shard.connection.sendQueueBytes());
            final int sndUna = round % 2 == 0 ? benchmark.tcpOnly() : benchmark.frame();
            assertEquals(benchmark.shard.connection.sndNxt(), sndUna, "all acknowledged");
            assertEquals(0, benchmark.shard.connection.sendQueueBytes(), "send buffer released");
        }
        assertEquals(iss + 10 * TcpAckBenchmark.ACKS * TcpAckBenchmark.ACKED_PER_ACK, benchmark.shard.connection.sndUna());
        assertEquals(0, benchmark.shard.counters.segmentsDropped());
    }

    @Test
    void shouldBuildOneSegmentPerSend()
    {
        for (final int message : new int[] {64, 1024})
        {
            final TcpSendBenchmark benchmark = new TcpSendBenchmark();
            benchmark.message = message;
            benchmark.setUp();
            final long framesBefore = benchmark.shard.framesSent;
            final long bytesBefore = benchmark.shard.bytesSent;
            for (int round = 0; round < 10; round++)
            {
                benchmark.acknowledgeAll();
                benchmark.sendAndPoll();
            }
            assertEquals(10L * TcpSendBenchmark.SENDS, benchmark.shard.framesSent - framesBefore);
            final long frameBytes = (benchmark.shard.bytesSent - bytesBefore) / (10L * TcpSendBenchmark.SENDS);
            assertEquals(Math.max(60, BenchShard.PAYLOAD_OFFSET + message), frameBytes, "whole frames with payload");
            assertEquals(0, benchmark.shard.counters.segmentsDropped());
        }
    }

    @Test
    void shouldNotAllocateOnTheReceivePathInSteadyState()
    {
        final TcpReceiveBenchmark benchmark = new TcpReceiveBenchmark();
        benchmark.payload = 64;
        benchmark.setUp();
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        threads.getCurrentThreadAllocatedBytes();
        // a late JIT event can allocate once; an allocation per operation shows in every round
        final long[] allocated = new long[8];
        boolean zeroRound = false;
        for (int round = 0; round < allocated.length && !zeroRound; round++)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 50_000; i++)
            {
                benchmark.frameAndAck();
            }
            allocated[round] = threads.getCurrentThreadAllocatedBytes() - before;
            zeroRound = round > 0 && allocated[round] == 0;
        }
        assertTrue(zeroRound, "bytes allocated per round of 50,000 segments: " + Arrays.toString(allocated));
    }
}
