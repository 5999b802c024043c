package dev.sluice.core.net;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.wire.Checksum;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Receive coalescing (the idea of Linux's GRO and of LRO) in front of a shard's {@link NetworkLayer}: the
 * in-order data segments of one flow that arrive one after another in one receive burst are merged into one
 * segment before TCP sees them, so TCP processes (and the application receives) one segment of up to 64 KiB
 * instead of many of one MSS each.
 *
 * <p>A segment joins the run held before it only if all of these hold, otherwise the run is delivered and
 * the segment starts a new run or passes alone (so nothing is ever reordered):
 * <ul>
 *   <li>an untagged Ethernet frame to the same MAC, IPv4 without options, not a fragment, protocol TCP, same
 *       addresses, ports and TOS;</li>
 *   <li>its sequence number is the next byte of the run: no gap, no overlap, no retransmission;</li>
 *   <li>the same acknowledgment number and window (an ACK or window update must reach TCP as sent), the same
 *       header length and the same option bytes;</li>
 *   <li>flags exactly ACK, or ACK|PSH: a PSH ends the run after it; SYN, FIN, RST, URG, ECE, CWR never
 *       merge (such a segment passes alone); a segment without payload never merges;</li>
 *   <li>its checksums verified (by the device, or here in software): a segment that fails passes alone, and
 *       the network layer drops and counts it;</li>
 *   <li>the merged payload stays within 65,535 - 80 bytes (an IPv4 datagram).</li>
 * </ul>
 * The merged segment carries the first segment's headers with the IPv4 total length of the whole run and
 * the PSH of its last segment, and is handed on marked checksum-verified.
 *
 * <p>Contract with the caller: the frames given to {@link #onFrame} must stay valid and unchanged until
 * {@link #flush} (a DPDK shard frees its receive burst only after the loop); call {@link #flush} at the end
 * of every burst. Single-threaded, preallocated: no allocation per frame.
 */
public final class ReceiveCoalescer
{
    /** Most payload bytes in one merged segment: an IPv4 datagram holds 65,535 bytes with up to 80 of headers. */
    public static final int MAX_MERGED_PAYLOAD = 65_535 - Ipv4Header.MAX_HEADER_LENGTH - TcpHeader.MIN_HEADER_LENGTH;

    private static final int IP = EthernetHeader.HEADER_LENGTH;
    private static final int TCP = IP + Ipv4Header.MIN_HEADER_LENGTH;
    private static final int VERIFIED = NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_GOOD;
    private static final int NEVER_MERGED =
        TcpHeader.SYN | TcpHeader.FIN | TcpHeader.RST | TcpHeader.URG | TcpHeader.ECE | TcpHeader.CWR;

    private final NetworkLayer network;
    private final NetCounters counters;
    private final UnsafeBuffer[] held;
    private final UnsafeBuffer merged = new UnsafeBuffer(new byte[TCP + TcpHeader.MAX_HEADER_LENGTH + MAX_MERGED_PAYLOAD]);
    private int heldCount;
    private int runPayload;
    private int runNextSeq;
    private int runTcpHeaderLength;
    private boolean runEnded;

    /**
     * @param network   where segments go.
     * @param counters  the shard's counters.
     * @param maxFrames most frames held in one run (the receive burst size is enough).
     */
    public ReceiveCoalescer(final NetworkLayer network, final NetCounters counters, final int maxFrames)
    {
        this.network = network;
        this.counters = counters;
        this.held = new UnsafeBuffer[maxFrames];
        for (int i = 0; i < maxFrames; i++)
        {
            held[i] = new UnsafeBuffer(0, 0);
        }
    }

    /**
     * One received frame (valid until {@link #flush}).
     *
     * @param buffer     holding the frame.
     * @param offset     of the frame.
     * @param length     frame length.
     * @param rxChecksum the device's {@code NetworkLayer.RX_*} status bits.
     * @param nowNs      the duty cycle's time.
     */
    public void onFrame(
        final DirectBuffer buffer, final int offset, final int length, final int rxChecksum, final long nowNs)
    {
        final int payload = mergeablePayload(buffer, offset, length, rxChecksum);
        if (payload <= 0)
        {
            flush(nowNs);
            network.onFrame(buffer, offset, length, rxChecksum, nowNs);
            return;
        }
        if (heldCount > 0 && !runEnded && heldCount < held.length && runPayload + payload <= MAX_MERGED_PAYLOAD &&
            continuesRun(buffer, offset))
        {
            hold(buffer, offset, length, payload);
            return;
        }
        flush(nowNs);
        runTcpHeaderLength = TcpHeader.headerLength(buffer, offset + TCP);
        hold(buffer, offset, length, payload);
    }

    /**
     * Delivers the run held so far; call at the end of every burst (and before the held frames go away).
     *
     * @param nowNs the duty cycle's time.
     */
    public void flush(final long nowNs)
    {
        if (heldCount == 0)
        {
            return;
        }
        if (heldCount == 1)
        {
            final UnsafeBuffer frame = held[0];
            heldCount = 0;
            network.onFrame(frame, 0, frame.capacity(), VERIFIED, nowNs);
            return;
        }
        final UnsafeBuffer first = held[0];
        final int headers = TCP + runTcpHeaderLength;
        merged.putBytes(0, first, 0, headers);
        int position = headers;
        for (int i = 0; i < heldCount; i++)
        {
            final UnsafeBuffer frame = held[i];
            final int payload = Ipv4Header.totalLength(frame, IP) - Ipv4Header.MIN_HEADER_LENGTH - runTcpHeaderLength;
            merged.putBytes(position, frame, headers, payload);
            position += payload;
        }
        final int lastFlags = TcpHeader.flags(held[heldCount - 1], TCP);
        merged.putByte(TCP + TcpHeader.FLAGS_OFFSET, (byte)(TcpHeader.flags(first, TCP) | (lastFlags & TcpHeader.PSH)));
        merged.putShort(IP + Ipv4Header.TOTAL_LENGTH_OFFSET, (short)(position - IP), BIG_ENDIAN);
        Ipv4Header.putChecksum(merged, IP, Ipv4Header.MIN_HEADER_LENGTH);
        counters.add(NetCounterDescriptor.RX_SEGMENTS_COALESCED, heldCount - 1);
        counters.increment(NetCounterDescriptor.RX_COALESCED_DELIVERED);
        heldCount = 0;
        // the TCP checksum of the merged segment is not recomputed: every part was verified
        network.onFrame(merged, 0, position, VERIFIED, nowNs);
    }

    /**
     * Forgets the frames held without delivering them: for a burst abandoned by an exception, whose mbufs go
     * back to the pool (a held frame must never outlive its mbuf).
     *
     * @return frames dropped.
     */
    public int discard()
    {
        final int dropped = heldCount;
        heldCount = 0;
        return dropped;
    }

    /**
     * @return frames held, not delivered yet.
     */
    public int heldFrames()
    {
        return heldCount;
    }

    private void hold(final DirectBuffer buffer, final int offset, final int length, final int payload)
    {
        held[heldCount++].wrap(buffer, offset, length);
        if (heldCount == 1)
        {
            runPayload = 0;
        }
        runPayload += payload;
        runNextSeq = TcpHeader.sequence(buffer, offset + TCP) + payload;
        runEnded = (TcpHeader.flags(buffer, offset + TCP) & TcpHeader.PSH) != 0;
    }

    /**
     * @return the payload length of a TCP data segment that may be merged (checksums verified), else 0 or
     *         less: the frame goes to the network layer as it is.
     */
    private static int mergeablePayload(
        final DirectBuffer buffer, final int offset, final int length, final int rxChecksum)
    {
        if (length < TCP + TcpHeader.MIN_HEADER_LENGTH ||
            buffer.getShort(offset + EthernetHeader.ETHER_TYPE_OFFSET, BIG_ENDIAN) != EthernetHeader.ETHER_TYPE_IPV4 ||
            buffer.getByte(offset + IP + Ipv4Header.VERSION_IHL_OFFSET) != 0x45 ||
            buffer.getByte(offset + IP + Ipv4Header.PROTOCOL_OFFSET) != Ipv4Header.PROTOCOL_TCP ||
            (buffer.getShort(offset + IP + Ipv4Header.FLAGS_FRAGMENT_OFFSET, BIG_ENDIAN) &
                (Ipv4Header.FLAG_MORE_FRAGMENTS | Ipv4Header.FRAGMENT_OFFSET_MASK)) != 0)
        {
            return 0;
        }
        final int totalLength = Ipv4Header.totalLength(buffer, offset + IP);
        final int tcpHeaderLength = TcpHeader.headerLength(buffer, offset + TCP);
        final int segmentLength = totalLength - Ipv4Header.MIN_HEADER_LENGTH;
        if (IP + totalLength > length || tcpHeaderLength < TcpHeader.MIN_HEADER_LENGTH ||
            tcpHeaderLength >= segmentLength)
        {
            return 0; // truncated, malformed, or no payload
        }
        final int flags = TcpHeader.flags(buffer, offset + TCP);
        if ((flags & NEVER_MERGED) != 0 || (flags & TcpHeader.ACK) == 0)
        {
            return 0;
        }
        if ((rxChecksum & (NetworkLayer.RX_IPV4_CHECKSUM_BAD | NetworkLayer.RX_L4_CHECKSUM_BAD)) != 0 ||
            (rxChecksum & NetworkLayer.RX_IPV4_CHECKSUM_GOOD) == 0 &&
                Checksum.compute(buffer, offset + IP, Ipv4Header.MIN_HEADER_LENGTH) != 0 ||
            (rxChecksum & NetworkLayer.RX_L4_CHECKSUM_GOOD) == 0 && !TcpHeader.isChecksumValid(buffer, offset + TCP,
                segmentLength, Ipv4Header.source(buffer, offset + IP), Ipv4Header.destination(buffer, offset + IP)))
        {
            return 0;
        }
        return segmentLength - tcpHeaderLength;
    }

    private boolean continuesRun(final DirectBuffer buffer, final int offset)
    {
        final UnsafeBuffer first = held[0];
        final int tcp = offset + TCP;
        if (TcpHeader.sequence(buffer, tcp) != runNextSeq ||
            TcpHeader.headerLength(buffer, tcp) != runTcpHeaderLength ||
            // destination MAC; IPv4 addresses; ports, sequence skipped, acknowledgment; data offset and window
            first.getInt(0) != buffer.getInt(offset) || first.getShort(4) != buffer.getShort(offset + 4) ||
            first.getByte(IP + Ipv4Header.TOS_OFFSET) != buffer.getByte(offset + IP + Ipv4Header.TOS_OFFSET) ||
            first.getLong(IP + Ipv4Header.SOURCE_OFFSET) != buffer.getLong(offset + IP + Ipv4Header.SOURCE_OFFSET) ||
            first.getInt(TCP) != buffer.getInt(tcp) ||
            first.getInt(TCP + TcpHeader.ACKNOWLEDGMENT_OFFSET) != buffer.getInt(tcp + TcpHeader.ACKNOWLEDGMENT_OFFSET) ||
            first.getByte(TCP + TcpHeader.DATA_OFFSET_OFFSET) != buffer.getByte(tcp + TcpHeader.DATA_OFFSET_OFFSET) ||
            first.getShort(TCP + TcpHeader.WINDOW_OFFSET) != buffer.getShort(tcp + TcpHeader.WINDOW_OFFSET))
        {
            return false;
        }
        for (int i = TcpHeader.MIN_HEADER_LENGTH; i < runTcpHeaderLength; i++)
        {
            if (first.getByte(TCP + i) != buffer.getByte(tcp + i))
            {
                return false; // options differ
            }
        }
        return true;
    }
}
