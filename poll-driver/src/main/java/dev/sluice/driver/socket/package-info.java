/**
 * Blocking sockets on Sluice for application threads, virtual threads first:
 * {@link dev.sluice.driver.socket.SluiceServerSocket} and {@link dev.sluice.driver.socket.SluiceSocket}, shaped
 * like {@code java.net.ServerSocket} and {@code java.net.Socket}. Each connection is served on its shard through
 * the channel API ({@link dev.sluice.core.channel}); bytes cross between the application thread and the shard
 * through single-producer/single-consumer rings with back-pressure both ways, waiting threads park and the
 * shard wakes exactly them, and a doorbell queue per shard tells it which sockets have work. Nothing spins
 * outside the shards; nothing is locked or allocated per read or write.
 *
 * <p>May depend on: core, the runtime ({@link dev.sluice.driver.runtime}), Agrona and the JDK.
 */
package dev.sluice.driver.socket;
