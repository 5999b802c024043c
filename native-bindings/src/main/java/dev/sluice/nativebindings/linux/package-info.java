/**
 * Linux facilities the runtime and the tests need beside DPDK (network namespaces via
 * {@code setns(2)}). JDK only.
 */
package dev.sluice.nativebindings.linux;
