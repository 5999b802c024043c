package dev.sluice.nativebindings.dpdk;

/**
 * What a port's driver reports ({@code rte_eth_dev_info_get}).
 *
 * @param driverName          the PMD, e.g. {@code net_tap}.
 * @param maxRxQueues         most rx queues.
 * @param maxTxQueues         most tx queues.
 * @param rxOffloadCapa       {@code RTE_ETH_RX_OFFLOAD_*} the port supports.
 * @param txOffloadCapa       {@code RTE_ETH_TX_OFFLOAD_*} the port supports.
 * @param flowTypeRssOffloads {@code RTE_ETH_RSS_*} hash types supported (0: no RSS).
 * @param hashKeySize         RSS key bytes (0: default key only).
 * @param retaSize            RSS redirection table entries.
 * @param maxMtu              largest MTU.
 * @param maxRxPktLen         largest frame the driver says it receives ({@code max_rx_pktlen}; DPDK refuses an
 *                            MTU whose frame exceeds it).
 */
public record PortInfo(
    String driverName,
    int maxRxQueues,
    int maxTxQueues,
    long rxOffloadCapa,
    long txOffloadCapa,
    long flowTypeRssOffloads,
    int hashKeySize,
    int retaSize,
    int maxMtu,
    int maxRxPktLen)
{
    /**
     * @param offloads {@code RTE_ETH_RX_OFFLOAD_*} bits.
     * @return true if the port supports all of them.
     */
    public boolean supportsRx(final long offloads)
    {
        return (rxOffloadCapa & offloads) == offloads;
    }

    /**
     * @param offloads {@code RTE_ETH_TX_OFFLOAD_*} bits.
     * @return true if the port supports all of them.
     */
    public boolean supportsTx(final long offloads)
    {
        return (txOffloadCapa & offloads) == offloads;
    }
}
