package dev.sluice.core.sim;

import dev.sluice.core.stack.TcpAcceptor;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One seed of the deterministic simulation: two complete shards joined by a {@link SimulatedLink}, 1..8
 * connections opened in either direction at random times, each side an {@link SimEndpoint} application, all
 * driven by one virtual clock that jumps from event to event (the next frame arrival, the next TCP timer, the
 * next application action, the next ARP timer): an idle run never spins. Everything random comes from the
 * seed, so a seed replays exactly.
 *
 * <p>What a run checks, online and at the end:
 * <ul>
 *   <li>every byte any application receives is the next byte of its peer's stream (so no byte is lost,
 *       duplicated, reordered or altered), never more than the peer sent; the FIN comes after all of them;</li>
 *   <li>a corrupted frame is counted as exactly one drop and never reaches TCP; an intact TCP frame always does;</li>
 *   <li>without an abort: both sides deliver everything, see the peer's FIN, and close NORMAL (through
 *       TIME-WAIT on the active closer's side);</li>
 *   <li>with an abort: the aborting side reports ABORTED at once; its peer has received at least every byte
 *       the aborting side had seen acknowledged, and ends RESET_BY_PEER (or NORMAL if it had already closed,
 *       or the abort came in CLOSING/LAST-ACK/TIME-WAIT, which send no RST, RFC 9293 §3.10.5);</li>
 *   <li>at the end both connection tables are empty, both pools full, no connection holds a timer, queued or
 *       unread bytes, no frame waits for ARP, no transmit buffer is claimed, the link is empty;</li>
 *   <li>the run ends within {@link #MAX_VIRTUAL_NS} of virtual time and {@link #MAX_ITERATIONS} events
 *       (else livelock), and never reaches a state where nothing is in flight, no timer runs and no application
 *       has anything to do while a connection is still open (deadlock).</li>
 * </ul>
 */
final class SimulationRun
{
    /**
     * Switches for the bugs the simulation found (core/src/test/java/dev/sluice/core/sim/BUGS.md). All are on
     * by default now that the fixes landed; {@code -Dsluice.sim.<name>=false} turns one off to compare.
     * <ul>
     *   <li>{@code impairHandshake}: ARP and the handshake are impaired like any frame (SYN/SYN-ACK
     *       retransmission, MUST-22).</li>
     *   <li>{@code zeroWindow}: slow consumers may close the receive window completely (BUG-SIM-2, persist
     *       timer, MUST-35..37).</li>
     *   <li>{@code multipleLossesPerWindow}: heavy impairments, up to 5 % loss and 3 % corruption, 8..512 frame
     *       queues that overflow (BUG-SIM-3: go-back-N after RTO, fast retransmit, NewReno).</li>
     *   <li>{@code strictTimeWaitReset}: NORMAL is required from a side that was in TIME-WAIT when an
     *       acceptable RST arrived (BUG-SIM-1, RFC 1337).</li>
     *   <li>{@code strictHandshakeReset}: RESET_BY_PEER is required from a passive side reset during its
     *       handshake (BUG-SIM-4, MUST-12).</li>
     * </ul>
     */
    static final boolean IMPAIR_HANDSHAKE = on("impairHandshake");
    static final boolean ZERO_WINDOW = on("zeroWindow");
    static final boolean MULTIPLE_LOSSES_PER_WINDOW = on("multipleLossesPerWindow");
    static final boolean STRICT_TIME_WAIT_RESET = on("strictTimeWaitReset");
    static final boolean STRICT_HANDSHAKE_RESET = on("strictHandshakeReset");

    private static boolean on(final String name)
    {
        return !"false".equals(System.getProperty("sluice.sim." + name));
    }

    /** The switches as Maven arguments, for replay lines. */
    static String switches()
    {
        return (IMPAIR_HANDSHAKE ? "" : " -Dsluice.sim.impairHandshake=false") +
            (ZERO_WINDOW ? "" : " -Dsluice.sim.zeroWindow=false") +
            (MULTIPLE_LOSSES_PER_WINDOW ? "" : " -Dsluice.sim.multipleLossesPerWindow=false") +
            (STRICT_TIME_WAIT_RESET ? "" : " -Dsluice.sim.strictTimeWaitReset=false") +
            (STRICT_HANDSHAKE_RESET ? "" : " -Dsluice.sim.strictHandshakeReset=false");
    }

    /** Longest virtual time a seed may take: more is a livelock. */
    static final long MAX_VIRTUAL_NS = 600_000_000_000L;
    /** Most loop iterations a seed may take: more is a livelock (events without progress). */
    static final long MAX_ITERATIONS = 3_000_000L;
    /** An application whose peer aborted gives up waiting after this long (the RST may have been lost). */
    static final long GIVE_UP_AFTER_PEER_ABORT_NS = 30_000_000_000L;
    /**
     * Maximum segment lifetime: TIME-WAIT lasts twice this (60 s, like Linux). It must exceed the link's delays
     * and the peer's FIN retransmission backoff, else a FIN retransmitted after TIME-WAIT ended is rightly
     * answered with a RST. Virtual time: waiting costs nothing.
     */
    static final long MSL_NS = 30_000_000_000L;

    static final int IP_A = Addresses.parseIpv4("10.1.0.1");
    static final int IP_B = Addresses.parseIpv4("10.1.0.2");
    static final int SERVER_PORT = 80;
    static final int FIRST_CLIENT_PORT = 40_000;

    final long seed;
    final boolean trace;
    final SplittableRandom random;
    final LinkImpairments impairments;
    final TcpConfig config;
    final SimulatedLink link;
    final SimShard a;
    final SimShard b;
    final List<SimEndpoint> clients = new ArrayList<>();
    final List<SimEndpoint> servers = new ArrayList<>();
    final long[] connectAtNs;
    final List<Ghost> ghosts = new ArrayList<>();
    private final List<Accepted> pendingAccepts = new ArrayList<>();
    long nowNs;
    long iterations;
    /** Called after every duty cycle of both shards (measurements of a test); null: none. */
    Runnable afterStep;
    long timeWaitResets;
    private int nextConnect;

    SimulationRun(final long seed, final boolean trace)
    {
        this(seed, trace, null);
    }

    /**
     * @param seed        the seed.
     * @param trace       print every frame delivered.
     * @param impairments the link's impairments, or null to draw them from the seed.
     */
    SimulationRun(final long seed, final boolean trace, final LinkImpairments impairments)
    {
        this.seed = seed;
        this.trace = trace;
        this.random = new SplittableRandom(StreamPattern.mix(seed ^ 0x5EED_51B1_0000_0001L));
        final LinkImpairments drawn = LinkImpairments.random(random.split(), MULTIPLE_LOSSES_PER_WINDOW);
        this.impairments = impairments != null ? impairments : drawn;
        final int[] mss = {536, 1000, 1460};
        final int[] buffers = {4 * 1024, 16 * 1024, 64 * 1024, 256 * 1024};
        this.config = TcpConfig.builder()
            .mssBytes(mss[random.nextInt(mss.length)])
            .bufferBytes(buffers[random.nextInt(buffers.length)], buffers[random.nextInt(buffers.length)])
            .mslNs(MSL_NS)
            .build();
        this.link = new SimulatedLink(this.impairments, random.split(), IMPAIR_HANDSHAKE);

        final int connections = 1 + random.nextInt(8);
        final boolean[] fromA = new boolean[connections];
        int onA = 0;
        for (int i = 0; i < connections; i++)
        {
            fromA[i] = random.nextBoolean();
        }
        a = new SimShard(this, "A", 0, IP_A, 0x02_00_00_00_01_0AL, config, random.nextLong(), connections + 1);
        b = new SimShard(this, "B", 1, IP_B, 0x02_00_00_00_01_0BL, config, random.nextLong(), connections + 1);
        a.peer = b;
        b.peer = a;
        connectAtNs = new long[connections];
        for (int i = 0; i < connections; i++)
        {
            final SimShard clientShard = fromA[i] ? a : b;
            final SimShard serverShard = fromA[i] ? b : a;
            final int clientBytes = transferSize(random);
            final int serverBytes = transferSize(random);
            final long clientKey = StreamPattern.mix(seed * 31 + 2L * i);
            final long serverKey = StreamPattern.mix(seed * 31 + 2L * i + 1);
            SimEndpoint.CloseMode clientMode = random.nextBoolean() ?
                SimEndpoint.CloseMode.AFTER_SEND : SimEndpoint.CloseMode.AFTER_PEER_FIN;
            final SimEndpoint.CloseMode serverMode = random.nextBoolean() ?
                SimEndpoint.CloseMode.AFTER_SEND : SimEndpoint.CloseMode.AFTER_PEER_FIN;
            if (clientMode == SimEndpoint.CloseMode.AFTER_PEER_FIN && serverMode == clientMode)
            {
                clientMode = SimEndpoint.CloseMode.AFTER_SEND; // someone has to close first
            }
            final SimEndpoint client = new SimEndpoint(this, "c" + i + ".client@" + clientShard.name, clientShard,
                clientKey, serverKey, clientBytes, serverBytes, random.split(), clientMode);
            final SimEndpoint server = new SimEndpoint(this, "c" + i + ".server@" + serverShard.name, serverShard,
                serverKey, clientKey, serverBytes, clientBytes, random.split(), serverMode);
            client.peer = server;
            server.peer = client;
            connectAtNs[i] = random.nextLong(200_000_000L);
            if (random.nextInt(100) < 8)
            {
                final SimEndpoint aborter = random.nextBoolean() ? client : server;
                aborter.abortAtNs = connectAtNs[i] + random.nextLong(1_000_000_000L);
            }
            clients.add(client);
            servers.add(server);
        }
        a.stack.listen(SERVER_PORT, new Acceptor(a));
        b.stack.listen(SERVER_PORT, new Acceptor(b));
        a.layer.start(0);
        b.layer.start(0);
    }

    /**
     * A measurement run: one connection from A to B over a link with the given impairments, A sending
     * {@code bytes} in bulk, B consuming at once and sending nothing; everything else as in a random run.
     *
     * @param seed        the seed (link randomness, ISNs).
     * @param impairments the link.
     * @param config      both stacks' TCP settings.
     * @param bytes       what A sends.
     */
    SimulationRun(final long seed, final LinkImpairments impairments, final TcpConfig config, final int bytes)
    {
        this.seed = seed;
        this.trace = false;
        this.random = new SplittableRandom(StreamPattern.mix(seed ^ 0x5EED_51B1_0000_0002L));
        this.impairments = impairments;
        this.config = config;
        this.link = new SimulatedLink(impairments, random.split(), false);
        a = new SimShard(this, "A", 0, IP_A, 0x02_00_00_00_01_0AL, config, random.nextLong(), 2);
        b = new SimShard(this, "B", 1, IP_B, 0x02_00_00_00_01_0BL, config, random.nextLong(), 2);
        a.peer = b;
        b.peer = a;
        final long clientKey = StreamPattern.mix(seed * 31);
        final long serverKey = StreamPattern.mix(seed * 31 + 1);
        final SimEndpoint client = new SimEndpoint(this, "bulk.client@A", a, clientKey, serverKey, bytes, 0,
            random.split());
        final SimEndpoint server = new SimEndpoint(this, "bulk.server@B", b, serverKey, clientKey, 0, bytes,
            random.split());
        client.peer = server;
        server.peer = client;
        clients.add(client);
        servers.add(server);
        connectAtNs = new long[] {0};
        a.stack.listen(SERVER_PORT, new Acceptor(a));
        b.stack.listen(SERVER_PORT, new Acceptor(b));
        a.layer.start(0);
        b.layer.start(0);
    }

    // 20 % empty, 30 % up to 2 KB, 30 % up to 32 KB, 20 % up to 256 KB
    private static int transferSize(final SplittableRandom random)
    {
        final int kind = random.nextInt(10);
        if (kind < 2)
        {
            return 0;
        }
        if (kind < 5)
        {
            return 1 + random.nextInt(2000);
        }
        if (kind < 8)
        {
            return 1 + random.nextInt(32 * 1024);
        }
        return 1 + random.nextInt(256 * 1024);
    }

    /** A failure of this seed, with its time. */
    SimulationFailure failure(final String message)
    {
        return new SimulationFailure(seed, "t=" + nowNs / 1000 + "us: " + message);
    }

    /**
     * Runs the seed to the end and checks everything.
     *
     * @return a one-line summary.
     * @throws SimulationFailure on any violation.
     */
    String run()
    {
        while (!isDone())
        {
            if (++iterations > MAX_ITERATIONS)
            {
                throw failure("livelock: more than " + MAX_ITERATIONS + " events");
            }
            final long tcpDeadline = tcpDeadlineNs();
            final long appEvent = appEventNs();
            final long connect = nextConnect < connectAtNs.length ? connectAtNs[nextConnect] : Long.MAX_VALUE;
            final long arrival = link.nextArrivalNs();
            final long progress = Math.min(Math.min(tcpDeadline, appEvent), Math.min(connect, arrival));
            if (progress == Long.MAX_VALUE)
            {
                throw failure("deadlock: nothing in flight, no TCP timer, no application action, but not done");
            }
            final long arp = Math.min(a.layer.arpCache().nextDeadlineNs(), b.layer.arpCache().nextDeadlineNs());
            final long next = Math.min(progress, arp);
            if (next > MAX_VIRTUAL_NS)
            {
                throw failure("livelock: not finished after " + MAX_VIRTUAL_NS / 1_000_000_000L + " s of virtual time");
            }
            nowNs = Math.max(nowNs, next);
            step();
            if (afterStep != null)
            {
                afterStep.run();
            }
        }
        verifyEnd();
        return summary();
    }

    private void step()
    {
        SimulatedLink.Frame frame;
        while ((frame = link.poll(nowNs)) != null)
        {
            if (trace)
            {
                System.out.println(nowNs / 1000 + "us " + (frame.direction == 0 ? "A>B " : "B>A ") +
                    describe(frame.bytes) + (frame.corrupted ? " CORRUPTED" : "") + (frame.duplicate ? " DUP" : "") +
                    (frame.reordered ? " REORDERED" : ""));
            }
            frame.to.deliver(frame, nowNs);
            bindAccepted();
        }
        a.layer.doWork(nowNs);
        b.layer.doWork(nowNs);
        while (nextConnect < connectAtNs.length && connectAtNs[nextConnect] <= nowNs)
        {
            final SimEndpoint client = clients.get(nextConnect);
            final SimShard shard = client.shard;
            final TcpConnection connection = shard.stack.connect(
                shard.peer.ip, SERVER_PORT, FIRST_CLIENT_PORT + nextConnect, client, nowNs);
            if (connection == null)
            {
                throw failure(client.name + ": connect refused (pool " + shard.describe() + ")");
            }
            client.attach(connection);
            nextConnect++;
        }
        for (int i = 0; i < clients.size(); i++)
        {
            clients.get(i).tick(nowNs);
            servers.get(i).tick(nowNs);
        }
        a.stack.poll(nowNs);
        b.stack.poll(nowNs);
        for (int i = 0; i < clients.size(); i++)
        {
            clients.get(i).observeState();
            servers.get(i).observeState();
        }
        if (a.hasOutstandingClaim() || b.hasOutstandingClaim())
        {
            throw failure("a transmit buffer is still claimed after the duty cycle");
        }
    }

    private boolean isDone()
    {
        if (nextConnect < connectAtNs.length || !link.isEmpty())
        {
            return false;
        }
        for (int i = 0; i < clients.size(); i++)
        {
            if (!clients.get(i).isClosed() || !(servers.get(i).isClosed() || neverAccepted(servers.get(i))))
            {
                return false;
            }
        }
        for (final Ghost ghost : ghosts)
        {
            if (ghost.closeReason == null)
            {
                return false;
            }
        }
        return a.stack.connectionCount() == 0 && b.stack.connectionCount() == 0 &&
            a.stack.timeWaitCount() == 0 && b.stack.timeWaitCount() == 0;
    }

    private long tcpDeadlineNs()
    {
        // compact TIME-WAIT and SYN-RECEIVED records have their own deadlines, not a connection's
        long next = Math.min(Math.min(a.stack.nextTimeWaitDeadlineNs(), b.stack.nextTimeWaitDeadlineNs()),
            Math.min(a.stack.nextSynReceivedDeadlineNs(), b.stack.nextSynReceivedDeadlineNs()));
        for (int i = 0; i < clients.size(); i++)
        {
            next = Math.min(next, deadlineOf(clients.get(i)));
            next = Math.min(next, deadlineOf(servers.get(i)));
        }
        for (final Ghost ghost : ghosts)
        {
            if (ghost.closeReason == null)
            {
                next = Math.min(next, ghost.connection.nextDeadlineNs());
            }
        }
        return next;
    }

    private static long deadlineOf(final SimEndpoint endpoint)
    {
        return endpoint.connection == null || endpoint.isClosed() ?
            Long.MAX_VALUE : endpoint.connection.nextDeadlineNs();
    }

    private long appEventNs()
    {
        long next = Long.MAX_VALUE;
        for (int i = 0; i < clients.size(); i++)
        {
            next = Math.min(next, clients.get(i).nextEventNs());
            next = Math.min(next, servers.get(i).nextEventNs());
        }
        return next;
    }

    private void verifyEnd()
    {
        for (int i = 0; i < clients.size(); i++)
        {
            verifyPair(clients.get(i), servers.get(i));
        }
        for (final SimShard shard : new SimShard[] {a, b})
        {
            if (shard.stack.connectionCount() != 0 || shard.stack.freeConnections() != shard.poolSize)
            {
                throw failure("connections left behind: " + shard.describe());
            }
            if (shard.layer.arpCache().pendingFrameCount() != 0)
            {
                throw failure("frames left waiting for ARP: " + shard.describe());
            }
        }
        for (int i = 0; i < clients.size(); i++)
        {
            verifyReleased(clients.get(i));
            verifyReleased(servers.get(i));
        }
        final long corruptedDropped = a.corruptedFramesDropped + b.corruptedFramesDropped;
        if (corruptedDropped != link.framesCorrupted)
        {
            throw failure("corrupted frames: " + link.framesCorrupted + " on the link, " + corruptedDropped +
                " rejected");
        }
    }

    private void verifyReleased(final SimEndpoint endpoint)
    {
        final TcpConnection connection = endpoint.connection;
        if (connection == null && neverAccepted(endpoint))
        {
            return;
        }
        if (connection.state() != TcpState.CLOSED || connection.nextDeadlineNs() != TcpConnection.NO_DEADLINE ||
            connection.sendQueueBytes() != 0 || connection.unreadBytes() != 0)
        {
            throw failure(endpoint.name + ": pooled connection not clean: " + endpoint.describe());
        }
    }

    // a client that aborted before its handshake completed at the server: the server's half-open connection was
    // a compact SYN-RECEIVED record no application saw, and it is gone (reset or timed out)
    private boolean neverAccepted(final SimEndpoint server)
    {
        return server.connection == null && server.peer.aborted && server.peer.ackedAtAbort == 0 &&
            a.stack.synReceivedCount(SERVER_PORT) == 0 && b.stack.synReceivedCount(SERVER_PORT) == 0;
    }

    private void verifyPair(final SimEndpoint client, final SimEndpoint server)
    {
        if (neverAccepted(server))
        {
            if (client.closedCount != 1)
            {
                throw failure(client.name + ": onClosed called " + client.closedCount + " times");
            }
            return;
        }
        for (final SimEndpoint endpoint : new SimEndpoint[] {client, server})
        {
            if (endpoint.connection == null)
            {
                throw failure(endpoint.name + ": never connected");
            }
            if (endpoint.closedCount != 1)
            {
                throw failure(endpoint.name + ": onClosed called " + endpoint.closedCount + " times");
            }
        }
        final SimEndpoint aborter = client.aborted ? client : server.aborted ? server : null;
        if (aborter == null)
        {
            for (final SimEndpoint endpoint : new SimEndpoint[] {client, server})
            {
                final boolean timeWaitReset = !STRICT_TIME_WAIT_RESET &&
                    endpoint.closeReason == TcpCloseReason.RESET_BY_PEER && endpoint.lastState == TcpState.TIME_WAIT;
                if (timeWaitReset)
                {
                    timeWaitResets++;
                }
                if ((endpoint.closeReason != TcpCloseReason.NORMAL && !timeWaitReset) || endpoint.received != endpoint.receiveTotal ||
                    endpoint.sent != endpoint.sendTotal || endpoint.peerClosedCount != 1 ||
                    endpoint.establishedCount != 1)
                {
                    throw failure(endpoint.name + ": did not complete normally: " + endpoint.describe() + " peer " +
                        endpoint.peer.describe());
                }
            }
            return;
        }
        final SimEndpoint survivor = aborter.peer;
        if (survivor.received < aborter.ackedAtAbort)
        {
            throw failure(survivor.name + ": received " + survivor.received + " bytes but the aborting peer had " +
                aborter.ackedAtAbort + " acknowledged: acknowledged data lost");
        }
        final TcpState abortState = aborter.stateAtAbort;
        final boolean abortSentNoReset =
            abortState == TcpState.CLOSING || abortState == TcpState.LAST_ACK || abortState == TcpState.TIME_WAIT;
        final boolean ok = switch (survivor.closeReason)
        {
            case RESET_BY_PEER -> !abortSentNoReset || survivor.closedAtNs > aborter.abortedAtNs;
            case NORMAL -> abortSentNoReset || survivor.closedAtNs <= aborter.abortedAtNs ||
                (!STRICT_HANDSHAKE_RESET && survivor.establishedCount == 0 &&
                    survivor.lastState == TcpState.SYN_RECEIVED);
            case ABORTED -> survivor.gaveUp;
            case TIMEOUT, UNREACHABLE -> false;
        };
        if (!ok)
        {
            throw failure(survivor.name + ": unexpected close reason " + survivor.closeReason + " after the peer " +
                "aborted in " + abortState.rfcName() + ": " + survivor.describe());
        }
    }

    String summary()
    {
        long bytes = 0;
        int aborts = 0;
        for (int i = 0; i < clients.size(); i++)
        {
            bytes += clients.get(i).received + servers.get(i).received;
            aborts += (clients.get(i).aborted ? 1 : 0) + (servers.get(i).aborted ? 1 : 0);
        }
        return "seed " + seed + ": " + clients.size() + " connections, " + bytes + " bytes, " + aborts +
            " aborts, " + nowNs / 1_000_000 + " ms virtual, " + iterations + " events, " + link;
    }

    String describeState()
    {
        final StringBuilder text = new StringBuilder();
        text.append("  impairments: ").append(impairments).append('\n');
        text.append("  config: mss=").append(config.mssBytes()).append(" send=").append(config.sendBufferBytes())
            .append(" receive=").append(config.receiveBufferBytes()).append(" impairHandshake=")
            .append(IMPAIR_HANDSHAKE).append(" zeroWindow=").append(ZERO_WINDOW)
            .append(" multipleLossesPerWindow=").append(MULTIPLE_LOSSES_PER_WINDOW)
            .append(" strictTimeWaitReset=").append(STRICT_TIME_WAIT_RESET)
            .append(" strictHandshakeReset=").append(STRICT_HANDSHAKE_RESET).append('\n');
        text.append("  ").append(link).append('\n');
        text.append("  ").append(a.describe()).append('\n');
        text.append("  ").append(b.describe()).append('\n');
        for (int i = 0; i < clients.size(); i++)
        {
            text.append("  ").append(clients.get(i).describe()).append('\n');
            text.append("  ").append(servers.get(i).describe()).append('\n');
        }
        for (final Ghost ghost : ghosts)
        {
            text.append("  ghost ").append(ghost.connection.state().rfcName()).append(' ')
                .append(ghost.closeReason).append('\n');
        }
        return text.toString();
    }

    void onCommitted(final SimShard from, final byte[] frame)
    {
        if (trace)
        {
            System.out.println(nowNs / 1000 + "us " + from.name + " sends " + describe(frame));
        }
    }

    /**
     * One line for a frame: ARP, or a TCP segment's ports, flags, sequence numbers, payload and window.
     *
     * @param bytes the frame.
     * @return text.
     */
    static String describe(final byte[] bytes)
    {
        if (!SimShard.isTcp(bytes))
        {
            return "non-TCP frame of " + bytes.length + " bytes";
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final int ip = EthernetHeader.HEADER_LENGTH;
        final int tcp = ip + Ipv4Header.headerLength(buffer, ip);
        final int payload = Ipv4Header.totalLength(buffer, ip) - (tcp - ip) - TcpHeader.headerLength(buffer, tcp);
        final int flags = TcpHeader.flags(buffer, tcp);
        final StringBuilder text = new StringBuilder();
        text.append(TcpHeader.sourcePort(buffer, tcp)).append('>').append(TcpHeader.destinationPort(buffer, tcp))
            .append(' ');
        final String[] names = {"F", "S", "R", "P", "A", "U"};
        for (int bit = 0; bit < names.length; bit++)
        {
            if ((flags & (1 << bit)) != 0)
            {
                text.append(names[bit]);
            }
        }
        text.append(" seq=").append(TcpHeader.sequence(buffer, tcp) & 0xFFFFFFFFL)
            .append(" ack=").append(TcpHeader.acknowledgment(buffer, tcp) & 0xFFFFFFFFL)
            .append(" len=").append(payload).append(" win=").append(TcpHeader.window(buffer, tcp));
        return text.toString();
    }

    /**
     * Gives each accepted connection a {@link Accepted} forwarder: at accept time the connection is in LISTEN
     * and does not know its peer yet, so the planned server application (by the client's port) is found once
     * the SYN has been processed.
     */
    private final class Acceptor implements TcpAcceptor
    {
        private final SimShard shard;

        Acceptor(final SimShard shard)
        {
            this.shard = shard;
        }

        @Override
        public TcpReceiveHandler onAccept(final TcpConnection connection)
        {
            final Accepted accepted = new Accepted(shard, connection);
            pendingAccepts.add(accepted);
            return accepted;
        }
    }

    private void bindAccepted()
    {
        for (int i = 0; i < pendingAccepts.size(); i++)
        {
            pendingAccepts.get(i).target();
        }
        pendingAccepts.clear();
    }

    /** Forwards a passive connection's events to its server application, or to a ghost if nobody planned it. */
    private final class Accepted implements TcpReceiveHandler
    {
        private final SimShard shard;
        private final TcpConnection connection;
        private TcpReceiveHandler target;

        Accepted(final SimShard shard, final TcpConnection connection)
        {
            this.shard = shard;
            this.connection = connection;
        }

        TcpReceiveHandler target()
        {
            if (target == null)
            {
                final int index = connection.remotePort() - FIRST_CLIENT_PORT;
                if (index >= 0 && index < servers.size() && servers.get(index).shard == shard &&
                    servers.get(index).connection == null && connection.remoteIp() == shard.peer.ip)
                {
                    servers.get(index).attach(connection);
                    target = servers.get(index);
                }
                else
                {
                    final Ghost ghost = new Ghost(connection);
                    ghosts.add(ghost);
                    target = ghost;
                }
            }
            return target;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            return target().onData(buffer, offset, length);
        }

        @Override
        public void onEstablished()
        {
            target().onEstablished();
        }

        @Override
        public void onWritable()
        {
            target().onWritable();
        }

        @Override
        public void onPeerClosed()
        {
            target().onPeerClosed();
        }

        @Override
        public void onUrgent(final int urgentBytesAhead)
        {
            target().onUrgent(urgentBytesAhead);
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            target().onClosed(reason);
        }
    }

    /** A connection nobody planned (an old duplicate SYN): must receive nothing and must end. */
    private final class Ghost implements TcpReceiveHandler
    {
        final TcpConnection connection;
        TcpCloseReason closeReason;

        Ghost(final TcpConnection connection)
        {
            this.connection = connection;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            throw failure("a connection opened by a stray SYN received " + length + " bytes");
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            closeReason = reason;
        }
    }
}
