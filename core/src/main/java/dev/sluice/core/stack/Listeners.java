package dev.sluice.core.stack;

import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpState;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * A shard's listening ports and their backlogs: a connection of a listener counts against its backlog while it
 * is in SYN-RECEIVED. Single-threaded; no allocation but the {@link Listener} of {@link #add}.
 */
final class Listeners
{
    private final Int2ObjectHashMap<Listener> byPort = new Int2ObjectHashMap<>();

    static void checkBacklog(final int backlog)
    {
        if (backlog < 1)
        {
            throw new IllegalArgumentException("backlog must be >= 1, got " + backlog);
        }
    }

    // one of acceptor and channelHandler is null; the caller checked the port, backlog and handler
    void add(final int localPort, final TcpAcceptor acceptor, final TcpChannelHandler channelHandler,
        final int backlog)
    {
        if (byPort.containsKey(localPort))
        {
            throw new IllegalStateException("port " + localPort + " already listens");
        }
        byPort.put(localPort, new Listener(acceptor, channelHandler, backlog));
    }

    boolean remove(final int localPort)
    {
        return byPort.remove(localPort) != null;
    }

    Listener get(final int localPort)
    {
        return byPort.get(localPort);
    }

    boolean isListening(final int localPort)
    {
        return byPort.containsKey(localPort);
    }

    int synReceivedCount(final int localPort)
    {
        final Listener listener = byPort.get(localPort);
        return listener == null ? 0 : listener.synReceived;
    }

    // a passive connection takes a place in its listener's backlog until it leaves SYN-RECEIVED
    static void enterBacklog(final ConnectionSlot slot, final Listener listener)
    {
        slot.listener = listener;
        slot.inBacklog = true;
        listener.synReceived++;
    }

    static void leaveBacklogIfSynchronized(final ConnectionSlot slot)
    {
        if (slot.inBacklog && slot.connection.state() != TcpState.SYN_RECEIVED)
        {
            slot.inBacklog = false;
            slot.listener.synReceived--;
        }
    }

    // the connection is freed: its place in the backlog too, if it still held one
    static void leave(final ConnectionSlot slot)
    {
        if (slot.inBacklog)
        {
            slot.inBacklog = false;
            slot.listener.synReceived--;
        }
        slot.listener = null;
    }
}
