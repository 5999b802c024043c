package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import dev.sluice.nativebindings.dpdk.generated.RteEal;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;
import dev.sluice.nativebindings.dpdk.generated.SluiceShim;

/**
 * The DPDK Environment Abstraction Layer of this process: at most one, ever.
 *
 * <p>DPDK allows one {@code rte_eal_init} per process (a second fails with EALREADY,
 * even after {@code rte_eal_cleanup}), so {@link #init(List)} may succeed once per JVM.
 * It runs {@code rte_eal_init} on a short-lived thread of its own: EAL pins the thread
 * that calls it to the main lcore's CPU, and every thread created afterwards would inherit
 * that mask; this way the JVM's own threads keep their affinity.
 *
 * <p>EAL's log is captured during start-up and echoed to stderr afterwards, so that on
 * failure the exception carries DPDK's own explanation. A vdev that did not probe does
 * not fail {@code rte_eal_init} (it succeeds with fewer ports): {@link #init(List)}
 * checks that every {@code --vdev=net_*} named a port that exists and reports the ones
 * that do not by name.
 */
public final class Eal implements AutoCloseable
{
    /** EAL arguments that work on any Linux machine without hugepages or a NIC. */
    public static final List<String> DEFAULT_ARGS =
        List.of("--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry");

    private static final int LOG_CAPTURE_BYTES = 16 * 1024;
    private static final AtomicReference<Eal> INSTANCE = new AtomicReference<>();
    private static volatile boolean attempted;

    private final List<String> args;
    private volatile boolean closed;

    private Eal(final List<String> args)
    {
        this.args = List.copyOf(args);
    }

    /**
     * Initialises the EAL with these arguments (without the program name).
     *
     * @param args EAL arguments, e.g. {@link #DEFAULT_ARGS} plus {@code --vdev=...}.
     * @return the EAL of this process.
     * @throws DpdkUnavailableException if DPDK cannot be loaded.
     * @throws DpdkException if EAL fails (DPDK's reason and log are in the message), a
     *                       vdev did not probe, or the EAL was initialised before.
     */
    public static synchronized Eal init(final List<String> args)
    {
        Dpdk.ensureAvailable();
        if (attempted)
        {
            throw new DpdkException(INSTANCE.get() != null ?
                "EAL is already initialised in this process (DPDK allows one rte_eal_init per process); use Eal.current()" :
                "EAL initialisation already failed once in this process, and DPDK cannot retry it");
        }
        attempted = true;

        final String[] failure = new String[1];
        final String[] log = new String[1];
        final Thread initThread = Thread.ofPlatform().name("sluice-eal-init").unstarted(() ->
        {
            try (Arena arena = Arena.ofConfined())
            {
                // argv strings live forever: EAL keeps pointers to some of them.
                final MemorySegment argv = Arena.global().allocate(ValueLayout.ADDRESS, args.size() + 2L);
                argv.setAtIndex(ValueLayout.ADDRESS, 0, Arena.global().allocateFrom("sluice"));
                for (int i = 0; i < args.size(); i++)
                {
                    argv.setAtIndex(ValueLayout.ADDRESS, i + 1, Arena.global().allocateFrom(args.get(i)));
                }
                argv.setAtIndex(ValueLayout.ADDRESS, args.size() + 1, MemorySegment.NULL);

                final boolean capturing = SluiceShim.sluice_log_capture_begin() == 0;
                final int rc = RteEal.rte_eal_init(args.size() + 1, argv);
                final int errno = SluiceShim.sluice_errno(); // thread-local: read on this thread
                if (capturing)
                {
                    final MemorySegment buffer = arena.allocate(LOG_CAPTURE_BYTES);
                    SluiceShim.sluice_log_capture_end(buffer, LOG_CAPTURE_BYTES);
                    log[0] = buffer.getString(0);
                    System.err.print(log[0]);
                }
                if (rc < 0)
                {
                    failure[0] = "rte_eal_init failed: " + strerror(errno) + " (rte_errno " + errno + ")";
                }
            }
        });
        initThread.start();
        try
        {
            initThread.join();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new DpdkException("interrupted while waiting for rte_eal_init");
        }
        if (failure[0] != null)
        {
            throw new DpdkException(failure[0] + "; EAL arguments " + args + explain(log[0]));
        }

        final List<String> missing = new ArrayList<>();
        for (final String vdev : netVdevNames(args))
        {
            if (portIdByName(vdev) < 0)
            {
                missing.add(vdev);
            }
        }
        if (!missing.isEmpty())
        {
            RteEal.rte_eal_cleanup();
            throw new DpdkException("EAL started but " + (missing.size() == 1 ? "vdev " : "vdevs ") +
                String.join(", ", missing) + " did not probe (no such port); check the device arguments, " +
                "privileges (net_tap needs root and /dev/net/tun) and DPDK's log" + explain(log[0]));
        }
        final Eal eal = new Eal(args);
        INSTANCE.set(eal);
        return eal;
    }

    /**
     * @return the EAL of this process.
     * @throws IllegalStateException if {@link #init(List)} has not succeeded.
     */
    public static Eal current()
    {
        final Eal eal = INSTANCE.get();
        if (eal == null)
        {
            throw new IllegalStateException("EAL not initialised: call Eal.init first");
        }
        return eal;
    }

    /**
     * @return the arguments the EAL was started with.
     */
    public List<String> args()
    {
        return args;
    }

    /**
     * @return the number of ethdev ports that exist now.
     */
    public int portCount()
    {
        return Short.toUnsignedInt(RteEthdev.rte_eth_dev_count_avail());
    }

    /**
     * Finds a port by device name (a vdev name such as {@code net_tap0}).
     *
     * @param name the device name.
     * @return the port id, or -1 if there is no such port.
     */
    public static int portIdByName(final String name)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment portId = arena.allocate(ValueLayout.JAVA_SHORT);
            final int rc = RteEthdev.rte_eth_dev_get_port_by_name(arena.allocateFrom(name), portId);
            return rc == 0 ? Short.toUnsignedInt(portId.get(ValueLayout.JAVA_SHORT, 0)) : -1;
        }
    }

    /**
     * Creates a virtual device after start-up ({@code rte_vdev_init}), e.g.
     * {@code createVdev("net_tap0", "iface=sl0")}. net_tap creates its kernel interface in
     * the network namespace of the calling thread.
     *
     * @param name the vdev name (its prefix names the driver).
     * @param devArgs driver arguments, may be empty.
     * @return the port id of the new device.
     * @throws DpdkException if the driver refused the device.
     */
    public int createVdev(final String name, final String devArgs)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final int rc = RteEal.rte_vdev_init(arena.allocateFrom(name), arena.allocateFrom(devArgs));
            if (rc != 0)
            {
                throw new DpdkException("rte_vdev_init(" + name + ", \"" + devArgs + "\") failed: " + strerror(-rc) +
                    " (see DPDK's log above)");
            }
        }
        final int port = portIdByName(name);
        if (port < 0)
        {
            throw new DpdkException("vdev " + name + " was created but is not an ethdev port");
        }
        return port;
    }

    /**
     * Removes a virtual device created by {@link #createVdev(String, String)} (stop and close
     * its port first).
     *
     * @param name the vdev name.
     */
    public void removeVdev(final String name)
    {
        try (Arena arena = Arena.ofConfined())
        {
            RteEal.rte_vdev_uninit(arena.allocateFrom(name));
        }
    }

    /**
     * Registers the calling platform thread with DPDK ({@code rte_thread_register}), giving
     * it an lcore id and a mempool cache, and returns the only object through which this
     * thread can call the fast path.
     *
     * @return the calling thread's lcore.
     * @throws DpdkException if DPDK has no lcore slot left or the thread is virtual.
     */
    public Lcore registerCurrentThread()
    {
        return Lcore.register();
    }

    /**
     * Releases the EAL ({@code rte_eal_cleanup}). Stop and close ports first. The EAL
     * cannot be initialised again in this process.
     */
    @Override
    public synchronized void close()
    {
        if (!closed)
        {
            closed = true;
            RteEal.rte_eal_cleanup();
        }
    }

    /**
     * @param errno an rte_errno or errno value.
     * @return DPDK's text for it.
     */
    public static String strerror(final int errno)
    {
        return Dpdk.cString(RteEal.rte_strerror(errno));
    }

    static List<String> netVdevNames(final List<String> args)
    {
        final List<String> names = new ArrayList<>();
        for (int i = 0; i < args.size(); i++)
        {
            String value = null;
            final String arg = args.get(i);
            if (arg.startsWith("--vdev="))
            {
                value = arg.substring("--vdev=".length());
            }
            else if (arg.equals("--vdev") && i + 1 < args.size())
            {
                value = args.get(++i);
            }
            if (value != null)
            {
                final int comma = value.indexOf(',');
                final String name = comma < 0 ? value : value.substring(0, comma);
                if (name.startsWith("net_"))
                {
                    names.add(name);
                }
            }
        }
        return names;
    }

    private static String explain(final String log)
    {
        if (log == null || log.isBlank())
        {
            return "";
        }
        final String[] lines = log.strip().split("\n");
        final StringBuilder tail = new StringBuilder("; DPDK said:");
        for (int i = Math.max(0, lines.length - 8); i < lines.length; i++)
        {
            tail.append("\n  ").append(lines[i]);
        }
        return tail.toString();
    }
}
