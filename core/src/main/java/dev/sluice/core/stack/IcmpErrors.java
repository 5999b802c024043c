package dev.sluice.core.stack;

import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.wire.IcmpHeader;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;

/**
 * ICMP errors for a shard's connections (MUST-54): the quoted header names the connection (addresses and
 * ports, RFC 5927 §4.1), {@link TcpConnection#onIcmpError} checks the quoted sequence number and decides, and
 * every outcome is counted. Single-threaded, no allocation.
 */
final class IcmpErrors
{
    private final TcpStack stack;
    private final ConnectionTable table;
    private final NetworkSegmentOutput output;
    private final TcpStackCounters counters;
    private final Listeners listeners;

    IcmpErrors(
        final TcpStack stack, final ConnectionTable table, final NetworkSegmentOutput output,
        final TcpStackCounters counters, final Listeners listeners)
    {
        this.listeners = listeners;
        this.stack = stack;
        this.table = table;
        this.output = output;
        this.counters = counters;
    }

    void onIcmpError(
        final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
        final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
        final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
    {
        if (quotedTcpLength < 8)
        {
            counters.icmpErrorsIgnored++; // the network layer promises 8 bytes; never read past the quote
            return;
        }
        final int localPort = TcpHeader.sourcePort(buffer, quotedTcpOffset);
        final int remotePort = TcpHeader.destinationPort(buffer, quotedTcpOffset);
        final long key = TcpStack.connectionKey(quotedDestinationIp, remotePort, localPort);
        final ConnectionSlot slot = table.get(key);
        if (slot == null)
        {
            onHalfOpenError(key, errorKind, TcpHeader.sequence(buffer, quotedTcpOffset));
            return;
        }
        if (slot.connection.localIp() != quotedSourceIp)
        {
            counters.icmpErrorsIgnored++;
            return;
        }
        output.nowNs(nowNs);
        final int seq = TcpHeader.sequence(buffer, quotedTcpOffset);
        switch (slot.connection.onIcmpError(errorKind, icmpType, icmpCode, restOfHeader & 0xFFFF, seq, nowNs))
        {
            case TcpConnection.ICMP_PATH_MTU_LOWERED ->
            {
                counters.icmpPathMtuLowered++;
                stack.afterInteraction(slot);
            }
            case TcpConnection.ICMP_OUT_OF_WINDOW -> counters.icmpErrorsOutOfWindow++;
            case TcpConnection.ICMP_SOFT_RECORDED -> counters.icmpSoftErrors++;
            case TcpConnection.ICMP_ABORTED ->
            {
                counters.icmpHardErrorsAborted++;
                stack.afterInteraction(slot);
            }
            default -> counters.icmpErrorsIgnored++;
        }
    }

    // a half-open connection: a hard error quoting our SYN-ACK (SEQ = ISS) drops the record (SHLD-26, as a
    // connection in SYN-RECEIVED is aborted; Linux's tcp_req_err drops the request sock), soft ones are counted
    private void onHalfOpenError(final long key, final int errorKind, final int quotedSeq)
    {
        final SynReceivedTable halfOpen = listeners.halfOpen();
        final int record = halfOpen.find(key);
        if (record < 0)
        {
            counters.icmpErrorsIgnored++;
        }
        else if (quotedSeq != halfOpen.iss(record))
        {
            counters.icmpErrorsOutOfWindow++; // RFC 5927 §4.1: not a segment we sent
        }
        else if (errorKind == IcmpHeader.ERROR_HARD)
        {
            halfOpen.remove(record);
            counters.icmpHardErrorsAborted++;
            counters.synReceivedReset++;
        }
        else
        {
            counters.icmpSoftErrors++; // MUST-56: soft errors never abort
        }
    }
}
