/**
 * Wire codecs: flyweight headers for Ethernet II (with 802.1Q/802.1ad tag skipping), ARP, IPv4, ICMP and
 * TCP, the TCP option parser/encoder, and the Internet checksum.
 *
 * <h2>Validation contract</h2>
 * <ol>
 *   <li>Untrusted bytes go through a checked entry point first: each header has a static
 *       {@code validate(buffer, offset, length, ...)} that returns the header length ({@code >= 0}) or a
 *       negative {@link dev.sluice.core.wire.WireError} code, and {@link dev.sluice.core.wire.TcpOptions#parse}
 *       returns {@code 0} or a negative code. They never throw and never read outside
 *       {@code [offset, offset + length)} (the caller guarantees that range lies inside the buffer).</li>
 *   <li>After a successful validate, accessors trust the buffer: they do no checks of their own beyond
 *       what Agrona's bounds checks do.</li>
 *   <li>Emit paths ({@code write}/{@code put*}/{@code encode}) never validate: the stack builds only
 *       well-formed headers, and callers provide enough room.</li>
 * </ol>
 * All multi-byte fields are in network byte order; addresses are carried as primitives (IPv4 as
 * {@code int}, MAC as the low 48 bits of a {@code long}) so that nothing allocates per packet.
 *
 * <p>May depend on: the JDK and Agrona buffers. Must not depend on other Sluice packages.
 */
package dev.sluice.core.wire;
