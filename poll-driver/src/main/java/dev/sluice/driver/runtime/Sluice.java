package dev.sluice.driver.runtime;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.apps.EchoApp;
import dev.sluice.driver.apps.HttpApp;
import dev.sluice.driver.apps.SinkApp;
import dev.sluice.driver.apps.SourceApp;
import dev.sluice.nativebindings.dpdk.DpdkException;
import dev.sluice.nativebindings.dpdk.DpdkUnavailableException;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;

/**
 * The {@code sluice} command: {@code echo}, {@code http}, {@code sink} and {@code source} on one DPDK
 * device (see {@link SluiceConfig#usage()}). It starts the EAL (leaving the JVM's CPU affinity intact),
 * probes the device, starts a {@link SluiceRuntime}, and on SIGTERM, SIGINT, {@code --seconds} or the end
 * of {@code source} shuts down cleanly from a shutdown hook: connections closed (peers see a FIN, or a RST
 * after a grace period), shards stopped, port stopped and closed, the vdev removed (a net_tap interface
 * disappears), the EAL released.
 *
 * <p>Exit codes: 0 success, 1 runtime failure (DPDK, device, privileges, a failed transfer), 2 usage.
 *
 * <p>Embedding: {@link #start(SluiceConfig, Application)} starts the same stack for any {@link Application}
 * and returns this handle; {@link #runtime()} gives {@code connect}/{@code listen}/{@code execute} for
 * application threads (and the shards for blocking sockets); {@link #close()} shuts down cleanly from any
 * thread:
 * <pre>{@code
 * SluiceConfig config = SluiceConfig.builder().device("net_tap0,iface=sl0").ip("10.0.0.2/24").listenPort(7).build();
 * try (Sluice sluice = Sluice.start(config, new EchoApp()))
 * {
 *     ...
 * }
 * }</pre>
 */
public final class Sluice implements AutoCloseable
{
    private static final long CLOSE_GRACE_NS = TimeUnit.MILLISECONDS.toNanos(1000);
    private static final long CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(15);

    private final SluiceContext context;
    private final SluiceRuntime runtime;
    private final SluiceConfig config;
    private final PrintStream log;
    private boolean closed;

    private Sluice(final SluiceContext context, final SluiceRuntime runtime)
    {
        this.context = context;
        this.runtime = runtime;
        this.config = context.config();
        this.log = context.log();
    }

    /**
     * Starts the stack: the EAL with the configured device (once per process: DPDK allows one EAL), the port,
     * one shard per core with {@code application} on each.
     *
     * @param config      the settings ({@link SluiceConfig#builder()}).
     * @param application what runs on each shard; null for nothing (blocking sockets only).
     * @return the handle; {@link #close()} it to shut down.
     * @throws DpdkUnavailableException if DPDK cannot be loaded.
     * @throws DpdkException            if the EAL or the device does not start.
     * @throws RuntimeException         if the port cannot be set up as configured.
     */
    public static Sluice start(final SluiceConfig config, final Application application)
    {
        return start(new SluiceContext().config(config).application(application));
    }

    /**
     * Starts the stack wired from {@code context} (concluded here). An EAL the context started is released by
     * {@link #close()}; one the caller gave stays the caller's. With an externally driven context no shard
     * thread is started: drive {@code runtime().agent(i)}, stop the drivers, then close.
     *
     * @param context what to start.
     * @return the handle.
     */
    public static Sluice start(final SluiceContext context)
    {
        context.conclude();
        final SluiceRuntime runtime;
        try
        {
            runtime = SluiceRuntime.start(context);
        }
        catch (final RuntimeException ex)
        {
            if (context.ownsEal())
            {
                removeDevice(context.eal(), context.config(), context.log());
            }
            throw ex;
        }
        separateKernelMac(context.config(), runtime.port(), context.log(), context.log());
        return new Sluice(context, runtime);
    }

    /**
     * Starts the EAL with the configured device (once per process: DPDK allows one EAL), probes the port and
     * starts the runtime with {@code app} on every shard; on net_tap the kernel side gets its own MAC.
     *
     * @param config the settings ({@code config.command()} is not used: {@code app} is what runs).
     * @param app    what runs on each shard.
     * @param log    where the start-up log goes.
     * @return the running stack; close it to shut down.
     * @throws DpdkUnavailableException if DPDK cannot be loaded.
     * @throws DpdkException            if the EAL or the device does not start.
     * @throws RuntimeException         if the port cannot be set up as configured.
     */
    public static Sluice launch(final SluiceConfig config, final Application app, final PrintStream log)
    {
        return start(new SluiceContext().config(config).application(app).log(log));
    }

    /**
     * @return the running stack.
     */
    public SluiceRuntime runtime()
    {
        return runtime;
    }

    /**
     * Clean shutdown from any thread: every connection closed (FIN; RST for those whose FIN is not
     * acknowledged within 1 s), shards stopped, port stopped and closed, and if the EAL is this handle's: the
     * vdev removed (a net_tap interface disappears), EAL released. Idempotent. Externally driven shards must
     * have been stopped by their drivers first (their connections are the driver's to close).
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        log.println("sluice: shutting down: closing connections");
        final int aborted = context.externallyDriven() ? 0 : runtime.closeConnections(CLOSE_GRACE_NS);
        runtime.close();
        if (context.ownsEal())
        {
            removeDevice(context.eal(), config, log);
            context.eal().close();
        }
        log.printf("sluice: stopped (%d connection(s) reset after the grace period)%n", aborted);
        log.flush();
    }

    /**
     * @param args see {@link SluiceConfig#usage()}.
     */
    public static void main(final String[] args)
    {
        System.exit(run(args, System.out, System.err));
    }

    static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final SluiceConfig config;
        try
        {
            config = SluiceConfig.parse(args);
        }
        catch (final ConfigException ex)
        {
            err.println("sluice: error: " + ex.getMessage() + " (see sluice --help)");
            return 2;
        }
        if (config == null)
        {
            out.print(SluiceConfig.usage());
            return 0;
        }

        final Application app = switch (config.command())
        {
            case ECHO -> new EchoApp();
            case HTTP -> new HttpApp();
            case SINK -> new SinkApp(out, config.sinkSha256());
            case SOURCE -> new SourceApp(config.bytes());
        };
        final Sluice sluice;
        try
        {
            sluice = launch(config, app, out);
        }
        catch (final DpdkUnavailableException ex)
        {
            err.println("sluice: error: DPDK is not usable here: " + ex.getMessage());
            return 1;
        }
        catch (final DpdkException ex)
        {
            // the hint first: DPDK's log lines follow the exception's first line
            err.println("sluice: error: cannot start device " + config.device() + privilegeHint(config));
            err.println("sluice: " + ex.getMessage());
            return 1;
        }
        catch (final RuntimeException ex)
        {
            err.println("sluice: error: " + ex.getMessage());
            return 1;
        }
        final SluiceRuntime runtime = sluice.runtime();
        Runtime.getRuntime().addShutdownHook(new Thread(sluice::close, "sluice-shutdown"));
        out.printf("sluice: ready command=%s %s%n", config.command().name().toLowerCase(java.util.Locale.ROOT),
            config.command() == SluiceConfig.Command.SOURCE ?
                "connect=" + Addresses.ipv4ToString(config.connectIp()) + ":" + config.connectPort() +
                " bytes=" + config.bytes() :
                "listen=" + Addresses.ipv4ToString(config.ip()) + ":" + config.listenPort());
        out.flush();

        if (app instanceof SourceApp source)
        {
            return runSource(source, runtime, config, out, err);
        }
        try
        {
            if (config.seconds() > 0)
            {
                Thread.sleep(TimeUnit.SECONDS.toMillis(config.seconds()));
            }
            else
            {
                Thread.currentThread().join(); // until a signal runs the shutdown hook
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static int runSource(
        final SourceApp source, final SluiceRuntime runtime, final SluiceConfig config, final PrintStream out,
        final PrintStream err)
    {
        source.start(runtime, config.connectIp(), config.connectPort());
        final long startNs = System.nanoTime();
        while (source.outcome() == SourceApp.RUNNING)
        {
            if (!source.established() && System.nanoTime() - startNs > CONNECT_TIMEOUT_NS)
            {
                err.println("sluice: error: no connection to " + Addresses.ipv4ToString(config.connectIp()) + ":" +
                    config.connectPort() + " within 15 s (is it listening and reachable?)");
                return 1;
            }
            try
            {
                Thread.sleep(5);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return 1;
            }
        }
        if (source.outcome() == SourceApp.FAILED)
        {
            err.println("sluice: error: source failed: " + source.failure());
            return 1;
        }
        final double seconds = source.elapsedNs() / 1e9;
        out.printf("source: %d bytes in %.3f s = %.1f Mbit/s, acknowledged and closed by the peer%n",
            source.bytes(), seconds, source.bytes() * 8 / seconds / 1e6);
        out.flush();
        if (config.timeWaitWait())
        {
            return awaitTimeWait(source, config, out);
        }
        return 0;
    }

    // TIME-WAIT is real: the stack keeps answering for the 4-tuple for 2 MSL (MUST-13) before the command exits
    private static final long LINGER_AFTER_TIME_WAIT_MS = 1_000;

    private static int awaitTimeWait(final SourceApp source, final SluiceConfig config, final PrintStream out)
    {
        final long timeWaitNs = config.tcp().timeWaitNs();
        out.printf("source: TIME-WAIT for %.1f s (2 MSL; --no-time-wait-wait skips it)%n", timeWaitNs / 1e9);
        out.flush();
        final long deadline = System.nanoTime() + timeWaitNs + TimeUnit.SECONDS.toNanos(2);
        while (source.timeWaitRecords() > 0 && System.nanoTime() < deadline)
        {
            try
            {
                Thread.sleep(5);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return 0;
            }
        }
        out.println("source: TIME-WAIT over");
        out.flush();
        try
        {
            // a moment more, so the end of TIME-WAIT is observable too: a segment for the 4-tuple now gets a RST
            Thread.sleep(LINGER_AFTER_TIME_WAIT_MS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static void removeDevice(final Eal eal, final SluiceConfig config, final PrintStream err)
    {
        if (config.isVdev())
        {
            try
            {
                eal.removeVdev(config.portName());
            }
            catch (final RuntimeException ex)
            {
                err.println("sluice: removing " + config.portName() + ": " + ex.getMessage());
            }
        }
    }

    /**
     * net_tap gives its kernel interface the port's own MAC; two hosts with one MAC on a link cannot talk,
     * so the kernel side gets the port's MAC with the last bit of its last byte flipped.
     */
    private static void separateKernelMac(
        final SluiceConfig config, final EthPort port, final PrintStream out, final PrintStream err)
    {
        final String iface = config.tapInterface();
        if (iface == null)
        {
            return;
        }
        final long portMac = port.macAddressAsLong();
        final Path addressFile = Path.of("/sys/class/net", iface, "address");
        try
        {
            final String kernelMac = Files.readString(addressFile, StandardCharsets.US_ASCII).trim();
            if (Addresses.parseMac(kernelMac) != portMac)
            {
                out.printf("sluice: tap iface=%s kernel-mac=%s%n", iface, kernelMac);
                return;
            }
            final String newMac = Addresses.macToString(portMac ^ 1);
            final Process p = new ProcessBuilder(List.of("ip", "link", "set", "dev", iface, "address", newMac))
                .redirectErrorStream(true).start();
            final String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0)
            {
                err.println("sluice: warning: could not give " + iface + " its own MAC: " + output.trim());
                return;
            }
            out.printf("sluice: tap iface=%s kernel-mac=%s (changed: the kernel side had the port's MAC)%n",
                iface, newMac);
        }
        catch (final IOException ex)
        {
            err.println("sluice: warning: cannot check the MAC of " + iface + ": " + ex.getMessage());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static String privilegeHint(final SluiceConfig config)
    {
        final boolean root = "root".equals(System.getProperty("user.name"));
        if (!root)
        {
            return ": DPDK devices need root (net_tap also needs /dev/net/tun): run as root or with sudo";
        }
        return config.isVdev() ? ": check the device string, e.g. net_tap0,iface=sl0 (DPDK's reason below)" :
            ": check that the PCI device exists and is bound to vfio-pci or uio (DPDK's reason below)";
    }
}
