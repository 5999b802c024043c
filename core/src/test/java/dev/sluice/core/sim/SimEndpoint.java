package dev.sluice.core.sim;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpConnection;
import dev.sluice.core.tcp.TcpReceiveHandler;
import dev.sluice.core.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.SplittableRandom;

/**
 * The application on one side of one simulated connection. It sends {@link #sendTotal} bytes of its stream
 * (in bulk, or in small chunks at intervals: Nagle and small segments), checks every received byte against
 * the peer's stream, consumes either at once or slowly (keeping bytes unconsumed so the receive window closes:
 * flow control), closes in one of two ways (as soon as its data is queued: a half-close while the peer may
 * still send; or only after the peer's FIN), and in a few connections aborts at a random time.
 */
final class SimEndpoint implements TcpReceiveHandler
{
    static final long NEVER = Long.MAX_VALUE;
    private static final int STAGE_BYTES = 16 * 1024;

    enum CloseMode
    {
        /** CLOSE once everything is queued, whatever the peer does (half-close). */
        AFTER_SEND,
        /** CLOSE once everything is queued and the peer's FIN has arrived. */
        AFTER_PEER_FIN
    }

    final SimulationRun run;
    final String name;
    final SimShard shard;
    final long sendKey;
    final long receiveKey;
    final int sendTotal;
    final int receiveTotal;
    final SplittableRandom random;

    // behaviour
    final boolean bulkSender;
    final int trickleChunk;
    final long trickleIntervalNs;
    final boolean sendBeforeEstablished;
    final boolean slowConsumer;
    final long consumeIntervalNs;
    final int consumeChunk;
    final CloseMode closeMode;
    final long closeDelayNs;
    final boolean noDelay;
    long abortAtNs = NEVER;

    SimEndpoint peer;
    TcpConnection connection;

    // progress
    private final UnsafeBuffer stage = new UnsafeBuffer(new byte[STAGE_BYTES]);
    private long stageStart;
    private int stageLength;
    int sent;
    int received;
    long unconsumed;
    private long nextConsumeNs;
    private long nextSendNs;
    private boolean writeBlocked;
    private long closeAtNs = NEVER;
    boolean closeCalled;

    // observations
    int establishedCount;
    int peerClosedCount;
    int closedCount;
    TcpCloseReason closeReason;
    long closedAtNs = NEVER;
    boolean aborted;
    long abortedAtNs = NEVER;
    TcpState stateAtAbort;
    long ackedAtAbort;
    long giveUpAtNs = NEVER;
    TcpState lastState;
    boolean gaveUp;
    long completedAtNs = NEVER;

    SimEndpoint(
        final SimulationRun run, final String name, final SimShard shard, final long sendKey, final long receiveKey,
        final int sendTotal, final int receiveTotal, final SplittableRandom random, final CloseMode closeMode)
    {
        this.run = run;
        this.name = name;
        this.shard = shard;
        this.sendKey = sendKey;
        this.receiveKey = receiveKey;
        this.sendTotal = sendTotal;
        this.receiveTotal = receiveTotal;
        this.random = random;
        this.closeMode = closeMode;
        bulkSender = random.nextInt(4) != 0;
        // small chunks at short intervals, at least 1/1000 of the transfer per chunk: done within 2 s
        trickleChunk = Math.max(1 + random.nextInt(random.nextBoolean() ? 200 : 6000), sendTotal / 1000 + 1);
        trickleIntervalNs = random.nextLong(2_000_000L);
        sendBeforeEstablished = random.nextBoolean();
        slowConsumer = random.nextInt(3) == 0;
        // at least 512 bytes per 10 ms: a slow consumer of 256 KB finishes within about 5 s
        consumeIntervalNs = 100_000L + random.nextLong(10_000_000L);
        consumeChunk = 512 + random.nextInt(random.nextBoolean() ? 1500 : 40_000);
        closeDelayNs = random.nextBoolean() ? 0 : random.nextLong(50_000_000L);
        noDelay = random.nextInt(4) == 0;
    }

    /**
     * A steady endpoint for measurements: a bulk sender (everything offered at once), a consumer that takes
     * everything, closing right after sending (or after the peer's FIN when it sends nothing).
     */
    SimEndpoint(
        final SimulationRun run, final String name, final SimShard shard, final long sendKey, final long receiveKey,
        final int sendTotal, final int receiveTotal, final SplittableRandom random)
    {
        this.run = run;
        this.name = name;
        this.shard = shard;
        this.sendKey = sendKey;
        this.receiveKey = receiveKey;
        this.sendTotal = sendTotal;
        this.receiveTotal = receiveTotal;
        this.random = random;
        this.closeMode = sendTotal > 0 ? CloseMode.AFTER_SEND : CloseMode.AFTER_PEER_FIN;
        bulkSender = true;
        trickleChunk = sendTotal + 1;
        trickleIntervalNs = 0;
        sendBeforeEstablished = false;
        slowConsumer = false;
        consumeIntervalNs = 0;
        consumeChunk = 0;
        closeDelayNs = 0;
        noDelay = false;
    }

    void attach(final TcpConnection connection)
    {
        if (this.connection != null)
        {
            throw run.failure(name + ": attached twice");
        }
        this.connection = connection;
        connection.noDelay(noDelay);
    }

    /** Remembers the state after each duty cycle (before an RST, say). */
    void observeState()
    {
        if (connection != null && !isClosed())
        {
            lastState = connection.state();
        }
    }

    boolean isClosed()
    {
        return closedCount > 0;
    }

    @Override
    public int onData(final DirectBuffer buffer, final int offset, final int length)
    {
        if (isClosed())
        {
            throw run.failure(name + ": " + length + " bytes delivered after onClosed");
        }
        if (length <= 0)
        {
            throw run.failure(name + ": onData with length " + length);
        }
        if ((long)received + length > receiveTotal)
        {
            throw run.failure(name + ": received " + ((long)received + length) + " bytes, the peer sends only " +
                receiveTotal + " (duplicated delivery)");
        }
        final int mismatch = StreamPattern.firstMismatch(receiveKey, received, buffer, offset, length);
        if (mismatch >= 0)
        {
            throw run.failure(name + ": wrong byte at stream offset " + (received + mismatch) + " (delivered 0x" +
                Integer.toHexString(buffer.getByte(offset + mismatch) & 0xFF) + ", expected 0x" +
                Integer.toHexString(StreamPattern.byteAt(receiveKey, received + mismatch) & 0xFF) +
                "): lost, duplicated, reordered or altered data");
        }
        received += length;
        if (received == receiveTotal)
        {
            completedAtNs = run.nowNs;
        }
        if (!slowConsumer)
        {
            return length;
        }
        int now = random.nextInt(4) == 0 ? random.nextInt(length + 1) : 0;
        if (!SimulationRun.ZERO_WINDOW)
        {
            // keep two MSS of the buffer free: a zero window deadlocks on a lost update (BUG-SIM-2)
            final long limit = Math.max(0, shard.stack.config().receiveBufferBytes() -
                2L * shard.stack.config().mssBytes());
            final long keep = Math.min(length - now, Math.max(0, limit - unconsumed));
            now = (int)(length - keep);
        }
        unconsumed += length - now;
        return now;
    }

    @Override
    public void onEstablished()
    {
        establishedCount++;
        if (establishedCount > 1)
        {
            throw run.failure(name + ": onEstablished twice");
        }
    }

    @Override
    public void onWritable()
    {
        writeBlocked = false;
    }

    @Override
    public void onPeerClosed()
    {
        peerClosedCount++;
        if (peerClosedCount > 1)
        {
            throw run.failure(name + ": onPeerClosed twice");
        }
        if (received != receiveTotal)
        {
            throw run.failure(name + ": peer's FIN after " + received + " of " + receiveTotal + " bytes");
        }
    }

    @Override
    public void onClosed(final TcpCloseReason reason)
    {
        closedCount++;
        if (closedCount > 1)
        {
            throw run.failure(name + ": onClosed twice (" + closeReason + ", then " + reason + ")");
        }
        closeReason = reason;
        closedAtNs = run.nowNs;
        if (connection != null && connection.closeReason() != reason)
        {
            throw run.failure(name + ": closeReason() " + connection.closeReason() + " but onClosed " + reason);
        }
    }

    /**
     * Does what is due at {@code nowNs}: consume, send, close, abort, give up.
     *
     * @param nowNs virtual time.
     */
    void tick(final long nowNs)
    {
        if (connection == null || isClosed())
        {
            return;
        }
        if (nowNs >= abortAtNs && establishedCount > 0)
        {
            abortNow(nowNs);
            return;
        }
        if (nowNs >= giveUpAtNs)
        {
            // the peer aborted and its RST may have been lost: with nothing to send and no keep-alive, this side
            // would wait forever (as on any stack), so the application gives up as a real one would
            gaveUp = true;
            connection.abort();
            return;
        }
        if (slowConsumer && unconsumed > 0 && nowNs >= nextConsumeNs)
        {
            final int bytes = (int)Math.min(unconsumed, consumeChunk);
            unconsumed -= bytes;
            nextConsumeNs = nowNs + consumeIntervalNs;
            connection.consumed(bytes);
        }
        if (canSend() && nowNs >= nextSendNs)
        {
            sendSome(nowNs);
        }
        if (sent == sendTotal && !closeCalled && closeAtNs == NEVER && establishedCount > 0 &&
            (closeMode == CloseMode.AFTER_SEND || peerClosedCount > 0))
        {
            closeAtNs = nowNs + closeDelayNs;
        }
        if (nowNs >= closeAtNs && !closeCalled)
        {
            closeCalled = true;
            if (unconsumed > 0)
            {
                connection.consumed((int)unconsumed); // a graceful closer reads everything (else SHLD-3 resets)
                unconsumed = 0;
            }
            final TcpState before = connection.state();
            if (!connection.close())
            {
                if (!peer.aborted)
                {
                    throw run.failure(name + ": close() refused in " + before.rfcName());
                }
            }
        }
    }

    private boolean canSend()
    {
        return sent < sendTotal && !writeBlocked && !closeCalled && (establishedCount > 0 || sendBeforeEstablished);
    }

    private void sendSome(final long nowNs)
    {
        final int remaining = sendTotal - sent;
        final int offer = bulkSender ? remaining : Math.min(trickleChunk, remaining);
        int offered = 0;
        while (offered < offer)
        {
            if (sent < stageStart || sent >= stageStart + stageLength)
            {
                stageStart = sent;
                stageLength = Math.min(STAGE_BYTES, sendTotal - sent);
                StreamPattern.fill(sendKey, stageStart, stage, 0, stageLength);
            }
            final int chunk = (int)Math.min(offer - offered, stageStart + stageLength - sent);
            final int accepted = connection.send(stage, (int)(sent - stageStart), chunk);
            if (accepted < 0)
            {
                if (peer.aborted || gaveUp)
                {
                    return;
                }
                throw run.failure(name + ": send refused in " + connection.state().rfcName());
            }
            sent += accepted;
            offered += accepted;
            if (accepted < chunk)
            {
                writeBlocked = true; // onWritable releases it
                break;
            }
        }
        nextSendNs = bulkSender ? 0 : nowNs + trickleIntervalNs;
    }

    private void abortNow(final long nowNs)
    {
        abortAtNs = NEVER;
        final TcpState state = connection.state();
        if (state == TcpState.CLOSED)
        {
            return;
        }
        stateAtAbort = state;
        // bytes of ours the peer's TCP acknowledged: it delivered them to its application, the abort cannot
        // take them back
        final long acked = (connection.sndUna() - connection.iss() - 1) & 0xFFFFFFFFL;
        ackedAtAbort = Math.min(acked, sent);
        aborted = true;
        abortedAtNs = nowNs;
        connection.abort();
        if (closeReason != TcpCloseReason.ABORTED)
        {
            throw run.failure(name + ": abort() in " + state.rfcName() + " reported " + closeReason);
        }
        if (!peer.isClosed())
        {
            peer.giveUpAtNs = nowNs + SimulationRun.GIVE_UP_AFTER_PEER_ABORT_NS;
        }
    }

    /**
     * When this application next has something to do.
     *
     * @return virtual time (may be in the past: at once), or {@link #NEVER}.
     */
    long nextEventNs()
    {
        if (connection == null || isClosed())
        {
            return NEVER;
        }
        long next = establishedCount > 0 ? Math.min(abortAtNs, giveUpAtNs) : giveUpAtNs;
        if (slowConsumer && unconsumed > 0)
        {
            next = Math.min(next, nextConsumeNs);
        }
        if (canSend())
        {
            next = Math.min(next, nextSendNs);
        }
        if (!closeCalled)
        {
            next = Math.min(next, closeAtNs);
            if (sent == sendTotal && closeAtNs == NEVER && establishedCount > 0 &&
                (closeMode == CloseMode.AFTER_SEND || peerClosedCount > 0))
            {
                next = Math.min(next, run.nowNs);
            }
        }
        return next;
    }

    String describe()
    {
        if (isClosed())
        {
            return name + "[closed " + closeReason + " at " + closedAtNs / 1000 + "us, last seen in " +
                (lastState == null ? "-" : lastState.rfcName()) + " sent=" + sent + "/" + sendTotal + " received=" +
                received + "/" + receiveTotal + " peerFin=" + peerClosedCount + " closeMode=" + closeMode +
                (aborted ? " ABORTED in " + stateAtAbort.rfcName() + " acked=" + ackedAtAbort : "") +
                (gaveUp ? " gaveUp" : "") + "]";
        }
        return name + "[" + (connection == null ? "no connection" : connection.state().rfcName()) +
            " sent=" + sent + "/" + sendTotal + " received=" + received + "/" + receiveTotal +
            " unconsumed=" + unconsumed + " closeMode=" + closeMode + " closeCalled=" + closeCalled +
            " bulk=" + bulkSender + " slow=" + slowConsumer + " blocked=" + writeBlocked +
            " est=" + establishedCount + " peerFin=" + peerClosedCount + " closed=" + closeReason +
            (aborted ? " ABORTED@" + abortedAtNs + " in " + stateAtAbort.rfcName() + " acked=" + ackedAtAbort : "") +
            (gaveUp ? " gaveUp" : "") +
            (connection == null ? "" : " sndUna=" + connection.sndUna() + " sndNxt=" + connection.sndNxt() +
                " sndWnd=" + connection.sndWnd() + " rcvNxt=" + connection.rcvNxt() + " rcvWnd=" + connection.rcvWnd() +
                " sendQueue=" + connection.sendQueueBytes() + " unread=" + connection.unreadBytes() +
                " deadline=" + (connection.nextDeadlineNs() == TcpConnection.NO_DEADLINE ? "none" :
                    Long.toString(connection.nextDeadlineNs()))) + "]";
    }
}
