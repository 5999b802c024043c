package dev.sluice.driver.tools;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.CountersFile;
import dev.sluice.driver.PcapWriter;
import dev.sluice.driver.ShardAgent;
import dev.sluice.nativebindings.dpdk.DpdkException;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.MbufPool;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;

/**
 * Runs one shard of Sluice's network layer (ARP, IPv4, ICMP from sluice-core) on a
 * {@code net_tap} port for a while, then prints its counters. {@code scripts/demo} uses it
 * until the {@code sluice} command (issue 5) exists; TCP segments are counted and not yet
 * answered (issue 4).
 *
 * <pre>NetworkDemo --iface sl0 --ip 10.99.0.2/24 [--seconds 8] [--pcap FILE] [--counters-file FILE] [--eal "EAL ARGS"]</pre>
 */
public final class NetworkDemo
{
    private NetworkDemo()
    {
    }

    /**
     * @param args see the class comment.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        String iface = null;
        int ip = 0;
        int prefix = -1;
        int seconds = 8;
        String pcapFile = null;
        String countersFile = null;
        List<String> eal = new ArrayList<>(Eal.DEFAULT_ARGS);
        try
        {
            for (int i = 0; i < args.length; i++)
            {
                final String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i])
                {
                    case "--iface" -> iface = value;
                    case "--ip" ->
                    {
                        final int slash = value == null ? -1 : value.indexOf('/');
                        if (slash < 0)
                        {
                            throw new IllegalArgumentException("--ip wants A.B.C.D/N");
                        }
                        ip = Addresses.parseIpv4(value.substring(0, slash));
                        prefix = Integer.parseInt(value.substring(slash + 1));
                    }
                    case "--seconds" -> seconds = Integer.parseInt(value);
                    case "--pcap" -> pcapFile = value;
                    case "--counters-file" -> countersFile = value;
                    case "--eal" -> eal = new ArrayList<>(List.of(value.trim().split("\\s+")));
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
                i++;
            }
            if (iface == null || prefix < 0)
            {
                throw new IllegalArgumentException("--iface and --ip are required");
            }
        }
        catch (final RuntimeException ex)
        {
            System.err.println("error: " + ex.getMessage() +
                "\nusage: NetworkDemo --iface NAME --ip A.B.C.D/N [--seconds N] [--pcap FILE] [--counters-file FILE] [--eal \"EAL ARGS\"]");
            System.exit(2);
        }
        eal.add("--vdev=net_tap0,iface=" + iface);
        try (Eal e = Eal.init(eal); MbufPool pool = MbufPool.create("demo_pool", 4095, 128, MbufPool.DEFAULT_DATA_ROOM))
        {
            final EthPort port = EthPort.byName("net_tap0");
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 512, pool);
            port.setupTxQueue(0, 512);
            port.start();
            final long mac = port.macAddressAsLong();
            final NetConfig config = NetConfig.builder().localMac(mac).localIp(ip, prefix).build();
            final long[] tcpSegments = new long[1];
            final ShardAgent agent = new ShardAgent(e, pool, port.id(), 0, config, new TransportHandler()
            {
                @Override
                public void onTcpSegment(
                    final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
                    final int sourceIp, final int destinationIp, final int tos, final long nowNs)
                {
                    tcpSegments[0]++;
                }

                @Override
                public void onIcmpError(
                    final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
                    final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
                    final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
                {
                }
            }, new SystemNanoClock(), pcapFile == null ? null : new PcapWriter(
                java.nio.file.Path.of(pcapFile), 1 << 20, System.currentTimeMillis() * 1_000_000L, System.nanoTime()));
            System.out.printf("shard up: port %d %s (%s) mac=%s ip=%s/%d for %d s%n", port.id(), port.name(),
                port.info().driverName(), EthPort.formatMac(port.macAddress()), Addresses.ipv4ToString(ip), prefix,
                seconds);
            System.out.flush();
            final CountersFile counters = countersFile == null ? null :
                CountersFile.create(java.nio.file.Path.of(countersFile), 256);
            if (counters != null)
            {
                agent.publishCountersTo(counters.allocateNetCounters("shard 0"));
            }
            final AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, agent);
            AgentRunner.startOnThread(runner);
            Thread.sleep(seconds * 1000L);
            runner.close();
            System.out.println("counters of the shard (non-zero):");
            for (final NetCounterDescriptor d : NetCounterDescriptor.values())
            {
                final long v = agent.counters().get(d);
                if (v != 0)
                {
                    System.out.printf("  %-50s %d%n", d.label(), v);
                }
            }
            System.out.printf("  %-50s %d%n", "tx: frames sent", agent.transmitter().framesSent());
            port.stop();
            port.close();
            if (counters != null)
            {
                counters.close();
            }
        }
        catch (final DpdkException ex)
        {
            System.err.println("error: " + ex.getMessage());
            System.exit(1);
        }
    }
}
