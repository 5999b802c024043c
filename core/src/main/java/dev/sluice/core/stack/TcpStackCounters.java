package dev.sluice.core.stack;

/**
 * Event counts of one shard's {@link TcpStack} and its {@link NetworkSegmentOutput}. Plain fields written by
 * the shard's thread only; a reader on another thread may see stale values. Nothing here allocates.
 */
public final class TcpStackCounters
{
    long segmentsReceived;
    long segmentsToConnections;
    long resetsToClosedPorts;
    long synsAccepted;
    long poolExhausted;
    long icmpErrorsIgnored;
    long segmentsSent;
    long segmentsDropped;
    long connectionsReleased;

    /**
     * TCP segments handed up by the network layer.
     *
     * @return count.
     */
    public long segmentsReceived()
    {
        return segmentsReceived;
    }

    /**
     * Segments delivered to an existing connection.
     *
     * @return count.
     */
    public long segmentsToConnections()
    {
        return segmentsToConnections;
    }

    /**
     * Resets sent for segments that matched no connection (§3.10.7.1) or an ACK to a listening port.
     *
     * @return count.
     */
    public long resetsToClosedPorts()
    {
        return resetsToClosedPorts;
    }

    /**
     * SYNs to a listening port that created a connection.
     *
     * @return count.
     */
    public long synsAccepted()
    {
        return synsAccepted;
    }

    /**
     * SYNs or active opens refused because every pooled connection was in use.
     *
     * @return count.
     */
    public long poolExhausted()
    {
        return poolExhausted;
    }

    /**
     * ICMP errors about TCP segments, not acted upon yet.
     *
     * @return count.
     */
    public long icmpErrorsIgnored()
    {
        return icmpErrorsIgnored;
    }

    /**
     * Segments handed to the network layer (sent or queued for ARP).
     *
     * @return count.
     */
    public long segmentsSent()
    {
        return segmentsSent;
    }

    /**
     * Segments the network layer refused (no route, no buffer, ARP queue full); retransmission recovers.
     *
     * @return count.
     */
    public long segmentsDropped()
    {
        return segmentsDropped;
    }

    /**
     * Connections that reached CLOSED and went back to the pool.
     *
     * @return count.
     */
    public long connectionsReleased()
    {
        return connectionsReleased;
    }
}
