package dev.sluice.bench.tcp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (c) The send path: {@code TcpConnection.send} of one message (copied into the off-heap send buffer),
 * then the stack's per-burst {@code poll}, which cuts one segment and builds it as a complete frame
 * (TCP header, payload copied from the send buffer, TCP checksum, IPv4 header and checksum, Ethernet
 * header from the ARP cache) in a transmit buffer; the transmitter then discards it. Nagle is off, as for
 * a request-response protocol.
 *
 * <p>Each invocation sends {@value #SENDS} messages (at most 32 KB, inside the peer's window); the
 * per-invocation setup, outside the measurement, feeds the peer's ACK of everything so every invocation
 * starts with an empty send buffer and an open window.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class TcpSendBenchmark
{
    static final int SENDS = 32;

    /** Bytes per message. */
    @Param({"64", "1024"})
    public int message;

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

    /** Handshake, the message and the ACK frame. */
    @Setup
    public void setUp()
    {
        shard = new BenchShard(BenchShard.config(), 0, zeroCopy ? 256 : 0);
        shard.establish(new BenchShard.Sink());
        shard.openCongestionWindow(SENDS * message); // steady state: cwnd never limits an invocation
        data = new UnsafeBuffer(ByteBuffer.allocateDirect(message));
        for (int i = 0; i < message; i++)
        {
            data.putByte(i, (byte)i);
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
     * send + poll, {@value #SENDS} times.
     *
     * @return frames built so far.
     */
    @Benchmark
    @OperationsPerInvocation(SENDS)
    public long sendAndPoll()
    {
        for (int i = 0; i < SENDS; i++)
        {
            if (shard.connection.send(data, 0, message) != message)
            {
                throw new IllegalStateException("send refused");
            }
            shard.stack.poll(shard.nowNs);
        }
        return shard.framesSent;
    }
}
