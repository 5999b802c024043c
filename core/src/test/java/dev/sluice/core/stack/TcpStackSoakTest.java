package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

/**
 * Many connections at once through the ready list and the timer wheel, with seeded loss of data and FIN
 * segments (recovered by retransmission timers): every byte arrives once and in order, every connection
 * closes normally, and both stacks end with no connection and no timer left.
 */
class TcpStackSoakTest
{
    private static final int PORT = 7;
    private static final int CONNECTIONS = 8;
    private static final int MAX_BYTES = 96 * 1024;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void shouldDeliverEveryByteOnceAndCloseEverythingDespiteLoss(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final StackPair pair = new StackPair(
            TcpConfig.builder().bufferBytes(32 * 1024, 32 * 1024).mslNs(5_000_000L)
                .rto(200_000_000L, 200_000_000L, TcpConfig.MIN_RTO_MAX_NS).build(),
            CONNECTIONS, CONNECTIONS);
        final UnsafeBuffer pattern = new UnsafeBuffer(new byte[MAX_BYTES]);
        for (int i = 0; i < MAX_BYTES; i++)
        {
            pattern.putByte(i, (byte)random.nextInt());
        }
        final Endpoint[] servers = new Endpoint[CONNECTIONS];
        final Endpoint[] clients = new Endpoint[CONNECTIONS];
        final int[] sizes = new int[CONNECTIONS];
        final int[] sent = new int[CONNECTIONS];
        final int[] accepted = new int[1];
        pair.a.stack.listen(PORT, connection ->
        {
            final Endpoint server = servers[accepted[0]++];
            server.connection = connection;
            return server;
        });
        final double lossRate = 0.02;
        final int[] lost = new int[1];
        pair.tap = (from, frame, length) ->
        {
            // SYN and SYN-ACK are never lost: their retransmission is not the stack's concern here
            final boolean retransmittable = StackPair.isTcp(frame) &&
                (StackPair.tcpFlags(frame) & (TcpHeader.SYN | TcpHeader.RST)) == 0 &&
                (StackPair.tcpPayloadLength(frame) > 0 || (StackPair.tcpFlags(frame) & TcpHeader.FIN) != 0);
            if (retransmittable && random.nextDouble() < lossRate)
            {
                lost[0]++;
                return false;
            }
            return true;
        };
        for (int i = 0; i < CONNECTIONS; i++)
        {
            servers[i] = new Endpoint();
            servers[i].closeWhenPeerCloses = true;
            clients[i] = new Endpoint();
            sizes[i] = random.nextInt(MAX_BYTES + 1);
        }
        // opened one at a time: the accept order then matches the client order
        for (int i = 0; i < CONNECTIONS; i++)
        {
            clients[i].connection = pair.b.stack.connect(IP_A, PORT, clients[i], pair.nowNs, null);
            assertNotNull(clients[i].connection);
            final Endpoint client = clients[i];
            pair.runUntil(() -> client.established == 1, 100);
        }

        pair.runUntil(() ->
        {
            boolean done = true;
            for (int i = 0; i < CONNECTIONS; i++)
            {
                final Endpoint client = clients[i];
                if (sent[i] < sizes[i])
                {
                    sent[i] += Math.max(0, client.connection.send(pattern, sent[i], sizes[i] - sent[i]));
                    if (sent[i] == sizes[i])
                    {
                        client.connection.close();
                    }
                }
                done &= client.closeReason != null && servers[i].closeReason != null;
            }
            return done && pair.a.stack.connectionCount() == 0 && pair.b.stack.connectionCount() == 0;
        }, 2_000_000);

        for (int i = 0; i < CONNECTIONS; i++)
        {
            assertEquals(sizes[i], servers[i].received, "seed " + seed + " connection " + i);
            assertEquals(checksum(pattern, sizes[i]), servers[i].checksum, "seed " + seed + " connection " + i);
            assertEquals(TcpCloseReason.NORMAL, clients[i].closeReason, "seed " + seed);
            assertEquals(TcpCloseReason.NORMAL, servers[i].closeReason, "seed " + seed);
        }
        assertTrue(lost[0] > 0, "seed " + seed + " lost nothing");
        // the losses were repaired: by an RTO, or by fast retransmit / SACK recovery (TIME-WAIT, a timer before
        // compact records, no longer fires one)
        assertTrue(pair.b.counters.timersFired() + pair.b.counters.recovery().fastRetransmits() +
            pair.b.counters.recovery().sackRecoveries() > 0, "seed " + seed + ": no loss recovery");
        assertEquals(0, pair.a.stack.scheduledTimers(), "seed " + seed);
        assertEquals(0, pair.b.stack.scheduledTimers(), "seed " + seed);
        assertEquals(CONNECTIONS, pair.a.stack.freeConnections());
        assertEquals(CONNECTIONS, pair.b.stack.freeConnections());
    }

    private static long checksum(final UnsafeBuffer pattern, final int length)
    {
        long checksum = 0;
        for (int i = 0; i < length; i++)
        {
            checksum = checksum * 31 + pattern.getByte(i);
        }
        return checksum;
    }
}
