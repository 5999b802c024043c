package dev.sluice.core.net;

import org.agrona.DirectBuffer;

/**
 * Upcalls from the network layer to the transport (TCP) layer. Buffers are only valid during the call:
 * anything kept must be copied.
 */
public interface TransportHandler
{
    /**
     * A TCP segment for our address, with a validated header (data offset in range) and a verified
     * checksum (MUST-3). Options are not parsed yet: use {@link dev.sluice.core.wire.TcpOptions#parseHeader}.
     *
     * @param buffer          holding the segment.
     * @param tcpOffset       offset of the TCP header.
     * @param tcpHeaderLength TCP header length (20..60).
     * @param segmentLength   header plus payload length (IPv4 total length minus IPv4 header length).
     * @param sourceIp        IPv4 source address (the remote address).
     * @param destinationIp   IPv4 destination address (ours).
     * @param tos             received DSCP/ECN byte (ECN bits for RFC 3168).
     * @param nowNs           the duty cycle's time.
     */
    void onTcpSegment(
        DirectBuffer buffer, int tcpOffset, int tcpHeaderLength, int segmentLength,
        int sourceIp, int destinationIp, int tos, long nowNs);

    /**
     * A TCP segment like {@link #onTcpSegment(DirectBuffer, int, int, int, int, int, int, long)} whose payload is
     * in another buffer than its header (a frame received as an mbuf chain, read in place: zero copy). Only
     * called when {@link #acceptsSplitSegments()}.
     *
     * @param buffer          holding the TCP header.
     * @param tcpOffset       offset of the TCP header.
     * @param tcpHeaderLength TCP header length (20..60).
     * @param segmentLength   header plus payload length.
     * @param payloadBuffer   holding the payload ({@code segmentLength - tcpHeaderLength} bytes).
     * @param payloadOffset   offset of the first payload byte.
     * @param sourceIp        IPv4 source address (the remote address).
     * @param destinationIp   IPv4 destination address (ours).
     * @param tos             received DSCP/ECN byte.
     * @param nowNs           the duty cycle's time.
     */
    default void onTcpSegment(
        DirectBuffer buffer, int tcpOffset, int tcpHeaderLength, int segmentLength, DirectBuffer payloadBuffer,
        int payloadOffset, int sourceIp, int destinationIp, int tos, long nowNs)
    {
        throw new UnsupportedOperationException("this transport reads segments from one buffer only");
    }

    /**
     * Whether {@link #onTcpSegment(DirectBuffer, int, int, int, DirectBuffer, int, int, int, int, long)} may be
     * used.
     *
     * @return false by default.
     */
    default boolean acceptsSplitSegments()
    {
        return false;
    }

    /**
     * An ICMP error about a TCP segment we sent (MUST-54). Source quench never arrives here (MUST-55).
     * The quote holds at least the first 8 bytes of the TCP header (ports and sequence number), which
     * the TCP layer uses to find the connection and check the sequence number is in flight (RFC 5927).
     *
     * @param errorKind           {@link dev.sluice.core.wire.IcmpHeader#ERROR_SOFT} (must not abort, MUST-56),
     *                            {@link dev.sluice.core.wire.IcmpHeader#ERROR_HARD} or
     *                            {@link dev.sluice.core.wire.IcmpHeader#ERROR_FRAGMENTATION_NEEDED}.
     * @param icmpType            ICMP type.
     * @param icmpCode            ICMP code.
     * @param restOfHeader        second word of the ICMP header (next-hop MTU in its low 16 bits for
     *                            fragmentation needed).
     * @param quotedSourceIp      source address of the quoted datagram (ours).
     * @param quotedDestinationIp destination address of the quoted datagram (the remote address).
     * @param buffer              holding the quote.
     * @param quotedTcpOffset     offset of the quoted TCP header.
     * @param quotedTcpLength     bytes of the quoted TCP header available, at least 8.
     * @param nowNs               the duty cycle's time.
     */
    void onIcmpError(
        int errorKind, int icmpType, int icmpCode, int restOfHeader, int quotedSourceIp, int quotedDestinationIp,
        DirectBuffer buffer, int quotedTcpOffset, int quotedTcpLength, long nowNs);
}
