package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

/**
 * Zero-copy transmit (issue 15): a payload of at least the transmitter's minimum goes to the device as references
 * to the send buffer's chunk memory instead of a copy. The emulated device ({@link StackPair} with a minimum)
 * reads the referenced memory only when it delivers the frame, as a NIC or a receiver over net_ring does, so a
 * chunk reused too early shows as wrong bytes. Every frame on the wire must be bit for bit the frame the copy
 * path sends, first transmissions and retransmissions alike, checksums computed in software over header and
 * referenced payload (MUST-2); references all let go and no chunk left behind after each run.
 */
class ZeroCopyTransmitTest
{
    private static final int PORT = 7;
    private static final int MIN_BYTES = 256;

    @ParameterizedTest(name = "gso={0} timestamps={1} bytes={2} message={3} lossEvery={4} split={5}")
    @CsvSource({
        "0, false, 300000, 65536, 0, false",
        "65536, false, 300000, 65536, 0, false",
        "65536, true, 300000, 3000, 0, false",
        "0, true, 200000, 100, 0, false", // Nagle-sized writes: short segments copied, full ones referenced
        "65536, false, 300000, 65536, 37, false", // every 37th frame lost: retransmissions from referenced memory
        "0, true, 200000, 7777, 23, false",
        // the receiver reads each data frame split (headers apart from payload, as a chain read in place): its
        // ACKs, and so every frame both ways, are the same as for frames in one buffer
        "65536, true, 300000, 65536, 0, true",
        "0, false, 200000, 7777, 23, true",
    })
    void shouldPutTheSameFramesOnTheWireAsCopyingMust2(
        final int gsoBytes, final boolean timestamps, final int bytes, final int message, final int lossEvery,
        final boolean split)
    {
        final Transfer copied = transfer(0, gsoBytes, timestamps, bytes, message, lossEvery, false);
        final Transfer zeroCopy = transfer(MIN_BYTES, gsoBytes, timestamps, bytes, message, lossEvery, split);
        if (split)
        {
            assertTrue(zeroCopy.split > 100, "frames delivered split: " + zeroCopy.split);
        }

        assertEquals(0, copied.referenced);
        assertTrue(zeroCopy.referenced > 100, "payloads referenced: " + zeroCopy.referenced);
        if (lossEvery > 0)
        {
            assertTrue(zeroCopy.retransmitted > 0, "no retransmission");
        }
        assertEquals(bytes, copied.received);
        assertEquals(bytes, zeroCopy.received);
        assertEquals(copied.checksum, zeroCopy.checksum);
        assertEquals(copied.frames.size(), zeroCopy.frames.size(), "frames on the wire");
        for (int i = 0; i < copied.frames.size(); i++)
        {
            assertArrayEquals(copied.frames.get(i), zeroCopy.frames.get(i), "frame " + i);
        }
        assertEquals(TcpCloseReason.NORMAL, zeroCopy.clientClose);
        assertEquals(0, zeroCopy.referencesOut, "references not let go");
        assertEquals(0, zeroCopy.chunksInUse, "chunks left in use");
    }

    @Test
    void shouldDeferReusingChunksTheDeviceStillReferencesAfterTheirAck()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).build(), 4, 4,
            MIN_BYTES);
        final Endpoint server = new Endpoint();
        final Endpoint client = connect(pair, server);
        final ChunkPool pool = pair.b.stack.pool();
        pair.b.holdReferences = true; // a device queue that keeps the frames' memory after they left
        final DirectBuffer data = pattern(100_000);
        int sent = 0;
        while (sent < data.capacity())
        {
            sent += client.connection.send(data, sent, data.capacity() - sent);
            pair.step();
        }
        pair.runUntil(() -> server.received == 100_000, 1_000);
        // the last (delayed) ACK arrives: the send buffer releases everything, the device still holds it
        pair.runUntil(() -> pool.inUseChunks() == pool.deferredChunks(), 10_000);

        assertTrue(pool.deferrals() > 0, "no deferral");
        assertTrue(pool.deferredChunks() >= 100_000 / pool.chunkBytes(), "deferred " + pool.deferredChunks());
        pair.idle(3 * ChunkPool.SLAB_DECAY_NS);
        assertEquals(0, pool.slabsReleased(), "a slab with referenced chunks was released");

        pair.b.holdReferences = false;
        pair.b.releaseHeld();
        pair.step();
        assertEquals(0, pool.deferredChunks());
        assertEquals(0, pool.inUseChunks());
        pair.idle(3 * ChunkPool.SLAB_DECAY_NS);
        assertTrue(pool.slabsReleased() > 0, "the slab stays held after its chunks were let go");
        assertEquals(0, pair.b.referencesOut());
    }

    @Test
    void shouldCopyWhenTheFirstReferenceIsRefusedAndDropWhenOneIsRefusedPartWay()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).build(), 4, 4,
            MIN_BYTES);
        final Endpoint server = new Endpoint();
        final Endpoint client = connect(pair, server);
        // MSS 1460 from offset 0 of 4 KiB chunks: segment 1 is reference 1, segment 2 reference 2, segment 3
        // spans two chunks (references 3 and 4)
        pair.b.refuseReferences = 1;
        final DirectBuffer data = pattern(50_000);
        int sent = 0;
        while (sent < data.capacity())
        {
            sent += client.connection.send(data, sent, data.capacity() - sent);
            pair.step();
        }
        pair.runUntil(() -> server.received == 50_000, 100_000);
        assertEquals(0, pair.b.counters.payloadReferencesRefused(), "a first refusal is copied, not dropped");

        final Endpoint server2 = new Endpoint();
        final StackPair pair2 = new StackPair(TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).build(), 4, 4,
            MIN_BYTES);
        final Endpoint client2 = connect(pair2, server2);
        pair2.b.refuseNthReference = 4; // the second piece of segment 3
        sent = 0;
        while (sent < data.capacity())
        {
            sent += client2.connection.send(data, sent, data.capacity() - sent);
            pair2.step();
        }
        pair2.runUntil(() -> server2.received == 50_000, 1_000_000);
        assertEquals(1, pair2.b.counters.payloadReferencesRefused());
        assertEquals(server.checksum, server2.checksum);
        pair2.steps(10);
        assertEquals(0, pair2.b.referencesOut(), "the aborted frame's first reference was not let go");
    }

    @Test
    void shouldDropASplitFrameWhosePayloadFailsTheChecksumMust3()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).build(), 4, 4,
            MIN_BYTES);
        pair.b.deliverSplit = true;
        final int[] corrupted = new int[1];
        pair.tap = (from, frame, length) ->
        {
            if (from == pair.b && StackPair.isTcp(frame) && StackPair.tcpPayloadLength(frame) > 0 &&
                corrupted[0]++ == 3)
            {
                final UnsafeBuffer bytes = (UnsafeBuffer)frame;
                bytes.putByte(length - 1, (byte)~bytes.getByte(length - 1)); // the payload's last byte
            }
            return true;
        };
        final Endpoint server = new Endpoint();
        final Endpoint client = connect(pair, server);
        final DirectBuffer data = pattern(50_000);
        int sent = 0;
        while (sent < data.capacity())
        {
            sent += client.connection.send(data, sent, data.capacity() - sent);
            pair.step();
        }
        pair.runUntil(() -> server.received == 50_000, 100_000);
        assertEquals(1, pair.a.netCounters.get(dev.sluice.core.counters.NetCounterDescriptor.TCP_BAD_CHECKSUM));
        final Endpoint reference = new Endpoint();
        reference.onData(data, 0, data.capacity());
        assertEquals(reference.checksum, server.checksum, "every byte delivered, the corrupted one retransmitted");
    }

    @Test
    void shouldNotAllocateWhileSendingByReference()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean();
        final StackPair pair = new StackPair(TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).build(), 4, 4,
            MIN_BYTES);
        pair.b.output.segmentationOffload(65_536);
        final Endpoint server = new Endpoint();
        final Endpoint client = connect(pair, server);
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
        for (int i = 2; i < allocated.length; i++)
        {
            steady = Math.min(steady, allocated[i]);
        }
        assertEquals(0, steady, "bytes allocated per round: " + java.util.Arrays.toString(allocated));
        assertTrue(pair.b.counters.payloadsReferenced() > 10_000, "referenced " + pair.b.counters.payloadsReferenced());
    }

    private static Endpoint connect(final StackPair pair, final Endpoint server)
    {
        final Endpoint client = new Endpoint();
        server.closeWhenPeerCloses = true;
        pair.a.stack.listen(PORT, server);
        client.connection = pair.b.stack.connect(IP_A, PORT, 40_000, client, pair.nowNs);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);
        return client;
    }

    private record Transfer(
        List<byte[]> frames, long received, long checksum, long referenced, long retransmitted, int referencesOut,
        int chunksInUse, long split, TcpCloseReason clientClose)
    {
    }

    private static Transfer transfer(
        final int zeroCopyMinBytes, final int gsoBytes, final boolean timestamps, final int bytes, final int message,
        final int lossEvery, final boolean split)
    {
        final TcpConfig config = TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).timestamps(timestamps)
            .build();
        final StackPair pair = new StackPair(config, 4, 4, zeroCopyMinBytes);
        pair.a.output.segmentationOffload(gsoBytes);
        pair.b.output.segmentationOffload(gsoBytes);
        pair.b.deliverSplit = split;
        final List<byte[]> frames = new ArrayList<>();
        final int[] dataFrames = new int[1];
        final long[] retransmitted = new long[1];
        final int[] highestSeq = {Integer.MIN_VALUE};
        pair.tap = (from, frame, length) ->
        {
            final byte[] copy = new byte[length];
            frame.getBytes(0, copy);
            frames.add(copy);
            if (from == pair.b && StackPair.isTcp(frame) && StackPair.tcpPayloadLength(frame) > 0)
            {
                final int seq = TcpHeader.sequence(frame, StackPair.TCP);
                if (highestSeq[0] != Integer.MIN_VALUE && seq - highestSeq[0] <= 0)
                {
                    retransmitted[0]++;
                }
                else
                {
                    highestSeq[0] = seq;
                }
                return lossEvery == 0 || ++dataFrames[0] % lossEvery != 0;
            }
            return true;
        };
        final Endpoint server = new Endpoint();
        final Endpoint client = connect(pair, server);
        final DirectBuffer data = pattern(bytes);
        int sent = 0;
        for (int step = 0; sent < bytes; step++)
        {
            sent += client.connection.send(data, sent, Math.min(message, bytes - sent));
            pair.step();
            if (step > 1_000_000)
            {
                throw new AssertionError("stuck after " + sent + " bytes");
            }
        }
        client.connection.close();
        pair.runUntil(() -> client.closeReason != null || pair.b.stack.timeWaitCount() == 1, 1_000_000);
        pair.runUntil(() -> server.closeReason != null, 1_000_000);
        pair.steps(10);
        return new Transfer(frames, server.received, server.checksum, pair.b.counters.payloadsReferenced(),
            retransmitted[0], pair.b.referencesOut(), pair.b.stack.pool().inUseChunks(), pair.b.framesSplit,
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
