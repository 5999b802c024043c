package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static dev.sluice.core.stack.StackPair.IP_B;
import static dev.sluice.core.stack.StackPair.TCP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.SynCookies;
import dev.sluice.core.tcp.TcpConfig;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpSegmentOutput;
import dev.sluice.core.tcp.TcpState;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * Issue 11, SYN cookies (RFC 4987 §3.6) at a listener whose SYN backlog is full: the SYN-ACK carries the cookie
 * and nothing is kept, the ACK returning it creates the connection ESTABLISHED with the options restored, a
 * forged one is answered like any ACK in LISTEN (a RST, as Linux).
 */
class TcpStackSynCookieTest
{
    private static final int PORT = 7;
    private static final int CLIENT_PORT = 40_000;
    private static final int RAW_PORT = 50_000;
    private static final int RAW_ISN = 0x1000_0000;

    private final StackPair pair = new StackPair(TcpConfig.builder().build(), 8, 8);
    private final List<Endpoint> accepted = new ArrayList<>();
    private final List<UnsafeBuffer> fromServer = new ArrayList<>();
    private boolean loseSynAcks;

    TcpStackSynCookieTest()
    {
        pair.tap = this::tap;
    }

    private boolean tap(final StackPair.Shard from, final DirectBuffer frame, final int length)
    {
        if (!StackPair.isTcp(frame))
        {
            return true;
        }
        if (from == pair.a)
        {
            fromServer.add(StackPair.copy(frame, length));
            return !(loseSynAcks && StackPair.tcpFlags(frame) == (TcpHeader.SYN | TcpHeader.ACK));
        }
        return true;
    }

    private TcpReceiveHandler accept(final TcpConnection connection)
    {
        final Endpoint endpoint = new Endpoint();
        endpoint.connection = connection;
        accepted.add(endpoint);
        return endpoint;
    }

    // a listener with backlog 1, held by a handshake whose SYN-ACK is lost: the next SYN finds it full
    private void fullBacklog()
    {
        pair.a.stack.listen(PORT, this::accept, 1);
        loseSynAcks = true;
        pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, new Endpoint(), pair.nowNs);
        pair.steps(5);
        assertEquals(1, pair.a.stack.synReceivedCount(PORT));
        loseSynAcks = false;
        fromServer.clear();
    }

    private UnsafeBuffer lastFromServer(final int flags)
    {
        for (int i = fromServer.size() - 1; i >= 0; i--)
        {
            if (StackPair.tcpFlags(fromServer.get(i)) == flags)
            {
                return fromServer.get(i);
            }
        }
        throw new AssertionError("no segment with flags " + flags + " from the server");
    }

    private static TcpOptions options(final UnsafeBuffer frame)
    {
        final TcpOptions options = new TcpOptions();
        assertTrue(options.parseHeader(frame, TCP, TcpHeader.headerLength(frame, TCP)) >= 0);
        return options;
    }

    // a SYN from the client's address on a port its stack knows nothing of, straight through its output
    private void rawSyn(final int mssBytes)
    {
        pair.b.output.sendSyn(IP_B, RAW_PORT, IP_A, PORT, RAW_ISN, 0, TcpHeader.SYN, 65_535, mssBytes,
            TcpSegmentOutput.NO_WINDOW_SCALE);
        pair.steps(2); // delivered, answered

    }

    private void rawAck(final int seq, final int ack)
    {
        pair.b.output.sendControl(IP_B, RAW_PORT, IP_A, PORT, seq, ack, TcpHeader.ACK, 65_535,
            TcpSegmentOutput.NO_MSS_OPTION);
        pair.steps(2);
    }

    @Test
    void shouldCompleteAHandshakeWithACookieWhenTheBacklogIsFull_RFC4987_3_6()
    {
        fullBacklog();
        final Endpoint client = new Endpoint();
        client.connection = pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + 1, client, pair.nowNs);
        // the half-open holder of the backlog is a record its acceptor never saw: the cookie connection is the first
        pair.runUntil(() -> client.established == 1 && accepted.size() == 1 && accepted.get(0).established == 1,
            100);

        assertEquals(1, pair.a.counters.synCookiesSent());
        assertEquals(1, pair.a.counters.synCookiesAccepted());
        assertEquals(0, pair.a.counters.synsDroppedBacklog());
        assertEquals(1, pair.a.counters.synsAccepted(), "only the first SYN took a SYN-RECEIVED record");
        assertEquals(1, pair.a.stack.synReceivedCount(PORT), "a cookie connection never takes a backlog place");
        final TcpConnection serverSide = accepted.get(0).connection;
        assertEquals(TcpState.ESTABLISHED, serverSide.state());
        assertTrue(serverSide.timestampsEnabled() && serverSide.sackEnabled(), "restored from the TSval");
        assertEquals(client.connection.rcvWnd(), serverSide.sndWnd(), "the client's window, scaled by its shift");
        assertEquals(1460, serverSide.sendMssBytes());

        // the cookie SYN-ACK offered what the client's SYN did; its TSval less the 4-tuple's timestamp offset
        // carries the client's window scale (3 for a 256 KiB buffer) and SACK-permitted in its low bits
        final TcpOptions synAck = options(lastFromServer(TcpHeader.SYN | TcpHeader.ACK));
        assertTrue(synAck.hasTimestamps() && synAck.sackPermitted() && synAck.hasWindowScale());
        assertEquals(1460, synAck.mss());
        final int tsClock = synAck.timestampValue() -
            pair.a.isnGenerator.timestampOffset(IP_A, PORT, IP_B, CLIENT_PORT + 1);
        assertEquals(3, SynCookies.decodeWindowScale(tsClock));
        assertTrue(SynCookies.decodeSackPermitted(tsClock));

        // data both ways beyond an unscaled window: the restored window scale and timestamps are in effect
        final UnsafeBuffer data = new UnsafeBuffer(new byte[100_000]);
        for (int i = 0; i < data.capacity(); i++)
        {
            data.putByte(i, (byte)(i * 7));
        }
        final Endpoint server = accepted.get(0);
        assertEquals(data.capacity(), client.connection.send(data, 0, data.capacity()));
        assertEquals(data.capacity(), server.connection.send(data, 0, data.capacity()));
        pair.runUntil(() -> server.received == data.capacity() && client.received == data.capacity(), 2_000);
        assertEquals(client.checksum, server.checksum);
        final UnsafeBuffer dataSegment = lastFromServer(TcpHeader.ACK);
        assertTrue(options(dataSegment).hasTimestamps(), "timestamps on every segment once restored");
        assertTrue(TcpHeader.window(dataSegment, TCP) < (256 * 1024) >> 2, "the window field is scaled");
    }

    @Test
    void shouldRestoreTheMssClassAndRunWithoutOptionsWhenTheSynHasNoTimestamps_RFC4987_3_6()
    {
        fullBacklog();
        rawSyn(1400);
        final UnsafeBuffer synAck = lastFromServer(TcpHeader.SYN | TcpHeader.ACK);
        assertEquals(TcpHeader.MIN_HEADER_LENGTH + 4, TcpHeader.headerLength(synAck, TCP), "MSS option only");
        assertEquals(RAW_ISN + 1, TcpHeader.acknowledgment(synAck, TCP));
        assertEquals(1, pair.a.counters.synCookiesSent());
        assertEquals(0, pair.a.stack.connectionCount(), "nothing kept for the cookie (the half-open one is a record)");

        rawAck(RAW_ISN + 1, TcpHeader.sequence(synAck, TCP) + 1);
        assertEquals(1, pair.a.counters.synCookiesAccepted());
        assertEquals(1, accepted.size());
        final Endpoint server = accepted.get(0);
        assertEquals(TcpState.ESTABLISHED, server.connection.state());
        assertTrue(!server.connection.timestampsEnabled() && !server.connection.sackEnabled());

        // 1400 is in the 1300 class (Linux's msstab): no segment carries more
        fromServer.clear();
        final UnsafeBuffer data = new UnsafeBuffer(new byte[4_000]);
        server.connection.send(data, 0, data.capacity());
        pair.steps(2);
        final UnsafeBuffer first = fromServer.get(0);
        assertEquals(1300, StackPair.tcpPayloadLength(first));
        assertEquals(TcpHeader.MIN_HEADER_LENGTH, TcpHeader.headerLength(first, TCP), "no timestamps");
    }

    @Test
    void shouldAnswerAForgedCookieWithAResetAndCountIt_RFC4987_3_6()
    {
        fullBacklog();
        rawSyn(1460);
        final int cookie = TcpHeader.sequence(lastFromServer(TcpHeader.SYN | TcpHeader.ACK), TCP);
        fromServer.clear();

        rawAck(RAW_ISN + 1, cookie + 1 + 0x0100_0000); // another count
        assertEquals(1, pair.a.counters.synCookiesRejected());
        assertEquals(0, pair.a.counters.synCookiesAccepted());
        final UnsafeBuffer reset = lastFromServer(TcpHeader.RST);
        assertEquals(cookie + 1 + 0x0100_0000, TcpHeader.sequence(reset, TCP), "<SEQ=SEG.ACK><CTL=RST>");
        assertEquals(0, pair.a.stack.connectionCount());
        assertEquals(0, accepted.size());
        assertEquals(1, pair.a.stack.synReceivedCount(PORT));
    }

    @Test
    void shouldResetAnAckOfAnotherIssThanARecordsThatIsNoCookieAndKeepTheRecord_RFC9293s3_10_7_4_RFC4987_3_6()
    {
        pair.a.stack.listen(PORT, this::accept, 2);
        loseSynAcks = true;
        pair.b.stack.connect(IP_A, PORT, CLIENT_PORT, new Endpoint(), pair.nowNs); // a record, resolves ARP
        pair.steps(5);
        rawSyn(1460); // the second record (its SYN-ACK lost: B's stack would reset it): the backlog is full
        final int iss = TcpHeader.sequence(lastFromServer(TcpHeader.SYN | TcpHeader.ACK), TCP);
        pair.b.stack.connect(IP_A, PORT, CLIENT_PORT + 1, new Endpoint(), pair.nowNs);
        pair.steps(5);
        loseSynAcks = false;
        assertEquals(1, pair.a.counters.synCookiesSent(), "the listener overflowed: cookies are checked");
        fromServer.clear();

        // neither the record's ISS nor a cookie: the record's answer (fifth), the failed cookie counted as Linux
        rawAck(RAW_ISN + 1, iss + 1000);
        assertEquals(iss + 1000, TcpHeader.sequence(lastFromServer(TcpHeader.RST), TCP), "<SEQ=SEG.ACK><CTL=RST>");
        assertEquals(1, pair.a.counters.synCookiesRejected());
        assertEquals(2, pair.a.stack.synReceivedCount(PORT), "the record stays");
        assertEquals(0, accepted.size());

        rawAck(RAW_ISN + 1, iss + 1); // the record's ISS still completes it
        assertEquals(1, accepted.size());
        assertEquals(TcpState.ESTABLISHED, accepted.get(0).connection.state());
        assertEquals(0, pair.a.counters.synCookiesAccepted());
    }

    @Test
    void shouldNotCheckCookiesAtAListenerThatSentNone_RFC4987_3_6()
    {
        pair.a.stack.listen(PORT, this::accept, 1);
        pair.b.stack.connect(IP_A, 9, CLIENT_PORT, new Endpoint(), pair.nowNs); // refused: resolves ARP
        pair.steps(5);
        fromServer.clear();

        rawAck(RAW_ISN + 1, 12_345);
        assertEquals(0, pair.a.counters.synCookiesRejected());
        assertEquals(12_345, TcpHeader.sequence(lastFromServer(TcpHeader.RST), TCP), "§3.10.7.2: any ACK, a RST");
    }

    @Test
    void shouldDropSynsBeyondTheBacklogWhenCookiesAreOff()
    {
        pair.a.stack.synCookies(false);
        fullBacklog();
        rawSyn(1460);
        assertEquals(0, pair.a.counters.synCookiesSent());
        assertEquals(1, pair.a.counters.synsDroppedBacklog());
        assertTrue(fromServer.isEmpty(), "no reply");
    }

    @Test
    void shouldRefuseACookieConnectionWhenTheConnectionLimitIsReached_RFC4987_3_6()
    {
        final StackPair small = new StackPair(TcpConfig.builder().build(), 1, 8);
        final List<UnsafeBuffer> synAcks = new ArrayList<>();
        small.tap = (from, frame, length) ->
        {
            if (from == small.a && StackPair.isTcp(frame) &&
                StackPair.tcpFlags(frame) == (TcpHeader.SYN | TcpHeader.ACK))
            {
                synAcks.add(StackPair.copy(frame, length));
            }
            return true;
        };
        small.a.stack.listen(PORT, this::accept, 1);
        final Endpoint first = new Endpoint();
        small.b.stack.connect(IP_A, PORT, CLIENT_PORT, first, small.nowNs);
        small.runUntil(() -> first.established == 1, 100); // the one connection the server may hold
        final Endpoint client = new Endpoint();
        final TcpConnection second = small.b.stack.connect(IP_A, PORT, CLIENT_PORT + 1, client, small.nowNs);
        small.steps(5);

        // the limit (1) is reached: the SYN is dropped, neither a record nor a cookie (Linux drops it too)
        assertEquals(1, synAcks.size(), "only the first handshake was answered");
        assertEquals(0, small.a.counters.synCookiesSent());
        assertEquals(1, small.a.counters.poolExhausted());
        assertEquals(0, small.a.stack.synReceivedCount(PORT));
        assertNotNull(second);
        assertEquals(TcpState.SYN_SENT, second.state());
    }
}
