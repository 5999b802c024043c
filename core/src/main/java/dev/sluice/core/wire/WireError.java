package dev.sluice.core.wire;

/**
 * Negative result codes returned by the checked parse entry points ({@code validate} and
 * {@link TcpOptions#parse}). A non-negative result is always a length.
 */
public final class WireError
{
    /** Fewer bytes are available than the header (or the length it declares) needs. */
    public static final int TRUNCATED = -1;
    /** The IPv4 version field is not 4. */
    public static final int BAD_VERSION = -2;
    /** A header length field is below its minimum (IPv4 IHL &lt; 5, TCP data offset &lt; 5). */
    public static final int BAD_HEADER_LENGTH = -3;
    /** The IPv4 total length is smaller than the header length. */
    public static final int BAD_TOTAL_LENGTH = -4;
    /** The checksum does not verify. */
    public static final int BAD_CHECKSUM = -5;
    /** Well-formed but not a format this stack handles (e.g. ARP for a non-Ethernet/IPv4 pair). */
    public static final int UNSUPPORTED = -6;
    /** More stacked VLAN tags than {@link EthernetHeader#MAX_VLAN_TAGS}. */
    public static final int TOO_MANY_VLAN_TAGS = -7;
    /** A TCP option other than EOL/NOP has a length below 2 (RFC 9293 MUST-7, MUST-68). */
    public static final int ILLEGAL_OPTION_LENGTH = -8;
    /** A TCP option (or its length byte) runs past the end of the TCP header. */
    public static final int OPTION_OVERFLOW = -9;

    private WireError()
    {
    }

    /**
     * Describes a result code for logs and test messages (not for the data path).
     *
     * @param code a result of a checked parse.
     * @return a short description; "ok" for non-negative values.
     */
    public static String describe(final int code)
    {
        return switch (code)
        {
            case TRUNCATED -> "truncated";
            case BAD_VERSION -> "bad version";
            case BAD_HEADER_LENGTH -> "bad header length";
            case BAD_TOTAL_LENGTH -> "bad total length";
            case BAD_CHECKSUM -> "bad checksum";
            case UNSUPPORTED -> "unsupported";
            case TOO_MANY_VLAN_TAGS -> "too many VLAN tags";
            case ILLEGAL_OPTION_LENGTH -> "illegal option length";
            case OPTION_OVERFLOW -> "option past header end";
            default -> code >= 0 ? "ok" : "unknown error " + code;
        };
    }
}
