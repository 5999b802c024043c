package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

/**
 * Software segmentation offload (GSO, issue 15): with {@link NetworkSegmentOutput#segmentationOffload} on, a
 * connection hands over several full segments of new data at once and the output cuts them into MSS-sized
 * frames. Every frame on the wire, in both directions, must be the same bytes as without it (sequence numbers,
 * flags: PSH (MUST-61) and FIN on the last frame only, options, windows, IPv4 identification, checksums
 * (MUST-2)); Nagle (SHLD-7) and sender SWS avoidance (MUST-38) still decide the short tail segments; the data
 * arrives intact. Each run also asserts that large segments were really handed over, so the comparison
 * cannot pass by never taking the new path.
 */
class SegmentationOffloadTest
{
    private static final int PORT = 7;

    @ParameterizedTest(name = "timestamps={0} noDelay={1} receiveBuffer={2} bytes={3} message={4}")
    @CsvSource({
        "false, true, 262144, 1000000, 65536",
        "true, true, 262144, 1000000, 65536",
        "true, false, 262144, 1000000, 3000",
        "false, false, 16384, 300001, 100000",
        "true, true, 8192, 200000, 7777",
        "true, true, 262144, 29200, 29200", // a whole number of segments: the last one carries PSH and FIN
    })
    void shouldPutTheSameFramesOnTheWireAsOneSegmentPerCall(
        final boolean timestamps, final boolean noDelay, final int receiveBuffer, final int bytes, final int message)
    {
        final Transfer plain = transfer(0, false, timestamps, noDelay, receiveBuffer, bytes, message);
        final Transfer gso = transfer(65_536, false, timestamps, noDelay, receiveBuffer, bytes, message);
        final Transfer tso = transfer(0, true, timestamps, noDelay, receiveBuffer, bytes, message);

        assertEquals(0, plain.largeSegments);
        assertTrue(gso.largeSegments > 0, "no large segment was handed over");
        assertEquals(bytes, plain.received);
        assertEquals(plain.checksum, gso.checksum);
        assertEquals(bytes, gso.received);
        assertEquals(plain.frames.size(), gso.frames.size(), "frames on the wire");
        for (int i = 0; i < plain.frames.size(); i++)
        {
            assertArrayEquals(plain.frames.get(i), gso.frames.get(i), "frame " + i);
        }
        assertEquals(TcpCloseReason.NORMAL, gso.clientClose);

        // TSO: the same frames, cut by the (emulated) device
        assertTrue(tso.largeSegments > 0, "no large segment was handed to the device");
        assertEquals(bytes, tso.received);
        assertEquals(plain.checksum, tso.checksum);
        assertEquals(plain.frames.size(), tso.frames.size(), "frames on the wire with TSO");
        for (int i = 0; i < plain.frames.size(); i++)
        {
            assertArrayEquals(plain.frames.get(i), tso.frames.get(i), "frame " + i + " with TSO");
        }
    }

    @org.junit.jupiter.api.Test
    void shouldNotAllocateWhileLargeSegmentsAreCutIntoFrames()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean();
        final StackPair pair = new StackPair(TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).build(), 4, 4);
        pair.b.output.segmentationOffload(65_536);
        final Endpoint server = new Endpoint();
        final Endpoint client = new Endpoint();
        pair.a.stack.listen(PORT, server);
        client.connection = pair.b.stack.connect(IP_A, PORT, 40_000, client, pair.nowNs);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);
        final UnsafeBuffer data = new UnsafeBuffer(new byte[64 * 1024]);
        final long[] allocated = new long[10];
        for (int round = 0; round < allocated.length; round++)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 2_000; i++)
            {
                client.connection.send(data, 0, data.capacity());
                pair.step();
            }
            allocated[round] = threads.getCurrentThreadAllocatedBytes() - before;
        }
        long steady = Long.MAX_VALUE;
        // the smallest round after warm-up: allocation per segment shows in every round, a JIT event in one
        for (int i = 2; i < allocated.length; i++)
        {
            steady = Math.min(steady, allocated[i]);
        }
        assertEquals(0, steady, "bytes allocated per round: " + java.util.Arrays.toString(allocated));
        assertTrue(pair.b.counters.largeSegmentsSent() > 1_000, "large segments " + pair.b.counters.largeSegmentsSent());
    }

    private record Transfer(
        List<byte[]> frames, long received, long checksum, long largeSegments, TcpCloseReason clientClose)
    {
    }

    private static Transfer transfer(
        final int gsoBytes, final boolean tso, final boolean timestamps, final boolean noDelay, final int receiveBuffer,
        final int bytes, final int message)
    {
        final TcpConfig config = TcpConfig.builder().bufferBytes(256 * 1024, receiveBuffer).timestamps(timestamps)
            .noDelay(noDelay).build();
        final StackPair pair = new StackPair(config, 4, 4);
        pair.b.output.segmentationOffload(gsoBytes);
        pair.a.output.segmentationOffload(gsoBytes);
        pair.a.tsoEmulation = tso;
        pair.b.tsoEmulation = tso;
        final List<byte[]> frames = new ArrayList<>();
        pair.tap = (from, frame, length) ->
        {
            final byte[] copy = new byte[length];
            frame.getBytes(0, copy);
            frames.add(copy);
            return true;
        };
        final Endpoint server = new Endpoint();
        final Endpoint client = new Endpoint();
        server.closeWhenPeerCloses = true;
        pair.a.stack.listen(PORT, server);
        client.connection = pair.b.stack.connect(IP_A, PORT, 40_000, client, pair.nowNs);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);

        final DirectBuffer data = pattern(bytes);
        int sent = 0;
        for (int step = 0; sent < bytes; step++)
        {
            sent += client.connection.send(data, sent, Math.min(message, bytes - sent));
            pair.step();
            if (step > 100_000)
            {
                throw new AssertionError("stuck after " + sent + " bytes");
            }
        }
        client.connection.close();
        pair.runUntil(() -> client.closeReason != null || pair.b.stack.timeWaitCount() == 1, 100_000);
        pair.runUntil(() -> server.closeReason != null, 100_000);
        return new Transfer(frames, server.received, server.checksum, pair.b.counters.largeSegmentsSent(),
            client.closeReason == null ? TcpCloseReason.NORMAL : client.closeReason);
    }

    private static DirectBuffer pattern(final int bytes)
    {
        final UnsafeBuffer data = new UnsafeBuffer(new byte[bytes]);
        for (int i = 0; i < bytes; i++)
        {
            data.putByte(i, (byte)(i * 7 + (i >>> 11)));
        }
        return data;
    }
}
