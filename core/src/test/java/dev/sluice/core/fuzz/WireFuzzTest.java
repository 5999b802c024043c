package dev.sluice.core.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.core.counters.NetCounters;
import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.net.NetworkLayer;
import dev.sluice.core.net.TransportHandler;
import dev.sluice.core.wire.ArpHeader;
import dev.sluice.core.wire.EthernetHeader;
import dev.sluice.core.wire.IcmpHeader;
import dev.sluice.core.wire.Ipv4Header;
import dev.sluice.core.wire.TcpHeader;
import dev.sluice.core.wire.TcpOptions;
import dev.sluice.core.wire.WireError;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One fuzz target per checked parse entry point, plus the whole receive path. Each input is wrapped in a
 * buffer of exactly its length, so any read outside the input is an {@link IndexOutOfBoundsException}
 * from Agrona's bounds checks and fails the target, as does any other exception.
 *
 * <p>Under plain {@code mvn test} Jazzer runs only the regression corpus in
 * {@code src/test/resources/dev/sluice/core/fuzz/WireFuzzTestInputs/<method>/}. With {@code JAZZER_FUZZ=1}
 * it fuzzes each target for its {@code maxDuration}.
 */
class WireFuzzTest
{
    private static final String BUDGET = "15s";

    private static UnsafeBuffer exact(final byte[] data)
    {
        return new UnsafeBuffer(data);
    }

    private static void assertResult(final int result, final int length, final int minimum)
    {
        assertTrue(result < 0 ? result >= WireError.OPTION_OVERFLOW : result >= minimum && result <= length,
            "result " + result + " for length " + length);
    }

    @FuzzTest(maxDuration = BUDGET)
    void ethernetValidate(final byte[] data)
    {
        final UnsafeBuffer buffer = exact(data);
        final int result = EthernetHeader.validate(buffer, 0, data.length);
        assertResult(result, data.length, EthernetHeader.HEADER_LENGTH);
        if (result >= 0)
        {
            EthernetHeader.etherType(buffer, 0, result);
            new EthernetHeader().wrap(buffer, 0, result).vlanId();
        }
    }

    @FuzzTest(maxDuration = BUDGET)
    void arpValidate(final byte[] data)
    {
        final UnsafeBuffer buffer = exact(data);
        final int result = ArpHeader.validate(buffer, 0, data.length);
        assertResult(result, data.length, ArpHeader.LENGTH);
        if (result >= 0)
        {
            ArpHeader.targetIp(buffer, 0);
        }
    }

    @FuzzTest(maxDuration = BUDGET)
    void ipv4Validate(final byte[] data)
    {
        final UnsafeBuffer buffer = exact(data);
        final int result = Ipv4Header.validate(buffer, 0, data.length, (data.length & 1) == 0);
        assertResult(result, data.length, Ipv4Header.MIN_HEADER_LENGTH);
        if (result >= 0)
        {
            assertTrue(Ipv4Header.totalLength(buffer, 0) <= data.length);
            Ipv4Header.destination(buffer, 0);
        }
    }

    @FuzzTest(maxDuration = BUDGET)
    void icmpValidate(final byte[] data)
    {
        final UnsafeBuffer buffer = exact(data);
        final int result = IcmpHeader.validate(buffer, 0, data.length, (data.length & 1) == 0);
        assertResult(result, data.length, IcmpHeader.HEADER_LENGTH);
        if (result >= 0)
        {
            final int quote = IcmpHeader.validateQuote(buffer, 8, data.length - 8);
            assertResult(quote, data.length - 8, Ipv4Header.MIN_HEADER_LENGTH);
            if (quote >= 0)
            {
                TcpHeader.sequence(buffer, 8 + quote);
            }
        }
    }

    @FuzzTest(maxDuration = BUDGET)
    void tcpValidate(final byte[] data)
    {
        final UnsafeBuffer buffer = exact(data);
        final int result = TcpHeader.validate(buffer, 0, data.length);
        assertResult(result, data.length, TcpHeader.MIN_HEADER_LENGTH);
        if (result >= 0)
        {
            final int options = new TcpOptions().parseHeader(buffer, 0, result);
            assertTrue(options == 0 || options == WireError.ILLEGAL_OPTION_LENGTH ||
                options == WireError.OPTION_OVERFLOW);
        }
    }

    @FuzzTest(maxDuration = BUDGET)
    void tcpOptionsParse(final byte[] data)
    {
        final TcpOptions options = new TcpOptions();
        final int result = options.parse(exact(data), 0, data.length);
        assertTrue(result == 0 || result == WireError.ILLEGAL_OPTION_LENGTH || result == WireError.OPTION_OVERFLOW);
        if (result == 0)
        {
            // what was parsed must encode and parse back to the same known options
            final UnsafeBuffer out = new UnsafeBuffer(new byte[TcpHeader.MAX_OPTIONS_LENGTH]);
            final int length = options.encode(out, 0);
            final TcpOptions again = new TcpOptions();
            assertTrue(again.parse(out, 0, length) == 0);
            assertTrue(again.hasMss() == options.hasMss() && again.mss() == options.mss());
            assertTrue(again.hasTimestamps() == options.hasTimestamps());
        }
    }

    @FuzzTest(maxDuration = BUDGET)
    void networkLayerOnFrame(final byte[] data)
    {
        // the first 8 bytes steer time and checksum verification, the rest is the frame
        if (data.length < 1)
        {
            return;
        }
        final NetworkLayer layer = (data[0] & 1) == 0 ? STRICT : LENIENT;
        final UnsafeBuffer frame = exact(java.util.Arrays.copyOfRange(data, 1, data.length));
        layer.onFrame(frame, 0, frame.capacity(), (data[0] & 0xFF) * 1_000_000_000L);
        layer.doWork((data[0] & 0xFF) * 1_000_000_000L);
    }

    private static final class DiscardingTransmitter implements FrameTransmitter
    {
        private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[9100]);

        @Override
        public MutableDirectBuffer claim(final int maxLength)
        {
            return buffer;
        }

        @Override
        public void commit(final int length)
        {
        }

        @Override
        public void abort()
        {
        }
    }

    private static final class ReadingTransport implements TransportHandler
    {
        @Override
        public void onTcpSegment(
            final DirectBuffer buffer, final int tcpOffset, final int tcpHeaderLength, final int segmentLength,
            final int sourceIp, final int destinationIp, final int tos, final long nowNs)
        {
            assertTrue(tcpHeaderLength <= segmentLength);
            new TcpOptions().parseHeader(buffer, tcpOffset, tcpHeaderLength);
            buffer.getByte(tcpOffset + segmentLength - 1);
        }

        @Override
        public void onIcmpError(
            final int errorKind, final int icmpType, final int icmpCode, final int restOfHeader,
            final int quotedSourceIp, final int quotedDestinationIp, final DirectBuffer buffer,
            final int quotedTcpOffset, final int quotedTcpLength, final long nowNs)
        {
            assertTrue(quotedTcpLength >= 8);
            TcpHeader.sequence(buffer, quotedTcpOffset);
        }
    }

    private static NetworkLayer layer(final boolean verify)
    {
        final NetConfig config = NetConfig.builder()
            .localMac(0xe2ebac1bbb9eL).localIp(0x0a4d0002, 24).gatewayIp(0x0a4d00fe)
            .arpCapacity(4, 4, 2).verifyChecksums(verify, verify).build();
        return new NetworkLayer(config, new DiscardingTransmitter(), new ReadingTransport(), new NetCounters());
    }

    private static final NetworkLayer STRICT = layer(true);
    private static final NetworkLayer LENIENT = layer(false);
}
