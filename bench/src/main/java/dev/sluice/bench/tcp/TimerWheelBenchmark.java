package dev.sluice.bench.tcp;

import java.util.concurrent.TimeUnit;

import org.agrona.DeadlineTimerWheel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (d) Agrona's {@link DeadlineTimerWheel}, the candidate for per-connection timers (retransmission,
 * TIME-WAIT, delayed ACK) once a shard holds many connections: 1,024 ticks of 1,024 ns, with
 * {@code background} long-lived timers spread over the wheel (as idle connections' keep-alive timers).
 *
 * <ul>
 *   <li>{@code scheduleCancel}: arm a retransmission timer and cancel it (the common case: the ACK came).</li>
 *   <li>{@code scheduleAdvancePoll}: arm a timer one tick ahead, advance the clock one tick and poll: the
 *       timer expires and the handler runs.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class TimerWheelBenchmark
{
    private static final long TICK_NS = 1024;
    private static final long FAR_NS = 3_600_000_000_000L;

    /** Long-lived timers in the wheel. */
    @Param({"0", "1000"})
    public int background;

    private DeadlineTimerWheel wheel;
    private long nowNs;
    private long expired;
    private final DeadlineTimerWheel.TimerHandler handler = (unit, now, timerId) ->
    {
        expired++;
        return true;
    };

    /** The wheel and its background timers. */
    @Setup
    public void setUp()
    {
        nowNs = 0;
        wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, nowNs, TICK_NS, 1024);
        for (int i = 0; i < background; i++)
        {
            wheel.scheduleTimer(FAR_NS + i * TICK_NS);
        }
    }

    /**
     * Schedule then cancel.
     *
     * @return whether the cancel found the timer.
     */
    @Benchmark
    public boolean scheduleCancel()
    {
        final long id = wheel.scheduleTimer(nowNs + 200_000_000L);
        return wheel.cancelTimer(id);
    }

    /**
     * Schedule one tick ahead, advance one tick, poll.
     *
     * @return timers expired so far.
     */
    @Benchmark
    public long scheduleAdvancePoll()
    {
        wheel.scheduleTimer(nowNs + TICK_NS);
        nowNs += TICK_NS;
        wheel.poll(nowNs, handler, 16);
        return expired;
    }
}
