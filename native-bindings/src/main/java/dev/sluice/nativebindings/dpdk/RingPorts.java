package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.nativebindings.dpdk.generated.RteEal;
import dev.sluice.nativebindings.dpdk.generated.RteRing;
import dev.sluice.nativebindings.dpdk.generated.SluiceShim;

/**
 * Two {@code net_ring} ports joined back to back through a pair of {@code rte_ring}s
 * ({@code rte_eth_from_rings} twice, rings crossed): what port A transmits, port B
 * receives and vice versa. Lets two stacks talk in one process without a NIC.
 */
public final class RingPorts
{
    private RingPorts()
    {
    }

    /**
     * Creates the crossed pair. Each port has one rx and one tx queue; configure and start
     * them as any port.
     *
     * @param nameA     device name of the first port.
     * @param nameB     device name of the second port.
     * @param ringSize  ring capacity (power of two); holds packets in flight per direction.
     * @return the two port ids, A then B.
     */
    public static int[] createCrossedPair(final String nameA, final String nameB, final int ringSize)
    {
        Eal.current();
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment aToB = ring(arena, nameA + "_to_" + nameB, ringSize);
            final MemorySegment bToA = ring(arena, nameB + "_to_" + nameA, ringSize);
            return new int[] {fromRings(arena, nameA, bToA, aToB), fromRings(arena, nameB, aToB, bToA)};
        }
    }

    private static MemorySegment ring(final Arena arena, final String name, final int size)
    {
        final MemorySegment ring = RteRing.rte_ring_create(arena.allocateFrom(name), size, RteEal.SOCKET_ID_ANY,
            RteRing.RING_F_SP_ENQ | RteRing.RING_F_SC_DEQ);
        if (MemorySegment.NULL.equals(ring))
        {
            throw new DpdkException("rte_ring_create(" + name + ", " + size + ") failed: " +
                Eal.strerror(SluiceShim.sluice_errno()));
        }
        return ring;
    }

    private static int fromRings(final Arena arena, final String name, final MemorySegment rx, final MemorySegment tx)
    {
        final MemorySegment rxs = arena.allocate(ValueLayout.ADDRESS);
        rxs.set(ValueLayout.ADDRESS, 0, rx);
        final MemorySegment txs = arena.allocate(ValueLayout.ADDRESS);
        txs.set(ValueLayout.ADDRESS, 0, tx);
        final int port = RteRing.rte_eth_from_rings(arena.allocateFrom(name), rxs, 1, txs, 1, 0);
        if (port < 0)
        {
            throw new DpdkException("rte_eth_from_rings(" + name + ") failed: " + Eal.strerror(SluiceShim.sluice_errno()));
        }
        return port;
    }
}
