package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;

import dev.sluice.nativebindings.dpdk.generated.RteEal;
import dev.sluice.nativebindings.dpdk.generated.RteEthConf;
import dev.sluice.nativebindings.dpdk.generated.RteEthDevInfo;
import dev.sluice.nativebindings.dpdk.generated.RteEthLink;
import dev.sluice.nativebindings.dpdk.generated.RteEthStats;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;
import dev.sluice.nativebindings.dpdk.generated.RteEtherAddr;

/**
 * Control path of one ethdev port: configure, queues, start/stop/close, MAC, link,
 * stats, capabilities. Not for the data path (see {@link Lcore}).
 */
public final class EthPort
{
    private final int portId;
    private final String name;

    private EthPort(final int portId, final String name)
    {
        this.portId = portId;
        this.name = name;
    }

    /**
     * @param portId an existing port.
     * @return its control handle.
     * @throws DpdkException if there is no such port.
     */
    public static EthPort of(final int portId)
    {
        Eal.current();
        if (RteEthdev.rte_eth_dev_is_valid_port((short)portId) == 0)
        {
            throw new DpdkException("no ethdev port " + portId);
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment buffer = arena.allocate(RteEthdev.RTE_ETH_NAME_MAX_LEN);
            check(RteEthdev.rte_eth_dev_get_name_by_port((short)portId, buffer), "rte_eth_dev_get_name_by_port", portId);
            return new EthPort(portId, buffer.getString(0));
        }
    }

    /**
     * @param portId a port id.
     * @return whether an ethdev port with that id exists.
     */
    public static boolean exists(final int portId)
    {
        Eal.current();
        return portId >= 0 && portId <= 0xFFFF && RteEthdev.rte_eth_dev_is_valid_port((short)portId) != 0;
    }

    /**
     * @param name a device name, e.g. {@code net_tap0}.
     * @return its control handle.
     * @throws DpdkException if there is no such port.
     */
    public static EthPort byName(final String name)
    {
        Eal.current();
        final int id = Eal.portIdByName(name);
        if (id < 0)
        {
            throw new DpdkException("no ethdev port named " + name);
        }
        return new EthPort(id, name);
    }

    /**
     * @return the port id.
     */
    public int id()
    {
        return portId;
    }

    /**
     * @return the device name.
     */
    public String name()
    {
        return name;
    }

    /**
     * @return driver capabilities.
     */
    public PortInfo info()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment info = arena.allocate(RteEthDevInfo.SIZEOF, 8);
            check(RteEthdev.rte_eth_dev_info_get((short)portId, info), "rte_eth_dev_info_get", portId);
            return new PortInfo(
                Dpdk.cString(RteEthDevInfo.driver_name(info)),
                Short.toUnsignedInt(RteEthDevInfo.max_rx_queues(info)),
                Short.toUnsignedInt(RteEthDevInfo.max_tx_queues(info)),
                RteEthDevInfo.rx_offload_capa(info),
                RteEthDevInfo.tx_offload_capa(info),
                RteEthDevInfo.flow_type_rss_offloads(info),
                Byte.toUnsignedInt(RteEthDevInfo.hash_key_size(info)),
                Short.toUnsignedInt(RteEthDevInfo.reta_size(info)),
                Short.toUnsignedInt(RteEthDevInfo.max_mtu(info)),
                (int)Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(RteEthDevInfo.max_rx_pktlen(info))));
        }
    }

    /**
     * Configures queues and offloads ({@code rte_eth_dev_configure}).
     *
     * @param rxQueues   rx queue count.
     * @param txQueues   tx queue count.
     * @param rssHf      {@code RTE_ETH_RSS_*} hash types for RSS, 0 for none (needs rxQueues > 1).
     * @param rssKey     RSS key, or null for the driver's default.
     * @param rxOffloads {@code RTE_ETH_RX_OFFLOAD_*} to enable.
     * @param txOffloads {@code RTE_ETH_TX_OFFLOAD_*} to enable.
     */
    public void configure(
        final int rxQueues, final int txQueues, final long rssHf, final byte[] rssKey,
        final long rxOffloads, final long txOffloads)
    {
        configure(rxQueues, txQueues, rssHf, rssKey, rxOffloads, txOffloads, 0);
    }

    /**
     * Configures queues, offloads and the MTU ({@code rte_eth_dev_configure} with {@code rxmode.mtu}): the
     * largest IP packet the port carries, checked by DPDK against the driver's {@code max_mtu} and
     * {@code max_rx_pktlen}. Frames above about 2 KB need mbufs with a larger data room
     * ({@link MbufPool#dataRoomFor(int)}): Sluice receives single-segment frames only.
     *
     * @param rxQueues   rx queue count.
     * @param txQueues   tx queue count.
     * @param rssHf      {@code RTE_ETH_RSS_*} hash types for RSS, 0 for none (needs rxQueues > 1).
     * @param rssKey     RSS key, or null for the driver's default.
     * @param rxOffloads {@code RTE_ETH_RX_OFFLOAD_*} to enable.
     * @param txOffloads {@code RTE_ETH_TX_OFFLOAD_*} to enable.
     * @param mtu        the MTU, or 0 for DPDK's default (1500).
     */
    public void configure(
        final int rxQueues, final int txQueues, final long rssHf, final byte[] rssKey,
        final long rxOffloads, final long txOffloads, final int mtu)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment conf = arena.allocate(RteEthConf.SIZEOF, 64);
            if (rssHf != 0)
            {
                RteEthConf.rxmode_mq_mode(conf, RteEthdev.RTE_ETH_MQ_RX_RSS);
                RteEthConf.rx_adv_conf_rss_conf_rss_hf(conf, rssHf);
                if (rssKey != null)
                {
                    final MemorySegment key = arena.allocate(rssKey.length);
                    key.copyFrom(MemorySegment.ofArray(rssKey));
                    RteEthConf.rx_adv_conf_rss_conf_rss_key(conf, key);
                    RteEthConf.rx_adv_conf_rss_conf_rss_key_len(conf, (byte)rssKey.length);
                }
            }
            RteEthConf.rxmode_offloads(conf, rxOffloads);
            RteEthConf.rxmode_mtu(conf, mtu);
            RteEthConf.txmode_offloads(conf, txOffloads);
            check(RteEthdev.rte_eth_dev_configure((short)portId, (short)rxQueues, (short)txQueues, conf),
                "rte_eth_dev_configure", portId);
        }
    }

    /**
     * @return the port's MTU ({@code rte_eth_dev_get_mtu}).
     */
    public int mtu()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment mtu = arena.allocate(ValueLayout.JAVA_SHORT);
            check(RteEthdev.rte_eth_dev_get_mtu((short)portId, mtu), "rte_eth_dev_get_mtu", portId);
            return Short.toUnsignedInt(mtu.get(ValueLayout.JAVA_SHORT, 0));
        }
    }

    /**
     * Sets up an rx queue with the driver's default configuration.
     *
     * @param queueId     queue.
     * @param descriptors ring size.
     * @param pool        where received packets are allocated.
     */
    public void setupRxQueue(final int queueId, final int descriptors, final MbufPool pool)
    {
        check(RteEthdev.rte_eth_rx_queue_setup((short)portId, (short)queueId, (short)descriptors,
            RteEal.SOCKET_ID_ANY, MemorySegment.NULL, pool.segment()), "rte_eth_rx_queue_setup", portId);
    }

    /**
     * Sets up a tx queue with the driver's default configuration.
     *
     * @param queueId     queue.
     * @param descriptors ring size.
     */
    public void setupTxQueue(final int queueId, final int descriptors)
    {
        check(RteEthdev.rte_eth_tx_queue_setup((short)portId, (short)queueId, (short)descriptors,
            RteEal.SOCKET_ID_ANY, MemorySegment.NULL), "rte_eth_tx_queue_setup", portId);
    }

    /** Starts the port. */
    public void start()
    {
        check(RteEthdev.rte_eth_dev_start((short)portId), "rte_eth_dev_start", portId);
    }

    /** Stops the port. */
    public void stop()
    {
        check(RteEthdev.rte_eth_dev_stop((short)portId), "rte_eth_dev_stop", portId);
    }

    /** Closes the port (a net_tap port removes its kernel interface). */
    public void close()
    {
        check(RteEthdev.rte_eth_dev_close((short)portId), "rte_eth_dev_close", portId);
    }

    /** Receives every frame, whatever its destination MAC. */
    public void enablePromiscuous()
    {
        check(RteEthdev.rte_eth_promiscuous_enable((short)portId), "rte_eth_promiscuous_enable", portId);
    }

    /**
     * @return whether promiscuous mode is on.
     */
    public boolean isPromiscuous()
    {
        return RteEthdev.rte_eth_promiscuous_get((short)portId) == 1;
    }

    /**
     * @return the port's MAC address (6 bytes).
     */
    public byte[] macAddress()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment mac = arena.allocate(RteEtherAddr.SIZEOF, 2);
            check(RteEthdev.rte_eth_macaddr_get((short)portId, mac), "rte_eth_macaddr_get", portId);
            return mac.asSlice(RteEtherAddr.addr_bytes$OFFSET, RteEtherAddr.addr_bytes$LENGTH).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * @return the port's MAC address as a number, first byte most significant (the form
     *         sluice-core's {@code NetConfig} takes).
     */
    public long macAddressAsLong()
    {
        long value = 0;
        for (final byte b : macAddress())
        {
            value = (value << 8) | (b & 0xff);
        }
        return value;
    }

    /**
     * @param mac the new MAC address (6 bytes).
     */
    public void macAddress(final byte[] mac)
    {
        if (mac.length != RteEtherAddr.addr_bytes$LENGTH)
        {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + mac.length);
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment addr = arena.allocate(RteEtherAddr.SIZEOF, 2);
            addr.asSlice(RteEtherAddr.addr_bytes$OFFSET).copyFrom(MemorySegment.ofArray(mac));
            check(RteEthdev.rte_eth_dev_default_mac_addr_set((short)portId, addr), "rte_eth_dev_default_mac_addr_set",
                portId);
        }
    }

    /**
     * @return the link, without waiting.
     */
    public LinkStatus link()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment link = arena.allocate(RteEthLink.SIZEOF, 8);
            check(RteEthdev.rte_eth_link_get_nowait((short)portId, link), "rte_eth_link_get_nowait", portId);
            final MemorySegment text = arena.allocate(RteEthdev.RTE_ETH_LINK_MAX_STR_LEN);
            RteEthdev.rte_eth_link_to_str(text, RteEthdev.RTE_ETH_LINK_MAX_STR_LEN, link);
            return new LinkStatus(
                RteEthLink.link_status(link), RteEthLink.link_speed(link), RteEthLink.link_duplex(link), text.getString(0));
        }
    }

    /**
     * @return the port's counters.
     */
    public PortStats stats()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment s = arena.allocate(RteEthStats.SIZEOF, 8);
            check(RteEthdev.rte_eth_stats_get((short)portId, s), "rte_eth_stats_get", portId);
            return new PortStats(RteEthStats.ipackets(s), RteEthStats.opackets(s), RteEthStats.ibytes(s),
                RteEthStats.obytes(s), RteEthStats.imissed(s), RteEthStats.ierrors(s), RteEthStats.oerrors(s),
                RteEthStats.rx_nombuf(s));
        }
    }

    /**
     * @param mac 6 bytes.
     * @return {@code aa:bb:cc:dd:ee:ff}.
     */
    public static String formatMac(final byte[] mac)
    {
        return HexFormat.ofDelimiter(":").formatHex(mac);
    }

    @Override
    public String toString()
    {
        return "port " + portId + " (" + name + ")";
    }

    static void check(final int rc, final String call, final int portId)
    {
        if (rc < 0)
        {
            throw new DpdkException(call + "(port " + portId + ") failed: " + Eal.strerror(-rc) + " (" + rc + ")");
        }
    }
}
