package dev.sluice.core.tcp;

import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data-path methods allocate nothing after construction (measured with the JVM's per-thread
 * allocation counter): in-order and out-of-order receive, send and ACK, and the recovery paths (fast
 * retransmit and NewReno recovery, RTO with go-back-N, zero-window probe, delayed-ACK timer).
 */
class AllocationFreeTest
{
    private static final int ITERATIONS = 20_000;

    private final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

    private final SendBuffer sendBuffer = new SendBuffer(4096);
    private final ReassemblyBuffer reassembly = new ReassemblyBuffer(4096, 16);
    private final IsnGenerator isnGenerator = new IsnGenerator(1, 2);
    private final RttEstimator rtt = new RttEstimator(TcpConfig.builder().build());
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[1500]);
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[1500]);
    private final CountingSink sink = new CountingSink();
    private final TcpConnection connection = new TcpConnection(
        TcpConfig.builder().build(), isnGenerator, new DiscardingOutput());
    private final TcpSegment segment = new TcpSegment();
    private final UnsafeBuffer synFrame = new UnsafeBuffer(new byte[64]);
    private final UnsafeBuffer ackFrame = new UnsafeBuffer(new byte[64]);
    private final UnsafeBuffer rstFrame = new UnsafeBuffer(new byte[64]);
    private final CountingHandler app = new CountingHandler();
    private final TcpConnection peer = new TcpConnection(
        TcpConfig.builder().bufferBytes(65536, 65536).build(), isnGenerator, new DiscardingOutput(), app);
    private final UnsafeBuffer dataFrame = new UnsafeBuffer(new byte[1600]);
    private final UnsafeBuffer sendSource = new UnsafeBuffer(new byte[1000]);
    private int peerSeq;
    private long checksum;
    private final CountingHandler senderApp = new CountingHandler();
    private final SenderOutput senderOutput = new SenderOutput();
    private final TcpConnection sender = new TcpConnection(
        TcpConfig.builder().bufferBytes(65536, 65536).build(), isnGenerator, senderOutput, senderApp);
    private final UnsafeBuffer senderFrame = new UnsafeBuffer(new byte[1600]);
    private final UnsafeBuffer bulk = new UnsafeBuffer(new byte[4000]);
    private int senderPeerSeq = 1001;
    private long senderNs;

    AllocationFreeTest()
    {
        final TcpOptions mss = new TcpOptions().mss(1460);
        final int synHeaderLength = TcpHeader.MIN_HEADER_LENGTH + mss.encodedLength();
        TcpHeader.write(synFrame, 0, 40000, 80, 1000, 0, synHeaderLength, TcpHeader.SYN, 65535, 0);
        mss.encode(synFrame, TcpHeader.OPTIONS_OFFSET);
        TcpHeader.write(ackFrame, 0, 40000, 80, 1001, 0, 20, TcpHeader.ACK, 65535, 0);
        TcpHeader.write(rstFrame, 0, 40000, 80, 1001, 0, 20, TcpHeader.RST, 0, 0);
        connection.listen(1, 80);

        peer.listen(1, 80);
        peer.onSegment(segment.wrap(synFrame, 0, synHeaderLength(), synHeaderLength(), 2, 1), 0);
        peerSeq = 1001;
        arrive(0, 0, TcpHeader.ACK);

        sender.listen(1, 80);
        sender.onSegment(segment.wrap(synFrame, 0, synHeaderLength(), synHeaderLength(), 2, 1), 0);
        toSender(sender.sndNxt(), 65535, 0);
        sender.noDelay(true);
    }

    // a segment from the remote side to the sender: SEG.ACK, window, payload bytes at senderPeerSeq
    private void toSender(final int ack, final int window, final int length)
    {
        TcpHeader.write(senderFrame, 0, 40000, 80, senderPeerSeq, ack, 20, TcpHeader.ACK, window, 0);
        sender.onSegment(segment.wrap(senderFrame, 0, 20, 20 + length, 2, 1), senderNs);
        senderPeerSeq += length;
    }

    private void fireSenderTimer()
    {
        senderNs = Math.max(senderNs, sender.nextDeadlineNs());
        checksum += sender.onTimer(senderNs);
    }

    // fast retransmit and NewReno recovery, RTO with go-back-N, persist probe, delayed-ACK timer
    private void runRecoveryPaths(final int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            senderNs += 1_000_000_000L;
            checksum += sender.send(bulk, 0, 4000);
            checksum += sender.poll(senderNs);
            for (int dup = 0; dup < 3; dup++)
            {
                toSender(sender.sndUna(), 65535, 0); // the third starts fast retransmit
            }
            toSender(sender.sndUna() + 1000, 65535, 0); // partial ACK
            toSender(sender.sndNxt(), 65535, 0); // full ACK
            checksum += sender.poll(senderNs);
            toSender(sender.sndNxt(), 65535, 0);

            checksum += sender.send(bulk, 0, 2000);
            checksum += sender.poll(senderNs);
            fireSenderTimer(); // RTO: retransmission, loss window, go-back-N
            checksum += sender.poll(senderNs);
            toSender(sender.sndNxt(), 65535, 0);
            checksum += sender.poll(senderNs);
            toSender(sender.sndNxt(), 65535, 0);

            toSender(sender.sndNxt(), 0, 0); // zero window
            checksum += sender.send(bulk, 0, 100);
            checksum += sender.poll(senderNs);
            fireSenderTimer(); // persist: zero-window probe
            toSender(sender.sndNxt(), 65535, 0);
            checksum += sender.poll(senderNs);
            toSender(sender.sndNxt(), 65535, 0);

            toSender(sender.sndNxt(), 65535, 100); // one small segment: its ACK is delayed
            checksum += sender.poll(senderNs);
            fireSenderTimer(); // delayed ACK
        }
    }

    // one segment from the remote side to the established connection, payload bytes at peerSeq + offset
    private void arrive(final int offset, final int length, final int flags)
    {
        TcpHeader.write(dataFrame, 0, 40000, 80, peerSeq + offset, peer.sndNxt(), 20, flags, 65535, 0);
        peer.onSegment(segment.wrap(dataFrame, 0, 20, 20 + length, 2, 1), 0);
    }

    // ESTABLISHED: out-of-order segment, the segment filling the hole, an aggregated ACK, a send and its ACK
    private void runConnectionDataPath(final int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            arrive(500, 500, TcpHeader.ACK);
            arrive(0, 600, TcpHeader.ACK | TcpHeader.PSH);
            peerSeq += 1000;
            checksum += peer.poll(i);
            checksum += peer.send(sendSource, 0, 1000);
            checksum += peer.poll(i);
            arrive(0, 0, TcpHeader.ACK);
            checksum += peer.nextDeadlineNs() + peer.onTimer(i);
        }
    }

    private void runDataPath(final int iterations)
    {
        int seq = 0xFFFF_0000;
        sendBuffer.reset(seq);
        int rcvNxt = 0xFFFF_0000;
        reassembly.clear();
        sink.bytes = 0;
        for (int i = 0; i < iterations; i++)
        {
            sendBuffer.append(payload, 0, 1000);
            checksum += sendBuffer.read(seq, frame, 0, 1000);
            seq += 1000;
            sendBuffer.release(seq);

            reassembly.insert(rcvNxt, 4096, rcvNxt + 500, payload, 0, 500);
            reassembly.insert(rcvNxt, 4096, rcvNxt, payload, 0, 500);
            rcvNxt += reassembly.readInOrder(rcvNxt, sink);

            checksum += isnGenerator.nextIsn(i, 80, ~i, 443, i * 4_000L);
            rtt.startTiming(seq, i);
            rtt.onAck(seq, i + 100_000L);
            checksum += rtt.rtoNs();

            // LISTEN -> SYN-RECEIVED -> (RST for an unacceptable ACK) -> RST at RCV.NXT -> LISTEN
            connection.onSegment(segment.wrap(synFrame, 0, synHeaderLength(), synHeaderLength(), 2, 1), i);
            connection.onSegment(segment.wrap(ackFrame, 0, 20, 20, 2, 1), i);
            connection.onSegment(segment.wrap(rstFrame, 0, 20, 20, 2, 1), i);
            checksum += connection.state().ordinal();
        }
    }

    @Test
    void shouldNotAllocateOnTheDataPath()
    {
        assertTrue(threads.isThreadAllocatedMemorySupported());
        runDataPath(ITERATIONS); // warm up
        runConnectionDataPath(ITERATIONS);
        runRecoveryPaths(ITERATIONS / 4);
        final long threadId = Thread.currentThread().threadId();
        final long before = threads.getThreadAllocatedBytes(threadId);
        runDataPath(ITERATIONS);
        runConnectionDataPath(ITERATIONS);
        runRecoveryPaths(ITERATIONS / 4);
        final long allocatedBytes = threads.getThreadAllocatedBytes(threadId) - before;

        assertEquals(ITERATIONS * 1000L, sink.bytes, "every byte delivered in order");
        assertEquals(TcpState.LISTEN, connection.state());
        assertEquals(TcpState.ESTABLISHED, peer.state());
        assertEquals(2L * ITERATIONS * 1000L, app.bytes, "every received byte delivered once");
        assertEquals(0, peer.sendQueueBytes(), "every sent byte acknowledged");
        assertEquals(TcpState.ESTABLISHED, sender.state());
        assertEquals(2L * ITERATIONS / 4 * 100, senderApp.bytes);
        assertTrue(senderOutput.retransmissions >= 3L * 2 * ITERATIONS / 4, "fast, partial-ACK and RTO resends");
        assertEquals(2L * ITERATIONS / 4, senderOutput.probes, "one zero-window probe per iteration");
        assertEquals(0, sender.sendQueueBytes(), "every sent byte acknowledged");
        assertEquals(2L * ITERATIONS / 4, sender.congestionControl().fastRetransmits(), "fast recovery ran");
        assertEquals(TcpConnection.NO_DEADLINE, sender.nextDeadlineNs(), "the delayed ACK went out");
        // a few hundred bytes of slack for the measurement itself; one allocation per iteration would be
        // hundreds of kilobytes
        assertTrue(allocatedBytes < 1024, "allocated " + allocatedBytes + " bytes, checksum " + checksum);
    }

    @Test
    void shouldNotAllocateWithTimestampsAndSack_RFC7323_RFC2018()
    {
        final EncodingOutput output = new EncodingOutput();
        final TcpConnection tsPeer = new TcpConnection(
            TcpConfig.builder().bufferBytes(65536, 65536).build(), isnGenerator, output, app);
        final TcpOptions options = new TcpOptions().mss(1460).timestamps(7, 0).sackPermitted(true);
        final int synHeader = TcpHeader.MIN_HEADER_LENGTH + options.encodedLength();
        final UnsafeBuffer tsSyn = new UnsafeBuffer(new byte[64]);
        TcpHeader.write(tsSyn, 0, 40000, 80, 1000, 0, synHeader, TcpHeader.SYN, 65535, 0);
        options.encode(tsSyn, TcpHeader.OPTIONS_OFFSET);
        tsPeer.listen(1, 80);
        tsPeer.onSegment(segment.wrap(tsSyn, 0, synHeader, synHeader, 2, 1), 0);
        final int[] seq = {1001};
        final int header = TcpHeader.MIN_HEADER_LENGTH + 12;
        final UnsafeBuffer tsData = new UnsafeBuffer(new byte[1600]);
        final TcpOptions ts = new TcpOptions();
        runTimestampsPath(tsPeer, tsData, ts, header, seq, ITERATIONS); // warm-up
        final long before = threads.getThreadAllocatedBytes(Thread.currentThread().threadId());
        runTimestampsPath(tsPeer, tsData, ts, header, seq, ITERATIONS);
        final long allocatedBytes = threads.getThreadAllocatedBytes(Thread.currentThread().threadId()) - before;
        assertTrue(tsPeer.timestampsEnabled());
        assertTrue(tsPeer.sackEnabled());
        assertTrue(output.withSack >= 2L * ITERATIONS, "ACKs carried SACK blocks: " + output.withSack);
        assertTrue(output.withTimestamps > ITERATIONS, "segments carried the option");
        assertTrue(allocatedBytes < 1024, "allocated " + allocatedBytes + " bytes, checksum " + checksum);
    }

    // ESTABLISHED with timestamps: out of order, filling the hole, an ACK, a send and its ACK, a PAWS reject
    private void runTimestampsPath(
        final TcpConnection tsPeer, final UnsafeBuffer frame, final TcpOptions ts, final int header, final int[] seq,
        final int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            tsTick++;
            final long nowNs = 1_000_000L * tsTick; // time goes on across runs, or PAWS would reject them all
            final int tsVal = 8 + tsTick;
            tsArrive(tsPeer, frame, ts, header, seq[0] + 500, 500, tsVal, nowNs);
            tsArrive(tsPeer, frame, ts, header, seq[0], 600, tsVal, nowNs);
            seq[0] += 1000;
            checksum += tsPeer.poll(nowNs);
            checksum += tsPeer.send(sendSource, 0, 1000);
            checksum += tsPeer.poll(nowNs);
            tsArrive(tsPeer, frame, ts, header, seq[0], 0, tsVal, nowNs);
            tsArrive(tsPeer, frame, ts, header, seq[0], 0, tsVal - 5, nowNs); // PAWS: old, answered with an ACK
            tsArrive(tsPeer, frame, ts, header, seq[0] - 300, 100, tsVal, nowNs); // old data: a D-SACK
            checksum += tsPeer.poll(nowNs);
            checksum += tsPeer.nextDeadlineNs() + tsPeer.onTimer(nowNs);
        }
    }

    private void tsArrive(
        final TcpConnection tsPeer, final UnsafeBuffer frame, final TcpOptions ts, final int header, final int seq,
        final int length, final int tsVal, final long nowNs)
    {
        TcpHeader.write(frame, 0, 40000, 80, seq, tsPeer.sndNxt(), header, TcpHeader.ACK, 65535, 0);
        ts.clear().timestamps(tsVal, tsPeer.tsVal(nowNs));
        ts.encode(frame, TcpHeader.OPTIONS_OFFSET);
        tsPeer.onSegment(segment.wrap(frame, 0, header, header + length, 2, 1), nowNs);
    }

    // encodes the options of every segment, as the network layer does
    private static final class EncodingOutput implements TcpSegmentOutput
    {
        private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[64]);
        private long withTimestamps;
        private long withSack;

        @Override
        public void sendControl(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mssOptionBytes)
        {
        }

        @Override
        public void sendSyn(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mssOptionBytes, final int windowScaleShift)
        {
        }

        @Override
        public void sendData(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final SendBuffer source, final int length)
        {
        }

        @Override
        public void sendSegment(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final TcpOptions options, final SendBuffer source,
            final int length)
        {
            options.encode(scratch, 0);
            if (options.hasTimestamps())
            {
                withTimestamps++;
            }
            if (options.sackBlockCount() > 0)
            {
                withSack++;
            }
        }
    }

    private int tsTick;

    private int synHeaderLength()
    {
        return TcpHeader.headerLength(synFrame, 0);
    }

    private static final class DiscardingOutput implements TcpSegmentOutput
    {
        @Override
        public void sendControl(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mssOptionBytes)
        {
        }

        @Override
        public void sendSyn(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mssOptionBytes, final int windowScaleShift)
        {
        }

        @Override
        public void sendData(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final SendBuffer source, final int length)
        {
        }
    }

    // counts retransmitted data (below the highest sequence sent) and zero-window probes (SEQ = SND.NXT - 1)
    private final class SenderOutput implements TcpSegmentOutput
    {
        private int highestSeqEnd;
        private boolean started;
        private long retransmissions;
        private long probes;

        @Override
        public void sendControl(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mssOptionBytes)
        {
            if (seq == sender.sndNxt() - 1 && flags == TcpHeader.ACK)
            {
                probes++;
            }
        }

        @Override
        public void sendSyn(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mssOptionBytes, final int windowScaleShift)
        {
        }

        @Override
        public void sendData(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final SendBuffer source, final int length)
        {
            if (started && SequenceNumbers.lt(seq, highestSeqEnd))
            {
                retransmissions++;
            }
            if (!started || SequenceNumbers.gt(seq + length, highestSeqEnd))
            {
                highestSeqEnd = seq + length;
                started = true;
            }
        }
    }

    private static final class CountingHandler implements TcpReceiveHandler
    {
        private long bytes;

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            bytes += length;
            return length;
        }
    }

    private static final class CountingSink implements ReassemblyBuffer.Sink
    {
        private long bytes;

        @Override
        public void onData(final DirectBuffer buffer, final int offset, final int length)
        {
            bytes += length;
        }
    }
}
