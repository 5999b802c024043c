/**
 * The runtime: DPDK ports and one busy-polling agent per core running a shard of the
 * stack. May depend on sluice-core, sluice-native-bindings and Agrona.
 */
package dev.sluice.driver;
