/**
 * The network layer of one stack shard: Ethernet demultiplexing, the ARP cache with its bounded queue of
 * packets waiting for resolution, IPv4 input and output, ICMP echo and ICMP errors for TCP, and next-hop
 * choice. {@link dev.sluice.core.net.NetworkLayer} is the entry point: the runtime hands it received
 * frames ({@code onFrame}) and calls {@code doWork(nowNs)} every duty cycle; the TCP layer sends through
 * {@code beginIpv4}/{@code commitIpv4} and receives through {@link dev.sluice.core.net.TransportHandler}.
 * Frames leave through {@link dev.sluice.core.net.FrameTransmitter}, so everything here runs without DPDK.
 *
 * <p>Single-threaded (one instance per shard), no clock reads, no allocation per packet after
 * construction, and nothing keeps a reference to a received buffer after {@code onFrame} returns.
 *
 * <p>May depend on: the JDK, Agrona, {@link dev.sluice.core.wire} and {@link dev.sluice.core.counters}.
 */
package dev.sluice.core.net;
