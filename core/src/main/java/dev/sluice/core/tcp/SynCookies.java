package dev.sluice.core.tcp;

import dev.sluice.core.wire.TcpOptions;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * SYN cookies (RFC 4987 §3.6) as Linux computes them (net/ipv4/syncookies.c): when a listener's SYN backlog is
 * full, the SYN is answered with a SYN-ACK whose ISN encodes what the connection needs, and nothing is kept;
 * the ACK that completes the handshake proves the peer received it and lets the connection be created then.
 *
 * <pre>
 * ISN = H0(tuple) + SEG.SEQ + (count &lt;&lt; 24) + ((H1(tuple, count) + mssIndex) mod 2^24)
 *   H0, H1  SipHash-2-4 with two secrets of the shard (MUST-9), over remote ip, local ip, ports, count
 *   count   a coarse clock: one tick per minute; a cookie is valid in its minute and the next (Linux
 *           MAX_SYNCOOKIE_AGE 2)
 *   mssIndex  the peer's MSS rounded down to one of {@link #MSS_TABLE} (536, 1300, 1440, 1460); a guessed
 *           ACK passes only if its low 24 bits decode to one of these 4 classes: odds 2^-22 per period
 * TSval (when the SYN carries timestamps) = the timestamp clock with its low 6 bits replaced by the
 *   options, never ahead of the clock (bits 0-3 the peer's window scale, 15: none; bit 4 SACK-permitted),
 *   plus the 4-tuple's timestamp offset, as Linux adds its ts_off after encoding: the options are not
 *   readable on the wire. The completing ACK echoes it in TSecr; less the offset, the low bits decode.
 *   Without timestamps the connection runs without window scaling and SACK, as Linux does.
 * </pre>
 *
 * Single-threaded (the hash state and its message buffer are fields), no allocation per SYN or ACK.
 */
public final class SynCookies
{
    /** {@link #check}: not one of our cookies, or too old. */
    public static final int INVALID = -1;
    /** The peer offered no window scaling (encoded as 15 in the TSval's low four bits). */
    public static final int NO_WINDOW_SCALE = -1;
    /** Length of one count of the cookie clock: a minute, as Linux's {@code tcp_cookie_time()}. */
    public static final long PERIOD_NS = 60_000_000_000L;
    /** A cookie is valid for this many periods (its own and the next), as Linux's MAX_SYNCOOKIE_AGE. */
    public static final int MAX_AGE_PERIODS = 2;
    /** Linux's MSS classes ({@code msstab}). */
    static final int[] MSS_TABLE = {536, 1300, 1440, 1460};

    private static final int COOKIE_BITS = 24;
    private static final int COOKIE_MASK = (1 << COOKIE_BITS) - 1;
    private static final int TS_OPTION_BITS = 6;
    private static final int TS_WINDOW_SCALE_MASK = 0xF;
    private static final int TS_SACK = 1 << 4;
    private static final int DERIVE_TAG = 0x5359_4E43; // "SYNC": the cookie secrets are drawn from the shard's PRF

    private final TcpConfig config;
    private final IsnGenerator isnGenerator;
    private final IsnGenerator hash0;
    private final IsnGenerator hash1;
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[16]);

    /**
     * Creates the shard's cookie jar.
     *
     * @param config       the TCP settings (what our SYN-ACK offers).
     * @param isnGenerator the shard's keyed PRF: the two cookie secrets are derived from it (never computable
     *                     from outside, MUST-9), and it gives each 4-tuple's timestamp offset.
     */
    public SynCookies(final TcpConfig config, final IsnGenerator isnGenerator)
    {
        this.config = config;
        this.isnGenerator = isnGenerator;
        this.hash0 = new IsnGenerator(
            isnGenerator.hashTuple(DERIVE_TAG, 0, 0, 0), isnGenerator.hashTuple(DERIVE_TAG, 1, 0, 0));
        this.hash1 = new IsnGenerator(
            isnGenerator.hashTuple(DERIVE_TAG, 2, 0, 0), isnGenerator.hashTuple(DERIVE_TAG, 3, 0, 0));
    }

    // package-private: tests use their own key
    SynCookies(final IsnGenerator isnGenerator)
    {
        this(TcpConfig.builder().build(), isnGenerator);
    }

    /**
     * The MSS class of a peer's MSS: the largest entry of Linux's table not above it (the first entry if all are).
     *
     * @param peerMssBytes the MSS option of the SYN (536 without one, MUST-15).
     * @return 0..3.
     */
    public static int mssIndex(final int peerMssBytes)
    {
        int index = MSS_TABLE.length - 1;
        while (index > 0 && peerMssBytes < MSS_TABLE[index])
        {
            index--;
        }
        return index;
    }

    /**
     * The MSS a class stands for.
     *
     * @param mssIndex 0..3.
     * @return bytes.
     */
    public static int mssBytes(final int mssIndex)
    {
        return MSS_TABLE[mssIndex];
    }

    /**
     * The cookie ISN for a SYN.
     *
     * @param localIp    our address.
     * @param localPort  our port.
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param peerIsn    the SYN's SEG.SEQ.
     * @param mssIndex   from {@link #mssIndex}.
     * @param nowNs      the duty cycle's time.
     * @return the ISN of the SYN-ACK.
     */
    public int cookie(
        final int localIp, final int localPort, final int remoteIp, final int remotePort, final int peerIsn,
        final int mssIndex, final long nowNs)
    {
        final int count = count(nowNs);
        return hash(hash0, localIp, localPort, remoteIp, remotePort, 0) + peerIsn + (count << COOKIE_BITS) +
            ((hash(hash1, localIp, localPort, remoteIp, remotePort, count) + mssIndex) & COOKIE_MASK);
    }

    /**
     * Checks a cookie returned by the ACK that completes a handshake: SEG.ACK - 1 against SEG.SEQ - 1.
     *
     * @param cookie     SEG.ACK - 1.
     * @param localIp    our address.
     * @param localPort  our port.
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param peerIsn    SEG.SEQ - 1.
     * @param nowNs      the duty cycle's time.
     * @return the MSS class, or {@link #INVALID}.
     */
    public int check(
        final int cookie, final int localIp, final int localPort, final int remoteIp, final int remotePort,
        final int peerIsn, final long nowNs)
    {
        final int count = count(nowNs);
        final int stripped = cookie - (hash(hash0, localIp, localPort, remoteIp, remotePort, 0) + peerIsn);
        final int age = (count - (stripped >>> COOKIE_BITS)) & (0xFFFF_FFFF >>> COOKIE_BITS);
        if (age >= MAX_AGE_PERIODS)
        {
            return INVALID;
        }
        final int mssIndex = (stripped - hash(hash1, localIp, localPort, remoteIp, remotePort, count - age)) &
            COOKIE_MASK;
        return mssIndex < MSS_TABLE.length ? mssIndex : INVALID;
    }

    /**
     * Our TSval for a cookie SYN-ACK: the clock with the options in its low 6 bits, moved back one step of 64
     * if that would put it ahead of the clock (Linux's cookie_init_timestamp).
     *
     * @param tsNow           the timestamp clock now (before the 4-tuple's offset is added).
     * @param peerWindowScale the SYN's window scale shift (above 14 is used as 14), or {@link #NO_WINDOW_SCALE}.
     * @param sackPermitted   whether SACK is in effect (both offered it).
     * @return the TSval.
     */
    public static int encodeTimestamp(final int tsNow, final int peerWindowScale, final boolean sackPermitted)
    {
        int options = peerWindowScale == NO_WINDOW_SCALE ?
            TS_WINDOW_SCALE_MASK : Math.min(peerWindowScale, WindowScaling.MAX_SHIFT);
        if (sackPermitted)
        {
            options |= TS_SACK;
        }
        int tsVal = ((tsNow >>> TS_OPTION_BITS) << TS_OPTION_BITS) | options;
        if (tsVal - tsNow > 0)
        {
            tsVal -= 1 << TS_OPTION_BITS;
        }
        return tsVal;
    }

    /**
     * The peer's window scale shift carried by an echoed cookie TSval.
     *
     * @param tsEcr the completing ACK's TSecr.
     * @return 0..14, or {@link #NO_WINDOW_SCALE}.
     */
    public static int decodeWindowScale(final int tsEcr)
    {
        final int shift = tsEcr & TS_WINDOW_SCALE_MASK;
        return shift == TS_WINDOW_SCALE_MASK ? NO_WINDOW_SCALE : shift;
    }

    /**
     * Whether an echoed cookie TSval says SACK was permitted.
     *
     * @param tsEcr the completing ACK's TSecr.
     * @return true if it was.
     */
    public static boolean decodeSackPermitted(final int tsEcr)
    {
        return (tsEcr & TS_SACK) != 0;
    }

    /**
     * Answers a SYN (to a listener whose backlog is full) with a cookie SYN-ACK and keeps nothing: MSS from the
     * config, window scale and SACK-permitted only when the SYN carries timestamps (they live in the TSval);
     * text on the SYN is not kept (the peer retransmits it).
     *
     * @param syn     the SYN (no ACK, no RST).
     * @param localIp our address.
     * @param output  where the SYN-ACK goes.
     * @param options a holder to encode the options in (not kept).
     * @param nowNs   the duty cycle's time.
     */
    public void sendSynAck(
        final TcpSegment syn, final int localIp, final TcpSegmentOutput output, final TcpOptions options,
        final long nowNs)
    {
        final int localPort = syn.destinationPort();
        final int remoteIp = syn.sourceIp();
        final int remotePort = syn.sourcePort();
        final TcpOptions peer = syn.options();
        final int mssIndex = mssIndex(peer.hasMss() ? peer.mss() : TcpConnection.DEFAULT_SEND_MSS_BYTES);
        final int iss = cookie(localIp, localPort, remoteIp, remotePort, syn.seq(), mssIndex, nowNs);
        if (!(config.timestamps() && peer.hasTimestamps()))
        {
            SynAcks.send(config, output, options, localIp, localPort, remoteIp, remotePort, iss, syn.seq() + 1, false,
                false, false, 0, 0);
            return;
        }
        final boolean scaling = config.windowScaling() && peer.hasWindowScale();
        final boolean sack = config.sack() && peer.sackPermitted();
        final int tsVal = encodeTimestamp((int)(nowNs / Timestamps.TICK_NS),
            scaling ? peer.windowScale() : NO_WINDOW_SCALE, sack) +
            isnGenerator.timestampOffset(localIp, localPort, remoteIp, remotePort);
        SynAcks.send(config, output, options, localIp, localPort, remoteIp, remotePort, iss, syn.seq() + 1, scaling,
            sack, true, tsVal, peer.timestampValue());
    }

    /**
     * Checks the ACK that completes a cookie handshake (ACK set, SYN and RST clear) and restores the options of
     * the SYN it answers: the MSS class, and from the echoed TSval window scale, SACK-permitted and timestamps
     * (TS.Recent starts at this ACK's TSval).
     *
     * @param ack      the segment.
     * @param localIp  our address.
     * @param nowNs    the duty cycle's time.
     * @param restored filled with the SYN's options when the cookie is valid.
     * @return true if the cookie is ours, recent, and its options are ones we offer.
     */
    public boolean validate(final TcpSegment ack, final int localIp, final long nowNs, final TcpOptions restored)
    {
        final int mssIndex = check(ack.ack() - 1, localIp, ack.destinationPort(), ack.sourceIp(),
            ack.sourcePort(), ack.seq() - 1, nowNs);
        if (mssIndex == INVALID)
        {
            return false;
        }
        restored.clear().mss(MSS_TABLE[mssIndex]);
        final TcpOptions options = ack.options();
        if (!options.hasTimestamps())
        {
            return true; // Linux: without timestamps the connection runs without window scaling and SACK
        }
        final int tsEcr = options.timestampEchoReply() -
            isnGenerator.timestampOffset(localIp, ack.destinationPort(), ack.sourceIp(), ack.sourcePort());
        final int shift = decodeWindowScale(tsEcr);
        final boolean sack = decodeSackPermitted(tsEcr);
        if (!config.timestamps() || (sack && !config.sack()) ||
            (shift != NO_WINDOW_SCALE && !config.windowScaling()))
        {
            return false; // options we never offer: not from our SYN-ACK
        }
        restored.sackPermitted(sack).timestamps(options.timestampValue(), 0);
        if (shift != NO_WINDOW_SCALE)
        {
            restored.windowScale(shift);
        }
        return true;
    }

    private static int count(final long nowNs)
    {
        return (int)Math.floorDiv(nowNs, PERIOD_NS);
    }

    private int hash(
        final IsnGenerator secret, final int localIp, final int localPort, final int remoteIp, final int remotePort,
        final int count)
    {
        message.putInt(0, remoteIp, ByteOrder.BIG_ENDIAN);
        message.putInt(4, localIp, ByteOrder.BIG_ENDIAN);
        message.putInt(8, ((remotePort & 0xFFFF) << 16) | (localPort & 0xFFFF), ByteOrder.BIG_ENDIAN);
        message.putInt(12, count, ByteOrder.BIG_ENDIAN);
        return (int)secret.hash(message, 0, message.capacity());
    }
}
