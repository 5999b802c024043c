package dev.sluice.core.net;

import java.util.Locale;

/**
 * Impairments of a link, the way {@code tc netem} describes them: loss, duplication, corruption (one
 * flipped bit), delay with jitter, and reordering (a share of frames skips the delay). Parsed from a
 * string such as {@code "loss=1%,dup=0.5%,corrupt=0.1%,delay=10ms,jitter=2ms,reorder=25%,seed=7"}.
 *
 * <p>Used by {@link ImpairedLink} at a shard's device boundary, in both directions, for interop tests on
 * kernels without {@code sch_netem}. Immutable.
 *
 * @param lossRate      probability a frame is dropped, 0..1.
 * @param duplicateRate probability a frame is delivered twice, 0..1.
 * @param corruptRate   probability one random bit of a frame is flipped, 0..1.
 * @param delayNs       delay of every frame (unless reordered), &gt;= 0.
 * @param jitterNs      uniform random extra delay in [-jitter, +jitter], &gt;= 0, at most {@code delayNs}.
 * @param reorderRate   probability a frame is sent at once, ahead of delayed ones (needs a delay), 0..1.
 * @param seed          of the pseudo-random choices, so that a run can be replayed.
 */
public record LinkImpairment(
    double lossRate,
    double duplicateRate,
    double corruptRate,
    long delayNs,
    long jitterNs,
    double reorderRate,
    long seed)
{
    /** No impairment at all. */
    public static final LinkImpairment NONE = new LinkImpairment(0, 0, 0, 0, 0, 0, 1);

    /**
     * Validates.
     */
    public LinkImpairment
    {
        requireRate("loss", lossRate);
        requireRate("dup", duplicateRate);
        requireRate("corrupt", corruptRate);
        requireRate("reorder", reorderRate);
        if (delayNs < 0 || jitterNs < 0)
        {
            throw new IllegalArgumentException("delay and jitter must be >= 0, got " + delayNs + ", " + jitterNs);
        }
        if (jitterNs > delayNs)
        {
            throw new IllegalArgumentException("jitter (" + jitterNs + " ns) must not exceed delay (" + delayNs
                + " ns)");
        }
        if (reorderRate > 0 && delayNs == 0)
        {
            throw new IllegalArgumentException("reorder needs a delay (frames that are not reordered wait it)");
        }
    }

    /**
     * Parses {@code key=value} pairs separated by commas. Keys: {@code loss}, {@code dup}, {@code corrupt},
     * {@code reorder} (percentages with {@code %}, or fractions), {@code delay}, {@code jitter} (with
     * {@code ns}, {@code us}, {@code ms} or {@code s}), {@code seed}. An empty string or {@code none} is no
     * impairment.
     *
     * @param spec the text.
     * @return the impairment.
     * @throws IllegalArgumentException naming the bad pair.
     */
    public static LinkImpairment parse(final String spec)
    {
        final String text = spec.trim();
        if (text.isEmpty() || text.equalsIgnoreCase("none"))
        {
            return NONE;
        }
        double loss = 0;
        double dup = 0;
        double corrupt = 0;
        double reorder = 0;
        long delay = 0;
        long jitter = 0;
        long seed = 1;
        for (final String pair : text.split(","))
        {
            final int eq = pair.indexOf('=');
            if (eq <= 0)
            {
                throw new IllegalArgumentException("impairment '" + pair + "' is not key=value");
            }
            final String key = pair.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            final String value = pair.substring(eq + 1).trim();
            switch (key)
            {
                case "loss" -> loss = rate(key, value);
                case "dup", "duplicate" -> dup = rate(key, value);
                case "corrupt" -> corrupt = rate(key, value);
                case "reorder" -> reorder = rate(key, value);
                case "delay" -> delay = duration(key, value);
                case "jitter" -> jitter = duration(key, value);
                case "seed" -> seed = number(key, value);
                default -> throw new IllegalArgumentException(
                    "unknown impairment '" + key + "' (loss, dup, corrupt, reorder, delay, jitter, seed)");
            }
        }
        return new LinkImpairment(loss, dup, corrupt, delay, jitter, reorder, seed);
    }

    /**
     * Whether any frame can be affected.
     *
     * @return false for {@link #NONE}-like settings.
     */
    public boolean isActive()
    {
        return lossRate > 0 || duplicateRate > 0 || corruptRate > 0 || delayNs > 0;
    }

    private static double rate(final String key, final String value)
    {
        try
        {
            final double rate = value.endsWith("%")
                ? Double.parseDouble(value.substring(0, value.length() - 1)) / 100.0
                : Double.parseDouble(value);
            requireRate(key, rate);
            return rate;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("impairment " + key + "=" + value + " is not a rate (e.g. 1%)");
        }
    }

    private static long duration(final String key, final String value)
    {
        final String v = value.toLowerCase(Locale.ROOT);
        final long scale;
        final String digits;
        if (v.endsWith("ns"))
        {
            scale = 1;
            digits = v.substring(0, v.length() - 2);
        }
        else if (v.endsWith("us"))
        {
            scale = 1_000;
            digits = v.substring(0, v.length() - 2);
        }
        else if (v.endsWith("ms"))
        {
            scale = 1_000_000;
            digits = v.substring(0, v.length() - 2);
        }
        else if (v.endsWith("s"))
        {
            scale = 1_000_000_000;
            digits = v.substring(0, v.length() - 1);
        }
        else
        {
            throw new IllegalArgumentException("impairment " + key + "=" + value + " needs a unit (ns, us, ms, s)");
        }
        try
        {
            return Math.round(Double.parseDouble(digits) * scale);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("impairment " + key + "=" + value + " is not a duration");
        }
    }

    private static long number(final String key, final String value)
    {
        try
        {
            return Long.parseLong(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("impairment " + key + "=" + value + " is not an integer");
        }
    }

    private static void requireRate(final String key, final double rate)
    {
        if (!(rate >= 0 && rate <= 1))
        {
            throw new IllegalArgumentException("impairment " + key + " must be within 0..100%, got " + rate);
        }
    }
}
