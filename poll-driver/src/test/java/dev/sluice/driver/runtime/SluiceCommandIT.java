package dev.sluice.driver.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.sluice.driver.CountersFile;
import dev.sluice.driver.apps.HttpApp;
import dev.sluice.nativebindings.linux.NetNamespace;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code sluice} command on a net_tap device in a namespace each test creates, with Linux tools as the
 * peers: curl against {@code sluice http} (one and two cores), a Python receiver for {@code sluice source},
 * and SIGTERM while a client holds a connection open.
 */
class SluiceCommandIT
{
    private static final String IDLE_CLIENT = """
        import socket, sys
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
        print("connected", flush=True)
        try:
            b = s.recv(100)
            print("FIN" if b == b"" else "data", flush=True)
        except ConnectionResetError:
            print("RST", flush=True)
        except socket.timeout:
            print("silence", flush=True)
        """;
    private static final String PIPELINE = """
        import socket, sys, time
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
        s.sendall(b"GET /bytes/5 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /nope HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
                  b"GET /bytes/300000 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        s.sendall(b"GET / HT"); time.sleep(0.3)
        s.sendall(b"TP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b: break
            data += b
        out = []
        pattern = bytes(33 + (i % 89) for i in range(89)) * 4000
        while data:
            head, _, rest = data.partition(b"\\r\\n\\r\\n")
            lines = head.split(b"\\r\\n")
            length = int([l.split(b":")[1] for l in lines if l.lower().startswith(b"content-length:")][0])
            body, data = rest[:length], rest[length:]
            status = lines[0].split(b" ")[1].decode()
            intact = "" if status != "200" or b"html" in body else (" ok" if body == pattern[:length] else " bad")
            out.append("%s:%d%s" % (status, len(body), intact))
        print(" ".join(out) + " EOF", flush=True)
        """;
    private static final String ECHO_CLIENT = """
        import socket, sys, os, threading
        n = int(sys.argv[3]); data = os.urandom(n); got = bytearray()
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
        def read():
            while len(got) < n:
                b = s.recv(65536)
                if not b: break
                got.extend(b)
        t = threading.Thread(target=read); t.start()
        s.sendall(data); t.join(60)
        s.shutdown(socket.SHUT_WR)
        eof = s.recv(1) == b""
        print("echoed", len(got), "intact" if bytes(got) == data else "corrupt", "eof" if eof else "no-eof", flush=True)
        """;
    private static final String RECEIVER = """
        import socket, sys, hashlib
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("0.0.0.0", int(sys.argv[1]))); srv.listen(1)
        print("listening", flush=True)
        c, a = srv.accept()
        h = hashlib.sha256(); n = 0
        while True:
            b = c.recv(1 << 20)
            if not b: break
            h.update(b); n += len(b)
        c.close()
        print("received", n, h.hexdigest(), flush=True)
        """;

    @Test
    void httpShouldServeCurlIntactAndSigtermShouldCloseConnectionsAndRemoveTheTap(@TempDir final Path dir)
        throws Exception
    {
        final String counters = "/dev/shm/slrt-it-http.counters";
        try (NetNamespace ns = NetNamespace.create("slrt-it-http");
            SluiceProcess sluice = SluiceProcess.start(ns.name(), dir, "http", "--dev", "net_tap0,iface=slrtih0",
                "--ip", "10.63.0.2/24", "--listen", "80", "--idle", "backoff", "--counters-file", counters))
        {
            kernelSide(ns, "slrtih0", "10.63.0.1/24");
            final String page = ns.exec("curl", "-s", "--max-time", "20", "http://10.63.0.2/");
            assertTrue(page.contains("<h1>Sluice</h1>"), page);
            assertEquals("404", ns.exec("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
                "http://10.63.0.2/missing"));

            final String sha = ns.exec("sh", "-c", "curl -s --max-time 60 http://10.63.0.2/bytes/10485760 | sha256sum");
            assertEquals(SluiceProcess.patternSha256(10_485_760), sha.split(" ")[0], "10 MiB body intact");

            // pipelining: three requests in one segment, then one split over two segments with Connection: close
            final Path pipeline = dir.resolve("pipeline.py");
            Files.writeString(pipeline, PIPELINE);
            assertEquals("200:5 ok 404:10 200:300000 ok 200:" + HttpApp.PAGE.length() + " EOF",
                ns.exec("python3", pipeline.toString(), "10.63.0.2", "80").trim());

            // SIGTERM while a client holds an idle connection: the client must see FIN or RST, not silence
            final Path script = dir.resolve("idle.py");
            Files.writeString(script, IDLE_CLIENT);
            final Process client = ns.start("python3", script.toString(), "10.63.0.2", "80");
            final StringBuilder clientOut = new StringBuilder();
            final var reader = client.inputReader();
            clientOut.append(reader.readLine()); // "connected"
            assertEquals("connected", clientOut.toString());
            sluice.terminate();
            final String seen = reader.readLine();
            assertTrue(client.waitFor(30, TimeUnit.SECONDS));
            assertTrue("FIN".equals(seen) || "RST".equals(seen), "the client saw " + seen);
            assertNotEquals(-1, sluice.waitFor(30));
            final String out = sluice.output();
            assertTrue(out.contains("sluice: stopped"), out);
            assertFalse(ns.exec("ip", "-o", "link", "show").contains("slrtih0"), "the tap is gone");
            assertFalse(Files.exists(Path.of(counters)), "the counters file is removed");
        }
    }

    @Test
    void echoShouldReturnEveryByteToAPythonClientAndCloseAfterItsFin(@TempDir final Path dir) throws Exception
    {
        final Path script = dir.resolve("echo.py");
        Files.writeString(script, ECHO_CLIENT);
        try (NetNamespace ns = NetNamespace.create("slrt-it-echo");
            SluiceProcess sluice = SluiceProcess.start(ns.name(), dir, "echo", "--dev", "net_tap0,iface=slrtie0",
                "--ip", "10.69.0.2/24", "--listen", "7", "--idle", "backoff", "--counters-file",
                "/dev/shm/slrt-it-echo.counters"))
        {
            kernelSide(ns, "slrtie0", "10.69.0.1/24");
            assertEquals("echoed 5000000 intact eof", ns.exec("python3", script.toString(), "10.69.0.2", "7",
                "5000000").trim());
            assertEquals("echoed 1 intact eof", ns.exec("python3", script.toString(), "10.69.0.2", "7", "1").trim());
        }
    }

    @Test
    void sourceShouldSendHundredMegabytesToALinuxReceiverIntact(@TempDir final Path dir) throws Exception
    {
        final Path script = dir.resolve("receiver.py");
        Files.writeString(script, RECEIVER);
        try (NetNamespace ns = NetNamespace.create("slrt-it-src"))
        {
            final Process receiver = ns.start("python3", script.toString(), "9000");
            final var reader = receiver.inputReader();
            assertEquals("listening", reader.readLine());
            try (SluiceProcess sluice = SluiceProcess.start(ns.name(), dir, "source", "--dev",
                "net_tap0,iface=slrtis0", "--ip", "10.64.0.2/24", "--connect", "10.64.0.1:9000", "--bytes", "100M",
                "--idle", "backoff", "--counters-file", "/dev/shm/slrt-it-src.counters", "--no-time-wait-wait"))
            {
                kernelSide(ns, "slrtis0", "10.64.0.1/24");
                assertEquals(0, sluice.waitFor(180), sluice.output());
                assertTrue(sluice.output().contains("source: 104857600 bytes in"), sluice.output());
            }
            final String received = reader.readLine();
            assertTrue(receiver.waitFor(30, TimeUnit.SECONDS));
            assertEquals("received 104857600 " + SluiceProcess.patternSha256(100L << 20), received);
        }
    }

    @Test
    void twoCoresShouldServeSixteenParallelCurlsFromBothShards(@TempDir final Path dir) throws Exception
    {
        final String counters = "/dev/shm/slrt-it-mc.counters";
        try (NetNamespace ns = NetNamespace.create("slrt-it-mc");
            SluiceProcess sluice = SluiceProcess.start(ns.name(), dir, "http", "--dev", "net_tap0,iface=slrtim0",
                "--ip", "10.65.0.2/24", "--listen", "80", "--cores", "2", "--idle", "backoff",
                "--counters-file", counters))
        {
            assertTrue(sluice.output().contains("queues=2"), sluice.output());
            kernelSide(ns, "slrtim0", "10.65.0.1/24");
            final List<Process> curls = new ArrayList<>();
            for (int i = 0; i < 16; i++)
            {
                curls.add(ns.start("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                    "--max-time", "60", "http://10.65.0.2/bytes/1000000"));
            }
            for (final Process curl : curls)
            {
                final String result = new String(curl.getInputStream().readAllBytes());
                assertTrue(curl.waitFor(90, TimeUnit.SECONDS));
                assertEquals("200 1000000", result);
            }
            Thread.sleep(100); // shards publish their counters every millisecond
            final CountersReader reader = CountersFile.openReader(Path.of(counters));
            final long[] connections = new long[2];
            reader.forEach((value, id, label) ->
            {
                for (int s = 0; s < 2; s++)
                {
                    if (label.equals("shard " + s + ": app: connections"))
                    {
                        connections[s] = value;
                    }
                }
            });
            assertEquals(16, connections[0] + connections[1], "every connection served once");
            assertTrue(connections[0] > 0 && connections[1] > 0,
                "both shards served some: " + connections[0] + " and " + connections[1]);
        }
    }

    private static void kernelSide(final NetNamespace ns, final String iface, final String ip) throws Exception
    {
        ns.exec("ip", "addr", "add", ip, "dev", iface);
        ns.exec("ip", "link", "set", iface, "up");
    }
}
