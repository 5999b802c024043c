/**
 * Netty servers (HTTP/1.1 hello, echo) written as in Netty's own examples, runnable on Sluice, epoll or NIO by
 * {@code --transport}; only the event loop group and the channel class change (see {@code Transport}).
 */
package dev.sluice.examples.netty;
