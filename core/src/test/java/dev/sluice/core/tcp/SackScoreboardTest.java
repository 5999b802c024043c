package dev.sluice.core.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.wire.TcpOptions;
import org.junit.jupiter.api.Test;

/** The sender's scoreboard (RFC 6675 §3) and its storage, created only when a range must be kept. */
class SackScoreboardTest
{
    private static final int UNA = 10_000;
    private static final int NXT = UNA + 10 * 1460;

    @Test
    void aDsackAloneIsCountedAndAllocatesNoRanges_Rfc2883Section4()
    {
        final SackScoreboard board = new SackScoreboard();
        // a spurious retransmission of [UNA - 1460, UNA): the first block lies below the cumulative ACK
        final TcpOptions dsack = new TcpOptions().addSackBlock(UNA - 1460, UNA);

        assertEquals(0, board.update(dsack, UNA, UNA, NXT));

        assertTrue(board.lastWasDsack());
        assertTrue(board.isEmpty());
        assertFalse(board.hasStorage(), "a D-SACK alone stores no range, so it allocates none");
    }

    @Test
    void aBlockAboutDataInFlightIsKept_Rfc6675Section3()
    {
        final SackScoreboard board = new SackScoreboard();
        final TcpOptions sack = new TcpOptions().addSackBlock(UNA + 1460, UNA + 2920);

        assertEquals(1460, board.update(sack, UNA, UNA, NXT));

        assertFalse(board.lastWasDsack());
        assertTrue(board.hasStorage());
        assertEquals(1460, board.sackedBytes());
    }

    @Test
    void aDsackBesideANewBlockKeepsOnlyTheNewBlock_Rfc2883Section4()
    {
        final SackScoreboard board = new SackScoreboard();
        final TcpOptions both = new TcpOptions().addSackBlock(UNA - 1460, UNA).addSackBlock(UNA + 2920, UNA + 4380);

        assertEquals(1460, board.update(both, UNA, UNA, NXT));

        assertTrue(board.lastWasDsack());
        assertEquals(1460, board.sackedBytes());
    }
}
