package dev.sluice.bench.e2e;

import java.nio.ByteBuffer;

import dev.sluice.bench.e2e.SluiceBench.App;
import dev.sluice.bench.e2e.SluiceBench.Phase;
import dev.sluice.core.stack.TcpAcceptor;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.sluice.bench.e2e.SluiceBench.SERVER_PORT;

/** {@link SluiceBench}'s server shard application. */
final class SluiceBenchServer
{
    private SluiceBenchServer()
    {
    }


    /** Echoes (or, for bulk, counts) what it receives; closes when the peer closes. */
    static final class ServerApp implements App, TcpAcceptor
    {
        final Phase phase;
        final boolean sink;
        final boolean closeAfterReply;
        final ServerHandler[] free;
        int freeCount;
        long errors;
        long bytes;
        long bytesAtStart;
        long bytesMeasured;
        long accepted;

        ServerApp(final Phase phase, final boolean sink, final int poolSize, final boolean closeAfterReply)
        {
            this.phase = phase.copy();
            this.sink = sink;
            this.closeAfterReply = closeAfterReply;
            free = new ServerHandler[poolSize];
            for (int i = 0; i < poolSize; i++)
            {
                free[freeCount++] = new ServerHandler(this);
            }
        }

        @Override
        public void onStart(final TcpStack stack)
        {
            stack.listen(SERVER_PORT, this);
        }

        @Override
        public int doWork(final long nowNs)
        {
            if (accepted == 0)
            {
                return 0; // the window starts with the first connection
            }
            if (phase.check(nowNs, 0))
            {
                bytesAtStart = bytes;
            }
            if (phase.done && bytesMeasured == 0)
            {
                bytesMeasured = bytes - bytesAtStart;
            }
            return 0;
        }

        @Override
        public TcpReceiveHandler onAccept(final TcpConnection connection)
        {
            if (accepted == 0)
            {
                phase.restart(System.nanoTime()); // in step with the client, whatever process it is in
            }
            if (freeCount == 0)
            {
                errors++;
                return TcpReceiveHandler.DISCARD;
            }
            final ServerHandler handler = free[--freeCount];
            free[freeCount] = null;
            handler.connection = connection;
            handler.pendingLength = 0;
            accepted++;
            return handler;
        }

        String describe()
        {
            return "accepted " + accepted + ", bytes " + bytes + ", errors " + errors;
        }
    }

    static final class ServerHandler implements TcpReceiveHandler
    {
        private final ServerApp app;
        private final UnsafeBuffer pending = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
        TcpConnection connection;
        int pendingLength;

        ServerHandler(final ServerApp app)
        {
            this.app = app;
        }

        @Override
        public int onData(final DirectBuffer buffer, final int offset, final int length)
        {
            app.bytes += length;
            if (app.sink)
            {
                return length;
            }
            int sent = 0;
            if (pendingLength == 0)
            {
                sent = Math.max(0, connection.send(buffer, offset, length));
            }
            final int rest = length - sent;
            if (rest > 0)
            {
                if (pendingLength + rest > pending.capacity())
                {
                    app.errors++; // the client keeps one request outstanding: never happens
                    connection.abort();
                    return length;
                }
                pending.putBytes(pendingLength, buffer, offset + sent, rest);
                pendingLength += rest;
            }
            if (app.closeAfterReply)
            {
                connection.close(); // the reply (1 byte) is queued: the FIN follows it; TIME-WAIT is ours
            }
            return length;
        }

        @Override
        public void onWritable()
        {
            if (pendingLength > 0)
            {
                final int sent = Math.max(0, connection.send(pending, 0, pendingLength));
                pending.putBytes(0, pending, sent, pendingLength - sent);
                pendingLength -= sent;
            }
        }

        @Override
        public void onPeerClosed()
        {
            connection.close();
        }

        @Override
        public void onClosed(final TcpCloseReason reason)
        {
            if (reason != TcpCloseReason.NORMAL)
            {
                app.errors++;
            }
            connection = null;
            app.free[app.freeCount++] = this;
        }
    }
}
