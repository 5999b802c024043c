package dev.sluice.bench.e2e;

import java.util.HashMap;
import java.util.Map;

/**
 * Command-line options shared by the load tools: {@code --workload NAME --warmup S --seconds S
 * --client-cpu N --server-cpu N --out FILE [--io spin|block] [--eal "ARGS"]}.
 *
 * @param workload  pingpong, rate, bulk, connect-seq, connect-16, connect-16-server-close (the server closes
 *                  first, so the TIME-WAIT state is the server's) or idle (Sluice: memory per idle connection).
 * @param warmupNs  warm-up before measuring.
 * @param measureNs measured time.
 * @param clientCpu CPU of the client thread (-1: unpinned).
 * @param serverCpu CPU of the server thread (-1: unpinned).
 * @param out       where the JSON result goes (null: stdout).
 * @param io        kernel I/O mode: spin (non-blocking, busy polling) or block.
 * @param eal       EAL arguments (Sluice).
 * @param transport Sluice link: {@code ring} (two shards, one JVM) or {@code memif} (one shard per JVM).
 * @param role      with memif: {@code client} or {@code server}.
 * @param socket    with memif: the control socket path.
 * @param mtu       Sluice: the IP MTU of the link (1500; up to 9000 on ring and memif, both ends the same).
 * @param mslNs     Sluice: maximum segment lifetime (TIME-WAIT is 2 MSL); {@code --msl-ms}, default 10 ms.
 * @param connections the idle workload's connection count ({@code --connections}, default 10,000).
 * @param timeWaitCap Sluice: most TIME-WAIT records per stack ({@code --time-wait-cap}, 0: the stack's default,
 *                  its connection limit and at least 4,096), e.g. the kernel's tcp_max_tw_buckets.
 */
public record Options(
    String workload, long warmupNs, long measureNs, int clientCpu, int serverCpu, String out, String io, String eal,
    String transport, String role, String socket, int mtu, long mslNs, int connections,
    int timeWaitCap)
{
    /** Request and reply size of ping-pong and request rate. */
    public static final int MESSAGE_BYTES = 64;
    /** Connections of the request-rate workload. */
    public static final int RATE_CONNECTIONS = 64;

    /**
     * Parses.
     *
     * @param args the command line.
     * @return the options.
     */
    public static Options parse(final String[] args)
    {
        final Map<String, String> map = new HashMap<>();
        for (int i = 0; i < args.length; i++)
        {
            if (!args[i].startsWith("--") || i + 1 >= args.length)
            {
                throw new IllegalArgumentException("usage: --workload pingpong|rate|bulk|connect-seq|connect-16|" +
                    "connect-16-server-close|idle " +
                    "[--warmup S] [--seconds S] [--client-cpu N] [--server-cpu N] [--out FILE] [--io spin|block] " +
                    "[--eal ARGS] [--transport ring|memif --role client|server --socket PATH] [--mtu N] " +
                    "[--msl-ms N] [--connections N] [--time-wait-cap N]; got " +
                    args[i]);
            }
            map.put(args[i].substring(2), args[++i]);
        }
        final String workload = map.getOrDefault("workload", "pingpong");
        switch (workload)
        {
            case "pingpong", "rate", "bulk", "connect-seq", "connect-16", "connect-16-server-close", "idle" ->
            {
            }
            default -> throw new IllegalArgumentException("unknown workload " + workload);
        }
        return new Options(
            workload,
            (long)(Double.parseDouble(map.getOrDefault("warmup", "2")) * 1e9),
            (long)(Double.parseDouble(map.getOrDefault("seconds", "5")) * 1e9),
            Integer.parseInt(map.getOrDefault("client-cpu", "0")),
            Integer.parseInt(map.getOrDefault("server-cpu", "1")),
            map.get("out"),
            map.getOrDefault("io", "spin"),
            map.get("eal"),
            map.getOrDefault("transport", "ring"),
            map.getOrDefault("role", "client"),
            map.getOrDefault("socket", "/tmp/slbn-memif.sock"),
            Integer.parseInt(map.getOrDefault("mtu", "1500")),
            Long.parseLong(map.getOrDefault("msl-ms", "10")) * 1_000_000L,
            Integer.parseInt(map.getOrDefault("connections", "10000")),
            Integer.parseInt(map.getOrDefault("time-wait-cap", "0")));
    }

    /**
     * The workload name a result is filed under: {@code bulk} at MTU 1500, {@code bulk-mtu9000} at 9000.
     *
     * @return the name.
     */
    public String reportedWorkload()
    {
        return mtu == 1500 ? workload : workload + "-mtu" + mtu;
    }

    /**
     * Connections kept in flight by the connection-rate workloads.
     *
     * @return 1 or 16.
     */
    public int concurrency()
    {
        return workload.startsWith("connect-16") ? 16 : 1;
    }

    /**
     * @return whether the server closes each connection first (after its reply), so TIME-WAIT is the server's.
     */
    public boolean serverCloses()
    {
        return workload.endsWith("-server-close");
    }
}
