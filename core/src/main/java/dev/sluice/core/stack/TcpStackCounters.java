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
    long largeSegmentsSent;
    long payloadsReferenced;
    long payloadReferencesRefused;
    long connectionsReleased;
    long synsDroppedBacklog;
    long ephemeralPortsExhausted;
    long icmpErrorsOutOfWindow;
    long icmpSoftErrors;
    long icmpHardErrorsAborted;
    long icmpPathMtuLowered;
    long timersScheduled;
    long timersCancelled;
    long timerExpiries;
    long timersFired;
    long connectionsPolled;
    long connectionsRefusedMemory;
    long handlerExceptions;
    long timeWaitEntered;
    long timeWaitRecycled;
    long timeWaitReused;
    long timeWaitSegments;
    long timeWaitAcks;
    long connectionsOpen;
    long payloadChunksInUse;
    long payloadAllocationFailures;
    long payloadBytesReserved;
    long handlerAborts;
    long synCookiesSent;
    long synCookiesAccepted;
    long synCookiesRejected;
    long challengeAcksLimited;
    long synAcksRetransmitted;
    long synReceivedTimedOut;
    long synReceivedReset;
    long synReceivedOverflow;

    /**
     * Connections in the table (gauge, as of the last poll).
     *
     * @return count.
     */
    public long connectionsOpen()
    {
        return connectionsOpen;
    }

    /**
     * Payload chunks held by connections (gauge, as of the last poll).
     *
     * @return chunks.
     */
    public long payloadChunksInUse()
    {
        return payloadChunksInUse;
    }

    /**
     * Payload chunk requests the pool could not satisfy (send back-pressure, out-of-order data dropped).
     *
     * @return count.
     */
    public long payloadAllocationFailures()
    {
        return payloadAllocationFailures;
    }

    /**
     * Direct memory the payload pool has reserved so far (gauge).
     *
     * @return bytes.
     */
    public long payloadBytesReserved()
    {
        return payloadBytesReserved;
    }

    /**
     * Connections that entered TIME-WAIT (a compact record replaced the TCB).
     *
     * @return count.
     */
    public long timeWaitEntered()
    {
        return timeWaitEntered;
    }

    /**
     * TIME-WAIT records ended early because the table was full (oldest first; Linux's tcp_max_tw_buckets).
     *
     * @return count.
     */
    public long timeWaitRecycled()
    {
        return timeWaitRecycled;
    }

    /**
     * SYN-ACKs sent with a SYN cookie because the listener's SYN backlog was full (RFC 4987 §3.6; Linux
     * SyncookiesSent).
     *
     * @return count.
     */
    public long synCookiesSent()
    {
        return synCookiesSent;
    }

    /**
     * ACKs whose SYN cookie was valid: a connection was created ESTABLISHED (Linux SyncookiesRecv).
     *
     * @return count.
     */
    public long synCookiesAccepted()
    {
        return synCookiesAccepted;
    }

    /**
     * ACKs to a listener that had sent cookies recently whose cookie was invalid or too old: answered with a
     * RST like any ACK in LISTEN (Linux SyncookiesFailed).
     *
     * @return count.
     */
    public long synCookiesRejected()
    {
        return synCookiesRejected;
    }

    /**
     * SYN-ACKs of half-open connections (compact SYN-RECEIVED records) sent again: by their retransmission timer
     * (1, 2, 4, 8, 16 s, Linux's tcp_synack_retries = 5) or in answer to a retransmitted SYN.
     *
     * @return count.
     */
    public long synAcksRetransmitted()
    {
        return synAcksRetransmitted;
    }

    /**
     * Half-open connections dropped because no ACK came 32 s after their last SYN-ACK retransmission.
     *
     * @return count.
     */
    public long synReceivedTimedOut()
    {
        return synReceivedTimedOut;
    }

    /**
     * Half-open connections ended by the peer: a RST at RCV.NXT or a new SYN in the window (back to LISTEN,
     * §3.10.7.4), or a hard ICMP error quoting our SYN-ACK.
     *
     * @return count.
     */
    public long synReceivedReset()
    {
        return synReceivedReset;
    }

    /**
     * Handshakes completed while no connection could be made (the connection limit or memory pressure): the ACK
     * is dropped and the record kept, so the SYN-ACK is retransmitted and the peer's data resent (Linux's
     * ListenOverflows).
     *
     * @return count.
     */
    public long synReceivedOverflow()
    {
        return synReceivedOverflow;
    }

    /**
     * Challenge ACKs (RFC 5961 §7) not sent because the shard's allowance per second was spent (gauge, as of
     * the last poll; Linux TCPChallengeACK beyond tcp_challenge_ack_limit).
     *
     * @return count.
     */
    public long challengeAcksLimited()
    {
        return challengeAcksLimited;
    }

    /**
     * 4-tuples in TIME-WAIT reopened by a new SYN above the old sequence space (RFC 6191).
     *
     * @return count.
     */
    public long timeWaitReused()
    {
        return timeWaitReused;
    }

    /**
     * Segments answered by a TIME-WAIT record.
     *
     * @return count.
     */
    public long timeWaitSegments()
    {
        return timeWaitSegments;
    }

    /**
     * ACKs sent by TIME-WAIT records.
     *
     * @return count.
     */
    public long timeWaitAcks()
    {
        return timeWaitAcks;
    }

    /**
     * Exceptions thrown by application handlers (caught by the stack).
     *
     * @return count.
     */
    public long handlerExceptions()
    {
        return handlerExceptions;
    }

    /**
     * Connections aborted (RST) because their application handler threw.
     *
     * @return count.
     */
    public long handlerAborts()
    {
        return handlerAborts;
    }

    /**
     * SYNs dropped and active opens refused because the shard's payload pool was under pressure (fewer free
     * chunks than its reserve): memory is kept for the connections already open.
     *
     * @return count.
     */
    public long connectionsRefusedMemory()
    {
        return connectionsRefusedMemory;
    }

    final dev.sluice.core.tcp.TcpRecoveryCounters recovery = new dev.sluice.core.tcp.TcpRecoveryCounters();

    /**
     * Loss-recovery events of the stack's connections (fast retransmits, SACK recoveries, RTOs, D-SACKs).
     *
     * @return the counters.
     */
    public dev.sluice.core.tcp.TcpRecoveryCounters recovery()
    {
        return recovery;
    }

    /**
     * "Fragmentation needed" messages that lowered a connection's send MSS (RFC 1191).
     *
     * @return count.
     */
    public long icmpPathMtuLowered()
    {
        return icmpPathMtuLowered;
    }

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
     * SYNs or active opens refused because the connection limit (maxConnections) was reached.
     *
     * @return count.
     */
    public long poolExhausted()
    {
        return poolExhausted;
    }

    /**
     * ICMP errors about TCP segments that changed nothing: no connection matches the quote, or
     * fragmentation needed (no path MTU discovery).
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
     * Large segments (several MSS of new data) connections handed over at once by segmentation offload
     * (GSO cut in software, or TSO cut by the device); their frames count in {@link #segmentsSent()}.
     *
     * @return count.
     */
    public long largeSegmentsSent()
    {
        return largeSegmentsSent;
    }

    /**
     * Segments whose payload went to the device by reference to send-buffer memory, not copied (zero-copy
     * transmit); they count in {@link #segmentsSent()} too.
     *
     * @return count.
     */
    public long payloadsReferenced()
    {
        return payloadsReferenced;
    }

    /**
     * Segments the device refused a payload reference for part-way (no mbuf to attach): dropped (counted in
     * {@link #segmentsDropped()} too) for the retransmission timer to recover; one refused before any byte was
     * referenced is copied instead and not counted here.
     *
     * @return count.
     */
    public long payloadReferencesRefused()
    {
        return payloadReferencesRefused;
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

    /**
     * SYNs dropped because their listener already held its backlog of connections in SYN-RECEIVED (like
     * Linux's ListenDrops without SYN cookies).
     *
     * @return count.
     */
    public long synsDroppedBacklog()
    {
        return synsDroppedBacklog;
    }

    /**
     * Active opens refused because no ephemeral port was free (or accepted by the caller's filter).
     *
     * @return count.
     */
    public long ephemeralPortsExhausted()
    {
        return ephemeralPortsExhausted;
    }

    /**
     * ICMP errors whose quoted sequence number was not in [SND.UNA, SND.NXT) of the connection: ignored
     * (RFC 5927 §4.1, blind ICMP attacks; Linux's OutOfWindowIcmps).
     *
     * @return count.
     */
    public long icmpErrorsOutOfWindow()
    {
        return icmpErrorsOutOfWindow;
    }

    /**
     * ICMP soft errors recorded on a connection, never fatal (MUST-56); hard errors on a synchronized
     * connection count here too.
     *
     * @return count.
     */
    public long icmpSoftErrors()
    {
        return icmpSoftErrors;
    }

    /**
     * Connections aborted in SYN-SENT or SYN-RECEIVED by an ICMP hard error (SHLD-26).
     *
     * @return count.
     */
    public long icmpHardErrorsAborted()
    {
        return icmpHardErrorsAborted;
    }

    /**
     * Timers armed in the shard's timer wheel (a deadline that moves later re-uses the armed timer).
     *
     * @return count.
     */
    public long timersScheduled()
    {
        return timersScheduled;
    }

    /**
     * Armed timers cancelled: the deadline moved earlier, or the connection was freed.
     *
     * @return count.
     */
    public long timersCancelled()
    {
        return timersCancelled;
    }

    /**
     * Wheel timers that expired (some early, for a deadline that had moved later: then only re-armed).
     *
     * @return count.
     */
    public long timerExpiries()
    {
        return timerExpiries;
    }

    /**
     * Connection timers that did something when fired (retransmission, TIME-WAIT expiry, ...).
     *
     * @return count.
     */
    public long timersFired()
    {
        return timersFired;
    }

    /**
     * Connections polled from the ready list (only those with a segment, a timer or an application call).
     *
     * @return count.
     */
    public long connectionsPolled()
    {
        return connectionsPolled;
    }
}
