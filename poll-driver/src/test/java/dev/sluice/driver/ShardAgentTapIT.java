package dev.sluice.driver;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.wire.Addresses;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.linux.NetNamespace;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stack's network layer (sluice-core) on a DPDK net_tap port, run by a
 * {@link ShardAgent} on its own polling thread, with Linux on the other side of the tap in
 * a namespace the test creates: the kernel resolves our address by ARP and pings it, and
 * a TCP segment from the kernel reaches the transport upcall.
 */
class ShardAgentTapIT
{
    private static final String NS = "sluice-it-shard";
    private static final String IFACE = "slshard0";
    private static final String KERNEL_IP = "10.78.0.1";
    private static final String SLUICE_IP = "10.78.0.2";

    @Test
    void linuxShouldResolveAndPingTheStackAndReachItsTransportLayer(@TempDir final Path dir) throws Exception
    {
        final Eal eal = TestEal.get();
        final NetNamespace ns = NetNamespace.create(NS);
        ns.enter();
        final EthPort port;
        final MbufPool pool = MbufPool.create("it_shard_pool", 4095, 128, MbufPool.DEFAULT_DATA_ROOM);
        try
        {
            port = EthPort.of(eal.createVdev("net_tap3", "iface=" + IFACE));
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 512, pool);
            port.setupTxQueue(0, 512);
            port.start();
            ns.exec("ip", "link", "set", IFACE, "address", "02:00:00:78:00:01");
            ns.exec("ip", "addr", "add", KERNEL_IP + "/24", "dev", IFACE);
            ns.exec("ip", "link", "set", IFACE, "up");
        }
        finally
        {
            ns.leave();
        }

        final NetConfig config = NetConfig.builder()
            .localMac(port.macAddressAsLong())
            .localIp(Addresses.parseIpv4(SLUICE_IP), 24)
            .build();
        final AtomicLong tcpSegments = new AtomicLong();
        final AtomicLong synToPort = new AtomicLong();
        final TransportHandler transport = new TransportHandler()
        {
            @Override
            public void onTcpSegment(
                final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
                final int sourceIp, final int destinationIp, final int tos, final long nowNs)
            {
                tcpSegments.incrementAndGet();
                if (dev.sluice.core.wire.TcpHeader.destinationPort(buffer, tcpOffset) == 8080)
                {
                    synToPort.incrementAndGet();
                }
            }

            @Override
            public void onIcmpError(
                final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
                final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
                final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
            {
            }
        };
        final ShardAgent agent = new ShardAgent(eal, pool, port.id(), 0, config, transport, new SystemNanoClock(),
            new PcapWriter(dir.resolve("shard.pcap"), 1 << 20, System.currentTimeMillis() * 1_000_000L, System.nanoTime()));
        final AgentRunner runner = new AgentRunner(
            new BackoffIdleStrategy(), Throwable::printStackTrace, null, agent);
        final int availableBefore = pool.availableCount();
        int availableAfter = -1;
        AgentRunner.startOnThread(runner);
        try
        {
            final String ping = ns.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", SLUICE_IP);
            assertTrue(ping.contains("3 received"), ping);
            assertTrue(ns.exec("ip", "neigh", "show", SLUICE_IP).contains(EthPort.formatMac(port.macAddress())),
                "the kernel learned our MAC by ARP");

            // No TCP yet (issue 4): the SYN reaches the transport upcall and gets no answer.
            final Process curl = ns.start("curl", "-s", "--connect-timeout", "1", "http://" + SLUICE_IP + ":8080/");
            assertTrue(curl.waitFor(10, TimeUnit.SECONDS));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (synToPort.get() == 0 && System.nanoTime() < deadline)
            {
                Thread.sleep(10);
            }
            assertTrue(synToPort.get() >= 1, "the kernel's SYN reached the transport layer");
        }
        finally
        {
            runner.close();
            availableAfter = pool.availableCount(); // before closing the port frees its rx ring
            port.stop();
            port.close();
            ns.close();
        }
        assertEquals(3, agent.counters().get(NetCounterDescriptor.ICMP_ECHO_REPLIES_SENT));
        assertTrue(agent.counters().get(NetCounterDescriptor.ARP_REPLIES_SENT) >= 1);
        assertEquals(0, agent.transmitter().framesDropped());
        assertEquals(availableBefore, availableAfter, "every mbuf is back in the pool");

        // --pcap: both directions recorded, readable by tcpdump
        final Process tcpdump = new ProcessBuilder("tcpdump", "-nn", "-r", dir.resolve("shard.pcap").toString())
            .redirectErrorStream(true).start();
        final String capture = new String(tcpdump.getInputStream().readAllBytes());
        assertTrue(tcpdump.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, tcpdump.exitValue(), capture);
        assertEquals(3, capture.lines().filter(l -> l.contains(KERNEL_IP + " > " + SLUICE_IP + ": ICMP echo request")).count(),
            capture);
        assertEquals(3, capture.lines().filter(l -> l.contains(SLUICE_IP + " > " + KERNEL_IP + ": ICMP echo reply")).count(),
            capture);
        assertTrue(capture.contains("Flags [S]") && capture.contains(".8080:"), "the SYN is in the capture: " + capture);
        pool.close();
    }
}
