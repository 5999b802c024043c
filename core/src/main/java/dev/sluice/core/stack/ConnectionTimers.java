package dev.sluice.core.stack;

import dev.sluice.core.tcp.TcpConnection;

/**
 * A shard's connection timers: each connection's {@link TcpConnection#nextDeadlineNs()} armed in one
 * {@link ConnectionTimerWheel} whose nodes are the connections themselves. A timer is re-armed only when the
 * deadline moved earlier; one that fires early is re-armed for the current deadline at the poll that follows
 * (see {@link TcpStack}). Single-threaded, no allocation.
 */
final class ConnectionTimers implements ConnectionTimerWheel.Expiry
{
    private static final int MAX_TIMER_CALLS_PER_EXPIRY = 8;

    private final TcpStackCounters counters;
    private final ConnectionTable table;
    private final ConnectionTimerWheel wheel;
    private int fired;
    private boolean started;

    ConnectionTimers(final TcpStackCounters counters, final ConnectionTable table)
    {
        this.counters = counters;
        this.table = table;
        // the connections are the wheel's nodes: no per-tick capacity to grow in a connection storm
        this.wheel = new ConnectionTimerWheel(
            0, Long.numberOfTrailingZeros(TcpStack.TIMER_TICK_NS), TcpStack.TIMER_TICKS_PER_WHEEL);
    }

    // false before the first poll
    boolean started()
    {
        return started;
    }

    void start(final long nowNs)
    {
        wheel.resetStartTime(nowNs);
        started = true;
    }

    long scheduledTimers()
    {
        return wheel.timerCount();
    }

    // fires what is due; returns the timers fired
    int poll(final long nowNs)
    {
        fired = 0;
        wheel.poll(nowNs, this);
        return fired;
    }

    // Arms the wheel for the connection's deadline unless a timer no later than it is already armed.
    void sync(final ConnectionSlot slot)
    {
        final long deadlineNs = slot.connection.nextDeadlineNs();
        if (deadlineNs == TcpConnection.NO_DEADLINE)
        {
            return; // an armed timer fires for nothing once; cheaper than cancelling on every ACK
        }
        if (slot.isScheduled())
        {
            if (deadlineNs - slot.timerDeadlineNs >= 0)
            {
                return; // fires early and is re-armed then
            }
            cancel(slot);
        }
        wheel.schedule(slot, deadlineNs);
        counters.timersScheduled++;
    }

    void cancel(final ConnectionSlot slot)
    {
        if (wheel.cancel(slot))
        {
            counters.timersCancelled++;
        }
    }

    /** Expired wheel timers back to their connections. */
    @Override
    public void onExpiry(final ConnectionTimerWheel.Node node, final long nowNs)
    {
        counters.timerExpiries++;
        final ConnectionSlot slot = (ConnectionSlot)node;
        final TcpConnection connection = slot.connection;
        for (int i = 0; i < MAX_TIMER_CALLS_PER_EXPIRY; i++)
        {
            final long deadlineNs = connection.nextDeadlineNs();
            if (deadlineNs == TcpConnection.NO_DEADLINE || nowNs - deadlineNs < 0)
            {
                break;
            }
            final int fired = connection.onTimer(nowNs);
            if (fired == 0)
            {
                break;
            }
            counters.timersFired += fired;
            this.fired += fired;
        }
        table.markReady(slot); // polled after the timers: sends what the timer queued, re-arms, or frees
    }
}
