/**
 * The applications of the {@code sluice} command, each an {@link dev.sluice.driver.runtime.Application} with
 * pooled per-connection handlers that allocate nothing per segment: {@code echo}, {@code http} (HTTP/1.1 with
 * keep-alive and pipelining), {@code sink} and {@code source}, and the {@link dev.sluice.driver.apps.FixedPattern}
 * that {@code source} and {@code GET /bytes/N} send.
 */
package dev.sluice.driver.apps;
