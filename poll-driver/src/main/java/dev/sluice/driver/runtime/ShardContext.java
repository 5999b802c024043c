package dev.sluice.driver.runtime;

import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.driver.FlowSteering;
import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.ShardCounters;

/**
 * What an application sees of one shard: its TCP, its counters, active opens with a local port that maps
 * to this shard, and the registry of the application's open connections (closed on shutdown). Used on the
 * shard's thread only, except {@link #unfinishedCloses()}.
 */
public final class ShardContext
{
    /** First ephemeral port (IANA range, like Linux's ip_local_port_range start). */
    public static final int EPHEMERAL_FIRST = 32_768;
    /** Last ephemeral port. */
    public static final int EPHEMERAL_LAST = 60_999;

    private final ShardAgent agent;
    private final TcpStack tcp;
    private final int localIp;
    private AppConnection[] live = new AppConnection[64];
    private int liveCount;
    private int nextEphemeral;
    private boolean closing;
    private volatile int unfinishedCloses = -1;

    ShardContext(final ShardAgent agent, final TcpStack tcp, final int localIp, final int index)
    {
        this.agent = agent;
        this.tcp = tcp;
        this.localIp = localIp;
        this.nextEphemeral = EPHEMERAL_FIRST + index * 997;
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
     * @return this shard's TCP.
     */
    public TcpStack tcp()
    {
        return tcp;
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
     * Active OPEN from this shard, with an ephemeral local port whose flow this shard owns.
     *
     * @param remoteIp   the peer.
     * @param remotePort its port.
     * @param handler    the connection's handler.
     * @param nowNs      the duty cycle's time.
     * @return the connection in SYN-SENT, or null if no port or no pooled connection is free.
     */
    public TcpConnection connect(
        final int remoteIp, final int remotePort, final TcpReceiveHandler handler, final long nowNs)
    {
        final int range = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
        for (int i = 0; i < range; i++)
        {
            final int port = nextEphemeral;
            nextEphemeral = port == EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
            if (FlowSteering.owner(localIp, port, remoteIp, remotePort, count()) == index() &&
                tcp.connection(remoteIp, remotePort, port) == null)
            {
                return tcp.connect(remoteIp, remotePort, port, handler, nowNs);
            }
        }
        return null;
    }

    void track(final AppConnection c)
    {
        if (liveCount == live.length)
        {
            live = java.util.Arrays.copyOf(live, liveCount * 2);
        }
        c.trackIndex = liveCount;
        live[liveCount++] = c;
    }

    void untrack(final AppConnection c)
    {
        final int i = c.trackIndex;
        if (i < 0)
        {
            return;
        }
        final AppConnection last = live[--liveCount];
        live[i] = last;
        last.trackIndex = i;
        live[liveCount] = null;
        c.trackIndex = -1;
    }

    /**
     * @return the application's open connections on this shard.
     */
    public int liveConnections()
    {
        return liveCount;
    }

    /** CLOSE every open connection (the peer sees our FIN, or a RST if data was left unread). */
    void closeAll()
    {
        closing = true;
        for (int i = liveCount - 1; i >= 0; i--)
        {
            final TcpConnection c = live[i].connection;
            if (c != null)
            {
                c.close();
            }
        }
        updateUnfinished();
    }

    /** ABORT every connection still open (the peer sees a RST). */
    void abortAll()
    {
        for (int i = liveCount - 1; i >= 0; i--)
        {
            final TcpConnection c = live[i].connection;
            if (c != null && c.state() != TcpState.CLOSED && c.state() != TcpState.TIME_WAIT)
            {
                c.abort();
            }
        }
        updateUnfinished();
    }

    int afterBurst()
    {
        if (closing)
        {
            updateUnfinished();
        }
        return 0;
    }

    private void updateUnfinished()
    {
        int unfinished = 0;
        for (int i = 0; i < liveCount; i++)
        {
            final TcpConnection c = live[i].connection;
            if (c == null)
            {
                continue;
            }
            final TcpState s = c.state();
            if (s != TcpState.CLOSED && s != TcpState.TIME_WAIT && s != TcpState.FIN_WAIT_2)
            {
                unfinished++; // the peer has not acknowledged our FIN yet
            }
        }
        unfinishedCloses = unfinished;
    }

    /**
     * @return after a close-all: connections whose FIN the peer has not acknowledged yet; -1 before.
     */
    public int unfinishedCloses()
    {
        return unfinishedCloses;
    }
}
