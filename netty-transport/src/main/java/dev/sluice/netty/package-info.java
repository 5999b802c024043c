/**
 * A Netty 4.2 transport on Sluice: {@link dev.sluice.netty.SluiceEventLoopGroup} (one event loop per shard, each
 * a {@link dev.sluice.netty.SluiceIoHandler} running the shard's duty cycle), {@link
 * dev.sluice.netty.SluiceServerSocketChannel} and {@link dev.sluice.netty.SluiceSocketChannel}. Depends on core's
 * channel API, the poll driver's {@code ShardAgent}, and Netty's transport.
 */
package dev.sluice.netty;
