package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LcoreIT
{
    @Test
    void shouldGiveARegisteredThreadAnLcoreId()
    {
        final Lcore lcore = TestEal.lcore();
        assertTrue(lcore.id() >= 0 && lcore.id() < dev.sluice.nativebindings.dpdk.generated.RteEal.RTE_MAX_LCORE);
        assertNotEquals(dev.sluice.nativebindings.dpdk.generated.RteEal.LCORE_ID_ANY, lcore.id());
    }

    @Test
    void shouldDetectTheFastPathCalledFromAnotherThread() throws Exception
    {
        final Lcore lcore = TestEal.lcore();
        final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32);
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        final Thread other = Thread.ofPlatform().start(() ->
        {
            try
            {
                lcore.rxBurst(0, 0, burst, 32);
            }
            catch (final Throwable t)
            {
                thrown.set(t);
            }
        });
        other.join();
        assertInstanceOf(IllegalStateException.class, thrown.get());
        assertTrue(thrown.get().getMessage().contains("register each polling thread"), thrown.get().getMessage());
    }

    @Test
    void shouldRefuseToRegisterAVirtualThread() throws Exception
    {
        final Eal eal = TestEal.get();
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread.ofVirtual().start(() ->
        {
            try
            {
                eal.registerCurrentThread();
            }
            catch (final Throwable t)
            {
                thrown.set(t);
            }
        }).join();
        assertInstanceOf(DpdkException.class, thrown.get());
    }

    @Test
    void shouldRefuseASecondEalInit()
    {
        TestEal.get();
        final DpdkException ex = assertThrows(DpdkException.class, () -> Eal.init(Eal.DEFAULT_ARGS));
        assertTrue(ex.getMessage().contains("one rte_eal_init per process"), ex.getMessage());
    }
}
