package dev.sluice.core.stack;

import java.util.Arrays;

/**
 * A hashed timer wheel whose timers are the connections themselves: each {@link Node} is on at most one
 * bucket's intrusive doubly linked list (Linux's {@code timer_list}, Varghese and Lauck's scheme 6). Scheduling
 * and cancelling are O(1) and allocate nothing, and the wheel's memory is one reference and one long per tick
 * whatever the number of timers: a connection storm arming a million timers in the same millisecond costs the
 * connections' own fields, not a wheel that grows for every tick (Agrona's {@code DeadlineTimerWheel} sizes
 * every tick for the busiest one).
 *
 * <ul>
 *   <li>Tick {@code 2^tickShift} ns; {@code ticksPerWheel} buckets (a power of two). A deadline more than one
 *       turn away waits in its bucket and is looked at once per turn.</li>
 *   <li>{@link #poll} visits the buckets of the ticks that began since the last call, and the current tick's
 *       bucket again only when one of its timers may be due (a per-bucket lower bound on the deadlines), so an
 *       idle wheel costs a comparison per duty cycle.</li>
 *   <li>A timer fires at or after its deadline, never before; after a pause longer than a turn, every bucket
 *       is visited once.</li>
 * </ul>
 * Single-threaded.
 */
final class ConnectionTimerWheel
{
    /** A timer: extended by what the wheel schedules. */
    abstract static class Node
    {
        Node timerPrevious;
        Node timerNext;
        long timerDeadlineNs;
        int timerBucket = -1;

        /**
         * Whether this node is scheduled.
         *
         * @return true when on the wheel.
         */
        final boolean isScheduled()
        {
            return timerBucket >= 0;
        }
    }

    /** Receives expired timers. */
    interface Expiry
    {
        /**
         * A timer expired; it is no longer scheduled.
         *
         * @param node  the timer.
         * @param nowNs the time of the poll.
         */
        void onExpiry(Node node, long nowNs);
    }

    private final int tickShift;
    private final int mask;
    private final Node[] heads;
    private final long[] earliestNs;
    private long startNs;
    private long currentTick;
    private long count;

    /**
     * Creates an empty wheel.
     *
     * @param startNs       time of tick 0.
     * @param tickShift     log2 of the tick in ns.
     * @param ticksPerWheel buckets, a power of two.
     */
    ConnectionTimerWheel(final long startNs, final int tickShift, final int ticksPerWheel)
    {
        if (Integer.bitCount(ticksPerWheel) != 1)
        {
            throw new IllegalArgumentException("ticksPerWheel must be a power of two, got " + ticksPerWheel);
        }
        this.tickShift = tickShift;
        this.mask = ticksPerWheel - 1;
        this.heads = new Node[ticksPerWheel];
        this.earliestNs = new long[ticksPerWheel];
        Arrays.fill(earliestNs, Long.MAX_VALUE);
        this.startNs = startNs;
    }

    /**
     * Sets the time of tick 0 (before any timer is scheduled).
     *
     * @param startNs the time.
     */
    void resetStartTime(final long startNs)
    {
        this.startNs = startNs;
        this.currentTick = 0;
    }

    /**
     * Schedules a node (it must not be scheduled already).
     *
     * @param node       the timer.
     * @param deadlineNs when it is due.
     */
    void schedule(final Node node, final long deadlineNs)
    {
        final long tick = Math.max(currentTick, (deadlineNs - startNs) >> tickShift);
        final int bucket = (int)(tick & mask);
        node.timerDeadlineNs = deadlineNs;
        node.timerBucket = bucket;
        node.timerPrevious = null;
        final Node head = heads[bucket];
        node.timerNext = head;
        if (head != null)
        {
            head.timerPrevious = node;
        }
        heads[bucket] = node;
        if (deadlineNs < earliestNs[bucket])
        {
            earliestNs[bucket] = deadlineNs;
        }
        count++;
    }

    /**
     * Removes a node if it is scheduled.
     *
     * @param node the timer.
     * @return true if it was scheduled.
     */
    boolean cancel(final Node node)
    {
        final int bucket = node.timerBucket;
        if (bucket < 0)
        {
            return false;
        }
        final Node previous = node.timerPrevious;
        final Node next = node.timerNext;
        if (previous == null)
        {
            heads[bucket] = next;
        }
        else
        {
            previous.timerNext = next;
        }
        if (next != null)
        {
            next.timerPrevious = previous;
        }
        node.timerPrevious = null;
        node.timerNext = null;
        node.timerBucket = -1;
        count--;
        return true;
    }

    /**
     * Fires every timer due at {@code nowNs}.
     *
     * @param nowNs  the duty cycle's time.
     * @param expiry receives each expired timer.
     * @return timers fired.
     */
    int poll(final long nowNs, final Expiry expiry)
    {
        if (count == 0)
        {
            currentTick = Math.max(currentTick, (nowNs - startNs) >> tickShift);
            return 0;
        }
        final long nowTick = (nowNs - startNs) >> tickShift;
        int fired = 0;
        int visited = 0;
        while (true)
        {
            final int bucket = (int)(currentTick & mask);
            if (earliestNs[bucket] <= nowNs)
            {
                fired += expireBucket(bucket, nowNs, expiry);
            }
            if (currentTick >= nowTick)
            {
                break;
            }
            if (++visited > mask)
            {
                currentTick = nowTick; // a pause longer than a turn: every bucket was visited once
                continue;
            }
            currentTick++;
        }
        return fired;
    }

    private int expireBucket(final int bucket, final long nowNs, final Expiry expiry)
    {
        int fired = 0;
        long earliest = Long.MAX_VALUE;
        earliestNs[bucket] = Long.MAX_VALUE; // schedule() lowers it again for timers armed by the handler
        Node node = heads[bucket];
        while (node != null)
        {
            final Node next = node.timerNext;
            if (node.timerDeadlineNs <= nowNs)
            {
                cancel(node);
                expiry.onExpiry(node, nowNs);
                fired++;
            }
            else if (node.timerDeadlineNs < earliest)
            {
                earliest = node.timerDeadlineNs;
            }
            node = next;
        }
        earliestNs[bucket] = Math.min(earliestNs[bucket], earliest);
        return fired;
    }

    /**
     * Timers scheduled.
     *
     * @return count.
     */
    long timerCount()
    {
        return count;
    }
}
