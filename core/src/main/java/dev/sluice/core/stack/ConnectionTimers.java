package dev.sluice.core.stack;

import dev.sluice.core.tcp.TcpConnection;

/**
 * A shard's connection timers and what {@link TcpStack#poll} visits. The poll runs once per duty cycle after
 * every segment of the burst (MUST-58, MUST-59). It does not visit every connection:
 * <ul>
 *   <li><b>Timers.</b> Each connection's {@link TcpConnection#nextDeadlineNs()} is armed in one {@link
 *       ConnectionTimerWheel} per shard, whose nodes are the connections themselves; an expired timer calls
 *       {@link TcpConnection#onTimer} if the connection's deadline is really due. A connection's timer is
 *       re-synced after every interaction (segment, timer, poll, application call): it is re-armed only when
 *       the deadline moved earlier; a deadline that moved later (the RTO restarted by an ACK) or went away
 *       leaves the armed timer alone, and when that fires early it is simply re-armed for the current deadline.
 *       So a steady ACK clock costs no wheel operation per segment.</li>
 *   <li><b>Tick.</b> 2<sup>20</sup> ns (about 1.05 ms; the wheel needs a power of two): the shortest TCP
 *       timers (delayed ACK, 200 ms minimum RTO) tolerate firing up to one tick late, Linux's own jiffies are 1
 *       to 4 ms. <b>Wheel span:</b> {@value TcpStack#TIMER_TICKS_PER_WHEEL} ticks, about 1.07 s: a deadline
 *       beyond one turn simply stays in its bucket and is looked at once per turn. The wheel's memory is a
 *       reference and a long per tick, whatever the number of timers (a storm of connections accepted in the
 *       same millisecond costs nothing more).</li>
 *   <li><b>Ready list.</b> Only connections that may have output are polled: those that received a segment,
 *       had a timer fire, were opened, or that the application touched. Application calls on a connection
 *       outside the stack's callbacks ({@link TcpConnection#send}, {@link TcpConnection#close}, {@link
 *       TcpConnection#consumed}, {@link TcpConnection#abort}) are noticed through the {@link
 *       TcpConnection.ActivityListener} every pooled connection carries (and through {@link
 *       dev.sluice.core.tcp.TcpReceiveHandler#onClosed} for ABORT): the application simply calls the
 *       connection, on the shard's thread, and the next {@link TcpStack#poll} sends what is due. Other calls
 *       that change what may be sent ({@link TcpConnection#noDelay(boolean)}) are followed by {@link
 *       TcpStack#wake}.</li>
 * </ul>
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
