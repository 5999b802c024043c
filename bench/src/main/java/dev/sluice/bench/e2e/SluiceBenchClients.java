package dev.sluice.bench.e2e;

import java.nio.ByteBuffer;

import dev.sluice.bench.e2e.SluiceBench.App;
import dev.sluice.bench.e2e.SluiceBench.Phase;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.sluice.bench.e2e.SluiceBench.BULK_BLOCK;
import static dev.sluice.bench.e2e.SluiceBench.SERVER_IP;
import static dev.sluice.bench.e2e.SluiceBench.SERVER_PORT;

/** {@link SluiceBench}'s client shard applications: one per workload. */
final class SluiceBenchClients
{
    private SluiceBenchClients()
    {
    }


    abstract static class ClientApp implements App
    {
        final Phase phase;
        final Histogram histogram = Report.histogram();
        TcpStack stack;
        long count;
        long errors;

        ClientApp(final Phase phase)
        {
            this.phase = phase.copy();
        }

        @Override
        public void onStart(final TcpStack stack)
        {
            this.stack = stack;
        }

        @Override
        public int doWork(final long nowNs)
        {
            if (phase.check(nowNs, count))
            {
                histogram.reset();
                count = 0;
            }
            return 0;
        }

        final void completed(final long latencyNs)
        {
            if (!phase.done)
            {
                histogram.recordValue(latencyNs);
                count++;
            }
        }

        String describe()
        {
            return "completed " + count + ", errors " + errors + ", connections " +
                (stack == null ? 0 : stack.connectionCount());
        }
    }

    /** Ping-pong (one connection) and request rate (64): one outstanding 64-byte request per connection. */
    static final class RequestClient extends ClientApp
    {
        private final RequestHandler[] handlers;
        private final UnsafeBuffer request = new UnsafeBuffer(ByteBuffer.allocateDirect(Options.MESSAGE_BYTES));
        private int started;
        int established;

        RequestClient(final Phase phase, final int connections)
        {
            super(phase);
            handlers = new RequestHandler[connections];
            for (int i = 0; i < connections; i++)
            {
                handlers[i] = new RequestHandler();
            }
        }

        @Override
        public int doWork(final long nowNs)
        {
            super.doWork(nowNs);
            if (nowNs - phase.startNs < 0)
            {
                return 0;
            }
            // the first connection alone: its SYN waits for ARP resolution, whose queue is bounded (and SYN
            // retransmission is not implemented yet); the others once it is established
            final int limit = established == 0 ? 1 : handlers.length;
            int work = 0;
            while (started < limit)
            {
                final int i = started++;
                handlers[i].connection = stack.connect(SERVER_IP, SERVER_PORT, 40_000 + i, handlers[i], nowNs);
                if (handlers[i].connection == null)
                {
                    throw new IllegalStateException("connect refused");
                }
                work++;
            }
            return work;
        }

        @Override
        String describe()
        {
            return super.describe() + ", established " + established + " of " + handlers.length;
        }

        final class RequestHandler implements TcpReceiveHandler
        {
            TcpConnection connection;
            long sentNs;
            int received;

            void sendRequest(final long nowNs)
            {
                sentNs = nowNs;
                if (connection.send(request, 0, Options.MESSAGE_BYTES) != Options.MESSAGE_BYTES)
                {
                    errors++;
                }
            }

            @Override
            public void onEstablished()
            {
                established++;
                sendRequest(System.nanoTime());
            }

            @Override
            public int onData(final DirectBuffer buffer, final int offset, final int length)
            {
                received += length;
                while (received >= Options.MESSAGE_BYTES)
                {
                    received -= Options.MESSAGE_BYTES;
                    final long nowNs = System.nanoTime();
                    completed(nowNs - sentNs);
                    sendRequest(nowNs);
                }
                return length;
            }

            @Override
            public void onClosed(final TcpCloseReason reason)
            {
                errors++;
            }
        }
    }

    /** One connection, the send buffer kept full; the server counts payload bytes. */
    static final class BulkClient extends ClientApp implements TcpReceiveHandler
    {
        private final UnsafeBuffer block = new UnsafeBuffer(ByteBuffer.allocateDirect(BULK_BLOCK));
        private TcpConnection connection;
        private boolean established;

        BulkClient(final Phase phase)
        {
            super(phase);
        }

        @Override
        public int doWork(final long nowNs)
        {
            super.doWork(nowNs);
            if (connection == null && nowNs - phase.startNs >= 0)
            {
                connection = stack.connect(SERVER_IP, SERVER_PORT, 40_000, this, nowNs);
                return 1;
            }
            if (established)
            {
                fill();
                sampleLimits();
            }
            return 0;
        }

        // what held the sender at the start of this duty cycle (after the last one sent what it could): like Linux's
        // tcp_info chrono counters (busy, rwnd-limited, sndbuf-limited), counted per cycle
        long cyclesRwndLimited;
        long cyclesCwndLimited;
        long cyclesQueueEmpty;
        long cyclesSampled;
        long windowSum;
        long flightSum;

        private void sampleLimits()
        {
            final int mss = connection.sendMssBytes();
            final int flight = connection.sndNxt() - connection.sndUna();
            cyclesSampled++;
            windowSum += connection.sndWnd();
            flightSum += flight;
            if (connection.sendQueueBytes() - flight < mss)
            {
                cyclesQueueEmpty++;
            }
            else if (connection.sndUna() + connection.sndWnd() - connection.sndNxt() < mss)
            {
                cyclesRwndLimited++;
            }
            else if (connection.congestionControl().cwnd() - flight < mss)
            {
                cyclesCwndLimited++;
            }
        }

        @Override
        String describe()
        {
            return super.describe() + ", cycles " + cyclesSampled + ": rwnd-limited " + cyclesRwndLimited +
                ", cwnd-limited " + cyclesCwndLimited + ", send queue empty " + cyclesQueueEmpty +
                "; mean SND.WND " + windowSum / Math.max(1, cyclesSampled) + " B, mean flight " +
                flightSum / Math.max(1, cyclesSampled) + " B";
        }

        private void fill()
        {
            while (connection.send(block, 0, BULK_BLOCK) == BULK_BLOCK)
            {
                // until the send buffer is full
            }
        }

        @Override
        public void onEstablished()
        {
            established = true;
            fill();
        }

        @Override
        public void onWritable()
        {
            fill();
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            return length;
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            errors++;
        }
    }

    /**
     * Open, 1-byte request, 1-byte reply, close: the client first, or (serverCloses) the server first after its
     * reply and the client on its FIN; {@code concurrency} requests in flight.
     */
    static final class ConnectClient extends ClientApp
    {
        private static final int FIRST_PORT = 1024;
        private final int concurrency;
        private final boolean serverCloses;
        private final ConnectHandler[] free;
        private final UnsafeBuffer one = new UnsafeBuffer(ByteBuffer.allocateDirect(1));
        private int freeCount;
        private int inFlight;
        private int nextPort = FIRST_PORT;
        private long nowNs;
        private long completedEver;
        long refused;

        ConnectClient(final Phase phase, final int concurrency, final int poolSize, final boolean serverCloses)
        {
            super(phase);
            this.concurrency = concurrency;
            this.serverCloses = serverCloses;
            free = new ConnectHandler[poolSize];
            for (int i = 0; i < poolSize; i++)
            {
                free[freeCount++] = new ConnectHandler();
            }
        }

        @Override
        public int doWork(final long nowNs)
        {
            super.doWork(nowNs);
            this.nowNs = nowNs;
            int work = 0;
            if (nowNs - phase.startNs >= 0)
            {
                final int limit = completedEver == 0 ? 1 : concurrency; // the first SYN waits for ARP alone
                while (inFlight < limit && startOne())
                {
                    work++;
                }
            }
            return work;
        }

        private boolean startOne()
        {
            if (freeCount == 0)
            {
                refused++;
                return false; // every pooled connection is in TIME-WAIT: wait for one
            }
            final ConnectHandler handler = free[--freeCount];
            for (int attempt = 0; attempt < 16; attempt++)
            {
                final int port = nextPort;
                nextPort = nextPort == 0xFFFF ? FIRST_PORT : nextPort + 1;
                handler.startNs = System.nanoTime();
                final TcpConnection connection = stack.connect(SERVER_IP, SERVER_PORT, port, handler, nowNs);
                if (connection != null)
                {
                    handler.connection = connection;
                    inFlight++;
                    return true;
                }
            }
            free[freeCount++] = handler;
            refused++;
            return false;
        }

        @Override
        String describe()
        {
            return super.describe() + ", in flight " + inFlight + ", refused " + refused;
        }

        final class ConnectHandler implements TcpReceiveHandler
        {
            TcpConnection connection;
            long startNs;

            @Override
            public void onEstablished()
            {
                connection.send(one, 0, 1);
            }

            @Override
            public int onData(final DirectBuffer buffer, final int offset, final int length)
            {
                completed(System.nanoTime() - startNs);
                completedEver++;
                inFlight--;
                if (!serverCloses)
                {
                    connection.close();
                }
                if (inFlight < concurrency)
                {
                    startOne();
                }
                return length;
            }

            @Override
            public void onPeerClosed()
            {
                if (serverCloses)
                {
                    connection.close();
                }
            }

            @Override
            public void onClosed(final TcpCloseReason reason)
            {
                if (reason != TcpCloseReason.NORMAL)
                {
                    errors++;
                }
                connection = null;
                free[freeCount++] = this;
            }
        }
    }
}
