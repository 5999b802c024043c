package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.ArpHeader;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.linux.NetNamespace;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checksum offload through a real PMD (net_tap offers TX and RX IPv4/TCP checksum offload): the same
 * segments sent once through the software path and once through the offload path (pseudo-header sum in
 * the TCP field, IPv4 field 0, {@code RTE_MBUF_F_TX_*} flags) are captured by tcpdump on the Linux side and
 * checked by scapy: every checksum right, each pair identical bit for bit. Receive: frames written by scapy
 * with right and wrong checksums arrive flagged GOOD and BAD, and the network layer delivers or drops them.
 */
class ChecksumOffloadTapIT
{
    private static final String NS = "sluice-it-csum";
    private static final String IFACE = "slcsum0";
    private static final String KERNEL_IP = "10.79.0.1";
    private static final String KERNEL_MAC = "02:00:00:79:00:01";
    private static final String SLUICE_IP = "10.79.0.2";
    private static final int[] PAYLOAD_LENGTHS = {0, 1, 2, 3, 25, 26, 511, 1023, 1459, 1460};

    @Test
    void offloadedFramesShouldEqualSoftwareFramesOnTheWireAndReceiveFlagsShouldBeHonoured(@TempDir final Path dir)
        throws Exception
    {
        final Eal eal = TestEal.get();
        final NetNamespace ns = NetNamespace.create(NS);
        ns.enter();
        final EthPort port;
        final PortOffloads offloads;
        final MbufPool pool = MbufPool.create("it_csum_pool", 4095, 128, MbufPool.DEFAULT_DATA_ROOM);
        try
        {
            port = EthPort.of(eal.createVdev("net_tap7", "iface=" + IFACE));
            final PortInfo info = port.info();
            offloads = PortOffloads.choose(info, true);
            assertEquals(FrameTransmitter.OFFLOAD_IPV4_CHECKSUM | FrameTransmitter.OFFLOAD_TCP_CHECKSUM,
                offloads.txChecksumOffloads(), "net_tap offers TX checksum offload: " + offloads.describe());
            assertTrue(offloads.rxChecksumOffload(), "net_tap offers RX checksum offload: " + offloads.describe());
            port.configure(1, 1, 0, null, offloads.rxOffloads(), offloads.txOffloads());
            port.setupRxQueue(0, 512, pool);
            port.setupTxQueue(0, 512);
            port.start();
            ns.exec("ip", "link", "set", IFACE, "address", KERNEL_MAC);
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
        final NetCounters rxCounters = new NetCounters();
        final int[] rxStatus = new int[3];
        final long[] rxDelivered = new long[1];
        final Throwable[] failure = new Throwable[1];
        final Thread thread = Thread.ofPlatform().start(() ->
        {
            try (Lcore lcore = eal.registerCurrentThread())
            {
                final DpdkFrameTransmitter software = new DpdkFrameTransmitter(lcore, pool, port.id(), 0);
                final DpdkFrameTransmitter offload = new DpdkFrameTransmitter(lcore, pool, port.id(), 0);
                offload.checksumOffloads(offloads.txChecksumOffloads());
                final NetworkLayer softwareLayer = new NetworkLayer(config, software, IGNORE, new NetCounters());
                final NetworkLayer offloadLayer = new NetworkLayer(config, offload, IGNORE, new NetCounters());
                final UnsafeBuffer arp = kernelArpRequest(config.localMac());
                softwareLayer.onFrame(arp, 0, arp.capacity(), 0);
                offloadLayer.onFrame(arp, 0, arp.capacity(), 0);
                for (int i = 0; i < PAYLOAD_LENGTHS.length; i++)
                {
                    sendSegment(softwareLayer, PAYLOAD_LENGTHS[i], i + 1);
                    software.flush();
                    sendSegment(offloadLayer, PAYLOAD_LENGTHS[i], i + 1);
                    offload.flush();
                }
                software.releaseStash();
                offload.releaseStash();

                // receive: scapy writes three frames into the tap (good, bad TCP checksum, bad IPv4 checksum)
                final NetworkLayer receiver = new NetworkLayer(config, software, new TransportHandler()
                {
                    @Override
                    public void onTcpSegment(
                        final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength,
                        final int segmentLength, final int sourceIp, final int destinationIp, final int tos,
                        final long nowNs)
                    {
                        rxDelivered[0]++;
                    }

                    @Override
                    public void onIcmpError(
                        final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
                        final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
                        final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
                    {
                    }
                }, rxCounters);
                final Process scapy = ns.start("/usr/bin/python3", "-c", String.join("\n",
                    "from scapy.all import Ether, IP, TCP, sendp",
                    "base = Ether(dst='" + EthPort.formatMac(port.macAddress()) + "', src='" + KERNEL_MAC + "')",
                    "ip = dict(src='" + KERNEL_IP + "', dst='" + SLUICE_IP + "')",
                    "good = base / IP(**ip) / TCP(sport=7001, dport=9, flags='A') / ('x' * 11)",
                    "bad_tcp = base / IP(**ip) / TCP(sport=7002, dport=9, flags='A', chksum=0x1234) / ('x' * 11)",
                    "bad_ip = base / IP(chksum=0x1234, **ip) / TCP(sport=7003, dport=9, flags='A') / ('x' * 11)",
                    "sendp([good, bad_tcp, bad_ip], iface='" + IFACE + "', verbose=False)"));
                assertTrue(scapy.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, scapy.exitValue(), new String(scapy.getInputStream().readAllBytes()));
                final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32);
                final UnsafeBuffer frame = new UnsafeBuffer(0, 0);
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                int seen = 0;
                while (seen < 3 && System.nanoTime() < deadline)
                {
                    final int n = lcore.rxBurst(port.id(), 0, burst, 32);
                    for (int i = 0; i < n; i++)
                    {
                        final long mbuf = Mbuf.at(burst, i);
                        frame.wrap(Mbuf.dataAddress(mbuf), Mbuf.dataLength(mbuf));
                        final int sourcePort = testSourcePort(frame);
                        if (sourcePort >= 7001 && sourcePort <= 7003)
                        {
                            final int status = PortOffloads.rxChecksumStatus(Mbuf.offloadFlags(mbuf));
                            rxStatus[sourcePort - 7001] = status;
                            receiver.onFrame(frame, 0, frame.capacity(), status, 0);
                            seen++;
                        }
                    }
                    lcore.freeBulk(burst, n);
                }
            }
            catch (final Throwable t)
            {
                failure[0] = t;
            }
        });
        thread.join();
        // a busy machine may schedule tcpdump late: wait until all 20 frames are in the file (24-byte file
        // header, 16 bytes per record), then SIGTERM (tcpdump closes the file)
        long expected = 24;
        for (final int length : PAYLOAD_LENGTHS)
        {
            expected += 2L * (16 + Math.max(60, 54 + length));
        }
        final long captureDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while ((!Files.exists(capture) || Files.size(capture) < expected) && System.nanoTime() < captureDeadline)
        {
            Thread.sleep(50);
        }
        Thread.sleep(200);
        tcpdump.destroy();
        assertTrue(tcpdump.waitFor(10, TimeUnit.SECONDS));
        port.stop();
        port.close();
        ns.close();
        pool.close();
        if (failure[0] != null)
        {
            throw new AssertionError(failure[0]);
        }

        final Path script = Path.of(ChecksumOffloadTapIT.class.getResource("/checksum_pairs.py").toURI());
        final Process check = new ProcessBuilder("/usr/bin/python3", script.toString(), capture.toString(), SLUICE_IP)
            .redirectErrorStream(true).start();
        final String verdict = new String(check.getInputStream().readAllBytes()).strip();
        assertTrue(check.waitFor(60, TimeUnit.SECONDS));
        final String summary = verdict.lines().reduce((a, b) -> b).orElse("");
        assertEquals("frames=" + 2 * PAYLOAD_LENGTHS.length + " bad=0 pairs=" + PAYLOAD_LENGTHS.length +
            " mismatched=0", summary, verdict);

        assertEquals(NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_GOOD, rxStatus[0], "good frame");
        assertEquals(NetworkLayer.RX_IPV4_CHECKSUM_GOOD | NetworkLayer.RX_L4_CHECKSUM_BAD, rxStatus[1],
            "bad TCP checksum");
        assertTrue((rxStatus[2] & NetworkLayer.RX_IPV4_CHECKSUM_BAD) != 0, "bad IPv4 checksum: " + rxStatus[2]);
        assertEquals(1, rxDelivered[0], "only the good frame is delivered");
        assertEquals(1, rxCounters.get(NetCounterDescriptor.TCP_BAD_CHECKSUM));
        assertEquals(1, rxCounters.get(NetCounterDescriptor.IPV4_BAD_CHECKSUM));
    }

    private static void waitForCaptureStart(final Process tcpdump) throws Exception
    {
        // tcpdump prints "listening on ..." once the capture is open
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

    private static int testSourcePort(final DirectBuffer frame)
    {
        if (frame.capacity() < 54 || EthernetHeader.etherType(frame, 0, 14) != EthernetHeader.ETHER_TYPE_IPV4 ||
            Ipv4Header.protocol(frame, 14) != Ipv4Header.PROTOCOL_TCP)
        {
            return -1;
        }
        return TcpHeader.sourcePort(frame, 34);
    }

    private static UnsafeBuffer kernelArpRequest(final long localMac)
    {
        final long kernelMac = 0x0200_0079_0001L;
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[60]);
        EthernetHeader.write(frame, 0, Addresses.MAC_BROADCAST, kernelMac, EthernetHeader.ETHER_TYPE_ARP);
        ArpHeader.write(frame, 14, ArpHeader.OPERATION_REQUEST, kernelMac, Addresses.parseIpv4(KERNEL_IP), 0,
            Addresses.parseIpv4(SLUICE_IP));
        return frame;
    }

    private static void sendSegment(final NetworkLayer layer, final int payloadLength, final int seed)
    {
        final int segmentLength = 20 + payloadLength;
        final int offset = layer.beginIpv4(Addresses.parseIpv4(KERNEL_IP), Ipv4Header.PROTOCOL_TCP, 0, segmentLength);
        assertTrue(offset > 0, "no frame for segment " + seed);
        final MutableDirectBuffer frame = layer.txBuffer();
        TcpHeader.write(frame, offset, 40000 + seed, 9, 0x1234_5678 * seed, 0, 20, TcpHeader.SYN, 65535 - seed, 0);
        for (int i = 0; i < payloadLength; i++)
        {
            frame.putByte(offset + 20 + i, (byte)(i * 31 + seed));
        }
        assertEquals(NetworkLayer.SENT, layer.commitTcp(segmentLength, 0));
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
