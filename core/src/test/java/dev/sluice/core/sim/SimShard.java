package dev.sluice.core.sim;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.TcpConfig;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * One complete shard as production builds it (network layer with real ARP, TCP stack, segment output), whose
 * transmitter puts committed frames on the {@link SimulatedLink}. Checks the transmit contract (claim, then
 * commit or abort, never two claims) and that each frame the link delivers is either accepted by TCP (intact)
 * or counted as exactly one drop (corrupted).
 */
final class SimShard implements FrameTransmitter
{
    final String name;
    final int ip;
    final long mac;
    final int poolSize;
    final NetCounters netCounters = new NetCounters();
    final TcpStackCounters tcpCounters = new TcpStackCounters();
    final NetworkSegmentOutput output = new NetworkSegmentOutput(0, tcpCounters);
    final TcpStack stack;
    final NetworkLayer layer;
    private final SimulationRun run;
    private final int direction;
    private final UnsafeBuffer claimBuffer = new UnsafeBuffer(new byte[2048]);
    private final UnsafeBuffer deliverBuffer = new UnsafeBuffer(new byte[0]);
    private boolean claimed;
    SimShard peer;

    long corruptedFramesDropped;
    long framesCommitted;

    SimShard(
        final SimulationRun run, final String name, final int direction, final int ip, final long mac,
        final TcpConfig config, final long isnKey, final int poolSize)
    {
        this.run = run;
        this.name = name;
        this.direction = direction;
        this.ip = ip;
        this.mac = mac;
        this.poolSize = poolSize;
        stack = new TcpStack(config, new IsnGenerator(isnKey, ~isnKey * 31), output, tcpCounters, poolSize);
        layer = new NetworkLayer(
            NetConfig.builder().localMac(mac).localIp(ip, 24).build(), this, stack, netCounters);
        output.bind(layer);
    }

    /**
     * Hands one frame from the link to the network layer and checks what became of it.
     *
     * @param frame the frame.
     * @param nowNs its arrival time.
     */
    void deliver(final SimulatedLink.Frame frame, final long nowNs)
    {
        final long dropsBefore = receiveDrops();
        final long tcpBefore = netCounters.get(NetCounterDescriptor.TCP_SEGMENTS_DELIVERED);
        final boolean tcp = isTcp(frame.bytes);
        deliverBuffer.wrap(frame.bytes);
        layer.onFrame(deliverBuffer, 0, frame.bytes.length, nowNs);
        final long drops = receiveDrops() - dropsBefore;
        final long toTcp = netCounters.get(NetCounterDescriptor.TCP_SEGMENTS_DELIVERED) - tcpBefore;
        if (frame.corrupted)
        {
            if (drops != 1 || toTcp != 0)
            {
                throw run.failure("corrupted frame not rejected by a checksum at " + name + ": drops+" + drops +
                    " tcp+" + toTcp + " " + SimulationRun.describe(frame.bytes));
            }
            corruptedFramesDropped++;
        }
        else if (tcp && (drops != 0 || toTcp != 1))
        {
            throw run.failure("intact TCP frame not delivered to TCP at " + name + ": drops+" + drops + " tcp+" +
                toTcp + " " + SimulationRun.describe(frame.bytes));
        }
    }

    // drops of the received frame itself; a reply it caused may be dropped on the way out (its ARP entry still
    // resolving with a full pending queue, no buffer), which TCP's retransmission covers and is not at issue here
    private long receiveDrops()
    {
        return netCounters.totalDrops() - netCounters.get(NetCounterDescriptor.ARP_QUEUE_FULL) -
            netCounters.get(NetCounterDescriptor.ARP_RESOLUTION_FAILED) -
            netCounters.get(NetCounterDescriptor.IPV4_NO_ROUTE) - netCounters.get(NetCounterDescriptor.TX_NO_BUFFER);
    }

    static boolean isTcp(final byte[] bytes)
    {
        return bytes.length >= 34 && (bytes[12] & 0xFF) == 0x08 && bytes[13] == 0 && bytes[23] == 6;
    }

    boolean hasOutstandingClaim()
    {
        return claimed;
    }

    @Override
    public MutableDirectBuffer claim(final int maxLength)
    {
        if (claimed)
        {
            throw run.failure(name + ": claim while a claim is outstanding");
        }
        if (maxLength > claimBuffer.capacity())
        {
            return null;
        }
        claimed = true;
        claimBuffer.setMemory(0, maxLength, (byte)0xEE); // garbage, as in a recycled mbuf
        return claimBuffer;
    }

    @Override
    public void commit(final int length)
    {
        if (!claimed)
        {
            throw run.failure(name + ": commit without claim");
        }
        claimed = false;
        framesCommitted++;
        final byte[] frame = Arrays.copyOf(claimBuffer.byteArray(), length);
        run.onCommitted(this, frame);
        run.link.send(frame, peer, direction, run.nowNs);
    }

    @Override
    public void abort()
    {
        if (!claimed)
        {
            throw run.failure(name + ": abort without claim");
        }
        claimed = false;
    }

    String describe()
    {
        return name + "[connections=" + stack.connectionCount() + " free=" + stack.freeConnections() + "/" +
            poolSize + " tcpSent=" + tcpCounters.segmentsSent() + " tcpDropped=" + tcpCounters.segmentsDropped() +
            " tcpReceived=" + tcpCounters.segmentsReceived() + " rstToClosed=" + tcpCounters.resetsToClosedPorts() +
            " corruptDropped=" + corruptedFramesDropped + " arpPending=" + layer.arpCache().pendingFrameCount() + "]";
    }
}
