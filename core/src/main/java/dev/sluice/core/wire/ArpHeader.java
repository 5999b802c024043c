package dev.sluice.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an ARP packet for Ethernet and IPv4 (RFC 826), the only pair this stack resolves.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Hardware type (1)           |   Protocol type (0x0800)      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | HW len (6)    | Proto len (4) |   Operation (1 req, 2 reply)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Sender hardware address (6)                  |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |  Sender protocol address (4)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                  Target hardware address (6)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Target protocol address (4)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class ArpHeader
{
    /** Offset of the hardware type. */
    public static final int HARDWARE_TYPE_OFFSET = 0;
    /** Offset of the protocol type. */
    public static final int PROTOCOL_TYPE_OFFSET = 2;
    /** Offset of the hardware address length. */
    public static final int HARDWARE_LENGTH_OFFSET = 4;
    /** Offset of the protocol address length. */
    public static final int PROTOCOL_LENGTH_OFFSET = 5;
    /** Offset of the operation. */
    public static final int OPERATION_OFFSET = 6;
    /** Offset of the sender hardware address. */
    public static final int SENDER_MAC_OFFSET = 8;
    /** Offset of the sender protocol address. */
    public static final int SENDER_IP_OFFSET = 14;
    /** Offset of the target hardware address. */
    public static final int TARGET_MAC_OFFSET = 18;
    /** Offset of the target protocol address. */
    public static final int TARGET_IP_OFFSET = 24;
    /** Length of an Ethernet/IPv4 ARP packet. */
    public static final int LENGTH = 28;

    /** Hardware type of Ethernet. */
    public static final int HARDWARE_TYPE_ETHERNET = 1;
    /** Operation: request. */
    public static final int OPERATION_REQUEST = 1;
    /** Operation: reply. */
    public static final int OPERATION_REPLY = 2;

    private DirectBuffer buffer;
    private int offset;

    /**
     * Checked parse of untrusted bytes. Never throws.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP header.
     * @param length bytes available.
     * @return {@link #LENGTH}, {@link WireError#TRUNCATED}, or {@link WireError#UNSUPPORTED} when it is not an
     * Ethernet/IPv4 request or reply.
     */
    public static int validate(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < LENGTH)
        {
            return WireError.TRUNCATED;
        }
        final int operation = operation(buffer, offset);
        if ((buffer.getShort(offset + HARDWARE_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF) != HARDWARE_TYPE_ETHERNET ||
            (buffer.getShort(offset + PROTOCOL_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF) != EthernetHeader.ETHER_TYPE_IPV4 ||
            buffer.getByte(offset + HARDWARE_LENGTH_OFFSET) != 6 ||
            buffer.getByte(offset + PROTOCOL_LENGTH_OFFSET) != 4 ||
            (operation != OPERATION_REQUEST && operation != OPERATION_REPLY))
        {
            return WireError.UNSUPPORTED;
        }
        return LENGTH;
    }

    /**
     * Operation.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP header.
     * @return 1 request, 2 reply.
     */
    public static int operation(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + OPERATION_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * Sender hardware address.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP header.
     * @return the MAC in the low 48 bits.
     */
    public static long senderMac(final DirectBuffer buffer, final int offset)
    {
        return EthernetHeader.getMac(buffer, offset + SENDER_MAC_OFFSET);
    }

    /**
     * Sender protocol address.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP header.
     * @return the IPv4 address.
     */
    public static int senderIp(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SENDER_IP_OFFSET, BIG_ENDIAN);
    }

    /**
     * Target hardware address.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP header.
     * @return the MAC in the low 48 bits.
     */
    public static long targetMac(final DirectBuffer buffer, final int offset)
    {
        return EthernetHeader.getMac(buffer, offset + TARGET_MAC_OFFSET);
    }

    /**
     * Target protocol address.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP header.
     * @return the IPv4 address.
     */
    public static int targetIp(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + TARGET_IP_OFFSET, BIG_ENDIAN);
    }

    /**
     * Writes an Ethernet/IPv4 ARP packet.
     *
     * @param buffer    to write to.
     * @param offset    of the ARP header.
     * @param operation 1 request, 2 reply.
     * @param senderMac sender hardware address.
     * @param senderIp  sender protocol address.
     * @param targetMac target hardware address (zero in requests).
     * @param targetIp  target protocol address.
     * @return {@link #LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer, final int offset, final int operation,
        final long senderMac, final int senderIp, final long targetMac, final int targetIp)
    {
        buffer.putShort(offset + HARDWARE_TYPE_OFFSET, (short)HARDWARE_TYPE_ETHERNET, BIG_ENDIAN);
        buffer.putShort(offset + PROTOCOL_TYPE_OFFSET, (short)EthernetHeader.ETHER_TYPE_IPV4, BIG_ENDIAN);
        buffer.putByte(offset + HARDWARE_LENGTH_OFFSET, (byte)6);
        buffer.putByte(offset + PROTOCOL_LENGTH_OFFSET, (byte)4);
        buffer.putShort(offset + OPERATION_OFFSET, (short)operation, BIG_ENDIAN);
        EthernetHeader.putMac(buffer, offset + SENDER_MAC_OFFSET, senderMac);
        buffer.putInt(offset + SENDER_IP_OFFSET, senderIp, BIG_ENDIAN);
        EthernetHeader.putMac(buffer, offset + TARGET_MAC_OFFSET, targetMac);
        buffer.putInt(offset + TARGET_IP_OFFSET, targetIp, BIG_ENDIAN);
        return LENGTH;
    }

    /**
     * Points this flyweight at a validated packet.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP header.
     * @return this.
     */
    public ArpHeader wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * Operation.
     *
     * @return 1 request, 2 reply.
     */
    public int operation()
    {
        return operation(buffer, offset);
    }

    /**
     * Sender hardware address.
     *
     * @return the MAC in the low 48 bits.
     */
    public long senderMac()
    {
        return senderMac(buffer, offset);
    }

    /**
     * Sender protocol address.
     *
     * @return the IPv4 address.
     */
    public int senderIp()
    {
        return senderIp(buffer, offset);
    }

    /**
     * Target hardware address.
     *
     * @return the MAC in the low 48 bits.
     */
    public long targetMac()
    {
        return targetMac(buffer, offset);
    }

    /**
     * Target protocol address.
     *
     * @return the IPv4 address.
     */
    public int targetIp()
    {
        return targetIp(buffer, offset);
    }
}
