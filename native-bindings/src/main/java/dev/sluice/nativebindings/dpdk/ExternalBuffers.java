package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import dev.sluice.nativebindings.dpdk.generated.RteMbufExtSharedInfo;
import dev.sluice.nativebindings.dpdk.generated.SluiceShim;

/**
 * DPDK external buffers ({@code rte_pktmbuf_attach_extbuf}): an mbuf that points at memory DPDK does not own,
 * with a {@code struct rte_mbuf_ext_shared_info} per piece of memory counting the mbufs that refer to it. The
 * owner holds one reference for as long as the memory exists, so the count never reaches 0 through DPDK (whose
 * free callback, in the shim, only counts if it ever runs); a count above 1 means an mbuf (in a transmit queue,
 * or at a receiver over an in-memory link) still refers to the memory. Attaching is
 * {@link Lcore#attachExternal}.
 */
public final class ExternalBuffers
{
    /** Bytes of one {@code struct rte_mbuf_ext_shared_info}. */
    public static final long SHARED_INFO_BYTES = RteMbufExtSharedInfo.SIZEOF;
    /**
     * Distance between shared infos in an array: a cache line each, so that a sender taking references on one
     * chunk and a receiver on another core dropping them on the next never write the same line.
     */
    public static final int SHARED_INFO_STRIDE = 64;
    /** The reference count of memory no mbuf refers to: the owner's own. */
    public static final int OWNER_REFERENCE = 1;

    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final VarHandle SHORT = ValueLayout.JAVA_SHORT.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private ExternalBuffers()
    {
    }

    /**
     * Initialises an array of shared infos {@link #SHARED_INFO_STRIDE} bytes apart: the shim's counting free
     * callback (with {@code freedCounter}, a {@code uint64_t}, as its argument) and the owner's reference.
     *
     * @param array        address of {@code count * SHARED_INFO_STRIDE} bytes, 64-byte aligned.
     * @param count        shared infos.
     * @param freedCounter address of a {@code uint64_t} the free callback increments.
     */
    public static void initSharedInfos(final long array, final int count, final long freedCounter)
    {
        SluiceShim.sluice_extbuf_shinfo_init(array, count, SHARED_INFO_STRIDE, freedCounter);
    }

    /**
     * Takes one reference on a shared info for an mbuf about to be attached ({@code rte_mbuf_ext_refcnt_update(+1)}
     * in Java): when only the owner holds it (1) no mbuf can drop one concurrently, so a plain store of 2, as
     * DPDK does; otherwise an atomic increment (a compare-and-set of the aligned 32-bit word holding the 16-bit
     * count and the struct's padding after it, which nothing writes; x86 orders it with DPDK's 16-bit atomic
     * decrements on another core).
     *
     * @param sharedInfo the shared info's address (4-byte aligned count: {@link #SHARED_INFO_STRIDE} apart).
     */
    public static void addReference(final long sharedInfo)
    {
        final long at = sharedInfo + RteMbufExtSharedInfo.refcnt$OFFSET;
        if (referenceCount(sharedInfo) == OWNER_REFERENCE)
        {
            SHORT.setRelease(MEMORY, at, (short)(OWNER_REFERENCE + 1));
            return;
        }
        int word;
        do
        {
            word = (int)INT.getVolatile(MEMORY, at);
        }
        while (!INT.compareAndSet(MEMORY, at, word, (word & 0xFFFF_0000) | ((word + 1) & 0xFFFF)));
    }

    /**
     * Reads a shared info's reference count (acquire: once it reads {@link #OWNER_REFERENCE}, whatever the
     * mbufs' holders did with the memory happened before).
     *
     * @param sharedInfo the shared info's address.
     * @return the count, {@link #OWNER_REFERENCE} when no mbuf refers to the memory.
     */
    public static int referenceCount(final long sharedInfo)
    {
        return Short.toUnsignedInt((short)SHORT.getAcquire(MEMORY, sharedInfo + RteMbufExtSharedInfo.refcnt$OFFSET));
    }
}
