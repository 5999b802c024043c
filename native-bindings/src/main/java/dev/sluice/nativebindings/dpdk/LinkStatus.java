package dev.sluice.nativebindings.dpdk;

/**
 * A port's link ({@code rte_eth_link_get_nowait}).
 *
 * @param up          whether the link is up.
 * @param speedMbps   speed in Mbit/s (0 unknown).
 * @param fullDuplex  full duplex.
 * @param description DPDK's own text ({@code rte_eth_link_to_str}).
 */
public record LinkStatus(boolean up, int speedMbps, boolean fullDuplex, String description)
{
}
