package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The pointer-array accessors by raw address (the data path's: rx burst, tx burst, stash) read and write the
 * same slots as the segment accessors; no DPDK needed, the array is plain native memory.
 */
class MbufPointerArrayTest
{
    private static final int SLOTS = 32;

    @Test
    void shouldReadTheSlotsTheSegmentAccessorWrote()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment array = arena.allocate(ValueLayout.ADDRESS, SLOTS);
            for (int i = 0; i < SLOTS; i++)
            {
                Mbuf.put(array, i, 0x7f00_0000_0000L + i * 0x1_0040L);
            }
            for (int i = 0; i < SLOTS; i++)
            {
                assertEquals(0x7f00_0000_0000L + i * 0x1_0040L, Mbuf.at(array.address(), i), "slot " + i);
            }
        }
    }

    @Test
    void shouldWriteTheSlotsTheSegmentAccessorReads()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment array = arena.allocate(ValueLayout.ADDRESS, SLOTS);
            for (int i = 0; i < SLOTS; i += 2)
            {
                Mbuf.put(array.address(), i, -1L - i); // every bit pattern, not just small positive addresses
            }
            for (int i = 0; i < SLOTS; i++)
            {
                assertEquals(i % 2 == 0 ? -1L - i : 0L, Mbuf.at(array, i), "slot " + i + " (odd ones untouched)");
            }
        }
    }
}
