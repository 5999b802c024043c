package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.RingPorts;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A full tx queue never stalls the duty cycle, never loses what a later burst can carry, and never leaks: what the
 * queue does not take waits in the backlog and goes first, in order, at the next flushes; beyond the backlog frames
 * are freed and counted; the backlog is freed at close.
 */
class DpdkFrameTransmitterIT
{
    @Test
    void shouldHoldWhatAFullQueueDoesNotTakeAndSendItInOrderLater() throws Exception
    {
        TestEal.get();
        final int[] ports = RingPorts.createCrossedPair("txq_a", "txq_b", 64); // 63 frames fill the ring
        final MbufPool pool = MbufPool.create("txq_pool", 4095, 0, MbufPool.DEFAULT_DATA_ROOM);
        for (final int id : ports)
        {
            final EthPort port = EthPort.of(id);
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 64, pool);
            port.setupTxQueue(0, 64);
            port.start();
        }
        final long[] result = new long[8];
        final Throwable[] failure = new Throwable[1];
        final Thread thread = Thread.ofPlatform().start(() ->
        {
            try (Lcore lcore = TestEal.get().registerCurrentThread())
            {
                final int available = pool.availableCount();
                final DpdkFrameTransmitter tx = new DpdkFrameTransmitter(lcore, pool, ports[0], 0);
                final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32);
                int next = 0;
                for (int flush = 0; flush < 3; flush++) // 96 frames into a 63-slot ring
                {
                    next = commitFrames(tx, next, DpdkFrameTransmitter.BURST);
                    tx.flush();
                }
                result[0] = tx.framesSent();
                result[1] = tx.framesDropped();
                result[2] = tx.backlogCount();
                // the receiver drains the ring, the next flushes carry the backlog, in the order committed
                int expected = 0;
                boolean inOrder = true;
                for (int round = 0; round < 10; round++)
                {
                    int n;
                    while ((n = lcore.rxBurst(ports[1], 0, burst, 32)) > 0)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            inOrder &= frameNumber(dev.sluice.nativebindings.dpdk.Mbuf.at(burst, i)) == expected++;
                        }
                        lcore.freeBulk(burst, n);
                    }
                    tx.flush();
                }
                result[3] = tx.framesSent();
                result[4] = expected;
                result[5] = inOrder ? 1 : 0;
                // overflow: with nothing draining, frames beyond ring + backlog are dropped and counted
                next = commitFrames(tx, next, 63 + DpdkFrameTransmitter.BACKLOG + 10);
                tx.flush();
                tx.releaseStash(); // the backlog's frames are freed (and counted) at close
                result[6] = tx.framesDropped();
                int n;
                while ((n = lcore.rxBurst(ports[1], 0, burst, 32)) > 0)
                {
                    lcore.freeBulk(burst, n);
                }
                result[7] = available - pool.availableCount();
            }
            catch (final Throwable t)
            {
                failure[0] = t;
            }
        });
        thread.join();
        if (failure[0] != null)
        {
            throw new AssertionError(failure[0]);
        }
        assertEquals(63, result[0], "the ring holds 63");
        assertEquals(0, result[1], "nothing dropped: the backlog holds the rest");
        assertEquals(96 - 63, result[2], "frames waiting in the backlog");
        assertEquals(96, result[3], "every frame sent once the ring drained");
        assertEquals(96, result[4], "every frame received");
        assertEquals(1, result[5], "in the order committed");
        assertEquals(10 + DpdkFrameTransmitter.BACKLOG, result[6],
            "beyond ring and backlog 10 dropped, then the backlog freed at close");
        assertEquals(0, result[7], "no mbuf leaked");
        for (final int id : ports)
        {
            EthPort.of(id).stop();
            EthPort.of(id).close();
        }
        pool.close();
    }

    // commits `count` 60-byte frames numbered from `first` (the number in the first four bytes); flushes per burst
    private static int commitFrames(final DpdkFrameTransmitter tx, final int first, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            final MutableDirectBuffer frame = tx.claim(60);
            assertNotNull(frame);
            frame.setMemory(0, 60, (byte)0);
            frame.putInt(0, first + i);
            tx.commit(60);
        }
        return first + count;
    }

    private static int frameNumber(final long mbuf)
    {
        return new org.agrona.concurrent.UnsafeBuffer(dev.sluice.nativebindings.dpdk.Mbuf.dataAddress(mbuf), 4).getInt(0);
    }
}
