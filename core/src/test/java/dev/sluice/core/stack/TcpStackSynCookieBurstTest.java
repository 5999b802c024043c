package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static dev.sluice.core.stack.StackPair.TCP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Issue 11 (helper vsched's report): a burst of connects larger than a listener's SYN backlog, so that SYN cookies
 * (RFC 4987 §3.6) engage, must leave every connection the client sees ESTABLISHED established on the server too,
 * and none reset. The race that reset them: a cookie SYN-ACK late (a loaded shard), the client's retransmitted SYN
 * (RFC 6298 §2.1: after 1 s) finds room in the backlog and takes a SYN-RECEIVED record with another ISS, then the
 * client, synchronized by the late cookie SYN-ACK, sends the ACK of the cookie, which the record answered with
 * {@code <SEQ=SEG.ACK><CTL=RST>} (RFC 9293 §3.10.7.4 fifth), exactly the client's RCV.NXT: an ESTABLISHED
 * connection reset. Linux hands an ACK that does not match its request sock to the listener
 * (tcp_check_req returns the listener), which checks it as a cookie (tcp_v4_cookie_check) before any RST.
 */
class TcpStackSynCookieBurstTest
{
    private static final int PORT = 7;
    private static final int CLIENT_PORT = 40_000;

    private final List<Endpoint> accepted = new ArrayList<>();

    private TcpReceiveHandler accept(final TcpConnection connection)
    {
        final Endpoint endpoint = new Endpoint();
        endpoint.connection = connection;
        accepted.add(endpoint);
        return endpoint;
    }

    @Test
    void shouldEstablishEveryCookieConnectionWhoseRetransmittedSynTookARecord_RFC4987_3_6()
    {
        final int backlog = 16;
        final int count = 2 * backlog;
        final StackPair pair = new StackPair(TcpConfig.builder().build(), 4 * count, 4 * count);
        final Set<Integer> synsSeen = new HashSet<>();
        final List<UnsafeBuffer> held = new ArrayList<>();
        final int[] retransmittedSyns = new int[1];
        final boolean[] loaded = {true};
        pair.tap = (from, frame, length) ->
        {
            if (!StackPair.isTcp(frame))
            {
                return true;
            }
            final int flags = StackPair.tcpFlags(frame);
            if (from == pair.b && flags == TcpHeader.SYN &&
                !synsSeen.add(TcpHeader.sourcePort(frame, TCP)))
            {
                retransmittedSyns[0]++;
            }
            // the loaded server: its answers to the second half of the burst (the cookies) come late
            if (loaded[0] && from == pair.a && flags == (TcpHeader.SYN | TcpHeader.ACK) &&
                TcpHeader.destinationPort(frame, TCP) >= CLIENT_PORT + backlog)
            {
                held.add(StackPair.copy(frame, length));
                return false;
            }
            return true;
        };
        pair.a.stack.listen(PORT, this::accept, backlog);
        resolveArp(pair);
        final Endpoint[] clients = new Endpoint[count];
        for (int i = 0; i < count; i++)
        {
            clients[i] = new Endpoint();
            clients[i].connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + i, clients[i], pair.nowNs);
        }
        final long resetsBefore = pair.a.counters.resetsToClosedPorts() + pair.a.counters.synCookiesRejected();
        pair.runUntil(() -> retransmittedSyns[0] == backlog, 20_000); // RFC 6298 §2.1: the SYN again after 1 s

        assertEquals(backlog, pair.a.counters.synCookiesSent(), "the second half of the burst got cookies");
        assertEquals(backlog, accepted.size(), "the first half completed with their records");
        assertEquals(count, pair.a.counters.synsAccepted(), "the retransmitted SYNs found room: records");
        loaded[0] = false;
        for (final UnsafeBuffer synAck : held) // the late cookie SYN-ACKs arrive, before the records' ones
        {
            pair.b.receive(synAck, synAck.capacity());
        }
        pair.steps(100);

        int reset = 0;
        for (final Endpoint client : clients)
        {
            reset += client.closeReason == TcpCloseReason.RESET_BY_PEER ? 1 : 0;
        }
        assertEquals(0, reset, "clients reset of " + count);
        for (int i = 0; i < count; i++)
        {
            assertNull(clients[i].closeReason, "client " + i + " not reset");
            assertEquals(TcpState.ESTABLISHED, clients[i].connection.state(), "client " + i);
        }
        assertEquals(count, accepted.size(), "every client's connection exists on the server");
        for (final Endpoint server : accepted)
        {
            assertEquals(TcpState.ESTABLISHED, server.connection.state());
        }
        assertEquals(backlog, pair.a.counters.synCookiesAccepted(), "the cookies made the connections");
        assertEquals(0, pair.a.counters.synCookiesRejected());
        assertEquals(0, pair.a.stack.synReceivedCount(PORT), "the records the cookies superseded are gone");
        assertEquals(resetsBefore, pair.a.counters.resetsToClosedPorts(), "no RST to a listening port");

        // each connection carries data both ways (the cookie's ISS is the one both sides use)
        final UnsafeBuffer data = new UnsafeBuffer(new byte[3_000]);
        for (int i = 0; i < count; i++)
        {
            assertEquals(data.capacity(), clients[i].connection.send(data, 0, data.capacity()));
        }
        pair.runUntil(() -> accepted.stream().allMatch(s -> s.received == data.capacity()), 1_000);
    }

    @Test
    void shouldEstablishEveryConnectionOfABurstTenTimesTheBacklog_RFC4987_3_6()
    {
        final int backlog = 64;
        final int count = 10 * backlog; // more SYNs at once than the link's 512 frames a step: some are lost
        final StackPair pair = new StackPair(TcpConfig.builder().build(), 2 * count, 2 * count);
        pair.a.stack.listen(PORT, this::accept, backlog);
        resolveArp(pair);
        final Endpoint[] clients = new Endpoint[count];
        for (int i = 0; i < count; i++)
        {
            clients[i] = new Endpoint();
            clients[i].connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + i, clients[i], pair.nowNs);
        }
        pair.runUntil(() -> accepted.size() == count && allEstablished(clients), 200_000);
        pair.steps(100);

        assertTrue(pair.a.counters.synCookiesSent() > 0, "cookies engaged");
        assertTrue(pair.a.counters.synCookiesAccepted() > 0, "cookies made connections");
        for (int i = 0; i < count; i++)
        {
            assertNull(clients[i].closeReason, "client " + i + " not reset");
        }
        for (final Endpoint server : accepted)
        {
            assertEquals(TcpState.ESTABLISHED, server.connection.state());
        }
        assertEquals(count, pair.a.stack.connectionCount());
    }

    // a connect to a closed port (refused) resolves the server's address, so the whole burst leaves at once
    private static void resolveArp(final StackPair pair)
    {
        pair.b.stack.connect(IP_A, PORT + 2, CLIENT_PORT - 1, new Endpoint(), pair.nowNs);
        pair.steps(5);
    }

    private static boolean allEstablished(final Endpoint[] clients)
    {
        for (final Endpoint client : clients)
        {
            if (client.connection.state() != TcpState.ESTABLISHED)
            {
                return false;
            }
        }
        return true;
    }
}
