package dev.sluice.core.stack;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;

import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpSegment;
import dev.sluice.core.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * One shard's TCP: demultiplexes segments from the {@link NetworkLayer} to connections, accepts SYNs on
 * listening ports, answers segments for which no connection exists, and drives every connection's timers
 * and output once per duty cycle.
 *
 * <ul>
 *   <li>Connections are keyed by (remote ip, remote port, local port) in a primitive map; the local
 *       address is the shard's one address.</li>
 *   <li>All connections are preallocated in a bounded pool (with their send and reassembly buffers); a SYN
 *       or an active open that finds the pool empty is dropped and counted. A connection that reaches
 *       CLOSED returns to the pool.</li>
 *   <li>A SYN to a listening port with no connection takes a pooled connection, puts it in LISTEN and feeds
 *       it the SYN (§3.10.7.2); other segments to a listening port: an ACK gets {@code <SEQ=SEG.ACK><CTL=RST>},
 *       the rest is dropped. Segments for closed ports get the reply of §3.10.7.1.</li>
 *   <li>{@link #poll} is called once per duty cycle after every segment of the burst (MUST-58, MUST-59):
 *       it fires due timers, then lets each connection send data and one aggregated ACK.</li>
 * </ul>
 * Single-threaded; no allocation per segment (the map may resize only when connections are added).
 */
public final class TcpStack implements TransportHandler
{
    private final TcpConfig config;
    private final NetworkSegmentOutput output;
    private final TcpStackCounters counters;
    private final TcpSegment segment = new TcpSegment();
    private final Long2ObjectHashMap<Slot> connections;
    private final Int2ObjectHashMap<TcpAcceptor> listeners = new Int2ObjectHashMap<>();
    private final Slot[] free;
    private final Slot[] active;
    private int freeCount;
    private int activeCount;

    /**
     * Creates the stack and its pool of {@code maxConnections} connections (all memory is allocated here).
     *
     * @param config         validated TCP settings.
     * @param isnGenerator   the shard's ISN source.
     * @param output         the shard's segment output; {@link NetworkSegmentOutput#bind} it to the network
     *                       layer before traffic flows.
     * @param counters       where events are counted (the same holder the output counts into).
     * @param maxConnections most simultaneous connections, listeners' and active opens' together, &gt;= 1.
     */
    public TcpStack(
        final TcpConfig config, final IsnGenerator isnGenerator, final NetworkSegmentOutput output,
        final TcpStackCounters counters, final int maxConnections)
    {
        if (maxConnections < 1)
        {
            throw new IllegalArgumentException("maxConnections must be >= 1, got " + maxConnections);
        }
        this.config = config;
        this.output = output;
        this.counters = counters;
        this.connections = new Long2ObjectHashMap<>(Math.max(8, maxConnections * 2), 0.65f);
        this.free = new Slot[maxConnections];
        this.active = new Slot[maxConnections];
        for (int i = 0; i < maxConnections; i++)
        {
            final Slot slot = new Slot();
            slot.connection = new TcpConnection(config, isnGenerator, output, slot);
            free[i] = slot;
        }
        freeCount = maxConnections;
    }

    /**
     * Creates the stack with {@link TcpConfig#backlog()} pooled connections.
     *
     * @param config       validated TCP settings.
     * @param isnGenerator the shard's ISN source.
     * @param output       the shard's segment output.
     * @param counters     where events are counted.
     */
    public TcpStack(
        final TcpConfig config, final IsnGenerator isnGenerator, final NetworkSegmentOutput output,
        final TcpStackCounters counters)
    {
        this(config, isnGenerator, output, counters, config.backlog());
    }

    /**
     * The key of a connection in the table: remote ip, remote port, local port.
     *
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param localPort  our port.
     * @return the key.
     */
    public static long connectionKey(final int remoteIp, final int remotePort, final int localPort)
    {
        return ((long)remoteIp << 32) | ((long)(remotePort & 0xFFFF) << 16) | (localPort & 0xFFFF);
    }

    /**
     * Passive OPEN on a port (§3.10.1): every SYN to it with no existing connection creates one.
     *
     * @param localPort our port, 1..65535.
     * @param acceptor  gives the handler of each new connection.
     * @throws IllegalStateException if the port already listens.
     */
    public void listen(final int localPort, final TcpAcceptor acceptor)
    {
        if (localPort < 1 || localPort > 0xFFFF)
        {
            throw new IllegalArgumentException("localPort must be 1..65535, got " + localPort);
        }
        if (listeners.containsKey(localPort))
        {
            throw new IllegalStateException("port " + localPort + " already listens");
        }
        listeners.put(localPort, acceptor);
    }

    /**
     * Stops accepting new connections on a port; existing connections are not affected.
     *
     * @param localPort our port.
     * @return true if the port was listening.
     */
    public boolean stopListening(final int localPort)
    {
        return listeners.remove(localPort) != null;
    }

    /**
     * Active OPEN (§3.10.1): takes a pooled connection and sends the SYN.
     *
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param localPort  our port, chosen by the caller.
     * @param handler    where the connection's data and events go.
     * @param nowNs      the duty cycle's time.
     * @return the connection (in SYN-SENT), or null if the pool is exhausted or the tuple is in use.
     */
    public TcpConnection connect(
        final int remoteIp, final int remotePort, final int localPort, final TcpReceiveHandler handler,
        final long nowNs)
    {
        final long key = connectionKey(remoteIp, remotePort, localPort);
        if (connections.containsKey(key))
        {
            return null;
        }
        final Slot slot = takeSlot();
        if (slot == null)
        {
            return null;
        }
        output.nowNs(nowNs);
        slot.delegate = handler;
        activate(slot, key);
        slot.connection.connect(output.networkLayer().localIp(), localPort, remoteIp, remotePort, nowNs);
        return slot.connection;
    }

    @Override
    public void onTcpSegment(
        final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
        final int sourceIp, final int destinationIp, final int tos, final long nowNs)
    {
        counters.segmentsReceived++;
        output.nowNs(nowNs);
        final TcpSegment segment = this.segment.wrap(
            buffer, tcpOffset, tcpHeaderLength, segmentLength, sourceIp, destinationIp);
        final long key = connectionKey(sourceIp, segment.sourcePort(), segment.destinationPort());
        final Slot slot = connections.get(key);
        if (slot != null)
        {
            counters.segmentsToConnections++;
            slot.connection.onSegment(segment, nowNs);
            releaseIfDone(slot);
            return;
        }
        final TcpAcceptor acceptor = listeners.get(segment.destinationPort());
        if (acceptor == null)
        {
            if (TcpConnection.replyToClosedPort(segment, output))
            {
                counters.resetsToClosedPorts++;
            }
            return;
        }
        if ((segment.flags() & (SYN | ACK | RST)) == SYN)
        {
            accept(acceptor, key, segment, destinationIp, nowNs);
        }
        else if (segment.has(ACK) && !segment.has(RST))
        {
            // §3.10.7.2 second: any acknowledgment is bad in LISTEN, <SEQ=SEG.ACK><CTL=RST>
            TcpConnection.replyToClosedPort(segment, output);
            counters.resetsToClosedPorts++;
        }
        // §3.10.7.2: a RST is ignored, anything else without SYN is dropped
    }

    private void accept(
        final TcpAcceptor acceptor, final long key, final TcpSegment segment, final int localIp, final long nowNs)
    {
        final Slot slot = takeSlot();
        if (slot == null)
        {
            return; // the peer retransmits its SYN; maybe a connection is free by then
        }
        counters.synsAccepted++;
        final TcpConnection connection = slot.connection;
        connection.listen(localIp, segment.destinationPort());
        final TcpReceiveHandler handler = acceptor.onAccept(connection);
        slot.delegate = handler != null ? handler : TcpReceiveHandler.DISCARD;
        activate(slot, key);
        connection.onSegment(segment, nowNs);
        releaseIfDone(slot);
    }

    @Override
    public void onIcmpError(
        final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
        final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
        final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
    {
        counters.icmpErrorsIgnored++; // MUST-54 reactions (RFC 5927) are not implemented yet
    }

    /**
     * The duty cycle's TCP work, after all received segments of the burst: for each connection, fires its
     * timers if due, then sends queued data, FIN and at most one aggregated ACK (MUST-59). Connections that
     * reached CLOSED return to the pool.
     *
     * @param nowNs the duty cycle's time.
     * @return work done: timers fired plus segments sent (0 when idle).
     */
    public int poll(final long nowNs)
    {
        output.nowNs(nowNs);
        int work = 0;
        // backwards, so that releasing a connection (which moves the last one into its place) skips nothing
        for (int i = activeCount - 1; i >= 0; i--)
        {
            final Slot slot = active[i];
            final TcpConnection connection = slot.connection;
            final long deadlineNs = connection.nextDeadlineNs();
            if (deadlineNs != TcpConnection.NO_DEADLINE && nowNs - deadlineNs >= 0)
            {
                work += connection.onTimer(nowNs);
            }
            work += connection.poll(nowNs);
            work += releaseIfDone(slot);
        }
        return work;
    }

    /**
     * The connection for a tuple, if any.
     *
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param localPort  our port.
     * @return the connection or null.
     */
    public TcpConnection connection(final int remoteIp, final int remotePort, final int localPort)
    {
        final Slot slot = connections.get(connectionKey(remoteIp, remotePort, localPort));
        return slot == null ? null : slot.connection;
    }

    /**
     * Connections in the table (not CLOSED).
     *
     * @return count.
     */
    public int connectionCount()
    {
        return activeCount;
    }

    /**
     * Pooled connections not in use.
     *
     * @return count.
     */
    public int freeConnections()
    {
        return freeCount;
    }

    /**
     * The TCP settings.
     *
     * @return the configuration.
     */
    public TcpConfig config()
    {
        return config;
    }

    /**
     * This shard's TCP counters.
     *
     * @return the counters.
     */
    public TcpStackCounters counters()
    {
        return counters;
    }

    private Slot takeSlot()
    {
        if (freeCount == 0)
        {
            counters.poolExhausted++;
            return null;
        }
        final Slot slot = free[--freeCount];
        free[freeCount] = null;
        return slot;
    }

    private void activate(final Slot slot, final long key)
    {
        slot.key = key;
        slot.activeIndex = activeCount;
        active[activeCount++] = slot;
        connections.put(key, slot);
    }

    // A passive connection reset in SYN-RECEIVED goes back to LISTEN (§3.10.7.4 second); here listening is
    // the stack's job, so such a connection is closed and freed like one that reached CLOSED.
    private int releaseIfDone(final Slot slot)
    {
        final TcpState state = slot.connection.state();
        if (state == TcpState.LISTEN)
        {
            slot.connection.close();
        }
        else if (state != TcpState.CLOSED)
        {
            return 0;
        }
        connections.remove(slot.key);
        final int index = slot.activeIndex;
        final Slot last = active[--activeCount];
        active[index] = last;
        last.activeIndex = index;
        active[activeCount] = null;
        slot.delegate = TcpReceiveHandler.DISCARD;
        slot.activeIndex = -1;
        free[freeCount++] = slot;
        counters.connectionsReleased++;
        return 1;
    }

    /**
     * A pooled connection and the handler it currently forwards to: a connection's handler is fixed at
     * construction, so the pool gives each connection this forwarder and swaps the target on reuse.
     */
    private static final class Slot implements TcpReceiveHandler
    {
        TcpConnection connection;
        TcpReceiveHandler delegate = TcpReceiveHandler.DISCARD;
        long key;
        int activeIndex = -1;

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            return delegate.onData(buffer, offset, length);
        }

        @Override
        public void onEstablished()
        {
            delegate.onEstablished();
        }

        @Override
        public void onWritable()
        {
            delegate.onWritable();
        }

        @Override
        public void onPeerClosed()
        {
            delegate.onPeerClosed();
        }

        @Override
        public void onUrgent(final int urgentBytesAhead)
        {
            delegate.onUrgent(urgentBytesAhead);
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            delegate.onClosed(reason);
        }
    }
}
