package dev.sluice.bench.tcp;

import java.nio.ByteBuffer;

import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpAcceptor;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.Checksum;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One complete shard (network layer + TCP stack) with a transmitter that discards every frame after it is
 * built, and a virtual peer that writes its frames by hand: the fixture of the TCP hot-path benchmarks.
 * {@link #establish} runs a real three-way handshake through {@link NetworkLayer#onFrame}, so the
 * connection is in ESTABLISHED exactly as on the wire. Frames are rewritten in place per operation (sequence
 * or acknowledgment number, checksum updated incrementally per RFC 1624), so nothing is allocated.
 */
final class BenchShard implements FrameTransmitter
{
    static final int LOCAL_IP = Addresses.parseIpv4("10.77.0.1");
    static final int PEER_IP = Addresses.parseIpv4("10.77.0.2");
    static final long LOCAL_MAC = 0x02_00_00_77_00_01L;
    static final long PEER_MAC = 0x02_00_00_77_00_02L;
    static final int LOCAL_PORT = 7;
    static final int PEER_PORT = 40_000;
    static final int PEER_MSS = 1460;
    static final int PEER_WINDOW = 0xFFFF;
    static final int IP_OFFSET = EthernetHeader.HEADER_LENGTH;
    static final int TCP_OFFSET = IP_OFFSET + Ipv4Header.MIN_HEADER_LENGTH;
    static final int PAYLOAD_OFFSET = TCP_OFFSET + TcpHeader.MIN_HEADER_LENGTH;

    final TcpStackCounters counters = new TcpStackCounters();
    final NetworkSegmentOutput output = new NetworkSegmentOutput(0, counters);
    final TcpStack stack;
    final NetworkLayer layer;
    final long nowNs = 1_000_000_000L;
    private final UnsafeBuffer txBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
    long framesSent;
    long bytesSent;
    int peerSeq = 0x1234_5678;
    TcpConnection connection;

    private final int txChecksumOffloads;
    private final int referenceMinBytes;
    long bytesReferenced;

    BenchShard(final TcpConfig config)
    {
        this(config, 0);
    }

    BenchShard(final TcpConfig config, final int txChecksumOffloads)
    {
        this(config, txChecksumOffloads, 0);
    }

    /**
     * @param txChecksumOffloads {@code FrameTransmitter.OFFLOAD_*} bits this transmitter reports (the device
     *                           would complete those checksums).
     * @param referenceMinBytes  zero-copy transmit: payloads of at least this many bytes are taken by reference
     *                           (and discarded with the frame, as a device that sent it at once), 0 for copies.
     */
    BenchShard(final TcpConfig config, final int txChecksumOffloads, final int referenceMinBytes)
    {
        this.txChecksumOffloads = txChecksumOffloads;
        this.referenceMinBytes = referenceMinBytes;
        stack = new TcpStack(config, new IsnGenerator(11, 13), output, counters, 4);
        layer = new NetworkLayer(
            NetConfig.builder().localMac(LOCAL_MAC).localIp(LOCAL_IP, 24).build(), this, stack, new NetCounters());
        output.bind(layer);
        layer.start(nowNs);
        layer.arpCache().learn(PEER_IP, PEER_MAC, true, nowNs);
    }

    static TcpConfig config()
    {
        return TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).noDelay(true).backlog(4)
            .delayedAckNs(0) // one ACK per data segment: the path the ACK benchmarks measure
            .initialWindowSegments(TcpConfig.MAX_INITIAL_WINDOW_SEGMENTS) // steady state: cwnd never limits a refill
            .build();
    }

    /**
     * Listens, feeds the peer's SYN and the ACK of our SYN-ACK; afterwards {@link #connection} is ESTABLISHED.
     */
    void establish(final TcpReceiveHandler handler)
    {
        stack.listen(LOCAL_PORT, new TcpAcceptor()
        {
            @Override
            public TcpReceiveHandler onAccept(final TcpConnection accepted)
            {
                return handler;
            }
        });
        final UnsafeBuffer syn = frame(0, TcpOptions.LENGTH_MSS);
        final TcpOptions mss = new TcpOptions().mss(PEER_MSS);
        final int optionsLength = mss.encode(syn, TCP_OFFSET + TcpHeader.MIN_HEADER_LENGTH);
        final int headerLength = TcpHeader.MIN_HEADER_LENGTH + optionsLength;
        writeSegment(syn, peerSeq, 0, TcpHeader.SYN, headerLength, 0);
        layer.onFrame(syn, 0, syn.capacity(), nowNs);
        stack.poll(nowNs);
        // the half-open connection is a compact record: our ISS is in the SYN-ACK just built
        if (stack.synReceivedCount(LOCAL_PORT) != 1 ||
            TcpHeader.flags(txBuffer, TCP_OFFSET) != (TcpHeader.SYN | TcpHeader.ACK))
        {
            throw new IllegalStateException("SYN not answered with a SYN-ACK");
        }
        final int iss = TcpHeader.sequence(txBuffer, TCP_OFFSET);
        peerSeq++;
        final UnsafeBuffer ack = frame(0, 0);
        writeSegment(ack, peerSeq, iss + 1, TcpHeader.ACK, TcpHeader.MIN_HEADER_LENGTH, 0);
        layer.onFrame(ack, 0, ack.capacity(), nowNs);
        stack.poll(nowNs);
        connection = stack.connection(PEER_IP, PEER_PORT, LOCAL_PORT);
        if (connection == null || connection.state() != TcpState.ESTABLISHED)
        {
            throw new IllegalStateException("not established: " + connection);
        }
    }

    /**
     * Slow start until {@code bytes} can be in flight at once (the initial window is 10 segments, RFC 6928):
     * sends that much and acknowledges it segment by segment, each ACK growing cwnd by one MSS (RFC 5681),
     * until one poll sends all of it. Leaves nothing queued or in flight.
     */
    void openCongestionWindow(final int bytes)
    {
        final UnsafeBuffer data = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes));
        final UnsafeBuffer ack = frame(0, 0);
        for (int round = 0; round < 32; round++)
        {
            connection.send(data, 0, bytes);
            stack.poll(nowNs);
            final boolean allAtOnce = connection.sndNxt() - connection.sndUna() == bytes;
            while (connection.sndUna() != connection.sndNxt())
            {
                final int next = connection.sndUna() + Math.min(PEER_MSS, connection.sndNxt() - connection.sndUna());
                writeSegment(ack, peerSeq, next, TcpHeader.ACK, TcpHeader.MIN_HEADER_LENGTH, 0);
                layer.onFrame(ack, 0, ack.capacity(), nowNs);
                stack.poll(nowNs); // sends what the grown cwnd allows
            }
            if (allAtOnce)
            {
                return;
            }
        }
        throw new IllegalStateException("cwnd did not open to " + bytes + " bytes");
    }

    /**
     * A frame from the peer with room for {@code payloadLength} bytes after a 20-byte TCP header (plus
     * {@code optionRoom}); the payload is a byte pattern.
     */
    static UnsafeBuffer frame(final int payloadLength, final int optionRoom)
    {
        final int length = Math.max(60, PAYLOAD_OFFSET + optionRoom + payloadLength);
        final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(length));
        for (int i = 0; i < payloadLength; i++)
        {
            frame.putByte(PAYLOAD_OFFSET + optionRoom + i, (byte)(i * 31));
        }
        return frame;
    }

    /**
     * Writes Ethernet, IPv4 and TCP headers (TCP header of {@code headerLength}, options already in place)
     * for a segment of {@code payloadLength} bytes following the header, with a valid checksum.
     */
    static int writeSegment(
        final MutableDirectBuffer frame, final int seq, final int ack, final int flags, final int headerLength,
        final int payloadLength)
    {
        EthernetHeader.write(frame, 0, LOCAL_MAC, PEER_MAC, EthernetHeader.ETHER_TYPE_IPV4);
        final int segmentLength = headerLength + payloadLength;
        TcpHeader.write(frame, TCP_OFFSET, PEER_PORT, LOCAL_PORT, seq, ack, headerLength, flags, PEER_WINDOW, 0);
        TcpHeader.putChecksum(frame, TCP_OFFSET, segmentLength, PEER_IP, LOCAL_IP);
        Ipv4Header.write(frame, IP_OFFSET, 0, Ipv4Header.MIN_HEADER_LENGTH + segmentLength, 1,
            Ipv4Header.FLAG_DONT_FRAGMENT, 64, Ipv4Header.PROTOCOL_TCP, PEER_IP, LOCAL_IP);
        return EthernetHeader.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + segmentLength;
    }

    /** Rewrites the 32-bit field at {@code fieldOffset} of the TCP header, updating the checksum (RFC 1624). */
    static void rewrite(final MutableDirectBuffer frame, final int fieldOffset, final int value)
    {
        final int old = frame.getInt(TCP_OFFSET + fieldOffset, java.nio.ByteOrder.BIG_ENDIAN);
        final int checksum = TcpHeader.checksum(frame, TCP_OFFSET);
        frame.putInt(TCP_OFFSET + fieldOffset, value, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putShort(TCP_OFFSET + TcpHeader.CHECKSUM_OFFSET, (short)Checksum.update32(checksum, old, value),
            java.nio.ByteOrder.BIG_ENDIAN);
    }

    @Override
    public MutableDirectBuffer claim(final int maxLength)
    {
        return txBuffer;
    }

    @Override
    public void commit(final int length)
    {
        framesSent++;
        bytesSent += length;
    }

    @Override
    public void abort()
    {
    }

    @Override
    public int referenceMinBytes()
    {
        return referenceMinBytes;
    }

    @Override
    public boolean appendReference(final int chunk, final long address, final int length)
    {
        bytesReferenced += length;
        return true;
    }

    @Override
    public int checksumOffloads()
    {
        return txChecksumOffloads;
    }

    @Override
    public void commit(final int length, final int offloads)
    {
        commit(length);
    }

    /** A receive handler that reads one byte of every delivery (the data is touched) and consumes it all. */
    static final class Sink implements TcpReceiveHandler
    {
        long bytes;
        long touched;

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            bytes += length;
            touched += buffer.getByte(offset + length - 1);
            return length;
        }
    }
}
