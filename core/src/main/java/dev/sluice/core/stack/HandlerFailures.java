package dev.sluice.core.stack;

import dev.sluice.core.tcp.TcpState;
import org.agrona.ErrorHandler;

/**
 * What a shard does with an exception thrown by an application handler: the stack catches it where it called
 * the handler, finishes the step it was in (a callback never leaves a transition half done), then aborts that
 * connection (RST, RFC 9293 §3.10.5) and carries on with the others. Each exception is counted
 * ({@link TcpStackCounters#handlerExceptions()}); the first ones are reported with their stack trace, later ones
 * once per power of two, so a handler failing on every segment cannot flood the log.
 */
final class HandlerFailures
{
    /** Exceptions reported in full before the reports thin out. */
    static final int FULL_REPORTS = 8;

    private final TcpStackCounters counters;
    private ErrorHandler errorHandler = HandlerFailures::printToStandardError;

    HandlerFailures(final TcpStackCounters counters)
    {
        this.counters = counters;
    }

    void errorHandler(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
    }

    void onException(final Throwable ex)
    {
        final long count = ++counters.handlerExceptions;
        if (count <= FULL_REPORTS || Long.bitCount(count) == 1)
        {
            errorHandler.onError(new HandlerException(count, ex));
        }
    }

    // a handler threw in the step of this connection's that is running: that connection is aborted after it
    void failed(final ConnectionSlot slot, final RuntimeException ex)
    {
        slot.handlerFailed = true;
        onException(ex);
    }

    // a handler threw during the step just finished: that connection is aborted (RST), the shard carries on
    void abortIfFailed(final ConnectionSlot slot)
    {
        if (slot.handlerFailed)
        {
            slot.handlerFailed = false;
            if (slot.connection.state() != TcpState.CLOSED)
            {
                counters.handlerAborts++;
                slot.connection.abort();
            }
        }
    }

    private static void printToStandardError(final Throwable ex)
    {
        ex.printStackTrace(System.err);
    }

    /** The report: the handler's exception as its cause, and how many there were so far. */
    static final class HandlerException extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        HandlerException(final long count, final Throwable cause)
        {
            super("application handler threw (" + count + " so far); its connection is aborted" +
                (count > FULL_REPORTS ? ", further reports at powers of two" : ""), cause);
        }
    }
}
