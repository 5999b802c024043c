package dev.sluice.driver.socket;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.driver.TestEalAccess;
import dev.sluice.driver.runtime.SluiceConfig;
import dev.sluice.driver.runtime.SluiceContext;
import dev.sluice.driver.runtime.SluiceRuntime;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.RingPorts;

/**
 * The blocking-socket ITs' fixture: a server and a client stack in one JVM joined by a crossed net_ring pair,
 * and what their tests share.
 */
final class TwoStacks
{
    final SluiceRuntime server;
    final SluiceRuntime client;

    /**
     * @param serverDevice the server's ring name (unique per JVM).
     * @param clientDevice the client's.
     * @param subnet       the first three octets, e.g. {@code "10.92.0"}: the server is .1, the client .2.
     */
    TwoStacks(final String serverDevice, final String clientDevice, final String subnet)
    {
        final Eal eal = TestEalAccess.get();
        final int[] ports = RingPorts.createCrossedPair(serverDevice, clientDevice, 16384);
        server = SluiceRuntime.start(new SluiceContext().eal(eal).port(EthPort.of(ports[0]))
            .config(config(serverDevice, subnet + ".1")));
        client = SluiceRuntime.start(new SluiceContext().eal(eal).port(EthPort.of(ports[1]))
            .config(config(clientDevice, subnet + ".2")));
    }

    private static SluiceConfig config(final String device, final String ip)
    {
        return SluiceConfig.builder().device(device).ip(ip + "/24").idle(SluiceConfig.IdleMode.BACKOFF)
            .maxConnections(12_000).sendBufferBytes(4096).receiveBufferBytes(4096).mslMs(500).countersFile(null)
            // 10,000 connects at once stay below the SYN backlog: these tests are about sockets, not SYN cookies
            // (with the default 4,096 a loaded machine saw cookie-made connections reset: a late cookie SYN-ACK
            // and a record of the retransmitted SYN, fixed in Listeners; -Dsluice.extraJvmArgs=
            // -Dsluice.test.synBacklog=4096 runs them with the default backlog, cookies engaged)
            .synBacklog(Integer.getInteger("sluice.test.synBacklog", 12_000))
            .build();
    }

    /** Closes both stacks (null-safe: a fixture that failed to start). */
    static void stop(final TwoStacks stacks)
    {
        if (stacks == null)
        {
            return;
        }
        stacks.client.closeConnections(TimeUnit.MILLISECONDS.toNanos(500));
        stacks.client.close();
        stacks.server.closeConnections(TimeUnit.MILLISECONDS.toNanos(500));
        stacks.server.close();
    }

    static byte[] readFully(final InputStream in, final int length) throws IOException
    {
        final byte[] bytes = new byte[length];
        int got = 0;
        while (got < length)
        {
            final int n = in.read(bytes, got, length - got);
            if (n < 0)
            {
                throw new IOException("EOF after " + got + " of " + length);
            }
            got += n;
        }
        return bytes;
    }

    /** What the stacks counted, for a failure's message. */
    String counters()
    {
        final StringBuilder out = new StringBuilder();
        for (final SluiceRuntime r : new SluiceRuntime[]{server, client})
        {
            final TcpStackCounters c = r.agent(0).tcp().counters();
            out.append(r == server ? "server" : " client").append(": cookies sent/accepted/rejected ")
                .append(c.synCookiesSent()).append('/').append(c.synCookiesAccepted()).append('/')
                .append(c.synCookiesRejected()).append(", SYNs dropped at the backlog ").append(c.synsDroppedBacklog())
                .append(", RSTs to closed ports ").append(c.resetsToClosedPorts()).append(", handler aborts ")
                .append(c.handlerAborts()).append(", pool exhausted ").append(c.poolExhausted())
                .append(", refused for memory ").append(c.connectionsRefusedMemory()).append(';');
        }
        return out.toString();
    }
}
