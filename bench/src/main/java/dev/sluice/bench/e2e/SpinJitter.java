package dev.sluice.bench.e2e;

import java.util.Locale;

import org.HdrHistogram.Histogram;

/**
 * The machine's own noise floor for a latency tail (issue 15's ping-pong attribution): a thread pinned to a CPU
 * spins, reading the clock, and records how long each block of about {@code --block-ns} nanoseconds (the
 * ping-pong round trip's median) really took. Whatever stretches a block (interrupts, the hypervisor, other
 * threads on the CPU, the JVM's safepoints) stretches a round trip alike, so the block times' p99.9 and p99.99
 * beside the ping-pong's tell which part of that tail is the machine's and which is Sluice's.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar dev.sluice.bench.e2e.SpinJitter --cpu 1 --seconds 10
 * --block-ns 2500} prints one JSON line (nanoseconds). Allocates nothing while it spins.
 */
public final class SpinJitter
{
    private SpinJitter()
    {
    }

    /**
     * @param args {@code --cpu N --seconds S --block-ns B}.
     */
    public static void main(final String[] args)
    {
        int cpu = 1;
        int seconds = 10;
        long blockNs = 2_500;
        for (int i = 0; i + 1 < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--cpu" -> cpu = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--block-ns" -> blockNs = Long.parseLong(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Affinity.pin(cpu);
        final Histogram blocks = new Histogram(60_000_000_000L, 3);
        spin(blocks, blockNs, 1_000_000_000L); // warm-up: JIT
        blocks.reset();
        spin(blocks, blockNs, seconds * 1_000_000_000L);
        System.out.println(String.format(Locale.ROOT,
            "{\"tool\":\"spin-jitter\",\"cpu\":%d,\"block_ns\":%d,\"blocks\":%d,\"p50\":%d,\"p99\":%d,\"p999\":%d," +
            "\"p9999\":%d,\"max\":%d}", cpu, blockNs, blocks.getTotalCount(), blocks.getValueAtPercentile(50),
            blocks.getValueAtPercentile(99), blocks.getValueAtPercentile(99.9), blocks.getValueAtPercentile(99.99),
            blocks.getMaxValue()));
    }

    private static void spin(final Histogram blocks, final long blockNs, final long durationNs)
    {
        final long end = System.nanoTime() + durationNs;
        long start = System.nanoTime();
        while (start < end)
        {
            long now;
            do
            {
                now = System.nanoTime();
            }
            while (now - start < blockNs);
            blocks.recordValue(now - start);
            start = System.nanoTime();
        }
    }
}
