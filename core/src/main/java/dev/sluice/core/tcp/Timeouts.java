package dev.sluice.core.tcp;

/**
 * Timeouts (RFC 9293 §3.10.8) of one connection: what happens when a {@link TcpTimers} deadline passes.
 * TIME-WAIT expiry deletes the TCB (MUST-13). Retransmission: SYN-SENT resends the SYN, SYN-RECEIVED the SYN-ACK
 * (MUST-22); otherwise {@link LossRecovery} reacts (RTO backoff, MUST-19, Karn, MUST-18, RFC 5681 (4)) and the
 * {@link SegmentScheduler} resends SND.UNA, the rest following as cwnd allows; R1 advice (SHLD-9) and R2 (the
 * user timeout, MUST-20, MUST-21; MUST-23 for a SYN). Persist: the sender SWS override (MUST-38) or a
 * zero-window probe (MUST-36). Delayed ACK (MUST-40). Keep-alive (SHLD-12, MUST-29).
 *
 * <p>Part of {@link TcpConnection}, which owns the state and the lifecycle; the application hears what a
 * timeout decided after it. No allocation; single-threaded.
 */
final class Timeouts
{
    private final TcpConnection c;
    private final TcpConfig config;
    private final SendSequenceSpace snd;
    private final LossRecovery recovery;
    private final SegmentScheduler scheduler;
    private final TcpTimers timers;

    Timeouts(
        final TcpConnection connection, final TcpConfig config, final SendSequenceSpace snd,
        final LossRecovery recovery, final SegmentScheduler scheduler, final TcpTimers timers)
    {
        this.c = connection;
        this.config = config;
        this.snd = snd;
        this.recovery = recovery;
        this.scheduler = scheduler;
        this.timers = timers;
    }

    /**
     * Fires the timers that are due; see {@link TcpConnection#onTimer}.
     *
     * @param nowNs the duty cycle's time.
     * @return timers fired.
     */
    int fire(final long nowNs)
    {
        if (c.state == TcpState.TIME_WAIT && TcpTimers.due(timers.timeWaitNs, nowNs))
        {
            c.enterClosed(TcpCloseReason.NORMAL);
            return 1;
        }
        int fired = 0;
        if (TcpTimers.due(timers.retransmissionNs, nowNs))
        {
            if (!onRetransmissionTimeout(nowNs))
            {
                return 1;
            }
            fired++;
        }
        if (TcpTimers.due(timers.persistNs, nowNs))
        {
            if (!onPersistTimeout(nowNs))
            {
                return fired + 1;
            }
            fired++;
        }
        if (TcpTimers.due(timers.delayedAckNs, nowNs))
        {
            timers.delayedAckNs = TcpConnection.NO_DEADLINE;
            if (c.state.isSynchronized())
            {
                scheduler.sendAck();
            }
            fired++;
        }
        if (TcpTimers.due(timers.keepAliveDeadlineNs(c.keepAliveEligible()), nowNs))
        {
            if (timers.onKeepAliveTimeout(nowNs))
            {
                c.enterClosed(TcpCloseReason.TIMEOUT); // MUST-29: only after several unanswered probes
                return fired + 1;
            }
            scheduler.sendKeepAliveProbe();
            fired++;
        }
        return fired;
    }

    // false once the connection gave up (R2)
    private boolean onRetransmissionTimeout(final long nowNs)
    {
        final boolean synState = c.state == TcpState.SYN_SENT || c.state == TcpState.SYN_RECEIVED;
        final long r2Ns = synState ? config.synR2Ns() : c.userTimeoutNs();
        final int retransmissions = timers.onRetransmissionTimeout(nowNs, r2Ns,
            !synState && snd.wnd == 0); // SHLD-17: a zero window that the peer keeps announcing is no failure
        if (retransmissions == TcpTimers.GIVE_UP)
        {
            c.enterClosed(TcpCloseReason.TIMEOUT);
            return false;
        }
        if (retransmissions == config.r1Retransmissions())
        {
            c.excessiveRetransmissions = retransmissions; // R1 (MUST-20, SHLD-9), told after the timer step
            c.events |= TcpConnection.EVENT_EXCESSIVE_RETRANSMISSIONS;
        }
        recovery.rtt.onTimeout();
        if (c.state == TcpState.SYN_SENT)
        {
            c.synRetransmitted = true;
            scheduler.sendSyn();
        }
        else if (c.state == TcpState.SYN_RECEIVED)
        {
            c.synRetransmitted = true;
            scheduler.sendSynAck();
        }
        else
        {
            recovery.onRetransmissionTimeout(snd, retransmissions == 1);
            recovery.goBackN(snd.una + scheduler.retransmitAt(snd.una), snd.nxt);
        }
        timers.retransmissionNs = nowNs + recovery.rtoNs(); // RFC 6298 (5.5), (5.6)
        return true;
    }

    // false once the connection gave up
    private boolean onPersistTimeout(final long nowNs)
    {
        timers.persistNs = TcpConnection.NO_DEADLINE;
        if (!c.state.isSynchronized() || snd.una != snd.nxt)
        {
            return true; // something is in flight: the retransmission timer covers it
        }
        if (scheduler.sendOnPersistTimeout(nowNs))
        {
            return true; // the SWS override timeout (MUST-38)
        }
        if (timers.onZeroWindowProbe(nowNs, c.userTimeoutNs(), recovery.rtoNs()))
        {
            c.enterClosed(TcpCloseReason.TIMEOUT); // probes unanswered for the user timeout
            return false;
        }
        scheduler.sendZeroWindowProbe(); // MUST-36
        return true;
    }
}
