package dev.sluice.core.stack;

import dev.sluice.core.tcp.IsnGenerator;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.function.IntPredicate;

/**
 * The ephemeral local ports of a shard's active opens: RFC 6056 §3.3.3 (algorithm 3), a keyed hash of the
 * local address, remote address and port as offset, plus a counter, over a configurable range. A port is free
 * if it does not listen and its 4-tuple is neither in the connection table nor in TIME-WAIT. Single-threaded,
 * no allocation.
 */
final class EphemeralPorts
{
    private final IsnGenerator isnGenerator;
    private int low = TcpStack.DEFAULT_EPHEMERAL_PORT_LOW;
    private int high = TcpStack.DEFAULT_EPHEMERAL_PORT_HIGH;
    private int next;

    EphemeralPorts(final IsnGenerator isnGenerator)
    {
        this.isnGenerator = isnGenerator;
    }

    // the caller checked both are ports
    void range(final int low, final int high)
    {
        if (high < low)
        {
            throw new IllegalArgumentException("empty port range " + low + ".." + high);
        }
        this.low = low;
        this.high = high;
    }

    // RFC 6056 §3.3.3 (algorithm 3): offset = F(local ip, remote ip, remote port, secret), then a counter
    int select(
        final int localIp, final int remoteIp, final int remotePort, final IntPredicate portFilter,
        final Listeners listeners, final Long2ObjectHashMap<ConnectionSlot> connections, final TimeWaitTable timeWait)
    {
        final int count = high - low + 1;
        final long offset = isnGenerator.nextIsn(localIp, 0, remoteIp, remotePort, 0L) & 0xFFFF_FFFFL;
        for (int i = 0; i < count; i++)
        {
            final int port = low + (int)((offset + (next & 0xFFFF_FFFFL) + i) % count);
            if (!listeners.isListening(port) &&
                !connections.containsKey(TcpStack.connectionKey(remoteIp, remotePort, port)) &&
                timeWait.find(TcpStack.connectionKey(remoteIp, remotePort, port)) < 0 &&
                (portFilter == null || portFilter.test(port)))
            {
                next += i + 1;
                return port;
            }
        }
        return 0;
    }
}
