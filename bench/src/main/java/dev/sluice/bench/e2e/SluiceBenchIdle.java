package dev.sluice.bench.e2e;

import dev.sluice.bench.e2e.SluiceBench.App;
import dev.sluice.core.stack.TcpAcceptor;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.sluice.bench.e2e.SluiceBench.SERVER_IP;
import static dev.sluice.bench.e2e.SluiceBench.SERVER_PORT;

/**
 * The {@code idle} workload (issue 11: memory per idle connection): the client shard opens N connections to the
 * server shard (from ephemeral ports, spread over server ports {@value #PER_PORT} at a time), each sends 8 bytes,
 * the server answers each with 8 bytes, then every connection stays ESTABLISHED and idle. One handler serves
 * every connection of a side, so what grows is the stacks' own memory. {@link SluiceBench} measures heap and
 * direct memory before the first connection and once all are idle.
 */
final class SluiceBenchIdle
{
    static final int PER_PORT = 25_000; // within an ephemeral range per remote port
    static final int MESSAGE = 8;
    private static final int WINDOW = 512; // handshakes in flight: the ring holds 4,096 frames

    private SluiceBenchIdle()
    {
    }

    static int serverPorts(final int connections)
    {
        return (connections + PER_PORT - 1) / PER_PORT;
    }

    /** Listens on the server ports, counts the bytes, then answers every connection once. */
    static final class IdleServer implements App, TcpAcceptor, TcpReceiveHandler
    {
        private final TcpConnection[] accepted;
        private final UnsafeBuffer reply = new UnsafeBuffer(new byte[MESSAGE]);
        private int acceptedCount;
        private int replied;
        volatile long received;
        volatile long errors;

        IdleServer(final int connections)
        {
            accepted = new TcpConnection[connections];
        }

        @Override
        public void onStart(final TcpStack stack)
        {
            for (int p = 0; p < serverPorts(accepted.length); p++)
            {
                stack.listen(SERVER_PORT + p, this, accepted.length);
            }
        }

        @Override
        public int doWork(final long nowNs)
        {
            if (received < (long)MESSAGE * accepted.length)
            {
                return 0;
            }
            int work = 0;
            while (replied < acceptedCount && work < 128) // a bounded burst per duty cycle
            {
                if (accepted[replied].send(reply, 0, MESSAGE) != MESSAGE)
                {
                    errors++;
                }
                accepted[replied++] = null;
                work++;
            }
            return work;
        }

        @Override
        public TcpReceiveHandler onAccept(final TcpConnection connection)
        {
            if (acceptedCount == accepted.length)
            {
                errors++;
                return TcpReceiveHandler.DISCARD;
            }
            accepted[acceptedCount++] = connection;
            return this;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            received += length;
            return length;
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            errors++; // no connection closes during the measurement
        }

        String describe()
        {
            return "accepted " + acceptedCount + ", received " + received + ", replied " + replied + ", errors " +
                errors;
        }
    }

    /** Opens the connections once {@link #go} is set, each with one 8-byte message. */
    static final class IdleClient implements App, TcpReceiveHandler
    {
        private final int connections;
        private final UnsafeBuffer hello = new UnsafeBuffer("8 bytes!".getBytes());
        private TcpStack stack;
        private int opened;
        volatile boolean go;
        volatile int established;
        volatile long received;
        volatile long errors;

        IdleClient(final int connections)
        {
            this.connections = connections;
        }

        @Override
        public void onStart(final TcpStack stack)
        {
            this.stack = stack;
        }

        @Override
        public int doWork(final long nowNs)
        {
            if (!go)
            {
                return 0;
            }
            // the first SYN waits for ARP alone; then a window of handshakes in flight
            final int limit = Math.min(connections, established == 0 ? 1 : established + WINDOW);
            int work = 0;
            while (opened < limit && work < 128)
            {
                final TcpConnection c = stack.connect(SERVER_IP, SERVER_PORT + opened / PER_PORT, this, nowNs, null);
                if (c == null)
                {
                    errors++;
                    return work;
                }
                c.send(hello, 0, MESSAGE);
                opened++;
                work++;
            }
            return work;
        }

        @Override
        public void onEstablished()
        {
            established++;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            received += length;
            return length;
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            errors++;
        }

        boolean idle()
        {
            return received == (long)MESSAGE * connections;
        }

        String describe()
        {
            return "opened " + opened + ", established " + established + ", received " + received + ", errors " +
                errors + ", connections " + (stack == null ? 0 : stack.connectionCount());
        }
    }
}
