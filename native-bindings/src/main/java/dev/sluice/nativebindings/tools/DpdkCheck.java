package dev.sluice.nativebindings.tools;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.sluice.nativebindings.dpdk.Dpdk;
import dev.sluice.nativebindings.dpdk.DpdkException;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.PortInfo;

/**
 * {@code sluice-dpdk-check [EAL args...]}: says whether DPDK works here, starts the EAL
 * with the given arguments (default {@link Eal#DEFAULT_ARGS}) and lists every port with
 * its driver, MAC, link and capabilities. Exit code 0 when all is well, 1 when DPDK is
 * unavailable or EAL fails (the reason is printed), 2 for a usage error.
 */
public final class DpdkCheck
{
    private static final int MAX_PORTS_LISTED = 256;

    private DpdkCheck()
    {
    }

    /**
     * @param args EAL arguments; {@code --help} prints usage.
     */
    public static void main(final String[] args)
    {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h"))
        {
            System.out.println("usage: sluice-dpdk-check [EAL args...]   (default: " +
                String.join(" ", Eal.DEFAULT_ARGS) + ")");
            System.exit(0);
        }
        if (!Dpdk.isAvailable())
        {
            System.err.println("DPDK unavailable: " + Dpdk.unavailabilityCause());
            System.exit(1);
        }
        System.out.println("dpdk: " + Dpdk.version());
        final List<String> ealArgs = args.length == 0 ? Eal.DEFAULT_ARGS : new ArrayList<>(Arrays.asList(args));
        try (Eal eal = Eal.init(ealArgs))
        {
            System.out.println("eal: started with " + String.join(" ", ealArgs));
            System.out.println("ports: " + eal.portCount());
            for (int id = 0; id < MAX_PORTS_LISTED; id++)
            {
                if (!EthPort.exists(id))
                {
                    continue;
                }
                final EthPort port = EthPort.of(id);
                final PortInfo info = port.info();
                System.out.printf("  port %d %s driver=%s mac=%s link=[%s] rxq<=%d txq<=%d rx_offloads=0x%x " +
                        "tx_offloads=0x%x rss=0x%x%n",
                    id, port.name(), info.driverName(), EthPort.formatMac(port.macAddress()), port.link().description(),
                    info.maxRxQueues(), info.maxTxQueues(), info.rxOffloadCapa(), info.txOffloadCapa(),
                    info.flowTypeRssOffloads());
            }
        }
        catch (final DpdkException ex)
        {
            System.err.println("error: " + ex.getMessage());
            System.exit(1);
        }
    }
}
