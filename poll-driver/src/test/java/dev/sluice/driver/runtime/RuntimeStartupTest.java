package dev.sluice.driver.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The pure parts of the start-up's wiring (the steps that touch the port run in the net_ring ITs): each shard's
 * capture file and the MAC handed to the PMD.
 */
class RuntimeStartupTest
{
    @Test
    void shouldKeepTheCaptureFileNameWithOneShard()
    {
        assertEquals("/tmp/run.pcap", RuntimeStartup.pcapName("/tmp/run.pcap", 0, 1));
    }

    @Test
    void shouldNameEachShardsCaptureFileBeforeItsExtension()
    {
        assertEquals("/tmp/run-shard0.pcap", RuntimeStartup.pcapName("/tmp/run.pcap", 0, 2));
        assertEquals("/tmp/run-shard1.pcap", RuntimeStartup.pcapName("/tmp/run.pcap", 1, 2));
    }

    @Test
    void shouldAppendTheShardWhenOnlyADirectoryHasADot()
    {
        assertEquals("/tmp/a.b/run-shard3", RuntimeStartup.pcapName("/tmp/a.b/run", 3, 4));
    }

    @Test
    void shouldSpellTheMacMostSignificantByteFirst()
    {
        assertArrayEquals(new byte[] {0x02, 0x53, 0x4c, (byte)0xab, (byte)0xcd, (byte)0xef},
            RuntimeStartup.macBytes(0x0253_4cab_cdefL));
    }
}
