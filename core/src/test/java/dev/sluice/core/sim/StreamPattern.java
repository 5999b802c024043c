package dev.sluice.core.sim;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The bytes of one simulated stream as a pure function of (stream key, position): the sender generates them
 * on demand and the receiver checks each delivered byte against the position it should have, so a duplicated,
 * lost, reordered or altered byte is detected without keeping a copy of the stream.
 */
final class StreamPattern
{
    private StreamPattern()
    {
    }

    /**
     * SplitMix64 finaliser: a bijective mix of 64 bits.
     *
     * @param z input.
     * @return mixed bits.
     */
    static long mix(final long z)
    {
        long x = z;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    private static long word(final long key, final long position)
    {
        return mix(key + (position >>> 3) * 0x9E3779B97F4A7C15L);
    }

    /**
     * The byte at a stream position.
     *
     * @param key      the stream's key.
     * @param position byte position from 0.
     * @return the byte.
     */
    static byte byteAt(final long key, final long position)
    {
        return (byte)(word(key, position) >>> ((position & 7) << 3));
    }

    /**
     * Writes the stream's bytes [position, position + length) into a buffer.
     *
     * @param key      the stream's key.
     * @param position first stream position.
     * @param buffer   destination.
     * @param offset   destination offset.
     * @param length   bytes.
     */
    static void fill(
        final long key, final long position, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        long word = word(key, position);
        for (int i = 0; i < length; i++)
        {
            final long p = position + i;
            if ((p & 7) == 0)
            {
                word = word(key, p);
            }
            buffer.putByte(offset + i, (byte)(word >>> ((p & 7) << 3)));
        }
    }

    /**
     * Finds the first byte of a delivered run that differs from the stream.
     *
     * @param key      the stream's key.
     * @param position stream position of the first delivered byte.
     * @param buffer   delivered bytes.
     * @param offset   offset of the first delivered byte.
     * @param length   bytes delivered.
     * @return index within the run of the first wrong byte, or -1 if every byte is right.
     */
    static int firstMismatch(
        final long key, final long position, final DirectBuffer buffer, final int offset, final int length)
    {
        long word = word(key, position);
        for (int i = 0; i < length; i++)
        {
            final long p = position + i;
            if ((p & 7) == 0)
            {
                word = word(key, p);
            }
            if (buffer.getByte(offset + i) != (byte)(word >>> ((p & 7) << 3)))
            {
                return i;
            }
        }
        return -1;
    }
}
