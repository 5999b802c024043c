package dev.sluice.core.stack;

import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.core.tcp.SendBuffer;
import dev.sluice.core.tcp.TcpSegmentOutput;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * Builds each segment as an IPv4 datagram straight in the network layer's transmit buffer: TCP header, the
 * MSS and Window Scale options on SYNs, timestamps (RFC 7323) where the connection asks for them, payload
 * copied from the send buffer, then the checksum over the pseudo-header
 * (MUST-2). A datagram the network layer cannot take (no route, no buffer, ARP queue full) is counted and
 * dropped: the retransmission timer recovers it.
 *
 * <p>The network layer needs its transport handler at construction, so this output is created first and
 * {@link #bind bound} afterwards. {@link TcpStack} keeps {@link #nowNs(long)} current. No allocation.
 *
 * <p>Segmentation offload ({@link #segmentationOffload}, off by default): connections hand over several full
 * segments of new data in one {@link #sendLargeSegment} call; this output builds their TCP header and options
 * once and emits MSS-sized frames in a tight loop (GSO, Linux's idea), each frame the same bytes the
 * one-segment-per-call path builds.
 *
 * <p>Zero-copy transmit, where the network layer's transmitter takes references ({@code NetworkLayer#mayReference}):
 * a payload of at least its minimum goes to the device as references to the send buffer's chunk memory (one per
 * chunk it spans) instead of a copy, first transmissions and retransmissions alike; the bytes on the wire are
 * the same. Shorter payloads, frames waiting for ARP and transmitters without references copy as before.
 */
public final class NetworkSegmentOutput implements TcpSegmentOutput
{
    private static final int MSS_HEADER_LENGTH = TcpHeader.MIN_HEADER_LENGTH + TcpOptions.LENGTH_MSS;
    private static final int MSS_WS_HEADER_LENGTH = MSS_HEADER_LENGTH + 1 + TcpOptions.LENGTH_WINDOW_SCALE;

    private final int tos;
    private final TcpStackCounters counters;
    private final TcpOptions synOptions = new TcpOptions();
    private final TcpOptions connectionOptions = new TcpOptions(); // filled by one connection per segment
    private final UnsafeBuffer headerTemplate = new UnsafeBuffer(new byte[TcpHeader.MAX_HEADER_LENGTH]);
    private int largeSegmentBytes;
    private NetworkLayer networkLayer;
    private ChallengeAckLimiter challengeAcks;
    private int maxMssBytes;
    private long nowNs;

    /**
     * Creates an unbound output.
     *
     * @param tos      DSCP/ECN byte of every segment (MUST-48).
     * @param counters where sent and dropped segments are counted.
     */
    public NetworkSegmentOutput(final int tos, final TcpStackCounters counters)
    {
        this.tos = tos;
        this.counters = counters;
    }

    /**
     * Connects the output to its shard's network layer; call once before any segment is sent.
     *
     * @param networkLayer the shard's IPv4 layer.
     */
    public void bind(final NetworkLayer networkLayer)
    {
        this.networkLayer = networkLayer;
        // MUST-67: the MSS we announce never exceeds what our MTU carries without options
        this.maxMssBytes = networkLayer.config().maxIpv4PayloadLength() - TcpHeader.MIN_HEADER_LENGTH;
    }

    /**
     * The shard's stack-wide challenge-ACK limit, which {@link #mayChallengeAck} applies (set by the stack).
     *
     * @param limiter the stack's limiter.
     */
    public void challengeAckLimiter(final ChallengeAckLimiter limiter)
    {
        this.challengeAcks = limiter;
    }

    @Override
    public boolean mayChallengeAck(final long nowNs)
    {
        return challengeAcks == null || challengeAcks.tryAcquire(nowNs);
    }

    /**
     * The network layer this output sends through.
     *
     * @return the layer, or null before {@link #bind}.
     */
    public NetworkLayer networkLayer()
    {
        return networkLayer;
    }

    /**
     * Sets the duty cycle's time, used when a datagram waits for ARP resolution.
     *
     * @param nowNs the duty cycle's time.
     */
    public void nowNs(final long nowNs)
    {
        this.nowNs = nowNs;
    }

    @Override
    public void sendControl(
        final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
        final int ack, final int flags, final int window, final int mssOptionBytes)
    {
        final boolean withMss = mssOptionBytes != NO_MSS_OPTION;
        final int headerLength = withMss ? MSS_HEADER_LENGTH : TcpHeader.MIN_HEADER_LENGTH;
        final int offset = networkLayer.beginIpv4(remoteIp, Ipv4Header.PROTOCOL_TCP, tos, headerLength);
        if (offset < 0)
        {
            counters.segmentsDropped++;
            return;
        }
        final MutableDirectBuffer buffer = networkLayer.txBuffer();
        TcpHeader.write(buffer, offset, localPort, remotePort, seq, ack, headerLength, flags, window, 0);
        if (withMss)
        {
            synOptions.clear().mss(Math.min(mssOptionBytes, maxMssBytes))
                .encode(buffer, offset + TcpHeader.MIN_HEADER_LENGTH);
        }
        commit(buffer, offset, headerLength, localIp, remoteIp);
    }

    @Override
    public void sendSyn(
        final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
        final int ack, final int flags, final int window, final int mssOptionBytes, final int windowScaleShift)
    {
        if (windowScaleShift == NO_WINDOW_SCALE)
        {
            sendControl(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, mssOptionBytes);
            return;
        }
        final int offset = networkLayer.beginIpv4(remoteIp, Ipv4Header.PROTOCOL_TCP, tos, MSS_WS_HEADER_LENGTH);
        if (offset < 0)
        {
            counters.segmentsDropped++;
            return;
        }
        final MutableDirectBuffer buffer = networkLayer.txBuffer();
        TcpHeader.write(buffer, offset, localPort, remotePort, seq, ack, MSS_WS_HEADER_LENGTH, flags, window, 0);
        // MSS, NOP, WS (RFC 7323 §2.2, Linux's order without SACK and timestamps)
        synOptions.clear().mss(Math.min(mssOptionBytes, maxMssBytes)).windowScale(windowScaleShift)
            .encode(buffer, offset + TcpHeader.MIN_HEADER_LENGTH);
        commit(buffer, offset, MSS_WS_HEADER_LENGTH, localIp, remoteIp);
    }

    @Override
    public void sendData(
        final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
        final int ack, final int flags, final int window, final SendBuffer source, final int length)
    {
        final int segmentLength = TcpHeader.MIN_HEADER_LENGTH + length;
        final int offset = networkLayer.beginIpv4(remoteIp, Ipv4Header.PROTOCOL_TCP, tos, segmentLength);
        if (offset < 0)
        {
            counters.segmentsDropped++;
            return;
        }
        final MutableDirectBuffer buffer = networkLayer.txBuffer();
        TcpHeader.write(buffer, offset, localPort, remotePort, seq, ack, TcpHeader.MIN_HEADER_LENGTH, flags,
            window, 0);
        if (!putPayload(source, seq, buffer, offset + TcpHeader.MIN_HEADER_LENGTH, length))
        {
            networkLayer.abortIpv4(); // the connection asked for bytes it does not hold: never send garbage
            counters.segmentsDropped++;
            return;
        }
        commit(buffer, offset, segmentLength, localIp, remoteIp);
    }

    /**
     * Turns segmentation offload on or off for every connection of the shard.
     *
     * @param maxBytes the most payload bytes one {@link #sendLargeSegment} call takes (e.g. 65,536 like Linux's
     *                 GSO), or 0 for one segment per call.
     */
    public void segmentationOffload(final int maxBytes)
    {
        if (maxBytes < 0)
        {
            throw new IllegalArgumentException("maxBytes must be >= 0, got " + maxBytes);
        }
        this.largeSegmentBytes = maxBytes;
    }

    @Override
    public int largeSegmentBytes()
    {
        // TSO where the device offers it (whatever the GSO switch says), else GSO when switched on
        final int tsoBytes = networkLayer.maxSegmentationLength() - TcpHeader.MAX_HEADER_LENGTH;
        return tsoBytes > 0 ? tsoBytes : largeSegmentBytes;
    }

    @Override
    public void sendLargeSegment(
        final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
        final int ack, final int flags, final int window, final TcpOptions options, final SendBuffer source,
        final int length, final int segmentBytes)
    {
        final int headerLength = TcpHeader.MIN_HEADER_LENGTH + options.encodedLength();
        if (headerLength + length <= networkLayer.maxSegmentationLength() &&
            networkLayer.deviceCuts(headerLength, segmentBytes, (length + segmentBytes - 1) / segmentBytes) &&
            sendForDeviceSegmentation(localPort, remoteIp, remotePort, seq, ack, flags, window, options, source,
                length, segmentBytes, headerLength))
        {
            return;
        }
        // GSO: the TCP header and options once; per frame only SEG.SEQ, the last frame's PSH/FIN, the payload
        // and the checksums change
        final int lastOnly = TcpHeader.PSH | TcpHeader.FIN;
        TcpHeader.write(headerTemplate, 0, localPort, remotePort, seq, ack, headerLength, flags & ~lastOnly, window,
            0);
        options.encode(headerTemplate, TcpHeader.MIN_HEADER_LENGTH);
        counters.largeSegmentsSent++;
        for (int done = 0; done < length; done += segmentBytes)
        {
            final int n = Math.min(segmentBytes, length - done);
            final int segmentLength = headerLength + n;
            final int offset = networkLayer.beginIpv4(remoteIp, Ipv4Header.PROTOCOL_TCP, tos, segmentLength);
            if (offset < 0)
            {
                counters.segmentsDropped++;
                continue;
            }
            final MutableDirectBuffer buffer = networkLayer.txBuffer();
            buffer.putBytes(offset, headerTemplate, 0, headerLength);
            buffer.putInt(offset + TcpHeader.SEQUENCE_OFFSET, seq + done, ByteOrder.BIG_ENDIAN);
            if (done + n == length && (flags & lastOnly) != 0)
            {
                buffer.putByte(offset + TcpHeader.FLAGS_OFFSET, (byte)flags);
            }
            if (!putPayload(source, seq + done, buffer, offset + headerLength, n))
            {
                networkLayer.abortIpv4(); // the connection asked for bytes it does not hold: never send garbage
                counters.segmentsDropped++;
                continue;
            }
            commit(buffer, offset, segmentLength, localIp, remoteIp);
        }
    }

    // TSO: one large segment for the device to cut; false if the next hop is not resolved (then GSO)
    private boolean sendForDeviceSegmentation(
        final int localPort, final int remoteIp, final int remotePort, final int seq, final int ack, final int flags,
        final int window, final TcpOptions options, final SendBuffer source, final int length, final int segmentBytes,
        final int headerLength)
    {
        final int segmentLength = headerLength + length;
        final int frames = (length + segmentBytes - 1) / segmentBytes;
        final int offset = networkLayer.beginTcpSegmentation(remoteIp, tos, segmentLength);
        if (offset == NetworkLayer.SEND_NOT_DIRECT)
        {
            return false;
        }
        if (offset < 0)
        {
            counters.segmentsDropped += frames;
            return true;
        }
        final MutableDirectBuffer buffer = networkLayer.txBuffer();
        TcpHeader.write(buffer, offset, localPort, remotePort, seq, ack, headerLength, flags, window, 0);
        options.encode(buffer, offset + TcpHeader.MIN_HEADER_LENGTH);
        if (source.read(seq, buffer, offset + headerLength, length) != length)
        {
            networkLayer.abortIpv4(); // the connection asked for bytes it does not hold: never send garbage
            counters.segmentsDropped += frames;
            return true;
        }
        networkLayer.commitTcpSegmentation(segmentLength, headerLength, segmentBytes);
        counters.largeSegmentsSent++;
        counters.segmentsSent += frames;
        return true;
    }

    @Override
    public TcpOptions optionsHolder()
    {
        return connectionOptions; // one shard, one thread: filled and encoded within one call
    }

    @Override
    public void sendSegment(
        final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
        final int ack, final int flags, final int window, final TcpOptions options, final SendBuffer source,
        final int length)
    {
        if (options.hasMss())
        {
            options.mss(Math.min(options.mss(), maxMssBytes)); // MUST-67
        }
        final int headerLength = TcpHeader.MIN_HEADER_LENGTH + options.encodedLength();
        final int segmentLength = headerLength + length;
        final int offset = networkLayer.beginIpv4(remoteIp, Ipv4Header.PROTOCOL_TCP, tos, segmentLength);
        if (offset < 0)
        {
            counters.segmentsDropped++;
            return;
        }
        final MutableDirectBuffer buffer = networkLayer.txBuffer();
        TcpHeader.write(buffer, offset, localPort, remotePort, seq, ack, headerLength, flags, window, 0);
        options.encode(buffer, offset + TcpHeader.MIN_HEADER_LENGTH);
        if (length > 0 && !putPayload(source, seq, buffer, offset + headerLength, length))
        {
            networkLayer.abortIpv4(); // the connection asked for bytes it does not hold: never send garbage
            counters.segmentsDropped++;
            return;
        }
        commit(buffer, offset, segmentLength, localIp, remoteIp);
    }

    // the payload by reference where the device takes it (zero-copy transmit), else copied; false: send nothing
    private boolean putPayload(
        final SendBuffer source, final int seq, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        if (networkLayer.mayReference(length))
        {
            if (referencePayload(source, seq, length))
            {
                counters.payloadsReferenced++;
                return true;
            }
            if (networkLayer.referencedBytes() > 0)
            {
                counters.payloadReferencesRefused++; // part of the payload is in the frame by reference: drop it
                return false;
            }
        }
        return source.read(seq, buffer, offset, length) == length;
    }

    // one reference per chunk the payload spans (one or two for an MSS within 4 KiB chunks)
    private boolean referencePayload(final SendBuffer source, final int seq, final int length)
    {
        if (source.tailSeq() - seq < length)
        {
            return false; // not all buffered: the copy path refuses it too
        }
        int chunk = source.chunkAt(seq);
        if (chunk == ChunkPool.NO_CHUNK)
        {
            return false;
        }
        final ChunkPool pool = source.pool();
        int offset = source.cursorOffset(seq);
        int done = 0;
        while (true)
        {
            final int n = Math.min(length - done, pool.chunkBytes() - offset);
            if (!networkLayer.appendReference(chunk, pool.buffer(chunk), pool.offset(chunk) + offset, n))
            {
                return false;
            }
            done += n;
            if (done == length)
            {
                return true;
            }
            chunk = pool.next(chunk);
            offset = 0;
        }
    }

    private void commit(
        final MutableDirectBuffer buffer, final int offset, final int segmentLength, final int localIp,
        final int remoteIp)
    {
        // the checksum (MUST-2): in software, or completed by the device when it offers checksum offload
        if (networkLayer.commitTcp(segmentLength, nowNs) < 0)
        {
            counters.segmentsDropped++;
        }
        else
        {
            counters.segmentsSent++;
        }
    }
}
