package dev.sluice.core.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.CongestionAlgorithm;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import org.junit.jupiter.api.Test;

/**
 * RFC 6937 PRR in virtual time (deterministic: a function of the seed): one 4 MiB transfer over 100 Mbit/s, RTT
 * 20 ms, 1 % random loss, with and without SACK. A burst is what the sender puts on the link in one duty cycle
 * (the frames one arriving ACK releases); the figure is the largest burst in the duty cycle where fast recovery
 * ends, and in the whole transfer.
 */
class TcpPrrSimulationTest
{
    private static final long ONE_WAY_NS = 10_000_000L;
    private static final double LINK_BYTES_PER_NS = 100e6 / 8e9;
    private static final int BYTES = 4 << 20;

    /** What one transfer showed. */
    private record Bursts(int recoveriesEnded, long largestAtRecoveryEnd, long largest, long rtos, double mbitPerSecond)
    {
    }

    private static Bursts transfer(final long seed, final boolean sack, final CongestionAlgorithm algorithm)
    {
        final LinkImpairments link =
            new LinkImpairments(0.01, 0, 0, 0, ONE_WAY_NS, 0, 0, LINK_BYTES_PER_NS, 4096);
        final TcpConfig config = TcpConfig.builder().mslNs(SimulationRun.MSL_NS).sack(sack)
            .congestionControl(algorithm).build();
        final SimulationRun run = new SimulationRun(seed, link, config, BYTES);
        final long[] state = new long[5]; // frames A>B so far, recovering (0/1), recoveries ended, largest at end, largest
        run.afterStep = () ->
        {
            final long frames = run.link.framesAtoB();
            final long burst = frames - state[0];
            state[0] = frames;
            final TcpConnection sender = run.clients.get(0).connection;
            final boolean recovering = sender != null && sender.congestionControl().inRecovery();
            if (state[1] == 1 && !recovering)
            {
                state[2]++;
                state[3] = Math.max(state[3], burst);
            }
            state[1] = recovering ? 1 : 0;
            state[4] = Math.max(state[4], burst);
        };
        run.run();
        final SimEndpoint server = run.servers.get(0);
        assertEquals(BYTES, server.received);
        return new Bursts((int)state[2], state[3], state[4], run.a.tcpCounters.recovery().retransmissionTimeouts(),
            BYTES * 8e-6 / (server.completedAtNs / 1e9));
    }

    @Test
    void shouldNotBurstWhenFastRecoveryEnds_RFC6937s3()
    {
        for (final boolean sack : new boolean[] {true, false})
        {
            for (final CongestionAlgorithm algorithm : CongestionAlgorithm.values())
            {
                for (long seed = 1; seed <= 3; seed++)
                {
                    final Bursts b = transfer(seed, sack, algorithm);
                    System.out.printf("1%% loss, %s, %s, seed %d: %d recoveries ended, largest burst there %d frames, " +
                            "largest burst overall %d frames, %d RTOs, %.2f Mbit/s%n", sack ? "SACK" : "no SACK",
                        algorithm, seed, b.recoveriesEnded, b.largestAtRecoveryEnd, b.largest, b.rtos, b.mbitPerSecond);
                    assertTrue(b.recoveriesEnded >= 10, b.recoveriesEnded + " recoveries");
                    assertTrue(b.largestAtRecoveryEnd <= 3,
                        "the ACK that ends recovery releases at most an ACK's worth: " + b.largestAtRecoveryEnd);
                }
            }
        }
    }
}
