package dev.sluice.core.net;

import dev.sluice.core.wire.Addresses;

/**
 * Next-hop choice for a host with one interface: a destination on the directly connected subnet is its
 * own next hop, anything else goes to the default gateway.
 */
public final class NextHop
{
    /** Returned when there is no route (off-link destination and no gateway, or an unusable address). */
    public static final int NO_ROUTE = 0;

    private NextHop()
    {
    }

    /**
     * Netmask of a prefix length.
     *
     * @param prefixLength 0..32.
     * @return e.g. 0xFFFFFF00 for 24.
     */
    public static int netmask(final int prefixLength)
    {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    /**
     * Chooses the next hop.
     *
     * @param destinationIp destination address.
     * @param localIp       our address.
     * @param netmask       netmask of the connected subnet.
     * @param gatewayIp     default gateway, or 0 for none.
     * @return the next hop's address, or {@link #NO_ROUTE} for 0.0.0.0, our own address, broadcast,
     * multicast, or an off-link destination without a gateway.
     */
    public static int choose(final int destinationIp, final int localIp, final int netmask, final int gatewayIp)
    {
        if (destinationIp == 0 || destinationIp == localIp || destinationIp == Addresses.IPV4_LIMITED_BROADCAST ||
            Addresses.isIpv4Multicast(destinationIp) || isDirectedBroadcast(destinationIp, localIp, netmask))
        {
            return NO_ROUTE;
        }
        if ((destinationIp & netmask) == (localIp & netmask))
        {
            return destinationIp;
        }
        return gatewayIp;
    }

    /**
     * Whether an address is the directed broadcast of our subnet (none for /31 and /32, RFC 3021).
     *
     * @param address address to test.
     * @param localIp our address.
     * @param netmask our netmask.
     * @return true if it is the subnet's all-ones host address.
     */
    public static boolean isDirectedBroadcast(final int address, final int localIp, final int netmask)
    {
        final int hostMask = ~netmask;
        return Integer.bitCount(hostMask) >= 2 && (address & netmask) == (localIp & netmask) &&
            (address & hostMask) == hostMask;
    }
}
