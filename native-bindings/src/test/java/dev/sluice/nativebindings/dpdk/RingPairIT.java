package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two net_ring ports crossed in one JVM: 100,000 frames of 60..1514 bytes with patterned
 * payloads go from A to B and back, every byte is checked both ways, and no mbuf leaks.
 */
class RingPairIT
{
    private static final int FRAMES = 100_000;
    private static final int BURST = 32;
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    @Test
    void shouldCarry100kPatternedFramesThereAndBackWithoutLeakingMbufs()
    {
        TestEal.get();
        final Lcore lcore = TestEal.lcore();
        final int[] ports = RingPorts.createCrossedPair("it_ring_a", "it_ring_b", 1024);
        try (MbufPool pool = MbufPool.create("it_ring_pool", 4095, 256, MbufPool.DEFAULT_DATA_ROOM))
        {
            final EthPort a = EthPort.of(ports[0]);
            final EthPort b = EthPort.of(ports[1]);
            for (final EthPort port : new EthPort[] {a, b})
            {
                port.configure(1, 1, 0, null, 0, 0);
                port.setupRxQueue(0, 1024, pool);
                port.setupTxQueue(0, 1024);
                port.start();
            }
            final int availableAtStart = pool.availableCount();
            final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);
            final MemorySegment received = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);

            long bytes = 0;
            for (int seq = 0; seq < FRAMES; seq += BURST)
            {
                final int n = Math.min(BURST, FRAMES - seq);
                assertTrue(lcore.allocBulk(pool, burst, n), "pool exhausted at frame " + seq);
                for (int i = 0; i < n; i++)
                {
                    bytes += fill(Mbuf.at(burst, i), seq + i);
                }
                transfer(lcore, a.id(), b.id(), burst, received, n);
                verify(received, seq, n, "A to B");
                transfer(lcore, b.id(), a.id(), received, burst, n);
                verify(burst, seq, n, "B to A");
                lcore.freeBulk(burst, n);
            }

            assertEquals(availableAtStart, pool.availableCount(), "mbufs leaked");
            assertEquals(FRAMES, a.stats().opackets());
            assertEquals(FRAMES, b.stats().opackets());
            assertEquals(FRAMES, a.stats().ipackets());
            assertEquals(FRAMES, b.stats().ipackets());
            assertTrue(bytes > FRAMES * 700L, "frame sizes span 60..1514");
            for (final EthPort port : new EthPort[] {a, b})
            {
                port.stop();
                port.close();
            }
        }
    }

    private static void transfer(
        final Lcore lcore, final int from, final int to, final MemorySegment out, final MemorySegment in, final int n)
    {
        assertEquals(n, lcore.txBurst(from, 0, out, n), "ring took fewer frames than sent");
        int got = 0;
        final MemorySegment rest = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);
        while (got < n)
        {
            final int k = lcore.rxBurst(to, 0, rest, n - got);
            if (k == 0)
            {
                fail("lost " + (n - got) + " frames");
            }
            for (int i = 0; i < k; i++)
            {
                Mbuf.put(in, got + i, Mbuf.at(rest, i));
            }
            got += k;
        }
    }

    static int lengthOf(final int seq)
    {
        return 60 + (int)((seq * 2654435761L) % (1514 - 60 + 1));
    }

    static byte patternByte(final int seq, final int index)
    {
        return (byte)(seq * 31 + index * 7 + (index >>> 8) + (seq >>> 8));
    }

    private static int fill(final long mbuf, final int seq)
    {
        final int length = lengthOf(seq);
        Mbuf.setLength(mbuf, length);
        final long data = Mbuf.dataAddress(mbuf);
        for (int i = 0; i < length; i++)
        {
            MEMORY.set(ValueLayout.JAVA_BYTE, data + i, patternByte(seq, i));
        }
        return length;
    }

    private static void verify(final MemorySegment mbufs, final int firstSeq, final int n, final String direction)
    {
        for (int i = 0; i < n; i++)
        {
            final long mbuf = Mbuf.at(mbufs, i);
            final int seq = firstSeq + i;
            assertEquals(lengthOf(seq), Mbuf.packetLength(mbuf), direction + " frame " + seq + " length");
            assertEquals(lengthOf(seq), Mbuf.dataLength(mbuf), direction + " frame " + seq + " data length");
            final long data = Mbuf.dataAddress(mbuf);
            for (int j = 0; j < lengthOf(seq); j++)
            {
                if (MEMORY.get(ValueLayout.JAVA_BYTE, data + j) != patternByte(seq, j))
                {
                    fail(direction + " frame " + seq + " byte " + j + " differs");
                }
            }
        }
    }
}
