package dev.sluice.core.tcp;

/**
 * The connection states of RFC 9293 §3.3.2, including the fictional CLOSED (no TCB).
 */
public enum TcpState
{
    /** No connection (fictional: there is no TCB). */
    CLOSED("CLOSED"),
    /** Waiting for a connection request from any remote TCP and port (passive OPEN). */
    LISTEN("LISTEN"),
    /** Sent a connection request, waiting for a matching one. */
    SYN_SENT("SYN-SENT"),
    /** Received and sent a connection request, waiting for its acknowledgment. */
    SYN_RECEIVED("SYN-RECEIVED"),
    /** Open: data flows both ways. */
    ESTABLISHED("ESTABLISHED"),
    /** Our FIN sent, waiting for its ACK or the peer's FIN. */
    FIN_WAIT_1("FIN-WAIT-1"),
    /** Our FIN acknowledged, waiting for the peer's FIN. */
    FIN_WAIT_2("FIN-WAIT-2"),
    /** Peer's FIN received, waiting for the local user to close. */
    CLOSE_WAIT("CLOSE-WAIT"),
    /** Both FINs sent, waiting for the ACK of ours. */
    CLOSING("CLOSING"),
    /** Peer closed first; our FIN sent, waiting for its ACK. */
    LAST_ACK("LAST-ACK"),
    /** Active closer waiting 2 * MSL (MUST-13). */
    TIME_WAIT("TIME-WAIT");

    private final String rfcName;

    TcpState(final String rfcName)
    {
        this.rfcName = rfcName;
    }

    /**
     * The state's name as the RFC spells it, e.g. {@code SYN-RECEIVED}.
     *
     * @return the RFC name.
     */
    public String rfcName()
    {
        return rfcName;
    }

    /**
     * Whether this is one of the synchronized states of RFC 9293 §3.10.7.4 (ESTABLISHED and every
     * state after it), in which an unexpected SYN or an in-window RST gets a challenge ACK (RFC 5961).
     *
     * @return true for ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT.
     */
    public boolean isSynchronized()
    {
        return ordinal() >= ESTABLISHED.ordinal();
    }
}
