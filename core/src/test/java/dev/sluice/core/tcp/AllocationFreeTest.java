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
 * allocation counter).
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
        final long threadId = Thread.currentThread().threadId();
        final long before = threads.getThreadAllocatedBytes(threadId);
        runDataPath(ITERATIONS);
        runConnectionDataPath(ITERATIONS);
        final long allocatedBytes = threads.getThreadAllocatedBytes(threadId) - before;

        assertEquals(ITERATIONS * 1000L, sink.bytes, "every byte delivered in order");
        assertEquals(TcpState.LISTEN, connection.state());
        assertEquals(TcpState.ESTABLISHED, peer.state());
        assertEquals(2L * ITERATIONS * 1000L, app.bytes, "every received byte delivered once");
        assertEquals(0, peer.sendQueueBytes(), "every sent byte acknowledged");
        // a few hundred bytes of slack for the measurement itself; one allocation per iteration would be
        // hundreds of kilobytes
        assertTrue(allocatedBytes < 1024, "allocated " + allocatedBytes + " bytes, checksum " + checksum);
    }

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
        public void sendData(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final SendBuffer source, final int length)
        {
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
