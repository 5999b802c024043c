package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;
import dev.sluice.nativebindings.dpdk.MbufPool;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
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
 */
public final class ShardAgent implements Agent
{
    private static final int RX_BURST = 32;
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
    private Lcore lcore;
    private DpdkFrameTransmitter transmitter;
    private NetworkLayer network;
    private long multiSegmentDrops;
    private AtomicCounter[] published;
    private long nextPublishNs;

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

    @Override
    public void onStart()
    {
        lcore = eal.registerCurrentThread();
        transmitter = new DpdkFrameTransmitter(lcore, pool, portId, queueId);
        transmitter.capture(pcap);
        network = new NetworkLayer(config, transmitter, transport, counters);
        if (tcpOutput != null)
        {
            tcpOutput.bind(network);
        }
        final long nowNs = clock.nanoTime();
        transmitter.nowNs(nowNs);
        network.start(nowNs); // gratuitous ARP
        transmitter.flush();
    }

    @Override
    public int doWork()
    {
        final long nowNs = clock.nanoTime();
        transmitter.nowNs(nowNs);
        final int received = lcore.rxBurst(portId, queueId, rxBurst, RX_BURST);
        for (int i = 0; i < received; i++)
        {
            final long mbuf = Mbuf.at(rxBurst, i);
            if (Mbuf.segmentCount(mbuf) != 1)
            {
                multiSegmentDrops++; // frames above the mbuf size are not configured for (MTU 1500)
                continue;
            }
            final int length = Mbuf.dataLength(mbuf);
            rxFrame.wrap(Mbuf.dataAddress(mbuf), length);
            if (pcap != null)
            {
                pcap.write(rxFrame, 0, length, nowNs);
            }
            network.onFrame(rxFrame, 0, length, nowNs);
        }
        if (received > 0)
        {
            lcore.freeBulk(rxBurst, received);
        }
        int timerWork = network.doWork(nowNs);
        if (tcp != null)
        {
            timerWork += tcp.poll(nowNs);
        }
        final int sent = transmitter.flush();
        if (published != null && nowNs - nextPublishNs >= 0)
        {
            CountersFile.publish(counters, published);
            nextPublishNs = nowNs + PUBLISH_INTERVAL_NS;
        }
        return received + timerWork + sent;
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
        if (published != null)
        {
            CountersFile.publish(counters, published);
        }
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
     * @return frames dropped because they spanned several mbufs.
     */
    public long multiSegmentDrops()
    {
        return multiSegmentDrops;
    }
}
