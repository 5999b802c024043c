package dev.sluice.core.tcp;

/**
 * The congestion-avoidance algorithm of a stack's connections ({@link TcpConfig#congestionControl()}). Both share
 * slow start, the initial window, fast retransmit and recovery (RFC 5681, RFC 6582, RFC 6675); they differ in how
 * much a congestion event takes away and how cwnd grows afterwards.
 */
public enum CongestionAlgorithm
{
    /** RFC 5681 / RFC 6582: halve on loss, one SMSS per round trip in congestion avoidance. */
    NEWRENO,
    /** RFC 9438 CUBIC: multiply by 0.7 on loss, grow along W_cubic(t) = C (t - K)^3 + W_max in time. */
    CUBIC
}
