package dev.sluice.driver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.stack.TcpStackCounters;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * The runtime's counters in a memory-mapped file, in Agrona's counters format, so that
 * another process ({@code sluice stat}, like AeronStat) can read them while Sluice runs.
 *
 * <p>File layout: a 64-byte header (magic, version, metadata length, values length, the
 * writer's pid), then Agrona's metadata buffer, then its values buffer. Shards own their
 * counters in plain {@code long[]}s ({@link NetCounters}) and {@link #publish} copies them
 * into the file every few milliseconds of duty-cycle time: the data path never touches a
 * shared cache line.
 */
public final class CountersFile implements AutoCloseable
{
    /** "SLUICECT". */
    public static final long MAGIC = 0x534c_5549_4345_4354L;
    /** Layout version. */
    public static final int VERSION = 1;
    /** Counter type id of the network-layer counters. */
    public static final int TYPE_NET = 1;
    /** Counter type id of the runtime's shard counters. */
    public static final int TYPE_SHARD = 2;
    /** Counter type id of the TCP counters. */
    public static final int TYPE_TCP = 3;
    private static final ShardCounterDescriptor[] SHARD_DESCRIPTORS = ShardCounterDescriptor.values();
    private static final String[] TCP_LABELS = {
        "tcp: segments received", "tcp: segments to connections", "tcp: resets to closed ports",
        "tcp: SYNs accepted", "tcp: connection limit reached", "tcp: ICMP errors ignored", "tcp: segments sent",
        "tcp: segments dropped", "tcp: connections released", "tcp: SYNs dropped (listen backlog full)",
        "tcp: ephemeral ports exhausted", "tcp: ICMP errors out of window", "tcp: ICMP soft errors",
        "tcp: ICMP hard errors aborted", "tcp: ICMP path MTU lowered", "tcp: timers fired",
        "tcp: connections polled", "tcp: fast retransmits (NewReno)", "tcp: SACK recoveries (RFC 6675)",
        "tcp: retransmission timeouts", "tcp: D-SACKs received (spurious retransmissions)",
        "tcp: connections refused (memory pressure)", "tcp: handler exceptions",
        "tcp: connections aborted (handler exception)", "tcp: connections open", "tcp: payload chunks in use",
        "tcp: payload chunk allocation failures", "tcp: payload bytes reserved", "tcp: TIME-WAIT entered",
        "tcp: TIME-WAIT recycled (cap)", "tcp: TIME-WAIT reused by a new SYN", "tcp: SYN cookies sent",
        "tcp: SYN cookies accepted", "tcp: SYN cookies rejected", "tcp: challenge ACKs over the shard's limit",
        "tcp: losses detected by RACK (RFC 8985)", "tcp: tail loss probes (TLP)", "tcp: losses repaired by TLP",
        "tcp: spurious retransmissions (D-SACK)", "tcp: SYN-ACKs retransmitted (half-open)",
        "tcp: half-open connections timed out", "tcp: half-open connections reset",
        "tcp: handshakes completed without room (ACK dropped)", "tcp: spurious timeouts undone (Eifel, RFC 3522)"};
    private static final int HEADER_LENGTH = 64;
    private static final int MAGIC_OFFSET = 0;
    private static final int VERSION_OFFSET = 8;
    private static final int METADATA_LENGTH_OFFSET = 12;
    private static final int VALUES_LENGTH_OFFSET = 16;
    private static final int PID_OFFSET = 24;
    private static final NetCounterDescriptor[] NET_DESCRIPTORS = NetCounterDescriptor.values();

    private final Path path;
    private final MappedByteBuffer mapped;
    private final CountersManager manager;

    private CountersFile(final Path path, final MappedByteBuffer mapped, final CountersManager manager)
    {
        this.path = path;
        this.mapped = mapped;
        this.manager = manager;
    }

    /**
     * Creates (or replaces) a counters file with room for {@code maxCounters} counters.
     *
     * @param path        the file, e.g. under /dev/shm.
     * @param maxCounters capacity.
     * @return the writable counters.
     */
    public static CountersFile create(final Path path, final int maxCounters)
    {
        final int valuesLength = maxCounters * CountersReader.COUNTER_LENGTH;
        final int metadataLength = maxCounters * CountersReader.METADATA_LENGTH;
        final long total = (long)HEADER_LENGTH + metadataLength + valuesLength;
        IoUtil.deleteIfExists(path.toFile());
        final MappedByteBuffer mapped = IoUtil.mapNewFile(path.toFile(), total);
        final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        header.putInt(VERSION_OFFSET, VERSION);
        header.putInt(METADATA_LENGTH_OFFSET, metadataLength);
        header.putInt(VALUES_LENGTH_OFFSET, valuesLength);
        header.putLong(PID_OFFSET, ProcessHandle.current().pid());
        final CountersManager manager = new CountersManager(
            new UnsafeBuffer(mapped, HEADER_LENGTH, metadataLength),
            new UnsafeBuffer(mapped, HEADER_LENGTH + metadataLength, valuesLength),
            StandardCharsets.US_ASCII);
        header.putLongVolatile(MAGIC_OFFSET, MAGIC); // last: a reader sees a complete layout
        return new CountersFile(path, mapped, manager);
    }

    /**
     * Maps an existing counters file for reading, from any process.
     *
     * @param path the file.
     * @return a reader over the live values.
     * @throws IllegalStateException if the file is not a Sluice counters file.
     */
    public static CountersReader openReader(final Path path)
    {
        final MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ))
        {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read counters file " + path + " (is Sluice running?)", ex);
        }
        final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, Math.min(HEADER_LENGTH, mapped.capacity()));
        if (mapped.capacity() < HEADER_LENGTH || header.getLongVolatile(MAGIC_OFFSET) != MAGIC ||
            header.getInt(VERSION_OFFSET) != VERSION)
        {
            throw new IllegalStateException(path + " is not a Sluice counters file (version " + VERSION + ")");
        }
        final int metadataLength = header.getInt(METADATA_LENGTH_OFFSET);
        final int valuesLength = header.getInt(VALUES_LENGTH_OFFSET);
        return new CountersReader(
            new UnsafeBuffer(mapped, HEADER_LENGTH, metadataLength),
            new UnsafeBuffer(mapped, HEADER_LENGTH + metadataLength, valuesLength),
            StandardCharsets.US_ASCII);
    }

    /**
     * Allocates one counter per network-layer descriptor for a shard.
     *
     * @param shardName e.g. "shard 0".
     * @return the counters, indexed by {@link NetCounterDescriptor#ordinal()}.
     */
    public AtomicCounter[] allocateNetCounters(final String shardName)
    {
        final AtomicCounter[] counters = new AtomicCounter[NET_DESCRIPTORS.length];
        for (final NetCounterDescriptor d : NET_DESCRIPTORS)
        {
            counters[d.ordinal()] = manager.newCounter(shardName + ": " + d.label(), TYPE_NET);
        }
        return counters;
    }

    /**
     * Allocates one counter per {@link ShardCounterDescriptor} for a shard.
     *
     * @param shardName e.g. "shard 0".
     * @return the counters, indexed by ordinal.
     */
    public AtomicCounter[] allocateShardCounters(final String shardName)
    {
        final AtomicCounter[] counters = new AtomicCounter[SHARD_DESCRIPTORS.length];
        for (final ShardCounterDescriptor d : SHARD_DESCRIPTORS)
        {
            counters[d.ordinal()] = manager.newCounter(shardName + ": " + d.label(), TYPE_SHARD);
        }
        return counters;
    }

    /**
     * Allocates the TCP counters of a shard.
     *
     * @param shardName e.g. "shard 0".
     * @return the counters, in the order {@link #publish(TcpStackCounters, AtomicCounter[])} writes them.
     */
    public AtomicCounter[] allocateTcpCounters(final String shardName)
    {
        final AtomicCounter[] counters = new AtomicCounter[TCP_LABELS.length];
        for (int i = 0; i < TCP_LABELS.length; i++)
        {
            counters[i] = manager.newCounter(shardName + ": " + TCP_LABELS[i], TYPE_TCP);
        }
        return counters;
    }

    /**
     * Copies a shard's runtime counters into the file (called by the shard's own thread).
     *
     * @param from the shard's counters.
     * @param to   from {@link #allocateShardCounters(String)}.
     */
    public static void publish(final ShardCounters from, final AtomicCounter[] to)
    {
        for (int i = 0; i < to.length; i++)
        {
            to[i].setRelease(from.get(SHARD_DESCRIPTORS[i]));
        }
    }

    /**
     * Copies a shard's TCP counters into the file (called by the shard's own thread).
     *
     * @param from the stack's counters.
     * @param to   from {@link #allocateTcpCounters(String)}.
     */
    public static void publish(final TcpStackCounters from, final AtomicCounter[] to)
    {
        to[0].setRelease(from.segmentsReceived());
        to[1].setRelease(from.segmentsToConnections());
        to[2].setRelease(from.resetsToClosedPorts());
        to[3].setRelease(from.synsAccepted());
        to[4].setRelease(from.poolExhausted());
        to[5].setRelease(from.icmpErrorsIgnored());
        to[6].setRelease(from.segmentsSent());
        to[7].setRelease(from.segmentsDropped());
        to[8].setRelease(from.connectionsReleased());
        to[9].setRelease(from.synsDroppedBacklog());
        to[10].setRelease(from.ephemeralPortsExhausted());
        to[11].setRelease(from.icmpErrorsOutOfWindow());
        to[12].setRelease(from.icmpSoftErrors());
        to[13].setRelease(from.icmpHardErrorsAborted());
        to[14].setRelease(from.icmpPathMtuLowered());
        to[15].setRelease(from.timersFired());
        to[16].setRelease(from.connectionsPolled());
        to[17].setRelease(from.recovery().fastRetransmits());
        to[18].setRelease(from.recovery().sackRecoveries());
        to[19].setRelease(from.recovery().retransmissionTimeouts());
        to[20].setRelease(from.recovery().dsacks());
        to[21].setRelease(from.connectionsRefusedMemory());
        to[22].setRelease(from.handlerExceptions());
        to[23].setRelease(from.handlerAborts());
        to[24].setRelease(from.connectionsOpen());
        to[25].setRelease(from.payloadChunksInUse());
        to[26].setRelease(from.payloadAllocationFailures());
        to[27].setRelease(from.payloadBytesReserved());
        to[28].setRelease(from.timeWaitEntered());
        to[29].setRelease(from.timeWaitRecycled());
        to[30].setRelease(from.timeWaitReused());
        to[31].setRelease(from.synCookiesSent());
        to[32].setRelease(from.synCookiesAccepted());
        to[33].setRelease(from.synCookiesRejected());
        to[34].setRelease(from.challengeAcksLimited());
        to[35].setRelease(from.recovery().rackLosses());
        to[36].setRelease(from.recovery().tlpProbes());
        to[37].setRelease(from.recovery().tlpRepairedLosses());
        to[38].setRelease(from.recovery().spuriousRetransmissions());
        to[39].setRelease(from.synAcksRetransmitted());
        to[40].setRelease(from.synReceivedTimedOut());
        to[41].setRelease(from.synReceivedReset());
        to[42].setRelease(from.synReceivedOverflow());
        to[43].setRelease(from.recovery().spuriousTimeouts());
    }

    /**
     * Copies a shard's counters into the file (called by the shard's own thread).
     *
     * @param from the shard's counters.
     * @param to   its counters in the file, from {@link #allocateNetCounters(String)}.
     */
    public static void publish(final NetCounters from, final AtomicCounter[] to)
    {
        for (int i = 0; i < to.length; i++)
        {
            to[i].setRelease(from.get(NET_DESCRIPTORS[i].id()));
        }
    }

    /**
     * @return the file.
     */
    public Path path()
    {
        return path;
    }

    /**
     * @return the counters manager, for other counters of the runtime.
     */
    public CountersManager manager()
    {
        return manager;
    }

    /** Unmaps and deletes the file. */
    @Override
    public void close()
    {
        IoUtil.unmap(mapped);
        IoUtil.deleteIfExists(path.toFile());
    }
}
