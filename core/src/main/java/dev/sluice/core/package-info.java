/**
 * Sluice core: the pure Java protocol stack.
 *
 * <p>Everything under this package is plain Java over Agrona buffers: no FFM, no threads, no clock
 * reads (time arrives as {@code nowNs}), frames enter and leave through small interfaces. That keeps
 * every protocol rule testable deterministically, without DPDK.
 *
 * <p>Sub-packages: {@link dev.sluice.core.wire} (header codecs and checksums),
 * {@link dev.sluice.core.counters} (counter descriptors and per-shard counter values),
 * {@link dev.sluice.core.net} (the network layer of one shard: ARP, IPv4, ICMP),
 * {@link dev.sluice.core.tcp} (one TCP connection's state machine and its parts),
 * {@link dev.sluice.core.stack} (one shard's TCP: connection table, listeners, segments as IPv4 datagrams).
 *
 * <p>May depend on: the JDK (java.base, without the FFM API) and Agrona.
 */
package dev.sluice.core;
