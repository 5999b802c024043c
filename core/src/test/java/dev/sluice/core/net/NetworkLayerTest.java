package dev.sluice.core.net;

import dev.sluice.core.counters.NetCounterDescriptor;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.wire.Addresses;
import dev.sluice.core.wire.ArpHeader;
import dev.sluice.core.wire.Checksum;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.GoldenFrames;
import dev.sluice.core.wire.IcmpHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.sluice.core.counters.NetCounterDescriptor.*;
import static dev.sluice.core.wire.GoldenFrames.IP_A;
import static dev.sluice.core.wire.GoldenFrames.IP_B;
import static dev.sluice.core.wire.GoldenFrames.MAC_A;
import static dev.sluice.core.wire.GoldenFrames.MAC_B;
import static dev.sluice.core.wire.GoldenFrames.buffer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetworkLayerTest
{
    private static final long SECOND_NS = 1_000_000_000L;
    private static final int IP = 14;
    private static final int L4 = 34;
    private static final int GATEWAY = Addresses.parseIpv4("10.77.0.254");

    private final RecordingTransmitter tx = new RecordingTransmitter();
    private final RecordingTransport transport = new RecordingTransport();
    private final NetCounters counters = new NetCounters();
    private NetworkLayer layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24));

    private NetworkLayer layer(final NetConfig.Builder builder)
    {
        counters.reset();
        return new NetworkLayer(builder.build(), tx, transport, counters);
    }

    private void receive(final UnsafeBuffer frame, final long nowNs)
    {
        layer.onFrame(frame, 0, frame.capacity(), nowNs);
    }

    private void receive(final String hex)
    {
        receive(buffer(hex), 0);
    }

    private static byte[] bytes(final UnsafeBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return bytes;
    }

    private static UnsafeBuffer arpFrame(final int operation, final long senderMac, final int senderIp,
        final long targetMac, final int targetIp)
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[60]);
        EthernetHeader.write(frame, 0, operation == ArpHeader.OPERATION_REQUEST ? Addresses.MAC_BROADCAST : targetMac,
            senderMac, EthernetHeader.ETHER_TYPE_ARP);
        ArpHeader.write(frame, 14, operation, senderMac, senderIp, targetMac, targetIp);
        return frame;
    }

    private void assertOnlyDrop(final NetCounterDescriptor expected)
    {
        assertEquals(1, counters.get(expected), expected.label());
        assertEquals(1, counters.totalDrops(), counters.toString());
        assertTrue(transport.segments.isEmpty() && transport.errors.isEmpty());
    }

    private int sendTcpHeader(final int destination, final long nowNs)
    {
        final int offset = layer.beginIpv4(destination, Ipv4Header.PROTOCOL_TCP, 0, 20);
        if (offset < 0)
        {
            return offset;
        }
        final MutableDirectBuffer frame = layer.txBuffer();
        TcpHeader.write(frame, offset, 1000, 80, 1, 0, 20, TcpHeader.SYN, 65535, 0);
        TcpHeader.putChecksum(frame, offset, 20, layer.localIp(), destination);
        return layer.commitIpv4(20, nowNs);
    }

    @Nested
    class ArpInput
    {
        @Test
        void shouldNotAnswerRequestFromBroadcastSenderMac()
        {
            receive(arpFrame(ArpHeader.OPERATION_REQUEST, Addresses.MAC_BROADCAST, IP_A, 0, IP_B), 0);
            assertTrue(tx.sent.isEmpty(), "a reply would go to the broadcast address");
        }

        @Test
        void shouldCountOurOwnArpComingBack()
        {
            receive(arpFrame(ArpHeader.OPERATION_REQUEST, MAC_B, IP_B, 0, IP_B), 0);
            assertOnlyDrop(ARP_NOT_FOR_US);
        }

        @Test
        void shouldAnswerCapturedRequestWithCapturedReplyBytes()
        {
            receive(GoldenFrames.ARP_REQUEST);
            assertEquals(1, tx.sent.size());
            final UnsafeBuffer reply = tx.last();
            assertEquals(EthernetHeader.MIN_FRAME_LENGTH, reply.capacity());
            assertArrayEquals(buffer(GoldenFrames.ARP_REPLY).byteArray(), bytes(reply, 0, 42));
            assertArrayEquals(new byte[18], bytes(reply, 42, 18));
            assertEquals(MAC_A, layer.arpCache().lookup(IP_A));
            assertEquals(1, counters.get(ARP_REPLIES_SENT));
        }

        @Test
        void shouldIgnoreRequestForAnotherAddressAndNotCacheSender()
        {
            receive(arpFrame(ArpHeader.OPERATION_REQUEST, MAC_A, IP_A, 0, IP_B + 1), 0);
            assertOnlyDrop(ARP_NOT_FOR_US);
            assertEquals(0, layer.arpCache().size());
            assertTrue(tx.sent.isEmpty());
        }

        @Test
        void shouldSendGratuitousArpOnStart()
        {
            layer = layer(NetConfig.builder().localMac(MAC_A).localIp(IP_A, 24));
            layer.start(0);
            assertArrayEquals(buffer(GoldenFrames.GRATUITOUS_ARP).byteArray(), bytes(tx.last(), 0, 42));
        }

        @Test
        void shouldCountConflictWhenAnotherMacClaimsOurAddress()
        {
            layer = layer(NetConfig.builder().localMac(0x020000000001L).localIp(IP_A, 24));
            receive(GoldenFrames.GRATUITOUS_ARP);
            assertOnlyDrop(ARP_ADDRESS_CONFLICT);
        }

        @Test
        void shouldDropTruncatedAndUnsupportedArp()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ARP_REQUEST);
            layer.onFrame(frame, 0, 41, 0);
            assertOnlyDrop(ARP_TRUNCATED);
            frame.putByte(14 + 4, (byte)8);
            receive(frame, 0);
            assertEquals(1, counters.get(ARP_UNSUPPORTED));
        }
    }

    @Nested
    class Ipv4Input
    {
        @Test
        void shouldDeliverCapturedSynWithVerifiedChecksum_MUST3()
        {
            receive(GoldenFrames.TCP_SYN);
            assertEquals(1, transport.segments.size());
            final RecordingTransport.Segment segment = transport.segments.get(0);
            assertEquals(40, segment.tcpHeaderLength());
            assertEquals(40, segment.segmentLength());
            assertEquals(IP_A, segment.sourceIp());
            assertEquals(IP_B, segment.destinationIp());
            assertEquals(49260, segment.sourcePort());
            assertEquals(0, counters.totalDrops());
        }

        @Test
        void shouldDeliverVlanTaggedSyn()
        {
            receive(GoldenFrames.VLAN_TCP_SYN);
            assertEquals(1, transport.segments.size());
        }

        @Test
        void shouldDeliverOddLengthPayloadSegment()
        {
            receive(GoldenFrames.TCP_DATA_ODD);
            assertEquals(111, transport.segments.get(0).segmentLength());
        }

        @Test
        void shouldDropBadTcpChecksum_MUST3()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_DATA_ODD);
            frame.putByte(frame.capacity() - 1, (byte)'X');
            receive(frame, 0);
            assertOnlyDrop(TCP_BAD_CHECKSUM);
        }

        @Test
        void shouldDropBadIpv4HeaderChecksum()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putByte(IP + Ipv4Header.TTL_OFFSET, (byte)63);
            receive(frame, 0);
            assertOnlyDrop(IPV4_BAD_CHECKSUM);
        }

        @Test
        void shouldDropFrameForAnotherMac()
        {
            layer = layer(NetConfig.builder().localMac(MAC_A).localIp(IP_B, 24));
            receive(GoldenFrames.TCP_SYN);
            assertOnlyDrop(ETH_NOT_FOR_US);
        }

        @Test
        void shouldDropDatagramForAnotherAddress()
        {
            layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B + 1, 24));
            receive(GoldenFrames.TCP_SYN);
            assertOnlyDrop(IPV4_NOT_FOR_US);
        }

        @Test
        void shouldDropAndCountFragments()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putShort(IP + 6, (short)Ipv4Header.FLAG_MORE_FRAGMENTS, ByteOrder.BIG_ENDIAN);
            Ipv4Header.putChecksum(frame, IP, 20);
            receive(frame, 0);
            assertOnlyDrop(IPV4_FRAGMENT);
        }

        @Test
        void shouldAcceptTtlZeroAsAHost()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putByte(IP + Ipv4Header.TTL_OFFSET, (byte)0);
            Ipv4Header.putChecksum(frame, IP, 20);
            receive(frame, 0);
            assertEquals(1, transport.segments.size());
        }

        @Test
        void shouldDropUnsupportedProtocol()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putByte(IP + Ipv4Header.PROTOCOL_OFFSET, (byte)Ipv4Header.PROTOCOL_UDP);
            Ipv4Header.putChecksum(frame, IP, 20);
            receive(frame, 0);
            assertOnlyDrop(IPV4_UNSUPPORTED_PROTOCOL);
        }

        @Test
        void shouldDropSynToBroadcast_MUST57()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putInt(IP + Ipv4Header.DESTINATION_OFFSET, Addresses.parseIpv4("10.77.0.255"), ByteOrder.BIG_ENDIAN);
            Ipv4Header.putChecksum(frame, IP, 20);
            receive(frame, 0);
            assertOnlyDrop(IPV4_BROADCAST_DROPPED);
        }

        @Test
        void shouldDropMulticastSource_MUST63()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putInt(IP + Ipv4Header.SOURCE_OFFSET, Addresses.parseIpv4("224.0.0.1"), ByteOrder.BIG_ENDIAN);
            Ipv4Header.putChecksum(frame, IP, 20);
            receive(frame, 0);
            assertOnlyDrop(IPV4_BAD_SOURCE);
        }

        @Test
        void shouldDropLoopbackAndReservedSources_MUST63()
        {
            for (final String source : new String[] {"127.0.0.1", "0.1.2.3", "240.0.0.1"})
            {
                counters.reset();
                final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
                frame.putInt(IP + Ipv4Header.SOURCE_OFFSET, Addresses.parseIpv4(source), ByteOrder.BIG_ENDIAN);
                Ipv4Header.putChecksum(frame, IP, 20);
                receive(frame, 0);
                assertOnlyDrop(IPV4_BAD_SOURCE);
            }
        }

        @Test
        void shouldDropUnicastDatagramInLinkLayerBroadcastFrame()
        {
            // RFC 1122 3.3.6: a datagram for a unicast address that arrives in a link-layer broadcast is discarded
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putShort(0, (short)0xFFFF);
            frame.putInt(2, 0xFFFF_FFFF);
            receive(frame, 0);
            assertOnlyDrop(IPV4_UNICAST_IN_LINK_BROADCAST);
        }

        @Test
        void shouldDropIpv6()
        {
            layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24));
            final UnsafeBuffer frame = buffer(GoldenFrames.IPV6_ROUTER_SOLICITATION);
            EthernetHeader.putMac(frame, 0, MAC_B);
            receive(frame, 0);
            assertOnlyDrop(ETH_UNSUPPORTED_ETHER_TYPE);
        }

        @Test
        void shouldDropTcpHeaderWithBadDataOffset()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.TCP_SYN);
            frame.putByte(L4 + 12, (byte)0x40);
            receive(frame, 0);
            assertOnlyDrop(TCP_BAD_HEADER_LENGTH);
        }
    }

    @Nested
    class IcmpInput
    {
        @Test
        void shouldAnswerCapturedEchoRequestWithCapturedReplyPayload()
        {
            receive(GoldenFrames.ARP_REQUEST); // learns 10.77.0.1
            tx.sent.clear();
            receive(GoldenFrames.ICMP_ECHO_REQUEST);
            assertEquals(1, tx.sent.size());
            final UnsafeBuffer reply = tx.last();
            final UnsafeBuffer expected = buffer(GoldenFrames.ICMP_ECHO_REPLY);
            assertEquals(MAC_A, EthernetHeader.destination(reply, 0));
            assertEquals(20, Ipv4Header.validate(reply, IP, reply.capacity() - IP));
            assertEquals(IP_A, Ipv4Header.destination(reply, IP));
            assertEquals(IP_B, Ipv4Header.source(reply, IP));
            assertArrayEquals(bytes(expected, L4, 64), bytes(reply, L4, 64));
            assertEquals(1, counters.get(ICMP_ECHO_REPLIES_SENT));
        }

        @Test
        void shouldQueueEchoReplyUntilArpAnswers()
        {
            receive(GoldenFrames.ICMP_ECHO_REQUEST);
            assertEquals(1, tx.sent.size());
            assertEquals(ArpHeader.OPERATION_REQUEST, ArpHeader.operation(tx.last(), 14));
            assertEquals(IP_A, ArpHeader.targetIp(tx.last(), 14));
            receive(arpFrame(ArpHeader.OPERATION_REPLY, MAC_A, IP_A, MAC_B, IP_B), 5);
            assertEquals(2, tx.sent.size());
            final UnsafeBuffer reply = tx.last();
            assertEquals(MAC_A, EthernetHeader.destination(reply, 0));
            assertEquals(IcmpHeader.TYPE_ECHO_REPLY, IcmpHeader.type(reply, L4));
            assertEquals(0, Checksum.compute(reply, L4, 64));
        }

        @Test
        void shouldDeliverFragmentationNeededWithQuotedTcpHeader_MUST54()
        {
            layer = layer(NetConfig.builder().localMac(MAC_A).localIp(IP_A, 24));
            receive(GoldenFrames.ICMP_FRAGMENTATION_NEEDED);
            assertEquals(1, transport.errors.size());
            final RecordingTransport.IcmpError error = transport.errors.get(0);
            assertEquals(IcmpHeader.ERROR_FRAGMENTATION_NEEDED, error.kind());
            assertEquals(1400, error.restOfHeader() & 0xFFFF);
            assertEquals(IP_A, error.quotedSourceIp());
            assertEquals(IP_B, error.quotedDestinationIp());
            assertEquals(40, error.quotedTcpLength());
            assertEquals(49260, error.quotedSourcePort());
            assertEquals(0x42f1e09b, error.quotedSequence());
        }

        @Test
        void shouldDeliverTimeExceededAsSoftError_MUST56()
        {
            layer = layer(NetConfig.builder().localMac(MAC_A).localIp(IP_A, 24));
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_FRAGMENTATION_NEEDED);
            IcmpHeader.write(frame, L4, IcmpHeader.TYPE_TIME_EXCEEDED, 0, 0);
            IcmpHeader.putChecksum(frame, L4, frame.capacity() - L4);
            receive(frame, 0);
            assertEquals(IcmpHeader.ERROR_SOFT, transport.errors.get(0).kind());
            assertEquals(1, counters.get(ICMP_TIME_EXCEEDED));
        }

        @Test
        void shouldSilentlyDiscardSourceQuench_MUST55()
        {
            layer = layer(NetConfig.builder().localMac(MAC_A).localIp(IP_A, 24));
            receive(GoldenFrames.ICMP_SOURCE_QUENCH);
            assertOnlyDrop(ICMP_SOURCE_QUENCH_IGNORED);
        }

        @Test
        void shouldDropErrorQuotingUdp()
        {
            layer = layer(NetConfig.builder().localMac(MAC_A).localIp(IP_A, 24));
            receive(GoldenFrames.ICMP_PORT_UNREACHABLE_UDP);
            assertOnlyDrop(ICMP_BAD_QUOTE);
        }

        @Test
        void shouldDropIcmpWithBadChecksum()
        {
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_ECHO_REQUEST);
            frame.putByte(frame.capacity() - 1, (byte)0);
            receive(frame, 0);
            assertOnlyDrop(ICMP_BAD_CHECKSUM);
            assertTrue(tx.sent.isEmpty());
        }

        @Test
        void shouldVerifyIcmpChecksumEvenWhenL4ChecksumsAreOffloaded()
        {
            // NIC receive offload covers TCP/UDP, not ICMP: a corrupted hard error must not abort a connection
            layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24).verifyChecksums(true, false));
            final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_ECHO_REQUEST);
            frame.putByte(frame.capacity() - 1, (byte)0);
            receive(frame, 0);
            assertOnlyDrop(ICMP_BAD_CHECKSUM);
        }
    }

    @Nested
    class Ipv4Output
    {
        @Test
        void shouldSetDontFragmentConfiguredTtlAndDscp_MUST48_MUST49()
        {
            layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24).ttl(33));
            receive(GoldenFrames.ARP_REQUEST);
            final int offset = layer.beginIpv4(IP_A, Ipv4Header.PROTOCOL_TCP, 0xb8, 20);
            TcpHeader.write(layer.txBuffer(), offset, 1000, 80, 1, 0, 20, TcpHeader.SYN, 65535, 0);
            TcpHeader.putChecksum(layer.txBuffer(), offset, 20, IP_B, IP_A);
            assertEquals(NetworkLayer.SENT, layer.commitIpv4(20, 0));
            final UnsafeBuffer frame = tx.last();
            assertEquals(60, frame.capacity());
            assertEquals(MAC_A, EthernetHeader.destination(frame, 0));
            assertEquals(20, Ipv4Header.validate(frame, IP, 46));
            assertEquals(Ipv4Header.FLAG_DONT_FRAGMENT, Ipv4Header.flagsAndFragmentOffset(frame, IP));
            assertEquals(33, Ipv4Header.ttl(frame, IP));
            assertEquals(0xb8, Ipv4Header.tos(frame, IP));
            assertEquals(40, Ipv4Header.totalLength(frame, IP));
            assertTrue(TcpHeader.isChecksumValid(frame, L4, 20, IP_B, IP_A));
            assertArrayEquals(new byte[6], bytes(frame, 54, 6));
        }

        @Test
        void shouldResolveGatewayForOffLinkDestination()
        {
            layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24).gatewayIp(GATEWAY));
            assertEquals(NetworkLayer.QUEUED, sendTcpHeader(Addresses.parseIpv4("192.0.2.7"), 0));
            assertEquals(GATEWAY, ArpHeader.targetIp(tx.last(), 14));
            receive(arpFrame(ArpHeader.OPERATION_REPLY, 0x020000000099L, GATEWAY, MAC_B, IP_B), 1);
            assertEquals(0x020000000099L, EthernetHeader.destination(tx.last(), 0));
            assertEquals(Addresses.parseIpv4("192.0.2.7"), Ipv4Header.destination(tx.last(), IP));
        }

        @Test
        void shouldReportNoRouteWithoutGateway()
        {
            assertEquals(NetworkLayer.SEND_NO_ROUTE, sendTcpHeader(Addresses.parseIpv4("192.0.2.7"), 0));
            assertEquals(1, counters.get(IPV4_NO_ROUTE));
            assertTrue(tx.sent.isEmpty());
        }

        @Test
        void shouldRefuseDatagramLargerThanMtu()
        {
            assertEquals(NetworkLayer.SEND_TOO_LONG, layer.beginIpv4(IP_A, 6, 0, 1481));
            assertEquals(1, counters.get(IPV4_TOO_LONG));
        }

        @Test
        void shouldCountMissingTransmitBuffer()
        {
            receive(GoldenFrames.ARP_REQUEST);
            tx.buffersLeft = 0;
            assertEquals(NetworkLayer.SEND_NO_BUFFER, sendTcpHeader(IP_A, 0));
            assertEquals(1, counters.get(TX_NO_BUFFER));
        }

        @Test
        void shouldReleaseBufferOnAbort()
        {
            receive(GoldenFrames.ARP_REQUEST);
            layer.beginIpv4(IP_A, 6, 0, 20);
            layer.abortIpv4();
            assertEquals(1, tx.aborted);
        }
    }

    @Nested
    class ArpResolution
    {
        @Test
        void shouldRetryThenDropQueuedFramesWhenNextHopNeverAnswers()
        {
            assertEquals(NetworkLayer.QUEUED, sendTcpHeader(IP_A, 0));
            assertEquals(NetworkLayer.QUEUED, sendTcpHeader(IP_A, 0));
            assertEquals(1, tx.sent.size());
            assertEquals(0, layer.doWork(SECOND_NS / 2));
            assertEquals(1, layer.doWork(SECOND_NS));
            assertEquals(1, layer.doWork(2 * SECOND_NS));
            assertEquals(3, tx.sent.size());
            assertEquals(3, counters.get(ARP_REQUESTS_SENT));
            layer.doWork(3 * SECOND_NS);
            assertEquals(2, counters.get(ARP_RESOLUTION_FAILED));
            assertEquals(0, layer.arpCache().size());
            assertEquals(0, layer.arpCache().pendingFrameCount());
            assertEquals(Long.MAX_VALUE, layer.arpCache().nextDeadlineNs());
        }

        @Test
        void shouldFlushQueuedFramesInOrderWhenAnswered()
        {
            for (int i = 0; i < 3; i++)
            {
                final int offset = layer.beginIpv4(IP_A, Ipv4Header.PROTOCOL_TCP, 0, 20);
                TcpHeader.write(layer.txBuffer(), offset, 1000 + i, 80, i, 0, 20, TcpHeader.ACK, 1, 0);
                layer.commitIpv4(20, 0);
            }
            receive(arpFrame(ArpHeader.OPERATION_REPLY, MAC_A, IP_A, MAC_B, IP_B), 10);
            assertEquals(4, tx.sent.size());
            for (int i = 0; i < 3; i++)
            {
                assertEquals(1000 + i, TcpHeader.sourcePort(tx.sent.get(1 + i), L4));
                assertEquals(MAC_A, EthernetHeader.destination(tx.sent.get(1 + i), 0));
            }
            assertEquals(0, layer.arpCache().pendingFrameCount());
        }

        @Test
        void shouldDropWhenPendingQueueIsFull()
        {
            layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24).arpCapacity(4, 3, 2));
            assertEquals(NetworkLayer.QUEUED, sendTcpHeader(IP_A, 0));
            assertEquals(NetworkLayer.QUEUED, sendTcpHeader(IP_A, 0));
            assertEquals(NetworkLayer.SEND_QUEUE_FULL, sendTcpHeader(IP_A, 0));
            assertEquals(NetworkLayer.QUEUED, sendTcpHeader(IP_A + 5, 0));
            assertEquals(NetworkLayer.SEND_QUEUE_FULL, sendTcpHeader(IP_A + 6, 0));
            assertEquals(2, counters.get(ARP_QUEUE_FULL));
            assertEquals(3, counters.get(IPV4_SENT), "a datagram dropped before leaving is not counted as sent");
        }

        @Test
        void shouldDropWhenCacheIsFullOfUnresolvedEntries()
        {
            layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24).arpCapacity(2, 8, 2));
            sendTcpHeader(IP_A, 0);
            sendTcpHeader(IP_A + 5, 0);
            assertEquals(NetworkLayer.SEND_CACHE_FULL, sendTcpHeader(IP_A + 6, 0));
            assertEquals(1, counters.get(ARP_CACHE_FULL));
        }

        @Test
        void shouldEvictResolvedEntryWhenFull()
        {
            layer = layer(NetConfig.builder().localMac(MAC_B).localIp(IP_B, 24).arpCapacity(1, 8, 2));
            receive(GoldenFrames.ARP_REQUEST);
            assertEquals(NetworkLayer.QUEUED, sendTcpHeader(IP_A + 5, 0));
            assertEquals(ArpCache.UNRESOLVED, layer.arpCache().lookup(IP_A));
        }

        @Test
        void shouldRefreshUsedEntryAndKeepSendingMeanwhile()
        {
            receive(GoldenFrames.ARP_REQUEST);
            assertEquals(NetworkLayer.SENT, sendTcpHeader(IP_A, 0));
            tx.sent.clear();
            layer.doWork(60 * SECOND_NS);
            assertEquals(1, tx.sent.size());
            assertEquals(IP_A, ArpHeader.targetIp(tx.last(), 14));
            assertEquals(NetworkLayer.SENT, sendTcpHeader(IP_A, 60 * SECOND_NS)); // stale MAC still used
            receive(arpFrame(ArpHeader.OPERATION_REPLY, MAC_A, IP_A, MAC_B, IP_B), 61 * SECOND_NS);
            layer.doWork(64 * SECOND_NS);
            assertEquals(MAC_A, layer.arpCache().lookup(IP_A));
        }

        @Test
        void shouldForgetUnusedEntryWhenItExpires()
        {
            receive(GoldenFrames.ARP_REQUEST);
            tx.sent.clear();
            layer.doWork(60 * SECOND_NS);
            assertTrue(tx.sent.isEmpty());
            assertEquals(0, layer.arpCache().size());
        }

        @Test
        void shouldForgetEntryUnusedSinceItsLastConfirmation()
        {
            receive(GoldenFrames.ARP_REQUEST);
            assertEquals(NetworkLayer.SENT, sendTcpHeader(IP_A, 0)); // used once
            layer.doWork(60 * SECOND_NS);                             // refresh, answered
            receive(arpFrame(ArpHeader.OPERATION_REPLY, MAC_A, IP_A, MAC_B, IP_B), 61 * SECOND_NS);
            tx.sent.clear();
            for (int s = 120; s <= 130; s++) // never used again: no more requests, then forgotten
            {
                layer.doWork(s * SECOND_NS);
            }
            assertTrue(tx.sent.isEmpty(), "no refresh of an entry nobody used since it was confirmed");
            assertEquals(0, layer.arpCache().size());
        }

        @Test
        void shouldForgetUsedEntryWhenRefreshIsNeverAnswered()
        {
            receive(GoldenFrames.ARP_REQUEST);
            layer.arpCache().lookup(IP_A);
            for (int s = 60; s <= 64; s++)
            {
                layer.doWork(s * SECOND_NS);
            }
            assertEquals(0, layer.arpCache().size());
        }
    }

    @Test
    void shouldNotKeepReferenceToReceivedBuffer()
    {
        final UnsafeBuffer frame = buffer(GoldenFrames.ICMP_ECHO_REQUEST);
        receive(frame, 0);
        final byte[] queued = Arrays.copyOf(frame.byteArray(), frame.capacity());
        frame.setMemory(0, frame.capacity(), (byte)0);
        receive(arpFrame(ArpHeader.OPERATION_REPLY, MAC_A, IP_A, MAC_B, IP_B), 1);
        assertArrayEquals(Arrays.copyOfRange(queued, L4 + 8, 98), bytes(tx.last(), L4 + 8, 64 - 8));
    }
}
