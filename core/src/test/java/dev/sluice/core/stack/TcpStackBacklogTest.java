package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * The listen backlog (issue 4): a listener holds at most {@code backlog} connections in SYN-RECEIVED; with SYN
 * cookies off, SYNs beyond it are dropped and counted, and the peer's retransmitted SYN is accepted once there is
 * room (Linux with tcp_syncookies=0; the cookies are TcpStackSynCookieTest's).
 */
class TcpStackBacklogTest
{
    private static final int PORT = 7;
    private static final int CLIENT_PORT = 40_000;

    private final StackPair pair = new StackPair(TcpConfig.builder().build(), 8, 8);
    private final Endpoint server = new Endpoint();
    private final List<UnsafeBuffer> synAcksLost = new ArrayList<>();
    private final List<UnsafeBuffer> synsSeen = new ArrayList<>();
    private boolean loseSynAcks;

    TcpStackBacklogTest()
    {
        pair.tap = this::tap;
    }

    private boolean tap(final StackPair.Shard from, final DirectBuffer frame, final int length)
    {
        if (!StackPair.isTcp(frame))
        {
            return true;
        }
        final int flags = StackPair.tcpFlags(frame);
        if (from == pair.b && flags == TcpHeader.SYN)
        {
            synsSeen.add(StackPair.copy(frame, length));
        }
        if (from == pair.a && loseSynAcks && flags == (TcpHeader.SYN | TcpHeader.ACK))
        {
            synAcksLost.add(StackPair.copy(frame, length));
            return false;
        }
        return true;
    }

    @Test
    void shouldDropSynsBeyondTheBacklogAndAcceptTheRetransmittedSynOnceThereIsRoom()
    {
        pair.a.stack.synCookies(false); // Linux's tcp_syncookies=0
        pair.a.stack.listen(PORT, server, 2);
        loseSynAcks = true;
        final TcpConnection[] clients = new TcpConnection[3];
        for (int i = 0; i < clients.length; i++)
        {
            clients[i] = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + i, new Endpoint(), pair.nowNs);
        }
        pair.steps(10);

        assertEquals(2, pair.a.counters.synsAccepted());
        assertEquals(1, pair.a.counters.synsDroppedBacklog());
        assertEquals(2, pair.a.stack.synReceivedCount(PORT));
        assertEquals(0, pair.a.stack.connectionCount(), "half-open connections are records, not connections");
        assertEquals(2, synAcksLost.size());
        assertEquals(3, synsSeen.size());

        // the lost SYN-ACKs arrive late after all: both handshakes complete and leave the backlog
        loseSynAcks = false;
        for (final UnsafeBuffer synAck : synAcksLost)
        {
            pair.b.receive(synAck, synAck.capacity());
        }
        pair.steps(5);
        assertEquals(TcpState.ESTABLISHED, clients[0].state());
        assertEquals(TcpState.ESTABLISHED, clients[1].state());
        assertEquals(0, pair.a.stack.synReceivedCount(PORT));

        // the third client retransmits its SYN (replayed here): now there is room
        final UnsafeBuffer thirdSyn = synsSeen.get(2);
        pair.a.receive(thirdSyn, thirdSyn.capacity());
        pair.runUntil(() -> clients[2].state() == TcpState.ESTABLISHED && pair.a.stack.connectionCount() == 3, 100);
        assertEquals(3, pair.a.counters.synsAccepted());
        assertEquals(3, pair.a.stack.connectionCount());
    }

    @Test
    void shouldNotCountEstablishedConnectionsAgainstTheBacklog()
    {
        pair.a.stack.listen(PORT, server, 1);
        for (int i = 0; i < 4; i++)
        {
            final TcpConnection client = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + i, new Endpoint(), pair.nowNs);
            pair.runUntil(() -> client.state() == TcpState.ESTABLISHED, 100);
        }
        pair.steps(2); // the last handshake's ACK reaches the server

        assertEquals(4, pair.a.counters.synsAccepted());
        assertEquals(0, pair.a.counters.synsDroppedBacklog());
        assertEquals(0, pair.a.stack.synReceivedCount(PORT));
    }

    @Test
    void shouldGiveBackTheBacklogPlaceOfAConnectionResetInSynReceived()
    {
        pair.a.stack.listen(PORT, server, 1);
        loseSynAcks = true;
        final TcpConnection client = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, new Endpoint(), pair.nowNs);
        pair.steps(5);
        assertEquals(1, pair.a.stack.synReceivedCount(PORT));

        // the client gives up; its SYN-ACK arrives afterwards and is answered with a reset (§3.10.7.1)
        client.abort();
        pair.steps(2);
        final UnsafeBuffer synAck = synAcksLost.get(0);
        pair.b.receive(synAck, synAck.capacity());
        pair.steps(5);

        assertEquals(0, pair.a.stack.synReceivedCount(PORT));
        assertEquals(0, pair.a.stack.connectionCount());
        assertEquals(1, pair.a.counters.synReceivedReset());
        assertNull(server.closeReason, "the application never saw the half-open connection (Linux's accept())");
    }

    @Test
    void shouldRejectABacklogBelowOne()
    {
        assertThrows(IllegalArgumentException.class, () -> pair.a.stack.listen(PORT, server, 0));
    }

    @Test
    void shouldDefaultTheBacklogToThePoolSize()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().build(), 8, 16);
        pair.a.stack.listen(PORT, server);
        pair.b.stack.connect(IP_A, 9, CLIENT_PORT + 100, new Endpoint(), pair.nowNs); // refused: resolves ARP
        pair.steps(5);
        for (int i = 0; i < 9; i++) // all SYNs in one burst: the ninth finds the pool, not the backlog, full
        {
            pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + i, new Endpoint(), pair.nowNs);
        }
        pair.steps(10);

        assertEquals(8, pair.a.counters.synsAccepted());
        assertEquals(1, pair.a.counters.poolExhausted());
        assertEquals(0, pair.a.counters.synsDroppedBacklog());
    }
}
