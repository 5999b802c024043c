package dev.sluice.driver.runtime;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import dev.sluice.core.net.LinkImpairment;
import dev.sluice.core.stack.MemoryBudget;
import dev.sluice.core.tcp.CongestionAlgorithm;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.wire.Addresses;
import dev.sluice.nativebindings.dpdk.Eal;

/**
 * The validated settings of one {@code sluice} run: the subcommand, the device and addresses, the runtime
 * (cores, idle strategy, EAL arguments, capture, counters) and the TCP knobs.
 *
 * <p>Built by {@link #parse(String[])} from command-line flags and, with {@code --config FILE}, a
 * properties file whose keys are the flag names without the dashes ({@code dev=net_tap0,iface=sl0},
 * {@code no-delay=true}); flags on the command line override the file. Every error is a
 * {@link ConfigException} with a one-line message naming the flag; {@link #usage()} documents every flag.
 *
 * @param command        what to run.
 * @param device         the DPDK device string: a vdev ({@code net_tap0,iface=sl0}, {@code net_ring0},
 *                       {@code net_memif0,...}) or a PCI address ({@code 0000:03:00.0}).
 * @param ip             our IPv4 address.
 * @param prefixLength   its prefix length, 1..32.
 * @param gatewayIp      the default gateway, 0 for none.
 * @param listenPort     the port servers listen on, 0 for none.
 * @param connectIp      the peer of {@code source}, 0 for none.
 * @param connectPort    its port, 0 for none.
 * @param bytes          what {@code source} sends.
 * @param cores          polling threads (one rx/tx queue pair each).
 * @param cpus           CPU of each polling thread (shard i on {@code cpus.get(i)}), empty for no pinning.
 * @param idle           the idle strategy of the polling threads.
 * @param ealArgs        EAL arguments, without the device.
 * @param mac            the port's MAC, or -1 to keep the driver's.
 * @param pcapFile       capture of every frame in and out, or null.
 * @param countersFile   the counters file {@code sluice stat} reads.
 * @param seconds        how long servers run, 0 for until SIGTERM/SIGINT.
 * @param mtu            the IP MTU.
 * @param maxConnections most connections per core (default: from the memory budget).
 * @param tcp            the TCP settings.
 * @param impairRx       netem-style impairment of received frames (testing on kernels without netem).
 * @param memoryBudgetBytes memory per core: connections (heap) and payload (off-heap), see {@link MemoryBudget}.
 * @param timeWaitWait   whether an active-open command stays until its connection's TIME-WAIT ends.
 * @param impairTx       netem-style impairment of transmitted frames.
 */
public record SluiceConfig(
    Command command,
    String device,
    int ip,
    int prefixLength,
    int gatewayIp,
    int listenPort,
    int connectIp,
    int connectPort,
    long bytes,
    int cores,
    List<Integer> cpus,
    IdleMode idle,
    List<String> ealArgs,
    long mac,
    String pcapFile,
    String countersFile,
    long seconds,
    int mtu,
    int maxConnections,
    TcpConfig tcp,
    LinkImpairment impairRx,
    LinkImpairment impairTx,
    long memoryBudgetBytes,
    boolean timeWaitWait)
{
    /** Where the counters go unless {@code --counters-file} says otherwise. */
    public static final String DEFAULT_COUNTERS_FILE = "/dev/shm/sluice.counters";
    /** Most polling threads. */
    public static final int MAX_CORES = 64;

    /** The subcommands that run the stack. */
    public enum Command
    {
        /** Echoes every byte back. */
        ECHO,
        /** HTTP/1.1 server: {@code GET /} and {@code GET /bytes/N}. */
        HTTP,
        /** Reads and discards, reports throughput. */
        SINK,
        /** Connects and sends N bytes of the fixed pattern, reports throughput. */
        SOURCE;

        String flagName()
        {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How a polling thread waits when a duty cycle found no work. */
    public enum IdleMode
    {
        /** Busy spin (lowest latency, one core at 100%). */
        SPIN,
        /** Spin, then yield, then park up to 1 ms (shares the CPU; tests and small machines). */
        BACKOFF,
        /** Thread.yield. */
        YIELD
    }

    private static final Set<Command> SERVERS = EnumSet.of(Command.ECHO, Command.HTTP, Command.SINK);
    private static final Set<Command> ALL = EnumSet.allOf(Command.class);
    private static final Map<String, Flag> FLAGS = new LinkedHashMap<>();

    static
    {
        flag("dev", "DEV", ALL, "DPDK device: a vdev such as net_tap0,iface=sl0 or a PCI address (required)");
        flag("ip", "A.B.C.D/N", ALL, "our IPv4 address and prefix length (required)");
        flag("gateway", "A.B.C.D", ALL, "default gateway (default: none, only the local subnet is reachable)");
        flag("listen", "PORT", SERVERS, "port to listen on, on every core (required for echo, http, sink)");
        flag("connect", "IP:PORT", EnumSet.of(Command.SOURCE), "peer to send to (required for source)");
        flag("bytes", "N", EnumSet.of(Command.SOURCE),
            "bytes to send, suffixes K, M, G (powers of 1024) allowed (required for source)");
        flag("cores", "N", ALL, "polling threads, one rx/tx queue pair each, 1.." + MAX_CORES + " (default 1)");
        flag("cpus", "LIST", ALL, "pin polling thread i to the i-th CPU of LIST, e.g. 2,3 (default: not pinned)");
        flag("idle", "spin|backoff|yield", ALL, "what an idle polling thread does (default spin)");
        flag("eal", "\"ARGS\"", ALL, "EAL arguments (default \"" + String.join(" ", Eal.DEFAULT_ARGS) + "\")");
        flag("mac", "aa:bb:cc:dd:ee:ff", ALL, "the port's MAC (default: the driver's; on net_tap the kernel " +
            "side is then given a different one)");
        flag("impair-rx", "SPEC", ALL, "impair received frames like tc netem, for tests: loss=1%,dup=1%," +
            "corrupt=0.1%,delay=10ms,jitter=2ms,reorder=25%,seed=N (default none)");
        flag("impair-tx", "SPEC", ALL, "impair transmitted frames the same way (default none)");
        flag("pcap", "FILE", ALL, "capture every frame in and out (one file per core when --cores > 1)");
        flag("counters-file", "FILE", ALL, "counters for 'sluice stat' (default " + DEFAULT_COUNTERS_FILE + ")");
        flag("seconds", "N", SERVERS, "stop after N seconds (default 0: run until SIGTERM or SIGINT)");
        flag("mtu", "BYTES", ALL, "IP MTU, 576..9000 (default 1500)");
        flag("memory-budget", "SIZE", ALL, "memory per core for connections and buffered data, e.g. 512m, 2g " +
            "(default: a quarter of the RAM, at most the JVM heap limit, shared by the cores)");
        flag("max-connections", "N", ALL, "most connections per core (default: memory budget / 2 KiB)");
        flag("no-time-wait-wait", null, EnumSet.of(Command.SOURCE), "exit without waiting for TIME-WAIT to end");
        flag("mss", "BYTES", ALL, "MSS we announce (default and cap: MTU - 40)");
        flag("msl-ms", "MS", ALL, "maximum segment lifetime; TIME-WAIT lasts 2*MSL (default 30000)");
        flag("rto-min-ms", "MS", ALL, "lower bound of the retransmission timeout (default 200)");
        flag("rto-initial-ms", "MS", ALL, "retransmission timeout before an RTT sample (default 1000)");
        flag("delayed-ack-ms", "MS", ALL, "longest ACK delay, 0..499 (default 40)");
        flag("no-delay", null, ALL, "disable Nagle's algorithm");
        flag("congestion-control", "ALG", ALL, "cubic (RFC 9438, default) or newreno (RFC 5681/6582)");
        flag("keepalive", null, ALL, "send keep-alives on idle connections");
        flag("keepalive-idle-s", "S", ALL, "idle time before the first keep-alive (default 7200)");
        flag("send-buffer", "BYTES", ALL, "send buffer per connection, power of two (default 262144)");
        flag("receive-buffer", "BYTES", ALL, "receive buffer per connection, power of two (default 262144)");
        flag("config", "FILE", ALL, "read flags from a properties file (key = flag name without --)");
    }

    /**
     * Parses a command line: {@code SUBCOMMAND [--flag value | --switch]...}.
     *
     * @param args the arguments after the program name.
     * @return the settings, or null if {@code --help} was asked for (print {@link #usage()}).
     * @throws ConfigException with a one-line message for any invalid, missing or inapplicable flag.
     */
    public static SluiceConfig parse(final String[] args)
    {
        if (args.length == 0)
        {
            throw new ConfigException("missing subcommand: echo, http, sink or source");
        }
        for (final String arg : args)
        {
            if ("--help".equals(arg) || "-h".equals(arg))
            {
                return null;
            }
        }
        final Command command = switch (args[0])
        {
            case "echo" -> Command.ECHO;
            case "http" -> Command.HTTP;
            case "sink" -> Command.SINK;
            case "source" -> Command.SOURCE;
            default -> throw new ConfigException("unknown subcommand '" + args[0] + "': echo, http, sink or source");
        };

        final Map<String, String> values = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++)
        {
            final String arg = args[i];
            if (!arg.startsWith("--"))
            {
                throw new ConfigException("unexpected argument '" + arg + "'");
            }
            final String name = arg.substring(2);
            final Flag flag = FLAGS.get(name);
            if (flag == null)
            {
                throw new ConfigException("unknown flag " + arg);
            }
            if (flag.valueName == null)
            {
                values.put(name, "true");
            }
            else
            {
                if (i + 1 >= args.length)
                {
                    throw new ConfigException(arg + " needs a value (" + flag.valueName + ")");
                }
                values.put(name, args[++i]);
            }
        }
        final String configFile = values.remove("config");
        if (configFile != null)
        {
            final Map<String, String> fromFile = readProperties(Path.of(configFile));
            fromFile.putAll(values);
            values.clear();
            values.putAll(fromFile);
        }
        for (final Map.Entry<String, String> e : values.entrySet())
        {
            final Flag flag = FLAGS.get(e.getKey());
            if (!flag.commands.contains(command))
            {
                throw new ConfigException("--" + e.getKey() + " does not apply to " + command.flagName());
            }
            if (flag.valueName == null && !"true".equals(e.getValue()) && !"false".equals(e.getValue()))
            {
                throw new ConfigException("--" + e.getKey() + " is a switch: true or false, got '" + e.getValue() + "'");
            }
        }
        return build(command, values);
    }

    private static SluiceConfig build(final Command command, final Map<String, String> values)
    {
        final SluiceConfigBuilder b = builder().command(command);
        final String ipText = required(values, "ip");
        b.device(required(values, "dev"));
        final int slash = ipText.indexOf('/');
        if (slash < 0)
        {
            throw new ConfigException("--ip wants A.B.C.D/N (with the prefix length), got '" + ipText + "'");
        }
        b.ip(ipv4("ip", ipText.substring(0, slash)), (int)integer("ip", ipText.substring(slash + 1)));
        if (values.containsKey("gateway"))
        {
            b.gatewayIp(ipv4("gateway", values.get("gateway")));
        }
        if (SERVERS.contains(command))
        {
            b.listenPort((int)integer("listen", required(values, "listen")));
        }
        else
        {
            final String target = required(values, "connect");
            final int colon = target.lastIndexOf(':');
            if (colon < 0)
            {
                throw new ConfigException("--connect wants IP:PORT, got '" + target + "'");
            }
            b.connect(ipv4("connect", target.substring(0, colon)), (int)integer("connect", target.substring(colon + 1)));
            b.bytes(size("bytes", required(values, "bytes")));
        }
        if (values.containsKey("cores"))
        {
            b.cores((int)integer("cores", values.get("cores")));
        }
        if (values.containsKey("cpus"))
        {
            final List<Integer> cpus = new ArrayList<>();
            for (final String part : values.get("cpus").split(","))
            {
                cpus.add((int)integer("cpus", part));
            }
            b.cpus(cpus);
        }
        if (values.containsKey("idle"))
        {
            b.idle(switch (values.get("idle"))
            {
                case "spin" -> IdleMode.SPIN;
                case "backoff" -> IdleMode.BACKOFF;
                case "yield" -> IdleMode.YIELD;
                default -> throw new ConfigException("--idle wants spin, backoff or yield, got '" + values.get("idle") +
                    "'");
            });
        }
        if (values.containsKey("eal"))
        {
            final String text = values.get("eal").trim();
            b.ealArgs(text.isEmpty() ? List.of() : List.of(text.split("\\s+")));
        }
        if (values.containsKey("mac"))
        {
            try
            {
                b.mac(Addresses.parseMac(values.get("mac")));
            }
            catch (final ConfigException ex)
            {
                throw ex;
            }
            catch (final RuntimeException ex)
            {
                throw new ConfigException("--mac wants aa:bb:cc:dd:ee:ff, got '" + values.get("mac") + "'");
            }
        }
        b.pcapFile(values.get("pcap"));
        if (values.containsKey("counters-file"))
        {
            b.countersFile(values.get("counters-file"));
        }
        setLong(values, "seconds", b::seconds);
        setLong(values, "mtu", v -> b.mtu((int)v));
        setLong(values, "max-connections", v -> b.maxConnections((int)v));
        if (values.containsKey("memory-budget"))
        {
            final long budget = size("memory-budget", values.get("memory-budget"));
            if (budget < MemoryBudget.MIN_BUDGET_BYTES)
            {
                throw new ConfigException("--memory-budget must be at least 16m, got " + values.get("memory-budget"));
            }
            b.memoryBudgetBytes(budget);
        }
        b.timeWaitWait(!"true".equals(values.get("no-time-wait-wait")));
        setLong(values, "mss", v -> b.mssBytes((int)v));
        setLong(values, "rto-min-ms", b::rtoMinMs);
        setLong(values, "rto-initial-ms", b::rtoInitialMs);
        setLong(values, "msl-ms", b::mslMs);
        setLong(values, "delayed-ack-ms", b::delayedAckMs);
        b.noDelay("true".equals(values.get("no-delay")));
        if (values.containsKey("congestion-control"))
        {
            switch (values.get("congestion-control"))
            {
                case "cubic" -> b.congestionControl(CongestionAlgorithm.CUBIC);
                case "newreno" -> b.congestionControl(CongestionAlgorithm.NEWRENO);
                default -> throw new ConfigException(
                    "--congestion-control wants cubic or newreno, got '" + values.get("congestion-control") + "'");
            }
        }
        b.keepAlive("true".equals(values.get("keepalive")));
        setLong(values, "keepalive-idle-s", b::keepAliveIdleS);
        setLong(values, "send-buffer", b::sendBufferBytes);
        setLong(values, "receive-buffer", b::receiveBufferBytes);
        if (values.containsKey("impair-rx"))
        {
            b.impairRx(impairment("impair-rx", values.get("impair-rx")));
        }
        if (values.containsKey("impair-tx"))
        {
            b.impairTx(impairment("impair-tx", values.get("impair-tx")));
        }
        return b.build();
    }

    static long defaultMemoryBudget(final int cores)
    {
        final long ram = ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        return MemoryBudget.defaultBudgetBytes(ram, Runtime.getRuntime().maxMemory(), cores);
    }

    static boolean isServer(final Command command)
    {
        return SERVERS.contains(command);
    }

    private static void setLong(
        final Map<String, String> values, final String name, final java.util.function.LongConsumer setter)
    {
        final String text = values.get(name);
        if (text != null)
        {
            setter.accept(integer(name, text));
        }
    }

    /**
     * A builder with the defaults of the command-line flags ({@link #usage()}); {@link Builder#build()}
     * validates like the flags do, and its messages name the flag of each setting. Embedding code builds its
     * configuration here instead of faking {@code argv}:
     * <pre>{@code
     * SluiceConfig config = SluiceConfig.builder().device("net_tap0,iface=sl0").ip("10.0.0.2/24").build();
     * }</pre>
     *
     * @return a builder with every default set.
     */
    public static SluiceConfigBuilder builder()
    {
        return new SluiceConfigBuilder();
    }

    /**
     * @return the device's name as DPDK knows the port: the vdev name before the first comma, or the PCI
     *         address.
     */
    public String portName()
    {
        final int comma = device.indexOf(',');
        return comma < 0 ? device : device.substring(0, comma);
    }

    /**
     * @return whether the device is a virtual device ({@code net_*} or {@code eth_*}), not a PCI address.
     */
    public boolean isVdev()
    {
        return device.startsWith("net_") || device.startsWith("eth_");
    }

    /**
     * @return the kernel interface of a {@code net_tap} device ({@code iface=}), or null.
     */
    public String tapInterface()
    {
        if (!device.startsWith("net_tap"))
        {
            return null;
        }
        for (final String part : device.split(","))
        {
            if (part.startsWith("iface="))
            {
                return part.substring("iface=".length());
            }
        }
        return null;
    }

    /**
     * @return the complete EAL arguments: {@link #ealArgs()} plus the device ({@code --vdev=} or {@code -a}).
     */
    public List<String> fullEalArgs()
    {
        final List<String> all = new ArrayList<>();
        for (final String a : ealArgs)
        {
            if (!isVdev() && "--no-pci".equals(a))
            {
                continue; // a PCI device needs the PCI bus
            }
            all.add(a);
        }
        if (isVdev())
        {
            all.add("--vdev=" + device);
        }
        else
        {
            all.add("-a");
            all.add(device);
        }
        return all;
    }

    /**
     * @return every flag with its value and description, for {@code --help}.
     */
    public static String usage()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append("usage: sluice echo   --dev DEV --ip A.B.C.D/N --listen PORT [options]\n");
        sb.append("       sluice http   --dev DEV --ip A.B.C.D/N --listen PORT [options]\n");
        sb.append("       sluice sink   --dev DEV --ip A.B.C.D/N --listen PORT [options]\n");
        sb.append("       sluice source --dev DEV --ip A.B.C.D/N --connect IP:PORT --bytes N [options]\n");
        sb.append("       sluice stat [FILE] [--watch] [--all]\n\n");
        sb.append("echo: sends every byte back. http: HTTP/1.1 keep-alive, GET / is a small page, GET /bytes/N is\n");
        sb.append("N bytes of the fixed pattern, anything else 404. sink: discards, reports throughput. source:\n");
        sb.append("sends N bytes of the fixed pattern, exits 0 once the peer acknowledged all and closed.\n\n");
        sb.append("flags:\n");
        for (final Map.Entry<String, Flag> e : FLAGS.entrySet())
        {
            final Flag f = e.getValue();
            final String left = "--" + e.getKey() + (f.valueName == null ? "" : " " + f.valueName);
            sb.append(String.format("  %-28s %s%n", left, f.description));
        }
        sb.append("\nA wrong flag prints one line on stderr and exits with code 2.\n");
        return sb.toString();
    }

    private static LinkImpairment impairment(final String flag, final String spec)
    {
        try
        {
            return LinkImpairment.parse(spec);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ConfigException("--" + flag + ": " + ex.getMessage());
        }
    }

    private static void flag(
        final String name, final String valueName, final Set<Command> commands, final String description)
    {
        FLAGS.put(name, new Flag(valueName, commands, description));
    }

    private static Map<String, String> readProperties(final Path file)
    {
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8))
        {
            properties.load(reader);
        }
        catch (final IOException ex)
        {
            throw new ConfigException("--config: cannot read " + file + ": " + ex.getMessage());
        }
        final Map<String, String> values = new LinkedHashMap<>();
        for (final String key : properties.stringPropertyNames())
        {
            final Flag flag = FLAGS.get(key);
            if (flag == null || "config".equals(key))
            {
                throw new ConfigException("--config " + file + ": unknown key '" + key + "'");
            }
            values.put(key, properties.getProperty(key).trim());
        }
        return values;
    }

    private static String required(final Map<String, String> values, final String name)
    {
        final String value = values.get(name);
        if (value == null)
        {
            throw new ConfigException("missing --" + name);
        }
        return value;
    }

    static int ipv4(final String name, final String text)
    {
        try
        {
            return Addresses.parseIpv4(text);
        }
        catch (final RuntimeException ex)
        {
            throw new ConfigException("--" + name + " wants an IPv4 address A.B.C.D, got '" + text + "'");
        }
    }

    static long integer(final String name, final String text)
    {
        try
        {
            return Long.parseLong(text.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new ConfigException("--" + name + " wants a number, got '" + text + "'");
        }
    }

    private static long size(final String name, final String text)
    {
        final String t = text.trim().toUpperCase(Locale.ROOT);
        long multiplier = 1;
        String digits = t;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G"))
        {
            multiplier = switch (t.charAt(t.length() - 1))
            {
                case 'K' -> 1L << 10;
                case 'M' -> 1L << 20;
                default -> 1L << 30;
            };
            digits = t.substring(0, t.length() - 1);
        }
        final long value = integer(name, digits);
        if (value < 1 || value > Long.MAX_VALUE / (1L << 30))
        {
            throw new ConfigException("--" + name + " must be 1.." + Long.MAX_VALUE / (1L << 30) + ", got " + value);
        }
        return value * multiplier;
    }

    private record Flag(String valueName, Set<Command> commands, String description)
    {
    }
}
