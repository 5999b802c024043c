package dev.sluice.core.tcp;

/**
 * Loss-recovery events of the connections that share it (one per stack shard, see
 * {@link TcpConnection#recoveryCounters}): what each mechanism did, for {@code sluice stat}. Plain fields
 * written by the shard's thread only; a reader on another thread may see stale values. Nothing here allocates.
 */
public final class TcpRecoveryCounters
{
    long fastRetransmits;
    long sackRecoveries;
    long retransmissionTimeouts;
    long dsacks;
    long rackLosses;
    long tlpProbes;
    long tlpRepairedLosses;
    long spuriousRetransmissions;
    long spuriousTimeouts;

    /**
     * NewReno fast retransmits (RFC 5681 §3.2, RFC 6582), with peers that do not use SACK.
     *
     * @return count.
     */
    public long fastRetransmits()
    {
        return fastRetransmits;
    }

    /**
     * SACK-based loss recoveries started (RFC 6675).
     *
     * @return count.
     */
    public long sackRecoveries()
    {
        return sackRecoveries;
    }

    /**
     * Retransmission timeouts of data (RFC 6298).
     *
     * @return count.
     */
    public long retransmissionTimeouts()
    {
        return retransmissionTimeouts;
    }

    /**
     * D-SACKs received (RFC 2883): segments a peer got twice, which is how spurious retransmissions show.
     *
     * @return count.
     */
    public long dsacks()
    {
        return dsacks;
    }

    /**
     * Segments RACK deemed lost (RFC 8985 §6.2): sent before a segment that was delivered, and not delivered
     * within RACK.rtt + reo_wnd.
     *
     * @return count.
     */
    public long rackLosses()
    {
        return rackLosses;
    }

    /**
     * Tail loss probes sent (RFC 8985 §7.3).
     *
     * @return count.
     */
    public long tlpProbes()
    {
        return tlpProbes;
    }

    /**
     * Losses a tail loss probe repaired (RFC 8985 §7.4), each answered by a cwnd reduction instead of an RTO.
     *
     * @return count.
     */
    public long tlpRepairedLosses()
    {
        return tlpRepairedLosses;
    }

    /**
     * Retransmissions found spurious: a D-SACK (RFC 2883 §4) for data at or below the highest sequence number
     * retransmitted.
     *
     * @return count.
     */
    public long spuriousRetransmissions()
    {
        return spuriousRetransmissions;
    }

    /**
     * Retransmission timeouts found spurious by their first ACK's timestamp echo (RFC 3522) and undone (RFC 4015).
     *
     * @return count.
     */
    public long spuriousTimeouts()
    {
        return spuriousTimeouts;
    }
}
