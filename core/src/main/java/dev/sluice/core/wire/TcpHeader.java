package dev.sluice.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over a TCP header (RFC 9293 §3.1).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * |       |       |R|E|G|K|H|T|N|N|                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           [Options]                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * Sequence and acknowledgment numbers are returned as raw {@code int}s: compare them only with
 * wrapping arithmetic. The window is unsigned (MUST-1). Options are parsed by {@link TcpOptions}.
 */
public final class TcpHeader
{
    /** Offset of the source port. */
    public static final int SOURCE_PORT_OFFSET = 0;
    /** Offset of the destination port. */
    public static final int DESTINATION_PORT_OFFSET = 2;
    /** Offset of the sequence number. */
    public static final int SEQUENCE_OFFSET = 4;
    /** Offset of the acknowledgment number. */
    public static final int ACKNOWLEDGMENT_OFFSET = 8;
    /** Offset of the data offset (upper 4 bits). */
    public static final int DATA_OFFSET_OFFSET = 12;
    /** Offset of the flags byte. */
    public static final int FLAGS_OFFSET = 13;
    /** Offset of the window. */
    public static final int WINDOW_OFFSET = 14;
    /** Offset of the checksum. */
    public static final int CHECKSUM_OFFSET = 16;
    /** Offset of the urgent pointer. */
    public static final int URGENT_POINTER_OFFSET = 18;
    /** Offset of the options (when data offset &gt; 5). */
    public static final int OPTIONS_OFFSET = 20;
    /** Length of a header without options. */
    public static final int MIN_HEADER_LENGTH = 20;
    /** Longest header (data offset 15). */
    public static final int MAX_HEADER_LENGTH = 60;
    /** Most option bytes a header can carry. */
    public static final int MAX_OPTIONS_LENGTH = MAX_HEADER_LENGTH - MIN_HEADER_LENGTH;

    /** FIN flag. */
    public static final int FIN = 0x01;
    /** SYN flag. */
    public static final int SYN = 0x02;
    /** RST flag. */
    public static final int RST = 0x04;
    /** PSH flag. */
    public static final int PSH = 0x08;
    /** ACK flag. */
    public static final int ACK = 0x10;
    /** URG flag. */
    public static final int URG = 0x20;
    /** ECE flag (RFC 3168). */
    public static final int ECE = 0x40;
    /** CWR flag (RFC 3168). */
    public static final int CWR = 0x80;

    private DirectBuffer buffer;
    private int offset;

    /**
     * Checked parse of an untrusted TCP header. Never throws. The checksum is verified separately with
     * {@link Checksum#transportChecksum(DirectBuffer, int, int, int, int, int)} because it needs the
     * pseudo-header.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @param length segment length (header plus payload) from the IP layer.
     * @return the header length (data offset * 4), {@link WireError#TRUNCATED} or
     * {@link WireError#BAD_HEADER_LENGTH}.
     */
    public static int validate(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MIN_HEADER_LENGTH)
        {
            return WireError.TRUNCATED;
        }
        final int headerLength = headerLength(buffer, offset);
        if (headerLength < MIN_HEADER_LENGTH)
        {
            return WireError.BAD_HEADER_LENGTH;
        }
        if (headerLength > length)
        {
            return WireError.TRUNCATED;
        }
        return headerLength;
    }

    /**
     * Source port.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return 0..65535.
     */
    public static int sourcePort(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + SOURCE_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Destination port.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return 0..65535.
     */
    public static int destinationPort(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + DESTINATION_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Sequence number.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return the raw 32-bit value.
     */
    public static int sequence(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SEQUENCE_OFFSET, BIG_ENDIAN);
    }

    /**
     * Acknowledgment number.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return the raw 32-bit value.
     */
    public static int acknowledgment(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + ACKNOWLEDGMENT_OFFSET, BIG_ENDIAN);
    }

    /**
     * Header length from the data offset field.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return data offset * 4 (unchecked).
     */
    public static int headerLength(final DirectBuffer buffer, final int offset)
    {
        return ((buffer.getByte(offset + DATA_OFFSET_OFFSET) & 0xFF) >>> 4) << 2;
    }

    /**
     * Flags byte.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return CWR..FIN bits.
     */
    public static int flags(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    /**
     * Window, unsigned (MUST-1) and not yet scaled.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return 0..65535.
     */
    public static int window(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + WINDOW_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Checksum field.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return 0..65535.
     */
    public static int checksum(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Urgent pointer.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return 0..65535.
     */
    public static int urgentPointer(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + URGENT_POINTER_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Writes a header with a zero checksum. Options, if any, are written after it by
     * {@link TcpOptions#encode}, and the checksum last with {@link #putChecksum}.
     *
     * @param buffer          to write to.
     * @param offset          of the TCP header.
     * @param sourcePort      source port.
     * @param destinationPort destination port.
     * @param sequence        sequence number.
     * @param acknowledgment  acknowledgment number.
     * @param headerLength    header length including options, a multiple of 4 in 20..60.
     * @param flags           flag bits.
     * @param window          window (already scaled down).
     * @param urgentPointer   urgent pointer.
     * @return {@link #MIN_HEADER_LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer, final int offset, final int sourcePort, final int destinationPort,
        final int sequence, final int acknowledgment, final int headerLength, final int flags, final int window,
        final int urgentPointer)
    {
        buffer.putShort(offset + SOURCE_PORT_OFFSET, (short)sourcePort, BIG_ENDIAN);
        buffer.putShort(offset + DESTINATION_PORT_OFFSET, (short)destinationPort, BIG_ENDIAN);
        buffer.putInt(offset + SEQUENCE_OFFSET, sequence, BIG_ENDIAN);
        buffer.putInt(offset + ACKNOWLEDGMENT_OFFSET, acknowledgment, BIG_ENDIAN);
        buffer.putByte(offset + DATA_OFFSET_OFFSET, (byte)((headerLength >>> 2) << 4));
        buffer.putByte(offset + FLAGS_OFFSET, (byte)flags);
        buffer.putShort(offset + WINDOW_OFFSET, (short)window, BIG_ENDIAN);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)0);
        buffer.putShort(offset + URGENT_POINTER_OFFSET, (short)urgentPointer, BIG_ENDIAN);
        return MIN_HEADER_LENGTH;
    }

    /**
     * Computes and stores the checksum of a segment held in one range (MUST-2).
     *
     * @param buffer        holding the segment.
     * @param offset        of the TCP header.
     * @param segmentLength header plus payload length.
     * @param sourceIp      IPv4 source address.
     * @param destinationIp IPv4 destination address.
     */
    public static void putChecksum(
        final MutableDirectBuffer buffer, final int offset, final int segmentLength,
        final int sourceIp, final int destinationIp)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)0);
        final int checksum = Checksum.transportChecksum(
            buffer, offset, segmentLength, sourceIp, destinationIp, Ipv4Header.PROTOCOL_TCP);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, BIG_ENDIAN);
    }

    /**
     * Stores the IPv4 pseudo-header sum (not complemented) in the checksum field, for a device that completes
     * the checksum over the segment on transmit (DPDK's {@code RTE_MBUF_F_TX_TCP_CKSUM}, {@code
     * rte_ipv4_phdr_cksum}): the device adds the segment's bytes, this field included, and stores the
     * complement, which equals what {@link #putChecksum} computes.
     *
     * @param buffer        holding the segment.
     * @param offset        of the TCP header.
     * @param segmentLength header plus payload length.
     * @param sourceIp      IPv4 source address.
     * @param destinationIp IPv4 destination address.
     */
    public static void putPseudoHeaderChecksum(
        final MutableDirectBuffer buffer, final int offset, final int segmentLength,
        final int sourceIp, final int destinationIp)
    {
        final int sum = Checksum.pseudoHeaderSum(sourceIp, destinationIp, Ipv4Header.PROTOCOL_TCP, segmentLength);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)sum, BIG_ENDIAN);
    }

    /**
     * Verifies the checksum of a received segment held in one range (MUST-3).
     *
     * @param buffer        holding the segment.
     * @param offset        of the TCP header.
     * @param segmentLength header plus payload length.
     * @param sourceIp      IPv4 source address.
     * @param destinationIp IPv4 destination address.
     * @return true when the checksum verifies.
     */
    public static boolean isChecksumValid(
        final DirectBuffer buffer, final int offset, final int segmentLength,
        final int sourceIp, final int destinationIp)
    {
        return Checksum.transportChecksum(
            buffer, offset, segmentLength, sourceIp, destinationIp, Ipv4Header.PROTOCOL_TCP) == 0;
    }

    /**
     * Points this flyweight at a validated header.
     *
     * @param buffer holding the segment.
     * @param offset of the TCP header.
     * @return this.
     */
    public TcpHeader wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * Source port.
     *
     * @return 0..65535.
     */
    public int sourcePort()
    {
        return sourcePort(buffer, offset);
    }

    /**
     * Destination port.
     *
     * @return 0..65535.
     */
    public int destinationPort()
    {
        return destinationPort(buffer, offset);
    }

    /**
     * Sequence number.
     *
     * @return the raw 32-bit value.
     */
    public int sequence()
    {
        return sequence(buffer, offset);
    }

    /**
     * Acknowledgment number.
     *
     * @return the raw 32-bit value.
     */
    public int acknowledgment()
    {
        return acknowledgment(buffer, offset);
    }

    /**
     * Header length.
     *
     * @return data offset * 4.
     */
    public int headerLength()
    {
        return headerLength(buffer, offset);
    }

    /**
     * Flags byte.
     *
     * @return CWR..FIN bits.
     */
    public int flags()
    {
        return flags(buffer, offset);
    }

    /**
     * Window.
     *
     * @return 0..65535.
     */
    public int window()
    {
        return window(buffer, offset);
    }

    /**
     * Checksum field.
     *
     * @return 0..65535.
     */
    public int checksum()
    {
        return checksum(buffer, offset);
    }

    /**
     * Urgent pointer.
     *
     * @return 0..65535.
     */
    public int urgentPointer()
    {
        return urgentPointer(buffer, offset);
    }
}
