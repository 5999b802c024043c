package dev.sluice.driver.runtime;

import java.util.function.Consumer;
import java.util.function.IntPredicate;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.driver.FlowSteering;
import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.ShardCounters;
import dev.sluice.driver.ShardWork;

/**
 * What an application sees of one shard: listening and active opens (with a local port whose flow this
 * shard owns), its counters, its clock, and shutdown's close-all. Used on the shard's thread only, except
 * {@link #unfinishedCloses()}, {@link #index()} and {@link #count()}.
 */
public final class ShardContext
{
    private final ShardAgent agent;
    private final TcpStack tcp;
    private final int localIp;
    private final OwnedPorts ownedPorts = new OwnedPorts();
    private final Consumer<TcpChannel> closeOne = TcpChannel::close;
    private final Consumer<TcpChannel> abortOne = ShardContext::abortUnfinished;
    private final Consumer<TcpChannel> countOne = this::countUnfinished;
    private ShardWork[] works = new ShardWork[0];
    private int unfinishedCount;
    private boolean closing;
    private volatile int unfinishedCloses = -1;

    ShardContext(final ShardAgent agent, final TcpStack tcp, final int localIp)
    {
        this.agent = agent;
        this.tcp = tcp;
        this.localIp = localIp;
    }

    /**
     * @return this shard's index (its queue).
     */
    public int index()
    {
        return agent.shardIndex();
    }

    /**
     * @return the number of shards.
     */
    public int count()
    {
        return agent.shardCount();
    }

    /**
     * @return the TCP settings (buffer sizes, MSS) of this shard's connections.
     */
    public TcpConfig tcpConfig()
    {
        return tcp.config();
    }

    /**
     * @return this shard's runtime counters, where applications count their bytes.
     */
    public ShardCounters counters()
    {
        return agent.shardCounters();
    }

    /**
     * @return the duty cycle's time.
     */
    public long nowNs()
    {
        return agent.nowNs();
    }

    /**
     * Passive OPEN on this shard (each shard accepts the connections whose flows it owns).
     *
     * @param localPort the port.
     * @param handler   asked {@code onAccept} for every SYN.
     * @throws IllegalStateException if the port already listens.
     */
    public void listen(final int localPort, final TcpChannelHandler handler)
    {
        tcp.listen(localPort, handler);
    }

    /**
     * Stops accepting on a port of this shard; existing connections are not affected.
     *
     * @param localPort the port.
     * @return true if it was listening.
     */
    public boolean stopListening(final int localPort)
    {
        return tcp.stopListening(localPort);
    }

    /**
     * Active OPEN from this shard, from the stack's ephemeral-port allocator restricted to ports whose flow
     * this shard owns (replies land on this shard's queue).
     *
     * @param remoteIp   the peer.
     * @param remotePort its port.
     * @param handler    the connection's handler.
     * @param attachment the channel's attachment, or null.
     * @return the channel in SYN-SENT, or null if no port or no pooled connection is free.
     */
    public TcpChannel open(
        final int remoteIp, final int remotePort, final TcpChannelHandler handler, final Object attachment)
    {
        ownedPorts.remoteIp = remoteIp;
        ownedPorts.remotePort = remotePort;
        return tcp.open(remoteIp, remotePort, handler, attachment, agent.nowNs(), count() > 1 ? ownedPorts : null);
    }

    /**
     * @return 4-tuples of this shard in TIME-WAIT (compact records).
     */
    public int timeWaitCount()
    {
        return tcp.timeWaitCount();
    }

    /**
     * @return connections of this shard not yet CLOSED (TIME-WAIT included).
     */
    public int liveConnections()
    {
        return tcp.connectionCount();
    }

    /** CLOSE every open connection (the peer sees our FIN, or a RST if data was left unread). */
    void closeAll()
    {
        closing = true;
        tcp.forEachChannel(closeOne);
        updateUnfinished();
    }

    /** ABORT every connection still open (the peer sees a RST). */
    void abortAll()
    {
        tcp.forEachChannel(abortOne);
        updateUnfinished();
    }

    /**
     * Registers work to run on this shard's thread in every duty cycle, after the application's (call on the
     * shard's thread, e.g. from a command): blocking sockets pump their rings here.
     *
     * @param work run after the burst, before TCP's poll.
     */
    public void addWork(final ShardWork work)
    {
        works = java.util.Arrays.copyOf(works, works.length + 1);
        works[works.length - 1] = work;
    }

    /**
     * @return the shard's agent: drive it ({@code onStart}, {@code doWork}, {@code onClose}) when the stack is
     * externally driven.
     */
    public ShardAgent agent()
    {
        return agent;
    }

    int doWork(final long nowNs)
    {
        int work = 0;
        final ShardWork[] works = this.works;
        for (final ShardWork w : works)
        {
            work += w.doWork(nowNs);
        }
        if (closing)
        {
            updateUnfinished();
        }
        return work;
    }

    private static void abortUnfinished(final TcpChannel channel)
    {
        if (channel.state() != TcpState.TIME_WAIT)
        {
            channel.abort();
        }
    }

    private void countUnfinished(final TcpChannel channel)
    {
        final TcpState s = channel.state();
        if (s != TcpState.CLOSED && s != TcpState.TIME_WAIT && s != TcpState.FIN_WAIT_2)
        {
            unfinishedCount++; // the peer has not acknowledged our FIN yet
        }
    }

    private void updateUnfinished()
    {
        unfinishedCount = 0;
        tcp.forEachChannel(countOne);
        unfinishedCloses = unfinishedCount;
    }

    /**
     * @return after a close-all: connections whose FIN the peer has not acknowledged yet; -1 before.
     */
    public int unfinishedCloses()
    {
        return unfinishedCloses;
    }

    /** Accepts a local port whose flow to the current peer this shard owns (no allocation per open). */
    private final class OwnedPorts implements IntPredicate
    {
        int remoteIp;
        int remotePort;

        @Override
        public boolean test(final int port)
        {
            return FlowSteering.owner(localIp, port, remoteIp, remotePort, count()) == index();
        }
    }
}
