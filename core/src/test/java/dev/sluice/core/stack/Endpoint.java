package dev.sluice.core.stack;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import org.agrona.DirectBuffer;

/**
 * A test application end: records what a connection reports and consumes data unless told not to. Also an
 * acceptor that binds itself to the next accepted connection. Allocation-free.
 */
final class Endpoint implements TcpReceiveHandler, TcpAcceptor
{
    TcpConnection connection;
    boolean consume = true;
    boolean closeWhenPeerCloses;
    long received;
    long checksum;
    int established;
    int peerClosed;
    int writable;
    int accepted;
    TcpCloseReason closeReason;

    @Override
    public TcpReceiveHandler onAccept(final TcpConnection connection)
    {
        this.connection = connection;
        accepted++;
        return this;
    }

    @Override
    public int onData(final DirectBuffer buffer, final int offset, final int length)
    {
        received += length;
        for (int i = 0; i < length; i++)
        {
            checksum = checksum * 31 + buffer.getByte(offset + i);
        }
        return consume ? length : 0;
    }

    @Override
    public void onEstablished()
    {
        established++;
    }

    @Override
    public void onWritable()
    {
        writable++;
    }

    @Override
    public void onPeerClosed()
    {
        peerClosed++;
        if (closeWhenPeerCloses)
        {
            connection.close(); // inside the stack's callback
        }
    }

    @Override
    public void onClosed(final TcpCloseReason reason)
    {
        closeReason = reason;
    }

    /** Forgets everything, for reuse by the next connection. */
    void reset()
    {
        connection = null;
        consume = true;
        closeWhenPeerCloses = false;
        received = 0;
        checksum = 0;
        established = 0;
        peerClosed = 0;
        writable = 0;
        closeReason = null;
    }
}
