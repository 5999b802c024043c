package dev.sluice.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How much CPU a measured thread got: {@code /proc/self/task/TID/schedstat} holds the time the thread ran
 * and the time it waited on a run queue (runnable, but another task had the CPU). Sampled by the main
 * thread at the start and the end of the measurement, so the measured threads do no I/O. A busy-polling
 * thread that waits on a run queue is what a shared, overloaded machine looks like: the results say so.
 */
public final class SchedStat
{
    private final int tid;
    private long runNsAtStart;
    private long waitNsAtStart;
    private long wallNsAtStart;
    private double runPercent = Double.NaN;
    private double waitPercent = Double.NaN;

    /**
     * @param tid the thread's Linux id.
     */
    public SchedStat(final int tid)
    {
        this.tid = tid;
    }

    /** Samples the start. */
    public void start()
    {
        final long[] now = read();
        runNsAtStart = now[0];
        waitNsAtStart = now[1];
        wallNsAtStart = System.nanoTime();
    }

    /** Samples the end. */
    public void end()
    {
        final long[] now = read();
        final double wall = System.nanoTime() - wallNsAtStart;
        if (now[0] >= 0 && runNsAtStart >= 0 && wall > 0)
        {
            runPercent = 100.0 * (now[0] - runNsAtStart) / wall;
            waitPercent = 100.0 * (now[1] - waitNsAtStart) / wall;
        }
    }

    /**
     * JSON fields {@code "<prefix>_cpu_pct"} (share of wall time the thread ran) and
     * {@code "<prefix>_runqueue_wait_pct"} (share of wall time it waited for a CPU).
     *
     * @param prefix e.g. client or server.
     * @return the fields.
     */
    public String json(final String prefix)
    {
        return String.format(Locale.ROOT, "\"%s_cpu_pct\":%.1f,\"%s_runqueue_wait_pct\":%.1f",
            prefix, Double.isNaN(runPercent) ? -1.0 : runPercent, prefix, Double.isNaN(waitPercent) ? -1.0 : waitPercent);
    }

    private long[] read()
    {
        try
        {
            final String[] fields = Files.readString(Path.of("/proc/self/task/" + tid + "/schedstat")).trim().split("\\s+");
            return new long[] {Long.parseLong(fields[0]), Long.parseLong(fields[1])};
        }
        catch (final IOException | RuntimeException ex)
        {
            return new long[] {-1, -1};
        }
    }
}
