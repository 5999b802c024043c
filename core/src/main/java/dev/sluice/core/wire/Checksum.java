package dev.sluice.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.UnsafeApi;

import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * <p>Vocabulary: a <em>sum</em> is the 16-bit one's complement sum of a byte range taken as big-endian
 * 16-bit words (an odd trailing byte is padded with a zero byte), in network order, not complemented.
 * Sums combine with {@link #add(int, int)}; a sum of a range that follows a range of odd length is
 * combined with {@link #addAfterOddLength(int, int)}. The value carried in a header is
 * {@link #finish(int)} of the sum of the covered bytes with the checksum field zeroed; a received header
 * verifies when {@code finish(sum)} over the bytes <em>including</em> the checksum field is {@code 0}.
 *
 * <p>Speed: {@link #sum(DirectBuffer, int, int)} reads 8 bytes at a time in the platform's native order
 * and folds at the end; the one's complement sum is byte-order independent (RFC 1071 §2(B)), so one byte
 * swap of the 16-bit result gives the network-order sum. No allocation.
 */
public final class Checksum
{
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final long LOW_32_BITS = 0xFFFF_FFFFL;

    private Checksum()
    {
    }

    /**
     * One's complement sum of {@code length} bytes from {@code offset}.
     *
     * @param buffer holding the bytes.
     * @param offset of the first byte.
     * @param length number of bytes, may be odd or zero.
     * @return the 16-bit sum in network order (see the class comment).
     */
    public static int sum(final DirectBuffer buffer, final int offset, final int length)
    {
        // 32 bytes per step into two independent accumulators (the adds of one step do not wait for the other's),
        // one bounds check for the whole range instead of one per load: the checksum is the largest per-byte
        // cost of a bulk segment (issue 15)
        buffer.boundsCheck(offset, length);
        final byte[] array = buffer.byteArray();
        final long address = buffer.addressOffset() + offset;
        long acc = 0;
        long acc1 = 0;
        final int steps32 = length & ~31;
        int j = 0;
        while (j < steps32)
        {
            final long a = UnsafeApi.getLong(array, address + j);
            final long b = UnsafeApi.getLong(array, address + j + 8);
            final long c = UnsafeApi.getLong(array, address + j + 16);
            final long d = UnsafeApi.getLong(array, address + j + 24);
            acc += (a >>> 32) + (a & LOW_32_BITS) + (b >>> 32) + (b & LOW_32_BITS);
            acc1 += (c >>> 32) + (c & LOW_32_BITS) + (d >>> 32) + (d & LOW_32_BITS);
            j += 32;
        }
        acc += acc1;
        int i = offset + j;
        final int end = offset + length;
        if (end - i >= 16)
        {
            final long a = buffer.getLong(i);
            final long b = buffer.getLong(i + 8);
            acc += (a >>> 32) + (a & LOW_32_BITS) + (b >>> 32) + (b & LOW_32_BITS);
            i += 16;
        }
        if (end - i >= 8)
        {
            final long a = buffer.getLong(i);
            acc += (a >>> 32) + (a & LOW_32_BITS);
            i += 8;
        }
        if (end - i >= 4)
        {
            acc += buffer.getInt(i) & LOW_32_BITS;
            i += 4;
        }
        if (end - i >= 2)
        {
            acc += buffer.getShort(i) & 0xFFFF;
            i += 2;
        }
        if (i < end)
        {
            final int lastByte = buffer.getByte(i) & 0xFF;
            // the odd byte is the first (high, in network order) byte of a zero-padded word
            acc += NATIVE_LITTLE_ENDIAN ? lastByte : lastByte << 8;
        }
        final int folded = fold(acc);
        return NATIVE_LITTLE_ENDIAN ? swap(folded) : folded;
    }

    /**
     * One's complement sum of two ranges taken as one contiguous message (e.g. a header in one buffer
     * and its payload in another); the first range may have an odd length.
     *
     * @param first        buffer of the first range.
     * @param firstOffset  offset of the first range.
     * @param firstLength  length of the first range.
     * @param second       buffer of the second range.
     * @param secondOffset offset of the second range.
     * @param secondLength length of the second range.
     * @return the 16-bit sum of the concatenation, network order.
     */
    public static int sum(
        final DirectBuffer first, final int firstOffset, final int firstLength,
        final DirectBuffer second, final int secondOffset, final int secondLength)
    {
        final int firstSum = sum(first, firstOffset, firstLength);
        final int secondSum = sum(second, secondOffset, secondLength);
        return (firstLength & 1) == 0 ? add(firstSum, secondSum) : addAfterOddLength(firstSum, secondSum);
    }

    /**
     * One's complement addition of two sums.
     *
     * @param a a 16-bit sum.
     * @param b a 16-bit sum.
     * @return {@code a +' b}.
     */
    public static int add(final int a, final int b)
    {
        final int s = (a & 0xFFFF) + (b & 0xFFFF);
        return (s & 0xFFFF) + (s >>> 16);
    }

    /**
     * Adds the sum of a range that starts right after a range of odd length: its bytes sit in the other
     * halves of the 16-bit words, so its sum is byte-swapped first (RFC 1071 §2(B)).
     *
     * @param sumSoFar sum of everything before (ending at an odd length).
     * @param nextSum  sum of the next range computed as if it started a message.
     * @return the combined sum.
     */
    public static int addAfterOddLength(final int sumSoFar, final int nextSum)
    {
        return add(sumSoFar, swap(nextSum & 0xFFFF));
    }

    /**
     * Turns a sum into the checksum field value (one's complement of the sum).
     *
     * @param sum a 16-bit sum.
     * @return {@code ~sum & 0xFFFF}.
     */
    public static int finish(final int sum)
    {
        return ~sum & 0xFFFF;
    }

    /**
     * Checksum of a byte range, for headers whose checksum covers only themselves (IPv4, ICMP). The
     * checksum field must be zero when emitting; when verifying, a result of {@code 0} means valid.
     *
     * @param buffer holding the bytes.
     * @param offset of the first byte.
     * @param length number of bytes.
     * @return {@code finish(sum(buffer, offset, length))}.
     */
    public static int compute(final DirectBuffer buffer, final int offset, final int length)
    {
        return finish(sum(buffer, offset, length));
    }

    /**
     * Sum of the IPv4 pseudo-header used by TCP and UDP (RFC 9293 §3.1).
     *
     * @param sourceIp          source address.
     * @param destinationIp     destination address.
     * @param protocol          IP protocol number (6 for TCP).
     * @param transportLength   length of the transport header plus payload in bytes.
     * @return the 16-bit sum of the 12-byte pseudo-header.
     */
    public static int pseudoHeaderSum(
        final int sourceIp, final int destinationIp, final int protocol, final int transportLength)
    {
        final long acc = (sourceIp >>> 16) + (sourceIp & 0xFFFF) + (destinationIp >>> 16) +
            (destinationIp & 0xFFFF) + (protocol & 0xFF) + (transportLength & 0xFFFF);
        return fold(acc);
    }

    /**
     * Checksum of a TCP (or UDP) segment held in one range, including the pseudo-header. Emit: zero the
     * checksum field first and store the result. Verify: a result of {@code 0} means valid (MUST-3).
     *
     * @param buffer        holding the segment.
     * @param offset        of the transport header.
     * @param length        transport header plus payload length.
     * @param sourceIp      IPv4 source address.
     * @param destinationIp IPv4 destination address.
     * @param protocol      IP protocol number.
     * @return the checksum value.
     */
    public static int transportChecksum(
        final DirectBuffer buffer, final int offset, final int length,
        final int sourceIp, final int destinationIp, final int protocol)
    {
        return finish(add(pseudoHeaderSum(sourceIp, destinationIp, protocol, length), sum(buffer, offset, length)));
    }

    /**
     * Checksum of a TCP segment whose header and payload are in two ranges (the payload may follow a
     * header of any length, even odd). Same emit/verify convention as
     * {@link #transportChecksum(DirectBuffer, int, int, int, int, int)}.
     *
     * @param header        buffer holding the header.
     * @param headerOffset  offset of the header.
     * @param headerLength  header length.
     * @param payload       buffer holding the payload.
     * @param payloadOffset offset of the payload.
     * @param payloadLength payload length.
     * @param sourceIp      IPv4 source address.
     * @param destinationIp IPv4 destination address.
     * @param protocol      IP protocol number.
     * @return the checksum value.
     */
    public static int transportChecksum(
        final DirectBuffer header, final int headerOffset, final int headerLength,
        final DirectBuffer payload, final int payloadOffset, final int payloadLength,
        final int sourceIp, final int destinationIp, final int protocol)
    {
        final int pseudo = pseudoHeaderSum(sourceIp, destinationIp, protocol, headerLength + payloadLength);
        return finish(add(pseudo, sum(header, headerOffset, headerLength, payload, payloadOffset, payloadLength)));
    }

    /**
     * Incremental update of a checksum field after one 16-bit word changed, RFC 1624 eqn. 3:
     * {@code HC' = ~(~HC + ~m + m')}.
     *
     * @param checksum the current checksum field value.
     * @param oldWord  the word's old value.
     * @param newWord  the word's new value.
     * @return the new checksum field value.
     */
    public static int update16(final int checksum, final int oldWord, final int newWord)
    {
        final int s = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        return ~fold(s) & 0xFFFF;
    }

    /**
     * Incremental update of a checksum field after one aligned 32-bit field (e.g. an address or a
     * sequence number) changed, RFC 1624 eqn. 3 applied to both halves.
     *
     * @param checksum the current checksum field value.
     * @param oldValue the field's old value.
     * @param newValue the field's new value.
     * @return the new checksum field value.
     */
    public static int update32(final int checksum, final int oldValue, final int newValue)
    {
        final long s = (~checksum & 0xFFFF) + (~oldValue >>> 16) + (~oldValue & 0xFFFF) +
            (newValue >>> 16) + (newValue & 0xFFFF);
        return ~fold(s) & 0xFFFF;
    }

    private static int fold(final long value)
    {
        long acc = value;
        while ((acc >>> 16) != 0)
        {
            acc = (acc & 0xFFFF) + (acc >>> 16);
        }
        return (int)acc;
    }

    private static int swap(final int word)
    {
        return ((word & 0xFF) << 8) | ((word >>> 8) & 0xFF);
    }
}
