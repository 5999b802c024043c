package dev.sluice.bench.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.driver.DpdkFrameTransmitter;
import dev.sluice.driver.ExternalChunks;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.RingPorts;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 15, zero-copy transmit at the DPDK level: what one 1,448-byte-payload frame costs from the claim of its
 * mbuf to its free at the other end of a net_ring pair, with the payload copied from a send-buffer chunk into
 * the mbuf, or attached to the chunk as an external buffer ({@code DpdkFrameTransmitter.appendReference}: one
 * FFM call, an mbuf of the attach pool, a reference on the chunk's shared info; the free then detaches and drops
 * it). One thread does both ends (no cross-core cache traffic: the per-frame CPU cost alone); the payload
 * starts at a different place each frame, so a share of them spans two chunks (two references), as in a
 * stream of 1,448-byte segments over 4 KiB chunks. The TCP work is {@code TcpBulkSendBenchmark}'s.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
    "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public class ZeroCopyFrameBenchmark
{
    private static final int BURST = 32;
    private static final int HEADERS = 54;
    private static final int PAYLOAD = 1448;
    private static final int CHUNKS = 64;

    /** Payload attached by reference (true) or copied into the mbuf (false). */
    @Param({"false", "true"})
    public boolean zeroCopy;

    private Lcore lcore;
    private DpdkFrameTransmitter tx;
    private int portB;
    private MemorySegment burst;
    private ChunkPool chunks;
    private int firstChunk;
    private long streamOffset;

    /** EAL, pools, a crossed net_ring pair, a chunk pool of {@value #CHUNKS} consecutive chunks. */
    @Setup(Level.Trial)
    public void setUp()
    {
        final String eal = System.getProperty("sluice.eal");
        Eal.init(eal == null ? Eal.DEFAULT_ARGS : List.of(eal.trim().split("\\s+")));
        lcore = Eal.current().registerCurrentThread();
        final MbufPool pool = MbufPool.create("zcb_pool", 8191, 256, MbufPool.DEFAULT_DATA_ROOM);
        final MbufPool attachPool = MbufPool.create("zcb_ext", 8191, 256, 0);
        final int[] pair = RingPorts.createCrossedPair("zcb_a", "zcb_b", 1024);
        for (final int id : pair)
        {
            final EthPort port = EthPort.of(id);
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 1024, pool);
            port.setupTxQueue(0, 1024);
            port.start();
        }
        portB = pair[1];
        burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);
        chunks = new ChunkPool(ChunkPool.DEFAULT_CHUNK_BYTES, CHUNKS, ChunkPool.DEFAULT_SLAB_BYTES, 0);
        final ExternalChunks references = new ExternalChunks(chunks);
        chunks.references(references);
        firstChunk = chunks.allocate();
        for (int i = 1; i < CHUNKS; i++)
        {
            chunks.allocate(); // consecutive chunks of one slab: the stream below walks them in order
        }
        final UnsafeBuffer slab = chunks.buffer(firstChunk);
        for (int i = 0; i < CHUNKS * ChunkPool.DEFAULT_CHUNK_BYTES; i++)
        {
            slab.putByte(chunks.offset(firstChunk) + i, (byte)(i * 7));
        }
        tx = new DpdkFrameTransmitter(lcore, pool, pair[0], 0);
        if (zeroCopy)
        {
            tx.zeroCopy(attachPool, references, 256);
        }
    }

    /**
     * 32 frames built, sent, received and freed: per frame.
     *
     * @return frames received.
     */
    @Benchmark
    @OperationsPerInvocation(BURST)
    public int frames()
    {
        final int chunkBytes = ChunkPool.DEFAULT_CHUNK_BYTES;
        final UnsafeBuffer slab = chunks.buffer(firstChunk);
        final int slabOffset = chunks.offset(firstChunk);
        for (int i = 0; i < BURST; i++)
        {
            final int at = (int)(streamOffset % ((long)CHUNKS * chunkBytes - PAYLOAD));
            streamOffset += PAYLOAD;
            final MutableDirectBuffer frame = tx.claim(HEADERS + PAYLOAD);
            frame.putLong(0, at);
            frame.putLong(46, i);
            if (zeroCopy)
            {
                final int chunk = firstChunk + at / chunkBytes;
                final int inChunk = at % chunkBytes;
                final int first = Math.min(PAYLOAD, chunkBytes - inChunk);
                tx.appendReference(chunk, chunks.address(chunk) + inChunk, first);
                if (first < PAYLOAD)
                {
                    tx.appendReference(chunk + 1, chunks.address(chunk + 1), PAYLOAD - first);
                }
            }
            else
            {
                frame.putBytes(HEADERS, slab, slabOffset + at, PAYLOAD);
            }
            tx.commit(HEADERS + PAYLOAD);
        }
        tx.flush();
        final int received = lcore.rxBurst(portB, 0, burst, BURST);
        lcore.freeBulk(burst, received);
        if (received != BURST)
        {
            throw new IllegalStateException("received " + received);
        }
        return received;
    }
}
