package dev.sluice.core.net;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.Checksum;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.IcmpHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.WireError;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The network layer of one stack shard: Ethernet in, ARP, IPv4 in and out, ICMP echo and errors.
 *
 * <h2>Input</h2>
 * {@link #onFrame} validates each layer with the wire package's checked parsers and either acts on the
 * frame, hands it up through {@link TransportHandler}, or drops it and increments exactly one
 * {@link NetCounterDescriptor} of type DROP. Policy where the RFCs leave a choice:
 * <ul>
 *   <li>Fragments are dropped ({@link NetCounterDescriptor#IPV4_FRAGMENT}): TCP sends with DF and an MSS
 *       that fits, so legitimate fragments are rare, and reassembly would cost memory and attack surface.</li>
 *   <li>The received TTL is not checked: a host must not drop a datagram for its TTL (RFC 1122 §3.2.1.7).
 *       "TTL expired" is counted when a router reports it (ICMP time exceeded).</li>
 *   <li>TCP and ICMP addressed to a broadcast address are dropped (MUST-57; no echo to broadcast).</li>
 *   <li>Sources that cannot be a unicast sender (0.0.0.0, broadcast, multicast, our own address) are
 *       dropped (MUST-63 at the IP layer).</li>
 *   <li>IP options are skipped, never interpreted (MUST-50).</li>
 * </ul>
 *
 * <h2>Output</h2>
 * The transport layer calls {@link #beginIpv4}, writes its header and payload into {@link #txBuffer()}
 * at the returned offset, then {@link #commitIpv4}. Datagrams carry DF (RFC 1191), the configured TTL
 * (MUST-49) and a per-datagram DSCP/ECN byte (MUST-48). If the next hop is resolved the frame is built
 * directly in a transmit buffer; otherwise it is built in a scratch buffer and copied into the ARP
 * pending queue.
 */
public final class NetworkLayer implements FrameReceiver
{
    /** {@link #beginIpv4} result: no route to the destination. */
    public static final int SEND_NO_ROUTE = -1;
    /** {@link #beginIpv4} result: payload larger than the MTU allows. */
    public static final int SEND_TOO_LONG = -2;
    /** {@link #beginIpv4} result: no transmit buffer. */
    public static final int SEND_NO_BUFFER = -3;
    /** {@link #commitIpv4} result: dropped, the ARP pending queue is full. */
    public static final int SEND_QUEUE_FULL = -4;
    /** {@link #commitIpv4} result: dropped, the ARP cache is full of unresolved entries. */
    public static final int SEND_CACHE_FULL = -5;
    /** {@link #beginTcpSegmentation} result: the next hop is not resolved; send the frames one by one. */
    public static final int SEND_NOT_DIRECT = -6;
    /** {@link #commitIpv4} result: sent. */
    public static final int SENT = 0;
    /** {@link #commitIpv4} result: waiting for ARP resolution. */
    public static final int QUEUED = 1;

    /** Receive checksum status: the device says nothing (verify in software). */
    public static final int RX_CHECKSUM_UNKNOWN = 0;
    /** Receive checksum status bit: the device verified the IPv4 header checksum. */
    public static final int RX_IPV4_CHECKSUM_GOOD = 1;
    /** Receive checksum status bit: the device found the IPv4 header checksum wrong. */
    public static final int RX_IPV4_CHECKSUM_BAD = 2;
    /** Receive checksum status bit: the device verified the TCP checksum. */
    public static final int RX_L4_CHECKSUM_GOOD = 4;
    /** Receive checksum status bit: the device found the TCP checksum wrong. */
    public static final int RX_L4_CHECKSUM_BAD = 8;

    private static final int IPV4_OFFSET = EthernetHeader.HEADER_LENGTH;
    private static final int PAYLOAD_OFFSET = IPV4_OFFSET + Ipv4Header.MIN_HEADER_LENGTH;

    private final NetConfig config;
    private final FrameTransmitter transmitter;
    private final TransportHandler transport;
    private final NetCounters counters;
    private final ArpCache arpCache;
    private final UnsafeBuffer scratchFrame;
    private final int netmask;
    private final int txOffloads;
    private final int referenceMinBytes;

    private MutableDirectBuffer txFrame;
    private int txReferencedBytes; // payload appended by reference (zero-copy), not in txFrame
    private int txReferencedSum; // their one's complement sum, for a checksum in software
    private boolean txDirect;
    private int txNextHop;
    private int txDestination;
    private int txProtocol;
    private int txTos;
    private int nextIdentification;

    /**
     * Creates the layer; all memory is allocated here.
     *
     * @param config      validated settings.
     * @param transmitter where frames go.
     * @param transport   the TCP layer's upcalls.
     * @param counters    the shard's counters.
     */
    public NetworkLayer(
        final NetConfig config, final FrameTransmitter transmitter, final TransportHandler transport,
        final NetCounters counters)
    {
        this.config = config;
        this.transmitter = transmitter;
        this.transport = transport;
        this.counters = counters;
        this.arpCache = new ArpCache(config, transmitter, counters);
        this.scratchFrame = new UnsafeBuffer(new byte[config.maxFrameLength()]);
        this.netmask = config.netmask();
        this.txOffloads = transmitter.checksumOffloads() &
            (FrameTransmitter.OFFLOAD_IPV4_CHECKSUM | FrameTransmitter.OFFLOAD_TCP_CHECKSUM);
        this.referenceMinBytes = transmitter.referenceMinBytes();
    }

    /**
     * Announces our address with a gratuitous ARP; call once when the port is up.
     *
     * @param nowNs the current time.
     */
    public void start(final long nowNs)
    {
        arpCache.announce();
    }

    /**
     * Runs the ARP timers; call every duty cycle.
     *
     * @param nowNs the duty cycle's time.
     * @return work done (0 when idle).
     */
    public int doWork(final long nowNs)
    {
        return arpCache.doWork(nowNs);
    }

    /**
     * Processes one received frame. Never throws on malformed input and keeps no reference to
     * {@code buffer} after returning.
     *
     * @param buffer holding the frame.
     * @param offset of the frame.
     * @param length frame length (no FCS).
     * @param nowNs  the duty cycle's time.
     */
    @Override
    public void onFrame(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
    {
        onFrame(buffer, offset, length, RX_CHECKSUM_UNKNOWN, nowNs);
    }

    /**
     * Processes one received frame whose checksums the device may have verified: a checksum the device
     * vouches for ({@code *_GOOD}) is not verified again, one it found wrong ({@code *_BAD}) drops the frame
     * (counted like a software failure), and any other is verified in software (when the configuration asks
     * for verification). ICMP is always verified in software.
     *
     * @param buffer     holding the frame.
     * @param offset     of the frame.
     * @param length     frame length (no FCS).
     * @param rxChecksum {@code RX_*} bits from the device, or {@link #RX_CHECKSUM_UNKNOWN}.
     * @param nowNs      the duty cycle's time.
     */
    public void onFrame(
        final DirectBuffer buffer, final int offset, final int length, final int rxChecksum, final long nowNs)
    {
        onFrame(buffer, offset, length, rxChecksum, null, 0, nowNs);
    }

    // payload != null: a split frame (onSplitFrame), its TCP payload there and not after the headers in buffer
    private void onFrame(
        final DirectBuffer buffer, final int offset, final int length, final int rxChecksum, final DirectBuffer payload,
        final int payloadAt, final long nowNs)
    {
        counters.increment(NetCounterDescriptor.FRAMES_RECEIVED);
        final int ethLength = EthernetHeader.validate(buffer, offset, length);
        if (ethLength < 0)
        {
            counters.increment(ethLength == WireError.TRUNCATED ?
                NetCounterDescriptor.ETH_TRUNCATED : NetCounterDescriptor.ETH_TOO_MANY_VLAN_TAGS);
            return;
        }
        final long destinationMac = EthernetHeader.destination(buffer, offset);
        if (destinationMac != config.localMac() && destinationMac != Addresses.MAC_BROADCAST)
        {
            counters.increment(NetCounterDescriptor.ETH_NOT_FOR_US);
            return;
        }
        switch (EthernetHeader.etherType(buffer, offset, ethLength))
        {
            case EthernetHeader.ETHER_TYPE_IPV4 -> onIpv4(buffer, offset + ethLength, length - ethLength,
                destinationMac == Addresses.MAC_BROADCAST, rxChecksum, payload, payloadAt, nowNs);
            case EthernetHeader.ETHER_TYPE_ARP -> arpCache.onArp(buffer, offset + ethLength, length - ethLength, nowNs);
            default -> counters.increment(NetCounterDescriptor.ETH_UNSUPPORTED_ETHER_TYPE);
        }
    }

    /**
     * Processes one received IPv4/TCP frame whose payload is in memory of its own (an mbuf chain: Ethernet, IPv4
     * and TCP headers in {@code buffer}, exactly, and the TCP payload in {@code payload}), read in place like
     * {@link #onFrame(DirectBuffer, int, int, int, long)}, every check the same (a TCP checksum not vouched for
     * is verified over both ranges). Only for a transport that {@link TransportHandler#acceptsSplitSegments()};
     * the caller has checked that the frame is untagged IPv4 carrying TCP and where its payload starts.
     *
     * @param buffer        holding the frame's headers.
     * @param offset        of the frame.
     * @param headerLength  bytes of headers in {@code buffer}: Ethernet, IPv4 with options, TCP with options.
     * @param payload       holding the TCP payload.
     * @param payloadOffset of its first byte.
     * @param payloadLength its length.
     * @param rxChecksum    {@code RX_*} bits from the device, or {@link #RX_CHECKSUM_UNKNOWN}.
     * @param nowNs         the duty cycle's time.
     */
    public void onSplitFrame(
        final DirectBuffer buffer, final int offset, final int headerLength, final DirectBuffer payload,
        final int payloadOffset, final int payloadLength, final int rxChecksum, final long nowNs)
    {
        onFrame(buffer, offset, headerLength + payloadLength, rxChecksum, payload, payloadOffset, nowNs);
    }

    private void onIpv4(
        final DirectBuffer buffer, final int offset, final int length, final boolean linkBroadcast,
        final int rxChecksum, final DirectBuffer payload, final int payloadAt, final long nowNs)
    {
        counters.increment(NetCounterDescriptor.IPV4_RECEIVED);
        if ((rxChecksum & RX_IPV4_CHECKSUM_BAD) != 0)
        {
            counters.increment(NetCounterDescriptor.IPV4_BAD_CHECKSUM);
            return;
        }
        final int headerLength = Ipv4Header.validate(buffer, offset, length,
            config.verifyIpv4Checksum() && (rxChecksum & RX_IPV4_CHECKSUM_GOOD) == 0);
        if (headerLength < 0)
        {
            counters.increment(switch (headerLength)
            {
                case WireError.BAD_VERSION -> NetCounterDescriptor.IPV4_BAD_VERSION;
                case WireError.BAD_HEADER_LENGTH -> NetCounterDescriptor.IPV4_BAD_HEADER_LENGTH;
                case WireError.BAD_TOTAL_LENGTH -> NetCounterDescriptor.IPV4_BAD_TOTAL_LENGTH;
                case WireError.BAD_CHECKSUM -> NetCounterDescriptor.IPV4_BAD_CHECKSUM;
                default -> NetCounterDescriptor.IPV4_TRUNCATED;
            });
            return;
        }
        final int localIp = config.localIp();
        final int destination = Ipv4Header.destination(buffer, offset);
        final boolean broadcast = destination == Addresses.IPV4_LIMITED_BROADCAST ||
            NextHop.isDirectedBroadcast(destination, localIp, netmask);
        if (destination != localIp && !broadcast)
        {
            counters.increment(NetCounterDescriptor.IPV4_NOT_FOR_US);
            return;
        }
        if (linkBroadcast && !broadcast)
        {
            counters.increment(NetCounterDescriptor.IPV4_UNICAST_IN_LINK_BROADCAST); // RFC 1122 3.3.6
            return;
        }
        final int source = Ipv4Header.source(buffer, offset);
        // MUST-63, RFC 1122 3.2.1.3: not this network (0/8), loopback (127/8), reserved (240/4), broadcast,
        // multicast, or ourselves
        final int firstOctet = source >>> 24;
        if (firstOctet == 0 || firstOctet == 127 || firstOctet >= 240 || source == localIp ||
            Addresses.isIpv4Multicast(source) || NextHop.isDirectedBroadcast(source, localIp, netmask))
        {
            counters.increment(NetCounterDescriptor.IPV4_BAD_SOURCE);
            return;
        }
        if (Ipv4Header.isFragment(buffer, offset))
        {
            counters.increment(NetCounterDescriptor.IPV4_FRAGMENT);
            return;
        }
        final int protocol = Ipv4Header.protocol(buffer, offset);
        if (protocol != Ipv4Header.PROTOCOL_TCP && protocol != Ipv4Header.PROTOCOL_ICMP)
        {
            counters.increment(NetCounterDescriptor.IPV4_UNSUPPORTED_PROTOCOL);
            return;
        }
        if (broadcast)
        {
            counters.increment(NetCounterDescriptor.IPV4_BROADCAST_DROPPED);
            return;
        }
        final int payloadOffset = offset + headerLength;
        final int payloadLength = Ipv4Header.totalLength(buffer, offset) - headerLength;
        if (protocol == Ipv4Header.PROTOCOL_TCP)
        {
            onTcp(buffer, payloadOffset, payloadLength, source, destination, Ipv4Header.tos(buffer, offset),
                rxChecksum, payload, payloadAt, nowNs);
        }
        else if (payload != null)
        {
            counters.increment(NetCounterDescriptor.IPV4_UNSUPPORTED_PROTOCOL); // the caller checked: never
        }
        else
        {
            onIcmp(buffer, payloadOffset, payloadLength, source, nowNs);
        }
    }

    private void onTcp(
        final DirectBuffer buffer, final int offset, final int length, final int source, final int destination,
        final int tos, final int rxChecksum, final DirectBuffer payload, final int payloadAt, final long nowNs)
    {
        final int headerLength = TcpHeader.validate(buffer, offset, length);
        if (headerLength < 0 || payload != null && buffer.capacity() - offset != headerLength)
        {
            counters.increment(headerLength == WireError.TRUNCATED ?
                NetCounterDescriptor.TCP_TRUNCATED : NetCounterDescriptor.TCP_BAD_HEADER_LENGTH);
            return;
        }
        if ((rxChecksum & RX_L4_CHECKSUM_BAD) != 0 || config.verifyL4Checksum() &&
            (rxChecksum & RX_L4_CHECKSUM_GOOD) == 0 && (payload == null ?
            !TcpHeader.isChecksumValid(buffer, offset, length, source, destination) :
            Checksum.transportChecksum(buffer, offset, headerLength, payload, payloadAt, length - headerLength, source,
                destination, Ipv4Header.PROTOCOL_TCP) != 0))
        {
            counters.increment(NetCounterDescriptor.TCP_BAD_CHECKSUM);
            return;
        }
        counters.increment(NetCounterDescriptor.TCP_SEGMENTS_DELIVERED);
        if (payload == null)
        {
            transport.onTcpSegment(buffer, offset, headerLength, length, source, destination, tos, nowNs);
        }
        else
        {
            transport.onTcpSegment(buffer, offset, headerLength, length, payload, payloadAt, source, destination, tos,
                nowNs);
        }
    }

    private void onIcmp(
        final DirectBuffer buffer, final int offset, final int length, final int source, final long nowNs)
    {
        counters.increment(NetCounterDescriptor.ICMP_RECEIVED);
        // always verified in software: receive offload covers TCP and UDP, not ICMP
        final int result = IcmpHeader.validate(buffer, offset, length, true);
        if (result < 0)
        {
            counters.increment(result == WireError.TRUNCATED ?
                NetCounterDescriptor.ICMP_TRUNCATED : NetCounterDescriptor.ICMP_BAD_CHECKSUM);
            return;
        }
        final int type = IcmpHeader.type(buffer, offset);
        final int code = IcmpHeader.code(buffer, offset);
        if (type == IcmpHeader.TYPE_ECHO_REQUEST)
        {
            sendEchoReply(buffer, offset, length, source, code, nowNs);
            return;
        }
        final int kind = IcmpHeader.classify(type, code);
        if (kind == IcmpHeader.ERROR_NONE)
        {
            counters.increment(NetCounterDescriptor.ICMP_UNSUPPORTED_TYPE);
            return;
        }
        if (kind == IcmpHeader.ERROR_IGNORED)
        {
            counters.increment(NetCounterDescriptor.ICMP_SOURCE_QUENCH_IGNORED); // MUST-55
            return;
        }
        final int quoteOffset = offset + IcmpHeader.HEADER_LENGTH;
        final int quoteLength = length - IcmpHeader.HEADER_LENGTH;
        final int quotedHeaderLength = IcmpHeader.validateQuote(buffer, quoteOffset, quoteLength);
        if (quotedHeaderLength < 0 ||
            Ipv4Header.protocol(buffer, quoteOffset) != Ipv4Header.PROTOCOL_TCP ||
            Ipv4Header.source(buffer, quoteOffset) != config.localIp())
        {
            counters.increment(NetCounterDescriptor.ICMP_BAD_QUOTE);
            return;
        }
        if (type == IcmpHeader.TYPE_TIME_EXCEEDED)
        {
            counters.increment(NetCounterDescriptor.ICMP_TIME_EXCEEDED);
        }
        counters.increment(NetCounterDescriptor.ICMP_ERRORS_DELIVERED);
        transport.onIcmpError(
            kind, type, code, IcmpHeader.restOfHeader(buffer, offset),
            Ipv4Header.source(buffer, quoteOffset), Ipv4Header.destination(buffer, quoteOffset),
            buffer, quoteOffset + quotedHeaderLength, quoteLength - quotedHeaderLength, nowNs);
    }

    private void sendEchoReply(
        final DirectBuffer request, final int offset, final int length, final int source, final int code,
        final long nowNs)
    {
        final int payloadOffset = beginIpv4(source, Ipv4Header.PROTOCOL_ICMP, config.defaultTos(), length);
        if (payloadOffset < 0)
        {
            return;
        }
        final MutableDirectBuffer frame = txFrame;
        frame.putBytes(payloadOffset, request, offset, length);
        frame.putByte(payloadOffset + IcmpHeader.TYPE_OFFSET, (byte)IcmpHeader.TYPE_ECHO_REPLY);
        // only the type changed: RFC 1624 incremental update instead of summing the whole echo payload
        final int checksum = Checksum.update16(
            IcmpHeader.checksum(frame, payloadOffset), (IcmpHeader.TYPE_ECHO_REQUEST << 8) | code, code);
        frame.putShort(payloadOffset + IcmpHeader.CHECKSUM_OFFSET, (short)checksum, BIG_ENDIAN);
        if (commitIpv4(length, nowNs) >= 0)
        {
            counters.increment(NetCounterDescriptor.ICMP_ECHO_REPLIES_SENT);
        }
    }

    /**
     * Starts an outgoing IPv4 datagram (no options, DF set). On success, write the transport header and
     * payload into {@link #txBuffer()} from the returned offset, then call {@link #commitIpv4} or
     * {@link #abortIpv4()}. Only one datagram may be in progress.
     *
     * @param destinationIp    destination address.
     * @param protocol         IP protocol number.
     * @param tos              DSCP/ECN byte (MUST-48); pass {@link NetConfig#defaultTos()} when the
     *                         application chose none.
     * @param maxPayloadLength upper bound of the transport header plus payload length.
     * @return the offset of the transport header in {@link #txBuffer()}, or {@link #SEND_NO_ROUTE},
     * {@link #SEND_TOO_LONG}, {@link #SEND_NO_BUFFER} (each counted).
     */
    public int beginIpv4(final int destinationIp, final int protocol, final int tos, final int maxPayloadLength)
    {
        if (maxPayloadLength > config.maxIpv4PayloadLength())
        {
            counters.increment(NetCounterDescriptor.IPV4_TOO_LONG);
            return SEND_TOO_LONG;
        }
        final int nextHop = NextHop.choose(destinationIp, config.localIp(), netmask, config.gatewayIp());
        if (nextHop == NextHop.NO_ROUTE)
        {
            counters.increment(NetCounterDescriptor.IPV4_NO_ROUTE);
            return SEND_NO_ROUTE;
        }
        long mac = arpCache.lookup(nextHop);
        final MutableDirectBuffer frame;
        if (mac != ArpCache.UNRESOLVED)
        {
            frame = transmitter.claim(Math.max(EthernetHeader.MIN_FRAME_LENGTH, PAYLOAD_OFFSET + maxPayloadLength));
            if (frame == null)
            {
                counters.increment(NetCounterDescriptor.TX_NO_BUFFER);
                return SEND_NO_BUFFER;
            }
            txDirect = true;
        }
        else
        {
            frame = scratchFrame;
            mac = 0; // filled in when the answer arrives
            txDirect = false;
        }
        EthernetHeader.write(frame, 0, mac, config.localMac(), EthernetHeader.ETHER_TYPE_IPV4);
        txFrame = frame;
        txNextHop = nextHop;
        txDestination = destinationIp;
        txProtocol = protocol;
        txTos = tos;
        txReferencedBytes = 0;
        txReferencedSum = 0;
        return PAYLOAD_OFFSET;
    }

    /**
     * The longest TCP segment (header and payload) {@link #beginTcpSegmentation} takes for the device to cut
     * (TCP segmentation offload).
     *
     * @return bytes, 0 when the device offers no TSO.
     */
    public int maxSegmentationLength()
    {
        // one IPv4 datagram of at most 65,535 bytes, in one transmit buffer
        final int frameLength = transmitter.maxSegmentationFrameLength();
        return frameLength <= 0 ? 0 :
            Math.min(0xFFFF, frameLength - EthernetHeader.HEADER_LENGTH) - Ipv4Header.MIN_HEADER_LENGTH;
    }

    /**
     * Whether the device cuts frames of this many TCP header and payload bytes (TSO; some devices cut only
     * frames within their own MTU).
     *
     * @param tcpHeaderLength the TCP header's length, options included.
     * @param segmentBytes    payload bytes per frame.
     * @param frames          frames the segment is cut into.
     * @return true if {@link #beginTcpSegmentation} may be used for such frames.
     */
    public boolean deviceCuts(final int tcpHeaderLength, final int segmentBytes, final int frames)
    {
        return PAYLOAD_OFFSET + tcpHeaderLength + segmentBytes <= transmitter.maxSegmentationCutLength() &&
            frames <= transmitter.maxSegmentationFrames();
    }

    /**
     * Starts one large TCP segment for the device to cut into frames (TSO; only when
     * {@link #maxSegmentationLength()} &gt; 0): like {@link #beginIpv4}, but longer than the MTU, and only to a
     * resolved next hop; then {@link #commitTcpSegmentation} or {@link #abortIpv4()}.
     *
     * @param destinationIp destination address.
     * @param tos           DSCP/ECN byte (MUST-48).
     * @param segmentLength TCP header plus payload length, at most {@link #maxSegmentationLength()}.
     * @return the offset of the TCP header in {@link #txBuffer()}; {@link #SEND_NOT_DIRECT} (not counted: send
     * the frames one by one instead), {@link #SEND_TOO_LONG}, {@link #SEND_NO_ROUTE} or {@link #SEND_NO_BUFFER}.
     */
    public int beginTcpSegmentation(final int destinationIp, final int tos, final int segmentLength)
    {
        if (segmentLength > maxSegmentationLength())
        {
            counters.increment(NetCounterDescriptor.IPV4_TOO_LONG);
            return SEND_TOO_LONG;
        }
        final int nextHop = NextHop.choose(destinationIp, config.localIp(), netmask, config.gatewayIp());
        if (nextHop == NextHop.NO_ROUTE)
        {
            counters.increment(NetCounterDescriptor.IPV4_NO_ROUTE);
            return SEND_NO_ROUTE;
        }
        final long mac = arpCache.lookup(nextHop);
        if (mac == ArpCache.UNRESOLVED)
        {
            return SEND_NOT_DIRECT;
        }
        final MutableDirectBuffer frame = transmitter.claim(PAYLOAD_OFFSET + segmentLength);
        if (frame == null)
        {
            counters.increment(NetCounterDescriptor.TX_NO_BUFFER);
            return SEND_NO_BUFFER;
        }
        txDirect = true;
        EthernetHeader.write(frame, 0, mac, config.localMac(), EthernetHeader.ETHER_TYPE_IPV4);
        txFrame = frame;
        txNextHop = nextHop;
        txDestination = destinationIp;
        txProtocol = Ipv4Header.PROTOCOL_TCP;
        txTos = tos;
        txReferencedBytes = 0;
        txReferencedSum = 0;
        return PAYLOAD_OFFSET;
    }

    /**
     * Completes the large segment started by {@link #beginTcpSegmentation} and hands it to the device, which
     * cuts it into {@code frames} frames of {@code segmentBytes} payload bytes (the last may be shorter), each
     * with the next IPv4 identification: the same identifications the frames would get one by one.
     *
     * @param segmentLength   TCP header plus payload length actually written.
     * @param tcpHeaderLength the TCP header's length, options included.
     * @param segmentBytes    payload bytes per frame.
     * @return {@link #SENT}.
     */
    public int commitTcpSegmentation(final int segmentLength, final int tcpHeaderLength, final int segmentBytes)
    {
        final MutableDirectBuffer frame = txFrame;
        txFrame = null;
        // TSO: the pseudo-header sum without the TCP length (the device adds each frame's own)
        TcpHeader.putPseudoHeaderChecksum(frame, PAYLOAD_OFFSET, 0, config.localIp(), txDestination);
        final int payload = segmentLength - tcpHeaderLength;
        final int frames = (payload + segmentBytes - 1) / segmentBytes;
        Ipv4Header.writeForChecksumOffload(frame, IPV4_OFFSET, txTos, Ipv4Header.MIN_HEADER_LENGTH + segmentLength,
            nextIdentification & 0xFFFF, Ipv4Header.FLAG_DONT_FRAGMENT, config.ttl(), Ipv4Header.PROTOCOL_TCP,
            config.localIp(), txDestination);
        nextIdentification += frames;
        counters.add(NetCounterDescriptor.IPV4_SENT, frames);
        transmitter.commitSegmentation(IPV4_OFFSET + Ipv4Header.MIN_HEADER_LENGTH + segmentLength, tcpHeaderLength,
            segmentBytes);
        return SENT;
    }

    /**
     * Zero-copy transmit: whether the payload of the TCP segment started by {@link #beginIpv4} may be appended
     * by reference ({@link #appendReference}) instead of written into {@link #txBuffer()}: the frame goes
     * straight to a transmitter that takes references, and the payload is long enough to be worth one.
     *
     * @param payloadLength the segment's payload bytes.
     * @return true if {@link #appendReference} may be tried.
     */
    public boolean mayReference(final int payloadLength)
    {
        return txDirect && referenceMinBytes > 0 && payloadLength >= referenceMinBytes;
    }

    /**
     * Zero-copy transmit: appends payload bytes held in off-heap chunk memory to the TCP segment in progress,
     * after everything written into {@link #txBuffer()} (the headers), by reference
     * ({@link FrameTransmitter#appendReference}); {@link #commitTcp} then counts them in the segment and its
     * checksum (summed here when the device does not complete it). Only after {@link #mayReference} said yes.
     *
     * @param chunk   the chunk id holding the bytes (for the device's reference count).
     * @param buffer  the chunk's buffer, to sum the bytes for a checksum in software.
     * @param offset  the bytes' offset in {@code buffer}.
     * @param length  bytes.
     * @return false if the transmitter took no reference (nothing appended: copy, or abort if some were).
     */
    public boolean appendReference(final int chunk, final DirectBuffer buffer, final int offset, final int length)
    {
        if (!transmitter.appendReference(chunk, buffer.addressOffset() + offset, length))
        {
            return false;
        }
        if ((txOffloads & FrameTransmitter.OFFLOAD_TCP_CHECKSUM) == 0)
        {
            final int sum = Checksum.sum(buffer, offset, length);
            txReferencedSum = (txReferencedBytes & 1) == 0 ? Checksum.add(txReferencedSum, sum) :
                Checksum.addAfterOddLength(txReferencedSum, sum);
        }
        txReferencedBytes += length;
        return true;
    }

    /**
     * Payload bytes of the segment in progress appended by reference so far.
     *
     * @return bytes.
     */
    public int referencedBytes()
    {
        return txReferencedBytes;
    }

    /**
     * The buffer of the datagram started by {@link #beginIpv4}; the frame starts at index 0.
     *
     * @return the buffer, valid until commit or abort.
     */
    public MutableDirectBuffer txBuffer()
    {
        return txFrame;
    }

    /**
     * Completes the datagram started by {@link #beginIpv4}: writes the IPv4 header and checksum, pads the
     * frame to the Ethernet minimum, and sends it or queues it for ARP. A transport checksum must already
     * be in place (it covers the pseudo-header with {@link NetConfig#localIp()} as source).
     *
     * @param payloadLength transport header plus payload length actually written.
     * @param nowNs         the duty cycle's time.
     * @return {@link #SENT}, {@link #QUEUED}, {@link #SEND_QUEUE_FULL} or {@link #SEND_CACHE_FULL}.
     */
    public int commitIpv4(final int payloadLength, final long nowNs)
    {
        return commit(payloadLength, 0, nowNs);
    }

    /**
     * Completes a TCP segment started by {@link #beginIpv4} (protocol TCP) whose header and payload are in
     * place with any checksum value: stores the TCP checksum (MUST-2), or the pseudo-header sum when the
     * device completes it (checksum offload, frames sent directly only; a frame that waits for ARP is
     * checksummed in software), then commits like {@link #commitIpv4}.
     *
     * @param segmentLength TCP header plus payload length actually written.
     * @param nowNs         the duty cycle's time.
     * @return as {@link #commitIpv4}.
     */
    public int commitTcp(final int segmentLength, final long nowNs)
    {
        if (txDirect && (txOffloads & FrameTransmitter.OFFLOAD_TCP_CHECKSUM) != 0)
        {
            TcpHeader.putPseudoHeaderChecksum(txFrame, PAYLOAD_OFFSET, segmentLength, config.localIp(), txDestination);
            return commit(segmentLength, FrameTransmitter.OFFLOAD_TCP_CHECKSUM, nowNs);
        }
        if (txReferencedBytes == 0)
        {
            TcpHeader.putChecksum(txFrame, PAYLOAD_OFFSET, segmentLength, config.localIp(), txDestination);
            return commit(segmentLength, 0, nowNs);
        }
        // MUST-2 over the header here and the payload referenced (summed as it was appended)
        final int headerLength = segmentLength - txReferencedBytes;
        txFrame.putShort(PAYLOAD_OFFSET + TcpHeader.CHECKSUM_OFFSET, (short)0);
        final int headerSum = Checksum.add(
            Checksum.pseudoHeaderSum(config.localIp(), txDestination, Ipv4Header.PROTOCOL_TCP, segmentLength),
            Checksum.sum(txFrame, PAYLOAD_OFFSET, headerLength));
        final int sum = (headerLength & 1) == 0 ? Checksum.add(headerSum, txReferencedSum) :
            Checksum.addAfterOddLength(headerSum, txReferencedSum);
        txFrame.putShort(PAYLOAD_OFFSET + TcpHeader.CHECKSUM_OFFSET, (short)Checksum.finish(sum), BIG_ENDIAN);
        return commit(segmentLength, 0, nowNs);
    }

    private int commit(final int payloadLength, final int l4Offload, final long nowNs)
    {
        final MutableDirectBuffer frame = txFrame;
        txFrame = null;
        final int totalLength = Ipv4Header.MIN_HEADER_LENGTH + payloadLength;
        final boolean ipOffload = txDirect && (txOffloads & FrameTransmitter.OFFLOAD_IPV4_CHECKSUM) != 0;
        if (ipOffload)
        {
            Ipv4Header.writeForChecksumOffload(frame, IPV4_OFFSET, txTos, totalLength, nextIdentification++ & 0xFFFF,
                Ipv4Header.FLAG_DONT_FRAGMENT, config.ttl(), txProtocol, config.localIp(), txDestination);
        }
        else
        {
            Ipv4Header.write(frame, IPV4_OFFSET, txTos, totalLength, nextIdentification++ & 0xFFFF,
                Ipv4Header.FLAG_DONT_FRAGMENT, config.ttl(), txProtocol, config.localIp(), txDestination);
        }
        int frameLength = IPV4_OFFSET + totalLength;
        if (frameLength < EthernetHeader.MIN_FRAME_LENGTH)
        {
            frame.setMemory(frameLength, EthernetHeader.MIN_FRAME_LENGTH - frameLength, (byte)0);
            frameLength = EthernetHeader.MIN_FRAME_LENGTH;
        }
        if (txDirect)
        {
            counters.increment(NetCounterDescriptor.IPV4_SENT);
            final int offloads = (ipOffload ? FrameTransmitter.OFFLOAD_IPV4_CHECKSUM : 0) | l4Offload;
            if (offloads == 0)
            {
                transmitter.commit(frameLength);
            }
            else
            {
                transmitter.commit(frameLength, offloads);
            }
            return SENT;
        }
        final int queued = arpCache.enqueue(txNextHop, frame, 0, frameLength, nowNs);
        if (queued == ArpCache.QUEUED)
        {
            counters.increment(NetCounterDescriptor.IPV4_SENT);
            return QUEUED;
        }
        return queued == ArpCache.QUEUE_FULL ? SEND_QUEUE_FULL : SEND_CACHE_FULL;
    }

    /**
     * Abandons the datagram started by {@link #beginIpv4}.
     */
    public void abortIpv4()
    {
        if (txDirect && txFrame != null)
        {
            transmitter.abort();
        }
        txFrame = null;
    }

    /**
     * Our IPv4 address (the source of every datagram, for pseudo-header checksums).
     *
     * @return the address.
     */
    public int localIp()
    {
        return config.localIp();
    }

    /**
     * The settings.
     *
     * @return the configuration.
     */
    public NetConfig config()
    {
        return config;
    }

    /**
     * The ARP cache, for inspection.
     *
     * @return the cache.
     */
    public ArpCache arpCache()
    {
        return arpCache;
    }

    /**
     * The shard's counters.
     *
     * @return the counters.
     */
    public NetCounters counters()
    {
        return counters;
    }
}
