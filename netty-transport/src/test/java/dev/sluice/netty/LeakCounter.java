package dev.sluice.netty;

import java.util.ArrayList;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;

/**
 * Netty's leak detector at PARANOID (every buffer tracked), with every reported leak collected so a test can
 * assert there was none. Install before any ByteBuf class is used.
 */
final class LeakCounter
{
    private static final List<String> LEAKS = new ArrayList<>();
    private static boolean installed;

    private LeakCounter()
    {
    }

    static synchronized void install()
    {
        if (installed)
        {
            return;
        }
        installed = true;
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory()
        {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                final Class<T> resource, final int samplingInterval, final long maxActive)
            {
                return new ResourceLeakDetector<>(resource, samplingInterval)
                {
                    @Override
                    protected boolean needReport()
                    {
                        return true;
                    }

                    @Override
                    protected void reportTracedLeak(final String resourceType, final String records)
                    {
                        record(resourceType + records);
                    }

                    @Override
                    protected void reportUntracedLeak(final String resourceType)
                    {
                        record(resourceType);
                    }
                };
            }
        });
    }

    private static void record(final String leak)
    {
        synchronized (LEAKS)
        {
            LEAKS.add(leak);
        }
    }

    /**
     * Collects garbage and allocates (leaks are reported when a tracked buffer was collected unreleased and the
     * detector runs again at the next allocation), then returns what was reported.
     */
    static List<String> collect() throws InterruptedException
    {
        for (int i = 0; i < 5; i++)
        {
            System.gc();
            Thread.sleep(50);
            for (int j = 0; j < 100; j++)
            {
                final ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(16);
                buf.release();
            }
        }
        synchronized (LEAKS)
        {
            return new ArrayList<>(LEAKS);
        }
    }
}
