package dev.sluice.core.stack;

import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.tcp.ChunkReferences;
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
        this(config, poolA, poolB, 0);
    }

    /**
     * @param zeroCopyMinBytes with &gt; 0, both transmitters take payloads of at least this many bytes by
     *                         reference (zero-copy transmit, as DPDK external buffers): the link reads the
     *                         referenced memory only when it delivers the frame, as a device would.
     */
    StackPair(final TcpConfig config, final int poolA, final int poolB, final int zeroCopyMinBytes)
    {
        a = new Shard("A", config, IP_A, MAC_A, 1, poolA, zeroCopyMinBytes);
        b = new Shard("B", config, IP_B, MAC_B, 2, poolB, zeroCopyMinBytes);
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

    /** The payload references of one frame slot (zero-copy emulation). */
    static final class References
    {
        final long[] address = new long[4];
        final int[] length = new int[4];
        final int[] chunk = new int[4];
        int count;
        int bytes;
    }

    /**
     * One shard: a network layer and a TCP stack whose transmitter fills preallocated frame slots, and, with
     * zero-copy on, records payload references per slot and counts them per chunk (its {@link ChunkReferences}).
     */
    final class Shard implements FrameTransmitter, ChunkReferences
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
        // zero-copy emulation
        private final int zeroCopyMinBytes;
        private final int[] chunkReferences;
        private final UnsafeBuffer referenced = new UnsafeBuffer(0, 0);
        private References[] pendingRefs = new References[SLOTS];
        private References[] inFlightRefs = new References[SLOTS];
        private final int[] heldChunks = new int[SLOTS * 4];
        private int heldCount;
        /**
         * While true, each TCP frame with payload this shard sends reaches the peer split: headers in one buffer,
         * payload in another (a chained frame read in place, {@code NetworkLayer#onSplitFrame}).
         */
        boolean deliverSplit;
        private final UnsafeBuffer splitHeaders = new UnsafeBuffer(0, 0);
        private final UnsafeBuffer splitPayload = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(SLOT_BYTES));
        private final UnsafeBuffer splitPayloadView = new UnsafeBuffer(0, 0);
        long framesSplit;
        /** While true, references of delivered frames stay held (a device queue) until {@link #releaseHeld()}. */
        boolean holdReferences;
        /** References to refuse from now (no mbuf), 0 for none. */
        int refuseReferences;
        /** The one reference to refuse, counting every one asked for from 1, or 0 for none. */
        int refuseNthReference;
        long referencesAsked;
        long referencesTaken;

        Shard(
            final String name, final TcpConfig config, final int ip, final long mac, final long isnKey,
            final int maxConnections, final int zeroCopyMinBytes)
        {
            this.name = name;
            this.ip = ip;
            this.mac = mac;
            this.zeroCopyMinBytes = zeroCopyMinBytes;
            for (int i = 0; i < SLOTS; i++)
            {
                pending[i] = new UnsafeBuffer(new byte[SLOT_BYTES]);
                inFlight[i] = new UnsafeBuffer(new byte[SLOT_BYTES]);
                pendingRefs[i] = new References();
                inFlightRefs[i] = new References();
            }
            isnGenerator = new IsnGenerator(isnKey, ~isnKey);
            stack = new TcpStack(config, isnGenerator, output, counters, maxConnections);
            chunkReferences = zeroCopyMinBytes > 0 ? new int[stack.pool().maxChunks()] : null;
            if (zeroCopyMinBytes > 0)
            {
                stack.pool().references(this);
            }
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
            final References[] refs = inFlightRefs;
            inFlight = outbox;
            inFlightLengths = outboxLengths;
            inFlightRefs = pendingRefs;
            inFlightCount = pendingCount;
            outbox = frames;
            outboxLengths = lengths;
            pendingRefs = refs;
            pendingCount = 0;
        }

        // the device reads referenced payload when it sends the frame: here, at delivery
        private void gather(final UnsafeBuffer frame, final int length, final References refs)
        {
            int at = length - refs.bytes;
            for (int p = 0; p < refs.count; p++)
            {
                referenced.wrap(refs.address[p], refs.length[p]);
                frame.putBytes(at, referenced, 0, refs.length[p]);
                at += refs.length[p];
                if (holdReferences)
                {
                    heldChunks[heldCount++] = refs.chunk[p];
                }
                else
                {
                    chunkReferences[refs.chunk[p]]--;
                }
            }
            refs.count = 0;
            refs.bytes = 0;
        }

        /** Lets go of the references {@link #holdReferences} kept. */
        void releaseHeld()
        {
            for (int i = 0; i < heldCount; i++)
            {
                chunkReferences[heldChunks[i]]--;
            }
            heldCount = 0;
        }

        /** References out now (taken, not yet let go), over all chunks. */
        int referencesOut()
        {
            int out = 0;
            if (chunkReferences != null)
            {
                for (final int count : chunkReferences)
                {
                    out += count;
                }
            }
            return out;
        }

        @Override
        public boolean isReferenced(final int chunk)
        {
            return chunkReferences[chunk] > 0;
        }

        @Override
        public int referenceMinBytes()
        {
            return zeroCopyMinBytes;
        }

        @Override
        public boolean appendReference(final int chunk, final long address, final int length)
        {
            if (!claimed || claimedLarge)
            {
                throw new IllegalStateException("appendReference without a claim");
            }
            if (++referencesAsked == refuseNthReference || refuseReferences > 0)
            {
                refuseReferences = Math.max(0, refuseReferences - 1);
                return false;
            }
            final References refs = pendingRefs[pendingCount];
            refs.address[refs.count] = address;
            refs.length[refs.count] = length;
            refs.chunk[refs.count++] = chunk;
            refs.bytes += length;
            chunkReferences[chunk]++;
            referencesTaken++;
            return true;
        }

        private void deliver()
        {
            for (int i = 0; i < inFlightCount; i++)
            {
                final UnsafeBuffer frame = inFlight[i];
                final int length = inFlightLengths[i];
                if (inFlightRefs[i].count > 0)
                {
                    gather(frame, length, inFlightRefs[i]);
                }
                if (tap != null && !tap.onFrame(this, frame, length))
                {
                    framesLost++;
                    continue;
                }
                if (deliverSplit && isTcp(frame) && tcpPayloadLength(frame) > 0)
                {
                    final int headers = TCP + TcpHeader.headerLength(frame, TCP);
                    final int payload = Ipv4Header.totalLength(frame, ETH) + ETH - headers;
                    splitHeaders.wrap(frame, 0, headers);
                    splitPayload.putBytes(0, frame, headers, payload);
                    splitPayloadView.wrap(splitPayload, 0, payload);
                    framesSplit++;
                    peer.layer.onSplitFrame(splitHeaders, 0, headers, splitPayloadView, 0, payload, 0, nowNs);
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
            if (chunkReferences != null)
            {
                final References refs = pendingRefs[pendingCount];
                for (int p = 0; p < refs.count; p++)
                {
                    chunkReferences[refs.chunk[p]]--;
                }
                refs.count = 0;
                refs.bytes = 0;
            }
        }

        @Override
        public String toString()
        {
            return name;
        }
    }
}
