package dev.sluice.bench.tcp;

import java.util.concurrent.TimeUnit;

import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (a) One in-order data segment arriving on an ESTABLISHED connection, delivered zero copy to the
 * application (which reads its last byte and consumes it all, so RCV.WND stays open and the state is the
 * same after every operation but for the sequence numbers, which advance by the payload each time).
 *
 * <ul>
 *   <li>{@code tcpOnly}: {@code TcpStack.onTcpSegment}: demultiplexing on the 4-tuple, options parse,
 *       acceptability, ACK and window processing, delivery. No checksum.</li>
 *   <li>{@code frame}: the whole receive path of the shard from the Ethernet frame: MAC filter, IPv4
 *       checks and header checksum, TCP checksum over header and payload, then as above.</li>
 *   <li>{@code frameAndAck}: as {@code frame}, then the stack's per-burst poll, which sends the ACK (a
 *       complete IPv4 datagram with checksums built in a transmit buffer, then discarded): what a burst
 *       of one segment costs.</li>
 * </ul>
 * The frame's sequence number is rewritten per operation with an incremental checksum update (RFC 1624,
 * a few ns, counted in every variant).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class TcpReceiveBenchmark
{
    /** Payload bytes per segment. */
    @Param({"64", "1448"})
    public int payload;

    BenchShard shard;
    final BenchShard.Sink sink = new BenchShard.Sink();
    private UnsafeBuffer frame;
    private int frameLength;
    private int seq;

    /** Handshake, then the data frame. */
    @Setup
    public void setUp()
    {
        shard = new BenchShard(BenchShard.config());
        shard.establish(sink);
        seq = shard.peerSeq;
        frame = BenchShard.frame(payload, 0);
        final int length = BenchShard.writeSegment(frame, seq, shard.connection.sndNxt(), TcpHeader.ACK | TcpHeader.PSH,
            TcpHeader.MIN_HEADER_LENGTH, payload);
        frameLength = Math.max(60, length);
    }

    /**
     * The TCP layer alone.
     *
     * @return bytes delivered so far.
     */
    @Benchmark
    public long tcpOnly()
    {
        BenchShard.rewrite(frame, TcpHeader.SEQUENCE_OFFSET, seq); // keeps the checksum valid for frame()
        seq += payload;
        shard.stack.onTcpSegment(frame, BenchShard.TCP_OFFSET, TcpHeader.MIN_HEADER_LENGTH,
            TcpHeader.MIN_HEADER_LENGTH + payload, BenchShard.PEER_IP, BenchShard.LOCAL_IP, 0, shard.nowNs);
        return sink.bytes + sink.touched;
    }

    /**
     * From the Ethernet frame.
     *
     * @return bytes delivered so far.
     */
    @Benchmark
    public long frame()
    {
        BenchShard.rewrite(frame, TcpHeader.SEQUENCE_OFFSET, seq);
        seq += payload;
        shard.layer.onFrame(frame, 0, frameLength, shard.nowNs);
        return sink.bytes + sink.touched;
    }

    /**
     * From the Ethernet frame whose checksums the device verified (RX checksum offload: GOOD flags).
     *
     * @return bytes delivered so far.
     */
    @Benchmark
    public long frameChecksumOffloaded()
    {
        BenchShard.rewrite(frame, TcpHeader.SEQUENCE_OFFSET, seq);
        seq += payload;
        shard.layer.onFrame(frame, 0, frameLength,
            NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_GOOD, shard.nowNs);
        return sink.bytes + sink.touched;
    }

    /**
     * From the Ethernet frame, then the ACK out.
     *
     * @return bytes delivered so far plus frames sent.
     */
    @Benchmark
    public long frameAndAck()
    {
        BenchShard.rewrite(frame, TcpHeader.SEQUENCE_OFFSET, seq);
        seq += payload;
        shard.layer.onFrame(frame, 0, frameLength, shard.nowNs);
        shard.stack.poll(shard.nowNs);
        return sink.bytes + sink.touched + shard.framesSent;
    }
}
