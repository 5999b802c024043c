/**
 * FFM bindings to DPDK 22.11 and the Sluice C shim, generated in jextract's style by
 * {@code native-bindings/src/main/bindings/generate.py} (one {@code static final
 * MethodHandle} per symbol, struct layouts as named offset constants). Never edit by hand:
 * change {@code dpdk-22.11.bindings} and run {@code scripts/regen-bindings}.
 * Use the hand-written wrappers in {@code dev.sluice.nativebindings.dpdk} instead of
 * these classes where one exists.
 */
package dev.sluice.nativebindings.dpdk.generated;
