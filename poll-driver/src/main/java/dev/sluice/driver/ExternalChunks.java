package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.core.tcp.ChunkReferences;
import dev.sluice.nativebindings.dpdk.ExternalBuffers;

/**
 * Zero-copy transmit's reference counts for one shard's {@link ChunkPool}: one DPDK
 * {@code rte_mbuf_ext_shared_info} per chunk, counting the mbufs attached to the chunk's memory
 * ({@link ExternalBuffers}) on top of the pool's own reference. The pool asks {@link #isReferenced} before it
 * reuses a freed chunk (a chunk still in a transmit queue, or held by a receiver over net_ring, waits on the
 * pool's deferred list).
 *
 * <p>Shared infos come in pages of {@value #PAGE_CHUNKS} chunks (one 1 MiB slab of 4 KiB chunks): the first 64
 * pages at construction, any further one when a chunk of it is first attached (a one-time event per page, like
 * the pool's slabs). A page is never freed: an mbuf in flight may still point at it; the pages' native memory
 * goes with this object, after the shard's end. Single
 * writer (the shard's thread); the counts also drop on whichever thread frees the mbufs, atomically.
 */
public final class ExternalChunks implements ChunkReferences
{
    /** Chunks per page of shared infos. */
    public static final int PAGE_CHUNKS = 256;
    private static final int PAGE_SHIFT = 8;
    private static final int EAGER_PAGES = 64;

    private final Arena arena = Arena.ofAuto();
    private final long[] pages;
    private final MemorySegment freed;
    private final long freedAddress;

    /**
     * @param pool the shard's payload pool.
     */
    public ExternalChunks(final ChunkPool pool)
    {
        this.pages = new long[(pool.maxChunks() + PAGE_CHUNKS - 1) >>> PAGE_SHIFT];
        this.freed = arena.allocate(ValueLayout.JAVA_LONG);
        this.freedAddress = freed.address();
        // the first pages now (64 MiB of payload, 1 MiB of shared infos at most), the rest when first used
        for (int page = 0; page < Math.min(pages.length, EAGER_PAGES); page++)
        {
            allocatePage(page);
        }
    }

    /**
     * The shared info of a chunk, for attaching its memory to an mbuf.
     *
     * @param chunk a chunk id.
     * @return its address.
     */
    public long sharedInfo(final int chunk)
    {
        final int page = chunk >>> PAGE_SHIFT;
        long base = pages[page];
        if (base == 0)
        {
            base = allocatePage(page);
        }
        return base + (chunk & (PAGE_CHUNKS - 1)) * ExternalBuffers.SHARED_INFO_STRIDE;
    }

    private long allocatePage(final int page)
    {
        final MemorySegment segment = arena.allocate(PAGE_CHUNKS * ExternalBuffers.SHARED_INFO_STRIDE, 64);
        ExternalBuffers.initSharedInfos(segment.address(), PAGE_CHUNKS, freedAddress);
        pages[page] = segment.address();
        return pages[page];
    }

    @Override
    public boolean isReferenced(final int chunk)
    {
        final long base = pages[chunk >>> PAGE_SHIFT];
        return base != 0 && ExternalBuffers.referenceCount(
            base + (chunk & (PAGE_CHUNKS - 1)) * ExternalBuffers.SHARED_INFO_STRIDE) != ExternalBuffers.OWNER_REFERENCE;
    }

    /**
     * Mbuf references out now, over all chunks (walks every page: for tests and shutdown checks).
     *
     * @return references beyond the owner's.
     */
    public long referencesOut()
    {
        long out = 0;
        for (int page = 0; page < pages.length; page++)
        {
            if (pages[page] != 0)
            {
                for (int i = 0; i < PAGE_CHUNKS; i++)
                {
                    out += ExternalBuffers.referenceCount(pages[page] + i * ExternalBuffers.SHARED_INFO_STRIDE) -
                        ExternalBuffers.OWNER_REFERENCE;
                }
            }
        }
        return out;
    }

    /**
     * Times DPDK dropped a count to 0 and called the free callback: never, while the owner holds its reference.
     *
     * @return count (0 expected).
     */
    public long freeCallbacks()
    {
        return freed.get(ValueLayout.JAVA_LONG, 0);
    }
}
