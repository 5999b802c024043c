package dev.sluice.driver;

import java.nio.ByteOrder;

import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.wire.Checksum;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;
import dev.sluice.nativebindings.dpdk.generated.RteMbuf;
import org.agrona.MutableDirectBuffer;

/**
 * The checksum offloads a port is configured with, chosen from what its PMD reports
 * ({@code rte_eth_dev_info_get}): TX IPv4 header and TCP checksums when the PMD offers both (the stack then
 * writes the pseudo-header sum and the device completes it), RX IPv4 and TCP checksum verification when the
 * PMD offers both (the stack skips what the device vouches for and verifies the rest). Without them
 * everything stays in software, bit for bit the same frames.
 *
 * <p>{@link #rxChecksumStatus(long)} turns an mbuf's {@code RTE_MBUF_F_RX_*_CKSUM_*} flags into the network
 * layer's {@code NetworkLayer.RX_*} bits on the data path (static, no allocation).
 *
 * <p>TCP segmentation offload (TSO) too when the PMD offers it beside TX checksum offload: connections then
 * hand the device segments of up to 64 KiB ({@code RTE_ETH_TX_OFFLOAD_TCP_TSO}).
 *
 * <p>An in-memory link ({@value #IN_MEMORY_DRIVER}: both ends in this process, the receiver gets the sender's
 * very mbuf) is treated as Linux treats loopback and veth ({@code CHECKSUM_PARTIAL}): a sender that uses it
 * writes only the pseudo-header sum and marks the mbuf {@code RTE_MBUF_F_TX_*_CKSUM}, and a receiver that
 * finds those marks on a received mbuf skips verification: the frame never left memory, so no bit of it can
 * have changed since the sender built it. Frames without the marks are verified as always; a shard that does
 * not trust them (impaired, or offloads switched off) completes the checksums in software first
 * ({@link #completePartialChecksums}). Captures on such a link show the partial checksums, as tcpdump on
 * Linux's loopback does.
 *
 * <p>Switch: the system property {@value #PROPERTY} = {@code all} (the default: use what is offered),
 * {@code checksum} (checksum offloads, no TSO) or {@code none} (software only).
 *
 * @param rxOffloads             {@code RTE_ETH_RX_OFFLOAD_*} to configure.
 * @param txOffloads             {@code RTE_ETH_TX_OFFLOAD_*} to configure.
 * @param txChecksumOffloads     {@code FrameTransmitter.OFFLOAD_*} bits the transmitters may request.
 * @param rxChecksumOffload      whether received frames carry checksum status flags.
 * @param offeredRx              the PMD's {@code rx_offload_capa}.
 * @param offeredTx              the PMD's {@code tx_offload_capa}.
 * @param requested              whether the switch allowed offloads.
 * @param tso                    whether TX TCP segmentation offload is configured.
 * @param inMemory               whether the link is in memory ({@value #IN_MEMORY_DRIVER}): partial checksums.
 */
public record PortOffloads(
    long rxOffloads, long txOffloads, int txChecksumOffloads, boolean rxChecksumOffload, long offeredRx,
    long offeredTx, boolean requested, boolean tso, boolean inMemory)
{
    /** The PMD whose links are in memory: a crossed pair of rings in one process, mbufs handed over as they are. */
    public static final String IN_MEMORY_DRIVER = "net_ring";
    /** The system property that switches offloads: {@code all} (default), {@code checksum} or {@code none}. */
    public static final String PROPERTY = "sluice.offloads";
    /** No offloads: every checksum in software. */
    public static final PortOffloads NONE = new PortOffloads(0, 0, 0, false, 0, 0, false, false, false);

    private static final long RX_CHECKSUM =
        RteEthdev.RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RteEthdev.RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    private static final long TX_CHECKSUM =
        RteEthdev.RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RteEthdev.RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    private static final long IP_MASK = RteMbuf.RTE_MBUF_F_RX_IP_CKSUM_MASK;
    private static final long IP_BAD = RteMbuf.RTE_MBUF_F_RX_IP_CKSUM_BAD;
    private static final long L4_MASK = RteMbuf.RTE_MBUF_F_RX_L4_CKSUM_MASK;
    private static final long L4_BAD = RteMbuf.RTE_MBUF_F_RX_L4_CKSUM_BAD;
    private static final long TX_PARTIAL = RteMbuf.RTE_MBUF_F_TX_IP_CKSUM | RteMbuf.RTE_MBUF_F_TX_TCP_CKSUM;
    private static final int ETHERNET_HEADER = 14;

    /**
     * @param info      what the PMD reports.
     * @param requested false to keep every checksum in software.
     * @return the offloads to configure.
     */
    public static PortOffloads choose(final PortInfo info, final boolean requested)
    {
        return choose(info, requested, requested);
    }

    /**
     * @param info         what the PMD reports.
     * @param requested    false to keep every checksum in software.
     * @param tsoRequested false to keep segmentation in software.
     * @return the offloads to configure.
     */
    public static PortOffloads choose(final PortInfo info, final boolean requested, final boolean tsoRequested)
    {
        if (IN_MEMORY_DRIVER.equals(info.driverName()))
        {
            // nothing to configure on the port: the marks travel with the mbuf to a receiver in this process
            return new PortOffloads(0, 0, requested ?
                FrameTransmitter.OFFLOAD_IPV4_CHECKSUM | FrameTransmitter.OFFLOAD_TCP_CHECKSUM : 0, requested,
                info.rxOffloadCapa(), info.txOffloadCapa(), requested, false, true);
        }
        final boolean rx = requested && info.supportsRx(RX_CHECKSUM);
        final boolean tx = requested && info.supportsTx(TX_CHECKSUM);
        final boolean tso = tx && tsoRequested && info.supportsTx(RteEthdev.RTE_ETH_TX_OFFLOAD_TCP_TSO);
        return new PortOffloads(rx ? RX_CHECKSUM : 0,
            (tx ? TX_CHECKSUM : 0) | (tso ? RteEthdev.RTE_ETH_TX_OFFLOAD_TCP_TSO : 0),
            tx ? FrameTransmitter.OFFLOAD_IPV4_CHECKSUM | FrameTransmitter.OFFLOAD_TCP_CHECKSUM : 0, rx,
            info.rxOffloadCapa(), info.txOffloadCapa(), requested, tso, false);
    }

    /**
     * @return false when the system property {@value #PROPERTY} is {@code none}.
     * @throws IllegalArgumentException for a value other than {@code all}, {@code checksum} and {@code none}.
     */
    public static boolean requestedByProperty()
    {
        return !"none".equals(propertyValue());
    }

    /**
     * @return true when the system property {@value #PROPERTY} is {@code all} (the default).
     * @throws IllegalArgumentException for a value other than {@code all}, {@code checksum} and {@code none}.
     */
    public static boolean tsoRequestedByProperty()
    {
        return "all".equals(propertyValue());
    }

    private static String propertyValue()
    {
        final String value = System.getProperty(PROPERTY, "all");
        return switch (value)
        {
            case "all", "checksum", "none" -> value;
            default -> throw new IllegalArgumentException(
                "-D" + PROPERTY + " must be all, checksum or none, not " + value);
        };
    }

    /**
     * The checksum status of a received frame for {@code NetworkLayer.onFrame}: GOOD and NONE (the data was
     * verified even if the field is not) become {@code *_GOOD}, BAD becomes {@code *_BAD}, UNKNOWN nothing.
     *
     * @param olFlags the mbuf's {@code ol_flags}.
     * @return {@code NetworkLayer.RX_*} bits.
     */
    public static int rxChecksumStatus(final long olFlags)
    {
        final long ip = olFlags & IP_MASK;
        final long l4 = olFlags & L4_MASK;
        int status = NetworkLayer.RX_CHECKSUM_UNKNOWN;
        if (ip != 0)
        {
            status |= ip == IP_BAD ? NetworkLayer.RX_IPV4_CHECKSUM_BAD : NetworkLayer.RX_IPV4_CHECKSUM_GOOD;
        }
        if (l4 != 0)
        {
            status |= l4 == L4_BAD ? NetworkLayer.RX_L4_CHECKSUM_BAD : NetworkLayer.RX_L4_CHECKSUM_GOOD;
        }
        return status;
    }

    /**
     * On an in-memory link: whether a received mbuf carries a sender's partial-checksum marks
     * ({@code RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM}, set only by a transmitter in this process).
     *
     * @param olFlags the received mbuf's {@code ol_flags}.
     * @return true if its IPv4 header checksum is zero and its TCP checksum holds the pseudo-header sum.
     */
    public static boolean hasPartialChecksums(final long olFlags)
    {
        return (olFlags & TX_PARTIAL) == TX_PARTIAL;
    }

    /**
     * A marked frame ({@link #hasPartialChecksums}) for a shard that does not trust the marks: completes both
     * checksums in software, as a device would have on transmit (the IPv4 header's, and the TCP checksum over
     * the segment with the pseudo-header sum in its field), so that verification then passes exactly when the
     * bytes are the ones the sender built. Frames too short or not IPv4/TCP are left alone (verification
     * drops and counts them).
     *
     * @param frame  the Ethernet frame.
     * @param offset of the frame in the buffer.
     * @param length of the frame.
     */
    public static void completePartialChecksums(final MutableDirectBuffer frame, final int offset, final int length)
    {
        final int ip = offset + ETHERNET_HEADER;
        if (length < ETHERNET_HEADER + Ipv4Header.MIN_HEADER_LENGTH ||
            frame.getShort(offset + 12, ByteOrder.BIG_ENDIAN) != (short)0x0800)
        {
            return;
        }
        final int ipHeaderLength = Ipv4Header.headerLength(frame, ip);
        final int totalLength = Ipv4Header.totalLength(frame, ip);
        if (ipHeaderLength < Ipv4Header.MIN_HEADER_LENGTH || totalLength < ipHeaderLength + TcpHeader.MIN_HEADER_LENGTH ||
            ETHERNET_HEADER + totalLength > length || frame.getByte(ip + 9) != Ipv4Header.PROTOCOL_TCP)
        {
            return;
        }
        Ipv4Header.putChecksum(frame, ip, ipHeaderLength);
        final int tcp = ip + ipHeaderLength;
        frame.putShort(tcp + TcpHeader.CHECKSUM_OFFSET,
            (short)Checksum.compute(frame, tcp, totalLength - ipHeaderLength), ByteOrder.BIG_ENDIAN);
    }

    /**
     * @return one line for the start-up log: what the PMD offers and what is used.
     */
    public String describe()
    {
        if (inMemory)
        {
            return "checksums=" + (txChecksumOffloads != 0 ?
                "partial (in-memory link: the sender marks, the receiver skips verifying marked frames)" :
                "software (-D" + PROPERTY + "=none)") + " tso=no";
        }
        return "rx-checksum=" + (rxChecksumOffload ? "device" : offered(offeredRx, RX_CHECKSUM)) +
            " tx-checksum=" + (txChecksumOffloads != 0 ? "device" : offered(offeredTx, TX_CHECKSUM)) +
            " tso=" + (tso ? "device (segments up to 64 KiB)" :
            (offeredTx & RteEthdev.RTE_ETH_TX_OFFLOAD_TCP_TSO) != 0 ? "offered, not used (-D" + PROPERTY + ")" : "no") +
            " rx-capa=0x" + Long.toHexString(offeredRx) + " tx-capa=0x" + Long.toHexString(offeredTx);
    }

    private String offered(final long capa, final long wanted)
    {
        if ((capa & wanted) != wanted)
        {
            return "software (not offered)";
        }
        return requested ? "software" : "software (-D" + PROPERTY + "=none)";
    }
}
