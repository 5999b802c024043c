package dev.sluice.core.stack;

import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.IcmpHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Two shards (network layer + {@link TcpStack}) joined by an in-memory link with a virtual clock, built so
 * that the link itself never allocates after construction: frames live in preallocated slots, so allocation
 * tests measure only the stack. Every frame committed by one side is delivered to the other at the next
 * {@link #step}, through an optional {@link Tap} that can look at it or drop it.
 */
final class StackPair
{
    static final int IP_A = Addresses.parseIpv4("10.0.0.1");
    static final int IP_B = Addresses.parseIpv4("10.0.0.2");
    static final long MAC_A = 0x02_00_00_00_00_0AL;
    static final long MAC_B = 0x02_00_00_00_00_0BL;
    static final int ETH = EthernetHeader.HEADER_LENGTH;
    static final int TCP = ETH + Ipv4Header.MIN_HEADER_LENGTH;
    static final long STEP_NS = 100_000L;

    /** Looks at each frame before delivery. */
    interface Tap
    {
        /**
         * @param from   the sending shard.
         * @param frame  the Ethernet frame.
         * @param length its length.
         * @return true to deliver it, false to lose it.
         */
        boolean onFrame(Shard from, DirectBuffer frame, int length);
    }

    final Shard a;
    final Shard b;
    Tap tap;
    long nowNs = 1_000_000_000L;

    StackPair(final TcpConfig config, final int poolA, final int poolB)
    {
        a = new Shard("A", config, IP_A, MAC_A, 1, poolA);
        b = new Shard("B", config, IP_B, MAC_B, 2, poolB);
        a.peer = b;
        b.peer = a;
    }

    /** Advances the clock one step, delivers what each side sent, and runs both duty cycles. */
    void step()
    {
        nowNs += STEP_NS;
        a.swap();
        b.swap();
        a.deliver();
        b.deliver();
        a.layer.doWork(nowNs);
        b.layer.doWork(nowNs);
        a.stack.poll(nowNs);
        b.stack.poll(nowNs);
    }

    void steps(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            step();
        }
    }

    interface Condition
    {
        boolean isMet();
    }

    void runUntil(final Condition condition, final int maxSteps)
    {
        for (int i = 0; i < maxSteps; i++)
        {
            if (condition.isMet())
            {
                return;
            }
            step();
        }
        if (!condition.isMet())
        {
            throw new AssertionError("not reached after " + maxSteps + " steps, t=" + nowNs);
        }
    }

    /** Advances time without delivering anything, polling both stacks each step. */
    void idle(final long durationNs)
    {
        final long end = nowNs + durationNs;
        while (nowNs < end)
        {
            nowNs = Math.min(end, nowNs + STEP_NS);
            a.stack.poll(nowNs);
            b.stack.poll(nowNs);
        }
    }

    static boolean isTcp(final DirectBuffer frame)
    {
        return EthernetHeader.etherType(frame, 0, ETH) == EthernetHeader.ETHER_TYPE_IPV4 &&
            Ipv4Header.protocol(frame, ETH) == Ipv4Header.PROTOCOL_TCP;
    }

    static int tcpPayloadLength(final DirectBuffer frame)
    {
        return Ipv4Header.totalLength(frame, ETH) - Ipv4Header.MIN_HEADER_LENGTH -
            TcpHeader.headerLength(frame, TCP);
    }

    static int tcpFlags(final DirectBuffer frame)
    {
        return TcpHeader.flags(frame, TCP);
    }

    /** A copy of a frame, for later inspection or re-injection (allocates: setup only). */
    static UnsafeBuffer copy(final DirectBuffer frame, final int length)
    {
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
        copy.putBytes(0, frame, 0, length);
        return copy;
    }

    /**
     * An ICMP error from the peer's address to {@code to}, quoting the IPv4 header and the first 8 bytes of
     * the TCP header of {@code quoted}, a TCP frame {@code to} sent; {@code quotedSeq} replaces the quoted
     * sequence number.
     */
    static UnsafeBuffer icmpError(
        final Shard to, final DirectBuffer quoted, final int type, final int code, final int quotedSeq)
    {
        return icmpError(to, quoted, type, code, 0, quotedSeq);
    }

    static UnsafeBuffer icmpError(
        final Shard to, final DirectBuffer quoted, final int type, final int code, final int restOfHeader,
        final int quotedSeq)
    {
        final int quoteLength = Ipv4Header.MIN_HEADER_LENGTH + 8;
        final int icmpLength = IcmpHeader.HEADER_LENGTH + quoteLength;
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[ETH + Ipv4Header.MIN_HEADER_LENGTH + icmpLength]);
        EthernetHeader.write(frame, 0, to.mac, to.peer.mac, EthernetHeader.ETHER_TYPE_IPV4);
        Ipv4Header.write(frame, ETH, 0, Ipv4Header.MIN_HEADER_LENGTH + icmpLength, 1, 0, 64,
            Ipv4Header.PROTOCOL_ICMP, to.peer.ip, to.ip);
        final int icmp = ETH + Ipv4Header.MIN_HEADER_LENGTH;
        IcmpHeader.write(frame, icmp, type, code, restOfHeader);
        frame.putBytes(icmp + IcmpHeader.HEADER_LENGTH, quoted, ETH, quoteLength);
        frame.putInt(icmp + IcmpHeader.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + 4, quotedSeq,
            java.nio.ByteOrder.BIG_ENDIAN);
        IcmpHeader.putChecksum(frame, icmp, icmpLength);
        return frame;
    }

    /** One shard: a network layer and a TCP stack whose transmitter fills preallocated frame slots. */
    final class Shard implements FrameTransmitter
    {
        private static final int SLOTS = 512;
        private static final int SLOT_BYTES = 2048;

        final String name;
        final int ip;
        final long mac;
        final TcpStackCounters counters = new TcpStackCounters();
        final NetworkSegmentOutput output = new NetworkSegmentOutput(0, counters);
        final NetCounters netCounters = new NetCounters();
        final TcpStack stack;
        final IsnGenerator isnGenerator;
        final NetworkLayer layer;
        Shard peer;
        long framesLost;
        long linkOverflows;

        private final UnsafeBuffer[] pending = new UnsafeBuffer[SLOTS];
        private final int[] pendingLengths = new int[SLOTS];
        private int pendingCount;
        private UnsafeBuffer[] inFlight = new UnsafeBuffer[SLOTS];
        private int[] inFlightLengths = new int[SLOTS];
        private int inFlightCount;
        private UnsafeBuffer[] outbox = pending;
        private int[] outboxLengths = pendingLengths;
        private boolean claimed;
        // TSO as a device does it (DPDK's rte_gso, net_tap): off unless tsoEmulation is set
        boolean tsoEmulation;
        long tsoSegmentsCut;
        private final UnsafeBuffer large = new UnsafeBuffer(new byte[EthernetHeader.HEADER_LENGTH + 0xFFFF]);
        private boolean claimedLarge;

        Shard(
            final String name, final TcpConfig config, final int ip, final long mac, final long isnKey,
            final int maxConnections)
        {
            this.name = name;
            this.ip = ip;
            this.mac = mac;
            for (int i = 0; i < SLOTS; i++)
            {
                pending[i] = new UnsafeBuffer(new byte[SLOT_BYTES]);
                inFlight[i] = new UnsafeBuffer(new byte[SLOT_BYTES]);
            }
            isnGenerator = new IsnGenerator(isnKey, ~isnKey);
            stack = new TcpStack(config, isnGenerator, output, counters, maxConnections);
            layer = new NetworkLayer(
                NetConfig.builder().localMac(mac).localIp(ip, 24).build(), this, stack, netCounters);
            output.bind(layer);
            layer.start(0);
        }

        /** Hands a frame to this shard's network layer, as if it came off the wire now. */
        void receive(final DirectBuffer frame, final int length)
        {
            layer.onFrame(frame, 0, length, nowNs);
        }

        private void swap()
        {
            final UnsafeBuffer[] frames = inFlight;
            final int[] lengths = inFlightLengths;
            inFlight = outbox;
            inFlightLengths = outboxLengths;
            inFlightCount = pendingCount;
            outbox = frames;
            outboxLengths = lengths;
            pendingCount = 0;
        }

        private void deliver()
        {
            for (int i = 0; i < inFlightCount; i++)
            {
                final UnsafeBuffer frame = inFlight[i];
                final int length = inFlightLengths[i];
                if (tap != null && !tap.onFrame(this, frame, length))
                {
                    framesLost++;
                    continue;
                }
                peer.layer.onFrame(frame, 0, length, nowNs);
            }
            inFlightCount = 0;
        }

        @Override
        public MutableDirectBuffer claim(final int maxLength)
        {
            if (claimed)
            {
                throw new IllegalStateException("claim while a claim is outstanding");
            }
            if (maxLength > SLOT_BYTES && tsoEmulation && maxLength <= large.capacity())
            {
                claimed = true;
                claimedLarge = true;
                return large;
            }
            if (maxLength > SLOT_BYTES || pendingCount == SLOTS)
            {
                linkOverflows++;
                return null;
            }
            claimed = true;
            claimedLarge = false;
            return outbox[pendingCount];
        }

        @Override
        public int maxSegmentationFrameLength()
        {
            return tsoEmulation ? large.capacity() : 0;
        }

        @Override
        public void commitSegmentation(final int length, final int tcpHeaderLength, final int segmentBytes)
        {
            if (!claimed || !claimedLarge)
            {
                throw new IllegalStateException("commitSegmentation without a large claim");
            }
            claimed = false;
            claimedLarge = false;
            tsoSegmentsCut++;
            // what a device does: headers copied per frame, SEG.SEQ and the IPv4 identification advanced, PSH
            // and FIN kept for the last frame, total length and both checksums completed
            final int headers = TCP + tcpHeaderLength;
            final int payload = length - headers;
            final int seq = TcpHeader.sequence(large, TCP);
            final int id = Ipv4Header.identification(large, ETH);
            final int flags = TcpHeader.flags(large, TCP);
            for (int done = 0, i = 0; done < payload; done += segmentBytes, i++)
            {
                final int n = Math.min(segmentBytes, payload - done);
                if (pendingCount == SLOTS)
                {
                    linkOverflows++;
                    return;
                }
                final UnsafeBuffer frame = outbox[pendingCount];
                frame.putBytes(0, large, 0, headers);
                frame.putBytes(headers, large, headers + done, n);
                frame.putShort(ETH + 2, (short)(Ipv4Header.MIN_HEADER_LENGTH + tcpHeaderLength + n),
                    java.nio.ByteOrder.BIG_ENDIAN);
                frame.putShort(ETH + 4, (short)(id + i), java.nio.ByteOrder.BIG_ENDIAN);
                Ipv4Header.putChecksum(frame, ETH, Ipv4Header.MIN_HEADER_LENGTH);
                frame.putInt(TCP + TcpHeader.SEQUENCE_OFFSET, seq + done, java.nio.ByteOrder.BIG_ENDIAN);
                final boolean last = done + n == payload;
                frame.putByte(TCP + TcpHeader.FLAGS_OFFSET,
                    (byte)(last ? flags : flags & ~(TcpHeader.PSH | TcpHeader.FIN)));
                TcpHeader.putChecksum(frame, TCP, tcpHeaderLength + n, Ipv4Header.source(frame, ETH),
                    Ipv4Header.destination(frame, ETH));
                outboxLengths[pendingCount++] = Math.max(EthernetHeader.MIN_FRAME_LENGTH, headers + n);
            }
        }

        @Override
        public void commit(final int length)
        {
            if (!claimed)
            {
                throw new IllegalStateException("commit without claim");
            }
            claimed = false;
            outboxLengths[pendingCount++] = length;
        }

        @Override
        public void abort()
        {
            claimed = false;
            claimedLarge = false;
        }

        @Override
        public String toString()
        {
            return name;
        }
    }
}
