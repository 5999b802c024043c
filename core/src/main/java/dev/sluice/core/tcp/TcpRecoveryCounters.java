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
}
