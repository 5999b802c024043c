package dev.sluice.driver;

/**
 * The runtime's own counters of one shard (one rx/tx queue pair), next to the network layer's and TCP's:
 * defined once as data, published into the counters file.
 */
public enum ShardCounterDescriptor
{
    /** Frames taken from this shard's rx queue. */
    RX_FRAMES("rx: frames received on the queue"),
    /** Frames the tx queue took. */
    TX_FRAMES("tx: frames sent on the queue"),
    /** Frames the tx queue did not take after retries (freed). */
    TX_DROPPED("tx: frames dropped, queue and backlog full"),
    /** Frames not built because no mbuf was available. */
    TX_NO_MBUF("tx: frames not built, no mbuf"),
    /** Chained (multi-mbuf) frames dropped: longer than any frame the shard takes. */
    RX_MULTI_SEGMENT_DROPPED("rx: multi-segment frames dropped, longer than any frame taken"),
    /** Frames received here that belong to another shard's flow, copied into its ring. */
    HANDOFF_OUT("steering: frames handed to their owner shard"),
    /** Frames another shard handed to this one. */
    HANDOFF_IN("steering: frames received from other shards"),
    /** Hand-offs refused because the owner's ring was full. */
    HANDOFF_DROPPED("steering: frames dropped, owner ring full"),
    /** Commands from application threads run by this shard. */
    COMMANDS("commands executed"),
    /** Longest duty cycle that did work, in nanoseconds. */
    DUTY_CYCLE_MAX_NS("duty cycle: longest busy cycle (ns)"),
    /** Connections in this shard's table. */
    CONNECTIONS("tcp: connections open"),
    /** Bytes the application received. */
    APP_BYTES_IN("app: bytes received"),
    /** Bytes the application handed to TCP. */
    APP_BYTES_OUT("app: bytes sent"),
    /** Connections the application accepted or opened. */
    APP_CONNECTIONS("app: connections"),
    /** Frames of an in-memory link whose partial checksums this shard trusted (not verified: never on a wire). */
    RX_PARTIAL_CHECKSUMS_TRUSTED("rx: in-memory frames, partial checksums trusted"),
    /** Frames of an in-memory link whose partial checksums this shard completed in software before use. */
    RX_PARTIAL_CHECKSUMS_COMPLETED("rx: in-memory frames, partial checksums completed"),
    /**
     * Time spent in duty cycles that did work (ns; the rest of the thread's time was polling empty queues): its
     * growth over wall time is the shard's load, as DPDK's lcore busy percentage.
     */
    BUSY_NS("duty cycle: time in busy cycles (ns)"),
    /** The most frames ever held for a full tx queue ({@code DpdkFrameTransmitter.BACKLOG} at most). */
    TX_BACKLOG_HIGH_WATER("tx: most frames held for a full queue"),
    /** Frames that arrived as an mbuf chain (e.g. zero-copy frames over net_ring), copied into one buffer. */
    RX_CHAINS_LINEARIZED("rx: multi-segment frames linearized"),
    /** Frames sent with their payload by reference to send-buffer memory (zero-copy transmit). */
    TX_FRAMES_REFERENCED("tx: frames with payload by reference (zero-copy)"),
    /** References zero-copy transmit could not take (attach mempool empty): copied or dropped. */
    TX_ATTACH_FAILURES("tx: zero-copy references refused, no mbuf"),
    /** Chunks freed (acknowledged) while an mbuf still referred to them: reused only once let go. */
    TX_CHUNKS_DEFERRED("tx: acknowledged chunks deferred, still referenced"),
    /** Chained frames read in place: headers in the first mbuf, the TCP payload contiguous in the others. */
    RX_CHAINS_READ_IN_PLACE("rx: multi-segment frames read in place");

    private final String label;

    ShardCounterDescriptor(final String label)
    {
        this.label = label;
    }

    /**
     * @return the label in the counters file.
     */
    public String label()
    {
        return label;
    }
}
