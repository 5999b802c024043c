package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.net.ReceiveCoalescer;
import dev.sluice.core.net.FrameReceiver;
import dev.sluice.core.net.ImpairedLink;
import dev.sluice.core.net.LinkImpairment;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;
import dev.sluice.nativebindings.dpdk.MbufPool;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * One core's duty cycle over one rx/tx queue pair: read the clock once, rx burst, every
 * frame through the shard's {@link NetworkLayer} (zero copy: the frame is read in place in
 * the mbuf), free the burst in bulk, run the network layer's timers, transmit everything
 * produced in one flush. Returns the work done, for the {@code IdleStrategy}.
 *
 * <p>The agent registers its thread with DPDK in {@link #onStart()}, so it must run on the
 * platform thread an {@code AgentRunner} gives it (or be driven by the test's own thread).
 * With a {@link TcpStack}, the stack's {@code poll} runs after the burst (MUST-58/59).
 *
 * <p>With several shards ({@link #shareWith}), each received frame is classified by {@link FlowSteering}:
 * a TCP frame whose flow another shard owns is copied into that shard's inbound ring (a
 * {@link ManyToOneRingBuffer}: every other shard may produce into it, only its owner consumes), ARP replies
 * are copied to every shard; each shard drains its own ring after its burst. Commands from application
 * threads ({@link #execute}) run at the top of the duty cycle, and the application's {@link ShardWork}
 * after the burst, before TCP's poll.
 */
public final class ShardAgent implements Agent, MessageHandler
{
    /** Software segmentation offload (GSO): {@code -Dsluice.gso=true|false}, read at start. */
    public static final String GSO_PROPERTY = "sluice.gso";
    /** Most payload bytes a connection hands over at once with GSO (Linux's GSO maximum, 64 KiB). */
    public static final int GSO_MAX_BYTES = 65_536;
    /** Message type of a frame in a shard's inbound ring. */
    public static final int MSG_FRAME = 1;
    private static final int HANDOFF_DRAIN_LIMIT = 256;
    private static final int COMMAND_DRAIN_LIMIT = 64;

    private static final int RX_BURST = 32;
    private static final int PARTIAL_CHECKSUMS_GOOD =
        NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_GOOD;
    private static final int IMPAIRMENT_QUEUE_FRAMES = 8192;
    private static final long PUBLISH_INTERVAL_NS = 1_000_000;

    private final Eal eal;
    private final MbufPool pool;
    private final int portId;
    private final int queueId;
    private final NetConfig config;
    private final TransportHandler transport;
    private final TcpStack tcp;
    private final NetworkSegmentOutput tcpOutput;
    private final NanoClock clock;
    private final PcapWriter pcap;
    private final NetCounters counters = new NetCounters();
    private final UnsafeBuffer rxFrame = new UnsafeBuffer(0, 0);
    private final MemorySegment rxBurst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, RX_BURST);
    private final long rxBurstAddress = rxBurst.address(); // read per frame unchecked: i < received <= RX_BURST
    private Lcore lcore;
    private DpdkFrameTransmitter transmitter;
    private NetworkLayer network;
    private FrameReceiver input;
    private ImpairedLink impaired;
    private LinkImpairment impairRx = LinkImpairment.NONE;
    private LinkImpairment impairTx = LinkImpairment.NONE;
    private long multiSegmentDrops;
    private boolean splitReceive; // chained TCP frames read in place (header and payload apart), else linearized
    private ChainedFrames chains;
    private MbufPool attachPool;
    private int zeroCopyMinBytes;
    private ExternalChunks externalChunks;
    private AtomicCounter[] published;
    private AtomicCounter[] publishedShard;
    private AtomicCounter[] publishedTcp;
    private long nextPublishNs;
    private final ShardCounters shardCounters = new ShardCounters();
    private final ManyToOneConcurrentArrayQueue<ShardCommand> commands = new ManyToOneConcurrentArrayQueue<>(1024);
    private int shardIndex;
    private int shardCount = 1;
    private ManyToOneRingBuffer[] rings;
    private ShardWork work;
    private PortOffloads offloads = PortOffloads.NONE;
    private boolean rxChecksumStatus;
    private boolean inMemoryLink;
    private boolean trustPartialChecksums;
    private boolean coalesce;
    private ReceiveCoalescer coalescer;
    private int segmentationBytes;
    private MbufPool segmentationPool;
    private int segmentationCutLength;
    private long nowNs;
    private volatile boolean running;

    /**
     * @param eal       the process's EAL.
     * @param pool      mempool for transmitted frames.
     * @param portId    a started port.
     * @param queueId   the rx and tx queue this shard owns.
     * @param config    the shard's addresses and IP settings.
     * @param transport where TCP segments and ICMP errors go.
     * @param clock     read once per duty cycle.
     * @param pcap      records every frame in and out, or null; closed with the agent.
     */
    public ShardAgent(
        final Eal eal, final MbufPool pool, final int portId, final int queueId, final NetConfig config,
        final TransportHandler transport, final NanoClock clock, final PcapWriter pcap)
    {
        this.pcap = pcap;
        this.eal = eal;
        this.pool = pool;
        this.portId = portId;
        this.queueId = queueId;
        this.config = config;
        this.transport = transport;
        this.clock = clock;
        this.tcp = null;
        this.tcpOutput = null;
    }

    /**
     * A shard running TCP: segments go to {@code tcp}, whose output is bound to this shard's network layer
     * when the agent starts, and {@link TcpStack#poll} runs once per duty cycle after the burst (timers,
     * queued data, one aggregated ACK per connection), before the flush.
     *
     * @param eal     the process's EAL.
     * @param pool    mempool for transmitted frames.
     * @param portId  a started port.
     * @param queueId the rx and tx queue this shard owns.
     * @param config  the shard's addresses and IP settings.
     * @param tcp     the shard's TCP.
     * @param output  the output {@code tcp} was built with (unbound).
     * @param clock   read once per duty cycle.
     * @param pcap    records every frame in and out, or null; closed with the agent.
     */
    public ShardAgent(
        final Eal eal, final MbufPool pool, final int portId, final int queueId, final NetConfig config,
        final TcpStack tcp, final NetworkSegmentOutput output, final NanoClock clock, final PcapWriter pcap)
    {
        this.pcap = pcap;
        this.eal = eal;
        this.pool = pool;
        this.portId = portId;
        this.queueId = queueId;
        this.config = config;
        this.transport = tcp;
        this.clock = clock;
        this.tcp = tcp;
        this.tcpOutput = output;
    }

    /**
     * Publishes this shard's counters into a counters file every millisecond of duty-cycle
     * time (call before the agent starts).
     *
     * @param counters from {@link CountersFile#allocateNetCounters(String)}.
     */
    public void publishCountersTo(final AtomicCounter[] counters)
    {
        this.published = counters;
    }

    /**
     * Joins this shard to a group of shards over the same port (call before the agent starts).
     *
     * @param index this shard's index, its rx/tx queue.
     * @param rings every shard's inbound ring, indexed by shard.
     */
    public void shareWith(final int index, final ManyToOneRingBuffer[] rings)
    {
        this.shardIndex = index;
        this.shardCount = rings.length;
        this.rings = rings;
    }

    /**
     * Impairs this shard's frames like {@code tc netem} at the device boundary, both directions (call before
     * the agent starts): interop tests on kernels without {@code sch_netem} (see {@link ImpairedLink}).
     *
     * @param receive  impairment of received frames.
     * @param transmit impairment of transmitted frames.
     */
    public void impair(final LinkImpairment receive, final LinkImpairment transmit)
    {
        this.impairRx = receive;
        this.impairTx = transmit;
    }

    /**
     * @return the impaired link, or null when the shard runs unimpaired.
     */
    public ImpairedLink impairedLink()
    {
        return impaired;
    }

    /**
     * The application's work in each duty cycle (call before the agent starts).
     *
     * @param work run after the burst, before TCP's poll.
     */
    public void work(final ShardWork work)
    {
        this.work = work;
    }

    /**
     * Uses the port's checksum offloads (call before the agent starts; only those the port was configured
     * with). An impaired shard keeps checksums in software: impairment copies frames.
     *
     * @param offloads from {@link PortOffloads#choose}.
     */
    public void offloads(final PortOffloads offloads)
    {
        this.offloads = offloads;
    }

    /**
     * Receive coalescing (call before the agent starts): in-order data segments of one flow within one rx
     * burst reach TCP as one segment ({@link ReceiveCoalescer}). Not on an impaired shard.
     *
     * @param enabled whether to coalesce.
     */
    public void coalesce(final boolean enabled)
    {
        this.coalesce = enabled;
    }

    /**
     * Segmentation offload in software (GSO, call before the agent starts): connections hand over up to
     * {@code maxBytes} of full segments at once and the shard's TCP output cuts them into MSS-sized frames,
     * the same bytes as one segment at a time ({@code NetworkSegmentOutput#segmentationOffload}).
     *
     * @param maxBytes most payload bytes per hand-over, 0 for off; see {@link #segmentationBytesByProperty()}.
     */
    public void segmentationOffload(final int maxBytes)
    {
        this.segmentationBytes = maxBytes;
    }

    /**
     * TCP segmentation offload (call before the agent starts; with offloads whose {@link PortOffloads#tso()}
     * is set): large segments go to the device in mbufs of this pool. Not on an impaired shard.
     *
     * @param largePool         mbufs of {@link DpdkFrameTransmitter#LARGE_DATA_ROOM}, or null for none.
     * @param maxCutFrameLength the longest frame the device cuts ({@link PortMtu#tsoFrameLimit}).
     */
    public void segmentationPool(final MbufPool largePool, final int maxCutFrameLength)
    {
        this.segmentationPool = largePool;
        this.segmentationCutLength = maxCutFrameLength;
    }

    /**
     * The system property {@value #GSO_PROPERTY}: {@code true} (the default: frames bit for bit those of the
     * one-segment path, fewer TCP decisions; the quiet machine's bulk A/B favoured it on ring and memif) hands over
     * up to {@value #GSO_MAX_BYTES} bytes at once, {@code false} one segment at a time.
     *
     * @return bytes for {@link #segmentationOffload(int)}.
     */
    public static int segmentationBytesByProperty()
    {
        return Boolean.parseBoolean(System.getProperty(GSO_PROPERTY, "true")) ? GSO_MAX_BYTES : 0;
    }

    /**
     * Zero-copy transmit (call before the agent starts; not on an impaired shard, only with TCP): payloads of at
     * least {@code minBytes} go to the device as references to send-buffer memory ({@link ExternalChunks}).
     *
     * @param pool     mbufs without data room to attach the memory to, or null for off.
     * @param minBytes the shortest payload referenced rather than copied.
     */
    public void zeroCopy(final MbufPool pool, final int minBytes)
    {
        this.attachPool = pool;
        this.zeroCopyMinBytes = minBytes;
    }

    /**
     * @return the shard's chunk reference counts with zero-copy transmit, else null.
     */
    public ExternalChunks externalChunks()
    {
        return externalChunks;
    }

    /**
     * @return chained frames received and read in place (headers and payload apart, no copy).
     */
    public long chainsReadInPlace()
    {
        return chains == null ? 0 : chains.readInPlace();
    }

    /**
     * @return chained frames received and copied into one buffer.
     */
    public long chainsLinearized()
    {
        return chains == null ? 0 : chains.linearized();
    }

    /**
     * Also publishes the runtime's and TCP's counters of this shard (call before the agent starts).
     *
     * @param shard from {@link CountersFile#allocateShardCounters(String)}.
     * @param tcp   from {@link CountersFile#allocateTcpCounters(String)}, or null.
     */
    public void publishShardCountersTo(final AtomicCounter[] shard, final AtomicCounter[] tcp)
    {
        this.publishedShard = shard;
        this.publishedTcp = tcp;
    }

    /**
     * Queues a command for this shard's thread (any thread may call it).
     *
     * @param command runs at the top of the next duty cycle.
     * @return false if the queue is full (try again).
     */
    public boolean execute(final ShardCommand command)
    {
        return commands.offer(command);
    }

    @Override
    public void onStart()
    {
        lcore = eal.registerCurrentThread();
        transmitter = new DpdkFrameTransmitter(lcore, pool, portId, queueId);
        transmitter.capture(pcap);
        inMemoryLink = offloads.inMemory();
        if (impairRx.isActive() || impairTx.isActive())
        {
            impaired = new ImpairedLink(impairRx, impairTx, IMPAIRMENT_QUEUE_FRAMES, transmitter);
            network = new NetworkLayer(config, impaired.transmitter(), transport, counters);
            impaired.bind(network);
            input = impaired;
        }
        else
        {
            transmitter.checksumOffloads(offloads.txChecksumOffloads());
            if (attachPool != null && tcp != null)
            {
                externalChunks = new ExternalChunks(tcp.pool());
                tcp.pool().references(externalChunks);
                transmitter.zeroCopy(attachPool, externalChunks, zeroCopyMinBytes);
            }
            if (offloads.tso() && segmentationPool != null)
            {
                transmitter.segmentationOffload(segmentationPool, segmentationCutLength);
            }
            rxChecksumStatus = offloads.rxChecksumOffload() && !offloads.inMemory();
            trustPartialChecksums = offloads.inMemory() && offloads.txChecksumOffloads() != 0;
            network = new NetworkLayer(config, transmitter, transport, counters);
            input = network;
            coalescer = coalesce ? new ReceiveCoalescer(network, counters, RX_BURST) : null;
        }
        if (tcpOutput != null)
        {
            tcpOutput.bind(network);
            tcpOutput.segmentationOffload(segmentationBytes);
        }
        // a chained frame read in place reaches TCP without a copy; a coalescer, a capture, another shard's ring or
        // checksums to complete need it in one buffer
        splitReceive = tcp != null && input == network && shardCount == 1 && coalescer == null && pcap == null &&
            (!inMemoryLink || trustPartialChecksums) && tcp.acceptsSplitSegments();
        // one frame's room per burst slot with receive coalescing (it holds frames until the burst's end), else one
        chains = new ChainedFrames(config.maxFrameLength(), coalescer != null ? RX_BURST : 1);
        final long nowNs = clock.nanoTime();
        transmitter.nowNs(nowNs);
        this.nowNs = nowNs;
        network.start(nowNs); // gratuitous ARP
        transmitter.flush();
        running = true;
    }

    /**
     * @return whether {@link #onStart()} completed (the shard polls).
     */
    public boolean isRunning()
    {
        return running;
    }

    @Override
    public int doWork()
    {
        final long nowNs = clock.nanoTime();
        this.nowNs = nowNs;
        transmitter.nowNs(nowNs);
        if (impaired != null)
        {
            impaired.nowNs(nowNs);
        }
        int commandsRun = 0;
        ShardCommand command;
        while (commandsRun < COMMAND_DRAIN_LIMIT && (command = commands.poll()) != null)
        {
            command.execute(nowNs);
            commandsRun++;
        }
        final int received = lcore.rxBurst(portId, queueId, rxBurst, RX_BURST);
        int partialTrusted = 0; // in-memory frames whose partial checksums were trusted, or completed
        int partialCompleted = 0;
        try
        {
            for (int i = 0; i < received; i++)
            {
                final long mbuf = Mbuf.at(rxBurstAddress, i);
                final boolean chained = Mbuf.segmentCount(mbuf) != 1;
                final int length;
                if (!chained)
                {
                    length = Mbuf.dataLength(mbuf);
                    rxFrame.wrap(Mbuf.dataAddress(mbuf), length);
                }
                else if (splitReceive && chains.splitAt(mbuf, rxFrame) > 0)
                {
                    // rxFrame holds the headers, the chain's payload view the TCP payload: TCP reads it in place
                    final long flags = Mbuf.offloadFlags(mbuf);
                    final int status = inMemoryLink && PortOffloads.hasPartialChecksums(flags) ? PARTIAL_CHECKSUMS_GOOD :
                        rxChecksumStatus ? PortOffloads.rxChecksumStatus(flags) : NetworkLayer.RX_CHECKSUM_UNKNOWN;
                    partialTrusted += status == PARTIAL_CHECKSUMS_GOOD ? 1 : 0;
                    network.onSplitFrame(rxFrame, 0, rxFrame.capacity(), chains.payload(), 0,
                        chains.payload().capacity(), status, nowNs);
                    continue;
                }
                else if ((length = chains.linearize(mbuf, i, rxFrame)) < 0)
                {
                    multiSegmentDrops++; // longer than any frame this shard takes
                    continue;
                }
                if (pcap != null)
                {
                    pcap.write(rxFrame, 0, length, nowNs);
                }
                // an in-memory link's partial checksums (PortOffloads): trusted, else completed here; a frame
                // handed to another shard loses its mbuf's marks, so it is completed before
                final int owner = shardCount > 1 ? FlowSteering.classify(rxFrame, 0, length, shardCount) : shardIndex;
                final boolean partial = inMemoryLink && PortOffloads.hasPartialChecksums(Mbuf.offloadFlags(mbuf));
                if (partial && (!trustPartialChecksums || owner != shardIndex))
                {
                    PortOffloads.completePartialChecksums(rxFrame, 0, length);
                    partialCompleted++;
                }
                else if (partial)
                {
                    partialTrusted++;
                }
                final int checksumStatus = partial && trustPartialChecksums ? PARTIAL_CHECKSUMS_GOOD :
                    rxChecksumStatus ? PortOffloads.rxChecksumStatus(Mbuf.offloadFlags(mbuf)) :
                    NetworkLayer.RX_CHECKSUM_UNKNOWN;
                if (shardCount > 1)
                {
                    if (owner >= 0 && owner != shardIndex)
                    {
                        handOff(owner, length);
                        continue;
                    }
                    if (owner == FlowSteering.ALL_SHARDS)
                    {
                        for (int s = 0; s < shardCount; s++)
                        {
                            if (s != shardIndex)
                            {
                                handOff(s, length);
                            }
                        }
                    }
                }
                if (coalescer != null)
                {
                    // the frame stays in its mbuf until the flush below, before the burst is freed
                    coalescer.onFrame(rxFrame, 0, length, checksumStatus, nowNs);
                }
                else if (checksumStatus != NetworkLayer.RX_CHECKSUM_UNKNOWN)
                {
                    network.onFrame(rxFrame, 0, length, checksumStatus, nowNs);
                }
                else
                {
                    input.onFrame(rxFrame, 0, length, nowNs);
                }
            }
            if (coalescer != null)
            {
                coalescer.flush(nowNs);
            }
        }
        finally
        {
            // whatever a frame's processing throws, the burst goes back to the mempool (no mbuf leak)
            if (coalescer != null)
            {
                coalescer.discard(); // nothing held may point into the freed burst (0 after a normal flush)
            }
            if (received > 0)
            {
                lcore.freeBulk(rxBurst, received);
                shardCounters.add(ShardCounterDescriptor.RX_FRAMES, received);
                if (inMemoryLink)
                {
                    shardCounters.add(ShardCounterDescriptor.RX_PARTIAL_CHECKSUMS_TRUSTED, partialTrusted);
                    shardCounters.add(ShardCounterDescriptor.RX_PARTIAL_CHECKSUMS_COMPLETED, partialCompleted);
                }
            }
        }
        int handedIn = 0;
        if (shardCount > 1)
        {
            handedIn = rings[shardIndex].read(this, HANDOFF_DRAIN_LIMIT);
            shardCounters.add(ShardCounterDescriptor.HANDOFF_IN, handedIn);
        }
        int timerWork = network.doWork(nowNs);
        if (impaired != null)
        {
            timerWork += impaired.doWork(nowNs);
        }
        if (work != null)
        {
            timerWork += work.doWork(nowNs);
        }
        if (tcp != null)
        {
            timerWork += tcp.poll(nowNs);
        }
        final int sent = transmitter.flush();
        final int workDone = commandsRun + received + handedIn + timerWork + sent;
        if (workDone > 0)
        {
            final long cycleNs = clock.nanoTime() - nowNs;
            shardCounters.max(ShardCounterDescriptor.DUTY_CYCLE_MAX_NS, cycleNs);
            shardCounters.add(ShardCounterDescriptor.BUSY_NS, cycleNs);
        }
        if (commandsRun > 0)
        {
            shardCounters.add(ShardCounterDescriptor.COMMANDS, commandsRun);
        }
        if (nowNs - nextPublishNs >= 0)
        {
            publish();
            nextPublishNs = nowNs + PUBLISH_INTERVAL_NS;
        }
        return workDone;
    }

    @Override
    public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        if (msgTypeId == MSG_FRAME)
        {
            input.onFrame(buffer, index, length, nowNs);
        }
    }

    private void handOff(final int owner, final int length)
    {
        if (rings[owner].write(MSG_FRAME, rxFrame, 0, length))
        {
            shardCounters.increment(ShardCounterDescriptor.HANDOFF_OUT);
        }
        else
        {
            shardCounters.increment(ShardCounterDescriptor.HANDOFF_DROPPED);
        }
    }

    private void publish()
    {
        shardCounters.set(ShardCounterDescriptor.TX_FRAMES, transmitter.framesSent());
        shardCounters.set(ShardCounterDescriptor.TX_DROPPED, transmitter.framesDropped());
        shardCounters.set(ShardCounterDescriptor.TX_NO_MBUF, transmitter.claimFailures());
        shardCounters.set(ShardCounterDescriptor.TX_BACKLOG_HIGH_WATER, transmitter.backlogHighWater());
        shardCounters.set(ShardCounterDescriptor.RX_MULTI_SEGMENT_DROPPED, multiSegmentDrops);
        shardCounters.set(ShardCounterDescriptor.RX_CHAINS_LINEARIZED, chainsLinearized());
        shardCounters.set(ShardCounterDescriptor.RX_CHAINS_READ_IN_PLACE, chainsReadInPlace());
        shardCounters.set(ShardCounterDescriptor.TX_FRAMES_REFERENCED, transmitter.framesReferenced());
        shardCounters.set(ShardCounterDescriptor.TX_ATTACH_FAILURES, transmitter.attachFailures());
        if (tcp != null)
        {
            shardCounters.set(ShardCounterDescriptor.TX_CHUNKS_DEFERRED, tcp.pool().deferrals());
            shardCounters.set(ShardCounterDescriptor.CONNECTIONS, tcp.connectionCount());
        }
        if (published != null)
        {
            CountersFile.publish(counters, published);
        }
        if (publishedShard != null)
        {
            CountersFile.publish(shardCounters, publishedShard);
        }
        if (publishedTcp != null && tcp != null)
        {
            CountersFile.publish(tcp.counters(), publishedTcp);
        }
    }

    @Override
    public void onClose()
    {
        if (lcore != null)
        {
            transmitter.flush();
            transmitter.releaseStash();
            lcore.close();
        }
        if (transmitter != null)
        {
            publish();
        }
        running = false;
        if (pcap != null)
        {
            pcap.close();
        }
    }

    @Override
    public String roleName()
    {
        return "sluice-shard-" + portId + "-" + queueId;
    }

    /**
     * @return the shard's network-layer counters (read them on the shard's thread, or
     *         after it stopped).
     */
    public NetCounters counters()
    {
        return counters;
    }

    /**
     * @return the transmitter (for its counters).
     */
    public DpdkFrameTransmitter transmitter()
    {
        return transmitter;
    }

    /**
     * @return this shard's lcore, once started (for a caller that drives the agent on its
     *         own thread, as tests do).
     */
    public Lcore lcore()
    {
        return lcore;
    }

    /**
     * @return this shard's runtime counters (read on the shard's thread, or after it stopped).
     */
    public ShardCounters shardCounters()
    {
        return shardCounters;
    }

    /**
     * @return the shard's TCP, or null.
     */
    public TcpStack tcp()
    {
        return tcp;
    }

    /**
     * @return the time of the current duty cycle (on the shard's thread).
     */
    public long nowNs()
    {
        return nowNs;
    }

    /**
     * @return this shard's index among the shards of its port.
     */
    public int shardIndex()
    {
        return shardIndex;
    }

    /**
     * @return the number of shards of its port.
     */
    public int shardCount()
    {
        return shardCount;
    }

    /**
     * @return chained frames dropped: longer than any frame this shard takes.
     */
    public long multiSegmentDrops()
    {
        return multiSegmentDrops;
    }
}
