package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static dev.sluice.core.stack.StackPair.IP_B;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.channel.ChannelHandlerPool;
import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The narrow channel contract (issue 13): what a shard-thread application sees of a connection, over two
 * stacks joined by an in-memory link. Close, abort and half-close are exercised in each state they can meet;
 * every call from a thread other than the shard's is refused.
 */
class TcpChannelTest
{
    private static final int PORT = 80;
    private static final int CLIENT_PORT = 40_000;
    private static final TcpConfig CONFIG = TcpConfig.builder()
        .bufferBytes(16 * 1024, 16 * 1024)
        .mslNs(1_000_000L)
        .retransmissionThresholds(3, 100_000_000_000L, 180_000_000_000L)
        .build();

    private final StackPair pair = new StackPair(CONFIG, 8, 8);
    private final Recorder server = new Recorder();
    private final Recorder client = new Recorder();

    /** Records every callback; consumes everything unless told to hold. */
    static class Recorder implements TcpChannelHandler
    {
        final List<String> events = new ArrayList<>();
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        boolean refuse;
        boolean hold;
        TcpChannel channel;
        TcpCloseReason closed;
        int r1Advice;
        int acceptedRemoteIp;
        int acceptedRemotePort;
        TcpState acceptedState;

        @Override
        public boolean onAccept(final TcpChannel channel)
        {
            events.add("accept");
            acceptedRemoteIp = channel.remoteIp();
            acceptedRemotePort = channel.remotePort();
            acceptedState = channel.state();
            if (refuse)
            {
                return false;
            }
            this.channel = channel;
            return true;
        }

        @Override
        public void onEstablished(final TcpChannel channel)
        {
            events.add("established");
            this.channel = channel;
        }

        @Override
        public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
        {
            final byte[] bytes = new byte[length];
            buffer.getBytes(offset, bytes);
            received.writeBytes(bytes);
            return hold ? 0 : length;
        }

        @Override
        public void onPeerClosed(final TcpChannel channel)
        {
            events.add("peerClosed");
        }

        @Override
        public void onClosed(final TcpChannel channel, final TcpCloseReason reason)
        {
            events.add("closed " + reason);
            closed = reason;
        }

        @Override
        public void onExcessiveRetransmissions(final TcpChannel channel, final int retransmissions)
        {
            r1Advice = retransmissions;
        }
    }

    private static UnsafeBuffer bytes(final String text)
    {
        return new UnsafeBuffer(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    private TcpChannel connect()
    {
        pair.a.stack.listen(PORT, server);
        final TcpChannel channel = pair.b.stack.open(IP_A, PORT, CLIENT_PORT, client, "client", pair.nowNs);
        assertNotNull(channel);
        pair.runUntil(() -> server.channel != null && server.channel.state() == TcpState.ESTABLISHED &&
            channel.state() == TcpState.ESTABLISHED, 100);
        return channel;
    }

    @Nested
    class Accepting
    {
        @Test
        void shouldAskOnAcceptWithThePeerKnownWhenTheHandshakeCompletes()
        {
            pair.a.stack.listen(PORT, server);
            final List<Integer> flagsFromServer = new ArrayList<>();
            pair.tap = (from, frame, length) ->
            {
                if (from == pair.a && StackPair.isTcp(frame))
                {
                    flagsFromServer.add(StackPair.tcpFlags(frame));
                }
                return true;
            };
            pair.b.stack.open(IP_A, PORT, CLIENT_PORT, client, null, pair.nowNs);
            pair.runUntil(() -> !flagsFromServer.isEmpty(), 100);
            assertEquals(TcpHeader.SYN | TcpHeader.ACK, flagsFromServer.get(0));
            assertTrue(server.events.isEmpty(), "half-open: a compact SYN-RECEIVED record no handler sees (Linux)");
            pair.runUntil(() -> !server.events.isEmpty(), 100); // the ACK that completes the handshake
            assertEquals("accept", server.events.get(0));
            assertEquals(IP_B, server.acceptedRemoteIp);
            assertEquals(CLIENT_PORT, server.acceptedRemotePort);
            assertEquals(TcpState.LISTEN, server.acceptedState);
            assertEquals(List.of("accept", "established"), server.events);
        }

        @Test
        void shouldRefuseWithRstAndNoFurtherCallbacks()
        {
            server.refuse = true;
            pair.a.stack.listen(PORT, server);
            final TcpChannel channel = pair.b.stack.open(IP_A, PORT, CLIENT_PORT, client, null, pair.nowNs);
            pair.runUntil(() -> client.closed != null, 100);
            assertEquals(TcpCloseReason.RESET_BY_PEER, client.closed); // "connection refused"
            assertEquals(List.of("accept"), server.events);
            assertEquals(0, pair.a.stack.connectionCount());
            assertEquals(8, pair.a.stack.freeConnections());
            assertFalse(channel.isOpen());
        }

        @Test
        void shouldTreatACloseInsideOnAcceptAsARefusal()
        {
            // CLOSE in LISTEN goes to CLOSED at once (§3.10.4): the SYN is answered like a refusal
            final Recorder closing = new Recorder()
            {
                @Override
                public boolean onAccept(final TcpChannel channel)
                {
                    super.onAccept(channel);
                    assertTrue(channel.close());
                    return true;
                }
            };
            pair.a.stack.listen(PORT, closing);
            pair.b.stack.open(IP_A, PORT, CLIENT_PORT, client, null, pair.nowNs);
            pair.runUntil(() -> client.closed != null, 100);
            assertEquals(TcpCloseReason.RESET_BY_PEER, client.closed);
            assertEquals(List.of("accept", "closed NORMAL"), closing.events);
            assertEquals(0, pair.a.stack.connectionCount());
        }

        @Test
        void shouldGiveEachConnectionAPooledHandlerAndRecycleIt()
        {
            final List<PerConnection> made = new ArrayList<>();
            final ChannelHandlerPool<PerConnection> pool = new ChannelHandlerPool<>(() ->
            {
                final PerConnection h = new PerConnection();
                made.add(h);
                return h;
            }, 4);
            pair.a.stack.listen(PORT, pool);
            for (int round = 0; round < 3; round++)
            {
                final Recorder c = new Recorder();
                final TcpChannel channel = pair.b.stack.open(IP_A, PORT, CLIENT_PORT + round, c, null, pair.nowNs);
                pair.runUntil(() -> channel.state() == TcpState.ESTABLISHED, 100);
                channel.send(bytes("hi"), 0, 2);
                pair.runUntil(() -> !made.isEmpty() && made.get(0).bytes == 2, 100);
                channel.abort();
                pair.runUntil(() -> pool.idle() == 1, 100);
                made.get(0).bytes = 0;
            }
            assertEquals(1, pool.created());
        }
    }

    /** A per-connection handler the pool recycles. */
    static final class PerConnection extends ChannelHandlerPool.Pooled
    {
        int bytes;

        @Override
        public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
        {
            bytes += length;
            return length;
        }
    }

    @Nested
    class Transfer
    {
        @Test
        void shouldCarryBytesBothWaysWithAddressesAndAttachment()
        {
            final TcpChannel channel = connect();
            assertEquals("client", channel.attachment());
            assertEquals(IP_B, channel.localIp());
            assertEquals(CLIENT_PORT, channel.localPort());
            assertEquals(IP_A, channel.remoteIp());
            assertEquals(PORT, channel.remotePort());
            assertEquals(PORT, server.channel.localPort());
            assertEquals(5, channel.send(bytes("hello"), 0, 5));
            pair.runUntil(() -> server.received.size() == 5, 100);
            assertEquals(3, server.channel.send(bytes("hey"), 0, 3));
            pair.runUntil(() -> client.received.size() == 3, 100);
            assertEquals("hello", server.received.toString());
            assertEquals("hey", client.received.toString());
            assertEquals(List.of("accept", "established"), server.events);
        }

        @Test
        void shouldCloseTheWindowUntilTheApplicationConsumes()
        {
            final TcpChannel channel = connect();
            server.hold = true;
            final UnsafeBuffer chunk = new UnsafeBuffer(new byte[1024]);
            int sent = 0;
            for (int i = 0; i < 200; i++)
            {
                final int n = channel.send(chunk, 0, chunk.capacity());
                sent += Math.max(0, n);
                pair.step();
            }
            final int held = server.channel.unreadBytes();
            pair.steps(50);
            assertEquals(held, server.channel.unreadBytes(), "nothing more arrives while the window is closed");
            assertTrue(held > CONFIG.receiveBufferBytes() - CONFIG.mssBytes(), "held " + held);
            assertFalse(channel.isWritable(), "the sender's queue filled up behind the closed window");
            server.hold = false;
            server.channel.consume(server.channel.unreadBytes());
            final int total = sent;
            pair.runUntil(() -> channel.sendQueueBytes() == 0 && server.received.size() >= total, 1000);
            assertTrue(channel.isWritable());
        }

        @Test
        void shouldDeliverR1AdviceToTheApplication()
        {
            // SHLD-9: the application hears of R1 retransmissions without an acknowledgment
            final TcpChannel channel = connect();
            pair.tap = (from, frame, length) -> from != pair.a;
            channel.send(bytes("lost"), 0, 4);
            pair.runUntil(() -> client.r1Advice > 0, 200_000);
            assertEquals(3, client.r1Advice);
            assertTrue(channel.isOpen());
        }

        @Test
        void shouldOpenFromTheEphemeralPortAllocatorThroughAFilter()
        {
            pair.a.stack.listen(PORT, server);
            final TcpChannel channel = pair.b.stack.open(IP_A, PORT, client, null, pair.nowNs, port -> port % 2 == 0);
            assertNotNull(channel, "a fresh stack opens from its ephemeral range");
            assertEquals(0, channel.localPort() % 2);
            pair.runUntil(() -> channel.state() == TcpState.ESTABLISHED, 100);
        }

        @Test
        void shouldGiveARecycledChannelANewIdAndNoAttachment()
        {
            final TcpChannel channel = connect();
            final long firstId = channel.id();
            channel.abort();
            pair.step();
            final TcpChannel again = pair.b.stack.open(IP_A, PORT, CLIENT_PORT + 1, client, null, pair.nowNs);
            assertSame(channel, again, "the pool hands out the freed channel");
            assertNotEquals(firstId, again.id());
            assertNull(again.attachment());
        }
    }

    @Nested
    class Closing
    {
        @Test
        void shouldHalfCloseAndKeepReceiving()
        {
            final TcpChannel channel = connect();
            assertTrue(channel.shutdownOutput());
            assertTrue(channel.isOutputShutdown());
            assertEquals(TcpChannel.NOT_OPEN, channel.send(bytes("x"), 0, 1));
            assertFalse(channel.shutdownOutput(), "already shut down");
            pair.runUntil(() -> channel.state() == TcpState.FIN_WAIT_2, 100);
            assertTrue(server.events.contains("peerClosed"));
            assertEquals(5, server.channel.send(bytes("after"), 0, 5));
            pair.runUntil(() -> client.received.size() == 5, 100);
            assertTrue(server.channel.close());
            pair.runUntil(() -> server.closed != null, 100);
            assertEquals(TcpCloseReason.NORMAL, server.closed);
            assertEquals("after", client.received.toString());
        }

        @Test
        void shouldDeferTheHalfCloseWhileReceivedBytesAreHeld()
        {
            // CLOSE with unread data resets (SHLD-3); shutdownOutput must not: its FIN waits for consume
            final TcpChannel channel = connect();
            client.hold = true;
            server.channel.send(bytes("held"), 0, 4);
            pair.runUntil(() -> channel.unreadBytes() == 4, 100);
            assertTrue(channel.shutdownOutput());
            pair.steps(20);
            assertEquals(TcpState.ESTABLISHED, channel.state(), "no FIN while the bytes are held");
            assertFalse(server.events.contains("peerClosed"));
            channel.consume(4);
            pair.runUntil(() -> channel.state() == TcpState.FIN_WAIT_2, 100);
            assertTrue(server.events.contains("peerClosed"));
        }

        @Test
        void shouldHalfCloseBeforeTheHandshakeCompletes()
        {
            pair.a.stack.listen(PORT, server);
            final TcpChannel channel = pair.b.stack.open(IP_A, PORT, CLIENT_PORT, client, null, pair.nowNs);
            assertEquals(TcpState.SYN_SENT, channel.state());
            assertTrue(channel.shutdownOutput());
            pair.runUntil(() -> server.events.contains("peerClosed"), 100);
            assertTrue(client.events.contains("established"));
        }

        @Test
        void shouldCloseWithFinAndReportNormalOnBothSides()
        {
            final TcpChannel channel = connect();
            assertTrue(channel.close());
            assertFalse(channel.close(), "CLOSE twice: connection closing");
            assertFalse(channel.shutdownOutput());
            pair.runUntil(() -> server.events.contains("peerClosed"), 100);
            server.channel.close();
            pair.runUntil(() -> server.closed != null && client.closed != null, 1000);
            assertEquals(TcpCloseReason.NORMAL, server.closed);
            assertEquals(TcpCloseReason.NORMAL, client.closed);
        }

        @Test
        void shouldResetOnCloseWithUnconsumedData()
        {
            // SHLD-3
            final TcpChannel channel = connect();
            client.hold = true;
            server.channel.send(bytes("lost"), 0, 4);
            pair.runUntil(() -> channel.unreadBytes() == 4, 100);
            assertTrue(channel.close());
            assertEquals(TcpCloseReason.ABORTED, client.closed);
            pair.runUntil(() -> server.closed != null, 100);
            assertEquals(TcpCloseReason.RESET_BY_PEER, server.closed);
        }

        @Test
        void shouldAbortAtOnceAndResetThePeer()
        {
            final TcpChannel channel = connect();
            channel.send(bytes("dropped"), 0, 7);
            channel.abort();
            assertEquals(TcpCloseReason.ABORTED, client.closed, "onClosed runs before abort returns");
            assertFalse(channel.isOpen());
            assertEquals(TcpCloseReason.ABORTED, channel.closeReason());
            pair.runUntil(() -> server.closed != null, 100);
            assertEquals(TcpCloseReason.RESET_BY_PEER, server.closed);
        }

        @Test
        void shouldCloseInSynSentWithoutTheHandshake()
        {
            final TcpChannel channel = pair.b.stack.open(IP_A, PORT, CLIENT_PORT, client, null, pair.nowNs);
            assertTrue(channel.close());
            assertEquals(TcpCloseReason.NORMAL, client.closed);
            assertEquals(0, channel.writableBytes());
        }

        @Test
        void shouldCloseInCloseWaitAndAbortInFinWait2()
        {
            final TcpChannel channel = connect();
            assertTrue(server.channel.shutdownOutput());
            pair.runUntil(() -> client.events.contains("peerClosed"), 100);
            assertEquals(TcpState.CLOSE_WAIT, channel.state());
            assertTrue(channel.isWritable(), "CLOSE-WAIT still sends");
            pair.runUntil(() -> server.channel.state() == TcpState.FIN_WAIT_2, 100);
            server.channel.abort();
            assertEquals(TcpCloseReason.ABORTED, server.closed);
            pair.runUntil(() -> client.closed != null, 100);
            assertEquals(TcpCloseReason.RESET_BY_PEER, client.closed);
            assertFalse(channel.close(), "nothing left to close");
            channel.abort(); // ABORT of a closed connection: "connection does not exist", no effect
        }

        @Test
        void shouldAbortInTimeWait()
        {
            pair.b.stack.compactTimeWait(false); // a TCB kept in TIME-WAIT (compact records close the channel)
            final TcpChannel channel = connect();
            channel.close();
            pair.runUntil(() -> server.events.contains("peerClosed"), 100);
            server.channel.close();
            pair.runUntil(() -> channel.state() == TcpState.TIME_WAIT, 100);
            assertFalse(channel.shutdownOutput());
            channel.abort();
            assertEquals(TcpCloseReason.ABORTED, client.closed);
        }
    }

    @Nested
    class Threading
    {
        @Test
        void shouldRefuseEveryCallFromAnotherThread() throws Exception
        {
            final TcpChannel channel = connect();
            final List<String> accepted = new ArrayList<>();
            for (final Method method : TcpChannel.class.getMethods())
            {
                if (method.getName().equals("inShardThread"))
                {
                    continue;
                }
                final Object[] args = new Object[method.getParameterCount()];
                final Class<?>[] types = method.getParameterTypes();
                for (int i = 0; i < args.length; i++)
                {
                    args[i] = types[i] == int.class ? 1 : types[i] == boolean.class ? Boolean.TRUE :
                        types[i] == DirectBuffer.class ? bytes("x") :
                        types[i] == TcpChannelHandler.class ? client : null;
                }
                final AtomicReference<Throwable> thrown = new AtomicReference<>();
                final Thread other = new Thread(() ->
                {
                    try
                    {
                        method.invoke(channel, args);
                    }
                    catch (final InvocationTargetException ex)
                    {
                        thrown.set(ex.getCause());
                    }
                    catch (final ReflectiveOperationException ex)
                    {
                        thrown.set(ex);
                    }
                });
                other.start();
                other.join();
                if (!(thrown.get() instanceof WrongThreadException))
                {
                    accepted.add(method.getName() + " -> " + thrown.get());
                }
            }
            assertEquals(List.of(), accepted);
            assertEquals(TcpState.ESTABLISHED, channel.state(), "nothing happened to the connection");
            assertTrue(channel.inShardThread());
        }

        @Test
        void shouldRefuseOpenAndListenFromAnotherThreadAndNameBothThreads() throws Exception
        {
            connect();
            final AtomicReference<Throwable> thrown = new AtomicReference<>();
            final Thread other = new Thread(() ->
            {
                try
                {
                    pair.b.stack.open(IP_A, PORT, client, null, pair.nowNs, null);
                }
                catch (final RuntimeException ex)
                {
                    thrown.set(ex);
                }
            }, "app-thread");
            other.start();
            other.join();
            assertInstanceOf(WrongThreadException.class, thrown.get());
            assertTrue(thrown.get().getMessage().contains("app-thread"), thrown.get().getMessage());
            assertTrue(thrown.get().getMessage().contains(Thread.currentThread().getName()));
        }
    }
}
