package dev.sluice.core.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The intrusive timer wheel: O(1) schedule and cancel, never early, at most a tick late while polled, every
 * timer fired once however many share a tick.
 */
class ConnectionTimerWheelTest
{
    private static final int SHIFT = 20;
    private static final long TICK = 1L << SHIFT;

    private static final class Timer extends ConnectionTimerWheel.Node
    {
        long firedAtNs = -1;
        int fired;
    }

    private final List<Timer> expired = new ArrayList<>();
    private final ConnectionTimerWheel.Expiry expiry = (node, nowNs) ->
    {
        final Timer timer = (Timer)node;
        timer.firedAtNs = nowNs;
        timer.fired++;
        expired.add(timer);
    };

    @Test
    void shouldFireEachTimerOnceNeverEarlyAndAtMostATickLate()
    {
        final ConnectionTimerWheel wheel = new ConnectionTimerWheel(0, SHIFT, 64);
        final Random random = new Random(3);
        final Timer[] timers = new Timer[10_000];
        for (int i = 0; i < timers.length; i++)
        {
            timers[i] = new Timer();
            wheel.schedule(timers[i], random.nextLong(200 * TICK)); // three turns and more
        }
        for (long now = 0; now <= 201 * TICK; now += TICK / 4)
        {
            wheel.poll(now, expiry);
        }
        assertEquals(timers.length, expired.size());
        for (final Timer timer : timers)
        {
            assertEquals(1, timer.fired);
            assertTrue(timer.firedAtNs >= timer.timerDeadlineNs, "early");
            assertTrue(timer.firedAtNs - timer.timerDeadlineNs <= TICK / 4, "late by " +
                (timer.firedAtNs - timer.timerDeadlineNs));
        }
        assertEquals(0, wheel.timerCount());
    }

    @Test
    void shouldHoldAStormOfTimersInOneTickWithoutGrowing()
    {
        final ConnectionTimerWheel wheel = new ConnectionTimerWheel(0, SHIFT, 1024);
        for (int i = 0; i < 100_000; i++)
        {
            wheel.schedule(new Timer(), 5 * TICK + 7);
        }
        assertEquals(0, wheel.poll(5 * TICK, expiry));
        assertEquals(100_000, wheel.poll(5 * TICK + 7, expiry));
    }

    @Test
    void shouldNotFireCancelledTimers()
    {
        final ConnectionTimerWheel wheel = new ConnectionTimerWheel(0, SHIFT, 16);
        final Timer a = new Timer();
        final Timer b = new Timer();
        final Timer c = new Timer();
        wheel.schedule(a, 3 * TICK);
        wheel.schedule(b, 3 * TICK);
        wheel.schedule(c, 3 * TICK);
        assertTrue(wheel.cancel(b));
        assertFalse(wheel.cancel(b));
        assertFalse(b.isScheduled());
        wheel.poll(4 * TICK, expiry);
        assertEquals(List.of(c, a), expired);
        assertEquals(0, b.fired);
    }

    @Test
    void shouldVisitEveryBucketOnceAfterALongPause()
    {
        final ConnectionTimerWheel wheel = new ConnectionTimerWheel(0, SHIFT, 16);
        final Timer early = new Timer();
        final Timer later = new Timer();
        wheel.schedule(early, 2 * TICK);
        wheel.schedule(later, 1_000 * TICK);
        assertEquals(1, wheel.poll(500 * TICK, expiry));
        assertEquals(List.of(early), expired);
        assertEquals(1, wheel.poll(1_000 * TICK, expiry));
    }

    @Test
    void shouldFireATimerScheduledInThePastAtTheNextPoll()
    {
        final ConnectionTimerWheel wheel = new ConnectionTimerWheel(0, SHIFT, 16);
        wheel.poll(10 * TICK, expiry);
        final Timer late = new Timer();
        wheel.schedule(late, 3 * TICK);
        assertEquals(1, wheel.poll(10 * TICK + 1, expiry));
    }
}
