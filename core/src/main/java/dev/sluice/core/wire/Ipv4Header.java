package dev.sluice.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an IPv4 header (RFC 791).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |   DSCP    |ECN|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * Options are skipped, never interpreted (MUST-50). The datagram's payload is
 * {@code [offset + headerLength, offset + totalLength)}; link padding after the total length is ignored.
 */
public final class Ipv4Header
{
    /** Offset of version and IHL. */
    public static final int VERSION_IHL_OFFSET = 0;
    /** Offset of DSCP and ECN (the old TOS byte). */
    public static final int TOS_OFFSET = 1;
    /** Offset of the total length. */
    public static final int TOTAL_LENGTH_OFFSET = 2;
    /** Offset of the identification. */
    public static final int IDENTIFICATION_OFFSET = 4;
    /** Offset of flags and fragment offset. */
    public static final int FLAGS_FRAGMENT_OFFSET = 6;
    /** Offset of the TTL. */
    public static final int TTL_OFFSET = 8;
    /** Offset of the protocol. */
    public static final int PROTOCOL_OFFSET = 9;
    /** Offset of the header checksum. */
    public static final int CHECKSUM_OFFSET = 10;
    /** Offset of the source address. */
    public static final int SOURCE_OFFSET = 12;
    /** Offset of the destination address. */
    public static final int DESTINATION_OFFSET = 16;
    /** Length of a header without options. */
    public static final int MIN_HEADER_LENGTH = 20;
    /** Longest header (IHL 15). */
    public static final int MAX_HEADER_LENGTH = 60;

    /** Don't Fragment flag within the flags/fragment-offset word. */
    public static final int FLAG_DONT_FRAGMENT = 0x4000;
    /** More Fragments flag within the flags/fragment-offset word. */
    public static final int FLAG_MORE_FRAGMENTS = 0x2000;
    /** Fragment offset bits within the flags/fragment-offset word. */
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

    /** Protocol number of ICMP. */
    public static final int PROTOCOL_ICMP = 1;
    /** Protocol number of TCP. */
    public static final int PROTOCOL_TCP = 6;
    /** Protocol number of UDP. */
    public static final int PROTOCOL_UDP = 17;

    private DirectBuffer buffer;
    private int offset;

    /**
     * Checked parse of untrusted bytes, verifying the header checksum. Never throws.
     *
     * @param buffer holding the datagram.
     * @param offset of the IPv4 header.
     * @param length bytes available (e.g. frame length minus the link header).
     * @return the header length, or a negative {@link WireError} code.
     */
    public static int validate(final DirectBuffer buffer, final int offset, final int length)
    {
        return validate(buffer, offset, length, true);
    }

    /**
     * Checked parse of untrusted bytes. Never throws. Checks, in order: at least 20 bytes, version 4,
     * IHL of at least 5, the header fits, total length covers the header and fits the bytes available,
     * and (optionally, when the NIC has not verified it) the header checksum.
     *
     * @param buffer         holding the datagram.
     * @param offset         of the IPv4 header.
     * @param length         bytes available.
     * @param verifyChecksum whether to verify the header checksum.
     * @return the header length, or {@link WireError#TRUNCATED}, {@link WireError#BAD_VERSION},
     * {@link WireError#BAD_HEADER_LENGTH}, {@link WireError#BAD_TOTAL_LENGTH}, {@link WireError#BAD_CHECKSUM}.
     */
    public static int validate(
        final DirectBuffer buffer, final int offset, final int length, final boolean verifyChecksum)
    {
        if (length < MIN_HEADER_LENGTH)
        {
            return WireError.TRUNCATED;
        }
        final int versionIhl = buffer.getByte(offset + VERSION_IHL_OFFSET) & 0xFF;
        if ((versionIhl >>> 4) != 4)
        {
            return WireError.BAD_VERSION;
        }
        final int headerLength = (versionIhl & 0x0F) << 2;
        if (headerLength < MIN_HEADER_LENGTH)
        {
            return WireError.BAD_HEADER_LENGTH;
        }
        if (headerLength > length)
        {
            return WireError.TRUNCATED;
        }
        final int totalLength = totalLength(buffer, offset);
        if (totalLength < headerLength)
        {
            return WireError.BAD_TOTAL_LENGTH;
        }
        if (totalLength > length)
        {
            return WireError.TRUNCATED;
        }
        if (verifyChecksum && Checksum.compute(buffer, offset, headerLength) != 0)
        {
            return WireError.BAD_CHECKSUM;
        }
        return headerLength;
    }

    /**
     * Header length from the IHL field.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return IHL * 4.
     */
    public static int headerLength(final DirectBuffer buffer, final int offset)
    {
        return (buffer.getByte(offset + VERSION_IHL_OFFSET) & 0x0F) << 2;
    }

    /**
     * DSCP and ECN byte.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return the TOS byte, 0..255.
     */
    public static int tos(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + TOS_OFFSET) & 0xFF;
    }

    /**
     * Total length.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return header plus payload length.
     */
    public static int totalLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + TOTAL_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Identification.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return 0..65535.
     */
    public static int identification(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + IDENTIFICATION_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Flags and fragment offset word.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return 0..65535; see {@link #FLAG_DONT_FRAGMENT}, {@link #FLAG_MORE_FRAGMENTS}.
     */
    public static int flagsAndFragmentOffset(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + FLAGS_FRAGMENT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Whether the datagram is a fragment (More Fragments set or a non-zero fragment offset).
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return true for any fragment, including the first.
     */
    public static boolean isFragment(final DirectBuffer buffer, final int offset)
    {
        return (flagsAndFragmentOffset(buffer, offset) & (FLAG_MORE_FRAGMENTS | FRAGMENT_OFFSET_MASK)) != 0;
    }

    /**
     * Time to live.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return 0..255.
     */
    public static int ttl(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + TTL_OFFSET) & 0xFF;
    }

    /**
     * Protocol.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return 0..255.
     */
    public static int protocol(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + PROTOCOL_OFFSET) & 0xFF;
    }

    /**
     * Header checksum field.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return 0..65535.
     */
    public static int checksum(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Source address.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return the address.
     */
    public static int source(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SOURCE_OFFSET, BIG_ENDIAN);
    }

    /**
     * Destination address.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return the address.
     */
    public static int destination(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + DESTINATION_OFFSET, BIG_ENDIAN);
    }

    /**
     * Writes a 20-byte header without options, checksum included.
     *
     * @param buffer                 to write to.
     * @param offset                 of the header.
     * @param tos                    DSCP (upper 6 bits) and ECN (lower 2 bits).
     * @param totalLength            header plus payload length.
     * @param identification         identification.
     * @param flagsAndFragmentOffset e.g. {@link #FLAG_DONT_FRAGMENT}.
     * @param ttl                    time to live.
     * @param protocol               protocol number.
     * @param source                 source address.
     * @param destination            destination address.
     * @return {@link #MIN_HEADER_LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer, final int offset, final int tos, final int totalLength,
        final int identification, final int flagsAndFragmentOffset, final int ttl, final int protocol,
        final int source, final int destination)
    {
        buffer.putByte(offset + VERSION_IHL_OFFSET, (byte)0x45);
        buffer.putByte(offset + TOS_OFFSET, (byte)tos);
        buffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short)totalLength, BIG_ENDIAN);
        buffer.putShort(offset + IDENTIFICATION_OFFSET, (short)identification, BIG_ENDIAN);
        buffer.putShort(offset + FLAGS_FRAGMENT_OFFSET, (short)flagsAndFragmentOffset, BIG_ENDIAN);
        buffer.putByte(offset + TTL_OFFSET, (byte)ttl);
        buffer.putByte(offset + PROTOCOL_OFFSET, (byte)protocol);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)0);
        buffer.putInt(offset + SOURCE_OFFSET, source, BIG_ENDIAN);
        buffer.putInt(offset + DESTINATION_OFFSET, destination, BIG_ENDIAN);
        putChecksum(buffer, offset, MIN_HEADER_LENGTH);
        return MIN_HEADER_LENGTH;
    }

    /**
     * Writes a 20-byte header without options and with a zero checksum, for a device that computes the
     * checksum on transmit (checksum offload). Same parameters as
     * {@link #write(MutableDirectBuffer, int, int, int, int, int, int, int, int, int)}.
     *
     * @param buffer                 to write to.
     * @param offset                 of the header.
     * @param tos                    DSCP (upper 6 bits) and ECN (lower 2 bits).
     * @param totalLength            header plus payload length.
     * @param identification         identification.
     * @param flagsAndFragmentOffset e.g. {@link #FLAG_DONT_FRAGMENT}.
     * @param ttl                    time to live.
     * @param protocol               protocol number.
     * @param source                 source address.
     * @param destination            destination address.
     * @return {@link #MIN_HEADER_LENGTH}.
     */
    public static int writeForChecksumOffload(
        final MutableDirectBuffer buffer, final int offset, final int tos, final int totalLength,
        final int identification, final int flagsAndFragmentOffset, final int ttl, final int protocol,
        final int source, final int destination)
    {
        buffer.putByte(offset + VERSION_IHL_OFFSET, (byte)0x45);
        buffer.putByte(offset + TOS_OFFSET, (byte)tos);
        buffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short)totalLength, BIG_ENDIAN);
        buffer.putShort(offset + IDENTIFICATION_OFFSET, (short)identification, BIG_ENDIAN);
        buffer.putShort(offset + FLAGS_FRAGMENT_OFFSET, (short)flagsAndFragmentOffset, BIG_ENDIAN);
        buffer.putByte(offset + TTL_OFFSET, (byte)ttl);
        buffer.putByte(offset + PROTOCOL_OFFSET, (byte)protocol);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)0);
        buffer.putInt(offset + SOURCE_OFFSET, source, BIG_ENDIAN);
        buffer.putInt(offset + DESTINATION_OFFSET, destination, BIG_ENDIAN);
        return MIN_HEADER_LENGTH;
    }

    /**
     * Computes and stores the header checksum (the field is zeroed first).
     *
     * @param buffer       holding the header.
     * @param offset       of the header.
     * @param headerLength header length.
     */
    public static void putChecksum(final MutableDirectBuffer buffer, final int offset, final int headerLength)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)0);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)Checksum.compute(buffer, offset, headerLength), BIG_ENDIAN);
    }

    /**
     * Points this flyweight at a validated header.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return this.
     */
    public Ipv4Header wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * Header length.
     *
     * @return IHL * 4.
     */
    public int headerLength()
    {
        return headerLength(buffer, offset);
    }

    /**
     * DSCP and ECN byte.
     *
     * @return 0..255.
     */
    public int tos()
    {
        return tos(buffer, offset);
    }

    /**
     * Total length.
     *
     * @return header plus payload length.
     */
    public int totalLength()
    {
        return totalLength(buffer, offset);
    }

    /**
     * Identification.
     *
     * @return 0..65535.
     */
    public int identification()
    {
        return identification(buffer, offset);
    }

    /**
     * Flags and fragment offset.
     *
     * @return 0..65535.
     */
    public int flagsAndFragmentOffset()
    {
        return flagsAndFragmentOffset(buffer, offset);
    }

    /**
     * Time to live.
     *
     * @return 0..255.
     */
    public int ttl()
    {
        return ttl(buffer, offset);
    }

    /**
     * Protocol.
     *
     * @return 0..255.
     */
    public int protocol()
    {
        return protocol(buffer, offset);
    }

    /**
     * Header checksum field.
     *
     * @return 0..65535.
     */
    public int checksum()
    {
        return checksum(buffer, offset);
    }

    /**
     * Source address.
     *
     * @return the address.
     */
    public int source()
    {
        return source(buffer, offset);
    }

    /**
     * Destination address.
     *
     * @return the address.
     */
    public int destination()
    {
        return destination(buffer, offset);
    }
}
