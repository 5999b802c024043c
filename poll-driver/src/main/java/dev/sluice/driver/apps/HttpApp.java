package dev.sluice.driver.apps;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import dev.sluice.core.channel.ChannelHandlerPool;
import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.driver.ShardCounterDescriptor;
import dev.sluice.driver.runtime.Application;
import dev.sluice.driver.runtime.ShardApplication;
import dev.sluice.driver.runtime.ShardContext;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * {@code sluice http}: an HTTP/1.1 server with persistent connections (RFC 9112).
 *
 * <ul>
 *   <li>{@code GET /}: a small HTML page. {@code GET /bytes/N}: N bytes of the {@link FixedPattern} as
 *       {@code application/octet-stream} ({@code N} not a number: 400). Anything else: 404. {@code HEAD} is
 *       answered like {@code GET} without the body; other methods get 405 with {@code Allow: GET, HEAD}
 *       (RFC 9110 §15.5.6). Every body matches its {@code Content-Length}.</li>
 *   <li>The request parser works on the bytes as they arrive: a request split over several segments waits
 *       for its end, several requests in one segment (pipelining) are answered in order, one at a time: the
 *       next request is parsed only when the previous response has been handed to TCP.</li>
 *   <li>Received bytes are copied into the handler's request buffer and released to TCP's receive window
 *       only when a request has been parsed (after the burst, by the shard's work), so a client that
 *       pipelines faster than responses drain is slowed by the window.</li>
 *   <li>Big bodies are sent as the send buffer frees ({@code onWritable}): back-pressure, no copy of the
 *       body, nothing allocated per segment or per request.</li>
 *   <li>HTTP/1.0 closes after the response unless it asked for keep-alive; {@code Connection: close} is
 *       honoured; a request with {@code Transfer-Encoding} gets 501, a header section above 8 KiB 431, a
 *       malformed request 400, another version 505, each followed by a close.</li>
 * </ul>
 */
public final class HttpApp implements Application
{
    /** Longest request head (request line and headers). */
    public static final int MAX_HEAD_BYTES = 8 * 1024;
    /** The page of {@code GET /}. */
    public static final String PAGE = "<!doctype html>\n<html><head><title>Sluice</title></head><body>\n" +
        "<h1>Sluice</h1>\n<p>Served by Sluice: a userspace TCP/IP stack in Java over DPDK.</p>\n" +
        "<p>Try <a href=\"/bytes/1048576\">/bytes/1048576</a>.</p>\n</body></html>\n";
    private static final byte[] PAGE_BYTES = PAGE.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NOT_FOUND = bytes("not found\n");
    private static final byte[] BAD_REQUEST = bytes("bad request\n");
    private static final byte[] METHOD_NOT_ALLOWED = bytes("method not allowed\n");
    private static final byte[] GET = bytes("GET ");
    private static final byte[] HEAD = bytes("HEAD ");
    private static final byte[] BYTES_PREFIX = bytes("/bytes/");
    private static final byte[] HTTP11 = bytes("HTTP/1.1");
    private static final byte[] HTTP10 = bytes("HTTP/1.0");
    private static final byte[] H_CONNECTION = bytes("connection:");
    private static final byte[] H_CONTENT_LENGTH = bytes("content-length:");
    private static final byte[] H_TRANSFER_ENCODING = bytes("transfer-encoding:");
    private static final byte[] T_CLOSE = bytes("close");
    private static final byte[] T_KEEP_ALIVE = bytes("keep-alive");
    private static final long MAX_BODY_BYTES = 1L << 40;

    @Override
    public ShardApplication forShard(final ShardContext shard)
    {
        return new Shard(shard);
    }

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static final class Shard implements ShardApplication
    {
        private final ShardContext shard;
        private final ChannelHandlerPool<Handler> pool;
        private Handler[] releases = new Handler[64];
        private int releaseCount;

        Shard(final ShardContext shard)
        {
            this.shard = shard;
            final int capacity = Math.max(shard.tcpConfig().receiveBufferBytes(), 2 * MAX_HEAD_BYTES);
            this.pool = new ChannelHandlerPool<>(() -> new Handler(shard, this, capacity), 64);
        }

        @Override
        public TcpChannelHandler listener()
        {
            return pool;
        }

        void releaseLater(final Handler h)
        {
            if (!h.releaseQueued)
            {
                if (releaseCount == releases.length)
                {
                    releases = java.util.Arrays.copyOf(releases, releaseCount * 2);
                }
                h.releaseQueued = true;
                releases[releaseCount++] = h;
            }
        }

        @Override
        public int doWork(final long nowNs)
        {
            final int n = releaseCount;
            for (int i = 0; i < n; i++)
            {
                final Handler h = releases[i];
                releases[i] = null;
                h.releaseQueued = false;
                h.releaseWindow();
                h.closeIfRequested();
            }
            releaseCount = 0;
            return n;
        }
    }

    private static final class Handler extends ChannelHandlerPool.Pooled
    {
        private final ShardContext shard;
        private final Shard owner;
        private final UnsafeBuffer request;
        private final UnsafeBuffer head = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
        private int start;
        private int end;
        private int scanFrom;
        private int toRelease;
        boolean releaseQueued;
        private boolean closeRequested;
        private int headPosition;
        private int headLength;
        private long bodyPosition;
        private long bodyRemaining;
        private boolean responding;
        private boolean closeAfterResponse;
        private boolean peerClosed;
        private boolean closed;
        private TcpChannel connection; // valid until onClosed: the stack recycles channels

        Handler(final ShardContext shard, final Shard owner, final int capacity)
        {
            this.shard = shard;
            this.owner = owner;
            this.request = new UnsafeBuffer(ByteBuffer.allocateDirect(capacity));
        }

        @Override
        public boolean onAccept(final TcpChannel channel)
        {
            connection = channel;
            shard.counters().increment(ShardCounterDescriptor.APP_CONNECTIONS);
            start = 0;
            end = 0;
            scanFrom = 0;
            toRelease = 0;
            headPosition = 0;
            headLength = 0;
            bodyPosition = 0;
            bodyRemaining = 0;
            responding = false;
            closeAfterResponse = false;
            peerClosed = false;
            closed = false;
            closeRequested = false;
            return true;
        }

        @Override
        public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
        {
            shard.counters().add(ShardCounterDescriptor.APP_BYTES_IN, length);
            if (closed)
            {
                return length;
            }
            if (end + length > request.capacity())
            {
                request.putBytes(0, request, start, end - start);
                end -= start;
                scanFrom -= start;
                start = 0;
            }
            if (end + length > request.capacity())
            {
                connection.abort(); // cannot happen: unreleased bytes never exceed the receive window
                return length;
            }
            request.putBytes(end, buffer, offset, length);
            end += length;
            process();
            return 0; // released after the burst, once parsed (see Shard.doWork)
        }

        @Override
        public void onWritable(final TcpChannel channel)
        {
            if (responding && !closed)
            {
                sendResponse();
                if (!responding)
                {
                    process();
                }
            }
        }

        @Override
        public void onPeerClosed(final TcpChannel channel)
        {
            peerClosed = true;
            if (!responding && !closed)
            {
                closeSoon();
            }
        }

        @Override
        public void onClosed(final TcpChannel channel, final TcpCloseReason reason)
        {
            closed = true;
            connection = null;
            super.onClosed(channel, reason);
        }

        /**
         * CLOSE after the burst, once every parsed byte was released: CLOSE with unread data would reset the
         * connection (SHLD-3), and bytes delivered in this very call only count as read after it returns.
         */
        private void closeSoon()
        {
            closed = true;
            closeRequested = true;
            release(end - start);
        }

        void closeIfRequested()
        {
            if (closeRequested && connection != null)
            {
                closeRequested = false;
                connection.close();
            }
        }

        void releaseWindow()
        {
            if (toRelease > 0 && connection != null)
            {
                connection.consume(toRelease);
            }
            toRelease = 0;
        }

        private void process()
        {
            while (!responding && !closed && start < end)
            {
                final int headEnd = findHeadEnd();
                if (headEnd < 0)
                {
                    if (end - start > MAX_HEAD_BYTES)
                    {
                        error(431, "Request Header Fields Too Large");
                        release(end - start);
                        sendResponse();
                    }
                    return;
                }
                final int consumed = handle(start, headEnd);
                if (consumed < 0)
                {
                    return; // waiting for a request body
                }
                release(consumed);
                sendResponse();
            }
            if (peerClosed && !responding && !closed)
            {
                closeSoon();
            }
        }

        private void release(final int bytes)
        {
            start += bytes;
            scanFrom = start;
            toRelease += bytes;
            owner.releaseLater(this);
            if (start == end)
            {
                start = 0;
                end = 0;
                scanFrom = 0;
            }
        }

        /** Index just after the blank line that ends the head, or -1. */
        private int findHeadEnd()
        {
            int i = Math.max(scanFrom, start);
            final int limit = Math.min(end, start + MAX_HEAD_BYTES + 4);
            for (; i + 3 < limit; i++)
            {
                if (request.getByte(i) == '\r' && request.getByte(i + 1) == '\n' &&
                    request.getByte(i + 2) == '\r' && request.getByte(i + 3) == '\n')
                {
                    return i + 4;
                }
            }
            scanFrom = Math.max(start, i);
            return -1;
        }

        /**
         * Handles the request whose head is [from, headEnd): prepares the response.
         *
         * @return bytes the request takes (head and body), or -1 if its body has not fully arrived.
         */
        private int handle(final int from, final int headEnd)
        {
            // request line: METHOD SP TARGET SP VERSION CRLF
            final int lineEnd = indexOf(from, headEnd, (byte)'\r');
            final boolean get = startsWith(from, lineEnd, GET);
            final boolean headMethod = startsWith(from, lineEnd, HEAD);
            final int targetStart = indexOf(from, lineEnd, (byte)' ') + 1;
            final int targetEnd = targetStart > 0 ? indexOf(targetStart, lineEnd, (byte)' ') : -1;
            if (targetStart <= 0 || targetEnd < 0 || targetEnd == targetStart)
            {
                error(400, "Bad Request");
                return headEnd - from;
            }
            final int versionStart = targetEnd + 1;
            final boolean http11 = lineEnd - versionStart == HTTP11.length && startsWith(versionStart, lineEnd, HTTP11);
            final boolean http10 = lineEnd - versionStart == HTTP10.length && startsWith(versionStart, lineEnd, HTTP10);
            if (!http11 && !http10)
            {
                error(505, "HTTP Version Not Supported");
                return headEnd - from;
            }

            boolean keepAlive = http11;
            long contentLength = 0;
            int line = lineEnd + 2;
            while (line < headEnd - 2)
            {
                final int next = indexOf(line, headEnd, (byte)'\r');
                if (startsWithIgnoreCase(line, next, H_CONNECTION))
                {
                    if (containsIgnoreCase(line + H_CONNECTION.length, next, T_CLOSE))
                    {
                        keepAlive = false;
                    }
                    else if (containsIgnoreCase(line + H_CONNECTION.length, next, T_KEEP_ALIVE))
                    {
                        keepAlive = true;
                    }
                }
                else if (startsWithIgnoreCase(line, next, H_CONTENT_LENGTH))
                {
                    contentLength = parseNumber(line + H_CONTENT_LENGTH.length, next);
                    if (contentLength < 0)
                    {
                        error(400, "Bad Request");
                        return headEnd - from;
                    }
                }
                else if (startsWithIgnoreCase(line, next, H_TRANSFER_ENCODING))
                {
                    error(501, "Not Implemented");
                    return headEnd - from;
                }
                line = next + 2;
            }
            if (contentLength > request.capacity() - MAX_HEAD_BYTES)
            {
                error(413, "Content Too Large");
                return headEnd - from;
            }
            final int total = headEnd - from + (int)contentLength;
            if (end - from < total)
            {
                return -1; // the request body (discarded) has not arrived yet
            }
            closeAfterResponse = !keepAlive;

            if (!get && !headMethod)
            {
                respond(405, "Method Not Allowed", "text/plain", METHOD_NOT_ALLOWED.length, false, METHOD_NOT_ALLOWED,
                    true);
                return total;
            }
            final int targetLength = targetEnd - targetStart;
            if (targetLength == 1 && request.getByte(targetStart) == '/')
            {
                respond(200, "OK", "text/html", PAGE_BYTES.length, false, PAGE_BYTES, !headMethod);
            }
            else if (startsWith(targetStart, targetEnd, BYTES_PREFIX))
            {
                final long n = parseNumber(targetStart + BYTES_PREFIX.length, targetEnd);
                if (n < 0 || n > MAX_BODY_BYTES)
                {
                    respond(400, "Bad Request", "text/plain", BAD_REQUEST.length, false, BAD_REQUEST, !headMethod);
                }
                else
                {
                    respond(200, "OK", "application/octet-stream", n, true, null, !headMethod);
                }
            }
            else
            {
                respond(404, "Not Found", "text/plain", NOT_FOUND.length, false, NOT_FOUND, !headMethod);
            }
            return total;
        }

        private void error(final int status, final String reason)
        {
            closeAfterResponse = true;
            respond(status, reason, "text/plain", 0, false, null, false);
        }

        private void respond(
            final int status, final String reason, final String contentType, final long contentLength,
            final boolean patternBody, final byte[] smallBody, final boolean withBody)
        {
            int p = 0;
            p += head.putStringWithoutLengthAscii(p, "HTTP/1.1 ");
            p += head.putIntAscii(p, status);
            head.putByte(p++, (byte)' ');
            p += head.putStringWithoutLengthAscii(p, reason);
            p += head.putStringWithoutLengthAscii(p, "\r\nServer: sluice\r\nContent-Type: ");
            p += head.putStringWithoutLengthAscii(p, contentType);
            p += head.putStringWithoutLengthAscii(p, "\r\nContent-Length: ");
            p += head.putLongAscii(p, contentLength);
            if (status == 405)
            {
                p += head.putStringWithoutLengthAscii(p, "\r\nAllow: GET, HEAD"); // RFC 9110 §15.5.6
            }
            p += head.putStringWithoutLengthAscii(p, closeAfterResponse ? "\r\nConnection: close\r\n\r\n" :
                "\r\n\r\n");
            if (withBody && smallBody != null)
            {
                head.putBytes(p, smallBody);
                p += smallBody.length;
            }
            headPosition = 0;
            headLength = p;
            bodyPosition = 0;
            bodyRemaining = withBody && patternBody ? contentLength : 0;
            responding = true;
        }

        /** Hands the response to TCP as far as the send buffer takes it. */
        private void sendResponse()
        {
            while (headPosition < headLength)
            {
                final int n = connection.send(head, headPosition, headLength - headPosition);
                if (n < 0)
                {
                    responding = false;
                    closed = true;
                    return;
                }
                headPosition += n;
                shard.counters().add(ShardCounterDescriptor.APP_BYTES_OUT, n);
                if (n == 0 || headPosition < headLength)
                {
                    return; // onWritable resumes
                }
            }
            while (bodyRemaining > 0)
            {
                final int chunk = (int)Math.min(bodyRemaining, FixedPattern.CHUNK_BYTES);
                final int n = connection.send(FixedPattern.buffer(), FixedPattern.offset(bodyPosition), chunk);
                if (n < 0)
                {
                    responding = false;
                    closed = true;
                    return;
                }
                bodyPosition += n;
                bodyRemaining -= n;
                shard.counters().add(ShardCounterDescriptor.APP_BYTES_OUT, n);
                if (n < chunk)
                {
                    return; // onWritable resumes
                }
            }
            responding = false;
            if (closeAfterResponse)
            {
                closeSoon();
            }
        }

        private int indexOf(final int from, final int to, final byte b)
        {
            for (int i = from; i < to; i++)
            {
                if (request.getByte(i) == b)
                {
                    return i;
                }
            }
            return -1;
        }

        private boolean startsWith(final int from, final int to, final byte[] prefix)
        {
            if (to - from < prefix.length)
            {
                return false;
            }
            for (int i = 0; i < prefix.length; i++)
            {
                if (request.getByte(from + i) != prefix[i])
                {
                    return false;
                }
            }
            return true;
        }

        private boolean startsWithIgnoreCase(final int from, final int to, final byte[] lowerPrefix)
        {
            if (to - from < lowerPrefix.length)
            {
                return false;
            }
            for (int i = 0; i < lowerPrefix.length; i++)
            {
                if (lower(request.getByte(from + i)) != lowerPrefix[i])
                {
                    return false;
                }
            }
            return true;
        }

        private boolean containsIgnoreCase(final int from, final int to, final byte[] lowerToken)
        {
            for (int i = from; i + lowerToken.length <= to; i++)
            {
                if (startsWithIgnoreCase(i, to, lowerToken))
                {
                    return true;
                }
            }
            return false;
        }

        /** Decimal digits between optional spaces; -1 if anything else or too long. */
        private long parseNumber(final int from, final int to)
        {
            int i = from;
            while (i < to && (request.getByte(i) == ' ' || request.getByte(i) == '\t'))
            {
                i++;
            }
            int e = to;
            while (e > i && (request.getByte(e - 1) == ' ' || request.getByte(e - 1) == '\t'))
            {
                e--;
            }
            if (i == e || e - i > 15)
            {
                return -1;
            }
            long value = 0;
            for (; i < e; i++)
            {
                final byte b = request.getByte(i);
                if (b < '0' || b > '9')
                {
                    return -1;
                }
                value = value * 10 + (b - '0');
            }
            return value;
        }

        private static byte lower(final byte b)
        {
            return b >= 'A' && b <= 'Z' ? (byte)(b + 32) : b;
        }
    }
}
