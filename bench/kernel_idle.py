#!/usr/bin/env python3
"""Linux's memory per idle TCP connection (issue 11), beside SluiceBench's idle workload: N connections over
loopback (run it in a fresh network namespace: scripts/bench --memory does), each sends and receives 8 bytes,
then all stay ESTABLISHED and idle. Measured from the kernel's slab allocator (/proc/slabinfo, active objects
times object size) before the first connection and once all are idle, divided by 2N connection ends (both ends
are in this host):
  - TCP + tcp_bind_bucket: the issue's figure (the socket object and the port's bind bucket);
  - every slab cache: also the socket inode, file, dentry, ... each socket needs (all slab growth; other
    processes on a shared machine add noise to this one);
and the socket buffer memory charged to the sockets (`ss -tm` skmem r+t+f+w+o+bl), summed and divided the same
way. Prints one JSON line.

  python3 bench/kernel_idle.py N

The client ends live in this process, the server ends in a child: each needs N file descriptors (a container's
hard limit, 20,000 here, bounds N).
"""
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time

PER_PORT = 25_000  # within the 28,232 ephemeral ports per destination
FIRST_PORT = 7100


def slabs():
    out = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            if line.startswith(("slabinfo", "#")):
                continue
            fields = line.split()
            out[fields[0]] = (int(fields[1]), int(fields[3]))  # active objects, object size
    return out


def grown(before, after, names=None):
    total = 0
    for name, (active, size) in after.items():
        if names is not None and name not in names:
            continue
        total += (active - before.get(name, (0, size))[0]) * size
    return total


def skmem():
    r = subprocess.run(["ss", "-tmnH", "state", "established"], capture_output=True, text=True, check=True)
    total = 0
    for m in re.finditer(r"skmem:\(r(\d+),rb\d+,t(\d+),tb\d+,f(\d+),w(\d+),o(\d+),bl(\d+)", r.stdout):
        total += sum(int(x) for x in m.groups())
    return total


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), max(hard, need)))
    except (ValueError, OSError):
        # a container may forbid raising the hard limit: say how many connections fit
        sys.exit("kernel_idle: %d connections need %d file descriptors per process; the hard limit here is %d "
                 "(at most %d connections: --idle-connections)" % (need - 100, need, hard, hard - 100))


def main():
    n = int(sys.argv[1])
    raise_fd_limit(n + 100)  # one end per process: the server ends live in a child process
    listeners = []
    for p in range((n + PER_PORT - 1) // PER_PORT):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", FIRST_PORT + p))
        s.listen(4096)
        listeners.append(s)
    ready_r, ready_w = os.pipe()
    stop_r, stop_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the server ends: accept, read 8 bytes, answer 8, hold until told to stop
        os.close(ready_r)
        os.close(stop_w)
        os.write(ready_w, b"r")
        held = []
        for i in range(n):
            a, _ = listeners[i // PER_PORT].accept()
            got = b""
            while len(got) < 8:
                got += a.recv(8 - len(got))
            a.sendall(b"8 bytes!")
            held.append(a)
        os.write(ready_w, b"d")
        os.read(stop_r, 1)
        os._exit(0)
    os.close(ready_w)
    os.close(stop_r)
    for s in listeners:
        s.close()  # the child holds them
    assert os.read(ready_r, 1) == b"r"
    time.sleep(0.5)
    before = slabs()
    t0 = time.monotonic()
    ends = []
    for i in range(n):
        c = socket.create_connection(("127.0.0.1", FIRST_PORT + i // PER_PORT))
        c.sendall(b"8 bytes!")
        ends.append(c)
    for e in ends:
        got = b""
        while len(got) < 8:
            got += e.recv(8 - len(got))
    if os.read(ready_r, 1) != b"d":
        sys.exit("kernel_idle: the server process failed")
    open_s = time.monotonic() - t0
    time.sleep(1.0)  # delayed ACKs: every send queue drains
    after = slabs()
    mem = skmem()
    m = 2 * n
    tcp = grown(before, after, {"TCP", "tcp_bind_bucket"})
    print(json.dumps({
        "system": "linux", "connections": n, "open_seconds": round(open_s, 2),
        "tcp_slab_bytes_per_connection": round(tcp / m, 1),
        "tcp_object_bytes": after.get("TCP", (0, 0))[1],
        "tcp_bind_bucket_object_bytes": after.get("tcp_bind_bucket", (0, 0))[1],
        "all_slab_bytes_per_connection": round(grown(before, after) / m, 1),
        "skmem_bytes_per_connection": round(mem / m, 1),
        "tcp_objects_grown": after.get("TCP", (0, 0))[0] - before.get("TCP", (0, 0))[0],
    }), flush=True)
    os.write(stop_w, b"s")
    os.waitpid(pid, 0)
    for e in ends:
        e.close()


if __name__ == "__main__":
    main()
