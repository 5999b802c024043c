package dev.sluice.core.wire;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Golden frames. Unless marked "crafted", they were captured with
 * {@code tcpdump -i va -w veth.pcap} on one end of a veth pair joining two network namespaces
 * (10.77.0.1 with MAC d2:6c:30:21:06:51, 10.77.0.2 with MAC e2:eb:ac:1b:bb:9e), TX checksum offload off
 * ({@code ethtool -K va tx off}) so that every checksum on the wire is the real one, while running
 * {@code curl http://10.77.0.2:18080/} against {@code python3 -m http.server}, {@code ping -c 1} and a UDP
 * and a TCP connection to closed port 9 (Linux 6.x). Frames were extracted with scapy's {@code rdpcap}.
 * Crafted frames were built with scapy 2.5 from the captured ones where a real capture was impractical.
 */
public final class GoldenFrames
{
    /** Our side's MAC in the captures (10.77.0.1). */
    public static final long MAC_A = 0xd26c30210651L;
    /** The peer's MAC in the captures (10.77.0.2). */
    public static final long MAC_B = 0xe2ebac1bbb9eL;
    /** 10.77.0.1. */
    public static final int IP_A = 0x0a4d0001;
    /** 10.77.0.2. */
    public static final int IP_B = 0x0a4d0002;

    /** F0: ARP request who-has 10.77.0.2 tell 10.77.0.1 (42 bytes, unpadded as captured on the sender). */
    public static final String ARP_REQUEST =
        "ffffffffffffd26c3021065108060001080006040001d26c302106510a4d00010000000000000a4d0002";

    /** F1: ARP reply 10.77.0.2 is-at e2:eb:ac:1b:bb:9e. */
    public static final String ARP_REPLY =
        "d26c30210651e2ebac1bbb9e08060001080006040002e2ebac1bbb9e0a4d0002d26c302106510a4d0001";

    /** F2: SYN 10.77.0.1:49260 &gt; 10.77.0.2:18080, options mss 1460, sackOK, TS val 1561821728 ecr 0, nop, wscale 10; cksum 0x2e9f. */
    public static final String TCP_SYN =
        "e2ebac1bbb9ed26c3021065108004500003c233b4000400602e50a4d00010a4d0002c06c46a042f1e09a00000000a002" +
        "faf02e9f0000020405b40402080a5d178220000000000103030a";

    /** F3: SYN-ACK 10.77.0.2:18080 &gt; 10.77.0.1:49260, same option layout, TS ecr echoing the SYN. */
    public static final String TCP_SYN_ACK =
        "d26c30210651e2ebac1bbb9e08004500003c00004000400626200a4d00020a4d000146a0c06cb803bec142f1e09ba012" +
        "fe88c3ae0000020405b40402080a1a58d6295d1782200103030a";

    /** F4: ACK with nop, nop, TS val 1561821728 ecr 442029609. */
    public static final String TCP_ACK =
        "e2ebac1bbb9ed26c30210651080045000034233c4000400602ec0a4d00010a4d0002c06c46a042f1e09bb803bec28010" +
        "003ff0c700000101080a5d1782201a58d629";

    /** F5: PSH-ACK carrying the 79-byte (odd length) HTTP request; cksum 0x2f15. */
    public static final String TCP_DATA_ODD =
        "e2ebac1bbb9ed26c30210651080045000083233d40004006029c0a4d00010a4d0002c06c46a042f1e09bb803bec28018" +
        "003f2f1500000101080a5d1782201a58d629474554202f20485454502f312e310d0a486f73743a2031302e37372e302e" +
        "323a31383038300d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d" +
        "0a";

    /** F19: RST-ACK from a closed port, no options, IPv4 id 0. */
    public static final String TCP_RST =
        "d26c30210651e2ebac1bbb9e08004500002800004000400626340a4d00020a4d00010009e1240000000079344f9b5014" +
        "0000f1360000";

    /** F14: ICMP echo request 10.77.0.1 &gt; 10.77.0.2, id 7369 seq 1, 56 data bytes. */
    public static final String ICMP_ECHO_REQUEST =
        "e2ebac1bbb9ed26c302106510800450000542ae940004001fb230a4d00010a4d0002080063c21cc900011d69066b0000" +
        "000086cc0e0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435" +
        "3637";

    /** F15: Linux's echo reply to {@link #ICMP_ECHO_REQUEST}. */
    public static final String ICMP_ECHO_REPLY =
        "d26c30210651e2ebac1bbb9e080045000054111a0000400154f30a4d00020a4d000100006bc21cc900011d69066b0000" +
        "000086cc0e0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435" +
        "3637";

    /** F17: ICMP port unreachable quoting a UDP datagram (tos 0xc0). */
    public static final String ICMP_PORT_UNREACHABLE_UDP =
        "d26c30210651e2ebac1bbb9e080045c0003d112a00004001543a0a4d00020a4d0001030311b800000000450000217545" +
        "40004011b0ea0a4d00010a4d0002d0300009000dd72b68656c6c6f";

    /** F20: an IPv6 frame (router solicitation), for unsupported EtherType tests. */
    public static final String IPV6_ROUTER_SOLICITATION =
        "333300000002e2ebac1bbb9e86dd6000000000103afffe80000000000000e0ebacfffe1bbb9eff020000000000000000" +
        "0000000000028500e9e1000000000101e2ebac1bbb9e";

    /** Crafted with scapy: {@link #TCP_SYN} with an 802.1Q tag (VLAN 100) inserted. */
    public static final String VLAN_TCP_SYN =
        "e2ebac1bbb9ed26c302106518100006408004500003c233b4000400602e50a4d00010a4d0002c06c46a042f1e09a0000" +
        "0000a002faf02e9f0000020405b40402080a5d178220000000000103030a";

    /** Crafted with scapy: ACK 10.77.0.1 &gt; 10.77.0.2 with nop, nop, TS, nop, nop, SACK of two blocks (Linux layout). */
    public static final String TCP_ACK_SACK =
        "e2ebac1bbb9ed26c3021065108004500004823414000400602d30a4d00010a4d0002c06c46a042f1e0eab803bf5dd010" +
        "003f811e00000101080a5d1782211a58d62a01010512b803c5a5b803cb4db803d0f5b803d69d";

    /** Crafted with scapy: from 10.77.0.254 to 10.77.0.1, type 3 code 4, next-hop MTU 1400, quoting the first 60 bytes of {@link #TCP_DATA_ODD}'s IPv4 datagram. */
    public static final String ICMP_FRAGMENTATION_NEEDED =
        "d26c30210651e2ebac1bbb9e080045c00058111100004001533c0a4d00fe0a4d00010304bb170000057845000083233d" +
        "40004006029c0a4d00010a4d0002c06c46a042f1e09bb803bec28018003f2f1500000101080a5d1782201a58d6294745" +
        "54202f204854";

    /** Crafted with scapy: source quench quoting the IPv4 header and first 8 TCP bytes of {@link #TCP_DATA_ODD}. */
    public static final String ICMP_SOURCE_QUENCH =
        "d26c30210651e2ebac1bbb9e080045000038111200004001541b0a4d00fe0a4d00010400d1650000000045000083233d" +
        "40004006029c0a4d00010a4d0002c06c46a042f1e09b";

    /** Crafted with scapy: RFC 5227 announcement of 10.77.0.1 from d2:6c:30:21:06:51. */
    public static final String GRATUITOUS_ARP =
        "ffffffffffffd26c3021065108060001080006040001d26c302106510a4d00010000000000000a4d0001";

    private GoldenFrames()
    {
    }

    /**
     * A buffer holding exactly the given hex bytes.
     *
     * @param hex lower-case hex.
     * @return a new heap buffer.
     */
    public static UnsafeBuffer buffer(final String hex)
    {
        return new UnsafeBuffer(HexFormat.of().parseHex(hex));
    }

    /**
     * A 1514-byte frame (1448-byte payload, nop nop TS options) from a bulk download over the same veth pair
     * with TSO/GSO off, stored in {@code golden/tcp-1448.hex}.
     *
     * @return the frame.
     */
    public static UnsafeBuffer fullSizedSegment()
    {
        try (InputStream in = GoldenFrames.class.getResourceAsStream("/golden/tcp-1448.hex"))
        {
            return buffer(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
