package dev.sluice.core.tcp;

/**
 * Timeouts (RFC 9293 §3.10.8) of one connection: what happens when a {@link TcpTimers} deadline passes.
 * TIME-WAIT expiry deletes the TCB (MUST-13). Retransmission: SYN-SENT resends the SYN, SYN-RECEIVED the SYN-ACK
 * (MUST-22); otherwise {@link LossRecovery} reacts (RTO backoff, MUST-19, Karn, MUST-18, RFC 5681 (4)) and the
 * {@link SegmentScheduler} resends SND.UNA, the rest following as cwnd allows; R1 advice (SHLD-9) and R2 (the
 * user timeout, MUST-20, MUST-21; MUST-23 for a SYN). Persist: the sender SWS override (MUST-38) or a
 * zero-window probe (MUST-36). Delayed ACK (MUST-40). Keep-alive (SHLD-12, MUST-29). The retransmission
 * deadline may instead stand for RACK-TLP's timers (RFC 8985): the PTO sends a tail loss probe (§7.3), the
 * reordering timer runs RACK's loss detection again (§6.3); neither counts towards R1 or R2.
 *
 * <p>Part of {@link TcpConnection}, which owns the state and the lifecycle; the application hears what a
 * timeout decided after it. Static functions of the connection (no object per connection). No allocation;
 * single-threaded.
 */
final class Timeouts
{

    private Timeouts()
    {
        // functions of the connection: no state of its own, no object per connection
    }

    /**
     * Fires the timers that are due; see {@link TcpConnection#onTimer}.
     *
     * @param nowNs the duty cycle's time.
     * @return timers fired.
     */
    static int fire(final TcpConnection c, final long nowNs)
    {
        if (c.state == TcpState.TIME_WAIT && TcpTimers.due(c.timers.timeWaitNs, nowNs))
        {
            c.enterClosed(TcpCloseReason.NORMAL);
            return 1;
        }
        int fired = 0;
        if (TcpTimers.due(c.timers.retransmissionNs, nowNs))
        {
            if (c.timers.retransmissionKind == TcpTimers.PROBE)
            {
                onProbeTimeout(c, nowNs);
            }
            else if (c.timers.retransmissionKind == TcpTimers.REORDER)
            {
                onReorderTimeout(c, nowNs);
            }
            else if (!onRetransmissionTimeout(c, nowNs))
            {
                return 1;
            }
            fired++;
        }
        if (TcpTimers.due(c.timers.persistNs, nowNs))
        {
            if (!onPersistTimeout(c, nowNs))
            {
                return fired + 1;
            }
            fired++;
        }
        if (TcpTimers.due(c.timers.delayedAckNs, nowNs))
        {
            c.timers.delayedAckNs = TcpConnection.NO_DEADLINE;
            if (c.state.isSynchronized())
            {
                c.scheduler.sendAck();
            }
            fired++;
        }
        if (TcpTimers.due(c.timers.keepAliveDeadlineNs(c.keepAliveEligible()), nowNs))
        {
            if (c.timers.onKeepAliveTimeout(nowNs))
            {
                c.enterClosed(TcpCloseReason.TIMEOUT); // MUST-29: only after several unanswered probes
                return fired + 1;
            }
            c.scheduler.sendKeepAliveProbe();
            fired++;
        }
        return fired;
    }

    // false once the connection gave up (R2)
    private static boolean onRetransmissionTimeout(final TcpConnection c, final long nowNs)
    {
        final boolean synState = c.state == TcpState.SYN_SENT || c.state == TcpState.SYN_RECEIVED;
        final long r2Ns = synState ? c.config.synR2Ns() : c.userTimeoutNs();
        final int retransmissions = c.timers.onRetransmissionTimeout(nowNs, r2Ns,
            !synState && c.snd.wnd == 0); // SHLD-17: a zero window that the peer keeps announcing is no failure
        if (retransmissions == TcpTimers.GIVE_UP)
        {
            c.enterClosed(TcpCloseReason.TIMEOUT);
            return false;
        }
        if (retransmissions == c.config.r1Retransmissions())
        {
            c.excessiveRetransmissions = retransmissions; // R1 (MUST-20, SHLD-9), told after the timer step
            c.events |= TcpConnection.EVENT_EXCESSIVE_RETRANSMISSIONS;
        }
        c.recovery.rtt.onTimeout();
        if (c.state == TcpState.SYN_SENT)
        {
            c.synRetransmitted = true;
            c.scheduler.sendSyn();
        }
        else if (c.state == TcpState.SYN_RECEIVED)
        {
            c.synRetransmitted = true;
            c.scheduler.sendSynAck();
        }
        else
        {
            if (c.recovery.onRetransmissionTimeout(c.snd, retransmissions == 1, nowNs))
            {
                c.scheduler.retransmitOnRecoveryStart(nowNs); // RFC 8985 §6.3: SND.UNA's segment, RACK deems lost
            }
            else
            {
                c.recovery.goBackN(c.snd.una + c.scheduler.retransmitAt(c.snd.una, nowNs), c.snd.nxt);
            }
            if (c.timestamps.enabled())
            {
                c.recovery.onTimeoutRetransmitted(retransmissions == 1, c.timestamps.tsVal(nowNs)); // RFC 3522
            }
        }
        c.timers.armRetransmission(TcpTimers.RTO, nowNs + c.recovery.rtoNs()); // RFC 6298 (5.5), (5.6)
        return true;
    }

    // RFC 8985 §7.3: the PTO expired: a tail loss probe, then the RTO
    private static void onProbeTimeout(final TcpConnection c, final long nowNs)
    {
        c.timers.armRetransmission(TcpTimers.RTO, TcpTimers.NONE);
        if (c.snd.una == c.snd.nxt || !c.state.isSynchronized())
        {
            return;
        }
        c.scheduler.sendProbe(nowNs);
    }

    // RFC 8985 §6.3: RACK's reordering timer expired: detect losses again, recover, re-arm
    private static void onReorderTimeout(final TcpConnection c, final long nowNs)
    {
        c.timers.armRetransmission(TcpTimers.RTO, TcpTimers.NONE);
        if (c.recovery.onReorderTimeout(c.snd, nowNs))
        {
            c.scheduler.retransmitOnRecoveryStart(nowNs);
        }
        c.recovery.armTimer(c.timers, c.snd, nowNs, false, true, c.scheduler.effectiveSendMssBytes());
    }

    // false once the connection gave up
    private static boolean onPersistTimeout(final TcpConnection c, final long nowNs)
    {
        c.timers.persistNs = TcpConnection.NO_DEADLINE;
        if (!c.state.isSynchronized() || c.snd.una != c.snd.nxt)
        {
            return true; // something is in flight: the retransmission timer covers it
        }
        if (c.scheduler.sendOnPersistTimeout(nowNs))
        {
            return true; // the SWS override timeout (MUST-38)
        }
        if (c.timers.onZeroWindowProbe(nowNs, c.userTimeoutNs(), c.recovery.rtoNs()))
        {
            c.enterClosed(TcpCloseReason.TIMEOUT); // probes unanswered for the user timeout
            return false;
        }
        c.scheduler.sendZeroWindowProbe(); // MUST-36
        return true;
    }
}
