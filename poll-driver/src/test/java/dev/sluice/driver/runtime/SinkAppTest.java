package dev.sluice.driver.runtime;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.driver.apps.SinkApp;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sluice sink --sha256}: the per-connection report carries the SHA-256 of exactly the bytes received, in
 * order, across deliveries (issue 12's loss table checks what Sluice received with it); a later connection on the
 * same pooled handler starts a fresh digest.
 */
class SinkAppTest
{
    private final ByteArrayOutputStream report = new ByteArrayOutputStream();

    private String connection(final ShardApplication app, final String... chunks)
    {
        report.reset();
        final FakeChannel channel = new FakeChannel();
        assertTrue(app.listener().onAccept(channel));
        for (final String chunk : chunks)
        {
            channel.deliver(chunk);
        }
        channel.handler.onClosed(channel, TcpCloseReason.NORMAL);
        return report.toString(StandardCharsets.US_ASCII);
    }

    private static String sha256(final String text) throws Exception
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
            .digest(text.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void shouldReportTheSha256OfEachConnectionsBytes() throws Exception
    {
        final ShardApplication app = new SinkApp(new PrintStream(report, true), true).forShard(TestShards.context());
        final String first = connection(app, "hello ", "world");
        assertTrue(first.contains(" 11 bytes in "), first);
        assertTrue(first.contains(" sha256 " + sha256("hello world")), first);
        final String second = connection(app, "again");
        assertTrue(second.contains(" sha256 " + sha256("again")), second);
    }

    @Test
    void shouldLeaveTheDigestOutByDefault()
    {
        final String line = connection(new SinkApp(new PrintStream(report, true)).forShard(TestShards.context()), "x");
        assertTrue(line.startsWith("sink: "), line);
        assertFalse(line.contains("sha256"), line);
    }
}
