package dev.sluice.core.stack;

import static dev.sluice.core.stack.StackPair.IP_A;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.tcp.TcpConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The send quantum ({@link TcpConfig#sendQuantumBytes()}): one poll of a connection sends at most about that
 * much new data, and the connection stays on the ready list, so the rest goes at the next polls without any new
 * event (no ACK, no application call). A busy-polling shard thus reads its receive queue (the ACKs that open the
 * window) between the quanta of a bulk sender instead of after the whole window, as interrupts interleave ACK
 * processing with transmission in a kernel. Not an RFC rule: a scheduling property, checked frame by frame.
 */
class TcpStackSendQuantumTest
{
    private static final int PORT = 7;
    private static final int QUANTUM = 16 * 1024;

    @ParameterizedTest(name = "segmentation offload {0} bytes")
    @ValueSource(ints = {0, 65_536})
    void shouldSendAtMostOneQuantumOfNewDataPerPollAndTheRestAtTheNextPolls(final int gsoBytes)
    {
        final int[] framesPerStep = transfer(QUANTUM, gsoBytes);
        final int mss = 1448;
        final int quantumFrames = (QUANTUM + mss - 1) / mss;
        int steps = 0;
        for (final int frames : framesPerStep)
        {
            assertTrue(frames <= quantumFrames, "frames in one poll: " + frames + " > " + quantumFrames);
            steps += frames > 0 ? 1 : 0;
        }
        assertTrue(steps > 1, "the data went in " + steps + " polls");
        if (gsoBytes > 0)
        {
            assertTrue(framesPerStep[1] == quantumFrames, "a large segment is cut at the quantum: " +
                java.util.Arrays.toString(framesPerStep));
        }
    }

    @Test
    void shouldSendTheWholeWindowInOnePollWithoutQuantum()
    {
        final int[] framesPerStep = transfer(0, 65_536);
        int most = 0;
        for (final int frames : framesPerStep)
        {
            most = Math.max(most, frames);
        }
        assertTrue(most > QUANTUM / 1448 + 1, "most frames in one poll without quantum: " + most);
    }

    // a first 2 MiB with ACKs flowing opens cwnd well beyond the quantum; then the server's ACKs are lost, so no
    // event reaches the client, the client queues 200 KiB, and only re-queuing can make it send more than one poll's
    // worth: the frames it sends in each of the next polls are counted
    private static int[] transfer(final int quantumBytes, final int gsoBytes)
    {
        final TcpConfig config = TcpConfig.builder().bufferBytes(256 * 1024, 256 * 1024).timestamps(true)
            .sendQuantumBytes(quantumBytes).build();
        final StackPair pair = new StackPair(config, 4, 4);
        pair.b.output.segmentationOffload(gsoBytes);
        final Endpoint server = new Endpoint();
        final Endpoint client = new Endpoint();
        pair.a.stack.listen(PORT, server);
        client.connection = pair.b.stack.connect(IP_A, PORT, 40_000, client, pair.nowNs);
        pair.runUntil(() -> client.established == 1 && server.established == 1, 100);
        final UnsafeBuffer data = new UnsafeBuffer(new byte[200 * 1024]);
        long sent = 0;
        for (int i = 0; i < 10_000 && sent < 2 << 20; i++)
        {
            sent += client.connection.send(data, 0, 64 * 1024);
            pair.step();
        }
        final long warmUp = sent;
        pair.runUntil(() -> server.received == warmUp, 1_000);

        final int[] dataFrames = new int[40];
        final int[] step = new int[1];
        pair.tap = (from, frame, length) ->
        {
            if (from == pair.b && StackPair.tcpPayloadLength(frame) > 0)
            {
                dataFrames[step[0]]++;
            }
            return from == pair.b;
        };
        assertEquals(data.capacity(), client.connection.send(data, 0, data.capacity()));
        for (step[0] = 0; step[0] < dataFrames.length - 1; step[0]++)
        {
            pair.step();
        }
        int total = 0;
        for (final int frames : dataFrames)
        {
            total += frames;
        }
        assertTrue(total > 4 * (QUANTUM / 1448), "frames sent after the ACKs stopped: " + total);
        return dataFrames;
    }
}
