/**
 * TCP (RFC 9293) for one stack shard, built bottom-up from small, separately tested parts:
 * wrapping sequence-number arithmetic ({@link dev.sluice.core.tcp.SequenceNumbers}), initial sequence
 * numbers ({@link dev.sluice.core.tcp.IsnGenerator}), the retransmission timer estimate
 * ({@link dev.sluice.core.tcp.RttEstimator}), the send ring ({@link dev.sluice.core.tcp.SendBuffer}), the
 * out-of-order store ({@link dev.sluice.core.tcp.ReassemblyBuffer}) and validated settings
 * ({@link dev.sluice.core.tcp.TcpConfig}). {@link dev.sluice.core.tcp.TcpConnection} owns the state
 * transitions ({@link dev.sluice.core.tcp.TcpState}) of one connection: it consumes received segments
 * ({@link dev.sluice.core.tcp.TcpSegment}), emits segments through
 * {@link dev.sluice.core.tcp.TcpSegmentOutput} when polled, delivers data and events to a
 * {@link dev.sluice.core.tcp.TcpReceiveHandler} (with a {@link dev.sluice.core.tcp.TcpCloseReason} at the
 * end) and tells the shard's timer wheel when to call it again ({@code nextDeadlineNs}/{@code onTimer}).
 *
 * <p>Single-threaded (owned by one shard), no clock reads (time arrives as {@code nowNs}), no threads, no
 * allocation after construction on any data-path method, no reference kept to a received buffer after a
 * call returns (payload that must outlive the burst is copied).
 *
 * <p>May depend on: the JDK (java.base, without the FFM API), Agrona and
 * {@link dev.sluice.core.wire}. Nothing else in Sluice.
 */
package dev.sluice.core.tcp;
