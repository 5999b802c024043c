package dev.sluice.core.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import dev.sluice.core.tcp.CongestionAlgorithm;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpRecoveryCounters;
import org.junit.jupiter.api.Test;

/**
 * Loss recovery measured in virtual time (deterministic: every number below is a function of the seed, not of
 * the machine): one bulk transfer over a 100 Mbit/s link with a 20 ms round trip, under random loss, burst loss,
 * an isolated loss and reordering. Goodput is compared with the Mathis et al. bound for a Reno-style sender,
 * MSS / RTT * sqrt(3/2) / sqrt(p), p the loss rate per segment.
 */
class TcpRecoverySimulationTest
{
    private static final long ONE_WAY_NS = 10_000_000L; // RTT 20 ms
    private static final double LINK_BYTES_PER_NS = 100e6 / 8e9; // 100 Mbit/s
    private static final int MSS_PAYLOAD = 1448; // 1460 less the timestamps option
    private static final int BYTES = 4 << 20;
    // a long fat path for CUBIC: 100 ms RTT, 500 Mbit/s (BDP 6.25 MB), buffers above the BDP
    private static final long LONG_FAT_ONE_WAY_NS = 50_000_000L;
    private static final double LONG_FAT_BYTES_PER_NS = 500e6 / 8e9;
    private static final int LONG_FAT_BUFFER = 8 << 20;
    private static final int LONG_FAT_BYTES = 48 << 20;

    private static LinkImpairments link(final double loss, final double reorder, final long reorderDelayNs)
    {
        return new LinkImpairments(loss, 0, reorder, 0, ONE_WAY_NS, 0, reorderDelayNs, LINK_BYTES_PER_NS, 4096);
    }

    private static TcpConfig config(final boolean sack)
    {
        return config(sack, true);
    }

    private static TcpConfig config(final boolean sack, final boolean rack)
    {
        // recovery against the Mathis bound of a Reno-style sender: NewReno, whatever the default
        return TcpConfig.builder().mslNs(SimulationRun.MSL_NS).sack(sack).rack(rack)
            .congestionControl(CongestionAlgorithm.NEWRENO).build();
    }

    private static TcpConfig longFatConfig(final CongestionAlgorithm algorithm)
    {
        return TcpConfig.builder().mslNs(SimulationRun.MSL_NS).bufferBytes(LONG_FAT_BUFFER, LONG_FAT_BUFFER)
            .congestionControl(algorithm).build();
    }

    /** Runs one transfer; returns goodput in bytes per second of virtual time, from connect to the last byte. */
    private static double goodput(final SimulationRun run)
    {
        run.run(); // every byte once and in order, both sides closed normally, everything released
        final SimEndpoint server = run.servers.get(0);
        assertEquals(BYTES, server.received);
        return BYTES / (server.completedAtNs / 1e9);
    }

    private static double mathisBytesPerSecond(final double loss)
    {
        return MSS_PAYLOAD / (2 * ONE_WAY_NS / 1e9) * Math.sqrt(1.5) / Math.sqrt(loss);
    }

    @Test
    void shouldReachTheMathisBoundAtOnePercentLoss_RFC6675()
    {
        final double bound = mathisBytesPerSecond(0.01);
        for (long seed = 1; seed <= 3; seed++)
        {
            final SimulationRun run = new SimulationRun(seed, link(0.01, 0, 0), config(true), BYTES);
            final double goodput = goodput(run);
            System.out.printf("1%% loss, seed %d: %.2f Mbit/s, %.2f of the Mathis bound (%.2f Mbit/s), " +
                    "%d SACK recoveries, %d RTOs%n", seed, goodput * 8e-6, goodput / bound, bound * 8e-6,
                run.a.tcpCounters.recovery().sackRecoveries(), run.a.tcpCounters.recovery().retransmissionTimeouts());
            assertTrue(goodput >= 0.75 * bound, "goodput " + goodput + " B/s, Mathis bound " + bound);
        }
    }

    @Test
    void shouldRecoverAnIsolatedLossWithoutTimeout_RFC6675s5()
    {
        final SimulationRun run = new SimulationRun(4, link(0, 0, 0), config(true), BYTES);
        run.link.dropFramesAtoB = Set.of(200L); // one data segment, deep in the transfer
        goodput(run);
        final TcpRecoveryCounters sender = run.a.tcpCounters.recovery();
        assertEquals(1, run.link.framesLost);
        assertEquals(1, sender.sackRecoveries(), "one fast recovery");
        assertEquals(0, sender.retransmissionTimeouts(), "no RTO for an isolated loss");
        assertEquals(0, sender.dsacks(), "and no spurious retransmission");
    }

    @Test
    void shouldNotRetransmitSpuriouslyUnderMildReordering_RFC6675s4_IsLost()
    {
        // 5 % of the frames held back up to 200 us: passed by at most one or two 121 us frames, below
        // DupThresh (and IsLost's 2 * SMSS)
        final SimulationRun run = new SimulationRun(5, link(0, 0.05, 200_000L), config(true), BYTES);
        goodput(run);
        final TcpRecoveryCounters sender = run.a.tcpCounters.recovery();
        assertTrue(run.link.framesReordered > 100, run.link.framesReordered + " frames reordered");
        System.out.printf("reordering: %d frames held back, %d SACK recoveries, %d RTOs, %d D-SACKs%n",
            run.link.framesReordered, sender.sackRecoveries(), sender.retransmissionTimeouts(), sender.dsacks());
        assertEquals(0, sender.sackRecoveries(), "reordering is not taken for loss");
        assertEquals(0, sender.retransmissionTimeouts());
        assertEquals(0, sender.dsacks(), "no segment arrived twice");
    }

    @Test
    void shouldTolerateHeavyReorderingBelowTheRackWindow_RFC8985s6_2()
    {
        // a quarter of the frames held back by up to a quarter of the RTT (5 ms: passed by up to ~40 frames), no
        // loss: every retransmission is spurious. RACK (on) against RFC 6675's DupThresh alone (off), same seeds
        double rackGoodput = 0;
        double dupThreshGoodput = 0;
        long rackDsacks = 0;
        long dupThreshDsacks = 0;
        for (long seed = 1; seed <= 3; seed++)
        {
            final SimulationRun rack =
                new SimulationRun(seed, link(0, 0.25, ONE_WAY_NS / 2), config(true, true), BYTES);
            final double rackSeedGoodput = goodput(rack);
            final TcpRecoveryCounters r = rack.a.tcpCounters.recovery();
            final SimulationRun dupThresh =
                new SimulationRun(seed, link(0, 0.25, ONE_WAY_NS / 2), config(true, false), BYTES);
            final double dupThreshSeedGoodput = goodput(dupThresh);
            final TcpRecoveryCounters d = dupThresh.a.tcpCounters.recovery();
            System.out.printf("heavy reordering, seed %d: RACK %.2f Mbit/s (%d frames held back, %d recoveries, " +
                    "%d RACK losses, %d D-SACKs, %d RTOs); RFC 6675 alone %.2f Mbit/s (%d recoveries, %d D-SACKs, " +
                    "%d RTOs)%n", seed, rackSeedGoodput * 8e-6, rack.link.framesReordered, r.sackRecoveries(),
                r.rackLosses(), r.dsacks(), r.retransmissionTimeouts(), dupThreshSeedGoodput * 8e-6,
                d.sackRecoveries(), d.dsacks(), d.retransmissionTimeouts());
            assertTrue(rack.link.framesReordered > 1000, rack.link.framesReordered + " frames reordered");
            // RFC 8985 §6.2: before reordering is seen, DupThresh SACKed segments still mean loss (reo_wnd = 0): the
            // first reordering costs at most a recovery or two; after it, delays below reo_wnd cost none
            assertTrue(r.sackRecoveries() <= 2, r.sackRecoveries() + " recoveries");
            assertEquals(0, r.retransmissionTimeouts());
            rackGoodput += rackSeedGoodput;
            dupThreshGoodput += dupThreshSeedGoodput;
            rackDsacks += r.dsacks();
            dupThreshDsacks += d.dsacks();
        }
        System.out.printf("heavy reordering, mean of 3 seeds: RACK %.2f Mbit/s, RFC 6675 alone %.2f Mbit/s (%.1fx)%n",
            rackGoodput / 3 * 8e-6, dupThreshGoodput / 3 * 8e-6, rackGoodput / dupThreshGoodput);
        assertTrue(rackGoodput > 4 * dupThreshGoodput, "RACK " + rackGoodput + ", RFC 6675 " + dupThreshGoodput);
        assertTrue(rackDsacks * 10 < dupThreshDsacks, "spurious retransmissions: RACK " + rackDsacks + ", RFC 6675 " +
            dupThreshDsacks);
    }

    @Test
    void shouldRepairTailLossesWithAProbeInsteadOfATimeout_RFC8985s7()
    {
        for (long seed = 1; seed <= 3; seed++)
        {
            // the clean run tells which frames carry the last data segments; the same seed then loses them
            final SimulationRun clean = new SimulationRun(seed, link(0, 0, 0), config(true, true), BYTES / 16);
            clean.run();
            final List<Long> data = clean.link.dataFramesAtoB;
            final int tail = (int)(1 + seed); // the last 2, 3, 4 segments
            final Set<Long> lastSegments = Set.copyOf(data.subList(data.size() - tail, data.size()));
            final SimulationRun rack = new SimulationRun(seed, link(0, 0, 0), config(true, true), BYTES / 16);
            rack.link.dropFramesAtoB = lastSegments;
            rack.run();
            final TcpRecoveryCounters r = rack.a.tcpCounters.recovery();
            final SimulationRun dupThresh = new SimulationRun(seed, link(0, 0, 0), config(true, false), BYTES / 16);
            dupThresh.link.dropFramesAtoB = lastSegments;
            dupThresh.run();
            final TcpRecoveryCounters d = dupThresh.a.tcpCounters.recovery();
            final long rackMs = rack.servers.get(0).completedAtNs / 1_000_000;
            final long dupThreshMs = dupThresh.servers.get(0).completedAtNs / 1_000_000;
            System.out.printf("tail loss of %d segments, seed %d: RACK-TLP done at %d ms (%d probes, %d RACK losses, " +
                    "%d RTOs); RFC 6675 alone at %d ms (%d RTOs)%n", tail, seed, rackMs, r.tlpProbes(),
                r.rackLosses(), r.retransmissionTimeouts(), dupThreshMs, d.retransmissionTimeouts());
            assertEquals(tail, rack.link.framesLost);
            assertEquals(BYTES / 16, rack.servers.get(0).received);
            assertEquals(1, r.tlpProbes(), "one probe");
            assertEquals(0, r.retransmissionTimeouts(), "no RTO: the probe drew the SACK that RACK needed");
            assertEquals(tail - 1, r.rackLosses(), "the segments before the probed one");
            assertTrue(d.retransmissionTimeouts() >= 1, "without TLP the tail waits for the RTO");
            assertTrue(rackMs < dupThreshMs, "RACK-TLP " + rackMs + " ms, RTO " + dupThreshMs + " ms");
        }
    }

    @Test
    void shouldRecoverBurstLossesWithSackFasterThanNewReno_RFC6675_RFC2018()
    {
        double sackGoodput = 0;
        double newRenoGoodput = 0;
        long sackRtos = 0;
        long newRenoRtos = 0;
        for (long seed = 1; seed <= 3; seed++)
        {
            final SimulationRun sack = new SimulationRun(seed, link(0.002, 0, 0), config(true), BYTES);
            sack.link.lossBurstFrames = 4; // four consecutive frames of a direction at a time
            sackGoodput += goodput(sack);
            sackRtos += sack.a.tcpCounters.recovery().retransmissionTimeouts();
            final SimulationRun newReno = new SimulationRun(seed, link(0.002, 0, 0), config(false), BYTES);
            newReno.link.lossBurstFrames = 4;
            newRenoGoodput += goodput(newReno);
            newRenoRtos += newReno.a.tcpCounters.recovery().retransmissionTimeouts();
        }
        System.out.printf("bursts of 4 at 0.2%%: SACK %.2f Mbit/s (%d RTOs), NewReno %.2f Mbit/s (%d RTOs)%n",
            sackGoodput / 3 * 8e-6, sackRtos, newRenoGoodput / 3 * 8e-6, newRenoRtos);
        // before RFC 6937 PRR NewReno took 6 RTOs here (12.4 Mbit/s against SACK's 21.5); PRR's paced recovery
        // spared them all, SACK stays ahead by repairing several holes per round trip. With RACK-TLP (the default)
        // and PRR together SACK makes 19.5 Mbit/s here (RFC 6675 + PRR: 23.0; RACK alone: 22.5): an open question
        assertTrue(sackGoodput > 1.15 * newRenoGoodput, "SACK " + sackGoodput + ", NewReno " + newRenoGoodput);
        assertTrue(sackRtos <= newRenoRtos, "SACK " + sackRtos + " RTOs, NewReno " + newRenoRtos);
    }

    @Test
    void shouldOutrunNewRenoOnALongFatPathWithRareLoss_RFC9438s1_s4()
    {
        double cubic = 0;
        double newReno = 0;
        for (long seed = 1; seed <= 3; seed++)
        {
            final LinkImpairments path = new LinkImpairments(
                0.0001, 0, 0, 0, LONG_FAT_ONE_WAY_NS, 0, 0, LONG_FAT_BYTES_PER_NS, 8192);
            final SimulationRun c =
                new SimulationRun(seed, path, longFatConfig(CongestionAlgorithm.CUBIC), LONG_FAT_BYTES);
            final double cubicGoodput = longFatGoodput(c);
            final SimulationRun n =
                new SimulationRun(seed, path, longFatConfig(CongestionAlgorithm.NEWRENO), LONG_FAT_BYTES);
            final double newRenoGoodput = longFatGoodput(n);
            System.out.printf("100 ms RTT, 500 Mbit/s, 0.01%% loss, seed %d: CUBIC %.1f Mbit/s (%d SACK recoveries, " +
                    "%d RTOs), NewReno %.1f Mbit/s (%d SACK recoveries, %d RTOs)%n", seed, cubicGoodput * 8e-6,
                c.a.tcpCounters.recovery().sackRecoveries(), c.a.tcpCounters.recovery().retransmissionTimeouts(),
                newRenoGoodput * 8e-6, n.a.tcpCounters.recovery().sackRecoveries(),
                n.a.tcpCounters.recovery().retransmissionTimeouts());
            cubic += cubicGoodput;
            newReno += newRenoGoodput;
        }
        System.out.printf("long fat path, mean of 3 seeds: CUBIC %.1f Mbit/s, NewReno %.1f Mbit/s (%.2fx)%n",
            cubic / 3 * 8e-6, newReno / 3 * 8e-6, cubic / newReno);
        assertTrue(cubic > 1.3 * newReno, "CUBIC " + cubic + " B/s, NewReno " + newReno + " B/s");
    }

    private static double longFatGoodput(final SimulationRun run)
    {
        run.run();
        final SimEndpoint server = run.servers.get(0);
        assertEquals(LONG_FAT_BYTES, server.received);
        return LONG_FAT_BYTES / (server.completedAtNs / 1e9);
    }
}
