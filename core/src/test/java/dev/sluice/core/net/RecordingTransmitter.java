package dev.sluice.core.net;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A {@link FrameTransmitter} that keeps a copy of every committed frame; can be told to run out of buffers. */
final class RecordingTransmitter implements FrameTransmitter
{
    final List<UnsafeBuffer> sent = new ArrayList<>();
    int buffersLeft = Integer.MAX_VALUE;
    int aborted;
    private UnsafeBuffer claimed;
    private int claimedLength;

    @Override
    public MutableDirectBuffer claim(final int maxLength)
    {
        if (claimed != null)
        {
            throw new IllegalStateException("claim while a claim is outstanding");
        }
        if (buffersLeft == 0)
        {
            return null;
        }
        buffersLeft--;
        claimedLength = maxLength;
        claimed = new UnsafeBuffer(new byte[maxLength]);
        claimed.setMemory(0, maxLength, (byte)0xEE); // garbage, as in a recycled mbuf
        return claimed;
    }

    @Override
    public void commit(final int length)
    {
        if (claimed == null || length > claimedLength)
        {
            throw new IllegalStateException("commit of " + length + " without a claim large enough");
        }
        sent.add(new UnsafeBuffer(Arrays.copyOf(claimed.byteArray(), length)));
        claimed = null;
    }

    @Override
    public void abort()
    {
        claimed = null;
        aborted++;
    }

    UnsafeBuffer last()
    {
        return sent.get(sent.size() - 1);
    }
}
