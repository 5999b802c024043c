package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import dev.sluice.nativebindings.linux.NetNamespace;
import dev.sluice.nativebindings.tools.PingResponder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A net_tap port whose kernel side lives in a network namespace the test creates: frames
 * cross between Java and the Linux kernel in both directions.
 */
class TapNamespaceIT
{
    private static final String NS = "sluice-it-tap";
    private static final String IFACE = "slit0";
    private static final String KERNEL_IP = "10.77.0.1";
    private static final String SLUICE_IP = "10.77.0.2";
    private static final byte[] KERNEL_MAC = {0x02, 0x00, 0x00, 0x77, 0x00, 0x01};

    private static NetNamespace ns;
    private static EthPort port;
    private static MbufPool pool;

    @BeforeAll
    static void createTapInNamespace() throws Exception
    {
        final Eal eal = TestEal.get();
        ns = NetNamespace.create(NS);
        ns.enter();
        final int portId = eal.createVdev("net_tap7", "iface=" + IFACE);
        port = EthPort.of(portId);
        pool = MbufPool.create("it_tap_pool", 2047, 64, MbufPool.DEFAULT_DATA_ROOM);
        port.configure(1, 1, 0, null, 0, 0);
        port.setupRxQueue(0, 256, pool);
        port.setupTxQueue(0, 256);
        port.start();
        ns.exec("ip", "link", "set", IFACE, "address", EthPort.formatMac(KERNEL_MAC));
        ns.exec("ip", "addr", "add", KERNEL_IP + "/24", "dev", IFACE);
        ns.exec("ip", "link", "set", IFACE, "up");
    }

    @AfterAll
    static void removeTapAndNamespace() throws Exception
    {
        if (port != null)
        {
            port.stop();
            port.close();
            TestEal.get().removeVdev("net_tap7");
        }
        if (pool != null)
        {
            pool.close();
        }
        if (ns != null)
        {
            ns.close();
        }
    }

    @Test
    void tapInterfaceShouldExistOnlyInsideTheNamespace() throws Exception
    {
        assertTrue(ns.exec("ip", "-o", "link", "show", IFACE).contains(IFACE));
        ns.leave(); // children inherit the thread's namespace: look from the test's own
        final Process p;
        try
        {
            p = new ProcessBuilder("ip", "link", "show", IFACE).redirectErrorStream(true).start();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        }
        finally
        {
            ns.enter();
        }
        assertTrue(p.exitValue() != 0, "the tap must not appear in the test's own namespace");
    }

    @Test
    void kernelPingShouldBeAnsweredFromJava() throws Exception
    {
        final Lcore lcore = TestEal.lcore();
        final PingResponder responder = new PingResponder(PingResponder.parseIpv4(SLUICE_IP), port.macAddress());
        final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32);
        final Process ping = ns.start("ping", "-c", "3", "-i", "0.2", "-W", "2", SLUICE_IP);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ping.isAlive() && System.nanoTime() < deadline)
        {
            if (responder.poll(lcore, port.id(), burst) == 0)
            {
                Thread.onSpinWait();
            }
        }
        final String output = new String(ping.getInputStream().readAllBytes());
        assertTrue(ping.waitFor(5, TimeUnit.SECONDS));
        assertEquals(0, ping.exitValue(), output);
        assertTrue(output.contains("3 received"), output);
        assertTrue(responder.arpReplies() >= 1, "the kernel's ARP request arrived in Java");
        assertEquals(3, responder.echoReplies(), "each kernel echo request arrived in Java");
    }

    @Test
    void frameSentFromJavaShouldReachAKernelSocket() throws Exception
    {
        final Lcore lcore = TestEal.lcore();
        final byte[] payload = new byte[1200];
        for (int i = 0; i < payload.length; i++)
        {
            payload[i] = (byte)(i * 13 + 7);
        }
        // the test thread is inside the namespace: this socket is the kernel side's
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(KERNEL_IP), 9999)))
        {
            socket.setSoTimeout(5000);
            final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 1);
            final long mbuf = lcore.alloc(pool);
            assertTrue(mbuf != 0);
            final byte[] frame = udpFrame(port.macAddress(), payload);
            Mbuf.setLength(mbuf, frame.length);
            MemorySegment.copy(MemorySegment.ofArray(frame), 0, Mbuf.data(mbuf), 0, frame.length);
            Mbuf.put(burst, 0, mbuf);
            assertEquals(1, lcore.txBurst(port.id(), 0, burst, 1));

            final DatagramPacket packet = new DatagramPacket(new byte[2048], 2048);
            socket.receive(packet);
            assertArrayEquals(payload, Arrays.copyOf(packet.getData(), packet.getLength()));
            assertEquals(SLUICE_IP, packet.getAddress().getHostAddress());
        }
    }

    private static byte[] udpFrame(final byte[] sourceMac, final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + payload.length);
        b.put(KERNEL_MAC).put(sourceMac).putShort((short)0x0800);
        final int ipStart = b.position();
        b.put((byte)0x45).put((byte)0).putShort((short)(20 + 8 + payload.length)).putShort((short)1)
            .putShort((short)0x4000).put((byte)64).put((byte)17).putShort((short)0)
            .putInt(PingResponder.parseIpv4(SLUICE_IP)).putInt(PingResponder.parseIpv4(KERNEL_IP));
        long sum = 0;
        for (int i = ipStart; i < ipStart + 20; i += 2)
        {
            sum += Short.toUnsignedInt(b.getShort(i));
        }
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        b.putShort(ipStart + 10, (short)~sum);
        b.putShort((short)40000).putShort((short)9999).putShort((short)(8 + payload.length)).putShort((short)0);
        b.put(payload);
        return b.array();
    }
}
