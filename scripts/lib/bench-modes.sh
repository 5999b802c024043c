# scripts/bench --connections / --memory / --netty (issues 11 and 14). Sourced by scripts/bench, which sets
# quick, out, jar, connections, memory, nettyt and idle_n; each mode prints its table and writes OUT/<mode>.md.
# shellcheck shell=bash

BENCH_NS=slbench   # the kernel's side runs in a namespace of its own: its sockets, TIME-WAIT and sysctls only

bench_ns_up() {
  ip netns del "$BENCH_NS" 2>/dev/null || true
  ip netns add "$BENCH_NS"
  ip netns exec "$BENCH_NS" ip link set lo up
}

bench_ns_down() { ip netns del "$BENCH_NS" 2>/dev/null || true; }

bench_modes() {
  trap bench_ns_down EXIT
  local load_before; load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  log "load average before: $load_before (figures taken while the machine is shared are noisy)"
  [ "$connections" = 1 ] && bench_connections
  [ "$memory" = 1 ] && bench_memory
  [ "$nettyt" = 1 ] && bench_netty
  log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# sustained connection rate, client-closed and server-closed, Sluice beside the kernel
bench_connections() {
  local warm secs msl cap w io
  if [ "$quick" = 1 ]; then warm=2; secs=5; msl=1000; else warm=5; secs=75; msl=30000; fi
  bench_ns_up
  cap=$(ip netns exec "$BENCH_NS" cat /proc/sys/net/ipv4/tcp_max_tw_buckets)
  rm -f "$out"/e2e/conn-*.json
  for w in connect-16 connect-16-server-close; do
    for io in spin block; do
      log "connections: kernel $w ($io), ${secs} s after ${warm} s"
      timeout $(( warm + secs + 90 )) ip netns exec "$BENCH_NS" java $(sluice_jvm_args) -Xms1g -Xmx1g -cp "$jar" \
        dev.sluice.bench.e2e.KernelBench --workload "$w" --io "$io" --warmup "$warm" --seconds "$secs" \
        --client-cpu 0 --server-cpu 1 --out "$out/e2e/conn-kernel-$w-$io.json" > "$out/logs/conn-kernel-$w-$io.log" 2>&1 \
        || log "  failed: $(grep -v '^WARNING' "$out/logs/conn-kernel-$w-$io.log" | tail -3 | tr '\n' ' ')"
    done
    log "connections: Sluice $w, MSL $msl ms, TIME-WAIT cap $cap, ${secs} s after ${warm} s"
    timeout $(( warm + secs + 90 )) java $(sluice_jvm_args) -Xms1g -Xmx1g -cp "$jar" dev.sluice.bench.e2e.SluiceBench \
      --workload "$w" --warmup "$warm" --seconds "$secs" --msl-ms "$msl" --time-wait-cap "$cap" \
      --client-cpu 0 --server-cpu 1 --out "$out/e2e/conn-sluice-$w.json" > "$out/logs/conn-sluice-$w.log" 2>&1 \
      || log "  failed: $(grep -v '^WARNING' "$out/logs/conn-sluice-$w.log" | tail -3 | tr '\n' ' ')"
  done
  bench_ns_down
  python3 - "$out" "$msl" "$secs" <<'PY' | tee "$out/connections.md"
import glob, json, os, re, sys
out, msl, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = {}
for f in glob.glob(os.path.join(out, "e2e", "conn-*.json")):
    runs[os.path.basename(f)[5:-5]] = json.load(open(f))
def rate(key):
    r = runs.get(key)
    return r["ops_per_s"] if r else None
def p99(key):
    r = runs.get(key)
    return r["latency_ns"]["p99"] / 1000 if r and "latency_ns" in r else None
def f(v, spec="{:,.0f}"):
    return "failed" if v is None else spec.format(v)
def tw_kernel(key):
    r = runs.get(key)
    m = re.search(r"TIME-WAIT sockets at the end (\d+) \(tcp_max_tw_buckets (\d+)\)", r["notes"]) if r else None
    return "%s (cap %s)" % m.groups() if m else "?"
def tw_sluice(key):
    r = runs.get(key)
    if not r:
        return "?"
    side = "server_shard" if "server-close" in key else "client_shard"
    m = re.search(r"TIME-WAIT (\d+) \(entered (\d+), recycled (\d+), reused (\d+)\)", r[side])
    return "%s (entered %s, recycled at the cap %s, reused by a new SYN %s)" % m.groups() if m else "?"
print("Connection rate, 16 in flight, %s s measured; TIME-WAIT: Sluice 2 x MSL %d ms = %.0f s, Linux 60 s "
      "(TCP_TIMEWAIT_LEN)." % (secs, msl, 2 * msl / 1000))
print()
print("| who closes first | kernel NIO spin conn/s | kernel NIO block conn/s | Sluice net_ring conn/s | Sluice / best kernel | p99 µs kernel best, Sluice | TIME-WAIT at the end: kernel (namespace) | Sluice (closing side) |")
print("|---|---:|---:|---:|---:|---|---|---|")
for w, label in (("connect-16", "client"), ("connect-16-server-close", "server")):
    ks, kb, s = rate("kernel-%s-spin" % w), rate("kernel-%s-block" % w), rate("sluice-%s" % w)
    best = max([v for v in (ks, kb) if v is not None], default=None)
    bestkey = "kernel-%s-%s" % (w, "spin" if best is not None and best == ks else "block")
    ratio = "%.2fx" % (s / best) if s and best else ""
    print("| %s | %s | %s | %s | %s | %s, %s | %s | %s |" % (label, f(ks), f(kb), f(s), ratio, f(p99(bestkey), "{:,.1f}"),
          f(p99("sluice-%s" % w), "{:,.1f}"), tw_kernel(bestkey), tw_sluice("sluice-%s" % w)))
PY
}

# memory per idle ESTABLISHED connection, Sluice beside Linux
bench_memory() {
  local n="${idle_n:-}"
  [ -n "$n" ] || { if [ "$quick" = 1 ]; then n=10000; else n=18000; fi; }
  log "memory: $n idle connections per side, Sluice (two stacks over net_ring)"
  rm -f "$out/e2e/memory-sluice.json" "$out/memory-linux.json"
  timeout $(( 120 + n / 1000 )) java $(sluice_jvm_args) -Xms2g -Xmx2g -cp "$jar" dev.sluice.bench.e2e.SluiceBench \
    --workload idle --connections "$n" --client-cpu 0 --server-cpu 1 --out "$out/e2e/memory-sluice.json" \
    > "$out/logs/memory-sluice.log" 2>&1 || log "  failed: $(grep -v '^WARNING' "$out/logs/memory-sluice.log" | tail -3 | tr '\n' ' ')"
  log "memory: $n idle connections per side, Linux (loopback in a namespace of its own)"
  bench_ns_up
  timeout $(( 120 + n / 500 )) ip netns exec "$BENCH_NS" python3 "$SLUICE_ROOT/bench/kernel_idle.py" "$n" \
    > "$out/memory-linux.json" 2> "$out/logs/memory-linux.log" || log "  failed: $(tail -3 "$out/logs/memory-linux.log" | tr '\n' ' ')"
  bench_ns_down
  python3 - "$out" "$n" <<'PY' | tee "$out/memory.md"
import json, os, sys
out, n = sys.argv[1], int(sys.argv[2])
def load(p):
    try:
        return json.loads(open(p).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None
s = load(os.path.join(out, "e2e", "memory-sluice.json"))
k = load(os.path.join(out, "memory-linux.json"))
print("Memory per idle ESTABLISHED connection end: %d connections, both ends in one host (divided by %d)." % (n, 2 * n))
print()
print("| | bytes per connection | measured |")
print("|---|---:|---|")
if k:
    bucket = ("bind bucket %d B" % k["tcp_bind_bucket_object_bytes"] if k["tcp_bind_bucket_object_bytes"] else
              "tcp_bind_bucket is merged into a generic cache here: in all slab growth")
    print("| Linux: slab TCP + tcp_bind_bucket | %.0f | /proc/slabinfo growth (TCP object %d B; %s) |" % (
        k["tcp_slab_bytes_per_connection"], k["tcp_object_bytes"], bucket))
    print("| Linux: all slab growth | %.0f | every cache: socket inode, file, dentry, ... (noisy on a shared machine) |" % k["all_slab_bytes_per_connection"])
    print("| Linux: socket buffers | %.0f | `ss -tm` skmem r+t+f+w+o+bl |" % k["skmem_bytes_per_connection"])
else:
    print("| Linux | failed | |")
if s:
    print("| Sluice: heap | %.0f | used heap after GC, before and after |" % s["heap_bytes_per_connection"])
    print("| Sluice: off-heap | %.0f | direct memory once idle (payload pool slabs, given back once drained) |" % s["direct_bytes_per_connection"])
    print("| Sluice: total | %.0f | |" % s["bytes_per_connection"])
else:
    print("| Sluice | failed | |")
PY
}

# Netty on Sluice beside Netty on epoll
bench_netty() {
  local secs; if [ "$quick" = 1 ]; then secs=3; else secs=10; fi
  log "netty: NettyTransportBench $secs (epoll, then Sluice)"
  timeout $(( 7 * secs + 120 )) java $(sluice_jvm_args) -Xms1g -Xmx1g -cp "$jar" dev.sluice.bench.netty.NettyTransportBench \
    "$secs" > "$out/logs/netty-transport.log" 2>&1 || log "  failed: $(grep -v '^WARNING' "$out/logs/netty-transport.log" | tail -3 | tr '\n' ' ')"
  grep '^{' "$out/logs/netty-transport.log" > "$out/netty.json" || true
  python3 - "$out/netty.json" <<'PY' | tee "$out/netty.md"
import json, sys
rows = {r["transport"]: r for r in (json.loads(l) for l in open(sys.argv[1]) if l.strip())}
e, s = rows.get("epoll"), rows.get("sluice")
print("| workload | Netty on epoll (kernel loopback) | Netty on Sluice (net_ring) | Sluice / epoll |")
print("|---|---|---|---|")
if not (e and s):
    print("| failed: see logs/netty-transport.log | | | |")
    sys.exit(0)
for label, key in (("HTTP hello req/s (64 connections, wrk-like client)", "requestsPerSecond"),
                   ("HTTP hello req/s (64 connections, Netty HttpClientCodec client)", "codecClientRequestsPerSecond"),
                   ("echo ping-pong us p50", "p50Us"), ("echo ping-pong us p99", "p99Us"),
                   ("bytes allocated per request, server loop", "loopBytesPerRequest")):
    if key not in e or key not in s:
        continue
    print("| %s | %s | %s | %.2fx |" % (label, format(e[key], ",.1f"), format(s[key], ",.1f"), s[key] / e[key] if e[key] else 0))
bad = e.get("malformedResponses", 0) + s.get("malformedResponses", 0)
print()
print("Client loop on CPU 0, server loop on CPU 1 for both transports; malformed responses: %d%s" %
      (bad, "" if bad == 0 else " (FAILED: the wrk-like client rejected responses)"))
PY
}
