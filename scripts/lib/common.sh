# Shared helpers for the scripts in scripts/. Source it; it defines functions only.
# shellcheck shell=bash

SLUICE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log()  { printf '\033[1m[sluice]\033[0m %s\n' "$*" >&2; }
die()  { printf '[sluice] error: %s\n' "$*" >&2; exit 1; }

# The JVM flags every Sluice JVM needs, read from the one place they are defined (pom.xml).
sluice_jvm_args() {
  sed -n 's:.*<sluice.jvmArgs>\(.*\)</sluice.jvmArgs>.*:\1:p' "$SLUICE_ROOT/pom.xml"
}

java_major() { # $1 = path to a java binary; prints its feature version
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'
}

# Finds a JDK 25 or newer: JAVA_HOME first, then /usr/lib/jvm/*25*. Exports JAVA_HOME.
find_jdk25() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/*25* /usr/lib/jvm/*; do [ -d "$c" ] && candidates+=("$c"); done
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(java_major "$c/bin/java")
    if [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$c"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  die "no JDK 25 found (looked at JAVA_HOME=${JAVA_HOME:-unset} and /usr/lib/jvm/*). Sluice needs Java 25 for the final FFM API; Debian 12 does not package it: install Temurin 25 (e.g. /usr/lib/jvm/temurin-25-jdk-amd64) and/or set JAVA_HOME."
}

require_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root (DPDK, /dev/net/tun and network namespaces); run it with sudo or as root"
}

mvn_cmd() { # runs Maven with the JDK found by find_jdk25, batch mode
  # Debian's Maven 3.8 uses sun.misc.Unsafe through guava: silence JDK 25's warning about it
  # SLUICE_M2=DIR: a local Maven repository of its own (parallel checkouts must not install into one)
  local repo=()
  [ -n "${SLUICE_M2:-}" ] && repo=("-Dmaven.repo.local=$SLUICE_M2")
  MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" mvn -B -ntp "${repo[@]}" -f "$SLUICE_ROOT/pom.xml" "$@"
}

# Builds poll-driver and what it needs when sources changed; prints the runtime class path.
sluice_classpath() {
  local jar="$SLUICE_ROOT/poll-driver/target/sluice-poll-driver-0.1.0-SNAPSHOT.jar"
  local cpfile="$SLUICE_ROOT/poll-driver/target/classpath.txt"
  if [ ! -f "$jar" ] || [ ! -f "$cpfile" ] || \
     [ -n "$(find "$SLUICE_ROOT"/{native-bindings,core,poll-driver}/src "$SLUICE_ROOT/pom.xml" -newer "$jar" -type f | head -1)" ]; then
    log "building (first run, or sources changed)"
    mvn_cmd -q -Dsluice.requireShim=true -DskipTests -pl poll-driver -am install >&2
    mvn_cmd -q -pl poll-driver dependency:build-classpath -Dmdep.outputFile="$cpfile" >&2
  fi
  echo "$jar:$(cat "$cpfile")"
}
