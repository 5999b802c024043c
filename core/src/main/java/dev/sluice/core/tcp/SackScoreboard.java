package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.ge;
import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;

import dev.sluice.core.wire.TcpOptions;

/**
 * The sender's SACK scoreboard (RFC 6675 §3): which bytes in flight the peer reported holding, as disjoint
 * ranges sorted by sequence number above SND.UNA, and the queries of RFC 6675 §4 over them.
 *
 * <pre>
 * Update()   each SACK block within (SND.UNA, SND.NXT] is merged in; blocks below SND.UNA or inside the
 *            second block are D-SACKs (RFC 2883 §4), counted, never merged
 * IsLost(s)  DupThresh (3) discontiguous SACKed ranges above s, or more than 2 * SMSS bytes SACKed above s
 * SetPipe()  per hole (unSACKed run) in [SND.UNA, SND.NXT): its bytes unless lost, plus its bytes below
 *            HighRxt (retransmitted in this recovery)
 * NextSeg()  rule (1): the first unSACKed, lost byte at or after HighRxt
 * </pre>
 *
 * SACKed data stays in the send buffer until cumulatively acknowledged (RFC 2018 §8: the receiver may renege).
 * At most {@value #MAX_RANGES} ranges; when full, the highest is dropped (less information, never wrong).
 * No allocation; single-threaded.
 */
final class SackScoreboard
{
    static final int MAX_RANGES = 32;
    static final int DUP_THRESH = CongestionControl.DUP_ACK_THRESHOLD;

    // allocated when the first SACK block about data in flight arrives (not for a D-SACK alone): an idle or
    // loss-free connection carries none (then reused with the TCB)
    private int[] starts;
    private int[] ends;
    private int count;
    private int highRxt;
    private boolean lastDsack;

    void clear()
    {
        count = 0;
    }

    /** @return whether this scoreboard holds its range arrays (allocated at its first SACKed range). */
    boolean hasStorage()
    {
        return starts != null;
    }

    boolean isEmpty()
    {
        return count == 0;
    }

    /**
     * Update(): merges the SACK blocks of an ACK.
     *
     * @param options the ACK's options.
     * @param segAck  the ACK's cumulative acknowledgment (SEG.ACK): a first block at or below it is a D-SACK; a
     *                reordered, older ACK's blocks below SND.UNA are not.
     * @param sndUna  SND.UNA after the cumulative ACK.
     * @param sndNxt  SND.NXT.
     * @return bytes SACKed for the first time by this ACK; {@link #lastWasDsack()} tells about D-SACK.
     */
    int update(final TcpOptions options, final int segAck, final int sndUna, final int sndNxt)
    {
        onCumulativeAck(sndUna);
        final long before = sackedBytes();
        boolean dsack = false;
        for (int i = 0; i < options.sackBlockCount(); i++)
        {
            final int left = options.sackLeftEdge(i);
            final int right = options.sackRightEdge(i);
            if (i == 0 && (le(right, segAck) || (options.sackBlockCount() > 1 &&
                le(options.sackLeftEdge(1), left) && le(right, options.sackRightEdge(1)))))
            {
                dsack = true; // RFC 2883 §4: below the cumulative ACK or within the second block
                continue;
            }
            if (!lt(left, right) || le(right, sndUna) || gt(right, sndNxt) || lt(left, sndUna - 0x4000_0000))
            {
                continue; // not about data in flight
            }
            add(gt(left, sndUna) ? left : sndUna, right);
        }
        lastDsack = dsack;
        return (int)(sackedBytes() - before);
    }

    /** @return whether the last {@link #update} carried a D-SACK block (RFC 2883). */
    boolean lastWasDsack()
    {
        return lastDsack;
    }

    /** @return bytes SACKed in flight. */
    long sackedBytes()
    {
        long bytes = 0;
        for (int i = 0; i < count; i++)
        {
            bytes += ends[i] - starts[i];
        }
        return bytes;
    }

    /**
     * Forgets what SND.UNA now covers.
     *
     * @param sndUna SND.UNA.
     */
    void onCumulativeAck(final int sndUna)
    {
        if (lt(highRxt, sndUna))
        {
            highRxt = sndUna;
        }
        if (count == 0)
        {
            return;
        }
        int drop = 0;
        while (drop < count && le(ends[drop], sndUna))
        {
            drop++;
        }
        if (drop > 0)
        {
            System.arraycopy(starts, drop, starts, 0, count - drop);
            System.arraycopy(ends, drop, ends, 0, count - drop);
            count -= drop;
        }
        if (count > 0 && lt(starts[0], sndUna))
        {
            starts[0] = sndUna;
        }
    }

    private void add(final int left, final int right)
    {
        if (starts == null)
        {
            // the first range this TCB ever holds: a D-SACK alone (a spurious retransmission, say a TLP probe
            // of a segment that arrived) stores nothing, so it allocates nothing
            starts = new int[MAX_RANGES];
            ends = new int[MAX_RANGES];
        }
        int first = 0;
        while (first < count && lt(ends[first], left))
        {
            first++;
        }
        int afterLast = first;
        while (afterLast < count && le(starts[afterLast], right))
        {
            afterLast++;
        }
        final int merged = afterLast - first;
        final int newStart = merged > 0 && lt(starts[first], left) ? starts[first] : left;
        final int newEnd = merged > 0 && gt(ends[afterLast - 1], right) ? ends[afterLast - 1] : right;
        if (merged == 0)
        {
            if (count == MAX_RANGES)
            {
                if (first == MAX_RANGES)
                {
                    return; // above every range and no room: dropped
                }
                count--; // the highest range goes
            }
            System.arraycopy(starts, first, starts, first + 1, count - first);
            System.arraycopy(ends, first, ends, first + 1, count - first);
            count++;
        }
        else if (merged > 1)
        {
            System.arraycopy(starts, afterLast, starts, first + 1, count - afterLast);
            System.arraycopy(ends, afterLast, ends, first + 1, count - afterLast);
            count -= merged - 1;
        }
        starts[first] = newStart;
        ends[first] = newEnd;
    }

    /**
     * Whether a byte was SACKed.
     *
     * @param seq the sequence number.
     * @return true if inside a SACKed range.
     */
    boolean isSacked(final int seq)
    {
        for (int i = 0; i < count; i++)
        {
            if (le(starts[i], seq) && lt(seq, ends[i]))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * End of the unSACKed run at {@code seq}: the start of the next SACKed range, or {@code limit}.
     *
     * @param seq   an unSACKed sequence number.
     * @param limit SND.NXT.
     * @return sequence number.
     */
    int holeEnd(final int seq, final int limit)
    {
        for (int i = 0; i < count; i++)
        {
            if (gt(starts[i], seq))
            {
                return lt(starts[i], limit) ? starts[i] : limit;
            }
        }
        return limit;
    }

    /**
     * The first unSACKed sequence number at or after {@code seq}.
     *
     * @param seq a sequence number.
     * @return seq, or the end of the SACKed range holding it.
     */
    int skipSacked(final int seq)
    {
        int s = seq;
        for (int i = 0; i < count; i++)
        {
            if (le(starts[i], s) && lt(s, ends[i]))
            {
                s = ends[i];
            }
        }
        return s;
    }

    /**
     * IsLost(SeqNum) (RFC 6675 §4).
     *
     * @param seq  the sequence number.
     * @param smss the sender MSS.
     * @return true if the peer reported enough data above it for it to count as lost.
     */
    boolean isLost(final int seq, final int smss)
    {
        int ranges = 0;
        long bytes = 0;
        for (int i = count - 1; i >= 0 && gt(ends[i], seq); i--)
        {
            ranges++;
            bytes += ends[i] - (gt(starts[i], seq) ? starts[i] : seq + 1);
            if (ranges >= DUP_THRESH || bytes > (long)(DUP_THRESH - 1) * smss)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * SetPipe() (RFC 6675 §4): the bytes believed to be in the network.
     *
     * @param sndUna SND.UNA (HighACK).
     * @param sndNxt SND.NXT (HighData).
     * @param smss   the sender MSS.
     * @return pipe in bytes.
     */
    int pipe(final int sndUna, final int sndNxt, final int smss)
    {
        long pipe = 0;
        int holeStart = sndUna;
        for (int i = 0; i <= count; i++)
        {
            final int holeEnd = i < count && lt(starts[i], sndNxt) ? starts[i] : sndNxt;
            if (lt(holeStart, holeEnd))
            {
                final int length = holeEnd - holeStart;
                final int retransmitted = le(highRxt, holeStart) ? 0 :
                    (lt(highRxt, holeEnd) ? highRxt - holeStart : length);
                pipe += (isLost(holeStart, smss) ? 0 : length) + retransmitted;
            }
            if (i == count || !lt(ends[i], sndNxt))
            {
                break;
            }
            holeStart = ends[i];
        }
        return (int)Math.min(Integer.MAX_VALUE, pipe);
    }

    /**
     * NextSeg() rule (1) (RFC 6675 §4): the first unSACKed byte at or after HighRxt that is lost.
     *
     * @param sndUna SND.UNA.
     * @param sndNxt SND.NXT.
     * @param smss   the sender MSS.
     * @return its sequence number, or {@code sndNxt} when there is none.
     */
    int nextLost(final int sndUna, final int sndNxt, final int smss)
    {
        final int from = skipSacked(ge(highRxt, sndUna) ? highRxt : sndUna);
        return lt(from, sndNxt) && isLost(from, smss) ? from : sndNxt;
    }

    /** @return HighRxt: the highest sequence number retransmitted in this recovery. */
    int highRxt()
    {
        return highRxt;
    }

    /**
     * A retransmission up to {@code end} left.
     *
     * @param end sequence number after it.
     */
    void onRetransmitted(final int end)
    {
        if (gt(end, highRxt))
        {
            highRxt = end;
        }
    }

    /**
     * Loss recovery starts: HighRxt = HighACK.
     *
     * @param sndUna SND.UNA.
     */
    void startRecovery(final int sndUna)
    {
        highRxt = sndUna;
    }

    /** @return ranges held (tests). */
    int rangeCount()
    {
        return count;
    }

    /**
     * @param index 0..rangeCount - 1.
     * @return the range's first sequence number.
     */
    int rangeStart(final int index)
    {
        return starts[index];
    }

    /**
     * @param index 0..rangeCount - 1.
     * @return sequence number after the range.
     */
    int rangeEnd(final int index)
    {
        return ends[index];
    }
}
