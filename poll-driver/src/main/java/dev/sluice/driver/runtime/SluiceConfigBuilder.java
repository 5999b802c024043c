package dev.sluice.driver.runtime;

import java.util.List;

import dev.sluice.core.net.LinkImpairment;
import dev.sluice.core.stack.MemoryBudget;
import dev.sluice.core.tcp.CongestionAlgorithm;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.runtime.SluiceConfig.Command;
import dev.sluice.driver.runtime.SluiceConfig.IdleMode;
import dev.sluice.nativebindings.dpdk.Eal;

/**
 * Settings of one run with the defaults of the {@code sluice} flags ({@link SluiceConfig#usage()}); {@link #build()}
 * validates like the command line does (which parses into this builder), and its messages name the flag of each
 * setting. Not thread-safe.
 */
public final class SluiceConfigBuilder
{
    private Command command;
    private String device;
    private int ip;
    private int prefixLength;
    private boolean ipSet;
    private int gatewayIp;
    private int listenPort;
    private int connectIp;
    private int connectPort;
    private long bytes;
    private int cores = 1;
    private List<Integer> cpus = List.of();
    private IdleMode idle = IdleMode.SPIN;
    private List<String> ealArgs = Eal.DEFAULT_ARGS;
    private long mac = -1;
    private String pcapFile;
    private String countersFile = SluiceConfig.DEFAULT_COUNTERS_FILE;
    private long seconds;
    private long mtu = 1500;
    private long maxConnections = -1;
    private long memoryBudgetBytes = -1;
    private boolean timeWaitWait = true;
    private long mssBytes = -1; // -1: MTU - 40 (jumbo frames: 8960 at MTU 9000)
    private long mslMs = 30_000;
    private long rtoMinMs = 200;
    private long rtoInitialMs = 1000;
    private long delayedAckMs = 40;
    private boolean noDelay;
    private CongestionAlgorithm congestionControl = CongestionAlgorithm.CUBIC;
    private boolean keepAlive;
    private long keepAliveIdleS = 7200;
    private long sendBufferBytes = 262_144;
    private long receiveBufferBytes = 262_144;
    private LinkImpairment impairRx = LinkImpairment.NONE;
    private LinkImpairment impairTx = LinkImpairment.NONE;

    SluiceConfigBuilder()
    {
    }

    /**
     * @param command the {@code sluice} subcommand (null when embedding: the application is given to
     *                {@code Sluice.start}).
     * @return this.
     */
    public SluiceConfigBuilder command(final Command command)
    {
        this.command = command;
        return this;
    }

    /**
     * @param device the DPDK device string ({@code --dev}), required.
     * @return this.
     */
    public SluiceConfigBuilder device(final String device)
    {
        this.device = device;
        return this;
    }

    /**
     * @param ip           our IPv4 address ({@code --ip}), required.
     * @param prefixLength its prefix length, 1..32.
     * @return this.
     */
    public SluiceConfigBuilder ip(final int ip, final int prefixLength)
    {
        this.ip = ip;
        this.prefixLength = prefixLength;
        this.ipSet = true;
        return this;
    }

    /**
     * @param cidr our address as {@code A.B.C.D/N} ({@code --ip}).
     * @return this.
     */
    public SluiceConfigBuilder ip(final String cidr)
    {
        final int slash = cidr.indexOf('/');
        if (slash < 0)
        {
            throw new ConfigException("--ip wants A.B.C.D/N (with the prefix length), got '" + cidr + "'");
        }
        return ip(SluiceConfig.ipv4("ip", cidr.substring(0, slash)), (int)SluiceConfig.integer("ip", cidr.substring(slash + 1)));
    }

    /**
     * @param gatewayIp the default gateway ({@code --gateway}), 0 for none (the default).
     * @return this.
     */
    public SluiceConfigBuilder gatewayIp(final int gatewayIp)
    {
        this.gatewayIp = gatewayIp;
        return this;
    }

    /**
     * @param listenPort the port the application's listener is opened on, on every shard ({@code --listen});
     *                   0 (the default) for none.
     * @return this.
     */
    public SluiceConfigBuilder listenPort(final int listenPort)
    {
        this.listenPort = listenPort;
        return this;
    }

    /**
     * @param ip   the peer of {@code source} ({@code --connect}).
     * @param port its port.
     * @return this.
     */
    public SluiceConfigBuilder connect(final int ip, final int port)
    {
        this.connectIp = ip;
        this.connectPort = port;
        return this;
    }

    /**
     * @param bytes what {@code source} sends ({@code --bytes}).
     * @return this.
     */
    public SluiceConfigBuilder bytes(final long bytes)
    {
        this.bytes = bytes;
        return this;
    }

    /**
     * @param cores polling threads, 1..{@value SluiceConfig#MAX_CORES} ({@code --cores}, default 1).
     * @return this.
     */
    public SluiceConfigBuilder cores(final int cores)
    {
        this.cores = cores;
        return this;
    }

    /**
     * @param cpus CPU of each polling thread ({@code --cpus}), empty (the default) for no pinning.
     * @return this.
     */
    public SluiceConfigBuilder cpus(final List<Integer> cpus)
    {
        this.cpus = List.copyOf(cpus);
        return this;
    }

    /**
     * @param idle what an idle polling thread does ({@code --idle}, default spin).
     * @return this.
     */
    public SluiceConfigBuilder idle(final IdleMode idle)
    {
        this.idle = idle;
        return this;
    }

    /**
     * @param ealArgs EAL arguments without the device ({@code --eal}).
     * @return this.
     */
    public SluiceConfigBuilder ealArgs(final List<String> ealArgs)
    {
        this.ealArgs = List.copyOf(ealArgs);
        return this;
    }

    /**
     * @param mac the port's MAC ({@code --mac}), -1 (the default) for the driver's.
     * @return this.
     */
    public SluiceConfigBuilder mac(final long mac)
    {
        this.mac = mac;
        return this;
    }

    /**
     * @param pcapFile capture file ({@code --pcap}), null (the default) for none.
     * @return this.
     */
    public SluiceConfigBuilder pcapFile(final String pcapFile)
    {
        this.pcapFile = pcapFile;
        return this;
    }

    /**
     * @param countersFile the counters file ({@code --counters-file}), null for none.
     * @return this.
     */
    public SluiceConfigBuilder countersFile(final String countersFile)
    {
        this.countersFile = countersFile;
        return this;
    }

    /**
     * @param seconds how long the CLI's servers run ({@code --seconds}), 0 for until a signal.
     * @return this.
     */
    public SluiceConfigBuilder seconds(final long seconds)
    {
        this.seconds = seconds;
        return this;
    }

    /**
     * @param mtu the IP MTU, 576..9000 ({@code --mtu}, default 1500).
     * @return this.
     */
    public SluiceConfigBuilder mtu(final int mtu)
    {
        this.mtu = mtu;
        return this;
    }

    /**
     * @param memoryBudgetBytes memory per core for connections and buffered data ({@code --memory-budget};
     *                          default: a quarter of the RAM, at most the JVM heap limit, shared by the cores).
     * @return this.
     */
    public SluiceConfigBuilder memoryBudgetBytes(final long memoryBudgetBytes)
    {
        this.memoryBudgetBytes = memoryBudgetBytes;
        return this;
    }

    /**
     * @param timeWaitWait whether the CLI's {@code source} waits for its connection's TIME-WAIT to end
     *                     ({@code --no-time-wait-wait} turns it off).
     * @return this.
     */
    public SluiceConfigBuilder timeWaitWait(final boolean timeWaitWait)
    {
        this.timeWaitWait = timeWaitWait;
        return this;
    }

    /**
     * @param maxConnections most connections per core ({@code --max-connections}, default: memory budget / 2 KiB).
     * @return this.
     */
    public SluiceConfigBuilder maxConnections(final int maxConnections)
    {
        this.maxConnections = maxConnections;
        return this;
    }

    /**
     * @param mssBytes the MSS we announce ({@code --mss}, default and cap: MTU - 40; the peer's MSS option still
     *                 bounds what is sent).
     * @return this.
     */
    public SluiceConfigBuilder mssBytes(final int mssBytes)
    {
        this.mssBytes = mssBytes;
        return this;
    }

    /**
     * @param mslMs maximum segment lifetime ({@code --msl-ms}, default 30000).
     * @return this.
     */
    public SluiceConfigBuilder mslMs(final long mslMs)
    {
        this.mslMs = mslMs;
        return this;
    }

    /**
     * @param rtoMinMs lower bound of the RTO ({@code --rto-min-ms}, default 200).
     * @return this.
     */
    public SluiceConfigBuilder rtoMinMs(final long rtoMinMs)
    {
        this.rtoMinMs = rtoMinMs;
        return this;
    }

    /**
     * @param rtoInitialMs RTO before an RTT sample ({@code --rto-initial-ms}, default 1000).
     * @return this.
     */
    public SluiceConfigBuilder rtoInitialMs(final long rtoInitialMs)
    {
        this.rtoInitialMs = rtoInitialMs;
        return this;
    }

    /**
     * @param delayedAckMs longest ACK delay, 0..499 ({@code --delayed-ack-ms}, default 40).
     * @return this.
     */
    public SluiceConfigBuilder delayedAckMs(final long delayedAckMs)
    {
        this.delayedAckMs = delayedAckMs;
        return this;
    }

    /**
     * @param noDelay disable Nagle's algorithm by default ({@code --no-delay}).
     * @return this.
     */
    public SluiceConfigBuilder noDelay(final boolean noDelay)
    {
        this.noDelay = noDelay;
        return this;
    }

    /**
     * @param congestionControl congestion control of every connection ({@code --congestion-control cubic|newreno},
     *                          default cubic).
     * @return this.
     */
    public SluiceConfigBuilder congestionControl(final CongestionAlgorithm congestionControl)
    {
        this.congestionControl = congestionControl;
        return this;
    }

    /**
     * @param keepAlive keep-alives on idle connections ({@code --keepalive}).
     * @return this.
     */
    public SluiceConfigBuilder keepAlive(final boolean keepAlive)
    {
        this.keepAlive = keepAlive;
        return this;
    }

    /**
     * @param keepAliveIdleS idle time before the first keep-alive ({@code --keepalive-idle-s}, default 7200).
     * @return this.
     */
    public SluiceConfigBuilder keepAliveIdleS(final long keepAliveIdleS)
    {
        this.keepAliveIdleS = keepAliveIdleS;
        return this;
    }

    /**
     * @param sendBufferBytes send buffer per connection, a power of two ({@code --send-buffer}, 262144).
     * @return this.
     */
    public SluiceConfigBuilder sendBufferBytes(final long sendBufferBytes)
    {
        this.sendBufferBytes = sendBufferBytes;
        return this;
    }

    /**
     * @param receiveBufferBytes receive buffer per connection, a power of two ({@code --receive-buffer},
     *                           262144).
     * @return this.
     */
    public SluiceConfigBuilder receiveBufferBytes(final long receiveBufferBytes)
    {
        this.receiveBufferBytes = receiveBufferBytes;
        return this;
    }

    /**
     * @param impairRx impairment of received frames ({@code --impair-rx}).
     * @return this.
     */
    public SluiceConfigBuilder impairRx(final LinkImpairment impairRx)
    {
        this.impairRx = impairRx;
        return this;
    }

    /**
     * @param impairTx impairment of transmitted frames ({@code --impair-tx}).
     * @return this.
     */
    public SluiceConfigBuilder impairTx(final LinkImpairment impairTx)
    {
        this.impairTx = impairTx;
        return this;
    }

    /**
     * Validates every setting like the command line does.
     *
     * @return the settings.
     * @throws ConfigException with a one-line message naming the flag of the first invalid setting.
     */
    public SluiceConfig build()
    {
        if (device == null)
        {
            throw new ConfigException("missing --dev");
        }
        if (device.isBlank() || device.contains(" "))
        {
            throw new ConfigException("--dev wants a DPDK device string without spaces, got '" + device + "'");
        }
        if (!ipSet)
        {
            throw new ConfigException("missing --ip");
        }
        range("ip", prefixLength, 1, 32);
        if (listenPort != 0 || (command != null && SluiceConfig.isServer(command)))
        {
            range("listen", listenPort, 1, 65_535);
        }
        if (command == Command.SOURCE || connectPort != 0)
        {
            range("connect", connectPort, 1, 65_535);
        }
        if (command == Command.SOURCE)
        {
            range("bytes", bytes, 1, Long.MAX_VALUE);
        }
        range("cores", cores, 1, SluiceConfig.MAX_CORES);
        for (final int cpu : cpus)
        {
            range("cpus", cpu, 0, 1023);
        }
        if (!cpus.isEmpty() && cpus.size() < cores)
        {
            throw new ConfigException("--cpus names " + cpus.size() + " CPU(s) for " + cores + " core(s)");
        }
        if (cpus.stream().distinct().count() != cpus.size())
        {
            throw new ConfigException("--cpus names a CPU twice: " + cpus);
        }
        for (final String a : ealArgs)
        {
            if (a.startsWith("--vdev") || a.equals("-a") || a.startsWith("--allow"))
            {
                throw new ConfigException("--eal must not name devices (got " + a + "): use --dev");
            }
        }
        if (mac != -1 && ((mac & 0x0100_0000_0000L) != 0 || mac == 0))
        {
            throw new ConfigException("--mac must be a unicast address (first byte even, not zero), got '" +
                Addresses.macToString(mac) + "'");
        }
        range("seconds", seconds, 0, Integer.MAX_VALUE);
        range("mtu", mtu, 576, 9000);
        final long budget = memoryBudgetBytes >= 0 ? memoryBudgetBytes : SluiceConfig.defaultMemoryBudget(cores);
        if (budget < MemoryBudget.MIN_BUDGET_BYTES)
        {
            throw new ConfigException("--memory-budget must be at least 16m, got " + budget);
        }
        final long connections = maxConnections >= 0 ? maxConnections : MemoryBudget.of(budget).maxConnections();
        range("max-connections", connections, 1, MemoryBudget.MAX_CONNECTIONS);
        if (mssBytes != -1)
        {
            range("mss", mssBytes, TcpConfig.MIN_MSS_BYTES, 65_495);
        }
        range("rto-min-ms", rtoMinMs, 1, 60_000);
        range("rto-initial-ms", rtoInitialMs, 1, 60_000);
        if (rtoInitialMs < rtoMinMs)
        {
            throw new ConfigException("--rto-initial-ms (" + rtoInitialMs + ") must be >= --rto-min-ms (" +
                rtoMinMs + ")");
        }
        range("msl-ms", mslMs, 1, 3_600_000);
        range("delayed-ack-ms", delayedAckMs, 0, 499);
        range("keepalive-idle-s", keepAliveIdleS, 1, 7 * 24 * 3600);
        powerOfTwo("send-buffer", sendBufferBytes);
        powerOfTwo("receive-buffer", receiveBufferBytes);

        final TcpConfig.Builder tcp = TcpConfig.builder();
        tcp.mssBytes((int)(mssBytes == -1 ? mtu - 40 : Math.min(mssBytes, mtu - 40)));
        tcp.rto(rtoInitialMs * 1_000_000L, rtoMinMs * 1_000_000L, 120_000_000_000L);
        tcp.clockGranularityNs(Math.min(1_000_000L, rtoMinMs * 1_000_000L));
        tcp.mslNs(mslMs * 1_000_000L);
        tcp.delayedAckNs(delayedAckMs * 1_000_000L);
        tcp.noDelay(noDelay);
        tcp.congestionControl(congestionControl);
        tcp.keepAlive(keepAlive, keepAliveIdleS * 1_000_000_000L, 75_000_000_000L, 9);
        tcp.bufferBytes((int)sendBufferBytes, (int)receiveBufferBytes);
        tcp.backlog((int)Math.min(connections, 65_535));
        final TcpConfig tcpConfig;
        try
        {
            tcpConfig = tcp.build();
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ConfigException("TCP settings: " + ex.getMessage());
        }
        return new SluiceConfig(command, device, ip, prefixLength, gatewayIp, listenPort, connectIp, connectPort,
            bytes, cores, cpus, idle, ealArgs, mac, pcapFile, countersFile, seconds, (int)mtu, (int)connections,
            tcpConfig, impairRx, impairTx, budget, timeWaitWait);
    }

    private static void range(final String name, final long value, final long min, final long max)
    {
        if (value < min || value > max)
        {
            throw new ConfigException("--" + name + " must be " + min + ".." + max + ", got " + value);
        }
    }

    private static void powerOfTwo(final String name, final long value)
    {
        range(name, value, 1, TcpConfig.MAX_BUFFER_BYTES);
        if (Long.bitCount(value) != 1)
        {
            throw new ConfigException("--" + name + " must be a power of two, got " + value);
        }
    }
}
