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
 * A full tx queue never stalls the duty cycle or leaks: what the queue does not take is
 * retried, then freed and counted.
 */
class DpdkFrameTransmitterIT
{
    @Test
    void shouldCountAndFreeWhatAFullQueueDoesNotTake() throws Exception
    {
        TestEal.get();
        final int[] ports = RingPorts.createCrossedPair("txq_a", "txq_b", 64); // 63 frames fill the ring
        final MbufPool pool = MbufPool.create("txq_pool", 1023, 0, MbufPool.DEFAULT_DATA_ROOM);
        for (final int id : ports)
        {
            final EthPort port = EthPort.of(id);
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 64, pool);
            port.setupTxQueue(0, 64);
            port.start();
        }
        final int[] result = new int[3];
        final Throwable[] failure = new Throwable[1];
        final Thread thread = Thread.ofPlatform().start(() ->
        {
            try (Lcore lcore = TestEal.get().registerCurrentThread())
            {
                final int available = pool.availableCount();
                final DpdkFrameTransmitter tx = new DpdkFrameTransmitter(lcore, pool, ports[0], 0);
                for (int flush = 0; flush < 3; flush++) // 96 frames into a 63-slot ring
                {
                    for (int i = 0; i < DpdkFrameTransmitter.BURST; i++)
                    {
                        final MutableDirectBuffer frame = tx.claim(60);
                        assertNotNull(frame);
                        frame.setMemory(0, 60, (byte)i);
                        tx.commit(60);
                    }
                    tx.flush();
                }
                result[0] = (int)tx.framesSent();
                result[1] = (int)tx.framesDropped();
                final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32);
                int n;
                while ((n = lcore.rxBurst(ports[1], 0, burst, 32)) > 0)
                {
                    lcore.freeBulk(burst, n);
                }
                tx.releaseStash();
                result[2] = available - pool.availableCount();
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
        assertEquals(96 - 63, result[1], "the rest is counted as dropped");
        assertEquals(0, result[2], "no mbuf leaked");
        for (final int id : ports)
        {
            EthPort.of(id).stop();
            EthPort.of(id).close();
        }
        pool.close();
    }
}
