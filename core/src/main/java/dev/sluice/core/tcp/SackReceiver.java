package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;

import dev.sluice.core.wire.TcpOptions;

/**
 * The receiver's side of selective acknowledgments: SACK-permitted negotiation (RFC 2018 §2, on our SYN when
 * {@link TcpConfig#sack()}, on a SYN-ACK only in reply), SACK blocks in ACKs (RFC 2018 §4) and D-SACK
 * (RFC 2883).
 *
 * <pre>
 * blocks     the ranges held out of order ({@link ReassemblyBuffer#rangeStart}), never below RCV.NXT
 * order      first the block holding the most recently received segment, then the most recently reported
 *            ones (RFC 2018 §4); as many as fit: 4, 3 with timestamps (the encoder drops the rest)
 * D-SACK     a duplicate segment (entirely before RCV.NXT, its part before RCV.NXT, or data already held)
 *            is reported once, as the first block (RFC 2883 §4); then the block holding it, if any
 * where      on segments without data (ACKs); a data segment does not discharge an owed ACK while blocks
 *            are to be reported (the ACK follows with them)
 * </pre>
 *
 * No allocation; single-threaded.
 */
final class SackReceiver
{
    private static final int MAX_RECENT = TcpOptions.MAX_SACK_BLOCKS;

    private final boolean offered;
    // the connection's out-of-order store, shared with ReceiveSequenceSpace, which creates it at the first
    // out-of-order segment (null until then: most connections never see one, issue 11's 1 KiB per connection)
    ReassemblyBuffer reassembly;
    private int[] recent; // a sequence number in each recently reported block; allocated at the first one
    private byte recentCount; // <= MAX_RECENT; bytes keep this object at 32 B (issue 11)
    private byte maxBlocks; // <= TcpOptions.MAX_SACK_BLOCKS
    private boolean enabled;
    private boolean dsackPending;
    private int dsackStart;
    private int dsackEnd;

    SackReceiver(final TcpConfig config)
    {
        this.offered = config.sack();
    }

    void clear()
    {
        enabled = false;
        recentCount = 0;
        dsackPending = false;
    }

    /** @return whether our SYN carries SACK-permitted. */
    boolean offered()
    {
        return offered;
    }

    /** @return whether both SYNs carried SACK-permitted (RFC 2018 §2). */
    boolean enabled()
    {
        return enabled;
    }

    /**
     * The peer's SYN: SACK is used if we offer it and the SYN carries SACK-permitted.
     *
     * @param options the SYN's options.
     */
    void onPeerSyn(final TcpOptions options)
    {
        enabled = offered && options.sackPermitted();
    }

    /**
     * A segment's text was stored out of order: its block becomes the first one reported.
     *
     * @param seq a sequence number of the new bytes.
     */
    void onOutOfOrder(final int seq)
    {
        if (!enabled)
        {
            return;
        }
        if (recent == null)
        {
            recent = new int[MAX_RECENT]; // once per connection that ever receives out of order (then reused)
        }
        final int range = rangeHolding(seq);
        int kept = 0;
        for (int i = 0; i < recentCount; i++)
        {
            final int marker = recent[i];
            if (range < 0 || rangeHolding(marker) != range)
            {
                recent[kept++] = marker; // a marker of the same block goes: the new one replaces it
            }
        }
        final int count = Math.min(kept, MAX_RECENT - 1);
        System.arraycopy(recent, 0, recent, 1, count);
        recent[0] = seq;
        recentCount = (byte)(count + 1);
    }

    /**
     * Bytes that arrived a second time (RFC 2883 §4): reported once, first, in the next ACK.
     *
     * @param start first duplicate byte.
     * @param end   after the last.
     */
    void onDuplicate(final int start, final int end)
    {
        if (enabled && lt(start, end))
        {
            dsackPending = true;
            dsackStart = start;
            dsackEnd = end;
        }
    }

    /**
     * Whether an ACK sent now has blocks to carry.
     *
     * @param rcvNxt RCV.NXT.
     * @return true if a D-SACK is pending or data is held beyond RCV.NXT.
     */
    boolean hasBlocks(final int rcvNxt)
    {
        if (!enabled)
        {
            return false;
        }
        if (dsackPending)
        {
            return true;
        }
        for (int i = 0; i < rangeCount(); i++)
        {
            if (gt(reassembly.rangeEnd(i), rcvNxt))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Adds the blocks of an ACK, most important first (the encoder keeps as many as fit), and forgets the
     * D-SACK, which is reported once.
     *
     * @param options   the holder of the segment being built.
     * @param rcvNxt    RCV.NXT, the cumulative ACK.
     * @param maxBlocks blocks that fit beside the other options.
     */
    void addBlocks(final TcpOptions options, final int rcvNxt, final int maxBlocks)
    {
        this.maxBlocks = (byte)maxBlocks;
        long added = 0; // bit i: reassembly range i is in the option (at most 64 ranges, TcpConfig)
        if (dsackPending)
        {
            options.addSackBlock(dsackStart, dsackEnd);
            dsackPending = false;
            final int holding = rangeHolding(dsackStart);
            if (holding >= 0 && gt(reassembly.rangeEnd(holding), rcvNxt))
            {
                options.addSackBlock(reassembly.rangeStart(holding), reassembly.rangeEnd(holding));
                added |= 1L << holding;
            }
        }
        int kept = 0;
        for (int i = 0; i < recentCount; i++)
        {
            final int range = rangeHolding(recent[i]);
            if (range < 0 || !gt(reassembly.rangeEnd(range), rcvNxt))
            {
                continue; // delivered or gone: forget the marker
            }
            recent[kept++] = recent[i];
            added = addRange(options, range, added);
        }
        recentCount = (byte)kept;
        for (int range = rangeCount() - 1; range >= 0 && options.sackBlockCount() < maxBlocks; range--)
        {
            if (gt(reassembly.rangeEnd(range), rcvNxt))
            {
                added = addRange(options, range, added); // held but never reported: highest first
            }
        }
    }

    private long addRange(final TcpOptions options, final int range, final long added)
    {
        if ((added & (1L << range)) != 0 || options.sackBlockCount() >= maxBlocks)
        {
            return added;
        }
        options.addSackBlock(reassembly.rangeStart(range), reassembly.rangeEnd(range));
        return added | 1L << range;
    }

    private int rangeCount()
    {
        return reassembly == null ? 0 : reassembly.rangeCount();
    }

    // index of the held range containing seq, or -1
    private int rangeHolding(final int seq)
    {
        for (int i = 0; i < rangeCount(); i++)
        {
            if (le(reassembly.rangeStart(i), seq) && lt(seq, reassembly.rangeEnd(i)))
            {
                return i;
            }
        }
        return -1;
    }
}
