/**
 * One shard's transport glue: {@link dev.sluice.core.stack.TcpStack} demultiplexes the TCP segments the
 * network layer hands up ({@link dev.sluice.core.net.TransportHandler}) to pooled
 * {@link dev.sluice.core.tcp.TcpConnection}s, accepts SYNs on listening ports
 * ({@link dev.sluice.core.stack.TcpAcceptor}, with a per-listener backlog), picks ephemeral ports for active
 * opens, acts on ICMP errors, answers segments for closed ports, fires connection timers from one Agrona
 * {@code DeadlineTimerWheel} per shard and, once per duty cycle, polls only the connections on its ready list
 * (a segment, a timer or an application call touched them); {@link dev.sluice.core.stack.NetworkSegmentOutput}
 * turns the segments a connection emits into IPv4 datagrams of the {@link dev.sluice.core.net.NetworkLayer}.
 *
 * <p>Single-threaded (owned by one shard), no clock reads, no allocation per segment.
 *
 * <p>May depend on: the JDK (java.base, without the FFM API), Agrona, {@link dev.sluice.core.wire},
 * {@link dev.sluice.core.net} and {@link dev.sluice.core.tcp}.
 */
package dev.sluice.core.stack;
