package dev.sluice.bench.netty;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The bench's wrk-like client: one request per whole response, however the responses are cut into reads. */
class RawHttpRequesterTest
{
    private final AtomicLong responses = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();

    @Test
    void shouldSendTheEncodedRequestOnActive()
    {
        final EmbeddedChannel ch = new EmbeddedChannel(new RawHttpRequester("10.93.0.1", responses, malformed));
        assertEquals("GET / HTTP/1.1\r\nhost: 10.93.0.1\r\n\r\n", readRequest(ch));
        assertNull(ch.readOutbound());
    }

    @Test
    void shouldCountEveryResponseOfNettysEncoderWhereverTheReadsAreCut()
    {
        final byte[] three = concat(helloResponse(), helloResponse(), helloResponse());
        for (int cut = 1; cut <= three.length; cut++)
        {
            responses.set(0);
            final EmbeddedChannel ch = new EmbeddedChannel(new RawHttpRequester("h", responses, malformed));
            readRequest(ch);
            for (int from = 0; from < three.length; from += cut)
            {
                ch.writeInbound(Unpooled.wrappedBuffer(three, from, Math.min(cut, three.length - from)));
            }
            assertEquals(3, responses.get(), "reads of " + cut + " bytes");
            for (int i = 0; i < 3; i++)
            {
                assertEquals("GET / HTTP/1.1\r\nhost: h\r\n\r\n", readRequest(ch), "one request per response");
            }
            assertNull(ch.readOutbound());
            assertEquals(0, malformed.get());
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void shouldCountAndCloseOnAResponseThatIsNotA200()
    {
        final EmbeddedChannel ch = new EmbeddedChannel(new RawHttpRequester("h", responses, malformed));
        readRequest(ch);
        ch.writeInbound(ascii("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"));
        assertEquals(0, responses.get());
        assertEquals(1, malformed.get());
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldCountAndCloseOnAResponseWithoutContentLength()
    {
        final EmbeddedChannel ch = new EmbeddedChannel(new RawHttpRequester("h", responses, malformed));
        readRequest(ch);
        ch.writeInbound(ascii("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"));
        assertEquals(1, malformed.get());
        assertFalse(ch.isOpen());
    }

    private static byte[] helloResponse()
    {
        final EmbeddedChannel encoder = new EmbeddedChannel(new HttpResponseEncoder());
        final byte[] body = "Hello World".getBytes(StandardCharsets.US_ASCII);
        final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
            Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain").setInt(HttpHeaderNames.CONTENT_LENGTH,
            body.length);
        encoder.writeOutbound(response);
        final ByteBuf all = Unpooled.buffer();
        ByteBuf part;
        while ((part = encoder.readOutbound()) != null)
        {
            all.writeBytes(part);
            part.release();
        }
        final byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        return bytes;
    }

    private static String readRequest(final EmbeddedChannel ch)
    {
        final ByteBuf out = ch.readOutbound();
        final String s = out.toString(StandardCharsets.US_ASCII);
        out.release();
        return s;
    }

    private static ByteBuf ascii(final String s)
    {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    private static byte[] concat(final byte[]... parts)
    {
        final ByteBuf all = Unpooled.buffer();
        for (final byte[] p : parts)
        {
            all.writeBytes(p);
        }
        final byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        return bytes;
    }
}
