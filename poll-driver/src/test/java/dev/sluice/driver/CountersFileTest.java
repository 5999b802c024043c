package dev.sluice.driver;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.driver.tools.SluiceStat;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CountersFileTest
{
    @Test
    void aSeparateMappingShouldSeePublishedShardCounters(@TempDir final Path dir)
    {
        final Path path = dir.resolve("sluice.counters");
        try (CountersFile file = CountersFile.create(path, 256))
        {
            final AtomicCounter[] published = file.allocateNetCounters("shard 0");
            final NetCounters shard = new NetCounters();
            shard.add(NetCounterDescriptor.ICMP_ECHO_REPLIES_SENT, 3);
            shard.increment(NetCounterDescriptor.ETH_NOT_FOR_US);

            final CountersReader reader = CountersFile.openReader(path); // as another process would
            assertEquals(0, value(reader, "shard 0: icmp: echo replies sent"), "nothing before publishing");
            CountersFile.publish(shard, published);
            assertEquals(3, value(reader, "shard 0: icmp: echo replies sent"));
            assertEquals(1, value(reader, "shard 0: eth: destination MAC not ours"));

            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            SluiceStat.print(reader, false, new PrintStream(out, true, StandardCharsets.UTF_8));
            final String text = out.toString(StandardCharsets.UTF_8);
            assertEquals(2, text.lines().count(), text);
            assertTrue(text.contains("3 - shard 0: icmp: echo replies sent"), text);
        }
        assertFalse(Files.exists(path), "closing removes the file");
    }

    @Test
    void shouldRefuseAFileThatIsNotACountersFile(@TempDir final Path dir) throws Exception
    {
        final Path path = dir.resolve("other");
        Files.write(path, new byte[128]);
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> CountersFile.openReader(path));
        assertTrue(ex.getMessage().contains("not a Sluice counters file"));
    }

    private static long value(final CountersReader reader, final String label)
    {
        final long[] found = {-1};
        reader.forEach((value, id, l) ->
        {
            if (l.equals(label))
            {
                found[0] = value;
            }
        });
        return found[0];
    }
}
