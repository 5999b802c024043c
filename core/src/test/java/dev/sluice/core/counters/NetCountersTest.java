package dev.sluice.core.counters;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetCountersTest
{
    @Test
    void shouldHaveDenseIdsAndUniqueLabels()
    {
        final Set<String> labels = new HashSet<>();
        for (int id = 0; id < NetCounterDescriptor.count(); id++)
        {
            final NetCounterDescriptor descriptor = NetCounterDescriptor.byId(id);
            assertEquals(id, descriptor.id());
            assertTrue(labels.add(descriptor.label()), descriptor.label());
            assertTrue(descriptor.label().length() < 64, "fits an Aeron counter label");
        }
    }

    @Test
    void shouldCountAndSumDropsOnly()
    {
        final NetCounters counters = new NetCounters();
        counters.increment(NetCounterDescriptor.IPV4_BAD_CHECKSUM);
        counters.add(NetCounterDescriptor.ARP_QUEUE_FULL, 2);
        counters.increment(NetCounterDescriptor.FRAMES_RECEIVED);
        assertEquals(3, counters.totalDrops());
        assertEquals(1, counters.get(NetCounterDescriptor.IPV4_BAD_CHECKSUM.id()));
        counters.reset();
        assertEquals(0, counters.get(NetCounterDescriptor.FRAMES_RECEIVED));
    }
}
