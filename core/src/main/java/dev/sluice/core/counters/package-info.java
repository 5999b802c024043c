/**
 * Counters as data: {@link dev.sluice.core.counters.NetCounterDescriptor} lists every counter of the
 * network layer once (stable id, type, label), and {@link dev.sluice.core.counters.NetCounters} holds one
 * shard's values in a plain {@code long[]}, written only by the shard's thread. The runtime publishes
 * them (e.g. by allocating one Agrona {@code CountersManager} counter per descriptor, keyed by id and
 * labelled with the label, and copying values once per duty cycle or on a timer).
 *
 * <p>May depend on: the JDK only.
 */
package dev.sluice.core.counters;
