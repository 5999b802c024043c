package dev.sluice.bench.codec;

import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.wire.Checksum;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
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
import org.openjdk.jmh.infra.Blackhole;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Receive-side parsing of one Ethernet + IPv4 + TCP-with-options frame held off-heap (as in an mbuf):
 * every checked parse, IPv4 header checksum, TCP checksum with pseudo-header, and option parsing.
 * Frames: 64 bytes (TCP options MSS, NOP, window scale; 2 payload bytes) and 1514 bytes (NOP, NOP,
 * timestamps; 1448 payload bytes, the shape of a bulk-transfer segment).
 *
 * <p>{@code naiveChecksumBaseline} sums the same bytes 16 bits at a time, the textbook loop, to show what
 * the 8-bytes-at-a-time {@link Checksum#sum} buys. {@code networkLayerOnFrame} is the whole receive path
 * of a shard up to the TCP upcall.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class ParseFrameBenchmark
{
    private static final int LOCAL_IP = 0x0a4d0002;
    private static final int REMOTE_IP = 0x0a4d0001;
    private static final long LOCAL_MAC = 0x02_00_00_00_00_02L;
    private static final long REMOTE_MAC = 0x02_00_00_00_00_01L;

    /** Frame length in bytes. */
    @Param({"64", "1514"})
    public int frameLength;

    private UnsafeBuffer frame;
    private final TcpOptions options = new TcpOptions();
    private NetworkLayer networkLayer;

    /**
     * Builds the frame with the stack's own emit code.
     */
    @Setup
    public void setUp()
    {
        frame = new UnsafeBuffer(ByteBuffer.allocateDirect(frameLength));
        final int ipOffset = EthernetHeader.write(frame, 0, LOCAL_MAC, REMOTE_MAC, EthernetHeader.ETHER_TYPE_IPV4);
        final int tcpOffset = ipOffset + Ipv4Header.MIN_HEADER_LENGTH;
        final TcpOptions emitted = new TcpOptions();
        if (frameLength < 100)
        {
            emitted.mss(1460).windowScale(7);
        }
        else
        {
            emitted.timestamps(123456789, 987654321);
        }
        final int optionsLength = emitted.encode(frame, tcpOffset + TcpHeader.MIN_HEADER_LENGTH);
        final int tcpHeaderLength = TcpHeader.MIN_HEADER_LENGTH + optionsLength;
        final int segmentLength = frameLength - tcpOffset;
        for (int i = tcpOffset + tcpHeaderLength; i < frameLength; i++)
        {
            frame.putByte(i, (byte)(i * 31));
        }
        TcpHeader.write(frame, tcpOffset, 49260, 18080, 1, 2, tcpHeaderLength, TcpHeader.ACK | TcpHeader.PSH, 512, 0);
        TcpHeader.putChecksum(frame, tcpOffset, segmentLength, REMOTE_IP, LOCAL_IP);
        Ipv4Header.write(frame, ipOffset, 0, Ipv4Header.MIN_HEADER_LENGTH + segmentLength, 7,
            Ipv4Header.FLAG_DONT_FRAGMENT, 64, Ipv4Header.PROTOCOL_TCP, REMOTE_IP, LOCAL_IP);
        if (parse(frame, frameLength, options) < 0)
        {
            throw new IllegalStateException("benchmark frame does not parse");
        }

        final NetConfig config = NetConfig.builder().localMac(LOCAL_MAC).localIp(LOCAL_IP, 24).build();
        networkLayer = new NetworkLayer(config, new NoTransmitter(), new CountingTransport(), new NetCounters());
    }

    static int parse(final DirectBuffer frame, final int length, final TcpOptions options)
    {
        final int ethLength = EthernetHeader.validate(frame, 0, length);
        if (ethLength < 0 || EthernetHeader.etherType(frame, 0, ethLength) != EthernetHeader.ETHER_TYPE_IPV4)
        {
            return -1;
        }
        final int ipOffset = ethLength;
        final int ipHeaderLength = Ipv4Header.validate(frame, ipOffset, length - ethLength, true);
        if (ipHeaderLength < 0 || Ipv4Header.protocol(frame, ipOffset) != Ipv4Header.PROTOCOL_TCP)
        {
            return -2;
        }
        final int tcpOffset = ipOffset + ipHeaderLength;
        final int segmentLength = Ipv4Header.totalLength(frame, ipOffset) - ipHeaderLength;
        final int tcpHeaderLength = TcpHeader.validate(frame, tcpOffset, segmentLength);
        if (tcpHeaderLength < 0 || !TcpHeader.isChecksumValid(frame, tcpOffset, segmentLength,
            Ipv4Header.source(frame, ipOffset), Ipv4Header.destination(frame, ipOffset)))
        {
            return -3;
        }
        if (options.parseHeader(frame, tcpOffset, tcpHeaderLength) < 0)
        {
            return -4;
        }
        return TcpHeader.sequence(frame, tcpOffset) + TcpHeader.window(frame, tcpOffset) + options.mss() +
            options.timestampValue() + segmentLength - tcpHeaderLength;
    }

    /**
     * Full checked parse with both checksums and options.
     *
     * @return a value derived from the parsed fields.
     */
    @Benchmark
    public int parseEthernetIpv4TcpWithChecksums()
    {
        return parse(frame, frameLength, options);
    }

    /**
     * The 8-bytes-at-a-time checksum over the whole frame, alone.
     *
     * @return the sum.
     */
    @Benchmark
    public int checksumOnly()
    {
        return Checksum.sum(frame, 0, frameLength);
    }

    /**
     * Baseline: textbook 16-bits-at-a-time checksum over the same bytes.
     *
     * @return the sum.
     */
    @Benchmark
    public int naiveChecksumBaseline()
    {
        long sum = 0;
        final int end = frameLength & ~1;
        for (int i = 0; i < end; i += 2)
        {
            sum += frame.getShort(i, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
        }
        if ((frameLength & 1) != 0)
        {
            sum += (frame.getByte(frameLength - 1) & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)sum;
    }

    /**
     * The shard's whole receive path up to the TCP upcall (MAC filter, checked parses, checksums,
     * address checks, counters).
     *
     * @param blackhole consumes the delivered count.
     */
    @Benchmark
    public void networkLayerOnFrame(final Blackhole blackhole)
    {
        networkLayer.onFrame(frame, 0, frameLength, 0);
        blackhole.consume(networkLayer.counters().get(0));
    }

    private static final class NoTransmitter implements FrameTransmitter
    {
        @Override
        public MutableDirectBuffer claim(final int maxLength)
        {
            return null;
        }

        @Override
        public void commit(final int length)
        {
        }

        @Override
        public void abort()
        {
        }
    }

    private static final class CountingTransport implements TransportHandler
    {
        private long segments;

        @Override
        public void onTcpSegment(
            final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
            final int sourceIp, final int destinationIp, final int tos, final long nowNs)
        {
            segments += segmentLength;
        }

        @Override
        public void onIcmpError(
            final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
            final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
            final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
        {
        }
    }
}
