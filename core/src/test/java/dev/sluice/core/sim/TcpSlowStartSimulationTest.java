package dev.sluice.core.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.CongestionAlgorithm;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpRecoveryCounters;
import org.junit.jupiter.api.Test;

/**
 * The end of slow start in virtual time (deterministic: a function of the seed, not of the machine): one bulk
 * transfer through a 100 Mbit/s bottleneck with a 20 ms round trip (BDP 250 kB, 172 frames) and a drop-tail
 * queue of 100, 172 or 400 frames, no random loss: every loss is the queue overflowing. Standard slow start grows
 * cwnd by half per round (an ACK per two segments) until the queue overflows, losing a large part of a window in
 * one round; RFC 9406 HyStart++ sees the round's minimum RTT grow as a standing queue builds and continues in
 * Conservative Slow Start, a quarter of the growth. The sender does not pace: each round leaves as a train with
 * a gap behind it, the queue drains in the gap, and a round's minimum RTT only grows once the trains close up,
 * late in a small queue (the figure shows it: the gain is smallest with the 100-frame queue).
 */
class TcpSlowStartSimulationTest
{
    private static final long ONE_WAY_NS = 10_000_000L;
    private static final double LINK_BYTES_PER_NS = 100e6 / 8e9;
    // drop-tail queues of 0.6, 1 and 2.3 BDP (the BDP is 172 frames)
    private static final int[] QUEUE_FRAMES = {100, 172, 400};
    private static final int BUFFER_BYTES = 1 << 20;
    private static final int BYTES = 8 << 20;

    /** One transfer's outcome. */
    private record Outcome(long queueDrops, long sackRecoveries, long rtos, double mbitPerSecond)
    {
    }

    private static Outcome transfer(final int queueFrames, final boolean hyStart)
    {
        final LinkImpairments bottleneck =
            new LinkImpairments(0, 0, 0, 0, ONE_WAY_NS, 0, 0, LINK_BYTES_PER_NS, queueFrames);
        final TcpConfig config = TcpConfig.builder().mslNs(SimulationRun.MSL_NS)
            .bufferBytes(BUFFER_BYTES, BUFFER_BYTES).congestionControl(CongestionAlgorithm.CUBIC).hyStart(hyStart)
            .build();
        final SimulationRun run = new SimulationRun(1, bottleneck, config, BYTES); // no randomness is used
        run.run(); // every byte once and in order, both sides closed normally, everything released
        final SimEndpoint server = run.servers.get(0);
        assertEquals(BYTES, server.received);
        assertEquals(0, run.link.framesLost, "no random loss: only the queue drops");
        final TcpRecoveryCounters sender = run.a.tcpCounters.recovery();
        return new Outcome(run.link.framesTailDropped, sender.sackRecoveries(), sender.retransmissionTimeouts(),
            BYTES * 8e-6 / (server.completedAtNs / 1e9));
    }

    @Test
    void shouldLeaveSlowStartBeforeTheQueueOverflows_RFC9406s4_2()
    {
        long standardDrops = 0;
        long hyStartDrops = 0;
        long standardRtos = 0;
        long hyStartRtos = 0;
        for (final int queueFrames : QUEUE_FRAMES)
        {
            final Outcome standard = transfer(queueFrames, false);
            final Outcome hy = transfer(queueFrames, true);
            System.out.printf("8 MiB through 100 Mbit/s, RTT 20 ms, %d-frame queue: standard slow start " +
                    "%d frames dropped, %d SACK recoveries, %d RTOs, %.1f Mbit/s; HyStart++ %d dropped, %d SACK " +
                    "recoveries, %d RTOs, %.1f Mbit/s%n", queueFrames, standard.queueDrops, standard.sackRecoveries,
                standard.rtos, standard.mbitPerSecond, hy.queueDrops, hy.sackRecoveries, hy.rtos, hy.mbitPerSecond);
            standardDrops += standard.queueDrops;
            hyStartDrops += hy.queueDrops;
            standardRtos += standard.rtos;
            hyStartRtos += hy.rtos;
        }
        System.out.printf("queue drops over the three queues: standard %d, HyStart++ %d; RTOs: standard %d, " +
            "HyStart++ %d%n", standardDrops, hyStartDrops, standardRtos, hyStartRtos);
        assertTrue(hyStartDrops * 3 < standardDrops * 2,
            "HyStart++ " + hyStartDrops + " frames dropped, standard slow start " + standardDrops);
        assertTrue(hyStartRtos <= standardRtos, "HyStart++ " + hyStartRtos + " RTOs, standard " + standardRtos);
    }
}
