package dev.sluice.nativebindings.tools;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import dev.sluice.nativebindings.dpdk.DpdkException;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.PortStats;

/**
 * Brings up a {@code net_tap} port and answers ARP and ping for one address from Java, so
 * that the kernel on the other side of the tap can ping it ({@code scripts/demo} uses this
 * until the runtime exists).
 *
 * <pre>TapPingDemo --iface sl0 --ip 10.99.0.2 [--seconds 20] [--eal "EAL ARGS"]</pre>
 */
public final class TapPingDemo
{
    private TapPingDemo()
    {
    }

    /**
     * @param args see the class comment.
     */
    public static void main(final String[] args)
    {
        String iface = null;
        String ip = null;
        int seconds = 20;
        List<String> eal = new ArrayList<>(Eal.DEFAULT_ARGS);
        try
        {
            for (int i = 0; i < args.length; i++)
            {
                switch (args[i])
                {
                    case "--iface" -> iface = args[++i];
                    case "--ip" -> ip = args[++i];
                    case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                    case "--eal" -> eal = new ArrayList<>(List.of(args[++i].trim().split("\\s+")));
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
            if (iface == null || ip == null)
            {
                throw new IllegalArgumentException("--iface and --ip are required");
            }
            PingResponder.parseIpv4(ip);
        }
        catch (final RuntimeException ex)
        {
            System.err.println("error: " + ex.getMessage() +
                "\nusage: TapPingDemo --iface NAME --ip A.B.C.D [--seconds N] [--eal \"EAL ARGS\"]");
            System.exit(2);
        }
        eal.add("--vdev=net_tap0,iface=" + iface);
        try (Eal ignored = Eal.init(eal); Lcore lcore = Eal.current().registerCurrentThread())
        {
            run(lcore, ip, seconds);
        }
        catch (final DpdkException ex)
        {
            System.err.println("error: " + ex.getMessage());
            System.exit(1);
        }
    }

    private static void run(final Lcore lcore, final String ip, final int seconds)
    {
        final EthPort port = EthPort.byName("net_tap0");
        try (MbufPool pool = MbufPool.create("demo_pool", 4095, 128, MbufPool.DEFAULT_DATA_ROOM))
        {
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 512, pool);
            port.setupTxQueue(0, 512);
            port.start();
            final byte[] mac = port.macAddress();
            System.out.printf("port %d %s driver=%s mac=%s: answering ARP and ping for %s for %d s%n",
                port.id(), port.name(), port.info().driverName(), EthPort.formatMac(mac), ip, seconds);
            System.out.flush();
            final PingResponder responder = new PingResponder(PingResponder.parseIpv4(ip), mac);
            final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32);
            final long end = System.nanoTime() + seconds * 1_000_000_000L;
            long reported = 0;
            while (System.nanoTime() < end)
            {
                if (responder.poll(lcore, port.id(), burst) == 0)
                {
                    Thread.onSpinWait();
                }
                if (responder.received() != reported)
                {
                    reported = responder.received();
                    System.out.printf("frames in: %d, ARP replies: %d, echo replies: %d%n",
                        responder.received(), responder.arpReplies(), responder.echoReplies());
                }
            }
            final PortStats stats = port.stats();
            System.out.printf("port stats: rx %d packets / %d bytes, tx %d packets / %d bytes%n",
                stats.ipackets(), stats.ibytes(), stats.opackets(), stats.obytes());
            port.stop();
            port.close();
        }
    }
}
