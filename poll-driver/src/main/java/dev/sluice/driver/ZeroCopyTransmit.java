package dev.sluice.driver;

import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;

/**
 * Whether a port sends payloads by reference to send-buffer memory (zero-copy transmit, DPDK external buffers:
 * {@link ExternalChunks}, {@link DpdkFrameTransmitter#zeroCopy}) or copies them, and with what settings.
 *
 * <p>Used only where the PMD reads frame memory through the CPU at its virtual address (the in-memory
 * {@value PortOffloads#IN_MEMORY_DRIVER}, which hands the very mbufs to the receiver, and net_memif, net_tap,
 * net_af_packet, which copy the segments into their own rings or the kernel) and takes chained frames
 * ({@code RTE_ETH_TX_OFFLOAD_MULTI_SEGS}; net_ring passes mbuf pointers as they are). A physical NIC would
 * need the chunk slabs registered with {@code rte_extmem_register} and DMA-mapped with
 * {@code rte_dev_dma_map} (and unmapped before a slab is freed), with the IOVA from that mapping: not done, so
 * such ports copy.
 *
 * <p>Switch: the system property {@value #PROPERTY} = {@code true} or {@code false} (the default: on the virtual
 * links measured, copying was faster end to end; README "Zero-copy transmit").
 */
public final class ZeroCopyTransmit
{
    /** The system property that switches zero-copy transmit: {@code true} or {@code false} (default). */
    public static final String PROPERTY = "sluice.zeroCopy";
    /**
     * The shortest payload sent by reference: below it, copying into the header's mbuf costs less than
     * attaching and chaining a second mbuf (and a receiver over net_ring then copying the chain into one buffer).
     */
    public static final int MIN_BYTES = 256;

    private static final String[] CPU_READ_DRIVERS = {
        PortOffloads.IN_MEMORY_DRIVER, "net_memif", "net_tap", "net_af_packet",
    };

    private ZeroCopyTransmit()
    {
    }

    /**
     * @return the value of {@value #PROPERTY}, false unless {@code true}.
     * @throws IllegalArgumentException for a value other than {@code true} and {@code false}.
     */
    public static boolean requestedByProperty()
    {
        final String value = System.getProperty(PROPERTY, "false");
        return switch (value)
        {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + " must be true or false, not " + value);
        };
    }

    /**
     * @param info what the PMD reports.
     * @return null when the port can send frames whose payload is referenced; else why not.
     */
    public static String unsupportedReason(final PortInfo info)
    {
        return unsupportedReason(info, "");
    }

    /**
     * @param info    what the PMD reports.
     * @param devArgs the device string it was created with ({@code net_memif0,role=client,...}), or "".
     * @return null when the port can send frames whose payload is referenced; else why not.
     */
    public static String unsupportedReason(final PortInfo info, final String devArgs)
    {
        final String driver = info.driverName();
        if ("net_memif".equals(driver) && (devArgs + ",").contains(",zero-copy=yes,"))
        {
            // memif's own zero-copy mode hands the peer an mbuf's buffer as an offset in DPDK's memory segments:
            // send-buffer memory is outside them
            return "net_memif zero-copy=yes: it passes buffers by their offset in DPDK's memory";
        }
        boolean cpuRead = false;
        for (final String name : CPU_READ_DRIVERS)
        {
            cpuRead |= name.equals(driver);
        }
        if (!cpuRead)
        {
            return "the device reads by DMA: send-buffer memory is not DMA-mapped";
        }
        if (!PortOffloads.IN_MEMORY_DRIVER.equals(driver) &&
            !info.supportsTx(RteEthdev.RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
        {
            return "the PMD takes no chained frames";
        }
        return null;
    }

    /**
     * @param info what the PMD reports.
     * @return the {@code RTE_ETH_TX_OFFLOAD_*} bits to configure for chained frames (MULTI_SEGS where offered).
     */
    public static long txOffloads(final PortInfo info)
    {
        return info.supportsTx(RteEthdev.RTE_ETH_TX_OFFLOAD_MULTI_SEGS) ? RteEthdev.RTE_ETH_TX_OFFLOAD_MULTI_SEGS : 0;
    }
}
