package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.Checksum;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.RingPorts;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data path allocates nothing in steady state: a shard answers 10,000 ICMP echo
 * requests arriving over a net_ring pair (rx burst, parse, reply, tx burst, free) while
 * the thread's allocated-bytes counter (ThreadMXBean) does not move.
 */
class ShardAgentAllocationIT
{
    private static final int PEER_IP = Addresses.parseIpv4("10.80.0.1");
    private static final int SHARD_IP = Addresses.parseIpv4("10.80.0.2");
    private static final int MEASURED = 10_000;
    private static final int WARM_UP = 50_000;
    private static final int ROUNDS = 5;
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    @Test
    void shouldAllocateNothingPerFrameInSteadyState()
    {
        final Eal eal = TestEal.get();
        final int[] ports = RingPorts.createCrossedPair("alloc_peer", "alloc_shard", 1024);
        final MbufPool pool = MbufPool.create("alloc_pool", 4095, 128, MbufPool.DEFAULT_DATA_ROOM);
        final EthPort peer = EthPort.of(ports[0]);
        final EthPort shardPort = EthPort.of(ports[1]);
        for (final EthPort port : new EthPort[] {peer, shardPort})
        {
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 1024, pool);
            port.setupTxQueue(0, 1024);
            port.start();
        }
        // net_ring ports have no MAC of their own (all zero) and do not filter: choose two
        final long peerMac = 0x02_00_00_80_00_01L;
        final long shardMac = 0x02_00_00_80_00_02L;
        final NetConfig config = NetConfig.builder().localMac(shardMac).localIp(SHARD_IP, 24).build();
        final CachedNanoClock clock = new CachedNanoClock();
        final ShardAgent agent = new ShardAgent(eal, pool, shardPort.id(), 0, config, new NoTransport(), clock, null);
        agent.onStart(); // registers this thread: the test drives the agent like an AgentInvoker
        final Lcore lcore = agent.lcore();
        final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32);
        drain(lcore, peer.id(), burst); // the gratuitous ARP

        final MemorySegment arpRequest = frame(arpRequest(peerMac));
        final MemorySegment echoRequest = frame(echoRequest(peerMac, shardMac));
        assertEquals(1, exchange(lcore, pool, agent, clock, peer.id(), burst, arpRequest), "ARP reply");

        for (int i = 0; i < WARM_UP; i++) // warm-up: let the JIT compile the whole path
        {
            exchange(lcore, pool, agent, clock, peer.id(), burst, echoRequest);
        }
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        threads.getCurrentThreadAllocatedBytes(); // the first call may allocate
        // A late JIT event (a deoptimisation re-materialising a scalar-replaced object) can
        // allocate a few hundred bytes once; an allocation per frame would show in every round
        // as at least MEASURED bytes. So: up to ROUNDS rounds, one of which must allocate 0.
        final long[] allocatedPerRound = new long[ROUNDS];
        int rounds = 0;
        boolean zeroRound = false;
        while (rounds < ROUNDS && !zeroRound)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            int replies = 0;
            for (int i = 0; i < MEASURED; i++)
            {
                replies += exchange(lcore, pool, agent, clock, peer.id(), burst, echoRequest);
            }
            allocatedPerRound[rounds] = threads.getCurrentThreadAllocatedBytes() - before;
            assertEquals(MEASURED, replies, "every echo request was answered");
            zeroRound = allocatedPerRound[rounds] == 0;
            rounds++;
        }
        assertTrue(zeroRound, "bytes allocated per round of " + MEASURED + " frames through the shard: " +
            java.util.Arrays.toString(allocatedPerRound));
        assertEquals(WARM_UP + (long)rounds * MEASURED, agent.counters().get(NetCounterDescriptor.ICMP_ECHO_REPLIES_SENT));
        agent.onClose();
        for (final EthPort port : new EthPort[] {peer, shardPort})
        {
            port.stop();
            port.close();
        }
    }

    /** Peer sends one frame, the shard runs one duty cycle, the peer takes the replies. */
    private static int exchange(
        final Lcore lcore, final MbufPool pool, final ShardAgent agent, final CachedNanoClock clock, final int peerPort,
        final MemorySegment burst, final MemorySegment frame)
    {
        final long mbuf = lcore.alloc(pool);
        Mbuf.setLength(mbuf, (int)frame.byteSize());
        MemorySegment.copy(frame, 0, MEMORY, Mbuf.dataAddress(mbuf), frame.byteSize());
        Mbuf.put(burst, 0, mbuf);
        assertTrue(lcore.txBurst(peerPort, 0, burst, 1) == 1);
        clock.advance(1_000);
        agent.doWork();
        return drain(lcore, peerPort, burst);
    }

    private static int drain(final Lcore lcore, final int port, final MemorySegment burst)
    {
        final int n = lcore.rxBurst(port, 0, burst, 32);
        if (n > 0)
        {
            lcore.freeBulk(burst, n);
        }
        return n;
    }

    private static MemorySegment frame(final byte[] bytes)
    {
        final MemorySegment segment = Arena.ofAuto().allocate(bytes.length);
        segment.copyFrom(MemorySegment.ofArray(bytes));
        return segment;
    }

    private static byte[] arpRequest(final long peerMac)
    {
        final ByteBuffer b = ByteBuffer.allocate(60);
        putMac(b, 0xFFFF_FFFF_FFFFL);
        putMac(b, peerMac);
        b.putShort((short)0x0806).putShort((short)1).putShort((short)0x0800).put((byte)6).put((byte)4).putShort((short)1);
        putMac(b, peerMac);
        b.putInt(PEER_IP);
        putMac(b, 0);
        b.putInt(SHARD_IP);
        return b.array();
    }

    private static byte[] echoRequest(final long peerMac, final long shardMac)
    {
        final int icmpLength = 8 + 56;
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + icmpLength);
        putMac(b, shardMac);
        putMac(b, peerMac);
        b.putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)(20 + icmpLength)).putShort((short)7).putShort((short)0x4000)
            .put((byte)64).put((byte)1).putShort((short)0).putInt(PEER_IP).putInt(SHARD_IP);
        b.put((byte)8).put((byte)0).putShort((short)0).putShort((short)0x1234).putShort((short)1);
        for (int i = 0; i < 56; i++)
        {
            b.put((byte)i);
        }
        final UnsafeBuffer frame = new UnsafeBuffer(b.array());
        frame.putShort(24, (short)Checksum.compute(frame, 14, 20), java.nio.ByteOrder.BIG_ENDIAN);
        frame.putShort(36, (short)Checksum.compute(frame, 34, icmpLength), java.nio.ByteOrder.BIG_ENDIAN);
        return b.array();
    }

    private static void putMac(final ByteBuffer b, final long mac)
    {
        b.putShort((short)(mac >>> 32)).putInt((int)mac);
    }

    private static final class NoTransport implements TransportHandler
    {
        @Override
        public void onTcpSegment(
            final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
            final int sourceIp, final int destinationIp, final int tos, final long nowNs)
        {
        }

        @Override
        public void onIcmpError(
            final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
            final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
            final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
        {
        }
    }
}
