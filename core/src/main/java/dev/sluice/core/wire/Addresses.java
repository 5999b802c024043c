package dev.sluice.core.wire;

/**
 * Conversions between the primitive address forms used on the data path (IPv4 as an {@code int} in
 * network order, MAC as the low 48 bits of a {@code long}) and text. For configuration, logs and
 * tests: these allocate.
 */
public final class Addresses
{
    /** The Ethernet broadcast address ff:ff:ff:ff:ff:ff. */
    public static final long MAC_BROADCAST = 0xFFFF_FFFF_FFFFL;
    /** The limited broadcast IPv4 address 255.255.255.255. */
    public static final int IPV4_LIMITED_BROADCAST = 0xFFFF_FFFF;

    private Addresses()
    {
    }

    /**
     * Parses dotted-quad IPv4 text.
     *
     * @param text e.g. "10.0.0.1".
     * @return the address as an int, first octet in the high byte.
     * @throws IllegalArgumentException if the text is not four decimal octets.
     */
    public static int parseIpv4(final String text)
    {
        final String[] parts = text.split("\\.", -1);
        if (parts.length != 4)
        {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        int address = 0;
        for (final String part : parts)
        {
            final int octet;
            try
            {
                octet = Integer.parseInt(part);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("not an IPv4 address: " + text, ex);
            }
            if (part.isEmpty() || octet < 0 || octet > 255)
            {
                throw new IllegalArgumentException("not an IPv4 address: " + text);
            }
            address = (address << 8) | octet;
        }
        return address;
    }

    /**
     * Formats an IPv4 address as dotted-quad text.
     *
     * @param address the address.
     * @return e.g. "10.0.0.1".
     */
    public static String ipv4ToString(final int address)
    {
        return (address >>> 24) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "." +
            (address & 0xFF);
    }

    /**
     * Parses a MAC address written as six colon- or dash-separated hex octets.
     *
     * @param text e.g. "02:00:00:00:00:01".
     * @return the address in the low 48 bits.
     * @throws IllegalArgumentException if the text is malformed.
     */
    public static long parseMac(final String text)
    {
        final String[] parts = text.split("[:-]", -1);
        if (parts.length != 6)
        {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long mac = 0;
        for (final String part : parts)
        {
            if (part.length() != 2)
            {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            try
            {
                mac = (mac << 8) | Integer.parseInt(part, 16);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("not a MAC address: " + text, ex);
            }
        }
        return mac;
    }

    /**
     * Formats a MAC address.
     *
     * @param mac the address in the low 48 bits.
     * @return e.g. "02:00:00:00:00:01".
     */
    public static String macToString(final long mac)
    {
        final StringBuilder sb = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8)
        {
            final int octet = (int)(mac >>> shift) & 0xFF;
            sb.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
            if (shift > 0)
            {
                sb.append(':');
            }
        }
        return sb.toString();
    }

    /**
     * Whether an IPv4 address is multicast (224.0.0.0/4).
     *
     * @param address the address.
     * @return true for class D.
     */
    public static boolean isIpv4Multicast(final int address)
    {
        return (address & 0xF000_0000) == 0xE000_0000;
    }
}
