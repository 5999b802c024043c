package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

/**
 * Issue 11, memory on demand: connections are created when first needed and reused, hold payload chunks only
 * while bytes are buffered, and cost well under 1 KiB each when idle; under memory pressure new connections are
 * refused (counted, no reply) while the open ones keep their data. The off-heap figure is measured by the JVM's
 * direct-buffer counter once the pools have given their drained slabs back ({@link ChunkPool#SLAB_DECAY_NS}).
 *
 * <p>{@link #shouldHoldManyIdleConnectionsUnderOneKibEach} runs {@code -Dsluice.memory.connections=N} connections
 * (20,000 by default; the README's 1,000,000 figure comes from
 * {@code mvn -pl core test -Dtest=TcpStackMemoryTest -Dsluice.memory.connections=1000000}).
 */
class TcpStackMemoryTest
{
    private static final int CONNECTIONS = Integer.getInteger("sluice.memory.connections", 20_000);
    private static final int PER_PORT = 25_000; // within the 28,232 ephemeral ports per remote port
    private static final int FIRST_PORT = 1_000;
    private static final int BATCH = 100;
    private static final long MSL_NS = 1_000_000L;

    private final UnsafeBuffer hello = new UnsafeBuffer("8 bytes!".getBytes());

    /** One handler for every connection of a side: the measured cost is the stack's alone. */
    private static final class Shared implements TcpReceiveHandler
    {
        long established;
        long received;
        long peerClosed;
        long closedNormally;
        long closedOtherwise;

        @Override
        public void onEstablished()
        {
            established++;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            received += length;
            return length;
        }

        @Override
        public void onPeerClosed()
        {
            peerClosed++;
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            if (reason == TcpCloseReason.NORMAL)
            {
                closedNormally++;
            }
            else
            {
                closedOtherwise++;
            }
        }
    }

    @Test
    void shouldCreateConnectionsOnDemandAndReuseThem()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().mslNs(MSL_NS).build(), 1_000, 1_000);
        assertEquals(0, pair.a.stack.createdConnections());
        final Shared server = new Shared();
        final Shared client = new Shared();
        final java.util.List<TcpConnection> accepted = new java.util.ArrayList<>();
        pair.a.stack.listen(7, c ->
        {
            accepted.add(c);
            return server;
        });
        for (int round = 0; round < 3; round++)
        {
            final TcpConnection[] clients = new TcpConnection[10];
            for (int i = 0; i < clients.length; i++)
            {
                clients[i] = pair.b.stack.connect(IP_A, 7, client, pair.nowNs, null);
                clients[i].send(hello, 0, hello.capacity());
            }
            final long target = server.received + 80;
            pair.runUntil(() -> server.received == target, 30_000); // ARP holds a few SYNs, the rest are retransmitted
            for (final TcpConnection c : clients)
            {
                c.close();
            }
            final long peerClosed = server.peerClosed + clients.length;
            pair.runUntil(() -> server.peerClosed == peerClosed, 30_000);
            accepted.forEach(TcpConnection::close);
            accepted.clear();
            pair.runUntil(() -> pair.a.stack.connectionCount() == 0 && pair.b.stack.connectionCount() == 0, 30_000);
        }
        assertEquals(10, pair.a.stack.createdConnections()); // three rounds, ten TCBs: reused, not re-created
        assertEquals(10, pair.b.stack.createdConnections());
        assertEquals(0, pair.a.stack.pool().inUseChunks());
        assertEquals(0, pair.b.stack.pool().inUseChunks());
    }

    @Test
    void shouldOpenChannelsFromEphemeralPortsOnAStackThatHasCreatedNoConnectionYet()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().build(), 4, 4);
        final Shared server = new Shared();
        pair.a.stack.listen(7, c -> server);
        final dev.sluice.core.channel.TcpChannel channel = pair.b.stack.open(IP_A, 7,
            (ch, buffer, offset, length) -> length, null, pair.nowNs, null);
        assertNotNull(channel, "no preallocated connection is needed");
        pair.runUntil(() -> channel.state() == TcpState.ESTABLISHED, 100);
        assertEquals(1, pair.b.stack.createdConnections());
    }

    @Test
    void shouldGiveChannelListenersTheConnectionLimitAsBacklogNotTheConnectionsCreatedSoFar()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().build(), 1_000, 1_000);
        pair.a.stack.listen(7, (dev.sluice.core.channel.TcpChannelHandler)(ch, buffer, offset, length) -> length);
        for (int i = 0; i < 200; i++)
        {
            assertNotNull(pair.b.stack.connect(IP_A, 7, TcpReceiveHandler.DISCARD, pair.nowNs, null));
        }
        pair.runUntil(() -> pair.a.stack.connectionCount() == 200, 30_000);
        assertEquals(0, pair.a.counters.synsDroppedBacklog());
    }

    @Test
    void shouldHoldNoPayloadMemoryWhileIdle()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().build(), 4, 4);
        final Shared server = new Shared();
        final Shared client = new Shared();
        pair.a.stack.listen(7, c -> server);
        final TcpConnection c = pair.b.stack.connect(IP_A, 7, client, pair.nowNs, null);
        final UnsafeBuffer big = new UnsafeBuffer(new byte[100_000]);
        assertEquals(100_000, c.send(big, 0, big.capacity()));
        assertTrue(pair.b.stack.pool().inUseChunks() >= 100_000 / ChunkPool.DEFAULT_CHUNK_BYTES);
        pair.runUntil(() -> server.received == 100_000, 10_000);
        pair.idle(100_000_000L); // the delayed ACK of the last bytes
        pair.steps(10);
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(0, pair.b.stack.pool().inUseChunks());
        assertEquals(0, pair.a.stack.pool().inUseChunks());
    }

    @Test
    void shouldRefuseNewConnectionsUnderMemoryPressureAndKeepOpenOnesWhole()
    {
        final StackPair pair = new StackPair(TcpConfig.builder().build(), 16, 16);
        final Shared server = new Shared();
        final Shared client = new Shared();
        pair.a.stack.listen(7, c -> server);
        final TcpConnection first = pair.b.stack.connect(IP_A, 7, client, pair.nowNs, null);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);

        // the server's pool is pressed below its reserve (by others' data, here by the test)
        final ChunkPool pool = pair.a.stack.pool();
        final int[] taken = new int[pool.maxChunks()];
        int count = 0;
        while (!pool.underPressure())
        {
            taken[count++] = pool.allocate();
        }
        final int[] synAcks = new int[1];
        pair.tap = (from, frame, length) ->
        {
            if (from == pair.a && StackPair.isTcp(frame) &&
                (StackPair.tcpFlags(frame) & dev.sluice.core.wire.TcpHeader.SYN) != 0)
            {
                synAcks[0]++;
            }
            return true;
        };
        final TcpConnection second = pair.b.stack.connect(IP_A, 7, client, pair.nowNs, null);
        pair.steps(20);
        assertEquals(1, pair.a.counters.connectionsRefusedMemory(), "the SYN is dropped and counted");
        assertEquals(0, synAcks[0], "no reply: the peer retransmits, as to a Linux listener out of memory");
        assertEquals(TcpState.SYN_SENT, second.state());

        // the open connection keeps working: in-order data needs no chunk at the receiver
        final UnsafeBuffer data = new UnsafeBuffer(new byte[50_000]);
        assertEquals(50_000, first.send(data, 0, data.capacity()));
        pair.runUntil(() -> server.received == 50_000, 10_000);

        for (int i = 0; i < count; i++)
        {
            pool.free(taken[i]);
        }
        pair.runUntil(() -> second.state() == TcpState.ESTABLISHED, 40_000); // the retransmitted SYN
        assertEquals(1, pair.a.counters.connectionsRefusedMemory());
    }

    @Test
    void shouldHoldManyIdleConnectionsUnderOneKibEach()
    {
        final int n = CONNECTIONS;
        final int ports = (n + PER_PORT - 1) / PER_PORT;
        final TcpConfig config = TcpConfig.builder().mslNs(MSL_NS).build();
        final StackPair pair = new StackPair(config, n + 16, n + 16);
        final Shared server = new Shared();
        final Shared client = new Shared();
        final TcpConnection[] clients = new TcpConnection[n];
        final TcpConnection[] servers = new TcpConnection[n];
        final int[] accepted = new int[1];
        for (int p = 0; p < ports; p++)
        {
            pair.a.stack.listen(FIRST_PORT + p, c ->
            {
                servers[accepted[0]++] = c;
                return server;
            }, 65_535);
        }
        final long heapBefore = JvmMemory.usedHeapAfterGc();
        final long directBefore = JvmMemory.directMemoryUsed();

        for (int opened = 0; opened < n; )
        {
            for (int i = 0; i < BATCH && opened < n; i++, opened++)
            {
                final TcpConnection c = pair.b.stack.connect(IP_A, FIRST_PORT + opened / PER_PORT, client, pair.nowNs, null);
                assertNotNull(c, "connection " + opened);
                c.send(hello, 0, hello.capacity());
                clients[opened] = c;
            }
            pair.step();
        }
        pair.runUntil(() -> server.established == n, 100_000);
        for (int i = 0; i < n; i++)
        {
            servers[i].send(hello, 0, hello.capacity());
            if (i % BATCH == BATCH - 1)
            {
                pair.step(); // the in-memory link holds 512 frames per step
            }
        }
        final long bytes = 8L * n;
        pair.runUntil(() -> server.received == bytes && client.received == bytes, 100_000);
        pair.steps(2_000); // delayed ACKs of the last bytes: every send queue drains
        assertEquals(n, client.established);
        assertEquals(n, pair.a.stack.connectionCount());
        assertEquals(0, pair.a.stack.pool().inUseChunks(), "idle connections hold no payload chunk");
        assertEquals(0, pair.b.stack.pool().inUseChunks());
        final long reservedA = pair.a.stack.pool().reservedBytes();
        final long reservedB = pair.b.stack.pool().reservedBytes();
        final long directDuring = JvmMemory.directMemoryUsed();
        pair.idle(2 * ChunkPool.SLAB_DECAY_NS + StackPair.STEP_NS); // drained slabs go back to the OS
        assertEquals(0, pair.a.stack.pool().reservedBytes() + pair.b.stack.pool().reservedBytes());
        assertEquals(n, pair.a.stack.connectionCount());

        final long heapAfter = JvmMemory.usedHeapAfterGc();
        if (Boolean.getBoolean("sluice.memory.histogram"))
        {
            try
            {
                final Object histogram = ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
                histogram.toString().lines().limit(30).forEach(System.out::println);
            }
            catch (final javax.management.JMException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
        final long directAfter = JvmMemory.directMemoryUsed();
        final double heapPerConnection = (heapAfter - heapBefore) / (2.0 * n);
        final double directPerConnection = (directAfter - directBefore) / (2.0 * n);
        System.out.printf("idle ESTABLISHED connections: %d per side; heap %.0f B + direct %.0f B = %.0f B per " +
            "connection (both stacks measured together, divided by %d; direct: the JVM's direct-buffer counter, " +
            "%.0f B per connection while the first messages were buffered, pool slabs %d + %d bytes then, released " +
            "once drained)%n", n, heapPerConnection, directPerConnection, heapPerConnection + directPerConnection,
            2 * n, (directDuring - directBefore) / (2.0 * n), reservedA, reservedB);
        assertTrue(heapPerConnection <= 1024, "heap per idle connection " + heapPerConnection);
        assertTrue(heapPerConnection + directPerConnection <= 1024,
            "heap + off-heap per idle connection " + (heapPerConnection + directPerConnection));

        for (int i = 0; i < n; i++)
        {
            clients[i].close();
            if (i % BATCH == BATCH - 1)
            {
                pair.step();
            }
        }
        pair.runUntil(() -> server.peerClosed == n, 100_000);
        for (int i = 0; i < n; i++)
        {
            servers[i].close();
            if (i % BATCH == BATCH - 1)
            {
                pair.step();
            }
        }
        pair.runUntil(() -> pair.a.stack.connectionCount() == 0 && pair.b.stack.connectionCount() == 0, 100_000);
        assertEquals(2L * n, server.closedNormally + client.closedNormally);
        assertEquals(0, server.closedOtherwise + client.closedOtherwise);
        assertEquals(0, pair.a.stack.pool().inUseChunks());
        assertEquals(0, pair.b.stack.pool().inUseChunks());
        assertEquals(0, pair.a.stack.scheduledTimers() + pair.b.stack.scheduledTimers());
    }
}
