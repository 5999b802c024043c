package dev.sluice.driver;

import dev.sluice.core.wire.Addresses;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowSteeringTest
{
    private static final int A = Addresses.parseIpv4("10.0.0.1");
    private static final int B = Addresses.parseIpv4("10.0.0.2");

    @Test
    void shouldMapBothDirectionsOfAFlowToTheSameShard()
    {
        for (int shards = 1; shards <= 8; shards++)
        {
            for (int port = 30_000; port < 31_000; port++)
            {
                assertEquals(FlowSteering.owner(A, port, B, 80, shards), FlowSteering.owner(B, 80, A, port, shards));
            }
        }
    }

    @Test
    void shouldSpreadFlowsOverEveryShard()
    {
        final int shards = 4;
        final int[] counts = new int[shards];
        for (int port = 32_768; port < 32_768 + 4000; port++)
        {
            counts[FlowSteering.owner(A, port, B, 80, shards)]++;
        }
        for (final int c : counts)
        {
            assertTrue(c > 800 && c < 1200, "each shard gets about a quarter: " + java.util.Arrays.toString(counts));
        }
    }

    @Test
    void shouldSteerTcpByItsTupleAndKeepOtherFramesLocal()
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[64]);
        frame.putShort(12, (short)0x0800, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putByte(14, (byte)0x45);
        frame.putByte(14 + 9, (byte)6);
        frame.putInt(14 + 12, A, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putInt(14 + 16, B, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putShort(34, (short)40_000, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putShort(36, (short)80, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(FlowSteering.owner(A, 40_000, B, 80, 3), FlowSteering.classify(frame, 0, 64, 3));

        frame.putByte(14 + 9, (byte)1); // ICMP
        assertEquals(FlowSteering.LOCAL, FlowSteering.classify(frame, 0, 64, 3));
        frame.putByte(14 + 9, (byte)6);
        assertEquals(FlowSteering.LOCAL, FlowSteering.classify(frame, 0, 30, 3), "truncated: the network layer drops");
        frame.putByte(14, (byte)0x65);
        assertEquals(FlowSteering.LOCAL, FlowSteering.classify(frame, 0, 64, 3), "not IPv4 version 4");
    }

    @Test
    void shouldSteerVlanTaggedTcp()
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[68]);
        frame.putShort(12, (short)0x8100, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putShort(16, (short)0x0800, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putByte(18, (byte)0x45);
        frame.putByte(18 + 9, (byte)6);
        frame.putInt(18 + 12, A, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putInt(18 + 16, B, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putShort(38, (short)50_000, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putShort(40, (short)443, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(FlowSteering.owner(A, 50_000, B, 443, 5), FlowSteering.classify(frame, 0, 68, 5));
    }

    @Test
    void shouldCopyArpRepliesToEveryShardAndAnswerRequestsLocally()
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[60]);
        frame.putShort(12, (short)0x0806, java.nio.ByteOrder.BIG_ENDIAN);
        frame.putShort(14 + 6, (short)2, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(FlowSteering.ALL_SHARDS, FlowSteering.classify(frame, 0, 60, 2));
        frame.putShort(14 + 6, (short)1, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(FlowSteering.LOCAL, FlowSteering.classify(frame, 0, 60, 2));
        assertEquals(FlowSteering.LOCAL, FlowSteering.classify(frame, 0, 10, 2), "shorter than Ethernet");
    }
}
