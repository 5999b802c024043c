package dev.sluice.bench.tcp;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;

import dev.sluice.core.wire.Checksum;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Issue 15: a payload copied into the frame and summed in one pass ({@link Checksum#copyAndSum}) against the copy
 * followed by the sum, and the sum followed by the copy, in the calling thread's CPU time
 * ({@code ThreadMXBean}), which a shared machine's preemption does not inflate the way it inflates wall time.
 * Sources walk a region of {@code --region} bytes: 48 KiB stays in L1/L2 (hot), 8 MiB does not (cold, as a
 * bulk sender's send buffer of 1 MiB is when the window is large).
 * {@code java -cp bench/target/benchmarks.jar dev.sluice.bench.tcp.CopyAndSumCpuTime [regionBytes]}.
 */
public final class CopyAndSumCpuTime
{
    private static final int STRIDE = 1472;
    private static final int ROUNDS = 6;
    private static final int CALLS = 2_000_000;

    private final UnsafeBuffer source;
    private final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
    private final int region;
    private int offset;

    private CopyAndSumCpuTime(final int region)
    {
        this.region = region;
        source = new UnsafeBuffer(ByteBuffer.allocateDirect(region + 2048));
        for (int i = 0; i < region + 2048; i++)
        {
            source.putByte(i, (byte)(i * 13));
        }
    }

    private int next()
    {
        offset += STRIDE;
        if (offset >= region)
        {
            offset = 0;
        }
        return offset;
    }

    private int fused(final int length)
    {
        int s = 0;
        for (int i = 0; i < CALLS; i++)
        {
            s += Checksum.copyAndSum(source, next(), frame, 54, length);
        }
        return s;
    }

    private int copyThenSum(final int length)
    {
        int s = 0;
        for (int i = 0; i < CALLS; i++)
        {
            frame.putBytes(54, source, next(), length);
            s += Checksum.sum(frame, 54, length);
        }
        return s;
    }

    private int sumThenCopy(final int length)
    {
        int s = 0;
        for (int i = 0; i < CALLS; i++)
        {
            final int at = next();
            s += Checksum.sum(source, at, length);
            frame.putBytes(54, source, at, length);
        }
        return s;
    }

    /**
     * @param args optional region size in bytes (default 8 MiB).
     */
    public static void main(final String[] args)
    {
        final int region = args.length > 0 ? Integer.parseInt(args[0]) : 8 << 20;
        final CopyAndSumCpuTime bench = new CopyAndSumCpuTime(region);
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int round = 0; round < ROUNDS; round++)
        {
            for (final int length : new int[] {64, 1024, 1448})
            {
                final long t0 = threads.getCurrentThreadCpuTime();
                sink += bench.fused(length);
                final long t1 = threads.getCurrentThreadCpuTime();
                sink += bench.copyThenSum(length);
                final long t2 = threads.getCurrentThreadCpuTime();
                sink += bench.sumThenCopy(length);
                final long t3 = threads.getCurrentThreadCpuTime();
                if (round >= 2) // the first two rounds warm up
                {
                    System.out.printf("region %d B, %4d bytes: copy-and-sum %.1f ns, copy then sum %.1f ns, " +
                        "sum then copy %.1f ns (CPU time per call)%n", region, length, (t1 - t0) / (double)CALLS,
                        (t2 - t1) / (double)CALLS, (t3 - t2) / (double)CALLS);
                }
            }
        }
        System.out.println("(checksum of everything: " + sink + ")");
    }
}
