package dev.sluice.core.tcp;

import dev.sluice.core.stack.JvmMemory;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory on demand: the shard's chunk pool, and the send queue and out-of-order store taking chunks only while
 * they hold bytes. Small chunks make every copy cross chunk boundaries.
 */
class ChunkPoolTest
{
    private static byte pattern(final int seq)
    {
        return (byte)(seq * 31 + 7);
    }

    private static UnsafeBuffer payload(final int seq, final int length)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[length + 4]);
        for (int i = 0; i < length; i++)
        {
            buffer.putByte(2 + i, pattern(seq + i));
        }
        return buffer;
    }

    @Nested
    class Pool
    {
        @Test
        void shouldNotReuseAChunkWhileItIsReferencedAndTakeItBackOnceLetGo()
        {
            final ChunkPool pool = new ChunkPool(64, 4, 256, 0);
            final boolean[] referenced = new boolean[4];
            pool.references(chunk -> referenced[chunk]);
            final int held = pool.allocate();
            referenced[held] = true;
            pool.free(held);
            assertEquals(1, pool.deferredChunks());
            assertEquals(1, pool.deferrals());
            assertEquals(1, pool.inUseChunks(), "a deferred chunk is not free");
            for (int i = 0; i < 3; i++)
            {
                assertTrue(pool.allocate() != held, "a referenced chunk was handed out again");
            }
            assertEquals(ChunkPool.NO_CHUNK, pool.allocate(), "the referenced chunk is not available");
            assertEquals(0, pool.reclaimDeferred(), "still referenced");
            referenced[held] = false;
            assertEquals(1, pool.reclaimDeferred());
            assertEquals(0, pool.deferredChunks());
            assertEquals(held, pool.allocate());
        }

        @Test
        void shouldNotReleaseASlabWithAReferencedChunk()
        {
            final ChunkPool pool = new ChunkPool(64, 8, 256, 0); // 2 slabs of 4
            final boolean[] referenced = new boolean[8];
            pool.references(chunk -> referenced[chunk]);
            final int chunk = pool.allocate();
            referenced[chunk] = true;
            pool.free(chunk);
            long nowNs = 0;
            for (int i = 0; i < 4; i++)
            {
                pool.reclaimDeferred();
                pool.releaseIdleSlabs(nowNs += ChunkPool.SLAB_DECAY_NS);
            }
            assertEquals(0, pool.slabsReleased());
            assertEquals(64 * 4, pool.reservedBytes());
            referenced[chunk] = false;
            for (int i = 0; i < 3; i++)
            {
                pool.reclaimDeferred();
                pool.releaseIdleSlabs(nowNs += ChunkPool.SLAB_DECAY_NS);
            }
            assertEquals(1, pool.slabsReleased());
            assertEquals(0, pool.reservedBytes());
        }

        @Test
        void shouldReserveNothingUntilFirstAllocation()
        {
            final ChunkPool pool = new ChunkPool(4096, 1024, 1 << 20, 16);
            assertEquals(0, pool.reservedBytes());
            assertEquals(1024, pool.availableChunks());
            final int chunk = pool.allocate();
            assertTrue(chunk >= 0);
            assertEquals(1 << 20, pool.reservedBytes()); // one slab, not the whole budget
            assertEquals(1, pool.inUseChunks());
            pool.free(chunk);
            assertEquals(0, pool.inUseChunks());
        }

        @Test
        void shouldRefuseBeyondBudgetWithoutThrowing()
        {
            final ChunkPool pool = new ChunkPool(64, 4, 128, 1);
            for (int i = 0; i < 4; i++)
            {
                assertTrue(pool.allocate() >= 0);
            }
            assertTrue(pool.underPressure());
            assertEquals(ChunkPool.NO_CHUNK, pool.allocate());
            assertEquals(1, pool.allocationFailures());
            assertEquals(256, pool.reservedBytes());
        }

        @Test
        void shouldReportPressureBelowReserve()
        {
            final ChunkPool pool = new ChunkPool(64, 8, 512, 2);
            for (int i = 0; i < 6; i++)
            {
                assertFalse(pool.underPressure());
                pool.allocate();
            }
            assertFalse(pool.underPressure()); // 2 left = the reserve
            final int chunk = pool.allocate();
            assertTrue(pool.underPressure());
            pool.free(chunk);
            assertFalse(pool.underPressure());
        }

        @Test
        void shouldKeepChunksApart()
        {
            final ChunkPool pool = new ChunkPool(64, 16, 256, 0); // 4 slabs of 4 chunks
            final int[] chunks = new int[16];
            for (int i = 0; i < 16; i++)
            {
                chunks[i] = pool.allocate();
                pool.putInt(chunks[i], 0, i);
                pool.putInt(chunks[i], 60, ~i);
            }
            for (int i = 0; i < 16; i++)
            {
                assertEquals(i, pool.getInt(chunks[i], 0));
                assertEquals(~i, pool.getInt(chunks[i], 60));
            }
        }
        @Test
        void shouldTakeChunksFromTheLowestSlabWithOneFreeSoOthersDrain()
        {
            final ChunkPool pool = new ChunkPool(64, 16, 256, 0); // 4 slabs of 4 chunks
            final int[] chunks = new int[8];
            for (int i = 0; i < 8; i++)
            {
                chunks[i] = pool.allocate();
            }
            assertEquals(512, pool.reservedBytes()); // two slabs
            pool.free(chunks[1]); // slab 0
            pool.free(chunks[6]); // slab 1
            assertEquals(0, pool.allocate() >>> 2, "slab 0 first");
            assertEquals(1, pool.allocate() >>> 2);
            assertEquals(2, pool.allocate() >>> 2, "then a new slab");
        }

        @Test
        void shouldGiveADrainedSlabBackOnlyAfterAWholeDecayPeriod()
        {
            final ChunkPool pool = new ChunkPool(4096, 1024, 1 << 20, 16); // 4 slabs of 256 chunks
            final long directBefore = JvmMemory.directMemoryUsed();
            final int[] chunks = new int[300];
            for (int i = 0; i < chunks.length; i++)
            {
                chunks[i] = pool.allocate();
            }
            assertEquals(2 << 20, pool.reservedBytes());
            assertEquals(2 << 20, JvmMemory.directMemoryUsed() - directBefore);
            for (int i = 256; i < chunks.length; i++)
            {
                pool.free(chunks[i]); // slab 1 drains
            }
            long nowNs = 5_000;
            assertEquals(0, pool.releaseIdleSlabs(nowNs), "the first check only marks it");
            assertEquals(0, pool.releaseIdleSlabs(nowNs + ChunkPool.SLAB_DECAY_NS - 1), "not checked again yet");
            nowNs += ChunkPool.SLAB_DECAY_NS;
            assertEquals(1, pool.releaseIdleSlabs(nowNs));
            assertEquals(1 << 20, pool.reservedBytes());
            assertEquals(1 << 20, JvmMemory.directMemoryUsed() - directBefore, "freed at once, measured by the JVM");
            assertEquals(1, pool.slabsReleased());
            assertEquals(256, pool.inUseChunks());
            assertEquals(1024 - 256, pool.availableChunks());

            for (int i = 0; i < 256; i++)
            {
                pool.putInt(chunks[i], 0, i);
                pool.free(chunks[i]);
            }
            nowNs += ChunkPool.SLAB_DECAY_NS;
            assertEquals(0, pool.releaseIdleSlabs(nowNs));
            final int again = pool.allocate(); // used within the period: kept
            pool.free(again);
            nowNs += ChunkPool.SLAB_DECAY_NS;
            assertEquals(0, pool.releaseIdleSlabs(nowNs));
            nowNs += ChunkPool.SLAB_DECAY_NS;
            assertEquals(1, pool.releaseIdleSlabs(nowNs));
            assertEquals(0, pool.reservedBytes());
            assertEquals(0, JvmMemory.directMemoryUsed() - directBefore, "an idle pool holds no direct memory");
            assertEquals(1024, pool.availableChunks());

            final int chunk = pool.allocate(); // reserved again on demand, through the same view
            pool.putInt(chunk, 8, 42);
            assertEquals(42, pool.getInt(chunk, 8));
            assertEquals(1 << 20, pool.reservedBytes());
            assertEquals(1 << 20, JvmMemory.directMemoryUsed() - directBefore);
            pool.free(chunk);
        }

        @Test
        void shouldLeaveAStaleViewOfAReleasedSlabUnreadableRatherThanDangling()
        {
            final ChunkPool pool = new ChunkPool(4096, 256, 1 << 20, 0);
            final int chunk = pool.allocate();
            final DirectBuffer view = pool.buffer(chunk);
            pool.free(chunk);
            pool.releaseIdleSlabs(0);
            assertEquals(1, pool.releaseIdleSlabs(ChunkPool.SLAB_DECAY_NS));
            assertEquals(0, view.capacity());
            org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class, () -> view.getInt(0));
        }
    }

    @Nested
    class SendQueue
    {
        private final ChunkPool pool = new ChunkPool(64, 64, 1024, 0);
        private final SendBuffer buffer = new SendBuffer(1024, pool);
        private final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);

        private void assertRead(final int seq, final int length)
        {
            assertEquals(length, buffer.read(seq, frame, 5, length));
            for (int i = 0; i < length; i++)
            {
                assertEquals(pattern(seq + i), frame.getByte(5 + i), "byte " + (seq + i));
            }
        }

        @Test
        void shouldHoldNoChunkWhileEmpty()
        {
            buffer.reset(100);
            assertEquals(0, buffer.chunkCount());
            assertEquals(0, pool.inUseChunks());
            assertEquals(1024, buffer.freeBytes()); // the capacity stays a limit
        }

        @Test
        void shouldTakeChunksAsBytesArriveAndGiveThemBackWhenAcknowledged()
        {
            buffer.reset(100);
            assertEquals(300, buffer.append(payload(100, 300), 2, 300));
            assertEquals(5, buffer.chunkCount()); // 300 bytes over 64-byte chunks
            assertRead(100, 300);
            assertRead(163, 2); // across a chunk boundary
            assertEquals(100, buffer.release(200));
            assertEquals(4, buffer.chunkCount()); // the first chunk (100..163) is fully acknowledged
            assertRead(200, 200);
            assertEquals(200, buffer.release(400));
            assertEquals(0, buffer.chunkCount());
            assertEquals(0, pool.inUseChunks());
        }

        @Test
        void shouldReadInAnyOrderForRetransmissions()
        {
            buffer.reset(-150); // wraps through 2^32
            buffer.append(payload(-150, 1000), 2, 1000);
            final Random random = new Random(7);
            for (int i = 0; i < 200; i++)
            {
                final int start = -150 + random.nextInt(1000);
                final int length = Math.min(random.nextInt(300), -150 + 1000 - start);
                assertRead(start, length);
            }
        }

        @Test
        void shouldAcceptOnlyWhatThePoolGivesAsBackPressure()
        {
            final ChunkPool small = new ChunkPool(64, 3, 256, 0);
            final SendBuffer limited = new SendBuffer(1024, small);
            limited.reset(0);
            assertEquals(192, limited.append(payload(0, 500), 2, 500));
            assertEquals(0, limited.append(payload(192, 10), 2, 10));
            limited.release(64);
            assertEquals(10, limited.append(payload(192, 10), 2, 10));
        }

        @Test
        void shouldGiveEverythingBackOnReset()
        {
            buffer.reset(0);
            buffer.append(payload(0, 700), 2, 700);
            buffer.reset(5);
            assertEquals(0, pool.inUseChunks());
            assertTrue(buffer.isEmpty());
        }
    }

    @Nested
    class OutOfOrderStore
    {
        private final ChunkPool pool = new ChunkPool(256, 64, 4096, 0);
        private final ReassemblyBuffer store = new ReassemblyBuffer(4096, 16, pool);
        private final ByteArrayOutputStream delivered = new ByteArrayOutputStream();
        private final ReassemblyBuffer.Sink sink = (final DirectBuffer buffer, final int offset, final int length) ->
        {
            final byte[] bytes = new byte[length];
            buffer.getBytes(offset, bytes);
            delivered.write(bytes, 0, length);
        };

        @Test
        void shouldHoldNoChunkWhileEmpty()
        {
            assertEquals(0, store.chunkCount());
            assertEquals(0, pool.inUseChunks());
        }

        @Test
        void shouldTakeChunksForHeldBytesAndGiveAllBackOnceDelivered_SHLD31()
        {
            final int rcvNxt = 1000;
            assertEquals(300, store.insert(rcvNxt, 4096, 1200, payload(1200, 300), 2, 300));
            assertEquals(3, store.chunkCount()); // the table + 1200..1500 over two 256-byte pieces of the ring
            assertEquals(0, store.readInOrder(rcvNxt, sink));
            assertEquals(200, store.insert(rcvNxt, 4096, 1000, payload(1000, 200), 2, 200));
            assertEquals(500, store.readInOrder(rcvNxt, sink));
            assertArrayEquals(expected(1000, 500), delivered.toByteArray());
            assertEquals(0, store.chunkCount());
            assertEquals(0, pool.inUseChunks());
        }

        @Test
        void shouldDeliverEveryByteOnceWhateverTheOrderAcrossTheWrap_SHLD31()
        {
            final Random random = new Random(11);
            for (int round = 0; round < 50; round++)
            {
                delivered.reset();
                store.clear();
                final int isn = -2000 + random.nextInt(4000); // crosses 2^32 in some rounds
                final int total = 4000;
                final List<int[]> segments = new ArrayList<>();
                for (int at = 0; at < total; )
                {
                    final int length = Math.min(1 + random.nextInt(400), total - at);
                    segments.add(new int[] {at, length});
                    at += length;
                }
                Collections.shuffle(segments, random);
                int rcvNxt = isn;
                for (final int[] segment : segments)
                {
                    final int seq = isn + segment[0];
                    store.insert(rcvNxt, 4096, seq, payload(seq, segment[1]), 2, segment[1]);
                    int drained;
                    while ((drained = store.readInOrder(rcvNxt, sink)) > 0)
                    {
                        rcvNxt += drained;
                    }
                }
                assertEquals(isn + total, rcvNxt);
                assertArrayEquals(expected(isn, total), delivered.toByteArray());
                assertEquals(0, pool.inUseChunks());
            }
        }

        @Test
        void shouldDropOutOfOrderDataWholeWhenThePoolIsSpentAndCountIt()
        {
            final ChunkPool small = new ChunkPool(256, 3, 1024, 0); // the table and two pieces
            final ReassemblyBuffer limited = new ReassemblyBuffer(4096, 16, small);
            assertEquals(100, limited.insert(0, 4096, 100, payload(100, 100), 2, 100));
            assertEquals(100, limited.insert(0, 4096, 300, payload(300, 100), 2, 100));
            assertEquals(0, limited.insert(0, 4096, 600, payload(600, 100), 2, 100)); // a third piece
            assertEquals(100, limited.lastDroppedBytes());
            assertEquals(1, limited.memoryDrops());
            assertEquals(200, limited.bufferedBytes()); // what was held stays held
            assertEquals(0, limited.readInOrder(0, sink));
            assertEquals(100, limited.insert(0, 4096, 0, payload(0, 100), 2, 100));
            assertEquals(200, limited.readInOrder(0, sink));
            assertArrayEquals(expected(0, 200), delivered.toByteArray());
        }

        @Test
        void shouldReturnTheTableWhenTheFirstPieceCannotBeHad()
        {
            final ChunkPool small = new ChunkPool(256, 1, 256, 0); // only the table
            final ReassemblyBuffer limited = new ReassemblyBuffer(4096, 16, small);
            assertEquals(0, limited.insert(0, 4096, 100, payload(100, 100), 2, 100));
            assertEquals(0, small.inUseChunks());
            assertTrue(limited.isEmpty());
        }

        private byte[] expected(final int seq, final int length)
        {
            final byte[] out = new byte[length];
            for (int i = 0; i < length; i++)
            {
                out[i] = pattern(seq + i);
            }
            return out;
        }
    }
}
