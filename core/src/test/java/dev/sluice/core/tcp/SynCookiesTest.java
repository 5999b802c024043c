package dev.sluice.core.tcp;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SYN cookies of RFC 4987 §3.6 in Linux's encoding (net/ipv4/syncookies.c): the cookie ISN, its time window,
 * the MSS class, and the options carried in the low bits of TSval.
 */
class SynCookiesTest
{
    private static final int LOCAL_IP = 0x0A00_0001;
    private static final int REMOTE_IP = 0x0A00_0002;
    private static final int LOCAL_PORT = 7;
    private static final int REMOTE_PORT = 40_001;
    private static final int PEER_ISN = 0x1234_5678;
    private static final long MINUTE_NS = 60_000_000_000L;
    private static final long T0 = 5 * MINUTE_NS + 17_000_000_000L;

    private final SynCookies cookies = new SynCookies(new IsnGenerator(0x1234_5678_9ABC_DEF0L, 0x0FED_CBA9_8765_4321L));

    private int cookie(final int mssIndex, final long nowNs)
    {
        return cookies.cookie(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, PEER_ISN, mssIndex, nowNs);
    }

    private int check(final int cookie, final long nowNs)
    {
        return cookies.check(cookie, LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, PEER_ISN, nowNs);
    }

    @Nested
    class CookieIsn
    {
        @Test
        void shouldRecoverTheMssClassFromItsOwnCookie_RFC4987_3_6()
        {
            for (int index = 0; index < SynCookies.MSS_TABLE.length; index++)
            {
                assertEquals(index, check(cookie(index, T0), T0 + 1_000_000_000L));
            }
        }

        @Test
        void shouldEncodeMssInLinuxsFourClasses_RFC4987_3_6()
        {
            assertEquals(1460, SynCookies.MSS_TABLE[SynCookies.mssIndex(1460)]);
            assertEquals(1460, SynCookies.MSS_TABLE[SynCookies.mssIndex(8960)]);
            assertEquals(1440, SynCookies.MSS_TABLE[SynCookies.mssIndex(1459)]);
            assertEquals(1440, SynCookies.MSS_TABLE[SynCookies.mssIndex(1452)]);
            assertEquals(1300, SynCookies.MSS_TABLE[SynCookies.mssIndex(1400)]);
            assertEquals(536, SynCookies.MSS_TABLE[SynCookies.mssIndex(1299)]);
            assertEquals(536, SynCookies.MSS_TABLE[SynCookies.mssIndex(536)]);
            assertEquals(536, SynCookies.MSS_TABLE[SynCookies.mssIndex(100)], "below the table: its first entry");
        }

        @Test
        void shouldAcceptACookieOfThePreviousPeriodButNotOlder_RFC4987_3_6()
        {
            final int sent = cookie(3, T0);
            assertEquals(3, check(sent, T0 + MINUTE_NS - 1));
            assertEquals(3, check(sent, T0 + MINUTE_NS + 1), "the next period: valid (Linux MAX_SYNCOOKIE_AGE 2)");
            assertEquals(SynCookies.INVALID, check(sent, T0 + 2 * MINUTE_NS + 1), "two periods later");
            assertEquals(SynCookies.INVALID, check(sent, T0 - MINUTE_NS), "from the future");
        }

        @Test
        void shouldRejectTheCookieForAnyOtherTupleOrPeerIsn_RFC4987_3_6()
        {
            // class 0: one less in the low bits would need class -1 (SEG.SEQ enters the cookie additively)
            final int sent = cookie(0, T0);
            assertEquals(SynCookies.INVALID,
                cookies.check(sent, LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT + 1, PEER_ISN, T0));
            assertEquals(SynCookies.INVALID,
                cookies.check(sent, LOCAL_IP, LOCAL_PORT, REMOTE_IP + 1, REMOTE_PORT, PEER_ISN, T0));
            assertEquals(SynCookies.INVALID,
                cookies.check(sent, LOCAL_IP, LOCAL_PORT + 1, REMOTE_IP, REMOTE_PORT, PEER_ISN, T0));
            assertEquals(SynCookies.INVALID,
                cookies.check(sent, LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, PEER_ISN + 1, T0));
            assertEquals(SynCookies.INVALID, check(sent - 1, T0));
            assertEquals(SynCookies.INVALID, check(sent + (1 << 24), T0), "another count");
        }

        @Test
        void shouldNotBeComputableWithoutTheSecret_RFC4987_3_6_MUST9()
        {
            final SynCookies other = new SynCookies(new IsnGenerator(1, 2));
            final int sent = cookie(1, T0);
            assertNotEquals(sent, other.cookie(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, PEER_ISN, 1, T0));
            assertEquals(SynCookies.INVALID,
                other.check(sent, LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, PEER_ISN, T0));
        }

        @Test
        void shouldRejectGuessedCookiesAtAboutTheHashsOdds_RFC4987_3_6()
        {
            // a blind guess passes when its low 24 bits land on one of 4 MSS classes of one of 2 periods: 2^-21
            final SplittableRandom random = new SplittableRandom(4987);
            int accepted = 0;
            for (int i = 0; i < 200_000; i++)
            {
                if (check(random.nextInt(), T0) != SynCookies.INVALID)
                {
                    accepted++;
                }
            }
            assertTrue(accepted <= 2, "accepted " + accepted + " of 200,000 guesses");
        }

        @Test
        void shouldVaryWithThePeersIsnLikeAnIsn_RFC4987_3_6()
        {
            // cookie = H0 + SEG.SEQ + ...: consecutive SYNs of a tuple get different ISNs
            assertEquals(cookie(0, T0) + 1,
                cookies.cookie(LOCAL_IP, LOCAL_PORT, REMOTE_IP, REMOTE_PORT, PEER_ISN + 1, 0, T0));
        }
    }

    @Nested
    class TimestampOptions
    {
        @Test
        void shouldCarryWindowScaleAndSackInTheLowBitsOfTsval_RFC4987_3_6()
        {
            for (int shift = 0; shift <= 14; shift++)
            {
                for (final boolean sack : new boolean[] {false, true})
                {
                    final int tsNow = 0x7654_3210 + shift * 977;
                    final int tsVal = SynCookies.encodeTimestamp(tsNow, shift, sack);
                    assertEquals(shift, SynCookies.decodeWindowScale(tsVal));
                    assertEquals(sack, SynCookies.decodeSackPermitted(tsVal));
                    assertTrue(tsNow - tsVal >= 0 && tsNow - tsVal < 64, "TSval never ahead of the clock: " +
                        Integer.toHexString(tsVal) + " vs " + Integer.toHexString(tsNow));
                }
            }
        }

        @Test
        void shouldMarkNoWindowScaleWithAllFourBits_RFC4987_3_6()
        {
            final int tsVal = SynCookies.encodeTimestamp(123_456_789, SynCookies.NO_WINDOW_SCALE, false);
            assertEquals(0xF, tsVal & 0xF);
            assertEquals(SynCookies.NO_WINDOW_SCALE, SynCookies.decodeWindowScale(tsVal));
            assertFalse(SynCookies.decodeSackPermitted(tsVal));
        }

        @Test
        void shouldStayBehindTheClockAcrossWrap_RFC4987_3_6()
        {
            final int tsNow = 0x0000_0005; // just after a wrap: the encoded value is 2^32 - 64 + options
            final int tsVal = SynCookies.encodeTimestamp(tsNow, 7, true);
            assertEquals(7, SynCookies.decodeWindowScale(tsVal));
            assertTrue(tsNow - tsVal > 0 && tsNow - tsVal < 64);
        }
    }
}
