#!/usr/bin/python3
"""The Linux target's applications (run inside the target namespace):
  linux_peer.py echo --port P               echo every connection until EOF, then close
  linux_peer.py source --connect IP:PORT --bytes N
                                            connect, send N bytes, shut down writing,
                                            read until EOF, close
Urgent data stays in the stream (SO_OOBINLINE), as Sluice keeps it."""
import socket
import sys
import threading


def pattern(n, salt=0):
    return bytes(((i * 7 + salt) & 0xFF) for i in range(n))


def serve(conn):
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()


def echo(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)  # the SYN backlog checks_cookies.py fills (Sluice: --syn-backlog 64)
    print("listening", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def source(addr, nbytes):
    host, port = addr.rsplit(":", 1)
    s = socket.socket()
    try:
        s.connect((host, int(port)))
    except ConnectionRefusedError:
        print("refused", flush=True)
        return 3
    except OSError as e:
        print("error %s" % e, flush=True)
        return 4
    print("connected", flush=True)
    try:
        s.sendall(pattern(nbytes))
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        print("closed", flush=True)
    except OSError as e:
        print("reset %s" % e, flush=True)
        return 5
    finally:
        s.close()
    return 0


def main(argv):
    if argv[:1] == ["echo"] and argv[1] == "--port":
        echo(int(argv[2]))
    elif argv[:1] == ["source"]:
        args = dict(zip(argv[1::2], argv[2::2]))
        return source(args["--connect"], int(args["--bytes"]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
