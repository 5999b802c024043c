package dev.sluice.bench.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.RingPorts;
import dev.sluice.nativebindings.dpdk.generated.SluiceShim;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The DPDK fast-path calls from Java through FFM and the C shim, each beside the same
 * operation looped in C inside the shim ({@code sluice_cref_*}, 1,000 per invocation):
 * the "C" rows are the floor the Java rows are measured against.
 *
 * <p>EAL arguments come from {@code -Dsluice.eal="..."} (default: {@link Eal#DEFAULT_ARGS},
 * no hugepages); compare Java and C only within one mode.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
    "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public class BurstBenchmark
{
    private static final int C_LOOP = 1000;
    private static final int BURST = 32;

    private Lcore lcore;
    private MbufPool pool;
    private int portA;
    private int portB;
    private int emptyPort;
    private MemorySegment mbufs;
    private MemorySegment scratch;

    /** Starts EAL, a crossed net_ring pair and a third, idle ring port; registers this thread. */
    @Setup(Level.Trial)
    public void setUp()
    {
        final String eal = System.getProperty("sluice.eal");
        Eal.init(eal == null ? Eal.DEFAULT_ARGS : List.of(eal.trim().split("\\s+")));
        lcore = Eal.current().registerCurrentThread();
        pool = MbufPool.create("bench_pool", 8191, 256, MbufPool.DEFAULT_DATA_ROOM);
        final int[] pair = RingPorts.createCrossedPair("bench_a", "bench_b", 1024);
        final int[] idle = RingPorts.createCrossedPair("bench_idle_x", "bench_idle_y", 1024);
        portA = pair[0];
        portB = pair[1];
        emptyPort = idle[0];
        for (final int id : new int[] {portA, portB, idle[0], idle[1]})
        {
            final EthPort port = EthPort.of(id);
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 1024, pool);
            port.setupTxQueue(0, 1024);
            port.start();
        }
        mbufs = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);
        scratch = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);
        if (!lcore.allocBulk(pool, mbufs, BURST))
        {
            throw new IllegalStateException("pool empty");
        }
        for (int i = 0; i < BURST; i++)
        {
            Mbuf.setLength(Mbuf.at(mbufs, i), 64);
        }
    }

    /** Returns the circulating mbufs. */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        lcore.freeBulk(mbufs, BURST);
    }

    /** rx burst of up to 32 on an empty queue (Java). */
    @Benchmark
    public int rxBurstEmpty()
    {
        return lcore.rxBurst(emptyPort, 0, scratch, BURST);
    }

    /** rx burst of up to 32 on an empty queue through the generated binding, without the Lcore thread check. */
    @Benchmark
    public short rxBurstEmptyUnchecked()
    {
        return SluiceShim.sluice_rx_burst((short)emptyPort, (short)0, scratch, (short)BURST);
    }

    /** rx burst of up to 32 on an empty queue (C). */
    @Benchmark
    @OperationsPerInvocation(C_LOOP)
    public long rxBurstEmptyC()
    {
        return check(SluiceShim.sluice_cref_rx_burst_empty((short)emptyPort, (short)0, C_LOOP));
    }

    /** tx burst of 32 on one end of the ring pair, rx burst of 32 on the other (Java). */
    @Benchmark
    public int txRx32()
    {
        final int sent = lcore.txBurst(portA, 0, mbufs, BURST);
        final int received = lcore.rxBurst(portB, 0, mbufs, BURST);
        if (sent != BURST || received != BURST)
        {
            throw new IllegalStateException("short burst: sent " + sent + ", received " + received);
        }
        return received;
    }

    /** The same in C (its own 32 mbufs). */
    @Benchmark
    @OperationsPerInvocation(C_LOOP)
    public long txRx32C()
    {
        return check(SluiceShim.sluice_cref_tx_rx_32((short)portA, (short)portB, pool.segment(), C_LOOP));
    }

    /** mbuf alloc bulk 32 + free bulk 32 (Java). */
    @Benchmark
    public boolean allocFreeBulk32()
    {
        final boolean ok = lcore.allocBulk(pool, scratch, BURST);
        lcore.freeBulk(scratch, BURST);
        return ok;
    }

    /** The same in C. */
    @Benchmark
    @OperationsPerInvocation(C_LOOP)
    public long allocFreeBulk32C()
    {
        return check(SluiceShim.sluice_cref_alloc_free_32(pool.segment(), C_LOOP));
    }

    private static long check(final long elapsedNs)
    {
        if (elapsedNs == 0)
        {
            throw new IllegalStateException("the C reference loop failed");
        }
        return elapsedNs;
    }
}
