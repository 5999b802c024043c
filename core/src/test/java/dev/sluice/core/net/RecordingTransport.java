package dev.sluice.core.net;

import org.agrona.DirectBuffer;

import java.util.ArrayList;
import java.util.List;

/** A {@link TransportHandler} that records what it was given. */
final class RecordingTransport implements TransportHandler
{
    record Segment(int tcpHeaderLength, int segmentLength, int sourceIp, int destinationIp, int tos, int sourcePort,
        int sequence)
    {
    }

    record IcmpError(int kind, int type, int code, int restOfHeader, int quotedSourceIp, int quotedDestinationIp,
        int quotedTcpLength, int quotedSourcePort, int quotedSequence)
    {
    }

    final List<Segment> segments = new ArrayList<>();
    final List<IcmpError> errors = new ArrayList<>();

    @Override
    public void onTcpSegment(
        final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
        final int sourceIp, final int destinationIp, final int tos, final long nowNs)
    {
        segments.add(new Segment(tcpHeaderLength, segmentLength, sourceIp, destinationIp, tos,
            dev.sluice.core.wire.TcpHeader.sourcePort(buffer, tcpOffset),
            dev.sluice.core.wire.TcpHeader.sequence(buffer, tcpOffset)));
    }

    @Override
    public void onIcmpError(
        final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader, final int quotedSourceIp,
        final int quotedDestinationIp, final DirectBuffer buffer, final int quotedTcpOffset, final int quotedTcpLength,
        final long nowNs)
    {
        errors.add(new IcmpError(errorKind, icmpType, icmpCode, restOfHeader, quotedSourceIp, quotedDestinationIp,
            quotedTcpLength, dev.sluice.core.wire.TcpHeader.sourcePort(buffer, quotedTcpOffset),
            dev.sluice.core.wire.TcpHeader.sequence(buffer, quotedTcpOffset)));
    }
}
