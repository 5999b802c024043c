package dev.sluice.core.stack;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.SynCookies;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpSegment;
import dev.sluice.core.tcp.TcpState;
import org.agrona.DirectBuffer;

import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * One shard's TCP: demultiplexes segments from the {@link NetworkLayer} to connections, accepts SYNs on
 * listening ports, answers segments for which no connection exists, reacts to ICMP errors, and drives the
 * connections' timers and output once per duty cycle.
 *
 * <ul>
 *   <li>Connections are keyed by (remote ip, remote port, local port) in a primitive map; the local
 *       address is the shard's one address.</li>
 *   <li>Memory on demand: a connection (a compact TCB) is created when a SYN or an active open first needs one,
 *       up to {@code maxConnections}, and returns to a free list when it reaches CLOSED; payload storage comes
 *       from the shard's {@link ChunkPool} only while bytes are buffered. A SYN or an active open beyond the
 *       limit, or while the pool is under pressure (fewer free chunks than its reserve), is refused and
 *       counted ({@link TcpStackCounters#poolExhausted()}, {@link TcpStackCounters#connectionsRefusedMemory()}):
 *       the SYN is dropped without a reply, as Linux drops a SYN it has no memory for, and the peer
 *       retransmits it.</li>
 *   <li>A SYN to a listening port with no connection becomes a compact SYN-RECEIVED record (§3.10.7.2; about
 *       50 bytes, Linux's request sock; SYN-ACK retransmitted after 1, 2, 4, 8, 16 s, dropped 32 s later) and the
 *       segment that completes the handshake makes the connection, unless the listener already holds its
 *       backlog of half-open connections: then the SYN is answered with a SYN cookie and nothing is kept
 *       (RFC 4987 §3.6, Linux's tcp_syncookies=1; {@link #synCookies(boolean)}), or dropped and counted when
 *       cookies are off. Other segments to a listening port: an ACK returning a valid cookie creates the
 *       connection, any other ACK gets {@code <SEQ=SEG.ACK><CTL=RST>}, the rest is dropped. Segments for closed
 *       ports get the reply of §3.10.7.1.</li>
 *   <li>Active opens name their local port or take an ephemeral one ({@link #connect(int, int,
 *       TcpReceiveHandler, long, IntPredicate)}, RFC 6056 algorithm 3 over {@link #ephemeralPorts(int, int)}).</li>
 *   <li>ICMP errors (MUST-54) are matched to a connection by the quoted header and handed to
 *       {@link TcpConnection#onIcmpError}, which checks the quoted sequence number (RFC 5927) and decides.</li>
 * </ul>
 *
 * <h2>Timers and the ready list</h2>
 * {@link #poll} runs once per duty cycle after every segment of the burst (MUST-58, MUST-59): it fires the
 * connection timers that are due (one wheel per shard, see {@code ConnectionTimers}) and polls only the
 * connections on the ready list (those that received a segment, had a timer fire, were opened, or that the
 * application touched; {@link #wake} for calls the stack cannot notice by itself).
 * Single-threaded; no allocation per segment, timer or poll (the wheel grows only if more timers than it
 * was sized for fall in one tick).
 */
public final class TcpStack implements TransportHandler
{
    /** Resolution of the timer wheel: 2^20 ns, about 1.05 ms. */
    public static final long TIMER_TICK_NS = 1L << 20;
    /** Ticks per turn of the timer wheel (about 1.07 s per turn). */
    public static final int TIMER_TICKS_PER_WHEEL = 1024;
    /** Default SYN backlog of a listener, when the connection limit is higher: Linux's somaxconn (4096). */
    public static final int DEFAULT_SYN_BACKLOG = 4096;
    /** Lowest ephemeral port by default (Linux {@code ip_local_port_range}). */
    public static final int DEFAULT_EPHEMERAL_PORT_LOW = 32_768;
    /** Highest ephemeral port by default (Linux {@code ip_local_port_range}). */
    public static final int DEFAULT_EPHEMERAL_PORT_HIGH = 60_999;

    private static final int MIN_TIME_WAIT_RECORDS = 4096;
    private static final int MIN_HALF_OPEN_RECORDS = 16;
    private static final int MAX_HALF_OPEN_RECORDS = 1 << 20;

    private final TcpConfig config;
    private final IsnGenerator isnGenerator;
    private final NetworkSegmentOutput output;
    private final TcpStackCounters counters;
    private final TcpSegment segment = new TcpSegment();
    private final ConnectionTable table;
    private final Listeners listeners;
    private final ChunkPool pool;
    private final int maxConnections;
    private final ConnectionTimers timers;
    final HandlerFailures handlerFailures;
    private final ChallengeAckLimiter challengeAcks;
    private final IcmpErrors icmpErrors;
    private TimeWaitTable timeWait;
    private boolean compactTimeWait = true;
    private int synBacklog = DEFAULT_SYN_BACKLOG;
    final ShardThread thread = new ShardThread();
    private final ActiveOpens activeOpens;

    /**
     * Creates the stack with a payload pool big enough for {@code maxConnections} full buffers (reserved only as
     * data is buffered, 1 GiB at most).
     *
     * @param config         validated TCP settings.
     * @param isnGenerator   the shard's ISN source (its keyed hash also picks ephemeral ports).
     * @param output         the shard's segment output; {@link NetworkSegmentOutput#bind} it to the network
     *                       layer before traffic flows.
     * @param counters       where events are counted (the same holder the output counts into).
     * @param maxConnections most simultaneous connections, listeners' and active opens' together, &gt;= 1.
     */
    public TcpStack(
        final TcpConfig config, final IsnGenerator isnGenerator, final NetworkSegmentOutput output,
        final TcpStackCounters counters, final int maxConnections)
    {
        this(config, isnGenerator, output, counters, maxConnections, ChunkPool.ofBudget(Math.min(1L << 30,
            (long)Math.max(1, maxConnections) * (config.sendBufferBytes() + config.receiveBufferBytes() +
            2L * ChunkPool.DEFAULT_CHUNK_BYTES))));
    }

    /**
     * Creates the stack. Nothing per connection is allocated here: connections are created on first need (up
     * to {@code maxConnections}) and reused; their payload storage comes from {@code pool} while they hold
     * bytes.
     *
     * @param config         validated TCP settings.
     * @param isnGenerator   the shard's ISN source (its keyed hash also picks ephemeral ports).
     * @param output         the shard's segment output; {@link NetworkSegmentOutput#bind} it to the network
     *                       layer before traffic flows.
     * @param counters       where events are counted (the same holder the output counts into).
     * @param maxConnections most simultaneous connections, listeners' and active opens' together, &gt;= 1.
     * @param pool           the shard's payload memory.
     */
    public TcpStack(
        final TcpConfig config, final IsnGenerator isnGenerator, final NetworkSegmentOutput output,
        final TcpStackCounters counters, final int maxConnections, final ChunkPool pool)
    {
        if (maxConnections < 1)
        {
            throw new IllegalArgumentException("maxConnections must be >= 1, got " + maxConnections);
        }
        this.config = config;
        this.isnGenerator = isnGenerator;
        this.output = output;
        this.counters = counters;
        this.pool = pool;
        this.maxConnections = maxConnections;
        this.handlerFailures = new HandlerFailures(counters);
        this.challengeAcks = new ChallengeAckLimiter(ChallengeAckLimiter.DEFAULT_PER_SECOND,
            isnGenerator.nextIsn(0, 0, 0, 0, 0L) & 0x3FFF_FFFFL);
        output.challengeAckLimiter(challengeAcks); // live connections and TIME-WAIT records share it
        this.timeWait = new TimeWaitTable(counters, challengeAcks, isnGenerator,
            Math.max(maxConnections, MIN_TIME_WAIT_RECORDS));
        this.table = new ConnectionTable(this, config, isnGenerator, output, counters, maxConnections, pool);
        this.listeners = new Listeners(this, table, output, counters, handlerFailures,
            new SynCookies(config, isnGenerator), new SynReceivedTable(config, isnGenerator, output, counters,
            challengeAcks, Math.max(MIN_HALF_OPEN_RECORDS, Math.min(maxConnections, MAX_HALF_OPEN_RECORDS)),
            SynReceivedTable.DEFAULT_SYN_ACK_RETRIES));
        this.activeOpens = new ActiveOpens(table, output, counters, new EphemeralPorts(isnGenerator), listeners);
        this.timers = new ConnectionTimers(counters, table);
        this.icmpErrors = new IcmpErrors(this, table, output, counters, listeners);
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
     * Passive OPEN on a port (§3.10.1) with the default SYN backlog: {@link #synBacklog(int)}, at most the
     * connection limit.
     *
     * @param localPort our port, 1..65535.
     * @param acceptor  gives the handler of each new connection.
     * @throws IllegalStateException if the port already listens.
     */
    public void listen(final int localPort, final TcpAcceptor acceptor)
    {
        listen(localPort, acceptor, Math.min(maxConnections, synBacklog));
    }

    /**
     * Passive OPEN on a port (§3.10.1): every SYN to it with no existing connection becomes a half-open
     * connection (a compact SYN-RECEIVED record), as long as fewer than {@code backlog} of this listener's are
     * half-open; SYNs beyond that get a SYN cookie (see {@link #synCookies(boolean)}). The connection is made,
     * and {@code acceptor} asked for its handler, when the handshake completes.
     *
     * @param localPort our port, 1..65535.
     * @param acceptor  gives the handler of each new connection.
     * @param backlog   most half-open connections of this listener at once, &gt;= 1.
     * @throws IllegalStateException if the port already listens.
     */
    public void listen(final int localPort, final TcpAcceptor acceptor, final int backlog)
    {
        ActiveOpens.checkPort(localPort, "localPort");
        Listeners.checkBacklog(backlog);
        if (acceptor == null)
        {
            throw new NullPointerException("acceptor");
        }
        listeners.add(localPort, acceptor, null, backlog);
    }

    /**
     * Passive OPEN on a port for channel handlers (§3.10.1) with the default SYN backlog
     * ({@link #synBacklog(int)}, at most the connection limit): see {@link #listen(int, TcpChannelHandler, int)}.
     *
     * @param localPort our port, 1..65535.
     * @param handler   receives {@link TcpChannelHandler#onAccept} for every completed handshake on the port,
     *                  then (unless it installs another) every callback of the accepted connections.
     * @throws IllegalStateException if the port already listens.
     * @throws WrongThreadException  if called from another thread than the shard's (once it ran).
     */
    public void listen(final int localPort, final TcpChannelHandler handler)
    {
        listen(localPort, handler, Math.min(maxConnections, synBacklog));
    }

    /**
     * Passive OPEN on a port for channel handlers (§3.10.1): when a handshake on the port completes, a pooled
     * connection is taken and {@code handler.onAccept(channel)} asked, with the peer's address and port known,
     * before the connection is ESTABLISHED; a refusal answers the completing segment with a RST (as a Linux
     * server that accepts and closes at once; counted with {@link TcpStackCounters#resetsToClosedPorts()}). Until
     * then the connection is a compact SYN-RECEIVED record that no handler sees. The backlog works as in
     * {@link #listen(int, TcpAcceptor, int)}.
     *
     * @param localPort our port, 1..65535.
     * @param handler   the listener's handler.
     * @param backlog   most half-open connections of this listener at once, &gt;= 1.
     * @throws IllegalStateException if the port already listens.
     * @throws WrongThreadException  if called from another thread than the shard's (once it ran).
     */
    public void listen(final int localPort, final TcpChannelHandler handler, final int backlog)
    {
        thread.check();
        ActiveOpens.checkPort(localPort, "localPort");
        Listeners.checkBacklog(backlog);
        if (handler == null)
        {
            throw new NullPointerException("handler");
        }
        listeners.add(localPort, null, handler, backlog);
    }

    /**
     * Active OPEN of a channel (§3.10.1) from a given local port: takes a pooled connection and sends the SYN
     * at the end of the duty cycle; {@link TcpChannelHandler#onEstablished} follows the handshake, or
     * {@link TcpChannelHandler#onClosed} its failure.
     *
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param localPort  our port.
     * @param handler    the connection's handler.
     * @param attachment the channel's initial attachment, or null.
     * @param nowNs      the duty cycle's time.
     * @return the channel (in SYN-SENT), or null if the pool is exhausted or the tuple is in use.
     * @throws WrongThreadException if called from another thread than the shard's (once it ran).
     */
    public TcpChannel open(
        final int remoteIp, final int remotePort, final int localPort, final TcpChannelHandler handler,
        final Object attachment, final long nowNs)
    {
        thread.check();
        if (handler == null)
        {
            throw new NullPointerException("handler");
        }
        return activeOpens.open(remoteIp, remotePort, localPort, handler, attachment, null, nowNs);
    }

    /**
     * Active OPEN of a channel from the stack's one ephemeral-port allocator (RFC 6056 algorithm 3, see
     * {@link #connect(int, int, TcpReceiveHandler, long, IntPredicate)}), restricted to ports
     * {@code portFilter} accepts (e.g. those whose flow hash maps to this shard).
     *
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param handler    the connection's handler.
     * @param attachment the channel's initial attachment, or null.
     * @param nowNs      the duty cycle's time.
     * @param portFilter accepts a candidate local port; null accepts all.
     * @return the channel (in SYN-SENT), or null if the pool is exhausted or no acceptable port is free.
     * @throws WrongThreadException if called from another thread than the shard's (once it ran).
     */
    public TcpChannel open(
        final int remoteIp, final int remotePort, final TcpChannelHandler handler, final Object attachment,
        final long nowNs, final IntPredicate portFilter)
    {
        thread.check();
        final int localPort = activeOpens.ephemeralPort(remoteIp, remotePort, portFilter, timeWait);
        return localPort == 0 ? null : open(remoteIp, remotePort, localPort, handler, attachment, nowNs);
    }

    /**
     * Binds the stack to the thread that runs its duty cycle: channel calls from any other thread then throw
     * {@link WrongThreadException}. Without this call, the first thread that runs {@link #poll} is bound.
     *
     * @param thread the shard's thread, or null to unbind (the next {@link #poll} binds again).
     */
    public void ownerThread(final Thread thread)
    {
        this.thread.bind(thread);
    }

    /**
     * @return the thread channel calls must come from, or null before the first {@link #poll}.
     */
    public Thread ownerThread()
    {
        return thread.owner();
    }

    /**
     * Visits every channel in the table (control path: shutdown closes them all). The visitor may close or
     * abort the channel it is given.
     *
     * @param visitor called once per connection not yet CLOSED.
     * @return connections visited.
     */
    public int forEachChannel(final Consumer<? super TcpChannel> visitor)
    {
        thread.check();
        return table.forEach(visitor);
    }

    /**
     * Stops accepting new connections on a port; existing connections are not affected.
     *
     * @param localPort our port.
     * @return true if the port was listening.
     */
    public boolean stopListening(final int localPort)
    {
        return listeners.remove(localPort);
    }

    /**
     * Half-open connections of a listener (SYN-RECEIVED records, counted against its backlog).
     *
     * @param localPort the listening port.
     * @return count, 0 if the port does not listen.
     */
    public int synReceivedCount(final int localPort)
    {
        return listeners.synReceivedCount(localPort);
    }

    /**
     * Sets the range active opens take ephemeral local ports from (default
     * {@value #DEFAULT_EPHEMERAL_PORT_LOW}..{@value #DEFAULT_EPHEMERAL_PORT_HIGH}, like Linux).
     *
     * @param low  lowest port, 1..65535.
     * @param high highest port, low..65535.
     */
    public void ephemeralPorts(final int low, final int high)
    {
        ActiveOpens.checkPort(low, "low");
        ActiveOpens.checkPort(high, "high");
        activeOpens.ports().range(low, high);
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
     * @throws IllegalArgumentException if a port is not 1..65535.
     */
    public TcpConnection connect(
        final int remoteIp, final int remotePort, final int localPort, final TcpReceiveHandler handler,
        final long nowNs)
    {
        final ConnectionSlot slot = activeOpens.open(remoteIp, remotePort, localPort, null, null, handler, nowNs);
        return slot == null ? null : slot.connection;
    }

    /**
     * Active OPEN from an ephemeral local port: the first free port of the ephemeral range in the order of
     * RFC 6056 algorithm 3 (a keyed hash of the remote address and port, plus a counter) that
     * {@code portFilter} accepts (e.g. one whose flow hash steers the peer's replies to the calling core),
     * skipping listening ports and every port whose tuple is still in use (TIME-WAIT included).
     *
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param handler    where the connection's data and events go.
     * @param nowNs      the duty cycle's time.
     * @param portFilter accepts a candidate local port (primitive, no boxing); null accepts all.
     * @return the connection (in SYN-SENT), or null if the pool is exhausted or no acceptable port is free.
     */
    public TcpConnection connect(
        final int remoteIp, final int remotePort, final TcpReceiveHandler handler, final long nowNs,
        final IntPredicate portFilter)
    {
        final int localPort = activeOpens.ephemeralPort(remoteIp, remotePort, portFilter, timeWait);
        return localPort == 0 ? null : connect(remoteIp, remotePort, localPort, handler, nowNs);
    }

    @Override
    public void onTcpSegment(
        final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
        final int sourceIp, final int destinationIp, final int tos, final long nowNs)
    {
        onSegment(this.segment.wrap(buffer, tcpOffset, tcpHeaderLength, segmentLength, sourceIp, destinationIp),
            sourceIp, destinationIp, nowNs);
    }

    @Override
    public void onTcpSegment(
        final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
        final DirectBuffer payloadBuffer, final int payloadOffset, final int sourceIp, final int destinationIp,
        final int tos, final long nowNs)
    {
        onSegment(this.segment.wrap(buffer, tcpOffset, tcpHeaderLength, segmentLength, sourceIp, destinationIp)
            .payloadAt(payloadBuffer, payloadOffset), sourceIp, destinationIp, nowNs);
    }

    @Override
    public boolean acceptsSplitSegments()
    {
        return true;
    }

    private void onSegment(final TcpSegment segment, final int sourceIp, final int destinationIp, final long nowNs)
    {
        counters.segmentsReceived++;
        output.nowNs(nowNs);
        final long key = connectionKey(sourceIp, segment.sourcePort(), segment.destinationPort());
        final ConnectionSlot slot = table.get(key);
        if (slot != null)
        {
            counters.segmentsToConnections++;
            slot.connection.onSegment(segment, nowNs);
            afterInteraction(slot);
            return;
        }
        if (onTimeWaitSegment(key, segment, nowNs))
        {
            return;
        }
        listeners.onSegment(key, segment, destinationIp, nowNs);
    }

    // after a segment or an ICMP error: free or queue for the next poll
    void afterInteraction(final ConnectionSlot slot)
    {
        handlerFailures.abortIfFailed(slot);
        if (releaseIfDone(slot) == 0)
        {
            markReady(slot);
        }
    }

    @Override
    public void onIcmpError(
        final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
        final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
        final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
    {
        icmpErrors.onIcmpError(errorKind, icmpType, icmpCode, restOfHeader, quotedSourceIp, quotedDestinationIp,
            buffer, quotedTcpOffset, quotedTcpLength, nowNs);
    }

    /**
     * The duty cycle's TCP work, after all received segments of the burst: fires the timers that are due,
     * then polls each connection on the ready list once (queued data, FIN, at most one aggregated ACK,
     * MUST-59) and re-arms its timer. Connections that reached CLOSED return to the pool.
     *
     * @param nowNs the duty cycle's time.
     * @return work done: timers fired plus segments sent plus connections freed (0 when idle).
     */
    public int poll(final long nowNs)
    {
        output.nowNs(nowNs);
        if (!timers.started())
        {
            timers.start(nowNs);
            thread.bindIfUnbound();
        }
        int work = timers.poll(nowNs) + timeWait.expire(nowNs) + listeners.halfOpen().expire(nowNs) +
            pool.reclaimDeferred() + pool.releaseIdleSlabs(nowNs);
        table.publishGauges(challengeAcks);

        final int count = table.swapReady();
        final ConnectionSlot[] batch = table.batch();
        for (int i = 0; i < count; i++)
        {
            final ConnectionSlot slot = batch[i];
            batch[i] = null;
            slot.queued = false;
            if (!slot.inUse)
            {
                continue; // freed after it was queued
            }
            counters.connectionsPolled++;
            work += slot.connection.poll(nowNs);
            handlerFailures.abortIfFailed(slot);
            recordTimeWait(slot, nowNs);
            final int released = releaseIfDone(slot);
            if (released == 0)
            {
                timers.sync(slot);
                if (slot.connection.wantsAnotherPoll())
                {
                    table.markReady(slot); // stopped at the send quantum: on at the next poll
                }
            }
            work += released;
        }
        return work;
    }

    // a 4-tuple in TIME-WAIT: its record answers (true), unless a new SYN reopens it for the listener (false)
    private boolean onTimeWaitSegment(final long key, final TcpSegment segment, final long nowNs)
    {
        final int record = timeWait.find(key);
        return record >= 0 &&
            timeWait.onSegment(record, segment, output, config.timeWaitNs(), nowNs) == TimeWaitTable.HANDLED;
    }

    // after the poll that sent the ACK of the peer's FIN: the TCB is freed, a compact record keeps TIME-WAIT
    private void recordTimeWait(final ConnectionSlot slot, final long nowNs)
    {
        if (compactTimeWait && slot.connection.state() == TcpState.TIME_WAIT)
        {
            timeWait.add(slot.key, slot.connection, nowNs + config.timeWaitNs());
            slot.connection.releaseTimeWait();
        }
    }

    /**
     * Whether a SYN beyond a listener's backlog is answered with a SYN cookie (default, as Linux's
     * tcp_syncookies=1) or dropped and counted ({@link TcpStackCounters#synsDroppedBacklog()}).
     *
     * @param enabled true for cookies.
     */
    public void synCookies(final boolean enabled)
    {
        listeners.synCookies(enabled);
    }

    /**
     * The SYN backlog of listeners opened without one (default {@value #DEFAULT_SYN_BACKLOG}, Linux's somaxconn).
     *
     * @param backlog most connections of a listener in SYN-RECEIVED, &gt;= 1.
     */
    public void synBacklog(final int backlog)
    {
        Listeners.checkBacklog(backlog);
        this.synBacklog = backlog;
    }

    /**
     * Whether a connection entering TIME-WAIT is replaced by a compact record (default) or kept whole until 2 MSL
     * have passed. Set before traffic flows.
     *
     * @param compact true for compact records.
     */
    public void compactTimeWait(final boolean compact)
    {
        this.compactTimeWait = compact;
    }

    /**
     * Caps the TIME-WAIT records (default: the connection limit, at least 4,096); beyond it the oldest is
     * recycled early and counted. Set before traffic flows.
     *
     * @param maxRecords most records, &gt;= 1.
     */
    public void maxTimeWait(final int maxRecords)
    {
        if (timeWait.size() != 0)
        {
            throw new IllegalStateException("set before traffic flows");
        }
        timeWait = new TimeWaitTable(counters, challengeAcks, isnGenerator, maxRecords);
    }

    /**
     * 4-tuples in TIME-WAIT (compact records).
     *
     * @return count.
     */
    public int timeWaitCount()
    {
        return timeWait.size();
    }

    /**
     * Whether a 4-tuple is in TIME-WAIT (a compact record).
     *
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param localPort  our port.
     * @return true if a record exists.
     */
    public boolean isTimeWait(final int remoteIp, final int remotePort, final int localPort)
    {
        return timeWait.find(connectionKey(remoteIp, remotePort, localPort)) >= 0;
    }

    /**
     * When the oldest TIME-WAIT record ends (for drivers that jump a virtual clock from event to event).
     *
     * @return the deadline, or {@link TcpConnection#NO_DEADLINE} when there is none.
     */
    public long nextTimeWaitDeadlineNs()
    {
        return timeWait.firstDeadlineNs();
    }

    /**
     * The next SYN-ACK retransmission or expiry of a half-open connection (for drivers that jump a virtual clock).
     *
     * @return the deadline, or {@link TcpConnection#NO_DEADLINE} when there is none.
     */
    public long nextSynReceivedDeadlineNs()
    {
        return listeners.halfOpen().firstDeadlineNs();
    }

    // records the half-open table holds without growing (tests: a storm's arrays go back)
    int halfOpenCapacity()
    {
        return listeners.halfOpen().capacity();
    }

    /**
     * The stack-wide challenge-ACK limit (RFC 5961 §7) of live connections and TIME-WAIT records.
     *
     * @return the limiter.
     */
    public ChallengeAckLimiter challengeAckLimiter()
    {
        return challengeAcks;
    }

    void markReady(final ConnectionSlot slot)
    {
        table.markReady(slot);
    }

    /**
     * Queues a connection for the next {@link #poll}, for application calls that change what it may send
     * without telling the stack (e.g. {@link TcpConnection#noDelay(boolean)} releasing a segment Nagle held
     * back). {@link TcpConnection#send}, {@link TcpConnection#close}, {@link TcpConnection#consumed} and
     * {@link TcpConnection#abort} need no wake: they are noticed by themselves.
     *
     * @param connection a connection of this stack.
     * @return false if it is not one of this stack's connections in use.
     */
    public boolean wake(final TcpConnection connection)
    {
        final ConnectionSlot slot = table.get(
            connectionKey(connection.remoteIp(), connection.remotePort(), connection.localPort()));
        if (slot == null || slot.connection != connection)
        {
            return false;
        }
        markReady(slot);
        return true;
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
        final ConnectionSlot slot = table.get(connectionKey(remoteIp, remotePort, localPort));
        return slot == null ? null : slot.connection;
    }

    /**
     * Connections in the table (not CLOSED).
     *
     * @return count.
     */
    public int connectionCount()
    {
        return table.activeCount();
    }

    /**
     * Connections that may still be opened: the limit less those in use.
     *
     * @return count.
     */
    public int freeConnections()
    {
        return maxConnections - table.activeCount();
    }

    /**
     * Connections (TCBs) created so far: the most in use at once, since closed ones are reused.
     *
     * @return count.
     */
    public int createdConnections()
    {
        return table.createdConnections();
    }

    /**
     * The shard's payload memory.
     *
     * @return the pool.
     */
    public ChunkPool pool()
    {
        return pool;
    }

    /**
     * Timers armed in the wheel (at most one per connection in the table).
     *
     * @return count.
     */
    public long scheduledTimers()
    {
        return timers.scheduledTimers();
    }

    /**
     * Connections queued for the next {@link #poll}.
     *
     * @return count.
     */
    public int readyConnections()
    {
        return table.readyCount();
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

    /**
     * Where exceptions thrown by application handlers are reported (each is also counted, and its connection
     * aborted); by default their stack traces go to standard error.
     *
     * @param errorHandler receives a {@link RuntimeException} whose cause is the handler's exception.
     */
    public void errorHandler(final org.agrona.ErrorHandler errorHandler)
    {
        handlerFailures.errorHandler(errorHandler);
    }

    // A passive connection reset in SYN-RECEIVED goes back to LISTEN (§3.10.7.4 second); here listening is
    // the stack's job, so such a connection is closed and freed like one that reached CLOSED.
    private int releaseIfDone(final ConnectionSlot slot)
    {
        final TcpState state = slot.connection.state();
        if (state == TcpState.LISTEN)
        {
            slot.connection.releaseFromListen(); // the handshake was reset: RESET_BY_PEER (MUST-12)
        }
        else if (state != TcpState.CLOSED)
        {
            return 0;
        }
        timers.cancel(slot);
        table.release(slot);
        return 1;
    }
}
