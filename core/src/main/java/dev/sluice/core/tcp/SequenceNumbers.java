package dev.sluice.core.tcp;

/**
 * Modular (wrapping) arithmetic on 32-bit TCP sequence numbers (RFC 9293 §3.4, RFC 1982 style).
 *
 * <p>Sequence numbers are carried as raw {@code int}s. Never compare them with {@code <} or {@code >}:
 * {@code 0x00000001} comes <em>after</em> {@code 0xFFFFFFFF}. Two numbers are ordered by the sign of their
 * 32-bit difference, which is meaningful when they are less than 2<sup>31</sup> apart; every window TCP
 * uses (at most 2<sup>30</sup> with window scaling) is well inside that.
 *
 * <p>Range tests ({@link #inWindow}, {@link #inRange}) use unsigned offsets from the left edge instead,
 * so they are exact for any window length up to 2<sup>32</sup> - 1.
 */
public final class SequenceNumbers
{
    private SequenceNumbers()
    {
    }

    /**
     * {@code a < b} in sequence space.
     *
     * @param a sequence number.
     * @param b sequence number.
     * @return true when {@code a} comes before {@code b}.
     */
    public static boolean lt(final int a, final int b)
    {
        return a - b < 0;
    }

    /**
     * {@code a =< b} in sequence space.
     *
     * @param a sequence number.
     * @param b sequence number.
     * @return true when {@code a} comes before or equals {@code b}.
     */
    public static boolean le(final int a, final int b)
    {
        return a - b <= 0;
    }

    /**
     * {@code a > b} in sequence space.
     *
     * @param a sequence number.
     * @param b sequence number.
     * @return true when {@code a} comes after {@code b}.
     */
    public static boolean gt(final int a, final int b)
    {
        return a - b > 0;
    }

    /**
     * {@code a >= b} in sequence space.
     *
     * @param a sequence number.
     * @param b sequence number.
     * @return true when {@code a} comes after or equals {@code b}.
     */
    public static boolean ge(final int a, final int b)
    {
        return a - b >= 0;
    }

    /**
     * Signed distance from {@code b} to {@code a}: {@code a - b} in sequence space.
     *
     * @param a sequence number.
     * @param b sequence number.
     * @return the wrapped difference, negative when {@code a} comes before {@code b}.
     */
    public static int diff(final int a, final int b)
    {
        return a - b;
    }

    /**
     * The later of two sequence numbers.
     *
     * @param a sequence number.
     * @param b sequence number.
     * @return {@code a} if {@code a >= b} in sequence space, else {@code b}.
     */
    public static int max(final int a, final int b)
    {
        return a - b >= 0 ? a : b;
    }

    /**
     * The earlier of two sequence numbers.
     *
     * @param a sequence number.
     * @param b sequence number.
     * @return {@code a} if {@code a =< b} in sequence space, else {@code b}.
     */
    public static int min(final int a, final int b)
    {
        return a - b <= 0 ? a : b;
    }

    /**
     * Whether {@code seq} lies in the window {@code left =< seq < left + length}, the test of RFC 9293
     * Table 6 ({@code RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND}). A zero-length window contains nothing.
     *
     * @param seq    sequence number tested.
     * @param left   left edge of the window (e.g. RCV.NXT).
     * @param length window length in bytes, treated as unsigned.
     * @return true when inside.
     */
    public static boolean inWindow(final int seq, final int left, final int length)
    {
        return Integer.compareUnsigned(seq - left, length) < 0;
    }

    /**
     * Whether {@code low =< seq < high}, measured from {@code low} (half-open range).
     *
     * @param seq  sequence number tested.
     * @param low  first sequence number of the range.
     * @param high sequence number after the last one of the range.
     * @return true when inside.
     */
    public static boolean inRange(final int seq, final int low, final int high)
    {
        return Integer.compareUnsigned(seq - low, high - low) < 0;
    }

    /**
     * Whether {@code low =< seq =< high}, measured from {@code low} (closed range), as in the acceptable
     * ACK test {@code SND.UNA =< SEG.ACK =< SND.NXT}.
     *
     * @param seq  sequence number tested.
     * @param low  first sequence number of the range.
     * @param high last sequence number of the range.
     * @return true when inside.
     */
    public static boolean between(final int seq, final int low, final int high)
    {
        return Integer.compareUnsigned(seq - low, high - low) <= 0;
    }
}
