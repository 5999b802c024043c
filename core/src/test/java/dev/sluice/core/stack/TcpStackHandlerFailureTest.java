package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * Issue 11, a shard never dies silently: an exception from an application handler aborts that connection
 * (RST, RFC 9293 §3.10.5), is counted and reported with its stack trace, and the shard goes on serving the
 * others.
 */
class TcpStackHandlerFailureTest
{
    private final StackPair pair = new StackPair(TcpConfig.builder().build(), 8, 8);
    private final List<Throwable> reports = new ArrayList<>();
    private final UnsafeBuffer poison = new UnsafeBuffer("boom".getBytes());
    private final UnsafeBuffer fine = new UnsafeBuffer("fine".getBytes());

    private static final class Client implements TcpReceiveHandler
    {
        TcpCloseReason closed;
        long received;

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            received += length;
            return length;
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            closed = reason;
        }
    }

    /** Echoes, but throws on a segment starting with 'b'. */
    private static final class Fragile implements TcpReceiveHandler
    {
        final TcpConnection connection;
        TcpCloseReason closed;

        Fragile(final TcpConnection connection)
        {
            this.connection = connection;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            if (buffer.getByte(offset) == 'b')
            {
                throw new IllegalStateException("application bug");
            }
            connection.send(buffer, offset, length);
            return length;
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            closed = reason;
        }
    }

    @Test
    void shouldAbortTheConnectionWhoseHandlerThrewAndKeepServingTheOthers()
    {
        pair.a.stack.errorHandler(reports::add);
        final List<Fragile> servers = new ArrayList<>();
        pair.a.stack.listen(7, c ->
        {
            final Fragile f = new Fragile(c);
            servers.add(f);
            return f;
        });
        final Client bad = new Client();
        final Client good = new Client();
        final TcpConnection badConnection = pair.b.stack.connect(IP_A, 7, bad, pair.nowNs, null);
        final TcpConnection goodConnection = pair.b.stack.connect(IP_A, 7, good, pair.nowNs, null);
        pair.runUntil(() -> badConnection.state() == TcpState.ESTABLISHED &&
            goodConnection.state() == TcpState.ESTABLISHED, 30_000);

        badConnection.send(poison, 0, poison.capacity());
        goodConnection.send(fine, 0, fine.capacity());
        pair.runUntil(() -> bad.closed != null && good.received == 4, 1_000);

        assertEquals(TcpCloseReason.RESET_BY_PEER, bad.closed, "the peer of the failed handler gets a RST");
        assertEquals(TcpState.ESTABLISHED, goodConnection.state());
        assertEquals(1, pair.a.counters.handlerExceptions());
        assertEquals(1, pair.a.counters.handlerAborts());
        assertEquals(1, reports.size());
        assertInstanceOf(IllegalStateException.class, reports.get(0).getCause());
        assertTrue(reports.get(0).getCause().getStackTrace().length > 0, "reported with its stack trace");
        assertEquals(1, pair.a.stack.connectionCount());
    }

    @Test
    void shouldRefuseAConnectionWhoseAcceptorThrew()
    {
        pair.a.stack.errorHandler(reports::add);
        pair.a.stack.listen(7, c ->
        {
            throw new IllegalArgumentException("acceptor bug");
        });
        final Client client = new Client();
        pair.b.stack.connect(IP_A, 7, client, pair.nowNs, null);
        pair.runUntil(() -> client.closed != null, 30_000);
        assertEquals(1, pair.a.counters.handlerExceptions());
        assertEquals(0, pair.a.stack.connectionCount());
        assertEquals(1, reports.size());
    }

    @Test
    void shouldThinOutReportsOfAHandlerThatAlwaysThrows()
    {
        pair.a.stack.errorHandler(reports::add);
        final HandlerFailures failures = new HandlerFailures(pair.a.counters);
        failures.errorHandler(reports::add);
        for (int i = 0; i < 1_000; i++)
        {
            failures.onException(new IllegalStateException("again"));
        }
        // 8 in full, then at 16, 32, ..., 512
        assertEquals(HandlerFailures.FULL_REPORTS + 6, reports.size());
        assertEquals(1_000, pair.a.counters.handlerExceptions());
    }
}
