/**
 * Hand-written Java shape over the generated DPDK bindings: availability
 * ({@link dev.sluice.nativebindings.dpdk.Dpdk}), the EAL, mempools, ports, and the fast
 * path through a registered {@link dev.sluice.nativebindings.dpdk.Lcore}. JDK only.
 */
package dev.sluice.nativebindings.dpdk;
