#!/usr/bin/env bash
# Builds libsluice_shim.so against the installed DPDK (pkg-config libdpdk).
# Called by Maven (native-bindings/pom.xml, phase generate-resources):
#   build.sh OUTPUT_DIR REQUIRE(true|false)
# Without DPDK it warns and skips unless REQUIRE is true; the Java side then reports
# the missing shim with the command that installs DPDK.
set -euo pipefail
out="$1"; require="${2:-false}"
src="$(cd "$(dirname "$0")" && pwd)"
if ! command -v gcc >/dev/null || ! pkg-config --exists libdpdk 2>/dev/null; then
  msg="DPDK development files not found (pkg-config libdpdk); install them with: sudo scripts/setup (apt-get install dpdk libdpdk-dev dpdk-dev pkg-config gcc)"
  if [ "$require" = "true" ]; then echo "[sluice-shim] error: $msg" >&2; exit 1; fi
  echo "[sluice-shim] warning: $msg; building without the shim" >&2
  exit 0
fi
mkdir -p "$out"
lib="$out/libsluice_shim.so"
if [ -f "$lib" ] && [ "$lib" -nt "$src/sluice_shim.c" ] && [ "$lib" -nt "$src/build.sh" ]; then exit 0; fi
# -O3 -march=native is not used: the shim must run on any x86-64 the JVM runs on;
# DPDK's own flags (-march=corei7 from pkg-config) set the floor.
# --no-as-needed keeps librte_net_ring and librte_bus_vdev as NEEDED so their symbols
# resolve through the shim's handle.
gcc -O2 -g -fPIC -shared -Wall -Wextra -Werror \
  $(pkg-config --cflags libdpdk) \
  -o "$lib" "$src/sluice_shim.c" \
  -Wl,--no-as-needed -lrte_net_ring -lrte_bus_vdev -lrte_ethdev -lrte_mbuf -lrte_mempool -lrte_ring -lrte_eal
echo "[sluice-shim] built $lib against DPDK $(pkg-config --modversion libdpdk)" >&2
