package dev.sluice.driver.apps;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * The byte stream {@code sluice source} sends and {@code GET /bytes/N} serves: byte {@code i} of the stream is
 * {@code '!' + (i % 89)} (printable ASCII, a prime period so that a lost or repeated block shows). One
 * read-only off-heap block serves every shard: {@link #offset(long)} gives where stream position
 * {@code i} starts in {@link #buffer()}, and at least {@link #CHUNK_BYTES} bytes follow it.
 */
public final class FixedPattern
{
    /** Period of the pattern. */
    public static final int PERIOD = 89;
    /** Longest run readable from one offset. */
    public static final int CHUNK_BYTES = 64 * 1024;
    private static final UnsafeBuffer BUFFER;

    static
    {
        final int length = CHUNK_BYTES + PERIOD;
        BUFFER = new UnsafeBuffer(ByteBuffer.allocateDirect(length));
        for (int i = 0; i < length; i++)
        {
            BUFFER.putByte(i, at(i));
        }
    }

    private FixedPattern()
    {
    }

    /**
     * @param position stream position.
     * @return the byte at that position.
     */
    public static byte at(final long position)
    {
        return (byte)('!' + (int)(position % PERIOD));
    }

    /**
     * @return the shared block (read only).
     */
    public static UnsafeBuffer buffer()
    {
        return BUFFER;
    }

    /**
     * @param position stream position.
     * @return the offset in {@link #buffer()} where that position's byte is, followed by
     *         {@link #CHUNK_BYTES} more of the stream.
     */
    public static int offset(final long position)
    {
        return (int)(position % PERIOD);
    }
}
