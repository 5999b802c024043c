package dev.sluice.driver.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue 11: a shard never dies silently. An Error in a shard's duty cycle ends the process with a non-zero
 * status and the cause on standard error; an exception is reported and the shard carries on.
 */
class ShardFailureHandlerTest
{
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(err, true, StandardCharsets.UTF_8);
    private final AtomicInteger exitStatus = new AtomicInteger(-1);
    private final CountDownLatch exited = new CountDownLatch(1);
    private final ShardFailureHandler handler = new ShardFailureHandler(3, log, status ->
    {
        exitStatus.set(status);
        exited.countDown();
    });

    @Test
    void shouldEndTheProcessWhenAnErrorReachesTheShardsRunner() throws InterruptedException
    {
        final Agent failing = new Agent()
        {
            @Override
            public int doWork()
            {
                throw new OutOfMemoryError("Cannot reserve 262144 bytes of direct buffer memory");
            }

            @Override
            public String roleName()
            {
                return "failing";
            }
        };
        final AgentRunner runner = new AgentRunner(new BusySpinIdleStrategy(), handler, null, failing);
        final Thread thread = AgentRunner.startOnThread(runner, r ->
        {
            final Thread t = new Thread(r, "sluice-shard-3");
            t.setDaemon(true);
            t.setUncaughtExceptionHandler(handler);
            return t;
        });
        assertTrue(exited.await(10, TimeUnit.SECONDS), "the process is told to exit");
        runner.close();
        thread.join(5_000);
        assertEquals(ShardFailureHandler.EXIT_CODE, exitStatus.get());
        final String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("shard 3 failed, exiting with status 70"), text);
        assertTrue(text.contains("Cannot reserve 262144 bytes of direct buffer memory"), text);
        assertTrue(text.contains("at dev.sluice.driver.runtime.ShardFailureHandlerTest"), "stack trace: " + text);
    }

    @Test
    void shouldReportAnExceptionAndCarryOn()
    {
        handler.onError(new IllegalStateException("a bad frame"));
        assertEquals(-1, exitStatus.get());
        final String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("shard 3: error in the duty cycle (the shard carries on)"), text);
        assertTrue(text.contains("a bad frame"), text);
    }

    @Test
    void shouldEndTheProcessWhenTheShardThreadDies()
    {
        handler.uncaughtException(Thread.currentThread(), new StackOverflowError());
        assertEquals(ShardFailureHandler.EXIT_CODE, exitStatus.get());
    }
}
