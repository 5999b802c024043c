package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static dev.sluice.core.stack.StackPair.IP_B;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpSegmentOutput;
import dev.sluice.core.wire.TcpHeader;
import org.junit.jupiter.api.Test;

/**
 * RFC 5961 §7 (Linux's tcp_challenge_ack_limit): beside each connection's own limit, the shard sends at most
 * {@link ChallengeAckLimiter#DEFAULT_PER_SECOND} challenge ACKs per second over all its live connections, so a
 * blind attacker spraying SYNs (or RSTs) over many 4-tuples cannot make it send more.
 */
class TcpStackChallengeAckLimitTest
{
    private static final int PORT = 7;
    private static final int CLIENT_PORT = 20_000;
    private static final int CONNECTIONS = 1_200;

    // without timestamps: a SYN without them would be dropped before the SYN check (RFC 7323 §3.2)
    private final StackPair pair =
        new StackPair(TcpConfig.builder().timestamps(false).build(), CONNECTIONS + 8, CONNECTIONS + 8);
    private int challengeAcks;
    private boolean counting;

    @Test
    void shouldLimitChallengeAcksOfAllConnectionsTogether_RFC5961_7()
    {
        pair.a.stack.listen(PORT, c -> new Endpoint(), CONNECTIONS);
        pair.b.stack.connect(IP_A, 9, CLIENT_PORT - 1, new Endpoint(), pair.nowNs); // refused: resolves ARP
        pair.steps(5);
        final TcpConnection[] clients = new TcpConnection[CONNECTIONS];
        for (int i = 0; i < CONNECTIONS; i++)
        {
            clients[i] = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + i, new Endpoint(), pair.nowNs);
            if (i % 200 == 199)
            {
                pair.steps(3); // the link carries 512 frames a step
            }
        }
        pair.runUntil(() -> pair.a.stack.synReceivedCount(PORT) == 0 && pair.a.stack.connectionCount() == CONNECTIONS,
            1_000);
        pair.tap = (from, frame, length) ->
        {
            if (counting && from == pair.a && StackPair.isTcp(frame) &&
                StackPair.tcpFlags(frame) == TcpHeader.ACK && StackPair.tcpPayloadLength(frame) == 0)
            {
                challengeAcks++;
            }
            return from == pair.b || !counting; // the challenge ACKs are not delivered
        };

        // a SYN on every established connection (RFC 5961 §4): each would get its connection's first challenge
        // ACK, all within a millisecond
        counting = true;
        for (int i = 0; i < CONNECTIONS; i += 400)
        {
            for (int j = i; j < Math.min(CONNECTIONS, i + 400); j++)
            {
                pair.b.output.sendSyn(IP_B, CLIENT_PORT + j, IP_A, PORT, clients[j].sndNxt() + 12_345, 0,
                    TcpHeader.SYN, 65_535, 1460, TcpSegmentOutput.NO_WINDOW_SCALE);
            }
            pair.step();
        }
        pair.steps(3);

        assertEquals(ChallengeAckLimiter.DEFAULT_PER_SECOND, challengeAcks);
        assertEquals(CONNECTIONS - ChallengeAckLimiter.DEFAULT_PER_SECOND,
            pair.a.stack.challengeAckLimiter().suppressed());
        assertEquals(CONNECTIONS - ChallengeAckLimiter.DEFAULT_PER_SECOND, pair.a.counters.challengeAcksLimited());
        assertEquals(CONNECTIONS, pair.a.stack.connectionCount(), "no connection was disturbed");
    }
}
