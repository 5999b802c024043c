/**
 * Runtime support for the generated bindings: library loading and the {@code @CName}
 * annotation. Hand-written; JDK only.
 */
package dev.sluice.nativebindings.dpdk.internal;
