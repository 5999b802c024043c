/**
 * Thread-per-connection servers on virtual threads that run on JDK sockets or on Sluice's blocking sockets
 * by one flag ({@code --transport jdk|sluice}): {@link dev.sluice.examples.EchoServer},
 * {@link dev.sluice.examples.HttpServer}, and the switch itself, {@link dev.sluice.examples.Transport}.
 * Run them with {@code scripts/example}; {@code scripts/example-check} tests them against Linux clients.
 *
 * <p>May depend on: the poll driver (runtime and sockets) and the JDK.
 */
package dev.sluice.examples;
