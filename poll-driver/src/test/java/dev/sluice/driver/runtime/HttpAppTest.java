package dev.sluice.driver.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.driver.apps.HttpApp;
import org.junit.jupiter.api.Test;

/**
 * The {@code http} application's replies, driven through a fake channel: every reply's body matches its
 * {@code Content-Length} (issue 13's review found a 405 declaring 10 bytes and sending none, and a 400 saying
 * "not found").
 */
class HttpAppTest
{
    private final ShardApplication app = new HttpApp().forShard(TestShards.context());
    private final FakeChannel channel = new FakeChannel();

    private String exchange(final String request)
    {
        assertTrue(app.listener().onAccept(channel));
        channel.deliver(request);
        app.doWork(0);
        return channel.sentText();
    }

    private static void assertBodyMatchesContentLength(final String response)
    {
        final int headEnd = response.indexOf("\r\n\r\n");
        assertTrue(headEnd > 0, response);
        final String head = response.substring(0, headEnd);
        final int at = head.indexOf("Content-Length: ");
        final int length = Integer.parseInt(head.substring(at + 16).split("\r\n")[0]);
        assertEquals(length, response.length() - headEnd - 4, "body vs Content-Length in " + response);
    }

    @Test
    void shouldAnswer405WithAllowAndTheBodyItDeclares()
    {
        final String response = exchange("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 405 Method Not Allowed\r\n"), response);
        assertTrue(response.contains("\r\nAllow: GET, HEAD\r\n"), response);
        assertTrue(response.endsWith("method not allowed\n"), response);
        assertBodyMatchesContentLength(response);
    }

    @Test
    void shouldAnswer400ForABadByteCountWithABadRequestBody()
    {
        final String response = exchange("GET /bytes/abc HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertTrue(response.endsWith("bad request\n"), response);
        assertBodyMatchesContentLength(response);
    }

    @Test
    void shouldServeThePageAndA404WithMatchingBodies()
    {
        final String page = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(page.startsWith("HTTP/1.1 200 OK\r\n"), page);
        assertBodyMatchesContentLength(page);
        channel.sent.reset();
        channel.deliver("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
        app.doWork(0);
        final String missing = channel.sentText();
        assertTrue(missing.startsWith("HTTP/1.1 404 Not Found\r\n"), missing);
        assertBodyMatchesContentLength(missing);
        assertEquals(0, channel.unreadBytes(), "parsed requests are released to the window");
    }

    @Test
    void shouldCloseAfterAConnectionCloseRequest()
    {
        final String response = exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(response.contains("Connection: close"), response);
        assertTrue(channel.closeCalled);
    }
}
