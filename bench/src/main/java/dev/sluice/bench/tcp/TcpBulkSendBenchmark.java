package dev.sluice.bench.tcp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.wire.Checksum;
import dev.sluice.core.wire.TcpHeader;
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
 * Issue 15's attribution of the bulk sender: what one full-sized data segment costs when a connection sends a
 * window of them ({@value #SEGMENTS} segments of 1,460 bytes, the peer's MSS without timestamps, handed to
 * the stack in one {@code send} and sent by one {@code poll}, the transmitter discarding each built frame),
 * with and without software segmentation offload (GSO: several segments per TCP decision, headers built
 * once) and TX checksum offload (the payload is not summed), beside the two parts of the per-byte work
 * measured alone: the TCP checksum over one segment and the copy of its payload. The per-invocation setup,
 * outside the measurement, acknowledges everything, so each invocation starts with an empty send buffer and
 * an open window (ACK processing is {@link TcpAckBenchmark}'s).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class TcpBulkSendBenchmark
{
    static final int SEGMENTS = 43;
    static final int MSS = BenchShard.PEER_MSS;
    static final int BYTES = SEGMENTS * MSS; // 62,780: inside the peer's 65,535-byte window

    /** Segmentation offload: 0 (one segment per TCP decision) or 65536 (GSO). */
    @Param({"0", "65536"})
    public int gso;

    /** TX checksum offload (the transmitter reports IPv4 and TCP checksum offload). */
    @Param({"false", "true"})
    public boolean txChecksumOffload;

    /**
     * Zero-copy transmit: payloads of 256 bytes or more are handed to the transmitter by reference to send-buffer
     * memory (summed for the checksum unless offloaded) instead of copied into the frame; the DPDK side (an mbuf
     * attached per chunk, one FFM call) is not in this figure, as the copy variant's mbuf is not either.
     */
    @Param({"false", "true"})
    public boolean zeroCopy;

    BenchShard shard;
    private UnsafeBuffer data;
    private UnsafeBuffer ackFrame;
    private final UnsafeBuffer segment = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
    private final UnsafeBuffer source = new UnsafeBuffer(ByteBuffer.allocateDirect(64 * 1024));
    private int sourceOffset;

    /** Handshake, congestion window opened to a whole window, the data and the ACK frame. */
    @Setup
    public void setUp()
    {
        shard = new BenchShard(BenchShard.config(), txChecksumOffload ?
            FrameTransmitter.OFFLOAD_IPV4_CHECKSUM | FrameTransmitter.OFFLOAD_TCP_CHECKSUM : 0, zeroCopy ? 256 : 0);
        shard.establish(new BenchShard.Sink());
        shard.output.segmentationOffload(gso);
        shard.openCongestionWindow(BYTES);
        data = new UnsafeBuffer(ByteBuffer.allocateDirect(BYTES));
        for (int i = 0; i < BYTES; i++)
        {
            data.putByte(i, (byte)(i * 7));
            source.putByte(i, (byte)(i * 13));
        }
        ackFrame = BenchShard.frame(0, 0);
        BenchShard.writeSegment(ackFrame, shard.peerSeq, shard.connection.sndNxt(), TcpHeader.ACK,
            TcpHeader.MIN_HEADER_LENGTH, 0);
    }

    /** Acknowledges everything sent so far. */
    @Setup(Level.Invocation)
    public void acknowledgeAll()
    {
        ackFrame.putInt(BenchShard.TCP_OFFSET + TcpHeader.ACKNOWLEDGMENT_OFFSET, shard.connection.sndNxt(),
            ByteOrder.BIG_ENDIAN);
        shard.stack.onTcpSegment(ackFrame, BenchShard.TCP_OFFSET, TcpHeader.MIN_HEADER_LENGTH,
            TcpHeader.MIN_HEADER_LENGTH, BenchShard.PEER_IP, BenchShard.LOCAL_IP, 0, shard.nowNs);
        if (shard.connection.sendQueueBytes() != 0)
        {
            throw new IllegalStateException("not steady: " + shard.connection.sendQueueBytes() + " bytes queued");
        }
    }

    /**
     * One send of a window and the poll that sends it: per 1,460-byte segment.
     *
     * @return frames built so far.
     */
    @Benchmark
    @OperationsPerInvocation(SEGMENTS)
    public long windowOfSegments()
    {
        if (shard.connection.send(data, 0, BYTES) != BYTES)
        {
            throw new IllegalStateException("send refused");
        }
        shard.stack.poll(shard.nowNs);
        if (shard.connection.sndNxt() - shard.connection.sndUna() != BYTES)
        {
            throw new IllegalStateException("not all sent: " + (shard.connection.sndNxt() - shard.connection.sndUna()));
        }
        return shard.framesSent;
    }

    /**
     * The TCP checksum over one segment (20-byte header + 1,460 bytes) alone.
     *
     * @return the checksum.
     */
    @Benchmark
    public int checksumOfOneSegment()
    {
        sourceOffset = (sourceOffset + 64) & 0x3FFF;
        return Checksum.compute(source, sourceOffset, TcpHeader.MIN_HEADER_LENGTH + MSS);
    }

    /**
     * The copy of one segment's payload (1,460 bytes) alone.
     *
     * @return a byte of the copy.
     */
    @Benchmark
    public byte copyOfOneSegment()
    {
        sourceOffset = (sourceOffset + 64) & 0x3FFF;
        segment.putBytes(54, source, sourceOffset, MSS);
        return segment.getByte(54 + MSS - 1);
    }
}
