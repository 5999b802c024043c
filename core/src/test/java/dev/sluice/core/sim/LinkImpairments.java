package dev.sluice.core.sim;

import java.util.SplittableRandom;

/**
 * What the simulated link does to frames, the same in both directions. Probabilities are per frame and
 * independent; delays are in virtual nanoseconds.
 *
 * @param lossRate           probability a frame is dropped.
 * @param duplicateRate      probability a frame is delivered twice (the copy a little later).
 * @param reorderRate        probability a frame is held back by {@code reorderDelayMaxNs} at most, so that
 *                           frames sent after it arrive first.
 * @param corruptRate        probability one byte of the IPv4 datagram is flipped (header or segment): the
 *                           IPv4 or TCP checksum must reject it.
 * @param baseDelayNs        propagation delay.
 * @param jitterNs           extra random delay 0..jitterNs per frame (in-order frames stay in order).
 * @param reorderDelayMaxNs  longest hold-back of a reordered frame.
 * @param bytesPerNs         link rate: serialisation time of a frame is its length divided by this.
 * @param queueFrames        transmit queue bound, in full-sized frames: a frame that finds the queue full is
 *                           tail-dropped.
 */
record LinkImpairments(
    double lossRate,
    double duplicateRate,
    double reorderRate,
    double corruptRate,
    long baseDelayNs,
    long jitterNs,
    long reorderDelayMaxNs,
    double bytesPerNs,
    int queueFrames)
{
    /**
     * Random impairments for one seed: a quarter of the seeds get a clean link, the rest a mix of loss,
     * duplication (up to 3 %), reordering (up to 5 %, held back up to 10 ms), corruption, 10 µs..5 ms delay
     * with up to 2 ms jitter (half the seeds), 100 Mbit/s, 1 or 10 Gbit/s and a bounded queue.
     *
     * @param random the seed's random source.
     * @param heavy  false: loss and corruption up to 0.5 % each and 512..1024 frame queues (see
     *               {@link SimulationRun#MULTIPLE_LOSSES_PER_WINDOW}).
     * @return the impairments.
     */
    static LinkImpairments random(final SplittableRandom random, final boolean heavy)
    {
        final double rate = random.nextDouble();
        final double[] bitsPerSecond = {100e6, 1e9, 10e9};
        final double bytesPerNs = bitsPerSecond[random.nextInt(bitsPerSecond.length)] / 8e9;
        final int[] queues = heavy ? new int[] {8, 32, 128, 512} : new int[] {512, 1024};
        final int queueFrames = queues[random.nextInt(queues.length)];
        final long baseDelayNs = 10_000L + random.nextLong(5_000_000L);
        if (rate < 0.25)
        {
            return new LinkImpairments(0, 0, 0, 0, baseDelayNs, 0, 0, bytesPerNs, queueFrames);
        }
        return new LinkImpairments(
            random.nextDouble() * (heavy ? 0.05 : 0.003),
            random.nextDouble() * 0.03,
            random.nextDouble() * 0.05,
            random.nextDouble() * (heavy ? 0.03 : 0.002),
            baseDelayNs,
            random.nextBoolean() ? 0 : random.nextLong(2_000_000L),
            200_000L + random.nextLong(10_000_000L),
            bytesPerNs,
            queueFrames);
    }

    @Override
    public String toString()
    {
        return String.format(
            "loss=%.4f dup=%.4f reorder=%.4f corrupt=%.4f delay=%dus jitter=%dus reorderDelay<=%dus " +
            "rate=%.0fMbit/s queue=%d",
            lossRate, duplicateRate, reorderRate, corruptRate, baseDelayNs / 1000, jitterNs / 1000,
            reorderDelayMaxNs / 1000, bytesPerNs * 8000, queueFrames);
    }
}
