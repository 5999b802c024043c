package dev.sluice.core.tcp;

import org.agrona.DirectBuffer;

/**
 * Initial sequence numbers per RFC 9293 §3.4.1 (the RFC 6528 scheme):
 * {@code ISN = M + F(localip, localport, remoteip, remoteport, secretkey)}.
 *
 * <ul>
 *   <li>{@code M} is a clock that ticks every 4 µs (MUST-8): {@code nowNs / 4000}, so a given 4-tuple's
 *       ISN advances by 250,000 per second and wraps about every 4.77 hours.</li>
 *   <li>{@code F} is SipHash-2-4 keyed with a 128-bit secret (SHLD-1). Without the key the offset cannot
 *       be computed from outside the host (MUST-9); the runtime supplies a random key at start-up and
 *       never exposes it.</li>
 * </ul>
 *
 * <p>Single-threaded (the SipHash state lives in fields), no allocation per call.
 */
public final class IsnGenerator
{
    /** Nanoseconds per tick of the ISN clock (4 µs, MUST-8). */
    public static final long CLOCK_TICK_NS = 4_000L;

    private final long key0;
    private final long key1;
    private long v0;
    private long v1;
    private long v2;
    private long v3;

    /**
     * Creates a generator with a secret key.
     *
     * @param key0 first 64 bits of the key (bytes 0..7 read little-endian, as in the SipHash paper).
     * @param key1 second 64 bits of the key (bytes 8..15 read little-endian).
     * @throws IllegalArgumentException if the key is all zeros, which would make ISNs predictable
     *                                  (MUST-9): the key must come from a random source.
     */
    public IsnGenerator(final long key0, final long key1)
    {
        if (key0 == 0 && key1 == 0)
        {
            throw new IllegalArgumentException("ISN secret key must be random, not all zeros (MUST-9)");
        }
        this.key0 = key0;
        this.key1 = key1;
    }

    /**
     * The initial sequence number for a new connection (MUST-8, MUST-9, SHLD-1). Addresses and ports are
     * hashed in network byte order: local address, local port, remote address, remote port.
     *
     * @param localIp    our IPv4 address.
     * @param localPort  our port, 0..65535.
     * @param remoteIp   the peer's IPv4 address.
     * @param remotePort the peer's port, 0..65535.
     * @param nowNs      the duty cycle's time.
     * @return the ISN.
     */
    public int nextIsn(
        final int localIp, final int localPort, final int remoteIp, final int remotePort, final long nowNs)
    {
        final int clock = (int)(nowNs / CLOCK_TICK_NS);
        return clock + (int)hashTuple(localIp, localPort, remoteIp, remotePort);
    }

    /**
     * The per-connection offset of RFC 7323 timestamps (§5.4, §7.1): TSval = a 1 ms clock + this offset, so a
     * peer learns nothing about our clock or other connections from it. The upper half of the same keyed
     * hash of the 4-tuple whose lower half offsets the ISN.
     *
     * @param localIp    our address.
     * @param localPort  our port.
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @return the offset.
     */
    public int timestampOffset(final int localIp, final int localPort, final int remoteIp, final int remotePort)
    {
        return (int)(hashTuple(localIp, localPort, remoteIp, remotePort) >>> 32);
    }

    /**
     * SipHash-2-4 of the 12-byte 4-tuple message {@code localIp | localPort | remoteIp | remotePort}
     * (big-endian fields), computed without a buffer.
     *
     * @param localIp    our IPv4 address.
     * @param localPort  our port.
     * @param remoteIp   the peer's IPv4 address.
     * @param remotePort the peer's port.
     * @return the 64-bit hash.
     */
    public long hashTuple(final int localIp, final int localPort, final int remoteIp, final int remotePort)
    {
        // bytes 0..7 of the message, read little-endian as SipHash does
        final long firstBlock = Long.reverseBytes(
            ((long)localIp << 32) | ((long)(localPort & 0xFFFF) << 16) | (remoteIp >>> 16));
        final long tail = Integer.reverseBytes(((remoteIp & 0xFFFF) << 16) | (remotePort & 0xFFFF)) & 0xFFFF_FFFFL;

        init();
        compress(firstBlock);
        compress((12L << 56) | tail);
        return finish();
    }

    /**
     * SipHash-2-4 of arbitrary bytes with this generator's key, exactly as specified in the SipHash paper
     * (Aumasson and Bernstein, 2012); used to check the implementation against published test vectors.
     *
     * @param buffer holding the message.
     * @param offset of the first byte.
     * @param length of the message in bytes.
     * @return the 64-bit hash.
     */
    public long hash(final DirectBuffer buffer, final int offset, final int length)
    {
        init();
        final int blocksEnd = offset + (length & ~7);
        int i = offset;
        for (; i < blocksEnd; i += 8)
        {
            long m = 0;
            for (int b = 7; b >= 0; b--)
            {
                m = (m << 8) | (buffer.getByte(i + b) & 0xFFL);
            }
            compress(m);
        }
        long last = (length & 0xFFL) << 56;
        for (int b = 0; i + b < offset + length; b++)
        {
            last |= (buffer.getByte(i + b) & 0xFFL) << (8 * b);
        }
        compress(last);
        return finish();
    }

    private void init()
    {
        v0 = key0 ^ 0x736f6d6570736575L;
        v1 = key1 ^ 0x646f72616e646f6dL;
        v2 = key0 ^ 0x6c7967656e657261L;
        v3 = key1 ^ 0x7465646279746573L;
    }

    private void compress(final long m)
    {
        v3 ^= m;
        sipRound();
        sipRound();
        v0 ^= m;
    }

    private long finish()
    {
        v2 ^= 0xFF;
        sipRound();
        sipRound();
        sipRound();
        sipRound();
        return v0 ^ v1 ^ v2 ^ v3;
    }

    private void sipRound()
    {
        v0 += v1;
        v1 = Long.rotateLeft(v1, 13);
        v1 ^= v0;
        v0 = Long.rotateLeft(v0, 32);
        v2 += v3;
        v3 = Long.rotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = Long.rotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = Long.rotateLeft(v1, 17);
        v1 ^= v2;
        v2 = Long.rotateLeft(v2, 32);
    }
}
