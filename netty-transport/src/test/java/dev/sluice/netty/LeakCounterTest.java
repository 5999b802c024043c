package dev.sluice.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The leak check the integration tests rely on does catch a leak: a buffer dropped unreleased is reported.
 */
class LeakCounterTest
{
    @Test
    void shouldReportABufferDroppedWithoutRelease() throws Exception
    {
        LeakCounter.install();
        leak();
        assertFalse(LeakCounter.collect().isEmpty(), "a dropped, unreleased ByteBuf is reported");
    }

    private static void leak()
    {
        final ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeInt(1);
    }
}
