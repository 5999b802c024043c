package dev.sluice.core.tcp;

import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.DirectBuffer;

/**
 * A received segment as the state machine sees it: header fields read once, options parsed, addresses
 * from the IP layer, payload left in the received buffer. One reusable instance per shard; it is only
 * valid during the {@code onSegment} call it is passed to.
 */
public final class TcpSegment
{
    private final TcpOptions options = new TcpOptions();
    private int sourceIp;
    private int destinationIp;
    private int sourcePort;
    private int destinationPort;
    private int seq;
    private int ack;
    private int flags;
    private int window;
    private int urgentPointer;
    private int optionsResult;
    private DirectBuffer buffer;
    private int payloadOffset;
    private int payloadLength;

    /**
     * Creates an empty holder; call {@link #wrap} before use.
     */
    public TcpSegment()
    {
    }

    /**
     * Reads a segment whose header the network layer has validated and whose checksum it verified.
     *
     * @param buffer          holding the segment.
     * @param tcpOffset       offset of the TCP header.
     * @param tcpHeaderLength header length from {@link TcpHeader#validate}.
     * @param segmentLength   header plus payload length.
     * @param sourceIp        IPv4 source (the peer).
     * @param destinationIp   IPv4 destination (us).
     * @return this.
     */
    public TcpSegment wrap(
        final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
        final int sourceIp, final int destinationIp)
    {
        this.buffer = buffer;
        this.sourceIp = sourceIp;
        this.destinationIp = destinationIp;
        this.sourcePort = TcpHeader.sourcePort(buffer, tcpOffset);
        this.destinationPort = TcpHeader.destinationPort(buffer, tcpOffset);
        this.seq = TcpHeader.sequence(buffer, tcpOffset);
        this.ack = TcpHeader.acknowledgment(buffer, tcpOffset);
        this.flags = TcpHeader.flags(buffer, tcpOffset);
        this.window = TcpHeader.window(buffer, tcpOffset);
        this.urgentPointer = TcpHeader.urgentPointer(buffer, tcpOffset);
        this.payloadOffset = tcpOffset + tcpHeaderLength;
        this.payloadLength = segmentLength - tcpHeaderLength;
        this.optionsResult = options.parseHeader(buffer, tcpOffset, tcpHeaderLength);
        return this;
    }

    /**
     * Points the payload at another buffer than the header's: a frame whose payload arrived in memory of its own
     * (an mbuf chain: headers in the first mbuf, payload in an attached one), read in place.
     *
     * @param payloadBuffer holding the payload.
     * @param offset        of the first payload byte in it.
     * @return this.
     */
    public TcpSegment payloadAt(final DirectBuffer payloadBuffer, final int offset)
    {
        this.buffer = payloadBuffer;
        this.payloadOffset = offset;
        return this;
    }

    /**
     * Whether a flag is set.
     *
     * @param flag a {@link TcpHeader} flag bit, e.g. {@link TcpHeader#SYN}.
     * @return true when set.
     */
    public boolean has(final int flag)
    {
        return (flags & flag) != 0;
    }

    /**
     * SEG.LEN: payload bytes plus one for SYN and one for FIN (RFC 9293 §3.4).
     *
     * @return sequence space the segment occupies.
     */
    public int segLen()
    {
        return payloadLength + (flags & TcpHeader.SYN) / TcpHeader.SYN + (flags & TcpHeader.FIN);
    }

    /**
     * SEG.SEQ.
     *
     * @return raw sequence number.
     */
    public int seq()
    {
        return seq;
    }

    /**
     * SEG.ACK.
     *
     * @return raw acknowledgment number.
     */
    public int ack()
    {
        return ack;
    }

    /**
     * Flag bits.
     *
     * @return CWR..FIN.
     */
    public int flags()
    {
        return flags;
    }

    /**
     * SEG.WND, unsigned and unscaled (MUST-1).
     *
     * @return 0..65535.
     */
    public int window()
    {
        return window;
    }

    /**
     * SEG.UP: offset from SEG.SEQ of the octet following the urgent data (MUST-62); meaningful only with URG.
     *
     * @return 0..65535.
     */
    public int urgentPointer()
    {
        return urgentPointer;
    }

    /**
     * Source address (the peer).
     *
     * @return IPv4 address.
     */
    public int sourceIp()
    {
        return sourceIp;
    }

    /**
     * Destination address (us).
     *
     * @return IPv4 address.
     */
    public int destinationIp()
    {
        return destinationIp;
    }

    /**
     * Source port (the peer's).
     *
     * @return 0..65535.
     */
    public int sourcePort()
    {
        return sourcePort;
    }

    /**
     * Destination port (ours).
     *
     * @return 0..65535.
     */
    public int destinationPort()
    {
        return destinationPort;
    }

    /**
     * Parsed options; valid only if {@link #optionsResult()} is 0.
     *
     * @return the reusable holder.
     */
    public TcpOptions options()
    {
        return options;
    }

    /**
     * Result of option parsing: 0, or a negative {@link dev.sluice.core.wire.WireError} (MUST-7).
     *
     * @return 0 or an error code.
     */
    public int optionsResult()
    {
        return optionsResult;
    }

    /**
     * Buffer holding the payload (the header's, unless {@link #payloadAt} said otherwise).
     *
     * @return the received buffer.
     */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /**
     * Offset of the first payload byte.
     *
     * @return offset.
     */
    public int payloadOffset()
    {
        return payloadOffset;
    }

    /**
     * Payload bytes.
     *
     * @return length, 0 for a pure control segment.
     */
    public int payloadLength()
    {
        return payloadLength;
    }
}
