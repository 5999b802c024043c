package dev.sluice.driver.runtime;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * Everything a running stack is wired from, in one place (Aeron's {@code MediaDriver.Context} is the model):
 * set what differs from the defaults, then {@link #conclude()} validates it and fills in the rest, once.
 * {@link Sluice#start(SluiceContext)} concludes for you.
 *
 * <ul>
 *   <li>{@link #config} (required): the validated settings, from {@link SluiceConfig#builder()} or the flags.</li>
 *   <li>{@link #application}: what runs on each shard (default: nothing listens; blocking sockets and
 *       {@link SluiceRuntime#listen} still work).</li>
 *   <li>{@link #eal} and {@link #port}: given by a caller that owns them (tests with two stacks in one JVM);
 *       by default the EAL is started with the configured device and the port found by name, and both are
 *       released by {@link Sluice#close()}.</li>
 *   <li>{@link #externallyDriven}: build the shards without threads: the caller runs each
 *       {@link dev.sluice.driver.ShardAgent} ({@code onStart}, then {@code doWork} in a loop, then
 *       {@code onClose}) on a thread of its own, e.g. a Netty event loop.</li>
 *   <li>{@link #idleStrategy}, {@link #errorHandler}, {@link #log}, {@link #commandTimeoutNs}.</li>
 * </ul>
 * Not thread-safe: configure on one thread before starting.
 */
public final class SluiceContext
{
    /** How long {@link SluiceRuntime#execute} waits for room in a full command queue by default. */
    public static final long DEFAULT_COMMAND_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private SluiceConfig config;
    private Application application;
    private Eal eal;
    private EthPort port;
    private boolean ownsEal;
    private boolean externallyDriven;
    private Supplier<IdleStrategy> idleStrategy;
    private ErrorHandler errorHandler;
    private PrintStream log;
    private long commandTimeoutNs = DEFAULT_COMMAND_TIMEOUT_NS;
    private boolean concluded;

    /**
     * @param config the validated settings.
     * @return this.
     */
    public SluiceContext config(final SluiceConfig config)
    {
        checkOpen();
        this.config = config;
        return this;
    }

    /**
     * @return the settings.
     */
    public SluiceConfig config()
    {
        return config;
    }

    /**
     * @param application what runs on each shard.
     * @return this.
     */
    public SluiceContext application(final Application application)
    {
        checkOpen();
        this.application = application;
        return this;
    }

    /**
     * @return what runs on each shard.
     */
    public Application application()
    {
        return application;
    }

    /**
     * @param eal an EAL the caller started and keeps (DPDK allows one per process).
     * @return this.
     */
    public SluiceContext eal(final Eal eal)
    {
        checkOpen();
        this.eal = eal;
        return this;
    }

    /**
     * @return the EAL (after {@link #conclude()}).
     */
    public Eal eal()
    {
        return eal;
    }

    /**
     * @return true if the EAL was started by {@link #conclude()} and is released with the stack.
     */
    public boolean ownsEal()
    {
        return ownsEal;
    }

    /**
     * @param port a probed, not started port (e.g. one half of a net_ring pair).
     * @return this.
     */
    public SluiceContext port(final EthPort port)
    {
        checkOpen();
        this.port = port;
        return this;
    }

    /**
     * @return the port (after {@link #conclude()}).
     */
    public EthPort port()
    {
        return port;
    }

    /**
     * @param externallyDriven true to start no shard threads: the caller drives each shard's agent.
     * @return this.
     */
    public SluiceContext externallyDriven(final boolean externallyDriven)
    {
        checkOpen();
        this.externallyDriven = externallyDriven;
        return this;
    }

    /**
     * @return whether the caller drives the shards.
     */
    public boolean externallyDriven()
    {
        return externallyDriven;
    }

    /**
     * @param idleStrategy gives each shard thread its idle strategy (default: from {@link SluiceConfig#idle()}).
     * @return this.
     */
    public SluiceContext idleStrategy(final Supplier<IdleStrategy> idleStrategy)
    {
        checkOpen();
        this.idleStrategy = idleStrategy;
        return this;
    }

    /**
     * @return a new idle strategy for one shard thread.
     */
    public IdleStrategy newIdleStrategy()
    {
        return idleStrategy.get();
    }

    /**
     * @param errorHandler gets what a shard's duty cycle throws (default: printed to {@link #log()}).
     * @return this.
     */
    public SluiceContext errorHandler(final ErrorHandler errorHandler)
    {
        checkOpen();
        this.errorHandler = errorHandler;
        return this;
    }

    /**
     * @return the shards' error handler.
     */
    public ErrorHandler errorHandler()
    {
        return errorHandler;
    }

    /**
     * @param log where the structured start-up and shutdown log goes (default {@code System.out}).
     * @return this.
     */
    public SluiceContext log(final PrintStream log)
    {
        checkOpen();
        this.log = log;
        return this;
    }

    /**
     * @return the log.
     */
    public PrintStream log()
    {
        return log;
    }

    /**
     * @param commandTimeoutNs how long an application thread waits (parked) for room in a shard's full command
     *                         queue before {@link SluiceRuntime#execute} rejects the command.
     * @return this.
     */
    public SluiceContext commandTimeoutNs(final long commandTimeoutNs)
    {
        checkOpen();
        this.commandTimeoutNs = commandTimeoutNs;
        return this;
    }

    /**
     * @return the command queue's back-pressure timeout.
     */
    public long commandTimeoutNs()
    {
        return commandTimeoutNs;
    }

    /**
     * Validates the settings and fills in every default: the EAL (started with the configured device unless
     * one was given), the port (found by name unless given), the idle strategy, the error handler, the log.
     * Idempotent.
     *
     * @return this.
     * @throws ConfigException if a required part is missing or invalid.
     */
    public SluiceContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (config == null)
        {
            throw new ConfigException("SluiceContext: config is required (SluiceConfig.builder()...build())");
        }
        if (commandTimeoutNs < 0)
        {
            throw new ConfigException("SluiceContext: commandTimeoutNs must be >= 0, got " + commandTimeoutNs);
        }
        if (application == null)
        {
            application = shard -> () -> null;
        }
        if (log == null)
        {
            log = System.out;
        }
        if (errorHandler == null)
        {
            final PrintStream out = log;
            errorHandler = ex ->
            {
                out.println("sluice: error on a shard thread: " + ex);
                ex.printStackTrace(out);
            };
        }
        if (idleStrategy == null)
        {
            final SluiceConfig.IdleMode mode = config.idle();
            idleStrategy = () -> switch (mode)
            {
                case SPIN -> new BusySpinIdleStrategy();
                case BACKOFF -> new BackoffIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1),
                    TimeUnit.MICROSECONDS.toNanos(200));
                case YIELD -> new YieldingIdleStrategy();
            };
        }
        if (eal == null)
        {
            eal = Eal.init(config.fullEalArgs());
            ownsEal = true;
        }
        if (port == null)
        {
            port = EthPort.byName(config.portName());
        }
        concluded = true;
        return this;
    }

    /**
     * @return whether {@link #conclude()} ran.
     */
    public boolean isConcluded()
    {
        return concluded;
    }

    private void checkOpen()
    {
        if (concluded)
        {
            throw new IllegalStateException("SluiceContext is concluded: configure it before starting");
        }
    }
}
