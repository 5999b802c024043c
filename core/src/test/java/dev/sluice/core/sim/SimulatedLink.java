package dev.sluice.core.sim;

import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.HashSet;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A full-duplex point-to-point Ethernet link between two simulated shards, with seeded impairments
 * ({@link LinkImpairments}) and a virtual clock: a frame committed at {@code nowNs} is serialised behind the
 * frames already queued in its direction (a bounded FIFO: tail drop when full), then arrives after the
 * propagation delay plus jitter, unless it is lost; some frames are duplicated, held back (reordered) or have
 * one byte flipped. {@link #nextArrivalNs()} tells the simulation when the next frame lands, so the clock
 * jumps from event to event.
 */
final class SimulatedLink
{
    static final long NO_ARRIVAL = Long.MAX_VALUE;
    private static final int MAX_FRAME_BYTES = 1514;

    private final LinkImpairments impairments;
    private final SplittableRandom random;
    private final boolean impairHandshake;
    private final PriorityQueue<Frame> inFlight = new PriorityQueue<>(
        (x, y) -> x.arrivalNs != y.arrivalNs ? Long.compare(x.arrivalNs, y.arrivalNs) : Long.compare(x.order, y.order));
    private final Direction[] directions = {new Direction(), new Direction()};
    private final Set<Integer> openersSeen = new HashSet<>();
    private long order;

    long framesSent;
    long framesLost;
    long framesTailDropped;
    long framesDuplicated;
    long framesReordered;
    long framesCorrupted;
    long framesDelivered;
    /** Each random loss drops this many consecutive frames of its direction (burst loss); 1: independent. */
    int lossBurstFrames = 1;
    /** If set, the frames of direction 0 (A to B) with these ordinals (0 = first frame) are dropped. */
    java.util.Set<Long> dropFramesAtoB = java.util.Set.of();
    /** Ordinals of the frames of direction 0 (A to B) that carried TCP payload, when recorded. */
    final java.util.List<Long> dataFramesAtoB = new java.util.ArrayList<>();
    private final int[] burstRemaining = new int[2];
    private long framesAtoB;

    /** @return frames A has put on the link (direction 0), lost or not. */
    long framesAtoB()
    {
        return framesAtoB;
    }

    /**
     * @param impairments     what happens to frames.
     * @param random          the seed's random source for the link.
     * @param impairHandshake false: ARP and SYN-bearing frames pass unharmed (see
     *                        {@link SimulationRun#IMPAIR_HANDSHAKE}).
     */
    SimulatedLink(final LinkImpairments impairments, final SplittableRandom random, final boolean impairHandshake)
    {
        this.impairments = impairments;
        this.random = random;
        this.impairHandshake = impairHandshake;
    }

    /** A frame on the wire. */
    static final class Frame
    {
        final byte[] bytes;
        final SimShard to;
        final int direction;
        final long sentNs;
        long arrivalNs;
        long order;
        boolean corrupted;
        boolean duplicate;
        boolean reordered;

        Frame(final byte[] bytes, final SimShard to, final int direction, final long sentNs)
        {
            this.bytes = bytes;
            this.to = to;
            this.direction = direction;
            this.sentNs = sentNs;
        }
    }

    private static final class Direction
    {
        long busyUntilNs;
        long lastInOrderArrivalNs;
    }

    /**
     * A shard committed a frame.
     *
     * @param bytes     the frame (owned by the link from now on).
     * @param to        the receiving shard.
     * @param direction 0 or 1, one per sending shard.
     * @param nowNs     the commit time.
     */
    void send(final byte[] bytes, final SimShard to, final int direction, final long nowNs)
    {
        framesSent++;
        final boolean protectedFrame = !impairHandshake && (isHandshakeOrArp(bytes) || isFirstAckOfActiveOpener(bytes));
        final Direction dir = directions[direction];
        final long backlogNs = Math.max(0, dir.busyUntilNs - nowNs);
        final double backlogBytes = backlogNs * impairments.bytesPerNs();
        if (!protectedFrame && backlogBytes + bytes.length > (double)impairments.queueFrames() * MAX_FRAME_BYTES)
        {
            framesTailDropped++;
            return;
        }
        final long serialisedNs = Math.max(1, (long)Math.ceil(bytes.length / impairments.bytesPerNs()));
        dir.busyUntilNs = Math.max(nowNs, dir.busyUntilNs) + serialisedNs;
        if (direction == 0 && carriesTcpPayload(bytes))
        {
            dataFramesAtoB.add(framesAtoB);
        }
        if (direction == 0 && dropFramesAtoB.contains(framesAtoB++))
        {
            framesLost++;
            return;
        }
        if (!protectedFrame && burstRemaining[direction] > 0)
        {
            burstRemaining[direction]--;
            framesLost++;
            return;
        }
        if (!protectedFrame && impairments.lossRate() > 0 && random.nextDouble() < impairments.lossRate())
        {
            burstRemaining[direction] = lossBurstFrames - 1;
            framesLost++;
            return;
        }
        final Frame frame = new Frame(bytes, to, direction, nowNs);
        long arrivalNs = dir.busyUntilNs + impairments.baseDelayNs() +
            (impairments.jitterNs() > 0 ? random.nextLong(impairments.jitterNs() + 1) : 0);
        if (!protectedFrame && impairments.reorderRate() > 0 && random.nextDouble() < impairments.reorderRate())
        {
            framesReordered++;
            frame.reordered = true;
            arrivalNs += 1 + random.nextLong(impairments.reorderDelayMaxNs());
        }
        else
        {
            arrivalNs = Math.max(arrivalNs, dir.lastInOrderArrivalNs); // jitter alone keeps the FIFO order
            dir.lastInOrderArrivalNs = arrivalNs;
        }
        frame.arrivalNs = arrivalNs;
        if (!protectedFrame && impairments.duplicateRate() > 0 && random.nextDouble() < impairments.duplicateRate())
        {
            framesDuplicated++;
            final Frame copy = new Frame(bytes.clone(), to, direction, nowNs);
            copy.duplicate = true;
            copy.arrivalNs = arrivalNs + random.nextLong(3_000_000L);
            maybeCorrupt(copy, protectedFrame);
            enqueue(copy);
        }
        maybeCorrupt(frame, protectedFrame);
        enqueue(frame);
    }

    // Ethernet, IPv4 (protocol 6), TCP with a payload
    private static boolean carriesTcpPayload(final byte[] frame)
    {
        if (frame.length < 54 || frame[12] != 0x08 || frame[13] != 0x00 || frame[23] != 6)
        {
            return false;
        }
        final int ipHeader = (frame[14] & 0x0F) * 4;
        final int ipTotal = ((frame[16] & 0xFF) << 8) | (frame[17] & 0xFF);
        final int tcpHeader = ((frame[14 + ipHeader + 12] & 0xF0) >> 4) * 4;
        return ipTotal - ipHeader - tcpHeader > 0;
    }

    private void maybeCorrupt(final Frame frame, final boolean protectedFrame)
    {
        if (protectedFrame || impairments.corruptRate() <= 0 || random.nextDouble() >= impairments.corruptRate())
        {
            return;
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(frame.bytes);
        if (frame.bytes.length < EthernetHeader.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH ||
            EthernetHeader.etherType(buffer, 0, EthernetHeader.HEADER_LENGTH) != EthernetHeader.ETHER_TYPE_IPV4)
        {
            return; // ARP has no checksum (on a real link the Ethernet FCS protects it): not corrupted here
        }
        // one byte of the datagram: a single flipped byte always changes the 16-bit one's complement sum
        final int datagramLength = Math.min(
            Ipv4Header.totalLength(buffer, EthernetHeader.HEADER_LENGTH), frame.bytes.length - EthernetHeader.HEADER_LENGTH);
        final int index = EthernetHeader.HEADER_LENGTH + random.nextInt(datagramLength);
        frame.bytes[index] ^= (byte)(1 + random.nextInt(255));
        frame.corrupted = true;
        framesCorrupted++;
    }

    private void enqueue(final Frame frame)
    {
        frame.order = order++;
        inFlight.add(frame);
    }

    /**
     * When the next frame arrives.
     *
     * @return virtual time, or {@link #NO_ARRIVAL} when nothing is in flight.
     */
    long nextArrivalNs()
    {
        final Frame head = inFlight.peek();
        return head == null ? NO_ARRIVAL : head.arrivalNs;
    }

    /**
     * Removes the next frame if it has arrived by {@code nowNs}.
     *
     * @param nowNs current virtual time.
     * @return the frame or null.
     */
    Frame poll(final long nowNs)
    {
        final Frame head = inFlight.peek();
        if (head == null || head.arrivalNs > nowNs)
        {
            return null;
        }
        framesDelivered++;
        return inFlight.poll();
    }

    boolean isEmpty()
    {
        return inFlight.isEmpty();
    }

    int framesInFlight()
    {
        return inFlight.size();
    }

    /**
     * SYN-bearing TCP segments and ARP: what must not be lost while SYN and SYN-ACK are not retransmitted
     * (a lost ARP request drops the SYN waiting for it).
     */
    static boolean isHandshakeOrArp(final byte[] bytes)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final int etherType = EthernetHeader.etherType(buffer, 0, EthernetHeader.HEADER_LENGTH);
        if (etherType != EthernetHeader.ETHER_TYPE_IPV4)
        {
            return true;
        }
        final int ip = EthernetHeader.HEADER_LENGTH;
        if (Ipv4Header.protocol(buffer, ip) != Ipv4Header.PROTOCOL_TCP)
        {
            return false;
        }
        return (TcpHeader.flags(buffer, ip + Ipv4Header.headerLength(buffer, ip)) & TcpHeader.SYN) != 0;
    }

    // the ACK completing a handshake: lost, it leaves the passive side in SYN-RECEIVED with no SYN-ACK
    // retransmission to elicit another when the active side has nothing to send
    private boolean isFirstAckOfActiveOpener(final byte[] bytes)
    {
        if (!SimShard.isTcp(bytes))
        {
            return false;
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final int tcp = EthernetHeader.HEADER_LENGTH + Ipv4Header.headerLength(buffer, EthernetHeader.HEADER_LENGTH);
        final int sourcePort = TcpHeader.sourcePort(buffer, tcp);
        return sourcePort >= SimulationRun.FIRST_CLIENT_PORT && (TcpHeader.flags(buffer, tcp) & TcpHeader.SYN) == 0 &&
            openersSeen.add(sourcePort);
    }

    @Override
    public String toString()
    {
        return "link[sent=" + framesSent + " lost=" + framesLost + " tailDropped=" + framesTailDropped +
            " duplicated=" + framesDuplicated + " reordered=" + framesReordered + " corrupted=" + framesCorrupted +
            " delivered=" + framesDelivered + " inFlight=" + inFlight.size() + "]";
    }
}
