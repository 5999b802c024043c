package dev.sluice.core.net;

import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.Ipv4Header;

/**
 * Validated settings of one shard's network layer. Build with {@link #builder()}; every value is
 * checked in {@link Builder#build()}.
 *
 * @param localMac             our MAC address (low 48 bits).
 * @param localIp              our IPv4 address.
 * @param prefixLength         prefix length of the connected subnet, 0..32.
 * @param gatewayIp            default gateway, or 0 for none.
 * @param ttl                  TTL of sent datagrams, 1..255 (MUST-49).
 * @param defaultTos           DSCP/ECN byte used when the sender does not choose one (MUST-48).
 * @param mtu                  IPv4 MTU of the link, 68..9000.
 * @param arpCacheCapacity     number of ARP entries.
 * @param arpPendingFrames     frames that may wait for resolution, all entries together.
 * @param arpPendingPerEntry   frames that may wait for one next hop.
 * @param arpRetryIntervalNs   time between ARP requests for an unanswered entry.
 * @param arpMaxRequests       requests sent before giving up on an entry.
 * @param arpReachableNs       how long an answer is trusted before it is re-confirmed.
 * @param verifyIpv4Checksum   false when the NIC verifies IPv4 header checksums.
 * @param verifyL4Checksum     false when the NIC verifies TCP and ICMP checksums.
 */
public record NetConfig(
    long localMac,
    int localIp,
    int prefixLength,
    int gatewayIp,
    int ttl,
    int defaultTos,
    int mtu,
    int arpCacheCapacity,
    int arpPendingFrames,
    int arpPendingPerEntry,
    long arpRetryIntervalNs,
    int arpMaxRequests,
    long arpReachableNs,
    boolean verifyIpv4Checksum,
    boolean verifyL4Checksum)
{
    /**
     * Checks every value.
     */
    public NetConfig
    {
        require(localMac != 0 && (localMac & ~Addresses.MAC_BROADCAST) == 0 && (localMac & 0x0100_0000_0000L) == 0,
            "localMac must be a non-zero unicast MAC");
        require(localIp != 0, "localIp must be set");
        require(prefixLength >= 0 && prefixLength <= 32, "prefixLength must be 0..32");
        require(ttl >= 1 && ttl <= 255, "ttl must be 1..255");
        require(defaultTos >= 0 && defaultTos <= 255, "defaultTos must be 0..255");
        require(mtu >= 68 && mtu <= 9000, "mtu must be 68..9000");
        require(arpCacheCapacity >= 1 && arpCacheCapacity <= 1 << 16, "arpCacheCapacity must be 1..65536");
        require(arpPendingFrames >= 0 && arpPendingFrames <= 1 << 16, "arpPendingFrames must be 0..65536");
        require(arpPendingPerEntry >= 0, "arpPendingPerEntry must be >= 0");
        require(arpRetryIntervalNs > 0, "arpRetryIntervalNs must be > 0");
        require(arpMaxRequests >= 1, "arpMaxRequests must be >= 1");
        require(arpReachableNs > 0, "arpReachableNs must be > 0");
    }

    /**
     * Netmask of the connected subnet.
     *
     * @return the netmask.
     */
    public int netmask()
    {
        return NextHop.netmask(prefixLength);
    }

    /**
     * Longest frame this layer builds: Ethernet header plus MTU.
     *
     * @return bytes.
     */
    public int maxFrameLength()
    {
        return EthernetHeader.HEADER_LENGTH + mtu;
    }

    /**
     * Largest IPv4 payload (transport header and data) that fits the MTU.
     *
     * @return bytes.
     */
    public int maxIpv4PayloadLength()
    {
        return mtu - Ipv4Header.MIN_HEADER_LENGTH;
    }

    /**
     * A builder with defaults: TTL 64, TOS 0, MTU 1500, 256 ARP entries, 64 pending frames (8 per next
     * hop), ARP retry every second, 3 requests, answers trusted for 60 s, software checksums.
     *
     * @return a new builder.
     */
    public static Builder builder()
    {
        return new Builder();
    }

    private static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Mutable builder of {@link NetConfig}.
     */
    public static final class Builder
    {
        private long localMac;
        private int localIp;
        private int prefixLength = 24;
        private int gatewayIp;
        private int ttl = 64;
        private int defaultTos;
        private int mtu = 1500;
        private int arpCacheCapacity = 256;
        private int arpPendingFrames = 64;
        private int arpPendingPerEntry = 8;
        private long arpRetryIntervalNs = 1_000_000_000L;
        private int arpMaxRequests = 3;
        private long arpReachableNs = 60_000_000_000L;
        private boolean verifyIpv4Checksum = true;
        private boolean verifyL4Checksum = true;

        private Builder()
        {
        }

        /**
         * Sets our MAC.
         *
         * @param mac low 48 bits.
         * @return this.
         */
        public Builder localMac(final long mac)
        {
            this.localMac = mac;
            return this;
        }

        /**
         * Sets our address and subnet.
         *
         * @param ip           our address.
         * @param prefixLength subnet prefix length.
         * @return this.
         */
        public Builder localIp(final int ip, final int prefixLength)
        {
            this.localIp = ip;
            this.prefixLength = prefixLength;
            return this;
        }

        /**
         * Sets the default gateway.
         *
         * @param ip gateway address, 0 for none.
         * @return this.
         */
        public Builder gatewayIp(final int ip)
        {
            this.gatewayIp = ip;
            return this;
        }

        /**
         * Sets the TTL of sent datagrams (MUST-49).
         *
         * @param ttl 1..255.
         * @return this.
         */
        public Builder ttl(final int ttl)
        {
            this.ttl = ttl;
            return this;
        }

        /**
         * Sets the default DSCP/ECN byte (MUST-48).
         *
         * @param tos 0..255.
         * @return this.
         */
        public Builder defaultTos(final int tos)
        {
            this.defaultTos = tos;
            return this;
        }

        /**
         * Sets the MTU.
         *
         * @param mtu 68..9000.
         * @return this.
         */
        public Builder mtu(final int mtu)
        {
            this.mtu = mtu;
            return this;
        }

        /**
         * Sets the ARP cache size and pending-queue bounds.
         *
         * @param capacity        entries.
         * @param pendingFrames   frames waiting for resolution, in total.
         * @param pendingPerEntry frames waiting for one next hop.
         * @return this.
         */
        public Builder arpCapacity(final int capacity, final int pendingFrames, final int pendingPerEntry)
        {
            this.arpCacheCapacity = capacity;
            this.arpPendingFrames = pendingFrames;
            this.arpPendingPerEntry = pendingPerEntry;
            return this;
        }

        /**
         * Sets ARP timing.
         *
         * @param retryIntervalNs time between requests.
         * @param maxRequests     requests before giving up.
         * @param reachableNs     how long an answer is trusted.
         * @return this.
         */
        public Builder arpTiming(final long retryIntervalNs, final int maxRequests, final long reachableNs)
        {
            this.arpRetryIntervalNs = retryIntervalNs;
            this.arpMaxRequests = maxRequests;
            this.arpReachableNs = reachableNs;
            return this;
        }

        /**
         * Sets which checksums are verified in software.
         *
         * @param ipv4 verify IPv4 header checksums.
         * @param l4   verify TCP and ICMP checksums.
         * @return this.
         */
        public Builder verifyChecksums(final boolean ipv4, final boolean l4)
        {
            this.verifyIpv4Checksum = ipv4;
            this.verifyL4Checksum = l4;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the configuration.
         * @throws IllegalArgumentException if a value is out of range.
         */
        public NetConfig build()
        {
            return new NetConfig(localMac, localIp, prefixLength, gatewayIp, ttl, defaultTos, mtu,
                arpCacheCapacity, arpPendingFrames, arpPendingPerEntry, arpRetryIntervalNs, arpMaxRequests,
                arpReachableNs, verifyIpv4Checksum, verifyL4Checksum);
        }
    }
}
