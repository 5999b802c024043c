package dev.sluice.driver.runtime;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.ShardCounterDescriptor;
import dev.sluice.driver.TestEalAccess;
import dev.sluice.driver.apps.SinkApp;
import dev.sluice.driver.apps.SourceApp;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.RingPorts;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jumbo frames on a virtual link (issue 15): two runtimes over a crossed net_ring pair, {@code sluice source}
 * sending 20 MiB to {@code sluice sink}. With MTU 9000 on both ends the segments carry up to 8,960 bytes (MSS
 * from the MTU, MUST-67 on both sides), in frames of up to 9,014 bytes in one mbuf each; when one end keeps
 * MTU 1500, its MSS option (1,460) bounds what the other sends: the ends agree on the smaller.
 */
class JumboRingIT
{
    private static final int BYTES = 20 << 20;

    @Test
    void bothEndsAtMtu9000ShouldCarrySegmentsOfUpTo8960Bytes() throws Exception
    {
        final long frames = transfer("jra", "jrb", 9000, 9000, "10.92.0");
        assertEquals(0, lastSinkLinearized + lastSinkReadInPlace, "payloads copied by default: no chains");
        assertTrue(frames >= BYTES / 8960 && frames < BYTES / 8960 + 300, "data frames received: " + frames);
    }

    @Test
    void zeroCopyAtMtu9000ShouldDeliverEveryByteFromChainsOfUpToFourMbufs() throws Exception
    {
        // an 8,960-byte payload spans three or four 4 KiB send-buffer chunks: a chain of up to five mbufs
        System.setProperty(dev.sluice.driver.ZeroCopyTransmit.PROPERTY, "true");
        final long frames;
        try
        {
            frames = transfer("jrk", "jrl", 9000, 9000, "10.97.0");
        }
        finally
        {
            System.clearProperty(dev.sluice.driver.ZeroCopyTransmit.PROPERTY);
        }
        assertTrue(lastSinkLinearized + lastSinkReadInPlace >= BYTES / 8960, "chained frames received: " +
            lastSinkLinearized + " linearized, " + lastSinkReadInPlace + " read in place");
        // 20 MiB in 8,960-byte segments is 2,341 frames (plus handshake and close): far fewer than 1,460-byte
        // segments would need (14,364)
        assertTrue(frames >= BYTES / 8960 && frames < BYTES / 8960 + 300, "data frames received: " + frames);
    }

    @Test
    void anEndAtMtu1500ShouldBoundTheSegmentsOfAnEndAt9000() throws Exception
    {
        final long frames = transfer("jrc", "jrd", 9000, 1500, "10.93.0");
        assertTrue(frames >= BYTES / 1460, "the sender at MTU 9000 used the receiver's MSS 1460: " + frames);
    }

    @Test
    void receiveCoalescingShouldDeliverTheTransferIntactInFewerSegments() throws Exception
    {
        System.setProperty(SluiceRuntime.RX_COALESCING_PROPERTY, "true");
        System.setProperty(dev.sluice.driver.ShardAgent.GSO_PROPERTY, "true"); // and software segmentation offload
        // and zero-copy transmit: the sink copies each chained frame into its burst slot, then coalesces
        System.setProperty(dev.sluice.driver.ZeroCopyTransmit.PROPERTY, "true");
        try
        {
            // the sink checks nothing but the byte count; the source's pattern is checked by the echo IT. Here:
            // every byte arrives, in far fewer TCP segments than frames
            transfer("jre", "jrf", 1500, 1500, "10.94.0");
        }
        finally
        {
            System.clearProperty(SluiceRuntime.RX_COALESCING_PROPERTY);
            System.clearProperty(dev.sluice.driver.ShardAgent.GSO_PROPERTY);
            System.clearProperty(dev.sluice.driver.ZeroCopyTransmit.PROPERTY);
        }
        assertTrue(lastSinkCoalesced > 0, "segments merged by the sink's shard: " + lastSinkCoalesced);
        assertTrue(lastSinkLinearized > BYTES / 1460 / 2, "chained frames linearized: " + lastSinkLinearized);
    }

    @Test
    void partialChecksumsShouldBeTrustedOnTheInMemoryLink_MUST3() throws Exception
    {
        // net_ring is an in-memory link (PortOffloads): the sender leaves the checksums partial, the sink trusts
        // the marks on every data frame and still receives every byte
        final long frames = transfer("jrg", "jrh", 1500, 1500, "10.95.0");
        assertTrue(lastSinkPartialTrusted >= BYTES / 1460 && lastSinkPartialTrusted <= frames,
            "frames trusted " + lastSinkPartialTrusted + " of " + frames);
        assertEquals(0, lastSinkPartialCompleted);
    }

    @Test
    void anImpairedReceiverShouldCompletePartialChecksumsAndStillCatchCorruption_MUST3() throws Exception
    {
        // the sink impairs what it receives (1 % of frames get a bit flipped after they arrive): it cannot trust
        // the marks, so it completes the checksums in software before the impairment, and verification drops the
        // corrupted frames (counted) while every byte still arrives by retransmission
        final long frames = transfer("jri", "jrj", 1500, 1500, "10.96.0", " --impair-rx corrupt=1%,seed=7");
        assertEquals(0, lastSinkPartialTrusted);
        assertTrue(lastSinkPartialCompleted >= BYTES / 1460 && lastSinkPartialCompleted <= frames,
            "frames completed " + lastSinkPartialCompleted + " of " + frames);
        assertTrue(lastSinkChecksumDrops > 0, "corrupted frames dropped by checksum: " + lastSinkChecksumDrops);
    }

    private static long lastSinkCoalesced;
    private static long lastSinkPartialTrusted;
    private static long lastSinkPartialCompleted;
    private static long lastSinkChecksumDrops;
    private static long lastSinkLinearized;
    private static long lastSinkReadInPlace;

    /** @return frames the sink's shard received. */
    private static long transfer(
        final String ringA, final String ringB, final int senderMtu, final int receiverMtu, final String net)
        throws Exception
    {
        return transfer(ringA, ringB, senderMtu, receiverMtu, net, "");
    }

    private static long transfer(
        final String ringA, final String ringB, final int senderMtu, final int receiverMtu, final String net,
        final String sinkFlags) throws Exception
    {
        final Eal eal = TestEalAccess.get();
        final int[] ports = RingPorts.createCrossedPair("net_ring_" + ringA, "net_ring_" + ringB, 4096);
        final SluiceConfig sinkConfig = SluiceConfig.parse(("sink --dev net_ring_" + ringA + " --ip " + net +
            ".1/24 --listen 5001 --idle backoff --mtu " + receiverMtu + " --receive-buffer 1048576 " +
            "--counters-file /dev/shm/slrt-jumbo-sink.counters" + sinkFlags).split(" "));
        final SluiceConfig sourceConfig = SluiceConfig.parse(("source --dev net_ring_" + ringB + " --ip " + net +
            ".2/24 --connect " + net + ".1:5001 --bytes " + BYTES + " --idle backoff --mtu " + senderMtu +
            " --send-buffer 1048576 --counters-file /dev/shm/slrt-jumbo-source.counters").split(" "));
        final SourceApp source = new SourceApp(BYTES);
        final PrintStream quiet = new PrintStream(System.out, true);
        final SluiceRuntime sink = SluiceRuntime.start(eal, EthPort.of(ports[0]), sinkConfig, new SinkApp(quiet),
            System.out);
        final SluiceRuntime sender;
        try
        {
            sender = SluiceRuntime.start(eal, EthPort.of(ports[1]), sourceConfig, source, System.out);
        }
        catch (final RuntimeException ex)
        {
            sink.close();
            throw ex;
        }
        try
        {
            return transfer(source, sender, sink, net);
        }
        finally
        {
            sender.close(); // whatever happened: the pools go back to the EAL for the next test
            sink.close();
        }
    }

    private static long transfer(
        final SourceApp source, final SluiceRuntime sender, final SluiceRuntime sink, final String net)
        throws Exception
    {
        try
        {
            source.start(sender, Addresses.parseIpv4(net + ".1"), 5001);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (source.outcome() == SourceApp.RUNNING && System.nanoTime() < deadline)
            {
                Thread.sleep(10);
            }
            assertEquals(SourceApp.SUCCEEDED, source.outcome(), "source: " + source.failure());
        }
        finally
        {
            sender.closeConnections(TimeUnit.MILLISECONDS.toNanos(500));
            sink.closeConnections(TimeUnit.MILLISECONDS.toNanos(500));
            sender.stopShards();
            sink.stopShards();
        }
        assertEquals(BYTES, sink.agent(0).shardCounters().get(ShardCounterDescriptor.APP_BYTES_IN));
        assertEquals(0, sink.agent(0).multiSegmentDrops() + sender.agent(0).multiSegmentDrops());
        assertEquals(0, sender.agent(0).transmitter().claimFailures(), "every frame fit one mbuf");
        lastSinkCoalesced = sink.agent(0).counters().get(NetCounterDescriptor.RX_SEGMENTS_COALESCED);
        lastSinkPartialTrusted = sink.agent(0).shardCounters().get(ShardCounterDescriptor.RX_PARTIAL_CHECKSUMS_TRUSTED);
        lastSinkPartialCompleted =
            sink.agent(0).shardCounters().get(ShardCounterDescriptor.RX_PARTIAL_CHECKSUMS_COMPLETED);
        lastSinkChecksumDrops = sink.agent(0).counters().get(NetCounterDescriptor.TCP_BAD_CHECKSUM) +
            sink.agent(0).counters().get(NetCounterDescriptor.IPV4_BAD_CHECKSUM);
        lastSinkLinearized = sink.agent(0).chainsLinearized();
        lastSinkReadInPlace = sink.agent(0).chainsReadInPlace();
        if (sender.agent(0).externalChunks() != null)
        {
            assertEquals(0, sender.agent(0).externalChunks().referencesOut(), "every chunk reference let go");
            assertEquals(0, sender.agent(0).externalChunks().freeCallbacks());
            assertEquals(0, sender.attachPool().inUseCount(), "attached mbufs back in their pool");
        }
        return sink.agent(0).shardCounters().get(ShardCounterDescriptor.RX_FRAMES);
    }
}
