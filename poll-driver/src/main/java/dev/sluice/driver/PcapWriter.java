package dev.sluice.driver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Writes frames to a classic pcap file (nanosecond timestamps, link type Ethernet), readable
 * by tcpdump and Wireshark: the runtime's {@code --pcap FILE}.
 *
 * <p>Owned by one polling thread. Frames are copied into a preallocated direct buffer and
 * written to the file when it fills and on {@link #flush()}; nothing is allocated per frame.
 * Timestamps are the duty cycle's monotonic {@code nowNs} shifted to wall-clock time by an
 * offset taken once at open.
 */
public final class PcapWriter implements AutoCloseable
{
    /** pcap magic for nanosecond-resolution timestamps. */
    public static final int MAGIC_NANOSECONDS = 0xa1b23c4d;
    /** LINKTYPE_ETHERNET. */
    public static final int LINKTYPE_ETHERNET = 1;
    /** Bytes of a frame kept at most. */
    public static final int SNAP_LENGTH = 65535;
    private static final int FILE_HEADER_LENGTH = 24;
    private static final int RECORD_HEADER_LENGTH = 16;

    private final FileChannel channel;
    private final ByteBuffer byteBuffer;
    private final UnsafeBuffer buffer;
    private final long wallMinusMonotonicNs;
    private int position;
    private long framesWritten;

    /**
     * Creates (or truncates) the file and writes the pcap header.
     *
     * @param file              the capture file.
     * @param bufferBytes       how much to buffer before writing (at least 64 KiB + 16).
     * @param wallClockNs       the wall clock now, in ns since the epoch.
     * @param monotonicNs       the monotonic clock now (the one {@code nowNs} comes from).
     * @throws UncheckedIOException if the file cannot be written.
     */
    public PcapWriter(final Path file, final int bufferBytes, final long wallClockNs, final long monotonicNs)
    {
        if (bufferBytes < SNAP_LENGTH + RECORD_HEADER_LENGTH)
        {
            throw new IllegalArgumentException("pcap buffer must hold one full frame: at least " +
                (SNAP_LENGTH + RECORD_HEADER_LENGTH) + " bytes");
        }
        try
        {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write the capture file " + file, ex);
        }
        byteBuffer = ByteBuffer.allocateDirect(bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer = new UnsafeBuffer(byteBuffer);
        wallMinusMonotonicNs = wallClockNs - monotonicNs;
        buffer.putInt(0, MAGIC_NANOSECONDS, ByteOrder.LITTLE_ENDIAN);
        buffer.putShort(4, (short)2, ByteOrder.LITTLE_ENDIAN); // version 2.4
        buffer.putShort(6, (short)4, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(8, 0, ByteOrder.LITTLE_ENDIAN);           // thiszone
        buffer.putInt(12, 0, ByteOrder.LITTLE_ENDIAN);          // sigfigs
        buffer.putInt(16, SNAP_LENGTH, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(20, LINKTYPE_ETHERNET, ByteOrder.LITTLE_ENDIAN);
        position = FILE_HEADER_LENGTH;
    }

    /**
     * Records one frame.
     *
     * @param frame  holding the frame.
     * @param offset where it starts.
     * @param length its length on the wire (without FCS).
     * @param nowNs  the duty cycle's monotonic time.
     */
    public void write(final DirectBuffer frame, final int offset, final int length, final long nowNs)
    {
        final int captured = Math.min(length, SNAP_LENGTH);
        if (position + RECORD_HEADER_LENGTH + captured > buffer.capacity())
        {
            flush();
        }
        final long wallNs = nowNs + wallMinusMonotonicNs;
        buffer.putInt(position, (int)(wallNs / 1_000_000_000L), ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(position + 4, (int)(wallNs % 1_000_000_000L), ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(position + 8, captured, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(position + 12, length, ByteOrder.LITTLE_ENDIAN);
        buffer.putBytes(position + RECORD_HEADER_LENGTH, frame, offset, captured);
        position += RECORD_HEADER_LENGTH + captured;
        framesWritten++;
    }

    /**
     * Writes what is buffered to the file.
     */
    public void flush()
    {
        byteBuffer.limit(position).position(0);
        try
        {
            while (byteBuffer.hasRemaining())
            {
                channel.write(byteBuffer);
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("writing the capture file failed", ex);
        }
        byteBuffer.clear();
        position = 0;
    }

    /**
     * @return frames recorded.
     */
    public long framesWritten()
    {
        return framesWritten;
    }

    /**
     * Flushes and closes the file.
     */
    @Override
    public void close()
    {
        flush();
        try
        {
            channel.close();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
