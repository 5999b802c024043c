/**
 * The Sluice runtime and the {@code sluice} command: {@link dev.sluice.driver.runtime.SluiceConfig} (validated
 * flags and properties), {@link dev.sluice.driver.runtime.SluiceRuntime} (port, mempool, one
 * {@link dev.sluice.driver.ShardAgent} with its own TCP per core, flow steering between shards, command
 * queues, clean shutdown) and {@link dev.sluice.driver.runtime.Sluice} (the main class behind
 * {@code scripts/sluice}). Applications plug in as an {@link dev.sluice.driver.runtime.Application} that
 * gives each shard its own part. Depends on core, native-bindings and Agrona.
 */
package dev.sluice.driver.runtime;
