package dev.sluice.driver.tools;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.sluice.driver.CountersFile;
import org.agrona.concurrent.status.CountersReader;

/**
 * {@code sluice stat [FILE] [--watch]}: prints the counters of a running Sluice from its
 * counters file (default {@value #DEFAULT_FILE}), once or every second, like AeronStat.
 * Exit code 1 if the file is missing or not a counters file, 2 for a usage error.
 */
public final class SluiceStat
{
    /** Where the runtime writes its counters unless told otherwise. */
    public static final String DEFAULT_FILE = "/dev/shm/sluice.counters";

    private SluiceStat()
    {
    }

    /**
     * @param args {@code [FILE] [--watch] [--all]}.
     * @throws InterruptedException if interrupted while watching.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        Path file = Path.of(DEFAULT_FILE);
        boolean watch = false;
        boolean all = false;
        for (final String arg : args)
        {
            switch (arg)
            {
                case "--watch" -> watch = true;
                case "--all" -> all = true;
                case "--help", "-h" ->
                {
                    System.out.println("usage: sluice stat [FILE] [--watch] [--all]   (default FILE " + DEFAULT_FILE + ")");
                    return;
                }
                default ->
                {
                    if (arg.startsWith("-"))
                    {
                        System.err.println("error: unknown option " + arg + "\nusage: sluice stat [FILE] [--watch] [--all]");
                        System.exit(2);
                    }
                    file = Path.of(arg);
                }
            }
        }
        if (!Files.exists(file))
        {
            System.err.println("error: no counters file at " + file + " (is Sluice running? see --counters-file)");
            System.exit(1);
        }
        final CountersReader reader;
        try
        {
            reader = CountersFile.openReader(file);
        }
        catch (final RuntimeException ex)
        {
            System.err.println("error: " + ex.getMessage());
            System.exit(1);
            return;
        }
        do
        {
            print(reader, all, System.out);
            if (watch)
            {
                Thread.sleep(1000);
                System.out.println();
            }
        }
        while (watch);
    }

    /**
     * Prints every allocated counter, or only the non-zero ones.
     *
     * @param reader the counters.
     * @param all    include zeros.
     * @param out    where to print.
     */
    public static void print(final CountersReader reader, final boolean all, final PrintStream out)
    {
        reader.forEach((value, id, label) ->
        {
            if (all || value != 0)
            {
                out.printf("%3d: %,20d - %s%n", id, value, label);
            }
        });
    }
}
