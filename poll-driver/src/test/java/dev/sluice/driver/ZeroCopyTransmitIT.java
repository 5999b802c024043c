package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.core.tcp.ChunkPool;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.ExternalBuffers;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.RingPorts;
import dev.sluice.nativebindings.dpdk.generated.RteMbuf;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero-copy transmit at the DPDK level (issue 15): a frame whose headers are in its own mbuf and whose payload is
 * referenced in two chunks of a {@link ChunkPool} (DPDK external buffers) crosses a net_ring pair as a chain of
 * three mbufs whose bytes are exactly the headers and the chunk bytes; while the receiver holds it, the chunks
 * count as referenced and a chunk freed then (an ACK releasing it) is deferred, not reused; once the receiver
 * frees the burst the counts are back to the owner's, the deferred chunk is taken back, DPDK never called the
 * free callback, and every mbuf of both pools is back.
 */
class ZeroCopyTransmitIT
{
    private static final int HEADERS = 54;

    @Test
    void aFrameWithReferencedPayloadShouldArriveAsTheSameBytesAndLetGoOfItsChunks() throws Exception
    {
        TestEal.get();
        final int[] ports = RingPorts.createCrossedPair("zc_a", "zc_b", 64);
        final MbufPool pool = MbufPool.create("zc_pool", 1023, 0, MbufPool.DEFAULT_DATA_ROOM);
        final MbufPool attachPool = MbufPool.create("zc_ext", 1023, 0, 0);
        for (final int id : ports)
        {
            final EthPort port = EthPort.of(id);
            port.configure(1, 1, 0, null, 0, 0);
            port.setupRxQueue(0, 64, pool);
            port.setupTxQueue(0, 64);
            port.start();
        }
        final Throwable[] failure = new Throwable[1];
        final Thread thread = Thread.ofPlatform().start(() ->
        {
            try (Lcore lcore = TestEal.get().registerCurrentThread())
            {
                run(lcore, pool, attachPool, ports);
            }
            catch (final Throwable t)
            {
                failure[0] = t;
            }
        });
        thread.join();
        for (final int id : ports)
        {
            EthPort.of(id).stop();
            EthPort.of(id).close();
        }
        assertEquals(0, attachPool.inUseCount(), "attached mbufs back in their pool");
        assertEquals(0, pool.inUseCount(), "header mbufs back in the pool");
        pool.close();
        attachPool.close();
        if (failure[0] != null)
        {
            throw new AssertionError(failure[0]);
        }
    }

    @Test
    void theJavaAttachShouldWriteWhatDpdksInlineWrites() throws Exception
    {
        TestEal.get();
        final MbufPool pool = MbufPool.create("zc_pool2", 255, 0, MbufPool.DEFAULT_DATA_ROOM);
        final MbufPool attachPool = MbufPool.create("zc_ext2", 255, 0, 0);
        final Throwable[] failure = new Throwable[1];
        final Thread thread = Thread.ofPlatform().start(() ->
        {
            try (Lcore lcore = TestEal.get().registerCurrentThread())
            {
                final ChunkPool chunks = new ChunkPool(4096, 8, 1 << 20, 0);
                final ExternalChunks references = new ExternalChunks(chunks);
                final int chunk = chunks.allocate();
                final long sharedInfo = references.sharedInfo(chunk);
                final long address = chunks.address(chunk) + 100;
                // DPDK's inlines, through the shim
                final long headC = lcore.alloc(pool);
                final long attachedC = lcore.attachExternal(attachPool, headC, headC, address, 1448, sharedInfo);
                assertEquals(2, ExternalBuffers.referenceCount(sharedInfo));
                // the data path's Java
                final long headJava = lcore.alloc(pool);
                final long attachedJava = lcore.alloc(attachPool);
                ExternalBuffers.addReference(sharedInfo);
                Mbuf.attachExternal(attachedJava, address, 1448, sharedInfo);
                Mbuf.chain(headJava, headJava, attachedJava);
                assertEquals(3, ExternalBuffers.referenceCount(sharedInfo), "the atomic increment beyond 2");
                final long[] fields = {RteMbuf.buf_addr$OFFSET, RteMbuf.buf_iova$OFFSET, RteMbuf.ol_flags$OFFSET,
                    RteMbuf.shinfo$OFFSET, RteMbuf.next$OFFSET};
                final MemorySegment all = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
                for (final long field : fields)
                {
                    assertEquals(all.get(ValueLayout.JAVA_LONG_UNALIGNED, attachedC + field),
                        all.get(ValueLayout.JAVA_LONG_UNALIGNED, attachedJava + field), "field at " + field);
                }
                for (final long field : new long[] {RteMbuf.buf_len$OFFSET, RteMbuf.data_off$OFFSET,
                    RteMbuf.data_len$OFFSET, RteMbuf.refcnt$OFFSET, RteMbuf.nb_segs$OFFSET})
                {
                    assertEquals(all.get(ValueLayout.JAVA_SHORT_UNALIGNED, attachedC + field),
                        all.get(ValueLayout.JAVA_SHORT_UNALIGNED, attachedJava + field), "field at " + field);
                }
                assertEquals(Mbuf.packetLength(attachedC), Mbuf.packetLength(attachedJava));
                assertEquals(Mbuf.segmentCount(headC), Mbuf.segmentCount(headJava));
                assertEquals(attachedJava, Mbuf.next(headJava));
                lcore.free(headC);
                lcore.free(headJava);
                assertEquals(0, references.referencesOut(), "both frames' references dropped by DPDK's free");
                assertEquals(0, references.freeCallbacks());
            }
            catch (final Throwable t)
            {
                failure[0] = t;
            }
        });
        thread.join();
        assertEquals(0, attachPool.inUseCount());
        assertEquals(0, pool.inUseCount());
        pool.close();
        attachPool.close();
        if (failure[0] != null)
        {
            throw new AssertionError(failure[0]);
        }
    }

    private static void run(final Lcore lcore, final MbufPool pool, final MbufPool attachPool, final int[] ports)
    {
        final ChunkPool chunks = new ChunkPool(4096, 64, 1 << 20, 0);
        final ExternalChunks references = new ExternalChunks(chunks);
        chunks.references(references);
        final int first = chunks.allocate();
        final int second = chunks.allocate();
        for (int i = 0; i < 4096; i++)
        {
            chunks.buffer(first).putByte(chunks.offset(first) + i, (byte)(i * 7 + 1));
            chunks.buffer(second).putByte(chunks.offset(second) + i, (byte)(i * 13 + 5));
        }
        final DpdkFrameTransmitter tx = new DpdkFrameTransmitter(lcore, pool, ports[0], 0);
        tx.zeroCopy(attachPool, references, 256);

        // the headers in the claimed mbuf, the payload by reference: the last 96 bytes of one chunk, 1,400 of the next
        final MutableDirectBuffer frame = tx.claim(HEADERS + 1496);
        assertNotNull(frame);
        final byte[] expected = new byte[HEADERS + 1496];
        for (int i = 0; i < HEADERS; i++)
        {
            frame.putByte(i, (byte)(0x40 + i));
        }
        frame.getBytes(0, expected, 0, HEADERS);
        assertTrue(tx.appendReference(first, chunks.address(first) + 4000, 96));
        assertTrue(tx.appendReference(second, chunks.address(second), 1400));
        chunks.buffer(first).getBytes(chunks.offset(first) + 4000, expected, HEADERS, 96);
        chunks.buffer(second).getBytes(chunks.offset(second), expected, HEADERS + 96, 1400);
        tx.commit(expected.length);
        assertEquals(1, tx.flush());
        assertTrue(references.isReferenced(first) && references.isReferenced(second));

        // an ACK releases the first chunk while the frame is still queued: deferred, not reused
        chunks.free(first);
        assertEquals(1, chunks.deferredChunks());
        assertFalse(chunks.allocate() == first, "a referenced chunk was handed out again");

        final MemorySegment burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32);
        assertEquals(1, lcore.rxBurst(ports[1], 0, burst, 32));
        final long received = Mbuf.at(burst, 0);
        assertEquals(3, Mbuf.segmentCount(received));
        assertEquals(expected.length, Mbuf.packetLength(received));
        assertEquals(HEADERS, Mbuf.dataLength(received));
        final byte[] actual = new byte[Mbuf.packetLength(received)];
        int at = 0;
        for (long m = received; m != 0; m = Mbuf.next(m))
        {
            new UnsafeBuffer(Mbuf.dataAddress(m), Mbuf.dataLength(m)).getBytes(0, actual, at, Mbuf.dataLength(m));
            at += Mbuf.dataLength(m);
        }
        assertArrayEquals(expected, actual, "the frame's bytes: headers, then the referenced chunk bytes");
        assertEquals(0, chunks.reclaimDeferred(), "the receiver still holds the frame");
        assertEquals(2, references.referencesOut());

        lcore.freeBulk(burst, 1);
        assertEquals(0, references.referencesOut(), "references dropped with the frame");
        assertEquals(1, chunks.reclaimDeferred());
        assertEquals(0, chunks.deferredChunks());

        // a frame aborted after a reference was taken lets go of it too
        assertNotNull(tx.claim(HEADERS + 500));
        assertTrue(tx.appendReference(second, chunks.address(second) + 100, 500));
        assertEquals(1, references.referencesOut());
        tx.abort();
        assertEquals(0, references.referencesOut());
        assertEquals(0, references.freeCallbacks(), "DPDK never dropped a count to 0");
        assertEquals(1, tx.framesReferenced());
        tx.releaseStash();
    }
}
