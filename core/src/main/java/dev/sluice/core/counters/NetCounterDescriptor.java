package dev.sluice.core.counters;

/**
 * Every counter of a shard's network layer (link, ARP, IPv4, ICMP, TCP demultiplexing), defined once as
 * data. Ids are dense, stable and equal to the ordinal; add new counters at the end so that the ids of
 * published counters do not change.
 */
public enum NetCounterDescriptor
{
    /** Frames handed to the network layer. */
    FRAMES_RECEIVED(Type.TRAFFIC, "eth: frames received"),
    /** Frame shorter than its Ethernet header. */
    ETH_TRUNCATED(Type.DROP, "eth: truncated frame"),
    /** More than two stacked VLAN tags. */
    ETH_TOO_MANY_VLAN_TAGS(Type.DROP, "eth: too many VLAN tags"),
    /** Destination MAC neither ours nor broadcast. */
    ETH_NOT_FOR_US(Type.DROP, "eth: destination MAC not ours"),
    /** EtherType other than IPv4 and ARP (includes IPv6 and 802.3 length frames). */
    ETH_UNSUPPORTED_ETHER_TYPE(Type.DROP, "eth: unsupported EtherType"),

    /** ARP packets received. */
    ARP_RECEIVED(Type.TRAFFIC, "arp: packets received"),
    /** ARP packet shorter than 28 bytes. */
    ARP_TRUNCATED(Type.DROP, "arp: truncated"),
    /** ARP for something other than Ethernet/IPv4, or an unknown operation. */
    ARP_UNSUPPORTED(Type.DROP, "arp: unsupported hardware/protocol/operation"),
    /** ARP whose target is not our address and whose sender is not in the cache. */
    ARP_NOT_FOR_US(Type.DROP, "arp: not for us"),
    /** ARP claiming our IPv4 address from another MAC. */
    ARP_ADDRESS_CONFLICT(Type.DROP, "arp: address conflict (our IP from another MAC)"),
    /** ARP requests sent (resolution, retries, refreshes, gratuitous). */
    ARP_REQUESTS_SENT(Type.TRAFFIC, "arp: requests sent"),
    /** ARP replies sent for our address. */
    ARP_REPLIES_SENT(Type.TRAFFIC, "arp: replies sent"),
    /** Outbound packet dropped: the queue of packets waiting for resolution was full. */
    ARP_QUEUE_FULL(Type.DROP, "arp: pending queue full"),
    /** Outbound packet dropped: the next hop never answered. */
    ARP_RESOLUTION_FAILED(Type.DROP, "arp: resolution failed"),
    /** Outbound packet dropped: the ARP cache was full of unresolved entries. */
    ARP_CACHE_FULL(Type.DROP, "arp: cache full"),

    /** IPv4 datagrams received. */
    IPV4_RECEIVED(Type.TRAFFIC, "ipv4: datagrams received"),
    /** Datagram shorter than its header or its total length. */
    IPV4_TRUNCATED(Type.DROP, "ipv4: truncated"),
    /** Version field not 4. */
    IPV4_BAD_VERSION(Type.DROP, "ipv4: bad version"),
    /** IHL below 5. */
    IPV4_BAD_HEADER_LENGTH(Type.DROP, "ipv4: bad header length"),
    /** Total length below the header length. */
    IPV4_BAD_TOTAL_LENGTH(Type.DROP, "ipv4: bad total length"),
    /** Header checksum does not verify. */
    IPV4_BAD_CHECKSUM(Type.DROP, "ipv4: bad header checksum"),
    /** Destination neither our address nor a broadcast. */
    IPV4_NOT_FOR_US(Type.DROP, "ipv4: destination not ours"),
    /** Source is broadcast, multicast, 0.0.0.0 or our own address (MUST-63 at the IP layer). */
    IPV4_BAD_SOURCE(Type.DROP, "ipv4: invalid source address"),
    /** Fragment (MF set or offset non-zero): not reassembled. */
    IPV4_FRAGMENT(Type.DROP, "ipv4: fragment"),
    /** Protocol other than ICMP and TCP. */
    IPV4_UNSUPPORTED_PROTOCOL(Type.DROP, "ipv4: unsupported protocol"),
    /** TCP or ICMP addressed to a broadcast address (MUST-57; no echo to broadcast). */
    /** RFC 1122 3.3.6: a unicast datagram that arrived in a link-layer broadcast frame. */
    IPV4_UNICAST_IN_LINK_BROADCAST(Type.DROP, "ipv4: unicast datagram in link-layer broadcast"),
    IPV4_BROADCAST_DROPPED(Type.DROP, "ipv4: TCP/ICMP to broadcast"),
    /** IPv4 datagrams sent (or queued for ARP). */
    IPV4_SENT(Type.TRAFFIC, "ipv4: datagrams sent"),
    /** Outbound datagram dropped: no route (off-link destination and no gateway). */
    IPV4_NO_ROUTE(Type.DROP, "ipv4: no route to destination"),
    /** Outbound datagram dropped: larger than the MTU. */
    IPV4_TOO_LONG(Type.DROP, "ipv4: outbound datagram larger than MTU"),

    /** ICMP messages received. */
    ICMP_RECEIVED(Type.TRAFFIC, "icmp: messages received"),
    /** ICMP message shorter than 8 bytes. */
    ICMP_TRUNCATED(Type.DROP, "icmp: truncated"),
    /** ICMP checksum does not verify. */
    ICMP_BAD_CHECKSUM(Type.DROP, "icmp: bad checksum"),
    /** Echo replies sent. */
    ICMP_ECHO_REPLIES_SENT(Type.TRAFFIC, "icmp: echo replies sent"),
    /** Errors delivered to the TCP layer (MUST-54). */
    ICMP_ERRORS_DELIVERED(Type.TRAFFIC, "icmp: errors delivered to TCP"),
    /** Time exceeded received (TTL expired in transit): delivered as a soft error. */
    ICMP_TIME_EXCEEDED(Type.TRAFFIC, "icmp: time exceeded (TTL expired) received"),
    /** Source quench silently discarded (MUST-55). */
    ICMP_SOURCE_QUENCH_IGNORED(Type.DROP, "icmp: source quench ignored"),
    /** Error whose quote is malformed, not TCP, or not from our address. */
    ICMP_BAD_QUOTE(Type.DROP, "icmp: error with unusable quote"),
    /** Types this stack does not act on (redirect, echo reply, timestamp...). */
    ICMP_UNSUPPORTED_TYPE(Type.DROP, "icmp: unsupported type"),

    /** TCP segment shorter than 20 bytes or its data offset. */
    TCP_TRUNCATED(Type.DROP, "tcp: truncated"),
    /** Data offset below 5. */
    TCP_BAD_HEADER_LENGTH(Type.DROP, "tcp: bad data offset"),
    /** TCP checksum does not verify (MUST-3). */
    TCP_BAD_CHECKSUM(Type.DROP, "tcp: bad checksum"),
    /** Segments handed to the TCP layer. */
    TCP_SEGMENTS_DELIVERED(Type.TRAFFIC, "tcp: segments delivered"),

    /** Outbound frame dropped: no transmit buffer available. */
    TX_NO_BUFFER(Type.DROP, "tx: no transmit buffer"),

    /** Received TCP segments merged into the segment before them by receive coalescing (not delivered alone). */
    RX_SEGMENTS_COALESCED(Type.TRAFFIC, "gro: segments merged into the one before"),
    /** Segments delivered by receive coalescing that were built from two or more received segments. */
    RX_COALESCED_DELIVERED(Type.TRAFFIC, "gro: merged segments delivered");

    /** What a counter measures. */
    public enum Type
    {
        /** Packets or events that went through. */
        TRAFFIC,
        /** Packets dropped, one counter per reason. */
        DROP
    }

    private static final NetCounterDescriptor[] BY_ID = values();

    private final Type type;
    private final String label;

    NetCounterDescriptor(final Type type, final String label)
    {
        this.type = type;
        this.label = label;
    }

    /**
     * Stable id: the index of this counter in a {@link NetCounters}.
     *
     * @return the id.
     */
    public int id()
    {
        return ordinal();
    }

    /**
     * What the counter measures.
     *
     * @return the type.
     */
    public Type type()
    {
        return type;
    }

    /**
     * Human-readable label, e.g. for Agrona's {@code CountersManager} and the stat tool.
     *
     * @return the label.
     */
    public String label()
    {
        return label;
    }

    /**
     * Number of descriptors.
     *
     * @return the count.
     */
    public static int count()
    {
        return BY_ID.length;
    }

    /**
     * Descriptor for an id.
     *
     * @param id 0 .. {@link #count()} - 1.
     * @return the descriptor.
     */
    public static NetCounterDescriptor byId(final int id)
    {
        return BY_ID[id];
    }
}
