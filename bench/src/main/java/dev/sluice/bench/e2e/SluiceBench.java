package dev.sluice.bench.e2e;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

import dev.sluice.bench.e2e.SluiceBenchClients.BulkClient;
import dev.sluice.bench.e2e.SluiceBenchClients.ClientApp;
import dev.sluice.bench.e2e.SluiceBenchClients.ConnectClient;
import dev.sluice.bench.e2e.SluiceBenchClients.RequestClient;
import dev.sluice.bench.e2e.SluiceBenchIdle.IdleClient;
import dev.sluice.bench.e2e.SluiceBenchIdle.IdleServer;
import dev.sluice.bench.e2e.SluiceBenchServer.ServerApp;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.stack.JvmMemory;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.PortMtu;
import dev.sluice.driver.PortOffloads;
import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.ZeroCopyTransmit;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.RingPorts;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.CachedNanoClock;

/**
 * Sluice's side of the end-to-end benchmarks: two shards in one JVM, a client stack and a server stack,
 * each a {@link TcpStack} polled by a {@link ShardAgent} on its own thread (Agrona {@link AgentRunner},
 * busy spin) pinned to its own CPU, joined by a crossed {@code net_ring} pair. The load generator runs on
 * the client shard: its handlers react in {@code onEstablished}/{@code onData}/{@code onWritable}, and
 * connections are opened from the client agent's thread; there is no cross-thread call on the data path.
 * Latencies go into a preallocated HdrHistogram on the client thread. The same workloads as
 * {@link KernelBench}.
 *
 * <p>Each agent thread reports the bytes it allocated during the measurement (ThreadMXBean), to check the
 * 0 B/op target end to end.
 */
public final class SluiceBench
{
    static final int CLIENT_IP = Addresses.parseIpv4("10.78.0.1");
    static final int SERVER_IP = Addresses.parseIpv4("10.78.0.2");
    static final long CLIENT_MAC = 0x02_00_00_78_00_01L;
    static final long SERVER_MAC = 0x02_00_00_78_00_02L;
    static final int SERVER_PORT = 7;
    static final int BULK_BLOCK = 64 * 1024;
    /**
     * The bulk receiver's buffer, so its window ({@code -Dsluice.bench.bulkReceiveBytes}, a power of two; default
     * 256 KiB: 64 KiB left the sender waiting for the window; 1 MiB collapsed net_memif at MTU 9000 (frames
     * dropped at its full rings) and measured lower on the ring; see README "Second pass").
     */
    static final int BULK_RECEIVE_BYTES = Integer.getInteger("sluice.bench.bulkReceiveBytes", 256 * 1024);
    /** The bulk sender's buffer ({@code -Dsluice.bench.bulkSendBytes}, a power of two; default 1 MiB). */
    static final int BULK_SEND_BYTES = Integer.getInteger("sluice.bench.bulkSendBytes", 1 << 20);

    /**
     * More net_memif devargs for both JVMs ({@code -Dsluice.bench.memifDevargs=,rsize=11}: a leading comma), e.g.
     * the ring size or zero-copy on the client (see README "net_memif").
     */
    static final String MEMIF_DEVARGS = System.getProperty("sluice.bench.memifDevargs", "");

    private final Options options;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private long startNs;
    private MbufPool attachPool; // zero-copy transmit, or null

    private SluiceBench(final Options options)
    {
        this.options = options;
    }

    /**
     * Runs one workload and writes its JSON result.
     *
     * @param args see {@link Options}; {@code --eal "..."} replaces {@link Eal#DEFAULT_ARGS}.
     * @throws Exception if the run fails.
     */
    public static void main(final String[] args) throws Exception
    {
        final Options options = Options.parse(args);
        try
        {
            new SluiceBench(options).run();
        }
        catch (final Throwable ex)
        {
            ex.printStackTrace();
            System.exit(1);
        }
        System.exit(0); // EAL and the ports are left to the process exit
    }

    private void run() throws Exception
    {
        final boolean memif = "memif".equals(options.transport());
        final boolean serverRole = memif && "server".equals(options.role());
        final int mtu = options.mtu();
        final boolean jumbo = mtu > 1500;
        final List<String> ealArgs = new ArrayList<>(
            options.eal() == null ? Eal.DEFAULT_ARGS : List.of(options.eal().trim().split("\\s+")));
        if (memif)
        {
            // DPDK's memif server role owns the socket: the Sluice server is the memif server
            ealArgs.add("--vdev=net_memif0,role=" + (serverRole ? "server" : "client") + ",socket=" + options.socket() +
                ",socket-abstract=no" + MEMIF_DEVARGS);
        }
        final Eal eal = Eal.init(ealArgs);
        // jumbo frames: one frame per mbuf (a chain would be linearized on receive), half as many mbufs
        final MbufPool pool = MbufPool.create("slbn_pool", jumbo ? 16383 : 32767, 256, MbufPool.dataRoomFor(mtu));
        final int[] ports = memif ?
            new int[] {Eal.portIdByName("net_memif0")} :
            RingPorts.createCrossedPair("slbn_client", "slbn_server", 4096);
        for (final int id : ports)
        {
            final EthPort port = EthPort.of(id);
            final int portMtu = PortMtu.configurable(port.info(), mtu);
            // zero-copy transmit (-Dsluice.zeroCopy=true; off by default): payloads by reference to send-buffer memory
            final String zeroCopyOff = ZeroCopyTransmit.requestedByProperty() ?
                ZeroCopyTransmit.unsupportedReason(port.info(), String.join(",", ealArgs)) :
                "-D" + ZeroCopyTransmit.PROPERTY + "=true for on";
            if (zeroCopyOff == null && attachPool == null)
            {
                attachPool = MbufPool.create("slbn_ext", jumbo ? 16383 : 32767, 256, 0);
            }
            port.configure(1, 1, 0, null, 0, zeroCopyOff == null ? ZeroCopyTransmit.txOffloads(port.info()) : 0,
                portMtu);
            System.err.println("port " + id + ": MTU " + PortMtu.describe(port.info(), mtu, portMtu) + "; offloads " +
                PortOffloads.choose(port.info(), true).describe() + "; zero-copy=" +
                (zeroCopyOff == null ? "on" : "off (" + zeroCopyOff + ")"));
            port.setupRxQueue(0, 1024, pool);
            port.setupTxQueue(0, 1024);
            startPort(port, memif);
        }

        final String workload = options.workload();
        final boolean connect = workload.startsWith("connect");
        final boolean bulk = "bulk".equals(workload);
        final boolean idle = "idle".equals(workload);
        final int poolSize = idle ? options.connections() + 64 : connect ? 4096 : 128;
        final TcpConfig config = TcpConfig.builder()
            .mssBytes(mtu - 40) // MSS from the MTU; the smaller of the two ends' MSS options is used
            .noDelay(true)
            .mslNs(options.mslNs())
            .bufferBytes(bulk ? BULK_SEND_BYTES : connect ? 4096 : 64 * 1024, bulk ? BULK_RECEIVE_BYTES : connect ? 4096 : 64 * 1024)
            .backlog(poolSize)
            .sendQuantumBytes(Integer.getInteger("sluice.bench.sendQuantumBytes", TcpConfig.DEFAULT_SEND_QUANTUM_BYTES))
            .build();

        if (memif)
        {
            final long linkDeadlineNs = System.nanoTime() + 20_000_000_000L;
            while (!EthPort.of(ports[0]).link().up())
            {
                if (System.nanoTime() - linkDeadlineNs > 0)
                {
                    throw new IllegalStateException("memif link did not come up (is the other side running?)");
                }
                Thread.sleep(10);
            }
        }

        if (idle)
        {
            runIdle(eal, pool, ports, config, ealArgs.contains("--no-huge") ? "no-huge" : "hugepages");
            return;
        }
        startNs = System.nanoTime() + 500_000_000L;
        final Phase phase = new Phase(startNs, startNs + options.warmupNs(), startNs + options.warmupNs() + options.measureNs());
        final ServerApp server = memif && !serverRole ? null : new ServerApp(phase, bulk, poolSize, options.serverCloses());
        final ClientApp client = serverRole ? null : switch (workload)
        {
            case "pingpong" -> new RequestClient(phase, 1);
            case "rate" -> new RequestClient(phase, Options.RATE_CONNECTIONS);
            case "bulk" -> new BulkClient(phase);
            default -> new ConnectClient(phase, options.concurrency(), poolSize, options.serverCloses());
        };

        final AppAgent serverAgent = server == null ? null : shard(eal, pool, ports[ports.length - 1], SERVER_IP,
            SERVER_MAC, config, server, options.serverCpu(), 0x5eed);
        final AppAgent clientAgent = client == null ? null : shard(eal, pool, ports[0], CLIENT_IP, CLIENT_MAC,
            config, client, options.clientCpu(), 0xc11e);
        final AgentRunner serverRunner = serverAgent == null ? null :
            new AgentRunner(new BusySpinIdleStrategy(), this::onError, null, serverAgent);
        final AgentRunner clientRunner = clientAgent == null ? null :
            new AgentRunner(new BusySpinIdleStrategy(), this::onError, null, clientAgent);
        if (serverRunner != null)
        {
            AgentRunner.startOnThread(serverRunner);
        }
        if (clientRunner != null)
        {
            AgentRunner.startOnThread(clientRunner);
        }

        // bulk payload is counted by the server, whose window starts at its first accepted connection
        final Phase measurer = serverRole || (bulk && server != null) ? server.phase : client.phase;
        final long deadlineNs = phase.endNs + 20_000_000_000L;
        while (measurer.measureStartNs == 0 && failure.get() == null && System.nanoTime() - deadlineNs < 0)
        {
            Thread.sleep(1);
        }
        final SchedStat clientSched = new SchedStat(clientAgent == null ? -1 : clientAgent.tid);
        final SchedStat serverSched = new SchedStat(serverAgent == null ? -1 : serverAgent.tid);
        clientSched.start();
        serverSched.start();
        sleepUntil(measurer.measureStartNs + options.measureNs());
        clientSched.end();
        serverSched.end();
        while (!measurer.done && failure.get() == null && System.nanoTime() - deadlineNs < 0)
        {
            Thread.sleep(10);
        }
        if (serverRole)
        {
            Thread.sleep(1000); // the client's window ends about now: keep serving until it has
        }
        if (clientRunner != null)
        {
            clientRunner.close();
        }
        if (serverRunner != null)
        {
            serverRunner.close();
        }
        if (failure.get() != null)
        {
            throw new IllegalStateException("agent failed", failure.get());
        }
        if (!measurer.done)
        {
            throw new IllegalStateException("the run did not finish: " + (client == null ? "" : client.describe()) +
                "; server " + (server == null ? "" : server.describe()));
        }
        // the measured window on the JVM's uptime clock (what -Xlog's uptime decorations use): scripts/tail-attrib
        // counts the safepoints and compilations inside it
        final long endUptimeMs = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() -
            (System.nanoTime() - (measurer.measureStartNs + measurer.measuredNs)) / 1_000_000;
        System.err.printf(Locale.ROOT, "measured window (JVM uptime): %.3f s to %.3f s%n",
            (endUptimeMs - measurer.measuredNs / 1_000_000) / 1000.0, endUptimeMs / 1000.0);
        if (clientAgent != null)
        {
            System.err.println("client shard: " + clientAgent.describe());
            System.err.println("client: " + client.describe());
        }
        if (serverAgent != null)
        {
            System.err.println("server shard: " + serverAgent.describe());
        }
        if (memif && (bulk != serverRole))
        {
            return; // the other process reports this workload
        }
        final long ops = bulk ? 0 : measurer.operations;
        final long clientAlloc = client == null ? 0 : client.phase.allocatedBytes;
        final long serverAlloc = server == null ? 0 : server.phase.allocatedBytes;
        final long opsForAlloc = bulk ? Math.max(1, server.bytesMeasured / 1448) : Math.max(1, ops);
        final String extra = String.format(Locale.ROOT,
            "\"client_alloc_bytes\":%d,\"server_alloc_bytes\":%d,\"alloc_bytes_per_op\":%.4f,\"errors\":%d," +
            "\"client_state\":\"%s\",\"client_shard\":\"%s\",\"server_shard\":\"%s\"",
            clientAlloc, serverAlloc, (clientAlloc + serverAlloc) / (double)opsForAlloc,
            (client == null ? 0 : client.errors) + (server == null ? 0 : server.errors),
            client == null ? "" : client.describe(), clientAgent == null ? "" : clientAgent.describe(),
            serverAgent == null ? "" : serverAgent.describe()) +
            "," + clientSched.json("client") + "," + serverSched.json("server");
        final String mode = ealArgs.contains("--no-huge") ? "no-huge" : "hugepages";
        Report.write(options, memif ? "sluice-memif" : "sluice-ring", measurer.measuredNs, ops,
            bulk ? server.bytesMeasured : 0, bulk ? null : client.histogram,
            (memif ? "one shard per JVM over net_memif (the other JVM's figures are not included)" :
            "two shards over a crossed net_ring pair in one JVM") + ", " + mode +
            ", client cpu " + options.clientCpu() + ", server cpu " + options.serverCpu() + ", MTU " + mtu +
            (Boolean.getBoolean("sluice.gro") ? ", receive coalescing" : "") +
            (ShardAgent.segmentationBytesByProperty() > 0 ? ", GSO" : ", no GSO") +
            (attachPool != null ? ", zero-copy transmit" : ", payloads copied") +
            (connect ? ", MSL " + options.mslNs() / 1_000_000 + " ms (TIME-WAIT " + 2 * options.mslNs() / 1_000_000 +
            " ms, at most " + (options.timeWaitCap() > 0 ? options.timeWaitCap() : "max(" + poolSize + ", 4096)") +
            " records)" + (options.serverCloses() ? ", the server closes first" : ", the client closes first") : "") +
            (bulk ? ", alloc per op = per 1448-byte segment" : ""), extra);
        System.err.println("port MTU " + EthPort.of(ports[0]).mtu() + ", segments of up to " + (mtu - 40) +
            " bytes");
    }

    /**
     * The idle workload: heap and direct memory of both stacks before the first connection and once N are
     * ESTABLISHED and idle (each having sent and received 8 bytes), per connection end (divided by 2N).
     */
    private void runIdle(
        final Eal eal, final MbufPool pool, final int[] ports, final TcpConfig config, final String mode)
        throws Exception
    {
        final int n = options.connections();
        final IdleServer server = new IdleServer(n);
        final IdleClient client = new IdleClient(n);
        final AppAgent serverAgent = shard(eal, pool, ports[1], SERVER_IP, SERVER_MAC, config, server,
            options.serverCpu(), 0x5eed);
        final AppAgent clientAgent = shard(eal, pool, ports[0], CLIENT_IP, CLIENT_MAC, config, client,
            options.clientCpu(), 0xc11e);
        final AgentRunner serverRunner = new AgentRunner(new BusySpinIdleStrategy(), this::onError, null, serverAgent);
        final AgentRunner clientRunner = new AgentRunner(new BusySpinIdleStrategy(), this::onError, null, clientAgent);
        AgentRunner.startOnThread(serverRunner);
        AgentRunner.startOnThread(clientRunner);
        Thread.sleep(500);
        final long heapBefore = JvmMemory.usedHeapAfterGc();
        final long directBefore = JvmMemory.directMemoryUsed();
        final long openedAtNs = System.nanoTime();
        client.go = true;
        final long deadlineNs = openedAtNs + 60_000_000_000L + n * 200_000L;
        while (!client.idle() && failure.get() == null && System.nanoTime() - deadlineNs < 0)
        {
            Thread.sleep(10);
        }
        final long openNs = System.nanoTime() - openedAtNs;
        // delayed ACKs of the last bytes: every send queue drains; then the pools give their drained slabs back
        Thread.sleep(1_000 + 2 * ChunkPool.SLAB_DECAY_NS / 1_000_000);
        final long heapAfter = JvmMemory.usedHeapAfterGc();
        final long directAfter = JvmMemory.directMemoryUsed();
        clientRunner.close();
        serverRunner.close();
        if (failure.get() != null)
        {
            throw new IllegalStateException("agent failed", failure.get());
        }
        if (!client.idle())
        {
            throw new IllegalStateException("not every connection exchanged its bytes: client " + client.describe() +
                "; server " + server.describe());
        }
        final double heap = (heapAfter - heapBefore) / (2.0 * n);
        final double direct = (directAfter - directBefore) / (2.0 * n);
        System.err.printf(Locale.ROOT, "idle ESTABLISHED connections: %d per side; heap %.0f B + direct %.0f B per " +
            "connection end%n", n, heap, direct);
        Report.write(options, "sluice-ring", openNs, n, 0, null, "two shards over a crossed net_ring pair in one " +
            "JVM, " + mode + "; " + n + " connections per side, each sent and received 8 bytes, then idle; heap " +
            "after GC and direct memory (payload pool slabs, given back once drained) before and after, divided by " + 2 * n +
            " connection ends", String.format(Locale.ROOT, "\"connections\":%d,\"heap_bytes_per_connection\":%.1f," +
            "\"direct_bytes_per_connection\":%.1f,\"bytes_per_connection\":%.1f,\"client_state\":\"%s\"," +
            "\"server_state\":\"%s\",\"client_shard\":\"%s\",\"server_shard\":\"%s\"", n, heap, direct,
            heap + direct, client.describe(), server.describe(), clientAgent.describe(), serverAgent.describe()));
    }

    private AppAgent shard(
        final Eal eal, final MbufPool pool, final int port, final int ip, final long mac, final TcpConfig config,
        final App app, final int cpu, final long isnKey)
    {
        final TcpStackCounters counters = new TcpStackCounters();
        final NetworkSegmentOutput output = new NetworkSegmentOutput(0, counters);
        final TcpStack stack = new TcpStack(config, new IsnGenerator(isnKey, ~isnKey), output, counters,
            config.backlog());
        if (options.timeWaitCap() > 0)
        {
            stack.maxTimeWait(options.timeWaitCap());
        }
        final NetConfig netConfig = NetConfig.builder().localMac(mac).localIp(ip, 24).mtu(options.mtu()).build();
        final CachedNanoClock clock = new CachedNanoClock();
        final ShardAgent shard = new ShardAgent(eal, pool, port, 0, netConfig, stack, output, clock, null);
        // the ports are configured without device offloads: only an in-memory link's partial checksums apply
        final PortOffloads offloads = PortOffloads.choose(EthPort.of(port).info(), PortOffloads.requestedByProperty());
        if (offloads.inMemory())
        {
            shard.offloads(offloads); // net_ring: checksums as Linux's loopback, -Dsluice.offloads=none for software
        }
        shard.coalesce(Boolean.getBoolean("sluice.gro")); // receive coalescing, -Dsluice.gro=true
        shard.segmentationOffload(ShardAgent.segmentationBytesByProperty()); // GSO (on by default), -Dsluice.gso=false turns it off
        shard.zeroCopy(attachPool, ZeroCopyTransmit.MIN_BYTES); // null: payloads copied
        return new AppAgent(shard, stack, counters, app, cpu, clock);
    }

    // a memif client whose server is not listening yet fails to start: retry for a while
    private static void startPort(final EthPort port, final boolean retry) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + 20_000_000_000L;
        while (true)
        {
            try
            {
                port.start();
                return;
            }
            catch (final RuntimeException ex)
            {
                if (!retry || System.nanoTime() - deadlineNs > 0)
                {
                    throw ex;
                }
                Thread.sleep(200);
            }
        }
    }

    static void sleepUntil(final long deadlineNs) throws InterruptedException
    {
        long left;
        while ((left = deadlineNs - System.nanoTime()) > 0)
        {
            Thread.sleep(Math.max(1, Math.min(100, left / 1_000_000)));
        }
    }

    private void onError(final Throwable throwable)
    {
        failure.compareAndSet(null, throwable);
    }

    /**
     * The measurement window, seen by one agent thread. The warm-up holds a rehearsal window (from 40 % to 50 % of
     * it) that goes through exactly the code of the real one: the JIT compiles the window's start and its
     * consequences (the histogram reset) during the warm-up instead of deoptimising the hot loop when the real
     * window opens (an uncommon trap on a never-taken branch, then a few hundred milliseconds of recompilation inside
     * the measurement: what scripts/tail-attrib found in the ping-pong tail).
     */
    static final class Phase
    {
        private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        private static final int MEASURE_START = 2;
        private static final int MEASURE_END = 3;

        long startNs;
        long warmEndNs;
        long endNs;
        volatile long measureStartNs;
        long allocatedAtStart;
        long allocatedBytes;
        long operations;
        long measuredNs;
        volatile boolean done;
        // rehearsal start, rehearsal end, measurement start, measurement end, never
        private final long[] boundaryNs = new long[5];
        private final long[] passedNs = new long[5];
        private int stage;

        Phase(final long startNs, final long warmEndNs, final long endNs)
        {
            set(startNs, warmEndNs, endNs);
        }

        private void set(final long startNs, final long warmEndNs, final long endNs)
        {
            this.startNs = startNs;
            this.warmEndNs = warmEndNs;
            this.endNs = endNs;
            final long warmup = warmEndNs - startNs;
            boundaryNs[0] = startNs + warmup * 4 / 10;
            boundaryNs[1] = startNs + warmup / 2;
            boundaryNs[MEASURE_START] = warmEndNs;
            boundaryNs[MEASURE_END] = endNs;
            boundaryNs[4] = endNs + (1L << 62);
        }

        void restart(final long nowNs)
        {
            final long warmup = warmEndNs - startNs;
            final long measure = endNs - warmEndNs;
            set(nowNs, nowNs + warmup, nowNs + warmup + measure);
        }

        Phase copy()
        {
            return new Phase(startNs, warmEndNs, endNs);
        }

        /**
         * @return true when a window (the rehearsal's or the measurement's) starts now: the caller restarts its
         *         counts. Every boundary runs the same statements (no branch first taken at the real window).
         */
        boolean check(final long nowNs, final long count)
        {
            if (nowNs - boundaryNs[stage] < 0)
            {
                return false;
            }
            final int passed = stage;
            stage = passed + 1;
            passedNs[passed] = nowNs;
            final long allocated = allocatedBytes();
            // at a window's end these are its figures; at a start they are overwritten by the end
            allocatedBytes = allocated - allocatedAtStart;
            allocatedAtStart = allocated;
            operations = count;
            measuredNs = nowNs - passedNs[passed & ~1];
            measureStartNs = passedNs[MEASURE_START]; // 0 until the measurement starts: the main thread waits
            done = passedNs[MEASURE_END] != 0;
            return (passed & 1) == 0;
        }

        static long allocatedBytes()
        {
            return THREADS.getCurrentThreadAllocatedBytes();
        }
    }

    /** What runs on a shard's thread beside the stack. */
    interface App
    {
        void onStart(TcpStack stack);

        /** Called every duty cycle before the shard's own work. */
        int doWork(long nowNs);
    }

    /** A shard and its application on one pinned thread: the application's step, then the shard's duty cycle. */
    static final class AppAgent implements Agent
    {
        private final ShardAgent shard;
        private final TcpStack stack;
        private final TcpStackCounters counters;
        private final App app;
        private final int cpu;
        private final CachedNanoClock clock;
        volatile int tid;
        // time in cycles that did work, and since the start: the busy share tells which side of a transfer limits it
        private long busyNs;
        private long busyCycles;
        private long startedNs;
        private volatile long stoppedNs;

        AppAgent(
            final ShardAgent shard, final TcpStack stack, final TcpStackCounters counters, final App app, final int cpu,
            final CachedNanoClock clock)
        {
            this.shard = shard;
            this.stack = stack;
            this.counters = counters;
            this.app = app;
            this.cpu = cpu;
            this.clock = clock;
        }

        @Override
        public void onStart()
        {
            startedNs = System.nanoTime();
            clock.update(startedNs);
            Phase.allocatedBytes(); // the first call on a thread may allocate: not during the measurement
            Phase.allocatedBytes();
            shard.onStart();
            Affinity.pin(cpu);
            tid = Affinity.gettid();
            app.onStart(stack);
        }

        @Override
        public int doWork()
        {
            final long nowNs = System.nanoTime();
            clock.update(nowNs);
            final int work = app.doWork(nowNs) + shard.doWork();
            if (work > 0)
            {
                busyNs += System.nanoTime() - nowNs;
                busyCycles++;
            }
            return work;
        }

        @Override
        public void onClose()
        {
            stoppedNs = System.nanoTime();
            shard.onClose();
        }

        @Override
        public String roleName()
        {
            return shard.roleName();
        }

        /** Read after the agent stopped. */
        String describe()
        {
            return "tcp sent " + counters.segmentsSent() + " dropped " + counters.segmentsDropped() + " received " +
                counters.segmentsReceived() + " pool exhausted " + counters.poolExhausted() + " resets " +
                counters.resetsToClosedPorts() + "; frames sent " + shard.transmitter().framesSent() +
                " dropped " + shard.transmitter().framesDropped() + " claim failures " +
                shard.transmitter().claimFailures() + "; net drops " + shard.counters().totalDrops() + "; TIME-WAIT " +
                stack.timeWaitCount() + " (entered " + counters.timeWaitEntered() + ", recycled " +
                counters.timeWaitRecycled() + ", reused " + counters.timeWaitReused() + "); busy " +
                String.format(Locale.ROOT, "%.1f", 100.0 * busyNs / Math.max(1, stoppedNs - startedNs)) +
                " % of the thread's time in " + busyCycles + " cycles that did work; zero-copy: frames referenced " +
                shard.transmitter().framesReferenced() + ", attach failures " + shard.transmitter().attachFailures() +
                ", chunks deferred " + stack.pool().deferrals() + ", chains read in place " + shard.chainsReadInPlace() +
                ", linearized " + shard.chainsLinearized() + ", payload copies refused " +
                counters.payloadReferencesRefused();
        }
    }
}
