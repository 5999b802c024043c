package dev.sluice.driver.runtime;

import org.agrona.ErrorHandler;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A shard never dies silently. Exceptions thrown by a shard's duty cycle are reported on the log with their
 * stack trace and the shard carries on (application handler exceptions never get here: the stack catches them
 * and aborts their connection). An {@link Error} (out of memory, a stack overflow, a failed assertion) or an
 * exception that ends the shard thread ends the process: the cause goes to standard error and the JVM exits with
 * {@link #EXIT_CODE} (from a thread of its own, so the shutdown hooks can stop the shards; if they have not
 * finished within {@link #HALT_AFTER_MS} ms the JVM halts). {@code sluice} never keeps running with a dead
 * shard, listening on nothing.
 */
public final class ShardFailureHandler implements ErrorHandler, Thread.UncaughtExceptionHandler
{
    /** Exit status after a shard failure (EX_SOFTWARE of sysexits.h). */
    public static final int EXIT_CODE = 70;
    /** How long the shutdown hooks may take before the JVM is halted. */
    public static final long HALT_AFTER_MS = 5_000;

    private static final AtomicBoolean EXITING = new AtomicBoolean();

    private final int shard;
    private final PrintStream log;
    private final Exit exit;

    /** How the process ends; replaced in tests. */
    @FunctionalInterface
    public interface Exit
    {
        /**
         * Ends the process.
         *
         * @param status exit status.
         */
        void exit(int status);
    }

    /**
     * A handler for one shard that exits the JVM on a fatal failure.
     *
     * @param shard the shard's index.
     * @param log   where failures are reported (standard error).
     */
    public ShardFailureHandler(final int shard, final PrintStream log)
    {
        this(shard, log, ShardFailureHandler::exitProcess);
    }

    /**
     * A handler for one shard.
     *
     * @param shard the shard's index.
     * @param log   where failures are reported.
     * @param exit  how the process ends on a fatal failure.
     */
    public ShardFailureHandler(final int shard, final PrintStream log, final Exit exit)
    {
        this.shard = shard;
        this.log = log;
        this.exit = exit;
    }

    @Override
    public void onError(final Throwable throwable)
    {
        if (throwable instanceof Error)
        {
            fatal(throwable);
            return;
        }
        log.println("sluice: shard " + shard + ": error in the duty cycle (the shard carries on):");
        throwable.printStackTrace(log);
        log.flush();
    }

    @Override
    public void uncaughtException(final Thread thread, final Throwable throwable)
    {
        fatal(throwable);
    }

    private void fatal(final Throwable throwable)
    {
        log.println("sluice: shard " + shard + " failed, exiting with status " + EXIT_CODE + ": " + throwable);
        throwable.printStackTrace(log);
        log.flush();
        exit.exit(EXIT_CODE);
    }

    private static void exitProcess(final int status)
    {
        if (!EXITING.compareAndSet(false, true))
        {
            return;
        }
        final Thread exiter = new Thread(() -> System.exit(status), "sluice-exit");
        exiter.setDaemon(false);
        exiter.start();
        final Thread halter = new Thread(() ->
        {
            try
            {
                Thread.sleep(HALT_AFTER_MS);
            }
            catch (final InterruptedException ignore)
            {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().halt(status);
        }, "sluice-halt");
        halter.setDaemon(true);
        halter.start();
    }
}
