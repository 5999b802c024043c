package dev.sluice.driver;

import dev.sluice.nativebindings.dpdk.PortInfo;

/**
 * The MTU a port is configured with. Jumbo frames (MTU up to 9000) need the port to accept them: DPDK refuses
 * an MTU whose frame exceeds the driver's {@code max_rx_pktlen}. net_ring accepts any; net_memif (22.11)
 * reports 1518 bytes although its protocol chains buffers and its receive path fills a whole mbuf, so it
 * carries jumbo frames with the port left at DPDK's default. The stack's MTU (the frames it builds, the MSS it
 * announces) is the configured one either way; mbufs get a data room that holds a whole frame
 * ({@code MbufPool.dataRoomFor}).
 */
public final class PortMtu
{
    private static final String TAP = "net_tap";

    /**
     * The longest frame (Ethernet header included) a device cuts with TSO: net_tap refuses a segment whose
     * tso_segsz plus headers exceeds the port's MTU; other devices cut to whatever tso_segsz says.
     *
     * @param info       what the driver reports.
     * @param configured what {@link #configurable(PortInfo, int, boolean)} returned (0: the driver's default).
     * @return bytes.
     */
    public static int tsoFrameLimit(final PortInfo info, final int configured)
    {
        return TAP.equals(info.driverName()) ? (configured != 0 ? configured : 1500) : Integer.MAX_VALUE;
    }

    /** What net_tap's TSO check needs above the stack's MTU: the Ethernet header. */
    static final int TAP_TSO_SLACK = 14;
    /** Ethernet header and one VLAN tag: a frame's bytes beyond its IP MTU. */
    private static final int FRAME_OVERHEAD = 18;

    private PortMtu()
    {
    }

    /**
     * @param info what the driver reports.
     * @param mtu  the stack's MTU.
     * @return the MTU to configure the port with, or 0 for DPDK's default (1500) when the driver would refuse it
     *         or it is 1500 anyway.
     */
    public static int configurable(final PortInfo info, final int mtu, final boolean tso)
    {
        // net_tap (DPDK 22.11 and later) refuses a TSO segment when tso_segsz + l2_len + l3_len + l4_len exceeds
        // the port's MTU, counting the 14-byte Ethernet header against an IP MTU: full-sized segments pass only
        // with the port's MTU 14 bytes above the stack's (the stack still sends and announces its own MSS)
        if (tso && TAP.equals(info.driverName()) && info.maxMtu() >= mtu + TAP_TSO_SLACK &&
            info.maxRxPktLen() >= mtu + TAP_TSO_SLACK + FRAME_OVERHEAD)
        {
            return mtu + TAP_TSO_SLACK;
        }
        return configurable(info, mtu);
    }

    /**
     * @param info what the driver reports.
     * @param mtu  the stack's MTU.
     * @return the MTU to configure the port with, or 0 to keep the driver's default.
     */
    public static int configurable(final PortInfo info, final int mtu)
    {
        if (mtu == 1500)
        {
            return 0;
        }
        return info.maxRxPktLen() >= mtu + FRAME_OVERHEAD && info.maxMtu() >= mtu ? mtu : 0;
    }

    /**
     * @param info       what the driver reports.
     * @param mtu        the stack's MTU.
     * @param configured what {@link #configurable} returned.
     * @return one phrase for the start-up log.
     */
    public static String describe(final PortInfo info, final int mtu, final int configured)
    {
        if (configured == mtu + TAP_TSO_SLACK)
        {
            return mtu + " (net_tap port " + configured + " for TSO)";
        }
        if (configured != 0 || mtu == 1500)
        {
            return Integer.toString(mtu);
        }
        return "default (the driver reports max frame " + info.maxRxPktLen() + " bytes; the stack uses " + mtu + ")";
    }
}
