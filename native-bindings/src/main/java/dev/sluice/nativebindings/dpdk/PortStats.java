package dev.sluice.nativebindings.dpdk;

/**
 * A port's basic counters ({@code rte_eth_stats_get}).
 *
 * @param ipackets received packets.
 * @param opackets transmitted packets.
 * @param ibytes   received bytes.
 * @param obytes   transmitted bytes.
 * @param imissed  packets dropped by the hardware because no rx descriptor was free.
 * @param ierrors  erroneous received packets.
 * @param oerrors  failed transmissions.
 * @param rxNombuf rx mbuf allocation failures.
 */
public record PortStats(
    long ipackets, long opackets, long ibytes, long obytes, long imissed, long ierrors, long oerrors, long rxNombuf)
{
}
