package dev.sluice.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.HdrHistogram.Histogram;

/**
 * One measured run as a JSON object: the system, the workload, operations per second, payload Gbit/s,
 * latency percentiles and the latency distribution (for the plot).
 */
public final class Report
{
    private static final double[] PERCENTILES =
        {0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100};

    private Report()
    {
    }

    /**
     * A histogram of round-trip or connection times in ns, 1 ns .. 10 s, 3 significant digits.
     *
     * @return a new histogram (allocated once, before the run).
     */
    public static Histogram histogram()
    {
        return new Histogram(1, 10_000_000_000L, 3);
    }

    /**
     * Writes the JSON result.
     *
     * @param options     the run's options.
     * @param system      e.g. {@code kernel-nio-spin} or {@code sluice-ring}.
     * @param elapsedNs   measured time.
     * @param operations  operations completed in it (round trips, requests, connections; 0 for bulk).
     * @param payloadBytes payload bytes received in it (bulk), else 0.
     * @param latency     latencies in ns recorded in it, or null.
     * @param notes       free text (mode, caveats).
     */
    public static void write(
        final Options options, final String system, final long elapsedNs, final long operations,
        final long payloadBytes, final Histogram latency, final String notes)
    {
        write(options, system, elapsedNs, operations, payloadBytes, latency, notes, null);
    }

    /**
     * Writes the JSON result with extra fields.
     *
     * @param options      the run's options.
     * @param system       e.g. {@code kernel-nio-spin} or {@code sluice-ring}.
     * @param elapsedNs    measured time.
     * @param operations   operations completed in it.
     * @param payloadBytes payload bytes received in it (bulk), else 0.
     * @param latency      latencies in ns recorded in it, or null.
     * @param notes        free text (mode, caveats).
     * @param extraJson    more fields, {@code "name":value,...}, or null.
     */
    public static void write(
        final Options options, final String system, final long elapsedNs, final long operations,
        final long payloadBytes, final Histogram latency, final String notes, final String extraJson)
    {
        final double seconds = elapsedNs / 1e9;
        final StringBuilder json = new StringBuilder(1024);
        json.append('{');
        field(json, "system", system).append(',');
        field(json, "workload", options.reportedWorkload()).append(',');
        json.append(String.format(Locale.ROOT, "\"seconds\":%.3f,\"operations\":%d,\"ops_per_s\":%.1f," +
            "\"payload_bytes\":%d,\"gbit_per_s\":%.3f", seconds, operations, operations / seconds, payloadBytes,
            payloadBytes * 8 / seconds / 1e9));
        if (latency != null && latency.getTotalCount() > 0)
        {
            json.append(String.format(Locale.ROOT, ",\"latency_ns\":{\"count\":%d,\"mean\":%.1f,\"p50\":%d," +
                "\"p99\":%d,\"p999\":%d,\"max\":%d}", latency.getTotalCount(), latency.getMean(),
                latency.getValueAtPercentile(50), latency.getValueAtPercentile(99),
                latency.getValueAtPercentile(99.9), latency.getMaxValue()));
            json.append(",\"percentiles\":[");
            for (int i = 0; i < PERCENTILES.length; i++)
            {
                json.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "[%s,%d]", PERCENTILES[i],
                    PERCENTILES[i] == 100 ? latency.getMaxValue() : latency.getValueAtPercentile(PERCENTILES[i])));
            }
            json.append(']');
        }
        if (extraJson != null)
        {
            json.append(',').append(extraJson);
        }
        json.append(',');
        field(json, "notes", notes == null ? "" : notes);
        json.append("}\n");
        final String text = json.toString();
        if (options.out() == null)
        {
            System.out.print(text);
        }
        else
        {
            try
            {
                Files.writeString(Path.of(options.out()), text, StandardCharsets.UTF_8);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
            System.out.print(text);
        }
    }

    private static StringBuilder field(final StringBuilder json, final String name, final String value)
    {
        return json.append('"').append(name).append("\":\"")
            .append(value.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    }
}
