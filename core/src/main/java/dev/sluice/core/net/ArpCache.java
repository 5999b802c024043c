package dev.sluice.core.net;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.ArpHeader;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.WireError;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.concurrent.UnsafeBuffer;


/**
 * ARP cache of one shard (RFC 826), with a bounded queue of frames waiting for resolution.
 *
 * <p>Entry life cycle: a frame for an unknown next hop creates an INCOMPLETE entry, sends a request and
 * waits in the pending queue; requests are repeated every {@code arpRetryIntervalNs} up to
 * {@code arpMaxRequests}, after which the entry and its frames are dropped
 * ({@link NetCounterDescriptor#ARP_RESOLUTION_FAILED}). An answer makes the entry REACHABLE for
 * {@code arpReachableNs} and flushes its frames in order. When that time is up, an entry used since the
 * last answer is re-confirmed (REFRESHING: still used for sending while requests go out) and an unused one
 * is forgotten.
 *
 * <p>Memory: all state is in arrays sized at construction; waiting frames are copied into one
 * preallocated buffer of {@code arpPendingFrames} slots of {@code maxFrameLength} bytes, because received
 * and transmit buffers (DPDK mbufs) must not be held. Timers cost nothing until the earliest deadline.
 */
public final class ArpCache
{
    /** Returned by {@link #lookup(int)} for an unresolved address. */
    public static final long UNRESOLVED = -1L;

    /** {@link #enqueue} result: the frame waits for resolution. */
    public static final int QUEUED = 0;
    /** {@link #enqueue} result: dropped, the pending queue (total or per entry) is full. */
    public static final int QUEUE_FULL = -1;
    /** {@link #enqueue} result: dropped, every entry is waiting for resolution and none can be evicted. */
    public static final int CACHE_FULL = -2;

    private static final byte FREE = 0;
    private static final byte INCOMPLETE = 1;
    private static final byte REACHABLE = 2;
    private static final byte REFRESHING = 3;
    private static final int NONE = -1;

    private final NetConfig config;
    private final FrameTransmitter transmitter;
    private final NetCounters counters;

    private final Int2IntHashMap slotByIp;
    private final int[] ips;
    private final long[] macs;
    private final byte[] states;
    private final long[] deadlinesNs;
    private final int[] requestsSent;
    private final boolean[] usedSinceConfirmed;
    private final int[] pendingHeads;
    private final int[] pendingTails;
    private final int[] pendingCounts;
    private final int[] freeSlots;
    private int freeSlotCount;

    private final UnsafeBuffer pendingFrames;
    private final int pendingSlotLength;
    private final int[] pendingNext;
    private final int[] pendingLengths;
    private int pendingFreeHead;

    private long nextDeadlineNs = Long.MAX_VALUE;

    /**
     * Creates an empty cache; all memory is allocated here.
     *
     * @param config      settings (capacities, timing, our addresses).
     * @param transmitter where requests and flushed frames go.
     * @param counters    the shard's counters.
     */
    public ArpCache(final NetConfig config, final FrameTransmitter transmitter, final NetCounters counters)
    {
        this.config = config;
        this.transmitter = transmitter;
        this.counters = counters;
        final int capacity = config.arpCacheCapacity();
        slotByIp = new Int2IntHashMap(capacity * 2, 0.65f, NONE);
        ips = new int[capacity];
        macs = new long[capacity];
        states = new byte[capacity];
        deadlinesNs = new long[capacity];
        requestsSent = new int[capacity];
        usedSinceConfirmed = new boolean[capacity];
        pendingHeads = new int[capacity];
        pendingTails = new int[capacity];
        pendingCounts = new int[capacity];
        freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            freeSlots[i] = capacity - 1 - i;
        }
        freeSlotCount = capacity;

        final int pendingCapacity = config.arpPendingFrames();
        pendingSlotLength = config.maxFrameLength();
        pendingFrames = new UnsafeBuffer(new byte[Math.max(1, pendingCapacity * pendingSlotLength)]);
        pendingNext = new int[pendingCapacity];
        pendingLengths = new int[pendingCapacity];
        for (int i = 0; i < pendingCapacity; i++)
        {
            pendingNext[i] = i + 1 < pendingCapacity ? i + 1 : NONE;
        }
        pendingFreeHead = pendingCapacity > 0 ? 0 : NONE;
    }

    /**
     * MAC of a resolved next hop, marking the entry as used so that it is re-confirmed before it expires.
     *
     * @param ip the next hop.
     * @return the MAC, or {@link #UNRESOLVED}.
     */
    public long lookup(final int ip)
    {
        final int slot = slotByIp.get(ip);
        if (slot == NONE || states[slot] == INCOMPLETE)
        {
            return UNRESOLVED;
        }
        usedSinceConfirmed[slot] = true;
        return macs[slot];
    }

    /**
     * Copies a frame whose next hop is unresolved into the pending queue (its destination MAC is filled in
     * when the answer comes), creating the entry and sending the first request if needed.
     *
     * @param nextHopIp   the next hop to resolve.
     * @param frame       buffer holding the frame.
     * @param frameOffset offset of the frame.
     * @param frameLength frame length, at most {@link NetConfig#maxFrameLength()}.
     * @param nowNs       the duty cycle's time.
     * @return {@link #QUEUED}, {@link #QUEUE_FULL} or {@link #CACHE_FULL} (each drop is counted).
     */
    public int enqueue(
        final int nextHopIp, final DirectBuffer frame, final int frameOffset, final int frameLength, final long nowNs)
    {
        int slot = slotByIp.get(nextHopIp);
        if (slot == NONE)
        {
            slot = allocateSlot();
            if (slot == NONE)
            {
                counters.increment(NetCounterDescriptor.ARP_CACHE_FULL);
                return CACHE_FULL;
            }
            ips[slot] = nextHopIp;
            macs[slot] = 0;
            states[slot] = INCOMPLETE;
            requestsSent[slot] = 0;
            usedSinceConfirmed[slot] = true;
            pendingHeads[slot] = NONE;
            pendingTails[slot] = NONE;
            pendingCounts[slot] = 0;
            slotByIp.put(nextHopIp, slot);
            sendRequest(slot, nowNs);
        }
        if (pendingFreeHead == NONE || pendingCounts[slot] >= config.arpPendingPerEntry())
        {
            counters.increment(NetCounterDescriptor.ARP_QUEUE_FULL);
            return QUEUE_FULL;
        }
        final int pending = pendingFreeHead;
        pendingFreeHead = pendingNext[pending];
        pendingFrames.putBytes(pending * pendingSlotLength, frame, frameOffset, frameLength);
        pendingLengths[pending] = frameLength;
        pendingNext[pending] = NONE;
        if (pendingTails[slot] == NONE)
        {
            pendingHeads[slot] = pending;
        }
        else
        {
            pendingNext[pendingTails[slot]] = pending;
        }
        pendingTails[slot] = pending;
        pendingCounts[slot]++;
        return QUEUED;
    }

    /**
     * Learns a mapping from a received ARP packet: updates an existing entry (the RFC 826 merge step), or
     * creates one when {@code create} is set (the packet was addressed to us). A new answer flushes the
     * entry's waiting frames.
     *
     * @param ip     sender protocol address.
     * @param mac    sender hardware address.
     * @param create whether to add the mapping if it is not cached.
     * @param nowNs  the duty cycle's time.
     * @return true if the address was already cached (merge flag).
     */
    public boolean learn(final int ip, final long mac, final boolean create, final long nowNs)
    {
        int slot = slotByIp.get(ip);
        final boolean merged = slot != NONE;
        if (!merged)
        {
            if (!create)
            {
                return false;
            }
            slot = allocateSlot();
            if (slot == NONE)
            {
                return false;
            }
            ips[slot] = ip;
            pendingHeads[slot] = NONE;
            pendingTails[slot] = NONE;
            pendingCounts[slot] = 0;
            slotByIp.put(ip, slot);
        }
        macs[slot] = mac;
        states[slot] = REACHABLE;
        // every confirmation starts a new period: only a use after it earns a refresh at expiry
        usedSinceConfirmed[slot] = false;
        requestsSent[slot] = 0;
        deadlinesNs[slot] = nowNs + config.arpReachableNs();
        nextDeadlineNs = Math.min(nextDeadlineNs, deadlinesNs[slot]);
        flushPending(slot, mac);
        return merged;
    }

    /**
     * Runs due timers: retries, give-ups, re-confirmation and expiry.
     *
     * @param nowNs the duty cycle's time.
     * @return number of entries acted on (0 when nothing was due).
     */
    public int doWork(final long nowNs)
    {
        if (nowNs < nextDeadlineNs)
        {
            return 0;
        }
        int work = 0;
        long next = Long.MAX_VALUE;
        for (int slot = 0; slot < states.length; slot++)
        {
            final byte state = states[slot];
            if (state == FREE)
            {
                continue;
            }
            if (deadlinesNs[slot] <= nowNs)
            {
                work++;
                if (state == REACHABLE)
                {
                    if (usedSinceConfirmed[slot])
                    {
                        states[slot] = REFRESHING;
                        requestsSent[slot] = 0;
                        sendRequest(slot, nowNs);
                    }
                    else
                    {
                        freeSlot(slot);
                        continue;
                    }
                }
                else if (requestsSent[slot] >= config.arpMaxRequests())
                {
                    freeSlot(slot);
                    continue;
                }
                else
                {
                    sendRequest(slot, nowNs);
                }
            }
            next = Math.min(next, deadlinesNs[slot]);
        }
        nextDeadlineNs = next;
        return work;
    }

    /**
     * Earliest time {@link #doWork(long)} has something to do.
     *
     * @return the deadline, or {@code Long.MAX_VALUE} when idle.
     */
    public long nextDeadlineNs()
    {
        return nextDeadlineNs;
    }

    /**
     * Number of cached entries in any state.
     *
     * @return the count.
     */
    public int size()
    {
        return slotByIp.size();
    }

    /**
     * Number of frames waiting for resolution.
     *
     * @return the count.
     */
    public int pendingFrameCount()
    {
        int count = 0;
        for (int slot = 0; slot < states.length; slot++)
        {
            if (states[slot] != FREE)
            {
                count += pendingCounts[slot];
            }
        }
        return count;
    }

    /**
     * An ARP packet received for this shard (RFC 826 packet reception): validated, its sender merged or added,
     * a request for our address answered; a dropped one counted once.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP header.
     * @param length bytes available.
     * @param nowNs  the duty cycle's time.
     */
    public void onArp(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
    {
        counters.increment(NetCounterDescriptor.ARP_RECEIVED);
        final int result = ArpHeader.validate(buffer, offset, length);
        if (result < 0)
        {
            counters.increment(result == WireError.TRUNCATED ?
                NetCounterDescriptor.ARP_TRUNCATED : NetCounterDescriptor.ARP_UNSUPPORTED);
            return;
        }
        final int senderIp = ArpHeader.senderIp(buffer, offset);
        final long senderMac = ArpHeader.senderMac(buffer, offset);
        final int targetIp = ArpHeader.targetIp(buffer, offset);
        final int localIp = config.localIp();
        if (senderIp == localIp)
        {
            counters.increment(senderMac != config.localMac() ?
                NetCounterDescriptor.ARP_ADDRESS_CONFLICT : NetCounterDescriptor.ARP_NOT_FOR_US); // our own, echoed
            return;
        }
        // RFC 826 packet reception: merge if cached, add if we are the target, answer requests for us
        final boolean usableSender = senderIp != 0 && isUnicastMac(senderMac);
        final boolean forUs = targetIp == localIp;
        final boolean merged = usableSender && learn(senderIp, senderMac, forUs, nowNs);
        if (forUs)
        {
            // a reply goes to the sender's MAC: never to a broadcast or multicast one
            if (ArpHeader.operation(buffer, offset) == ArpHeader.OPERATION_REQUEST && isUnicastMac(senderMac))
            {
                reply(senderMac, senderIp);
            }
        }
        else if (!merged)
        {
            counters.increment(NetCounterDescriptor.ARP_NOT_FOR_US);
        }
    }

    private static boolean isUnicastMac(final long mac)
    {
        return mac != 0 && (mac & 0x0100_0000_0000L) == 0; // the group bit covers broadcast too
    }

    /**
     * Sends a gratuitous ARP announcing our address (RFC 5227 §3: request with sender = target = ours).
     */
    public void announce()
    {
        sendArp(ArpHeader.OPERATION_REQUEST, Addresses.MAC_BROADCAST, 0, config.localIp());
        counters.increment(NetCounterDescriptor.ARP_REQUESTS_SENT);
    }

    /**
     * Sends an ARP reply for our address.
     *
     * @param targetMac the requester's MAC.
     * @param targetIp  the requester's address.
     */
    public void reply(final long targetMac, final int targetIp)
    {
        if (sendArp(ArpHeader.OPERATION_REPLY, targetMac, targetMac, targetIp))
        {
            counters.increment(NetCounterDescriptor.ARP_REPLIES_SENT);
        }
    }

    private void sendRequest(final int slot, final long nowNs)
    {
        requestsSent[slot]++;
        deadlinesNs[slot] = nowNs + config.arpRetryIntervalNs();
        nextDeadlineNs = Math.min(nextDeadlineNs, deadlinesNs[slot]);
        if (sendArp(ArpHeader.OPERATION_REQUEST, Addresses.MAC_BROADCAST, 0, ips[slot]))
        {
            counters.increment(NetCounterDescriptor.ARP_REQUESTS_SENT);
        }
    }

    private boolean sendArp(final int operation, final long ethernetDestination, final long targetMac, final int targetIp)
    {
        final MutableDirectBuffer frame = transmitter.claim(EthernetHeader.MIN_FRAME_LENGTH);
        if (frame == null)
        {
            counters.increment(NetCounterDescriptor.TX_NO_BUFFER);
            return false;
        }
        final int arpOffset = EthernetHeader.write(
            frame, 0, ethernetDestination, config.localMac(), EthernetHeader.ETHER_TYPE_ARP);
        final int end = arpOffset + ArpHeader.write(
            frame, arpOffset, operation, config.localMac(), config.localIp(), targetMac, targetIp);
        frame.setMemory(end, EthernetHeader.MIN_FRAME_LENGTH - end, (byte)0);
        transmitter.commit(EthernetHeader.MIN_FRAME_LENGTH);
        return true;
    }

    private void flushPending(final int slot, final long mac)
    {
        int pending = pendingHeads[slot];
        while (pending != NONE)
        {
            final int length = pendingLengths[pending];
            final MutableDirectBuffer frame = transmitter.claim(length);
            if (frame == null)
            {
                counters.increment(NetCounterDescriptor.TX_NO_BUFFER);
            }
            else
            {
                frame.putBytes(0, pendingFrames, pending * pendingSlotLength, length);
                EthernetHeader.putMac(frame, EthernetHeader.DESTINATION_OFFSET, mac);
                transmitter.commit(length);
            }
            final int next = pendingNext[pending];
            releasePending(pending);
            pending = next;
        }
        pendingHeads[slot] = NONE;
        pendingTails[slot] = NONE;
        pendingCounts[slot] = 0;
    }

    private int allocateSlot()
    {
        if (freeSlotCount > 0)
        {
            return freeSlots[--freeSlotCount];
        }
        // full: evict the resolved entry closest to expiry; never evict one that is resolving
        int victim = NONE;
        for (int slot = 0; slot < states.length; slot++)
        {
            if (states[slot] != INCOMPLETE && (victim == NONE || deadlinesNs[slot] < deadlinesNs[victim]))
            {
                victim = slot;
            }
        }
        if (victim == NONE)
        {
            return NONE;
        }
        freeSlot(victim);
        return freeSlots[--freeSlotCount];
    }

    private void freeSlot(final int slot)
    {
        int pending = pendingHeads[slot];
        while (pending != NONE)
        {
            final int next = pendingNext[pending];
            counters.increment(NetCounterDescriptor.ARP_RESOLUTION_FAILED);
            releasePending(pending);
            pending = next;
        }
        pendingHeads[slot] = NONE;
        pendingTails[slot] = NONE;
        pendingCounts[slot] = 0;
        slotByIp.remove(ips[slot]);
        states[slot] = FREE;
        freeSlots[freeSlotCount++] = slot;
    }

    private void releasePending(final int pending)
    {
        pendingNext[pending] = pendingFreeHead;
        pendingFreeHead = pending;
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder("ArpCache{");
        for (int slot = 0; slot < states.length; slot++)
        {
            if (states[slot] != FREE)
            {
                sb.append(Addresses.ipv4ToString(ips[slot])).append('=')
                    .append(states[slot] == INCOMPLETE ? "incomplete" : Addresses.macToString(macs[slot]))
                    .append(' ');
            }
        }
        return sb.append('}').toString();
    }
}
