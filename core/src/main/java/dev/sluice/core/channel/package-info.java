/**
 * The narrow channel API for code that runs on a shard's thread: {@link dev.sluice.core.channel.TcpChannel}
 * is what an application sees of one connection (SEND, RECEIVE flow control, half-close, CLOSE, ABORT,
 * STATUS, addresses, an attachment, writability), {@link dev.sluice.core.channel.TcpChannelHandler} the
 * callbacks it receives (accept with the peer known, data, writable, peer closed, closed with a reason, R1
 * advice), and {@link dev.sluice.core.channel.ChannelHandlerPool} recycles per-connection handler objects
 * so applications do not pool by hand. The engine ({@code TcpConnection}) stays out of reach.
 *
 * <p>A channel belongs to one shard and may be used only on that shard's thread; a call from any other
 * thread throws {@link java.lang.WrongThreadException} at once. Application threads reach a shard through
 * its command queue (the runtime's {@code execute}), or use the blocking sockets built on top of this API.
 *
 * <p>Single-threaded, no allocation on any call of the data path.
 *
 * <p>May depend on: the JDK (java.base, without the FFM API), Agrona and {@link dev.sluice.core.tcp} (for
 * {@code TcpState} and {@code TcpCloseReason}). {@link dev.sluice.core.stack} implements it.
 */
package dev.sluice.core.channel;
