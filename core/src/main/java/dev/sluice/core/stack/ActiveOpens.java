package dev.sluice.core.stack;

import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpReceiveHandler;

import java.util.function.IntPredicate;

/**
 * A shard's active OPENs (§3.10.1): a pooled connection put in SYN-SENT for a 4-tuple not in use, and the
 * ephemeral local port it takes when the caller names none ({@link EphemeralPorts}). Single-threaded; no
 * allocation.
 */
final class ActiveOpens
{
    private final ConnectionTable table;
    private final NetworkSegmentOutput output;
    private final TcpStackCounters counters;
    private final EphemeralPorts ports;
    private final Listeners listeners;

    ActiveOpens(
        final ConnectionTable table, final NetworkSegmentOutput output, final TcpStackCounters counters,
        final EphemeralPorts ports, final Listeners listeners)
    {
        this.table = table;
        this.output = output;
        this.counters = counters;
        this.ports = ports;
        this.listeners = listeners;
    }

    static void checkPort(final int port, final String name)
    {
        if (port < 1 || port > 0xFFFF)
        {
            throw new IllegalArgumentException(name + " must be 1..65535, got " + port);
        }
    }

    EphemeralPorts ports()
    {
        return ports;
    }

    // §3.10.1 active OPEN into a pooled connection, or null (pool exhausted, tuple in use); one of
    // channelHandler and delegate is null
    ConnectionSlot open(
        final int remoteIp, final int remotePort, final int localPort, final TcpChannelHandler channelHandler,
        final Object attachment, final TcpReceiveHandler delegate, final long nowNs)
    {
        checkPort(remotePort, "remotePort");
        checkPort(localPort, "localPort");
        final long key = TcpStack.connectionKey(remoteIp, remotePort, localPort);
        final ConnectionSlot slot = table.contains(key) ? null : table.take();
        if (slot == null)
        {
            return null;
        }
        output.nowNs(nowNs);
        slot.handler = channelHandler;
        slot.attachment = attachment;
        if (channelHandler == null)
        {
            slot.delegate = delegate != null ? delegate : TcpReceiveHandler.DISCARD;
        }
        table.activate(slot, key);
        slot.connection.connect(output.networkLayer().localIp(), localPort, remoteIp, remotePort, nowNs);
        table.markReady(slot); // its timer is armed at the next poll
        return slot;
    }

    // an ephemeral port, or 0 if the pool is exhausted or no acceptable port is free (counted)
    int ephemeralPort(
        final int remoteIp, final int remotePort, final IntPredicate portFilter, final TimeWaitTable timeWait)
    {
        checkPort(remotePort, "remotePort");
        if (!table.mayOpen())
        {
            return 0;
        }
        final int port = ports.select(output.networkLayer().localIp(), remoteIp, remotePort, portFilter,
            listeners, table.map(), timeWait);
        if (port == 0)
        {
            counters.ephemeralPortsExhausted++;
        }
        return port;
    }
}
