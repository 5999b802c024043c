package dev.sluice.driver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.core.tcp.SendBuffer;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.ArpHeader;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.linux.NetNamespace;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TCP segmentation offload through a real PMD (net_tap offers {@code RTE_ETH_TX_OFFLOAD_TCP_TSO} and cuts with
 * DPDK's rte_gso): the same large segments (2 to 45 full segments, with and without RFC 7323 timestamps, a
 * short last one) are sent once cut in software (GSO) and once handed to the device as one 64 KiB-class mbuf,
 * captured by tcpdump on the Linux side of the tap and checked by scapy: every IPv4 and TCP checksum right,
 * and each frame the device cut identical bit for bit to the software one (so no frame exceeds the MSS, the
 * sequence numbers, IPv4 identifications, PSH on the last frame only and the payload bytes all agree).
 */
class TsoTapIT
{
    private static final String NS = "sluice-it-tso";
    private static final String IFACE = "sltso0";
    private static final String KERNEL_IP = "10.81.0.1";
    private static final long KERNEL_MAC = 0x0200_0081_0001L;
    private static final String SLUICE_IP = "10.81.0.2";
    /** {timestamps (1) or not (0), full segments, bytes after them}; segment bytes follow the tap's limit. */
    private static final int[][] SHAPES = {
        {0, 2, 0},
        {0, 44, 0},
        {1, 10, 700},
        {1, 45, 0},
    };

    @Test
    void framesTheDeviceCutsShouldEqualTheSoftwareCutOnTheWire(@TempDir final Path dir) throws Exception
    {
        final Eal eal = TestEal.get();
        final NetNamespace ns = NetNamespace.create(NS);
        ns.enter();
        final EthPort port;
        final PortOffloads offloads;
        final int portMtu;
        final int cutLimit;
        final MbufPool pool = MbufPool.create("it_tso_pool", 4095, 128, MbufPool.DEFAULT_DATA_ROOM);
        final MbufPool largePool = MbufPool.create("it_tso_large", 63, 0, DpdkFrameTransmitter.LARGE_DATA_ROOM);
        try
        {
            port = EthPort.of(eal.createVdev("net_tap9", "iface=" + IFACE));
            final PortInfo info = port.info();
            offloads = PortOffloads.choose(info, true);
            assertTrue(offloads.tso(), "net_tap offers TSO: " + offloads.describe());
            portMtu = PortMtu.configurable(info, 1500, true);
            cutLimit = PortMtu.tsoFrameLimit(info, portMtu);
            System.out.println("net_tap: " + info + ", port MTU " + portMtu + ", TSO frames up to " + cutLimit);
            port.configure(1, 1, 0, null, offloads.rxOffloads(), offloads.txOffloads(), portMtu);
            port.setupRxQueue(0, 512, pool);
            port.setupTxQueue(0, 512);
            port.start();
            ns.exec("ip", "link", "set", IFACE, "address", Addresses.macToString(KERNEL_MAC));
            ns.exec("ip", "addr", "add", KERNEL_IP + "/24", "dev", IFACE);
            ns.exec("ip", "link", "set", IFACE, "up");
        }
        finally
        {
            ns.leave();
        }
        final Path capture = dir.resolve("wire.pcap");
        final Process tcpdump = ns.start("tcpdump", "-Z", "root", "-U", "-n", "-i", IFACE, "-w", capture.toString(),
            "tcp and src host " + SLUICE_IP);
        waitForCaptureStart(tcpdump);

        final NetConfig config = NetConfig.builder().localMac(port.macAddressAsLong())
            .localIp(Addresses.parseIpv4(SLUICE_IP), 24).build();
        final TcpStackCounters softwareCounters = new TcpStackCounters();
        final TcpStackCounters deviceCounters = new TcpStackCounters();
        final long[] handedOver = new long[1];
        final long[] dropped = new long[1];
        final Throwable[] failure = new Throwable[1];
        final Thread thread = Thread.ofPlatform().start(() ->
        {
            try (Lcore lcore = eal.registerCurrentThread())
            {
                final DpdkFrameTransmitter software = new DpdkFrameTransmitter(lcore, pool, port.id(), 0);
                final DpdkFrameTransmitter device = new DpdkFrameTransmitter(lcore, pool, port.id(), 0);
                device.checksumOffloads(offloads.txChecksumOffloads());
                device.segmentationOffload(largePool, cutLimit);
                final NetworkLayer softwareLayer = new NetworkLayer(config, software, IGNORE, new NetCounters());
                final NetworkLayer deviceLayer = new NetworkLayer(config, device, IGNORE, new NetCounters());
                final UnsafeBuffer arp = kernelArpRequest(config.localMac());
                softwareLayer.onFrame(arp, 0, arp.capacity(), 0);
                deviceLayer.onFrame(arp, 0, arp.capacity(), 0);
                final NetworkSegmentOutput softwareOutput = new NetworkSegmentOutput(0, softwareCounters);
                softwareOutput.bind(softwareLayer);
                softwareOutput.segmentationOffload(65_536);
                final NetworkSegmentOutput deviceOutput = new NetworkSegmentOutput(0, deviceCounters);
                deviceOutput.bind(deviceLayer);
                final SendBuffer data = new SendBuffer(128 * 1024);
                final int[][] cases = cases(cutLimit);
                final UnsafeBuffer pattern = new UnsafeBuffer(new byte[70_000]);
                for (int c = 0; c < cases.length; c++)
                {
                    final int seq = 0x1000_0000 * (c + 1) + 12_345;
                    for (int i = 0; i < pattern.capacity(); i++)
                    {
                        pattern.putByte(i, (byte)(i * 13 + c));
                    }
                    data.reset(seq);
                    data.append(pattern, 0, cases[c][2]);
                    final TcpOptions options = new TcpOptions();
                    if (cases[c][1] == 1)
                    {
                        options.timestamps(0x0102_0304 + c, 0x0506_0708);
                    }
                    softwareOutput.sendLargeSegment(config.localIp(), 41_000 + c, Addresses.parseIpv4(KERNEL_IP), 9,
                        seq, 777, TcpHeader.ACK | TcpHeader.PSH, 5000 + c, options, data, cases[c][2], cases[c][0]);
                    software.flush();
                    deviceOutput.sendLargeSegment(config.localIp(), 41_000 + c, Addresses.parseIpv4(KERNEL_IP), 9,
                        seq, 777, TcpHeader.ACK | TcpHeader.PSH, 5000 + c, options, data, cases[c][2], cases[c][0]);
                    device.flush();
                }
                handedOver[0] = device.segmentsHandedOver();
                dropped[0] = software.framesDropped() + device.framesDropped() + software.claimFailures() +
                    device.claimFailures();
                software.releaseStash();
                device.releaseStash();
            }
            catch (final Throwable t)
            {
                failure[0] = t;
            }
        });
        thread.join();
        int frames = 0;
        long expected = 24;
        final int[][] cases = cases(cutLimit);
        for (final int[] c : cases)
        {
            final int header = 14 + 20 + 20 + (c[1] == 1 ? 12 : 0);
            for (int done = 0; done < c[2]; done += c[0])
            {
                frames++;
                expected += 2L * (16 + header + Math.min(c[0], c[2] - done));
            }
        }
        final long captureDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while ((!Files.exists(capture) || Files.size(capture) < expected) && System.nanoTime() < captureDeadline)
        {
            Thread.sleep(50);
        }
        Thread.sleep(200);
        tcpdump.destroy();
        assertTrue(tcpdump.waitFor(10, TimeUnit.SECONDS));
        final String txErrors = "port tx errors " + port.stats();
        port.stop();
        port.close();
        ns.close();
        pool.close();
        largePool.close();
        if (failure[0] != null)
        {
            throw new AssertionError(failure[0]);
        }
        assertEquals(cases.length - 2, handedOver[0], "large segments handed to net_tap (the last two in software)");
        assertEquals(cases.length, deviceCounters.largeSegmentsSent());
        assertEquals(cases.length, softwareCounters.largeSegmentsSent());
        assertEquals(frames, softwareCounters.segmentsSent());
        assertEquals(frames, deviceCounters.segmentsSent());
        assertEquals(0, dropped[0], txErrors);

        final Path script = Path.of(TsoTapIT.class.getResource("/checksum_pairs.py").toURI());
        final Process check = new ProcessBuilder("/usr/bin/python3", script.toString(), capture.toString(), SLUICE_IP)
            .redirectErrorStream(true).start();
        final String verdict = new String(check.getInputStream().readAllBytes()).strip();
        assertTrue(check.waitFor(60, TimeUnit.SECONDS));
        final String summary = verdict.lines().reduce((a, b) -> b).orElse("");
        assertEquals("frames=" + 2 * frames + " bad=0 pairs=" + frames + " mismatched=0", summary,
            verdict + "\n" + txErrors);
    }

    // {segment bytes, timestamps, payload bytes}: segments the tap cuts (its frames within cutLimit), then one
    // with frames one byte longer than it cuts and one of more frames than it cuts, which go out cut in software
    private static int[][] cases(final int cutLimit)
    {
        final int[][] cases = new int[SHAPES.length + 2][];
        for (int i = 0; i < SHAPES.length; i++)
        {
            final int options = SHAPES[i][0] == 1 ? 12 : 0;
            final int segmentBytes = Math.min(1460 - options, cutLimit - 54 - options);
            cases[i] = new int[] {segmentBytes, SHAPES[i][0], SHAPES[i][1] * segmentBytes + SHAPES[i][2]};
        }
        final int tooLong = Math.min(1460, cutLimit - 54 + 1);
        cases[SHAPES.length] = new int[] {tooLong, 0, 3 * tooLong};
        // and one of more frames than the tap cuts (rte_gso: 64): 100 frames of a 536-byte MSS, by GSO too
        cases[SHAPES.length + 1] = new int[] {536, 0, 100 * 536};
        return cases;
    }

    private static void waitForCaptureStart(final Process tcpdump) throws Exception
    {
        final StringBuilder seen = new StringBuilder();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        final var in = tcpdump.getInputStream();
        while (!seen.toString().contains("listening on") && System.nanoTime() < deadline)
        {
            if (in.available() > 0)
            {
                seen.append((char)in.read());
            }
            else
            {
                Thread.sleep(10);
            }
        }
        assertTrue(seen.toString().contains("listening on"), "tcpdump did not start: " + seen);
    }

    private static UnsafeBuffer kernelArpRequest(final long localMac)
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[60]);
        EthernetHeader.write(frame, 0, Addresses.MAC_BROADCAST, KERNEL_MAC, EthernetHeader.ETHER_TYPE_ARP);
        ArpHeader.write(frame, 14, ArpHeader.OPERATION_REQUEST, KERNEL_MAC, Addresses.parseIpv4(KERNEL_IP), 0,
            Addresses.parseIpv4(SLUICE_IP));
        return frame;
    }

    private static final TransportHandler IGNORE = new TransportHandler()
    {
        @Override
        public void onTcpSegment(
            final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
            final int sourceIp, final int destinationIp, final int tos, final long nowNs)
        {
        }

        @Override
        public void onIcmpError(
            final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
            final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
            final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
        {
        }
    };
}
