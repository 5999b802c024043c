package dev.sluice.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * A reusable holder for the TCP options of one segment, with a checked parser and an encoder. One
 * instance per shard is enough: {@link #parse} resets it, nothing allocates.
 *
 * <pre>
 * Kind  Length  Meaning                       Layout
 *  0      -     End of Option List (EOL)      [0]
 *  1      -     No-Operation (NOP)            [1]
 *  2      4     Maximum Segment Size          [2][4][ MSS (16) ]
 *  3      3     Window Scale (RFC 7323)       [3][3][shift]
 *  4      2     SACK Permitted (RFC 2018)     [4][2]
 *  5   2+8n     SACK blocks, n = 1..4         [5][len]{[left edge (32)][right edge (32)]} * n
 *  8     10     Timestamps (RFC 7323)         [8][10][ TSval (32) ][ TSecr (32) ]
 *  *   &gt;= 2     any other option              [kind][len][len - 2 bytes], skipped (MUST-6)
 * </pre>
 *
 * <h2>Parsing rules</h2>
 * <ul>
 *   <li>Options are read byte by byte, so alignment does not matter (MUST-64), in any segment (MUST-5).</li>
 *   <li>EOL ends the list; whatever follows is padding and is not interpreted (MUST-69), even if a
 *       non-conforming sender left non-zero bytes there.</li>
 *   <li>Every option other than EOL and NOP has a length byte (MUST-68). A missing length byte or a length
 *       running past the header is {@link WireError#OPTION_OVERFLOW}; a length below 2 is
 *       {@link WireError#ILLEGAL_OPTION_LENGTH} (MUST-7: the TCP layer resets the connection). Parsing
 *       stops at the first such error and the holder's contents must then not be used.</li>
 *   <li>Unknown kinds are skipped by their length (MUST-6) and counted in {@link #unknownCount()}.</li>
 *   <li>A known kind with the wrong length (e.g. MSS of length 3, SACK of length 11) is skipped like an
 *       unknown option and counted in {@link #malformedCount()}: like Linux, the segment is still
 *       processed, but the option is not trusted.</li>
 *   <li>A repeated option overwrites the earlier one. Whether an option is allowed on this segment (e.g.
 *       MSS only on SYN, MUST-65) is the TCP layer's decision: the parser records what is there.</li>
 * </ul>
 *
 * <h2>Encoding</h2>
 * {@link #encode} writes the options set on this holder in Linux's order (MSS, SACK-permitted +
 * timestamps, NOP + window scale, NOP NOP + SACK), NOP-aligned, and pads with zero EOL bytes to a
 * multiple of 4 (MUST-69).
 */
public final class TcpOptions
{
    /** Kind: End of Option List. */
    public static final int KIND_EOL = 0;
    /** Kind: No-Operation. */
    public static final int KIND_NOP = 1;
    /** Kind: Maximum Segment Size. */
    public static final int KIND_MSS = 2;
    /** Kind: Window Scale. */
    public static final int KIND_WINDOW_SCALE = 3;
    /** Kind: SACK Permitted. */
    public static final int KIND_SACK_PERMITTED = 4;
    /** Kind: SACK. */
    public static final int KIND_SACK = 5;
    /** Kind: Timestamps. */
    public static final int KIND_TIMESTAMPS = 8;

    /** Length of the MSS option. */
    public static final int LENGTH_MSS = 4;
    /** Length of the window scale option. */
    public static final int LENGTH_WINDOW_SCALE = 3;
    /** Length of the SACK-permitted option. */
    public static final int LENGTH_SACK_PERMITTED = 2;
    /** Length of the timestamps option. */
    public static final int LENGTH_TIMESTAMPS = 10;
    /** Length of one SACK block. */
    public static final int SACK_BLOCK_LENGTH = 8;
    /** Most SACK blocks that fit in 40 option bytes. */
    public static final int MAX_SACK_BLOCKS = 4;

    private boolean hasMss;
    private int mss;
    private boolean hasWindowScale;
    private int windowScale;
    private boolean sackPermitted;
    private boolean hasTimestamps;
    private int timestampValue;
    private int timestampEchoReply;
    private int sackBlockCount;
    private final int[] sackLeftEdges = new int[MAX_SACK_BLOCKS];
    private final int[] sackRightEdges = new int[MAX_SACK_BLOCKS];
    private int unknownCount;
    private int malformedCount;

    /**
     * Parses the options of a validated TCP header.
     *
     * @param buffer       holding the segment.
     * @param tcpOffset    offset of the TCP header.
     * @param headerLength header length returned by {@link TcpHeader#validate}.
     * @return {@code 0}, or a negative {@link WireError} code.
     */
    public int parseHeader(final DirectBuffer buffer, final int tcpOffset, final int headerLength)
    {
        return parse(buffer, tcpOffset + TcpHeader.OPTIONS_OFFSET, headerLength - TcpHeader.MIN_HEADER_LENGTH);
    }

    /**
     * Checked parse of untrusted option bytes into this holder (reset first). Never throws; reads only
     * {@code [offset, offset + length)}.
     *
     * @param buffer holding the options.
     * @param offset of the first option byte.
     * @param length option bytes (header length - 20).
     * @return {@code 0}, {@link WireError#ILLEGAL_OPTION_LENGTH} or {@link WireError#OPTION_OVERFLOW}.
     */
    public int parse(final DirectBuffer buffer, final int offset, final int length)
    {
        clear();
        final int end = offset + length;
        int i = offset;
        while (i < end)
        {
            final int kind = buffer.getByte(i) & 0xFF;
            if (kind == KIND_EOL)
            {
                break;
            }
            if (kind == KIND_NOP)
            {
                i++;
                continue;
            }
            if (i + 1 >= end)
            {
                return WireError.OPTION_OVERFLOW;
            }
            final int optionLength = buffer.getByte(i + 1) & 0xFF;
            if (optionLength < 2)
            {
                return WireError.ILLEGAL_OPTION_LENGTH;
            }
            if (optionLength > end - i)
            {
                return WireError.OPTION_OVERFLOW;
            }
            switch (kind)
            {
                case KIND_MSS ->
                {
                    if (optionLength == LENGTH_MSS)
                    {
                        hasMss = true;
                        mss = buffer.getShort(i + 2, BIG_ENDIAN) & 0xFFFF;
                    }
                    else
                    {
                        malformedCount++;
                    }
                }
                case KIND_WINDOW_SCALE ->
                {
                    if (optionLength == LENGTH_WINDOW_SCALE)
                    {
                        hasWindowScale = true;
                        windowScale = buffer.getByte(i + 2) & 0xFF;
                    }
                    else
                    {
                        malformedCount++;
                    }
                }
                case KIND_SACK_PERMITTED ->
                {
                    if (optionLength == LENGTH_SACK_PERMITTED)
                    {
                        sackPermitted = true;
                    }
                    else
                    {
                        malformedCount++;
                    }
                }
                case KIND_TIMESTAMPS ->
                {
                    if (optionLength == LENGTH_TIMESTAMPS)
                    {
                        hasTimestamps = true;
                        timestampValue = buffer.getInt(i + 2, BIG_ENDIAN);
                        timestampEchoReply = buffer.getInt(i + 6, BIG_ENDIAN);
                    }
                    else
                    {
                        malformedCount++;
                    }
                }
                case KIND_SACK -> parseSack(buffer, i, optionLength);
                default -> unknownCount++;
            }
            i += optionLength;
        }
        return 0;
    }

    private void parseSack(final DirectBuffer buffer, final int index, final int optionLength)
    {
        final int blocksLength = optionLength - 2;
        final int count = blocksLength / SACK_BLOCK_LENGTH;
        if (blocksLength % SACK_BLOCK_LENGTH != 0 || count < 1 || count > MAX_SACK_BLOCKS)
        {
            malformedCount++;
            return;
        }
        for (int b = 0; b < count; b++)
        {
            final int blockIndex = index + 2 + b * SACK_BLOCK_LENGTH;
            sackLeftEdges[b] = buffer.getInt(blockIndex, BIG_ENDIAN);
            sackRightEdges[b] = buffer.getInt(blockIndex + 4, BIG_ENDIAN);
        }
        sackBlockCount = count;
    }

    /**
     * Forgets every option, ready to be filled by {@link #parse} or the setters.
     *
     * @return this.
     */
    public TcpOptions clear()
    {
        hasMss = false;
        mss = 0;
        hasWindowScale = false;
        windowScale = 0;
        sackPermitted = false;
        hasTimestamps = false;
        timestampValue = 0;
        timestampEchoReply = 0;
        sackBlockCount = 0;
        unknownCount = 0;
        malformedCount = 0;
        return this;
    }

    /**
     * Number of bytes {@link #encode} will write.
     *
     * @return a multiple of 4, at most 40.
     */
    public int encodedLength()
    {
        int length = 0;
        if (hasMss)
        {
            length += LENGTH_MSS;
        }
        if (hasTimestamps)
        {
            length += 2 + LENGTH_TIMESTAMPS; // SACK-permitted or NOP NOP in front of the timestamps
        }
        else if (sackPermitted)
        {
            length += 2 + LENGTH_SACK_PERMITTED;
        }
        if (hasWindowScale)
        {
            length += 1 + LENGTH_WINDOW_SCALE;
        }
        final int room = (TcpHeader.MAX_OPTIONS_LENGTH - length - 4) / SACK_BLOCK_LENGTH;
        final int blocks = Math.min(sackBlockCount, Math.max(0, room));
        if (blocks > 0)
        {
            length += 4 + blocks * SACK_BLOCK_LENGTH;
        }
        return (length + 3) & ~3;
    }

    /**
     * Writes the options set on this holder (see the class comment for the layout). SACK blocks that do
     * not fit in 40 bytes are left out, last ones first.
     *
     * @param buffer to write to.
     * @param offset of the first option byte (TCP header offset + 20).
     * @return bytes written, a multiple of 4, at most 40; add it to the header length.
     */
    public int encode(final MutableDirectBuffer buffer, final int offset)
    {
        int i = offset;
        if (hasMss)
        {
            buffer.putByte(i, (byte)KIND_MSS);
            buffer.putByte(i + 1, (byte)LENGTH_MSS);
            buffer.putShort(i + 2, (short)mss, BIG_ENDIAN);
            i += LENGTH_MSS;
        }
        if (hasTimestamps)
        {
            if (sackPermitted)
            {
                buffer.putByte(i, (byte)KIND_SACK_PERMITTED);
                buffer.putByte(i + 1, (byte)LENGTH_SACK_PERMITTED);
            }
            else
            {
                buffer.putByte(i, (byte)KIND_NOP);
                buffer.putByte(i + 1, (byte)KIND_NOP);
            }
            buffer.putByte(i + 2, (byte)KIND_TIMESTAMPS);
            buffer.putByte(i + 3, (byte)LENGTH_TIMESTAMPS);
            buffer.putInt(i + 4, timestampValue, BIG_ENDIAN);
            buffer.putInt(i + 8, timestampEchoReply, BIG_ENDIAN);
            i += 2 + LENGTH_TIMESTAMPS;
        }
        else if (sackPermitted)
        {
            buffer.putByte(i, (byte)KIND_NOP);
            buffer.putByte(i + 1, (byte)KIND_NOP);
            buffer.putByte(i + 2, (byte)KIND_SACK_PERMITTED);
            buffer.putByte(i + 3, (byte)LENGTH_SACK_PERMITTED);
            i += 4;
        }
        if (hasWindowScale)
        {
            buffer.putByte(i, (byte)KIND_NOP);
            buffer.putByte(i + 1, (byte)KIND_WINDOW_SCALE);
            buffer.putByte(i + 2, (byte)LENGTH_WINDOW_SCALE);
            buffer.putByte(i + 3, (byte)windowScale);
            i += 4;
        }
        final int room = (TcpHeader.MAX_OPTIONS_LENGTH - (i - offset) - 4) / SACK_BLOCK_LENGTH;
        final int blocks = Math.min(sackBlockCount, Math.max(0, room));
        if (blocks > 0)
        {
            buffer.putByte(i, (byte)KIND_NOP);
            buffer.putByte(i + 1, (byte)KIND_NOP);
            buffer.putByte(i + 2, (byte)KIND_SACK);
            buffer.putByte(i + 3, (byte)(2 + blocks * SACK_BLOCK_LENGTH));
            i += 4;
            for (int b = 0; b < blocks; b++)
            {
                buffer.putInt(i, sackLeftEdges[b], BIG_ENDIAN);
                buffer.putInt(i + 4, sackRightEdges[b], BIG_ENDIAN);
                i += SACK_BLOCK_LENGTH;
            }
        }
        while (((i - offset) & 3) != 0)
        {
            buffer.putByte(i++, (byte)KIND_EOL); // MUST-69: zero padding
        }
        return i - offset;
    }

    /**
     * Whether an MSS option was present.
     *
     * @return true if present.
     */
    public boolean hasMss()
    {
        return hasMss;
    }

    /**
     * MSS value; meaningful only when {@link #hasMss()}.
     *
     * @return 0..65535.
     */
    public int mss()
    {
        return mss;
    }

    /**
     * Sets the MSS option to encode.
     *
     * @param mss 0..65535.
     * @return this.
     */
    public TcpOptions mss(final int mss)
    {
        this.hasMss = true;
        this.mss = mss;
        return this;
    }

    /**
     * Whether a window scale option was present.
     *
     * @return true if present.
     */
    public boolean hasWindowScale()
    {
        return hasWindowScale;
    }

    /**
     * Raw shift count; the TCP layer clamps values above 14 (RFC 7323 §2.3).
     *
     * @return 0..255.
     */
    public int windowScale()
    {
        return windowScale;
    }

    /**
     * Sets the window scale option to encode.
     *
     * @param shift 0..14.
     * @return this.
     */
    public TcpOptions windowScale(final int shift)
    {
        this.hasWindowScale = true;
        this.windowScale = shift;
        return this;
    }

    /**
     * Whether SACK-permitted was present.
     *
     * @return true if present.
     */
    public boolean sackPermitted()
    {
        return sackPermitted;
    }

    /**
     * Sets whether to encode SACK-permitted.
     *
     * @param permitted true to encode it.
     * @return this.
     */
    public TcpOptions sackPermitted(final boolean permitted)
    {
        this.sackPermitted = permitted;
        return this;
    }

    /**
     * Whether a timestamps option was present.
     *
     * @return true if present.
     */
    public boolean hasTimestamps()
    {
        return hasTimestamps;
    }

    /**
     * TSval; meaningful only when {@link #hasTimestamps()}.
     *
     * @return the raw 32-bit value.
     */
    public int timestampValue()
    {
        return timestampValue;
    }

    /**
     * TSecr; meaningful only when {@link #hasTimestamps()}.
     *
     * @return the raw 32-bit value.
     */
    public int timestampEchoReply()
    {
        return timestampEchoReply;
    }

    /**
     * Sets the timestamps option to encode.
     *
     * @param value     TSval.
     * @param echoReply TSecr.
     * @return this.
     */
    public TcpOptions timestamps(final int value, final int echoReply)
    {
        this.hasTimestamps = true;
        this.timestampValue = value;
        this.timestampEchoReply = echoReply;
        return this;
    }

    /**
     * Number of SACK blocks present (first block = most recent, RFC 2018).
     *
     * @return 0..4.
     */
    public int sackBlockCount()
    {
        return sackBlockCount;
    }

    /**
     * Left edge of a SACK block.
     *
     * @param index 0 .. {@link #sackBlockCount()} - 1.
     * @return the raw sequence number.
     */
    public int sackLeftEdge(final int index)
    {
        return sackLeftEdges[index];
    }

    /**
     * Right edge of a SACK block (first sequence number after the block).
     *
     * @param index 0 .. {@link #sackBlockCount()} - 1.
     * @return the raw sequence number.
     */
    public int sackRightEdge(final int index)
    {
        return sackRightEdges[index];
    }

    /**
     * Appends a SACK block to encode; blocks beyond {@link #MAX_SACK_BLOCKS} are ignored.
     *
     * @param leftEdge  first sequence number of the block.
     * @param rightEdge sequence number after the block.
     * @return this.
     */
    public TcpOptions addSackBlock(final int leftEdge, final int rightEdge)
    {
        if (sackBlockCount < MAX_SACK_BLOCKS)
        {
            sackLeftEdges[sackBlockCount] = leftEdge;
            sackRightEdges[sackBlockCount] = rightEdge;
            sackBlockCount++;
        }
        return this;
    }

    /**
     * Number of options of unknown kind that were skipped by their length (MUST-6).
     *
     * @return the count.
     */
    public int unknownCount()
    {
        return unknownCount;
    }

    /**
     * Number of known options skipped because their length was wrong for their kind.
     *
     * @return the count.
     */
    public int malformedCount()
    {
        return malformedCount;
    }
}
