/**
 * JMH benchmarks of the wire codecs and the network layer's receive path ({@code dev.sluice.core.wire},
 * {@code dev.sluice.core.net}). Run with {@code -prof gc} to show bytes allocated per operation.
 */
package dev.sluice.bench.codec;
