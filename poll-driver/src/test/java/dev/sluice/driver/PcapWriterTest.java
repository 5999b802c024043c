package dev.sluice.driver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PcapWriterTest
{
    private static final long WALL_NS = 1_764_000_000_123_456_789L; // 2025-11-24T16:00:00.123456789Z
    private static final long MONO_NS = 5_000_000_000L;

    @Test
    void shouldWriteHeaderAndRecordsWithNanosecondWallClockTimestamps(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("x.pcap");
        final byte[] frame = udpFrame();
        try (PcapWriter pcap = new PcapWriter(file, 1 << 17, WALL_NS, MONO_NS))
        {
            pcap.write(new UnsafeBuffer(frame), 0, frame.length, MONO_NS + 1_000);
            pcap.write(new UnsafeBuffer(frame), 0, frame.length, MONO_NS + 2_000_000_001L);
            assertEquals(2, pcap.framesWritten());
        }
        final ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(24 + 2 * (16 + frame.length), b.capacity());
        assertEquals(0xa1b23c4d, b.getInt(0));
        assertEquals(1, b.getInt(20));
        final long first = WALL_NS + 1_000;
        assertEquals((int)(first / 1_000_000_000L), b.getInt(24));
        assertEquals((int)(first % 1_000_000_000L), b.getInt(28));
        assertEquals(frame.length, b.getInt(32));
        assertEquals(frame.length, b.getInt(36));
        final byte[] stored = new byte[frame.length];
        b.get(40, stored);
        assertArrayEquals(frame, stored);
        final long second = WALL_NS + 2_000_000_001L;
        assertEquals((int)(second % 1_000_000_000L), b.getInt(40 + frame.length + 4));
    }

    @Test
    void tcpdumpShouldReadTheCapture(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("x.pcap");
        final byte[] frame = udpFrame();
        try (PcapWriter pcap = new PcapWriter(file, PcapWriter.SNAP_LENGTH + 16, WALL_NS, MONO_NS))
        {
            for (int i = 0; i < 100; i++) // several buffer-full flushes
            {
                pcap.write(new UnsafeBuffer(frame), 0, frame.length, MONO_NS + i * 1_000L);
            }
        }
        final Process p = new ProcessBuilder("tcpdump", "-nn", "-tt", "-r", file.toString())
            .redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        final long lines = out.lines().filter(l -> l.contains("10.1.0.1.40000 > 10.1.0.2.9999: UDP, length 4")).count();
        assertEquals(100, lines, out);
        assertTrue(out.contains("1764000000.123457"), "wall-clock timestamps: " + out.lines().findFirst().orElse(""));
    }

    private static byte[] udpFrame()
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + 4);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)32).putShort((short)1).putShort((short)0x4000)
            .put((byte)64).put((byte)17).putShort((short)0).put(new byte[] {10, 1, 0, 1}).put(new byte[] {10, 1, 0, 2});
        b.putShort((short)40000).putShort((short)9999).putShort((short)12).putShort((short)0).putInt(0xdeadbeef);
        return b.array();
    }
}
