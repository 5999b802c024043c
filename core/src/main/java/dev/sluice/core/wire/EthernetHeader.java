package dev.sluice.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an Ethernet II header, with IEEE 802.1Q / 802.1ad VLAN tags skipped on input.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Destination MAC (6 octets)                   |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                     Source MAC (6 octets)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   EtherType (or 0x8100 TPID)  |  [TCI: PCP|DEI|VLAN id]  ...  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * With tags, each 4-byte tag (TPID 0x8100 or 0x88A8, then the TCI) sits before the real EtherType, so
 * the header is 14, 18 or 22 bytes: the EtherType is always the last two bytes of the header length
 * returned by {@link #validate(DirectBuffer, int, int)}. Emitted frames are untagged.
 */
public final class EthernetHeader
{
    /** Offset of the destination MAC. */
    public static final int DESTINATION_OFFSET = 0;
    /** Offset of the source MAC. */
    public static final int SOURCE_OFFSET = 6;
    /** Offset of the EtherType (or first tag's TPID). */
    public static final int ETHER_TYPE_OFFSET = 12;
    /** Length of an untagged header. */
    public static final int HEADER_LENGTH = 14;
    /** Length of one VLAN tag. */
    public static final int VLAN_TAG_LENGTH = 4;
    /** Most stacked tags accepted (one 802.1ad outer tag plus one 802.1Q inner tag). */
    public static final int MAX_VLAN_TAGS = 2;
    /** Minimum frame length without FCS; shorter frames are padded on emit by the NIC or the caller. */
    public static final int MIN_FRAME_LENGTH = 60;

    /** EtherType of IPv4. */
    public static final int ETHER_TYPE_IPV4 = 0x0800;
    /** EtherType of ARP. */
    public static final int ETHER_TYPE_ARP = 0x0806;
    /** EtherType of IPv6. */
    public static final int ETHER_TYPE_IPV6 = 0x86DD;
    /** TPID of an IEEE 802.1Q tag. */
    public static final int ETHER_TYPE_VLAN = 0x8100;
    /** TPID of an IEEE 802.1ad (QinQ) service tag. */
    public static final int ETHER_TYPE_QINQ = 0x88A8;

    private DirectBuffer buffer;
    private int offset;
    private int headerLength = HEADER_LENGTH;

    /**
     * Checked parse of untrusted bytes. Never throws; reads only within {@code [offset, offset+length)}.
     *
     * @param buffer holding the frame.
     * @param offset of the frame's first byte.
     * @param length bytes available in the frame.
     * @return the header length (14, 18 or 22) or {@link WireError#TRUNCATED} /
     * {@link WireError#TOO_MANY_VLAN_TAGS}.
     */
    public static int validate(final DirectBuffer buffer, final int offset, final int length)
    {
        int headerLength = HEADER_LENGTH;
        for (int tags = 0; ; tags++)
        {
            if (length < headerLength)
            {
                return WireError.TRUNCATED;
            }
            final int type = buffer.getShort(offset + headerLength - 2, BIG_ENDIAN) & 0xFFFF;
            if (type != ETHER_TYPE_VLAN && type != ETHER_TYPE_QINQ)
            {
                return headerLength;
            }
            if (tags == MAX_VLAN_TAGS)
            {
                return WireError.TOO_MANY_VLAN_TAGS;
            }
            headerLength += VLAN_TAG_LENGTH;
        }
    }

    /**
     * EtherType of a validated frame.
     *
     * @param buffer       holding the frame.
     * @param offset       of the frame.
     * @param headerLength as returned by {@link #validate(DirectBuffer, int, int)}.
     * @return the EtherType after any VLAN tags.
     */
    public static int etherType(final DirectBuffer buffer, final int offset, final int headerLength)
    {
        return buffer.getShort(offset + headerLength - 2, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Destination MAC.
     *
     * @param buffer holding the frame.
     * @param offset of the frame.
     * @return the MAC in the low 48 bits.
     */
    public static long destination(final DirectBuffer buffer, final int offset)
    {
        return getMac(buffer, offset + DESTINATION_OFFSET);
    }

    /**
     * Source MAC.
     *
     * @param buffer holding the frame.
     * @param offset of the frame.
     * @return the MAC in the low 48 bits.
     */
    public static long source(final DirectBuffer buffer, final int offset)
    {
        return getMac(buffer, offset + SOURCE_OFFSET);
    }

    /**
     * Reads a 6-byte MAC address.
     *
     * @param buffer holding it.
     * @param index  of its first byte.
     * @return the MAC in the low 48 bits.
     */
    public static long getMac(final DirectBuffer buffer, final int index)
    {
        return ((buffer.getInt(index, BIG_ENDIAN) & 0xFFFF_FFFFL) << 16) |
            (buffer.getShort(index + 4, BIG_ENDIAN) & 0xFFFFL);
    }

    /**
     * Writes a 6-byte MAC address.
     *
     * @param buffer to write to.
     * @param index  of the first byte.
     * @param mac    the MAC in the low 48 bits.
     */
    public static void putMac(final MutableDirectBuffer buffer, final int index, final long mac)
    {
        buffer.putInt(index, (int)(mac >>> 16), BIG_ENDIAN);
        buffer.putShort(index + 4, (short)mac, BIG_ENDIAN);
    }

    /**
     * Writes an untagged header.
     *
     * @param buffer      to write to.
     * @param offset      of the frame.
     * @param destination destination MAC.
     * @param source      source MAC.
     * @param etherType   EtherType.
     * @return {@link #HEADER_LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer, final int offset, final long destination, final long source,
        final int etherType)
    {
        putMac(buffer, offset + DESTINATION_OFFSET, destination);
        putMac(buffer, offset + SOURCE_OFFSET, source);
        buffer.putShort(offset + ETHER_TYPE_OFFSET, (short)etherType, BIG_ENDIAN);
        return HEADER_LENGTH;
    }

    /**
     * Points this flyweight at a validated header.
     *
     * @param buffer       holding the frame.
     * @param offset       of the frame.
     * @param headerLength as returned by {@link #validate(DirectBuffer, int, int)}.
     * @return this.
     */
    public EthernetHeader wrap(final DirectBuffer buffer, final int offset, final int headerLength)
    {
        this.buffer = buffer;
        this.offset = offset;
        this.headerLength = headerLength;
        return this;
    }

    /**
     * Destination MAC.
     *
     * @return the MAC in the low 48 bits.
     */
    public long destination()
    {
        return destination(buffer, offset);
    }

    /**
     * Source MAC.
     *
     * @return the MAC in the low 48 bits.
     */
    public long source()
    {
        return source(buffer, offset);
    }

    /**
     * EtherType after any VLAN tags.
     *
     * @return the EtherType.
     */
    public int etherType()
    {
        return etherType(buffer, offset, headerLength);
    }

    /**
     * VLAN id of the innermost tag.
     *
     * @return 0..4095, or -1 when the frame is untagged.
     */
    public int vlanId()
    {
        return headerLength == HEADER_LENGTH ? -1 : buffer.getShort(offset + headerLength - 4, BIG_ENDIAN) & 0x0FFF;
    }

    /**
     * Header length including tags.
     *
     * @return 14, 18 or 22.
     */
    public int headerLength()
    {
        return headerLength;
    }
}
