package dev.sluice.core.net;

import java.util.SplittableRandom;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A shard's device boundary with {@link LinkImpairment}s applied in both directions, like {@code tc netem}
 * on both sides of the wire: received frames pass {@link #onFrame} before the network layer, transmitted
 * frames pass {@link #transmitter()} before the device. Delayed frames are copied into a bounded queue and
 * released by {@link #doWork} once due; a frame that finds the queue full is dropped and counted.
 *
 * <p>Set-up: build the link over the device transmitter, give {@link #transmitter()} to the
 * {@link NetworkLayer}, then {@link #bind} the layer. Per duty cycle: {@link #nowNs}, frames through
 * {@link #onFrame}, {@link #doWork}. Single-threaded; preallocated; no allocation per frame.
 */
public final class ImpairedLink implements FrameReceiver
{
    /** Largest frame that can be held in a delay queue (MTU 1500 frames with a VLAN tag fit). */
    public static final int MAX_FRAME_LENGTH = 2048;

    private final FrameTransmitter device;
    private final Direction rx;
    private final Direction tx;
    private final Transmitter transmitter = new Transmitter();
    private final DeviceSink deviceSink = new DeviceSink();
    private FrameReceiver network;
    private long nowNs;

    /**
     * @param receive     impairment of frames from the device to the stack.
     * @param transmit    impairment of frames from the stack to the device.
     * @param queueFrames capacity of each direction's delay queue, &gt;= 1.
     * @param device      the real transmitter.
     */
    public ImpairedLink(
        final LinkImpairment receive, final LinkImpairment transmit, final int queueFrames,
        final FrameTransmitter device)
    {
        if (queueFrames < 1)
        {
            throw new IllegalArgumentException("queueFrames must be >= 1, got " + queueFrames);
        }
        this.device = device;
        this.rx = new Direction(receive, queueFrames, receive.seed());
        this.tx = new Direction(transmit, queueFrames, transmit.seed() * 0x9E37_79B9_7F4A_7C15L + 1);
    }

    /**
     * Where received frames go after impairment.
     *
     * @param network the shard's network layer.
     */
    public void bind(final FrameReceiver network)
    {
        this.network = network;
    }

    /**
     * The transmitter to give the network layer: frames committed to it are impaired, then sent.
     *
     * @return the transmitter.
     */
    public FrameTransmitter transmitter()
    {
        return transmitter;
    }

    /**
     * The duty cycle's time, for frames committed to {@link #transmitter()}.
     *
     * @param nowNs the time.
     */
    public void nowNs(final long nowNs)
    {
        this.nowNs = nowNs;
    }

    @Override
    public void onFrame(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
    {
        rx.process(buffer, offset, length, nowNs, network);
    }

    /**
     * Releases delayed frames that are due, in both directions.
     *
     * @param nowNs the duty cycle's time.
     * @return frames released.
     */
    public int doWork(final long nowNs)
    {
        this.nowNs = nowNs;
        return rx.release(nowNs, network) + tx.release(nowNs, deviceSink);
    }

    /**
     * Counters of the receive direction.
     *
     * @return the direction.
     */
    public Direction receive()
    {
        return rx;
    }

    /**
     * Counters of the transmit direction.
     *
     * @return the direction.
     */
    public Direction transmit()
    {
        return tx;
    }

    private final class Transmitter implements FrameTransmitter
    {
        private final UnsafeBuffer staging = new UnsafeBuffer(new byte[MAX_FRAME_LENGTH]);
        private boolean direct;

        @Override
        public MutableDirectBuffer claim(final int maxLength)
        {
            if (maxLength > MAX_FRAME_LENGTH)
            {
                direct = true; // too big to hold: passes unimpaired
                return device.claim(maxLength);
            }
            direct = false;
            return staging;
        }

        @Override
        public void commit(final int length)
        {
            if (direct)
            {
                device.commit(length);
            }
            else
            {
                tx.process(staging, 0, length, nowNs, deviceSink);
            }
        }

        @Override
        public void abort()
        {
            if (direct)
            {
                device.abort();
            }
        }
    }

    private final class DeviceSink implements FrameReceiver
    {
        @Override
        public void onFrame(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
        {
            final MutableDirectBuffer frame = device.claim(length);
            if (frame == null)
            {
                tx.deviceDrops++;
                return;
            }
            frame.putBytes(0, buffer, offset, length);
            device.commit(length);
        }
    }

    /**
     * One direction: its impairment, delay queue (a binary heap on release time, FIFO among equal times)
     * and counters.
     */
    public static final class Direction
    {
        private final LinkImpairment impairment;
        private final SplittableRandom random;
        private final UnsafeBuffer[] frames;
        private final int[] lengths;
        private final long[] dueNs;
        private final long[] order;
        private final int[] heap;
        private final int[] freeSlots;
        private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[MAX_FRAME_LENGTH]);
        private int heapSize;
        private int freeCount;
        private long sequence;
        long framesIn;
        long dropped;
        long duplicated;
        long corrupted;
        long delayed;
        long reordered;
        long queueFullDrops;
        long deviceDrops;

        Direction(final LinkImpairment impairment, final int capacity, final long seed)
        {
            this.impairment = impairment;
            this.random = new SplittableRandom(seed);
            final int slots = impairment.delayNs() > 0 ? capacity : 0;
            this.frames = new UnsafeBuffer[slots];
            this.lengths = new int[slots];
            this.dueNs = new long[slots];
            this.order = new long[slots];
            this.heap = new int[slots];
            this.freeSlots = new int[slots];
            for (int i = 0; i < slots; i++)
            {
                frames[i] = new UnsafeBuffer(new byte[MAX_FRAME_LENGTH]);
                freeSlots[i] = i;
            }
            freeCount = slots;
        }

        void process(
            final DirectBuffer buffer, final int offset, final int length, final long nowNs,
            final FrameReceiver sink)
        {
            framesIn++;
            if (!impairment.isActive())
            {
                sink.onFrame(buffer, offset, length, nowNs);
                return;
            }
            if (impairment.lossRate() > 0 && random.nextDouble() < impairment.lossRate())
            {
                dropped++;
                return;
            }
            int copies = 1;
            if (impairment.duplicateRate() > 0 && random.nextDouble() < impairment.duplicateRate())
            {
                duplicated++;
                copies = 2;
            }
            for (int c = 0; c < copies; c++)
            {
                final boolean corrupt = impairment.corruptRate() > 0 && length > 0
                    && random.nextDouble() < impairment.corruptRate();
                final long delayNs = delayOf();
                if (delayNs == 0 && !corrupt)
                {
                    sink.onFrame(buffer, offset, length, nowNs);
                }
                else if (delayNs == 0)
                {
                    scratch.putBytes(0, buffer, offset, length);
                    flipBit(scratch, length);
                    sink.onFrame(scratch, 0, length, nowNs);
                }
                else
                {
                    enqueue(buffer, offset, length, corrupt, nowNs + delayNs);
                }
            }
        }

        int release(final long nowNs, final FrameReceiver sink)
        {
            int released = 0;
            while (heapSize > 0 && nowNs - dueNs[heap[0]] >= 0)
            {
                final int slot = pop();
                sink.onFrame(frames[slot], 0, lengths[slot], nowNs);
                freeSlots[freeCount++] = slot;
                released++;
            }
            return released;
        }

        private long delayOf()
        {
            final long delay = impairment.delayNs();
            if (delay == 0)
            {
                return 0;
            }
            if (impairment.reorderRate() > 0 && random.nextDouble() < impairment.reorderRate())
            {
                reordered++; // netem: this frame goes at once, ahead of the delayed ones
                return 0;
            }
            final long jitter = impairment.jitterNs();
            return jitter == 0 ? delay : delay - jitter + random.nextLong(2 * jitter + 1);
        }

        private void flipBit(final UnsafeBuffer frame, final int length)
        {
            final int bit = random.nextInt(length * 8);
            final int index = bit >>> 3;
            frame.putByte(index, (byte)(frame.getByte(index) ^ (1 << (bit & 7))));
            corrupted++;
        }

        private void enqueue(
            final DirectBuffer buffer, final int offset, final int length, final boolean corrupt, final long due)
        {
            if (freeCount == 0 || length > MAX_FRAME_LENGTH)
            {
                queueFullDrops++;
                return;
            }
            final int slot = freeSlots[--freeCount];
            frames[slot].putBytes(0, buffer, offset, length);
            if (corrupt)
            {
                flipBit(frames[slot], length);
            }
            lengths[slot] = length;
            dueNs[slot] = due;
            order[slot] = sequence++;
            delayed++;
            int i = heapSize++;
            heap[i] = slot;
            while (i > 0)
            {
                final int parent = (i - 1) >>> 1;
                if (!before(heap[i], heap[parent]))
                {
                    break;
                }
                swap(i, parent);
                i = parent;
            }
        }

        private int pop()
        {
            final int top = heap[0];
            heap[0] = heap[--heapSize];
            int i = 0;
            while (true)
            {
                final int left = 2 * i + 1;
                if (left >= heapSize)
                {
                    break;
                }
                final int right = left + 1;
                final int child = right < heapSize && before(heap[right], heap[left]) ? right : left;
                if (!before(heap[child], heap[i]))
                {
                    break;
                }
                swap(i, child);
                i = child;
            }
            return top;
        }

        private boolean before(final int a, final int b)
        {
            final long diff = dueNs[a] - dueNs[b];
            return diff < 0 || (diff == 0 && order[a] < order[b]);
        }

        private void swap(final int i, final int j)
        {
            final int t = heap[i];
            heap[i] = heap[j];
            heap[j] = t;
        }

        /** @return frames that entered this direction. */
        public long frames()
        {
            return framesIn;
        }

        /** @return frames dropped by the loss rate. */
        public long dropped()
        {
            return dropped;
        }

        /** @return frames delivered twice. */
        public long duplicated()
        {
            return duplicated;
        }

        /** @return copies with a flipped bit. */
        public long corrupted()
        {
            return corrupted;
        }

        /** @return copies held in the delay queue. */
        public long delayed()
        {
            return delayed;
        }

        /** @return copies sent ahead of the delayed ones. */
        public long reordered()
        {
            return reordered;
        }

        /** @return copies dropped because the delay queue was full. */
        public long queueFullDrops()
        {
            return queueFullDrops;
        }

        /** @return copies the device transmitter had no buffer for. */
        public long deviceDrops()
        {
            return deviceDrops;
        }

        /** @return copies waiting in the delay queue. */
        public int queued()
        {
            return heapSize;
        }
    }
}
