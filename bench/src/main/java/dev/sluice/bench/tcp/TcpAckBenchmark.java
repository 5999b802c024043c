package dev.sluice.bench.tcp;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (b) A pure ACK arriving on an ESTABLISHED connection with data in flight: SND.UNA advances by 64 bytes,
 * the send buffer releases them, the RTT sample and retransmission timer are updated, the window too.
 *
 * <p>Each invocation processes {@value #ACKS} ACKs that together acknowledge the 64,000 bytes the
 * per-invocation setup queued and transmitted (outside the measurement: {@code Level.Invocation} is sound
 * here because one invocation lasts tens of microseconds), so every invocation starts in the same state.
 * {@code tcpOnly} enters at {@code TcpStack.onTcpSegment}; {@code frame} at the Ethernet frame (IPv4 and
 * TCP checksums verified).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class TcpAckBenchmark
{
    static final int ACKS = 1000;
    static final int ACKED_PER_ACK = 64;

    BenchShard shard;
    private final UnsafeBuffer data = new UnsafeBuffer(ByteBuffer.allocateDirect(ACKS * ACKED_PER_ACK));
    private UnsafeBuffer frame;
    private int frameLength;
    private int ack;

    /** Handshake, then the ACK frame. */
    @Setup
    public void setUp()
    {
        shard = new BenchShard(BenchShard.config());
        shard.establish(new BenchShard.Sink());
        shard.openCongestionWindow(ACKS * ACKED_PER_ACK); // steady state: cwnd never limits an invocation
        frame = BenchShard.frame(0, 0);
        ack = shard.connection.sndNxt();
        frameLength = Math.max(60, BenchShard.writeSegment(frame, shard.peerSeq, ack, TcpHeader.ACK,
            TcpHeader.MIN_HEADER_LENGTH, 0));
    }

    /** Queues and transmits 64,000 bytes (44 segments, into the discarding transmitter). */
    @Setup(Level.Invocation)
    public void refill()
    {
        if (shard.connection.sendQueueBytes() != 0 || shard.connection.sndUna() != ack)
        {
            throw new IllegalStateException("not steady: " + shard.connection.sendQueueBytes() + " bytes queued");
        }
        if (shard.connection.send(data, 0, data.capacity()) != data.capacity())
        {
            throw new IllegalStateException("send buffer full");
        }
        shard.stack.poll(shard.nowNs);
        if (shard.connection.sndNxt() != ack + data.capacity())
        {
            throw new IllegalStateException("not all sent: window " + shard.connection.sndWnd());
        }
    }

    /**
     * ACKs through the TCP layer alone.
     *
     * @return SND.UNA.
     */
    @Benchmark
    @OperationsPerInvocation(ACKS)
    public int tcpOnly()
    {
        for (int i = 0; i < ACKS; i++)
        {
            ack += ACKED_PER_ACK;
            BenchShard.rewrite(frame, TcpHeader.ACKNOWLEDGMENT_OFFSET, ack); // the checksum stays valid
            shard.stack.onTcpSegment(frame, BenchShard.TCP_OFFSET, TcpHeader.MIN_HEADER_LENGTH,
                TcpHeader.MIN_HEADER_LENGTH, BenchShard.PEER_IP, BenchShard.LOCAL_IP, 0, shard.nowNs);
        }
        return shard.connection.sndUna();
    }

    /**
     * ACKs from the Ethernet frame.
     *
     * @return SND.UNA.
     */
    @Benchmark
    @OperationsPerInvocation(ACKS)
    public int frame()
    {
        for (int i = 0; i < ACKS; i++)
        {
            ack += ACKED_PER_ACK;
            BenchShard.rewrite(frame, TcpHeader.ACKNOWLEDGMENT_OFFSET, ack);
            shard.layer.onFrame(frame, 0, frameLength, shard.nowNs);
        }
        return shard.connection.sndUna();
    }
}
