package dev.sluice.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an ICMP message header (RFC 792), with the error classification of RFC 9293 §3.9.2.2.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  echo: Identifier             |  echo: Sequence Number        |
 * |  frag needed: unused          |  Next-Hop MTU (RFC 1191)      |
 * |  param problem: Pointer | unused                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  echo: data ...  /  errors: quoted IP header + first 8+ bytes  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * The checksum covers the whole ICMP message.
 */
public final class IcmpHeader
{
    /** Offset of the type. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the code. */
    public static final int CODE_OFFSET = 1;
    /** Offset of the checksum. */
    public static final int CHECKSUM_OFFSET = 2;
    /** Offset of the echo identifier (also the parameter-problem pointer's byte). */
    public static final int IDENTIFIER_OFFSET = 4;
    /** Offset of the echo sequence number (also the next-hop MTU of "fragmentation needed"). */
    public static final int SEQUENCE_OFFSET = 6;
    /** Length of the fixed header; errors quote the offending datagram right after it. */
    public static final int HEADER_LENGTH = 8;
    /** Bytes of the offending datagram's payload that every error must quote (RFC 792). */
    public static final int MIN_QUOTED_PAYLOAD = 8;

    /** Type: echo reply. */
    public static final int TYPE_ECHO_REPLY = 0;
    /** Type: destination unreachable. */
    public static final int TYPE_DESTINATION_UNREACHABLE = 3;
    /** Type: source quench (deprecated, RFC 6633). */
    public static final int TYPE_SOURCE_QUENCH = 4;
    /** Type: redirect. */
    public static final int TYPE_REDIRECT = 5;
    /** Type: echo request. */
    public static final int TYPE_ECHO_REQUEST = 8;
    /** Type: time exceeded. */
    public static final int TYPE_TIME_EXCEEDED = 11;
    /** Type: parameter problem. */
    public static final int TYPE_PARAMETER_PROBLEM = 12;

    /** Destination unreachable code: fragmentation needed and DF set (RFC 1191). */
    public static final int CODE_FRAGMENTATION_NEEDED = 4;

    /** Classification: not an error message this stack delivers (echo, redirect, unknown types). */
    public static final int ERROR_NONE = 0;
    /** Classification: soft error, must not abort the connection (MUST-56). */
    public static final int ERROR_SOFT = 1;
    /** Classification: hard error (destination unreachable codes 2 and 3; SHLD-26). */
    public static final int ERROR_HARD = 2;
    /** Classification: fragmentation needed, for path MTU discovery (RFC 1191, code 4). */
    public static final int ERROR_FRAGMENTATION_NEEDED = 3;
    /** Classification: source quench, silently discarded (MUST-55). */
    public static final int ERROR_IGNORED = 4;

    private DirectBuffer buffer;
    private int offset;

    /**
     * Checked parse of an untrusted ICMP message. Never throws.
     *
     * @param buffer         holding the message.
     * @param offset         of the ICMP header.
     * @param length         ICMP message length (IPv4 total length minus header length).
     * @param verifyChecksum whether to verify the checksum over the message.
     * @return {@link #HEADER_LENGTH}, {@link WireError#TRUNCATED} or {@link WireError#BAD_CHECKSUM}.
     */
    public static int validate(
        final DirectBuffer buffer, final int offset, final int length, final boolean verifyChecksum)
    {
        if (length < HEADER_LENGTH)
        {
            return WireError.TRUNCATED;
        }
        if (verifyChecksum && Checksum.compute(buffer, offset, length) != 0)
        {
            return WireError.BAD_CHECKSUM;
        }
        return HEADER_LENGTH;
    }

    /**
     * Checked parse of the datagram quoted by an ICMP error: an IPv4 header (version 4, IHL &gt;= 5) that
     * fits, followed by at least {@link #MIN_QUOTED_PAYLOAD} bytes. The quoted total length and checksum
     * are not checked: routers may truncate or alter the quote. Never throws.
     *
     * @param buffer holding the quote.
     * @param offset of the quoted IPv4 header (ICMP offset + 8).
     * @param length bytes of quote available.
     * @return the quoted IPv4 header length, or {@link WireError#TRUNCATED}, {@link WireError#BAD_VERSION},
     * {@link WireError#BAD_HEADER_LENGTH}.
     */
    public static int validateQuote(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < Ipv4Header.MIN_HEADER_LENGTH)
        {
            return WireError.TRUNCATED;
        }
        final int versionIhl = buffer.getByte(offset) & 0xFF;
        if ((versionIhl >>> 4) != 4)
        {
            return WireError.BAD_VERSION;
        }
        final int headerLength = (versionIhl & 0x0F) << 2;
        if (headerLength < Ipv4Header.MIN_HEADER_LENGTH)
        {
            return WireError.BAD_HEADER_LENGTH;
        }
        if (headerLength + MIN_QUOTED_PAYLOAD > length)
        {
            return WireError.TRUNCATED;
        }
        return headerLength;
    }

    /**
     * Classifies an ICMP type and code for the transport layer (RFC 9293 §3.9.2.2, RFC 1122 §4.2.3.9).
     *
     * @param type ICMP type.
     * @param code ICMP code.
     * @return one of {@link #ERROR_NONE}, {@link #ERROR_SOFT}, {@link #ERROR_HARD},
     * {@link #ERROR_FRAGMENTATION_NEEDED}, {@link #ERROR_IGNORED}.
     */
    public static int classify(final int type, final int code)
    {
        return switch (type)
        {
            case TYPE_DESTINATION_UNREACHABLE -> switch (code)
            {
                case 2, 3 -> ERROR_HARD;
                case CODE_FRAGMENTATION_NEEDED -> ERROR_FRAGMENTATION_NEEDED;
                default -> ERROR_SOFT; // 0, 1, 5 and the administrative/unknown codes: never abort
            };
            case TYPE_TIME_EXCEEDED, TYPE_PARAMETER_PROBLEM -> ERROR_SOFT;
            case TYPE_SOURCE_QUENCH -> ERROR_IGNORED;
            default -> ERROR_NONE;
        };
    }

    /**
     * Type.
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @return 0..255.
     */
    public static int type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + TYPE_OFFSET) & 0xFF;
    }

    /**
     * Code.
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @return 0..255.
     */
    public static int code(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + CODE_OFFSET) & 0xFF;
    }

    /**
     * Checksum field.
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @return 0..65535.
     */
    public static int checksum(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Echo identifier.
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @return 0..65535.
     */
    public static int identifier(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + IDENTIFIER_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Echo sequence number; for "fragmentation needed" the next-hop MTU.
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @return 0..65535.
     */
    public static int sequence(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + SEQUENCE_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * The second 32-bit word of the header (identifier/sequence, pointer, next-hop MTU).
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @return the word.
     */
    public static int restOfHeader(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + IDENTIFIER_OFFSET, BIG_ENDIAN);
    }

    /**
     * Writes the 8-byte header with a zero checksum; call {@link #putChecksum} once the body is in place.
     *
     * @param buffer       to write to.
     * @param offset       of the ICMP header.
     * @param type         type.
     * @param code         code.
     * @param restOfHeader the second 32-bit word.
     * @return {@link #HEADER_LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer, final int offset, final int type, final int code, final int restOfHeader)
    {
        buffer.putByte(offset + TYPE_OFFSET, (byte)type);
        buffer.putByte(offset + CODE_OFFSET, (byte)code);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)0);
        buffer.putInt(offset + IDENTIFIER_OFFSET, restOfHeader, BIG_ENDIAN);
        return HEADER_LENGTH;
    }

    /**
     * Computes and stores the checksum over the whole message (the field is zeroed first).
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @param length message length.
     */
    public static void putChecksum(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)0);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)Checksum.compute(buffer, offset, length), BIG_ENDIAN);
    }

    /**
     * Points this flyweight at a validated message.
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @return this.
     */
    public IcmpHeader wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * Type.
     *
     * @return 0..255.
     */
    public int type()
    {
        return type(buffer, offset);
    }

    /**
     * Code.
     *
     * @return 0..255.
     */
    public int code()
    {
        return code(buffer, offset);
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
     * Echo identifier.
     *
     * @return 0..65535.
     */
    public int identifier()
    {
        return identifier(buffer, offset);
    }

    /**
     * Echo sequence number, or next-hop MTU.
     *
     * @return 0..65535.
     */
    public int sequence()
    {
        return sequence(buffer, offset);
    }
}
