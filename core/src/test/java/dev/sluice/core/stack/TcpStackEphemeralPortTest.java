package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

/**
 * Active opens from ephemeral ports: Linux's default range, RFC 6056 algorithm 3 order, a caller's port
 * filter (flow steering to the calling core), and never a tuple still in the table, TIME-WAIT included.
 */
class TcpStackEphemeralPortTest
{
    private static final int PORT = 7;
    private static final int OTHER_PORT = 8;
    private static final long MSL_NS = 500_000_000L;

    private final StackPair pair = new StackPair(TcpConfig.builder().mslNs(MSL_NS).build(), 16, 16);
    private final Endpoint server = new Endpoint();

    @Test
    void shouldPickDistinctPortsFromLinuxDefaultRange()
    {
        pair.a.stack.listen(PORT, server);
        pair.b.stack.connect(IP_A, 9, 40_000, TcpReceiveHandler.DISCARD, pair.nowNs); // refused: resolves ARP
        pair.steps(5);
        final Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 10; i++)
        {
            final TcpConnection connection = pair.b.stack.connect(IP_A, PORT, TcpReceiveHandler.DISCARD, pair.nowNs, null);
            assertNotNull(connection);
            assertTrue(connection.localPort() >= 32_768 && connection.localPort() <= 60_999,
                "port " + connection.localPort());
            assertTrue(ports.add(connection.localPort()), "port reused: " + connection.localPort());
        }
        pair.steps(20);
        assertEquals(10, pair.a.counters.synsAccepted());
        assertEquals(10, pair.b.stack.connectionCount());
    }

    @Test
    void shouldNeverReuseATupleStillInTimeWait()
    {
        pair.a.stack.listen(PORT, server);
        pair.a.stack.listen(OTHER_PORT, server);
        pair.b.stack.ephemeralPorts(50_000, 50_001);
        final int first = openAndCloseFromTheClient();
        final int second = openAndCloseFromTheClient();
        assertTrue(pair.b.stack.isTimeWait(IP_A, PORT, first)); // compact records, the TCBs are free
        assertTrue(pair.b.stack.isTimeWait(IP_A, PORT, second));
        assertNotEquals(first, second);

        assertNull(pair.b.stack.connect(IP_A, PORT, TcpReceiveHandler.DISCARD, pair.nowNs, null), "both in TIME-WAIT");
        assertEquals(1, pair.b.counters.ephemeralPortsExhausted());
        // another remote port makes another tuple: the same local port may serve it
        final TcpConnection other = pair.b.stack.connect(IP_A, OTHER_PORT, TcpReceiveHandler.DISCARD, pair.nowNs, null);
        assertNotNull(other);
        other.abort();

        pair.runUntil(() -> pair.b.stack.timeWaitCount() == 0, 30_000);
        pair.steps(1);
        assertNotNull(pair.b.stack.connect(IP_A, PORT, TcpReceiveHandler.DISCARD, pair.nowNs, null),
            "a port is free once its TIME-WAIT ended");
    }

    private int openAndCloseFromTheClient()
    {
        final Endpoint client = new Endpoint();
        client.connection = pair.b.stack.connect(IP_A, PORT, client, pair.nowNs, null);
        assertNotNull(client.connection);
        pair.runUntil(() -> client.established == 1 && server.established > 0, 100);
        final TcpConnection serverSide = server.connection;
        server.reset();
        assertTrue(client.connection.close());
        pair.runUntil(() -> serverSide.state() == TcpState.CLOSE_WAIT, 100);
        assertTrue(serverSide.close());
        final int localPort = client.connection.localPort();
        pair.runUntil(() -> pair.b.stack.isTimeWait(IP_A, PORT, localPort) && serverSide.closeReason() != null, 100);
        assertEquals(TcpCloseReason.NORMAL, serverSide.closeReason());
        return localPort;
    }

    @Test
    void shouldPickOnlyPortsTheCallersFilterAccepts()
    {
        pair.a.stack.listen(PORT, server);
        for (int i = 0; i < 8; i++)
        {
            final TcpConnection connection = pair.b.stack.connect(
                IP_A, PORT, TcpReceiveHandler.DISCARD, pair.nowNs, port -> (port & 3) == 1);
            assertNotNull(connection);
            assertEquals(1, connection.localPort() & 3, "port " + connection.localPort());
        }

        assertNull(pair.b.stack.connect(IP_A, PORT, TcpReceiveHandler.DISCARD, pair.nowNs, port -> false));
        assertEquals(1, pair.b.counters.ephemeralPortsExhausted());
    }

    @Test
    void shouldOpenAChannelFromAnEphemeralPortOnAStackThatNeverHadAConnection()
    {
        // connections are created on demand: an empty free list is not an exhausted pool
        pair.a.stack.listen(PORT, server);
        final dev.sluice.core.channel.TcpChannel channel = pair.b.stack.open(IP_A, PORT,
            (ch, buffer, offset, length) -> length, null, pair.nowNs, port -> true);
        assertNotNull(channel, "first active open of a fresh stack");
        assertTrue(channel.localPort() >= 32_768 && channel.localPort() <= 60_999, "port " + channel.localPort());
        pair.steps(10);
        assertEquals(TcpState.ESTABLISHED, channel.state());
    }

    @Test
    void shouldSkipListeningPorts()
    {
        pair.b.stack.ephemeralPorts(50_000, 50_001);
        pair.b.stack.listen(50_000, new Endpoint());

        final TcpConnection connection = pair.b.stack.connect(IP_A, PORT, TcpReceiveHandler.DISCARD, pair.nowNs, null);
        assertNotNull(connection);
        assertEquals(50_001, connection.localPort());
        assertNull(pair.b.stack.connect(IP_A, PORT, TcpReceiveHandler.DISCARD, pair.nowNs, null));
    }

    @Test
    void shouldRejectAnEmptyOrInvalidRange()
    {
        assertThrows(IllegalArgumentException.class, () -> pair.b.stack.ephemeralPorts(50_001, 50_000));
        assertThrows(IllegalArgumentException.class, () -> pair.b.stack.ephemeralPorts(0, 50_000));
        assertThrows(IllegalArgumentException.class, () -> pair.b.stack.ephemeralPorts(50_000, 65_536));
    }
}
