package dev.sluice.core.stack;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;

import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.SynCookies;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpSegment;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * A shard's listening ports, their backlogs and their half-open connections. A SYN to a listening port becomes a
 * compact SYN-RECEIVED record ({@link SynReceivedTable}, Linux's request sock), counted against its listener's
 * backlog, and the SYN-ACK is sent; the segment that completes the handshake makes the connection: a pooled
 * connection put in SYN-RECEIVED from the record, whose handler is asked then (an acceptor, or a channel
 * handler's onAccept: a refusal answers with a RST, as Linux's accept() only sees completed handshakes), and
 * which then takes that segment to ESTABLISHED. A SYN beyond the backlog is answered with a SYN cookie
 * (RFC 4987 §3.6, {@link SynCookies}; Linux's default tcp_syncookies=1), or dropped and counted when cookies are
 * off; the ACK that returns a valid cookie creates the connection ESTABLISHED, an invalid one is answered with
 * a RST like any ACK in LISTEN (Linux). A SYN while no connection could be made (the limit, memory pressure) is
 * dropped and counted, as before a record existed. Single-threaded; no allocation but the {@link Listener} of
 * {@link #add} and the records' growth to their peak.
 */
final class Listeners
{
    private final Int2ObjectHashMap<Listener> byPort = new Int2ObjectHashMap<>();
    private final TcpStack stack;
    private final ConnectionTable table;
    private final NetworkSegmentOutput output;
    private final TcpStackCounters counters;
    private final HandlerFailures handlerFailures;
    private final SynCookies cookies;
    private final TcpOptions restoredSyn = new TcpOptions();
    private final SynReceivedTable halfOpen;
    private boolean synCookies = true;

    Listeners(
        final TcpStack stack, final ConnectionTable table, final NetworkSegmentOutput output,
        final TcpStackCounters counters, final HandlerFailures handlerFailures, final SynCookies cookies,
        final SynReceivedTable halfOpen)
    {
        this.cookies = cookies;
        this.halfOpen = halfOpen;
        this.stack = stack;
        this.table = table;
        this.output = output;
        this.counters = counters;
        this.handlerFailures = handlerFailures;
    }

    void synCookies(final boolean enabled)
    {
        this.synCookies = enabled;
    }

    static void checkBacklog(final int backlog)
    {
        if (backlog < 1)
        {
            throw new IllegalArgumentException("backlog must be >= 1, got " + backlog);
        }
    }

    // one of acceptor and channelHandler is null; the caller checked the port, backlog and handler
    void add(final int localPort, final TcpAcceptor acceptor, final TcpChannelHandler channelHandler,
        final int backlog)
    {
        if (byPort.containsKey(localPort))
        {
            throw new IllegalStateException("port " + localPort + " already listens");
        }
        byPort.put(localPort, new Listener(acceptor, channelHandler, backlog));
    }

    boolean remove(final int localPort)
    {
        return byPort.remove(localPort) != null;
    }

    Listener get(final int localPort)
    {
        return byPort.get(localPort);
    }

    boolean isListening(final int localPort)
    {
        return byPort.containsKey(localPort);
    }

    int synReceivedCount(final int localPort)
    {
        final Listener listener = byPort.get(localPort);
        return listener == null ? 0 : listener.synReceived;
    }

    SynReceivedTable halfOpen()
    {
        return halfOpen;
    }

    // a segment with no connection and no TIME-WAIT record: a half-open connection, a listening port or a closed one
    void onSegment(final long key, final TcpSegment segment, final int localIp, final long nowNs)
    {
        final int record = halfOpen.find(key);
        if (record >= 0)
        {
            if (segment.optionsResult() < 0)
            {
                return; // MUST-7: an illegal option length is handled by dropping the segment
            }
            final int result = halfOpen.onSegment(record, segment, nowNs);
            if (result == SynReceivedTable.PROMOTE)
            {
                promote(record, key, segment, localIp, nowNs);
            }
            else if (result == SynReceivedTable.OTHER_ACK)
            {
                onOtherAck(record, key, segment, localIp, nowNs);
            }
            return;
        }
        final Listener listener = byPort.get(segment.destinationPort());
        if (listener == null)
        {
            if (TcpConnection.replyToClosedPort(segment, output))
            {
                counters.resetsToClosedPorts++;
            }
            return;
        }
        final int controls = segment.flags() & (SYN | ACK | RST);
        if (controls == SYN)
        {
            onSyn(listener, key, segment, localIp, nowNs);
        }
        else if (controls == ACK && cookieAckExpected(listener, nowNs))
        {
            onCookieAck(listener, key, segment, localIp, nowNs);
        }
        else if (segment.has(ACK) && !segment.has(RST))
        {
            refuse(segment); // §3.10.7.2 second: any acknowledgment is bad in LISTEN, <SEQ=SEG.ACK><CTL=RST>
        }
        // §3.10.7.2: a RST is ignored, anything else without SYN is dropped
    }

    private void refuse(final TcpSegment segment)
    {
        TcpConnection.replyToClosedPort(segment, output);
        counters.resetsToClosedPorts++;
    }

    private void onSyn(
        final Listener listener, final long key, final TcpSegment segment, final int localIp, final long nowNs)
    {
        if (segment.optionsResult() < 0)
        {
            return; // MUST-7
        }
        if (table.activeCount() + halfOpen.size() >= table.maxConnections())
        {
            counters.poolExhausted++; // a half-open connection holds a place for the connection it will become
            return;
        }
        if (listener.synReceived >= listener.backlog || halfOpen.isFull())
        {
            if (synCookies)
            {
                // RFC 4987 §3.6: answer without keeping state; the ACK that returns the cookie creates the connection
                cookies.sendSynAck(segment, localIp, output, output.optionsHolder(), nowNs);
                counters.synCookiesSent++;
                listener.lastCookieNs = nowNs;
                listener.cookiesSent = true;
            }
            else
            {
                counters.synsDroppedBacklog++; // the peer retransmits its SYN; maybe there is room by then
            }
            return;
        }
        if (table.mayOpen()) // memory pressure, counted; the peer retransmits its SYN
        {
            counters.synsAccepted++;
            halfOpen.add(key, segment, localIp, listener, nowNs);
        }
    }

    // the handshake of a half-open connection completed: the connection is made from its record and handed the
    // segment (the fifth step takes it to ESTABLISHED, then its text and FIN)
    private void promote(
        final int record, final long key, final TcpSegment segment, final int localIp, final long nowNs)
    {
        final Listener listener = halfOpen.listener(record);
        if (byPort.get(segment.destinationPort()) != listener)
        {
            halfOpen.remove(record); // the port stopped listening
            refuse(segment);
            return;
        }
        if (!table.mayOpen())
        {
            counters.synReceivedOverflow++; // no room: the ACK is dropped, the record and its timer stay
            return;
        }
        final ConnectionSlot slot = admit(listener, key, segment, localIp);
        if (slot == null)
        {
            halfOpen.remove(record); // refused by the application: RST sent
            return;
        }
        halfOpen.restore(record, slot.connection, segment, nowNs);
        halfOpen.remove(record);
        table.activate(slot, key);
        slot.connection.onSegment(segment, nowNs);
        stack.afterInteraction(slot);
    }

    // An ACK of another ISS than a record's. RFC 4987 §3.6 is silent; Linux hands an ACK that does not match its
    // request sock to the listener (tcp_check_req returns it), which checks it as a cookie (tcp_v4_cookie_check)
    // before it answers with a RST. It happens when a cookie SYN-ACK comes late: the peer's retransmitted SYN
    // took a record (the backlog had room again), then the peer, synchronized by the cookie, ACKs the cookie; the
    // RST of §3.10.7.4 fifth (<SEQ=SEG.ACK>, the peer's RCV.NXT) would reset its ESTABLISHED connection. The
    // record is superseded: the peer will never ACK its ISS.
    private void onOtherAck(
        final int record, final long key, final TcpSegment segment, final int localIp, final long nowNs)
    {
        final Listener listener = halfOpen.listener(record);
        if ((segment.flags() & (SYN | RST)) == 0 && byPort.get(segment.destinationPort()) == listener &&
            cookieAckExpected(listener, nowNs))
        {
            if (cookies.validate(segment, localIp, nowNs, restoredSyn))
            {
                halfOpen.remove(record);
                acceptCookie(listener, key, segment, localIp, nowNs);
                return;
            }
            counters.synCookiesRejected++; // as Linux's SYNCOOKIESFAILED on this path
        }
        TcpConnection.replyToClosedPort(segment, output); // §3.10.7.4 fifth: <SEQ=SEG.ACK><CTL=RST>, the record stays
    }

    // Linux checks cookies only while the listener's queue overflowed recently (tcp_synq_no_recent_overflow):
    // otherwise an ACK in LISTEN is just answered with a RST
    private static boolean cookieAckExpected(final Listener listener, final long nowNs)
    {
        return listener.cookiesSent &&
            nowNs - listener.lastCookieNs < SynCookies.MAX_AGE_PERIODS * SynCookies.PERIOD_NS;
    }

    private void onCookieAck(
        final Listener listener, final long key, final TcpSegment segment, final int localIp, final long nowNs)
    {
        if (!cookies.validate(segment, localIp, nowNs, restoredSyn))
        {
            counters.synCookiesRejected++;
            refuse(segment); // as Linux: a failed cookie is an ACK in LISTEN, <SEQ=SEG.ACK><CTL=RST>
            return;
        }
        acceptCookie(listener, key, segment, localIp, nowNs);
    }

    // a valid cookie (its SYN's options in restoredSyn): the connection, ESTABLISHED by the segment
    private void acceptCookie(
        final Listener listener, final long key, final TcpSegment segment, final int localIp, final long nowNs)
    {
        counters.synCookiesAccepted++;
        final ConnectionSlot slot = admit(listener, key, segment, localIp);
        if (slot != null)
        {
            table.activate(slot, key);
            slot.connection.synReceivedFromCookie(segment, restoredSyn, nowNs);
            slot.connection.onSegment(segment, nowNs); // the fifth step: ESTABLISHED, then its text
            stack.afterInteraction(slot);
        }
    }

    // a pooled connection in LISTEN whose handler accepted the peer, or null (pool exhausted: counted by the
    // table; refused by a channel handler: RST)
    private ConnectionSlot admit(
        final Listener listener, final long key, final TcpSegment segment, final int localIp)
    {
        final ConnectionSlot slot = table.take();
        if (slot == null)
        {
            return null;
        }
        final TcpConnection connection = slot.connection;
        connection.listen(localIp, segment.destinationPort());
        if (listener.channelHandler != null)
        {
            slot.handler = listener.channelHandler;
            slot.key = key; // the peer's address and port are known to onAccept
            // refused (or its handler threw), or closed/aborted from inside onAccept (CLOSE in LISTEN is
            // immediate, §3.10.4)
            if (!accepts(listener.channelHandler, slot) || connection.state() != TcpState.LISTEN)
            {
                slot.handler = null;
                connection.releaseFromListen();
                table.putBack(slot);
                refuse(segment); // RST: connection refused
                return null;
            }
        }
        else
        {
            TcpReceiveHandler handler;
            try
            {
                handler = listener.acceptor.onAccept(connection);
            }
            catch (final RuntimeException ex)
            {
                handlerFailures.onException(ex);
                handler = null;
                slot.handlerFailed = true; // refused once the segment is processed: RST
            }
            slot.delegate = handler != null ? handler : TcpReceiveHandler.DISCARD;
        }
        return slot;
    }

    private boolean accepts(final TcpChannelHandler handler, final ConnectionSlot slot)
    {
        try
        {
            return handler.onAccept(slot);
        }
        catch (final RuntimeException ex)
        {
            handlerFailures.onException(ex);
            return false; // refused: RST
        }
    }
}
