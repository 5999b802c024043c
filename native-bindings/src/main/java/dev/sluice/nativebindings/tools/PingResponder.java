package dev.sluice.nativebindings.tools;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;

/**
 * A minimal responder used by the port smoke demo and the net_tap integration test: it
 * answers ARP requests and ICMP echo requests for one IPv4 address by rewriting the
 * received frame in place and transmitting it back, and drops everything else.
 *
 * <p>This is not the stack (that is {@code sluice-core}); it exists so that the bindings
 * can be shown and tested against a real kernel peer before the stack runs on them. It
 * checks lengths before every access, so any frame is safe to feed it.
 */
public final class PingResponder
{
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final int ip;
    private final byte[] mac;
    private long arpReplies;
    private long echoReplies;
    private long received;
    private long ignored;

    /**
     * @param ip  the IPv4 address to answer for (host order int).
     * @param mac this port's MAC.
     */
    public PingResponder(final int ip, final byte[] mac)
    {
        this.ip = ip;
        this.mac = mac.clone();
    }

    /**
     * Receives one burst on queue 0 of {@code port} and answers what it can.
     *
     * @param lcore the calling thread's lcore.
     * @param port  the port.
     * @param burst pointer array of at least 32 entries.
     * @return frames received.
     */
    public int poll(final Lcore lcore, final int port, final MemorySegment burst)
    {
        final int n = lcore.rxBurst(port, 0, burst, 32);
        int replies = 0;
        for (int i = 0; i < n; i++)
        {
            final long m = Mbuf.at(burst, i);
            if (answer(m))
            {
                Mbuf.put(burst, replies++, m);
            }
            else
            {
                ignored++;
                lcore.free(m);
            }
        }
        received += n;
        final int sent = replies == 0 ? 0 : lcore.txBurst(port, 0, burst, replies);
        for (int i = sent; i < replies; i++)
        {
            lcore.free(Mbuf.at(burst, i));
        }
        return n;
    }

    /**
     * @return ARP replies sent.
     */
    public long arpReplies()
    {
        return arpReplies;
    }

    /**
     * @return ICMP echo replies sent.
     */
    public long echoReplies()
    {
        return echoReplies;
    }

    /**
     * @return frames received.
     */
    public long received()
    {
        return received;
    }

    /**
     * @return frames received and not answered.
     */
    public long ignored()
    {
        return ignored;
    }

    private boolean answer(final long mbuf)
    {
        final long f = Mbuf.dataAddress(mbuf);
        final int len = Mbuf.dataLength(mbuf);
        if (len < 14)
        {
            return false;
        }
        final int etherType = Short.toUnsignedInt(MEMORY.get(U16, f + 12));
        if (etherType == 0x0806 && len >= 42)
        {
            return answerArp(f);
        }
        if (etherType == 0x0800 && len >= 34)
        {
            return answerEcho(f, len);
        }
        return false;
    }

    private boolean answerArp(final long f)
    {
        // htype 1, ptype 0x0800, hlen 6, plen 4, op 1 (request), target IP ours
        if (MEMORY.get(U32, f + 14) != 0x0001_0800 || MEMORY.get(U16, f + 18) != 0x0604 ||
            MEMORY.get(U16, f + 20) != 1 || MEMORY.get(U32, f + 38) != ip)
        {
            return false;
        }
        MemorySegment.copy(MEMORY, f + 22, MEMORY, f + 32, 10); // requester becomes target (MAC + IP)
        MemorySegment.copy(MEMORY, f + 6, MEMORY, f, 6);        // to the requester
        setMac(f + 6);
        MEMORY.set(U16, f + 20, (short)2);                       // reply
        setMac(f + 22);
        MEMORY.set(U32, f + 28, ip);
        arpReplies++;
        return true;
    }

    private boolean answerEcho(final long f, final int len)
    {
        final long ipHeader = f + 14;
        final int versionIhl = MEMORY.get(ValueLayout.JAVA_BYTE, ipHeader) & 0xff;
        final int ihl = (versionIhl & 0x0f) * 4;
        final int total = Short.toUnsignedInt(MEMORY.get(U16, ipHeader + 2));
        if ((versionIhl >>> 4) != 4 || ihl < 20 || total < ihl + 8 || 14 + total > len ||
            MEMORY.get(ValueLayout.JAVA_BYTE, ipHeader + 9) != 1 || MEMORY.get(U32, ipHeader + 16) != ip ||
            MEMORY.get(ValueLayout.JAVA_BYTE, ipHeader + ihl) != 8)
        {
            return false;
        }
        MemorySegment.copy(MEMORY, f + 6, MEMORY, f, 6);
        setMac(f + 6);
        final int source = MEMORY.get(U32, ipHeader + 12);
        MEMORY.set(U32, ipHeader + 16, source);
        MEMORY.set(U32, ipHeader + 12, ip);
        MEMORY.set(ValueLayout.JAVA_BYTE, ipHeader + 8, (byte)64);
        MEMORY.set(U16, ipHeader + 10, (short)0);
        MEMORY.set(U16, ipHeader + 10, (short)checksum(ipHeader, ihl));
        final long icmp = ipHeader + ihl;
        MEMORY.set(ValueLayout.JAVA_BYTE, icmp, (byte)0); // echo reply
        MEMORY.set(U16, icmp + 2, (short)0);
        MEMORY.set(U16, icmp + 2, (short)checksum(icmp, total - ihl));
        echoReplies++;
        return true;
    }

    private void setMac(final long at)
    {
        MemorySegment.copy(MemorySegment.ofArray(mac), 0, MEMORY, at, 6);
    }

    /**
     * RFC 1071 checksum, byte by byte (the real, fast one lives in sluice-core).
     *
     * @param address first byte.
     * @param length  bytes.
     * @return the one's complement of the one's complement sum.
     */
    static int checksum(final long address, final int length)
    {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2)
        {
            sum += Short.toUnsignedInt(MEMORY.get(U16, address + i));
        }
        if ((length & 1) != 0)
        {
            sum += (MEMORY.get(ValueLayout.JAVA_BYTE, address + length - 1) & 0xff) << 8;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int)(~sum & 0xffff);
    }

    /**
     * @param dotted {@code a.b.c.d}.
     * @return the address as a host-order int.
     */
    public static int parseIpv4(final String dotted)
    {
        final String[] parts = dotted.split("\\.");
        if (parts.length != 4)
        {
            throw new IllegalArgumentException("not an IPv4 address: " + dotted);
        }
        int value = 0;
        for (final String part : parts)
        {
            final int b = Integer.parseInt(part);
            if (b < 0 || b > 255)
            {
                throw new IllegalArgumentException("not an IPv4 address: " + dotted);
            }
            value = (value << 8) | b;
        }
        return value;
    }
}
