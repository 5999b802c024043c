package dev.sluice.core.tcp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TcpStateTest
{
    @Test
    void shouldHaveTheElevenStatesOfRfc9293()
    {
        assertEquals(11, TcpState.values().length);
        assertEquals("SYN-RECEIVED", TcpState.SYN_RECEIVED.rfcName());
        assertEquals("TIME-WAIT", TcpState.TIME_WAIT.rfcName());
    }

    @Test
    void shouldCallEstablishedAndLaterStatesSynchronized_RFC9293s3_10_7_4()
    {
        assertFalse(TcpState.CLOSED.isSynchronized());
        assertFalse(TcpState.LISTEN.isSynchronized());
        assertFalse(TcpState.SYN_SENT.isSynchronized());
        assertFalse(TcpState.SYN_RECEIVED.isSynchronized());
        for (final TcpState state : new TcpState[]{
            TcpState.ESTABLISHED, TcpState.FIN_WAIT_1, TcpState.FIN_WAIT_2, TcpState.CLOSE_WAIT, TcpState.CLOSING,
            TcpState.LAST_ACK, TcpState.TIME_WAIT})
        {
            assertTrue(state.isSynchronized(), state.rfcName());
        }
    }
}
