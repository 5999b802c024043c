package dev.sluice.core.tcp;

import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.DirectBuffer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The script harness shared by the connection tests: segments from the peer are built as real wire bytes
 * (payload byte at sequence number {@code s} is {@code (byte)s}, so delivered data can be checked for order),
 * segments sent back are recorded, and a recording application handler checks every delivered byte.
 */
abstract class TcpConnectionScript
{
    static final int LOCAL_IP = 0x0A00_0001;
    static final int LOCAL_PORT = 80;
    static final int REMOTE_IP = 0x0A00_0002;
    static final int REMOTE_PORT = 40_000;
    static final int REMOTE_ISS = 0xFFFF_FFF0; // so the handshake crosses the sequence wrap
    static final long NOW_NS = 42_000_000_000L;
    static final int NO_MSS = TcpSegmentOutput.NO_MSS_OPTION;
    static final int NO_WS = TcpSegmentOutput.NO_WINDOW_SCALE;

    // delayed ACKs off: each script sees the ACK a segment calls for at the next poll (aggregation, MUST-58/59);
    // TcpConnectionTimersTest covers delayed ACKs with the default delay
    // the scripts check RFC 5681/6582 numbers: NewReno (CUBIC has its own tests, CubicTest)
    final TcpConfig config =
        TcpConfig.builder().delayedAckNs(0).congestionControl(CongestionAlgorithm.NEWRENO).build();
    final IsnGenerator isnGenerator = new IsnGenerator(0x0123_4567_89AB_CDEFL, 0x7EDC_BA98_7654_3210L);
    final RecordingOutput output = new RecordingOutput();
    final RecordingHandler app = new RecordingHandler();
    TcpConnection connection = new TcpConnection(config, isnGenerator, output, app);
    long nowNs = NOW_NS;
    final TcpSegment segment = new TcpSegment();
    final UnsafeBuffer frame = new UnsafeBuffer(new byte[16_384]);
    final TcpOptions encoder = new TcpOptions();

    /** Segment template: fields of a segment from the peer, with withers for overrides. */
    record Seg(int seq, int ack, int flags, int window, int mss, int payloadLength, byte[] rawOptions, int urgentPointer)
    {
        /** MSS 1460 (when {@code mss} is 0) and a Window Scale option, Linux's order: MSS, NOP, WS. */
        Seg withWindowScale(final int shift)
        {
            final int m = mss == 0 ? 1460 : mss;
            return withRawOptions((byte)2, (byte)4, (byte)(m >> 8), (byte)m, (byte)1, (byte)3, (byte)3, (byte)shift);
        }

        Seg withSeq(final int seq)
        {
            return new Seg(seq, ack, flags, window, mss, payloadLength, rawOptions, urgentPointer);
        }

        Seg withAck(final int ack)
        {
            return new Seg(seq, ack, flags | ACK, window, mss, payloadLength, rawOptions, urgentPointer);
        }

        Seg withFlags(final int flags)
        {
            return new Seg(seq, ack, flags, window, mss, payloadLength, rawOptions, urgentPointer);
        }

        Seg withWindow(final int window)
        {
            return new Seg(seq, ack, flags, window, mss, payloadLength, rawOptions, urgentPointer);
        }

        Seg withMss(final int mss)
        {
            return new Seg(seq, ack, flags, window, mss, payloadLength, rawOptions, urgentPointer);
        }

        Seg withPayload(final int payloadLength)
        {
            return new Seg(seq, ack, flags, window, mss, payloadLength, rawOptions, urgentPointer);
        }

        Seg withUrgentPointer(final int urgentPointer)
        {
            return new Seg(seq, ack, flags | TcpHeader.URG, window, mss, payloadLength, rawOptions, urgentPointer);
        }

        Seg withRawOptions(final byte... rawOptions)
        {
            return new Seg(seq, ack, flags, window, mss, payloadLength, rawOptions, urgentPointer);
        }
    }

    record Sent(int localIp, int localPort, int remoteIp, int remotePort, int seq, int ack, int flags, int window,
        int mss, byte[] payload, int windowScale, boolean hasTimestamps, int tsVal, int tsEcr, boolean sackPermitted,
        int[] sack)
    {
        Sent(final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mss, final byte[] payload,
            final int windowScale, final boolean hasTimestamps, final int tsVal, final int tsEcr)
        {
            this(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, mss, payload, windowScale,
                hasTimestamps, tsVal, tsEcr, false, new int[0]);
        }

        /** SACK blocks as left, right, left, right, ... */
        @Override
        public String toString()
        {
            return "Sent[seq=" + seq + " ack=" + ack + " flags=" + flags + " len=" + payload.length + " sack=" +
                java.util.Arrays.toString(sack) + "]";
        }

        Sent(final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mss, final byte[] payload)
        {
            this(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, mss, payload, NO_WS);
        }

        Sent(final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mss, final byte[] payload,
            final int windowScale)
        {
            this(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, mss, payload, windowScale, false,
                0, 0);
        }
    }

    static final class RecordingOutput implements TcpSegmentOutput
    {
        final ArrayDeque<Sent> sent = new ArrayDeque<>();
        /** Segmentation offload when above 0: large sends arrive as one call, recorded segment by segment. */
        int largeSegmentBytes;

        @Override
        public int largeSegmentBytes()
        {
            return largeSegmentBytes;
        }

        @Override
        public void sendControl(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mssOptionBytes)
        {
            sent.add(new Sent(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, mssOptionBytes,
                new byte[0]));
        }

        @Override
        public void sendSyn(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final int mssOptionBytes, final int windowScaleShift)
        {
            sent.add(new Sent(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, mssOptionBytes,
                new byte[0], windowScaleShift));
        }

        @Override
        public void sendData(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final SendBuffer source, final int length)
        {
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
            assertEquals(length, source.read(seq, copy, 0, length), "payload must be buffered");
            sent.add(new Sent(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, NO_MSS,
                copy.byteArray()));
        }

        @Override
        public void sendSegment(
            final int localIp, final int localPort, final int remoteIp, final int remotePort, final int seq,
            final int ack, final int flags, final int window, final TcpOptions options, final SendBuffer source,
            final int length)
        {
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
            if (length > 0)
            {
                assertEquals(length, source.read(seq, copy, 0, length), "payload must be buffered");
            }
            sent.add(new Sent(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window,
                options.hasMss() ? options.mss() : NO_MSS, copy.byteArray(),
                options.hasWindowScale() ? options.windowScale() : NO_WS, options.hasTimestamps(),
                options.timestampValue(), options.timestampEchoReply(), options.sackPermitted(), blocks(options)));
        }

        private static int[] blocks(final TcpOptions options)
        {
            final int[] blocks = new int[2 * options.sackBlockCount()];
            for (int i = 0; i < options.sackBlockCount(); i++)
            {
                blocks[2 * i] = options.sackLeftEdge(i);
                blocks[2 * i + 1] = options.sackRightEdge(i);
            }
            return blocks;
        }
    }

    /** The Timestamps option as a peer's stack lays it out: NOP, NOP, kind 8, length 10, TSval, TSecr. */
    static byte[] timestampsOption(final int tsVal, final int tsEcr)
    {
        return new byte[] {1, 1, 8, 10, (byte)(tsVal >>> 24), (byte)(tsVal >>> 16), (byte)(tsVal >>> 8), (byte)tsVal,
            (byte)(tsEcr >>> 24), (byte)(tsEcr >>> 16), (byte)(tsEcr >>> 8), (byte)tsEcr};
    }

    /** A SYN's options with timestamps: MSS 1460, then NOP NOP TS (Linux's order without SACK and WS). */
    static byte[] synTimestampsOption(final int tsVal)
    {
        final byte[] ts = timestampsOption(tsVal, 0);
        final byte[] all = new byte[4 + ts.length];
        all[0] = 2;
        all[1] = 4;
        all[2] = (byte)(1460 >> 8);
        all[3] = (byte)1460;
        System.arraycopy(ts, 0, all, 4, ts.length);
        return all;
    }

    static Seg seg(final int seq, final int flags)
    {
        return new Seg(seq, 0, flags, 1000, 0, 0, null, 0);
    }

    TcpSegment wrap(final Seg s)
    {
        final int tcpOffset = 14;
        int optionsLength;
        if (s.rawOptions() != null)
        {
            frame.putBytes(tcpOffset + TcpHeader.OPTIONS_OFFSET, s.rawOptions());
            optionsLength = s.rawOptions().length;
        }
        else
        {
            encoder.clear();
            if (s.mss() != 0)
            {
                encoder.mss(s.mss());
            }
            optionsLength = encoder.encode(frame, tcpOffset + TcpHeader.OPTIONS_OFFSET);
        }
        final int headerLength = TcpHeader.MIN_HEADER_LENGTH + optionsLength;
        TcpHeader.write(frame, tcpOffset, REMOTE_PORT, LOCAL_PORT, s.seq(), s.ack(), headerLength, s.flags(),
            s.window(), s.urgentPointer());
        final int textSeq = s.seq() + ((s.flags() & SYN) != 0 ? 1 : 0); // text on a SYN follows the SYN
        for (int i = 0; i < s.payloadLength(); i++)
        {
            frame.putByte(tcpOffset + headerLength + i, patternByte(textSeq + i));
        }
        final int segmentLength = headerLength + s.payloadLength();
        assertEquals(headerLength, TcpHeader.validate(frame, tcpOffset, segmentLength));
        return segment.wrap(frame, tcpOffset, headerLength, segmentLength, REMOTE_IP, LOCAL_IP);
    }

    void send(final Seg s)
    {
        connection.onSegment(wrap(s), nowNs);
    }

    Sent expect(final int seq, final int ack, final int flags)
    {
        final Sent sent = output.sent.poll();
        assertNotNull(sent, "expected a segment, nothing was sent");
        assertEquals(LOCAL_IP, sent.localIp());
        assertEquals(LOCAL_PORT, sent.localPort());
        assertEquals(REMOTE_IP, sent.remoteIp());
        assertEquals(REMOTE_PORT, sent.remotePort());
        assertEquals(flags, sent.flags(), "flags");
        assertEquals(seq, sent.seq(), "SEQ");
        if ((flags & ACK) != 0)
        {
            assertEquals(ack, sent.ack(), "ACK");
        }
        if ((flags & SYN) == 0)
        {
            assertEquals(NO_MSS, sent.mss(), "MSS option only on SYN (MUST-65)");
        }
        return sent;
    }

    void expectNothing()
    {
        assertTrue(output.sent.isEmpty(), () -> "expected nothing, got " + output.sent);
    }

    int expectedIss()
    {
        return isnGenerator.nextIsn(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, NOW_NS);
    }

    void listen()
    {
        connection.listen(LOCAL_IP, LOCAL_PORT);
    }

    void synReceived()
    {
        listen();
        send(seg(REMOTE_ISS, SYN).withMss(1400));
        expect(expectedIss(), REMOTE_ISS + 1, SYN | ACK);
    }

    void established()
    {
        synReceived();
        send(seg(REMOTE_ISS + 1, 0).withAck(expectedIss() + 1));
        expectNothing();
        assertEquals(TcpState.ESTABLISHED, connection.state());
    }

    static byte patternByte(final int seq)
    {
        return (byte)(seq * 7 + 3);
    }

    /** Makes the connection under test use another configuration; call before opening it. */
    void useConfig(final TcpConfig newConfig)
    {
        connection = new TcpConnection(newConfig, isnGenerator, output, app);
    }

    /** Like {@link #useConfig} with the payload memory of a stack's shard. */
    void useConfig(final TcpConfig newConfig, final ChunkPool pool)
    {
        connection = new TcpConnection(newConfig, isnGenerator, output, app, pool);
    }

    void sendAt(final Seg s, final long atNs)
    {
        nowNs = atNs;
        send(s);
    }

    Sent expectData(final int seq, final int ack, final int flags, final int length)
    {
        final Sent sent = expect(seq, ack, flags);
        assertEquals(length, sent.payload().length, "payload length");
        return sent;
    }

    void poll()
    {
        connection.poll(nowNs);
    }

    /** Application side: checks each delivered byte against the sequence pattern and counts events. */
    static final class RecordingHandler implements TcpReceiveHandler
    {
        int nextSeq = REMOTE_ISS + 1;
        int receivedBytes;
        int misorderedBytes;
        int consumeAtMost = Integer.MAX_VALUE;
        int peerClosedCalls;
        int establishedCalls;
        int writableCalls;
        final List<Integer> urgent = new ArrayList<>();
        final List<TcpCloseReason> closed = new ArrayList<>();
        final List<Integer> excessiveRetransmissions = new ArrayList<>();

        @Override
        public void onExcessiveRetransmissions(final int retransmissions)
        {
            excessiveRetransmissions.add(retransmissions);
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            for (int i = 0; i < length; i++)
            {
                if (buffer.getByte(offset + i) != patternByte(nextSeq + i))
                {
                    misorderedBytes++;
                }
            }
            nextSeq += length;
            receivedBytes += length;
            return Math.min(length, consumeAtMost);
        }

        @Override
        public void onPeerClosed()
        {
            peerClosedCalls++;
        }

        Runnable onEstablishedAction = () -> { };

        @Override
        public void onEstablished()
        {
            establishedCalls++;
            onEstablishedAction.run();
        }

        @Override
        public void onWritable()
        {
            writableCalls++;
        }

        @Override
        public void onUrgent(final int urgentBytesAhead)
        {
            urgent.add(urgentBytesAhead);
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            closed.add(reason);
        }
    }
}
