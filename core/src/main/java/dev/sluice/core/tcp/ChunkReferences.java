package dev.sluice.core.tcp;

/**
 * Who else may still read a {@link ChunkPool} chunk: with zero-copy transmit the device is handed references
 * to send-buffer memory instead of copies (DPDK external buffers), and such memory must not be reused while a
 * reference is out (a frame in a transmit queue, or held by a receiver on an in-memory link). The pool asks
 * before it takes a freed chunk back ({@link ChunkPool#free}); a referenced chunk waits on a deferred list
 * that {@link ChunkPool#reclaimDeferred()} checks once per duty cycle. Implementations must not allocate.
 */
@FunctionalInterface
public interface ChunkReferences
{
    /**
     * Whether anything beside the pool still refers to a chunk's memory.
     *
     * @param chunk a chunk id of the pool.
     * @return true while a reference is out.
     */
    boolean isReferenced(int chunk);
}
