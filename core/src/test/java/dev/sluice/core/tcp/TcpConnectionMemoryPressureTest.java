package dev.sluice.core.tcp;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 11: under memory pressure (the shard's pool below its reserve) the advertised window does not grow
 * beyond what the pool can still back, as Linux clamps windows under tcp_memory_pressure; it never shrinks
 * either: the right edge RCV.NXT + RCV.WND never moves left (RFC 9293 §3.8.6, SHLD-14).
 */
class TcpConnectionMemoryPressureTest extends TcpConnectionScript
{
    private static final int BUFFER = 4096;

    // 16 chunks of 4 KiB, 1 in reserve
    private final ChunkPool pool = ChunkPool.ofBudget(16 * ChunkPool.DEFAULT_CHUNK_BYTES);
    private final int[] hog = new int[16];
    private int hogged;
    private int iss;

    @BeforeEach
    void setUp()
    {
        useConfig(TcpConfig.builder().bufferBytes(BUFFER, BUFFER).delayedAckNs(0).build(), pool);
        established();
        iss = expectedIss();
    }

    private Seg data(final int offset, final int length)
    {
        return seg(REMOTE_ISS + 1 + offset, 0).withAck(iss + 1).withPayload(length);
    }

    // another connection of the shard takes every chunk
    private void exhaustPool()
    {
        int chunk;
        while ((chunk = pool.allocate()) != ChunkPool.NO_CHUNK)
        {
            hog[hogged++] = chunk;
        }
        assertEquals(true, pool.underPressure());
    }

    private void releasePool()
    {
        while (hogged > 0)
        {
            pool.free(hog[--hogged]);
        }
    }

    @Test
    void shouldNotReopenTheWindowUnderPressureUntilThePoolRecovers_SHLD14()
    {
        app.consumeAtMost = 0;
        send(data(0, 2000));
        poll();
        assertEquals(BUFFER - 2000, expect(iss + 1, REMOTE_ISS + 2001, ACK).window());

        exhaustPool();
        connection.consumed(2000);
        poll();
        expectNothing(); // the window would open by 2000: under pressure it stays where it was promised
        assertEquals(BUFFER - 2000, connection.rcvWnd());

        releasePool();
        connection.consumed(0);
        poll();
        assertEquals(BUFFER, expect(iss + 1, REMOTE_ISS + 2001, ACK).window(), "reopened once memory is back");
    }

    @Test
    void shouldKeepTheRightEdgeButNotMoveItUnderPressure_SHLD14()
    {
        exhaustPool();
        send(data(0, 1000)); // consumed at once: normally the window stays BUFFER and the edge moves right
        poll();
        final int window = expect(iss + 1, REMOTE_ISS + 1001, ACK).window();
        assertEquals(BUFFER - 1000, window, "the edge stays at RCV.NXT + " + BUFFER + " as first advertised");

        send(data(1000, 500));
        poll();
        assertEquals(BUFFER - 1500, expect(iss + 1, REMOTE_ISS + 1501, ACK).window(), "never left of it either");
    }

    @Test
    void shouldBehaveAsBeforeWithoutPressure_RFC9293s3_8_6()
    {
        send(data(0, 1000));
        poll();
        assertEquals(BUFFER, expect(iss + 1, REMOTE_ISS + 1001, ACK).window());
    }
}
