package dev.sluice.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ImpairedLinkTest
{
    private static final long MS = 1_000_000L;

    /** Records frames as (first int of the frame, length, time). */
    static final class Recorder implements FrameReceiver
    {
        final List<long[]> frames = new ArrayList<>();
        final List<byte[]> bytes = new ArrayList<>();

        @Override
        public void onFrame(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
        {
            frames.add(new long[] {buffer.getInt(offset), length, nowNs});
            final byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            bytes.add(copy);
        }
    }

    /** A device transmitter that records committed frames. */
    static final class Device implements FrameTransmitter
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final Recorder sent = new Recorder();
        boolean full;
        boolean record = true;

        @Override
        public MutableDirectBuffer claim(final int maxLength)
        {
            return full ? null : buffer;
        }

        @Override
        public void commit(final int length)
        {
            if (record)
            {
                sent.onFrame(buffer, 0, length, 0);
            }
        }

        @Override
        public void abort()
        {
        }
    }

    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[100]);
    private final Device device = new Device();
    private final Recorder network = new Recorder();

    private ImpairedLink link(final String rx, final String tx)
    {
        final ImpairedLink link = new ImpairedLink(LinkImpairment.parse(rx), LinkImpairment.parse(tx), 64, device);
        link.bind(network);
        return link;
    }

    private void receive(final ImpairedLink link, final int id, final long nowNs)
    {
        frame.putInt(0, id);
        link.onFrame(frame, 0, 60, nowNs);
    }

    @Nested
    class Parse
    {
        @Test
        void shouldParseEveryKeyWithUnits()
        {
            final LinkImpairment i = LinkImpairment.parse("loss=1%,dup=0.5%,corrupt=0.1%,delay=10ms,jitter=2ms,"
                + "reorder=25%,seed=7");
            assertEquals(0.01, i.lossRate(), 1e-12);
            assertEquals(0.005, i.duplicateRate(), 1e-12);
            assertEquals(0.001, i.corruptRate(), 1e-12);
            assertEquals(10 * MS, i.delayNs());
            assertEquals(2 * MS, i.jitterNs());
            assertEquals(0.25, i.reorderRate(), 1e-12);
            assertEquals(7, i.seed());
            assertEquals(LinkImpairment.NONE, LinkImpairment.parse("none"));
            assertEquals(1500, LinkImpairment.parse("delay=1.5us").delayNs());
        }

        @Test
        void shouldRejectBadInputWithItsName()
        {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> LinkImpairment.parse("lost=1%"))
                .getMessage().contains("lost"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> LinkImpairment.parse("loss=101%"))
                .getMessage().contains("loss"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> LinkImpairment.parse("delay=10"))
                .getMessage().contains("unit"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> LinkImpairment.parse("reorder=5%"))
                .getMessage().contains("delay"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LinkImpairment.parse("delay=1ms,jitter=2ms")).getMessage().contains("jitter"));
            assertThrows(IllegalArgumentException.class, () -> LinkImpairment.parse("loss"));
        }
    }

    @Test
    void shouldPassEverythingUnchangedWithoutImpairment()
    {
        final ImpairedLink link = link("none", "none");
        for (int i = 0; i < 10; i++)
        {
            receive(link, i, 0);
        }
        assertEquals(10, network.frames.size());
        assertEquals(9, network.frames.get(9)[0]);
    }

    @Test
    void shouldDropAboutTheLossRateReproduciblyPerSeed()
    {
        final ImpairedLink link = link("loss=5%,seed=3", "none");
        for (int i = 0; i < 100_000; i++)
        {
            receive(link, i, 0);
        }
        final long dropped = link.receive().dropped();
        assertEquals(100_000 - dropped, network.frames.size());
        assertTrue(dropped > 4_500 && dropped < 5_500, "dropped " + dropped);

        final Recorder again = new Recorder();
        final ImpairedLink replay = new ImpairedLink(LinkImpairment.parse("loss=5%,seed=3"), LinkImpairment.NONE, 1,
            device);
        replay.bind(again);
        for (int i = 0; i < 100_000; i++)
        {
            frame.putInt(0, i);
            replay.onFrame(frame, 0, 60, 0);
        }
        assertEquals(dropped, replay.receive().dropped(), "same seed, same drops");
    }

    @Test
    void shouldDuplicateFrames()
    {
        final ImpairedLink link = link("dup=100%", "none");
        receive(link, 1, 0);
        assertEquals(2, network.frames.size());
        assertEquals(1, link.receive().duplicated());
    }

    @Test
    void shouldFlipExactlyOneBitOfACorruptedFrame()
    {
        final ImpairedLink link = link("corrupt=100%", "none");
        frame.setMemory(0, 60, (byte)0);
        link.onFrame(frame, 0, 60, 0);
        int bits = 0;
        for (final byte b : network.bytes.get(0))
        {
            bits += Integer.bitCount(b & 0xFF);
        }
        assertEquals(1, bits);
        assertEquals(0, frame.getByte(0) | frame.getLong(8), "the source frame is not modified");
    }

    @Test
    void shouldHoldDelayedFramesUntilDue()
    {
        final ImpairedLink link = link("delay=10ms", "none");
        receive(link, 1, 0);
        receive(link, 2, MS);
        assertEquals(0, network.frames.size());
        assertEquals(0, link.doWork(10 * MS - 1));
        assertEquals(1, link.doWork(10 * MS));
        assertEquals(1, network.frames.get(0)[0]);
        assertEquals(1, link.doWork(11 * MS));
        assertEquals(2, network.frames.get(1)[0]);
        assertEquals(0, link.receive().queued());
    }

    @Test
    void shouldReorderBySendingSomeFramesAheadOfDelayedOnes()
    {
        final ImpairedLink link = link("delay=10ms,reorder=50%,seed=11", "none");
        for (int i = 0; i < 40; i++)
        {
            receive(link, i, 0);
        }
        final int early = network.frames.size();
        link.doWork(10 * MS);
        assertEquals(40, network.frames.size());
        assertTrue(early > 0 && early < 40, "some went ahead: " + early);
        assertEquals(early, link.receive().reordered());
        boolean outOfOrder = false;
        for (int i = 1; i < 40; i++)
        {
            outOfOrder |= network.frames.get(i)[0] < network.frames.get(i - 1)[0];
        }
        assertTrue(outOfOrder);
    }

    @Test
    void shouldKeepJitteredDelayWithinBoundsAndFifoForEqualTimes()
    {
        final ImpairedLink link = link("delay=10ms,jitter=3ms,seed=5", "none");
        for (int i = 0; i < 50; i++)
        {
            receive(link, i, 0);
        }
        assertEquals(0, link.doWork(7 * MS - 1));
        link.doWork(13 * MS);
        assertEquals(50, network.frames.size());
    }

    @Test
    void shouldCountFramesThatFindTheQueueFull()
    {
        final ImpairedLink link = link("delay=10ms", "none"); // queue of 64
        for (int i = 0; i < 70; i++)
        {
            receive(link, i, 0);
        }
        assertEquals(6, link.receive().queueFullDrops());
        assertEquals(64, link.doWork(10 * MS));
    }

    @Test
    void shouldImpairTransmittedFramesAndCountDeviceDrops()
    {
        final ImpairedLink link = link("none", "delay=1ms");
        link.nowNs(0);
        final MutableDirectBuffer out = link.transmitter().claim(100);
        out.putInt(0, 77);
        link.transmitter().commit(60);
        assertEquals(0, device.sent.frames.size());
        link.doWork(MS);
        assertEquals(1, device.sent.frames.size());
        assertEquals(77, device.sent.frames.get(0)[0]);

        link.transmitter().claim(100);
        link.transmitter().commit(60);
        device.full = true;
        link.doWork(2 * MS);
        assertEquals(1, link.transmit().deviceDrops());
    }

    @Test
    void shouldNotAllocatePerFrame()
    {
        final ImpairedLink link = new ImpairedLink(
            LinkImpairment.parse("loss=1%,dup=1%,corrupt=1%,delay=1ms,jitter=500us,reorder=10%"),
            LinkImpairment.parse("loss=1%,delay=1ms"), 4096, device);
        device.record = false;
        link.bind((b, o, l, t) -> { });
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long now = 0;
        for (int round = 0; round < 2; round++)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20_000; i++)
            {
                now += 10_000;
                link.nowNs(now);
                link.onFrame(frame, 0, 60, now);
                link.transmitter().claim(100);
                link.transmitter().commit(60);
                link.doWork(now);
            }
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            if (round == 1)
            {
                assertTrue(allocated < 1024, "allocated " + allocated + " bytes over 20,000 frames");
            }
        }
    }
}
